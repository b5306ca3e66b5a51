//! Conversation lifecycle through the store, and the workbench list filters.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

contract!(events_follow_the_state_machine_and_illegal_ones_change_nothing, |s| {
    let ch = webchat(s, "site").await;
    let alice = agent(s, "alice").await;
    let a = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await;
    let id = a.conversation.id;
    let c = s.apply_event(id, ConversationEvent::Assign { agent: alice.id }, T0).await?;
    assert_eq!((c.state(), c.status.agent), (ConversationState::Assigned, Some(alice.id)));
    let err = s.apply_event(id, ConversationEvent::HandOff { group: None }, T0).await.unwrap_err();
    assert!(matches!(err, StoreError::Illegal(_)), "{err:?}");
    assert_eq!(s.conversation(id).await?.state(), ConversationState::Assigned);
    let later = Timestamp(T0.0 + 60_000);
    let c = s.apply_event(id, ConversationEvent::Close { reason: CloseReason::Agent }, later).await?;
    assert_eq!(c.closed_at, Some(later));
    let reread = s.conversation(id).await?;
    assert_eq!(reread, c);
    Ok(())
});

contract!(a_customer_writing_after_closing_gets_a_new_conversation, |s| {
    let ch = webchat(s, "site").await;
    let first = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await;
    s.apply_event(first.conversation.id, ConversationEvent::Close { reason: CloseReason::Agent }, T0).await?;
    assert!(s.open_conversation_of(ch.id, "v1").await?.is_none());
    let again = accept(s, inbound(&ch, "v1", Some("m2"), "又来了")).await;
    assert!(again.new_conversation);
    assert_ne!(again.conversation.id, first.conversation.id);
    assert_eq!(again.customer.id, first.customer.id);
    Ok(())
});

contract!(the_list_shows_an_agent_their_own_and_unassigned_conversations, |s| {
    let ch = webchat(s, "site").await;
    let alice = agent(s, "alice").await;
    let bob = agent(s, "bob").await;
    let c1 = accept(s, inbound(&ch, "v1", Some("m1"), "给 alice")).await.conversation.id;
    let c2 = accept(s, inbound(&ch, "v2", Some("m2"), "给 bob")).await.conversation.id;
    let c3 = accept(s, inbound(&ch, "v3", Some("m3"), "排队中")).await.conversation.id;
    s.apply_event(c1, ConversationEvent::Assign { agent: alice.id }, T0).await?;
    s.apply_event(c2, ConversationEvent::Assign { agent: bob.id }, T0).await?;
    let filter = ConversationFilter { agent: Some(alice.id), include_unassigned: true, ..Default::default() };
    let mut ids: Vec<_> = s.conversations(&filter).await?.iter().map(|c| c.conversation.id).collect();
    ids.sort();
    assert_eq!(ids, vec![c1, c3]);
    let queued = ConversationFilter { states: vec![ConversationState::Queued], ..Default::default() };
    let listed = s.conversations(&queued).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_message.as_deref(), Some("排队中"));
    assert_eq!(listed[0].channel_kind, ChannelKind::Webchat);
    Ok(())
});

contract!(channel_secrets_round_trip_through_encryption, |s| {
    let ch = webchat(s, "site").await;
    let again = s.channel_by_key("site").await?;
    assert_eq!(again.secret("token"), Some("s3cret"));
    assert_eq!(again, ch);
    assert!(matches!(s.channel_by_key("nope").await, Err(StoreError::NotFound)));
    let dup = s
        .create_channel(
            NewChannel {
                kind: ChannelKind::Webchat,
                key: "site".into(),
                name: "x".into(),
                settings: serde_json::json!({}),
                secrets: serde_json::json!({}),
            },
            T0,
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let mut changed = again.clone();
    changed.name = "新名字".into();
    changed.enabled = false;
    changed.secrets = serde_json::json!({"token": "rotated"});
    let updated = s.update_channel(&changed).await?;
    assert_eq!(
        (updated.name.as_str(), updated.enabled, updated.secret("token")),
        ("新名字", false, Some("rotated"))
    );
    Ok(())
});
