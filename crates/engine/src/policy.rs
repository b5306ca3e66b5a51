//! The visibility policy, in one place: every read path (conversation detail and messages,
//! customer detail and history, customer search, the live feed, exports) asks here.
//!
//! Supervisors and admins see everything. An agent sees
//! - the conversations they hold,
//! - the conversations of their own skill groups,
//! - waiting conversations that are in no skill group yet (the pool every agent serves), and
//! - every conversation of a customer they serve or have served,
//!
//! and nothing else; what they may not see does not exist for them (404).

use kefu_domain::{Agent, AgentId, Conversation, ConversationId, Customer, CustomerId, Role};

use crate::engine::{Engine, EngineError, Result};

/// Whose view a list or search is filtered to: `None` for staff, who see everything.
pub fn list_scope(agent: &Agent) -> Option<AgentId> {
    (!is_staff(agent)).then_some(agent.id)
}

pub fn is_staff(agent: &Agent) -> bool {
    agent.role.at_least(Role::Supervisor)
}

/// The part of the rule that needs no database: staff, the holder, the conversation's group,
/// or the ungrouped waiting pool.
pub fn sees_without_history(agent: &Agent, conv: &Conversation) -> bool {
    let s = &conv.status;
    is_staff(agent)
        || s.agent == Some(agent.id)
        || s.group.is_some_and(|g| agent.skill_groups.contains(&g))
        || (s.group.is_none() && s.agent.is_none() && conv.state().is_open())
}

impl Engine {
    /// Whether `agent` may see `conv` (and its messages).
    pub async fn may_view_conversation(&self, agent: &Agent, conv: &Conversation) -> Result<bool> {
        if sees_without_history(agent, conv) {
            return Ok(true);
        }
        Ok(self.store.has_served(agent.id, conv.customer_id).await?)
    }

    /// The conversation, if `agent` may see it; otherwise it does not exist for them.
    pub async fn visible_conversation(&self, agent: &Agent, id: ConversationId) -> Result<Conversation> {
        let conv = self.store.conversation(id).await?;
        if self.may_view_conversation(agent, &conv).await? { Ok(conv) } else { Err(EngineError::NotFound) }
    }

    /// Whether `agent` may see the customer (their profile and whole history): they serve or
    /// served them, or the customer waits for one of their groups.
    pub async fn may_view_customer(&self, agent: &Agent, customer: CustomerId) -> Result<bool> {
        if is_staff(agent) {
            return Ok(true);
        }
        Ok(self.store.has_served(agent.id, customer).await?
            || self.store.waits_for(agent.id, customer).await?)
    }

    /// The customer, if `agent` may see them.
    pub async fn visible_customer(&self, agent: &Agent, id: CustomerId) -> Result<Customer> {
        let customer = self.store.customer(id).await?;
        if self.may_view_customer(agent, id).await? { Ok(customer) } else { Err(EngineError::NotFound) }
    }
}

#[cfg(test)]
mod tests {
    use kefu_domain::conversation::Status;
    use kefu_domain::*;

    use super::*;

    fn agent(role: Role, groups: &[i64]) -> Agent {
        Agent {
            id: AgentId(7),
            username: "a".into(),
            display_name: "A".into(),
            role,
            status: AgentStatus::Online,
            capacity: 5,
            skill_groups: groups.iter().map(|g| SkillGroupId(*g)).collect(),
            disabled: false,
            avatar: None,
        }
    }

    fn conv(state: ConversationState, agent: Option<i64>, group: Option<i64>) -> Conversation {
        Conversation {
            id: ConversationId(1),
            customer_id: CustomerId(1),
            identity_id: IdentityId(1),
            channel_id: ChannelId(1),
            status: Status {
                state,
                agent: agent.map(AgentId),
                group: group.map(SkillGroupId),
                close_reason: None,
            },
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            closed_at: None,
            last_inbound_at: None,
            queued_at: None,
            satisfaction: None,
        }
    }

    #[test]
    fn agents_see_their_own_their_groups_and_the_ungrouped_pool_only() {
        use ConversationState::*;
        let me = agent(Role::Agent, &[2]);
        assert!(sees_without_history(&me, &conv(Assigned, Some(7), Some(9))), "held by me");
        assert!(sees_without_history(&me, &conv(Queued, None, Some(2))), "my group's queue");
        assert!(sees_without_history(&me, &conv(Assigned, Some(8), Some(2))), "a colleague in my group");
        assert!(sees_without_history(&me, &conv(Bot, None, None)), "the ungrouped pool");
        assert!(!sees_without_history(&me, &conv(Queued, None, Some(3))), "another group's queue");
        assert!(!sees_without_history(&me, &conv(Assigned, Some(8), None)), "a colleague's ungrouped chat");
        assert!(!sees_without_history(&me, &conv(Closed, None, None)), "a closed chat nobody held");
        let lead = agent(Role::Supervisor, &[]);
        assert!(sees_without_history(&lead, &conv(Assigned, Some(8), Some(3))));
        assert_eq!(list_scope(&lead), None);
        assert_eq!(list_scope(&me), Some(AgentId(7)));
    }
}
