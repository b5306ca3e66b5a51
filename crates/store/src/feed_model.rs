//! Records behind the data API: the change feed, API keys, webhooks and their delivery log,
//! and the per-conversation facts the dashboards aggregate.

use kefu_domain::*;
use serde::Serialize;

/// One entry of the change feed. `seq` is gapless in commit order (see the 0008 migration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub seq: i64,
    /// `conversation.created|queued|assigned|leave_message|closed`, `message.created`,
    /// `customer.created|merged|unmerged`.
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    pub customer_id: Option<CustomerId>,
    pub merge_id: Option<i64>,
    pub agent_id: Option<AgentId>,
    pub at: Timestamp,
}

/// Filters for the data API's conversation list; `after` pages by id.
#[derive(Debug, Clone, Default)]
pub struct DataConversationFilter {
    pub state: Option<ConversationState>,
    pub channel: Option<ChannelId>,
    pub customer: Option<CustomerId>,
    pub agent: Option<AgentId>,
    pub group: Option<SkillGroupId>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub after: Option<ConversationId>,
    pub limit: u32,
}

/// Filters for the data API's message list; `after` pages by id, oldest first.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub conversation: Option<ConversationId>,
    pub customer: Option<CustomerId>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    pub after: Option<MessageId>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The public half, shown in the UI; the secret half is only ever stored hashed.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: AgentId,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a [String],
    pub by: AgentId,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub cursor: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub change_seq: i64,
    pub kind: String,
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// A delivery to enqueue: the change and the exact body every attempt will send.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub change_seq: i64,
    pub kind: String,
    pub payload: String,
}

/// What one attempt did.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Delivered { status: i64 },
    Retry { status: Option<i64>, error: String, at: Timestamp },
    GiveUp { status: Option<i64>, error: String },
}

/// What the dashboards need to know about one conversation, derived from the change log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationFacts {
    pub id: i64,
    pub channel_id: i64,
    pub group_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub state: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// First time it left the bot: queued, assigned or leave-message.
    pub handed_off_at: Option<i64>,
    pub queued_at: Option<i64>,
    pub assigned_at: Option<i64>,
    pub left_message: bool,
    pub first_agent_reply_at: Option<i64>,
    pub satisfaction: Option<i64>,
    pub tags: Vec<String>,
}
