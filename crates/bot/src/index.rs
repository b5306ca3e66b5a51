//! An inverted index with BM25 over two fields: questions (standard and similar, each its own
//! document) and the answer, which counts for less but rescues questions worded like the answer.

use std::collections::HashMap;

use crate::analyzer::{Bag, Kind};

const K1: f32 = 1.2;
/// Length normalisation: FAQ questions are all short, so length says less than in prose.
const B: f32 = 0.6;
/// How much the answer field adds to an entry's question score.
const ANSWER_WEIGHT: f32 = 0.3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Question,
    Answer,
}

#[derive(Debug, Clone)]
struct Doc {
    entry: u32,
    field: Field,
    len: f32,
    /// Sum of weighted IDF of the document's distinct terms: what full coverage looks like.
    mass: f32,
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

#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    score: f32,
    matched: f32,
    words: f32,
}

/// The query's total weighted mass, overall and of its words.
#[derive(Debug, Default, Clone, Copy)]
struct Mass {
    all: f32,
    words: f32,
}

impl Mass {
    fn add(&mut self, w: f32, is_word: bool) {
        self.all += w;
        if is_word {
            self.words += w;
        }
    }
}

#[derive(Debug, Default)]
pub struct Index {
    terms: HashMap<String, u32>,
    /// Per term: kind weight × IDF.
    weight: Vec<f32>,
    postings: Vec<Vec<(u32, u32)>>,
    docs: Vec<Doc>,
    avg_len: [f32; 2],
    entries: usize,
}

fn field_slot(f: Field) -> usize {
    match f {
        Field::Question => 0,
        Field::Answer => 1,
    }
}

impl Index {
    /// Builds from `(entry, field, bag)` documents; entries are numbered 0..n.
    pub fn build(docs: Vec<(u32, Field, Bag)>) -> Index {
        let mut ix = Index::default();
        let mut bags = Vec::with_capacity(docs.len());
        let mut len_sum = [0f32; 2];
        let mut len_n = [0f32; 2];
        for (d, (entry, field, bag)) in docs.into_iter().enumerate() {
            let len: u32 = bag.values().sum();
            len_sum[field_slot(field)] += len as f32;
            len_n[field_slot(field)] += 1.0;
            ix.entries = ix.entries.max(entry as usize + 1);
            for (term, tf) in &bag {
                let next = ix.terms.len() as u32;
                let id = *ix.terms.entry(term.clone()).or_insert(next);
                if id as usize == ix.postings.len() {
                    ix.postings.push(vec![]);
                }
                ix.postings[id as usize].push((d as u32, *tf));
            }
            ix.docs.push(Doc { entry, field, len: len as f32, mass: 0.0 });
            bags.push(bag);
        }
        ix.avg_len = [len_sum[0] / len_n[0].max(1.0), len_sum[1] / len_n[1].max(1.0)];
        let n = ix.docs.len() as f32;
        ix.weight = vec![0.0; ix.terms.len()];
        for (term, id) in &ix.terms {
            let df = ix.postings[*id as usize].len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            ix.weight[*id as usize] = Kind::of(term).weight() * idf;
        }
        for (d, bag) in bags.iter().enumerate() {
            ix.docs[d].mass = bag.keys().map(|t| ix.weight[ix.terms[t] as usize]).sum();
        }
        ix
    }

    pub fn entry_count(&self) -> usize {
        self.entries
    }

    pub fn doc_count(&self) -> usize {
        self.docs.len()
    }

    /// The documents of one entry, for calibration.
    pub fn docs_of(&self, entry: u32) -> impl Iterator<Item = (u32, Field)> + '_ {
        self.docs.iter().enumerate().filter(move |(_, d)| d.entry == entry).map(|(i, d)| (i as u32, d.field))
    }

    /// The `k` best entries for `query`, best first.
    pub fn search(&self, query: &Bag, k: usize, exclude: Exclude) -> Vec<Scored> {
        let mut acc: HashMap<u32, Acc> = HashMap::new();
        // Terms no entry has still count toward what the query asks for, at the IDF of a term
        // seen nowhere: a query about something else matches a smaller share of itself.
        let unseen_idf = (1.0 + (self.docs.len() as f32 + 0.5) / 0.5).ln();
        let mut mass = Mass::default();
        for term in query.keys() {
            let is_word = Kind::of(term) == Kind::Word;
            let Some(&id) = self.terms.get(term) else {
                mass.add(Kind::of(term).weight() * unseen_idf, is_word);
                continue;
            };
            let w = self.weight[id as usize];
            mass.add(w, is_word);
            for &(d, tf) in &self.postings[id as usize] {
                let doc = &self.docs[d as usize];
                let norm = K1 * (1.0 - B + B * doc.len / self.avg_len[field_slot(doc.field)]);
                let tf = tf as f32;
                let e = acc.entry(d).or_default();
                e.score += w * tf * (K1 + 1.0) / (tf + norm);
                e.matched += w;
                if is_word {
                    e.words += w;
                }
            }
        }
        self.rank(acc, mass, k, exclude)
    }

    fn rank(&self, acc: HashMap<u32, Acc>, mass: Mass, k: usize, exclude: Exclude) -> Vec<Scored> {
        let mut best: HashMap<u32, Scored> = HashMap::new();
        let mut answer: HashMap<u32, Acc> = HashMap::new();
        for (d, a) in acc {
            let doc = &self.docs[d as usize];
            if exclude == Exclude::Doc(d) || exclude == Exclude::Entry(doc.entry) {
                continue;
            }
            if doc.field == Field::Answer {
                answer.insert(doc.entry, a);
                continue;
            }
            let s = Scored {
                entry: doc.entry,
                score: a.score,
                query_cov: a.matched / mass.all.max(1e-6),
                doc_cov: a.matched / doc.mass.max(1e-6),
                word_cov: a.words / mass.words.max(1e-6),
            };
            let slot = best.entry(doc.entry).or_insert(s);
            if s.score > slot.score {
                *slot = s;
            }
        }
        for (entry, a) in answer {
            let zero = Scored { entry, score: 0.0, query_cov: 0.0, doc_cov: 0.0, word_cov: 0.0 };
            let slot = best.entry(entry).or_insert(zero);
            slot.score += ANSWER_WEIGHT * a.score;
            // Words found only in the answer still belong to the entry's topic.
            slot.word_cov = slot.word_cov.max(a.words / mass.words.max(1e-6));
        }
        let mut out: Vec<Scored> = best.into_values().collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        out.truncate(k);
        out
    }
}
