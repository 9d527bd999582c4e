//! PURE. Whether AWS Backup will back a DynamoDB table up, decided from plans, selections and
//! Region settings alone: no I/O, no SDK types, no clocks.
//!
//! The predicate is spec §1 (`../shared/reference/backup-selection-semantics.md`):
//!
//! ```text
//! covered(S,T) = (Resources ∪ ListOfTags) ∧ Conditions ∧ ¬NotResources ∧ OptIn,
//!                for an active plan with rules in T's own account and Region
//! covered(T)   = OR over all selections
//! ```
//!
//! in three-valued logic: constructs AWS leaves open are *unknown*, and only a definite yes is
//! COMPLIANT.

pub mod index;
pub mod pattern;
pub mod policy;
pub mod schedule;
pub mod selection;
pub mod tags;
pub mod tri;
pub mod verdict;

pub use index::CatalogIndex;
pub use selection::{trace, SelectionTrace};
pub use tri::Tri;
pub use verdict::{Compliance, Covering, ReasonKind, Verdict};

use crate::model::Table;

/// Decides one table against an indexed catalog.
pub fn evaluate_table(table: &Table, index: &CatalogIndex<'_>) -> Verdict {
    decide(
        table,
        index,
        |t| index.verdict_candidates(t),
        |t| index.mention_candidates(t),
    )
}

/// The same decision over every selection, with no index. It is the reference the index is
/// tested against, and what `explain` walks.
pub fn evaluate_table_plain(table: &Table, index: &CatalogIndex<'_>) -> Verdict {
    decide(table, index, |_| index.all(), |_| index.all())
}

fn decide(
    table: &Table,
    index: &CatalogIndex<'_>,
    may_cover: impl Fn(&Table) -> Vec<u32>,
    may_mention: impl Fn(&Table) -> Vec<u32>,
) -> Verdict {
    if !table.status_is_evaluated() {
        return Verdict::table_status(table.status.as_deref().unwrap_or_default());
    }
    let opt_in = index.catalog.settings.dynamodb_opt_in;
    let covered_by: Vec<Covering> = may_cover(table)
        .into_iter()
        .filter_map(|ordinal| {
            let (plan, selection) = index.entries[ordinal as usize];
            (trace(plan, selection, table, opt_in).result == Tri::True)
                .then(|| Covering::new(plan, selection))
        })
        .collect();
    if !covered_by.is_empty() {
        return Verdict::covered(covered_by);
    }

    // Not covered: find the most useful thing to say among the selections that mention it.
    let mut best: Option<(SelectionTrace<'_>, selection::Blocker<'_>)> = None;
    let mut mentions = 0usize;
    for ordinal in may_mention(table) {
        let (plan, selection) = index.entries[ordinal as usize];
        let t = trace(plan, selection, table, opt_in);
        let Some(blocker) = t.blocker() else { continue };
        mentions += 1;
        if best.as_ref().is_none_or(|(_, b)| blocker.rank() < b.rank()) {
            best = Some((t, blocker));
        }
    }
    Verdict::not_covered(
        best.as_ref().map(|(t, b)| (t, b)),
        mentions.saturating_sub(1),
        index.catalog.plans.len(),
        &index.catalog.region,
    )
}

/// A table's verdict with the trace of every selection in its Region: what `explain` prints.
#[derive(Debug)]
pub struct Explanation<'a> {
    /// The table explained.
    pub table: &'a Table,
    /// One trace per selection, in catalog order.
    pub traces: Vec<SelectionTrace<'a>>,
    /// The verdict, identical to what `evaluate` reports.
    pub verdict: Verdict,
    /// The policy properties of each covering plan's rules, when parameters ask for any.
    pub policy: Vec<policy::Candidate>,
    /// The recovery-point check, when `maxRecoveryPointAgeHours` asks for it.
    pub recovery_points: Option<policy::PropertyCheck>,
}

/// Explains one table selection by selection.
pub fn explain_table<'a>(table: &'a Table, index: &CatalogIndex<'a>) -> Explanation<'a> {
    let opt_in = index.catalog.settings.dynamodb_opt_in;
    let traces = index
        .entries
        .iter()
        .map(|(plan, selection)| trace(plan, selection, table, opt_in))
        .collect();
    Explanation {
        table,
        traces,
        verdict: evaluate_table(table, index),
        policy: Vec::new(),
        recovery_points: None,
    }
}
