//! The engine facade: every change to conversations goes through here, so events and the
//! outbox are never forgotten by a caller.

use std::collections::HashMap;
use std::sync::Arc;

use kefu_channels::Outbound;
use kefu_domain::*;
use kefu_store::{Inbound, IngestOutcome, NewOutbound, Store, StoreError};
use tokio::sync::Notify;

use crate::bot::{Bot, BotConfig};
use crate::bus::{Bus, BusError, Event, Published, Subject};
use crate::routing::RoutingConfig;

/// The send path of each channel kind.
#[derive(Clone, Default)]
pub struct Senders(HashMap<ChannelKind, Arc<dyn Outbound>>);

impl Senders {
    pub fn with(mut self, kind: ChannelKind, sender: Arc<dyn Outbound>) -> Self {
        self.0.insert(kind, sender);
        self
    }

    pub fn get(&self, kind: ChannelKind) -> Option<&Arc<dyn Outbound>> {
        self.0.get(&kind)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("{0}")]
    Invalid(String),
    /// The platform's rules forbid sending now (e.g. WeChat's 48-hour window).
    #[error("{0}")]
    Refused(String),
    /// The request names something that does not exist (a transfer to an unknown agent).
    #[error("no such {0}")]
    Unknown(&'static str),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => EngineError::NotFound,
            StoreError::Illegal(i) => EngineError::Illegal(i),
            other => EngineError::Store(other),
        }
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

pub struct Engine {
    pub(crate) store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    pub(crate) clock: Arc<dyn Clock>,
    outbox_wake: Arc<Notify>,
    jobs_wake: Arc<Notify>,
    /// This engine's name in node-wide leases (the lifecycle tick).
    pub(crate) node: String,
    pub(crate) bot: Arc<Bot>,
    pub(crate) routing: RoutingConfig,
    pub(crate) sms: Arc<dyn crate::verify::SmsGateway>,
    pub(crate) media_http: reqwest::Client,
}

impl Engine {
    /// An engine without a bot: every conversation starts in the queue.
    pub fn new(store: Arc<dyn Store>, bus: Arc<dyn Bus>, clock: Arc<dyn Clock>) -> Self {
        let bot = Arc::new(Bot::new(BotConfig { enabled: false, ..Default::default() }));
        Engine {
            bus,
            clock,
            outbox_wake: Arc::new(Notify::new()),
            jobs_wake: Arc::new(Notify::new()),
            node: format!("engine-{:016x}", rand::random::<u64>()),
            bot,
            routing: RoutingConfig::default(),
            sms: Arc::new(crate::verify::StoreSms::new(store.clone())),
            media_http: crate::media::media_client(),
            store,
        }
    }

    /// Replaces where verification codes are sent (the run-time `sms` setting by default).
    pub fn with_sms(mut self, sms: Arc<dyn crate::verify::SmsGateway>) -> Self {
        self.sms = sms;
        self
    }

    pub fn with_bot(mut self, bot: Arc<Bot>) -> Self {
        self.bot = bot;
        self
    }

    pub fn with_routing(mut self, routing: RoutingConfig) -> Self {
        self.routing = routing;
        self
    }

    pub fn bot(&self) -> &Arc<Bot> {
        &self.bot
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Handed to the outbox worker so new messages are sent at once instead of at the next poll.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }

    /// Wakes the job runner when new jobs are written.
    pub fn jobs_wake(&self) -> Arc<Notify> {
        self.jobs_wake.clone()
    }

    /// Tells every open workbench that a message changed (status, error).
    pub async fn announce_message(&self, message: Message) {
        self.publish(Subject::conversation(message.conversation_id), Event::MessageUpdated { message }).await;
    }

    /// Publishes after a commit, at the change feed's current position. A lost event only
    /// delays a screen update (clients catch up on reconnect), so a bus failure is logged,
    /// never turned into a failed request.
    pub(crate) async fn publish(&self, subject: Subject, event: Event) {
        let pos = self.store.last_change_seq().await.unwrap_or(0);
        self.publish_at(subject, event, pos).await;
    }

    pub(crate) async fn publish_at(&self, subject: Subject, event: Event, pos: i64) {
        if let Err(e) = self.bus.publish(subject, Published { pos, event }).await {
            tracing::warn!(error = %e, "event not published");
        }
    }

    /// Takes one customer message: once this returns `Ok`, the message is durable and may be
    /// acknowledged to the platform. A new conversation starts with the bot when the bot serves
    /// the channel, otherwise in the queue (whatever `initial_state` the caller set).
    pub async fn receive(&self, mut inbound: Inbound) -> Result<IngestOutcome> {
        if let Some(outcome) = self.survey_reply(&inbound).await? {
            self.after_ingest(&outcome).await;
            return Ok(outcome);
        }
        let channel = self.store.channel(inbound.channel_id).await?;
        inbound.initial_state =
            if self.bot.serves(&channel) { ConversationState::Bot } else { ConversationState::Queued };
        // A conversation that goes straight to people starts in the group its words point to.
        if inbound.initial_state == ConversationState::Queued
            && let Some(text) = inbound.content.plain_text()
        {
            inbound.initial_group = self.group_for_text(&text).await?;
        }
        let outcome = self.store.ingest(inbound).await?;
        self.after_ingest(&outcome).await;
        Ok(outcome)
    }

    /// Events for a stored customer message, and a wake-up for its `inbound` job.
    async fn after_ingest(&self, outcome: &IngestOutcome) {
        if let IngestOutcome::Accepted(a) = outcome {
            self.jobs_wake.notify_one();
            let subject = Subject::conversation(a.conversation.id);
            if a.new_conversation {
                self.publish(
                    subject.clone(),
                    Event::ConversationUpdated { conversation: a.conversation.clone() },
                )
                .await;
            }
            let event =
                Event::MessageCreated { message: a.message.clone(), conversation: a.conversation.clone() };
            self.publish(subject, event).await;
        }
    }

    /// [`Engine::receive`], retried for a few seconds while the database is briefly unavailable
    /// (a dropped connection, a busy pool): ingest is idempotent, so a retry never doubles.
    pub async fn receive_retrying(&self, inbound: Inbound) -> Result<IngestOutcome> {
        let mut wait = std::time::Duration::from_millis(100);
        for _ in 0..5 {
            match self.receive(inbound.clone()).await {
                Err(EngineError::Store(e)) if e.is_transient() => {
                    tracing::warn!(error = %e, "storing a customer message failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                other => return other,
            }
        }
        self.receive(inbound).await
    }

    /// Applies a lifecycle event and tells every open workbench.
    pub async fn apply(&self, id: ConversationId, event: ConversationEvent) -> Result<Conversation> {
        let applied = self.commit(vec![Effect::Transition { conversation: id, event }]).await?;
        applied.conversations.into_iter().find(|c| c.id == id).ok_or(EngineError::NotFound)
    }

    /// An agent may act on a conversation they hold; supervisors and admins on any.
    pub(crate) fn check_holder(agent: &Agent, conv: &Conversation) -> Result<()> {
        let holds = conv.status.agent == Some(agent.id) && conv.state() == ConversationState::Assigned;
        if holds || agent.role.at_least(Role::Supervisor) {
            Ok(())
        } else {
            Err(EngineError::Forbidden("this conversation is served by another agent"))
        }
    }

    /// Takes a waiting conversation (queue, bot, or leave-message ticket) for `agent`.
    /// Routing may have given it to this very agent a moment ago; that is not a conflict.
    pub async fn claim(&self, agent: &Agent, id: ConversationId) -> Result<Conversation> {
        match self.apply(id, ConversationEvent::Assign { agent: agent.id }).await {
            Err(EngineError::Illegal(e)) => {
                let now = self.store.conversation(id).await?;
                let mine = now.state() == ConversationState::Assigned && now.status.agent == Some(agent.id);
                if mine { Ok(now) } else { Err(EngineError::Illegal(e)) }
            }
            other => other,
        }
    }

    /// Sends an agent's reply. Replying to an unassigned open conversation claims it, in the
    /// same transaction. `client_key` makes a resubmitted reply (double click, retry) a no-op.
    pub async fn reply(
        &self,
        agent: &Agent,
        id: ConversationId,
        content: Content,
        client_key: Option<String>,
    ) -> Result<Message> {
        let conv = self.store.conversation(id).await?;
        let mut e = vec![];
        match conv.state() {
            ConversationState::Closed => {
                return Err(EngineError::Invalid("the conversation is closed".into()));
            }
            ConversationState::Assigned => Self::check_holder(agent, &conv)?,
            _ => e.push(Effect::Transition {
                conversation: id,
                event: ConversationEvent::Assign { agent: agent.id },
            }),
        }
        self.check_window(&conv).await?;
        let dedupe_key = client_key.map(|k| format!("agent:{}:{k}", agent.id));
        if let Some(key) = &dedupe_key
            && let Some(m) = self.store.message_by_key(conv.channel_id, key).await?
        {
            return Ok(m);
        }
        let mut out = Outgoing::new(id, Sender::Agent { id: agent.id }, content);
        out.dedupe_key = dedupe_key;
        e.push(Effect::Send(out));
        let applied = self.commit(e).await?;
        applied.messages.into_iter().next().ok_or(EngineError::NotFound)
    }

    /// Queues a message kefu itself sends (bot answers, notices), bypassing agent checks.
    pub async fn send_as(&self, id: ConversationId, sender: Sender, content: Content) -> Result<Message> {
        let applied = self.commit(vec![Effect::Send(Outgoing::new(id, sender, content))]).await?;
        applied.messages.into_iter().next().ok_or(EngineError::NotFound)
    }

    /// Refuses a message the platform would refuse anyway (48-hour window, 5-message cap),
    /// so the agent is told at once and in words.
    pub async fn check_window(&self, conv: &Conversation) -> Result<()> {
        let channel = self.store.channel(conv.channel_id).await?;
        if kefu_channels::rules::reply_window(channel.kind).is_none() {
            return Ok(());
        }
        let since = conv.last_inbound_at.unwrap_or(Timestamp(0));
        let sent = self.store.outbound_since(conv.id, since).await?;
        kefu_channels::rules::check_reply(channel.kind, conv.last_inbound_at, sent, self.clock.now())
            .map_err(|r| EngineError::Refused(r.to_string()))
    }

    /// Records a reply that goes back inside the platform's HTTP response (WeChat's passive
    /// reply). Keyed by the inbound message, so a platform retry gets the very same reply.
    pub async fn record_passive(
        &self,
        inbound: &Message,
        sender: Sender,
        content: Content,
    ) -> Result<Message> {
        let new = NewOutbound {
            conversation_id: inbound.conversation_id,
            sender,
            content,
            dedupe_key: Some(crate::turns::passive_key(inbound.id)),
            created_at: self.clock.now(),
        };
        let (message, created) = self.store.record_sent(new).await?;
        if created {
            let conversation = self.store.conversation(message.conversation_id).await?;
            self.publish(
                Subject::conversation(message.conversation_id),
                Event::MessageCreated { message: message.clone(), conversation },
            )
            .await;
        }
        Ok(message)
    }

    /// The passive reply already given to `inbound`, for answering a platform retry.
    pub async fn passive_reply_to(&self, inbound: &Message) -> Result<Option<Message>> {
        Ok(self.store.message_by_key(inbound.channel_id, &crate::turns::passive_key(inbound.id)).await?)
    }

    /// A web visitor's browser confirms it showed `message`. Only messages of the visitor's own
    /// conversations can be confirmed, and a status only moves forward.
    pub async fn visitor_delivered(&self, channel: ChannelId, visitor: &str, id: MessageId) -> Result<()> {
        let message = self.store.message(id).await?;
        let conv = self.store.conversation(message.conversation_id).await?;
        let identity = self.store.identity(conv.identity_id).await?;
        if message.channel_id != channel || identity.external_id != visitor {
            return Err(EngineError::NotFound);
        }
        if matches!(message.status, DeliveryStatus::Pending | DeliveryStatus::Sent) {
            let message = self.store.set_message_status(id, DeliveryStatus::Delivered, None).await?;
            self.publish(Subject::conversation(conv.id), Event::MessageUpdated { message }).await;
        }
        Ok(())
    }
}

impl Engine {
    /// A reply to an open satisfaction survey is recorded on the closed conversation instead
    /// of opening a new one.
    async fn survey_reply(&self, inbound: &Inbound) -> Result<Option<IngestOutcome>> {
        if inbound.content.plain_text().as_deref().and_then(crate::lifecycle::rating).is_none() {
            return Ok(None);
        }
        let now = self.clock.now();
        let Some(closed) = self.store.open_survey_of(inbound.channel_id, &inbound.external_id, now).await?
        else {
            return Ok(None);
        };
        // Stored on the closed conversation; its `inbound` job records the rating and thanks.
        Ok(Some(self.store.append_inbound(closed.id, inbound.clone()).await?))
    }
}
