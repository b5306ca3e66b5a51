//! Exhaustive tests of the conversation transition function: every state against every event.

use super::*;
use ConversationEvent as E;
use ConversationState as S;

const A1: AgentId = AgentId(1);
const A2: AgentId = AgentId(2);
const G1: SkillGroupId = SkillGroupId(10);
const G2: SkillGroupId = SkillGroupId(20);

fn status(state: S) -> Status {
    let agent = matches!(state, S::Assigned).then_some(A1);
    Status { state, agent, group: Some(G1), close_reason: None }
}

fn events() -> Vec<E> {
    vec![
        E::HandOff { group: Some(G2) },
        E::HandOff { group: None },
        E::Assign { agent: A2 },
        E::Transfer { agent: A2 },
        E::Transfer { agent: A1 },
        E::TransferToGroup { group: G2 },
        E::Requeue,
        E::LeaveMessage,
        E::Close { reason: CloseReason::Agent },
    ]
}

/// The expected outcome of each (state, event) pair; `None` means illegal.
fn expected(from: S, ev: &E) -> Option<Status> {
    let base = status(from);
    let with = |state, agent, group| Some(Status { state, agent, group, close_reason: None });
    match (from, ev) {
        (S::Closed, _) => None,
        (S::Bot, E::HandOff { group: Some(g) }) => with(S::Queued, None, Some(*g)),
        (S::Bot, E::HandOff { group: None }) => with(S::Queued, None, Some(G1)),
        (S::Bot | S::Queued | S::LeaveMessage, E::Assign { agent }) => {
            with(S::Assigned, Some(*agent), Some(G1))
        }
        (S::Assigned, E::Transfer { agent }) if *agent != A1 => with(S::Assigned, Some(*agent), Some(G1)),
        (S::Assigned, E::TransferToGroup { group }) => with(S::Queued, None, Some(*group)),
        (S::Assigned, E::Requeue) => with(S::Queued, None, Some(G1)),
        (S::Bot | S::Queued, E::LeaveMessage) => with(S::LeaveMessage, None, Some(G1)),
        (_, E::Close { reason }) => Some(Status { state: S::Closed, close_reason: Some(*reason), ..base }),
        _ => None,
    }
}

#[test]
fn every_state_and_event_pair_behaves_as_the_table_says() {
    let mut legal = 0;
    let mut illegal = 0;
    for from in S::ALL {
        for ev in events() {
            let got = transition(&status(from), &ev);
            match expected(from, &ev) {
                Some(want) => {
                    assert_eq!(got.as_ref().ok(), Some(&want), "{from:?} + {ev:?}");
                    legal += 1;
                }
                None => {
                    assert_eq!(got, Err(IllegalTransition { from, event: ev }), "{from:?} + {ev:?}");
                    illegal += 1;
                }
            }
        }
    }
    // 5 states x 9 events: guards against the table silently shrinking.
    assert_eq!((legal, illegal), (14, 31));
}

#[test]
fn a_bot_conversation_is_handed_off_then_assigned_then_closed() {
    let s = Status::new(S::Bot);
    let s = transition(&s, &E::HandOff { group: Some(G1) }).unwrap();
    assert_eq!((s.state, s.group), (S::Queued, Some(G1)));
    let s = transition(&s, &E::Assign { agent: A1 }).unwrap();
    assert_eq!((s.state, s.agent), (S::Assigned, Some(A1)));
    let s = transition(&s, &E::Close { reason: CloseReason::Agent }).unwrap();
    assert_eq!((s.state, s.agent, s.close_reason), (S::Closed, Some(A1), Some(CloseReason::Agent)));
}

#[test]
fn a_closed_conversation_accepts_nothing_not_even_another_close() {
    let closed = Status { close_reason: Some(CloseReason::Agent), ..status(S::Closed) };
    let err = transition(&closed, &E::Close { reason: CloseReason::IdleTimeout }).unwrap_err();
    assert_eq!(err.from, S::Closed);
    assert!(err.to_string().contains("Closed"), "{err}");
}

#[test]
fn transferring_to_the_same_agent_is_refused() {
    assert!(transition(&status(S::Assigned), &E::Transfer { agent: A1 }).is_err());
}

#[test]
fn a_leave_message_ticket_can_be_taken_up_by_an_agent() {
    let s = transition(&status(S::LeaveMessage), &E::Assign { agent: A2 }).unwrap();
    assert_eq!((s.state, s.agent), (S::Assigned, Some(A2)));
}

#[test]
fn states_parse_what_they_print() {
    for s in S::ALL {
        assert_eq!(s.as_str().parse::<S>().unwrap(), s);
    }
    assert!("open".parse::<S>().is_err());
}
