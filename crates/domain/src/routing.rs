//! Routing as a pure function: from a snapshot of one queue (its group's settings, the agents
//! who may take work and their loads, the waiting conversations in order) to the effects that
//! serve it. One pass over the queue, O(queue + agents): assign first come, first served while
//! agents have room (the customer's last agent first, then the group's strategy), send the
//! rest to leave-message when nobody can come, and tell those still waiting their new place.

use serde::{Deserialize, Serialize};

use crate::agent::{SkillGroup, Strategy};
use crate::clock::Timestamp;
use crate::conversation::{Conversation, ConversationEvent};
use crate::effects::{Effect, Outgoing};
use crate::ids::AgentId;
use crate::message::{Content, Sender};
use crate::rules::Refusal;

/// What kefu tells customers about routing and the lifecycle; `{n}` is the place in the queue
/// (1 = next), `{agent}` the agent's display name. An empty text is not sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RoutingConfig {
    /// Close conversations nobody wrote in for this long; 0 turns it off.
    pub idle_timeout_minutes: u64,
    /// How often (wall-clock seconds) a node looks for timeouts; 0 leaves it to the caller,
    /// as tests do with their injected clock.
    pub tick_seconds: u64,
    /// An agent whose workbench showed no sign of life for this long goes offline. 0 = off.
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

/// Whether kefu may message a customer now, and how many more times (platform windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// `None`: no limit.
    pub left: Option<u32>,
    /// Why nothing may be sent at all, if so.
    pub closed: Option<Refusal>,
}

impl Window {
    pub const OPEN: Window = Window { left: None, closed: None };

    /// Uses one message of the window; the refusal if none is left.
    pub fn take(&mut self) -> Option<Refusal> {
        let refusal = self.closed.or(match self.left {
            Some(0) => Some(Refusal::QuotaUsed(5)),
            _ => None,
        });
        if refusal.is_none()
            && let Some(n) = self.left.as_mut()
        {
            *n -= 1;
        }
        refusal
    }

    /// The effect of `sender` sending `content` now: a send while the window allows, otherwise
    /// the message recorded as failed with the reason.
    pub fn send(&mut self, conv: &Conversation, sender: Sender, content: Content) -> Effect {
        match self.take() {
            Some(r) => Effect::Refused { conversation: conv.id, sender, content, reason: r.to_string() },
            None => Effect::Send(Outgoing::new(conv.id, sender, content)),
        }
    }

    /// kefu telling the customer `text` (nothing for an empty text).
    pub fn tell(&mut self, conv: &Conversation, text: &str) -> Option<Effect> {
        (!text.trim().is_empty()).then(|| self.send(conv, Sender::System, Content::text(text)))
    }
}

/// An agent who may take this queue's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub agent: AgentId,
    pub display_name: String,
    pub active: u32,
    pub capacity: u32,
    pub last_assigned_at: Timestamp,
}

impl Slot {
    fn has_room(&self) -> bool {
        self.active < self.capacity
    }
}

/// A conversation waiting in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub conversation: Conversation,
    /// The agent who served this customer within the group's sticky window.
    pub last_agent: Option<AgentId>,
    /// The place kefu last told them (0 = next), if any.
    pub told: Option<u32>,
    pub window: Window,
}

/// One queue as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSnapshot {
    /// `None`: the ungrouped queue, served by every online agent.
    pub group: Option<SkillGroup>,
    pub now: Timestamp,
    /// Online agents of the group with capacity above zero.
    pub agents: Vec<Slot>,
    /// The group's round-robin pointer: the agent assigned last.
    pub rr_last: Option<AgentId>,
    /// Longest waiting first.
    pub waiting: Vec<Waiting>,
}

/// Tell the customer again when the wait shortened meaningfully: by three places, or to the
/// last couple.
pub fn worth_telling(told: Option<u32>, ahead: u32) -> bool {
    match told {
        None => true,
        Some(t) => ahead + 3 <= t || (ahead <= 1 && ahead < t),
    }
}

/// The agent for the next waiting conversation, if anyone has room.
fn pick(s: &QueueSnapshot, w: &Waiting, agents: &[Slot], rr_last: Option<AgentId>) -> Option<usize> {
    let room = |i: &usize| agents[*i].has_room();
    if let Some(last) = w.last_agent
        && let Some(i) = agents.iter().position(|a| a.agent == last).filter(room)
    {
        return Some(i);
    }
    let strategy = s.group.as_ref().map(|g| g.routing.strategy).unwrap_or_default();
    let mut order: Vec<usize> = (0..agents.len()).filter(room).collect();
    match strategy {
        Strategy::LeastLoad => {
            let share = |i: usize| f64::from(agents[i].active) / f64::from(agents[i].capacity.max(1));
            order.sort_by(|a, b| {
                share(*a)
                    .total_cmp(&share(*b))
                    .then(agents[*a].last_assigned_at.cmp(&agents[*b].last_assigned_at))
            });
            order.first().copied()
        }
        Strategy::RoundRobin => {
            order.sort_by_key(|i| agents[*i].agent);
            let after = rr_last.map(|l| l.0).unwrap_or(i64::MIN);
            order.iter().copied().find(|i| agents[*i].agent.0 > after).or(order.first().copied())
        }
    }
}

/// The effects that serve this queue, one batch per conversation (each applied on its own).
pub fn serve_queue(s: &QueueSnapshot, texts: &RoutingConfig) -> Vec<Vec<Effect>> {
    let routing = s.group.as_ref().map(|g| g.routing.clone()).unwrap_or_default();
    let closed_hours = routing.business_hours.as_ref().is_some_and(|h| !h.is_open(s.now));
    let mut batches = vec![];
    if closed_hours || s.agents.is_empty() {
        for w in &s.waiting {
            let mut window = w.window;
            let mut b = vec![Effect::Transition {
                conversation: w.conversation.id,
                event: ConversationEvent::LeaveMessage,
            }];
            b.extend(window.tell(&w.conversation, &texts.leave_message));
            batches.push(b);
        }
        return batches;
    }
    let mut agents = s.agents.clone();
    let mut rr_last = s.rr_last;
    let round_robin = s.group.as_ref().filter(|g| g.routing.strategy == Strategy::RoundRobin).map(|g| g.id);
    let mut ahead = 0u32;
    for w in &s.waiting {
        let mut window = w.window;
        match pick(s, w, &agents, rr_last) {
            Some(i) => {
                let a = &mut agents[i];
                a.active += 1;
                a.last_assigned_at = s.now;
                // A returning customer's own agent does not take a round-robin turn.
                let sticky = w.last_agent == Some(a.agent);
                if !sticky {
                    rr_last = Some(a.agent);
                }
                let rr = if sticky { None } else { round_robin };
                let mut b =
                    vec![Effect::Assign { conversation: w.conversation.id, agent: a.agent, round_robin: rr }];
                b.extend(window.tell(&w.conversation, &texts.assigned.replace("{agent}", &a.display_name)));
                batches.push(b);
            }
            None => {
                if worth_telling(w.told, ahead) {
                    let mut b = vec![Effect::QueueTold { conversation: w.conversation.id, position: ahead }];
                    b.extend(
                        window.tell(&w.conversation, &texts.queued.replace("{n}", &(ahead + 1).to_string())),
                    );
                    batches.push(b);
                }
                ahead += 1;
            }
        }
    }
    batches
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
