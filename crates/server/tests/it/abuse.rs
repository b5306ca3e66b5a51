//! Unauthenticated abuse: password guessing (throttled in the database, so every node shares
//! it, with bounded keys), silent and trickling connections, connection floods from one
//! address, anonymous visitors writing or arriving too fast, and caller mistakes that must be
//! 4xx, never 500.

use std::sync::Arc;
use std::time::Duration;

use kefu_domain::{Clock, ManualClock};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

fn sha256_hex(s: &str) -> String {
    use sha2_11::Digest;
    sha2_11::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn login(app: &TestApp, user: &str, password: &str) -> u16 {
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_lock_the_username_for_the_window_in_the_shared_store() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(login(&app, "agent1", "wrong").await, 401);
    }
    assert_eq!(login(&app, "agent1", "agent123").await, 429, "even the right password waits");
    assert_eq!(login(&app, "AGENT1", "agent123").await, 429, "the same username in other case");
    assert_eq!(login(&app, "agent2", "agent123").await, 200, "others are not affected");
    // The count lives in the database, where every node reads it.
    let since = app.clock.now().minus(Duration::from_secs(15 * 60));
    let key = format!("user:{}", sha256_hex("agent1"));
    assert_eq!(app.store.login_failures(&key, since).await.unwrap(), 5);
    app.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(login(&app, "agent1", "agent123").await, 200, "the window passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_usernames_are_refused_before_they_cost_memory_or_a_hash() {
    let app = TestApp::spawn_configured(Arc::new(ManualClock::new(T0)), |c| c.max_body_bytes = 1 << 20).await;
    let long = "用".repeat(20_000);
    assert_eq!(login(&app, &long, "x").await, 400);
    assert_eq!(login(&app, "agent1", &"p".repeat(10_000)).await, 400);
    let since = app.clock.now().minus(Duration::from_secs(3600));
    let key = format!("user:{}", sha256_hex(&long));
    assert_eq!(app.store.login_failures(&key, since).await.unwrap(), 0, "nothing was recorded");
}

/// Reads until the server closes the connection; `true` if it did within `within`.
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read).await.is_ok()
}

fn tight(c: &mut kefu_server::Config) {
    c.limits.header_timeout_secs = 1;
    c.limits.idle_timeout_secs = 1;
    c.limits.max_connections_per_ip = 3;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_trickling_and_idle_connections_are_closed_by_the_server() {
    let app = TestApp::spawn_configured(Arc::new(ManualClock::new(T0)), tight).await;
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let mut trickle = TcpStream::connect(app.addr).await.unwrap();
    trickle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    // Bounds on a hang, well above the 1 s deadlines: this checks the server closes, not when.
    for (name, s) in [("silent", &mut silent), ("trickling", &mut trickle), ("idle keep-alive", &mut idle)] {
        assert!(closed_by_server(s, Duration::from_secs(10)).await, "{name} connection left open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_more_than_its_share_of_connections() {
    let app = TestApp::spawn_configured(Arc::new(ManualClock::new(T0)), |c| {
        c.limits.max_connections_per_ip = 3;
    })
    .await;
    let mut held = vec![];
    for _ in 0..3 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    let mut fourth = TcpStream::connect(app.addr).await.unwrap();
    let _ = fourth.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(closed_by_server(&mut fourth, Duration::from_secs(10)).await, "the fourth was served");
    held.pop();
    // The freed slot serves a health check again (the cap counts open connections only).
    let mut ok = false;
    for _ in 0..50 {
        if let Ok(r) = reqwest::get(app.url("/healthz")).await {
            ok = r.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "/healthz answers once a slot is free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_writing_too_fast_is_slowed_kindly_and_nothing_acknowledged_is_lost() {
    let app = TestApp::spawn_configured(Arc::new(ManualClock::new(T0)), |c| {
        c.limits.visitor_burst = 3;
        c.limits.visitor_per_minute = 60;
    })
    .await;
    let mut v = app.visitor("fast-visitor-00000000001").await;
    for i in 0..3 {
        v.say(&format!("fast-msg-{i:04}"), &format!("第{i}条")).await;
    }
    v.send_frame(json!({"type": "send", "client_id": "fast-msg-0003", "text": "第3条"})).await;
    let slow = loop {
        let f = v.next().await;
        if f["type"] != "message" {
            break f;
        }
    };
    assert_eq!(slow["type"], "slow_down", "{slow}");
    assert_eq!(slow["client_id"], "fast-msg-0003");
    assert!(slow["retry_after_ms"].as_u64().unwrap() <= 1000);
    assert!(slow["message"].as_str().unwrap().contains("太快"));
    app.clock.advance(Duration::from_secs(1));
    v.say("fast-msg-0003", "第3条").await;
    let n = stored_messages(&app, |m| m["direction"] == "inbound").await;
    assert_eq!(n, 4, "every message stored once, the slowed one after its resend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_visitors_from_one_address_are_limited_but_known_ones_reconnect() {
    let app = TestApp::spawn_configured(Arc::new(ManualClock::new(T0)), |c| {
        c.limits.new_visitors_per_ip_per_hour = 2;
    })
    .await;
    let mut first = app.visitor("flood-visitor-000000001").await;
    first.say("flood-msg-0001", "你好").await;
    let _second = app.visitor("flood-visitor-000000002").await;
    let url = format!("ws://{}/webchat/ws?c=web&v=flood-visitor-000000003", app.addr);
    let refused = tokio_tungstenite::connect_async(url).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 429),
        other => panic!("a third new visitor from one address was let in: {:?}", other.map(|_| ())),
    }
    let _again = app.visitor("flood-visitor-000000001").await; // a known visitor is never refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_mistakes_are_answered_with_4xx_never_500() {
    let app = TestApp::spawn().await;
    let lead = app.agent("lead", "lead123").await;
    let groups: Vec<Value> = lead.get("/groups").await.json().await.unwrap();
    let (a, b) = (&groups[0], &groups[1]);
    let rename = lead.put(&format!("/groups/{}", a["id"]), json!({"name": b["name"]})).await;
    assert_eq!(rename.status(), 409, "renaming a group to a taken name");
    let mut v = app.visitor("mistake-visitor-0000001").await;
    let ack = v.say("mistake-msg-0001", "你好").await;
    let m = app.store.message(kefu_domain::MessageId(ack["message"]["id"].as_i64().unwrap())).await.unwrap();
    let conv = m.conversation_id.0;
    let to_nobody = lead.post(&format!("/conversations/{conv}/transfer"), json!({"agent": 99_999})).await;
    assert_eq!(to_nobody.status(), 422);
    let to_no_group = lead.post(&format!("/conversations/{conv}/transfer"), json!({"group": 99_999})).await;
    assert_eq!(to_no_group.status(), 422);
    assert_eq!(lead.put("/customers/99999/tags", json!({"tags": ["vip"]})).await.status(), 404);
    assert_eq!(lead.post("/customers/99999/notes", json!({"text": "x"})).await.status(), 404);
    assert_eq!(lead.get("/customers/99999/messages").await.status(), 404);
    let merge = lead.post("/customers/99999/merge", json!({"other": 99_998, "reason": "x"})).await;
    assert_eq!(merge.status(), 404);
}
