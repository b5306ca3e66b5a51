//! Conversation actions through the engine: who may reply and close, events, visitor receipts.

use futures::StreamExt;

use crate::helpers::*;
use kefu_domain::*;
use kefu_engine::*;
use kefu_store::*;

#[tokio::test]
async fn replying_to_a_queued_conversation_claims_it() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    h.engine.reply(&alice, conv, Content::text("您好"), Some("k1".into())).await.unwrap();
    let c = h.store.conversation(conv).await.unwrap();
    assert_eq!((c.state(), c.status.agent), (ConversationState::Assigned, Some(alice.id)));
}

#[tokio::test]
async fn an_agent_cannot_reply_to_or_close_a_colleagues_conversation_but_a_supervisor_can() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    let bob = h.agent("bob", Role::Agent).await;
    let boss = h.agent("boss", Role::Supervisor).await;
    h.engine.claim(&alice, conv).await.unwrap();
    let err = h.engine.reply(&bob, conv, Content::text("我来"), None).await.unwrap_err();
    assert!(matches!(err, EngineError::Forbidden(_)), "{err:?}");
    assert!(matches!(h.engine.close(&bob, conv).await, Err(EngineError::Forbidden(_))));
    h.engine.reply(&boss, conv, Content::text("主管插话"), None).await.unwrap();
    let closed = h.engine.close(&boss, conv).await.unwrap();
    assert_eq!(closed.state(), ConversationState::Closed);
    let err = h.engine.reply(&alice, conv, Content::text("还在吗"), None).await.unwrap_err();
    assert!(matches!(err, EngineError::Invalid(_)), "{err:?}");
}

#[tokio::test]
async fn a_resubmitted_reply_is_stored_and_sent_once() {
    let h = harness().await;
    let conv = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    let alice = h.agent("alice", Role::Agent).await;
    let a = h.engine.reply(&alice, conv, Content::text("您好"), Some("click-1".into())).await.unwrap();
    let b = h.engine.reply(&alice, conv, Content::text("您好"), Some("click-1".into())).await.unwrap();
    assert_eq!(a.id, b.id);
    h.worker.run_once().await.unwrap();
    assert_eq!(h.sender.texts(), vec!["您好"]);
}

#[tokio::test]
async fn receiving_publishes_the_new_conversation_and_message_to_subscribers() {
    let h = harness().await;
    let mut sub = h.engine.bus().subscribe("conv.>").await.unwrap();
    let a = h.customer_says("visitor-0000000001", "m1", "<script>alert(1)</script>").await;
    let mut kinds = vec![];
    for _ in 0..2 {
        match sub.next().await.unwrap() {
            BusItem::Event(subject, e) => {
                assert_eq!(subject, Subject::conversation(a.conversation.id));
                kinds.push(match &e.event {
                    Event::ConversationUpdated { .. } => "conversation",
                    Event::MessageCreated { message, .. } => {
                        assert_eq!(message.content, Content::text("<script>alert(1)</script>"));
                        "message"
                    }
                    other => panic!("unexpected {other:?}"),
                });
            }
            BusItem::Lagged => panic!("lagged"),
        }
    }
    assert_eq!(kinds, vec!["conversation", "message"]);
}

#[tokio::test]
async fn a_visitor_can_confirm_only_messages_of_their_own_conversation() {
    let h = harness().await;
    let mine = h.customer_says("visitor-0000000001", "m1", "你好").await.conversation.id;
    h.customer_says("visitor-0000000002", "m2", "我是别人").await;
    let alice = h.agent("alice", Role::Agent).await;
    let msg = h.engine.reply(&alice, mine, Content::text("您好"), None).await.unwrap();
    h.worker.run_once().await.unwrap();
    let other = h.engine.visitor_delivered(h.channel.id, "visitor-0000000002", msg.id).await;
    assert!(matches!(other, Err(EngineError::NotFound)));
    h.engine.visitor_delivered(h.channel.id, "visitor-0000000001", msg.id).await.unwrap();
    assert_eq!(h.store.message(msg.id).await.unwrap().status, DeliveryStatus::Delivered);
}
