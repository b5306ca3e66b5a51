//! The conversation lifecycle around routing: what kefu tells the customer (within platform
//! limits), closing with a closing message and survey, transfers, idle and queue timeouts, and
//! agents going online or offline.

use std::time::Duration;

use kefu_domain::*;

use crate::engine::{Engine, EngineError, Result};

/// Where a transfer sends the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTo {
    Agent(AgentId),
    Group(SkillGroupId),
}

/// A rating in a customer's reply to the survey: "5", "4分", "⭐⭐⭐".
pub fn rating(text: &str) -> Option<u8> {
    let t = text.trim();
    let stars = t.chars().filter(|c| *c == '⭐' || *c == '★').count();
    if stars > 0 && t.chars().all(|c| c == '⭐' || c == '★' || c.is_whitespace()) {
        return u8::try_from(stars).ok().filter(|n| (1..=5).contains(n));
    }
    let digits: String = t.trim_end_matches(['分', '星']).trim().to_owned();
    digits.parse::<u8>().ok().filter(|n| (1..=5).contains(n))
}

impl Engine {
    /// Sends a message from kefu itself. If the platform would refuse it now (WeChat's 48-hour
    /// window, the 5-message cap), it is recorded as failed with the reason instead, so the
    /// agent sees what the customer did not get.
    pub async fn tell(&self, id: ConversationId, content: Content) -> Result<Message> {
        let conv = self.store.conversation(id).await?;
        let effect = self.window(&conv).await?.send(&conv, Sender::System, content);
        let applied = self.commit(vec![effect]).await?;
        applied.messages.into_iter().next().ok_or(EngineError::NotFound)
    }

    /// The closing message (结束语) of the conversation's group, or the deployment's.
    async fn closing_text(&self, conv: &Conversation) -> Result<String> {
        let group = match conv.status.group {
            Some(g) => self.store.skill_group(g).await?.routing.closing_message,
            None => None,
        };
        Ok(group.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| self.routing.closed.clone()))
    }

    /// The groups whose queues an agent's freed capacity may serve.
    async fn freed_by(&self, agent: Option<AgentId>) -> Result<Vec<Effect>> {
        let groups = match agent {
            Some(a) => self.store.agent(a).await?.skill_groups,
            None => vec![],
        };
        Ok(self.serve_queues_of(&groups))
    }

    /// An agent closes a conversation: the close, the closing message, the survey and serving
    /// the queue the freed capacity belongs to, in one transaction.
    pub async fn close(&self, agent: &Agent, id: ConversationId) -> Result<Conversation> {
        let conv = self.store.conversation(id).await?;
        if conv.state() == ConversationState::Assigned {
            Self::check_holder(agent, &conv)?;
        } else if !agent.role.at_least(Role::Supervisor) && conv.state() != ConversationState::Closed {
            return Err(EngineError::Forbidden("only the serving agent or a supervisor may close it"));
        }
        let mut e = vec![Effect::Transition {
            conversation: id,
            event: ConversationEvent::Close { reason: CloseReason::Agent },
        }];
        let mut window = self.window(&conv).await?;
        let closing = window.tell(&conv, &self.closing_text(&conv).await?);
        // A survey after a closing message the platform refused could not arrive either.
        let refused = matches!(closing, Some(Effect::Refused { .. }));
        e.extend(closing);
        if self.routing.survey
            && !refused
            && let Some(survey) = window.tell(&conv, &self.routing.survey_prompt)
        {
            if matches!(survey, Effect::Send(_)) {
                let until = self.clock.now().plus(Duration::from_secs(self.routing.survey_minutes * 60));
                e.push(Effect::OpenSurvey { conversation: id, until });
            }
            e.push(survey);
        }
        e.extend(self.freed_by(conv.status.agent).await?);
        let applied = self.commit(e).await?;
        Ok(applied.conversations.into_iter().find(|c| c.id == id).unwrap_or(conv))
    }

    /// Moves a conversation to another agent or group with a note for whoever takes it, and
    /// serves the queues concerned, in one transaction.
    pub async fn transfer(
        &self,
        by: &Agent,
        id: ConversationId,
        to: TransferTo,
        note: &str,
    ) -> Result<Conversation> {
        let conv = self.store.conversation(id).await?;
        if conv.status.agent != Some(by.id) && !by.role.at_least(Role::Supervisor) {
            return Err(EngineError::Forbidden("only the serving agent or a supervisor may transfer it"));
        }
        let exists = match to {
            TransferTo::Agent(a) => self.store.agent(a).await.map(|_| ()),
            TransferTo::Group(g) => self.store.skill_group(g).await.map(|_| ()),
        };
        match exists {
            Err(kefu_store::StoreError::NotFound) => {
                let what = if matches!(to, TransferTo::Agent(_)) { "agent" } else { "skill group" };
                return Err(EngineError::Unknown(what));
            }
            other => other?,
        }
        let event = match to {
            TransferTo::Agent(a) => ConversationEvent::Transfer { agent: a },
            TransferTo::Group(g) => ConversationEvent::TransferToGroup { group: g },
        };
        let text = if note.trim().is_empty() {
            format!("{} 转接了会话", by.display_name)
        } else {
            format!("{} 转接备注：{note}", by.display_name)
        };
        let mut e = vec![
            Effect::Transition { conversation: id, event },
            Effect::Note { conversation: id, sender: Sender::Agent { id: by.id }, text },
        ];
        if let TransferTo::Group(g) = to {
            e.push(self.now_job(Job::ServeQueue { group: Some(g) }));
        }
        e.extend(self.freed_by(conv.status.agent).await?);
        let applied = self.commit(e).await?;
        Ok(applied.conversations.into_iter().find(|c| c.id == id).unwrap_or(conv))
    }

    /// Sets an agent's status. Going offline hands their conversations back to routing (each
    /// requeued with its queue served, atomically); coming online serves their queues.
    pub async fn set_agent_status(&self, agent: AgentId, status: AgentStatus) -> Result<Agent> {
        let updated = self.store.set_agent_status(agent, status).await?;
        if status == AgentStatus::Offline {
            let filter = kefu_store::ConversationFilter {
                states: vec![ConversationState::Assigned],
                agent: Some(agent),
                limit: 500,
                ..Default::default()
            };
            for c in self.store.conversations(&filter).await? {
                let c = c.conversation;
                if c.status.agent != Some(agent) {
                    continue;
                }
                let e = vec![
                    Effect::Transition { conversation: c.id, event: ConversationEvent::Requeue },
                    self.now_job(Job::ServeQueue { group: c.status.group }),
                ];
                match self.commit(e).await {
                    Ok(_) | Err(EngineError::Illegal(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.commit(self.serve_queues_of(&updated.skill_groups)).await?;
        Ok(updated)
    }

    /// Periodic work, one node at a time (a lease in the database): finds absent agents, idle
    /// conversations and waits past their group's timeout, and queues one job for each (which
    /// checks again before acting, so a duplicate or late one does nothing).
    pub async fn tick(&self) -> Result<usize> {
        let now = self.clock.now();
        let until = now.plus(Duration::from_secs(self.routing.tick_seconds.max(5) * 3));
        if !self.store.take_lease("lifecycle-tick", &self.node, now, until).await? {
            return Ok(0);
        }
        let mut jobs = vec![];
        if self.routing.presence_timeout_secs > 0 {
            let before = now.minus(Duration::from_secs(self.routing.presence_timeout_secs));
            jobs.extend(
                self.store.absent_agents(before).await?.into_iter().map(|agent| Job::AgentAbsent { agent }),
            );
        }
        if self.routing.idle_timeout_minutes > 0 {
            let before = now.minus(Duration::from_secs(self.routing.idle_timeout_minutes * 60));
            jobs.extend(
                self.store
                    .idle_since(before)
                    .await?
                    .into_iter()
                    .map(|c| Job::IdleCheck { conversation: c.id }),
            );
        }
        for g in self.store.skill_groups().await? {
            let Some(t) = g.routing.queue_timeout_secs else { continue };
            let before = now.minus(Duration::from_secs(u64::from(t)));
            for row in self.store.queue_rows(Some(g.id), Timestamp(i64::MAX)).await? {
                if row.conversation.queued_at.is_some_and(|q| q <= before) {
                    jobs.push(Job::QueueTimeout { conversation: row.conversation.id });
                }
            }
        }
        self.store.purge_guards(now, now.minus(Duration::from_secs(24 * 3600))).await?;
        let n = jobs.len();
        self.enqueue(jobs.into_iter().map(|job| NewJob { job, run_at: now }).collect()).await?;
        Ok(n)
    }

    /// The `idle_check` job: closes a conversation nobody wrote in for the idle timeout, if
    /// nothing happened since it was found.
    pub async fn idle_check(&self, id: ConversationId) -> Result<Vec<Effect>> {
        let conv = self.store.conversation(id).await?;
        let before = self.clock.now().minus(Duration::from_secs(self.routing.idle_timeout_minutes * 60));
        let active = conv.updated_at >= before || conv.last_inbound_at.is_some_and(|t| t >= before);
        if self.routing.idle_timeout_minutes == 0
            || active
            || !matches!(conv.state(), ConversationState::Bot | ConversationState::Assigned)
        {
            return Ok(vec![]);
        }
        let mut e = vec![
            Effect::Expect { conversation: id, updated_at: conv.updated_at },
            Effect::Transition {
                conversation: id,
                event: ConversationEvent::Close { reason: CloseReason::IdleTimeout },
            },
        ];
        e.extend(self.window(&conv).await?.tell(&conv, &self.routing.idle_closed));
        e.extend(self.freed_by(conv.status.agent).await?);
        Ok(e)
    }

    /// The `queue_timeout` job: a wait past the group's queue timeout becomes leave-message.
    pub async fn queue_timeout(&self, id: ConversationId) -> Result<Vec<Effect>> {
        let conv = self.store.conversation(id).await?;
        let Some(g) = conv.status.group else { return Ok(vec![]) };
        let timeout = self.store.skill_group(g).await?.routing.queue_timeout_secs;
        let waited = conv.queued_at.map(|q| self.clock.now().since(q));
        let over = matches!((timeout, waited), (Some(t), Some(w)) if w >= Duration::from_secs(u64::from(t)));
        if conv.state() != ConversationState::Queued || !over {
            return Ok(vec![]);
        }
        let mut e = vec![
            Effect::Expect { conversation: id, updated_at: conv.updated_at },
            Effect::Transition { conversation: id, event: ConversationEvent::LeaveMessage },
        ];
        e.extend(self.window(&conv).await?.tell(&conv, &self.routing.leave_message));
        Ok(e)
    }

    /// The `agent_absent` job: the agent goes offline if their workbench is still silent.
    /// The job after an agent's workbench went silent, or after an admin disabled the account:
    /// offline, and their conversations back to routing.
    pub async fn agent_absent(&self, agent: AgentId) -> Result<()> {
        if self.store.agent(agent).await?.disabled {
            tracing::info!(%agent, "account disabled; its conversations go back to routing");
            self.set_agent_status(agent, AgentStatus::Offline).await?;
            return Ok(());
        }
        let timeout = self.routing.presence_timeout_secs;
        let before = self.clock.now().minus(Duration::from_secs(timeout));
        if timeout > 0 && self.store.absent_agents(before).await?.contains(&agent) {
            tracing::info!(%agent, "agent's workbench is gone; setting them offline");
            self.set_agent_status(agent, AgentStatus::Offline).await?;
        }
        Ok(())
    }

    /// The agent's workbench is alive (logged in, or its live feed spoke).
    pub async fn seen(&self, agent: AgentId) -> Result<()> {
        Ok(self.store.touch_agent(agent, self.clock.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_read_from_digits_and_stars() {
        assert_eq!(rating("5"), Some(5));
        assert_eq!(rating(" 4分 "), Some(4));
        assert_eq!(rating("⭐⭐⭐"), Some(3));
        assert_eq!(rating("6"), None);
        assert_eq!(rating("0"), None);
        assert_eq!(rating("5 stars but slow"), None);
        assert_eq!(rating("我还有问题"), None);
    }
}
