//! The offline evaluator: a snapshot's Regions, table by table (`evaluate`), and one table
//! selection by selection (`explain`). Recovery point ages are measured from the snapshot's
//! capture time, or from `now` when it has none.

use super::{decide, Decision};
use crate::coverage::{self, policy, CatalogIndex, Verdict};
use crate::error::Error;
use crate::model::{RegionSnapshot, Snapshot, Table};
use crate::params::RuleParameters;
use chrono::{DateTime, Utc};

/// One table's verdict, with where it was found.
#[derive(Debug)]
pub struct TableEvaluation<'a> {
    /// The Region the table is in.
    pub region: &'a str,
    /// The table.
    pub table: &'a Table,
    /// Its verdict.
    pub verdict: Verdict,
}

/// Below this many tables a Region is decided on one thread; spawning costs more than it saves.
const PARALLEL_MIN_TABLES: usize = 2_000;

/// Evaluates every table of the snapshot, Region by Region in file order, under the rule
/// parameters (scope, exemption and policy).
///
/// Tables are independent once the Region's index is built, so large Regions are split across
/// the available cores; the output order is the snapshot's order either way.
pub fn evaluate_snapshot<'a>(
    snapshot: &'a Snapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Vec<TableEvaluation<'a>> {
    let now = snapshot.captured_at.unwrap_or(now);
    let mut out = Vec::with_capacity(snapshot.regions.iter().map(|r| r.tables.len()).sum());
    for region in &snapshot.regions {
        let index = CatalogIndex::new(&region.catalog);
        let verdicts = evaluate_region(region, &index, params, now);
        out.extend(
            region
                .tables
                .iter()
                .zip(verdicts)
                .map(|(table, verdict)| TableEvaluation {
                    region: &region.catalog.region,
                    table,
                    verdict,
                }),
        );
    }
    out
}

/// Every table's verdict in one Region, in table order. Tables are independent once the
/// Region's index is built, so a large Region is split across the available cores.
pub fn evaluate_region(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Vec<Verdict> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let decide_one = |t: &Table| verdict_in_snapshot(region, index, params, now, t);
    let decide = |tables: &'_ [Table]| -> Vec<Verdict> { tables.iter().map(decide_one).collect() };
    if threads < 2 || region.tables.len() < PARALLEL_MIN_TABLES {
        return decide(&region.tables);
    }
    let chunk = region.tables.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = region
            .tables
            .chunks(chunk)
            .map(|part| scope.spawn(|| decide(part)))
            .collect();
        handles
            .into_iter()
            // A worker can only fail by panicking; re-raise it rather than lose tables.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// [`decide`] with the snapshot's recovery points.
pub fn verdict_in_snapshot(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
) -> Verdict {
    let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
    decide(params, table, index).finish(params, &region.catalog, points, now)
}

/// Finds a table by ARN, or by name when the name is unique across Regions.
pub fn find_table<'a>(
    snapshot: &'a Snapshot,
    name_or_arn: &str,
) -> Result<(&'a RegionSnapshot, &'a Table), Error> {
    let hits: Vec<_> = snapshot
        .regions
        .iter()
        .flat_map(|r| r.tables.iter().map(move |t| (r, t)))
        .filter(|(_, t)| t.arn.arn == name_or_arn || t.name == name_or_arn)
        .collect();
    match hits.as_slice() {
        [] => Err(Error::TableNotFound {
            table: name_or_arn.to_string(),
            close: close_names(snapshot, name_or_arn),
        }),
        [one] => Ok(*one),
        many => Err(Error::AmbiguousTable {
            table: name_or_arn.to_string(),
            arns: many.iter().map(|(_, t)| t.arn.arn.clone()).collect(),
        }),
    }
}

/// Up to three table names close to `asked`: the same in another letter case first, then the
/// ones within the near-miss distance the snapshot key check uses.
fn close_names(snapshot: &Snapshot, asked: &str) -> Vec<String> {
    let asked = asked.rsplit('/').next().unwrap_or(asked);
    let mut names: Vec<&str> = snapshot
        .regions
        .iter()
        .flat_map(|r| r.tables.iter().map(|t| t.name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut close: Vec<String> = names
        .iter()
        .filter(|n| n.eq_ignore_ascii_case(asked))
        .map(|n| n.to_string())
        .collect();
    close.extend(
        names
            .iter()
            .filter(|n| {
                !n.eq_ignore_ascii_case(asked) && crate::snapshot::keys::near_miss(asked, n)
            })
            .map(|n| n.to_string()),
    );
    // Then the names it starts (`payments` for `payments-ledger`), or that contain it.
    let lower = asked.to_ascii_lowercase();
    if lower.len() >= 3 {
        for n in &names {
            let n_lower = n.to_ascii_lowercase();
            if !close.iter().any(|c| c == n) && n_lower.contains(&lower) {
                close.push(n.to_string());
            }
        }
    }
    close.truncate(3);
    close
}

/// Explains one table selection by selection, and each policy property per candidate plan.
/// The verdict is [`decide`]'s, exactly as `evaluate` and the Config rule give it.
pub fn explain<'a>(
    snapshot: &'a Snapshot,
    name_or_arn: &str,
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Result<(&'a RegionSnapshot, coverage::Explanation<'a>), Error> {
    let now = snapshot.captured_at.unwrap_or(now);
    let (region, table) = find_table(snapshot, name_or_arn)?;
    let index = CatalogIndex::new(&region.catalog);
    let mut explanation = coverage::explain_table(table, &index);
    let decision = decide(params, table, &index);
    if params.policy.has_properties() {
        // What the policy saw, so it can be shown beside the verdict.
        explanation.policy =
            policy::candidates(&params.policy, &explanation.verdict, &region.catalog);
        if let Decision::NeedsRecoveryPoints { hours, .. } = &decision {
            let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
            explanation.recovery_points = Some(policy::check_recovery_points(*hours, points, now));
        }
    }
    let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
    explanation.verdict = decision.finish(params, &region.catalog, points, now);
    Ok((region, explanation))
}
