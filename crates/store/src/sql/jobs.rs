//! The durable job table: written in the transaction of the change that causes the work,
//! claimed under a lease (PostgreSQL skips rows another node is claiming; SQLite has one
//! writer), one job per lane at a time and oldest first, finished only by the lease holder,
//! retried with backoff, and kept as `failed` with the reason when it gives up.

use async_trait::async_trait;
use kefu_domain::{Job, NewJob, Timestamp};

use super::SqlStore;
use super::exec::{Row, Tx, q};
use crate::model::{ClaimedJob, JobEnd, JobRow};
use crate::{JobStore, Result, StoreError};

/// Writes a job inside `tx`; `None` if an equal one (same dedupe key) is already waiting.
pub(crate) async fn enqueue_in(tx: &mut Tx, new: &NewJob, now: Timestamp) -> Result<Option<i64>> {
    let payload = serde_json::to_string(&new.job).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let r = tx
        .conn()
        .opt(q!(
            "INSERT INTO jobs (kind, lane, payload, state, attempts, run_at, dedupe_key, created_at, updated_at) \
             VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING id",
            kind(&new.job),
            new.job.lane(),
            payload,
            new.run_at.0,
            new.job.dedupe_key(),
            now.0
        ))
        .await?;
    r.map(|r| r.int("id")).transpose()
}

fn kind(job: &Job) -> String {
    serde_json::to_value(job).ok().and_then(|v| v["kind"].as_str().map(str::to_owned)).unwrap_or_default()
}

/// The oldest pending job of each lane that is due and not leased. A job with an older pending
/// job in its lane waits, even if that one is leased or backing off, so a lane never reorders.
/// Claiming clears the dedupe key: a new request for the same work queues behind the running one.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET lease = $1, locked_until = $2, attempts = attempts + 1, dedupe_key = NULL, \
             updated_at = $3 WHERE id IN (SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.run_at <= $3 \
             AND (j.locked_until IS NULL OR j.locked_until <= $3) AND ($5 IS NULL OR j.id = $5) \
             AND NOT EXISTS (SELECT 1 FROM jobs p WHERE p.lane = j.lane AND p.state = 'pending' AND p.id < j.id) \
             ORDER BY j.id LIMIT $4",
            $lock,
            ") RETURNING id, payload, attempts"
        )
    };
}

fn claimed(r: &Row, lease: &str) -> Result<ClaimedJob> {
    let job: Job =
        serde_json::from_str(&r.text("payload")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(ClaimedJob {
        id: r.int("id")?,
        job,
        attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
        lease: lease.to_owned(),
    })
}

fn job_row(r: &Row) -> Result<JobRow> {
    Ok(JobRow {
        id: r.int("id")?,
        kind: r.text("kind")?,
        lane: r.text("lane")?,
        state: r.text("state")?,
        attempts: u32::try_from(r.int("attempts")?).unwrap_or(u32::MAX),
        run_at: Timestamp(r.int("run_at")?),
        last_error: r.opt_text("last_error")?,
        payload: serde_json::from_str(&r.text("payload")?).unwrap_or_default(),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// Finishes a job inside `tx` if `lease` still holds it; false if it does not (the lease ran
/// out and someone else took it over: their result counts, not ours).
pub(crate) async fn finish_in(
    tx: &mut Tx,
    id: i64,
    lease: &str,
    end: &JobEnd,
    now: Timestamp,
) -> Result<bool> {
    let n = match end {
        JobEnd::Done => {
            tx.conn()
                .exec(q!(
                    "UPDATE jobs SET state = 'done', lease = NULL, locked_until = NULL, last_error = NULL, \
                     updated_at = $3 WHERE id = $1 AND lease = $2 AND state = 'pending'",
                    id,
                    lease,
                    now.0
                ))
                .await?
        }
        JobEnd::RetryAt { at, error } => {
            tx.conn()
                .exec(q!(
                    "UPDATE jobs SET run_at = $3, lease = NULL, locked_until = NULL, last_error = $4, updated_at = $5 \
                     WHERE id = $1 AND lease = $2 AND state = 'pending'",
                    id,
                    lease,
                    at.0,
                    error,
                    now.0
                ))
                .await?
        }
        JobEnd::Failed { error } => {
            tx.conn()
                .exec(q!(
                    "UPDATE jobs SET state = 'failed', lease = NULL, locked_until = NULL, last_error = $3, \
                     updated_at = $4 WHERE id = $1 AND lease = $2 AND state = 'pending'",
                    id,
                    lease,
                    error,
                    now.0
                ))
                .await?
        }
    };
    Ok(n == 1)
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue_jobs(&self, jobs: &[NewJob], now: Timestamp) -> Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        let mut ids = vec![];
        for j in jobs {
            ids.extend(enqueue_in(&mut tx, j, now).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn claim_jobs(
        &self,
        only: Option<i64>,
        lease: &str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>> {
        let mut tx = self.begin().await?;
        let sql = if tx.is_postgres() { claim_sql!(" FOR UPDATE SKIP LOCKED") } else { claim_sql!("") };
        let rows = tx.conn().all(q!(sql, lease, until.0, now.0, limit, only)).await?;
        tx.commit().await?;
        let mut jobs = rows.iter().map(|r| claimed(r, lease)).collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn end_job(&self, id: i64, lease: &str, end: JobEnd, now: Timestamp) -> Result<bool> {
        let mut tx = self.begin().await?;
        let ok = finish_in(&mut tx, id, lease, &end, now).await?;
        tx.commit().await?;
        Ok(ok)
    }

    async fn next_job_due(&self) -> Result<Option<Timestamp>> {
        let r = self
            .reader()
            .one(q!(
                "SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > run_at THEN locked_until \
                 ELSE run_at END) AS due FROM jobs WHERE state = 'pending'"
            ))
            .await?;
        Ok(r.opt_int("due")?.map(Timestamp))
    }

    async fn jobs(&self, state: &str, limit: u32) -> Result<Vec<JobRow>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT id, kind, lane, state, attempts, run_at, last_error, payload, updated_at FROM jobs \
                 WHERE state = $1 ORDER BY id DESC LIMIT $2",
                state,
                limit.clamp(1, 500)
            ))
            .await?;
        rows.iter().map(job_row).collect()
    }

    async fn retry_job(&self, id: i64, now: Timestamp) -> Result<()> {
        let n = self
            .writer()
            .exec(q!(
                "UPDATE jobs SET state = 'pending', run_at = $2, attempts = 0, updated_at = $2 \
                 WHERE id = $1 AND state = 'failed'",
                id,
                now.0
            ))
            .await?;
        if n == 0 { Err(StoreError::Refused("only failed jobs can be run again".into())) } else { Ok(()) }
    }

    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> Result<bool> {
        let r = self
            .writer()
            .opt(q!(
                "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE \
                 SET holder = $2, until = $3 WHERE leases.until <= $4 OR leases.holder = $2 RETURNING holder",
                name,
                holder,
                until.0,
                now.0
            ))
            .await?;
        Ok(r.is_some())
    }

    async fn release_leases(&self, holder: &str) -> Result<()> {
        self.writer().exec(q!("DELETE FROM leases WHERE holder = $1", holder)).await?;
        // Jobs this node claimed but did not finish become claimable at once.
        let prefix = format!("{holder}:%");
        self.writer()
            .exec(q!(
                "UPDATE jobs SET lease = NULL, locked_until = NULL WHERE lease LIKE $1 AND state = 'pending'",
                prefix
            ))
            .await?;
        Ok(())
    }
}
