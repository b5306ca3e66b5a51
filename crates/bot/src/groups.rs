//! Which skill group a message belongs to, from the knowledge base: the groups of the entries
//! closest to it vote, weighted by how close each is. Used when the bot hands off and for a new
//! conversation that no keyword rule placed, and scored offline on labelled samples.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::matcher::{Hit, Matcher};

/// How many of the closest entries vote. One entry alone is often a near miss from a
/// neighbouring topic; a handful agree on the area even when none is the exact question.
const VOTERS: usize = 5;

/// The group whose entries are closest to `text`, with its share of the vote (0–1).
pub fn suggest(m: &Matcher, text: &str) -> Option<(String, f32)> {
    vote(&m.search(text, VOTERS))
}

/// The vote among hits already found, best first.
pub fn vote(hits: &[Hit]) -> Option<(String, f32)> {
    let mut votes: BTreeMap<&str, f32> = BTreeMap::new();
    let mut total = 0.0;
    for (rank, h) in hits.iter().enumerate() {
        let Some(g) = h.group.as_deref().filter(|_| h.score > 0.0) else { continue };
        // Rank discounts keep the closest entry the tie-breaker among equal scores.
        let w = h.score / (1.0 + rank as f32 * 0.5);
        *votes.entry(g).or_default() += w;
        total += w;
    }
    let (group, w) = votes.into_iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some((group.to_owned(), if total > 0.0 { w / total } else { 0.0 }))
}

/// A labelled routing sample (the format of `faq-dev/routing.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub struct RoutingSample {
    pub q: String,
    pub group: String,
}

/// Accuracy overall and per expected group.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingScore {
    pub accuracy: f64,
    pub samples: usize,
    /// Group → (right, samples).
    pub by_group: BTreeMap<String, (usize, usize)>,
}

/// Scores a predictor (e.g. keyword rules first, then [`suggest`]) on labelled samples.
pub fn score(samples: &[RoutingSample], predict: impl Fn(&str) -> Option<String>) -> RoutingScore {
    let mut by_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut right = 0;
    for s in samples {
        let ok = predict(&s.q).as_deref() == Some(s.group.as_str());
        let g = by_group.entry(s.group.clone()).or_default();
        g.1 += 1;
        if ok {
            g.0 += 1;
            right += 1;
        }
    }
    let accuracy = if samples.is_empty() { 0.0 } else { right as f64 / samples.len() as f64 };
    RoutingScore { accuracy, samples: samples.len(), by_group }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kefu_domain::FaqEntry;

    use super::*;
    use crate::Analyzer;

    fn entry(id: &str, q: &str, group: &str) -> FaqEntry {
        FaqEntry {
            id: id.into(),
            question: q.into(),
            similar: vec![],
            answer: format!("{q}的答案"),
            group: Some(group.into()),
            enabled: true,
            channel_answers: Default::default(),
        }
    }

    #[test]
    fn the_closest_entries_vote_for_the_group() {
        let entries = vec![
            entry("A1", "空调不制冷怎么办", "维修"),
            entry("A2", "空调漏水怎么处理", "维修"),
            entry("A3", "空调有异响", "维修"),
            entry("B1", "空调多少钱", "销售"),
        ];
        let m = Matcher::build(Arc::new(Analyzer::default()), &entries);
        assert_eq!(suggest(&m, "空调不制冷还漏水").map(|g| g.0).as_deref(), Some("维修"));
        assert_eq!(
            suggest(&m, "空调多少钱一台").map(|g| g.0).as_deref(),
            Some("销售"),
            "one clear match wins"
        );
        let s = score(
            &[
                RoutingSample { q: "空调漏水".into(), group: "维修".into() },
                RoutingSample { q: "空调多少钱一台".into(), group: "销售".into() },
            ],
            |q| suggest(&m, q).map(|g| g.0),
        );
        assert_eq!((s.accuracy, s.samples), (1.0, 2));
    }
}
