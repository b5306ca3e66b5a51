//! Routing and the lifecycle through the engine: strategies, stickiness, capacity, the queue,
//! business hours, leave-message, closing messages, surveys, timeouts, transfers — asserting
//! on what the customer actually receives.

use std::collections::HashMap;
use std::time::Duration;

use crate::helpers::*;
use kefu_domain::*;
use kefu_engine::lifecycle::TransferTo;
use kefu_store::*;

async fn online(h: &Harness, name: &str, capacity: u32, groups: Vec<SkillGroupId>) -> Agent {
    let a = h
        .store
        .create_agent(
            NewAgent {
                username: name.into(),
                display_name: name.to_uppercase(),
                password_hash: "x".into(),
                role: Role::Agent,
                capacity,
                skill_groups: groups,
            },
            T0,
        )
        .await
        .unwrap();
    h.engine.set_agent_status(a.id, AgentStatus::Online).await.unwrap()
}

async fn group(h: &Harness, name: &str, routing: GroupRouting) -> SkillGroup {
    let mut g = h.store.create_skill_group(name, T0).await.unwrap();
    g.routing = routing;
    h.store.update_skill_group(&g).await.unwrap()
}

/// A customer writes; the engine replies and routes, as the server does.
async fn writes(h: &Harness, visitor: &str, key: &str, text: &str) -> Conversation {
    let a = h.customer_says(visitor, key, text).await;
    h.run_pending().await;
    h.store.conversation(a.conversation.id).await.unwrap()
}

/// Texts the customer's channel delivered, after the outbox ran.
async fn received(h: &Harness) -> Vec<String> {
    while h.worker.run_once().await.unwrap() > 0 {}
    h.sender.texts()
}

fn assignee(c: &Conversation) -> AgentId {
    c.status.agent.expect("assigned")
}

#[tokio::test]
async fn least_load_spreads_conversations_evenly_over_many_assignments() {
    let h = harness().await;
    let agents = [
        online(&h, "a", 10, vec![]).await,
        online(&h, "b", 10, vec![]).await,
        online(&h, "c", 10, vec![]).await,
    ];
    let mut count: HashMap<AgentId, usize> = HashMap::new();
    for i in 0..30 {
        h.clock.advance(Duration::from_secs(1));
        let c = writes(&h, &format!("visitor-least-load-{i:04}"), &format!("m{i}"), "你好").await;
        *count.entry(assignee(&c)).or_default() += 1;
    }
    for a in &agents {
        assert_eq!(count[&a.id], 10, "{count:?}");
    }
}

#[tokio::test]
async fn round_robin_takes_turns_and_keeps_its_place_across_a_restart() {
    let h = harness().await;
    let g = group(
        &h,
        "售前",
        GroupRouting { strategy: Strategy::RoundRobin, sticky_hours: 0, ..Default::default() },
    )
    .await;
    let keyword = GroupRouting { keywords: vec!["报价".into()], ..g.routing.clone() };
    h.store.update_skill_group(&SkillGroup { routing: keyword, ..g.clone() }).await.unwrap();
    let ids: Vec<AgentId> = [
        online(&h, "a", 50, vec![g.id]).await,
        online(&h, "b", 50, vec![g.id]).await,
        online(&h, "c", 50, vec![g.id]).await,
    ]
    .iter()
    .map(|a| a.id)
    .collect();
    let mut order = vec![];
    for i in 0..7 {
        order
            .push(assignee(&writes(&h, &format!("visitor-rr-{i:06}"), &format!("m{i}"), "请给我报价").await));
    }
    assert_eq!(order, vec![ids[0], ids[1], ids[2], ids[0], ids[1], ids[2], ids[0]]);
    let (_restarted, jobs) = h.restart();
    let a = h.customer_says("visitor-rr-after-restart", "m-after", "报价单").await;
    jobs.run_pending().await.unwrap();
    let c = h.store.conversation(a.conversation.id).await.unwrap();
    assert_eq!(assignee(&c), ids[1], "the turn continues where it was");
}

#[tokio::test]
async fn a_returning_customer_gets_their_agent_within_the_window_and_anyone_after() {
    let h = harness().await;
    let a = online(&h, "a", 5, vec![]).await;
    let b = online(&h, "b", 5, vec![]).await;
    let first = writes(&h, "visitor-sticky-000001", "m1", "你好").await;
    let served_by = h.store.agent(assignee(&first)).await.unwrap();
    let other = if served_by.id == a.id { b.id } else { a.id };
    h.engine.close(&served_by, first.id).await.unwrap();
    h.run_pending().await;
    // Load the serving agent so that least load alone would pick the other one.
    let filler = writes(&h, "visitor-filler-000001", "f1", "占位").await;
    assert_eq!(assignee(&filler), other);
    let busy = writes(&h, "visitor-filler-000002", "f2", "占位").await;
    assert_eq!(assignee(&busy), served_by.id, "equal loads now; the tie goes to whoever waited longer");
    h.clock.advance(Duration::from_secs(3600));
    let again = writes(&h, "visitor-sticky-000001", "m2", "我又来了").await;
    assert_eq!(assignee(&again), served_by.id, "sticky within 24 hours");
    h.engine.close(&served_by, again.id).await.unwrap();
    h.run_pending().await;

    h.clock.advance(Duration::from_secs(25 * 3600));
    h.engine.set_agent_status(other, AgentStatus::Offline).await.unwrap();
    h.run_pending().await;
    for i in 3..5 {
        writes(&h, &format!("visitor-filler-{i:06}"), &format!("f{i}"), "占位").await;
    }
    h.engine.set_agent_status(other, AgentStatus::Online).await.unwrap();
    h.run_pending().await;
    let later = writes(&h, "visitor-sticky-000001", "m3", "隔天再来").await;
    assert_eq!(assignee(&later), other, "after the window the least loaded agent takes it");
}

#[tokio::test]
async fn when_everyone_is_full_customers_queue_hear_their_place_and_are_served_in_order() {
    let h = harness().await;
    let agent = online(&h, "a", 1, vec![]).await;
    let first = writes(&h, "visitor-queue-000001", "m1", "一").await;
    assert_eq!(first.state(), ConversationState::Assigned);
    let second = writes(&h, "visitor-queue-000002", "m2", "二").await;
    let third = writes(&h, "visitor-queue-000003", "m3", "三").await;
    assert_eq!((second.state(), third.state()), (ConversationState::Queued, ConversationState::Queued));
    let texts = received(&h).await;
    assert!(texts.iter().any(|t| t.contains("您排在第1位")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("您排在第2位")), "{texts:?}");
    h.engine.close(&agent, first.id).await.unwrap();
    h.run_pending().await;
    assert_eq!(
        h.store.conversation(second.id).await.unwrap().state(),
        ConversationState::Assigned,
        "first come, first served"
    );
    assert_eq!(h.store.conversation(third.id).await.unwrap().state(), ConversationState::Queued);
    let texts = received(&h).await;
    assert!(
        texts.iter().any(|t| t == "感谢您的咨询，本次会话已结束。如有其他问题，欢迎随时联系我们。"),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("客服A为您服务")), "{texts:?}");
}

#[tokio::test]
async fn outside_business_hours_the_customer_leaves_a_message_and_inside_gets_an_agent() {
    let h = harness().await;
    let day = vec![["09:00".to_owned(), "18:00".to_owned()]];
    let weekly = ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), day.clone())).collect();
    let hours = BusinessHours { utc_offset_minutes: 480, weekly, holidays: vec![], workdays: vec![] };
    let routing =
        GroupRouting { business_hours: Some(hours), keywords: vec!["售后".into()], ..Default::default() };
    let g = group(&h, "售后组", routing).await;
    online(&h, "a", 5, vec![g.id]).await;
    // T0 is Thursday 2026-01-01 08:00 in Beijing: before opening.
    let early = writes(&h, "visitor-hours-000001", "m1", "售后问题").await;
    assert_eq!(early.state(), ConversationState::LeaveMessage);
    assert!(received(&h).await.iter().any(|t| t.contains("请留下您的问题")));
    h.clock.advance(Duration::from_secs(2 * 3600));
    let open = writes(&h, "visitor-hours-000002", "m2", "售后问题").await;
    assert_eq!(open.state(), ConversationState::Assigned);
}

#[tokio::test]
async fn with_nobody_online_and_when_the_last_agent_leaves_it_becomes_leave_message() {
    let h = harness().await;
    let nobody = writes(&h, "visitor-offline-000001", "m1", "在吗").await;
    assert_eq!(nobody.state(), ConversationState::LeaveMessage);
    let a = online(&h, "a", 5, vec![]).await;
    let served = writes(&h, "visitor-offline-000002", "m2", "在吗").await;
    assert_eq!(assignee(&served), a.id);
    h.engine.set_agent_status(a.id, AgentStatus::Offline).await.unwrap();
    h.run_pending().await;
    assert_eq!(h.store.conversation(served.id).await.unwrap().state(), ConversationState::LeaveMessage);
    let picked = h.engine.claim(&a, nobody.id).await.unwrap();
    assert_eq!(picked.state(), ConversationState::Assigned, "agents follow up on tickets");
}

#[tokio::test]
async fn a_long_wait_and_a_silent_customer_time_out_with_their_own_messages() {
    let h = harness().await;
    let g = group(
        &h,
        "技术",
        GroupRouting { queue_timeout_secs: Some(300), keywords: vec!["网".into()], ..Default::default() },
    )
    .await;
    let a = online(&h, "a", 1, vec![g.id]).await;
    let served = writes(&h, "visitor-timeout-000001", "m1", "网断了").await;
    let waiting = writes(&h, "visitor-timeout-000002", "m2", "网断了").await;
    assert_eq!(waiting.state(), ConversationState::Queued);
    h.clock.advance(Duration::from_secs(299));
    h.tick().await;
    assert_eq!(h.store.conversation(waiting.id).await.unwrap().state(), ConversationState::Queued);
    h.clock.advance(Duration::from_secs(1));
    h.tick().await;
    assert_eq!(h.store.conversation(waiting.id).await.unwrap().state(), ConversationState::LeaveMessage);
    h.clock.advance(Duration::from_secs(30 * 60));
    h.tick().await;
    let closed = h.store.conversation(served.id).await.unwrap();
    assert_eq!(
        (closed.state(), closed.status.close_reason),
        (ConversationState::Closed, Some(CloseReason::IdleTimeout))
    );
    assert!(received(&h).await.iter().any(|t| t.contains("长时间没有回复")));
    let _ = a;
}

#[tokio::test]
async fn after_closing_the_customer_rates_the_service_without_opening_a_new_conversation() {
    let h = harness().await;
    let a = online(&h, "a", 5, vec![]).await;
    let c = writes(&h, "visitor-survey-000001", "m1", "你好").await;
    h.engine.close(&a, c.id).await.unwrap();
    h.run_pending().await;
    assert!(received(&h).await.iter().any(|t| t.contains("请为本次服务打分")));
    let reply = h.customer_says("visitor-survey-000001", "m2", "5").await;
    assert_eq!(reply.conversation.id, c.id, "the rating belongs to the closed conversation");
    h.run_pending().await;
    assert_eq!(h.store.conversation(c.id).await.unwrap().satisfaction, Some(5));
    assert!(received(&h).await.iter().any(|t| t == "感谢您的评价！"));
    let next = writes(&h, "visitor-survey-000001", "m3", "还有个问题").await;
    assert_ne!(next.id, c.id, "afterwards a new conversation starts");
    assert_eq!(assignee(&next), a.id, "with the sticky agent");
}

#[tokio::test]
async fn a_transfer_to_a_group_leaves_a_note_and_routes_within_that_group() {
    let h = harness().await;
    let sales = group(&h, "销售", GroupRouting::default()).await;
    let support =
        group(&h, "售后", GroupRouting { keywords: vec!["退款".into()], ..Default::default() }).await;
    let seller = online(&h, "seller", 5, vec![sales.id]).await;
    let helper = online(&h, "helper", 5, vec![support.id]).await;
    let c = writes(&h, "visitor-transfer-00001", "m1", "我想买空调").await;
    let holder = h.store.agent(assignee(&c)).await.unwrap();
    h.engine.transfer(&holder, c.id, TransferTo::Group(support.id), "客户其实要退款").await.unwrap();
    h.run_pending().await;
    let moved = h.store.conversation(c.id).await.unwrap();
    assert_eq!((moved.state(), moved.status.agent), (ConversationState::Assigned, Some(helper.id)));
    let msgs = h.store.messages(c.id, MessagePage { before: None, limit: 50 }).await.unwrap();
    assert!(
        msgs.iter().any(|m| m.direction == Direction::Internal
            && m.content.plain_text().unwrap().contains("客户其实要退款"))
    );
    let _ = seller;
}

#[tokio::test]
async fn keywords_pick_the_group_of_a_new_conversation() {
    let h = harness().await;
    let sales =
        group(&h, "销售组", GroupRouting { keywords: vec!["re:报价|多少钱".into()], ..Default::default() })
            .await;
    let after = group(
        &h,
        "售后组",
        GroupRouting { keywords: vec!["退款".into(), "售后".into()], ..Default::default() },
    )
    .await;
    online(&h, "s", 5, vec![sales.id]).await;
    let r = online(&h, "r", 5, vec![after.id]).await;
    let c = writes(&h, "visitor-keyword-00001", "m1", "买的东西想退款").await;
    assert_eq!((c.status.group, c.status.agent), (Some(after.id), Some(r.id)));
    h.run_pending().await;
    let again = h.store.conversation(c.id).await.unwrap();
    assert_eq!(again.status, c.status, "serving the queues again changes nothing for an assigned chat");
}
