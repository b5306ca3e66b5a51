//! Conversations and their lifecycle as a pure transition function.
//!
//! ```text
//!   Bot ──HandOff──▶ Queued ──Assign──▶ Assigned ──Close──▶ Closed
//!    │                 │  ▲               │  ▲ Transfer
//!    │                 │  └──Requeue / TransferToGroup
//!    └──LeaveMessage──▶ LeaveMessage ──Assign──▶ Assigned
//! ```
//! Every open state can be closed; `Closed` is terminal (a customer who writes again gets a new
//! conversation). An agent may also take a conversation over from the bot (`Bot` + `Assign`).

use crate::clock::Timestamp;
use crate::ids::{AgentId, ChannelId, ConversationId, CustomerId, IdentityId, SkillGroupId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// The bot is answering.
    Bot,
    /// Waiting for a human.
    Queued,
    /// A human is serving it.
    Assigned,
    /// Nobody could take it; the customer's messages are kept as a ticket (留言).
    LeaveMessage,
    Closed,
}

impl ConversationState {
    pub const ALL: [ConversationState; 5] = [
        ConversationState::Bot,
        ConversationState::Queued,
        ConversationState::Assigned,
        ConversationState::LeaveMessage,
        ConversationState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Bot => "bot",
            ConversationState::Queued => "queued",
            ConversationState::Assigned => "assigned",
            ConversationState::LeaveMessage => "leave_message",
            ConversationState::Closed => "closed",
        }
    }

    pub fn is_open(self) -> bool {
        self != ConversationState::Closed
    }
}

impl FromStr for ConversationState {
    type Err = crate::agent::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConversationState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| crate::agent::UnknownValue(s.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// An agent closed it.
    Agent,
    /// The bot resolved it and the customer went quiet.
    Bot,
    /// Nobody wrote for too long.
    IdleTimeout,
    /// The customer left (unsubscribed, ended the session).
    Customer,
    /// Closed by an administrator or a system rule.
    System,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Agent => "agent",
            CloseReason::Bot => "bot",
            CloseReason::IdleTimeout => "idle_timeout",
            CloseReason::Customer => "customer",
            CloseReason::System => "system",
        }
    }
}

impl FromStr for CloseReason {
    type Err = crate::agent::UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "agent" => CloseReason::Agent,
            "bot" => CloseReason::Bot,
            "idle_timeout" => CloseReason::IdleTimeout,
            "customer" => CloseReason::Customer,
            "system" => CloseReason::System,
            _ => return Err(crate::agent::UnknownValue(s.to_owned())),
        })
    }
}

/// Something that happens to a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ConversationEvent {
    /// The bot gives up or the customer asks for a human; `group` is the skill group wanted.
    HandOff {
        group: Option<SkillGroupId>,
    },
    Assign {
        agent: AgentId,
    },
    Transfer {
        agent: AgentId,
    },
    TransferToGroup {
        group: SkillGroupId,
    },
    /// The agent went away; the conversation waits for someone else.
    Requeue,
    LeaveMessage,
    Close {
        reason: CloseReason,
    },
}

/// The part of a conversation the state machine changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    pub state: ConversationState,
    /// Set while assigned; kept after closing so the last agent stays known (sticky routing).
    pub agent: Option<AgentId>,
    pub group: Option<SkillGroupId>,
    pub close_reason: Option<CloseReason>,
}

impl Status {
    pub fn new(state: ConversationState) -> Self {
        Status { state, agent: None, group: None, close_reason: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply {event:?} to a conversation in state {from:?}")]
pub struct IllegalTransition {
    pub from: ConversationState,
    pub event: ConversationEvent,
}

/// The lifecycle rule, in one place. Returns the new status or why the event does not apply.
pub fn transition(from: &Status, event: &ConversationEvent) -> Result<Status, IllegalTransition> {
    use ConversationEvent as E;
    use ConversationState as S;
    let illegal = || IllegalTransition { from: from.state, event: *event };
    let mut next = *from;
    match (from.state, event) {
        (S::Closed, _) => return Err(illegal()),
        (S::Bot, E::HandOff { group }) => {
            next.state = S::Queued;
            next.group = group.or(from.group);
        }
        (S::Bot | S::Queued | S::LeaveMessage, E::Assign { agent }) => {
            next.state = S::Assigned;
            next.agent = Some(*agent);
        }
        (S::Assigned, E::Transfer { agent }) if from.agent != Some(*agent) => {
            next.agent = Some(*agent);
        }
        (S::Assigned, E::TransferToGroup { group }) => {
            next.state = S::Queued;
            next.agent = None;
            next.group = Some(*group);
        }
        (S::Assigned, E::Requeue) => {
            next.state = S::Queued;
            next.agent = None;
        }
        (S::Bot | S::Queued, E::LeaveMessage) => {
            next.state = S::LeaveMessage;
        }
        (_, E::Close { reason }) => {
            next.state = S::Closed;
            next.close_reason = Some(*reason);
        }
        _ => return Err(illegal()),
    }
    Ok(next)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    pub id: ConversationId,
    pub customer_id: CustomerId,
    pub identity_id: IdentityId,
    pub channel_id: ChannelId,
    #[serde(flatten)]
    pub status: Status,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// When the customer last wrote; platforms such as WeChat limit replies after 48 hours.
    pub last_inbound_at: Option<Timestamp>,
    /// Since when it waits in the queue (first come, first served).
    pub queued_at: Option<Timestamp>,
    /// The customer's rating after closing (满意度, 1–5).
    pub satisfaction: Option<u8>,
}

impl Conversation {
    pub fn state(&self) -> ConversationState {
        self.status.state
    }
}

#[cfg(test)]
#[path = "conversation_tests.rs"]
mod tests;
