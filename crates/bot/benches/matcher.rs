//! Criterion benchmarks of the matcher: search at 1k/10k/100k entries and index build time.
//! Percentiles (p50/p99) come from `cargo run --release -p kefu-bot --example latency`.

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kefu_bot::synth::{knowledge_base, queries};
use kefu_bot::{Analyzer, Matcher};

fn search(c: &mut Criterion) {
    let analyzer = Arc::new(Analyzer::default());
    let qs = queries(256, 3);
    let mut g = c.benchmark_group("search");
    g.sample_size(30);
    g.bench_function("analyze_only_baseline", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % qs.len();
            analyzer.analyze(&qs[i])
        })
    });
    for n in [1_000usize, 10_000, 100_000] {
        let m = Matcher::build(analyzer.clone(), &knowledge_base(n, 42));
        g.bench_with_input(BenchmarkId::from_parameter(n), &m, |b, m| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % qs.len();
                m.search(&qs[i], 3)
            })
        });
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let analyzer = Arc::new(Analyzer::default());
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    for n in [1_000usize, 10_000] {
        let kb = knowledge_base(n, 42);
        g.bench_with_input(BenchmarkId::from_parameter(n), &kb, |b, kb| {
            b.iter(|| Matcher::build(analyzer.clone(), kb))
        });
    }
    g.finish();
}

criterion_group!(benches, search, build);
criterion_main!(benches);
