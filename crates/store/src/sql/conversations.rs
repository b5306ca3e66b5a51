//! Conversations: atomic ingest of inbound messages, listing, and state-machine updates.

use async_trait::async_trait;
use kefu_domain::conversation::{Status, transition};
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Conn, Tx, q};
use super::rows::{self, conversation_cols, identity_cols, message_cols};
use crate::model::*;
use crate::{ConversationStore, Result, StoreError};

async fn find_identity(c: &mut Conn<'_>, channel: ChannelId, external_id: &str) -> Result<Option<Identity>> {
    let r = c
        .opt(q!(
            concat!(
                "SELECT ",
                identity_cols!(),
                " FROM identities i WHERE i.channel_id = $1 AND i.external_id = $2"
            ),
            channel.0,
            external_id
        ))
        .await?;
    r.as_ref().map(rows::identity).transpose()
}

async fn find_customer(c: &mut Conn<'_>, id: CustomerId) -> Result<Customer> {
    let r = c.one(q!("SELECT id, display_name, created_at FROM customers WHERE id = $1", id.0)).await?;
    rows::customer(&r)
}

/// Finds the sender's identity, creating the customer and identity on first contact.
/// Newly learnt profile fields are filled in; known ones are never overwritten here.
async fn upsert_identity(tx: &mut Tx, inb: &Inbound) -> Result<(Customer, Identity)> {
    let p = &inb.profile;
    if let Some(id) = find_identity(&mut tx.conn(), inb.channel_id, &inb.external_id).await? {
        let identity = if learns_something(&id, p) {
            fill_profile(&mut tx.conn(), id.id, p).await?;
            find_identity(&mut tx.conn(), inb.channel_id, &inb.external_id)
                .await?
                .ok_or(StoreError::NotFound)?
        } else {
            id
        };
        return Ok((find_customer(&mut tx.conn(), identity.customer_id).await?, identity));
    }
    let name = p.nickname.clone().unwrap_or_else(|| DEFAULT_PREFIX.trim_end().to_owned());
    let cust = tx
        .conn()
        .one(q!(
            "INSERT INTO customers (display_name, created_at) VALUES ($1, $2) RETURNING id",
            &name,
            inb.received_at.0
        ))
        .await?;
    let customer_id = cust.int("id")?;
    if p.nickname.is_none() {
        let sql = "UPDATE customers SET display_name = $1 WHERE id = $2";
        tx.conn().exec(q!(sql, default_name(customer_id), customer_id)).await?;
    }
    tx.conn()
        .exec(q!(
            "INSERT INTO identities (customer_id, channel_id, external_id, union_id, phone, phone_verified, \
             nickname, created_at) VALUES ($1, $2, $3, $4, $5, $8, $6, $7)",
            customer_id,
            inb.channel_id.0,
            &inb.external_id,
            p.union_id.clone(),
            p.phone.clone(),
            p.nickname.clone(),
            inb.received_at.0,
            p.phone.is_some()
        ))
        .await?;
    let identity =
        find_identity(&mut tx.conn(), inb.channel_id, &inb.external_id).await?.ok_or(StoreError::NotFound)?;
    Ok((find_customer(&mut tx.conn(), identity.customer_id).await?, identity))
}

/// Whether a profile adds anything to an identity (most messages carry nothing new, and an
/// update that changes nothing still costs a write).
fn learns_something(i: &Identity, p: &Profile) -> bool {
    (p.nickname.is_some() && i.nickname.is_none())
        || (p.union_id.is_some() && i.union_id.is_none())
        || (p.phone.is_some() && (!i.phone_verified || i.phone.is_none()))
}

/// Fills in what the identity lacks. A platform's phone is verified, so it replaces a number
/// the customer only typed; a verified phone is never overwritten.
async fn fill_profile(c: &mut Conn<'_>, identity: IdentityId, p: &Profile) -> Result<()> {
    c.exec(q!(
        "UPDATE identities SET nickname = COALESCE(nickname, $1), union_id = COALESCE(union_id, $2), \
         phone = CASE WHEN phone_verified THEN phone ELSE COALESCE($3, phone) END, \
         phone_verified = (phone_verified OR $3 IS NOT NULL) WHERE id = $4",
        p.nickname.clone(),
        p.union_id.clone(),
        p.phone.clone(),
        identity.0
    ))
    .await?;
    if let Some(nick) = &p.nickname {
        // A nickname learnt later (the user API) replaces the placeholder, never a real name.
        let placeholder = format!("{DEFAULT_PREFIX}%");
        c.exec(q!(
            "UPDATE customers SET display_name = $1 WHERE display_name LIKE $2 AND id = \
             (SELECT customer_id FROM identities WHERE id = $3)",
            nick,
            placeholder,
            identity.0
        ))
        .await?;
    }
    Ok(())
}

/// Customers without a platform nickname are "访客 <their number>" ("visitor 1024"): short,
/// readable and unique, unlike fragments of an OpenID.
const DEFAULT_PREFIX: &str = "访客 ";

fn default_name(customer: i64) -> String {
    format!("{DEFAULT_PREFIX}{customer}")
}

/// A platform event (a follow, entering the chat) is not a request for a person: a queued
/// conversation starts waiting — gets its `queued_at` — with the customer's first real message.
fn waits_for_person(inb: &Inbound) -> bool {
    !matches!(inb.content, Content::Event { .. })
}

async fn open_conversation(c: &mut Conn<'_>, identity: IdentityId) -> Result<Option<Conversation>> {
    let r = c
        .opt(q!(
            concat!(
                "SELECT ",
                conversation_cols!(),
                " FROM conversations c WHERE c.identity_id = $1 AND c.state <> 'closed'"
            ),
            identity.0
        ))
        .await?;
    r.as_ref().map(rows::conversation).transpose()
}

async fn find_or_open_conversation(
    tx: &mut Tx,
    inb: &Inbound,
    ident: &Identity,
) -> Result<(Conversation, bool)> {
    if let Some(c) = open_conversation(&mut tx.conn(), ident.id).await? {
        return Ok((c, false));
    }
    let queued_at = (inb.initial_state == ConversationState::Queued && waits_for_person(inb))
        .then_some(inb.received_at.0);
    tx.conn()
        .exec(q!(
            "INSERT INTO conversations (customer_id, identity_id, channel_id, state, created_at, updated_at, queued_at, \
             group_id) VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
            ident.customer_id.0,
            ident.id.0,
            inb.channel_id.0,
            inb.initial_state.as_str(),
            inb.received_at.0,
            queued_at,
            inb.initial_group.map(|g| g.0)
        ))
        .await?;
    let conv = open_conversation(&mut tx.conn(), ident.id).await?.ok_or(StoreError::NotFound)?;
    Ok((conv, true))
}

pub(super) async fn message_by_key(
    c: &mut Conn<'_>,
    channel: ChannelId,
    key: &str,
) -> Result<Option<Message>> {
    let r = c
        .opt(q!(
            concat!(
                "SELECT ",
                message_cols!(),
                " FROM messages m WHERE m.channel_id = $1 AND m.dedupe_key = $2"
            ),
            channel.0,
            key
        ))
        .await?;
    r.as_ref().map(rows::message).transpose()
}

/// Inserts a message row; `None` means its dedupe key was already taken.
pub(super) async fn insert_message(
    c: &mut Conn<'_>,
    m: &Message,
    dedupe_key: Option<&str>,
) -> Result<Option<Message>> {
    let (sender_kind, sender_agent) = rows::sender_parts(&m.sender);
    let content = serde_json::to_string(&m.content).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let r = c
        .opt(q!(
            "INSERT INTO messages (conversation_id, channel_id, direction, sender_kind, sender_agent_id, content, \
             body_text, dedupe_key, platform_msg_id, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT DO NOTHING RETURNING id",
            m.conversation_id.0,
            m.channel_id.0,
            rows::direction_str(m.direction),
            sender_kind,
            sender_agent,
            content,
            m.content.plain_text(),
            dedupe_key,
            m.platform_msg_id.clone(),
            m.status.as_str(),
            m.created_at.0
        ))
        .await?;
    Ok(match r {
        Some(r) => Some(Message { id: MessageId(r.int("id")?), ..m.clone() }),
        None => None,
    })
}

/// The customer's message as it will be stored (the id comes from the insert).
fn inbound_draft(inb: &Inbound, conversation: ConversationId) -> Message {
    Message {
        id: MessageId(0),
        conversation_id: conversation,
        channel_id: inb.channel_id,
        direction: Direction::Inbound,
        sender: Sender::Customer,
        content: inb.content.clone(),
        platform_msg_id: inb.dedupe_key.clone(),
        status: DeliveryStatus::Received,
        error: None,
        created_at: inb.received_at,
    }
}

/// The answer to a stored customer message is a job written with it: a crash after the ack
/// cannot lose the bot's turn or the routing.
async fn inbound_job(tx: &mut Tx, m: &Message, new_conversation: bool, inb: &Inbound) -> Result<Option<i64>> {
    let job = Job::Inbound {
        message: m.id,
        conversation: m.conversation_id,
        new_conversation,
        passive: inb.passive,
    };
    super::jobs::enqueue_in(tx, &NewJob { job, run_at: inb.received_at }, inb.received_at).await
}

async fn ingest_in(tx: &mut Tx, inb: &Inbound) -> Result<IngestOutcome> {
    if let Some(key) = &inb.dedupe_key
        && let Some(m) = message_by_key(&mut tx.conn(), inb.channel_id, key).await?
    {
        return Ok(IngestOutcome::Duplicate(m));
    }
    let (customer, identity) = upsert_identity(tx, inb).await?;
    let (mut conversation, new_conversation) = find_or_open_conversation(tx, inb, &identity).await?;
    let draft = inbound_draft(inb, conversation.id);
    let Some(message) = insert_message(&mut tx.conn(), &draft, inb.dedupe_key.as_deref()).await? else {
        return Err(StoreError::Concurrent);
    };
    tx.conn()
        .exec(q!(
            "UPDATE conversations SET last_inbound_at = $1, updated_at = $1 WHERE id = $2",
            inb.received_at.0,
            conversation.id.0
        ))
        .await?;
    if conversation.state() == ConversationState::Queued
        && conversation.queued_at.is_none()
        && waits_for_person(inb)
    {
        tx.conn()
            .exec(q!(
                "UPDATE conversations SET queued_at = $1 WHERE id = $2",
                inb.received_at.0,
                conversation.id.0
            ))
            .await?;
        conversation.queued_at = Some(inb.received_at);
    }
    conversation.last_inbound_at = Some(inb.received_at);
    conversation.updated_at = inb.received_at;
    let job = inbound_job(tx, &message, new_conversation, inb).await?;
    Ok(IngestOutcome::Accepted(Box::new(Accepted {
        message,
        conversation,
        customer,
        identity,
        new_conversation,
        job,
    })))
}

#[async_trait]
impl ConversationStore for SqlStore {
    async fn ingest(&self, inbound: Inbound) -> Result<IngestOutcome> {
        // A concurrent delivery of the same message (or first contact of the same person) may
        // win a unique index between our read and write; retrying sees its committed result.
        for _ in 0..3 {
            let mut tx = self.begin().await?;
            match ingest_in(&mut tx, &inbound).await {
                Ok(out) => {
                    tx.commit().await?;
                    return Ok(out);
                }
                Err(StoreError::Concurrent) => continue,
                Err(StoreError::Db(e)) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Concurrent)
    }

    async fn append_inbound(&self, id: ConversationId, inb: Inbound) -> Result<IngestOutcome> {
        let mut tx = self.begin().await?;
        if let Some(key) = &inb.dedupe_key
            && let Some(m) = message_by_key(&mut tx.conn(), inb.channel_id, key).await?
        {
            return Ok(IngestOutcome::Duplicate(m));
        }
        let conv = rows::conversation(
            &tx.conn()
                .one(q!(
                    concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1"),
                    id.0
                ))
                .await?,
        )?;
        let identity = find_identity(&mut tx.conn(), inb.channel_id, &inb.external_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let customer = find_customer(&mut tx.conn(), identity.customer_id).await?;
        let draft = inbound_draft(&inb, conv.id);
        let message = insert_message(&mut tx.conn(), &draft, inb.dedupe_key.as_deref())
            .await?
            .ok_or(StoreError::Concurrent)?;
        let job = inbound_job(&mut tx, &message, false, &inb).await?;
        tx.commit().await?;
        Ok(IngestOutcome::Accepted(Box::new(Accepted {
            message,
            conversation: conv,
            customer,
            identity,
            new_conversation: false,
            job,
        })))
    }

    async fn conversation(&self, id: ConversationId) -> Result<Conversation> {
        let r = self
            .reader()
            .one(q!(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1"), id.0))
            .await?;
        rows::conversation(&r)
    }

    async fn conversations(&self, f: &ConversationFilter) -> Result<Vec<ConversationSummary>> {
        super::conversation_list::list(self, f).await
    }

    async fn apply_event(
        &self,
        id: ConversationId,
        event: ConversationEvent,
        now: Timestamp,
    ) -> Result<Conversation> {
        let mut tx = self.begin().await?;
        let c = transition_in(&mut tx, id, event, now).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn customer(&self, id: CustomerId) -> Result<Customer> {
        find_customer(&mut self.reader(), id).await
    }

    async fn identity(&self, id: IdentityId) -> Result<Identity> {
        let r = self
            .reader()
            .one(q!(concat!("SELECT ", identity_cols!(), " FROM identities i WHERE i.id = $1"), id.0))
            .await?;
        rows::identity(&r)
    }

    async fn update_profile(&self, identity: IdentityId, p: &Profile) -> Result<Identity> {
        fill_profile(&mut self.writer(), identity, p).await?;
        self.identity(identity).await
    }

    async fn bot_state(&self, id: ConversationId) -> Result<Option<String>> {
        self.reader()
            .one(q!("SELECT bot_state FROM conversations WHERE id = $1", id.0))
            .await?
            .opt_text("bot_state")
    }

    async fn set_bot_state(&self, id: ConversationId, state: &str) -> Result<()> {
        self.writer().exec(q!("UPDATE conversations SET bot_state = $1 WHERE id = $2", state, id.0)).await?;
        Ok(())
    }

    async fn awaiting(&self, id: ConversationId) -> Result<Option<String>> {
        self.reader()
            .one(q!("SELECT awaiting FROM conversations WHERE id = $1", id.0))
            .await?
            .opt_text("awaiting")
    }

    async fn set_awaiting(&self, id: ConversationId, what: Option<&str>) -> Result<()> {
        self.writer().exec(q!("UPDATE conversations SET awaiting = $1 WHERE id = $2", what, id.0)).await?;
        Ok(())
    }

    async fn find_identity(&self, channel: ChannelId, external_id: &str) -> Result<Option<Identity>> {
        find_identity(&mut self.reader(), channel, external_id).await
    }

    async fn open_conversation_of(
        &self,
        channel: ChannelId,
        external_id: &str,
    ) -> Result<Option<Conversation>> {
        match find_identity(&mut self.reader(), channel, external_id).await? {
            Some(i) => open_conversation(&mut self.reader(), i.id).await,
            None => Ok(None),
        }
    }
}

/// The conversation row, locked for the rest of the transaction on PostgreSQL (SQLite has a
/// single writer).
pub(crate) async fn lock_conversation(tx: &mut Tx, id: ConversationId) -> Result<Conversation> {
    let sql = if tx.is_postgres() {
        concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1 FOR UPDATE")
    } else {
        concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1")
    };
    rows::conversation(&tx.conn().one(q!(sql, id.0)).await?)
}

/// Applies a lifecycle event through the state machine inside `tx`. A conversation that
/// closes gets its `closed` job in the same transaction, whichever path closed it.
pub(crate) async fn transition_in(
    tx: &mut Tx,
    id: ConversationId,
    event: ConversationEvent,
    now: Timestamp,
) -> Result<Conversation> {
    let current = lock_conversation(tx, id).await?;
    let next: Status = transition(&current.status, &event)?;
    let closed_at = if next.state == ConversationState::Closed { Some(now.0) } else { None };
    // Entering the queue starts the wait (first come, first served); leaving it ends it.
    let queued_at = match (current.state(), next.state) {
        (ConversationState::Queued, ConversationState::Queued) => current.queued_at,
        (_, ConversationState::Queued) => Some(now),
        _ => None,
    };
    tx.conn()
        .exec(q!(
            "UPDATE conversations SET state = $1, agent_id = $2, group_id = $3, close_reason = $4, \
             updated_at = $5, closed_at = COALESCE(closed_at, $6), queued_at = $7, \
             queue_position_told = NULL WHERE id = $8",
            next.state.as_str(),
            next.agent.map(|a| a.0),
            next.group.map(|g| g.0),
            next.close_reason.map(|r| r.as_str()),
            now.0,
            closed_at,
            queued_at.map(|t| t.0),
            id.0
        ))
        .await?;
    if next.state == ConversationState::Closed {
        let job = NewJob { job: Job::Closed { conversation: id }, run_at: now };
        super::jobs::enqueue_in(tx, &job, now).await?;
    }
    Ok(Conversation {
        status: next,
        updated_at: now,
        closed_at: current.closed_at.or(closed_at.map(Timestamp)),
        queued_at,
        ..current
    })
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
