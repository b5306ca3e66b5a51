//! Routing through the queue: the `serve_queue` job loads one queue's snapshot, lets the pure
//! decision in `kefu_domain::routing` serve it, and commits each conversation's effects.
//! Keyword and `re:` rules pick a new conversation's group.

use std::time::Duration;

use kefu_domain::routing::{QueueSnapshot, Slot, Waiting, Window, serve_queue};
use kefu_domain::*;

use crate::engine::{Engine, EngineError, Result};

pub use kefu_domain::routing::RoutingConfig;

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

    /// Online agents who take this queue's work (every online agent for the ungrouped queue),
    /// with their loads. An agent with capacity 0 (an administrator, say) takes none.
    async fn slots(&self, group: Option<&SkillGroup>) -> Result<Vec<Slot>> {
        let agents: Vec<Agent> = self
            .store
            .agents()
            .await?
            .into_iter()
            .filter(|a| a.status == AgentStatus::Online && a.capacity > 0)
            .filter(|a| group.is_none_or(|g| a.skill_groups.contains(&g.id)))
            .collect();
        let ids: Vec<AgentId> = agents.iter().map(|a| a.id).collect();
        let loads = self.store.agent_loads(&ids).await?;
        Ok(agents
            .iter()
            .zip(loads)
            .map(|(a, l)| Slot {
                agent: a.id,
                display_name: a.display_name.clone(),
                active: l.active,
                capacity: l.capacity,
                last_assigned_at: l.last_assigned_at,
            })
            .collect())
    }

    async fn queue_snapshot(&self, group: Option<SkillGroupId>) -> Result<QueueSnapshot> {
        let group = match group {
            Some(g) => Some(self.store.skill_group(g).await?),
            None => None,
        };
        let now = self.clock.now();
        let sticky =
            group.as_ref().map(|g| g.routing.sticky_hours).unwrap_or(GroupRouting::default().sticky_hours);
        let since = if sticky == 0 {
            Timestamp(i64::MAX)
        } else {
            now.minus(Duration::from_secs(u64::from(sticky) * 3600))
        };
        let rows = self.store.queue_rows(group.as_ref().map(|g| g.id), since).await?;
        let waiting = rows
            .into_iter()
            .map(|r| {
                let c = r.conversation;
                let window = match kefu_domain::rules::reply_window(r.channel_kind) {
                    None => Window::OPEN,
                    Some(w) => match kefu_domain::rules::check_reply(
                        r.channel_kind,
                        c.last_inbound_at,
                        r.sent_since,
                        now,
                    ) {
                        Ok(()) => Window { left: Some(w.max_messages - r.sent_since), closed: None },
                        Err(e) => Window { left: Some(0), closed: Some(e) },
                    },
                };
                Waiting { conversation: c, last_agent: r.last_agent, told: r.told, window }
            })
            .collect();
        let rr_last = match &group {
            Some(g) => self.store.rr_last(g.id).await?,
            None => None,
        };
        Ok(QueueSnapshot { agents: self.slots(group.as_ref()).await?, group, now, rr_last, waiting })
    }

    /// The `serve_queue` job: one pass over the queue (see `kefu_domain::routing`), each
    /// conversation's effects committed on their own. When an assignment no longer fits
    /// (capacity taken meanwhile, on this node or another), the queue is read again.
    pub async fn serve_queue(&self, group: Option<SkillGroupId>) -> Result<usize> {
        let mut assigned = 0;
        'rounds: for _ in 0..crate::commit::STALE_RETRIES {
            let snapshot = self.queue_snapshot(group).await?;
            for batch in serve_queue(&snapshot, &self.routing) {
                let assigns = batch.iter().any(|e| matches!(e, Effect::Assign { .. }));
                match self.commit(batch).await {
                    Ok(_) => assigned += usize::from(assigns),
                    Err(e) if crate::commit::is_stale(&e) => continue 'rounds,
                    Err(EngineError::Illegal(e)) => {
                        // Moved by someone else since the snapshot; the next pass sees it.
                        tracing::debug!(error = %e, "queue entry changed meanwhile");
                        continue 'rounds;
                    }
                    Err(e) => return Err(e),
                }
            }
            return Ok(assigned);
        }
        Ok(assigned)
    }

    /// Queues `serve_queue` jobs for these groups and the ungrouped queue.
    pub async fn serve_queues(&self, groups: &[SkillGroupId]) -> Result<()> {
        self.commit(self.serve_queues_of(groups)).await.map(|_| ())
    }

    /// Serves every queue an agent's capacity change may concern.
    pub(crate) fn serve_queues_of(&self, groups: &[SkillGroupId]) -> Vec<Effect> {
        let mut e: Vec<Effect> =
            groups.iter().map(|g| self.now_job(Job::ServeQueue { group: Some(*g) })).collect();
        e.push(self.now_job(Job::ServeQueue { group: None }));
        e
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
        use kefu_domain::routing::worth_telling;
        assert!(worth_telling(None, 7));
        assert!(!worth_telling(Some(7), 6));
        assert!(!worth_telling(Some(7), 5));
        assert!(worth_telling(Some(7), 4));
        assert!(worth_telling(Some(2), 1));
        assert!(worth_telling(Some(1), 0));
        assert!(!worth_telling(Some(0), 0));
    }
}
