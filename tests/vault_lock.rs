//! Spec §10: a vault lock fails every backup or copy job whose retention is outside its range,
//! so a rule into such a vault backs nothing up. The vectors the issue names, the reasons they
//! give, and the lock fixes, which must never weaken a lock.

use dynamodb_backup_rule::coverage::{Compliance, ReasonKind};
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::remedy::{calls::Call, remediate_region, Kind};
use dynamodb_backup_rule::{rule, snapshot};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";

fn arn(name: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}")
}

/// One table `orders`, selected by plan `daily` (rules `rules`), with `vaults` in us-east-1 and
/// `west` in us-west-2.
fn account(rules: Value, vaults: Value, west: Value) -> Value {
    json!({"AccountId": ACCOUNT, "CaptureTime": "2026-12-01T00:00:00Z", "Regions": {
        "us-east-1": {
            "ResourceTypeOptInPreference": {"DynamoDB": true},
            "BackupVaults": vaults,
            "BackupPlans": [{"BackupPlanId": "p-daily", "BackupPlanName": "daily", "VersionId": "v1",
                "Rules": rules,
                "Selections": [{"SelectionId": "s-1", "BackupSelection": {"SelectionName": "orders-sel",
                    "IamRoleArn": "arn:aws:iam::111122223333:role/backup", "Resources": [arn("orders")]}}]}],
            "Tables": [{"TableName": "orders", "TableArn": arn("orders")}]},
        "us-west-2": {"ResourceTypeOptInPreference": {"DynamoDB": true}, "BackupVaults": west,
            "BackupPlans": [], "Tables": []}}})
}

fn rule_into(vault: &str, days: Option<i64>) -> Value {
    let mut r = json!({"RuleName": "nightly", "TargetBackupVaultName": vault, "ScheduleExpression": "cron(0 5 ? * * *)"});
    if let Some(d) = days {
        r["Lifecycle"] = json!({"DeleteAfterDays": d});
    }
    r
}

fn locked(name: &str, min: Option<i64>, max: Option<i64>) -> Value {
    let mut v = json!({"BackupVaultName": name, "Locked": true});
    if let Some(m) = min {
        v["MinRetentionDays"] = json!(m);
    }
    if let Some(m) = max {
        v["MaxRetentionDays"] = json!(m);
    }
    v
}

fn verdict(doc: &Value, params: &str) -> (Compliance, ReasonKind, String) {
    let snap = snapshot::parse(&doc.to_string()).expect("parses");
    let params = RuleParameters::parse(&serde_json::from_str(params).unwrap()).expect("parameters");
    let now = chrono::Utc::now();
    let e = rule::evaluate_snapshot(&snap, &params, now)
        .into_iter()
        .find(|e| e.table.name == "orders")
        .expect("orders");
    (e.verdict.compliance, e.verdict.kind, e.verdict.reason)
}

#[test]
fn a_minimum_above_the_rules_retention_backs_nothing_up() {
    // GIVEN a rule keeping 35 days into a vault locked at 90 days at least
    let doc = account(
        json!([rule_into("locked", Some(35))]),
        json!([locked("locked", Some(90), None)]),
        json!([]),
    );
    // WHEN the table is judged
    let (c, kind, reason) = verdict(&doc, "{}");
    // THEN it is not covered, and the reason names the plan, the rule, its retention and range
    assert_eq!(c, Compliance::NonCompliant, "{reason}");
    assert_eq!(kind, ReasonKind::PlanInactive);
    for part in [
        "`daily`",
        "`nightly`",
        "35 days",
        "at least 90 days",
        "locked",
    ] {
        assert!(reason.contains(part), "{part}: {reason}");
    }
}

#[test]
fn a_maximum_below_the_rules_retention_backs_nothing_up() {
    let doc = account(
        json!([rule_into("locked", Some(35))]),
        json!([locked("locked", None, Some(30))]),
        json!([]),
    );
    let (c, _, reason) = verdict(&doc, "{}");
    assert_eq!(c, Compliance::NonCompliant);
    assert!(
        reason.contains("at most 30 days") && reason.contains("35 days"),
        "{reason}"
    );
}

#[test]
fn a_rule_that_keeps_points_forever_fails_against_a_maximum() {
    let doc = account(
        json!([rule_into("locked", None)]),
        json!([locked("locked", Some(1), Some(365))]),
        json!([]),
    );
    let (c, kind, reason) = verdict(&doc, "{}");
    assert_eq!(c, Compliance::NonCompliant);
    assert_eq!(kind, ReasonKind::PlanInactive);
    assert!(
        reason.contains("forever") && reason.contains("1 to 365 days"),
        "{reason}"
    );
}

#[test]
fn a_rule_that_keeps_points_forever_against_a_minimum_is_ambiguous_not_decided() {
    let doc = account(
        json!([rule_into("locked", None)]),
        json!([locked("locked", Some(7), None)]),
        json!([]),
    );
    let (c, kind, reason) = verdict(&doc, "{}");
    assert_eq!(c, Compliance::NonCompliant);
    assert_eq!(kind, ReasonKind::Ambiguous);
    assert!(
        reason.contains("A-LOCK-FOREVER") && reason.contains("at least 7 days"),
        "{reason}"
    );
}

#[test]
fn a_range_the_rule_fits_covers_and_one_good_rule_is_enough() {
    let fits = account(
        json!([rule_into("locked", Some(35))]),
        json!([locked("locked", Some(7), Some(365))]),
        json!([]),
    );
    assert_eq!(verdict(&fits, "{}").0, Compliance::Compliant);
    let mixed = account(
        json!([rule_into("locked", Some(3)), rule_into("open", Some(3))]),
        json!([locked("locked", Some(7), None), {"BackupVaultName": "open", "Locked": false}]),
        json!([]),
    );
    assert_eq!(verdict(&mixed, "{}").0, Compliance::Compliant);
}

#[test]
fn a_copy_whose_destination_lock_refuses_it_does_not_count() {
    // GIVEN copies kept 35 days into a us-west-2 vault locked at 90 days at least
    let mut r = rule_into("open", Some(35));
    r["CopyActions"] = json!([{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:111122223333:backup-vault:dr",
        "Lifecycle": {"DeleteAfterDays": 35}}]);
    let open = json!([{"BackupVaultName": "open", "Locked": false}]);
    let doc = account(
        json!([r.clone()]),
        open.clone(),
        json!([locked("dr", Some(90), None)]),
    );
    let (c, _, reason) = verdict(&doc, r#"{"crossRegionList":"us-west-2"}"#);
    assert_eq!(c, Compliance::NonCompliant);
    assert!(
        reason.contains("destination vault `dr`") && reason.contains("at least 90 days"),
        "{reason}"
    );
    // AND the same copy into an unlocked destination counts
    let doc = account(
        json!([r]),
        open,
        json!([{"BackupVaultName": "dr", "Locked": false}]),
    );
    assert_eq!(
        verdict(&doc, r#"{"crossRegionList":"us-west-2"}"#).0,
        Compliance::Compliant
    );
}

#[test]
fn a_gone_vault_is_blamed_only_for_selections_that_select_the_table() {
    // GIVEN a plan whose vault is gone, and whose only selection's condition fails for the table
    let mut doc = account(
        json!([rule_into("gone", Some(35))]),
        json!([{"BackupVaultName": "other", "Locked": false}]),
        json!([]),
    );
    doc["Regions"]["us-east-1"]["BackupPlans"][0]["Selections"][0]["BackupSelection"]
        ["Conditions"] = json!({"StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}]});
    let (c, kind, reason) = verdict(&doc, "{}");
    // THEN the reason is the selection's own, not the vault's
    assert_eq!(c, Compliance::NonCompliant);
    assert_eq!(kind, ReasonKind::ConditionFailed, "{reason}");
    assert!(!reason.contains("no longer exists"), "{reason}");
}

fn remediations(doc: &Value, params: &str) -> Vec<dynamodb_backup_rule::remedy::Remediation> {
    let snap = snapshot::parse(&doc.to_string()).expect("parses");
    let params = RuleParameters::parse(&serde_json::from_str(params).unwrap()).expect("parameters");
    let region = snap
        .regions
        .iter()
        .find(|r| r.catalog.region == "us-east-1")
        .unwrap();
    remediate_region(region, &params, chrono::Utc::now(), None)
}

fn lock_calls(r: &[dynamodb_backup_rule::remedy::Remediation]) -> Vec<(bool, Option<&Call>)> {
    r.iter()
        .flat_map(|r| &r.actions)
        .filter(|a| a.kind == Kind::PutBackupVaultLockConfiguration)
        .map(|a| (a.verified, a.calls.first()))
        .collect()
}

#[test]
fn a_refused_retention_is_fixed_inside_the_locks_range() {
    let doc = account(
        json!([rule_into("locked", Some(35))]),
        json!([locked("locked", Some(90), Some(400))]),
        json!([]),
    );
    let r = remediations(&doc, "{}");
    let fix = r[0].first_verified().expect("a verified fix");
    assert_eq!(fix.kind, Kind::UpdateBackupPlan, "{}", fix.description);
    let Call::UpdateBackupPlan { plan, .. } = &fix.calls[0] else {
        panic!()
    };
    assert_eq!(plan["Rules"][0]["Lifecycle"]["DeleteAfterDays"], 90);
}

#[test]
fn a_lock_fix_passes_both_bounds_and_never_weakens_the_lock() {
    // GIVEN a governance lock of 60 to 400 days, and parameters asking for at least 30
    let doc = account(
        json!([rule_into("locked", Some(100))]),
        json!([locked("locked", Some(60), Some(400))]),
        json!([]),
    );
    let r = remediations(
        &doc,
        r#"{"backupVaultLockCheck":"true","minRetentionDays":"30","maxRetentionDays":"500"}"#,
    );
    // THEN nothing needs fixing: the lock is already stricter than asked
    assert!(
        r.is_empty(),
        "{:?}",
        r.iter().map(|r| &r.reason).collect::<Vec<_>>()
    );
    // AND when the parameters ask for more than the lock has, the new lock keeps the stricter
    // of each bound and passes both
    let r = remediations(
        &doc,
        r#"{"backupVaultLockCheck":"true","minRetentionDays":"90"}"#,
    );
    let calls = lock_calls(&r);
    assert!(!calls.is_empty());
    for (_, call) in calls {
        let Some(Call::PutBackupVaultLockConfiguration {
            min,
            max,
            changeable_for_days,
            ..
        }) = call
        else {
            panic!()
        };
        assert_eq!(
            (*min, *max, *changeable_for_days),
            (Some(90), Some(400), None)
        );
    }
}

#[test]
fn an_immutable_lock_is_never_changed_and_a_compliance_locks_date_is_kept() {
    let mut past = locked("locked", Some(10), Some(400));
    past["LockDate"] = json!("2020-01-01T00:00:00Z");
    let doc = account(
        json!([rule_into("locked", Some(100))]),
        json!([past]),
        json!([]),
    );
    let r = remediations(
        &doc,
        r#"{"backupVaultLockCheck":"true","minRetentionDays":"90"}"#,
    );
    let calls = lock_calls(&r);
    assert!(!calls.is_empty());
    assert!(
        calls
            .iter()
            .all(|(verified, call)| !verified && call.is_none()),
        "{calls:?}"
    );

    let mut future = locked("locked", Some(10), Some(400));
    let date = chrono::Utc::now() + chrono::Duration::days(20);
    future["LockDate"] = json!(date.to_rfc3339());
    let doc = account(
        json!([rule_into("locked", Some(100))]),
        json!([future]),
        json!([]),
    );
    let r = remediations(
        &doc,
        r#"{"backupVaultLockCheck":"true","minRetentionDays":"90"}"#,
    );
    let calls = lock_calls(&r);
    let Some((
        _,
        Some(Call::PutBackupVaultLockConfiguration {
            changeable_for_days,
            ..
        }),
    )) = calls.first()
    else {
        panic!("{calls:?}")
    };
    assert!(
        matches!(changeable_for_days, Some(19) | Some(20)),
        "{changeable_for_days:?}"
    );
}

#[test]
fn a_lock_fix_is_checked_against_every_rule_that_targets_the_vault() {
    // GIVEN a second plan (backing up other resources only) keeping 10 days in the same vault
    let mut doc = account(
        json!([rule_into("shared", Some(100))]),
        json!([{"BackupVaultName": "shared", "Locked": false}]),
        json!([]),
    );
    doc["Regions"]["us-east-1"]["BackupPlans"].as_array_mut().unwrap().push(json!({
        "BackupPlanId": "p-rds", "BackupPlanName": "rds-short", "VersionId": "v1",
        "Rules": [rule_into("shared", Some(10))],
        "Selections": [{"SelectionId": "s-rds", "BackupSelection": {"SelectionName": "rds",
            "IamRoleArn": "arn:aws:iam::111122223333:role/backup", "Resources": ["arn:aws:rds:*:*:db:*"]}}]}));
    // WHEN the lock parameters ask for 30 days at least
    let r = remediations(
        &doc,
        r#"{"backupVaultLockCheck":"true","minRetentionDays":"30"}"#,
    );
    // THEN the lock that would fail the other plan's jobs is not verified, and says why
    let lock = r[0]
        .actions
        .iter()
        .find(|a| a.kind == Kind::PutBackupVaultLockConfiguration)
        .expect("a lock candidate");
    assert!(!lock.verified);
    let why = lock.not_verified_because.as_deref().unwrap_or_default();
    assert!(why.contains("`rds-short`"), "{why}");
}

#[test]
fn a_copy_fix_goes_to_a_destination_vault_that_exists_and_takes_the_copies() {
    // GIVEN a 35-day rule that copies nowhere, crossRegionList us-west-2, and in us-west-2 a
    // vault whose lock refuses 35 days beside one that takes them
    let west = json!([locked("dr-strict", Some(90), None), {"BackupVaultName": "dr"}]);
    let doc = account(
        json!([rule_into("main", Some(35))]),
        json!([{"BackupVaultName": "main"}]),
        west,
    );
    let params = r#"{"crossRegionList":"us-west-2"}"#;
    // WHEN remediation proposes the copy
    let r = remediations(&doc, params);
    let fix = r[0].first_verified().expect("a verified copy fix");
    // THEN it copies into the vault that exists and accepts copies kept as long as the rule's
    // own points, and is verified
    assert_eq!(fix.kind, Kind::UpdateBackupPlan, "{}", fix.description);
    let Call::UpdateBackupPlan { plan, .. } = &fix.calls[0] else {
        panic!("{:?}", fix.calls)
    };
    let copy = &plan["Rules"][0]["CopyActions"][0];
    assert_eq!(
        copy["DestinationBackupVaultArn"],
        "arn:aws:backup:us-west-2:111122223333:backup-vault:dr"
    );
    assert_eq!(copy["Lifecycle"]["DeleteAfterDays"], 35);

    // GIVEN only the vault whose lock refuses the copies
    let doc = account(
        json!([rule_into("main", Some(35))]),
        json!([{"BackupVaultName": "main"}]),
        json!([locked("dr-strict", Some(90), None)]),
    );
    // THEN the copy fix is not verified, and says why
    let r = remediations(&doc, params);
    let copy_fix = r[0]
        .actions
        .iter()
        .find(|a| a.kind == Kind::UpdateBackupPlan && a.description.contains("copy to"))
        .expect("a copy fix is proposed");
    assert!(!copy_fix.verified);
    assert_eq!(
        copy_fix.not_verified_because.as_deref(),
        Some("no backup vault in us-west-2 accepts copies kept 35 days")
    );
}
