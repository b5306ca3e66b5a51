//! What platform adapters need from the rest of kefu: shared access tokens, stored media and
//! per-person platform sessions.

use async_trait::async_trait;
use kefu_domain::{ChannelId, Timestamp};

use crate::SendError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    pub token: String,
    pub expires_at: Timestamp,
}

/// How to get a new access token from a platform.
#[async_trait]
pub trait TokenFetch: Send + Sync {
    async fn fetch(&self) -> Result<CachedToken, SendError>;
}

/// One access token per platform credential for the whole deployment. Platforms invalidate
/// the previous token when a new one is fetched, so implementations must make sure only one
/// node fetches at a time and everyone else uses its result.
#[async_trait]
pub trait TokenCache: Send + Sync {
    /// A valid token for `key`, fetched with `fetch` only if none is cached.
    async fn get(&self, key: &str, fetch: &dyn TokenFetch) -> Result<String, SendError>;
    /// The platform rejected `stale`: replace it, unless someone already has.
    async fn refresh(&self, key: &str, stale: &str, fetch: &dyn TokenFetch) -> Result<String, SendError>;
}

/// A file kefu holds, e.g. an image an agent attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime: String,
    pub filename: String,
}

#[async_trait]
pub trait MediaSource: Send + Sync {
    /// The file behind a kefu media URL (`/media/<id>`), if it is one of ours.
    async fn load(&self, url: &str) -> Option<Media>;
}

/// Per-person state a platform hands out with each message and a sender needs later (e.g.
/// DingTalk's sessionWebhook), kept as JSON per channel and external id.
#[async_trait]
pub trait PlatformSessions: Send + Sync {
    async fn get(&self, channel: ChannelId, external_id: &str) -> Option<String>;
}
