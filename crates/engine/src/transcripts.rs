//! Cleaned transcripts for export: only what the customer and kefu said to each other
//! (no internal notes, no platform events), one line of text per message, media named
//! rather than linked, and personal numbers masked.

use kefu_domain::{Content, Direction, Message, Sender};
use regex::Regex;

use crate::oneid::{is_mobile, masked};

/// One exported line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TranscriptLine {
    pub conversation_id: i64,
    pub message_id: i64,
    pub at: i64,
    /// `customer`, `bot`, `agent` or `system`.
    pub speaker: &'static str,
    pub agent_id: Option<i64>,
    pub text: String,
}

/// Compiled patterns for one export run.
pub struct Cleaner {
    digits: Regex,
}

impl Default for Cleaner {
    fn default() -> Self {
        Cleaner { digits: Regex::new(r"[0-9]+[Xx]?").expect("valid pattern") }
    }
}

/// A whole run of digits that is a mainland mobile or ID-card number, masked.
fn mask(run: &str) -> Option<String> {
    match run.len() {
        11 if is_mobile(run) => Some(masked(run)),
        18 => Some(format!("{}********{}", &run[..6], &run[14..])),
        _ => None,
    }
}

impl Cleaner {
    /// Masks mobile and ID-card numbers and folds whitespace and control characters.
    /// Digit runs are taken whole, so an order number that merely contains 11 digits stays.
    pub fn clean_text(&self, text: &str) -> String {
        let text = self
            .digits
            .replace_all(text, |c: &regex::Captures| mask(&c[0]).unwrap_or_else(|| c[0].to_owned()));
        text.split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The exported line for a message, or `None` for what a transcript leaves out.
    pub fn line(&self, m: &Message) -> Option<TranscriptLine> {
        if m.direction == Direction::Internal || matches!(m.content, Content::Event { .. }) {
            return None;
        }
        let (speaker, agent_id) = match m.sender {
            Sender::Customer => ("customer", None),
            Sender::Bot => ("bot", None),
            Sender::Agent { id } => ("agent", Some(id.0)),
            Sender::System => ("system", None),
        };
        let text = self.clean_text(&describe(&m.content));
        (!text.is_empty()).then_some(TranscriptLine {
            conversation_id: m.conversation_id.0,
            message_id: m.id.0,
            at: m.created_at.0,
            speaker,
            agent_id,
            text,
        })
    }
}

fn describe(c: &Content) -> String {
    let label = match c {
        Content::Image { .. } => "[图片]",
        Content::Voice { .. } => "[语音]",
        Content::Video { .. } => "[视频]",
        Content::File { .. } => "[文件]",
        Content::Location { .. } => "[位置]",
        Content::Link { .. } => "[链接]",
        _ => "",
    };
    match (label, c.plain_text()) {
        ("", t) => t.unwrap_or_default(),
        (l, Some(t)) => format!("{l} {t}"),
        (l, None) => l.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_and_whitespace_folded() {
        let c = Cleaner::default();
        assert_eq!(
            c.clean_text("我的电话 13800000042\n\t身份证 110101199003071234"),
            "我的电话 138****0042 身份证 110101********1234"
        );
        assert_eq!(
            c.clean_text("+86 13912345678 订单 202611290011234"),
            "+86 139****5678 订单 202611290011234"
        );
    }
}
