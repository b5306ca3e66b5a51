//! Knowledge-base entries (FAQ): what the bot can answer, and which skill group owns the topic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::channel::ChannelKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FaqEntry {
    /// A stable id: imported (e.g. "B001") or assigned by kefu (left out or empty).
    #[serde(default)]
    pub id: String,
    /// The standard question (标准问).
    pub question: String,
    /// Other ways customers ask it (相似问).
    #[serde(default)]
    pub similar: Vec<String>,
    pub answer: String,
    /// The skill group that takes the topic when a human is needed.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Answers worded for one channel (e.g. shorter for DingTalk), overriding `answer` there.
    #[serde(default)]
    pub channel_answers: BTreeMap<ChannelKind, String>,
}

fn yes() -> bool {
    true
}

impl FaqEntry {
    /// The answer as `channel` should show it.
    pub fn answer_for(&self, channel: ChannelKind) -> &str {
        self.channel_answers.get(&channel).map(String::as_str).unwrap_or(&self.answer)
    }

    /// The standard question followed by the similar ones.
    pub fn questions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.similar.iter().map(String::as_str))
    }
}
