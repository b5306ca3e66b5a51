//! Channel accounts; their secrets are sealed with the store's cipher before they touch disk.

use async_trait::async_trait;
use kefu_domain::{Channel, ChannelId, Timestamp};

use super::SqlStore;
use super::exec::{Row, q};
use crate::{ChannelStore, NewChannel, Result, StoreError};

macro_rules! select_channels {
    ($($tail:literal)?) => {
        concat!("SELECT id, kind, key, name, enabled, settings, secrets FROM channels" $(, $tail)?)
    };
}

impl SqlStore {
    fn channel_from(&self, r: &Row) -> Result<Channel> {
        let settings = r.text("settings")?;
        let secrets = match r.opt_blob("secrets")? {
            Some(sealed) => serde_json::from_slice(&self.cipher().open(&sealed)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            None => serde_json::Value::Object(Default::default()),
        };
        Ok(Channel {
            id: ChannelId(r.int("id")?),
            kind: r.parsed("kind")?,
            key: r.text("key")?,
            name: r.text("name")?,
            enabled: r.boolean("enabled")?,
            settings: serde_json::from_str(&settings).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            secrets,
        })
    }
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn create_channel(&self, new: NewChannel, now: Timestamp) -> Result<Channel> {
        let sealed = self.cipher().seal(new.secrets.to_string().as_bytes())?;
        let inserted = self
            .writer()
            .opt(q!(
                "INSERT INTO channels (kind, key, name, enabled, settings, secrets, created_at) \
                 VALUES ($1, $2, $3, TRUE, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
                new.kind.as_str(),
                &new.key,
                &new.name,
                new.settings.to_string(),
                Some(sealed),
                now.0,
            ))
            .await?;
        match inserted {
            Some(r) => self.channel(ChannelId(r.int("id")?)).await,
            None => Err(StoreError::Conflict(format!("channel key {:?}", new.key))),
        }
    }

    async fn channel(&self, id: ChannelId) -> Result<Channel> {
        let r = self.reader().one(q!(select_channels!(" WHERE id = $1"), id.0)).await?;
        self.channel_from(&r)
    }

    async fn channel_by_key(&self, key: &str) -> Result<Channel> {
        let r = self.reader().one(q!(select_channels!(" WHERE key = $1"), key)).await?;
        self.channel_from(&r)
    }

    async fn update_channel(&self, ch: &Channel) -> Result<Channel> {
        let sealed = self.cipher().seal(ch.secrets.to_string().as_bytes())?;
        let n = self
            .writer()
            .exec(q!(
                "UPDATE channels SET name = $1, enabled = $2, settings = $3, secrets = $4 WHERE id = $5",
                &ch.name,
                ch.enabled,
                ch.settings.to_string(),
                Some(sealed),
                ch.id.0
            ))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.channel(ch.id).await
    }

    async fn channels(&self) -> Result<Vec<Channel>> {
        let rows = self.reader().all(q!(select_channels!(" ORDER BY id"))).await?;
        rows.iter().map(|r| self.channel_from(r)).collect()
    }
}
