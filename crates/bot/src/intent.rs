//! What a message is besides a question: a request for a human, a greeting, thanks or goodbye.

use crate::lexicon::{GREETINGS, HANDOFF, STOP_WORDS, THANKS};
use crate::text::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Wants a person (转人工, 找真人, real person…).
    Handoff,
    Greeting,
    /// Thanks, acknowledgement or goodbye.
    Thanks,
    /// Anything else: a question for the knowledge base.
    Question,
}

fn strip_all(mut s: String, phrases: &[&str]) -> (String, bool) {
    let mut found = false;
    let mut sorted: Vec<&str> = phrases.to_vec();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
    for p in sorted {
        if s.contains(p) {
            found = true;
            s = s.replace(p, " ");
        }
    }
    (s, found)
}

/// Classifies a message. Small talk counts only when nothing else is left in the message, so
/// "你好，我手机停机了" is a question, not a greeting.
pub fn detect(text: &str) -> Intent {
    let norm = normalize(text);
    if HANDOFF.iter().any(|p| norm.contains(p)) {
        return Intent::Handoff;
    }
    let (rest, greeted) = strip_all(norm.clone(), GREETINGS);
    let (rest, thanked) = strip_all(rest, THANKS);
    let (rest, _) = strip_all(rest, STOP_WORDS);
    let substantive = rest.chars().filter(|c| !c.is_whitespace()).count();
    match (substantive, thanked, greeted) {
        (0, true, _) => Intent::Thanks,
        (0, false, _) => Intent::Greeting,
        _ => Intent::Question,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_for_a_human_are_recognised_in_any_wording() {
        for s in [
            "转人工",
            "我要人工服务",
            "找真人",
            "能转接人工坐席吗",
            "有没有工作人员在",
            "real person please",
            "Speak to someone",
        ] {
            assert_eq!(detect(s), Intent::Handoff, "{s}");
        }
    }

    #[test]
    fn small_talk_is_recognised_only_when_nothing_else_is_said() {
        for (s, want) in [
            ("你好", Intent::Greeting),
            ("在吗？", Intent::Greeting),
            ("👋", Intent::Greeting),
            ("谢谢！", Intent::Thanks),
            ("好的 我知道了", Intent::Thanks),
            ("拜拜", Intent::Thanks),
            ("你好，我手机停机了", Intent::Question),
            ("谢谢，另外宽带怎么续费", Intent::Question),
        ] {
            assert_eq!(detect(s), want, "{s}");
        }
    }
}
