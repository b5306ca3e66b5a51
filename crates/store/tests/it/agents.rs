//! Agents, skill groups and sessions.

use crate::helpers::*;
use kefu_domain::*;
use kefu_store::*;

contract!(agents_keep_their_skill_groups_and_credentials, |s| {
    let sales = s.create_skill_group("销售组", T0).await?;
    let after = s.create_skill_group("售后组", T0).await?;
    let new = NewAgent {
        username: "wang".into(),
        display_name: "王客服".into(),
        password_hash: "$argon2id$fake".into(),
        role: Role::Supervisor,
        capacity: 4,
        skill_groups: vec![sales.id, after.id],
    };
    let a = s.create_agent(new.clone(), T0).await?;
    assert_eq!(a.skill_groups, vec![sales.id, after.id]);
    assert_eq!((a.role, a.status, a.capacity), (Role::Supervisor, AgentStatus::Offline, 4));
    let (same, hash) = s.agent_credentials("wang").await?;
    assert_eq!((same, hash.as_str()), (a.clone(), "$argon2id$fake"));
    assert!(matches!(s.create_agent(new, T0).await, Err(StoreError::Conflict(_))));
    let online = s.set_agent_status(a.id, AgentStatus::Online).await?;
    assert_eq!(online.status, AgentStatus::Online);
    assert_eq!(s.agents().await?, vec![online]);
    assert_eq!(s.skill_groups().await?.len(), 2);
    let moved = s.set_agent_routing(a.id, 8, &[after.id]).await?;
    assert_eq!((moved.capacity, moved.skill_groups.clone()), (8, vec![after.id]));
    assert_eq!(s.agent(a.id).await?, moved);
    assert!(matches!(s.set_agent_routing(AgentId(999_999), 1, &[]).await, Err(StoreError::NotFound)));
    Ok(())
});

contract!(sessions_expire, |s| {
    let a = agent(s, "alice").await;
    let session = Session {
        token_hash: "h1".into(),
        agent_id: a.id,
        csrf_token: "c1".into(),
        created_at: T0,
        expires_at: Timestamp(T0.0 + 1000),
        client_ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0 测试".into()),
        must_change_password: true,
    };
    s.create_session(&session).await?;
    assert_eq!(s.session("h1", T0).await?, session, "every field comes back");
    assert_eq!(s.sessions_of(a.id, T0).await?, vec![session.clone()]);
    assert!(s.sessions_of(a.id, Timestamp(T0.0 + 1000)).await?.is_empty(), "expired ones are not listed");
    assert!(matches!(s.session("h1", Timestamp(T0.0 + 1000)).await, Err(StoreError::NotFound)));
    s.delete_session("h1").await?;
    assert!(matches!(s.session("h1", T0).await, Err(StoreError::NotFound)));
    Ok(())
});

contract!(agents_not_seen_lately_are_found_unless_already_offline, |s| {
    let a = agent(s, "alice").await;
    let b = agent(s, "bob").await;
    agent(s, "carol").await;
    for x in [&a, &b] {
        s.set_agent_status(x.id, AgentStatus::Online).await?;
    }
    s.touch_agent(a.id, Timestamp(T0.0 + 60_000)).await?;
    s.touch_agent(b.id, T0).await?;
    s.touch_agent(a.id, T0).await?;
    let before = Timestamp(T0.0 + 30_000);
    assert_eq!(s.absent_agents(before).await?, vec![b.id], "carol is offline; alice's later touch stands");
    Ok(())
});

contract!(accounts_created_together_are_all_created_or_none_of_them, |s| {
    let g = s.create_skill_group("批量", T0).await?;
    let new = |u: &str| NewAgent {
        username: u.into(),
        display_name: format!("{u} 名"),
        password_hash: "x".into(),
        role: Role::Agent,
        capacity: 3,
        skill_groups: vec![g.id],
    };
    let made = s.create_agents(vec![new("bulk1"), new("bulk2")], T0).await?;
    assert_eq!(
        made.iter().map(|a| (a.username.as_str(), a.skill_groups.clone())).collect::<Vec<_>>(),
        vec![("bulk1", vec![g.id]), ("bulk2", vec![g.id])]
    );
    let before = s.agents().await?.len();
    let clash = s.create_agents(vec![new("bulk3"), new("bulk1")], T0).await;
    assert!(matches!(clash, Err(StoreError::Conflict(ref w)) if w.contains("bulk1")), "{clash:?}");
    assert_eq!(s.agents().await?.len(), before, "bulk3 was not kept either");
    Ok(())
});
