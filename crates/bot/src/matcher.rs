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

/// A calibration question: `text` should find entry `want` unless `exclude` hides it.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub text: String,
    pub want: u32,
    pub exclude: Exclude,
}

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
    let analyze = |offset: usize, chunk: &[FaqEntry]| {
        let mut docs = vec![];
        for (i, e) in chunk.iter().enumerate() {
            let entry = (offset + i) as u32;
            for q in e.questions() {
                docs.push((entry, Field::Question, analyzer.analyze(q)));
            }
            docs.push((entry, Field::Answer, analyzer.analyze(&e.answer)));
        }
        docs
    };
    // Segmenting is the slow part of building a large base; spread it over the cores.
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    if entries.len() < 2_000 || threads == 1 {
        return analyze(0, entries);
    }
    let size = entries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .chunks(size)
            .enumerate()
            .map(|(i, c)| scope.spawn(move || analyze(i * size, c)))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
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

    fn outcome(&self, p: &Probe) -> ([f32; FEATURES], bool) {
        let hits = self.index.search(&self.analyzer.analyze(&p.text), 2, p.exclude);
        match hits.first() {
            Some(top) => {
                (features(top, hits.get(1)), top.entry == p.want && p.exclude != Exclude::Entry(p.want))
            }
            None => ([0.0; FEATURES], false),
        }
    }

    /// The calibration questions: see [`crate::calibrate`] for why these.
    pub(crate) fn probes(&self) -> Vec<Probe> {
        let corpus =
            self.entries.iter().flat_map(|e| e.questions().chain(std::iter::once(e.answer.as_str())));
        let mut corruptor = Corruptor::new(corpus, 0x6b65_6675);
        let step = (self.entries.len() / CALIBRATION_ENTRIES).max(1);
        let mut probes = vec![];
        for i in (0..self.entries.len()).step_by(step) {
            let want = i as u32;
            let questions: Vec<(u32, String)> = self
                .index
                .docs_of(want)
                .filter(|(_, f)| *f == Field::Question)
                .map(|(d, _)| d)
                .zip(self.entries[i].questions().map(str::to_owned))
                .collect();
            let mut probe = |text: String, exclude| probes.push(Probe { text, want, exclude });
            for (doc, q) in &questions {
                for _ in 0..2 {
                    probe(corruptor.corrupt(q), Exclude::Nothing);
                }
                if questions.len() > 1 {
                    probe(q.clone(), Exclude::Doc(*doc));
                }
                probe(q.clone(), Exclude::Entry(want));
                probe(corruptor.corrupt(q), Exclude::Entry(want));
            }
        }
        probes
    }

    fn self_quiz(&self) -> Vec<([f32; FEATURES], bool)> {
        self.probes().iter().map(|p| self.outcome(p)).collect()
    }

    /// Raw scores of the best entries (for fusion with other signals).
    pub(crate) fn scored(&self, text: &str, k: usize, exclude: Exclude) -> Vec<Scored> {
        self.index.search(&self.analyzer.analyze(text), k, exclude)
    }

    /// (entry, document, text) of every question, standard and similar.
    pub(crate) fn question_docs(&self) -> Vec<(u32, u32, String)> {
        let mut out = vec![];
        for (i, e) in self.entries.iter().enumerate() {
            let docs = self
                .index
                .docs_of(i as u32)
                .filter(|(_, f)| crate::semantic::is_question(*f))
                .map(|(d, _)| d);
            out.extend(docs.zip(e.questions()).map(|(d, q)| (i as u32, d, q.to_owned())));
        }
        out
    }

    pub(crate) fn hit(&self, entry: u32, score: f32, confidence: f32) -> Hit {
        let e = &self.entries[entry as usize];
        Hit {
            entry_id: e.id.clone(),
            question: e.question.clone(),
            group: e.group.clone(),
            score,
            confidence,
        }
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
                self.hit(s.entry, s.score, self.calibrator.confidence(&features(s, scored.get(i + 1))))
            })
            .collect()
    }

    pub fn entry(&self, id: &str) -> Option<&FaqEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}
