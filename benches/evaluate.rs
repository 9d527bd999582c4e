//! Criterion benchmarks of the offline path on generated accounts: parsing the snapshot,
//! deciding every table (indexed and, for scale, plain), and the whole `evaluate --format json`
//! pipeline. `scripts/bench-evaluate.sh` measures the real binary end to end.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dynamodb_backup_rule::coverage::{evaluate_table_plain, CatalogIndex};
#[path = "../tests/util/synth.rs"]
mod synth;

use dynamodb_backup_rule::{report, rule, snapshot};
use std::hint::black_box;
use std::time::Duration;
use synth::{generate, SynthConfig};

fn snapshot_json(tables: usize, selections: usize) -> String {
    serde_json::to_string(&generate(SynthConfig {
        tables,
        selections,
        seed: 1,
        adversarial: false,
    }))
    .expect("serializable")
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("10k-tables");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    for selections in [100, 1_000, 10_000] {
        let json = snapshot_json(10_000, selections);
        let snap = snapshot::parse(&json).expect("valid");
        g.bench_with_input(BenchmarkId::new("parse", selections), &json, |b, json| {
            b.iter(|| snapshot::parse(black_box(json)).expect("valid"))
        });
        g.bench_with_input(
            BenchmarkId::new("evaluate-indexed", selections),
            &snap,
            |b, snap| {
                b.iter(|| {
                    rule::evaluate_snapshot(
                        black_box(snap),
                        &Default::default(),
                        chrono::Utc::now(),
                    )
                    .len()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("end-to-end-json", selections),
            &json,
            |b, json| {
                b.iter(|| {
                    let snap = snapshot::parse(black_box(json)).expect("valid");
                    let evaluations =
                        rule::evaluate_snapshot(&snap, &Default::default(), chrono::Utc::now());
                    let mut out = Vec::with_capacity(8 << 20);
                    report::write_evaluations_json(&mut out, &evaluations).expect("write");
                    out.len()
                })
            },
        );
    }
    // The plain semantics (every selection for every table) on a smaller account, to show what
    // the index saves; at 10k x 1k it would take seconds per iteration.
    let json = snapshot_json(1_000, 1_000);
    let snap = snapshot::parse(&json).expect("valid");
    g.bench_function("evaluate-plain/1k-tables-1000", |b| {
        b.iter(|| {
            let region = &snap.regions[0];
            let index = CatalogIndex::new(&region.catalog);
            region
                .tables
                .iter()
                .map(|t| evaluate_table_plain(black_box(t), &index).covered_by.len())
                .sum::<usize>()
        })
    });
    g.bench_function("evaluate-indexed/1k-tables-1000", |b| {
        b.iter(|| {
            rule::evaluate_snapshot(black_box(&snap), &Default::default(), chrono::Utc::now()).len()
        })
    });
    g.finish();
}

criterion_group!(evaluate, benches);
criterion_main!(evaluate);
