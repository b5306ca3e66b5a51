//! Routing and the lifecycle through the WeChat sandbox, asserting on what the WeChat user's
//! phone receives: leave-message when the agent goes offline, closing messages (per group),
//! the survey, the idle timeout, and what the 48-hour window keeps from being sent.

use std::time::Duration;

use kefu_sim::SimMessage;
use serde_json::{Value, json};

use crate::helpers::*;

const APP: &str = "wxdemo0000000001";
const USER: &str = "o_demo_xiaoming";
const LI: &str = "您好，客服小李为您服务。";
const CLOSING: &str = "感谢您的咨询，本次会话已结束。如有其他问题，欢迎随时联系我们。";
const SURVEY: &str = "请为本次服务打分（1-5分，5分最满意），直接回复数字即可。";
const LEAVE: &str = "当前没有客服在线（或不在工作时间），请留下您的问题和联系方式，我们会尽快回复您。";

/// The user writes; returns the conversation once kefu's reaction to it has been delivered.
async fn user_writes(sim: &kefu_sim::SimHandle, feed: &mut Feed, text: &str, then: &str) -> i64 {
    let d = sim.oa_user_says(APP, USER, SimMessage::text(text)).await.unwrap();
    assert!(d.ok, "{d:?}");
    let e = feed.until(|e| e["type"] == "message_created" && e["message"]["content"]["text"] == text).await;
    delivered(feed, then).await;
    e["conversation"]["id"].as_i64().unwrap()
}

/// Waits until a message with this text was handed to WeChat.
async fn delivered(feed: &mut Feed, text: &str) -> Value {
    feed.until(|e| {
        e["type"] == "message_updated"
            && e["message"]["status"] == "sent"
            && e["message"]["content"]["text"] == text
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_agent_goes_offline_the_wechat_user_is_asked_to_leave_a_message() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let lead = app.agent("lead", "lead123").await;
    lead.put("/me/status", json!({"status": "away"})).await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = lead.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "宽带什么时候能修好", LI).await;

    assert_eq!(li.put("/me/status", json!({"status": "offline"})).await.status(), 200);
    delivered(&mut feed, LEAVE).await;
    assert_eq!(wechat_texts(&sim, USER), vec![LI, LEAVE]);
    assert_eq!(lead.conversation(conv).await["state"], "leave_message");
    assert_eq!(lead.conversation(conv).await["agent"], Value::Null);

    sim.oa_user_says(APP, USER, SimMessage::text("我家地址是海湾路 8 号")).await.unwrap();
    feed.until(|e| {
        e["type"] == "message_created" && e["message"]["content"]["text"] == "我家地址是海湾路 8 号"
    })
    .await;
    let kept: Vec<_> = lead.messages(conv).await.iter().map(|m| m["content"]["text"].clone()).collect();
    assert_eq!(kept.last(), Some(&json!("我家地址是海湾路 8 号")), "the ticket keeps what the user adds");
    li.put("/me/status", json!({"status": "online"})).await;
    li.reply(conv, "已为您登记报修，师傅明天上午上门").await;
    delivered(&mut feed, "已为您登记报修，师傅明天上午上门").await;
    assert_eq!(wechat_texts(&sim, USER).last().unwrap(), "已为您登记报修，师傅明天上午上门");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_sends_the_groups_closing_message_and_the_survey_answer_comes_back_from_wechat() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let wang = app.agent("agent2", "agent123").await;
    let mut feed = wang.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "我要退货", "您好，客服小王为您服务。").await;
    assert_eq!(wang.post(&format!("/conversations/{conv}/close"), json!({})).await.status(), 200);
    let after_sales_closing = "感谢您的耐心，售后问题已记录。如需进度查询，随时留言给我们。";
    delivered(&mut feed, SURVEY).await;
    assert_eq!(wechat_texts(&sim, USER)[1..], [after_sales_closing, SURVEY]);

    sim.oa_user_says(APP, USER, SimMessage::text("4分")).await.unwrap();
    delivered(&mut feed, "感谢您的评价！").await;
    let closed = wang.conversation(conv).await;
    assert_eq!((closed["state"].clone(), closed["satisfaction"].clone()), (json!("closed"), json!(4)));
    assert!(wang.conversations().await.is_empty(), "the rating opened no new conversation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_after_the_48_hour_window_shows_the_agent_what_wechat_would_refuse() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "在吗", LI).await;
    app.clock.advance(Duration::from_secs(49 * 3600));
    let li = app.agent("agent1", "agent123").await;
    assert_eq!(li.post(&format!("/conversations/{conv}/close"), json!({})).await.status(), 200);
    let msgs = li.messages(conv).await;
    let closing =
        msgs.iter().find(|m| m["content"]["text"] == CLOSING).expect("the closing message is recorded");
    assert_eq!(closing["status"], "failed");
    assert!(closing["error"].as_str().unwrap().contains("48"), "{closing}");
    assert!(!msgs.iter().any(|m| m["content"]["text"] == SURVEY), "no survey that cannot arrive");
    assert_eq!(wechat_texts(&sim, USER), vec![LI], "nothing was sent past the window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_wechat_user_is_closed_after_the_idle_timeout_with_its_own_message() {
    let (app, sim) = TestApp::spawn_with_sandbox().await;
    let li = app.agent("agent1", "agent123").await;
    let mut feed = li.feed(app.addr).await;
    let conv = user_writes(&sim, &mut feed, "在吗", LI).await;
    app.clock.advance(Duration::from_secs(29 * 60));
    app.tick().await;
    assert_eq!(li.conversation(conv).await["state"], "assigned", "not yet");
    app.clock.advance(Duration::from_secs(2 * 60));
    app.tick().await;
    let idle = "由于您长时间没有回复，本次会话已自动结束。如需帮助，请重新发送消息。";
    delivered(&mut feed, idle).await;
    let closed = li.conversation(conv).await;
    assert_eq!(
        (closed["state"].clone(), closed["close_reason"].clone()),
        (json!("closed"), json!("idle_timeout"))
    );
    assert_eq!(wechat_texts(&sim, USER), vec![LI, idle]);
}
