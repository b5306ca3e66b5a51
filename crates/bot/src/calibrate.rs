//! Turning match scores into a calibrated confidence: P(the top entry is the right answer).
//!
//! No labelled data is needed. At build time the knowledge base quizzes itself:
//! - positives: each question, lightly corrupted (dropped characters, homophone swaps drawn
//!   from the base's own characters, polite fillers), must find its own entry; and each
//!   similar question must find its entry with that question held out;
//! - negatives: each question is asked with its whole entry held out, so whatever wins is
//!   wrong — these are hard negatives that share topic words, like real out-of-scope
//!   questions do.
//!
//! A logistic regression over five features (top score, margin to the runner-up, how much of
//! the query and of the matched question overlap, and how many of the query's words the entry
//! has) is fitted to these outcomes with equal class weight. `kefu kb eval` reports how well
//! this holds on real, labelled questions.

use std::collections::HashMap;

use pinyin::ToPinyin;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::index::Scored;
use crate::text::is_cjk;

pub const FEATURES: usize = 5;

/// Features of the top hit against the runner-up.
pub fn features(top: &Scored, next: Option<&Scored>) -> [f32; FEATURES] {
    let s2 = next.map(|n| n.score).unwrap_or(0.0);
    let margin = if top.score > 0.0 { (top.score - s2) / top.score } else { 0.0 };
    [top.score.ln_1p(), margin, top.query_cov.min(1.0), top.doc_cov.min(1.0), top.word_cov.min(1.0)]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibrator {
    pub bias: f32,
    pub weights: [f32; FEATURES],
    pub mean: [f32; FEATURES],
    pub scale: [f32; FEATURES],
}

impl Calibrator {
    /// Trusts nothing: for an empty base.
    pub fn untrained() -> Self {
        Calibrator { bias: -10.0, weights: [0.0; FEATURES], mean: [0.0; FEATURES], scale: [1.0; FEATURES] }
    }

    /// A hand-set prior for bases too small to quiz themselves: confident only when the
    /// question and the entry cover each other almost entirely and nothing else comes close.
    pub fn prior() -> Self {
        Calibrator {
            bias: -7.0,
            weights: [0.0, 2.0, 4.0, 4.0, 2.0],
            mean: [0.0; FEATURES],
            scale: [1.0; FEATURES],
        }
    }

    pub fn confidence(&self, x: &[f32; FEATURES]) -> f32 {
        let z: f32 = self.bias
            + (0..FEATURES).map(|i| self.weights[i] * (x[i] - self.mean[i]) / self.scale[i]).sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// Logistic regression by Newton's method with a small ridge penalty; positives and
    /// negatives weigh the same in total, whatever their counts.
    pub fn fit(samples: &[([f32; FEATURES], bool)]) -> Calibrator {
        let pos = samples.iter().filter(|s| s.1).count();
        let neg = samples.len() - pos;
        if pos < 5 || neg < 5 {
            return Calibrator::prior();
        }
        let n = samples.len() as f64;
        let mut mean = [0f64; FEATURES];
        let mut var = [0f64; FEATURES];
        for (x, _) in samples {
            for i in 0..FEATURES {
                mean[i] += f64::from(x[i]) / n;
            }
        }
        for (x, _) in samples {
            for i in 0..FEATURES {
                var[i] += (f64::from(x[i]) - mean[i]).powi(2) / n;
            }
        }
        let scale: Vec<f64> = var.iter().map(|v| v.sqrt().max(1e-6)).collect();
        let rows: Vec<([f64; FEATURES + 1], f64, f64)> = samples
            .iter()
            .map(|(x, y)| {
                let mut r = [1.0; FEATURES + 1];
                for i in 0..FEATURES {
                    r[i + 1] = (f64::from(x[i]) - mean[i]) / scale[i];
                }
                let weight = if *y { n / (2.0 * pos as f64) } else { n / (2.0 * neg as f64) };
                (r, if *y { 1.0 } else { 0.0 }, weight)
            })
            .collect();
        let w = newton(&rows);
        let f = |v: f64| v as f32;
        Calibrator {
            bias: f(w[0]),
            weights: std::array::from_fn(|i| f(w[i + 1])),
            mean: std::array::from_fn(|i| f(mean[i])),
            scale: std::array::from_fn(|i| f(scale[i])),
        }
    }
}

const DIM: usize = FEATURES + 1;
const RIDGE: f64 = 1e-2;

fn newton(rows: &[([f64; DIM], f64, f64)]) -> [f64; DIM] {
    let mut w = [0f64; DIM];
    for _ in 0..50 {
        let mut g = [0f64; DIM];
        let mut h = [[0f64; DIM]; DIM];
        for (x, y, sw) in rows {
            let z: f64 = (0..DIM).map(|i| w[i] * x[i]).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            for i in 0..DIM {
                g[i] += sw * (p - y) * x[i];
                for j in 0..DIM {
                    h[i][j] += sw * p * (1.0 - p) * x[i] * x[j];
                }
            }
        }
        for i in 0..DIM {
            g[i] += RIDGE * w[i];
            h[i][i] += RIDGE;
        }
        let step = solve(h, g);
        let mut moved = 0.0;
        for i in 0..DIM {
            w[i] -= step[i];
            moved += step[i].abs();
        }
        if moved < 1e-9 {
            break;
        }
    }
    w
}

/// Gaussian elimination with partial pivoting; the matrix is small and positive definite.
fn solve(mut a: [[f64; DIM]; DIM], mut b: [f64; DIM]) -> [f64; DIM] {
    for col in 0..DIM {
        let pivot = (col..DIM).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let d = if a[col][col].abs() < 1e-12 { 1e-12 } else { a[col][col] };
        let pivot_row = a[col];
        for row in col + 1..DIM {
            let f = a[row][col] / d;
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; DIM];
    for row in (0..DIM).rev() {
        let s: f64 = (row + 1..DIM).map(|k| a[row][k] * x[k]).sum();
        let d = if a[row][row].abs() < 1e-12 { 1e-12 } else { a[row][row] };
        x[row] = (b[row] - s) / d;
    }
    x
}

/// Makes realistic variants of a question: what customers actually type.
pub struct Corruptor {
    rng: StdRng,
    homophones: HashMap<&'static str, Vec<char>>,
}

const PREFIXES: &[&str] = &["请问", "你好，", "我想问一下", "麻烦问下", "", "", ""];
const SUFFIXES: &[&str] = &["", "", "？", "啊", "呢", "，谢谢", "，急"];

impl Corruptor {
    /// Homophones are drawn from the characters of `corpus` (the knowledge base itself).
    pub fn new<'a>(corpus: impl Iterator<Item = &'a str>, seed: u64) -> Self {
        let mut homophones: HashMap<&'static str, Vec<char>> = HashMap::new();
        for c in corpus.flat_map(str::chars).filter(|c| is_cjk(*c)) {
            if let Some(p) = c.to_pinyin() {
                let list = homophones.entry(p.plain()).or_default();
                if !list.contains(&c) {
                    list.push(c);
                }
            }
        }
        Corruptor { rng: StdRng::seed_from_u64(seed), homophones }
    }

    pub fn corrupt(&mut self, s: &str) -> String {
        let mut out = String::new();
        out.push_str(PREFIXES[self.rng.random_range(0..PREFIXES.len())]);
        for c in s.chars() {
            let r: f32 = self.rng.random();
            if r < 0.08 {
                continue;
            }
            if r < 0.16 && is_cjk(c) {
                let alts: Vec<char> = c
                    .to_pinyin()
                    .and_then(|p| self.homophones.get(p.plain()))
                    .map(|v| v.iter().copied().filter(|a| *a != c).collect())
                    .unwrap_or_default();
                if !alts.is_empty() {
                    out.push(alts[self.rng.random_range(0..alts.len())]);
                    continue;
                }
            }
            out.push(c);
        }
        out.push_str(SUFFIXES[self.rng.random_range(0..SUFFIXES.len())]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_separable_problem_gives_confident_and_doubtful_answers_where_expected() {
        let mut samples = vec![];
        for i in 0..50 {
            let v = i as f32 / 50.0;
            samples.push(([2.0 + v, 0.5 + v / 2.0, 0.8, 0.8, 0.9], true));
            samples.push(([0.5 + v, 0.05, 0.2, 0.2, 0.3], false));
        }
        let c = Calibrator::fit(&samples);
        assert!(c.confidence(&[3.0, 0.9, 0.9, 0.9, 0.9]) > 0.95);
        assert!(c.confidence(&[0.6, 0.05, 0.2, 0.2, 0.3]) < 0.05);
    }

    #[test]
    fn too_little_data_falls_back_to_a_cautious_prior() {
        let c = Calibrator::fit(&[([1.0; FEATURES], true)]);
        assert_eq!(c, Calibrator::prior());
        assert!(c.confidence(&[3.0, 1.0, 1.0, 1.0, 1.0]) > 0.95, "a perfect match");
        let partial = c.confidence(&[1.0, 0.3, 0.5, 0.5, 0.5]);
        assert!(partial > 0.05 && partial < 0.82, "worth suggesting, not answering: {partial}");
        assert!(c.confidence(&[0.0; FEATURES]) < 0.01);
    }

    #[test]
    fn corruption_is_deterministic_and_keeps_most_of_the_text() {
        let corpus = ["怎么更换套餐", "话费充值", "冲锋"];
        let mut a = Corruptor::new(corpus.iter().copied(), 7);
        let mut b = Corruptor::new(corpus.iter().copied(), 7);
        let x = a.corrupt("怎么更换套餐");
        assert_eq!(x, b.corrupt("怎么更换套餐"));
        assert!(x.chars().filter(|c| "怎么更换套餐".contains(*c)).count() >= 3, "{x}");
    }
}
