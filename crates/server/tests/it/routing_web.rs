//! Routing and the conversation lifecycle over web chat, asserting on what the visitor sees:
//! greetings, queue places, leave-message, closing messages, the survey, transfers and live
//! rule edits.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const LI: &str = "您好，客服小李为您服务。";
const WANG: &str = "您好，客服小王为您服务。";
const CLOSING: &str = "感谢您的咨询，本次会话已结束。如有其他问题，欢迎随时联系我们。";
const SURVEY: &str = "请为本次服务打分（1-5分，5分最满意），直接回复数字即可。";
const LEAVE: &str = "当前没有客服在线（或不在工作时间），请留下您的问题和联系方式，我们会尽快回复您。";

fn queued(place: u32) -> String {
    format!("当前人工客服繁忙，您排在第{place}位，请稍候。")
}

/// A visitor who says one thing; returns them with the id of their conversation.
async fn visitor_says(app: &TestApp, id: &str, text: &str) -> (Visitor, i64) {
    let mut v = app.visitor(id).await;
    let ack = v.say(&format!("{id}-1"), text).await;
    let conv = app.store.message(kefu_domain::MessageId(ack["message"]["id"].as_i64().unwrap())).await;
    (v, conv.unwrap().conversation_id.0)
}

async fn group(admin: &AgentClient, name: &str) -> Value {
    let groups: Vec<Value> = admin.get("/groups").await.json().await.unwrap();
    groups.into_iter().find(|g| g["name"] == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_sends_the_closing_message_and_the_rating_is_recorded_and_a_return_is_sticky() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let (mut v, conv) = visitor_says(&app, "route-visitor-000000001", "你好").await;
    assert_eq!(v.next_text().await, LI);
    assert_eq!(li.post(&format!("/conversations/{conv}/close"), json!({})).await.status(), 200);
    assert_eq!((v.next_text().await, v.next_text().await), (CLOSING.to_owned(), SURVEY.to_owned()));
    v.say("route-visitor-000000001-2", "5").await;
    assert_eq!(v.next_text().await, "感谢您的评价！");
    let closed = li.conversation(conv).await;
    assert_eq!((closed["state"].clone(), closed["satisfaction"].clone()), (json!("closed"), json!(5)));

    // The lead, never assigned anything, would win a tie on load; the sticky rule wins first.
    app.agent("lead", "lead123").await;
    v.say("route-visitor-000000001-3", "还有个问题").await;
    assert_eq!(v.next_text().await, LI);
    let open = li.conversations().await;
    assert_eq!(open.len(), 1);
    assert_ne!(open[0]["id"], conv, "writing after the close starts a new conversation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_agent_queues_visitors_who_hear_their_place_and_are_served_in_order() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let li = app.agent("agent1", "agent123").await;
    let li_id = li.me["agent"]["id"].as_i64().unwrap();
    assert_eq!(li.put(&format!("/agents/{li_id}"), json!({"capacity": 1})).await.status(), 403);
    assert_eq!(admin.put(&format!("/agents/{li_id}"), json!({"capacity": 1})).await.status(), 200);

    let (mut a, conv_a) = visitor_says(&app, "queue-visitor-00000000a", "在吗").await;
    assert_eq!(a.next_text().await, LI);
    let (mut b, _) = visitor_says(&app, "queue-visitor-00000000b", "有人吗").await;
    assert_eq!(b.next_text().await, queued(1));
    let (mut c, conv_c) = visitor_says(&app, "queue-visitor-00000000c", "请问").await;
    assert_eq!(c.next_text().await, queued(2));

    li.post(&format!("/conversations/{conv_a}/close"), json!({})).await;
    assert_eq!(b.next_text().await, LI, "first come, first served");
    assert_eq!(c.next_text().await, queued(1), "the new place is worth telling");
    assert_eq!(li.conversation(conv_c).await["state"], "queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_rules_edited_live_send_a_visitor_to_the_right_group() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    app.agent("agent1", "agent123").await;
    app.agent("agent2", "agent123").await;
    let (mut v, _) = visitor_says(&app, "rule-visitor-0000000001", "我要退款").await;
    assert_eq!(v.next_text().await, WANG, "退款 is an after-sales keyword");

    let mut pre_sales = group(&admin, "售前咨询").await;
    pre_sales["routing"]["keywords"] = json!(["re:退(款|钱)"]);
    let id = pre_sales["id"].as_i64().unwrap();
    assert_eq!(admin.put(&format!("/groups/{id}"), pre_sales.clone()).await.status(), 200);
    let (mut w, _) = visitor_says(&app, "rule-visitor-0000000002", "我要退款").await;
    assert_eq!(w.next_text().await, LI, "the edited rule applies to the next conversation");

    pre_sales["routing"]["keywords"] = json!(["re:("]);
    let res = admin.put(&format!("/groups/{id}"), pre_sales).await;
    assert_eq!(res.status(), 422, "a broken pattern is refused, not saved");
    assert_eq!(group(&admin, "售前咨询").await["routing"]["keywords"], json!(["re:退(款|钱)"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_business_hours_a_visitor_leaves_a_message_that_an_agent_follows_up() {
    let app = TestApp::spawn().await;
    let admin = app.agent("admin", "admin123").await;
    let li = app.agent("agent1", "agent123").await;
    let mut pre_sales = group(&admin, "售前咨询").await;
    let day = json!([["09:00", "18:00"]]);
    pre_sales["routing"]["business_hours"] = json!({
        "utc_offset_minutes": 480,
        "weekly": {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
        "holidays": ["2026-01-01"],
    });
    let id = pre_sales["id"].as_i64().unwrap();
    assert_eq!(admin.put(&format!("/groups/{id}"), pre_sales).await.status(), 200);

    // T0 + 2 h is 10:00 in Beijing on New Year's Day, a holiday.
    app.clock.advance(Duration::from_secs(2 * 3600));
    let (mut v, conv) = visitor_says(&app, "hours-visitor-000000001", "想要个报价").await;
    assert_eq!(v.next_text().await, LEAVE);
    v.say("hours-visitor-000000001-2", "我的电话 13800000001").await;
    let ticket = li.conversation(conv).await;
    assert_eq!(ticket["state"], "leave_message");
    let listed = li.get("/conversations?state=leave_message").await.json::<Vec<Value>>().await.unwrap();
    assert_eq!(listed[0]["id"], conv, "agents see the ticket");
    let texts: Vec<_> = li.messages(conv).await.iter().map(|m| m["content"]["text"].clone()).collect();
    assert_eq!(
        texts,
        vec![json!("想要个报价"), json!(LEAVE), json!("我的电话 13800000001")],
        "told once, all kept"
    );
    li.reply(conv, "您好，报价单已发到您的手机").await;
    assert_eq!(v.next_text().await, "您好，报价单已发到您的手机");

    // Friday 2 January, 10:00: open.
    app.clock.advance(Duration::from_secs(24 * 3600));
    let (mut w, _) = visitor_says(&app, "hours-visitor-000000002", "报价单能发我吗").await;
    assert_eq!(w.next_text().await, LI);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_to_a_group_reaches_its_agent_with_a_note_the_visitor_never_sees() {
    let app = TestApp::spawn().await;
    let li = app.agent("agent1", "agent123").await;
    let (mut v, conv) = visitor_says(&app, "transfer-visitor-000001", "你好").await;
    assert_eq!(v.next_text().await, LI);
    let wang = app.agent("agent2", "agent123").await;
    let after_sales = group(&li, "售后服务").await;
    let body = json!({"group": after_sales["id"], "note": "客户要退货，订单 A123 已核实"});
    assert_eq!(li.post(&format!("/conversations/{conv}/transfer"), body).await.status(), 200);
    assert_eq!(v.next_text().await, WANG);
    let moved = wang.conversation(conv).await;
    assert_eq!(moved["agent"], wang.me["agent"]["id"]);
    let msgs = wang.messages(conv).await;
    let note = msgs.iter().find(|m| m["direction"] == "internal").expect("the transfer note");
    assert!(note["content"]["text"].as_str().unwrap().contains("订单 A123 已核实"), "{note}");
    let back = app.visitor("transfer-visitor-000001").await;
    assert!(!back.hello["history"].to_string().contains("A123"), "the note reached the visitor");
    let res = wang.post(&format!("/conversations/{conv}/transfer"), json!({"note": "x"})).await;
    assert_eq!(res.status(), 400, "neither an agent nor a group");
    let res = li.post(&format!("/conversations/{conv}/transfer"), json!({"group": after_sales["id"]})).await;
    assert_eq!(res.status(), 403, "li served this customer, so still sees it, but it is no longer li's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_who_closed_the_workbench_goes_offline_and_their_customer_is_asked_to_leave_a_message() {
    let clock = std::sync::Arc::new(kefu_domain::ManualClock::new(T0));
    let app = TestApp::spawn_configured(clock, |c| c.routing.presence_timeout_secs = 120).await;
    let li = app.agent("agent1", "agent123").await;
    let mut li_feed = li.feed(app.addr).await;
    let wang = app.agent("agent2", "agent123").await;
    let (mut v, conv) = visitor_says(&app, "presence-visitor-000001", "我要退款").await;
    assert_eq!(v.next_text().await, WANG);

    // 小王 closed the browser; 小李's workbench keeps pinging.
    app.clock.advance(Duration::from_secs(100));
    li_feed.ping().await;
    app.clock.advance(Duration::from_secs(30));
    app.tick().await;
    assert_eq!(v.next_text().await, LEAVE, "nobody of 售后服务 is left");
    let lead = app.agent("lead", "lead123").await;
    assert_eq!(lead.conversation(conv).await["state"], "leave_message");
    assert_eq!(li.get(&format!("/conversations/{conv}")).await.status(), 404, "li is not in 售后服务");
    let agents: Vec<Value> = li.get("/agents").await.json().await.unwrap();
    let status = |id: &Value| agents.iter().find(|a| &a["id"] == id).unwrap()["status"].clone();
    assert_eq!(
        (status(&li.me["agent"]["id"]), status(&wang.me["agent"]["id"])),
        (json!("online"), json!("offline"))
    );
}
