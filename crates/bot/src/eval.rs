//! Offline evaluation of the bot on labelled questions (the format of `faq-dev/queries.jsonl`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::intent::{Intent, detect};
use crate::matcher::Matcher;

#[derive(Debug, Clone, Deserialize)]
pub struct LabelledQuery {
    pub q: String,
    /// The entry that answers it, or none for out-of-scope, small talk and hand-off requests.
    pub expect: Option<String>,
    #[serde(default)]
    pub kind: String,
}

/// What the bot would do with one message, for scoring.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub entry: Option<String>,
    /// 0 when the message is small talk or a request for a human: those are never answered.
    pub confidence: f32,
}

pub fn predict(m: &Matcher, text: &str) -> Prediction {
    if detect(text) != Intent::Question {
        return Prediction { entry: None, confidence: 0.0 };
    }
    match m.search(text, 1).into_iter().next() {
        Some(h) => Prediction { entry: Some(h.entry_id), confidence: h.confidence },
        None => Prediction { entry: None, confidence: 0.0 },
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub threshold: f32,
    /// In-scope questions whose best entry is right, ignoring the threshold.
    pub top1: f64,
    pub top1_by_kind: BTreeMap<String, f64>,
    /// In-scope questions answered (confidence ≥ threshold).
    pub answer_rate: f64,
    /// Of those answered, the share answered with the right entry.
    pub precision: f64,
    /// Out-of-scope, small talk and hand-off messages answered with some entry.
    pub false_answer_rate: f64,
    pub false_answer_by_kind: BTreeMap<String, f64>,
    /// In-scope questions answered correctly with no human: what the bot takes off agents.
    pub interception: f64,
    pub in_scope: usize,
    pub negatives: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

pub fn score(queries: &[LabelledQuery], preds: &[Prediction], threshold: f32) -> Metrics {
    let pairs: Vec<_> = queries.iter().zip(preds).collect();
    let ins: Vec<_> = pairs.iter().filter(|(q, _)| q.expect.is_some()).collect();
    let neg: Vec<_> = pairs.iter().filter(|(q, _)| q.expect.is_none()).collect();
    let right = |q: &LabelledQuery, p: &Prediction| p.entry.is_some() && p.entry == q.expect;
    let answered: Vec<_> = ins.iter().filter(|(_, p)| p.confidence >= threshold).collect();
    let mut kinds: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (q, p) in &ins {
        let k = kinds.entry(q.kind.clone()).or_default();
        k.0 += usize::from(right(q, p));
        k.1 += 1;
    }
    let mut false_kinds: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (q, p) in &neg {
        let k = false_kinds.entry(q.kind.clone()).or_default();
        k.0 += usize::from(p.confidence >= threshold);
        k.1 += 1;
    }
    let correct_answered = answered.iter().filter(|(q, p)| right(q, p)).count();
    Metrics {
        threshold,
        top1: ratio(ins.iter().filter(|(q, p)| right(q, p)).count(), ins.len()),
        top1_by_kind: kinds.into_iter().map(|(k, (a, b))| (k, ratio(a, b))).collect(),
        answer_rate: ratio(answered.len(), ins.len()),
        precision: ratio(correct_answered, answered.len()),
        false_answer_rate: ratio(neg.iter().filter(|(_, p)| p.confidence >= threshold).count(), neg.len()),
        false_answer_by_kind: false_kinds.into_iter().map(|(k, (a, b))| (k, ratio(a, b))).collect(),
        interception: ratio(correct_answered, ins.len()),
        in_scope: ins.len(),
        negatives: neg.len(),
    }
}

/// Calibration check: in-scope predictions bucketed by confidence, with the observed accuracy.
pub fn reliability(
    queries: &[LabelledQuery],
    preds: &[Prediction],
    bins: usize,
) -> Vec<(f32, f32, usize, f64)> {
    let mut out = vec![];
    for b in 0..bins {
        let (lo, hi) = (b as f32 / bins as f32, (b + 1) as f32 / bins as f32);
        let inside: Vec<_> = queries
            .iter()
            .zip(preds)
            .filter(|(q, p)| q.expect.is_some() && p.confidence >= lo && (p.confidence < hi || b + 1 == bins))
            .collect();
        let right = inside.iter().filter(|(q, p)| p.entry == q.expect).count();
        out.push((lo, hi, inside.len(), ratio(right, inside.len())));
    }
    out
}
