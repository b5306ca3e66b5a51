//! Outbound webhooks for CRMs: turns new feed changes into deliveries in each endpoint's
//! durable outbox, then sends due deliveries, signed, retrying with backoff.
//!
//! Fan-out moves an endpoint's cursor and writes its deliveries in one transaction, and a
//! delivery's body is fixed when it is enqueued, so every attempt of an event is byte-identical
//! and carries the same `webhook-id`: receivers deduplicate on it (delivery is at least once).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kefu_channels::netguard::{Allow, AllowList};
use kefu_channels::webhook::{PostResult, WebhookClient};
use kefu_domain::Clock;
use kefu_store::{DeliveryOutcome, NewDelivery, Store, StoreError, Webhook, WebhookDelivery};
use tokio::sync::watch;

use crate::feed;

/// Delays after the 1st, 2nd, … failed attempt; when they run out the delivery has failed
/// (an admin can send it again from the delivery log).
pub const BACKOFF: [Duration; 8] = [
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(1800),
    Duration::from_secs(3600),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(6 * 3600),
];

const BATCH: u32 = 200;

pub struct WebhookWorker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    client: WebhookClient,
    allow: AllowList,
    lease: Duration,
}

/// The run-time setting with the outbound allow-list: `{"allow": ["10.0.0.0/8", "crm.internal"]}`.
pub const OUTBOUND_SETTING: &str = "outbound";

/// The allow-list for admin-typed URLs, as an administrator last saved it.
pub async fn load_allow(store: &dyn Store) -> Result<Vec<Allow>, StoreError> {
    let v = store.setting(OUTBOUND_SETTING).await?.unwrap_or_default();
    let entries = v["allow"].as_array().cloned().unwrap_or_default();
    Ok(entries.iter().filter_map(|e| e.as_str()).filter_map(|e| Allow::parse(e).ok()).collect())
}

impl WebhookWorker {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let timeout = Duration::from_secs(10);
        let allow = AllowList::default();
        let client = WebhookClient::new(timeout, allow.clone());
        WebhookWorker { store, clock, client, allow, lease: timeout * 6 }
    }

    /// The allow-list this worker's client checks (refreshed every round).
    pub fn allow_list(&self) -> &AllowList {
        &self.allow
    }

    /// Runs `run_once` every `every` (wall clock) until `stop`; zero turns the loop off.
    pub async fn run(self: Arc<Self>, every: Duration, mut stop: watch::Receiver<bool>) {
        if every.is_zero() {
            return;
        }
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = tokio::time::sleep(every) => {
                    if let Err(e) = self.run_once().await {
                        tracing::warn!(error = %e, "webhook round failed");
                    }
                }
            }
        }
    }

    /// One round: enqueue what is new for every endpoint, then attempt what is due.
    /// Returns how many attempts were made.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        // Every node applies an edited allow-list from its next round on.
        self.allow.set(load_allow(self.store.as_ref()).await?);
        let hooks: HashMap<i64, Webhook> =
            self.store.webhooks().await?.into_iter().map(|h| (h.id, h)).collect();
        for hook in hooks.values().filter(|h| h.enabled) {
            self.fan_out(hook).await?;
        }
        let now = self.clock.now();
        let due = self.store.claim_deliveries(now, now.plus(self.lease), 50).await?;
        let mut secrets = HashMap::new();
        for d in &due {
            let hook = match hooks.get(&d.webhook_id) {
                Some(h) => h.clone(),
                None => self.store.webhook(d.webhook_id).await?, // created since the list was read
            };
            if let std::collections::hash_map::Entry::Vacant(e) = secrets.entry(hook.id) {
                e.insert(self.store.webhook_secret(hook.id).await?);
            }
            self.attempt(d, &hook.url, &secrets[&hook.id]).await?;
        }
        Ok(due.len())
    }

    async fn fan_out(&self, hook: &Webhook) -> Result<(), StoreError> {
        let mut cursor = hook.cursor;
        loop {
            let changes = self.store.changes_after(cursor, BATCH).await?;
            let Some(last) = changes.last().map(|c| c.seq) else { return Ok(()) };
            let mut out = vec![];
            for c in changes.iter().filter(|c| hook.events.contains(&c.kind)) {
                let body = feed::envelope(self.store.as_ref(), c).await?;
                out.push(NewDelivery { change_seq: c.seq, kind: c.kind.clone(), payload: body.to_string() });
            }
            let now = self.clock.now();
            if !self.store.enqueue_deliveries(hook.id, cursor, last, &out, now).await? {
                return Ok(()); // another node is fanning this endpoint out
            }
            if changes.len() < BATCH as usize {
                return Ok(());
            }
            cursor = last;
        }
    }

    async fn attempt(&self, d: &WebhookDelivery, url: &str, secret: &str) -> Result<(), StoreError> {
        let id = feed::event_id(d.change_seq);
        let now = self.clock.now();
        let sent = self.client.post(url, secret, &id, now.0 / 1000, &d.payload).await;
        let (status, error) = match sent {
            PostResult::Accepted(s) => {
                let outcome = DeliveryOutcome::Delivered { status: i64::from(s) };
                return self.store.finish_delivery(d.id, &outcome, self.clock.now()).await;
            }
            PostResult::Refused(s, text) => (Some(i64::from(s)), format!("HTTP {s}: {text}")),
            PostResult::Unreachable(e) => (None, e),
        };
        let attempts = usize::try_from(d.attempts).unwrap_or(usize::MAX);
        let outcome = match BACKOFF.get(attempts.saturating_sub(1)) {
            Some(wait) => DeliveryOutcome::Retry { status, error, at: now.plus(*wait) },
            None => DeliveryOutcome::GiveUp { status, error },
        };
        tracing::info!(delivery = d.id, attempts = d.attempts, ?outcome, "webhook delivery not accepted");
        self.store.finish_delivery(d.id, &outcome, self.clock.now()).await
    }
}
