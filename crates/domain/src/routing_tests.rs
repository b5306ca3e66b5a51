use super::*;
use crate::agent::GroupRouting;
use crate::conversation::{ConversationState, Status};
use crate::hours::BusinessHours;
use crate::ids::*;

const NOW: Timestamp = Timestamp(1_767_225_600_000);

fn conv(id: i64) -> Conversation {
    Conversation {
        id: ConversationId(id),
        customer_id: CustomerId(id),
        identity_id: IdentityId(id),
        channel_id: ChannelId(1),
        status: Status {
            state: ConversationState::Queued,
            agent: None,
            group: Some(SkillGroupId(1)),
            close_reason: None,
        },
        created_at: NOW,
        updated_at: NOW,
        closed_at: None,
        last_inbound_at: Some(NOW),
        queued_at: Some(NOW),
        satisfaction: None,
    }
}

fn waiting(id: i64) -> Waiting {
    Waiting { conversation: conv(id), last_agent: None, told: None, window: Window::OPEN }
}

fn slot(id: i64, active: u32, capacity: u32) -> Slot {
    Slot {
        agent: AgentId(id),
        display_name: format!("A{id}"),
        active,
        capacity,
        last_assigned_at: Timestamp(id),
    }
}

fn group(strategy: Strategy) -> SkillGroup {
    SkillGroup {
        id: SkillGroupId(1),
        name: "售后".into(),
        routing: GroupRouting { strategy, ..Default::default() },
    }
}

fn snapshot(strategy: Strategy, agents: Vec<Slot>, waiting: Vec<Waiting>) -> QueueSnapshot {
    QueueSnapshot { group: Some(group(strategy)), now: NOW, agents, rr_last: None, waiting }
}

fn assigned(batches: &[Vec<Effect>]) -> Vec<(i64, i64)> {
    batches
        .iter()
        .filter_map(|b| match b[0] {
            Effect::Assign { conversation, agent, .. } => Some((conversation.0, agent.0)),
            _ => None,
        })
        .collect()
}

fn texts(batches: &[Vec<Effect>]) -> Vec<String> {
    batches
        .iter()
        .flatten()
        .filter_map(|e| match e {
            Effect::Send(o) => o.content.plain_text(),
            Effect::Refused { content, .. } => content.plain_text().map(|t| format!("refused:{t}")),
            _ => None,
        })
        .collect()
}

#[test]
fn least_load_spreads_by_share_of_capacity_and_never_exceeds_it() {
    let s = snapshot(
        Strategy::LeastLoad,
        vec![slot(1, 0, 2), slot(2, 1, 4), slot(3, 0, 1)],
        (1..=8).map(waiting).collect(),
    );
    let got = assigned(&serve_queue(&s, &RoutingConfig::default()));
    assert_eq!(got.len(), 6, "2 + 3 + 1 free places: {got:?}");
    for (agent, cap, active) in [(1, 2, 0), (2, 4, 1), (3, 1, 0)] {
        assert_eq!(got.iter().filter(|(_, a)| *a == agent).count() as u32, cap - active);
    }
    assert_eq!(got[0].1, 1, "an idle agent assigned longest ago goes first");
}

#[test]
fn round_robin_takes_turns_after_the_last_assigned_agent() {
    let mut s = snapshot(
        Strategy::RoundRobin,
        vec![slot(1, 0, 9), slot(2, 0, 9), slot(3, 0, 9)],
        (1..=5).map(waiting).collect(),
    );
    s.rr_last = Some(AgentId(2));
    let agents: Vec<i64> =
        assigned(&serve_queue(&s, &RoutingConfig::default())).iter().map(|x| x.1).collect();
    assert_eq!(agents, vec![3, 1, 2, 3, 1]);
}

#[test]
fn a_returning_customers_last_agent_comes_first_when_they_have_room() {
    let mut w = waiting(1);
    w.last_agent = Some(AgentId(2));
    let s = snapshot(Strategy::RoundRobin, vec![slot(1, 0, 9), slot(2, 0, 9)], vec![w]);
    let b = serve_queue(&s, &RoutingConfig::default());
    assert_eq!(
        b[0][0],
        Effect::Assign { conversation: ConversationId(1), agent: AgentId(2), round_robin: None }
    );
    assert_eq!(texts(&b), vec!["您好，客服A2为您服务。"]);
}

#[test]
fn those_who_still_wait_hear_their_place_only_when_it_changed_enough() {
    let mut q: Vec<Waiting> = (1..=6).map(waiting).collect();
    q[2].told = Some(1); // now at 1 again: not worth telling
    q[3].told = Some(5); // moved from 5 to 2: told
    let s = snapshot(Strategy::LeastLoad, vec![slot(1, 0, 1)], q);
    let b = serve_queue(&s, &RoutingConfig::default());
    assert_eq!(assigned(&b), vec![(1, 1)]);
    let t = texts(&b);
    assert!(t.contains(&"当前人工客服繁忙，您排在第1位，请稍候。".to_string()));
    assert!(t.contains(&"当前人工客服繁忙，您排在第3位，请稍候。".to_string()));
    assert_eq!(t.iter().filter(|x| x.contains("第2位")).count(), 0, "conversation 3 heard its place before");
}

#[test]
fn nobody_online_or_outside_business_hours_turns_waits_into_leave_message() {
    let s = snapshot(Strategy::LeastLoad, vec![], vec![waiting(1)]);
    let b = serve_queue(&s, &RoutingConfig::default());
    assert_eq!(
        b[0][0],
        Effect::Transition { conversation: ConversationId(1), event: ConversationEvent::LeaveMessage }
    );
    let mut closed = snapshot(Strategy::LeastLoad, vec![slot(1, 0, 3)], vec![waiting(2)]);
    let hours = BusinessHours {
        utc_offset_minutes: 480,
        weekly: Default::default(),
        holidays: vec![],
        workdays: vec![],
    };
    closed.group.as_mut().unwrap().routing.business_hours = Some(hours);
    let b = serve_queue(&closed, &RoutingConfig::default());
    assert!(matches!(b[0][0], Effect::Transition { event: ConversationEvent::LeaveMessage, .. }));
}

#[test]
fn a_closed_platform_window_records_the_notice_as_refused_instead_of_sending_it() {
    let mut w = waiting(1);
    w.window = Window { left: None, closed: Some(Refusal::WindowClosed) };
    let b =
        serve_queue(&snapshot(Strategy::LeastLoad, vec![slot(1, 0, 1)], vec![w]), &RoutingConfig::default());
    assert!(texts(&b)[0].starts_with("refused:"), "{:?}", texts(&b));
}

#[test]
fn serving_a_queue_of_thousands_is_one_pass() {
    let q: Vec<Waiting> = (1..=5000).map(waiting).collect();
    let s = snapshot(Strategy::LeastLoad, vec![slot(1, 0, 10), slot(2, 0, 10)], q);
    let b = serve_queue(&s, &RoutingConfig::default());
    assert_eq!(assigned(&b).len(), 20);
    assert_eq!(b.len(), 20 + 4980, "everyone new hears a place once");
}
