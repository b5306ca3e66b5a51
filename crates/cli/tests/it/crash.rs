//! `kill -9` right after an acknowledgement loses nothing: acks are only sent after a durable commit.

use serde_json::{Value, json};

use crate::helpers::*;

const VISITOR: &str = "crash-test-visitor-0000000000001";

#[tokio::test]
async fn a_visitor_message_acknowledged_just_before_kill_9_is_there_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let kefu = start(&["serve"], dir.path()).await;
    let admin_pw = kefu.password_of("admin").expect("bootstrap admin printed");
    let mut visitor = kefu.visitor(VISITOR).await;
    let mut acked = vec![];
    for i in 0..20 {
        let ack = visitor.say(&format!("crash-msg-{i:04}"), &format!("第{i}条消息 😊")).await;
        acked.push(ack["message"]["id"].as_i64().unwrap());
    }
    kefu.kill_9().await;

    let kefu = start(&["serve"], dir.path()).await;
    assert_eq!(kefu.password_of("admin"), None, "no second bootstrap on restart");
    let (http, _) = kefu.login("admin", &admin_pw).await;
    let convs: Vec<Value> = http
        .get(format!("{}/api/conversations?scope=all", kefu.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(convs.len(), 1);
    let msgs: Vec<Value> = http
        .get(format!("{}/api/conversations/{}/messages?limit=100", kefu.base, convs[0]["id"]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> =
        msgs.iter().filter(|m| m["direction"] == "inbound").map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, acked, "every acknowledged message, once, in order");
    assert_eq!(
        msgs.iter().rev().find(|m| m["direction"] == "inbound").unwrap()["content"]["text"],
        "第19条消息 😊"
    );
    kefu.kill_9().await;
}

#[tokio::test]
async fn an_agent_reply_accepted_just_before_kill_9_reaches_the_visitor_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let kefu = start(&["serve"], dir.path()).await;
    let admin_pw = kefu.password_of("admin").unwrap();
    let mut visitor = kefu.visitor(VISITOR).await;
    visitor.say("crash-msg-a001", "有人吗").await;
    drop(visitor);
    let (http, csrf) = kefu.login("admin", &admin_pw).await;
    let convs: Vec<Value> =
        http.get(format!("{}/api/conversations", kefu.base)).send().await.unwrap().json().await.unwrap();
    let res = http
        .post(format!("{}/api/conversations/{}/messages", kefu.base, convs[0]["id"]))
        .header("x-csrf-token", csrf)
        .json(&json!({"text": "在的，请讲"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    kefu.kill_9().await;

    let kefu = start(&["serve"], dir.path()).await;
    let visitor = kefu.visitor(VISITOR).await;
    // Nobody was online, so kefu told the visitor to leave a message before the reply came.
    let texts = visitor.history_texts();
    assert_eq!(texts.first().map(String::as_str), Some("有人吗"));
    assert_eq!(texts.last().map(String::as_str), Some("在的，请讲"));
    assert!(texts[1].contains("留下您的问题"), "{texts:?}");
    kefu.kill_9().await;
}
