//! FAQ mining (冷启动): finds the questions customers keep asking in past human conversations,
//! pairs each with the answer agents consistently gave, and proposes them as FAQ candidates.
//!
//! 1. Each conversation's first substantive customer question (and any later message that is
//!    clearly a question) is paired with the agent's next reply. Greetings, thanks and bare
//!    numbers are skipped; digit runs (phones, tickets, orders) are masked.
//! 2. Pairs are clustered by the similarity of the question *and* of the answer: customers
//!    word the same problem many ways, but agents answer it much the same way each time.
//! 3. Clusters seen in enough different conversations become candidates; the most central
//!    question becomes the standard question, the others similar questions, and the most
//!    central answer without masked details the proposed answer.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::analyzer::{Analyzer, Kind};
use crate::intent::{Intent, detect};
use crate::text::normalize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Customer,
    Agent,
}

/// One message of a past conversation (the format of `faq-dev/chatlog.jsonl`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Turn {
    pub conversation: String,
    #[serde(rename = "from")]
    pub speaker: Speaker,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub question: String,
    pub similar: Vec<String>,
    pub answer: String,
    /// In how many different conversations the question came up.
    pub support: usize,
    pub conversations: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct MiningConfig {
    pub min_support: usize,
    /// Average-link similarity needed to merge two clusters.
    pub merge_at: f32,
    pub max_similar: usize,
}

impl Default for MiningConfig {
    fn default() -> Self {
        MiningConfig { min_support: 3, merge_at: 0.1, max_similar: 5 }
    }
}

#[derive(Debug, Clone)]
struct Pair {
    conversation: String,
    question: String,
    answer: String,
}

/// Replaces runs of 3+ digits, which are personal details (phones, tickets, orders).
pub fn mask_details(s: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in s.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 3 {
            out.push('#');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

fn substantive(s: &str) -> bool {
    let n = normalize(&mask_details(s)).chars().filter(|c| !c.is_whitespace() && *c != '#').count();
    n >= 4 && detect(s) == Intent::Question
}

fn looks_like_question(s: &str) -> bool {
    ["吗", "怎么", "如何", "能不能", "可以", "多久", "为什么", "什么", "哪", "?", "？", "咋"]
        .iter()
        .any(|m| s.contains(m))
}

/// The (question, answer) pairs of each conversation, in order.
fn pairs(turns: &[Turn]) -> Vec<Pair> {
    let mut by_conv: Vec<(String, Vec<&Turn>)> = vec![];
    for t in turns {
        match by_conv.last_mut() {
            Some((c, list)) if *c == t.conversation => list.push(t),
            _ => by_conv.push((t.conversation.clone(), vec![t])),
        }
    }
    let mut out = vec![];
    for (conv, list) in by_conv {
        let mut asked: Vec<String> = vec![];
        let mut first = true;
        for t in list {
            match t.speaker {
                Speaker::Customer if substantive(&t.text) => asked.push(mask_details(&t.text)),
                Speaker::Customer => {}
                Speaker::Agent if !asked.is_empty() => {
                    let question = asked.join("，");
                    if first || looks_like_question(&question) {
                        out.push(Pair { conversation: conv.clone(), question, answer: t.text.clone() });
                    }
                    first = false;
                    asked.clear();
                }
                Speaker::Agent => {}
            }
        }
    }
    out
}

type Vector = HashMap<String, f32>;

fn vectors(a: &Analyzer, texts: &[&str]) -> Vec<Vector> {
    let bags: Vec<_> = texts.iter().map(|t| a.analyze(t)).collect();
    let mut df: HashMap<&str, f32> = HashMap::new();
    for b in &bags {
        for t in b.keys() {
            *df.entry(t.as_str()).or_default() += 1.0;
        }
    }
    let n = bags.len() as f32;
    bags.iter()
        .map(|b| {
            let mut v: Vector = b
                .iter()
                .filter(|(t, _)| matches!(Kind::of(t), Kind::Word | Kind::Bigram))
                .map(|(t, tf)| (t.clone(), *tf as f32 * (1.0 + n / df[t.as_str()]).ln()))
                .collect();
            let norm = v.values().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            v.values_mut().for_each(|x| *x /= norm);
            v
        })
        .collect()
}

fn cos(a: &Vector, b: &Vector) -> f32 {
    let (small, big) = if a.len() < b.len() { (a, b) } else { (b, a) };
    small.iter().filter_map(|(t, x)| big.get(t).map(|y| x * y)).sum()
}

/// Average-link agglomerative clustering over a precomputed similarity matrix.
fn cluster(sim: &[Vec<f32>], merge_at: f32) -> Vec<Vec<usize>> {
    let mut clusters: Vec<Vec<usize>> = (0..sim.len()).map(|i| vec![i]).collect();
    loop {
        let mut best = (merge_at, None);
        for i in 0..clusters.len() {
            for j in i + 1..clusters.len() {
                let total: f32 =
                    clusters[i].iter().flat_map(|a| clusters[j].iter().map(move |b| sim[*a][*b])).sum();
                let avg = total / (clusters[i].len() * clusters[j].len()) as f32;
                if avg > best.0 {
                    best = (avg, Some((i, j)));
                }
            }
        }
        let Some((i, j)) = best.1 else { return clusters };
        let merged = clusters.remove(j);
        clusters[i].extend(merged);
    }
}

/// The member most similar to the others.
fn medoid(members: &[usize], sim: impl Fn(usize, usize) -> f32) -> usize {
    *members
        .iter()
        .max_by(|a, b| {
            let sa: f32 = members.iter().map(|m| sim(**a, *m)).sum();
            let sb: f32 = members.iter().map(|m| sim(**b, *m)).sum();
            sa.total_cmp(&sb)
        })
        .unwrap_or(&members[0])
}

pub fn mine(a: &Analyzer, turns: &[Turn], cfg: &MiningConfig) -> Vec<Candidate> {
    let pairs = pairs(turns);
    let qv = vectors(a, &pairs.iter().map(|p| p.question.as_str()).collect::<Vec<_>>());
    let av = vectors(a, &pairs.iter().map(|p| p.answer.as_str()).collect::<Vec<_>>());
    let n = pairs.len();
    let sim: Vec<Vec<f32>> = (0..n)
        .map(|i| (0..n).map(|j| 0.4 * cos(&qv[i], &qv[j]) + 0.6 * cos(&av[i], &av[j])).collect())
        .collect();
    let mut out: Vec<Candidate> = cluster(&sim, cfg.merge_at)
        .into_iter()
        .filter_map(|members| candidate(&pairs, &members, &qv, &av, cfg))
        .collect();
    out.sort_by(|x, y| y.support.cmp(&x.support).then(x.question.cmp(&y.question)));
    out
}

fn candidate(
    pairs: &[Pair],
    members: &[usize],
    qv: &[Vector],
    av: &[Vector],
    cfg: &MiningConfig,
) -> Option<Candidate> {
    let convs: BTreeSet<&str> = members.iter().map(|m| pairs[*m].conversation.as_str()).collect();
    if convs.len() < cfg.min_support {
        return None;
    }
    let q = medoid(members, |x, y| cos(&qv[x], &qv[y]));
    let clean: Vec<usize> =
        members.iter().copied().filter(|m| !pairs[*m].answer.chars().any(|c| c.is_ascii_digit())).collect();
    let a = medoid(if clean.is_empty() { members } else { &clean }, |x, y| cos(&av[x], &av[y]));
    let mut similar: Vec<String> = vec![];
    for m in members.iter().filter(|m| **m != q) {
        let s = &pairs[*m].question;
        if similar.len() < cfg.max_similar && !similar.contains(s) && *s != pairs[q].question {
            similar.push(s.clone());
        }
    }
    Some(Candidate {
        question: pairs[q].question.clone(),
        similar,
        answer: mask_details(&pairs[a].answer),
        support: convs.len(),
        conversations: convs.into_iter().map(str::to_owned).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(c: &str, s: Speaker, t: &str) -> Turn {
        Turn { conversation: c.into(), speaker: s, text: t.into() }
    }

    #[test]
    fn personal_details_are_masked() {
        assert_eq!(
            mask_details("号码13800000012，工单GD20260501017，欠费23.5元"),
            "号码#，工单GD#，欠费23.5元"
        );
    }

    #[test]
    fn a_recurring_question_with_a_consistent_answer_becomes_a_candidate() {
        use Speaker::*;
        let mut turns = vec![];
        let asks = ["发票怎么开", "我要开个发票", "怎么开电子发票啊", "能开发票吗 急用"];
        for (i, q) in asks.iter().enumerate() {
            let c = format!("c{i}");
            turns.push(turn(&c, Customer, "你好"));
            turns.push(turn(&c, Customer, q));
            turns.push(turn(&c, Agent, "您好，在订单详情里点“申请发票”，电子发票会发到您的邮箱。"));
            turns.push(turn(&c, Customer, "好的 谢谢"));
        }
        turns.push(turn("x", Customer, "空调怎么清洗滤网"));
        turns.push(turn("x", Agent, "取下面板，把滤网用清水冲洗晾干即可。"));
        let got = mine(&Analyzer::default(), &turns, &MiningConfig::default());
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].support, 4);
        assert!(got[0].answer.contains("申请发票"));
        assert_eq!(got[0].similar.len(), 3);
    }
}
