//! FAQ mining on the dev set's chat log (the input the issue names).

use std::path::PathBuf;

use kefu_bot::Analyzer;
use kefu_bot::mining::{MiningConfig, Turn, mine};

#[test]
fn the_recurring_topics_of_the_chat_log_are_proposed_with_clean_answers() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/faq-dev/chatlog.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("{} not found: mining test skipped", path.display());
        return;
    };
    let turns: Vec<Turn> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got = mine(&Analyzer::default(), &turns, &MiningConfig::default());
    for c in &got {
        eprintln!("{:>2} {} | {}", c.support, c.question, c.answer);
    }
    assert!(got.len() >= 10, "{} candidates", got.len());
    for c in &got {
        assert!(c.support >= 3);
        assert!(!c.answer.contains("138000"), "phone number leaked: {}", c.answer);
        assert!(!c.question.contains("138000"));
    }
    // Topics the data set's README lists, each in one of its wordings.
    let topics = [
        &["宽带"][..],
        &["发票"],
        &["流量"],
        &["保号", "不用 但想留着"],
        &["光猫", "LOS"],
        &["刷脸", "人脸"],
        &["欠费", "停机"],
    ];
    for words in topics {
        let about = |s: &String| words.iter().any(|w| s.contains(w));
        assert!(
            got.iter().any(|c| about(&c.question) || c.similar.iter().any(about) || about(&c.answer)),
            "no candidate about {words:?}"
        );
    }
}
