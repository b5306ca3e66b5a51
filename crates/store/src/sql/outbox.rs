//! The durable outbox: claiming due jobs under a lease, and recording each attempt's result.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Tx, q};
use crate::model::{JobResult, OutboxJob};
use crate::{ConversationStore, MessageStore, OutboxStore, Result};

/// The oldest unfinished job of each conversation that is due and not leased by a worker.
/// A newer job waits while an older one of its conversation is pending, even if leased, so a
/// retry can never overtake. PostgreSQL skips rows another node is claiming right now.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE outbox SET locked_until = $1, attempts = attempts + 1, updated_at = $2, lease = $4 WHERE id IN (\
             SELECT o.id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= $2 \
             AND (o.locked_until IS NULL OR o.locked_until <= $2) \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.conversation_id = o.conversation_id \
             AND p.state = 'pending' AND p.id < o.id) ORDER BY o.id LIMIT $3",
            $lock,
            ") RETURNING id, message_id, conversation_id, attempts"
        )
    };
}

async fn claim(
    tx: &mut Tx,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    lease: &str,
) -> Result<Vec<(i64, i64, i64, i64)>> {
    let sql = if tx.is_postgres() { claim_sql!(" FOR UPDATE SKIP LOCKED") } else { claim_sql!("") };
    let rows = tx.conn().all(q!(sql, lease_until.0, now.0, limit, lease)).await?;
    rows.iter()
        .map(|r| Ok((r.int("id")?, r.int("message_id")?, r.int("conversation_id")?, r.int("attempts")?)))
        .collect()
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        lease: &str,
    ) -> Result<Vec<OutboxJob>> {
        let mut tx = self.begin().await?;
        let mut claimed = claim(&mut tx, now, lease_until, limit, lease).await?;
        tx.commit().await?;
        claimed.sort_unstable();
        let mut jobs = Vec::with_capacity(claimed.len());
        for (id, message_id, conversation_id, attempts) in claimed {
            let conv = self.conversation(ConversationId(conversation_id)).await?;
            jobs.push(OutboxJob {
                id,
                lease: lease.to_owned(),
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                message: self.message(MessageId(message_id)).await?,
                identity: self.identity(conv.identity_id).await?,
            });
        }
        Ok(jobs)
    }

    async fn finish_job(
        &self,
        job_id: i64,
        lease: &str,
        result: JobResult,
        now: Timestamp,
    ) -> Result<Option<Message>> {
        let mut tx = self.begin().await?;
        // Only the holder of the current lease records a result: a worker whose lease ran out
        // (it stalled, another took over) must not overwrite the newer attempt's.
        let r = tx
            .conn()
            .opt(q!(
                "SELECT message_id FROM outbox WHERE id = $1 AND lease = $2 AND state = 'pending'",
                job_id,
                lease
            ))
            .await?;
        let Some(r) = r else { return Ok(None) };
        let message_id = r.int("message_id")?;
        match &result {
            JobResult::Sent { platform_msg_id, status } => {
                tx.conn()
                    .exec(q!(
                        "UPDATE outbox SET state = 'done', locked_until = NULL, last_error = NULL, updated_at = $1 \
                         WHERE id = $2",
                        now.0,
                        job_id
                    ))
                    .await?;
                tx.conn()
                    .exec(q!(
                        "UPDATE messages SET status = $1, platform_msg_id = $2, error = NULL WHERE id = $3",
                        status.as_str(),
                        platform_msg_id.clone(),
                        message_id
                    ))
                    .await?;
            }
            JobResult::RetryAt { at, error } => {
                tx.conn()
                    .exec(q!(
                        "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL, last_error = $2, updated_at = $3 \
                         WHERE id = $4",
                        at.0,
                        error,
                        now.0,
                        job_id
                    ))
                    .await?;
                tx.conn().exec(q!("UPDATE messages SET error = $1 WHERE id = $2", error, message_id)).await?;
            }
            JobResult::GiveUp { error } => {
                tx.conn()
                    .exec(q!(
                        "UPDATE outbox SET state = 'dead', locked_until = NULL, last_error = $1, updated_at = $2 \
                         WHERE id = $3",
                        error,
                        now.0,
                        job_id
                    ))
                    .await?;
                tx.conn()
                    .exec(q!(
                        "UPDATE messages SET status = 'failed', error = $1 WHERE id = $2",
                        error,
                        message_id
                    ))
                    .await?;
            }
        }
        tx.commit().await?;
        self.message(MessageId(message_id)).await.map(Some)
    }

    async fn next_due(&self) -> Result<Option<Timestamp>> {
        let r = self
            .reader()
            .one(q!("SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > next_attempt_at \
                 THEN locked_until ELSE next_attempt_at END) AS due FROM outbox o WHERE state = 'pending' \
                 AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.conversation_id = o.conversation_id \
                 AND p.state = 'pending' AND p.id < o.id)"))
            .await?;
        Ok(r.opt_int("due")?.map(Timestamp))
    }
}
