//! OneID storage: matches by UnionID and phone, merges that lose nothing, unmerges that restore
//! the split exactly, and the customer 360 reads.

use std::collections::BTreeSet;

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

async fn says(s: &SqlStore, ch: &Channel, who: &str, key: &str) -> Accepted {
    accept(s, inbound(ch, who, Some(key), key)).await
}

async fn all_messages(s: &SqlStore, c: CustomerId) -> BTreeSet<MessageId> {
    let page = MessagePage { before: None, limit: 200 };
    s.customer_messages(c, page).await.unwrap().into_iter().map(|m| m.id).collect()
}

async fn profile(s: &SqlStore, a: &Accepted, union_id: Option<&str>, phone: Option<&str>) {
    let p = Profile { nickname: None, union_id: union_id.map(Into::into), phone: phone.map(Into::into) };
    s.update_profile(a.identity.id, &p).await.unwrap();
}

contract!(customers_sharing_a_union_id_or_phone_are_found_unless_separated, |s| {
    let (wx, dt) = (webchat(s, "wx").await, webchat(s, "dt").await);
    let a = says(s, &wx, "o_a", "a1").await;
    let b = says(s, &dt, "dt_b", "b1").await;
    let c = says(s, &wx, "o_c", "c1").await;
    profile(s, &a, Some("u1"), Some("13800000001")).await;
    profile(s, &b, None, Some("13800000001")).await;
    profile(s, &c, Some("u1"), None).await;
    let found = s.oneid_matches(a.customer.id).await?;
    assert_eq!(
        found,
        vec![(b.customer.id, "phone:13800000001".into()), (c.customer.id, "unionid:u1".into())]
    );
    Ok(())
});

contract!(a_merge_loses_no_message_and_an_unmerge_restores_the_split_exactly, |s| {
    let (wx, dt) = (webchat(s, "wx").await, webchat(s, "dt").await);
    let a1 = says(s, &wx, "o_a", "a1").await;
    s.apply_event(a1.conversation.id, ConversationEvent::Close { reason: CloseReason::Agent }, T0).await?;
    says(s, &wx, "o_a", "a2").await;
    let b1 = says(s, &dt, "dt_b", "b1").await;
    let (a, b) = (a1.customer.id, b1.customer.id);
    let (before_a, before_b) = (all_messages(s, a).await, all_messages(s, b).await);

    let m = s.merge_customers(a, b, "phone:13800000001", None, T0).await?;
    assert_eq!((m.survivor, m.merged, m.identities.clone(), m.by), (a, b, vec![b1.identity.id], None));
    assert_eq!(
        all_messages(s, a).await,
        before_a.union(&before_b).copied().collect(),
        "both histories, nothing lost"
    );
    assert_eq!(s.customer_identities(a).await?.len(), 2);
    assert_eq!(s.merged_into(b).await?, Some(a));
    // Writing again after the merge lands on the survivor.
    let later = says(s, &dt, "dt_b", "b2").await;
    assert_eq!(later.conversation.customer_id, a);

    let agent = agent(s, "lead").await;
    let undone = s.unmerge(m.id, agent.id, "不是同一个人", T0).await?;
    assert_eq!((undone.undone_by, undone.undo_reason.as_deref()), (Some(agent.id), Some("不是同一个人")));
    assert_eq!(all_messages(s, a).await, before_a, "exactly the survivor's own history again");
    let mut b_now = before_b.clone();
    b_now.insert(later.message.id);
    assert_eq!(all_messages(s, b).await, b_now, "the split's history, with what it said since");
    assert_eq!(s.merged_into(b).await?, None);
    assert!(matches!(s.unmerge(m.id, agent.id, "again", T0).await, Err(StoreError::Conflict(_))));
    let (x, y) = (says(s, &wx, "o_a", "a3").await, says(s, &dt, "dt_b", "b3").await);
    profile(s, &x, None, Some("13800000001")).await;
    profile(s, &y, None, Some("13800000001")).await;
    assert!(s.oneid_matches(a).await?.is_empty(), "a separated pair is not matched again");
    assert_eq!(s.merges_of(a).await?.len(), 1);
    Ok(())
});

contract!(an_unmerge_waits_until_later_merges_of_the_same_identities_are_undone, |s| {
    let ch = webchat(s, "wx").await;
    let (a, b, c) =
        (says(s, &ch, "a", "1").await, says(s, &ch, "b", "2").await, says(s, &ch, "c", "3").await);
    let first = s.merge_customers(a.customer.id, b.customer.id, "x", None, T0).await?;
    let second = s.merge_customers(c.customer.id, a.customer.id, "y", None, T0).await?;
    let agent = agent(s, "lead").await;
    assert!(matches!(s.unmerge(first.id, agent.id, "z", T0).await, Err(StoreError::Conflict(_))));
    assert!(matches!(
        s.merge_customers(a.customer.id, c.customer.id, "w", None, T0).await,
        Err(StoreError::Conflict(_))
    ));
    s.unmerge(second.id, agent.id, "z", T0).await?;
    s.unmerge(first.id, agent.id, "z", T0).await?;
    assert_eq!(s.customer_identities(b.customer.id).await?[0].id, b.identity.id);
    Ok(())
});

contract!(tags_notes_and_search_serve_the_customer_view, |s| {
    let ch = webchat(s, "wx").await;
    let a = says(s, &ch, "o_findme", "1").await;
    profile(s, &a, None, Some("13800000077")).await;
    let agent = agent(s, "lead").await;
    let tags = s.set_tags(a.customer.id, &["VIP".into(), "已下单".into(), "VIP".into()], T0).await?;
    assert_eq!(tags, vec!["VIP".to_owned(), "已下单".to_owned()]);
    s.add_note(a.customer.id, agent.id, "偏好电话联系", T0).await?;
    assert_eq!(s.notes(a.customer.id).await?[0].text, "偏好电话联系");
    assert_eq!(
        s.search_customers("0077", None, 10).await?.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![a.customer.id]
    );
    assert_eq!(s.search_customers("findme", None, 10).await?.len(), 1);
    assert!(s.search_customers("nobody", None, 10).await?.is_empty());
    Ok(())
});

/// A small deterministic generator, so a failing sequence can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

contract!(any_sequence_of_merges_and_undos_keeps_every_history_whole, |s| {
    let (wx, dt) = (webchat(s, "wx").await, webchat(s, "dt").await);
    let mut people = vec![];
    let mut own: std::collections::BTreeMap<CustomerId, BTreeSet<MessageId>> = Default::default();
    for i in 0..8 {
        let ch = if i % 2 == 0 { &wx } else { &dt };
        let a = says(s, ch, &format!("p{i}"), &format!("p{i}-0")).await;
        for j in 1..=(i % 3) {
            says(s, ch, &format!("p{i}"), &format!("p{i}-{j}")).await;
        }
        own.insert(a.customer.id, all_messages(s, a.customer.id).await);
        people.push(a.customer.id);
    }
    let lead = agent(s, "lead").await;
    // The model: which customer each original customer's history belongs to now.
    let mut owner: std::collections::BTreeMap<CustomerId, CustomerId> =
        people.iter().map(|p| (*p, *p)).collect();
    let mut undo_stack = vec![];
    let mut rng = Lcg(20261129);
    for step in 0..40 {
        let live: Vec<CustomerId> = people.iter().copied().filter(|p| owner[p] == *p).collect();
        if live.len() > 1 && (undo_stack.is_empty() || rng.below(3) > 0) {
            let a = live[rng.below(live.len())];
            let b = live.iter().copied().filter(|x| *x != a).nth(rng.below(live.len() - 1)).unwrap();
            let m = s.merge_customers(a, b, &format!("step {step}"), None, T0).await?;
            undo_stack.push((m.id, owner.clone()));
            for o in owner.values_mut().filter(|o| **o == b) {
                *o = a;
            }
        } else if let Some((id, before)) = undo_stack.pop() {
            s.unmerge(id, lead.id, &format!("step {step}"), T0).await?;
            owner = before;
        }
        let mut seen = 0;
        for p in people.iter().filter(|p| owner[p] == **p) {
            let expected: BTreeSet<MessageId> =
                own.iter().filter(|(o, _)| owner[o] == *p).flat_map(|(_, m)| m.iter().copied()).collect();
            let actual = all_messages(s, *p).await;
            assert_eq!(actual, expected, "step {step}: customer {p}'s history");
            seen += actual.len();
        }
        assert_eq!(
            seen,
            own.values().map(BTreeSet::len).sum::<usize>(),
            "step {step}: nothing lost or doubled"
        );
    }
    while let Some((id, _)) = undo_stack.pop() {
        s.unmerge(id, lead.id, "end", T0).await?;
    }
    for p in &people {
        assert_eq!(all_messages(s, *p).await, own[p], "every split restored exactly");
        assert_eq!(s.merged_into(*p).await?, None);
    }
    Ok(())
});
