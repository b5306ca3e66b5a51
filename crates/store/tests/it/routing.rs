//! Routing's storage: the capacity rule under concurrency, round-robin turns, the queue, the
//! sticky agent and surveys.

use std::sync::Arc;

use kefu_domain::*;
use kefu_store::*;

use crate::helpers::*;

/// `n` conversations from different visitors, all waiting in the queue.
async fn waiting(s: &SqlStore, ch: &Channel, n: usize) -> Vec<ConversationId> {
    let mut ids = vec![];
    for i in 0..n {
        let mut inb = inbound(ch, &format!("visitor-{i}"), Some(&format!("m{i}")), "在吗");
        inb.received_at = T0.plus(std::time::Duration::from_millis(i as u64));
        ids.push(accept(s, inb).await.conversation.id);
    }
    ids
}

async fn online(s: &SqlStore, name: &str, capacity: u32) -> Agent {
    let a = agent(s, name).await;
    s.set_agent_routing(a.id, capacity, &[]).await.unwrap();
    s.set_agent_status(a.id, AgentStatus::Online).await.unwrap()
}

contract!(concurrent_assignments_never_exceed_an_agents_capacity, |s| {
    let ch = webchat(s, "site").await;
    let convs = waiting(s, &ch, 12).await;
    let a = online(s, "alice", 3).await;
    let s = Arc::new(s);
    let results = futures::future::join_all(convs.iter().map(|&c| {
        let s = s.clone();
        async move { s.assign_first(c, &[a.id], None, T0).await }
    }))
    .await;
    let assigned = results.into_iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(assigned, 3);
    let load = s.agent_loads(&[a.id]).await?;
    assert_eq!((load[0].active, load[0].capacity), (3, 3));
    assert_eq!(s.queue(None).await?.len(), 9);
    Ok(())
});

contract!(an_offline_agent_or_a_taken_conversation_is_never_assigned, |s| {
    let ch = webchat(s, "site").await;
    let convs = waiting(s, &ch, 1).await;
    let away = agent(s, "away").await;
    assert_eq!(s.assign_first(convs[0], &[away.id], None, T0).await?, None);
    let a = online(s, "alice", 5).await;
    let b = online(s, "bob", 5).await;
    let got = s.assign_first(convs[0], &[a.id], None, T0).await?.expect("assigned");
    assert_eq!(got.status.agent, Some(a.id));
    assert_eq!(s.assign_first(convs[0], &[b.id], None, T0).await?, None, "already taken");
    Ok(())
});

contract!(concurrent_round_robin_turns_go_to_each_agent_equally, |s| {
    let ch = webchat(s, "site").await;
    let g = s.create_skill_group("售后组", T0).await?;
    let convs = waiting(s, &ch, 30).await;
    let agents = [online(s, "a", 50).await.id, online(s, "b", 50).await.id, online(s, "c", 50).await.id];
    let s = Arc::new(s);
    let results = futures::future::join_all(convs.iter().map(|&c| {
        let s = s.clone();
        async move { s.assign_first(c, &agents, Some(g.id), T0).await }
    }))
    .await;
    let loads = s.agent_loads(&agents).await?;
    assert!(results.iter().all(|r| matches!(r, Ok(Some(_)))), "{results:?}");
    assert_eq!(loads.iter().map(|l| l.active).collect::<Vec<_>>(), vec![10, 10, 10]);
    Ok(())
});

contract!(a_follow_alone_does_not_queue_but_the_first_message_does, |s| {
    let ch = webchat(s, "site").await;
    let mut follow = inbound(&ch, "fan", Some("e1"), "");
    follow.content = Content::Event { event: "subscribe".into(), key: None };
    let conv = accept(s, follow).await.conversation;
    assert_eq!((conv.state(), conv.queued_at), (ConversationState::Queued, None));
    assert!(s.queue(None).await?.is_empty());
    let mut text = inbound(&ch, "fan", Some("m1"), "想问一下");
    text.received_at = T0.plus(std::time::Duration::from_secs(5));
    let a = accept(s, text).await;
    assert_eq!(a.conversation.queued_at, Some(T0.plus(std::time::Duration::from_secs(5))));
    assert_eq!(s.queue(None).await?.iter().map(|c| c.id).collect::<Vec<_>>(), vec![conv.id]);
    Ok(())
});

contract!(the_sticky_agent_is_the_last_one_within_the_window, |s| {
    let ch = webchat(s, "site").await;
    let convs = waiting(s, &ch, 1).await;
    let a = online(s, "alice", 5).await;
    let c = s.assign_first(convs[0], &[a.id], None, T0).await?.unwrap();
    let customer = c.customer_id;
    s.apply_event(c.id, ConversationEvent::Close { reason: CloseReason::Agent }, T0).await?;
    assert_eq!(s.last_agent_of(customer, T0).await?, Some(a.id));
    assert_eq!(s.last_agent_of(customer, T0.plus(std::time::Duration::from_secs(1))).await?, None);
    Ok(())
});

contract!(a_survey_answer_is_found_within_its_window_and_recorded_once, |s| {
    let ch = webchat(s, "site").await;
    let convs = waiting(s, &ch, 1).await;
    let closed = s.apply_event(convs[0], ConversationEvent::Close { reason: CloseReason::Agent }, T0).await?;
    let until = T0.plus(std::time::Duration::from_secs(600));
    s.open_survey(closed.id, until).await?;
    assert_eq!(s.open_survey_of(ch.id, "visitor-0", until).await?, None, "expired at its end");
    let open = s.open_survey_of(ch.id, "visitor-0", T0).await?.expect("open survey");
    assert_eq!(open.id, closed.id);
    s.set_satisfaction(closed.id, 4).await?;
    assert_eq!(s.conversation(closed.id).await?.satisfaction, Some(4));
    assert_eq!(s.open_survey_of(ch.id, "visitor-0", T0).await?, None, "answered");
    Ok(())
});
