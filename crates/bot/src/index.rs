//! An inverted index with BM25 over two fields: questions (standard and similar, each its own
//! document) and the answer, which counts for less but rescues questions worded like the answer.
//!
//! Search is two-phase so it stays fast on large bases: the query's selective terms (those in
//! few documents) find candidates by accumulating precomputed BM25 impacts into a dense
//! buffer; then the best candidates are rescored exactly with every query term, which also
//! gives the coverage features the calibration needs.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::analyzer::{Bag, Kind};

const K1: f32 = 1.2;
/// Length normalisation: FAQ questions are all short, so length says less than in prose.
const B: f32 = 0.6;
/// How much the answer field adds to an entry's question score.
const ANSWER_WEIGHT: f32 = 0.3;
/// Terms in more documents than this do not generate candidates (they still score them).
const SELECTIVE_DOCS: usize = 2_000;
/// Candidate documents rescored exactly.
const RESCORE: usize = 96;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Question,
    Answer,
}

#[derive(Debug, Clone)]
struct Doc {
    entry: u32,
    field: Field,
    /// Sum of weighted IDF of the document's distinct terms: what full coverage looks like.
    mass: f32,
    /// (term, BM25 impact) sorted by term, for exact rescoring.
    terms: Vec<(u32, f32)>,
}

/// Documents left out of one search, for building calibration data without rebuilding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclude {
    Nothing,
    Doc(u32),
    Entry(u32),
}

/// One entry's result for a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub entry: u32,
    pub score: f32,
    /// Share of the query's weighted terms found in the best-matching question.
    pub query_cov: f32,
    /// Share of that question's weighted terms found in the query.
    pub doc_cov: f32,
    /// Share of the query's words (not characters or pinyin) found in the entry: a question
    /// about something else keeps its own words unmatched even when the topic words match.
    pub word_cov: f32,
}

/// A query's terms resolved against the index.
struct Query {
    /// (term, weight, is a word)
    known: Vec<(u32, f32, bool)>,
    mass: f32,
    word_mass: f32,
}

/// Reusable per-search buffers, so a search allocates nothing proportional to the base.
#[derive(Default)]
struct Scratch {
    acc: Vec<f32>,
    touched: Vec<u32>,
}

#[derive(Default)]
pub struct Index {
    terms: HashMap<String, u32>,
    /// Per term: kind weight × IDF.
    weight: Vec<f32>,
    postings: Vec<Vec<(u32, f32)>>,
    docs: Vec<Doc>,
    /// Per entry: its answer document.
    answer_doc: Vec<Option<u32>>,
    scratch: Mutex<Vec<Scratch>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("docs", &self.docs.len()).field("terms", &self.terms.len()).finish()
    }
}

fn slot(f: Field) -> usize {
    match f {
        Field::Question => 0,
        Field::Answer => 1,
    }
}

impl Index {
    /// Builds from `(entry, field, bag)` documents; entries are numbered 0..n.
    pub fn build(docs: Vec<(u32, Field, Bag)>) -> Index {
        let mut ix = Index::default();
        let mut len_sum = [0f32; 2];
        let mut len_n = [0f32; 2];
        let mut df: Vec<u32> = vec![];
        let mut doc_terms: Vec<Vec<(u32, u32)>> = Vec::with_capacity(docs.len());
        for (entry, field, bag) in &docs {
            len_sum[slot(*field)] += bag.values().sum::<u32>() as f32;
            len_n[slot(*field)] += 1.0;
            let mut terms = Vec::with_capacity(bag.len());
            for (term, tf) in bag {
                let next = ix.terms.len() as u32;
                let id = *ix.terms.entry(term.clone()).or_insert(next);
                if id as usize == df.len() {
                    df.push(0);
                }
                df[id as usize] += 1;
                terms.push((id, *tf));
            }
            ix.docs.push(Doc { entry: *entry, field: *field, mass: 0.0, terms: vec![] });
            doc_terms.push(terms);
        }
        let n = docs.len() as f32;
        let avg = [len_sum[0] / len_n[0].max(1.0), len_sum[1] / len_n[1].max(1.0)];
        ix.weight = vec![0.0; ix.terms.len()];
        for (term, id) in &ix.terms {
            let d = df[*id as usize] as f32;
            ix.weight[*id as usize] = Kind::of(term).weight() * (1.0 + (n - d + 0.5) / (d + 0.5)).ln();
        }
        ix.postings = vec![vec![]; ix.terms.len()];
        for (d, terms) in doc_terms.into_iter().enumerate() {
            let field = ix.docs[d].field;
            let len: u32 = terms.iter().map(|t| t.1).sum();
            let norm = K1 * (1.0 - B + B * len as f32 / avg[slot(field)]);
            let mut impacts: Vec<(u32, f32)> = terms
                .iter()
                .map(|&(id, tf)| (id, ix.weight[id as usize] * tf as f32 * (K1 + 1.0) / (tf as f32 + norm)))
                .collect();
            impacts.sort_unstable_by_key(|t| t.0);
            for &(id, impact) in &impacts {
                ix.postings[id as usize].push((d as u32, impact));
            }
            ix.docs[d].mass = terms.iter().map(|t| ix.weight[t.0 as usize]).sum();
            ix.docs[d].terms = impacts;
            let e = ix.docs[d].entry as usize;
            if ix.answer_doc.len() <= e {
                ix.answer_doc.resize(e + 1, None);
            }
            if field == Field::Answer {
                ix.answer_doc[e] = Some(d as u32);
            }
        }
        ix
    }

    pub fn entry_count(&self) -> usize {
        self.answer_doc.len()
    }

    pub fn doc_count(&self) -> usize {
        self.docs.len()
    }

    /// The documents of one entry, for calibration.
    pub fn docs_of(&self, entry: u32) -> impl Iterator<Item = (u32, Field)> + '_ {
        self.docs.iter().enumerate().filter(move |(_, d)| d.entry == entry).map(|(i, d)| (i as u32, d.field))
    }

    fn resolve(&self, bag: &Bag) -> Query {
        // Terms no entry has still count toward what the query asks for, at the IDF of a term
        // seen nowhere: a query about something else matches a smaller share of itself.
        let unseen_idf = (1.0 + (self.docs.len() as f32 + 0.5) / 0.5).ln();
        let mut q = Query { known: vec![], mass: 0.0, word_mass: 0.0 };
        for term in bag.keys() {
            let is_word = Kind::of(term) == Kind::Word;
            let w = match self.terms.get(term) {
                Some(&id) => {
                    let w = self.weight[id as usize];
                    q.known.push((id, w, is_word));
                    w
                }
                None => Kind::of(term).weight() * unseen_idf,
            };
            q.mass += w;
            if is_word {
                q.word_mass += w;
            }
        }
        q
    }

    /// Candidate documents from the query's selective terms (all terms if none is selective).
    fn candidates(&self, q: &Query, exclude: Exclude) -> Vec<u32> {
        let mut s = self.scratch.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
        s.acc.resize(self.docs.len(), 0.0);
        let limit = SELECTIVE_DOCS.max(self.docs.len() / 20);
        let selective = q.known.iter().any(|t| self.postings[t.0 as usize].len() <= limit);
        for &(id, _, _) in &q.known {
            let list = &self.postings[id as usize];
            if selective && list.len() > limit {
                continue;
            }
            for &(d, impact) in list {
                if s.acc[d as usize] == 0.0 {
                    s.touched.push(d);
                }
                s.acc[d as usize] += impact;
            }
        }
        let mut cands: Vec<u32> = s
            .touched
            .iter()
            .copied()
            .filter(|&d| match exclude {
                Exclude::Doc(x) => d != x,
                Exclude::Entry(e) => self.docs[d as usize].entry != e,
                Exclude::Nothing => true,
            })
            .collect();
        if cands.len() > RESCORE {
            cands.select_nth_unstable_by(RESCORE, |a, b| s.acc[*b as usize].total_cmp(&s.acc[*a as usize]));
            cands.truncate(RESCORE);
        }
        for &d in &s.touched {
            s.acc[d as usize] = 0.0;
        }
        s.touched.clear();
        self.scratch.lock().unwrap_or_else(|p| p.into_inner()).push(s);
        cands
    }

    /// Exact score and matched masses of one document for the query.
    fn rescore(&self, q: &Query, d: u32) -> (f32, f32, f32) {
        let terms = &self.docs[d as usize].terms;
        let (mut score, mut matched, mut words) = (0.0, 0.0, 0.0);
        for &(id, w, is_word) in &q.known {
            if let Ok(i) = terms.binary_search_by_key(&id, |t| t.0) {
                score += terms[i].1;
                matched += w;
                if is_word {
                    words += w;
                }
            }
        }
        (score, matched, words)
    }

    /// The `k` best entries for `query`, best first.
    pub fn search(&self, query: &Bag, k: usize, exclude: Exclude) -> Vec<Scored> {
        let q = self.resolve(query);
        let mut best: HashMap<u32, Scored> = HashMap::new();
        for d in self.candidates(&q, exclude) {
            let doc = &self.docs[d as usize];
            let (score, matched, words) = self.rescore(&q, d);
            let s = match doc.field {
                Field::Question => Scored {
                    entry: doc.entry,
                    score,
                    query_cov: matched / q.mass.max(1e-6),
                    doc_cov: matched / doc.mass.max(1e-6),
                    word_cov: words / q.word_mass.max(1e-6),
                },
                // An entry found only through its answer: its questions add nothing.
                Field::Answer => {
                    Scored { entry: doc.entry, score: 0.0, query_cov: 0.0, doc_cov: 0.0, word_cov: 0.0 }
                }
            };
            let slot = best.entry(doc.entry).or_insert(s);
            if s.score > slot.score {
                *slot = s;
            }
        }
        for s in best.values_mut() {
            let answer = self.answer_doc.get(s.entry as usize).copied().flatten();
            if let Some(a) =
                answer.filter(|a| exclude != Exclude::Entry(s.entry) && exclude != Exclude::Doc(*a))
            {
                let (score, _, words) = self.rescore(&q, a);
                s.score += ANSWER_WEIGHT * score;
                // Words found only in the answer still belong to the entry's topic.
                s.word_cov = s.word_cov.max(words / q.word_mass.max(1e-6));
            }
        }
        let mut out: Vec<Scored> = best.into_values().filter(|s| s.score > 0.0).collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        out.truncate(k);
        out
    }
}
