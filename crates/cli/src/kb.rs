//! `kefu kb …`: evaluating the bot on labelled questions and its skill-group routing on samples.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use kefu_bot::eval::{LabelledQuery, Metrics, predict, reliability, score};
use kefu_bot::{Analyzer, Matcher};
use kefu_domain::FaqEntry;

#[derive(Subcommand)]
pub enum KbCmd {
    /// Top-1 accuracy, answer rate, precision and false answers of the bot on labelled questions.
    Eval {
        /// Knowledge base, JSON lines: {"id","question","similar","answer","group"}.
        #[arg(long)]
        faq: PathBuf,
        /// Labelled questions, JSON lines: {"q","expect","kind"}.
        #[arg(long)]
        queries: PathBuf,
        #[arg(long, default_value_t = 0.82)]
        threshold: f32,
        /// Fail unless top-1 ≥ 0.85, precision ≥ 0.95 and false answers ≤ 0.05 at the threshold.
        #[arg(long)]
        check: bool,
        /// List every wrong top-1 and every false answer.
        #[arg(long)]
        errors: bool,
    },
    /// Skill-group routing accuracy on labelled samples, per group: keyword rules first, then
    /// the groups of the closest knowledge-base entries, as a new conversation is routed.
    Route {
        /// Knowledge base, JSON lines, whose entries name their group.
        #[arg(long)]
        faq: PathBuf,
        /// Labelled samples, JSON lines: {"q","group"}.
        #[arg(long)]
        samples: PathBuf,
        /// Keyword rules, a JSON object {"group": ["keyword", "re:pattern", …]} (optional).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// List every misrouted sample.
        #[arg(long)]
        errors: bool,
    },
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect()
}

fn pct(v: f64) -> String {
    format!("{:5.1}%", v * 100.0)
}

fn print_metrics(m: &Metrics) {
    println!("threshold            {:.2}", m.threshold);
    println!("top-1 accuracy       {}  ({} in-scope questions)", pct(m.top1), m.in_scope);
    for (k, v) in &m.top1_by_kind {
        println!("  {k:<18} {}", pct(*v));
    }
    println!("answer rate          {}", pct(m.answer_rate));
    println!("precision (answered) {}", pct(m.precision));
    println!(
        "false-answer rate    {}  ({} out-of-scope, small talk and hand-off messages)",
        pct(m.false_answer_rate),
        m.negatives
    );
    for (k, v) in &m.false_answer_by_kind {
        println!("  {k:<18} {}", pct(*v));
    }
    println!("interception rate    {}  (in-scope answered correctly without a human)", pct(m.interception));
}

pub fn run(cmd: KbCmd) -> anyhow::Result<()> {
    match cmd {
        KbCmd::Eval { faq, queries, threshold, check, errors } => {
            eval(&faq, &queries, threshold, check, errors)
        }
        KbCmd::Route { faq, samples, rules, errors } => route(&faq, &samples, rules.as_deref(), errors),
    }
}

fn route(faq: &Path, samples: &Path, rules: Option<&Path>, errors: bool) -> anyhow::Result<()> {
    use kefu_bot::groups::{RoutingSample, score, suggest};
    let entries: Vec<FaqEntry> = read_jsonl(faq)?;
    let samples: Vec<RoutingSample> = read_jsonl(samples)?;
    let rules: Vec<(String, Vec<String>)> = match rules {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)?;
            map.into_iter()
                .map(|(g, v)| Ok((g, serde_json::from_value(v)?)))
                .collect::<anyhow::Result<_>>()?
        }
        None => vec![],
    };
    let matcher = Matcher::build(Arc::new(Analyzer::default()), &entries);
    let predict = |q: &str| {
        let by_rule =
            rules.iter().find(|(_, ks)| ks.iter().any(|k| kefu_engine::routing::rule_matches(k, q)));
        by_rule.map(|(g, _)| g.clone()).or_else(|| suggest(&matcher, q).map(|g| g.0))
    };
    let s = score(&samples, predict);
    println!(
        "routing accuracy     {}  ({} samples, {} keyword groups)",
        pct(s.accuracy),
        s.samples,
        rules.len()
    );
    for (g, (right, n)) in &s.by_group {
        println!("  {g:<16} {}  ({right}/{n})", pct(*right as f64 / (*n).max(1) as f64));
    }
    if errors {
        println!("\nmisrouted: message, expected, predicted");
        for x in &samples {
            let got = predict(&x.q);
            if got.as_deref() != Some(x.group.as_str()) {
                println!("  {}  want {} got {:?}", x.q, x.group, got);
            }
        }
    }
    Ok(())
}

fn eval(faq: &Path, queries: &Path, threshold: f32, check: bool, errors: bool) -> anyhow::Result<()> {
    let entries: Vec<FaqEntry> = read_jsonl(faq)?;
    let queries: Vec<LabelledQuery> = read_jsonl(queries)?;
    let built = std::time::Instant::now();
    let matcher = Matcher::build(Arc::new(Analyzer::default()), &entries);
    println!("{} entries indexed and calibrated in {:?}\n", entries.len(), built.elapsed());
    let preds: Vec<_> = queries.iter().map(|q| predict(&matcher, &q.q)).collect();
    let m = score(&queries, &preds, threshold);
    print_metrics(&m);
    println!("\nsweep: threshold  answer-rate  precision  false-answers");
    for t in (10..=19).map(|i| i as f32 * 0.05) {
        let s = score(&queries, &preds, t);
        println!(
            "       {t:.2}       {}       {}     {}",
            pct(s.answer_rate),
            pct(s.precision),
            pct(s.false_answer_rate)
        );
    }
    println!("\nreliability (in-scope): confidence bin, questions, observed accuracy");
    for (lo, hi, n, acc) in reliability(&queries, &preds, 10) {
        if n > 0 {
            println!("       [{lo:.1}, {hi:.1})  {n:4}  {}", pct(acc));
        }
    }
    if errors {
        println!("\nerrors: kind, message, expected, predicted (confidence)");
        for (q, p) in queries.iter().zip(&preds) {
            let wrong_top1 = q.expect.is_some() && p.entry != q.expect;
            let false_answer = q.expect.is_none() && p.confidence >= threshold;
            if wrong_top1 || false_answer {
                println!(
                    "  {:<12} {}  want {:?} got {:?} ({:.2})",
                    q.kind, q.q, q.expect, p.entry, p.confidence
                );
            }
        }
    }
    if check && (m.top1 < 0.85 || m.precision < 0.95 || m.false_answer_rate > 0.05) {
        bail!("below the floors: top-1 ≥ 85%, precision ≥ 95%, false answers ≤ 5%");
    }
    Ok(())
}
