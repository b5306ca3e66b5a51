//! API keys (only the hash of the secret half is kept) and outbound webhooks: endpoints with
//! sealed signing secrets, and the delivery outbox with leases, attempts and a log.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Row, q};
use crate::feed_model::*;
use crate::{IntegrationStore, Result, StoreError};

fn json_list(r: &Row, col: &str) -> Result<Vec<String>> {
    serde_json::from_str(&r.text(col)?).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn api_key(r: &Row) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.int("id")?,
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        scopes: json_list(r, "scopes")?,
        created_by: AgentId(r.int("created_by")?),
        created_at: Timestamp(r.int("created_at")?),
        last_used_at: r.opt_int("last_used_at")?.map(Timestamp),
        revoked_at: r.opt_int("revoked_at")?.map(Timestamp),
    })
}

macro_rules! key_cols {
    () => {
        "id, name, prefix, scopes, created_by, created_at, last_used_at, revoked_at"
    };
}

fn webhook(r: &Row) -> Result<Webhook> {
    Ok(Webhook {
        id: r.int("id")?,
        url: r.text("url")?,
        events: json_list(r, "events")?,
        enabled: r.boolean("enabled")?,
        cursor: r.int("cursor")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

fn delivery(r: &Row) -> Result<WebhookDelivery> {
    let state = match r.text("state")?.as_str() {
        "pending" => DeliveryState::Pending,
        "delivered" => DeliveryState::Delivered,
        "failed" => DeliveryState::Failed,
        other => return Err(StoreError::Corrupt(format!("delivery state {other:?}"))),
    };
    Ok(WebhookDelivery {
        id: r.int("id")?,
        webhook_id: r.int("webhook_id")?,
        change_seq: r.int("change_seq")?,
        kind: r.text("kind")?,
        payload: r.text("payload")?,
        state,
        attempts: r.int("attempts")?,
        next_attempt_at: Timestamp(r.int("next_attempt_at")?),
        last_status: r.opt_int("last_status")?,
        last_error: r.opt_text("last_error")?,
        created_at: Timestamp(r.int("created_at")?),
        delivered_at: r.opt_int("delivered_at")?.map(Timestamp),
    })
}

macro_rules! delivery_cols {
    () => {
        "id, webhook_id, change_seq, kind, payload, state, attempts, next_attempt_at, last_status, last_error, \
         created_at, delivered_at"
    };
}

/// Due, unleased deliveries; PostgreSQL skips rows another node is claiming right now.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE webhook_deliveries SET locked_until = $1, attempts = attempts + 1 WHERE id IN (\
             SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 \
             AND (locked_until IS NULL OR locked_until <= $2) \
             AND webhook_id IN (SELECT id FROM webhooks WHERE enabled) ORDER BY id LIMIT $3",
            $lock,
            ") RETURNING ",
            delivery_cols!()
        )
    };
}

#[async_trait]
impl IntegrationStore for SqlStore {
    async fn create_api_key(&self, k: NewApiKey<'_>, now: Timestamp) -> Result<ApiKey> {
        let r = self
            .writer()
            .one(q!(
                "INSERT INTO api_keys (name, prefix, secret_hash, scopes, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                k.name,
                k.prefix,
                k.secret_hash,
                to_json(k.scopes),
                k.by.0,
                now.0
            ))
            .await?;
        let id = r.int("id")?;
        let r = self
            .reader()
            .one(q!(concat!("SELECT ", key_cols!(), " FROM api_keys WHERE id = $1"), id))
            .await?;
        api_key(&r)
    }

    async fn api_key(&self, prefix: &str) -> Result<Option<(ApiKey, String)>> {
        let r = self
            .reader()
            .opt(q!(concat!("SELECT ", key_cols!(), ", secret_hash FROM api_keys WHERE prefix = $1"), prefix))
            .await?;
        r.map(|r| Ok((api_key(&r)?, r.text("secret_hash")?))).transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows =
            self.reader().all(q!(concat!("SELECT ", key_cols!(), " FROM api_keys ORDER BY id DESC"))).await?;
        rows.iter().map(api_key).collect()
    }

    async fn revoke_api_key(&self, id: i64, now: Timestamp) -> Result<()> {
        let n = self
            .writer()
            .exec(q!("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2", now.0, id))
            .await?;
        if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    async fn touch_api_key(&self, id: i64, now: Timestamp) -> Result<()> {
        self.writer().exec(q!("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", now.0, id)).await?;
        Ok(())
    }

    async fn create_webhook(
        &self,
        url: &str,
        secret: &str,
        events: &[String],
        now: Timestamp,
    ) -> Result<Webhook> {
        let sealed = self.cipher().seal(secret.as_bytes())?;
        let r = self
            .writer()
            .one(q!(
                "INSERT INTO webhooks (url, secret, events, enabled, cursor, created_at) \
                 VALUES ($1, $2, $3, TRUE, (SELECT COALESCE(MAX(seq), 0) FROM changes), $4) RETURNING id",
                url,
                Some(sealed),
                to_json(events),
                now.0
            ))
            .await?;
        self.webhook(r.int("id")?).await
    }

    async fn update_webhook(&self, id: i64, url: &str, events: &[String], enabled: bool) -> Result<Webhook> {
        let n = self
            .writer()
            .exec(q!(
                "UPDATE webhooks SET url = $1, events = $2, enabled = $3 WHERE id = $4",
                url,
                to_json(events),
                enabled,
                id
            ))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.webhook(id).await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>> {
        let rows = self
            .reader()
            .all(q!("SELECT id, url, events, enabled, cursor, created_at FROM webhooks ORDER BY id"))
            .await?;
        rows.iter().map(webhook).collect()
    }

    async fn webhook(&self, id: i64) -> Result<Webhook> {
        let r = self
            .reader()
            .opt(q!("SELECT id, url, events, enabled, cursor, created_at FROM webhooks WHERE id = $1", id))
            .await?;
        webhook(&r.ok_or(StoreError::NotFound)?)
    }

    async fn webhook_secret(&self, id: i64) -> Result<String> {
        let r = self.reader().opt(q!("SELECT secret FROM webhooks WHERE id = $1", id)).await?;
        let sealed = r.ok_or(StoreError::NotFound)?.opt_blob("secret")?.unwrap_or_default();
        String::from_utf8(self.cipher().open(&sealed)?).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn enqueue_deliveries(
        &self,
        webhook: i64,
        from: i64,
        to: i64,
        d: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let moved = tx
            .conn()
            .exec(q!("UPDATE webhooks SET cursor = $1 WHERE id = $2 AND cursor = $3", to, webhook, from))
            .await?;
        if moved == 0 {
            return Ok(false);
        }
        for n in d {
            tx.conn()
                .exec(q!(
                    "INSERT INTO webhook_deliveries (webhook_id, change_seq, kind, payload, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
                    webhook,
                    n.change_seq,
                    n.kind.as_str(),
                    n.payload.as_str(),
                    now.0
                ))
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        let mut tx = self.begin().await?;
        let sql = if tx.is_postgres() { claim_sql!(" FOR UPDATE SKIP LOCKED") } else { claim_sql!("") };
        let rows = tx.conn().all(q!(sql, lease_until.0, now.0, limit)).await?;
        tx.commit().await?;
        let mut out: Vec<WebhookDelivery> = rows.iter().map(delivery).collect::<Result<_>>()?;
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    async fn finish_delivery(&self, id: i64, outcome: &DeliveryOutcome, now: Timestamp) -> Result<()> {
        let q = match outcome {
            DeliveryOutcome::Delivered { status } => q!(
                "UPDATE webhook_deliveries SET state = 'delivered', locked_until = NULL, last_status = $1, \
                 last_error = NULL, delivered_at = $2 WHERE id = $3",
                *status,
                now.0,
                id
            ),
            DeliveryOutcome::Retry { status, error, at } => q!(
                "UPDATE webhook_deliveries SET locked_until = NULL, last_status = $1, last_error = $2, \
                 next_attempt_at = $3 WHERE id = $4",
                *status,
                error.as_str(),
                at.0,
                id
            ),
            DeliveryOutcome::GiveUp { status, error } => q!(
                "UPDATE webhook_deliveries SET state = 'failed', locked_until = NULL, last_status = $1, \
                 last_error = $2 WHERE id = $3",
                *status,
                error.as_str(),
                id
            ),
        };
        self.writer().exec(q).await?;
        Ok(())
    }

    async fn deliveries(&self, webhook: i64, limit: u32) -> Result<Vec<WebhookDelivery>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    delivery_cols!(),
                    " FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"
                ),
                webhook,
                limit.clamp(1, 500)
            ))
            .await?;
        rows.iter().map(delivery).collect()
    }

    async fn redeliver(&self, id: i64, now: Timestamp) -> Result<()> {
        let n = self
            .writer()
            .exec(q!(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1, locked_until = NULL \
                 WHERE id = $2 AND state = 'failed'",
                now.0,
                id
            ))
            .await?;
        if n == 0 {
            Err(StoreError::Conflict("only failed deliveries can be sent again".into()))
        } else {
            Ok(())
        }
    }
}
