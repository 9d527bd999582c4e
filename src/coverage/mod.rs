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

pub mod classes;
pub mod index;
pub mod pattern;
pub mod policy;
pub mod schedule;
pub mod selection;
pub mod tags;
pub mod tri;
pub mod verdict;

pub use classes::ClassBest;
pub use index::CatalogIndex;
pub use selection::{trace, SelectionTrace};
pub use tri::Tri;
pub use verdict::{Compliance, Covering, ReasonKind, Verdict};

use crate::model::Table;

/// A trace's place among equals: by names and IDs.
fn trace_key<'a>(t: &SelectionTrace<'a>) -> (&'a str, &'a str, &'a str, &'a str) {
    (&t.plan.name, &t.selection.name, &t.plan.id, &t.selection.id)
}

/// Decides one table against an indexed catalog.
pub fn evaluate_table(table: &Table, index: &CatalogIndex<'_>) -> Verdict {
    decide(table, index, Candidates::Indexed)
}

/// The same decision over every selection, with no index. It is the reference the index is
/// tested against, and what `explain` walks.
pub fn evaluate_table_plain(table: &Table, index: &CatalogIndex<'_>) -> Verdict {
    decide(table, index, Candidates::All)
}

/// Which selections a decision looks at.
#[derive(Clone, Copy)]
enum Candidates {
    /// Only those the index says may matter, with the reason search's per-class memo.
    Indexed,
    /// Every selection, each traced for this table.
    All,
}

/// The selections that cover a table (the first half of its verdict), without looking for a
/// reason when none does: what verifying a fix needs, many times per table.
pub fn covering(table: &Table, index: &CatalogIndex<'_>) -> Vec<Covering> {
    covering_among(table, index, index.verdict_candidates(table))
}

fn covering_among(table: &Table, index: &CatalogIndex<'_>, candidates: Vec<u32>) -> Vec<Covering> {
    let opt_in = index.catalog.settings.dynamodb_opt_in;
    candidates
        .into_iter()
        .filter_map(|ordinal| {
            let (plan, selection) = index.entries[ordinal as usize];
            (trace(plan, selection, table, opt_in).result == Tri::True)
                .then(|| Covering::new(plan, selection))
        })
        .collect()
}

/// The reason search for a table no selection covers: among the selections that mention it, the
/// most useful thing to say. The order is total (kind of reason, then how directly the
/// selection names the table, then names and IDs), so the search can be split: the winner of a
/// part, offered again, competes exactly as it did there.
struct ReasonSearch<'a> {
    /// The kept trace, its blocker, its specificity once computed, and its ordinal.
    best: Option<(SelectionTrace<'a>, selection::Blocker<'a>, Option<u8>, u32)>,
    /// Selections seen that mention the table without covering it.
    mentions: usize,
}

impl<'a> ReasonSearch<'a> {
    fn new() -> Self {
        ReasonSearch {
            best: None,
            mentions: 0,
        }
    }

    /// Counts the trace if it mentions the table, and keeps it if it says the most.
    fn consider(&mut self, ordinal: u32, t: SelectionTrace<'a>) {
        if let Some(blocker) = t.blocker() {
            self.mentions += 1;
            self.offer(ordinal, t, blocker);
        }
    }

    fn offer(&mut self, ordinal: u32, t: SelectionTrace<'a>, blocker: selection::Blocker<'a>) {
        // The most useful kind of reason first; among equals, the selection that names the
        // table most directly (an exact ARN over a catch-all `table/*` gated by a condition),
        // since that is the one its author meant for this table. Specificity is computed only
        // to break a tie, and once per kept trace.
        let replace = match self.best.as_mut() {
            None => Some(None),
            Some((_, b, _, _)) if blocker.rank() < b.rank() => Some(None),
            Some((_, b, _, _)) if blocker.rank() > b.rank() => None,
            Some((bt, _, spec, _)) => {
                let kept = *spec.get_or_insert_with(|| bt.specificity());
                let this = t.specificity();
                // Last, by names and IDs, not by listing order: AWS lists plans in no promised
                // order, and a reason that moved with it would be put (and billed) again.
                (this > kept || (this == kept && trace_key(&t) < trace_key(bt)))
                    .then_some(Some(this))
            }
        };
        if let Some(spec) = replace {
            self.best = Some((t, blocker, spec, ordinal));
        }
    }
}

fn decide(table: &Table, index: &CatalogIndex<'_>, candidates: Candidates) -> Verdict {
    // The index files selections by the table's ARN; a generated name's ARN is only its start,
    // which a longer prefix or exact ARN may still match. One table, so every selection.
    let candidates = if table.generated_name {
        Candidates::All
    } else {
        candidates
    };
    if !table.status_is_evaluated() {
        return Verdict::table_status(table.status.as_deref().unwrap_or_default());
    }
    let may_cover = match candidates {
        Candidates::Indexed => index.verdict_candidates(table),
        Candidates::All => index.all(),
    };
    let covered_by = covering_among(table, index, may_cover);
    if !covered_by.is_empty() {
        return Verdict::covered(covered_by);
    }
    let opt_in = index.catalog.settings.dynamodb_opt_in;
    let traced = |ordinal: u32| {
        let (plan, selection) = index.entries[ordinal as usize];
        trace(plan, selection, table, opt_in)
    };

    // Not covered: find the most useful thing to say among the selections that mention it.
    let mut search = ReasonSearch::new();
    let may_mention = match candidates {
        Candidates::All => index.all(),
        Candidates::Indexed => {
            let (others, by_class) = index.mention_candidates(table);
            if by_class {
                // The selections decided per class of table: searched once per class, and each
                // group's winner traced again for this table (its blocker names this table's
                // own tags).
                let bests = index.class_bests(table, |ordinals| {
                    let mut part = ReasonSearch::new();
                    for &ordinal in ordinals {
                        part.consider(ordinal, traced(ordinal));
                    }
                    ClassBest {
                        winner: part.best.map(|(.., ordinal)| ordinal),
                        mentions: part.mentions,
                    }
                });
                for best in bests {
                    search.mentions += best.mentions;
                    if let Some(ordinal) = best.winner {
                        let t = traced(ordinal);
                        if let Some(blocker) = t.blocker() {
                            search.offer(ordinal, t, blocker);
                        }
                    }
                }
            }
            others
        }
    };
    for ordinal in may_mention {
        search.consider(ordinal, traced(ordinal));
    }
    Verdict::not_covered(
        search.best.as_ref().map(|(t, b, ..)| (t, b)),
        search.mentions.saturating_sub(1),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A one-Region account from snapshot JSON: opt-in on, the given selections in one plan, and
    /// one table with the given tags.
    fn verdict(selections: serde_json::Value, tags: serde_json::Value) -> Verdict {
        verdict_opt_in(selections, tags, true)
    }

    fn verdict_opt_in(
        selections: serde_json::Value,
        tags: serde_json::Value,
        opt_in: bool,
    ) -> Verdict {
        let doc = json!({"AccountId": "111122223333", "Regions": {"us-east-1": {
            "ResourceTypeOptInPreference": {"DynamoDB": opt_in},
            "BackupPlans": [{"BackupPlanId": "p1", "BackupPlanName": "daily",
                "Rules": [{"RuleName": "r", "TargetBackupVaultName": "Default"}],
                "Selections": selections}],
            "Tables": [{"TableName": "orders",
                "TableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/orders", "Tags": tags}]}}});
        let snap = crate::snapshot::parse(&doc.to_string()).expect("snapshot");
        let region = &snap.regions[0];
        evaluate_table(&region.tables[0], &CatalogIndex::new(&region.catalog))
    }

    fn tag_selection(id: &str, key: &str, value: &str) -> serde_json::Value {
        json!({"SelectionId": id, "BackupSelection": {"SelectionName": id, "IamRoleArn": "arn:aws:iam::111122223333:role/b",
            "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": key, "ConditionValue": value}]}})
    }

    #[test]
    fn a_listoftags_entry_with_another_value_is_named_with_what_the_table_has() {
        // GIVEN a table tagged backup=weekly and a selection for backup=daily
        let v = verdict(
            json!([tag_selection("s1", "backup", "daily")]),
            json!([{"Key": "backup", "Value": "weekly"}]),
        );
        // THEN the reason names the entry and the table's value, not "no selection mentions it"
        assert_eq!(v.kind, ReasonKind::TagMismatch);
        assert!(
            v.reason.contains(
                "ListOfTags backup=daily in selection `s1` of plan `daily`: tag is `weekly`"
            ),
            "{}",
            v.reason
        );
    }

    #[test]
    fn a_tag_key_or_value_differing_only_in_case_says_tags_are_case_sensitive() {
        let v = verdict(
            json!([tag_selection("s1", "backup", "daily")]),
            json!([{"Key": "Backup", "Value": "daily"}]),
        );
        assert!(v.reason.contains("`Backup`=daily"), "{}", v.reason);
        assert!(
            v.reason.contains("tag keys are case-sensitive"),
            "{}",
            v.reason
        );
        let v = verdict(
            json!([tag_selection("s1", "pii", "TRUE")]),
            json!([{"Key": "pii", "Value": "true"}]),
        );
        assert!(
            v.reason.contains("tag values are case-sensitive"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn the_selection_that_names_the_table_directly_is_the_one_the_reason_names() {
        // GIVEN a catch-all `table/*` gated by tier=gold, listed first, and a selection naming
        // the table's ARN gated by env=prod; both conditions fail
        let catch_all = json!({"SelectionId": "all", "BackupSelection": {"SelectionName": "all-gold",
            "IamRoleArn": "arn:aws:iam::111122223333:role/b", "Resources": ["arn:aws:dynamodb:*:*:table/*"],
            "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "gold"}]}}});
        let direct = json!({"SelectionId": "mine", "BackupSelection": {"SelectionName": "orders-prod",
            "IamRoleArn": "arn:aws:iam::111122223333:role/b",
            "Resources": ["arn:aws:dynamodb:us-east-1:111122223333:table/orders"],
            "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]}}});
        let v = verdict(json!([catch_all, direct]), json!([]));
        // THEN the reason names the selection meant for this table
        assert!(v.reason.contains("orders-prod"), "{}", v.reason);
        assert!(
            v.reason
                .contains("(other selections mention it too; run explain)"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn among_equal_blockers_the_reason_does_not_depend_on_listing_order() {
        // GIVEN two selections failing the same kind of condition, equally specific, listed in
        // either order, and a third that mentions the table too
        let sel = |id: &str, name: &str| {
            json!({"SelectionId": id, "BackupSelection": {"SelectionName": name,
            "IamRoleArn": "arn:aws:iam::111122223333:role/b", "Resources": ["arn:aws:dynamodb:*:*:table/*"],
            "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": name}]}}})
        };
        let a = verdict(json!([sel("1", "beta"), sel("2", "alpha")]), json!([]));
        let b = verdict(json!([sel("2", "alpha"), sel("1", "beta")]), json!([]));
        let c = verdict(
            json!([sel("2", "alpha"), sel("3", "gamma"), sel("1", "beta")]),
            json!([]),
        );
        // THEN the same selection is named, and the text does not count the others
        assert_eq!(a.reason, b.reason);
        assert_eq!(a.reason, c.reason);
        assert!(a.reason.contains("`alpha`"), "{}", a.reason);
    }

    #[test]
    fn an_ambiguous_table_type_pattern_with_opt_in_off_is_named_not_called_tags() {
        // GIVEN opt-in off and a selection whose only pattern is the lost-asterisk form
        let lost = json!({"SelectionId": "s1", "BackupSelection": {"SelectionName": "all-tables",
            "IamRoleArn": "arn:aws:iam::111122223333:role/b", "Resources": ["arn:aws:dynamodb:::table/*"]}});
        let v = verdict_opt_in(json!([lost]), json!([]), false);
        // THEN the reason names the ambiguous pattern and what opt-in does under each reading
        assert_eq!(v.compliance, Compliance::NonCompliant);
        assert!(!v.reason.contains("through tags"), "{}", v.reason);
        assert!(
            v.reason
                .contains("ambiguous pattern `arn:aws:dynamodb:::table/*`"),
            "{}",
            v.reason
        );
        assert!(v.reason.contains("did you mean"), "{}", v.reason);
    }
}
