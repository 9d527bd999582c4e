//! The evaluator: the one entry the CLI (and later the Lambda) calls. It walks a snapshot's
//! Regions, builds each Region's selection index once, and asks [`crate::coverage`] for a
//! verdict per table.

use crate::coverage::{self, CatalogIndex, Explanation, Verdict};
use crate::error::Error;
use crate::model::{RegionSnapshot, Snapshot, Table};

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

/// Evaluates every table of the snapshot, Region by Region in file order.
///
/// Tables are independent once the Region's index is built, so large Regions are split across
/// the available cores; the output order is the snapshot's order either way.
pub fn evaluate_snapshot(snapshot: &Snapshot) -> Vec<TableEvaluation<'_>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = Vec::with_capacity(snapshot.regions.iter().map(|r| r.tables.len()).sum());
    for region in &snapshot.regions {
        let index = CatalogIndex::new(&region.catalog);
        let decide = |tables: &'_ [Table]| -> Vec<Verdict> {
            tables
                .iter()
                .map(|t| coverage::evaluate_table(t, &index))
                .collect()
        };
        let verdicts: Vec<Verdict> = if threads < 2 || region.tables.len() < PARALLEL_MIN_TABLES {
            decide(&region.tables)
        } else {
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
        };
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
        }),
        [one] => Ok(*one),
        many => Err(Error::AmbiguousTable {
            table: name_or_arn.to_string(),
            regions: many
                .iter()
                .map(|(r, _)| r.catalog.region.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Explains one table selection by selection.
pub fn explain<'a>(
    snapshot: &'a Snapshot,
    name_or_arn: &str,
) -> Result<(&'a RegionSnapshot, Explanation<'a>), Error> {
    let (region, table) = find_table(snapshot, name_or_arn)?;
    let index = CatalogIndex::new(&region.catalog);
    Ok((region, coverage::explain_table(table, &index)))
}
