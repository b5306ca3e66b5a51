//! Applying decisions: the engine hands a batch of effects to the store, which applies it in
//! one transaction; only after the commit does it tell every open workbench and wake the
//! outbox and the job runner.

use kefu_domain::{Effect, NewJob};
use kefu_store::{Applied, Batch, StoreError};

use crate::bus::{Event, Subject};
use crate::engine::{Engine, Result};

/// How often a decision is made again when the data it was based on changed meanwhile.
pub const STALE_RETRIES: usize = 5;

impl Engine {
    /// Applies `effects` atomically and publishes what changed.
    pub async fn commit(&self, effects: Vec<Effect>) -> Result<Applied> {
        self.commit_batch(Batch::new(effects, self.clock.now())).await
    }

    /// Applies a batch (maybe finishing a job under its lease) and publishes what changed.
    pub async fn commit_batch(&self, batch: Batch) -> Result<Applied> {
        if batch.effects.is_empty() && batch.finish.is_none() {
            return Ok(Applied::default());
        }
        let applied = self.store.apply(batch).await?;
        self.announce_applied(&applied).await;
        Ok(applied)
    }

    /// The events of a committed batch, and wake-ups for the work it queued.
    pub(crate) async fn announce_applied(&self, a: &Applied) {
        let pos = self.store.last_change_seq().await.unwrap_or(0);
        for c in &a.conversations {
            let subject = Subject::conversation(c.id);
            self.publish_at(subject.clone(), Event::ConversationUpdated { conversation: c.clone() }, pos)
                .await;
            for m in a.messages.iter().filter(|m| m.conversation_id == c.id) {
                let event = Event::MessageCreated { message: m.clone(), conversation: c.clone() };
                self.publish_at(subject.clone(), event, pos).await;
            }
        }
        if a.queued_sends {
            self.outbox_wake().notify_one();
        }
        if !a.jobs.is_empty() {
            self.jobs_wake().notify_one();
        }
    }

    /// Queues jobs on their own (outside any other change).
    pub async fn enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<i64>> {
        let ids = self.store.enqueue_jobs(&jobs, self.clock.now()).await?;
        if !ids.is_empty() {
            self.jobs_wake().notify_one();
        }
        Ok(ids)
    }

    pub(crate) fn now_job(&self, job: kefu_domain::Job) -> Effect {
        Effect::Enqueue(NewJob { job, run_at: self.clock.now() })
    }
}

/// Whether an error means "decide again on fresh data".
pub fn is_stale(e: &crate::EngineError) -> bool {
    matches!(e, crate::EngineError::Store(StoreError::Concurrent))
}
