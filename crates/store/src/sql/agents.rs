//! Agents, skill groups and login sessions.

use std::collections::HashMap;

use async_trait::async_trait;
use kefu_domain::{Agent, AgentId, AgentStatus, GroupRouting, SkillGroup, SkillGroupId, Timestamp};

use super::SqlStore;
use super::exec::{Row, Tx, q};
use crate::{AgentStore, NewAgent, Result, Session, StoreError};

macro_rules! select_agents {
    ($($tail:literal)?) => {
        concat!(
            "SELECT id, username, display_name, password_hash, role, status, capacity, disabled_at, avatar FROM agents"
            $(, $tail)?
        )
    };
}

macro_rules! select_groups {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, strategy, sticky_hours, queue_timeout_secs, business_hours, keywords, \
             closing_message FROM skill_groups",
            $tail
        )
    };
}

fn group_from(r: &Row) -> Result<SkillGroup> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let business_hours = match r.opt_text("business_hours")? {
        Some(h) => Some(serde_json::from_str(&h).map_err(corrupt)?),
        None => None,
    };
    Ok(SkillGroup {
        id: SkillGroupId(r.int("id")?),
        name: r.text("name")?,
        routing: GroupRouting {
            strategy: r.parsed("strategy")?,
            sticky_hours: u32::try_from(r.int("sticky_hours")?).unwrap_or(0),
            queue_timeout_secs: r.opt_int("queue_timeout_secs")?.and_then(|v| u32::try_from(v).ok()),
            business_hours,
            keywords: serde_json::from_str(&r.text("keywords")?).map_err(corrupt)?,
            closing_message: r.opt_text("closing_message")?,
        },
    })
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
        disabled: r.opt_int("disabled_at")?.is_some(),
        avatar: r.opt_text("avatar")?,
    })
}

pub(crate) fn session_from(r: &Row) -> Result<Session> {
    Ok(Session {
        token_hash: r.text("token_hash")?,
        agent_id: AgentId(r.int("agent_id")?),
        csrf_token: r.text("csrf_token")?,
        created_at: Timestamp(r.int("created_at")?),
        expires_at: Timestamp(r.int("expires_at")?),
        client_ip: r.opt_text("client_ip")?,
        user_agent: r.opt_text("user_agent")?,
        must_change_password: r.int("must_change_password")? != 0,
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

/// One account row and its skill groups; a taken username is a `Conflict`.
async fn insert_agent(tx: &mut Tx, new: &NewAgent, now: Timestamp) -> Result<i64> {
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
    Ok(id)
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
        self.skill_group(SkillGroupId(r.int("id")?)).await
    }

    async fn skill_groups(&self) -> Result<Vec<SkillGroup>> {
        let rows = self.reader().all(q!(select_groups!(" ORDER BY id"))).await?;
        rows.iter().map(group_from).collect()
    }

    async fn skill_group(&self, id: SkillGroupId) -> Result<SkillGroup> {
        group_from(&self.reader().one(q!(select_groups!(" WHERE id = $1"), id.0)).await?)
    }

    async fn update_skill_group(&self, g: &SkillGroup) -> Result<SkillGroup> {
        let r = &g.routing;
        let hours = r.business_hours.as_ref().map(|h| serde_json::to_string(h).unwrap_or_default());
        let n = self
            .writer()
            .exec(q!(
                "UPDATE skill_groups SET name = $1, strategy = $2, sticky_hours = $3, queue_timeout_secs = $4, \
                 business_hours = $5, keywords = $6, closing_message = $7 WHERE id = $8",
                &g.name,
                r.strategy.as_str(),
                r.sticky_hours,
                r.queue_timeout_secs.map(i64::from),
                hours,
                serde_json::to_string(&r.keywords).unwrap_or_else(|_| "[]".into()),
                r.closing_message.clone(),
                g.id.0
            ))
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        self.skill_group(g.id).await
    }

    async fn set_agent_routing(&self, id: AgentId, capacity: u32, groups: &[SkillGroupId]) -> Result<Agent> {
        let mut tx = self.begin().await?;
        let n = tx.conn().exec(q!("UPDATE agents SET capacity = $1 WHERE id = $2", capacity, id.0)).await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.conn().exec(q!("DELETE FROM agent_skill_groups WHERE agent_id = $1", id.0)).await?;
        for g in groups {
            tx.conn()
                .exec(q!("INSERT INTO agent_skill_groups (agent_id, group_id) VALUES ($1, $2)", id.0, g.0))
                .await?;
        }
        tx.commit().await?;
        self.agent(id).await
    }

    async fn create_agent(&self, new: NewAgent, now: Timestamp) -> Result<Agent> {
        let mut made = self.create_agents(vec![new], now).await?;
        made.pop().ok_or(StoreError::NotFound)
    }

    async fn create_agents(&self, new: Vec<NewAgent>, now: Timestamp) -> Result<Vec<Agent>> {
        let mut tx = self.begin().await?;
        let mut ids = vec![];
        for n in &new {
            ids.push(insert_agent(&mut tx, n, now).await?);
        }
        tx.commit().await?;
        let mut out = vec![];
        for id in ids {
            out.push(self.agent(AgentId(id)).await?);
        }
        Ok(out)
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

    async fn touch_agent(&self, id: AgentId, now: Timestamp) -> Result<()> {
        self.writer()
            .exec(q!("UPDATE agents SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1", now.0, id.0))
            .await?;
        Ok(())
    }

    async fn absent_agents(&self, before: Timestamp) -> Result<Vec<AgentId>> {
        let rows = self
            .reader()
            .all(q!(
                "SELECT id FROM agents WHERE status <> 'offline' AND last_seen_at < $1 ORDER BY id",
                before.0
            ))
            .await?;
        rows.iter().map(|r| Ok(AgentId(r.int("id")?))).collect()
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        self.writer()
            .exec(q!(
                "INSERT INTO sessions (token_hash, agent_id, csrf_token, created_at, expires_at, client_ip, \
                 user_agent, must_change_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &s.token_hash,
                s.agent_id.0,
                &s.csrf_token,
                s.created_at.0,
                s.expires_at.0,
                s.client_ip.clone(),
                s.user_agent.clone(),
                i64::from(s.must_change_password),
            ))
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Session> {
        let r = self
            .reader()
            .one(q!(
                "SELECT token_hash, agent_id, csrf_token, created_at, expires_at, client_ip, user_agent, \
                 must_change_password FROM sessions WHERE token_hash = $1 AND expires_at > $2 \
                 AND agent_id IN (SELECT id FROM agents WHERE disabled_at IS NULL)",
                token_hash,
                now.0
            ))
            .await?;
        session_from(&r)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.writer().exec(q!("DELETE FROM sessions WHERE token_hash = $1", token_hash)).await?;
        Ok(())
    }
}
