//! Logging in and out, sessions, roles and what each agent may see.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_guessing_is_throttled() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let login = |pw: &'static str| {
        http.post(app.url("/api/auth/login")).json(&json!({"username": "agent1", "password": pw})).send()
    };
    assert_eq!(login("nope").await.unwrap().status(), 401);
    let unknown =
        http.post(app.url("/api/auth/login")).json(&json!({"username": "ghost", "password": "x"})).send();
    assert_eq!(unknown.await.unwrap().status(), 401);
    for _ in 0..4 {
        login("nope").await.unwrap();
    }
    assert_eq!(login("agent123").await.unwrap().status(), 429, "locked out after 5 failures");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_strict() {
    let app = TestApp::spawn().await;
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "agent1", "password": "agent123"}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["agent"]["status"], "online");
    assert!(body["agent"].get("password_hash").is_none());
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let agent = app.agent("agent1", "agent123").await;
    assert_eq!(agent.get("/me").await.status(), 200);
    assert_eq!(agent.post("/auth/logout", json!({})).await.status(), 200);
    assert_eq!(agent.get("/me").await.status(), 401);
    assert_eq!(agent.get("/conversations").await.status(), 401);
}

#[tokio::test]
async fn an_agent_cannot_see_or_touch_a_colleagues_conversation_but_the_supervisor_can() {
    let app = TestApp::spawn().await;
    let mut visitor = app.visitor("visitor-aaaa-bbbb-cccc-000000000001").await;
    visitor.say("client-0007", "你好").await;
    let one = app.agent("agent1", "agent123").await;
    let two = app.agent("agent2", "agent123").await;
    let lead = app.agent("lead", "lead123").await;
    let conv = one.conversations().await[0]["id"].as_i64().unwrap();
    assert_eq!(one.post(&format!("/conversations/{conv}/claim"), json!({})).await.status(), 200);
    assert!(two.conversations().await.is_empty());
    assert_eq!(two.get(&format!("/conversations/{conv}")).await.status(), 404);
    let r = two.post(&format!("/conversations/{conv}/messages"), json!({"text": "抢单"})).await;
    assert_eq!(r.status(), 404);
    let all: Vec<Value> = lead.get("/conversations?scope=all").await.json().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(lead.post(&format!("/conversations/{conv}/close"), json!({})).await.status(), 200);
    let r = one.post(&format!("/conversations/{conv}/messages"), json!({"text": "还在吗"})).await;
    assert_eq!(r.status(), 409, "a closed conversation takes no replies");
}

#[tokio::test]
async fn a_session_expires_after_its_time_to_live() {
    let app = TestApp::spawn().await;
    let agent = app.agent("agent1", "agent123").await;
    app.clock.advance(Duration::from_secs(720 * 60 - 1));
    assert_eq!(agent.get("/me").await.status(), 200);
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(agent.get("/me").await.status(), 401);
}
