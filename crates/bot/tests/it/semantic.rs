//! The optional semantic backends against a local fake of an OpenAI-compatible server: the
//! fused matcher finds what words alone cannot, and the phraser never strays from the entry.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use kefu_bot::semantic::{Endpoint, FusedMatcher, HttpEmbedder, Phraser};
use kefu_bot::{Analyzer, Matcher};
use kefu_domain::FaqEntry;
use serde_json::{Value, json};

/// Concepts the fake model "understands": words in one group embed close together.
const CONCEPTS: &[&[&str]] = &[
    &["退订", "取消", "不想要", "不要了", "退掉"],
    &["增值业务", "包月", "会员", "订阅"],
    &["发票", "开票", "报销"],
    &["退款", "到账", "退回来"],
    &["地址", "收货"],
    &["积分"],
    &["营业", "几点", "开门"],
];

fn embed(text: &str) -> Vec<f32> {
    let mut v: Vec<f32> =
        CONCEPTS.iter().map(|c| if c.iter().any(|w| text.contains(w)) { 1.0 } else { 0.0 }).collect();
    v.push(0.1);
    v
}

#[derive(Clone, Default)]
struct Fake {
    calls: Arc<Mutex<Vec<Value>>>,
    reply: Arc<Mutex<String>>,
}

async fn embeddings(State(f): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    assert_eq!(headers["authorization"], "Bearer test-key");
    assert_eq!(body["model"], "fake-bge");
    f.calls.lock().unwrap().push(body.clone());
    let data: Vec<Value> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "index": i, "embedding": embed(t.as_str().unwrap()) }))
        .collect();
    Json(json!({ "data": data }))
}

async fn chat(State(f): State<Fake>, Json(body): Json<Value>) -> Json<Value> {
    f.calls.lock().unwrap().push(body);
    let content = f.reply.lock().unwrap().clone();
    Json(json!({ "choices": [{ "message": { "role": "assistant", "content": content } }] }))
}

async fn serve(fake: Fake) -> String {
    let app = Router::new()
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/chat/completions", post(chat))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn endpoint(url: &str, model: &str) -> Endpoint {
    Endpoint { url: url.into(), model: model.into(), api_key: "test-key".into(), timeout_ms: 2_000 }
}

fn kb() -> Vec<FaqEntry> {
    let e = |id: &str, q: &str, a: &str| FaqEntry {
        id: id.into(),
        question: q.into(),
        similar: vec![],
        answer: a.into(),
        group: None,
        enabled: true,
        channel_answers: Default::default(),
    };
    vec![
        e("E1", "怎么退订增值业务？", "发送0000到10086，按提示回复序号即可退订。"),
        e("E2", "发票怎么开？", "在订单详情申请电子发票。"),
        e("E3", "退款多久到账？", "审核通过后1-3个工作日原路退回。"),
        e("E4", "怎么修改收货地址？", "发货前可在订单详情修改。"),
        e("E5", "积分怎么用？", "每100积分抵1元。"),
        e("E6", "营业厅几点开门？", "每天9点到18点。"),
    ]
}

#[tokio::test]
async fn fusing_embeddings_finds_an_entry_that_shares_no_words_with_the_question() {
    let fake = Fake::default();
    let url = serve(fake.clone()).await;
    let lexical = Arc::new(Matcher::build(Arc::new(Analyzer::default()), &kb()));
    let question = "包月会员不想要了";
    let words_only = lexical.search(question, 1);
    assert!(words_only.first().is_none_or(|h| h.entry_id != "E1" || h.confidence < 0.5), "{words_only:?}");

    let fused =
        FusedMatcher::build(lexical, Arc::new(HttpEmbedder::new(endpoint(&url, "fake-bge")))).await.unwrap();
    let hits = fused.search(question, 3).await.unwrap();
    assert_eq!(hits[0].entry_id, "E1", "{hits:?}");
    assert!(hits[0].confidence > hits[1].confidence);
    assert!(fake.calls.lock().unwrap().iter().all(|c| c["input"].is_array()));
}

#[tokio::test]
async fn an_unreachable_embeddings_endpoint_is_an_error_not_a_hang() {
    let lexical = Arc::new(Matcher::build(Arc::new(Analyzer::default()), &kb()));
    let ep = endpoint("http://127.0.0.1:9/v1", "fake-bge");
    assert!(FusedMatcher::build(lexical, Arc::new(HttpEmbedder::new(ep))).await.is_err());
}

#[tokio::test]
async fn the_phraser_rewrites_within_the_entry_and_falls_back_when_it_strays() {
    let fake = Fake::default();
    let url = serve(fake.clone()).await;
    let phraser = Phraser::new(endpoint(&url, "fake-chat"));
    let source = "发送0000到10086，按提示回复序号即可退订。";
    *fake.reply.lock().unwrap() = "您好～只要发送0000到10086，再按提示回复序号就能退订啦。".into();
    let got = phraser.phrase("包月会员怎么取消", source).await;
    assert_eq!(got, "您好～只要发送0000到10086，再按提示回复序号就能退订啦。");
    let sent = fake.calls.lock().unwrap().last().unwrap().clone();
    assert_eq!(sent["model"], "fake-chat");
    assert!(sent["messages"][1]["content"].as_str().unwrap().contains(source));
    *fake.reply.lock().unwrap() = "发送0000到10086即可退订，退订后还能领20元话费券！".into();
    assert_eq!(phraser.phrase("包月会员怎么取消", source).await, source, "an invented number is refused");
    let down = Phraser::new(endpoint("http://127.0.0.1:9/v1", "fake-chat"));
    assert_eq!(down.phrase("x", source).await, source);
}
