//! Knowledge-base maintenance through the engine: edits take effect in the bot at once, and
//! FAQ mining runs over the conversation history.

use kefu_bot::mining::{Candidate, MiningConfig, Speaker, Turn, mine};
use kefu_domain::*;
use kefu_store::{ConversationFilter, MessagePage, NewCandidate};

use crate::engine::{Engine, Result};

impl Engine {
    /// Saves entries and rebuilds the bot's matcher before returning.
    pub async fn save_faqs(&self, entries: Vec<FaqEntry>) -> Result<Vec<FaqEntry>> {
        let saved = self.store.put_faqs(entries, self.clock.now()).await?;
        self.kb_changed().await?;
        Ok(saved)
    }

    pub async fn delete_faq(&self, id: &str) -> Result<()> {
        self.store.delete_faq(id).await?;
        self.kb_changed().await
    }

    /// Rebuilds this node's matcher and tells every other node to rebuild theirs.
    pub async fn kb_changed(&self) -> Result<()> {
        self.bot.refresh(self.store.as_ref()).await?;
        let version = self.store.kb_version().await?;
        self.publish(crate::bus::Subject::kb(), crate::bus::Event::KbChanged { version }).await;
        Ok(())
    }

    /// The turns of up to `limit` recent closed conversations that an agent served.
    async fn history(&self, limit: u32) -> Result<Vec<Turn>> {
        let filter =
            ConversationFilter { states: vec![ConversationState::Closed], limit, ..Default::default() };
        let mut turns = vec![];
        for c in self.store.conversations(&filter).await? {
            let page = MessagePage { before: None, limit: 200 };
            for m in self.store.messages(c.conversation.id, page).await? {
                let speaker = match (m.direction, m.sender) {
                    (Direction::Inbound, _) => Speaker::Customer,
                    (Direction::Outbound, Sender::Agent { .. }) => Speaker::Agent,
                    _ => continue,
                };
                if let Some(text) = m.content.plain_text() {
                    turns.push(Turn { conversation: c.conversation.id.to_string(), speaker, text });
                }
            }
        }
        Ok(turns)
    }

    /// Mines `turns` (or, without them, the stored history) and stores the candidates that the
    /// knowledge base does not already answer confidently.
    pub async fn mine_faqs(&self, turns: Option<Vec<Turn>>) -> Result<Vec<Candidate>> {
        let turns = match turns {
            Some(t) => t,
            None => self.history(2000).await?,
        };
        let matcher = self.bot.matcher();
        let threshold = self.bot.config.threshold;
        let found = tokio::task::spawn_blocking(move || {
            let candidates = mine(matcher.analyzer(), &turns, &MiningConfig::default());
            candidates
                .into_iter()
                .filter(|c| matcher.search(&c.question, 1).first().is_none_or(|h| h.confidence < threshold))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| crate::engine::EngineError::Invalid(format!("mining failed: {e}")))?;
        let new = found
            .iter()
            .map(|c| NewCandidate {
                question: c.question.clone(),
                similar: c.similar.clone(),
                answer: c.answer.clone(),
                support: c.support as i64,
                conversations: c.conversations.clone(),
            })
            .collect();
        self.store.add_candidates(new, self.clock.now()).await?;
        Ok(found)
    }
}
