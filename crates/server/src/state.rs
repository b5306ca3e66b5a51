//! Shared application state handed to every handler explicitly (no globals).

use std::sync::Arc;

use kefu_domain::Clock;
use kefu_engine::platforms::Platforms;
use kefu_engine::webhooks::WebhookWorker;
use kefu_engine::{Engine, Senders};
use kefu_store::Store;
use tokio::sync::{OnceCell, watch};

use crate::config::Config;
use crate::guard::{Buckets, Hasher};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub engine: Arc<Engine>,
    pub platforms: Platforms,
    /// Each channel kind's send path, for the connectivity test.
    pub senders: Senders,
    pub clock: Arc<dyn Clock>,
    pub webhooks: Arc<WebhookWorker>,
    /// Durable jobs; callbacks start a message's job early to answer in the HTTP response.
    pub jobs: Arc<kefu_engine::JobRunner>,
    /// argon2 on a bounded blocking pool.
    pub hasher: Arc<Hasher>,
    /// A real argon2 hash of a random password, checked for unknown usernames (made on first use).
    pub dummy_hash: Arc<OnceCell<String>>,
    /// Messages per web visitor, and new visitors per client address.
    pub visitor_messages: Arc<Buckets>,
    pub new_visitors: Arc<Buckets>,
    pub metrics: Arc<crate::dashboard::MetricsCache>,
    /// Turns true when the node shuts down: live sockets close so clients reconnect elsewhere.
    pub stopping: watch::Receiver<bool>,
}
