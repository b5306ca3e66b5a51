//! The data API end to end: RBAC and API-key scopes, OpenAPI, the change feed consumed like a
//! CRM would (with restarts), transcript export, signed webhooks with retries, the dashboard
//! and /metrics.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};

use crate::helpers::*;

async fn bearer(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new().get(app.url(path)).bearer_auth(token).send().await.unwrap()
}

async fn new_key(admin: &AgentClient, scopes: &[&str]) -> String {
    let res = admin.post("/admin/api-keys", json!({"name": "CRM", "scopes": scopes})).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_cannot_read_the_data_api_and_keys_only_reach_their_scopes() {
    let app = TestApp::spawn().await;
    let agent = app.agent("agent1", "agent123").await;
    for path in ["/v1/conversations", "/v1/changes", "/dashboard", "/admin/api-keys", "/admin/webhooks"] {
        assert_eq!(agent.get(path).await.status(), 403, "{path} is not for agents");
    }
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(lead.get("/v1/conversations").await.status(), 200, "supervisors may read");
    assert_eq!(lead.post("/admin/api-keys", json!({"name": "x", "scopes": ["export"]})).await.status(), 403);

    let admin = app.agent("admin", "admin123").await;
    let bad = admin.post("/admin/api-keys", json!({"name": "x", "scopes": ["everything"]})).await;
    assert_eq!(bad.status(), 422, "not one of the scopes the document lists");
    let none = admin.post("/admin/api-keys", json!({"name": "x", "scopes": []})).await;
    assert_eq!(none.status(), 400);
    let token = new_key(&admin, &["changes:read"]).await;
    assert_eq!(bearer(&app, &token, "/api/v1/changes").await.status(), 200);
    assert_eq!(bearer(&app, &token, "/api/v1/conversations").await.status(), 403, "scope missing");
    assert_eq!(bearer(&app, &format!("{token}x"), "/api/v1/changes").await.status(), 401);
    assert_eq!(bearer(&app, "kf_nope", "/api/v1/changes").await.status(), 401);
    let keys: Vec<Value> = admin.get("/admin/api-keys").await.json().await.unwrap();
    assert!(keys[0]["last_used_at"].is_i64() && keys[0].get("secret_hash").is_none());
    admin.post(&format!("/admin/api-keys/{}/revoke", keys[0]["id"]), json!({})).await;
    assert_eq!(bearer(&app, &token, "/api/v1/changes").await.status(), 401, "revoked");

    let spec: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    for p in ["/api/v1/changes", "/api/v1/conversations", "/api/v1/export/transcripts"] {
        assert!(spec["paths"][p].is_object(), "{p} documented");
    }
    let docs = reqwest::get(app.url("/api/docs/")).await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

/// Reads the feed from `cursor` with small pages, like a CRM, returning the events and the
/// cursor it would save.
async fn read_feed(app: &TestApp, token: &str, cursor: i64, pages: usize) -> (Vec<Value>, i64) {
    let (mut out, mut cursor) = (vec![], cursor);
    for _ in 0..pages {
        let page: Value = bearer(app, token, &format!("/api/v1/changes?after={cursor}&limit=4"))
            .await
            .json()
            .await
            .unwrap();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        cursor = page["next_after"].as_i64().unwrap();
    }
    (out, cursor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_following_the_change_feed_gets_every_event_exactly_once_after_dedup() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let token = new_key(&admin, &["changes:read"]).await;
    let mut visitors = vec![];
    for i in 0..4 {
        visitors.push(app.visitor(&format!("feed-visitor-{i:016}")).await);
    }
    let writers = futures::future::join_all(visitors.iter_mut().enumerate().map(|(i, v)| async move {
        for j in 0..5 {
            v.say(&format!("feed-msg-{i}-{j}"), &format!("访客{i}的第{j}个问题")).await;
        }
    }));
    // The CRM reads while the visitors write, crashes, and resumes from an older checkpoint.
    let reader = async {
        let mut seen: BTreeMap<String, Value> = BTreeMap::new();
        let (mut cursor, mut saved) = (0, 0);
        for round in 0..12 {
            let (events, next) = read_feed(&app, &token, cursor, 2).await;
            for e in events {
                seen.insert(e["id"].as_str().unwrap().to_owned(), e);
            }
            (cursor, saved) = if round % 3 == 2 {
                (saved, saved)
            } else {
                (next, if round % 3 == 0 { next } else { saved })
            };
            app.run_pending().await;
        }
        (seen, cursor)
    };
    let (_, (mut seen, cursor)) = tokio::join!(writers, reader);
    let (rest, _) = read_feed(&app, &token, cursor, 100).await;
    for e in rest {
        seen.insert(e["id"].as_str().unwrap().to_owned(), e);
    }
    let texts: Vec<&str> = seen
        .values()
        .filter(|e| e["type"] == "message.created" && e["data"]["message"]["sender"]["kind"] == "customer")
        .map(|e| e["data"]["message"]["content"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 20, "every customer message once: {texts:?}");
    let seqs: Vec<i64> = seen.values().map(|e| e["seq"].as_i64().unwrap()).collect();
    let all: Value = bearer(&app, &token, "/api/v1/changes?after=0&limit=1000").await.json().await.unwrap();
    assert_eq!(seqs.len(), all["items"].as_array().unwrap().len(), "no change missed");
    assert_eq!(seen.values().filter(|e| e["type"] == "conversation.created").count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_export_without_internal_notes_and_with_numbers_masked() {
    let app = TestApp::spawn().await;
    let mut v = app.visitor("export-visitor-000000001").await;
    v.say("export-msg-1", "我的手机是13800000042，帮我查下").await;
    let lead = app.agent("lead", "lead123").await;
    let convs: Value = lead.get("/v1/conversations").await.json().await.unwrap();
    let conv = convs["items"][0]["id"].as_i64().unwrap();
    let csv = lead.get(&format!("/v1/export/transcripts?conversation={conv}")).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("conversation_id,message_id,at,speaker,agent_id,text\n"), "{csv}");
    assert!(csv.contains("customer,,我的手机是138****0042，帮我查下"), "{csv}");
    assert!(!csv.contains("13800000042"));
    let jsonl = lead
        .get(&format!("/v1/export/transcripts?conversation={conv}&format=jsonl"))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().all(|l| l["speaker"] != "internal") && lines[0]["speaker"] == "customer");
    assert_eq!(lead.get("/v1/export/transcripts?format=xml").await.status(), 400);
}

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A CRM endpoint that fails its first request with a 500 and accepts the rest.
async fn crm() -> (String, Received) {
    let got: Received = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut s = seen.lock().unwrap();
                s.push((headers, body));
                if s.len() == 1 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// Verifies a Standard Webhooks signature with an HMAC written here, not kefu's.
fn verify(secret: &str, h: &HeaderMap, body: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let (id, ts) = (h["webhook-id"].to_str().unwrap(), h["webhook-timestamp"].to_str().unwrap());
    let mut mac = <Hmac<sha2_11::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    h["webhook-signature"].to_str().unwrap() == format!("v1,{}", b64.encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_with_backoff_and_logged() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let (url, got) = crm().await;
    let refused =
        admin.post("/admin/webhooks", json!({"url": url, "events": ["conversation.created"]})).await;
    assert_eq!(refused.status(), 422, "a loopback URL needs the outbound allow-list");
    let allow = admin.put("/admin/settings/outbound", json!({"allow": ["127.0.0.1"]})).await;
    assert_eq!(allow.status(), 200);
    let res = admin.post("/admin/webhooks", json!({"url": url, "events": ["conversation.created"]})).await;
    let created: Value = res.json().await.unwrap();
    let (hook, secret) =
        (created["webhook"]["id"].as_i64().unwrap(), created["secret"].as_str().unwrap().to_owned());
    let listed: Value = admin.get("/admin/webhooks").await.json().await.unwrap();
    assert!(!listed.to_string().contains(&secret), "the secret is shown once only");

    let mut v = app.visitor("hook-visitor-0000000001").await;
    v.say("hook-msg-1", "你好").await;
    assert_eq!(app.webhooks.run_once().await.unwrap(), 1);
    let log: Vec<Value> =
        admin.get(&format!("/admin/webhooks/{hook}/deliveries")).await.json().await.unwrap();
    assert_eq!(
        (log.len(), &log[0]["state"], &log[0]["last_status"], &log[0]["attempts"]),
        (1, &json!("pending"), &json!(500), &json!(1))
    );
    app.clock.advance(Duration::from_secs(4));
    assert_eq!(app.webhooks.run_once().await.unwrap(), 0, "backing off for 5 s");
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(app.webhooks.run_once().await.unwrap(), 1);
    let log: Vec<Value> =
        admin.get(&format!("/admin/webhooks/{hook}/deliveries")).await.json().await.unwrap();
    assert_eq!(
        (&log[0]["state"], &log[0]["last_status"], &log[0]["attempts"]),
        (&json!("delivered"), &json!(204), &json!(2))
    );

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, got[1].1, "the retry is byte-identical");
    assert_eq!(got[0].0["webhook-id"], got[1].0["webhook-id"], "same id, so the CRM can deduplicate");
    assert!(got.iter().all(|(h, b)| verify(&secret, h, b)), "signed with the endpoint's secret");
    assert!(!verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &got[0].0, &got[0].1));
    let body: Value = serde_json::from_str(&got[1].1).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["data"]["conversation"]["state"].is_string()),
        (Some("conversation.created"), true)
    );
    assert_eq!(app.webhooks.run_once().await.unwrap(), 0, "nothing more to send");
}
