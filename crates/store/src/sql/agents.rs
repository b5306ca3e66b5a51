//! Agents, skill groups and login sessions.

use std::collections::HashMap;

use async_trait::async_trait;
use kefu_domain::{Agent, AgentId, AgentStatus, SkillGroup, SkillGroupId, Timestamp};

use super::SqlStore;
use super::exec::{Row, q};
use crate::{AgentStore, NewAgent, Result, Session, StoreError};

macro_rules! select_agents {
    ($($tail:literal)?) => {
        concat!(
            "SELECT id, username, display_name, password_hash, role, status, capacity FROM agents"
            $(, $tail)?
        )
    };
}

fn agent_from(r: &Row, skill_groups: Vec<SkillGroupId>) -> Result<Agent> {
    Ok(Agent {
        id: AgentId(r.int("id")?),
        username: r.text("username")?,
        display_name: r.text("display_name")?,
        role: r.parsed("role")?,
        status: r.parsed("status")?,
        capacity: u32::try_from(r.int("capacity")?).unwrap_or(0),
        skill_groups,
    })
}

impl SqlStore {
    async fn memberships(&self, agent: Option<AgentId>) -> Result<HashMap<i64, Vec<SkillGroupId>>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT agent_id, group_id FROM agent_skill_groups \
                 WHERE ($1 IS NULL OR agent_id = $1) ORDER BY group_id",
                agent.map(|a| a.0),
            ))
            .await?;
        let mut map: HashMap<i64, Vec<SkillGroupId>> = HashMap::new();
        for r in rows {
            map.entry(r.int("agent_id")?).or_default().push(SkillGroupId(r.int("group_id")?));
        }
        Ok(map)
    }
}

#[async_trait]
impl AgentStore for SqlStore {
    async fn create_skill_group(&self, name: &str, now: Timestamp) -> Result<SkillGroup> {
        let r = self
            .writer()
            .opt(q!(
                "INSERT INTO skill_groups (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id",
                name,
                now.0
            ))
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("skill group {name:?}")))?;
        Ok(SkillGroup { id: SkillGroupId(r.int("id")?), name: name.to_owned() })
    }

    async fn skill_groups(&self) -> Result<Vec<SkillGroup>> {
        let rows = self.reader().all(q!("SELECT id, name FROM skill_groups ORDER BY id")).await?;
        rows.iter()
            .map(|r| Ok(SkillGroup { id: SkillGroupId(r.int("id")?), name: r.text("name")? }))
            .collect()
    }

    async fn create_agent(&self, new: NewAgent, now: Timestamp) -> Result<Agent> {
        let mut tx = self.begin().await?;
        let r = tx
            .conn()
            .opt(q!(
                "INSERT INTO agents (username, display_name, password_hash, role, status, capacity, created_at) \
                 VALUES ($1, $2, $3, $4, 'offline', $5, $6) ON CONFLICT DO NOTHING RETURNING id",
                &new.username,
                &new.display_name,
                &new.password_hash,
                new.role.as_str(),
                new.capacity,
                now.0,
            ))
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("username {:?}", new.username)))?;
        let id = r.int("id")?;
        for g in &new.skill_groups {
            tx.conn()
                .exec(q!("INSERT INTO agent_skill_groups (agent_id, group_id) VALUES ($1, $2)", id, g.0))
                .await?;
        }
        tx.commit().await?;
        self.agent(AgentId(id)).await
    }

    async fn agent(&self, id: AgentId) -> Result<Agent> {
        let r = self.reader().one(q!(select_agents!(" WHERE id = $1"), id.0)).await?;
        let groups = self.memberships(Some(id)).await?.remove(&id.0).unwrap_or_default();
        agent_from(&r, groups)
    }

    async fn agent_credentials(&self, username: &str) -> Result<(Agent, String)> {
        let r = self.reader().one(q!(select_agents!(" WHERE username = $1"), username)).await?;
        let id = AgentId(r.int("id")?);
        let groups = self.memberships(Some(id)).await?.remove(&id.0).unwrap_or_default();
        Ok((agent_from(&r, groups)?, r.text("password_hash")?))
    }

    async fn agents(&self) -> Result<Vec<Agent>> {
        let rows = self.reader().all(q!(select_agents!(" ORDER BY id"))).await?;
        let mut groups = self.memberships(None).await?;
        rows.iter().map(|r| agent_from(r, groups.remove(&r.int("id")?).unwrap_or_default())).collect()
    }

    async fn set_agent_status(&self, id: AgentId, status: AgentStatus) -> Result<Agent> {
        let n = self
            .writer()
            .exec(q!("UPDATE agents SET status = $1 WHERE id = $2", status.as_str(), id.0))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.agent(id).await
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        self.writer()
            .exec(q!(
                "INSERT INTO sessions (token_hash, agent_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
                &s.token_hash,
                s.agent_id.0,
                &s.csrf_token,
                s.created_at.0,
                s.expires_at.0,
            ))
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Session> {
        let r = self
            .reader()
            .one(q!(
                "SELECT token_hash, agent_id, csrf_token, created_at, expires_at FROM sessions \
                 WHERE token_hash = $1 AND expires_at > $2",
                token_hash,
                now.0
            ))
            .await?;
        Ok(Session {
            token_hash: r.text("token_hash")?,
            agent_id: AgentId(r.int("agent_id")?),
            csrf_token: r.text("csrf_token")?,
            created_at: Timestamp(r.int("created_at")?),
            expires_at: Timestamp(r.int("expires_at")?),
        })
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.writer().exec(q!("DELETE FROM sessions WHERE token_hash = $1", token_hash)).await?;
        Ok(())
    }
}
