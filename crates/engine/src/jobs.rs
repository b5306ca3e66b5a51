//! The job runner: claims due jobs under a lease, runs each (their lanes keep one conversation's
//! jobs in order), and records the end under the same lease: a job's effects and its
//! completion commit together. Failures retry with backoff and end as `failed` with the
//! reason, visible to admins. Tests drive it with [`JobRunner::run_pending`] and the manual
//! clock; a server runs [`JobRunner::run`] until shutdown, which waits for running jobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kefu_store::{Batch, ClaimedJob, JobEnd, StoreError};
use rand::RngCore;
use tokio::sync::{Notify, watch};

use crate::engine::{Engine, EngineError, Result};
use crate::handlers::Handlers;

/// What running a job produced.
pub enum Outcome {
    /// Effects to commit together with the job's completion.
    Effects(Vec<kefu_domain::Effect>),
    /// The job did its own writes (platform calls, several batches); just finish it.
    Done,
}

#[derive(Debug, Clone)]
pub struct JobPolicy {
    pub lease: Duration,
    /// Delay after the first failure; doubles up to `max_delay`.
    pub base: Duration,
    pub max_delay: Duration,
    pub max_attempts: u32,
    /// Jobs running at once on this node.
    pub parallel: usize,
    /// How often to look for other nodes' jobs when nothing wakes the runner.
    pub poll: Duration,
}

impl Default for JobPolicy {
    fn default() -> Self {
        JobPolicy {
            lease: Duration::from_secs(120),
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            max_attempts: 12,
            parallel: 8,
            poll: Duration::from_millis(500),
        }
    }
}

/// The wait after `attempts` failed attempts: base, 2×base, 4×base… up to `max`.
pub fn backoff(base: Duration, max: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(max)
}

impl JobPolicy {
    pub fn delay(&self, attempts: u32) -> Duration {
        backoff(self.base, self.max_delay, attempts)
    }
}

pub struct JobRunner {
    engine: Arc<Engine>,
    handlers: Handlers,
    policy: JobPolicy,
    /// This node's name in leases: `<node>:<random>` per claim.
    node: String,
    /// Waiters for a job's end, so a callback can wait for the reply it may return.
    waiters: Mutex<HashMap<i64, Vec<tokio::sync::oneshot::Sender<()>>>>,
    running: tokio::sync::Mutex<tokio::task::JoinSet<()>>,
}

fn token() -> String {
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl JobRunner {
    pub fn new(engine: Arc<Engine>, handlers: Handlers, policy: JobPolicy) -> Arc<Self> {
        let node = format!("node-{}", token());
        Arc::new(JobRunner {
            engine,
            handlers,
            policy,
            node,
            waiters: Mutex::default(),
            running: tokio::sync::Mutex::new(tokio::task::JoinSet::new()),
        })
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    fn wake(&self) -> Arc<Notify> {
        self.engine.jobs_wake()
    }

    /// Claims up to `limit` due jobs (or just `only`).
    async fn claim(&self, only: Option<i64>, limit: u32) -> Result<Vec<ClaimedJob>> {
        let now = self.engine.clock().now();
        let lease = format!("{}:{}", self.node, token());
        Ok(self.engine.store().claim_jobs(only, &lease, now, now.plus(self.policy.lease), limit).await?)
    }

    /// Runs one claimed job to its end and records it under its lease.
    pub async fn run_job(&self, job: ClaimedJob) {
        let outcome = self.handlers.handle(&self.engine, &job.job).await;
        let now = self.engine.clock().now();
        let store = self.engine.store().clone();
        let end = match outcome {
            Ok(Outcome::Effects(effects)) => {
                let batch = Batch { effects, now, finish: Some((job.id, job.lease.clone())) };
                match self.engine.commit_batch(batch).await {
                    Ok(_) => None,
                    Err(EngineError::Store(StoreError::LeaseLost)) => {
                        tracing::warn!(job = job.id, "job taken over by another worker; its result stands");
                        None
                    }
                    Err(e) => Some(self.failure(&job, e)),
                }
            }
            Ok(Outcome::Done) => Some(JobEnd::Done),
            Err(e) => Some(self.failure(&job, e)),
        };
        if let Some(end) = end {
            if !matches!(end, JobEnd::Done) {
                tracing::warn!(job = job.id, kind = ?job.job, ?end, "job did not succeed");
            }
            if let Err(e) = store.end_job(job.id, &job.lease, end, now).await {
                tracing::error!(error = %e, job = job.id, "job end not recorded; the lease will run out");
            }
        }
        self.finished(job.id);
    }

    /// A failed attempt: again at once when the data moved under the decision, later with
    /// backoff otherwise, and `failed` for good after the last attempt.
    fn failure(&self, job: &ClaimedJob, e: EngineError) -> JobEnd {
        let now = self.engine.clock().now();
        if crate::commit::is_stale(&e) && job.attempts < self.policy.max_attempts {
            return JobEnd::RetryAt { at: now, error: e.to_string() };
        }
        if job.attempts >= self.policy.max_attempts || matches!(e, EngineError::Illegal(_)) {
            return JobEnd::Failed { error: format!("after {} attempts: {e}", job.attempts) };
        }
        JobEnd::RetryAt { at: now.plus(self.policy.delay(job.attempts)), error: e.to_string() }
    }

    fn finished(&self, id: i64) {
        let waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        for w in waiters.into_iter().flatten() {
            let _ = w.send(());
        }
    }

    /// Runs every job that is due now, and those they cause, until none is left; returns how
    /// many ran. Deterministic with the manual clock: what tests call instead of sleeping.
    /// Jobs started early ([`JobRunner::expedite`]) are awaited first, so none is left running.
    pub async fn run_pending(&self) -> Result<usize> {
        {
            let mut running = self.running.lock().await;
            while running.join_next().await.is_some() {}
        }
        let mut n = 0;
        loop {
            let jobs = self.claim(None, 64).await?;
            if jobs.is_empty() {
                return Ok(n);
            }
            n += jobs.len();
            for job in jobs {
                self.run_job(job).await;
            }
        }
    }

    /// Starts job `id` at once if it is due and its lane is free (a WeChat callback wants its
    /// answer within seconds), on the runner's own task set; returns a signal for its end.
    /// The job is never cancelled: a caller that stops waiting only stops waiting.
    pub async fn expedite(self: &Arc<Self>, id: i64) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.waiters.lock().unwrap_or_else(|p| p.into_inner()).entry(id).or_default().push(tx);
        match self.claim(Some(id), 1).await {
            Ok(jobs) => {
                let mut running = self.running.lock().await;
                for job in jobs {
                    let me = self.clone();
                    running.spawn(async move { me.run_job(job).await });
                }
            }
            Err(e) => tracing::warn!(error = %e, job = id, "job not started early"),
        }
        rx
    }

    /// Runs jobs until `stop` turns true, then waits for the ones still running and gives up
    /// this node's leases, so other nodes take over at once.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let wake = self.wake();
        while !*stop.borrow() {
            let free = {
                let mut running = self.running.lock().await;
                while running.try_join_next().is_some() {}
                self.policy.parallel.saturating_sub(running.len())
            };
            let claimed = if free == 0 { Ok(vec![]) } else { self.claim(None, free as u32).await };
            match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    let mut running = self.running.lock().await;
                    for job in jobs {
                        let me = self.clone();
                        running.spawn(async move { me.run_job(job).await });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "claiming jobs failed"),
            }
            let wait = self.until_next_due().await;
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
        let mut running = self.running.lock().await;
        while running.join_next().await.is_some() {}
        if let Err(e) = self.engine.store().release_leases(&self.node).await {
            tracing::warn!(error = %e, "leases not released; they will run out");
        }
    }

    async fn until_next_due(&self) -> Duration {
        match self.engine.store().next_job_due().await {
            Ok(Some(due)) => {
                due.since(self.engine.clock().now()).clamp(Duration::from_millis(5), self.policy.poll)
            }
            _ => self.policy.poll,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_to_a_cap() {
        let p = JobPolicy {
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(10),
            ..Default::default()
        };
        let d: Vec<u64> = (1..=6).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 8, 10, 10]);
    }
}
