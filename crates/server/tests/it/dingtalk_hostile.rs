//! Hostile and broken DingTalk robot callbacks: a bad or expired sign, missing headers,
//! malformed JSON, invalid UTF-8, an oversized body — each gets a clear 4xx and stores
//! nothing; markup in a customer's text is kept as text.

use kefu_channels::dingtalk::sign::sign;
use serde_json::json;

use crate::helpers::*;

const SECRET: &str = "demo-dingtalk-secret-0000000000000000000000000000";

fn body(msg_id: &str, text: &str) -> Vec<u8> {
    json!({
        "msgtype": "text", "text": {"content": text}, "msgId": msg_id, "createAt": T0.0,
        "conversationType": "1", "conversationId": "cidHostile", "senderId": "$:LWCP_v1:$hostile",
        "senderStaffId": "dt_hostile", "senderNick": "访客", "robotCode": "dingdemo00000001",
        "sessionWebhook": "http://127.0.0.1:9/robot/sendBySession?session=x", "sessionWebhookExpiredTime": T0.0 + 5_400_000
    })
    .to_string()
    .into_bytes()
}

/// Posts a robot callback with the given timestamp header (ms) signed with `secret`.
async fn post(app: &TestApp, ts: Option<i64>, secret: &str, body: Vec<u8>) -> (u16, String) {
    let mut req = reqwest::Client::new().post(app.url("/callback/dingtalk/dingtalk")).body(body);
    if let Some(ts) = ts {
        req = req.header("timestamp", ts.to_string()).header("sign", sign(&ts.to_string(), secret));
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn stored(app: &TestApp) -> usize {
    stored_messages(app, |m| m["direction"] == "inbound").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signs_stale_timestamps_and_missing_headers_are_refused_and_store_nothing() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let (status, text) = post(&app, Some(T0.0), "not-the-secret", body("h1", "伪造")).await;
    assert_eq!((status, text.contains("sign")), (401, true), "{text}");
    let two_hours_ago = T0.0 - 2 * 3_600_000;
    let (status, text) = post(&app, Some(two_hours_ago), SECRET, body("h2", "重放")).await;
    assert_eq!((status, text.contains("window")), (401, true), "{text}");
    let (status, text) = post(&app, None, SECRET, body("h3", "无签名")).await;
    assert_eq!((status, text.contains("missing header")), (401, true), "{text}");
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_invalid_utf8_and_oversized_bodies_get_clear_errors() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let (status, text) = post(&app, Some(T0.0), SECRET, b"{\"msgtype\": \"text\", ".to_vec()).await;
    assert_eq!((status, text.contains("JSON")), (400, true), "{text}");
    let (status, text) =
        post(&app, Some(T0.0), SECRET, br#"{"msgtype":"text","text":{"content":"x"}}"#.to_vec()).await;
    assert_eq!((status, text.contains("msgId")), (400, true), "{text}");
    let (status, _) = post(&app, Some(T0.0), SECRET, vec![0xff, 0xfe, b'{']).await;
    assert_eq!(status, 400);
    let (status, _) = post(&app, Some(T0.0), SECRET, body("h4", &"长".repeat(200_000))).await;
    assert_eq!(status, 413);
    let res = reqwest::Client::new()
        .post(app.url("/callback/dingtalk/nope"))
        .body(body("h5", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_dingtalk_message_is_stored_as_the_text_it_is() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let text = "<script>alert(1)</script> 你好 😀 &amp;";
    assert_eq!(post(&app, Some(T0.0), SECRET, body("h6", text)).await.0, 200);
    assert_eq!(post(&app, Some(T0.0), SECRET, body("h6", text)).await.0, 200, "a redelivery is acknowledged");
    let lead = app.agent("lead", "lead123").await;
    let conv = lead.conversations().await[0]["id"].as_i64().unwrap();
    let msgs = lead.messages(conv).await;
    assert_eq!(msgs[0]["content"]["text"], text);
    assert_eq!(stored(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_webhook_outside_dingtalks_hosts_is_never_called_and_the_reply_uses_the_send_api() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let (evil, hits) = trap("/robot/sendBySession?session=evil").await;
    let mut b: serde_json::Value = serde_json::from_slice(&body("ssrf1", "转人工")).unwrap();
    b["sessionWebhook"] = json!(evil);
    b["senderStaffId"] = json!("dt_wanglei");
    assert_eq!(post(&app, Some(T0.0), SECRET, b.to_string().into_bytes()).await.0, 200);
    let lead = app.agent("lead", "lead123").await;
    let conv = lead.conversations().await[0]["id"].as_i64().unwrap();
    lead.reply(conv, "您好，我来处理").await;
    for _ in 0..200 {
        if sim.inbox("dt_wanglei").iter().any(|r| r.content.to_string().contains("您好，我来处理")) {
            break;
        }
        app.run_pending().await;
    }
    assert!(
        sim.inbox("dt_wanglei").iter().any(|r| r.content.to_string().contains("您好，我来处理")),
        "the reply went out through DingTalk's send API"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "kefu called the attacker's URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timestamp_and_sign_pair_is_not_accepted_again_with_another_body() {
    let (app, _sim) = TestApp::spawn_with_sandbox().await;
    let ts = T0.0 - 60_000;
    assert_eq!(post(&app, Some(ts), SECRET, body("once1", "原始消息")).await.0, 200);
    assert_eq!(post(&app, Some(ts), SECRET, body("once1", "原始消息")).await.0, 200, "a redelivery is fine");
    let (status, text) = post(&app, Some(ts), SECRET, body("forged1", "伪造的消息")).await;
    assert_eq!((status, text.contains("already used")), (401, true), "{text}");
    assert_eq!(stored(&app).await, 1);
}
