//! OneID and the customer 360 view: who shares a UnionID or phone, merging customers and
//! undoing a merge exactly, a customer's identities and cross-channel history, tags and notes.
//!
//! **The merge rule:** a merge moves every identity of the merged customer — and with them
//! every conversation — to the survivor, and records exactly which identities moved. An unmerge
//! moves those identities and all their conversations (including ones opened since) back,
//! which is only allowed while they all still belong to the survivor (undo later merges
//! first). Messages belong to conversations, so neither direction can lose one.

use async_trait::async_trait;
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Row, Tx, q};
use super::rows::{self, identity_cols, message_cols};
use crate::model::MessagePage;
use crate::{CustomerStore, Result, StoreError};

fn merge_of(r: &Row) -> Result<CustomerMerge> {
    let ids: Vec<i64> =
        serde_json::from_str(&r.text("identity_ids")?).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(CustomerMerge {
        id: r.int("id")?,
        survivor: CustomerId(r.int("survivor_id")?),
        merged: CustomerId(r.int("merged_id")?),
        identities: ids.into_iter().map(IdentityId).collect(),
        reason: r.text("reason")?,
        by: r.opt_int("by_agent")?.map(AgentId),
        at: Timestamp(r.int("created_at")?),
        undone_at: r.opt_int("undone_at")?.map(Timestamp),
        undone_by: r.opt_int("undone_by")?.map(AgentId),
        undo_reason: r.opt_text("undo_reason")?,
    })
}

/// The merge audit query with a literal tail, so the SQL stays a `'static` literal.
macro_rules! merges_where {
    ($tail:literal) => {
        concat!(
            "SELECT id, survivor_id, merged_id, identity_ids, reason, by_agent, created_at, undone_at, ",
            "undone_by, undo_reason FROM customer_merges",
            $tail
        )
    };
}

/// A customer that has not been merged into another.
async fn live(tx: &mut Tx, id: CustomerId) -> Result<()> {
    let r = tx.conn().opt(q!("SELECT merged_into FROM customers WHERE id = $1", id.0)).await?;
    match r {
        None => Err(StoreError::NotFound),
        Some(r) if r.opt_int("merged_into")?.is_some() => {
            Err(StoreError::Conflict(format!("customer {id} was merged into another")))
        }
        Some(_) => Ok(()),
    }
}

async fn move_identity(tx: &mut Tx, identity: i64, to: CustomerId) -> Result<()> {
    tx.conn().exec(q!("UPDATE identities SET customer_id = $1 WHERE id = $2", to.0, identity)).await?;
    tx.conn()
        .exec(q!("UPDATE conversations SET customer_id = $1 WHERE identity_id = $2", to.0, identity))
        .await?;
    Ok(())
}

#[async_trait]
impl CustomerStore for SqlStore {
    async fn oneid_matches(&self, customer: CustomerId) -> Result<Vec<(CustomerId, String)>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT DISTINCT o.customer_id, CASE WHEN o.union_id = i.union_id THEN 'unionid:' || i.union_id \
                 ELSE 'phone:' || i.phone END AS why FROM identities i JOIN identities o \
                 ON (o.union_id = i.union_id OR (o.phone = i.phone AND o.phone_verified AND i.phone_verified)) \
                 WHERE i.customer_id = $1 AND o.customer_id <> $1 AND NOT EXISTS (SELECT 1 FROM customer_merge_blocks b \
                 WHERE (b.low_id = $1 AND b.high_id = o.customer_id) OR (b.high_id = $1 AND b.low_id = o.customer_id)) \
                 ORDER BY o.customer_id",
                customer.0
            ))
            .await?;
        rows.iter().map(|r| Ok((CustomerId(r.int("customer_id")?), r.text("why")?))).collect()
    }

    async fn merge_customers(
        &self,
        survivor: CustomerId,
        merged: CustomerId,
        reason: &str,
        by: Option<AgentId>,
        now: Timestamp,
    ) -> Result<CustomerMerge> {
        if survivor == merged {
            return Err(StoreError::Conflict("a customer cannot be merged with itself".into()));
        }
        let mut tx = self.begin().await?;
        live(&mut tx, survivor).await?;
        live(&mut tx, merged).await?;
        let rows = tx
            .conn()
            .all(q!("SELECT id FROM identities WHERE customer_id = $1 ORDER BY id", merged.0))
            .await?;
        let ids = rows.iter().map(|r| r.int("id")).collect::<Result<Vec<i64>>>()?;
        for id in &ids {
            move_identity(&mut tx, *id, survivor).await?;
        }
        tx.conn()
            .exec(q!(
                "UPDATE customers SET merged_into = $1 WHERE id = $2 OR merged_into = $2",
                survivor.0,
                merged.0
            ))
            .await?;
        let json = serde_json::to_string(&ids).unwrap_or_default();
        let r = tx
            .conn()
            .one(q!(
                "INSERT INTO customer_merges (survivor_id, merged_id, identity_ids, reason, by_agent, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                survivor.0,
                merged.0,
                json,
                reason,
                by.map(|a| a.0),
                now.0
            ))
            .await?;
        let id = r.int("id")?;
        tx.commit().await?;
        self.merge(id).await
    }

    async fn unmerge(&self, merge: i64, by: AgentId, reason: &str, now: Timestamp) -> Result<CustomerMerge> {
        let m = self.merge(merge).await?;
        if m.undone_at.is_some() {
            return Err(StoreError::Conflict("this merge was already undone".into()));
        }
        let mut tx = self.begin().await?;
        for id in &m.identities {
            let owner = tx.conn().one(q!("SELECT customer_id FROM identities WHERE id = $1", id.0)).await?;
            if owner.int("customer_id")? != m.survivor.0 {
                return Err(StoreError::Conflict(
                    "a later merge moved these identities; undo it first".into(),
                ));
            }
        }
        for id in &m.identities {
            move_identity(&mut tx, id.0, m.merged).await?;
        }
        tx.conn().exec(q!("UPDATE customers SET merged_into = NULL WHERE id = $1", m.merged.0)).await?;
        tx.conn()
            .exec(q!(
                "UPDATE customer_merges SET undone_at = $1, undone_by = $2, undo_reason = $3 WHERE id = $4",
                now.0,
                by.0,
                reason,
                merge
            ))
            .await?;
        let (low, high) = (m.survivor.0.min(m.merged.0), m.survivor.0.max(m.merged.0));
        tx.conn()
            .exec(q!(
                "INSERT INTO customer_merge_blocks (low_id, high_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                low,
                high
            ))
            .await?;
        tx.commit().await?;
        self.merge(merge).await
    }

    async fn merge(&self, id: i64) -> Result<CustomerMerge> {
        merge_of(&self.reader().one(q!(merges_where!(" WHERE id = $1"), id)).await?)
    }

    async fn merges_of(&self, customer: CustomerId) -> Result<Vec<CustomerMerge>> {
        let sql = merges_where!(" WHERE survivor_id = $1 OR merged_id = $1 ORDER BY id DESC");
        let rows = self.reader().all(q!(sql, customer.0)).await?;
        rows.iter().map(merge_of).collect()
    }

    async fn customer_identities(&self, customer: CustomerId) -> Result<Vec<Identity>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    identity_cols!(),
                    " FROM identities i WHERE i.customer_id = $1 ORDER BY i.id"
                ),
                customer.0
            ))
            .await?;
        rows.iter().map(rows::identity).collect()
    }

    async fn customer_messages(&self, customer: CustomerId, page: MessagePage) -> Result<Vec<Message>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    message_cols!(),
                    " FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                     WHERE c.customer_id = $1 AND ($2 IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3"
                ),
                customer.0,
                page.before.map(|m| m.0),
                page.limit.clamp(1, 200)
            ))
            .await?;
        rows.iter().map(rows::message).collect()
    }

    async fn search_customers(
        &self,
        text: &str,
        viewer: Option<AgentId>,
        limit: u32,
    ) -> Result<Vec<Customer>> {
        // Escaped rather than stripped: external ids such as `dt_lina` contain `_`.
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let like = format!("%{escaped}%");
        let rows = self
            .reader()
            .all(q!(
                "SELECT c.id, c.display_name, c.created_at FROM customers c WHERE c.merged_into IS NULL AND \
                 (c.display_name LIKE $1 ESCAPE '\\' OR EXISTS (SELECT 1 FROM identities i WHERE i.customer_id = c.id AND \
                 (i.nickname LIKE $1 ESCAPE '\\' OR i.phone LIKE $1 ESCAPE '\\' OR i.external_id LIKE $1 ESCAPE '\\' \
                 OR i.union_id LIKE $1 ESCAPE '\\'))) \
                 AND ($3 IS NULL OR EXISTS (SELECT 1 FROM conversation_agents ca JOIN conversations v \
                 ON v.id = ca.conversation_id WHERE ca.agent_id = $3 AND v.customer_id = c.id) \
                 OR EXISTS (SELECT 1 FROM conversations w WHERE w.customer_id = c.id AND w.state <> 'closed' \
                 AND w.agent_id IS NULL AND (w.group_id IS NULL OR EXISTS (SELECT 1 FROM agent_skill_groups g \
                 WHERE g.agent_id = $3 AND g.group_id = w.group_id)))) \
                 ORDER BY c.id DESC LIMIT $2",
                like,
                limit.clamp(1, 100),
                viewer.map(|a| a.0)
            ))
            .await?;
        rows.iter().map(rows::customer).collect()
    }

    async fn merged_into(&self, customer: CustomerId) -> Result<Option<CustomerId>> {
        let r = self.reader().one(q!("SELECT merged_into FROM customers WHERE id = $1", customer.0)).await?;
        Ok(r.opt_int("merged_into")?.map(CustomerId))
    }

    async fn tags(&self, customer: CustomerId) -> Result<Vec<String>> {
        let rows = self
            .reader()
            .all(q!("SELECT tag FROM customer_tags WHERE customer_id = $1 ORDER BY tag", customer.0))
            .await?;
        rows.iter().map(|r| r.text("tag")).collect()
    }

    async fn set_tags(&self, customer: CustomerId, tags: &[String], now: Timestamp) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        tx.conn().exec(q!("DELETE FROM customer_tags WHERE customer_id = $1", customer.0)).await?;
        for t in tags {
            tx.conn()
                .exec(q!(
                    "INSERT INTO customer_tags (customer_id, tag, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    customer.0,
                    t.as_str(),
                    now.0
                ))
                .await?;
        }
        tx.commit().await?;
        self.tags(customer).await
    }

    async fn notes(&self, customer: CustomerId) -> Result<Vec<CustomerNote>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT id, customer_id, agent_id, text, created_at FROM customer_notes WHERE customer_id = $1 ORDER BY id DESC",
                customer.0
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CustomerNote {
                    id: r.int("id")?,
                    customer: CustomerId(r.int("customer_id")?),
                    agent: AgentId(r.int("agent_id")?),
                    text: r.text("text")?,
                    at: Timestamp(r.int("created_at")?),
                })
            })
            .collect()
    }

    async fn add_note(&self, customer: CustomerId, agent: AgentId, text: &str, now: Timestamp) -> Result<()> {
        self.writer()
            .exec(q!(
                "INSERT INTO customer_notes (customer_id, agent_id, text, created_at) VALUES ($1, $2, $3, $4)",
                customer.0,
                agent.0,
                text,
                now.0
            ))
            .await?;
        Ok(())
    }
}
