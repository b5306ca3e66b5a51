//! Shared application state handed to every handler explicitly (no globals).

use std::sync::Arc;

use kefu_domain::Clock;
use kefu_engine::platforms::Platforms;
use kefu_engine::webhooks::WebhookWorker;
use kefu_engine::{Engine, Senders};
use kefu_store::Store;

use crate::auth::LoginThrottle;
use crate::config::Config;

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
    pub login_throttle: Arc<LoginThrottle>,
    /// A real argon2 hash of a random password, checked for unknown usernames.
    pub dummy_hash: Arc<str>,
}
