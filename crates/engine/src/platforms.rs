//! The platform plumbing every node shares: access tokens kept in the database and refreshed
//! by one node at a time, kefu-held media for uploads, and per-person platform sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kefu_channels::SendError;
use kefu_channels::dingtalk::api::DtClient;
use kefu_channels::platform::{CachedToken, Media, MediaSource, PlatformSessions, TokenCache, TokenFetch};
use kefu_channels::wechat::api::WxClient;
use kefu_domain::{ChannelId, Clock, Timestamp};
use kefu_store::Store;

/// Tokens in the store, so every node uses the same one. A refresh takes a lease row first;
/// a node that finds the lease taken waits for the holder's result instead of fetching a
/// second token, which would invalidate the first.
pub struct StoreTokens {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Serialises refreshes inside this node, so its own tasks do not race for the lease.
    local: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    pub lease: Duration,
    pub wait_step: Duration,
}

impl StoreTokens {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        StoreTokens {
            store,
            clock,
            local: Mutex::new(HashMap::new()),
            lease: Duration::from_secs(30),
            wait_step: Duration::from_millis(100),
        }
    }

    fn local_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.local.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_owned()).or_default().clone()
    }

    fn usable(&self, token: &str, expires_at: Timestamp, stale: Option<&str>) -> bool {
        !token.is_empty() && expires_at > self.clock.now() && Some(token) != stale
    }

    async fn stored(&self, key: &str, stale: Option<&str>) -> Result<Option<String>, SendError> {
        let t = self.store.token(key).await.map_err(|e| SendError::retryable(format!("token store: {e}")))?;
        Ok(t.filter(|(tok, exp)| self.usable(tok, *exp, stale)).map(|(tok, _)| tok))
    }

    async fn refresh_inner(
        &self,
        key: &str,
        stale: Option<&str>,
        fetch: &dyn TokenFetch,
    ) -> Result<String, SendError> {
        let lock = self.local_lock(key);
        let _held = lock.lock().await;
        let store_err = |e: kefu_store::StoreError| SendError::retryable(format!("token store: {e}"));
        let rounds = (self.lease.as_millis() / self.wait_step.as_millis().max(1)).max(1) + 1;
        for _ in 0..rounds {
            if let Some(t) = self.stored(key, stale).await? {
                return Ok(t);
            }
            let now = self.clock.now();
            match self.store.lease_token(key, now, now.plus(self.lease)).await.map_err(store_err)? {
                Some((tok, exp)) if self.usable(&tok, exp, stale) => {
                    self.store.release_token(key).await.map_err(store_err)?;
                    return Ok(tok);
                }
                Some(_) => return self.fetch_and_save(key, fetch).await,
                None => tokio::time::sleep(self.wait_step).await,
            }
        }
        Err(SendError::retryable("another node is still refreshing the access token"))
    }

    async fn fetch_and_save(&self, key: &str, fetch: &dyn TokenFetch) -> Result<String, SendError> {
        let store_err = |e: kefu_store::StoreError| SendError::retryable(format!("token store: {e}"));
        match fetch.fetch().await {
            Ok(CachedToken { token, expires_at }) => {
                self.store.save_token(key, &token, expires_at, self.clock.now()).await.map_err(store_err)?;
                Ok(token)
            }
            Err(e) => {
                self.store.release_token(key).await.map_err(store_err)?;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl TokenCache for StoreTokens {
    async fn get(&self, key: &str, fetch: &dyn TokenFetch) -> Result<String, SendError> {
        match self.stored(key, None).await? {
            Some(t) => Ok(t),
            None => self.refresh_inner(key, None, fetch).await,
        }
    }

    async fn refresh(&self, key: &str, stale: &str, fetch: &dyn TokenFetch) -> Result<String, SendError> {
        self.refresh_inner(key, Some(stale), fetch).await
    }
}

/// Reads `/media/<id>` URLs from the store.
pub struct StoreMedia {
    store: Arc<dyn Store>,
}

impl StoreMedia {
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreMedia { store }
    }
}

#[async_trait]
impl MediaSource for StoreMedia {
    async fn load(&self, url: &str) -> Option<Media> {
        let id = url.strip_prefix("/media/")?;
        let (info, bytes) = self.store.media(id).await.ok()?;
        Some(Media { bytes, mime: info.mime, filename: info.filename })
    }
}

/// Per-person platform sessions (DingTalk's sessionWebhook) from the store.
pub struct StoreSessions {
    store: Arc<dyn Store>,
}

#[async_trait]
impl PlatformSessions for StoreSessions {
    async fn get(&self, channel: ChannelId, external_id: &str) -> Option<String> {
        self.store.platform_session(channel, external_id).await.ok().flatten().map(|(data, _)| data)
    }
}

/// Everything platform adapters need, built once per process.
#[derive(Clone)]
pub struct Platforms {
    pub wx: WxClient,
    pub dt: DtClient,
    pub tokens: Arc<StoreTokens>,
    pub media: Arc<StoreMedia>,
    pub sessions: Arc<StoreSessions>,
}

impl Platforms {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Platforms {
            wx: WxClient::new(clock.clone()),
            dt: DtClient::new(clock.clone()),
            tokens: Arc::new(StoreTokens::new(store.clone(), clock)),
            media: Arc::new(StoreMedia::new(store.clone())),
            sessions: Arc::new(StoreSessions { store }),
        }
    }
}
