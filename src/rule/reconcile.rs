//! PURE. Which of a pass's verdicts need putting, given what Config already keeps.
//!
//! Config bills every evaluation recorded, and a pass that re-puts an unchanged verdict for
//! every table every day costs its user money for nothing. So a pass puts a table's evaluation
//! only when:
//! - Config keeps no result for it yet;
//! - its compliance or annotation changed;
//! - the result is due for a refresh: Security Hub archives findings not updated for 90 days,
//!   so an unchanged result is put again once it is older than the refresh age. Each resource
//!   gets its own threshold between half the refresh age and the whole of it, from a hash of its
//!   ID, so results put on one day (the rule's creation) are refreshed across many passes, not
//!   all on one.
//!
//! Retiring a table Config still reports (NOT_APPLICABLE "no longer exists") needs proof that it
//! is gone, which only DynamoDB can give; see [`retirement`].

use crate::coverage::{Compliance, ReasonKind};
use crate::model::{Evaluation, Recorded, DYNAMODB_TABLE_TYPE};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// The default refresh age: well inside Security Hub's 90 days.
pub const DEFAULT_REFRESH_DAYS: u32 = 30;

/// The environment variable that sets the refresh age of unchanged results, in days.
pub const REFRESH_DAYS_VAR: &str = "RESULT_REFRESH_DAYS";

/// The refresh age `RESULT_REFRESH_DAYS` sets (unset: the default), or why it is not one.
pub fn refresh_days_from(value: Option<&str>) -> Result<u32, crate::error::Error> {
    let Some(v) = value else {
        return Ok(DEFAULT_REFRESH_DAYS);
    };
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| crate::error::Error::InvalidParameters {
            name: format!("environment variable {REFRESH_DAYS_VAR}"),
            expected: format!("a whole number of days above 0, got `{v}`"),
            source: None,
        })
}

/// The annotation of a retired table.
pub const GONE: &str = "not evaluated: the table no longer exists";

/// Config's results for a rule, by resource type and ID.
pub type RecordedIndex<'a> = HashMap<(&'a str, &'a str), &'a Recorded>;

/// Indexes recorded results by resource type and ID.
pub fn index(recorded: &[Recorded]) -> RecordedIndex<'_> {
    recorded
        .iter()
        .map(|r| ((r.resource_type.as_str(), r.resource_id.as_str()), r))
        .collect()
}

/// What a pass decided to put, and what it left alone.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The evaluations to put.
    pub put: Vec<Evaluation>,
    /// Evaluations with no recorded result.
    pub new: usize,
    /// Evaluations whose compliance or annotation changed.
    pub changed: usize,
    /// Unchanged evaluations put again because their result was due for a refresh.
    pub refreshed: usize,
    /// Unchanged evaluations not put.
    pub unchanged: usize,
}

/// Splits decided evaluations into those to put and those Config already has.
pub fn reconcile(
    decided: Vec<Evaluation>,
    recorded: &RecordedIndex<'_>,
    now: DateTime<Utc>,
    refresh_after: Duration,
) -> Reconciled {
    let mut out = Reconciled::default();
    for e in decided {
        match recorded.get(&(e.resource_type.as_str(), e.resource_id.as_str())) {
            None => out.new += 1,
            Some(r) if r.compliance != e.compliance || r.annotation != e.annotation => {
                out.changed += 1
            }
            Some(r) if refresh_due(&e.resource_id, r.recorded_at, now, refresh_after) => {
                out.refreshed += 1
            }
            Some(_) => {
                out.unchanged += 1;
                continue;
            }
        }
        out.put.push(e);
    }
    out
}

/// Whether an unchanged result recorded at `recorded_at` should be put again now. A result with
/// no recorded time is refreshed: its age is unknown.
pub fn refresh_due(
    resource_id: &str,
    recorded_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    refresh_after: Duration,
) -> bool {
    let Some(at) = recorded_at else { return true };
    let full = refresh_after.num_seconds().max(0) as f64;
    let threshold = full * (1.0 - 0.5 * spread(resource_id));
    (now - at).num_seconds() as f64 >= threshold
}

/// A stable number in `[0, 1)` for a resource ID, so its refresh day does not move between
/// passes or releases: FNV-1a, then a 64-bit finalizer, because FNV alone leaves the high bits
/// of IDs that differ only in their last characters (`table-1`, `table-2`) close together.
fn spread(id: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The recorded table results a pass must look into because its inventory lacks the table:
/// COMPLIANT and NON_COMPLIANT ones. NOT_APPLICABLE results (retired, out of scope, not yet
/// active) show no problem on the dashboard, so checking them would cost calls for nothing.
pub fn missing_from_inventory<'a>(
    recorded: &'a [Recorded],
    inventory: &std::collections::HashSet<&str>,
) -> Vec<&'a Recorded> {
    recorded
        .iter()
        .filter(|r| {
            r.resource_type == DYNAMODB_TABLE_TYPE
                && r.compliance != Compliance::NotApplicable
                && !inventory.contains(r.resource_id.as_str())
        })
        .collect()
}

/// Whether a recorded result says its table is gone: retired by a pass, or put from the table's
/// own deletion event. An inventory that still lists such a table may lag (Config's does for
/// minutes), so only DynamoDB can say it is back.
pub fn says_gone(recorded: &Recorded) -> bool {
    recorded.resource_type == DYNAMODB_TABLE_TYPE
        && recorded.compliance == Compliance::NotApplicable
        && (recorded.annotation == GONE
            || recorded
                .annotation
                .starts_with("not evaluated: configuration item status is ResourceDeleted"))
}

/// The retirement of a table DynamoDB confirmed gone, if its result may be retired: only a
/// result recorded before the pass started. A later one came from the table's own change event
/// while the pass ran, and is newer than anything the pass knows.
pub fn retirement(
    recorded: &Recorded,
    pass_started: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Option<Evaluation> {
    let before = recorded.recorded_at.is_none_or(|t| t < pass_started);
    before.then(|| Evaluation {
        resource_type: recorded.resource_type.clone(),
        resource_id: recorded.resource_id.clone(),
        compliance: Compliance::NotApplicable,
        annotation: GONE.to_string(),
        ordering_timestamp: at,
        reason: GONE.to_string(),
        reason_kind: ReasonKind::TableStatus,
        covered_by: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap()
    }

    fn eval(id: &str, c: Compliance, note: &str) -> Evaluation {
        Evaluation {
            resource_type: DYNAMODB_TABLE_TYPE.into(),
            resource_id: id.into(),
            compliance: c,
            annotation: note.into(),
            ordering_timestamp: t(20),
            reason: note.into(),
            reason_kind: ReasonKind::Covered,
            covered_by: Vec::new(),
        }
    }

    fn rec(id: &str, c: Compliance, note: &str, at: DateTime<Utc>) -> Recorded {
        Recorded {
            resource_type: DYNAMODB_TABLE_TYPE.into(),
            resource_id: id.into(),
            compliance: c,
            annotation: note.into(),
            recorded_at: Some(at),
            ordered_at: Some(at),
        }
    }

    #[test]
    fn only_new_and_changed_verdicts_are_put() {
        // GIVEN results recorded yesterday for a, b and c
        let recorded = vec![
            rec("a", Compliance::Compliant, "covered by p", t(19)),
            rec("b", Compliance::NonCompliant, "not covered", t(19)),
            rec("c", Compliance::Compliant, "covered by p", t(19)),
        ];
        let idx = index(&recorded);
        // WHEN a pass decides a unchanged, b newly covered, c with a new reason, and d new
        let decided = vec![
            eval("a", Compliance::Compliant, "covered by p"),
            eval("b", Compliance::Compliant, "covered by p"),
            eval("c", Compliance::Compliant, "covered by q"),
            eval("d", Compliance::NonCompliant, "not covered"),
        ];
        let r = reconcile(decided, &idx, t(20), Duration::days(30));
        // THEN only b, c and d are put
        let ids: Vec<&str> = r.put.iter().map(|e| e.resource_id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "d"]);
        assert_eq!((r.new, r.changed, r.refreshed, r.unchanged), (1, 2, 0, 1));
    }

    #[test]
    fn unchanged_results_are_refreshed_across_days_not_all_at_once() {
        // GIVEN 1,000 unchanged results all recorded on the same day
        let day0 = t(1);
        let refresh = Duration::days(30);
        let ids: Vec<String> = (0..1000).map(|i| format!("table-{i}")).collect();
        // THEN none is due before half the refresh age, all are due at the full age
        for id in &ids {
            assert!(!refresh_due(
                id,
                Some(day0),
                day0 + Duration::days(14),
                refresh
            ));
            assert!(refresh_due(
                id,
                Some(day0),
                day0 + Duration::days(30),
                refresh
            ));
        }
        // AND in between they come due a few per day, never most on one day
        let mut per_day = Vec::new();
        for d in 15..=30 {
            let due = |n: i64| {
                ids.iter()
                    .filter(|id| refresh_due(id, Some(day0), day0 + Duration::days(n), refresh))
                    .count()
            };
            per_day.push(due(d) - due(d - 1));
        }
        assert!(per_day.iter().all(|n| *n < 150), "{per_day:?}");
        // AND a result with no recorded time is refreshed
        assert!(refresh_due("x", None, day0, refresh));
    }

    #[test]
    fn a_refresh_due_result_is_put_even_when_unchanged() {
        let recorded = vec![rec(
            "a",
            Compliance::Compliant,
            "covered",
            t(1) - Duration::days(40),
        )];
        let r = reconcile(
            vec![eval("a", Compliance::Compliant, "covered")],
            &index(&recorded),
            t(1),
            Duration::days(30),
        );
        assert_eq!((r.put.len(), r.refreshed), (1, 1));
    }

    #[test]
    fn only_results_recorded_before_the_pass_are_retired() {
        let started = t(20);
        let old = rec("gone", Compliance::NonCompliant, "x", t(19));
        let fresh = rec(
            "gone",
            Compliance::NonCompliant,
            "x",
            started + Duration::seconds(5),
        );
        let e = retirement(&old, started, started).expect("retired");
        assert_eq!(
            (e.compliance, e.annotation.as_str()),
            (Compliance::NotApplicable, GONE)
        );
        assert_eq!(retirement(&fresh, started, started), None);
    }

    #[test]
    fn not_applicable_and_listed_results_are_not_looked_into() {
        let recorded = vec![
            rec("listed", Compliance::Compliant, "", t(1)),
            rec("retired", Compliance::NotApplicable, GONE, t(1)),
            rec("lagging", Compliance::NonCompliant, "", t(1)),
        ];
        let listed: std::collections::HashSet<&str> = ["listed"].into_iter().collect();
        let ids: Vec<&str> = missing_from_inventory(&recorded, &listed)
            .iter()
            .map(|r| r.resource_id.as_str())
            .collect();
        assert_eq!(ids, ["lagging"]);
    }
}
