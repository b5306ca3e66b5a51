//! The storage traits: what the engine and server need, independent of the database.

use crate::Result;
use crate::feed_model::*;
use crate::model::*;
use async_trait::async_trait;
use kefu_domain::{
    Agent, AgentId, AgentStatus, Channel, ChannelId, Conversation, ConversationEvent, ConversationId,
    Customer, CustomerId, CustomerMerge, CustomerNote, DeliveryStatus, FaqEntry, Identity, IdentityId,
    Message, MessageId, Sender, SkillGroup, SkillGroupId, Timestamp,
};

#[async_trait]
pub trait ChannelStore: Send + Sync {
    async fn create_channel(&self, new: NewChannel, now: Timestamp) -> Result<Channel>;
    async fn channel(&self, id: ChannelId) -> Result<Channel>;
    async fn channel_by_key(&self, key: &str) -> Result<Channel>;
    async fn channels(&self) -> Result<Vec<Channel>>;
    /// Replaces a channel's editable fields (everything but id, kind and key).
    async fn update_channel(&self, channel: &Channel) -> Result<Channel>;
}

#[async_trait]
pub trait AgentStore: Send + Sync {
    async fn create_skill_group(&self, name: &str, now: Timestamp) -> Result<SkillGroup>;
    async fn skill_groups(&self) -> Result<Vec<SkillGroup>>;
    async fn skill_group(&self, id: SkillGroupId) -> Result<SkillGroup>;
    /// Saves the name and routing settings.
    async fn update_skill_group(&self, group: &SkillGroup) -> Result<SkillGroup>;
    async fn create_agent(&self, new: NewAgent, now: Timestamp) -> Result<Agent>;
    /// Creates all the accounts in one transaction, or none (`Conflict` names a taken username).
    async fn create_agents(&self, new: Vec<NewAgent>, now: Timestamp) -> Result<Vec<Agent>>;
    async fn agent(&self, id: AgentId) -> Result<Agent>;
    /// The agent and their password hash, for logging in.
    async fn agent_credentials(&self, username: &str) -> Result<(Agent, String)>;
    async fn agents(&self) -> Result<Vec<Agent>>;
    async fn set_agent_status(&self, id: AgentId, status: AgentStatus) -> Result<Agent>;
    /// Records a sign of life from the agent's workbench.
    async fn touch_agent(&self, id: AgentId, now: Timestamp) -> Result<()>;
    /// Agents not offline whose workbench was last seen before `before`.
    async fn absent_agents(&self, before: Timestamp) -> Result<Vec<AgentId>>;
    /// Sets what routing may give the agent: how many conversations at once, and from which
    /// skill groups.
    async fn set_agent_routing(&self, id: AgentId, capacity: u32, groups: &[SkillGroupId]) -> Result<Agent>;
    async fn create_session(&self, session: &Session) -> Result<()>;
    /// A session that exists and has not expired at `now`.
    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Session>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
}

/// Account administration (see `sql/accounts.rs`).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Applies the change in one transaction. The last enabled admin cannot be disabled or
    /// demoted (`Refused`); disabling ends the account's sessions and queues the job that sends
    /// its conversations back to routing; a new password ends every session but `keep_session`.
    async fn change_account(&self, id: AgentId, change: &AccountChange, now: Timestamp) -> Result<Agent>;
    /// Ends the account's sessions except `keep` (a token hash); how many ended.
    async fn end_sessions(&self, id: AgentId, keep: Option<&str>) -> Result<u64>;
    async fn agent_by_username(&self, username: &str) -> Result<Agent>;
    /// When the password was last set (its creation, if never changed).
    async fn password_changed_at(&self, id: AgentId) -> Result<Timestamp>;
    /// The account's sessions that have not expired, newest first.
    async fn sessions_of(&self, id: AgentId, now: Timestamp) -> Result<Vec<Session>>;
}

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Records one inbound message atomically: identity, customer, open conversation, message.
    /// Once this returns, the message survives a crash; a repeated `dedupe_key` writes nothing.
    async fn ingest(&self, inbound: Inbound) -> Result<IngestOutcome>;
    async fn conversation(&self, id: ConversationId) -> Result<Conversation>;
    async fn conversations(&self, filter: &ConversationFilter) -> Result<Vec<ConversationSummary>>;
    /// Records an inbound message in a given (e.g. just closed) conversation instead of the
    /// open one: a reply to the satisfaction survey. Deduplicated like `ingest`.
    async fn append_inbound(&self, conversation: ConversationId, inbound: Inbound) -> Result<IngestOutcome>;
    /// Applies a lifecycle event through the domain state machine, atomically.
    async fn apply_event(
        &self,
        id: ConversationId,
        event: ConversationEvent,
        now: Timestamp,
    ) -> Result<Conversation>;
    async fn customer(&self, id: CustomerId) -> Result<Customer>;
    async fn identity(&self, id: IdentityId) -> Result<Identity>;
    /// Fills in profile fields the identity does not have yet (never overwrites).
    async fn update_profile(&self, identity: IdentityId, profile: &Profile) -> Result<Identity>;
    /// The bot's memory of a conversation (opaque JSON), if it has any.
    async fn bot_state(&self, id: ConversationId) -> Result<Option<String>>;
    async fn set_bot_state(&self, id: ConversationId, state: &str) -> Result<()>;
    /// What kefu asked the customer and waits for (e.g. `phone`), if anything.
    async fn awaiting(&self, id: ConversationId) -> Result<Option<String>>;
    async fn set_awaiting(&self, id: ConversationId, what: Option<&str>) -> Result<()>;
    /// The identity a channel knows by this external id, if any.
    async fn find_identity(&self, channel: ChannelId, external_id: &str) -> Result<Option<Identity>>;
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
    /// The newest customer-visible messages (no internal notes) of every conversation of one
    /// channel identity, oldest first: what a returning web visitor sees.
    async fn identity_messages(
        &self,
        channel: ChannelId,
        external_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>>;
    /// Writes an outbound message and its outbox job in one transaction.
    /// Returns the existing message if `dedupe_key` was used before in this conversation's channel.
    async fn enqueue_outbound(&self, new: NewOutbound) -> Result<(Message, bool)>;
    /// Records an outbound message that already reached the platform (a passive reply in the
    /// HTTP response), without an outbox job. A repeated `dedupe_key` returns the first one.
    async fn record_sent(&self, new: NewOutbound) -> Result<(Message, bool)>;
    /// How many messages of a conversation went (or are going) through a platform's send API
    /// since `since`, not counting failures or passive replies: platforms cap these per
    /// customer message.
    async fn outbound_since(&self, conversation: ConversationId, since: Timestamp) -> Result<u32>;
    /// Records what the customer's side reported (a web visitor confirmed receipt, a platform
    /// said delivery failed and why).
    async fn set_message_status(
        &self,
        id: MessageId,
        status: DeliveryStatus,
        error: Option<&str>,
    ) -> Result<Message>;
    /// Replaces a message's content: a remote media link becomes kefu's own copy.
    async fn set_message_content(&self, id: MessageId, content: &kefu_domain::Content) -> Result<Message>;
    /// An internal note on a conversation: shown to agents, never sent to the customer.
    async fn record_note(
        &self,
        conversation: ConversationId,
        sender: Sender,
        text: &str,
        now: Timestamp,
    ) -> Result<Message>;
    /// The message a channel stored under `key` (a platform message id or idempotency key).
    async fn message_by_key(&self, channel: ChannelId, key: &str) -> Result<Option<Message>>;
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` due jobs, leasing them until `lease_until`. Per conversation only the
    /// oldest unfinished job is ever claimable, so messages arrive in the order they were written.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        lease: &str,
    ) -> Result<Vec<OutboxJob>>;
    /// Records a job's result and the message's delivery status, atomically — only if `lease`
    /// still holds the job (`None` otherwise: the lease ran out and another attempt owns it).
    async fn finish_job(
        &self,
        job_id: i64,
        lease: &str,
        result: JobResult,
        now: Timestamp,
    ) -> Result<Option<Message>>;
    /// The earliest time a pending job becomes due, for the worker's sleep.
    async fn next_due(&self) -> Result<Option<Timestamp>>;
}

/// State shared with the platforms that every node must agree on: access tokens (a second
/// refresh would invalidate the first node's token) and pull cursors (微信客服 sync_msg).
#[async_trait]
pub trait PlatformStore: Send + Sync {
    async fn token(&self, key: &str) -> Result<Option<(String, Timestamp)>>;
    /// Takes the refresh lease for `key` unless another holder's lease is still running; on
    /// success returns the token stored now (empty if none yet).
    async fn lease_token(
        &self,
        key: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<(String, Timestamp)>>;
    /// Stores a fresh token and releases the lease.
    async fn save_token(&self, key: &str, token: &str, expires_at: Timestamp, now: Timestamp) -> Result<()>;
    async fn release_token(&self, key: &str) -> Result<()>;
    /// Takes the lease on a pull cursor; returns the cursor (empty at first) if taken.
    async fn lease_cursor(
        &self,
        channel: ChannelId,
        name: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<String>>;
    /// Saves progress, keeping the lease.
    async fn save_cursor(&self, channel: ChannelId, name: &str, cursor: &str, now: Timestamp) -> Result<()>;
    async fn release_cursor(&self, channel: ChannelId, name: &str) -> Result<()>;
    /// Keeps what a platform handed out with a person's message (e.g. DingTalk's reply
    /// session), unless a later one is already stored: redeliveries arrive out of order.
    async fn put_platform_session(
        &self,
        channel: ChannelId,
        external_id: &str,
        data: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()>;
    async fn platform_session(
        &self,
        channel: ChannelId,
        external_id: &str,
    ) -> Result<Option<(String, Timestamp)>>;
}

/// OneID and the customer 360 view; see `sql/customers.rs` for the merge rule.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// Other customers sharing a UnionID or phone with this one's identities (with the
    /// reason, `unionid:…` or `phone:…`), except pairs an agent separated.
    async fn oneid_matches(&self, customer: CustomerId) -> Result<Vec<(CustomerId, String)>>;
    /// Moves every identity and conversation of `merged` to `survivor`, recording the merge.
    async fn merge_customers(
        &self,
        survivor: CustomerId,
        merged: CustomerId,
        reason: &str,
        by: Option<AgentId>,
        now: Timestamp,
    ) -> Result<CustomerMerge>;
    /// Undoes a merge exactly and keeps the pair from being merged again automatically.
    async fn unmerge(&self, merge: i64, by: AgentId, reason: &str, now: Timestamp) -> Result<CustomerMerge>;
    async fn merge(&self, id: i64) -> Result<CustomerMerge>;
    /// Merges this customer took part in, newest first.
    async fn merges_of(&self, customer: CustomerId) -> Result<Vec<CustomerMerge>>;
    /// The customer this one was merged into, if any.
    async fn merged_into(&self, customer: CustomerId) -> Result<Option<CustomerId>>;
    async fn customer_identities(&self, customer: CustomerId) -> Result<Vec<Identity>>;
    /// Every message of every conversation of the customer on any channel, newest first.
    async fn customer_messages(&self, customer: CustomerId, page: MessagePage) -> Result<Vec<Message>>;
    /// Customers (not merged away) whose name, nickname, phone or platform id contains `text`;
    /// with `viewer`, only those the agent may see (served, or waiting for their groups).
    async fn search_customers(
        &self,
        text: &str,
        viewer: Option<AgentId>,
        limit: u32,
    ) -> Result<Vec<Customer>>;
    async fn tags(&self, customer: CustomerId) -> Result<Vec<String>>;
    async fn set_tags(&self, customer: CustomerId, tags: &[String], now: Timestamp) -> Result<Vec<String>>;
    async fn notes(&self, customer: CustomerId) -> Result<Vec<CustomerNote>>;
    async fn add_note(&self, customer: CustomerId, agent: AgentId, text: &str, now: Timestamp) -> Result<()>;
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    async fn put_media(&self, new: NewMedia, now: Timestamp) -> Result<MediaInfo>;
    async fn media(&self, id: &str) -> Result<(MediaInfo, Vec<u8>)>;
}

#[async_trait]
pub trait KbStore: Send + Sync {
    async fn faq_entries(&self) -> Result<Vec<FaqEntry>>;
    async fn faq_entry(&self, id: &str) -> Result<FaqEntry>;
    /// Inserts or replaces entries (an empty id gets a new one) in one transaction.
    async fn put_faqs(&self, entries: Vec<FaqEntry>, now: Timestamp) -> Result<Vec<FaqEntry>>;
    async fn delete_faq(&self, id: &str) -> Result<()>;
    /// Changes with every edit of the knowledge base.
    async fn kb_version(&self) -> Result<i64>;
    async fn add_candidates(&self, new: Vec<NewCandidate>, now: Timestamp) -> Result<usize>;
    async fn candidates(&self, status: &str) -> Result<Vec<FaqCandidate>>;
    async fn candidate(&self, id: i64) -> Result<FaqCandidate>;
    async fn decide_candidate(&self, id: i64, status: &str, now: Timestamp) -> Result<()>;
}

/// What routing needs: loads, an atomic capacity-checked assignment, the queue, surveys.
#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// Active (assigned) conversations, capacity and last assignment of each agent.
    async fn agent_loads(&self, agents: &[AgentId]) -> Result<Vec<AgentLoad>>;
    /// Assigns the conversation to the first of `candidates` that is online and under capacity,
    /// atomically (see the rule in `sql/routing.rs`). With `round_robin`, candidates are tried
    /// starting after the group's last assigned agent, and that pointer moves on.
    async fn assign_first(
        &self,
        id: ConversationId,
        candidates: &[AgentId],
        round_robin: Option<SkillGroupId>,
        now: Timestamp,
    ) -> Result<Option<Conversation>>;
    /// The agent who last served this customer at or after `since`.
    async fn last_agent_of(&self, customer: CustomerId, since: Timestamp) -> Result<Option<AgentId>>;
    /// Queued conversations of a group (all groups with `None`) whose customer is waiting —
    /// has written, not only followed — longest waiting first.
    async fn queue(&self, group: Option<SkillGroupId>) -> Result<Vec<Conversation>>;
    /// One queue exactly (`None`: the conversations in no group), longest waiting first, with
    /// each customer's last agent since `sticky_since`. A conversation whose latest message is
    /// still being answered (its `inbound` job pending) is not in it yet: that job serves it
    /// once the welcome and the bot's answer are written, so they come first.
    async fn queue_rows(&self, group: Option<SkillGroupId>, sticky_since: Timestamp)
    -> Result<Vec<QueueRow>>;
    /// The group's round-robin pointer: the agent it assigned last.
    async fn rr_last(&self, group: SkillGroupId) -> Result<Option<AgentId>>;
    async fn queue_position_told(&self, id: ConversationId) -> Result<Option<u32>>;
    async fn set_queue_position_told(&self, id: ConversationId, position: u32) -> Result<()>;
    /// Open conversations served by the bot or an agent with no activity since `before`.
    async fn idle_since(&self, before: Timestamp) -> Result<Vec<Conversation>>;
    /// Opens a satisfaction survey on a closed conversation until `until`.
    async fn open_survey(&self, id: ConversationId, until: Timestamp) -> Result<()>;
    /// The closed conversation of this identity whose survey is still open at `now`.
    async fn open_survey_of(
        &self,
        channel: ChannelId,
        external_id: &str,
        now: Timestamp,
    ) -> Result<Option<Conversation>>;
    /// Records the rating and closes the survey.
    async fn set_satisfaction(&self, id: ConversationId, score: u8) -> Result<()>;
}

/// The data API's reads: the change feed, filtered lists, and the dashboards' facts.
#[async_trait]
pub trait FeedStore: Send + Sync {
    /// Changes with `seq > after`, in seq order.
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    async fn last_change_seq(&self) -> Result<i64>;
    async fn find_conversations(&self, f: &DataConversationFilter) -> Result<Vec<Conversation>>;
    async fn find_messages(&self, f: &MessageFilter) -> Result<Vec<Message>>;
    /// Customers not merged away, by id, `after` the given one.
    async fn customers_after(&self, after: i64, limit: u32) -> Result<Vec<Customer>>;
    async fn conversation_tags(&self, conv: ConversationId) -> Result<Vec<String>>;
    async fn set_conversation_tags(
        &self,
        conv: ConversationId,
        tags: &[String],
        now: Timestamp,
    ) -> Result<()>;
    /// Counts for operations monitoring: `(metric, label value, count)`, e.g.
    /// `("conversations", "queued", 3)`.
    async fn gauges(&self) -> Result<Vec<(&'static str, String, i64)>>;
    /// Facts about every conversation created in `[from, to)`.
    async fn conversation_facts(&self, from: Timestamp, to: Timestamp) -> Result<Vec<ConversationFacts>>;
}

/// API keys and outbound webhooks with their durable delivery outbox.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    async fn create_api_key(&self, key: NewApiKey<'_>, now: Timestamp) -> Result<ApiKey>;
    /// The key with this prefix and its secret hash, revoked or not.
    async fn api_key(&self, prefix: &str) -> Result<Option<(ApiKey, String)>>;
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;
    async fn revoke_api_key(&self, id: i64, now: Timestamp) -> Result<()>;
    async fn touch_api_key(&self, id: i64, now: Timestamp) -> Result<()>;
    /// A new endpoint starts at the current end of the feed: it gets what happens from now on.
    async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        events: &[String],
        now: Timestamp,
    ) -> Result<Webhook>;
    async fn update_webhook(&self, id: i64, url: &str, events: &[String], enabled: bool) -> Result<Webhook>;
    async fn webhooks(&self) -> Result<Vec<Webhook>>;
    async fn webhook(&self, id: i64) -> Result<Webhook>;
    async fn webhook_secret(&self, id: i64) -> Result<String>;
    /// Inserts the deliveries and moves the endpoint's cursor from `from` to `to` in one
    /// transaction; false (and nothing written) if another node moved it first.
    async fn enqueue_deliveries(
        &self,
        webhook: i64,
        from: i64,
        to: i64,
        d: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool>;
    /// Leases up to `limit` due deliveries until `lease_until`, counting the attempt.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>>;
    async fn finish_delivery(&self, id: i64, outcome: &DeliveryOutcome, now: Timestamp) -> Result<()>;
    /// The delivery log of an endpoint, newest first.
    async fn deliveries(&self, webhook: i64, limit: u32) -> Result<Vec<WebhookDelivery>>;
    /// Puts a failed delivery back in the queue, due now.
    async fn redeliver(&self, id: i64, now: Timestamp) -> Result<()>;
}

/// Typed and verified phones, SMS verification codes, possible matches (see `sql/phones.rs`).
#[async_trait]
pub trait PhoneStore: Send + Sync {
    /// Keeps a number the customer typed, unverified; an identity with a verified phone keeps
    /// it. Returns the identity as it is now.
    async fn set_typed_phone(&self, identity: IdentityId, phone: &str) -> Result<Identity>;
    async fn create_sms_code(&self, new: NewSmsCode, now: Timestamp) -> Result<SmsCode>;
    /// Codes sent to `phone` since `since`, codes sent in the conversation, and the last one.
    async fn sms_counts(
        &self,
        phone: &str,
        conversation: ConversationId,
        since: Timestamp,
    ) -> Result<SmsCounts>;
    async fn latest_sms_code(&self, conversation: ConversationId) -> Result<Option<SmsCode>>;
    /// Counts a wrong guess.
    async fn count_sms_attempt(&self, id: i64) -> Result<()>;
    /// Uses the code (once: `None` if it was used or expired meanwhile) and marks its phone
    /// verified on the identity, in one transaction.
    async fn confirm_sms_code(&self, id: i64, now: Timestamp) -> Result<Option<Identity>>;
    async fn possible_matches(&self, customer: CustomerId) -> Result<Vec<PossibleMatch>>;
}

/// Who may see what (the engine's visibility policy asks these; see `sql/access.rs`).
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Whether the agent ever held any conversation of the customer.
    async fn has_served(&self, agent: AgentId, customer: CustomerId) -> Result<bool>;
    /// Whether the customer has an open, unassigned conversation in one of the agent's skill
    /// groups or in no group (the pool every agent serves).
    async fn waits_for(&self, agent: AgentId, customer: CustomerId) -> Result<bool>;
}

/// Abuse guards every node shares: the login throttle, used signatures, run-time settings.
#[async_trait]
pub trait GuardStore: Send + Sync {
    /// Failed logins for `key` in the window that started at or after `since`.
    async fn login_failures(&self, key: &str, since: Timestamp) -> Result<u32>;
    /// Counts a failed login; a window older than `since` starts over. Returns the count.
    async fn login_failed(&self, key: &str, since: Timestamp, now: Timestamp) -> Result<u32>;
    async fn login_succeeded(&self, key: &str) -> Result<()>;
    /// Remembers a platform signature with the hash of the body it signed until `expires_at`.
    /// False if the same signature was already used with a different body.
    async fn remember_signature(
        &self,
        channel: ChannelId,
        sign: &str,
        body_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    /// Drops expired signatures and login windows that started before `stale_before`.
    async fn purge_guards(&self, now: Timestamp, stale_before: Timestamp) -> Result<u64>;
    async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>>;
    async fn put_setting(&self, key: &str, value: &serde_json::Value, now: Timestamp) -> Result<()>;
    /// The setting's secrets (an access key), opened; empty when none are stored.
    async fn setting_secrets(&self, key: &str) -> Result<serde_json::Value>;
    /// Seals and stores the setting's secrets (the setting itself must exist).
    async fn put_setting_secrets(&self, key: &str, secrets: &serde_json::Value) -> Result<()>;
}

/// Applying decisions: a batch of effects in one transaction (see `sql/apply.rs`), and taking a
/// reply held for WeChat's passive reply.
#[async_trait]
pub trait ApplyStore: Send + Sync {
    /// All effects or none; `StoreError::Concurrent` when a precondition no longer holds (the
    /// caller decides again on fresh data), `LeaseLost` when the finishing job was taken over.
    async fn apply(&self, batch: Batch) -> Result<Applied>;
    /// Takes the held message with this key for the HTTP response, if no worker started it.
    async fn take_held(&self, channel: ChannelId, key: &str, now: Timestamp) -> Result<Option<Message>>;
    /// Sends the held message through the API now instead of at the end of its hold.
    async fn release_held(&self, channel: ChannelId, key: &str, now: Timestamp) -> Result<()>;
}

/// The durable job table and node leases (see `sql/jobs.rs`).
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn enqueue_jobs(&self, jobs: &[kefu_domain::NewJob], now: Timestamp) -> Result<Vec<i64>>;
    /// Claims up to `limit` due jobs (only job `only`, if given) under `lease` until `until`.
    async fn claim_jobs(
        &self,
        only: Option<i64>,
        lease: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>>;
    /// Records the end of an attempt; false if `lease` no longer holds the job.
    async fn end_job(&self, id: i64, lease: &str, end: JobEnd, now: Timestamp) -> Result<bool>;
    async fn next_job_due(&self) -> Result<Option<Timestamp>>;
    /// Jobs in a state (`failed`, `pending`, `done`), newest first.
    async fn jobs(&self, state: &str, limit: u32) -> Result<Vec<JobRow>>;
    /// Puts a failed job back, due now.
    async fn retry_job(&self, id: i64, now: Timestamp) -> Result<()>;
    /// Takes (or renews) the named lease for `holder` unless another holder's is still running.
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool>;
    /// Gives up every lease of `holder` (a node shutting down), including claimed jobs.
    async fn release_leases(&self, holder: &str) -> Result<()>;
}

/// Everything kefu stores. One implementation serves SQLite and PostgreSQL.
pub trait Store:
    ChannelStore
    + AgentStore
    + AccountStore
    + ConversationStore
    + MessageStore
    + OutboxStore
    + PlatformStore
    + MediaStore
    + KbStore
    + RoutingStore
    + CustomerStore
    + FeedStore
    + IntegrationStore
    + PhoneStore
    + AccessStore
    + GuardStore
    + ApplyStore
    + JobStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: ChannelStore
        + AgentStore
        + AccountStore
        + ConversationStore
        + MessageStore
        + OutboxStore
        + PlatformStore
        + MediaStore
        + KbStore
        + RoutingStore
        + CustomerStore
        + FeedStore
        + IntegrationStore
        + PhoneStore
        + AccessStore
        + GuardStore
        + ApplyStore
        + JobStore
        + Send
        + Sync
{
}
