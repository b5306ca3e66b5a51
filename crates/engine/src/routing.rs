//! Routing a waiting conversation to an agent: business hours, who is online, the sticky agent,
//! the group's strategy, and the queue (with positions told to the customer) when all are busy.

use std::time::Duration;

use kefu_domain::*;
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Result};

/// What kefu tells customers about routing; `{n}` is the place in the queue (1 = next),
/// `{agent}` the agent's display name.
/// An empty text is not sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutingConfig {
    /// Close conversations nobody wrote in for this long; 0 turns it off.
    pub idle_timeout_minutes: u64,
    /// How often (wall-clock seconds) the server runs [`Engine::tick`]; 0 leaves it to the
    /// caller, as tests do with their injected clock.
    pub tick_seconds: u64,
    /// An agent whose workbench showed no sign of life for this long goes offline (their
    /// conversations are routed again). 0 = off, the library default; kefu's shipped
    /// configuration sets 120.
    pub presence_timeout_secs: u64,
    /// Ask for a 1–5 rating after an agent closes a conversation.
    pub survey: bool,
    pub survey_minutes: u64,
    pub queued: String,
    pub assigned: String,
    pub leave_message: String,
    pub closed: String,
    pub idle_closed: String,
    pub survey_prompt: String,
    pub survey_thanks: String,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        RoutingConfig {
            idle_timeout_minutes: 30,
            tick_seconds: 5,
            presence_timeout_secs: 0,
            survey: true,
            survey_minutes: 10,
            queued: "当前人工客服繁忙，您排在第{n}位，请稍候。".into(),
            assigned: "您好，客服{agent}为您服务。".into(),
            leave_message: "当前没有客服在线（或不在工作时间），请留下您的问题和联系方式，我们会尽快回复您。"
                .into(),
            closed: "感谢您的咨询，本次会话已结束。如有其他问题，欢迎随时联系我们。".into(),
            idle_closed: "由于您长时间没有回复，本次会话已自动结束。如需帮助，请重新发送消息。".into(),
            survey_prompt: "请为本次服务打分（1-5分，5分最满意），直接回复数字即可。".into(),
            survey_thanks: "感谢您的评价！".into(),
        }
    }
}

/// Where a routing attempt left the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Routed {
    Assigned(AgentId),
    /// Waiting; `ahead` customers are before it.
    Queued {
        ahead: u32,
    },
    LeaveMessage,
    /// Not waiting for an agent (already assigned, closed, with the bot…).
    NotQueued,
}

/// Tell the customer again when the wait shortened meaningfully: by three places, or to the
/// last couple.
fn worth_telling(told: Option<u32>, ahead: u32) -> bool {
    match told {
        None => true,
        Some(t) => ahead + 3 <= t || (ahead <= 1 && ahead < t),
    }
}

/// Whether a routing rule matches: a keyword is a substring; `re:` starts a regular expression.
pub fn rule_matches(rule: &str, text: &str) -> bool {
    match rule.strip_prefix("re:") {
        Some(pattern) => regex::Regex::new(pattern).is_ok_and(|r| r.is_match(text)),
        None => !rule.trim().is_empty() && text.contains(rule.trim()),
    }
}

/// The first group (in their order) with a rule matching the text.
pub fn rule_group<'a>(groups: &'a [SkillGroup], text: &str) -> Option<&'a SkillGroup> {
    groups.iter().find(|g| g.routing.keywords.iter().any(|k| rule_matches(k, text)))
}

/// Checks a rule before it is saved, so a broken pattern is refused instead of never matching.
pub fn check_rule(rule: &str) -> std::result::Result<(), String> {
    match rule.strip_prefix("re:") {
        Some(pattern) => regex::Regex::new(pattern).map(|_| ()).map_err(|e| e.to_string()),
        None if rule.trim().is_empty() => Err("an empty keyword".into()),
        None => Ok(()),
    }
}

impl Engine {
    /// The first skill group (in their order) with a keyword or pattern found in the text, else
    /// the group the knowledge base's closest entries belong to.
    pub async fn group_for_text(&self, text: &str) -> Result<Option<SkillGroupId>> {
        let groups = self.store.skill_groups().await?;
        if let Some(g) = rule_group(&groups, text) {
            return Ok(Some(g.id));
        }
        let Some(name) = self.bot.group_for(text) else { return Ok(None) };
        Ok(groups.into_iter().find(|g| g.name == name).map(|g| g.id))
    }

    async fn group_of(&self, conv: &Conversation) -> Result<Option<SkillGroup>> {
        Ok(match conv.status.group {
            Some(g) => Some(self.store.skill_group(g).await?),
            None => None,
        })
    }

    /// Online agents who serve the group (every online agent when there is no group). An agent
    /// with capacity 0 (an administrator, say) takes no conversations from routing.
    async fn online_for(&self, group: Option<&SkillGroup>) -> Result<Vec<Agent>> {
        Ok(self
            .store
            .agents()
            .await?
            .into_iter()
            .filter(|a| a.status == AgentStatus::Online && a.capacity > 0)
            .filter(|a| group.is_none_or(|g| a.skill_groups.contains(&g.id)))
            .collect())
    }

    /// Least load first: lowest share of capacity in use, then longest since assigned.
    async fn by_load(&self, agents: &[Agent]) -> Result<Vec<AgentId>> {
        let ids: Vec<AgentId> = agents.iter().map(|a| a.id).collect();
        let mut loads = self.store.agent_loads(&ids).await?;
        loads.retain(|l| l.active < l.capacity);
        loads.sort_by(|a, b| {
            let share = |l: &kefu_store::AgentLoad| l.active as f64 / l.capacity.max(1) as f64;
            share(a).total_cmp(&share(b)).then(a.last_assigned_at.cmp(&b.last_assigned_at))
        });
        Ok(loads.into_iter().map(|l| l.agent).collect())
    }

    /// Tries to give a queued conversation to an agent; see the module docs for the order.
    pub async fn route(&self, id: ConversationId) -> Result<Routed> {
        let conv = self.store.conversation(id).await?;
        // Without `queued_at` the customer has not asked for anything yet (only followed).
        if conv.state() != ConversationState::Queued || conv.queued_at.is_none() {
            return Ok(Routed::NotQueued);
        }
        let group = self.group_of(&conv).await?;
        let now = self.clock.now();
        let routing = group.as_ref().map(|g| g.routing.clone()).unwrap_or_default();
        let closed_hours = routing.business_hours.as_ref().is_some_and(|h| !h.is_open(now));
        let online = self.online_for(group.as_ref()).await?;
        if closed_hours || online.is_empty() {
            self.to_leave_message(id).await?;
            return Ok(Routed::LeaveMessage);
        }
        if let Some(agent) = self.assign_sticky(&conv, &online, routing.sticky_hours).await? {
            return Ok(Routed::Assigned(agent));
        }
        let (order, rr) = match routing.strategy {
            Strategy::LeastLoad => (self.by_load(&online).await?, None),
            Strategy::RoundRobin => (online.iter().map(|a| a.id).collect(), group.as_ref().map(|g| g.id)),
        };
        if let Some(c) = self.store.assign_first(id, &order, rr, now).await? {
            return self.assigned(c).await;
        }
        self.tell_position(&conv).await
    }

    /// The agent who served this customer lately, if online and free.
    async fn assign_sticky(
        &self,
        conv: &Conversation,
        online: &[Agent],
        hours: u32,
    ) -> Result<Option<AgentId>> {
        if hours == 0 {
            return Ok(None);
        }
        let since = self.clock.now().minus(Duration::from_secs(u64::from(hours) * 3600));
        let Some(last) = self.store.last_agent_of(conv.customer_id, since).await? else { return Ok(None) };
        if !online.iter().any(|a| a.id == last) {
            return Ok(None);
        }
        match self.store.assign_first(conv.id, &[last], None, self.clock.now()).await? {
            Some(c) => Ok(self.assigned(c).await.ok().map(|_| last)),
            None => Ok(None),
        }
    }

    async fn assigned(&self, c: Conversation) -> Result<Routed> {
        let agent_id = c.status.agent.ok_or(crate::engine::EngineError::NotFound)?;
        self.announce(c.clone()).await;
        let agent = self.store.agent(agent_id).await?;
        let text = self.routing.assigned.replace("{agent}", &agent.display_name);
        self.tell_text(c.id, &text).await?;
        Ok(Routed::Assigned(agent_id))
    }

    async fn tell_position(&self, conv: &Conversation) -> Result<Routed> {
        let queue = self.store.queue(conv.status.group).await?;
        let ahead = queue.iter().position(|c| c.id == conv.id).unwrap_or(queue.len()) as u32;
        if worth_telling(self.store.queue_position_told(conv.id).await?, ahead) {
            self.store.set_queue_position_told(conv.id, ahead).await?;
            let text = self.routing.queued.replace("{n}", &(ahead + 1).to_string());
            self.tell_text(conv.id, &text).await?;
        }
        Ok(Routed::Queued { ahead })
    }

    async fn to_leave_message(&self, id: ConversationId) -> Result<()> {
        self.apply(id, ConversationEvent::LeaveMessage).await?;
        self.tell_text(id, &self.routing.leave_message).await?;
        Ok(())
    }

    /// Serves the queue first come, first served, after capacity was freed somewhere: every
    /// waiting conversation is routed again, longest waiting first; those that still wait hear
    /// their new position if it changed enough.
    pub async fn drain(&self) -> Result<usize> {
        let mut assigned = 0;
        for conv in self.store.queue(None).await? {
            match self.route(conv.id).await? {
                Routed::Assigned(_) => assigned += 1,
                Routed::Queued { .. } | Routed::LeaveMessage | Routed::NotQueued => {}
            }
        }
        Ok(assigned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_and_pattern_rules_match_as_documented() {
        assert!(rule_matches("退款", "我要退款"));
        assert!(!rule_matches("退款", "我要退货"));
        assert!(rule_matches("re:^(报价|询价)", "报价单发我一下"));
        assert!(!rule_matches("re:^(报价|询价)", "给我报价"));
        assert!(!rule_matches("re:(", "anything"), "a broken pattern never matches");
        assert!(check_rule("re:(").is_err() && check_rule(" ").is_err() && check_rule("发票").is_ok());
    }

    #[test]
    fn the_position_is_retold_only_when_it_changes_meaningfully() {
        assert!(worth_telling(None, 7));
        assert!(!worth_telling(Some(7), 6));
        assert!(!worth_telling(Some(7), 5));
        assert!(worth_telling(Some(7), 4));
        assert!(worth_telling(Some(2), 1));
        assert!(worth_telling(Some(1), 0));
        assert!(!worth_telling(Some(0), 0));
    }
}
