//! OneID end to end: a WeChat customer binds their phone in the conversation and confirms it
//! with the SMS code the sandbox's SMS service delivered, writes later on DingTalk where the
//! platform knows the same mobile, and is one customer with both histories — until a
//! supervisor splits them again. A number that is only typed never merges anyone.

use kefu_sim::{DtChat, SimMessage};
use serde_json::{Value, json};

use crate::helpers::*;

const APP: &str = "wxdemo0000000001";
const USER: &str = "o_demo_xiaoming";

fn created(e: &Value, text: &str) -> bool {
    e["type"] == "message_created" && e["message"]["content"]["text"] == text
}

fn sent(e: &Value, text: &str) -> bool {
    e["type"] == "message_updated"
        && e["message"]["status"] == "sent"
        && e["message"]["content"]["text"] == text
}

/// The customer view once `pred` holds (the DingTalk profile lookup runs after the ack).
async fn customer_when(agent: &AgentClient, id: i64, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let v: Value = agent.get(&format!("/customers/{id}")).await.json().await.unwrap();
        if pred(&v) {
            return v;
        }
        agent.driver.step().await;
    }
    panic!("customer {id} never reached the expected state");
}

/// The code the sandbox's SMS service last delivered to `phone`.
fn code_sent_to(sim: &kefu_sim::SimHandle, phone: &str) -> String {
    sim.sms_to(phone).last().expect("a text with the code").code.clone()
}

async fn history_texts(agent: &AgentClient, id: i64) -> Vec<String> {
    let msgs: Vec<Value> =
        agent.get(&format!("/customers/{id}/messages?limit=100")).await.json().await.unwrap();
    msgs.iter().filter_map(|m| m["content"]["text"].as_str().map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wechat_customer_who_binds_a_phone_and_writes_on_dingtalk_is_one_customer_until_split() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    sim.oa_user_says(APP, USER, SimMessage::text("查一下我的宽带订单")).await.unwrap();
    let e = feed.until(|e| created(e, "查一下我的宽带订单")).await;
    let (conv, wx_customer) =
        (e["conversation"]["id"].as_i64().unwrap(), e["conversation"]["customer_id"].as_i64().unwrap());
    feed.until(|e| sent(e, "您好，客服小李为您服务。")).await;

    assert_eq!(li.post(&format!("/conversations/{conv}/ask-phone"), json!({})).await.status(), 200);
    sim.oa_user_says(APP, USER, SimMessage::text("我不告诉你")).await.unwrap();
    feed.until(|e| sent(e, "手机号格式不正确，请回复11位手机号码。")).await;
    sim.oa_user_says(APP, USER, SimMessage::text("138 0000 0042")).await.unwrap();
    feed.until(|e| {
        sent(e, "验证码已发送至 138****0042，请在5分钟内直接回复6位验证码。没收到？回复“重新发送”。")
    })
    .await;
    let code = code_sent_to(&sim, "13800000042");
    assert!(sim.sms_to("13800000042")[0].text.starts_with("【kefu客服】您的验证码为"), "a real SMS text");
    sim.oa_user_says(APP, USER, SimMessage::text(&code)).await.unwrap();
    feed.until(|e| sent(e, "手机号 138****0042 验证成功，谢谢！")).await;
    assert!(wechat_texts(&sim, USER).iter().any(|t| t.starts_with("为了更好地为您服务")));

    let d = sim.dingtalk_user_says(
        "dingdemo00000001",
        "dt_wanglei",
        SimMessage::text("我在钉钉上再问一下"),
        DtChat::Direct,
    );
    assert!(d.await.unwrap().ok);
    let one = customer_when(&li, wx_customer, |v| v["identities"].as_array().unwrap().len() == 2).await;
    assert_eq!(one["phones"], json!(["13800000042"]));
    assert_eq!(one["union_ids"], json!(["dtu_wanglei", "u_demo_xiaoming"]));
    assert_eq!(one["conflicts"], json!([]));
    let merge = &one["merges"][0];
    assert_eq!((merge["reason"].as_str(), merge["by"].is_null()), (Some("phone:13800000042"), true));
    let both = history_texts(&li, wx_customer).await;
    assert!(
        both.contains(&"查一下我的宽带订单".into()) && both.contains(&"我在钉钉上再问一下".into()),
        "{both:?}"
    );
    let pos = |t: &str| both.iter().position(|x| x == t).unwrap();
    assert!(pos("我在钉钉上再问一下") < pos("查一下我的宽带订单"), "newest first: {both:?}");

    let mid = merge["id"].as_i64().unwrap();
    let res = li.post(&format!("/merges/{mid}/undo"), json!({"text": "x"})).await;
    assert_eq!(res.status(), 403, "agents do not split customers");
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(
        lead.post(&format!("/merges/{mid}/undo"), json!({"text": ""})).await.status(),
        400,
        "a reason is required"
    );
    assert_eq!(lead.post(&format!("/merges/{mid}/undo"), json!({"text": "同名不同人"})).await.status(), 200);
    let split = customer_when(&lead, wx_customer, |v| v["identities"].as_array().unwrap().len() == 1).await;
    assert_eq!(split["merges"][0]["undo_reason"], "同名不同人");
    assert!(!history_texts(&lead, wx_customer).await.contains(&"我在钉钉上再问一下".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_merges_by_hand_and_conflicting_phones_are_shown_never_overwritten() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    let mut feed = lead.feed(app.addr).await;
    let mut v = app.visitor("oneid-visitor-0000000001").await;
    v.say("oneid-msg-1", "网页上问一下").await;
    let web = feed.until(|e| created(e, "网页上问一下")).await["conversation"].clone();
    lead.post(&format!("/conversations/{}/ask-phone", web["id"]), json!({})).await;
    v.say("oneid-msg-2", "13800000077").await;
    feed.until(|e| {
        created(e, "验证码已发送至 138****0077，请在5分钟内直接回复6位验证码。没收到？回复“重新发送”。")
    })
    .await;
    v.say("oneid-msg-3", &code_sent_to(&sim, "13800000077")).await;
    feed.until(|e| sent(e, "手机号 138****0077 验证成功，谢谢！")).await;
    sim.dingtalk_user_says("dingdemo00000001", "dt_lina", SimMessage::text("钉钉上问一下"), DtChat::Direct)
        .await
        .unwrap();
    let dt = feed.until(|e| created(e, "钉钉上问一下")).await["conversation"].clone();
    let (web_c, dt_c) = (web["customer_id"].as_i64().unwrap(), dt["customer_id"].as_i64().unwrap());
    let found: Vec<Value> = lead.get("/customers?q=dt_lina").await.json().await.unwrap();
    assert_eq!(found[0]["id"], dt_c);

    let res = lead
        .post(
            &format!("/customers/{web_c}/merge"),
            json!({"other": dt_c, "reason": "客户在网页上说自己是李娜"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let one: Value = lead.get(&format!("/customers/{web_c}")).await.json().await.unwrap();
    assert_eq!(one["merges"][0]["by"], lead.me["agent"]["id"]);
    let gone: Value = lead.get(&format!("/customers/{dt_c}")).await.json().await.unwrap();
    assert_eq!(gone["merged_into"], web_c);

    let conv = dt["id"].as_i64().unwrap();
    lead.post(&format!("/conversations/{conv}/ask-phone"), json!({})).await;
    let lina = |text: String| {
        sim.dingtalk_user_says("dingdemo00000001", "dt_lina", SimMessage::text(&text), DtChat::Direct)
    };
    lina("13800000055".into()).await.unwrap();
    feed.until(|e| {
        created(e, "验证码已发送至 138****0055，请在5分钟内直接回复6位验证码。没收到？回复“重新发送”。")
    })
    .await;
    lina(code_sent_to(&sim, "13800000055")).await.unwrap();
    feed.until(|e| sent(e, "手机号 138****0055 验证成功，谢谢！")).await;
    lead.post(&format!("/conversations/{conv}/ask-phone"), json!({})).await;
    lina("13800000066".into()).await.unwrap();
    feed.until(|e| sent(e, "已收到，谢谢！")).await;
    let msgs = lead.messages(conv).await;
    let note = msgs.iter().find(|m| m["direction"] == "internal").expect("a note about the second number");
    assert!(note["content"]["text"].as_str().unwrap().contains("未覆盖"), "{note}");
    let one: Value = lead.get(&format!("/customers/{web_c}")).await.json().await.unwrap();
    assert_eq!(one["phones"], json!(["13800000055", "13800000077"]), "each identity keeps its first number");
    assert_eq!(one["conflicts"], json!(["phone"]), "two numbers for one person are flagged");
}
