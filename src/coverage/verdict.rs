//! The verdict for one table and the sentence that explains it. The sentence is the Config
//! annotation (cut to 256 characters) and the first line of `explain`.

use super::selection::{tag_or_case_variant, Blocker, Construct, PlanState, SelectionTrace};
use super::tags::list_of_tags_key;
use crate::model::{BackupPlan, OptIn, Selection, RESOURCE_TAG_PREFIX};

pub use crate::model::{Compliance, Covering, ReasonKind};

/// A verdict and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// COMPLIANT / NON_COMPLIANT / NOT_APPLICABLE.
    pub compliance: Compliance,
    /// What kind of reason decided it.
    pub kind: ReasonKind,
    /// The reason as a sentence.
    pub reason: String,
    /// Every covering selection, in catalog order (empty unless COMPLIANT).
    pub covered_by: Vec<Covering>,
    /// The selection or plan the reason is about ("selection `x` of plan `y`"), when there is
    /// one: what `evaluate`'s top causes group by.
    pub about: Option<String>,
}

/// Config's limit on `Annotation`.
pub const ANNOTATION_MAX: usize = 256;
const TRUNCATION_MARKER: &str = " [truncated]";

impl Verdict {
    /// The evaluation to put for this verdict: Config gets the cut annotation; the whole
    /// reason, its kind and the covering selections travel with it for people and pipelines.
    pub fn evaluation(
        self,
        resource_type: &str,
        resource_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> crate::model::Evaluation {
        crate::model::Evaluation {
            resource_type: resource_type.to_string(),
            resource_id: resource_id.to_string(),
            compliance: self.compliance,
            annotation: self.annotation(),
            ordering_timestamp: at,
            reason: self.reason,
            reason_kind: self.kind,
            covered_by: self.covered_by,
        }
    }

    /// The reason cut to Config's 256-character limit, with a visible marker when cut. Cutting
    /// by bytes keeps it within the limit however Config counts characters.
    pub fn annotation(&self) -> String {
        // The Config console shows backticks literally; plain quotes read better there.
        truncate_annotation(&self.reason.replace('`', "'"))
    }

    /// NOT_APPLICABLE because of the table's status.
    pub fn table_status(status: &str) -> Verdict {
        Verdict {
            compliance: Compliance::NotApplicable,
            kind: ReasonKind::TableStatus,
            reason: format!(
                "not evaluated: table status is {}; only ACTIVE or UPDATING tables are evaluated",
                crate::text::shown(status)
            ),
            covered_by: Vec::new(),
            about: None,
        }
    }

    /// NOT_APPLICABLE because the rule parameters leave the table out.
    pub fn out_of_scope(reason: String) -> Verdict {
        Verdict {
            compliance: Compliance::NotApplicable,
            kind: ReasonKind::OutOfScope,
            reason,
            covered_by: Vec::new(),
            about: None,
        }
    }

    /// The reason for a place where nothing can be run, or where `explain` is what is being
    /// read: without the hint to run explain.
    pub fn reason_without_hint(&self) -> String {
        self.reason.replace(EXPLAIN_HINT, "")
    }

    /// COMPLIANT, listing every covering selection.
    pub fn covered(covered_by: Vec<Covering>) -> Verdict {
        let parts: Vec<String> = covered_by
            .iter()
            .map(|c| {
                let kind = if c.is_org_policy() {
                    "organization policy plan"
                } else {
                    "plan"
                };
                // Names, not IDs: the IDs are in `explain` and the JSON's CoveredBy, and a
                // reason of UUIDs tells a reader nothing on the dashboard.
                format!(
                    "{kind} `{}` selection `{}`",
                    c.backup_plan_name, c.selection_name
                )
            })
            .collect();
        Verdict {
            compliance: Compliance::Compliant,
            kind: ReasonKind::Covered,
            reason: crate::text::shown(&format!("covered by {}", parts.join("; "))).into_owned(),
            covered_by,
            about: None,
        }
    }

    /// NON_COMPLIANT because of the most useful blocker, or because nothing mentions the table.
    /// `others` counts the further selections that mention it without covering it.
    pub fn not_covered(
        best: Option<(&SelectionTrace<'_>, &Blocker<'_>)>,
        others: usize,
        plans: usize,
        region: &str,
    ) -> Verdict {
        let (kind, mut reason) = match best {
            Some((trace, blocker)) => describe(trace, blocker, region),
            None => {
                let reason = match plans {
                    0 => format!("not covered: there are no backup plans in {region}"),
                    1 => format!("not covered: no selection of the 1 backup plan in {region} mentions this table"),
                    n => format!("not covered: no selection of the {n} backup plans in {region} mentions this table"),
                };
                (ReasonKind::NoSelection, reason)
            }
        };
        // No count: a count would move whenever a selection that only mentions the table comes
        // or goes, and every move re-puts (and bills) an unchanged verdict.
        if others > 0 {
            reason.push_str(&format!(" (other selections mention it too{EXPLAIN_HINT})"));
        }
        Verdict {
            compliance: Compliance::NonCompliant,
            kind,
            // Names, patterns and tag values come from AWS: no control character reaches a
            // reason, an annotation or a terminal.
            reason: crate::text::shown(&reason).into_owned(),
            covered_by: Vec::new(),
            about: best.map(|(t, _)| {
                crate::text::shown(&selection_phrase(t.plan, t.selection)).into_owned()
            }),
        }
    }
}

/// What a reason says when other selections mention the table: see them with `explain`.
const EXPLAIN_HINT: &str = "; run explain";

/// Cuts `text` to at most [`ANNOTATION_MAX`] bytes on a character boundary, ending in
/// ` [truncated]` when anything was cut.
pub fn truncate_annotation(text: &str) -> String {
    if text.len() <= ANNOTATION_MAX {
        return text.to_string();
    }
    let mut end = ANNOTATION_MAX - TRUNCATION_MARKER.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{TRUNCATION_MARKER}", &text[..end])
}

/// "selection `x` of plan `y`", naming organization policy plans as such.
pub fn selection_phrase(plan: &BackupPlan, selection: &Selection) -> String {
    let kind = if plan.is_org_policy() {
        "organization policy plan"
    } else {
        "plan"
    };
    format!("selection `{}` of {kind} `{}`", selection.name, plan.name)
}

fn describe(
    trace: &SelectionTrace<'_>,
    blocker: &Blocker<'_>,
    region: &str,
) -> (ReasonKind, String) {
    let at = selection_phrase(trace.plan, trace.selection);
    match blocker {
        Blocker::Ambiguous(Construct::OptIn, why) => (
            ReasonKind::Ambiguous,
            format!(
                "not covered (ambiguous): {at} selects it through {} which needs DynamoDB opt-in in {region}, but {why}",
                trace.opt_in_path()
            ),
        ),
        Blocker::Ambiguous(construct, why) => {
            let what = match construct {
                Construct::Resource(p) => format!("pattern `{p}`"),
                Construct::NotResource(p) => format!("NotResources pattern `{p}`"),
                Construct::ListOfTags(c) => format!("ListOfTags {}={}", c.key, c.value),
                Construct::Condition(c) => format!("condition {c}"),
                Construct::OptIn => "opt-in".to_string(),
            };
            (
                ReasonKind::Ambiguous,
                format!("not covered (ambiguous): {what} in {at}: {why}"),
            )
        }
        Blocker::NotOptedIn => (
            ReasonKind::NotOptedIn,
            format!(
                "not covered: DynamoDB is not opted in to AWS Backup in {region}; {at} selects it only through {}",
                trace.opt_in_path()
            ),
        ),
        Blocker::Excluded(p) => (
            ReasonKind::Excluded,
            format!("not covered: excluded by NotResources `{p}` in {at}"),
        ),
        Blocker::ConditionFailed(c, seen) => {
            let key = c.key.strip_prefix(RESOURCE_TAG_PREFIX).unwrap_or(&c.key);
            let saw = match seen {
                Some(v) if *v != c.value && v.eq_ignore_ascii_case(&c.value) => {
                    format!("tag is `{v}`; tag values are case-sensitive")
                }
                Some(v) => format!("tag is `{v}`"),
                None => match tag_or_case_variant(&trace.table.tags, key) {
                    Some((k, v)) => format!(
                        "tag absent, but the table has `{k}`={v}; tag keys are case-sensitive"
                    ),
                    None => "tag absent".to_string(),
                },
            };
            (
                ReasonKind::ConditionFailed,
                format!("not covered: condition {c} failed ({saw}) in {at}"),
            )
        }
        Blocker::PlanInactive(PlanState::LockAmbiguous(rule)) => (
            ReasonKind::Ambiguous,
            format!(
                "not covered (ambiguous): {at} selects it, but {} (A-LOCK-FOREVER)",
                lock_words(rule)
            ),
        ),
        Blocker::PlanInactive(state) => {
            let why = match state {
                PlanState::Deleted(date) => format!("was deleted on {date}"),
                PlanState::NoRules => "has no rules, so it schedules no backups".to_string(),
                PlanState::VaultMissing(vault) => format!(
                    "targets backup vault {vault}, which no longer exists, so every backup job fails"
                ),
                PlanState::OtherScope => format!(
                    "lives in account {} Region {}; plans cover only their own account and Region",
                    trace.plan.account, trace.plan.region
                ),
                PlanState::LockRefused(rule) | PlanState::LockAmbiguous(rule) => {
                    format!("has no rule that can back up: {}", lock_words(rule))
                }
                PlanState::Active => "is active".to_string(),
            };
            (
                ReasonKind::PlanInactive,
                format!("not covered: {at} selects it, but the plan {why}"),
            )
        }
        Blocker::TagNearMiss(m) => {
            let wanted_key = list_of_tags_key(m.entry).unwrap_or(&m.entry.key);
            let note = if m.case_only() {
                if m.key != wanted_key {
                    "; tag keys are case-sensitive"
                } else {
                    "; tag values are case-sensitive"
                }
            } else if m.key != wanted_key {
                "; tag keys are case-sensitive"
            } else {
                ""
            };
            let saw = if m.key == wanted_key {
                format!("tag is `{}`", m.value)
            } else {
                format!("the table's tag is `{}`={}", m.key, m.value)
            };
            (
                ReasonKind::TagMismatch,
                format!(
                    "not covered: ListOfTags {}={} in {at}: {saw}{note}",
                    wanted_key, m.entry.value
                ),
            )
        }
        Blocker::UnsupportedTagType(c) => (
            ReasonKind::UnsupportedTagType,
            format!(
                "not covered: ListOfTags {} {}={} in {at} is ignored: AWS Backup supports only STRINGEQUALS",
                c.condition_type, c.key, c.value
            ),
        ),
        Blocker::Invalid => (
            ReasonKind::InvalidSelection,
            format!("not covered: {at} is invalid (neither Resources nor ListOfTags) and selects nothing"),
        ),
    }
}

/// Why a vault lock stops (or may stop) a rule's jobs, naming the rule, its retention and the
/// vault's range (spec §10).
pub fn lock_words(rule: &crate::model::BackupRule) -> String {
    use crate::model::{lock_range_words, retention_words, RuleEffect};
    let vault = rule.target_vault.as_deref().unwrap_or("(none)");
    let keeps = retention_words(rule.delete_after_days);
    match rule.effect {
        RuleEffect::LockRefuses { min, max } => format!(
            "rule `{}` keeps recovery points {keeps} and the lock of backup vault {vault} accepts only {}, so the vault fails every backup job",
            rule.name,
            lock_range_words(min, max)
        ),
        RuleEffect::LockForeverAmbiguous { min } => format!(
            "rule `{}` keeps recovery points {keeps} and the lock of backup vault {vault} requires a lifecycle of at least {min} days; whether such jobs succeed is not documented",
            rule.name
        ),
        _ => format!("rule `{}` can back up", rule.name),
    }
}

/// How `explain` names an opt-in setting.
pub fn opt_in_words(setting: OptIn) -> &'static str {
    match setting {
        OptIn::Enabled => "DynamoDB opted in",
        OptIn::Disabled => "DynamoDB not opted in",
        OptIn::KeyAbsent => "no DynamoDB key in ResourceTypeOptInPreference",
        OptIn::NotCaptured => "opt-in settings not captured",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_annotations_are_cut_with_a_marker() {
        let long = "é".repeat(300);
        let cut = truncate_annotation(&long);
        assert!(cut.len() <= ANNOTATION_MAX, "{}", cut.len());
        assert!(cut.ends_with(" [truncated]"));
        assert_eq!(truncate_annotation("short"), "short");
        let exact = "x".repeat(ANNOTATION_MAX);
        assert_eq!(truncate_annotation(&exact), exact);
    }
}
