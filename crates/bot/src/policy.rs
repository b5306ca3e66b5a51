//! The dialogue policy: given a customer message and how the bot has fared so far in the
//! conversation, answer, suggest (猜你想问), fall back, make small talk, or hand off.

use serde::{Deserialize, Serialize};

use crate::intent::{Intent, detect};
use crate::matcher::{Hit, Matcher};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyConfig {
    /// Confidence at which the bot answers (per channel overridable).
    pub threshold: f32,
    /// Below the threshold but at least this confident: offer suggestions.
    pub suggest_floor: f32,
    /// Consecutive misses after which a human takes over.
    pub max_misses: u32,
    pub suggestions: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig { threshold: 0.82, suggest_floor: 0.05, max_misses: 2, suggestions: 3 }
    }
}

/// What the bot remembers about a conversation between messages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotMemory {
    pub misses: u32,
    /// Entry ids last offered as suggestions, so "2" can pick the second.
    #[serde(default)]
    pub suggested: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandOffReason {
    /// The customer asked for a person.
    Requested,
    /// The bot missed `max_misses` times in a row.
    Misses,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Answer(Hit),
    /// "猜你想问": the closest entries, as choices.
    Suggest(Vec<Hit>),
    /// Nothing close enough to suggest.
    Fallback,
    SmallTalk(Intent),
    HandOff {
        reason: HandOffReason,
        group: Option<String>,
        best: Option<Hit>,
    },
}

impl Decision {
    pub fn is_miss(&self) -> bool {
        matches!(self, Decision::Suggest(_) | Decision::Fallback)
    }
}

/// The suggestion the customer picked: by number (channels without buttons show them
/// numbered) or by its text (what a clicked button or WeChat menu item sends back).
fn picked(text: &str, memory: &BotMemory, m: &Matcher) -> Option<Hit> {
    let by_number = text.trim().parse::<usize>().ok().and_then(|n| memory.suggested.get(n.checked_sub(1)?));
    let norm = crate::text::normalize(text);
    let by_text = || {
        memory
            .suggested
            .iter()
            .find(|id| m.entry(id).is_some_and(|e| crate::text::normalize(&e.question) == norm))
    };
    let e = m.entry(by_number.or_else(by_text)?)?;
    Some(Hit {
        entry_id: e.id.clone(),
        question: e.question.clone(),
        group: e.group.clone(),
        score: 0.0,
        confidence: 1.0,
    })
}

/// The group the closest entries vote for, and the closest entry, if anything is close.
fn best_group(hits: &[Hit]) -> (Option<String>, Option<Hit>) {
    let best = hits.first().filter(|h| h.score > 0.0).cloned();
    (crate::groups::vote(hits).map(|g| g.0), best)
}

/// Decides the bot's move and returns the memory to keep for the next message.
pub fn decide(m: &Matcher, text: &str, memory: &BotMemory, cfg: &PolicyConfig) -> (Decision, BotMemory) {
    let hits = m.search(text, cfg.suggestions.max(1));
    decide_with(m, text, hits, memory, cfg)
}

/// Like [`decide`], with the hits already found (e.g. by the semantic matcher).
pub fn decide_with(
    m: &Matcher,
    text: &str,
    hits: Vec<Hit>,
    memory: &BotMemory,
    cfg: &PolicyConfig,
) -> (Decision, BotMemory) {
    if let Some(hit) = picked(text, memory, m) {
        return (Decision::Answer(hit), BotMemory::default());
    }
    match detect(text) {
        Intent::Handoff => {
            let (group, best) = best_group(&hits);
            let d = Decision::HandOff { reason: HandOffReason::Requested, group, best };
            return (d, BotMemory::default());
        }
        i @ (Intent::Greeting | Intent::Thanks) => return (Decision::SmallTalk(i), memory.clone()),
        Intent::Question => {}
    }
    if let Some(top) = hits.first().filter(|h| h.confidence >= cfg.threshold) {
        return (Decision::Answer(top.clone()), BotMemory::default());
    }
    let misses = memory.misses + 1;
    if misses >= cfg.max_misses {
        let (group, best) = best_group(&hits);
        return (Decision::HandOff { reason: HandOffReason::Misses, group, best }, BotMemory::default());
    }
    let close: Vec<Hit> = hits.into_iter().filter(|h| h.confidence >= cfg.suggest_floor).collect();
    if close.is_empty() {
        return (Decision::Fallback, BotMemory { misses, suggested: vec![] });
    }
    let suggested = close.iter().map(|h| h.entry_id.clone()).collect();
    (Decision::Suggest(close), BotMemory { misses, suggested })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
