//! Request hygiene: CSRF, origin checks, size limits, malformed bodies, headers.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_state_change_without_the_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    let agent = app.agent("agent1", "agent123").await;
    let res =
        agent.http.put(app.url("/api/me/status")).json(&json!({"status": "away"})).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = agent
        .http
        .put(app.url("/api/me/status"))
        .header("x-csrf-token", "guess")
        .json(&json!({"status": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let ok = agent
        .http
        .put(app.url("/api/me/status"))
        .header("x-csrf-token", &agent.csrf)
        .json(&json!({"status": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_request_from_a_foreign_origin_is_refused_even_with_the_token() {
    let app = TestApp::spawn().await;
    let agent = app.agent("agent1", "agent123").await;
    let res = agent
        .http
        .put(app.url("/api/me/status"))
        .header("x-csrf-token", &agent.csrf)
        .header("origin", "https://evil.example")
        .json(&json!({"status": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(100 * 1024);
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"username":"{big}","password":"x"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn malformed_json_is_a_client_error_with_a_reason() {
    let app = TestApp::spawn().await;
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(!res.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(app.url("/")).await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let frame = reqwest::get(app.url("/webchat/frame?c=web")).await.unwrap();
    assert!(frame.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors *"));
    let widget = reqwest::get(app.url("/widget.js")).await.unwrap();
    assert_eq!(widget.headers()["access-control-allow-origin"], "*");
    assert!(widget.headers()["content-type"].to_str().unwrap().contains("javascript"));
}

#[tokio::test]
async fn unknown_api_paths_answer_json_404() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(app.url("/api/nope")).await.unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn the_health_checks_say_live_and_ready_and_name_the_answering_node() {
    let app = TestApp::spawn().await;
    let live = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(live.status(), 200);
    let node = live.headers().get("x-kefu-node").expect("the node's name").to_str().unwrap().to_owned();
    assert!(node.starts_with("node-"), "{node}");
    let ready = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.headers().get("x-kefu-node").unwrap().to_str().unwrap(), node);
    assert_eq!(ready.text().await.unwrap(), "ready");
}
