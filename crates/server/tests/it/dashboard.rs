//! The management dashboard over HTTP on a fixture written at known times, asserted exactly,
//! and the Prometheus endpoint.

use std::sync::Arc;
use std::time::Duration;

use kefu_domain::*;
use kefu_store::*;
use serde_json::{Value, json};

use crate::helpers::*;

const SEC: i64 = 1000;

async fn customer_writes(
    app: &TestApp,
    channel: ChannelId,
    who: &str,
    state: ConversationState,
) -> ConversationId {
    let inb = Inbound {
        channel_id: channel,
        external_id: who.into(),
        profile: Profile::default(),
        dedupe_key: Some(format!("{who}-1")),
        content: Content::text("你好"),
        received_at: T0,
        initial_state: state,
        initial_group: None,
        passive: false,
    };
    match app.store.ingest(inb).await.unwrap() {
        IngestOutcome::Accepted(a) => a.conversation.id,
        IngestOutcome::Duplicate(_) => unreachable!(),
    }
}

/// Conversation 1: queued at T0, assigned at +60 s, first reply at +90 s, closed at +690 s,
/// rated 5 and tagged 成交. Conversation 2: the bot handles it alone.
async fn fixture(app: &TestApp, lead: &AgentClient) -> (ChannelId, AgentId) {
    let web = app.store.channels().await.unwrap().into_iter().find(|c| c.key == "web").unwrap().id;
    let li = app.store.agents().await.unwrap().into_iter().find(|a| a.username == "agent1").unwrap().id;
    let one = customer_writes(app, web, "dash-1", ConversationState::Queued).await;
    customer_writes(app, web, "dash-2", ConversationState::Bot).await;
    let at = |s: i64| Timestamp(T0.0 + s * SEC);
    app.store.apply_event(one, ConversationEvent::Assign { agent: li }, at(60)).await.unwrap();
    let reply = NewOutbound {
        conversation_id: one,
        sender: Sender::Agent { id: li },
        content: Content::text("您好"),
        dedupe_key: None,
        created_at: at(90),
    };
    app.store.enqueue_outbound(reply).await.unwrap();
    app.store
        .apply_event(one, ConversationEvent::Close { reason: CloseReason::Agent }, at(690))
        .await
        .unwrap();
    app.store.set_satisfaction(one, 5).await.unwrap();
    let res = lead.put(&format!("/conversations/{}/tags", one.0), json!({"tags": ["成交"]})).await;
    assert_eq!(res.status(), 200);
    (web, li)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_exact_figures_per_channel_and_agent() {
    let app = TestApp::spawn().await;
    let lead = app.agent("lead", "lead123").await;
    let (_, li) = fixture(&app, &lead).await;
    app.clock.advance(Duration::from_secs(3600));
    let d: Value = lead
        .get(&format!("/dashboard?from={}&to={}&by=channel", T0.0, T0.0 + 86_400 * SEC))
        .await
        .json()
        .await
        .unwrap();
    let row = &d["rows"][0];
    assert_eq!(d["rows"].as_array().unwrap().len(), 1);
    assert_eq!(row["label"], "官网在线客服");
    assert_eq!(
        (&row["volume"], &row["handed_off"], &row["interception_rate"], &row["handoff_rate"]),
        (&json!(2), &json!(1), &json!(0.5), &json!(0.5))
    );
    assert_eq!(row["first_response"], json!({"count": 1, "median": 90.0, "p90": 90.0}));
    assert_eq!(row["handle_time"], json!({"count": 1, "median": 630.0, "p90": 630.0}));
    assert_eq!(row["queue_wait"], json!({"count": 1, "median": 60.0, "p90": 60.0}));
    assert_eq!(
        (&row["satisfaction_avg"], &row["satisfaction_count"], &row["leave_messages"]),
        (&json!(5.0), &json!(1), &json!(0))
    );
    assert_eq!(row["tags"], json!({"成交": 1}));
    assert_eq!(d["total"]["volume"], 2);

    let by_agent: Value = lead.get(&format!("/dashboard?from={}&by=agent", T0.0)).await.json().await.unwrap();
    let rows = by_agent["rows"].as_array().unwrap();
    assert_eq!(
        (rows[0]["key"].as_i64(), rows[0]["label"].as_str(), rows[0]["volume"].as_i64()),
        (Some(li.0), Some("小李"), Some(1))
    );
    assert_eq!(
        (rows[1]["key"].is_null(), rows[1]["volume"].as_i64()),
        (true, Some(1)),
        "the bot-only one has no agent"
    );

    let empty: Value = lead
        .get(&format!("/dashboard?from={}&to={}", T0.0 + 86_400 * SEC, T0.0 + 2 * 86_400 * SEC))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (empty["total"]["volume"].as_i64(), empty["total"]["handoff_rate"].is_null()),
        (Some(0), true)
    );
    assert_eq!(lead.get("/dashboard?by=weather").await.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_in_prometheus_text_format_to_the_bearer_of_the_metrics_token_only() {
    let clock = Arc::new(ManualClock::new(T0));
    let app = TestApp::spawn_configured(clock, |c| c.metrics_token = "scrape-secret-0001".into()).await;
    let lead = app.agent("lead", "lead123").await;
    fixture(&app, &lead).await;
    assert_eq!(reqwest::get(app.url("/metrics")).await.unwrap().status(), 401, "no token");
    let http = reqwest::Client::new();
    let wrong = http.get(app.url("/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let res = http.get(app.url("/metrics")).bearer_auth("scrape-secret-0001").send().await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    for line in [
        "# TYPE kefu_conversations gauge",
        "kefu_conversations{state=\"closed\"} 1",
        "kefu_conversations{state=\"bot\"} 1",
        "kefu_messages{direction=\"inbound\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    assert!(text.contains("kefu_changes_last_seq "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_metrics_token_the_public_listener_has_no_metrics_and_scrapes_are_cached() {
    let app = TestApp::spawn().await;
    assert_eq!(reqwest::get(app.url("/metrics")).await.unwrap().status(), 404);
    let clock = Arc::new(ManualClock::new(T0));
    let app = TestApp::spawn_configured(clock, |c| c.metrics_token = "t0ken-for-metrics".into()).await;
    let scrape = || async {
        let res = reqwest::Client::new().get(app.url("/metrics")).bearer_auth("t0ken-for-metrics").send();
        res.await.unwrap().text().await.unwrap()
    };
    let first = scrape().await;
    let mut v = app.visitor("metrics-visitor-00000001").await;
    v.say("metrics-msg-1", "你好").await;
    assert_eq!(scrape().await, first, "figures are cached for 15 s: a scrape costs no counting");
    app.clock.advance(Duration::from_secs(15));
    assert_ne!(scrape().await, first, "and then counted again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_week_fills_the_dashboard_on_every_channel_and_sends_nothing_to_any_platform() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    kefu_server::seed::demo_faq(app.store.as_ref(), app.clock.as_ref()).await.unwrap();
    let n = kefu_server::history::seed_week(app.store.as_ref(), app.clock.as_ref()).await.unwrap();
    assert!(n >= 100, "a week of a small shop is well over a hundred conversations: {n}");
    assert_eq!(app.run_pending().await, 0, "the history's jobs are already done");
    let stats = sim.stats();
    assert_eq!((stats.api_calls, stats.callback_attempts), (0, 0), "no platform heard of the history");

    let lead = app.agent("lead", "lead123").await;
    let week = format!("/dashboard?from={}&to={}", T0.0 - 8 * 86_400 * SEC, T0.0);
    let d: Value = lead.get(&format!("{week}&by=channel")).await.json().await.unwrap();
    let rows = d["rows"].as_array().unwrap();
    assert!(rows.len() >= 4, "several channels: {rows:?}");
    let total = &d["total"];
    assert_eq!(total["volume"].as_u64(), Some(n as u64));
    let rate = total["handoff_rate"].as_f64().unwrap();
    assert!((0.2..0.7).contains(&rate), "the bot intercepts most but not all: {rate}");
    assert!(total["leave_messages"].as_u64().unwrap() > 0);
    assert!(total["satisfaction_count"].as_u64().unwrap() > 10);
    let csat = total["satisfaction_avg"].as_f64().unwrap();
    assert!((3.5..5.0).contains(&csat), "{csat}");
    assert!(total["first_response"]["median"].as_f64().unwrap() > 0.0);
    assert!(total["tags"]["成交"].as_u64().unwrap() > 0);

    let by_agent: Value = lead.get(&format!("{week}&by=agent")).await.json().await.unwrap();
    let served: Vec<_> =
        by_agent["rows"].as_array().unwrap().iter().filter_map(|r| r["label"].as_str()).collect();
    assert!(served.contains(&"小李") && served.contains(&"小王"), "{served:?}");
    let all: Vec<Value> =
        lead.get("/conversations?scope=all&state=closed,leave_message&limit=500").await.json().await.unwrap();
    assert!(all.iter().any(|c| c["state"] == "leave_message"), "fresh 留言 wait for the morning");
    let names: Vec<_> = all.iter().filter_map(|c| c["customer_name"].as_str()).collect();
    assert!(names.iter().all(|n| !n.contains("hist")), "nicknames or 访客 + number: {names:?}");
}
