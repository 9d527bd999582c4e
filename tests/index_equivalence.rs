//! The selection index must never change an answer: on generated accounts, including every
//! ambiguous and degenerate construct, the indexed verdict equals the plain one (every
//! selection checked) for every table: compliance, covering set and reason.

use crate::util::synth::{generate, SynthConfig};
use dynamodb_backup_rule::coverage::{evaluate_table, evaluate_table_plain, CatalogIndex};
use dynamodb_backup_rule::model::Snapshot;

fn snapshot(cfg: SynthConfig) -> Snapshot {
    let file = generate(cfg);
    Snapshot::try_from(file).expect("generated snapshots are valid")
}

fn assert_equivalent(cfg: SynthConfig) -> (usize, usize) {
    let snap = snapshot(cfg);
    let mut compliant = 0;
    let mut tables = 0;
    for region in &snap.regions {
        let index = CatalogIndex::new(&region.catalog);
        for table in &region.tables {
            let fast = evaluate_table(table, &index);
            let plain = evaluate_table_plain(table, &index);
            assert_eq!(fast, plain, "seed {} table {}", cfg.seed, table.name);
            tables += 1;
            compliant += usize::from(!fast.covered_by.is_empty());
        }
    }
    (tables, compliant)
}

#[test]
fn indexed_verdicts_equal_plain_verdicts_on_adversarial_accounts() {
    // GIVEN 40 generated accounts with every ambiguous construct mixed in
    // WHEN each table is evaluated with and without the index
    // THEN the verdicts, covering sets and reasons are identical
    let mut compliant = 0;
    let mut total = 0;
    for seed in 0..40 {
        let (t, c) = assert_equivalent(SynthConfig {
            tables: 150,
            selections: 120,
            seed,
            adversarial: true,
        });
        total += t;
        compliant += c;
    }
    // The data must exercise both outcomes, or the comparison proves little.
    assert!(
        compliant > total / 10 && compliant < total * 9 / 10,
        "{compliant} of {total} compliant"
    );
}

#[test]
fn indexed_verdicts_equal_plain_verdicts_on_the_benchmark_mix() {
    let (tables, compliant) = assert_equivalent(SynthConfig {
        tables: 2_000,
        selections: 1_000,
        seed: 7,
        adversarial: false,
    });
    assert!(compliant > 0 && compliant < tables);
}
