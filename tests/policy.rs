//! Policy parameters at the two outer levels (the pure level is tested beside the code):
//! `evaluate --parameters` on the demo account, and the rule with the real SDK against the fake
//! endpoint. For each parameter: a pass, a failure with the right annotation, and an invalid
//! value failing with InvalidParameters.

use crate::util::fake_aws::FakeAws;
use crate::util::{cli, config_event, demo_snapshot, stderr, stdout, table_change};
use dynamodb_backup_rule::aws::AwsEnv;
use dynamodb_backup_rule::coverage::Compliance;
use dynamodb_backup_rule::event::decode_payload;
use dynamodb_backup_rule::model::Evaluation;
use dynamodb_backup_rule::rule::{self, Caller};
use serde_json::{json, Value};

const DEMO: &str = "testdata/snapshots/demo-account.json";
const OWN: &str = "111122223333";

/// (verdict, annotation) of one us-east-1 table under the parameters.
fn evaluate(params: &str, table: &str) -> (String, String) {
    let out = cli(&[
        "evaluate",
        "--snapshot",
        DEMO,
        "--format",
        "json",
        "--parameters",
        params,
    ]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let e = doc["Evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["ComplianceResourceId"] == table && e["Region"] == "us-east-1")
        .unwrap_or_else(|| panic!("{table} not evaluated"))
        .clone();
    (
        e["ComplianceType"].as_str().unwrap().to_string(),
        e["Annotation"].as_str().unwrap().to_string(),
    )
}

/// (parameters, a us-east-1 table that passes, one that fails, what the failure says).
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        r#"{"backupVaultLockCheck":"true"}"#,
        "orders",
        "metrics",
        "its vault `Default` is not locked (backupVaultLockCheck)",
    ),
    (
        r#"{"backupVaultLockCheck":"true","minRetentionDays":"7"}"#,
        "orders",
        "metrics",
        "not locked",
    ),
    (
        r#"{"minRetentionDays":"7"}"#,
        "orders",
        "audit-log",
        "not locked",
    ),
    (
        r#"{"maxRetentionDays":"365"}"#,
        "orders",
        "metrics",
        "not locked",
    ),
    (
        r#"{"crossRegionList":"us-west-2"}"#,
        "orders",
        "metrics",
        "it copies to no vault in us-west-2 (crossRegionList)",
    ),
    (
        r#"{"crossAccountList":"111122223333"}"#,
        "orders",
        "metrics",
        "it copies to no vault in account 111122223333 (crossAccountList)",
    ),
    (
        r#"{"requiredFrequencyHours":"24"}"#,
        "orders",
        "metrics",
        "it runs at most 168 hours apart (requiredFrequencyHours 24)",
    ),
    (
        r#"{"maxRecoveryPointAgeHours":"24"}"#,
        "orders",
        "metrics",
        "it has no completed recovery point in the last 24 hours (the latest is of 2026-11-15 06:00 UTC; maxRecoveryPointAgeHours 24)",
    ),
];

#[test]
fn each_parameter_passes_and_fails_offline_with_the_right_annotation() {
    // (parameters, a table that passes, a table that fails, what the failure says)
    let cases = CASES;
    for &(params, pass, fail, says) in cases {
        let (v, a) = evaluate(params, pass);
        assert_eq!(v, "COMPLIANT", "{params} {pass}: {a}");
        assert!(
            a.ends_with("meeting every requested property"),
            "{params}: {a}"
        );
        let (v, a) = evaluate(params, fail);
        assert_eq!(v, "NON_COMPLIANT", "{params} {fail}: {a}");
        // Annotations quote with ' where reasons use backticks (the console shows them raw).
        assert!(
            a.starts_with("covered by plan 'weekly-tagged'") && a.contains(&says.replace('`', "'")),
            "{params} {fail}: {a}"
        );
    }
    // Bounds on the lock itself.
    let (v, a) = evaluate(r#"{"minRetentionDays":"30"}"#, "orders");
    assert_eq!(v, "NON_COMPLIANT");
    assert!(
        a.contains("keeps recovery points at least 7 days (minRetentionDays 30)"),
        "{a}"
    );
    let (v, a) = evaluate(r#"{"maxRetentionDays":"100"}"#, "orders");
    assert_eq!(v, "NON_COMPLIANT");
    assert!(a.contains("up to 365 days (maxRetentionDays 100)"), "{a}");
    // orders' rule keeps 35 days, metrics' 90.
    let (v, a) = evaluate(r#"{"requiredRetentionDays":"36"}"#, "orders");
    assert_eq!(v, "NON_COMPLIANT");
    assert!(
        a.contains("it keeps recovery points 35 days (requiredRetentionDays 36)"),
        "{a}"
    );
    let (v, _) = evaluate(r#"{"requiredRetentionDays":"36"}"#, "metrics");
    assert_eq!(v, "COMPLIANT");
    let (v, _) = evaluate(r#"{"requiredFrequencyHours":"12"}"#, "orders");
    assert_eq!(v, "NON_COMPLIANT");
    // The exemption tag makes a table not applicable, and says so.
    let (v, a) = evaluate(r#"{"exemptionTag":"team=commerce"}"#, "orders");
    assert_eq!(
        (v.as_str(), a.as_str()),
        (
            "NOT_APPLICABLE",
            "not evaluated: exempt by tag team=commerce (exemptionTag)"
        )
    );
    let (v, _) = evaluate(r#"{"exemptionTag":"team=commerce"}"#, "metrics");
    assert_eq!(v, "COMPLIANT");
}

#[test]
fn invalid_parameter_values_exit_2_naming_the_parameter() {
    for (params, name) in [
        (
            r#"{"backupVaultLockCheck":"maybe"}"#,
            "backupVaultLockCheck",
        ),
        (r#"{"minRetentionDays":"soon"}"#, "minRetentionDays"),
        (r#"{"maxRetentionDays":"-3"}"#, "maxRetentionDays"),
        (r#"{"crossRegionList":"us_east_1"}"#, "crossRegionList"),
        (r#"{"crossAccountList":"12,34"}"#, "crossAccountList"),
        (r#"{"requiredRetentionDays":"0"}"#, "requiredRetentionDays"),
        (
            r#"{"requiredFrequencyHours":"1.5"}"#,
            "requiredFrequencyHours",
        ),
        (r#"{"maxRecoveryPointAgeHours":""}"#, "__none__"),
        (r#"{"exemptionTag":"no-equals"}"#, "exemptionTag"),
        (r#"{"retention":"7"}"#, "retention"),
        (r#"[1]"#, "--parameters"),
    ] {
        let out = cli(&["evaluate", "--snapshot", DEMO, "--parameters", params]);
        if name == "__none__" {
            // An empty value means "not set", as Config's console sends it.
            assert_eq!(out.status.code(), Some(3), "{params}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{params}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("invalid rule parameter {name}")),
            "{params}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn explain_shows_each_property_per_candidate_plan() {
    let out = cli(&[
        "explain",
        "--snapshot",
        DEMO,
        "--table",
        "metrics",
        "--parameters",
        r#"{"backupVaultLockCheck":"true","crossRegionList":"us-west-2","maxRecoveryPointAgeHours":"24"}"#,
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    assert!(
        text.contains("policy parameters, per covering plan:"),
        "{text}"
    );
    assert!(
        text.contains("backupVaultLockCheck: no (its vault `Default` is not locked)"),
        "{text}"
    );
    assert!(
        text.contains("crossRegionList: no (it copies to no vault in us-west-2)"),
        "{text}"
    );
    assert!(
        text.contains("table: maxRecoveryPointAgeHours: no"),
        "{text}"
    );
}

async fn env(fake: &FakeAws) -> AwsEnv {
    crate::util::aws_env(fake, crate::util::fast_settings()).await
}

async fn change(
    env: &AwsEnv,
    table: &str,
    tags: Value,
    params: Value,
) -> Result<Evaluation, dynamodb_backup_rule::Error> {
    let event = config_event(
        &table_change(OWN, "us-east-1", table, Some(tags), "ACTIVE"),
        &params,
        "t",
    );
    let caller = Caller {
        account: Some(OWN.into()),
        region: Some("us-east-1".into()),
        deadline: None,
        ..Caller::default()
    };
    rule::handle(&decode_payload(event)?, env, &caller)
        .await
        .map(|h| h.evaluations[0].clone())
}

#[tokio::test]
async fn the_lambda_path_reads_vaults_once_and_recovery_points_per_covered_table() {
    let fake = FakeAws::start().await;
    let mut demo = demo_snapshot();
    // Recovery points relative to now, since the live path measures age from the clock.
    let now = chrono::Utc::now();
    demo["Regions"]["us-east-1"]["Tables"][0]["RecoveryPoints"] = json!([{"CreationDate": (now - chrono::Duration::hours(2)).to_rfc3339(), "Status": "COMPLETED"}]);
    fake.load_snapshot(&demo);
    let env = env(&fake).await;
    let orders = json!({"env": "prod", "team": "commerce"});
    let metrics = json!({"backup": "weekly", "team": "data-eng"});

    let lock = json!({"backupVaultLockCheck": "true"});
    assert_eq!(
        change(&env, "orders", orders.clone(), lock.clone())
            .await
            .unwrap()
            .compliance,
        Compliance::Compliant
    );
    let m = change(&env, "metrics", metrics.clone(), lock.clone())
        .await
        .unwrap();
    assert_eq!(m.compliance, Compliance::NonCompliant);
    assert!(
        m.annotation.contains("vault 'Default' is not locked"),
        "{}",
        m.annotation
    );
    // The Region's vaults, listed once with the catalog (one page of two, one of one) and
    // cached with it, and those of us-west-2, where a rule copies to (spec §10); never
    // described one by one.
    assert_eq!(fake.count("ListBackupVaults"), 3);
    assert_eq!(fake.count("DescribeBackupVault"), 0);

    let copies = json!({"crossRegionList": "us-west-2"});
    assert_eq!(
        change(&env, "orders", orders.clone(), copies.clone())
            .await
            .unwrap()
            .compliance,
        Compliance::Compliant
    );
    assert!(change(&env, "metrics", metrics.clone(), copies)
        .await
        .unwrap()
        .annotation
        .contains("no vault in us-west-2"));

    let age = json!({"maxRecoveryPointAgeHours": "24"});
    assert_eq!(
        change(&env, "orders", orders.clone(), age.clone())
            .await
            .unwrap()
            .compliance,
        Compliance::Compliant
    );
    let stale = change(&env, "metrics", metrics.clone(), age.clone())
        .await
        .unwrap();
    assert!(
        stale.annotation.contains("maxRecoveryPointAgeHours"),
        "{}",
        stale.annotation
    );
    assert_eq!(fake.count("ListRecoveryPointsByResource"), 2);
    // An uncovered table never costs a recovery-point read.
    change(&env, "feature-flags", json!({}), age).await.unwrap();
    assert_eq!(fake.count("ListRecoveryPointsByResource"), 2);
    // Invalid values fail typed on this path too.
    for bad in [
        json!({"minRetentionDays": "x"}),
        json!({"requiredFrequencyHours": "0"}),
        json!({"backupVaultLockCheck": "1"}),
    ] {
        let e = change(&env, "orders", orders.clone(), bad.clone())
            .await
            .unwrap_err();
        assert_eq!(e.error_type(), "InvalidParameters", "{bad}");
    }

    let exempt = change(
        &env,
        "orders",
        orders,
        json!({"exemptionTag": "team=commerce"}),
    )
    .await
    .unwrap();
    assert_eq!(exempt.compliance, Compliance::NotApplicable);

    let err = change(&env, "metrics", metrics, json!({"crossAccountList": "abc"}))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidParameters");
}

#[tokio::test]
async fn a_failed_vault_read_fails_the_invocation_without_a_verdict() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.fail(
        "ListBackupVaults",
        crate::util::fake_aws::Fault::AccessDenied,
        1,
    );
    let env = env(&fake).await;
    let err = change(
        &env,
        "orders",
        json!({"env": "prod"}),
        json!({"backupVaultLockCheck": "true"}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "AccessDenied");
    assert!(err.to_string().contains("backup:ListBackupVaults"), "{err}");
    assert!(fake.puts().is_empty());
}
