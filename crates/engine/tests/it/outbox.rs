//! The outbox worker: sends, retries with backoff on the injected clock, and gives up visibly.

use std::time::Duration;

use crate::helpers::*;
use kefu_channels::{SendError, Sent};
use kefu_domain::*;
use kefu_store::*;

#[tokio::test]
async fn an_agent_reply_is_delivered_through_its_channel_and_marked_sent() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    let msg =
        h.engine.reply(&alice, conv, Content::text("您好，请问有什么可以帮您？😊"), None).await.unwrap();
    assert_eq!(msg.status, DeliveryStatus::Pending);
    h.sender.then(Ok(Sent { platform_msg_id: Some("p-9".into()), status: DeliveryStatus::Sent }));
    assert_eq!(h.worker.run_once().await.unwrap(), 1);
    assert_eq!(h.sender.texts(), vec!["您好，请问有什么可以帮您？😊"]);
    let stored = h.store.message(msg.id).await.unwrap();
    assert_eq!((stored.status, stored.platform_msg_id.as_deref()), (DeliveryStatus::Sent, Some("p-9")));
    assert_eq!(h.worker.run_once().await.unwrap(), 0, "nothing is sent twice");
}

#[tokio::test]
async fn a_failed_send_is_retried_after_the_backoff_and_then_succeeds() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    let msg = h.engine.reply(&alice, conv, Content::text("稍等"), None).await.unwrap();
    h.sender.then(Err(SendError::retryable("HTTP 500")));
    h.worker.run_once().await.unwrap();
    let pending = h.store.message(msg.id).await.unwrap();
    assert_eq!((pending.status, pending.error.as_deref()), (DeliveryStatus::Pending, Some("HTTP 500")));
    h.clock.advance(Duration::from_millis(1_999));
    assert_eq!(h.worker.run_once().await.unwrap(), 0, "not due before the backoff");
    h.clock.advance(Duration::from_millis(1));
    assert_eq!(h.worker.run_once().await.unwrap(), 1);
    let sent = h.store.message(msg.id).await.unwrap();
    assert_eq!((sent.status, sent.error), (DeliveryStatus::Sent, None));
    assert_eq!(h.sender.texts(), vec!["稍等", "稍等"]);
}

#[tokio::test]
async fn a_platform_asked_delay_is_honoured() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    h.engine.reply(&alice, conv, Content::text("稍等"), None).await.unwrap();
    h.sender.then(Err(SendError::Retryable {
        reason: "45009 quota".into(),
        retry_after: Some(Duration::from_secs(30)),
    }));
    h.worker.run_once().await.unwrap();
    h.clock.advance(Duration::from_secs(29));
    assert_eq!(h.worker.run_once().await.unwrap(), 0);
    h.clock.advance(Duration::from_secs(1));
    assert_eq!(h.worker.run_once().await.unwrap(), 1);
}

#[tokio::test]
async fn a_permanent_failure_marks_the_message_failed_with_the_reason() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    let msg = h.engine.reply(&alice, conv, Content::text("在吗"), None).await.unwrap();
    h.sender.then(Err(SendError::permanent("超过48小时回复窗口")));
    h.worker.run_once().await.unwrap();
    let failed = h.store.message(msg.id).await.unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (DeliveryStatus::Failed, Some("超过48小时回复窗口"))
    );
}

#[tokio::test]
async fn retries_stop_after_the_last_attempt() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    let msg = h.engine.reply(&alice, conv, Content::text("在吗"), None).await.unwrap();
    for _ in 0..3 {
        h.sender.then(Err(SendError::retryable("timeout")));
        h.worker.run_once().await.unwrap();
        h.clock.advance(Duration::from_secs(60));
    }
    let failed = h.store.message(msg.id).await.unwrap();
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("gave up after 3 attempts: timeout"));
    assert_eq!(h.sender.texts().len(), 3);
}
