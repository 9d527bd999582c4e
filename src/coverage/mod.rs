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

/// A trace's place among equals: by names and IDs.
fn trace_key<'a>(t: &SelectionTrace<'a>) -> (&'a str, &'a str, &'a str, &'a str) {
    (&t.plan.name, &t.selection.name, &t.plan.id, &t.selection.id)
}

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

fn decide(
    table: &Table,
    index: &CatalogIndex<'_>,
    may_cover: impl Fn(&Table) -> Vec<u32>,
    may_mention: impl Fn(&Table) -> Vec<u32>,
) -> Verdict {
    if !table.status_is_evaluated() {
        return Verdict::table_status(table.status.as_deref().unwrap_or_default());
    }
    let covered_by = covering_among(table, index, may_cover(table));
    if !covered_by.is_empty() {
        return Verdict::covered(covered_by);
    }
    let opt_in = index.catalog.settings.dynamodb_opt_in;

    // Not covered: find the most useful thing to say among the selections that mention it.
    // (trace, blocker, specificity once computed)
    let mut best: Option<(SelectionTrace<'_>, selection::Blocker<'_>, Option<u8>)> = None;
    let mut mentions = 0usize;
    for ordinal in may_mention(table) {
        let (plan, selection) = index.entries[ordinal as usize];
        let t = trace(plan, selection, table, opt_in);
        let Some(blocker) = t.blocker() else { continue };
        mentions += 1;
        // The most useful kind of reason first; among equals, the selection that names the
        // table most directly (an exact ARN over a catch-all `table/*` gated by a condition),
        // since that is the one its author meant for this table. Specificity is computed only
        // to break a tie, and once per kept trace.
        let replace = match best.as_mut() {
            None => Some(None),
            Some((_, b, _)) if blocker.rank() < b.rank() => Some(None),
            Some((_, b, _)) if blocker.rank() > b.rank() => None,
            Some((bt, _, spec)) => {
                let kept = *spec.get_or_insert_with(|| bt.specificity());
                let this = t.specificity();
                // Last, by names and IDs, not by listing order: AWS lists plans in no promised
                // order, and a reason that moved with it would be put (and billed) again.
                (this > kept || (this == kept && trace_key(&t) < trace_key(bt)))
                    .then_some(Some(this))
            }
        };
        if let Some(spec) = replace {
            best = Some((t, blocker, spec));
        }
    }
    Verdict::not_covered(
        best.as_ref().map(|(t, b, _)| (t, b)),
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
