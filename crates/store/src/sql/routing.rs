//! Routing's storage: agent loads, the capacity-safe assignment, the queue, idle conversations
//! and satisfaction surveys.
//!
//! **The capacity rule:** an agent holds at most `capacity` conversations in state `assigned`
//! through automatic routing. `assign_first` checks the count and assigns in one transaction
//! that first locks the agent's row (`FOR UPDATE` on PostgreSQL; SQLite has a single writer),
//! so concurrent assignments to one agent — from many tasks or many nodes — run one after the
//! other and each sees the others' results. Round robin locks its group's row the same way, so
//! the turn pointer advances exactly once per assignment.

use async_trait::async_trait;
use kefu_domain::conversation::transition;
use kefu_domain::*;

use super::SqlStore;
use super::exec::{Tx, q};
use super::rows::{self, conversation_cols};

use crate::model::{AgentLoad, QueueRow};
use crate::{Result, RoutingStore};

async fn lock_agent(tx: &mut Tx, agent: AgentId) -> Result<Option<(String, i64)>> {
    let sql = if tx.is_postgres() {
        "SELECT status, capacity FROM agents WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT status, capacity FROM agents WHERE id = $1"
    };
    let r = tx.conn().opt(q!(sql, agent.0)).await?;
    r.map(|r| Ok((r.text("status")?, r.int("capacity")?))).transpose()
}

async fn active(tx: &mut Tx, agent: AgentId) -> Result<i64> {
    tx.conn()
        .one(q!(
            "SELECT COUNT(*) AS n FROM conversations WHERE agent_id = $1 AND state = 'assigned'",
            agent.0
        ))
        .await?
        .int("n")
}

/// Candidates in round-robin order: those after the group's last assigned agent first.
async fn rotate(tx: &mut Tx, group: SkillGroupId, candidates: &[AgentId]) -> Result<Vec<AgentId>> {
    let sql = if tx.is_postgres() {
        "SELECT rr_last_agent FROM skill_groups WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT rr_last_agent FROM skill_groups WHERE id = $1"
    };
    let last = tx.conn().one(q!(sql, group.0)).await?.int("rr_last_agent")?;
    let mut sorted = candidates.to_vec();
    sorted.sort();
    let split = sorted.iter().position(|a| a.0 > last).unwrap_or(0);
    sorted.rotate_left(split);
    Ok(sorted)
}

/// Assigns the conversation to `agent` inside `tx` if the agent is online and under capacity
/// and the state machine allows it (see the capacity rule above); `None` otherwise. With
/// `round_robin` the group's turn pointer moves to this agent.
pub(crate) async fn assign_in(
    tx: &mut Tx,
    id: ConversationId,
    agent: AgentId,
    round_robin: Option<SkillGroupId>,
    now: Timestamp,
) -> Result<Option<Conversation>> {
    let conv = super::conversations::lock_conversation(tx, id).await?;
    if !try_agent(tx, &conv, agent, now).await? {
        return Ok(None);
    }
    if let Some(g) = round_robin {
        tx.conn().exec(q!("UPDATE skill_groups SET rr_last_agent = $1 WHERE id = $2", agent.0, g.0)).await?;
    }
    Ok(Some(super::conversations::lock_conversation(tx, id).await?))
}

async fn try_agent(tx: &mut Tx, conv: &Conversation, agent: AgentId, now: Timestamp) -> Result<bool> {
    let Some((status, capacity)) = lock_agent(tx, agent).await? else { return Ok(false) };
    if status != AgentStatus::Online.as_str() || active(tx, agent).await? >= capacity {
        return Ok(false);
    }
    let Ok(next) = transition(&conv.status, &ConversationEvent::Assign { agent }) else { return Ok(false) };
    tx.conn()
        .exec(q!(
            "UPDATE conversations SET state = $1, agent_id = $2, updated_at = $3, queued_at = NULL, \
             queue_position_told = NULL WHERE id = $4",
            next.state.as_str(),
            agent.0,
            now.0,
            conv.id.0
        ))
        .await?;
    tx.conn().exec(q!("UPDATE agents SET last_assigned_at = $1 WHERE id = $2", now.0, agent.0)).await?;
    Ok(true)
}

#[async_trait]
impl RoutingStore for SqlStore {
    async fn agent_loads(&self, agents: &[AgentId]) -> Result<Vec<AgentLoad>> {
        let mut out = Vec::with_capacity(agents.len());
        for a in agents {
            let r = self
                .reader()
                .one(q!(
                    "SELECT a.capacity, a.last_assigned_at, (SELECT COUNT(*) FROM conversations c \
                     WHERE c.agent_id = a.id AND c.state = 'assigned') AS active FROM agents a WHERE a.id = $1",
                    a.0
                ))
                .await?;
            out.push(AgentLoad {
                agent: *a,
                active: u32::try_from(r.int("active")?).unwrap_or(u32::MAX),
                capacity: u32::try_from(r.int("capacity")?).unwrap_or(0),
                last_assigned_at: Timestamp(r.int("last_assigned_at")?),
            });
        }
        Ok(out)
    }

    async fn assign_first(
        &self,
        id: ConversationId,
        candidates: &[AgentId],
        round_robin: Option<SkillGroupId>,
        now: Timestamp,
    ) -> Result<Option<Conversation>> {
        let mut tx = self.begin().await?;
        let order = match round_robin {
            Some(g) => rotate(&mut tx, g, candidates).await?,
            None => candidates.to_vec(),
        };
        for agent in order {
            if let Some(c) = assign_in(&mut tx, id, agent, round_robin, now).await? {
                tx.commit().await?;
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    async fn last_agent_of(&self, customer: CustomerId, since: Timestamp) -> Result<Option<AgentId>> {
        let r = self
            .reader()
            .opt(q!(
                "SELECT agent_id FROM conversations WHERE customer_id = $1 AND agent_id IS NOT NULL \
                 AND COALESCE(closed_at, updated_at) >= $2 ORDER BY COALESCE(closed_at, updated_at) DESC LIMIT 1",
                customer.0,
                since.0
            ))
            .await?;
        Ok(r.map(|r| r.int("agent_id")).transpose()?.map(AgentId))
    }

    async fn queue(&self, group: Option<SkillGroupId>) -> Result<Vec<Conversation>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    conversation_cols!(),
                    " FROM conversations c WHERE c.state = 'queued' AND c.queued_at IS NOT NULL \
                     AND ($1 IS NULL OR c.group_id = $1) ORDER BY c.queued_at, c.id"
                ),
                group.map(|g| g.0)
            ))
            .await?;
        rows.iter().map(rows::conversation).collect()
    }

    async fn queue_rows(
        &self,
        group: Option<SkillGroupId>,
        sticky_since: Timestamp,
    ) -> Result<Vec<QueueRow>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    conversation_cols!(),
                    ", c.queue_position_told AS told, ch.kind AS channel_kind, \
                     (SELECT o.agent_id FROM conversations o WHERE o.customer_id = c.customer_id \
                      AND o.agent_id IS NOT NULL AND COALESCE(o.closed_at, o.updated_at) >= $2 \
                      ORDER BY COALESCE(o.closed_at, o.updated_at) DESC LIMIT 1) AS last_agent, \
                     (SELECT COUNT(*) FROM outbox x WHERE x.conversation_id = c.id \
                      AND x.created_at >= COALESCE(c.last_inbound_at, 0) AND x.state <> 'dead') AS sent_since \
                     FROM conversations c JOIN channels ch ON ch.id = c.channel_id \
                     WHERE c.state = 'queued' AND c.queued_at IS NOT NULL \
                     AND (($1 IS NULL AND c.group_id IS NULL) OR c.group_id = $1) \
                     AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.lane = 'conv:' || c.id AND j.state = 'pending') \
                     ORDER BY c.queued_at, c.id"
                ),
                group.map(|g| g.0),
                sticky_since.0
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueRow {
                    conversation: rows::conversation(r)?,
                    told: r.opt_int("told")?.and_then(|v| u32::try_from(v).ok()),
                    last_agent: r.opt_int("last_agent")?.map(AgentId),
                    channel_kind: r.parsed("channel_kind")?,
                    sent_since: u32::try_from(r.int("sent_since")?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn rr_last(&self, group: SkillGroupId) -> Result<Option<AgentId>> {
        let r =
            self.reader().one(q!("SELECT rr_last_agent FROM skill_groups WHERE id = $1", group.0)).await?;
        Ok(r.opt_int("rr_last_agent")?.filter(|a| *a > 0).map(AgentId))
    }

    async fn queue_position_told(&self, id: ConversationId) -> Result<Option<u32>> {
        let r = self
            .reader()
            .one(q!("SELECT queue_position_told FROM conversations WHERE id = $1", id.0))
            .await?;
        Ok(r.opt_int("queue_position_told")?.and_then(|v| u32::try_from(v).ok()))
    }

    async fn set_queue_position_told(&self, id: ConversationId, position: u32) -> Result<()> {
        self.writer()
            .exec(q!("UPDATE conversations SET queue_position_told = $1 WHERE id = $2", position, id.0))
            .await?;
        Ok(())
    }

    async fn idle_since(&self, before: Timestamp) -> Result<Vec<Conversation>> {
        let rows = self
            .reader()
            .all(q!(
                concat!(
                    "SELECT ",
                    conversation_cols!(),
                    " FROM conversations c WHERE c.state IN ('bot', 'assigned') AND c.updated_at < $1 \
                     AND COALESCE(c.last_inbound_at, 0) < $1 ORDER BY c.id"
                ),
                before.0
            ))
            .await?;
        rows.iter().map(rows::conversation).collect()
    }

    async fn open_survey(&self, id: ConversationId, until: Timestamp) -> Result<()> {
        self.writer()
            .exec(q!("UPDATE conversations SET survey_until = $1 WHERE id = $2", until.0, id.0))
            .await?;
        Ok(())
    }

    async fn open_survey_of(
        &self,
        channel: ChannelId,
        external_id: &str,
        now: Timestamp,
    ) -> Result<Option<Conversation>> {
        let r = self
            .reader()
            .opt(q!(
                concat!(
                    "SELECT ",
                    conversation_cols!(),
                    " FROM conversations c JOIN identities i ON i.id = c.identity_id \
                     WHERE i.channel_id = $1 AND i.external_id = $2 AND c.state = 'closed' AND c.survey_until > $3 \
                     ORDER BY c.id DESC LIMIT 1"
                ),
                channel.0,
                external_id,
                now.0
            ))
            .await?;
        r.as_ref().map(rows::conversation).transpose()
    }

    async fn set_satisfaction(&self, id: ConversationId, score: u8) -> Result<()> {
        self.writer()
            .exec(q!(
                "UPDATE conversations SET satisfaction = $1, survey_until = NULL WHERE id = $2",
                i64::from(score),
                id.0
            ))
            .await?;
        Ok(())
    }
}
