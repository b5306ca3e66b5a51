//! Inbound messages: first contact, dedupe of platform retries, and concurrency.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

contract!(first_contact_creates_a_customer_an_identity_and_an_open_conversation, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "visitor-abcd", Some("m1"), "你好 😊 <b>x</b>")).await;
    assert!(a.new_conversation);
    assert_eq!(a.identity.external_id, "visitor-abcd");
    assert_eq!(a.customer.display_name, format!("访客 {}", a.customer.id.0));
    assert_eq!(a.conversation.state(), ConversationState::Queued);
    assert_eq!(a.message.content, Content::text("你好 😊 <b>x</b>"));
    assert_eq!(a.message.status, DeliveryStatus::Received);
    let stored = s.messages(a.conversation.id, MessagePage { before: None, limit: 10 }).await?;
    assert_eq!(stored, vec![a.message.clone()]);
    Ok(())
});

contract!(a_nickname_learnt_later_replaces_the_visitor_placeholder_once, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "o_user_xiaoming", Some("m1"), "你好")).await;
    assert!(!a.customer.display_name.contains("ming"), "{}", a.customer.display_name);
    let nick = |n: &str| Profile { nickname: Some(n.into()), union_id: None, phone: None };
    s.update_profile(a.identity.id, &nick("王小明")).await?;
    assert_eq!(s.customer(a.customer.id).await?.display_name, "王小明");
    // A second identity's nickname never renames a customer who already has a real name.
    s.update_profile(a.identity.id, &nick("别名")).await?;
    assert_eq!(s.customer(a.customer.id).await?.display_name, "王小明");
    Ok(())
});

contract!(a_second_message_joins_the_open_conversation, |s| {
    let ch = webchat(s, "site").await;
    let first = accept(s, inbound(&ch, "v1", Some("m1"), "一")).await;
    let second = accept(s, inbound(&ch, "v1", Some("m2"), "二")).await;
    assert!(!second.new_conversation);
    assert_eq!(second.conversation.id, first.conversation.id);
    assert_eq!(second.customer.id, first.customer.id);
    Ok(())
});

contract!(a_retried_delivery_is_a_no_op, |s| {
    let ch = webchat(s, "site").await;
    let first = accept(s, inbound(&ch, "v1", Some("msg-42"), "一")).await;
    match s.ingest(inbound(&ch, "v1", Some("msg-42"), "一")).await? {
        IngestOutcome::Duplicate(m) => assert_eq!(m.id, first.message.id),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    let all = s.messages(first.conversation.id, MessagePage { before: None, limit: 10 }).await?;
    assert_eq!(all.len(), 1);
    Ok(())
});

contract!(the_same_platform_id_on_another_channel_is_a_different_message, |s| {
    let a = webchat(s, "a").await;
    let b = webchat(s, "b").await;
    accept(s, inbound(&a, "v1", Some("m1"), "一")).await;
    accept(s, inbound(&b, "v1", Some("m1"), "一")).await;
    Ok(())
});

contract!(concurrent_deliveries_of_one_message_store_it_once, |s| {
    let ch = webchat(s, "site").await;
    let s = std::sync::Arc::new(s);
    let results = futures::future::join_all((0..8).map(|_| {
        let inb = inbound(&ch, "v1", Some("same"), "重复投递");
        let s = s.clone();
        async move { s.ingest(inb).await }
    }))
    .await;
    let accepted = results.iter().filter(|r| matches!(r, Ok(IngestOutcome::Accepted(_)))).count();
    let duplicates = results.iter().filter(|r| matches!(r, Ok(IngestOutcome::Duplicate(_)))).count();
    assert_eq!((accepted, duplicates), (1, 7), "{results:?}");
    Ok(())
});

contract!(concurrent_first_messages_from_one_person_open_one_conversation, |s| {
    let ch = webchat(s, "site").await;
    let s = std::sync::Arc::new(s);
    let results = futures::future::join_all((0..6).map(|i| {
        let inb = inbound(&ch, "newcomer", Some(&format!("m{i}")), "在吗");
        let s = s.clone();
        async move { s.ingest(inb).await }
    }))
    .await;
    let convs: std::collections::HashSet<_> = results
        .into_iter()
        .map(|r| match r.unwrap() {
            IngestOutcome::Accepted(a) => a.conversation.id,
            IngestOutcome::Duplicate(m) => panic!("duplicate {m:?}"),
        })
        .collect();
    assert_eq!(convs.len(), 1);
    Ok(())
});

contract!(profile_fields_are_filled_in_but_never_overwritten, |s| {
    let ch = webchat(s, "site").await;
    let mut first = inbound(&ch, "v1", Some("m1"), "一");
    first.profile.union_id = Some("union-1".into());
    accept(s, first).await;
    let mut second = inbound(&ch, "v1", Some("m2"), "二");
    second.profile =
        Profile { nickname: Some("小王".into()), union_id: Some("union-2".into()), phone: None };
    let a = accept(s, second).await;
    assert_eq!(a.identity.union_id.as_deref(), Some("union-1"));
    assert_eq!(a.identity.nickname.as_deref(), Some("小王"));
    Ok(())
});

contract!(a_returning_visitor_sees_the_history_of_all_their_conversations, |s| {
    let ch = webchat(s, "site").await;
    let first = accept(s, inbound(&ch, "v1", Some("m1"), "第一次")).await;
    reply(s, first.conversation.id, "回复一", None).await;
    s.apply_event(first.conversation.id, ConversationEvent::Close { reason: CloseReason::Agent }, T0).await?;
    accept(s, inbound(&ch, "v1", Some("m2"), "第二次")).await;
    accept(s, inbound(&ch, "v2", Some("m3"), "别人的")).await;
    let texts: Vec<_> =
        s.identity_messages(ch.id, "v1", 10).await?.iter().filter_map(|m| m.content.plain_text()).collect();
    assert_eq!(texts, vec!["第一次", "回复一", "第二次"]);
    let last_two: Vec<_> =
        s.identity_messages(ch.id, "v1", 2).await?.iter().filter_map(|m| m.content.plain_text()).collect();
    assert_eq!(last_two, vec!["回复一", "第二次"]);
    Ok(())
});
