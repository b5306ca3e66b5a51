//! The matcher: an index over a knowledge base plus the confidence calibrated for that base.

use std::sync::Arc;

use kefu_domain::FaqEntry;
use serde::Serialize;

use crate::analyzer::Analyzer;
use crate::calibrate::{Calibrator, Corruptor, FEATURES, features};
use crate::index::{Exclude, Field, Index, Scored};

/// At most this many entries quiz the base during calibration, so building stays fast on
/// very large bases (the sample is spread evenly over the base).
const CALIBRATION_ENTRIES: usize = 400;

/// One candidate answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub entry_id: String,
    pub question: String,
    pub group: Option<String>,
    pub score: f32,
    /// Calibrated probability that this is the right entry.
    pub confidence: f32,
}

pub struct Matcher {
    analyzer: Arc<Analyzer>,
    index: Index,
    entries: Vec<FaqEntry>,
    calibrator: Calibrator,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher").field("entries", &self.entries.len()).finish_non_exhaustive()
    }
}

fn documents(analyzer: &Analyzer, entries: &[FaqEntry]) -> Vec<(u32, Field, crate::analyzer::Bag)> {
    let mut docs = vec![];
    for (i, e) in entries.iter().enumerate() {
        for q in e.questions() {
            docs.push((i as u32, Field::Question, analyzer.analyze(q)));
        }
        docs.push((i as u32, Field::Answer, analyzer.analyze(&e.answer)));
    }
    docs
}

impl Matcher {
    /// Indexes the enabled entries and calibrates confidence on the base itself.
    pub fn build(analyzer: Arc<Analyzer>, entries: &[FaqEntry]) -> Matcher {
        let entries: Vec<FaqEntry> = entries.iter().filter(|e| e.enabled).cloned().collect();
        let index = Index::build(documents(&analyzer, &entries));
        let mut m = Matcher { analyzer, index, entries, calibrator: Calibrator::untrained() };
        m.calibrator = Calibrator::fit(&m.self_quiz());
        m
    }

    pub fn entries(&self) -> &[FaqEntry] {
        &self.entries
    }

    pub fn calibrator(&self) -> &Calibrator {
        &self.calibrator
    }

    pub fn analyzer(&self) -> &Arc<Analyzer> {
        &self.analyzer
    }

    fn outcome(&self, text: &str, want: u32, exclude: Exclude) -> ([f32; FEATURES], bool) {
        let hits = self.index.search(&self.analyzer.analyze(text), 2, exclude);
        match hits.first() {
            Some(top) => (features(top, hits.get(1)), top.entry == want && exclude != Exclude::Entry(want)),
            None => ([0.0; FEATURES], false),
        }
    }

    /// The calibration data: see [`crate::calibrate`] for why these questions.
    fn self_quiz(&self) -> Vec<([f32; FEATURES], bool)> {
        let corpus =
            self.entries.iter().flat_map(|e| e.questions().chain(std::iter::once(e.answer.as_str())));
        let mut corruptor = Corruptor::new(corpus, 0x6b65_6675);
        let step = (self.entries.len() / CALIBRATION_ENTRIES).max(1);
        let mut samples = vec![];
        for i in (0..self.entries.len()).step_by(step) {
            let entry = i as u32;
            let questions: Vec<(u32, String)> = self
                .index
                .docs_of(entry)
                .filter(|(_, f)| *f == Field::Question)
                .map(|(d, _)| d)
                .zip(self.entries[i].questions().map(str::to_owned))
                .collect();
            for (doc, q) in &questions {
                for _ in 0..2 {
                    samples.push(self.outcome(&corruptor.corrupt(q), entry, Exclude::Nothing));
                }
                if questions.len() > 1 {
                    samples.push(self.outcome(q, entry, Exclude::Doc(*doc)));
                }
                samples.push(self.outcome(q, entry, Exclude::Entry(entry)));
                samples.push(self.outcome(&corruptor.corrupt(q), entry, Exclude::Entry(entry)));
            }
        }
        samples
    }

    /// The `k` best entries for `text`, with calibrated confidences, best first.
    pub fn search(&self, text: &str, k: usize) -> Vec<Hit> {
        let scored: Vec<Scored> =
            self.index.search(&self.analyzer.analyze(text), k.max(1) + 1, Exclude::Nothing);
        scored
            .iter()
            .take(k)
            .enumerate()
            .map(|(i, s)| {
                let e = &self.entries[s.entry as usize];
                Hit {
                    entry_id: e.id.clone(),
                    question: e.question.clone(),
                    group: e.group.clone(),
                    score: s.score,
                    confidence: self.calibrator.confidence(&features(s, scored.get(i + 1))),
                }
            })
            .collect()
    }

    pub fn entry(&self, id: &str) -> Option<&FaqEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}
