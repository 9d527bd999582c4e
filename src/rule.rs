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

/// Evaluates every table of the snapshot, Region by Region in file order.
pub fn evaluate_snapshot(snapshot: &Snapshot) -> Vec<TableEvaluation<'_>> {
    let mut out = Vec::with_capacity(snapshot.regions.iter().map(|r| r.tables.len()).sum());
    for region in &snapshot.regions {
        let index = CatalogIndex::new(&region.catalog);
        out.extend(region.tables.iter().map(|table| TableEvaluation {
            region: &region.catalog.region,
            table,
            verdict: coverage::evaluate_table(table, &index),
        }));
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
