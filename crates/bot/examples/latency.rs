//! Match latency percentiles and build time at 1k, 10k and 100k entries, with the cost of
//! analysing a query (segmentation, pinyin) as the in-run baseline.
//!
//! cargo run --release -p kefu-bot --example latency [sizes…]

use std::sync::Arc;
use std::time::{Duration, Instant};

use kefu_bot::synth::{knowledge_base, queries};
use kefu_bot::{Analyzer, Matcher};

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 10_000, 100_000] } else { sizes };
    let analyzer = Arc::new(Analyzer::default());
    let qs = queries(2_000, 7);
    let analysis: Vec<Duration> = qs
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(analyzer.analyze(q));
            t.elapsed()
        })
        .collect();
    let base = pct(analysis, 0.5);
    println!("baseline: analysing a query, p50 {:.1} µs", us(base));
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "entries", "build", "p50 µs", "p99 µs", "p50/base", "p99/base"
    );
    for n in sizes {
        let kb = knowledge_base(n, 42);
        let t = Instant::now();
        let m = Matcher::build(analyzer.clone(), &kb);
        let build = t.elapsed();
        let lat: Vec<Duration> = qs
            .iter()
            .map(|q| {
                let t = Instant::now();
                std::hint::black_box(m.search(q, 3));
                t.elapsed()
            })
            .collect();
        let (p50, p99) = (pct(lat.clone(), 0.5), pct(lat, 0.99));
        println!(
            "{:>8} {:>9.2}s {:>10.1} {:>10.1} {:>11.1}x {:>11.1}x",
            n,
            build.as_secs_f64(),
            us(p50),
            us(p99),
            us(p50) / us(base),
            us(p99) / us(base)
        );
    }
}
