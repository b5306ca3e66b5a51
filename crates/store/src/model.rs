//! Inputs and outputs of store operations that are not domain types themselves.

use kefu_domain::{
    AgentId, ChannelId, ChannelKind, Content, Conversation, ConversationId, ConversationState, Customer,
    DeliveryStatus, Identity, Message, MessageId, Role, Sender, SkillGroupId, Timestamp,
};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub key: String,
    pub name: String,
    pub settings: serde_json::Value,
    pub secrets: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub capacity: u32,
    pub skill_groups: Vec<SkillGroupId>,
}

/// An admin's (or the agent's own) change to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub capacity: Option<u32>,
    pub skill_groups: Option<Vec<SkillGroupId>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    /// `Some(None)` removes the picture.
    pub avatar: Option<Option<String>>,
    /// The session (token hash) that survives a password change: one's own, when changing
    /// one's own password.
    pub keep_session: Option<String>,
}

/// A logged-in agent's session; the cookie holds the token, the store only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub agent_id: AgentId,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Where it was opened (the client address and browser), shown to its owner.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Opened with an expired password: it may only set a new one.
    pub must_change_password: bool,
}

pub use kefu_domain::Profile;

/// One message from a customer, as an adapter hands it over.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub channel_id: ChannelId,
    /// The sender on the platform: OpenID, external_userid, staffId, web visitor id.
    pub external_id: String,
    pub profile: Profile,
    /// The platform's message id (or a derived key); a second delivery with it is a no-op.
    pub dedupe_key: Option<String>,
    pub content: Content,
    pub received_at: Timestamp,
    /// The state a conversation starts in if this message opens one.
    pub initial_state: ConversationState,
    /// The skill group it starts with, if this message opens one.
    pub initial_group: Option<SkillGroupId>,
    /// The platform waits for a reply in its HTTP response (WeChat's passive reply): the
    /// answer's first message is held briefly so the callback can return it.
    pub passive: bool,
}

#[derive(Debug, Clone)]
pub enum IngestOutcome {
    Accepted(Box<Accepted>),
    /// The platform delivered this message before; nothing was written.
    Duplicate(Message),
}

#[derive(Debug, Clone)]
pub struct Accepted {
    pub message: Message,
    pub conversation: Conversation,
    pub customer: Customer,
    pub identity: Identity,
    pub new_conversation: bool,
    /// The message's `inbound` job, written with it.
    pub job: Option<i64>,
}

/// `platform_msg_id` of a reply that went back in the platform's HTTP response.
pub const PASSIVE: &str = "passive";

/// An outbound message to be written together with its outbox job.
#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub conversation_id: ConversationId,
    pub sender: Sender,
    pub content: Content,
    /// Idempotency key from the sender (e.g. a browser-generated id), so a resubmit is a no-op.
    pub dedupe_key: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub states: Vec<ConversationState>,
    /// What this agent may list (the visibility policy): conversations they hold, closed ones
    /// they ever held, and with `include_unassigned` also the open, unassigned ones waiting in
    /// their skill groups or in no group. `None`: everything (supervisors, data exports).
    pub agent: Option<AgentId>,
    pub include_unassigned: bool,
    pub customer: Option<kefu_domain::CustomerId>,
    pub limit: u32,
}

/// A conversation with what a list view needs to show about it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub customer_name: String,
    pub channel_kind: ChannelKind,
    pub channel_name: String,
    pub last_message: Option<String>,
}

/// A claimed outbox job: deliver `message` to `identity` on `channel`.
#[derive(Debug, Clone)]
pub struct OutboxJob {
    pub id: i64,
    pub lease: String,
    pub attempts: u32,
    pub message: Message,
    pub identity: Identity,
}

#[derive(Debug, Clone)]
pub enum JobResult {
    Sent { platform_msg_id: Option<String>, status: DeliveryStatus },
    RetryAt { at: Timestamp, error: String },
    GiveUp { error: String },
}

#[derive(Debug, Clone, Copy)]
pub struct MessagePage {
    pub before: Option<MessageId>,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct NewMedia {
    pub mime: String,
    pub filename: String,
    pub data: Vec<u8>,
}

/// A stored file; `id` is random and doubles as the access capability in its URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaInfo {
    pub id: String,
    pub mime: String,
    pub filename: String,
    pub sha256: String,
    pub size: u64,
    pub created_at: Timestamp,
}

impl MediaInfo {
    /// The path kefu serves the file at.
    pub fn url(&self) -> String {
        format!("/media/{}", self.id)
    }
}

/// A proposed FAQ entry from mining, waiting for an administrator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaqCandidate {
    pub id: i64,
    pub question: String,
    pub similar: Vec<String>,
    pub answer: String,
    pub support: i64,
    pub conversations: Vec<String>,
    /// pending, accepted or rejected.
    pub status: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewCandidate {
    pub question: String,
    pub similar: Vec<String>,
    pub answer: String,
    pub support: i64,
    pub conversations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLoad {
    pub agent: kefu_domain::AgentId,
    pub active: u32,
    pub capacity: u32,
    pub last_assigned_at: Timestamp,
}

/// An SMS verification code about to be sent; only its hash is stored.
#[derive(Debug, Clone)]
pub struct NewSmsCode {
    pub phone: String,
    pub conversation_id: ConversationId,
    pub identity_id: kefu_domain::IdentityId,
    pub code_hash: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsCode {
    pub id: i64,
    pub phone: String,
    pub conversation_id: ConversationId,
    pub identity_id: kefu_domain::IdentityId,
    pub code_hash: String,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// How many codes went out, for the rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsCounts {
    /// To this number since the window's start.
    pub to_phone: u32,
    /// In this conversation, ever.
    pub in_conversation: u32,
    pub last_to_phone: Option<Timestamp>,
}

/// Another customer with the same phone where at least one side only typed it: perhaps the
/// same person, never merged automatically ("可能是同一客户").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PossibleMatch {
    pub customer: kefu_domain::CustomerId,
    pub display_name: String,
    pub phone: String,
}

/// Effects to apply in one transaction; with `finish`, the job `(id, lease)` they complete is
/// marked done in it too, or nothing is applied if that lease was lost.
#[derive(Debug, Clone)]
pub struct Batch {
    pub effects: Vec<kefu_domain::Effect>,
    pub now: Timestamp,
    pub finish: Option<(i64, String)>,
}

impl Batch {
    pub fn new(effects: Vec<kefu_domain::Effect>, now: Timestamp) -> Self {
        Batch { effects, now, finish: None }
    }
}

/// What a batch changed, for the events published after the commit.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Every conversation the batch changed or wrote to, as committed.
    pub conversations: Vec<Conversation>,
    pub messages: Vec<Message>,
    pub jobs: Vec<i64>,
    /// A message now waits in the outbox.
    pub queued_sends: bool,
    pub(crate) touched: Vec<ConversationId>,
}

/// A job claimed under `lease`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub job: kefu_domain::Job,
    /// Including this one.
    pub attempts: u32,
    pub lease: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    Done,
    RetryAt { at: Timestamp, error: String },
    Failed { error: String },
}

/// A job as an admin sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub lane: String,
    pub state: String,
    pub attempts: u32,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    pub payload: serde_json::Value,
    pub updated_at: Timestamp,
}

/// A conversation waiting in a queue, with what routing decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub conversation: Conversation,
    pub told: Option<u32>,
    /// The agent who last served this customer since the sticky window's start.
    pub last_agent: Option<AgentId>,
    pub channel_kind: ChannelKind,
    /// Messages sent since the customer last wrote (platform windows count them).
    pub sent_since: u32,
}
