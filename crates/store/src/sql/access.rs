//! The facts behind the visibility policy: who served a customer, and which customers wait
//! for an agent's skill groups. The policy itself lives in the engine (`engine::policy`).

use async_trait::async_trait;
use kefu_domain::{AgentId, CustomerId};

use super::SqlStore;
use super::exec::q;
use crate::{AccessStore, Result};

#[async_trait]
impl AccessStore for SqlStore {
    async fn has_served(&self, agent: AgentId, customer: CustomerId) -> Result<bool> {
        let r = self
            .reader()
            .opt(q!(
                "SELECT 1 AS yes FROM conversation_agents ca JOIN conversations c ON c.id = ca.conversation_id \
                 WHERE ca.agent_id = $1 AND c.customer_id = $2 LIMIT 1",
                agent.0,
                customer.0
            ))
            .await?;
        Ok(r.is_some())
    }

    async fn waits_for(&self, agent: AgentId, customer: CustomerId) -> Result<bool> {
        let r = self
            .reader()
            .opt(q!(
                "SELECT 1 AS yes FROM conversations c WHERE c.customer_id = $2 AND c.state <> 'closed' \
                 AND c.agent_id IS NULL AND (c.group_id IS NULL OR EXISTS (SELECT 1 FROM agent_skill_groups g \
                 WHERE g.agent_id = $1 AND g.group_id = c.group_id)) LIMIT 1",
                agent.0,
                customer.0
            ))
            .await?;
        Ok(r.is_some())
    }
}
