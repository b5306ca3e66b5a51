//! Applies a batch of effects in one transaction: state changes through the state machine,
//! capacity-checked assignments, messages with their outbox jobs, notes, the bot's memory,
//! surveys and new jobs — and, for a job's effects, the job's own completion under its lease.
//! Either all of it commits or none of it does.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::conversations::{lock_conversation, transition_in};
use super::exec::{Tx, q};
use super::jobs::{enqueue_in, finish_in};
use super::messages::{Mode, note_in, write_outbound_in};
use super::routing::assign_in;
use crate::model::{Applied, Batch, JobEnd, NewOutbound};
use crate::{ApplyStore, Result, StoreError};

async fn set(
    tx: &mut Tx,
    sql: &'static str,
    conversation: ConversationId,
    value: super::exec::Arg,
) -> Result<()> {
    let q = super::exec::Query { sql, args: vec![value, conversation.0.into()] };
    if tx.conn().exec(q).await? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn outbound(o: &Outgoing, now: Timestamp) -> NewOutbound {
    NewOutbound {
        conversation_id: o.conversation,
        sender: o.sender,
        content: o.content.clone(),
        dedupe_key: o.dedupe_key.clone(),
        created_at: now,
    }
}

async fn one(tx: &mut Tx, e: &Effect, now: Timestamp, out: &mut Applied) -> Result<()> {
    match e {
        Effect::Expect { conversation, updated_at } => {
            if lock_conversation(tx, *conversation).await?.updated_at != *updated_at {
                return Err(StoreError::Concurrent);
            }
        }
        Effect::Transition { conversation, event } => {
            out.touch(transition_in(tx, *conversation, *event, now).await?);
        }
        Effect::Assign { conversation, agent, round_robin } => {
            let c = assign_in(tx, *conversation, *agent, *round_robin, now).await?;
            out.touch(c.ok_or(StoreError::Concurrent)?);
        }
        Effect::Send(o) => {
            let mode = Mode::Queue { due: o.hold_until.unwrap_or(now) };
            let (m, created) = write_outbound_in(tx, &outbound(o, now), &mode).await?;
            if created {
                out.messages.push(m);
                out.queued_sends = true;
            }
        }
        Effect::Refused { conversation, sender, content, reason } => {
            let o = Outgoing::new(*conversation, *sender, content.clone());
            let (m, _) =
                write_outbound_in(tx, &outbound(&o, now), &Mode::Failed { reason: reason.clone() }).await?;
            out.messages.push(m);
        }
        Effect::Note { conversation, sender, text } => {
            out.messages.push(note_in(tx, *conversation, *sender, text, now).await?);
        }
        Effect::BotMemory { conversation, memory } => {
            set(
                tx,
                "UPDATE conversations SET bot_state = $1 WHERE id = $2",
                *conversation,
                memory.clone().into(),
            )
            .await?;
        }
        Effect::Awaiting { conversation, what } => {
            set(
                tx,
                "UPDATE conversations SET awaiting = $1 WHERE id = $2",
                *conversation,
                what.clone().into(),
            )
            .await?;
        }
        Effect::QueueTold { conversation, position } => {
            let sql = "UPDATE conversations SET queue_position_told = $1 WHERE id = $2";
            set(tx, sql, *conversation, (*position).into()).await?;
        }
        Effect::OpenSurvey { conversation, until } => {
            set(
                tx,
                "UPDATE conversations SET survey_until = $1 WHERE id = $2",
                *conversation,
                until.0.into(),
            )
            .await?;
        }
        Effect::Rate { conversation, score } => {
            let sql = "UPDATE conversations SET satisfaction = $1, survey_until = NULL WHERE id = $2";
            set(tx, sql, *conversation, i64::from(*score).into()).await?;
            out.touched.push(*conversation);
        }
        Effect::Enqueue(job) => out.jobs.extend(enqueue_in(tx, job, now).await?),
    }
    Ok(())
}

impl Applied {
    fn touch(&mut self, c: Conversation) {
        self.touched.push(c.id);
        self.conversations.retain(|x| x.id != c.id);
        self.conversations.push(c);
    }
}

#[async_trait]
impl ApplyStore for SqlStore {
    async fn apply(&self, batch: Batch) -> Result<Applied> {
        let mut tx = self.begin().await?;
        let mut out = Applied::default();
        for e in &batch.effects {
            one(&mut tx, e, batch.now, &mut out).await?;
        }
        if let Some((id, lease)) = &batch.finish
            && !finish_in(&mut tx, *id, lease, &JobEnd::Done, batch.now).await?
        {
            return Err(StoreError::LeaseLost);
        }
        // Conversations whose messages or survey changed are re-read so events carry them whole.
        for id in out.touched.clone() {
            if !out.conversations.iter().any(|c| c.id == id) {
                let c = lock_conversation(&mut tx, id).await?;
                out.conversations.push(c);
            }
        }
        for m in &out.messages {
            if !out.conversations.iter().any(|c| c.id == m.conversation_id) {
                let c = lock_conversation(&mut tx, m.conversation_id).await?;
                out.conversations.push(c);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn take_held(&self, channel: ChannelId, key: &str, now: Timestamp) -> Result<Option<Message>> {
        let mut tx = self.begin().await?;
        let Some(m) = super::conversations::message_by_key(&mut tx.conn(), channel, key).await? else {
            return Ok(None);
        };
        // Only a send nobody has started: once a worker holds it, the API path has it.
        let n = tx
            .conn()
            .exec(q!(
                "UPDATE outbox SET state = 'done', updated_at = $2 WHERE message_id = $1 AND state = 'pending' \
                 AND attempts = 0 AND (locked_until IS NULL OR locked_until <= $2)",
                m.id.0,
                now.0
            ))
            .await?;
        if n == 0 {
            return Ok(None);
        }
        let sql = "UPDATE messages SET status = 'sent', platform_msg_id = $2 WHERE id = $1";
        tx.conn().exec(q!(sql, m.id.0, crate::model::PASSIVE)).await?;
        tx.commit().await?;
        Ok(Some(Message {
            status: DeliveryStatus::Sent,
            platform_msg_id: Some(crate::model::PASSIVE.into()),
            ..m
        }))
    }

    async fn release_held(&self, channel: ChannelId, key: &str, now: Timestamp) -> Result<()> {
        let Some(m) = super::conversations::message_by_key(&mut self.reader(), channel, key).await? else {
            return Ok(());
        };
        self.writer()
            .exec(q!(
                "UPDATE outbox SET next_attempt_at = $2 WHERE message_id = $1 AND state = 'pending' \
                 AND next_attempt_at > $2",
                m.id.0,
                now.0
            ))
            .await?;
        Ok(())
    }
}
