//! The outbox worker: delivers every stored outbound message through its channel, with retries.
//!
//! Delivery is at least once: a job is leased before sending, and if this process dies mid-send
//! the lease runs out and another attempt is made. Jobs of one conversation go strictly in order.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kefu_channels::SendError;
use kefu_domain::Clock;
use kefu_store::{JobResult, OutboxJob, Store};
use tokio::sync::{Notify, watch};

use crate::bus::{Bus, Event, Published, Subject};
use crate::engine::{Result, Senders};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delay before the second attempt; doubles with each further attempt.
    pub base: Duration,
    pub max_delay: Duration,
    pub max_attempts: u32,
    /// How long a claimed job is reserved for its worker; longer than any send may take.
    pub lease: Duration,
    /// A send that takes longer than this counts as failed (and will be retried).
    pub send_timeout: Duration,
    /// How often to look for due jobs when nothing wakes the worker (e.g. other nodes' jobs).
    pub poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            max_attempts: 10,
            lease: Duration::from_secs(60),
            send_timeout: Duration::from_secs(20),
            poll: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempts` failed attempts: base, 2×base, 4×base… up to `max_delay`.
    pub fn delay(&self, attempts: u32) -> Duration {
        crate::jobs::backoff(self.base, self.max_delay, attempts)
    }
}

pub struct OutboxWorker {
    /// This worker's name in its leases.
    node: String,
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Arc<dyn Clock>,
    senders: Senders,
    policy: RetryPolicy,
    wake: Arc<Notify>,
}

const BATCH: u32 = 32;
const PARALLEL_SENDS: usize = 8;

impl OutboxWorker {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        clock: Arc<dyn Clock>,
        senders: Senders,
        policy: RetryPolicy,
        wake: Arc<Notify>,
    ) -> Self {
        let node = format!("outbox-{:016x}", rand::random::<u64>());
        OutboxWorker { node, store, bus, clock, senders, policy, wake }
    }

    /// Sends every job due now; returns how many were attempted.
    pub async fn run_once(&self) -> Result<usize> {
        let now = self.clock.now();
        let lease = format!("{}:{:016x}", self.node, rand::random::<u64>());
        let jobs = self.store.claim_due(now, now.plus(self.policy.lease), BATCH, &lease).await?;
        let n = jobs.len();
        let results: Vec<Result<()>> = futures::stream::iter(jobs)
            .map(|job| self.deliver(job))
            .buffer_unordered(PARALLEL_SENDS)
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok(n)
    }

    async fn deliver(&self, job: OutboxJob) -> Result<()> {
        let result = self.attempt(&job).await;
        if let JobResult::GiveUp { error } | JobResult::RetryAt { error, .. } = &result {
            tracing::warn!(message = %job.message.id, attempts = job.attempts, %error, "delivery failed");
        }
        let Some(message) = self.store.finish_job(job.id, &job.lease, result, self.clock.now()).await? else {
            tracing::warn!(message = %job.message.id, "send took longer than its lease; the newer attempt's result stands");
            return Ok(());
        };
        let subject = Subject::conversation(message.conversation_id);
        let pos = self.store.last_change_seq().await.unwrap_or(0);
        let event = Published { pos, event: Event::MessageUpdated { message } };
        if let Err(e) = self.bus.publish(subject, event).await {
            tracing::warn!(error = %e, "delivery status not published");
        }
        Ok(())
    }

    async fn attempt(&self, job: &OutboxJob) -> JobResult {
        let channel = match self.store.channel(job.message.channel_id).await {
            Ok(c) => c,
            Err(e) => return self.retry(job, format!("channel unavailable: {e}"), None),
        };
        let Some(sender) = self.senders.get(channel.kind) else {
            return JobResult::GiveUp {
                error: format!("no sender configured for {} channels", channel.kind),
            };
        };
        let sent = tokio::time::timeout(
            self.policy.send_timeout,
            sender.send(&channel, &job.identity, &job.message),
        );
        match sent.await {
            Ok(Ok(s)) => JobResult::Sent { platform_msg_id: s.platform_msg_id, status: s.status },
            Ok(Err(SendError::Permanent { reason })) => JobResult::GiveUp { error: reason },
            Ok(Err(SendError::Retryable { reason, retry_after })) => self.retry(job, reason, retry_after),
            Err(_) => self.retry(job, "the platform did not answer in time".into(), None),
        }
    }

    fn retry(&self, job: &OutboxJob, reason: String, retry_after: Option<Duration>) -> JobResult {
        if job.attempts >= self.policy.max_attempts {
            return JobResult::GiveUp { error: format!("gave up after {} attempts: {reason}", job.attempts) };
        }
        let wait = retry_after.unwrap_or_else(|| self.policy.delay(job.attempts)).min(self.policy.max_delay);
        JobResult::RetryAt { at: self.clock.now().plus(wait), error: reason }
    }

    /// Runs until `shutdown` turns true, sleeping until the next job is due or a wake-up.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            let idle = match self.run_once().await {
                Ok(n) => n == 0,
                Err(e) => {
                    tracing::error!(error = %e, "outbox pass failed");
                    true
                }
            };
            if !idle {
                continue;
            }
            let wait = self.until_next_due().await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        match self.store.next_due().await {
            Ok(Some(due)) => due.since(self.clock.now()).min(self.policy.poll),
            _ => self.policy.poll,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let p = RetryPolicy {
            base: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
            ..Default::default()
        };
        let delays: Vec<u64> = (1..=5).map(|a| p.delay(a).as_secs()).collect();
        assert_eq!(delays, vec![2, 4, 8, 10, 10]);
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(10));
    }
}
