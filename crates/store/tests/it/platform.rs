//! Tokens, cursors and media: the state every node must agree on.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

fn at(ms: i64) -> Timestamp {
    Timestamp(T0.0 + ms)
}

contract!(only_one_holder_may_refresh_a_token_until_it_saves_or_the_lease_runs_out, |s| {
    assert_eq!(s.token("wx:app").await?, None);
    let first = s.lease_token("wx:app", T0, at(10_000)).await?;
    assert_eq!(first, Some((String::new(), Timestamp(0))));
    assert_eq!(s.lease_token("wx:app", at(1), at(10_001)).await?, None, "a second node must wait");
    s.save_token("wx:app", "TOKEN-1", at(7_200_000), at(2)).await?;
    assert_eq!(s.token("wx:app").await?, Some(("TOKEN-1".into(), at(7_200_000))));
    let again = s.lease_token("wx:app", at(3), at(10_003)).await?;
    assert_eq!(again, Some(("TOKEN-1".into(), at(7_200_000))));
    assert_eq!(s.lease_token("wx:app", at(4), at(10_004)).await?, None);
    assert!(
        s.lease_token("wx:app", at(10_003), at(20_000)).await?.is_some(),
        "an expired lease is taken over"
    );
    s.release_token("wx:app").await?;
    assert!(s.lease_token("wx:app", at(10_004), at(20_000)).await?.is_some());
    Ok(())
});

contract!(concurrent_lease_attempts_on_a_token_grant_exactly_one, |s| {
    let s = std::sync::Arc::new(s);
    let results = futures::future::join_all((0..8).map(|_| {
        let s = s.clone();
        async move { s.lease_token("wx:race", T0, at(10_000)).await.unwrap() }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_some()).count(), 1);
    Ok(())
});

contract!(a_pull_cursor_is_leased_saved_and_resumed, |s| {
    let ch = webchat(s, "kf").await;
    assert_eq!(s.lease_cursor(ch.id, "wk1", T0, at(30_000)).await?, Some(String::new()));
    assert_eq!(s.lease_cursor(ch.id, "wk1", at(1), at(30_001)).await?, None);
    assert_eq!(
        s.lease_cursor(ch.id, "wk2", at(1), at(30_001)).await?,
        Some(String::new()),
        "cursors are per name"
    );
    s.save_cursor(ch.id, "wk1", "CURSOR-9", at(2)).await?;
    s.release_cursor(ch.id, "wk1").await?;
    assert_eq!(s.lease_cursor(ch.id, "wk1", at(3), at(30_003)).await?, Some("CURSOR-9".into()));
    Ok(())
});

contract!(media_is_stored_with_its_hash_and_read_back_byte_for_byte, |s| {
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let info = s
        .put_media(NewMedia { mime: "image/png".into(), filename: "图.png".into(), data: data.clone() }, T0)
        .await?;
    assert_eq!(info.id.len(), 32);
    assert_eq!(info.size, 70_000);
    let (back, bytes) = s.media(&info.id).await?;
    assert_eq!((back, bytes), (info.clone(), data));
    assert!(matches!(s.media("0000").await, Err(StoreError::NotFound)));
    assert_eq!(info.url(), format!("/media/{}", info.id));
    Ok(())
});

contract!(a_recorded_passive_reply_is_sent_without_an_outbox_job_and_counts_toward_the_cap, |s| {
    let ch = webchat(s, "site").await;
    let conv = accept(s, inbound(&ch, "o1", Some("m1"), "在吗")).await.conversation.id;
    let new = NewOutbound {
        conversation_id: conv,
        sender: Sender::Bot,
        content: Content::text("欢迎"),
        dedupe_key: Some("passive:1".into()),
        created_at: at(10),
    };
    let (m, created) = s.record_sent(new.clone()).await?;
    assert!(created);
    assert_eq!(m.status, DeliveryStatus::Sent);
    assert_eq!(s.record_sent(new).await?.0.id, m.id);
    assert!(s.claim_due(at(100), at(200), 10, "w1").await?.is_empty());
    assert_eq!(s.outbound_since(conv, at(0)).await?, 0, "passive replies do not use the send quota");
    reply(s, conv, "第二条", None).await;
    assert_eq!(s.outbound_since(conv, T0).await?, 1);
    assert_eq!(s.outbound_since(conv, at(1)).await?, 0);
    assert_eq!(s.message_by_key(ch.id, "passive:1").await?.map(|m| m.id), Some(m.id));
    Ok(())
});

contract!(a_later_profile_fills_in_a_missing_union_id, |s| {
    let ch = webchat(s, "oa").await;
    let a = accept(s, inbound(&ch, "openid-1", Some("m1"), "hi")).await;
    let p = Profile { union_id: Some("UNION".into()), ..Default::default() };
    assert_eq!(s.update_profile(a.identity.id, &p).await?.union_id.as_deref(), Some("UNION"));
    let other = Profile { union_id: Some("OTHER".into()), nickname: Some("小明".into()), phone: None };
    let id = s.update_profile(a.identity.id, &other).await?;
    assert_eq!((id.union_id.as_deref(), id.nickname.as_deref()), (Some("UNION"), Some("小明")));
    Ok(())
});

contract!(a_platform_session_is_replaced_by_a_later_one_but_not_an_older_redelivery, |s| {
    let ch = webchat(s, "dt").await;
    assert_eq!(s.platform_session(ch.id, "staff1").await?, None);
    s.put_platform_session(ch.id, "staff1", r#"{"webhook":"a"}"#, at(5_000), T0).await?;
    s.put_platform_session(ch.id, "staff1", r#"{"webhook":"b"}"#, at(9_000), at(1)).await?;
    s.put_platform_session(ch.id, "staff1", r#"{"webhook":"old"}"#, at(4_000), at(2)).await?;
    assert_eq!(
        s.platform_session(ch.id, "staff1").await?,
        Some((r#"{"webhook":"b"}"#.to_owned(), at(9_000)))
    );
    assert_eq!(s.platform_session(ch.id, "staff2").await?, None);
    Ok(())
});
