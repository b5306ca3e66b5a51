//! Work after an acknowledgement survives crashes and runs once: a job a dead node had claimed
//! is taken over when its lease runs out, two nodes ticking at once send one notice, and a job
//! that keeps failing ends visibly as `failed` with its reason.

use std::time::Duration;

use crate::helpers::*;
use kefu_domain::*;
use kefu_engine::jobs::{JobPolicy, JobRunner};
use kefu_store::*;

async fn online(h: &Harness, name: &str, capacity: u32, groups: Vec<SkillGroupId>) -> Agent {
    let a = h.agent(name, Role::Agent).await;
    h.store.set_agent_routing(a.id, capacity, &groups).await.unwrap();
    h.engine.set_agent_status(a.id, AgentStatus::Online).await.unwrap()
}

async fn system_texts(h: &Harness, conv: ConversationId) -> Vec<String> {
    let page = MessagePage { before: None, limit: 100 };
    let all = h.store.messages(conv, page).await.unwrap();
    all.into_iter()
        .filter(|m| m.sender == Sender::System)
        .map(|m| m.content.plain_text().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn a_message_acknowledged_just_before_a_crash_is_routed_by_the_node_that_takes_over() {
    let h = harness().await;
    let agent = online(&h, "a", 3, vec![]).await;
    h.run_pending().await;
    let acked = h.customer_says("visitor-crash-0000001", "m1", "你好，我要退货").await;
    // The node that acknowledged it claimed the job and died before finishing it.
    let now = h.clock.now();
    let dead =
        h.store.claim_jobs(None, "dead-node:1", now, now.plus(Duration::from_secs(120)), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let (_engine, survivor) = h.restart();
    assert_eq!(survivor.run_pending().await.unwrap(), 0, "the lease still runs");
    let conv = h.store.conversation(acked.conversation.id).await.unwrap();
    assert_eq!(conv.state(), ConversationState::Queued);
    h.clock.advance(Duration::from_secs(120));
    assert!(survivor.run_pending().await.unwrap() >= 1);
    let conv = h.store.conversation(acked.conversation.id).await.unwrap();
    assert_eq!((conv.state(), conv.status.agent), (ConversationState::Assigned, Some(agent.id)));
    assert!(h.store.jobs("pending", 10).await.unwrap().is_empty());
    assert!(h.store.jobs("failed", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn two_nodes_ticking_at_the_same_moment_send_one_timeout_notice_and_one_closing_message() {
    let h = harness().await;
    let mut g = h.store.create_skill_group("技术", T0).await.unwrap();
    g.routing =
        GroupRouting { queue_timeout_secs: Some(300), keywords: vec!["网".into()], ..Default::default() };
    let g = h.store.update_skill_group(&g).await.unwrap();
    online(&h, "a", 1, vec![g.id]).await;
    let served = h.customer_says("visitor-tick-00000001", "m1", "网断了").await.conversation.id;
    h.run_pending().await;
    let waiting = h.customer_says("visitor-tick-00000002", "m2", "网断了").await.conversation.id;
    h.run_pending().await;
    assert_eq!(h.store.conversation(waiting).await.unwrap().state(), ConversationState::Queued);
    let before = (system_texts(&h, waiting).await.len(), system_texts(&h, served).await.len());
    let (other, other_jobs) = h.restart();
    for minutes in [5, 31, 32] {
        h.clock.set(T0.plus(Duration::from_secs(minutes * 60)));
        let (a, b) = tokio::join!(h.engine.tick(), other.tick());
        a.unwrap();
        b.unwrap();
        let (a, b) = tokio::join!(h.jobs.run_pending(), other_jobs.run_pending());
        a.unwrap();
        b.unwrap();
    }
    assert_eq!(h.store.conversation(waiting).await.unwrap().state(), ConversationState::LeaveMessage);
    let closed = h.store.conversation(served).await.unwrap();
    assert_eq!(closed.status.close_reason, Some(CloseReason::IdleTimeout));
    let after = (system_texts(&h, waiting).await.len(), system_texts(&h, served).await.len());
    assert_eq!(after.0 - before.0, 1, "one leave-message notice: {:?}", system_texts(&h, waiting).await);
    let closing: Vec<String> =
        system_texts(&h, served).await.into_iter().filter(|t| t.contains("长时间没有回复")).collect();
    assert_eq!(closing.len(), 1, "one closing message: {closing:?}");
    assert!(after.1 > before.1);
}

#[tokio::test]
async fn a_job_that_keeps_failing_backs_off_then_stays_visible_as_failed_until_retried() {
    let h = harness().await;
    let policy = JobPolicy { max_attempts: 2, base: Duration::from_secs(10), ..JobPolicy::default() };
    let runner = JobRunner::new(h.engine.clone(), kefu_engine::handlers::Handlers::new(None), policy);
    let missing = Job::Inbound {
        message: MessageId(424_242),
        conversation: ConversationId(424_242),
        new_conversation: true,
        passive: false,
    };
    let id =
        h.store.enqueue_jobs(&[NewJob { job: missing, run_at: h.clock.now() }], h.clock.now()).await.unwrap();
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    let pending = h.store.jobs("pending", 10).await.unwrap();
    assert_eq!((pending[0].id, pending[0].attempts), (id[0], 1));
    assert!(pending[0].last_error.is_some(), "the reason is kept while it backs off");
    assert_eq!(pending[0].run_at, h.clock.now().plus(Duration::from_secs(10)));
    assert_eq!(runner.run_pending().await.unwrap(), 0, "not before its time");
    h.clock.advance(Duration::from_secs(10));
    assert_eq!(runner.run_pending().await.unwrap(), 1);
    let failed = h.store.jobs("failed", 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].last_error.as_deref().unwrap().starts_with("after 2 attempts"), "{:?}", failed[0]);
    h.store.retry_job(id[0], h.clock.now()).await.unwrap();
    assert_eq!(runner.run_pending().await.unwrap(), 1, "an admin's retry runs it again");
}
