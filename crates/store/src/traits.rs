//! The storage traits: what the engine and server need, independent of the database.

use crate::Result;
use crate::model::*;
use async_trait::async_trait;
use kefu_domain::{
    Agent, AgentId, AgentStatus, Channel, ChannelId, Conversation, ConversationEvent, ConversationId,
    Customer, CustomerId, DeliveryStatus, Identity, IdentityId, Message, MessageId, SkillGroup, Timestamp,
};

#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn create_channel(&self, new: NewChannel, now: Timestamp) -> Result<Channel>;
    async fn channel(&self, id: ChannelId) -> Result<Channel>;
    async fn channel_by_key(&self, key: &str) -> Result<Channel>;
    async fn channels(&self) -> Result<Vec<Channel>>;
}

#[async_trait]
pub trait AgentStore: Send + Sync {
    async fn create_skill_group(&self, name: &str, now: Timestamp) -> Result<SkillGroup>;
    async fn skill_groups(&self) -> Result<Vec<SkillGroup>>;
    async fn create_agent(&self, new: NewAgent, now: Timestamp) -> Result<Agent>;
    async fn agent(&self, id: AgentId) -> Result<Agent>;
    /// The agent and their password hash, for logging in.
    async fn agent_credentials(&self, username: &str) -> Result<(Agent, String)>;
    async fn agents(&self) -> Result<Vec<Agent>>;
    async fn set_agent_status(&self, id: AgentId, status: AgentStatus) -> Result<Agent>;
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// A session that exists and has not expired at `now`.
    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Session>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Records one inbound message atomically: identity, customer, open conversation, message.
    /// Once this returns, the message survives a crash; a repeated `dedupe_key` writes nothing.
    async fn ingest(&self, inbound: Inbound) -> Result<IngestOutcome>;
    async fn conversation(&self, id: ConversationId) -> Result<Conversation>;
    async fn conversations(&self, filter: &ConversationFilter) -> Result<Vec<ConversationSummary>>;
    /// Applies a lifecycle event through the domain state machine, atomically.
    async fn apply_event(
        &self,
        id: ConversationId,
        event: ConversationEvent,
        now: Timestamp,
    ) -> Result<Conversation>;
    async fn customer(&self, id: CustomerId) -> Result<Customer>;
    async fn identity(&self, id: IdentityId) -> Result<Identity>;
    /// The open conversation of a channel identity, if any.
    async fn open_conversation_of(
        &self,
        channel: ChannelId,
        external_id: &str,
    ) -> Result<Option<Conversation>>;
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    async fn message(&self, id: MessageId) -> Result<Message>;
    /// Newest last; `page.before` pages backwards through history.
    async fn messages(&self, conversation: ConversationId, page: MessagePage) -> Result<Vec<Message>>;
    /// The newest messages of every conversation of one channel identity, oldest first: what a
    /// returning web visitor sees.
    async fn identity_messages(
        &self,
        channel: ChannelId,
        external_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>>;
    /// Writes an outbound message and its outbox job in one transaction.
    /// Returns the existing message if `dedupe_key` was used before in this conversation's channel.
    async fn enqueue_outbound(&self, new: NewOutbound) -> Result<(Message, bool)>;
    /// Records what the customer's side reported (e.g. a web visitor confirmed receipt).
    async fn set_message_status(&self, id: MessageId, status: DeliveryStatus) -> Result<Message>;
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due jobs, leasing them until `lease_until`. Per conversation only the
    /// oldest unfinished job is ever claimable, so messages arrive in the order they were written.
    async fn claim_due(&self, now: Timestamp, lease_until: Timestamp, limit: u32) -> Result<Vec<OutboxJob>>;
    /// Records a job's result and the message's delivery status, atomically.
    async fn finish_job(&self, job_id: i64, result: JobResult, now: Timestamp) -> Result<Message>;
    /// The earliest time a pending job becomes due, for the worker's sleep.
    async fn next_due(&self) -> Result<Option<Timestamp>>;
}

/// Everything kefu stores. One implementation serves SQLite and PostgreSQL.
pub trait Store:
    ChannelStore + AgentStore + ConversationStore + MessageStore + OutboxStore + Send + Sync
{
}

impl<T> Store for T where
    T: ChannelStore + AgentStore + ConversationStore + MessageStore + OutboxStore + Send + Sync
{
}
