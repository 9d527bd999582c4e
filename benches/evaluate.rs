//! Criterion benchmarks of the offline path: parsing the snapshot, deciding every table
//! (indexed and, for scale, plain), and the whole `evaluate --format json` pipeline, on the
//! project's benchmark accounts (`gen_snapshot.py 10000 1000 5` and `10000 10000 5`, where every
//! table is mentioned by a fifth of the selections) and on our own generator's.
//! `scripts/bench-evaluate.sh` measures the real binary end to end.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dynamodb_backup_rule::coverage::{evaluate_table_plain, CatalogIndex};
#[path = "shared_gen.rs"]
mod shared_gen;
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
    let mut accounts: Vec<(String, String)> = Vec::new();
    for selections in ["1000", "10000"] {
        match shared_gen::shared_account_json(&["10000", selections, "5"]) {
            Some(json) => accounts.push((format!("gen_snapshot.py-{selections}"), json)),
            None => println!("gen_snapshot.py: python3 is not here; skipped"),
        }
    }
    for selections in [100, 1_000, 10_000] {
        accounts.push((selections.to_string(), snapshot_json(10_000, selections)));
    }
    for (selections, json) in accounts {
        let snap = snapshot::parse(&json).expect("valid");
        g.bench_with_input(BenchmarkId::new("parse", &selections), &json, |b, json| {
            b.iter(|| snapshot::parse(black_box(json)).expect("valid"))
        });
        g.bench_with_input(
            BenchmarkId::new("evaluate-indexed", &selections),
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
            BenchmarkId::new("end-to-end-json", &selections),
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
