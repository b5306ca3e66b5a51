//! Access tokens and pull cursors, each guarded by a lease row so only one node refreshes or
//! pulls at a time, without holding a connection (or SQLite's write lock) while it waits on HTTP.

use async_trait::async_trait;
use kefu_domain::{ChannelId, Timestamp};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::SqlStore;
use super::exec::{Row, q};
use crate::{PlatformStore, Result, StoreError};

impl SqlStore {
    /// Tokens are sealed like channel secrets: a copied database grants no API access.
    fn seal_token(&self, token: &str) -> Result<String> {
        if token.is_empty() {
            return Ok(String::new());
        }
        Ok(STANDARD.encode(self.cipher().seal(token.as_bytes())?))
    }

    fn token_row(&self, r: &Row) -> Result<(String, Timestamp)> {
        let sealed = r.text("token")?;
        let token = if sealed.is_empty() {
            String::new()
        } else {
            let raw = STANDARD.decode(&sealed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            String::from_utf8(self.cipher().open(&raw)?).map_err(|e| StoreError::Corrupt(e.to_string()))?
        };
        Ok((token, Timestamp(r.int("expires_at")?)))
    }
}

#[async_trait]
impl PlatformStore for SqlStore {
    async fn token(&self, key: &str) -> Result<Option<(String, Timestamp)>> {
        let r = self
            .reader()
            .opt(q!("SELECT token, expires_at FROM platform_tokens WHERE key = $1", key))
            .await?;
        r.map(|r| self.token_row(&r)).transpose()
    }

    async fn lease_token(
        &self,
        key: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<(String, Timestamp)>> {
        let r = self
            .writer()
            .opt(q!(
                "INSERT INTO platform_tokens (key, token, expires_at, locked_until, updated_at) \
                 VALUES ($1, '', 0, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET locked_until = $2 \
                 WHERE platform_tokens.locked_until IS NULL OR platform_tokens.locked_until <= $3 \
                 RETURNING token, expires_at",
                key,
                until.0,
                now.0
            ))
            .await?;
        r.map(|r| self.token_row(&r)).transpose()
    }

    async fn save_token(&self, key: &str, token: &str, expires_at: Timestamp, now: Timestamp) -> Result<()> {
        let token = self.seal_token(token)?;
        self.writer()
            .exec(q!(
                "UPDATE platform_tokens SET token = $2, expires_at = $3, locked_until = NULL, updated_at = $4 \
                 WHERE key = $1",
                key,
                token,
                expires_at.0,
                now.0
            ))
            .await?;
        Ok(())
    }

    async fn release_token(&self, key: &str) -> Result<()> {
        self.writer().exec(q!("UPDATE platform_tokens SET locked_until = NULL WHERE key = $1", key)).await?;
        Ok(())
    }

    async fn lease_cursor(
        &self,
        channel: ChannelId,
        name: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<String>> {
        let r = self
            .writer()
            .opt(q!(
                "INSERT INTO channel_cursors (channel_id, name, cursor, locked_until, updated_at) \
                 VALUES ($1, $2, '', $3, $4) \
                 ON CONFLICT (channel_id, name) DO UPDATE SET locked_until = $3 \
                 WHERE channel_cursors.locked_until IS NULL OR channel_cursors.locked_until <= $4 \
                 RETURNING cursor",
                channel.0,
                name,
                until.0,
                now.0
            ))
            .await?;
        r.map(|r| r.text("cursor")).transpose()
    }

    async fn save_cursor(&self, channel: ChannelId, name: &str, cursor: &str, now: Timestamp) -> Result<()> {
        self.writer()
            .exec(q!(
                "UPDATE channel_cursors SET cursor = $3, updated_at = $4 WHERE channel_id = $1 AND name = $2",
                channel.0,
                name,
                cursor,
                now.0
            ))
            .await?;
        Ok(())
    }

    async fn release_cursor(&self, channel: ChannelId, name: &str) -> Result<()> {
        self.writer()
            .exec(q!(
                "UPDATE channel_cursors SET locked_until = NULL WHERE channel_id = $1 AND name = $2",
                channel.0,
                name
            ))
            .await?;
        Ok(())
    }

    async fn put_platform_session(
        &self,
        channel: ChannelId,
        external_id: &str,
        data: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        self.writer()
            .exec(q!(
                "INSERT INTO platform_sessions (channel_id, external_id, data, expires_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, external_id) DO UPDATE \
                 SET data = excluded.data, expires_at = excluded.expires_at, updated_at = excluded.updated_at \
                 WHERE platform_sessions.expires_at <= excluded.expires_at",
                channel.0,
                external_id,
                data,
                expires_at.0,
                now.0
            ))
            .await?;
        Ok(())
    }

    async fn platform_session(
        &self,
        channel: ChannelId,
        external_id: &str,
    ) -> Result<Option<(String, Timestamp)>> {
        let r = self
            .reader()
            .opt(q!(
                "SELECT data, expires_at FROM platform_sessions WHERE channel_id = $1 AND external_id = $2",
                channel.0,
                external_id
            ))
            .await?;
        r.map(|r| Ok((r.text("data")?, Timestamp(r.int("expires_at")?)))).transpose()
    }
}
