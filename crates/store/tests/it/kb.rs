//! The knowledge base, mined candidates, the bot's memory and internal notes.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

fn faq(id: &str, q: &str) -> FaqEntry {
    FaqEntry {
        id: id.into(),
        question: q.into(),
        similar: vec![format!("{q}？"), "另一种问法".into()],
        answer: "答案 😀".into(),
        group: Some("售后组".into()),
        enabled: true,
        channel_answers: [(ChannelKind::Dingtalk, "钉钉答案".to_owned())].into_iter().collect(),
    }
}

contract!(faq_entries_are_upserted_listed_deleted_and_each_change_bumps_the_version, |s| {
    let v0 = s.kb_version().await?;
    let saved = s.put_faqs(vec![faq("B1", "怎么退货"), faq("", "发票怎么开")], T0).await?;
    assert!(saved[1].id.starts_with('K'), "a new id is assigned: {}", saved[1].id);
    let v1 = s.kb_version().await?;
    assert!(v1 > v0);
    assert_eq!(s.faq_entry("B1").await?, faq("B1", "怎么退货"));
    let mut changed = faq("B1", "怎么退货");
    changed.enabled = false;
    s.put_faqs(vec![changed.clone()], T0).await?;
    assert_eq!(s.faq_entry("B1").await?, changed);
    assert_eq!(s.faq_entries().await?.len(), 2);
    s.delete_faq("B1").await?;
    assert!(matches!(s.delete_faq("B1").await, Err(StoreError::NotFound)));
    assert!(s.kb_version().await? > v1);
    assert_eq!(s.faq_entries().await?.len(), 1);
    Ok(())
});

contract!(mined_candidates_wait_for_a_decision, |s| {
    let new = NewCandidate {
        question: "宽带断网了".into(),
        similar: vec!["网断了".into()],
        answer: "请重启光猫".into(),
        support: 4,
        conversations: vec!["c1".into(), "c2".into()],
    };
    assert_eq!(s.add_candidates(vec![new], T0).await?, 1);
    let pending = s.candidates("pending").await?;
    assert_eq!((pending.len(), pending[0].support), (1, 4));
    s.decide_candidate(pending[0].id, "accepted", T0).await?;
    assert!(s.candidates("pending").await?.is_empty());
    assert_eq!(s.candidate(pending[0].id).await?.status, "accepted");
    Ok(())
});

contract!(the_bot_remembers_per_conversation_and_notes_stay_internal, |s| {
    let ch = webchat(s, "site").await;
    let a = accept(s, inbound(&ch, "v1", Some("m1"), "你好")).await;
    assert_eq!(s.bot_state(a.conversation.id).await?, None);
    s.set_bot_state(a.conversation.id, r#"{"misses":1}"#).await?;
    assert_eq!(s.bot_state(a.conversation.id).await?.as_deref(), Some(r#"{"misses":1}"#));
    let note = s.record_note(a.conversation.id, Sender::System, "机器人转人工：客户要求人工", T0).await?;
    assert_eq!(note.direction, Direction::Internal);
    let all = s.messages(a.conversation.id, MessagePage { before: None, limit: 10 }).await?;
    assert_eq!(all.len(), 2);
    let visible = s.identity_messages(ch.id, "v1", 10).await?;
    assert_eq!(visible.len(), 1, "the visitor never sees internal notes");
    Ok(())
});
