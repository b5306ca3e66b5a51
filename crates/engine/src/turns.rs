//! The engine's reply to each customer message: welcome messages, the bot's turn, hand-off.

use kefu_bot::policy::BotMemory;
use kefu_domain::*;
use kefu_store::Accepted;

use crate::bot::HandOff;
use crate::bus::{Event, Subject};
use crate::engine::{Engine, Result};

/// Events that start a session on the platform side.
fn session_start(content: &Content) -> bool {
    matches!(content, Content::Event { event, .. } if matches!(event.as_str(), "subscribe" | "enter_session" | "enter_agent"))
}

/// Channels without a session-start event greet on the first message of a conversation; the
/// others greet when the session starts (follow, entering the chat) and web chat in its widget.
fn greets_first_message(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::Wecom | ChannelKind::Dingtalk)
}

impl Engine {
    /// The channel's welcome message, if it has one. Web chat greets in the widget itself.
    async fn welcome(&self, channel: &Channel) -> Option<Content> {
        if channel.kind == ChannelKind::Webchat {
            return None;
        }
        channel.setting("welcome").filter(|w| !w.trim().is_empty()).map(Content::text)
    }

    /// The welcome for a session-start event (subscribe, enter_session), if any.
    pub async fn quick_reply(&self, inbound: &Message) -> Result<Option<Content>> {
        if !session_start(&inbound.content) {
            return Ok(None);
        }
        let channel = self.store.channel(inbound.channel_id).await?;
        Ok(self.welcome(&channel).await)
    }

    async fn memory(&self, id: ConversationId) -> BotMemory {
        let raw = self.store.bot_state(id).await.ok().flatten();
        raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
    }

    /// Replies to a stored customer message: the welcome when a session starts, the bot's
    /// answer while the bot serves the conversation, and the hand-off when it gives up.
    /// With `passive`, the first reply is returned for the platform's HTTP response instead of
    /// being queued (WeChat's passive reply); it is recorded either way.
    pub async fn respond(&self, a: &Accepted, passive: bool) -> Result<Option<Content>> {
        if self.phone_answer(a).await? {
            return Ok(None);
        }
        let channel = self.store.channel(a.message.channel_id).await?;
        let mut replies = vec![];
        let mut handoff = None;
        if session_start(&a.message.content) {
            replies.extend(self.welcome(&channel).await);
        } else if let Some(text) = a.message.content.plain_text() {
            if a.new_conversation && greets_first_message(channel.kind) {
                replies.extend(self.welcome(&channel).await);
            }
            if a.conversation.state() == ConversationState::Bot {
                let turn = self.bot.turn(&channel, &text, &self.memory(a.conversation.id).await).await;
                let memory = serde_json::to_string(&turn.memory).unwrap_or_default();
                self.store.set_bot_state(a.conversation.id, &memory).await?;
                replies.extend(turn.replies);
                handoff = turn.handoff;
            }
        }
        let mut first = None;
        for (i, reply) in replies.into_iter().enumerate() {
            if i == 0 && passive {
                self.record_passive(&a.message, Sender::Bot, reply.clone()).await?;
                first = Some(reply);
            } else {
                self.send_as(a.conversation.id, Sender::Bot, reply).await?;
            }
        }
        if let Some(h) = handoff {
            self.hand_off(a.conversation.id, h).await?;
        }
        // Whatever waits for a person now (new without a bot, just handed off, or still in the
        // queue) is routed; anything else is left alone. Platform events (a follow, entering
        // the chat) are not a request for a person.
        if !matches!(a.message.content, Content::Event { .. }) {
            self.route(a.conversation.id).await?;
        }
        Ok(first)
    }

    /// Leaves a note with the bot's summary and puts the conversation in the queue of the
    /// skill group a keyword rule names, else the one the closest FAQ entries belong to.
    async fn hand_off(&self, id: ConversationId, h: HandOff) -> Result<()> {
        // Routing rules on what the customer wrote win; the closest FAQ entry's group is next.
        let page = kefu_store::MessagePage { before: None, limit: 20 };
        let said: String = self
            .store
            .messages(id, page)
            .await?
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .filter_map(|m| m.content.plain_text())
            .collect::<Vec<_>>()
            .join("\n");
        let groups = self.store.skill_groups().await?;
        let by_rule = crate::routing::rule_group(&groups, &said);
        let by_bot = h.group.as_ref().and_then(|name| groups.iter().find(|g| &g.name == name));
        let group = by_rule.or(by_bot).map(|g| g.id);
        self.note(id, Sender::Bot, &h.note()).await?;
        self.apply(id, ConversationEvent::HandOff { group }).await?;
        Ok(())
    }

    /// An internal note for agents; never sent to the customer.
    pub async fn note(&self, id: ConversationId, sender: Sender, text: &str) -> Result<Message> {
        let message = self.store.record_note(id, sender, text, self.clock.now()).await?;
        let conversation = self.store.conversation(id).await?;
        self.publish(
            Subject::conversation(id),
            Event::MessageCreated { message: message.clone(), conversation },
        )
        .await;
        Ok(message)
    }
}
