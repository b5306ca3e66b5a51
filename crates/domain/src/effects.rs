//! What decisions produce: effects to apply in one transaction, and durable jobs to run after
//! the commit. Pure data; the store applies them (`Store::apply`) and the engine publishes
//! what changed.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::conversation::ConversationEvent;
use crate::ids::{AgentId, ChannelId, ConversationId, IdentityId, MessageId, SkillGroupId};
use crate::message::{Content, Sender};

/// Work that must happen after a commit, written in the same transaction as the change that
/// causes it and run by the job runner under a lease, retried, and visible when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Answer a customer message: welcome, the bot's turn, hand-off, routing. With `passive`
    /// the first reply is held briefly for WeChat's passive reply (see `Send::hold_until`).
    Inbound { message: MessageId, conversation: ConversationId, new_conversation: bool, passive: bool },
    /// Serve a skill group's queue (or the ungrouped one): assign in order while agents have
    /// room, move waits to leave-message when nobody can come, tell new positions.
    ServeQueue { group: Option<SkillGroupId> },
    /// Learn what the platform knows about a new identity (UnionID, mobile) for OneID.
    Enrich { identity: IdentityId },
    /// A conversation closed: what its platform needs (ending the 微信客服 session).
    Closed { conversation: ConversationId },
    /// Pull new 微信客服 messages after a notification.
    KfPull { channel: ChannelId, token: String },
    /// Copy a customer's platform media into kefu's media store.
    FetchMedia { message: MessageId },
    /// Close the conversation if it is still idle.
    IdleCheck { conversation: ConversationId },
    /// Turn a wait past the group's queue timeout into leave-message.
    QueueTimeout { conversation: ConversationId },
    /// The agent's workbench is gone: set them offline, their conversations back to routing.
    AgentAbsent { agent: AgentId },
}

impl Job {
    /// Jobs of one lane run one at a time, oldest first: a conversation's turns never overtake
    /// each other. Delayed checks have lanes of their own so a pending timer blocks nothing.
    pub fn lane(&self) -> String {
        match self {
            Job::Inbound { conversation, .. } | Job::Closed { conversation } => {
                format!("conv:{conversation}")
            }
            Job::ServeQueue { group: Some(g) } => format!("queue:{g}"),
            Job::ServeQueue { group: None } => "queue:none".into(),
            Job::Enrich { identity } => format!("identity:{identity}"),
            Job::KfPull { channel, .. } => format!("kf:{channel}"),
            Job::FetchMedia { message } => format!("media:{message}"),
            Job::IdleCheck { conversation } | Job::QueueTimeout { conversation } => {
                format!("timer:{conversation}")
            }
            Job::AgentAbsent { agent } => format!("agent:{agent}"),
        }
    }

    /// At most one such job waits at a time (a second request while one waits is the same work).
    pub fn dedupe_key(&self) -> Option<String> {
        match self {
            Job::ServeQueue { .. } | Job::Enrich { .. } | Job::AgentAbsent { .. } => Some(self.lane()),
            Job::IdleCheck { conversation } => Some(format!("idle:{conversation}")),
            Job::QueueTimeout { conversation } => Some(format!("queue-timeout:{conversation}")),
            Job::KfPull { channel, .. } => Some(format!("kf:{channel}")),
            _ => None,
        }
    }
}

/// A job to write, with when it may first run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub job: Job,
    pub run_at: Timestamp,
}

/// One change to apply. A batch of effects is applied in one transaction or not at all.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The batch only applies if the conversation was last changed at `updated_at` (a timer's
    /// decision must not act on a conversation that moved meanwhile).
    Expect {
        conversation: ConversationId,
        updated_at: Timestamp,
    },
    /// Through the state machine, against the row as it is at commit (a stale decision fails).
    Transition {
        conversation: ConversationId,
        event: ConversationEvent,
    },
    /// Assign if the agent is still online and under capacity at commit; otherwise the batch
    /// fails with `Stale` and the decision is made again. `round_robin` moves the group's turn.
    Assign {
        conversation: ConversationId,
        agent: AgentId,
        round_robin: Option<SkillGroupId>,
    },
    /// A message from kefu or an agent, written with its outbox job.
    Send(Outgoing),
    /// A message the platform would refuse now, recorded as failed with the reason.
    Refused {
        conversation: ConversationId,
        sender: Sender,
        content: Content,
        reason: String,
    },
    Note {
        conversation: ConversationId,
        sender: Sender,
        text: String,
    },
    BotMemory {
        conversation: ConversationId,
        memory: String,
    },
    Awaiting {
        conversation: ConversationId,
        what: Option<String>,
    },
    QueueTold {
        conversation: ConversationId,
        position: u32,
    },
    OpenSurvey {
        conversation: ConversationId,
        until: Timestamp,
    },
    Rate {
        conversation: ConversationId,
        score: u8,
    },
    Enqueue(NewJob),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub conversation: ConversationId,
    pub sender: Sender,
    pub content: Content,
    /// An idempotency key (an agent's client id, `passive:<message>`): a repeat is a no-op.
    pub dedupe_key: Option<String>,
    /// Hold the send until then: WeChat may take it as the passive reply meanwhile.
    pub hold_until: Option<Timestamp>,
}

impl Outgoing {
    pub fn new(conversation: ConversationId, sender: Sender, content: Content) -> Self {
        Outgoing { conversation, sender, content, dedupe_key: None, hold_until: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_of_one_message_share_a_lane_and_timers_never_block_them() {
        let turn = Job::Inbound {
            message: MessageId(7),
            conversation: ConversationId(3),
            new_conversation: false,
            passive: false,
        };
        assert_eq!(turn.lane(), "conv:3");
        assert_eq!(Job::Closed { conversation: ConversationId(3) }.lane(), "conv:3");
        assert_eq!(Job::IdleCheck { conversation: ConversationId(3) }.lane(), "timer:3");
        assert_eq!(Job::ServeQueue { group: None }.dedupe_key().as_deref(), Some("queue:none"));
        assert_eq!(turn.dedupe_key(), None);
        let json = serde_json::to_string(&turn).unwrap();
        assert_eq!(serde_json::from_str::<Job>(&json).unwrap(), turn);
    }
}
