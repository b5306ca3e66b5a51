//! The conversation lifecycle around routing: what kefu tells the customer (within platform
//! limits), closing with a closing message and survey, transfers, idle and queue timeouts, and
//! agents going online or offline.

use std::time::Duration;

use kefu_domain::*;

use crate::bus::{Event, Subject};
use crate::engine::{Engine, EngineError, Result};
use crate::routing::Routed;

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
    pub(crate) async fn announce(&self, conversation: Conversation) {
        let id = conversation.id;
        self.publish(Subject::conversation(id), Event::ConversationUpdated { conversation }).await;
    }

    /// Sends a message from kefu itself (queue position, closing message…). If the platform
    /// would refuse it now (WeChat's 48-hour window, the 5-message cap), it is recorded as
    /// failed with the reason instead, so the agent sees what the customer did not get.
    pub async fn tell(&self, id: ConversationId, content: Content) -> Result<Message> {
        let conv = self.store.conversation(id).await?;
        match self.check_window(&conv).await {
            Ok(()) => self.send_as(id, Sender::System, content).await,
            Err(EngineError::Refused(reason)) => {
                let new = kefu_store::NewOutbound {
                    conversation_id: id,
                    sender: Sender::System,
                    content,
                    dedupe_key: None,
                    created_at: self.clock.now(),
                };
                let (m, _) = self.store.record_sent(new).await?;
                let failed =
                    self.store.set_message_status(m.id, DeliveryStatus::Failed, Some(&reason)).await?;
                let conversation = self.store.conversation(id).await?;
                self.publish(
                    Subject::conversation(id),
                    Event::MessageCreated { message: failed.clone(), conversation },
                )
                .await;
                Ok(failed)
            }
            Err(e) => Err(e),
        }
    }

    /// [`Engine::tell`] for one of kefu's configurable texts; an empty text turns it off.
    pub(crate) async fn tell_text(&self, id: ConversationId, text: &str) -> Result<Option<Message>> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        self.tell(id, Content::text(text)).await.map(Some)
    }

    async fn closing_text(&self, conv: &Conversation) -> Result<String> {
        let group = match conv.status.group {
            Some(g) => self.store.skill_group(g).await?.routing.closing_message,
            None => None,
        };
        Ok(group.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| self.routing.closed.clone()))
    }

    /// After an agent closed a conversation: the closing message (结束语), the survey, and the
    /// freed capacity goes to the queue.
    pub(crate) async fn after_agent_close(&self, conv: &Conversation) -> Result<()> {
        let text = self.closing_text(conv).await?;
        let closing = self.tell_text(conv.id, &text).await?;
        // A survey after a closing message the platform refused could not arrive either.
        let refused = closing.is_some_and(|m| m.status == DeliveryStatus::Failed);
        if self.routing.survey && !refused {
            let sent = self.tell_text(conv.id, &self.routing.survey_prompt).await?;
            if sent.is_some_and(|m| m.status != DeliveryStatus::Failed) {
                let until = self.clock.now().plus(Duration::from_secs(self.routing.survey_minutes * 60));
                self.store.open_survey(conv.id, until).await?;
            }
        }
        self.drain().await?;
        Ok(())
    }

    /// Moves a conversation to another agent or group, leaving a note for whoever takes it.
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
        let moved = self.apply(id, event).await?;
        let text = if note.trim().is_empty() {
            format!("{} 转接了会话", by.display_name)
        } else {
            format!("{} 转接备注：{note}", by.display_name)
        };
        self.note(id, Sender::Agent { id: by.id }, &text).await?;
        if let TransferTo::Group(_) = to {
            self.route(id).await?;
        }
        self.drain().await?;
        Ok(self.store.conversation(moved.id).await?)
    }

    /// Sets an agent's status. Going offline hands their conversations back to routing (to a
    /// colleague, or leave-message when nobody is left); coming online serves the queue.
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
                self.apply(c.conversation.id, ConversationEvent::Requeue).await?;
                self.route(c.conversation.id).await?;
            }
        }
        self.drain().await?;
        Ok(updated)
    }

    /// Periodic work, driven by the injected clock: agents whose workbench went away go
    /// offline, idle conversations close with their own message, queue waits past the group's
    /// timeout become leave-message tickets, and the queue is served.
    pub async fn tick(&self) -> Result<()> {
        let now = self.clock.now();
        if self.routing.presence_timeout_secs > 0 {
            let before = now.minus(Duration::from_secs(self.routing.presence_timeout_secs));
            for agent in self.store.absent_agents(before).await? {
                tracing::info!(%agent, "agent's workbench is gone; setting them offline");
                self.set_agent_status(agent, AgentStatus::Offline).await?;
            }
        }
        if self.routing.idle_timeout_minutes > 0 {
            let before = now.minus(Duration::from_secs(self.routing.idle_timeout_minutes * 60));
            for c in self.store.idle_since(before).await? {
                self.apply(c.id, ConversationEvent::Close { reason: CloseReason::IdleTimeout }).await?;
                self.tell_text(c.id, &self.routing.idle_closed).await?;
            }
        }
        for c in self.store.queue(None).await? {
            let Some(g) = c.status.group else { continue };
            let timeout = self.store.skill_group(g).await?.routing.queue_timeout_secs;
            let waited = c.queued_at.map(|q| now.since(q)).unwrap_or_default();
            if timeout.is_some_and(|t| waited >= Duration::from_secs(u64::from(t))) {
                self.apply(c.id, ConversationEvent::LeaveMessage).await?;
                self.tell_text(c.id, &self.routing.leave_message).await?;
            }
        }
        self.drain().await?;
        Ok(())
    }

    /// The agent's workbench is alive (logged in, or its live feed spoke).
    pub async fn seen(&self, agent: AgentId) -> Result<()> {
        Ok(self.store.touch_agent(agent, self.clock.now()).await?)
    }

    /// Routes a conversation that is now waiting (new, or handed off by the bot).
    pub async fn route_if_queued(&self, id: ConversationId) -> Result<Routed> {
        self.route(id).await
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
