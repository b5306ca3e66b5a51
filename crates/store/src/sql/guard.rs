//! Abuse guards shared by every node: failed logins per (hashed) username, DingTalk signatures
//! already used, and the small settings operators change at run time.

use async_trait::async_trait;
use kefu_domain::{ChannelId, Timestamp};

use super::SqlStore;
use super::exec::q;
use crate::{GuardStore, Result, StoreError};

#[async_trait]
impl GuardStore for SqlStore {
    async fn login_failures(&self, key: &str, since: Timestamp) -> Result<u32> {
        let r = self
            .reader()
            .opt(q!(
                "SELECT failures FROM login_failures WHERE key = $1 AND window_start >= $2",
                key,
                since.0
            ))
            .await?;
        Ok(match r {
            Some(r) => u32::try_from(r.int("failures")?).unwrap_or(u32::MAX),
            None => 0,
        })
    }

    async fn login_failed(&self, key: &str, since: Timestamp, now: Timestamp) -> Result<u32> {
        let r = self
            .writer()
            .one(q!(
                "INSERT INTO login_failures (key, window_start, failures) VALUES ($1, $3, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                 failures = CASE WHEN login_failures.window_start >= $2 THEN login_failures.failures + 1 ELSE 1 END, \
                 window_start = CASE WHEN login_failures.window_start >= $2 THEN login_failures.window_start ELSE $3 END \
                 RETURNING failures",
                key,
                since.0,
                now.0
            ))
            .await?;
        Ok(u32::try_from(r.int("failures")?).unwrap_or(u32::MAX))
    }

    async fn login_succeeded(&self, key: &str) -> Result<()> {
        self.writer().exec(q!("DELETE FROM login_failures WHERE key = $1", key)).await?;
        Ok(())
    }

    async fn remember_signature(
        &self,
        channel: ChannelId,
        sign: &str,
        body_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        let r = self
            .writer()
            .one(q!(
                "INSERT INTO used_signatures (channel_id, sign, body_hash, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (channel_id, sign) DO UPDATE SET body_hash = CASE WHEN used_signatures.expires_at <= $5 \
                 THEN $3 ELSE used_signatures.body_hash END, expires_at = CASE WHEN used_signatures.expires_at <= $5 \
                 THEN $4 ELSE used_signatures.expires_at END RETURNING body_hash",
                channel.0,
                sign,
                body_hash,
                expires_at.0,
                now.0
            ))
            .await?;
        Ok(r.text("body_hash")? == body_hash)
    }

    async fn purge_guards(&self, now: Timestamp, stale_before: Timestamp) -> Result<u64> {
        let a = self.writer().exec(q!("DELETE FROM used_signatures WHERE expires_at <= $1", now.0)).await?;
        let b = self
            .writer()
            .exec(q!("DELETE FROM login_failures WHERE window_start < $1", stale_before.0))
            .await?;
        Ok(a + b)
    }

    async fn setting(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let r = self.reader().opt(q!("SELECT value FROM settings WHERE key = $1", key)).await?;
        match r {
            Some(r) => {
                let v = serde_json::from_str(&r.text("value")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    }

    async fn put_setting(&self, key: &str, value: &serde_json::Value, now: Timestamp) -> Result<()> {
        self.writer()
            .exec(q!(
                "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
                key,
                value.to_string(),
                now.0
            ))
            .await?;
        Ok(())
    }

    async fn setting_secrets(&self, key: &str) -> Result<serde_json::Value> {
        let r = self.reader().opt(q!("SELECT secrets FROM settings WHERE key = $1", key)).await?;
        match r.map(|r| r.opt_blob("secrets")).transpose()?.flatten() {
            Some(sealed) => serde_json::from_slice(&self.cipher().open(&sealed)?)
                .map_err(|e| StoreError::Corrupt(e.to_string())),
            None => Ok(serde_json::json!({})),
        }
    }

    async fn put_setting_secrets(&self, key: &str, secrets: &serde_json::Value) -> Result<()> {
        let sealed = self.cipher().seal(secrets.to_string().as_bytes())?;
        let n = self
            .writer()
            .exec(q!("UPDATE settings SET secrets = $1 WHERE key = $2", Some(sealed), key))
            .await?;
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
