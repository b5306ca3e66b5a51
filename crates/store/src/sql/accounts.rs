//! Account administration: edits, disabling and re-enabling, passwords, ending sessions — each
//! one transaction, with the rule that a deployment always keeps one enabled admin.

use async_trait::async_trait;
use kefu_domain::{Agent, AgentId, Job, NewJob, Role, Timestamp};

use super::SqlStore;
use super::exec::{Tx, q};
use super::jobs::enqueue_in;
use crate::model::AccountChange;
use crate::{AccountStore, AgentStore, Result, Session, StoreError};

/// Enabled admins, locked on PostgreSQL so two admins demoting each other at once cannot both
/// succeed (SQLite has one writer).
async fn enabled_admins(tx: &mut Tx) -> Result<Vec<i64>> {
    let sql = if tx.is_postgres() {
        "SELECT id FROM agents WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id FOR UPDATE"
    } else {
        "SELECT id FROM agents WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id"
    };
    let rows = tx.conn().all(q!(sql)).await?;
    rows.iter().map(|r| r.int("id")).collect()
}

/// Refuses a change that would leave no enabled admin.
async fn keep_an_admin(tx: &mut Tx, id: AgentId, change: &AccountChange) -> Result<()> {
    let admins = enabled_admins(tx).await?;
    let r = tx.conn().opt(q!("SELECT role, disabled_at FROM agents WHERE id = $1", id.0)).await?;
    let r = r.ok_or(StoreError::NotFound)?;
    let role: Role = r.parsed("role")?;
    let disabled = r.opt_int("disabled_at")?.is_some();
    let admin_now = role == Role::Admin && !disabled;
    let admin_after = change.role.unwrap_or(role) == Role::Admin && !change.disabled.unwrap_or(disabled);
    if admin_now && !admin_after && admins.iter().all(|a| *a == id.0) {
        return Err(StoreError::Refused("the last admin cannot be disabled or given another role".into()));
    }
    Ok(())
}

async fn end_sessions_in(tx: &mut Tx, id: AgentId, keep: Option<&str>) -> Result<u64> {
    tx.conn()
        .exec(q!(
            "DELETE FROM sessions WHERE agent_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
            id.0,
            keep.map(str::to_owned)
        ))
        .await
}

async fn set_profile(tx: &mut Tx, id: AgentId, c: &AccountChange) -> Result<()> {
    if let Some(name) = &c.display_name {
        tx.conn().exec(q!("UPDATE agents SET display_name = $1 WHERE id = $2", name, id.0)).await?;
    }
    if let Some(role) = c.role {
        tx.conn().exec(q!("UPDATE agents SET role = $1 WHERE id = $2", role.as_str(), id.0)).await?;
    }
    if let Some(capacity) = c.capacity {
        tx.conn().exec(q!("UPDATE agents SET capacity = $1 WHERE id = $2", capacity, id.0)).await?;
    }
    if let Some(avatar) = &c.avatar {
        tx.conn().exec(q!("UPDATE agents SET avatar = $1 WHERE id = $2", avatar.clone(), id.0)).await?;
    }
    if let Some(groups) = &c.skill_groups {
        tx.conn().exec(q!("DELETE FROM agent_skill_groups WHERE agent_id = $1", id.0)).await?;
        for g in groups {
            tx.conn()
                .exec(q!("INSERT INTO agent_skill_groups (agent_id, group_id) VALUES ($1, $2)", id.0, g.0))
                .await?;
        }
    }
    Ok(())
}

/// Disabling ends the sessions at once and queues the job that sets the account offline and
/// sends its conversations back to routing (a job, so it happens even if this node dies now).
async fn set_disabled(tx: &mut Tx, id: AgentId, disabled: bool, now: Timestamp) -> Result<()> {
    if !disabled {
        tx.conn().exec(q!("UPDATE agents SET disabled_at = NULL WHERE id = $1", id.0)).await?;
        return Ok(());
    }
    let n = tx
        .conn()
        .exec(q!("UPDATE agents SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL", now.0, id.0))
        .await?;
    if n == 1 {
        end_sessions_in(tx, id, None).await?;
        enqueue_in(tx, &NewJob { job: Job::AgentAbsent { agent: id }, run_at: now }, now).await?;
    }
    Ok(())
}

#[async_trait]
impl AccountStore for SqlStore {
    async fn change_account(&self, id: AgentId, change: &AccountChange, now: Timestamp) -> Result<Agent> {
        let mut tx = self.begin().await?;
        keep_an_admin(&mut tx, id, change).await?;
        set_profile(&mut tx, id, change).await?;
        if let Some(disabled) = change.disabled {
            set_disabled(&mut tx, id, disabled, now).await?;
        }
        if let Some(hash) = &change.password_hash {
            let sql = "UPDATE agents SET password_hash = $1, password_changed_at = $2 WHERE id = $3";
            tx.conn().exec(q!(sql, hash, now.0, id.0)).await?;
            end_sessions_in(&mut tx, id, change.keep_session.as_deref()).await?;
            if let Some(keep) = &change.keep_session {
                let sql = "UPDATE sessions SET must_change_password = 0 WHERE token_hash = $1";
                tx.conn().exec(q!(sql, keep)).await?;
            }
        }
        tx.commit().await?;
        self.agent(id).await
    }

    async fn end_sessions(&self, id: AgentId, keep: Option<&str>) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = end_sessions_in(&mut tx, id, keep).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn agent_by_username(&self, username: &str) -> Result<Agent> {
        Ok(self.agent_credentials(username).await?.0)
    }

    async fn password_changed_at(&self, id: AgentId) -> Result<Timestamp> {
        let r = self
            .reader()
            .one(q!("SELECT COALESCE(password_changed_at, created_at) AS t FROM agents WHERE id = $1", id.0))
            .await?;
        Ok(Timestamp(r.int("t")?))
    }

    async fn sessions_of(&self, id: AgentId, now: Timestamp) -> Result<Vec<Session>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT token_hash, agent_id, csrf_token, created_at, expires_at, client_ip, user_agent, \
                 must_change_password FROM sessions WHERE agent_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
                id.0,
                now.0
            ))
            .await?;
        rows.iter().map(super::agents::session_from).collect()
    }
}
