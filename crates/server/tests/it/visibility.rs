//! One visibility policy on every read path: an agent outside a customer's skill group who
//! never served them cannot read the conversation, its messages, the customer, their history
//! or notes, find them in search, act on them, or see their events on the live feed, however
//! ids are walked. Serving agents and supervisors can.

use serde_json::{Value, json};

use crate::helpers::*;

const WANG: &str = "您好，客服小王为您服务。";

/// A visitor whose 退款 request went to 售后服务 (小王); 小李 serves 售前咨询 only.
async fn refund_case(app: &TestApp) -> (Visitor, i64, i64) {
    let mut v = app.visitor("private-visitor-0000001").await;
    let ack = v.say("private-msg-0001", "我要退款，订单号 A778").await;
    let m = app.store.message(kefu_domain::MessageId(ack["message"]["id"].as_i64().unwrap())).await.unwrap();
    assert_eq!(v.next_text().await, WANG);
    let conv = app.store.conversation(m.conversation_id).await.unwrap();
    (v, conv.id.0, conv.customer_id.0)
}

async fn status(agent: &AgentClient, method: &str, path: &str) -> u16 {
    let res = match method {
        "GET" => agent.get(path).await,
        "PUT" => agent.put(path, json!({"tags": ["x"]})).await,
        _ => agent.post(path, json!({"text": "x", "group": 1, "reason": "x", "other": 1})).await,
    };
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_outside_the_customers_group_gets_404_on_every_read_and_write_path() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let wang = app.agent("agent2", "agent123").await;
    let (_v, conv, cust) = refund_case(&app).await;
    wang.reply(conv, "内部备注前的回复").await;
    let paths = [
        ("GET", format!("/conversations/{conv}")),
        ("GET", format!("/conversations/{conv}/messages")),
        ("GET", format!("/customers/{cust}")),
        ("GET", format!("/customers/{cust}/messages")),
        ("PUT", format!("/customers/{cust}/tags")),
        ("POST", format!("/customers/{cust}/notes")),
        ("POST", format!("/conversations/{conv}/messages")),
        ("POST", format!("/conversations/{conv}/claim")),
        ("POST", format!("/conversations/{conv}/close")),
        ("POST", format!("/conversations/{conv}/transfer")),
        ("POST", format!("/conversations/{conv}/ask-phone")),
        ("PUT", format!("/conversations/{conv}/tags")),
    ];
    for (method, path) in &paths {
        assert_eq!(status(&li, method, path).await, 404, "{method} {path} for an outsider");
    }
    for (method, path) in paths.iter().filter(|(m, _)| *m == "GET") {
        assert_eq!(status(&wang, method, path).await, 200, "{method} {path} for the serving agent");
    }
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(status(&lead, "GET", &format!("/customers/{cust}/messages")).await, 200);

    // Walking ids finds nothing either, and search does not list them.
    for id in 1..=cust + 5 {
        assert_eq!(status(&li, "GET", &format!("/customers/{id}/messages")).await, 404, "customer {id}");
    }
    let found: Vec<Value> = li.get("/customers?q=private-visitor").await.json().await.unwrap();
    assert!(found.is_empty(), "search respects the policy: {found:?}");
    let found: Vec<Value> = wang.get("/customers?q=private-visitor").await.json().await.unwrap();
    assert_eq!(found.len(), 1);
    let listed: Vec<Value> = li.get("/conversations?state=assigned,closed").await.json().await.unwrap();
    assert!(!listed.iter().any(|c| c["id"] == conv), "not in the outsider's list");
    let listed: Vec<Value> = li.get("/conversations?scope=all").await.json().await.unwrap();
    assert!(!listed.iter().any(|c| c["id"] == conv), "scope=all is for supervisors only");
    assert_eq!(li.get("/v1/export/transcripts").await.status(), 403, "exports are for supervisors and keys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_carries_a_customer_only_to_those_who_may_see_them() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let wang = app.agent("agent2", "agent123").await;
    let mut li_feed = li.feed(app.addr).await;
    let mut wang_feed = wang.feed(app.addr).await;
    let (mut v, conv, _) = refund_case(&app).await;
    v.say("private-msg-0002", "退款什么时候到账").await;
    let e = wang_feed
        .until(|e| e["type"] == "message_created" && e["message"]["content"]["text"] == "退款什么时候到账")
        .await;
    assert_eq!(e["conversation"]["id"], conv);
    // Events reach each feed in publishing order: once 小李 sees a later message of his own
    // group's customer, nothing of conv came before it.
    let mut other = app.visitor("presales-visitor-000001").await;
    other.say("presales-msg-0001", "报价单多少钱").await;
    li_feed
        .until(|e| {
            assert_ne!(e["conversation"]["id"], conv, "leaked to an outsider: {e}");
            assert_ne!(e["message"]["conversation_id"], conv, "leaked to an outsider: {e}");
            e["type"] == "message_created" && e["message"]["content"]["text"] == "报价单多少钱"
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_keeps_seeing_a_customer_they_served_and_a_new_group_sees_a_transferred_one() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let wang = app.agent("agent2", "agent123").await;
    let (_v, conv, cust) = refund_case(&app).await;
    assert_eq!(status(&li, "GET", &format!("/conversations/{conv}")).await, 404);
    let groups: Vec<Value> = wang.get("/groups").await.json().await.unwrap();
    let presales = groups.iter().find(|g| g["name"] == "售前咨询").unwrap()["id"].clone();
    let res = wang.post(&format!("/conversations/{conv}/transfer"), json!({"group": presales})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(status(&li, "GET", &format!("/conversations/{conv}")).await, 200, "now in li's group");
    assert_eq!(status(&wang, "GET", &format!("/customers/{cust}/messages")).await, 200, "wang served them");
    assert_eq!(status(&wang, "GET", &format!("/conversations/{conv}/messages")).await, 200);
}
