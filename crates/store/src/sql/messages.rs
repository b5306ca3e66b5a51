//! Message history, and outbound messages written together with their outbox job.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::conversations::{insert_message, message_by_key};
use super::exec::{Tx, q};
use super::rows::{self, conversation_cols, message_cols};
use crate::model::{MessagePage, NewOutbound};
use crate::{MessageStore, Result, StoreError};

/// What becomes of an outbound message when it is written.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Pending, with an outbox job due at `due` (now, or later while held for a passive reply).
    Queue { due: Timestamp },
    /// Already reached the platform (a passive reply in the HTTP response).
    Sent,
    /// The platform would refuse it now; recorded as failed with the reason, never sent.
    Failed { reason: String },
}

/// Writes an outbound message (and for `Queue` its outbox job) inside `tx`. A repeated
/// `dedupe_key` returns the first message and `false`.
pub(crate) async fn write_outbound_in(
    tx: &mut Tx,
    new: &NewOutbound,
    mode: &Mode,
) -> Result<(Message, bool)> {
    let conv = rows::conversation(
        &tx.conn()
            .one(q!(
                concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1"),
                new.conversation_id.0
            ))
            .await?,
    )?;
    if let Some(key) = &new.dedupe_key
        && let Some(m) = message_by_key(&mut tx.conn(), conv.channel_id, key).await?
    {
        return Ok((m, false));
    }
    let (status, error) = match mode {
        Mode::Queue { .. } => (DeliveryStatus::Pending, None),
        Mode::Sent => (DeliveryStatus::Sent, None),
        Mode::Failed { reason } => (DeliveryStatus::Failed, Some(reason.clone())),
    };
    let draft = Message {
        id: MessageId(0),
        conversation_id: conv.id,
        channel_id: conv.channel_id,
        direction: Direction::Outbound,
        sender: new.sender,
        content: new.content.clone(),
        platform_msg_id: None,
        status,
        error: error.clone(),
        created_at: new.created_at,
    };
    let message = insert_message(&mut tx.conn(), &draft, new.dedupe_key.as_deref())
        .await?
        .ok_or(StoreError::Concurrent)?;
    if let Some(reason) = &error {
        tx.conn().exec(q!("UPDATE messages SET error = $1 WHERE id = $2", reason, message.id.0)).await?;
    }
    if let Mode::Queue { due } = mode {
        tx.conn()
            .exec(q!(
                "INSERT INTO outbox (message_id, conversation_id, channel_id, state, attempts, next_attempt_at, \
                 created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5, $5)",
                message.id.0,
                conv.id.0,
                conv.channel_id.0,
                due.0,
                new.created_at.0
            ))
            .await?;
    }
    tx.conn()
        .exec(q!("UPDATE conversations SET updated_at = $1 WHERE id = $2", new.created_at.0, conv.id.0))
        .await?;
    Ok((message, true))
}

/// An internal note inside `tx`: shown to agents, never sent.
pub(crate) async fn note_in(
    tx: &mut Tx,
    conversation: ConversationId,
    sender: Sender,
    text: &str,
    now: Timestamp,
) -> Result<Message> {
    let r = tx.conn().one(q!("SELECT channel_id FROM conversations WHERE id = $1", conversation.0)).await?;
    let draft = Message {
        id: MessageId(0),
        conversation_id: conversation,
        channel_id: ChannelId(r.int("channel_id")?),
        direction: Direction::Internal,
        sender,
        content: Content::text(text),
        platform_msg_id: None,
        status: DeliveryStatus::Received,
        error: None,
        created_at: now,
    };
    insert_message(&mut tx.conn(), &draft, None).await?.ok_or(StoreError::Concurrent)
}

impl SqlStore {
    async fn write_outbound(&self, new: NewOutbound, mode: Mode) -> Result<(Message, bool)> {
        let mut tx = self.begin().await?;
        let out = write_outbound_in(&mut tx, &new, &mode).await?;
        tx.commit().await?;
        Ok(out)
    }
}

#[async_trait]
impl MessageStore for SqlStore {
    async fn message(&self, id: MessageId) -> Result<Message> {
        let r = self
            .reader()
            .one(q!(concat!("SELECT ", message_cols!(), " FROM messages m WHERE m.id = $1"), id.0))
            .await?;
        rows::message(&r)
    }

    async fn messages(&self, conversation: ConversationId, page: MessagePage) -> Result<Vec<Message>> {
        let limit = if page.limit == 0 { 50 } else { page.limit.min(500) };
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    message_cols!(),
                    " FROM messages m WHERE m.conversation_id = $1 AND ($2 IS NULL OR m.id < $2) \
                     ORDER BY m.id DESC LIMIT $3"
                ),
                conversation.0,
                page.before.map(|b| b.0),
                limit
            ))
            .await?;
        let mut out = rows.iter().map(rows::message).collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    async fn identity_messages(
        &self,
        channel: ChannelId,
        external_id: &str,
        limit: u32,
    ) -> Result<Vec<Message>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    message_cols!(),
                    " FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                     JOIN identities i ON i.id = c.identity_id \
                     WHERE i.channel_id = $1 AND i.external_id = $2 AND m.direction <> 'internal' \
                     ORDER BY m.id DESC LIMIT $3"
                ),
                channel.0,
                external_id,
                limit.clamp(1, 500)
            ))
            .await?;
        let mut out = rows.iter().map(rows::message).collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    async fn enqueue_outbound(&self, new: NewOutbound) -> Result<(Message, bool)> {
        let due = new.created_at;
        self.write_outbound(new, Mode::Queue { due }).await
    }

    async fn record_sent(&self, new: NewOutbound) -> Result<(Message, bool)> {
        self.write_outbound(new, Mode::Sent).await
    }

    async fn outbound_since(&self, conversation: ConversationId, since: Timestamp) -> Result<u32> {
        let r = self
            .reader()
            .one(q!(
                "SELECT COUNT(*) AS n FROM outbox WHERE conversation_id = $1 AND created_at >= $2 \
                 AND state <> 'dead'",
                conversation.0,
                since.0
            ))
            .await?;
        Ok(u32::try_from(r.int("n")?).unwrap_or(u32::MAX))
    }

    async fn set_message_status(
        &self,
        id: MessageId,
        status: DeliveryStatus,
        error: Option<&str>,
    ) -> Result<Message> {
        let n = self
            .writer()
            .exec(q!(
                "UPDATE messages SET status = $1, error = $2 WHERE id = $3",
                status.as_str(),
                error,
                id.0
            ))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.message(id).await
    }

    async fn set_message_content(&self, id: MessageId, content: &Content) -> Result<Message> {
        let json = serde_json::to_string(content).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let n = self.writer().exec(q!("UPDATE messages SET content = $1 WHERE id = $2", json, id.0)).await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.message(id).await
    }

    async fn record_note(
        &self,
        conversation: ConversationId,
        sender: Sender,
        text: &str,
        now: Timestamp,
    ) -> Result<Message> {
        let mut tx = self.begin().await?;
        let m = note_in(&mut tx, conversation, sender, text, now).await?;
        tx.commit().await?;
        Ok(m)
    }

    async fn message_by_key(&self, channel: ChannelId, key: &str) -> Result<Option<Message>> {
        message_by_key(&mut self.reader(), channel, key).await
    }
}
