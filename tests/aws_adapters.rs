//! The rule handler with the real SDK clients, over HTTP, against the fake AWS endpoint:
//! paging, caching, the no-read paths, retries, typed failures, PutEvaluations batching and
//! test mode, and cross-account isolation.

use crate::util::fake_aws::{FakeAws, Fault};
use crate::util::{config_event, demo_snapshot, repo_path, table_change};
use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::coverage::{Compliance, ReasonKind};
use dynamodb_backup_rule::event::decode_payload;
use dynamodb_backup_rule::model::Evaluation;
use dynamodb_backup_rule::ports::Scope;
use dynamodb_backup_rule::rule::Caller;
use dynamodb_backup_rule::{rule, Error};
use serde_json::{json, Value};
use std::time::Duration;

const OWN: &str = "111122223333";

async fn env(fake: &FakeAws, ttl: Duration) -> AwsEnv {
    crate::util::aws_env(
        fake,
        Settings {
            cache_ttl: ttl,
            ..crate::util::fast_settings()
        },
    )
    .await
}

async fn demo() -> (FakeAws, AwsEnv) {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let env = env(&fake, Duration::from_secs(60)).await;
    (fake, env)
}

fn fixture(name: &str) -> Value {
    let text =
        std::fs::read_to_string(repo_path(&format!("testdata/events/{name}"))).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

async fn run(env: &AwsEnv, event: Value) -> Result<Vec<Evaluation>, Error> {
    let inv = decode_payload(event)?;
    let caller = Caller {
        account: Some(OWN.into()),
        region: Some("us-east-1".into()),
        deadline: None,
        ..Caller::default()
    };
    rule::handle(&inv, env, &caller)
        .await
        .map(|h| h.evaluations)
}

#[tokio::test]
async fn a_covered_table_is_compliant_through_paged_reads() {
    // GIVEN the demo account behind the fake, with pages of two
    let (fake, env) = demo().await;
    // WHEN Config reports a change to `orders`
    let evals = run(&env, fixture("change-covered.json"))
        .await
        .expect("handled");
    // THEN it is COMPLIANT, and Config received exactly that
    assert_eq!(evals[0].compliance, Compliance::Compliant);
    assert!(
        evals[0].annotation.contains("prod-tables"),
        "{}",
        evals[0].annotation
    );
    let puts = fake.puts();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].evaluations[0]["ComplianceResourceId"], "orders");
    assert_eq!(puts[0].evaluations[0]["ComplianceType"], "COMPLIANT");
    assert_eq!(
        puts[0].evaluations[0]["ComplianceResourceType"],
        "AWS::DynamoDB::Table"
    );
    assert!(!puts[0].test_mode);
    // Three active plans at two a page: two ListBackupPlans calls.
    assert_eq!(fake.count("ListBackupPlans"), 2);
    assert_eq!(fake.count("GetBackupPlan"), 3);
    assert_eq!(fake.count("DescribeRegionSettings"), 1);
    assert_eq!(fake.count("GetBackupSelection"), 5);
    // Tags came with the configuration item.
    assert_eq!(fake.count("ListTagsOfResource"), 0);
}

#[tokio::test]
async fn a_thousand_change_events_read_the_catalog_once() {
    let (fake, env) = demo().await;
    for i in 0..1000 {
        let name = ["orders", "feature-flags", "metrics", "users"][i % 4];
        let ev = config_event(
            &table_change(
                OWN,
                "us-east-1",
                name,
                Some(json!({"env": "prod"})),
                "ACTIVE",
            ),
            &json!({}),
            "token",
        );
        run(&env, ev).await.expect("handled");
    }
    assert_eq!(fake.count("DescribeRegionSettings"), 1);
    assert_eq!(fake.count("ListBackupPlans"), 2);
    assert_eq!(fake.count("PutEvaluations"), 1000);
    let reads = fake.log().len() - 1000;
    assert_eq!(
        reads,
        fake.backup_requests(),
        "nothing but one catalog load besides the puts"
    );
}

#[tokio::test]
async fn a_zero_ttl_reloads_but_reuses_immutable_selections() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let env = env(&fake, Duration::ZERO).await;
    run(&env, fixture("change-covered.json")).await.unwrap();
    run(&env, fixture("change-covered.json")).await.unwrap();
    assert_eq!(fake.count("ListBackupPlans"), 4, "reloaded on every event");
    assert_eq!(
        fake.count("GetBackupSelection"),
        10,
        "nothing is kept with the cache off"
    );
}

#[tokio::test]
async fn inapplicable_events_read_nothing_from_aws_backup() {
    let (fake, env) = demo().await;
    for (name, why) in [
        ("left-scope.json", "left the rule's scope"),
        ("deleted.json", "ResourceDeleted"),
        ("non-table.json", "AWS::S3::Bucket is not a DynamoDB table"),
        ("change-creating.json", "table status is CREATING"),
    ] {
        let evals = run(&env, fixture(name)).await.expect(name);
        assert_eq!(evals[0].compliance, Compliance::NotApplicable, "{name}");
        assert!(
            evals[0].annotation.contains(why),
            "{name}: {}",
            evals[0].annotation
        );
    }
    assert_eq!(fake.backup_requests(), 0);
    assert_eq!(fake.count("ListTagsOfResource"), 0);
    assert_eq!(fake.count("PutEvaluations"), 4);
    let s3 = &fake.puts()[2].evaluations[0];
    assert_eq!(s3["ComplianceResourceType"], "AWS::S3::Bucket");
}

#[tokio::test]
async fn tags_are_read_only_when_the_item_lacks_them_and_selections_need_them() {
    let (fake, env) = demo().await;
    let evals = run(&env, fixture("change-tags-missing.json"))
        .await
        .unwrap();
    assert_eq!(
        evals[0].compliance,
        Compliance::Compliant,
        "{}",
        evals[0].annotation
    );
    // metrics has two tags and pages hold two: one call.
    assert_eq!(fake.count("ListTagsOfResource"), 1);
}

#[tokio::test]
async fn oversized_items_are_fetched_as_of_their_capture_time() {
    let (fake, env) = demo().await;
    let evals = run(&env, fixture("oversized.json")).await.unwrap();
    assert_eq!(fake.count("GetResourceConfigHistory"), 1);
    assert_eq!(
        evals[0].compliance,
        Compliance::Compliant,
        "{}",
        evals[0].annotation
    );
    assert_eq!(
        evals[0].ordering_timestamp.to_rfc3339(),
        "2026-11-20T10:15:30.123+00:00"
    );
}

#[tokio::test]
async fn throttling_is_retried_and_then_fails_typed_without_a_verdict() {
    let (fake, env) = demo().await;
    fake.fail("ListBackupSelections", Fault::Throttle, 2);
    let evals = run(&env, fixture("change-covered.json"))
        .await
        .expect("retried through");
    assert_eq!(evals[0].compliance, Compliance::Compliant);

    let (fake, env) = demo().await;
    fake.fail("GetBackupSelection", Fault::Throttle, 100);
    let err = run(&env, fixture("change-covered.json")).await.unwrap_err();
    assert_eq!(err.error_type(), "Throttled", "{err}");
    assert!(
        err.to_string().contains("backup:GetBackupSelection"),
        "{err}"
    );
    assert!(
        fake.puts().is_empty(),
        "no evaluation from a partial catalog"
    );

    let (fake, env) = demo().await;
    fake.fail("ListBackupPlans", Fault::ServerError, 100);
    let err = run(&env, fixture("change-covered.json")).await.unwrap_err();
    assert_eq!(err.error_type(), "AwsService", "{err}");
    assert!(fake.puts().is_empty());
}

#[tokio::test]
async fn access_denied_names_the_action() {
    let (fake, env) = demo().await;
    fake.fail("DescribeRegionSettings", Fault::AccessDenied, 1);
    let err = run(&env, fixture("change-covered.json")).await.unwrap_err();
    assert_eq!(err.error_type(), "AccessDenied");
    let text = err.to_string();
    assert!(
        text.contains("backup:DescribeRegionSettings") && text.contains("allow"),
        "{text}"
    );
    assert_eq!(
        fake.count("DescribeRegionSettings"),
        1,
        "access denied is not retried"
    );
    assert!(fake.puts().is_empty());
}

#[tokio::test]
async fn rejected_evaluations_are_retried_then_reported() {
    let (fake, env) = demo().await;
    fake.reject_evaluations(1);
    run(&env, fixture("change-covered.json"))
        .await
        .expect("second attempt succeeds");
    assert_eq!(fake.count("PutEvaluations"), 2);

    let (fake, env) = demo().await;
    fake.reject_evaluations(10);
    let err = run(&env, fixture("change-covered.json")).await.unwrap_err();
    assert!(matches!(err, Error::FailedEvaluations { .. }), "{err}");
    assert!(err.to_string().contains("orders"), "{err}");
    assert_eq!(fake.count("PutEvaluations"), rule::PUT_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_rejection_naming_a_resource_we_never_sent_still_counts_as_a_failure() {
    // GIVEN Config reports failures whose resource IDs match none of the evaluations sent
    let (fake, env) = demo().await;
    fake.reject_evaluations_unmatched(10);
    // THEN they are reported at once, never re-sent as a verdict the rule did not decide, and
    // never silently counted as put
    let err = run(&env, fixture("change-covered.json")).await.unwrap_err();
    assert!(matches!(err, Error::FailedEvaluations { .. }), "{err}");
    assert!(err.to_string().contains("ORDERS"), "{err}");
    assert!(err.to_string().contains("did not send"), "{err}");
    assert_eq!(fake.count("PutEvaluations"), 1);
}

#[tokio::test]
async fn test_mode_follows_the_testmode_token() {
    let (fake, env) = demo().await;
    run(&env, fixture("testmode.json")).await.unwrap();
    let put = &fake.puts()[0];
    assert!(put.test_mode);
    assert_eq!(put.result_token, "TESTMODE");
}

#[tokio::test]
async fn evaluations_go_out_in_batches_of_100() {
    let (fake, env) = demo().await;
    let scope = Scope {
        account: OWN.into(),
        region: "us-east-1".into(),
        role_arn: None,
    };
    let evals: Vec<Evaluation> = (0..250)
        .map(|i| Evaluation {
            resource_type: "AWS::DynamoDB::Table".into(),
            resource_id: format!("t{i}"),
            compliance: Compliance::NotApplicable,
            annotation: "x".into(),
            ordering_timestamp: chrono::DateTime::UNIX_EPOCH,
            reason: "x".into(),
            reason_kind: ReasonKind::OutOfScope,
            covered_by: Vec::new(),
        })
        .collect();
    rule::put_all(&env, &scope, "token", false, &evals)
        .await
        .unwrap();
    let sizes: Vec<usize> = fake.puts().iter().map(|p| p.evaluations.len()).collect();
    assert_eq!(sizes, vec![100, 100, 50]);
}

#[tokio::test]
async fn rule_parameters_scope_the_evaluation_or_fail_typed() {
    let (fake, env) = demo().await;
    let evals = run(&env, fixture("resource-tags-parameter.json"))
        .await
        .unwrap();
    assert_eq!(evals[0].compliance, Compliance::NotApplicable);
    assert!(
        evals[0].annotation.contains("compliance=pci"),
        "{}",
        evals[0].annotation
    );
    assert_eq!(fake.backup_requests(), 0);

    let err = run(&env, fixture("invalid-parameters.json"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "InvalidParameters");
    assert!(err.to_string().contains("resourceTag"), "{err}");
    assert_eq!(fake.puts().len(), 1, "no put for invalid parameters");
}

#[tokio::test]
async fn another_accounts_table_is_evaluated_with_its_own_plans_under_the_assumed_role() {
    // GIVEN account 1111… whose plans cover `orders`, and account 4444… whose only plan does not
    let (fake, env) = demo().await;
    fake.load_snapshot(&json!({
        "AccountId": "444455556666",
        "Regions": {"us-east-1": {
            "ResourceTypeOptInPreference": {"DynamoDB": true},
            "BackupPlans": [{"BackupPlanId": "member-plan", "BackupPlanName": "member-only", "Rules": [{"RuleName": "r"}],
                "Selections": [{"SelectionId": "member-sel", "BackupSelection": {"SelectionName": "users-only",
                    "Resources": ["arn:aws:dynamodb:us-east-1:444455556666:table/users"]}}]}],
            "Tables": [{"TableName": "orders", "TableArn": "arn:aws:dynamodb:us-east-1:444455556666:table/orders"}]}}
    }));
    // WHEN the function in 1111… gets an event for 4444…
    let evals = run(&env, fixture("cross-account.json")).await.unwrap();
    // THEN it assumes the event's role, reads and puts as 4444…, and 4444…'s plans decide
    assert_eq!(
        fake.assumed_roles(),
        vec!["arn:aws:iam::444455556666:role/dynamodb-backup-rule-member".to_string()]
    );
    assert_eq!(
        evals[0].compliance,
        Compliance::NonCompliant,
        "{}",
        evals[0].annotation
    );
    assert!(
        evals[0].annotation.contains("backup plan in us-east-1"),
        "{}",
        evals[0].annotation
    );
    for l in fake.log().iter().filter(|l| l.service != "sts") {
        assert_eq!(l.account, "444455556666", "{l:?}");
    }
    assert_eq!(fake.puts()[0].account, "444455556666");

    // AND the same table name in the function's own account still gets its own plans' answer.
    let own = run(&env, fixture("change-covered.json")).await.unwrap();
    assert_eq!(own[0].compliance, Compliance::Compliant);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_reads_run_concurrently_but_never_more_than_eight_at_once() {
    // GIVEN 40 plans of 3 selections each, and an endpoint that takes 20 ms to answer
    let fake = FakeAws::start().await;
    let plans: Vec<Value> = (0..40)
        .map(|p| {
            json!({"BackupPlanId": format!("p{p}"), "BackupPlanName": format!("p{p}"), "Rules": [{"RuleName": "r"}],
                "Selections": (0..3).map(|s| json!({"SelectionId": format!("p{p}-s{s}"),
                    "BackupSelection": {"SelectionName": "x", "Resources": [format!("arn:aws:dynamodb:us-east-1:111122223333:table/t{p}{s}")]}}))
                    .collect::<Vec<_>>()})
        })
        .collect();
    fake.load_snapshot(&json!({"AccountId": OWN, "Regions": {"us-east-1": {
        "ResourceTypeOptInPreference": {"DynamoDB": true}, "BackupPlans": plans, "Tables": []}}}));
    fake.set_page_size(100);
    fake.set_latency(Duration::from_millis(20));
    let env = env(&fake, Duration::from_secs(60)).await;
    // WHEN the catalog is loaded
    let ev = config_event(
        &table_change(OWN, "us-east-1", "t00", Some(json!({})), "ACTIVE"),
        &json!({}),
        "t",
    );
    run(&env, ev).await.expect("handled");
    // THEN calls overlapped, but never beyond the bound
    assert_eq!(fake.count("GetBackupSelection"), 120);
    let max = fake.max_in_flight();
    assert!((4..=8).contains(&max), "max in flight {max}");
}

#[tokio::test]
async fn a_role_that_cannot_be_assumed_is_access_denied_naming_the_role() {
    // GIVEN STS refuses the member role
    let (fake, env) = demo().await;
    fake.fail("AssumeRole", Fault::AccessDenied, 10);
    // WHEN a member account's event arrives
    let err = run(&env, fixture("cross-account.json")).await.unwrap_err();
    // THEN the error is AccessDenied and names the role, and nothing was read or put
    assert_eq!(err.error_type(), "AccessDenied", "{err}");
    assert!(
        err.to_string()
            .contains("arn:aws:iam::444455556666:role/dynamodb-backup-rule-member"),
        "{err}"
    );
    assert_eq!(fake.backup_requests(), 0);
    assert!(fake.puts().is_empty());
}

#[tokio::test]
async fn a_plan_answer_without_a_plan_fails_instead_of_reading_as_no_rules() {
    // GIVEN GetBackupPlan answers 200 with no BackupPlan
    let (fake, env) = demo().await;
    fake.fail("GetBackupPlan", Fault::Empty, 1);
    // THEN the invocation fails, and no verdict is put from a plan read as rule-less
    let err = run(&env, fixture("change-covered.json")).await.unwrap_err();
    assert_eq!(err.error_type(), "AwsService", "{err}");
    assert!(err.to_string().contains("has no BackupPlan"), "{err}");
    assert!(fake.puts().is_empty());
}

#[tokio::test]
async fn a_conditions_operator_the_sdk_does_not_model_is_kept_on_the_live_path() {
    // GIVEN `prod-tables` (which covers `orders`) carries a fifth Conditions operator in the
    // GetBackupSelection response
    let mut doc = demo_snapshot();
    doc["Regions"]["us-east-1"]["BackupPlans"][0]["Selections"][0]["BackupSelection"]
        ["Conditions"]["StringEqualsIgnoreCase"] =
        json!([{"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "GOLD"}]);
    let fake = FakeAws::start().await;
    fake.load_snapshot(&doc);
    let env = env(&fake, Duration::from_secs(60)).await;
    // WHEN `orders` changes
    let evals = run(&env, fixture("change-covered.json")).await.unwrap();
    // THEN the unknown operator is not dropped (which would widen the selection into a false
    // COMPLIANT): the verdict is the offline path's, NON_COMPLIANT naming the operator
    let live = &evals[0];
    assert_eq!(
        live.compliance,
        Compliance::NonCompliant,
        "{}",
        live.annotation
    );
    assert!(
        live.annotation.contains("StringEqualsIgnoreCase"),
        "{}",
        live.annotation
    );
    let snap = dynamodb_backup_rule::snapshot::parse(&doc.to_string()).unwrap();
    let offline = rule::evaluate_snapshot(&snap, &Default::default(), chrono::Utc::now());
    let orders = offline
        .iter()
        .find(|e| e.table.name == "orders" && e.region == "us-east-1")
        .unwrap();
    assert_eq!(orders.verdict.compliance, live.compliance);
    assert_eq!(orders.verdict.annotation(), live.annotation);
}
