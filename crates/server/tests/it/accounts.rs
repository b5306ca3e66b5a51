//! Accounts as a team runs them: an admin creates, edits, disables and re-enables accounts,
//! resets passwords and forces log-outs; a deployment always keeps one admin; agents change
//! their own name and password.

use serde_json::{Value, json};

use crate::helpers::*;

async fn create(admin: &AgentClient, body: Value) -> Value {
    let res = admin.post("/agents", body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn login_status(app: &TestApp, user: &str, password: &str) -> u16 {
    let body = json!({"username": user, "password": password});
    reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_agent_is_signed_out_everywhere_at_once_and_their_customer_goes_back_to_routing() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let body = json!({"username": "xiaozhao", "password": "pass-word-1", "display_name": "小赵",
        "role": "agent", "groups": ["售前咨询"], "capacity": 3});
    let created = create(&admin, body).await;
    assert_eq!(
        (created["disabled"].clone(), created["skill_groups"].as_array().unwrap().len()),
        (json!(false), 1)
    );
    let zhao = app.agent("xiaozhao", "pass-word-1").await;
    let mut feed = zhao.feed(app.addr).await;
    let mut v = app.visitor("acct-visitor-00000000001").await;
    let ack = v.say("acct-msg-0001", "报价多少钱").await;
    let conv =
        app.store.message(kefu_domain::MessageId(ack["message"]["id"].as_i64().unwrap())).await.unwrap();
    let conv = conv.conversation_id.0;
    assert_eq!(v.next_text().await, "您好，客服小赵为您服务。");

    let id = created["id"].as_i64().unwrap();
    let off = admin.put(&format!("/agents/{id}"), json!({"disabled": true})).await;
    assert_eq!(off.status(), 200);
    assert_eq!(feed.closed().await, 4401, "the open workbench is told it was signed out");
    assert_eq!(zhao.get("/me").await.status(), 401, "the session ended");
    assert_eq!(login_status(&app, "xiaozhao", "pass-word-1").await, 403);
    app.run_pending().await;
    let c = admin.conversation(conv).await;
    assert_eq!((c["agent"].clone(), c["state"].clone()), (json!(null), json!("leave_message")), "{c}");

    let on = admin.put(&format!("/agents/{id}"), json!({"disabled": false})).await;
    assert_eq!(on.status(), 200);
    assert_eq!(login_status(&app, "xiaozhao", "pass-word-1").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_admin_cannot_be_disabled_or_demoted_while_one_of_two_can() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let me = admin.me["agent"]["id"].as_i64().unwrap();
    for change in [json!({"disabled": true}), json!({"role": "supervisor"})] {
        let res = admin.put(&format!("/agents/{me}"), change).await;
        assert_eq!(res.status(), 409);
        let body: Value = res.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains("last admin"), "{body}");
    }
    let body = json!({"username": "admin2", "password": "second-admin", "display_name": "副管理员", "role": "admin"});
    create(&admin, body).await;
    let second = app.agent("admin2", "second-admin").await;
    assert_eq!(second.put(&format!("/agents/{me}"), json!({"role": "supervisor"})).await.status(), 200);
    let second_id = second.me["agent"]["id"].as_i64().unwrap();
    assert_eq!(second.put(&format!("/agents/{second_id}"), json!({"disabled": true})).await.status(), 409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_edit_accounts_and_bad_values_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let lead = app.agent("lead", "lead123").await;
    let li = app.agent("agent1", "agent123").await;
    let li_id = li.me["agent"]["id"].as_i64().unwrap();
    assert_eq!(lead.put(&format!("/agents/{li_id}"), json!({"capacity": 2})).await.status(), 200, "routing");
    assert_eq!(lead.put(&format!("/agents/{li_id}"), json!({"role": "admin"})).await.status(), 403);
    assert_eq!(lead.post(&format!("/agents/{li_id}/logout"), json!({})).await.status(), 403);
    let bad_values = [json!({"display_name": ""}), json!({"password": "short"}), json!({"capacity": 1000})];
    for bad in bad_values {
        assert_eq!(admin.put(&format!("/agents/{li_id}"), bad.clone()).await.status(), 400, "{bad}");
    }
    // Well-formed but refused by the password policy, which no schema can state: 422.
    for weak in [json!({"password": "woaini1314"}), json!({"password": "abcdefgh"})] {
        assert_eq!(admin.put(&format!("/agents/{li_id}"), weak.clone()).await.status(), 422, "{weak}");
    }
    assert_eq!(admin.put(&format!("/agents/{li_id}"), json!({"groups": ["没有这个组"]})).await.status(), 422);
    let same = json!({"username": "xiaozhao1", "password": "xiaozhao1", "display_name": "小赵"});
    let res = admin.post("/agents", same).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("username"));
    let dup = json!({"username": "agent1", "password": "pass-word-1", "display_name": "重名"});
    assert_eq!(admin.post("/agents", dup).await.status(), 409);
    let renamed =
        admin.put(&format!("/agents/{li_id}"), json!({"display_name": "李明", "role": "supervisor"})).await;
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(
        (renamed["display_name"].clone(), renamed["role"].clone()),
        (json!("李明"), json!("supervisor"))
    );
    assert_eq!(li.get("/me").await.status(), 200, "a new name or role keeps the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_or_a_forced_log_out_ends_the_sessions() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let li = app.agent("agent1", "agent123").await;
    let li_id = li.me["agent"]["id"].as_i64().unwrap();
    assert_eq!(admin.post(&format!("/agents/{li_id}/logout"), json!({})).await.status(), 204);
    assert_eq!(li.get("/me").await.status(), 401);
    let li = app.agent("agent1", "agent123").await;
    assert_eq!(
        admin.put(&format!("/agents/{li_id}"), json!({"password": "reset-by-admin"})).await.status(),
        200
    );
    assert_eq!(li.get("/me").await.status(), 401);
    assert_eq!(login_status(&app, "agent1", "agent123").await, 401);
    assert_eq!(login_status(&app, "agent1", "reset-by-admin").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_change_their_own_name_and_password_and_their_other_sessions_end() {
    let app = TestApp::spawn().await;
    let here = app.agent("agent1", "agent123").await;
    let elsewhere = app.agent("agent1", "agent123").await;
    let (mut here_feed, mut elsewhere_feed) = (here.feed(app.addr).await, elsewhere.feed(app.addr).await);
    let wrong = json!({"current_password": "not-it-at-all", "new_password": "brand-new-pass"});
    assert_eq!(here.put("/me/password", wrong).await.status(), 403);
    let short = json!({"current_password": "agent123", "new_password": "short"});
    assert_eq!(here.put("/me/password", short).await.status(), 400);
    let good = json!({"current_password": "agent123", "new_password": "brand-new-pass"});
    assert_eq!(here.put("/me/password", good).await.status(), 204);
    assert_eq!(here.get("/me").await.status(), 200, "this session stays");
    assert_eq!(elsewhere.get("/me").await.status(), 401, "the others end");
    assert_eq!(elsewhere_feed.closed().await, 4401, "and their open workbench closes at once");
    here_feed.ping().await;
    assert_eq!(login_status(&app, "agent1", "brand-new-pass").await, 200);
    let named: Value = here.put("/me", json!({"display_name": "李明"})).await.json().await.unwrap();
    assert_eq!(named["display_name"], "李明");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_where_they_are_signed_in_and_end_a_session_elsewhere() {
    let app = TestApp::spawn().await;
    let here = app.agent("agent1", "agent123").await;
    let there = app.agent("agent1", "agent123").await;
    let list: Vec<Value> = here.get("/me/sessions").await.json().await.unwrap();
    assert_eq!(list.len(), 2);
    let other = list.iter().find(|s| s["current"] == false).expect("the other session");
    assert_eq!(other["client_ip"], "127.0.0.1");
    let id = other["id"].as_str().unwrap().to_owned();
    let end = |who: &AgentClient| {
        who.http.delete(format!("{}/api/me/sessions/{id}", who.base)).header("x-csrf-token", &who.csrf).send()
    };
    let wang = app.agent("agent2", "agent123").await;
    assert_eq!(end(&wang).await.unwrap().status(), 404, "nobody ends another's session");
    let (mut here_feed, mut there_feed) = (here.feed(app.addr).await, there.feed(app.addr).await);
    assert_eq!(end(&here).await.unwrap().status(), 204);
    assert_eq!(there.get("/me").await.status(), 401);
    assert_eq!(there_feed.closed().await, 4401, "the ended device's workbench closes, live");
    here_feed.ping().await;
    assert_eq!(here.get("/me").await.status(), 200);
    assert_eq!(end(&here).await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_password_must_be_changed_before_anything_else_and_no_customer_is_routed_meanwhile() {
    let clock = std::sync::Arc::new(kefu_domain::ManualClock::new(T0));
    let app = TestApp::spawn_configured(clock.clone(), |c| c.limits.password_max_age_days = 90).await;
    let fresh = app.agent("agent1", "agent123").await;
    assert_eq!(fresh.me["password_expired"], false);
    assert_eq!(fresh.post("/auth/logout", json!({})).await.status(), 200);
    clock.advance(std::time::Duration::from_secs(91 * 86_400));
    let li = app.agent("agent1", "agent123").await;
    assert_eq!(li.me["password_expired"], true);
    assert_eq!(li.me["agent"]["status"], "offline", "not put online by this login");
    let held: Value = li.get("/conversations").await.json().await.unwrap();
    assert!(held["message"].as_str().unwrap().contains("expired"), "{held}");
    assert_eq!(li.get("/me").await.status(), 200);
    let change = json!({"current_password": "agent123", "new_password": "fresh-pass-2027"});
    assert_eq!(li.put("/me/password", change).await.status(), 204);
    assert_eq!(li.get("/conversations").await.status(), 200, "the same session is free now");
    assert_eq!(app.agent("agent1", "fresh-pass-2027").await.me["password_expired"], false);
}
