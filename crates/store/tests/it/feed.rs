//! The change feed, data-API reads, dashboard facts, API keys and the webhook outbox.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

fn kinds(changes: &[Change]) -> Vec<&str> {
    changes.iter().map(|c| c.kind.as_str()).collect()
}

async fn agent_says(s: &SqlStore, conv: ConversationId, agent: AgentId, text: &str, at: Timestamp) {
    let new = NewOutbound {
        conversation_id: conv,
        sender: Sender::Agent { id: agent },
        content: Content::text(text),
        dedupe_key: None,
        created_at: at,
    };
    s.enqueue_outbound(new).await.unwrap();
}

contract!(the_feed_records_every_step_of_a_conversation_in_commit_order, |s| {
    let ch = webchat(s, "web").await;
    let a = agent(s, "li").await;
    let first = accept(s, inbound(&ch, "v1", Some("k1"), "你好")).await;
    let conv = first.conversation.id;
    s.apply_event(conv, ConversationEvent::Assign { agent: a.id }, Timestamp(T0.0 + 1_000)).await?;
    agent_says(s, conv, a.id, "您好", Timestamp(T0.0 + 2_000)).await;
    s.apply_event(conv, ConversationEvent::Close { reason: CloseReason::Agent }, Timestamp(T0.0 + 3_000))
        .await?;

    let all = s.changes_after(0, 100).await?;
    assert_eq!(
        kinds(&all),
        [
            "customer.created",
            "conversation.created",
            "conversation.queued",
            "message.created",
            "conversation.assigned",
            "message.created",
            "conversation.closed"
        ]
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all[3].message_id, Some(first.message.id));
    assert_eq!((all[4].agent_id, all[4].at), (Some(a.id), Timestamp(T0.0 + 1_000)));
    assert!(all.iter().skip(1).all(|c| c.conversation_id == Some(conv)));
    assert_eq!(s.changes_after(all[4].seq, 100).await?, all[5..].to_vec());
    assert_eq!(s.last_change_seq().await?, all[6].seq);

    let facts = s.conversation_facts(T0, Timestamp(T0.0 + 86_400_000)).await?;
    let f = &facts[0];
    assert_eq!(
        (f.handed_off_at, f.queued_at, f.assigned_at, f.first_agent_reply_at, f.closed_at),
        (Some(T0.0), Some(T0.0), Some(T0.0 + 1_000), Some(T0.0 + 2_000), Some(T0.0 + 3_000))
    );
    assert!(!f.left_message);
    assert!(s.conversation_facts(Timestamp(T0.0 + 1), Timestamp(T0.0 + 10)).await?.is_empty());
    Ok(())
});

contract!(a_feed_consumer_that_restarts_under_concurrent_writes_sees_every_change_once, |s| {
    let ch = webchat(s, "web").await;
    let finished = AtomicBool::new(false);
    // Four writers and one consumer run at once; each holds its own database connection.
    let writers = async {
        let one = |w: usize| {
            let ch = ch.clone();
            async move {
                let mut ids = vec![];
                for i in 0..25 {
                    let key = format!("w{w}-{i}");
                    ids.push(
                        accept(s, inbound(&ch, &format!("visitor-{w}"), Some(&key), &key)).await.message.id,
                    );
                }
                ids
            }
        };
        let ids = futures::future::join_all((0..4).map(one)).await;
        finished.store(true, Ordering::SeqCst);
        ids.into_iter().flatten().collect::<BTreeSet<_>>()
    };
    let consumer = async {
        let mut seen: BTreeMap<i64, Change> = BTreeMap::new();
        let (mut cursor, mut checkpoint, mut polls) = (0i64, 0i64, 0u32);
        loop {
            let done = finished.load(Ordering::SeqCst);
            let batch = s.changes_after(cursor, 7).await.unwrap();
            assert!(batch.windows(2).all(|w| w[0].seq < w[1].seq) && batch.iter().all(|c| c.seq > cursor));
            for c in &batch {
                if let Some(old) = seen.insert(c.seq, c.clone()) {
                    assert_eq!(old, *c, "a re-read change is the same change");
                }
            }
            cursor = batch.last().map_or(cursor, |c| c.seq);
            polls += 1;
            // Every few polls the consumer "crashes" and resumes from its last saved checkpoint.
            if polls % 5 == 0 {
                cursor = checkpoint;
            } else if polls % 3 == 0 {
                checkpoint = cursor;
            }
            if done && batch.is_empty() && polls % 5 != 0 {
                return seen;
            }
            tokio::task::yield_now().await;
        }
    };
    let (written, seen) = tokio::join!(writers, consumer);
    let delivered: Vec<MessageId> = seen.values().filter_map(|c| c.message_id).collect();
    assert_eq!(delivered.len(), 100, "one change per message, after deduplication by seq");
    assert_eq!(delivered.iter().copied().collect::<BTreeSet<_>>(), written, "no message missing");
    assert_eq!(seen.len(), s.changes_after(0, 1000).await?.len(), "nothing committed was skipped");
    Ok(())
});

contract!(data_api_filters_and_conversation_tags_work_on_both_backends, |s| {
    let (web, other) = (webchat(s, "web").await, webchat(s, "other").await);
    let a = accept(s, inbound(&web, "v1", Some("a"), "一")).await;
    let b = accept(s, inbound(&other, "v2", Some("b"), "二")).await;
    let f = DataConversationFilter { channel: Some(other.id), limit: 10, ..Default::default() };
    assert_eq!(s.find_conversations(&f).await?.iter().map(|c| c.id).collect::<Vec<_>>(), [b.conversation.id]);
    let f = DataConversationFilter { after: Some(a.conversation.id), limit: 10, ..Default::default() };
    assert_eq!(s.find_conversations(&f).await?.len(), 1);
    let f =
        DataConversationFilter { state: Some(ConversationState::Closed), limit: 10, ..Default::default() };
    assert!(s.find_conversations(&f).await?.is_empty());
    let m = MessageFilter { customer: Some(a.customer.id), limit: 10, ..Default::default() };
    assert_eq!(s.find_messages(&m).await?.iter().map(|m| m.id).collect::<Vec<_>>(), [a.message.id]);
    let later = MessageFilter { created_from: Some(Timestamp(T0.0 + 1)), limit: 10, ..Default::default() };
    assert!(s.find_messages(&later).await?.is_empty());
    assert_eq!(s.customers_after(a.customer.id.0, 10).await?.len(), 1);

    s.set_conversation_tags(a.conversation.id, &["成交".into(), "复购".into()], T0).await?;
    assert_eq!(s.conversation_tags(a.conversation.id).await?, ["复购", "成交"]);
    let facts = s.conversation_facts(T0, Timestamp(T0.0 + 1)).await?;
    assert_eq!(facts[0].tags, ["复购", "成交"]);
    assert!(facts[1].tags.is_empty());
    Ok(())
});

contract!(api_keys_are_found_by_prefix_and_can_be_revoked, |s| {
    let by = agent(s, "admin").await.id;
    let scopes = vec!["conversations:read".to_owned(), "changes:read".to_owned()];
    let new = NewApiKey { name: "CRM", prefix: "kf_abc", secret_hash: "h", scopes: &scopes, by };
    let k = s.create_api_key(new, T0).await?;
    let (found, hash) = s.api_key("kf_abc").await?.expect("found by prefix");
    assert_eq!((found.id, found.scopes.clone(), hash.as_str()), (k.id, scopes, "h"));
    assert!(s.api_key("kf_nope").await?.is_none());
    s.touch_api_key(k.id, Timestamp(T0.0 + 5)).await?;
    s.revoke_api_key(k.id, Timestamp(T0.0 + 9)).await?;
    let listed = &s.api_keys().await?[0];
    assert_eq!(
        (listed.last_used_at, listed.revoked_at),
        (Some(Timestamp(T0.0 + 5)), Some(Timestamp(T0.0 + 9)))
    );
    Ok(())
});

contract!(webhook_deliveries_are_enqueued_once_retried_and_logged, |s| {
    let ch = webchat(s, "web").await;
    accept(s, inbound(&ch, "v1", Some("before"), "早")).await;
    let events = vec!["message.created".to_owned()];
    let hook = s.create_webhook("http://crm.local/hook", "whsec_x", &events, T0).await?;
    assert_eq!(hook.cursor, s.last_change_seq().await?, "a new endpoint starts at the end of the feed");
    assert_eq!(s.webhook_secret(hook.id).await?, "whsec_x");
    let d = NewDelivery { change_seq: hook.cursor + 1, kind: "message.created".into(), payload: "{}".into() };
    assert!(s.enqueue_deliveries(hook.id, hook.cursor, hook.cursor + 2, std::slice::from_ref(&d), T0).await?);
    assert!(
        !s.enqueue_deliveries(hook.id, hook.cursor, hook.cursor + 2, &[d], T0).await?,
        "a stale cursor (another node got there first) writes nothing"
    );
    let lease = Timestamp(T0.0 + 30_000);
    let claimed = s.claim_deliveries(T0, lease, 10).await?;
    assert_eq!((claimed.len(), claimed[0].attempts), (1, 1));
    assert!(s.claim_deliveries(T0, lease, 10).await?.is_empty(), "leased");
    let retry =
        DeliveryOutcome::Retry { status: Some(500), error: "HTTP 500".into(), at: Timestamp(T0.0 + 5_000) };
    s.finish_delivery(claimed[0].id, &retry, T0).await?;
    assert!(s.claim_deliveries(Timestamp(T0.0 + 4_999), lease, 10).await?.is_empty(), "backing off");
    let again = s.claim_deliveries(Timestamp(T0.0 + 5_000), lease, 10).await?;
    assert_eq!(again[0].attempts, 2);
    s.finish_delivery(again[0].id, &DeliveryOutcome::Delivered { status: 204 }, Timestamp(T0.0 + 5_001))
        .await?;
    let log = s.deliveries(hook.id, 10).await?;
    assert_eq!(
        (&log[0].state, log[0].last_status, log[0].delivered_at),
        (&DeliveryState::Delivered, Some(204), Some(Timestamp(T0.0 + 5_001)))
    );
    assert!(s.redeliver(log[0].id, T0).await.is_err(), "only failed deliveries are sent again");
    Ok(())
});
