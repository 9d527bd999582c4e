//! PURE. What a covering plan must also do when the rule's policy parameters ask for it:
//! a locked target vault within retention bounds, copies to other Regions and accounts, a
//! minimum retention, a maximum interval between backups, and a recent completed recovery point.
//!
//! A table is COMPLIANT only if at least one covering selection's plan has a rule that meets
//! every requested property. What cannot be known (a vault not described, a schedule not
//! understood, recovery points not read) never passes.

use super::schedule::max_interval_hours;
use super::verdict::{Compliance, Covering, ReasonKind, Verdict};
use crate::model::{
    lock_range_words, retention_words, BackupPlan, BackupRule, RecoveryPoint, RegionCatalog,
    RuleEffect, Vault,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Properties a covering plan must have beyond selecting the table. The first five are the
/// parameters of AWS's managed rule `dynamodb-resources-protected-by-backup-plan`, with the same
/// names and formats; the rest are this rule's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `backupVaultLockCheck`: the rule's target vault is locked with Vault Lock.
    pub vault_lock: bool,
    /// `minRetentionDays`: the lock's `MinRetentionDays` is at least this.
    pub min_retention_days: Option<u32>,
    /// `maxRetentionDays`: the lock has a `MaxRetentionDays`, and it is at most this.
    pub max_retention_days: Option<u32>,
    /// `crossRegionList`: the rule copies to a vault in each of these Regions.
    pub cross_regions: Vec<String>,
    /// `crossAccountList`: the rule copies to a vault in each of these accounts.
    pub cross_accounts: Vec<String>,
    /// `requiredRetentionDays`: the rule keeps recovery points at least this long (or forever).
    pub retention_days: Option<u32>,
    /// `requiredFrequencyHours`: the rule runs at least every this many hours.
    pub frequency_hours: Option<u32>,
    /// `maxRecoveryPointAgeHours`: the table has a completed recovery point this recent.
    pub recovery_point_age_hours: Option<u32>,
    /// `exemptionTag` (`key=value`): tables with this tag are NOT_APPLICABLE.
    pub exemption_tag: Option<(String, String)>,
}

impl Policy {
    /// Whether the target vaults' descriptions are needed.
    pub fn needs_vaults(&self) -> bool {
        self.vault_lock || self.min_retention_days.is_some() || self.max_retention_days.is_some()
    }

    /// Whether any property beyond coverage is asked for (the exemption tag is not one: it
    /// decides applicability).
    pub fn has_properties(&self) -> bool {
        self.needs_vaults()
            || !self.cross_regions.is_empty()
            || !self.cross_accounts.is_empty()
            || self.retention_days.is_some()
            || self.frequency_hours.is_some()
            || self.recovery_point_age_hours.is_some()
    }
}

/// One requested property and how a rule fares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyCheck {
    /// The parameter that asked for it, e.g. `backupVaultLockCheck`.
    pub parameter: &'static str,
    /// Whether the rule meets it.
    pub met: bool,
    /// What was seen, e.g. "its vault `Default` is not locked".
    pub detail: String,
}

/// The checks of one rule of a covering plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCheck {
    /// The rule's name.
    pub rule: String,
    /// One check per requested property.
    pub checks: Vec<PropertyCheck>,
}

impl RuleCheck {
    /// Whether every property is met.
    pub fn meets_all(&self) -> bool {
        self.checks.iter().all(|c| c.met)
    }

    fn unmet(&self) -> usize {
        self.checks.iter().filter(|c| !c.met).count()
    }
}

/// The region of a backup vault ARN and its account: `arn:<p>:backup:<region>:<account>:backup-vault:<name>`.
fn vault_scope(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "backup", region, account, "backup-vault", _] => Some((region, account)),
        _ => None,
    }
}

fn check(parameter: &'static str, met: bool, detail: String) -> PropertyCheck {
    PropertyCheck {
        parameter,
        met,
        detail,
    }
}

/// The vault lists a copy's destination can be judged by (spec §10): the Region's own, and
/// those of the account's other Regions that were read. A destination in another account, or
/// in a Region whose vaults were not read, has a lock nobody here knows.
#[derive(Debug, Clone, Copy)]
pub struct Destinations<'a> {
    /// The account the catalog was read in.
    pub account: &'a str,
    /// Its Region.
    pub region: &'a str,
    /// The Region's vaults, when listed.
    pub local: Option<&'a BTreeMap<String, Vault>>,
    /// Other Regions' vaults, by Region.
    pub remote: &'a BTreeMap<String, BTreeMap<String, Vault>>,
}

impl<'a> Destinations<'a> {
    /// The destinations a catalog knows.
    pub fn of(catalog: &'a RegionCatalog) -> Destinations<'a> {
        Destinations {
            account: &catalog.account,
            region: &catalog.region,
            local: catalog.vaults.as_ref(),
            remote: &catalog.copy_vaults,
        }
    }

    /// Whether copies to `arn`, kept `retention`, succeed: yes, no, or unknown, and why.
    fn judge(&self, arn: &str, retention: Option<i64>) -> (Option<bool>, String) {
        let Some((region, account)) = vault_scope(arn) else {
            return (Some(false), format!("`{arn}` is not a backup vault ARN"));
        };
        let name = arn.rsplit(':').next().unwrap_or_default();
        let list = if account != self.account {
            None
        } else if region == self.region {
            self.local
        } else {
            self.remote.get(region)
        };
        let Some(list) = list else {
            return (
                None,
                format!("the lock of destination vault `{name}` in account {account} Region {region} is not known"),
            );
        };
        match list.get(name).map(|v| RuleEffect::of_lock(v, retention)) {
            None => (Some(false), format!("its destination vault `{name}` in {region} does not exist")),
            Some(RuleEffect::LockRefuses { min, max }) => (
                Some(false),
                format!(
                    "the lock of destination vault `{name}` in {region} accepts only {} and the copies are kept {}",
                    lock_range_words(min, max),
                    retention_words(retention)
                ),
            ),
            Some(RuleEffect::LockForeverAmbiguous { min }) => (
                None,
                format!("copies kept forever against destination vault `{name}`'s lock minimum of {min} days (A-LOCK-FOREVER)"),
            ),
            Some(_) => (Some(true), format!("it copies to vault `{name}` in {region}")),
        }
    }
}

/// One copy action and whether its destination takes it.
struct CopyCheck<'a> {
    region: &'a str,
    account: &'a str,
    /// Yes, no, or unknown (never counted).
    accepted: Option<bool>,
    detail: String,
}

/// Checks one rule against the rule-level properties.
pub fn check_rule(
    policy: &Policy,
    rule: &BackupRule,
    vaults: Option<&BTreeMap<String, Vault>>,
    destinations: &Destinations<'_>,
) -> RuleCheck {
    let mut checks = Vec::new();
    if policy.needs_vaults() {
        let name = rule.target_vault.as_deref().unwrap_or("(none)");
        let parameter = "backupVaultLockCheck";
        match vaults.map(|v| v.get(name)) {
            None => checks.push(check(
                parameter,
                false,
                format!("vault `{name}` was not described, so its lock is unknown"),
            )),
            Some(None) => checks.push(check(
                parameter,
                false,
                format!("vault `{name}` was not found"),
            )),
            Some(Some(v)) if !v.locked => checks.push(check(
                parameter,
                false,
                format!("its vault `{name}` is not locked"),
            )),
            Some(Some(v)) => {
                checks.push(check(
                    parameter,
                    true,
                    format!("its vault `{name}` is locked"),
                ));
                if let Some(min) = policy.min_retention_days {
                    let got = v.min_retention_days.unwrap_or(0);
                    checks.push(check(
                        "minRetentionDays",
                        got >= i64::from(min),
                        format!("vault `{name}`'s lock keeps recovery points at least {got} days (minRetentionDays {min})"),
                    ));
                }
                if let Some(max) = policy.max_retention_days {
                    let (met, detail) = match v.max_retention_days {
                        Some(got) => (
                            got <= i64::from(max),
                            format!("vault `{name}`'s lock allows retention up to {got} days (maxRetentionDays {max})"),
                        ),
                        None => (false, format!("vault `{name}`'s lock sets no maximum retention (maxRetentionDays {max})")),
                    };
                    checks.push(check("maxRetentionDays", met, detail));
                }
            }
        }
    }
    // A copy counts only where its destination is known to accept it (spec §10): a vault
    // that exists, whose lock takes the copies' retention.
    let copies: Vec<CopyCheck<'_>> = rule
        .copies
        .iter()
        .filter_map(|c| {
            let (region, account) = vault_scope(&c.destination)?;
            let (accepted, detail) = destinations.judge(&c.destination, c.delete_after_days);
            Some(CopyCheck {
                region,
                account,
                accepted,
                detail,
            })
        })
        .collect();
    // The first copy there that is accepted, else the first copy there, else none.
    let copy_check =
        |parameter: &'static str, there: &dyn Fn(&CopyCheck<'_>) -> bool, place: String| {
            let mut to_there = copies.iter().filter(|c| there(c));
            match to_there.clone().find(|c| c.accepted == Some(true)) {
                Some(c) => check(parameter, true, c.detail.clone()),
                None => match to_there.next() {
                    Some(c) => check(parameter, false, c.detail.clone()),
                    None => check(
                        parameter,
                        false,
                        format!("it copies to no vault in {place}"),
                    ),
                },
            }
        };
    for region in &policy.cross_regions {
        checks.push(copy_check(
            "crossRegionList",
            &|c| c.region == region,
            region.clone(),
        ));
    }
    for account in &policy.cross_accounts {
        checks.push(copy_check(
            "crossAccountList",
            &|c| c.account == account,
            format!("account {account}"),
        ));
    }
    if let Some(days) = policy.retention_days {
        let (met, detail) = match rule.delete_after_days {
            None => (true, "its recovery points never expire".to_string()),
            Some(d) => (
                d >= i64::from(days),
                format!("it keeps recovery points {d} days (requiredRetentionDays {days})"),
            ),
        };
        checks.push(check("requiredRetentionDays", met, detail));
    }
    if let Some(hours) = policy.frequency_hours {
        let (met, detail) = match rule.schedule.as_deref().map(max_interval_hours) {
            None => (false, "it has no schedule".to_string()),
            Some(Ok(h)) => (
                h <= f64::from(hours),
                format!("it runs at most {h} hours apart (requiredFrequencyHours {hours})"),
            ),
            Some(Err(why)) => (false, format!("its schedule is not understood: {why}")),
        };
        checks.push(check("requiredFrequencyHours", met, detail));
    }
    RuleCheck {
        rule: rule.name.clone(),
        checks,
    }
}

/// The table-level property: a completed recovery point no older than the limit.
pub fn check_recovery_points(
    hours: u32,
    points: Option<&[RecoveryPoint]>,
    now: DateTime<Utc>,
) -> PropertyCheck {
    let parameter = "maxRecoveryPointAgeHours";
    let Some(points) = points else {
        return check(
            parameter,
            false,
            "its recovery points were not read".to_string(),
        );
    };
    let latest = points
        .iter()
        .filter(|p| p.status == "COMPLETED")
        .map(|p| p.created)
        .max();
    match latest {
        None => check(
            parameter,
            false,
            format!("it has no completed recovery point (maxRecoveryPointAgeHours {hours})"),
        ),
        Some(t) => {
            // Said with the point's own time, never its age: an age grows every pass, and a
            // changed annotation is put (and billed) again though nothing changed.
            let within = now - t <= chrono::Duration::hours(i64::from(hours));
            let when = t.format("%Y-%m-%d %H:%M UTC");
            let detail = if within {
                format!("it has a completed recovery point within the last {hours} hours (the latest is of {when})")
            } else {
                format!("it has no completed recovery point in the last {hours} hours (the latest is of {when}; maxRecoveryPointAgeHours {hours})")
            };
            check(parameter, within, detail)
        }
    }
}

/// One covering selection's plan under the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The covering selection.
    pub covering: Covering,
    /// Each rule of its plan.
    pub rules: Vec<RuleCheck>,
}

impl Candidate {
    /// The rule meeting everything, or else the one missing the fewest properties.
    fn best_rule(&self) -> Option<&RuleCheck> {
        self.rules
            .iter()
            .find(|r| r.meets_all())
            .or_else(|| self.rules.iter().min_by_key(|r| r.unmet()))
    }
}

/// Checks every covering selection's plan.
pub fn candidates(policy: &Policy, coverage: &Verdict, catalog: &RegionCatalog) -> Vec<Candidate> {
    coverage
        .covered_by
        .iter()
        .map(|c| {
            let plan: Option<&BackupPlan> = catalog.plans.iter().find(|p| p.id == c.backup_plan_id);
            Candidate {
                covering: c.clone(),
                rules: plan
                    .map(|p| {
                        p.rules
                            .iter()
                            // A rule whose vault is gone backs nothing up (spec §9).
                            .filter(|r| r.backs_up())
                            .map(|r| {
                                check_rule(
                                    policy,
                                    r,
                                    catalog.vaults.as_ref(),
                                    &Destinations::of(catalog),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Applies the policy to a coverage verdict. `recovery_points` is the table-level check, when
/// asked for. Only a COMPLIANT verdict can change.
pub fn apply(
    policy: &Policy,
    coverage: Verdict,
    catalog: &RegionCatalog,
    recovery_points: Option<PropertyCheck>,
) -> Verdict {
    if coverage.compliance != Compliance::Compliant || !policy.has_properties() {
        return coverage;
    }
    let all = candidates(policy, &coverage, catalog);
    let meeting: Vec<Covering> = all
        .iter()
        .filter(|c| c.rules.iter().any(RuleCheck::meets_all))
        .map(|c| c.covering.clone())
        .collect();
    let table_ok = recovery_points.as_ref().is_none_or(|c| c.met);
    if !meeting.is_empty() && table_ok {
        let mut v = Verdict::covered(meeting);
        v.reason.push_str(" meeting every requested property");
        return v;
    }
    // Name the best candidate and the first property it misses.
    let best = all
        .iter()
        .filter_map(|c| c.best_rule().map(|r| (c, r)))
        .min_by_key(|(_, r)| r.unmet());
    let missing: Option<(String, &PropertyCheck)> = match (&best, &recovery_points) {
        (Some((c, r)), _) if !r.meets_all() => r
            .checks
            .iter()
            .find(|p| !p.met)
            .map(|p| (phrase(&c.covering, Some(&r.rule)), p)),
        (_, Some(rp)) if !rp.met => Some((phrase(&all[0].covering, None), rp)),
        (None, _) => None,
        _ => None,
    };
    let reason = match missing {
        // Name the parameter once: most details already end with it and its value.
        Some((at, p)) if p.detail.contains(p.parameter) => format!("{at} but {}", p.detail),
        Some((at, p)) => format!("{at} but {} ({})", p.detail, p.parameter),
        None => format!(
            "covered, but plan `{}` has no rules to check",
            all.first()
                .map_or("?", |c| c.covering.backup_plan_name.as_str())
        ),
    };
    let reason = crate::text::shown(&reason).into_owned();
    Verdict {
        compliance: Compliance::NonCompliant,
        kind: ReasonKind::PolicyUnmet,
        reason,
        covered_by: Vec::new(),
        about: best
            .map(|(c, _)| c)
            .or(all.first())
            .map(|c| format!("plan `{}`", c.covering.backup_plan_name)),
    }
}

fn phrase(c: &Covering, rule: Option<&str>) -> String {
    let rule = rule.map(|r| format!(", rule `{r}`")).unwrap_or_default();
    format!(
        "covered by plan `{}` (selection `{}`{rule})",
        c.backup_plan_name, c.selection_name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OptIn, RegionSettings};
    use chrono::TimeZone;

    fn rule(vault: &str, days: Option<i64>, copies: &[&str], schedule: &str) -> BackupRule {
        BackupRule {
            name: "daily".into(),
            target_vault: Some(vault.into()),
            schedule: Some(schedule.into()),
            delete_after_days: days,
            copies: copies
                .iter()
                .map(|c| crate::model::CopyAction {
                    destination: c.to_string(),
                    delete_after_days: Some(35),
                })
                .collect(),
            effect: crate::model::RuleEffect::Unchecked,
            document: Default::default(),
        }
    }

    fn vaults() -> BTreeMap<String, Vault> {
        [
            Vault {
                name: "locked".into(),
                locked: true,
                min_retention_days: Some(7),
                max_retention_days: Some(365),
                lock_date: None,
            },
            Vault {
                name: "open".into(),
                locked: false,
                min_retention_days: None,
                max_retention_days: None,
                lock_date: None,
            },
            Vault {
                name: "no-max".into(),
                locked: true,
                min_retention_days: Some(1),
                max_retention_days: None,
                lock_date: None,
            },
        ]
        .into_iter()
        .map(|v| (v.name.clone(), v))
        .collect()
    }

    fn policy(f: impl FnOnce(&mut Policy)) -> Policy {
        let mut p = Policy::default();
        f(&mut p);
        p
    }

    /// The account's other Regions, as a snapshot would list them: us-west-2 has an open vault
    /// `dr` and a `strict` one whose lock takes 90 days at least.
    fn remote() -> BTreeMap<String, BTreeMap<String, Vault>> {
        let v = |name: &str, min: Option<i64>| Vault {
            name: name.into(),
            locked: min.is_some(),
            min_retention_days: min,
            max_retention_days: None,
            lock_date: None,
        };
        BTreeMap::from([(
            "us-west-2".to_string(),
            BTreeMap::from([
                ("dr".to_string(), v("dr", None)),
                ("strict".to_string(), v("strict", Some(90))),
            ]),
        )])
    }

    fn check_here(
        p: &Policy,
        r: &BackupRule,
        vaults: Option<&BTreeMap<String, Vault>>,
    ) -> RuleCheck {
        let remote = remote();
        let d = Destinations {
            account: "111122223333",
            region: "us-east-1",
            local: vaults,
            remote: &remote,
        };
        check_rule(p, r, vaults, &d)
    }

    fn unmet(p: &Policy, r: &BackupRule) -> Vec<&'static str> {
        check_here(p, r, Some(&vaults()))
            .checks
            .iter()
            .filter(|c| !c.met)
            .map(|c| c.parameter)
            .collect()
    }

    #[test]
    fn vault_lock_and_its_retention_bounds() {
        let lock = policy(|p| p.vault_lock = true);
        assert!(unmet(&lock, &rule("locked", None, &[], "rate(1 hour)")).is_empty());
        assert_eq!(
            unmet(&lock, &rule("open", None, &[], "rate(1 hour)")),
            vec!["backupVaultLockCheck"]
        );
        assert_eq!(
            unmet(&lock, &rule("missing", None, &[], "rate(1 hour)")),
            vec!["backupVaultLockCheck"]
        );
        let bounds = policy(|p| {
            p.vault_lock = true;
            p.min_retention_days = Some(30);
            p.max_retention_days = Some(400);
        });
        assert_eq!(
            unmet(&bounds, &rule("locked", None, &[], "rate(1 hour)")),
            vec!["minRetentionDays"]
        );
        assert_eq!(
            unmet(&bounds, &rule("no-max", None, &[], "rate(1 hour)")),
            vec!["minRetentionDays", "maxRetentionDays"]
        );
        // Vaults never described: the lock is unknown, which never passes.
        let r = check_here(&lock, &rule("locked", None, &[], "rate(1 hour)"), None);
        assert!(!r.meets_all() && r.checks[0].detail.contains("not described"));
    }

    #[test]
    fn copies_retention_and_frequency() {
        let copies = policy(|p| {
            p.cross_regions = vec!["us-west-2".into()];
            p.cross_accounts = vec!["444455556666".into()];
        });
        let west = "arn:aws:backup:us-west-2:111122223333:backup-vault:dr";
        let other = "arn:aws:backup:us-east-1:444455556666:backup-vault:central";
        // Another account's vault: its lock cannot be known here, so never a definite yes.
        let r = check_here(
            &copies,
            &rule("open", None, &[west, other], "rate(1 hour)"),
            Some(&vaults()),
        );
        assert!(
            r.checks
                .iter()
                .find(|c| c.parameter == "crossRegionList")
                .unwrap()
                .met
        );
        let acct = r
            .checks
            .iter()
            .find(|c| c.parameter == "crossAccountList")
            .unwrap();
        assert!(!acct.met && acct.detail.contains("not known"), "{acct:?}");
        assert_eq!(
            unmet(&copies, &rule("open", None, &[west], "rate(1 hour)")),
            vec!["crossAccountList"]
        );
        // A destination whose lock refuses the copies' 35 days, and one that does not exist.
        let west_only = policy(|p| p.cross_regions = vec!["us-west-2".into()]);
        let strict = "arn:aws:backup:us-west-2:111122223333:backup-vault:strict";
        let r = check_here(
            &west_only,
            &rule("open", None, &[strict], "rate(1 hour)"),
            Some(&vaults()),
        );
        assert!(
            !r.checks[0].met && r.checks[0].detail.contains("accepts only at least 90 days"),
            "{r:?}"
        );
        let gone = "arn:aws:backup:us-west-2:111122223333:backup-vault:gone";
        let r = check_here(
            &west_only,
            &rule("open", None, &[gone], "rate(1 hour)"),
            Some(&vaults()),
        );
        assert!(
            !r.checks[0].met && r.checks[0].detail.contains("does not exist"),
            "{r:?}"
        );
        // A Region whose vaults were not read: unknown.
        let east2 = "arn:aws:backup:us-east-2:111122223333:backup-vault:dr";
        let p2 = policy(|p| p.cross_regions = vec!["us-east-2".into()]);
        let r = check_here(
            &p2,
            &rule("open", None, &[east2], "rate(1 hour)"),
            Some(&vaults()),
        );
        assert!(
            !r.checks[0].met && r.checks[0].detail.contains("not known"),
            "{r:?}"
        );
        let keep = policy(|p| p.retention_days = Some(35));
        assert!(
            unmet(&keep, &rule("open", None, &[], "rate(1 hour)")).is_empty(),
            "never expires counts"
        );
        assert!(unmet(&keep, &rule("open", Some(35), &[], "rate(1 hour)")).is_empty());
        assert_eq!(
            unmet(&keep, &rule("open", Some(7), &[], "rate(1 hour)")),
            vec!["requiredRetentionDays"]
        );
        let often = policy(|p| p.frequency_hours = Some(24));
        assert!(unmet(&often, &rule("open", None, &[], "cron(0 5 ? * * *)")).is_empty());
        assert_eq!(
            unmet(&often, &rule("open", None, &[], "cron(0 5 ? * SUN *)")),
            vec!["requiredFrequencyHours"]
        );
        let odd = check_here(&often, &rule("open", None, &[], "cron(0 5 1 * ? *)"), None);
        assert!(odd.checks[0].detail.contains("not understood"), "{:?}", odd);
    }

    #[test]
    fn recovery_point_age_counts_only_completed_points() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let at = |h: i64, status: &str| RecoveryPoint {
            created: now - chrono::Duration::hours(h),
            status: status.into(),
        };
        assert!(check_recovery_points(24, Some(&[at(5, "COMPLETED")]), now).met);
        let stale = check_recovery_points(24, Some(&[at(30, "COMPLETED"), at(2, "PARTIAL")]), now);
        assert!(
            !stale.met
                && stale
                    .detail
                    .contains("no completed recovery point in the last 24 hours")
                && stale.detail.contains("2026-11-20 06:00 UTC"),
            "{}",
            stale.detail
        );
        // The same situation later says the same thing: nothing in it grows with time.
        let later = check_recovery_points(
            24,
            Some(&[at(30, "COMPLETED"), at(2, "PARTIAL")]),
            now + chrono::Duration::hours(20),
        );
        assert_eq!(later.detail, stale.detail);
        assert!(!check_recovery_points(24, Some(&[]), now).met);
        assert!(!check_recovery_points(24, None, now).met);
    }

    #[test]
    fn a_covered_table_without_a_qualifying_plan_names_the_best_candidate() {
        let catalog = RegionCatalog {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            settings: RegionSettings {
                dynamodb_opt_in: OptIn::Enabled,
                dynamodb_management: None,
            },
            plans: vec![BackupPlan {
                document: Default::default(),
                id: "p1".into(),
                name: "daily".into(),
                arn: None,
                version_id: None,
                deletion_date: None,
                account: "111122223333".into(),
                region: "us-east-1".into(),
                rules: vec![rule("open", None, &[], "rate(1 hour)")],
                selections: Vec::new(),
            }],
            vaults: Some(vaults()),
            copy_vaults: Default::default(),
        };
        let covered = Verdict::covered(vec![Covering {
            backup_plan_id: "p1".into(),
            backup_plan_name: "daily".into(),
            selection_id: "s1".into(),
            selection_name: "all-tables".into(),
        }]);
        let lock = policy(|p| p.vault_lock = true);
        let v = apply(&lock, covered.clone(), &catalog, None);
        assert_eq!(v.compliance, Compliance::NonCompliant);
        assert_eq!(
            v.reason,
            "covered by plan `daily` (selection `all-tables`, rule `daily`) but its vault `open` is not locked (backupVaultLockCheck)"
        );
        let none = apply(&Policy::default(), covered.clone(), &catalog, None);
        assert_eq!(none, covered);
        let keep = policy(|p| p.retention_days = Some(1));
        let ok = apply(&keep, covered, &catalog, None);
        assert_eq!(ok.compliance, Compliance::Compliant);
        assert!(ok.reason.ends_with("meeting every requested property"));
    }
}
