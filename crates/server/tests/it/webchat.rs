//! Web chat end to end over the wire: visitor WebSocket in, agent HTTP and live feed, replies out.

use serde_json::{Value, json};

use crate::helpers::*;

const VISITOR: &str = "3f2a9c1e-0b7d-4c11-9e55-6a1d2b3c4d5e";

#[tokio::test]
async fn a_visitor_message_reaches_the_agent_and_the_reply_reaches_the_visitor() {
    let app = TestApp::spawn().await;
    let agent = app.agent("agent1", "agent123").await;
    let mut feed = agent.feed(app.addr).await;
    let mut visitor = app.visitor(VISITOR).await;
    assert_eq!(visitor.hello["welcome"], "您好，欢迎咨询！请问有什么可以帮您？");
    let ack = visitor.say("client-0001", "你好 😊 <b>x</b>").await;
    assert_eq!(ack["message"]["content"], json!({"type": "text", "text": "你好 😊 <b>x</b>"}));

    let event = feed.until(|e| e["type"] == "message_created").await;
    assert_eq!(event["message"]["content"]["text"], "你好 😊 <b>x</b>");
    let conv = event["conversation"]["id"].as_i64().unwrap();
    // agent1 is the only one online, so routing gives them the conversation and says so.
    assert_eq!(visitor.next_text().await, "您好，客服小李为您服务。");
    let listed = agent.conversations().await;
    assert_eq!(listed[0]["id"], conv);
    assert_eq!(listed[0]["state"], "assigned");
    assert_eq!(listed[0]["agent"], agent.me["agent"]["id"]);

    let reply = agent.reply(conv, "您好！我是小李 🙂").await;
    let got = visitor.next_message().await;
    assert_eq!(
        (got["from"].clone(), got["content"]["text"].clone()),
        (json!("service"), json!("您好！我是小李 🙂"))
    );
    feed.until(|e| {
        e["type"] == "message_updated"
            && e["message"]["status"] == "sent"
            && e["message"]["id"] == reply["id"]
    })
    .await;

    visitor.send_frame(json!({"type": "delivered", "id": got["id"]})).await;
    feed.until(|e| e["type"] == "message_updated" && e["message"]["status"] == "delivered").await;
    let detail: Value = agent.get(&format!("/conversations/{conv}")).await.json().await.unwrap();
    assert_eq!(detail["conversation"]["state"], "assigned");
    assert_eq!(detail["conversation"]["agent"], agent.me["agent"]["id"]);
}

#[tokio::test]
async fn a_resend_after_a_lost_ack_is_stored_once() {
    let app = TestApp::spawn().await;
    let mut visitor = app.visitor(VISITOR).await;
    let first = visitor.say("client-0002", "在吗").await;
    drop(visitor);
    let mut again = app.visitor(VISITOR).await;
    let second = again.say("client-0002", "在吗").await;
    assert_eq!(first["message"]["id"], second["message"]["id"]);
    let from_visitor = again.hello["history"].as_array().unwrap().iter().filter(|m| m["from"] == "customer");
    assert_eq!(from_visitor.count(), 1);
    let agent = app.agent("agent1", "agent123").await;
    let conv = agent.conversations().await[0]["id"].as_i64().unwrap();
    let inbound = agent.messages(conv).await.into_iter().filter(|m| m["direction"] == "inbound").count();
    assert_eq!(inbound, 1);
}

#[tokio::test]
async fn a_returning_visitor_gets_their_history_including_replies_sent_while_away() {
    let app = TestApp::spawn().await;
    let mut visitor = app.visitor(VISITOR).await;
    visitor.say("client-0003", "我的订单到哪了").await;
    let leave_message = visitor.next_text().await;
    assert!(leave_message.contains("没有客服在线"), "nobody is online yet: {leave_message}");
    drop(visitor);
    let agent = app.agent("agent1", "agent123").await;
    let conv = agent.conversations().await[0]["id"].as_i64().unwrap();
    assert_eq!(agent.conversations().await[0]["state"], "leave_message");
    let mut feed = agent.feed(app.addr).await;
    let reply = agent.reply(conv, "已经发货了").await;
    feed.until(|e| {
        e["type"] == "message_updated"
            && e["message"]["status"] == "sent"
            && e["message"]["id"] == reply["id"]
    })
    .await;
    let back = app.visitor(VISITOR).await;
    assert_eq!(back.history_texts(), vec!["我的订单到哪了", leave_message.as_str(), "已经发货了"]);
}

#[tokio::test]
async fn bad_visitor_frames_get_clear_errors_and_store_nothing() {
    let app = TestApp::spawn().await;
    let mut visitor = app.visitor(VISITOR).await;
    visitor.send_frame(json!({"type": "send", "client_id": "client-0004", "text": "   "})).await;
    let e = visitor.next().await;
    assert_eq!(
        (e["type"].clone(), e["code"].clone(), e["client_id"].clone()),
        (json!("error"), json!("invalid"), json!("client-0004"))
    );
    visitor.send_frame(json!({"type": "send", "client_id": "client-0005", "text": "字".repeat(5001)})).await;
    assert_eq!(visitor.next().await["code"], "invalid");
    visitor.send_frame(json!({"type": "hack"})).await;
    assert_eq!(visitor.next().await["code"], "bad_frame");
    visitor.send_frame(Value::String("not an object".into())).await;
    assert_eq!(visitor.next().await["code"], "bad_frame");
    let agent = app.agent("lead", "lead123").await;
    assert!(agent.conversations().await.is_empty());
}

#[tokio::test]
async fn a_handshake_with_a_bad_visitor_id_or_unknown_channel_is_refused() {
    let app = TestApp::spawn().await;
    let bad_id =
        tokio_tungstenite::connect_async(format!("ws://{}/webchat/ws?c=web&v=..%2F..", app.addr)).await;
    assert!(bad_id.is_err());
    let res = reqwest::get(app.url(&format!("/webchat/ws?c=nope&v={VISITOR}"))).await.unwrap();
    assert!(res.status().is_client_error());
}

#[tokio::test]
async fn a_visitor_cannot_mark_someone_elses_message_delivered() {
    let app = TestApp::spawn().await;
    let mut alice = app.visitor(VISITOR).await;
    alice.say("client-0006", "我是 alice").await;
    alice.next_message().await;
    let agent = app.agent("agent1", "agent123").await;
    let conv = agent.conversations().await[0]["id"].as_i64().unwrap();
    let reply = agent.reply(conv, "给 alice 的").await;
    alice.next_message().await;
    let mut mallory = app.visitor("mallory-0000-0000-0000-000000000000").await;
    mallory.send_frame(json!({"type": "delivered", "id": reply["id"]})).await;
    mallory.send_frame(json!({"type": "ping"})).await;
    assert_eq!(mallory.next().await["type"], "pong");
    let msgs = agent.messages(conv).await;
    assert_eq!(msgs.iter().find(|m| m["id"] == reply["id"]).unwrap()["status"], "sent");
}
