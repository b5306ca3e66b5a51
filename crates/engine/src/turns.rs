//! The answer to each stored customer message, run as the message's `inbound` job: welcome
//! messages, the bot's turn, hand-off, the survey rating, and what must follow (routing,
//! profile lookup, media copy). The effects commit together with the job's completion.

use kefu_bot::policy::BotMemory;
use kefu_domain::routing::Window;
use kefu_domain::*;
use kefu_store::Accepted;

use crate::bot::HandOff;
use crate::engine::{Engine, Result};
use crate::jobs::Outcome;

/// Events that start a session on the platform side.
fn session_start(content: &Content) -> bool {
    matches!(content, Content::Event { event, .. } if matches!(event.as_str(), "subscribe" | "enter_session" | "enter_agent"))
}

/// Channels without a session-start event greet on the first message of a conversation; the
/// others greet when the session starts (follow, entering the chat) and web chat in its widget.
fn greets_first_message(kind: ChannelKind) -> bool {
    matches!(kind, ChannelKind::Wecom | ChannelKind::Dingtalk)
}

/// How long the first reply to a WeChat message waits for the callback to take it as the
/// passive reply before the customer-service API sends it (WeChat gives up after 5 s).
pub const PASSIVE_HOLD: std::time::Duration = std::time::Duration::from_millis(4_500);

/// The key of the reply held for the passive reply to `inbound`.
pub fn passive_key(inbound: MessageId) -> String {
    format!("passive:{inbound}")
}

impl Engine {
    /// The channel's welcome message, if it has one. Web chat greets in the widget itself.
    fn welcome(channel: &Channel) -> Option<Content> {
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
        Ok(Self::welcome(&channel))
    }

    async fn memory(&self, id: ConversationId) -> BotMemory {
        let raw = self.store.bot_state(id).await.ok().flatten();
        raw.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default()
    }

    /// Whether kefu may message the customer of `conv` now (platform windows), and how often.
    pub async fn window(&self, conv: &Conversation) -> Result<Window> {
        let channel = self.store.channel(conv.channel_id).await?;
        let Some(w) = kefu_domain::rules::reply_window(channel.kind) else { return Ok(Window::OPEN) };
        let sent = self.store.outbound_since(conv.id, conv.last_inbound_at.unwrap_or(Timestamp(0))).await?;
        Ok(
            match kefu_domain::rules::check_reply(channel.kind, conv.last_inbound_at, sent, self.clock.now())
            {
                Ok(()) => Window { left: Some(w.max_messages - sent), closed: None },
                Err(r) => Window { left: Some(0), closed: Some(r) },
            },
        )
    }

    /// Loads what the `inbound` job needs about its message.
    pub(crate) async fn accepted(&self, message: MessageId, new_conversation: bool) -> Result<Accepted> {
        let message = self.store.message(message).await?;
        let conversation = self.store.conversation(message.conversation_id).await?;
        let identity = self.store.identity(conversation.identity_id).await?;
        let customer = self.store.customer(identity.customer_id).await?;
        Ok(Accepted { message, conversation, customer, identity, new_conversation, job: None })
    }

    /// The `inbound` job: decides the answer to one stored customer message.
    pub async fn inbound_turn(
        &self,
        message: MessageId,
        new_conversation: bool,
        passive: bool,
    ) -> Result<Outcome> {
        let a = self.accepted(message, new_conversation).await?;
        if a.conversation.state() == ConversationState::Closed {
            return Ok(Outcome::Effects(self.survey_rating(&a).await?));
        }
        if self.phone_answer(&a).await? {
            return Ok(Outcome::Done);
        }
        let channel = self.store.channel(a.message.channel_id).await?;
        let mut effects = self.follow_ups(&a, &channel);
        let replies = self.replies(&a, &channel, &mut effects).await?;
        let mut window = self.window(&a.conversation).await?;
        for (i, content) in replies.into_iter().enumerate() {
            effects.push(self.reply_effect(&a, &mut window, content, passive && i == 0));
        }
        Ok(Outcome::Effects(effects))
    }

    /// One of kefu's replies: sent (the first one held for WeChat's passive reply), or recorded
    /// as refused when the platform's window is closed.
    fn reply_effect(&self, a: &Accepted, window: &mut Window, content: Content, passive: bool) -> Effect {
        match window.send(&a.conversation, Sender::Bot, content) {
            Effect::Send(mut o) if passive => {
                o.dedupe_key = Some(passive_key(a.message.id));
                // Counted from the message's arrival, not from when the job ran: a reply that
                // comes after WeChat stopped waiting goes out through the API at once.
                o.hold_until = Some(a.message.created_at.plus(PASSIVE_HOLD));
                Effect::Send(o)
            }
            other => other,
        }
    }

    /// What follows a message whatever the bot says: the platform profile of a new identity,
    /// a copy of the customer's media, closing on unfollow, and routing when someone waits.
    fn follow_ups(&self, a: &Accepted, channel: &Channel) -> Vec<Effect> {
        let mut e = vec![];
        if a.new_conversation
            && matches!(channel.kind, ChannelKind::WechatOa | ChannelKind::WecomKf | ChannelKind::Dingtalk)
        {
            e.push(self.now_job(Job::Enrich { identity: a.identity.id }));
        }
        if matches!(&a.message.content, Content::Image { url: Some(u), .. } if u.starts_with("http")) {
            e.push(self.now_job(Job::FetchMedia { message: a.message.id }));
        }
        if matches!(&a.message.content, Content::Event { event, .. } if event == "unsubscribe") {
            let close = ConversationEvent::Close { reason: CloseReason::Customer };
            e.push(Effect::Transition { conversation: a.conversation.id, event: close });
        }
        e
    }

    /// The replies to the message, adding the hand-off and routing to `effects`.
    async fn replies(
        &self,
        a: &Accepted,
        channel: &Channel,
        effects: &mut Vec<Effect>,
    ) -> Result<Vec<Content>> {
        let conv = &a.conversation;
        let mut replies = vec![];
        if session_start(&a.message.content) {
            // 微信客服 greets with the session's welcome code when the pull sees it.
            if channel.kind != ChannelKind::WecomKf {
                replies.extend(Self::welcome(channel));
            }
            return Ok(replies);
        }
        if matches!(a.message.content, Content::Event { .. }) {
            return Ok(replies);
        }
        if a.new_conversation && greets_first_message(channel.kind) {
            replies.extend(Self::welcome(channel));
        }
        let text = a.message.content.plain_text();
        if let (ConversationState::Bot, Some(text)) = (conv.state(), text.as_deref()) {
            let turn = self.bot.turn(channel, text, &self.memory(conv.id).await).await;
            let memory = serde_json::to_string(&turn.memory).unwrap_or_default();
            effects.push(Effect::BotMemory { conversation: conv.id, memory });
            replies.extend(turn.replies);
            if let Some(h) = turn.handoff {
                effects.extend(self.hand_off(conv, h).await?);
            }
        } else if conv.state() == ConversationState::Queued && conv.queued_at.is_some() {
            effects.push(self.now_job(Job::ServeQueue { group: conv.status.group }));
        }
        Ok(replies)
    }

    /// A note with the bot's summary, the move to the queue of the group a keyword rule names
    /// (else the one the closest FAQ entries belong to), and serving that queue.
    async fn hand_off(&self, conv: &Conversation, h: HandOff) -> Result<Vec<Effect>> {
        let page = kefu_store::MessagePage { before: None, limit: 20 };
        let said: String = self
            .store
            .messages(conv.id, page)
            .await?
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .filter_map(|m| m.content.plain_text())
            .collect::<Vec<_>>()
            .join("\n");
        let groups = self.store.skill_groups().await?;
        let by_rule = crate::routing::rule_group(&groups, &said);
        let by_bot = h.group.as_ref().and_then(|name| groups.iter().find(|g| &g.name == name));
        let group = by_rule.or(by_bot).map(|g| g.id).or(conv.status.group);
        // The note names the group the conversation really goes to.
        let h = HandOff {
            group: group.and_then(|g| groups.iter().find(|x| x.id == g)).map(|g| g.name.clone()),
            ..h
        };
        Ok(vec![
            Effect::Note { conversation: conv.id, sender: Sender::Bot, text: h.note() },
            Effect::Transition { conversation: conv.id, event: ConversationEvent::HandOff { group } },
            self.now_job(Job::ServeQueue { group }),
        ])
    }

    /// A reply to the satisfaction survey of a closed conversation: the rating and the thanks.
    async fn survey_rating(&self, a: &Accepted) -> Result<Vec<Effect>> {
        let score = a.message.content.plain_text().as_deref().and_then(crate::lifecycle::rating);
        let Some(score) = score else { return Ok(vec![]) };
        let mut window = self.window(&a.conversation).await?;
        let mut e = vec![Effect::Rate { conversation: a.conversation.id, score }];
        e.extend(window.tell(&a.conversation, &self.routing.survey_thanks));
        Ok(e)
    }

    /// An internal note for agents; never sent to the customer.
    pub async fn note(&self, id: ConversationId, sender: Sender, text: &str) -> Result<()> {
        self.commit(vec![Effect::Note { conversation: id, sender, text: text.to_owned() }]).await?;
        Ok(())
    }
}
