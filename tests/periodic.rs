//! Periodic passes, clean-up of stale results, the inventory fallback and re-evaluation on
//! backup changes, through the real SDK against the fake endpoint and through the real binary.

use crate::lambda::{spawn_lambda, stop};
use crate::util::fake_aws::FakeAws;
use crate::util::runtime_api::{Outcome, RuntimeApi};
use crate::util::{config_event, demo_snapshot, repo_path, table_change};
use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::coverage::Compliance;
use dynamodb_backup_rule::event::decode_payload;
use dynamodb_backup_rule::model::Evaluation;
use dynamodb_backup_rule::rule::{self, Caller};
use dynamodb_backup_rule::Error;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const OWN: &str = "111122223333";

fn scheduled(params: Value) -> Value {
    config_event(
        &json!({"awsAccountId": OWN, "notificationCreationTime": "2026-11-21T00:00:00.373Z",
            "messageType": "ScheduledNotification", "recordVersion": "1.0"}),
        &params,
        "periodic-token",
    )
}

/// `n` more tables named `bulk-NNN`, every third tagged env=prod.
fn bulk_tables(n: usize) -> Vec<Value> {
    crate::util::prod_tagged_tables("bulk", n)
}

async fn env(fake: &FakeAws, tag_rate: u32) -> AwsEnv {
    crate::util::aws_env(
        fake,
        Settings {
            tag_reads_per_second: tag_rate,
            ..crate::util::fast_settings()
        },
    )
    .await
}

async fn run(
    env: &AwsEnv,
    event: Value,
    deadline: Option<Instant>,
) -> Result<Vec<Evaluation>, Error> {
    let caller = Caller {
        account: Some(OWN.into()),
        region: Some("us-east-1".into()),
        deadline,
        ..Caller::default()
    };
    rule::handle(&decode_payload(event)?, env, &caller)
        .await
        .map(|h| h.evaluations)
}

fn verdict<'a>(evals: &'a [Evaluation], id: &str) -> Option<&'a Evaluation> {
    evals.iter().find(|e| e.resource_id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_evaluates_every_table_periodically_in_batches_and_clears_stale_results() {
    // GIVEN the demo's us-east-1 tables plus 250 more, pages of 100, and a stale result for a
    // table that was deleted since the last run
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.add_tables(OWN, "us-east-1", bulk_tables(250));
    fake.set_page_size(100);
    fake.report(
        OWN,
        "AWS::DynamoDB::Table",
        "deleted-last-week",
        "NON_COMPLIANT",
    );
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, &fake, &[]);
    // WHEN the scheduled notification arrives
    rt.push("periodic-1", scheduled(json!({})));
    let outcomes = rt.wait_for(1, Duration::from_secs(60)).await;
    let logs = stop(child).await;
    // THEN every table got an evaluation, in batches of at most 100, all stamped with the time
    // the pass began reading its inputs: after the notification, before it answered
    let Some(Outcome::Response { body, .. }) = outcomes.first() else {
        panic!("{outcomes:?}\n{logs}")
    };
    let puts = fake.puts();
    let sizes: Vec<usize> = puts.iter().map(|p| p.evaluations.len()).collect();
    assert_eq!(sizes, vec![100, 100, 62], "261 tables + 1 stale");
    assert_eq!(body["evaluations"], 262);
    let all: Vec<&Value> = puts.iter().flat_map(|p| &p.evaluations).collect();
    let stamp = all[0]["OrderingTimestamp"].as_f64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(stamp > 1_795_219_200.373 && stamp <= now, "{:?}", all[0]);
    assert!(
        all.iter()
            .all(|e| e["OrderingTimestamp"].as_f64() == Some(stamp)),
        "{:?}",
        all[0]
    );
    let find = |id: &str| {
        all.iter()
            .find(|e| e["ComplianceResourceId"] == id)
            .map(|e| e["ComplianceType"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(find("bulk-000").as_deref(), Some("COMPLIANT"));
    assert_eq!(find("bulk-001").as_deref(), Some("NON_COMPLIANT"));
    assert_eq!(find("orders").as_deref(), Some("COMPLIANT"));
    assert_eq!(find("sessions").as_deref(), Some("NOT_APPLICABLE"));
    // AND the deleted table is NOT_APPLICABLE now, so it leaves the dashboard
    assert_eq!(find("deleted-last-week").as_deref(), Some("NOT_APPLICABLE"));
    assert!(!fake.reported(OWN).contains_key("deleted-last-week"));
    // AND the inventory came from Config in 3 pages, with no per-table reads but the one
    // DescribeTable that proved the deleted table gone
    assert_eq!(fake.count("SelectResourceConfig"), 3);
    assert_eq!(fake.count("DescribeTable"), 1);
    assert_eq!(fake.count("ListTagsOfResource"), 0);
    assert!(
        logs.contains("config:SelectResourceConfig"),
        "the inventory source is logged"
    );
}

#[tokio::test]
async fn resource_parameters_are_honoured_in_periodic_passes() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let env = env(&fake, 1000).await;
    let evals = run(
        &env,
        scheduled(json!({"resourceTags": "{\"env\":\"prod\"}"})),
        None,
    )
    .await
    .unwrap();
    assert_eq!(evals.len(), 11);
    assert_eq!(
        verdict(&evals, "orders").unwrap().compliance,
        Compliance::Compliant
    );
    let metrics = verdict(&evals, "metrics").unwrap();
    assert_eq!(metrics.compliance, Compliance::NotApplicable);
    assert!(
        metrics.annotation.contains("resourceTags"),
        "{}",
        metrics.annotation
    );

    // A fresh account, so reconciliation against the first pass's results does not hide what
    // the second pass decides.
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let env = self::env(&fake, 1000).await;
    let evals = run(&env, scheduled(json!({"resourceId": "users"})), None)
        .await
        .unwrap();
    let evaluated: Vec<&str> = evals
        .iter()
        .filter(|e| e.compliance != Compliance::NotApplicable)
        .map(|e| e.resource_id.as_str())
        .collect();
    assert_eq!(evaluated, vec!["users"]);
}

#[tokio::test]
async fn without_configs_inventory_the_pass_reads_dynamodb_and_gets_the_same_verdicts() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let env_config = env(&fake, 1000).await;
    let from_config = run(&env_config, scheduled(json!({})), None).await.unwrap();

    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_recorders(OWN, "us-east-1", json!([]));
    let env_ddb = env(&fake, 1000).await;
    let from_dynamodb = run(&env_ddb, scheduled(json!({})), None).await.unwrap();
    assert_eq!(fake.count("SelectResourceConfig"), 0);
    assert_eq!(fake.count("DescribeTable"), 11);
    // The demo's selections read tags, so the tags are read in bulk from the Tagging API, never
    // table by table.
    assert!(fake.count("GetResources") >= 1);
    assert_eq!(fake.count("ListTagsOfResource"), 0);
    let key = |e: &Evaluation| (e.resource_id.clone(), e.compliance, e.annotation.clone());
    assert_eq!(
        from_config.iter().map(key).collect::<Vec<_>>(),
        from_dynamodb.iter().map(key).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_table_deleted_during_the_fallback_inventory_is_left_out_not_failed() {
    // GIVEN no Config inventory, and a table that disappears between ListTables and DescribeTable
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_recorders(OWN, "us-east-1", json!([]));
    fake.fail("DescribeTable", crate::util::fake_aws::Fault::NotFound, 1);
    let first = env(&fake, 1000).await;
    // WHEN a periodic pass runs
    let evals = run(&first, scheduled(json!({})), None).await.unwrap();
    // THEN the other ten tables are evaluated and the vanished one is not reported
    assert_eq!(evals.len(), 10);
    // Eight descriptions run at once, so which table "vanished" is whichever was asked first.
    let names: std::collections::BTreeSet<&str> =
        evals.iter().map(|e| e.resource_id.as_str()).collect();
    assert_eq!(names.len(), 10, "ten distinct tables, none reported twice");

    // AND any other DescribeTable failure still fails the pass
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_recorders(OWN, "us-east-1", json!([]));
    fake.fail(
        "DescribeTable",
        crate::util::fake_aws::Fault::AccessDenied,
        1,
    );
    let env = env(&fake, 1000).await;
    let err = run(&env, scheduled(json!({})), None).await.unwrap_err();
    assert_eq!(err.error_type(), "AccessDenied");
    assert!(fake.puts().is_empty());
}

#[tokio::test]
async fn without_configs_inventory_tags_are_read_in_bulk_not_per_table() {
    // GIVEN 40 tables, no Config inventory, and a fake that would throttle ListTagsOfResource
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.add_tables(OWN, "us-east-1", bulk_tables(29));
    fake.set_recorders(OWN, "us-east-1", json!([]));
    fake.set_page_size(100);
    fake.limit("ListTagsOfResource", 10);
    let env = env(&fake, 10).await;
    // WHEN a pass runs
    let evals = run(&env, scheduled(json!({})), None).await.unwrap();
    // THEN every table is decided from one page of the Tagging API, with no per-table tag reads
    assert_eq!(evals.len(), 40);
    assert_eq!(fake.count("GetResources"), 1);
    assert_eq!(fake.count("ListTagsOfResource"), 0);
    assert_eq!(
        verdict(&evals, "bulk-000").unwrap().compliance,
        Compliance::Compliant,
        "tags from the Tagging API decide coverage"
    );
}

#[tokio::test]
async fn a_pass_that_cannot_finish_in_time_fails_before_putting_anything() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.add_tables(OWN, "us-east-1", bulk_tables(250));
    fake.set_recorders(OWN, "us-east-1", json!([]));
    let env = env(&fake, 10).await;
    // 261 DescribeTable calls at 20 a second need 13 s; 15 s less the 10 s margin leaves 5.
    let err = run(
        &env,
        scheduled(json!({})),
        Some(Instant::now() + Duration::from_secs(15)),
    )
    .await
    .unwrap_err();
    assert_eq!(err.error_type(), "Timeout", "{err}");
    assert!(err.to_string().contains("261 tables"), "{err}");
    assert_eq!(fake.count("DescribeTable"), 0);
    assert!(fake.puts().is_empty());
}

#[tokio::test]
async fn a_backup_selection_change_reevaluates_the_region_past_the_cache() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let env = env(&fake, 1000).await;
    // GIVEN a warm cache in which feature-flags is not covered
    let ev = config_event(
        &table_change(OWN, "us-east-1", "feature-flags", Some(json!({})), "ACTIVE"),
        &json!({}),
        "t",
    );
    assert_eq!(
        run(&env, ev, None).await.unwrap()[0].compliance,
        Compliance::NonCompliant
    );
    // WHEN someone adds a selection naming it, and Config reports the new BackupSelection
    fake.add_selection(
        OWN,
        "us-east-1",
        "8f2c6a0e-3d4b-4a8e-9c1f-2b7d5e6f8a90",
        json!({
        "SelectionId": "a9b8c7d6-1111-4e5f-8a9b-feedfacecafe",
        "BackupSelection": {"SelectionName": "feature-flags-too",
            "Resources": ["arn:aws:dynamodb:us-east-1:111122223333:table/feature-flags"]}}),
    );
    let text =
        std::fs::read_to_string(repo_path("testdata/events/backup-selection-change.json")).unwrap();
    let reads_before = fake.count("DescribeRegionSettings");
    let evals = run(&env, serde_json::from_str(&text).unwrap(), None)
        .await
        .unwrap();
    // THEN every table of the Region is evaluated against the new catalog, read afresh
    assert!(
        fake.count("DescribeRegionSettings") > reads_before,
        "the cache was bypassed"
    );
    assert_eq!(evals.len(), 12, "11 tables and the selection itself");
    assert_eq!(
        verdict(&evals, "feature-flags").unwrap().compliance,
        Compliance::Compliant
    );
    let own = verdict(&evals, "a9b8c7d6-1111-4e5f-8a9b-feedfacecafe").unwrap();
    assert_eq!(
        (own.resource_type.as_str(), own.compliance),
        ("AWS::Backup::BackupSelection", Compliance::NotApplicable)
    );
    // AND the selection's own result carries the change's capture time, and the tables' the
    // time the pass began reading, which is later: a table event newer than that is not replaced
    assert_eq!(
        own.ordering_timestamp.to_rfc3339(),
        "2026-11-20T11:00:00+00:00"
    );
    let stamp = verdict(&evals, "feature-flags").unwrap().ordering_timestamp;
    assert!(stamp > own.ordering_timestamp);
    assert!(evals
        .iter()
        .filter(|e| e.resource_type == "AWS::DynamoDB::Table")
        .all(|e| e.ordering_timestamp == stamp));
    // AND the pass read what Config keeps, to put only the difference
    assert_eq!(fake.count("GetComplianceDetailsByConfigRule"), 1);
}

#[tokio::test]
async fn a_change_triggered_run_never_cleans_up() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.report(
        OWN,
        "AWS::DynamoDB::Table",
        "deleted-last-week",
        "NON_COMPLIANT",
    );
    let env = env(&fake, 1000).await;
    let ev = config_event(
        &table_change(
            OWN,
            "us-east-1",
            "orders",
            Some(json!({"env": "prod"})),
            "ACTIVE",
        ),
        &json!({}),
        "t",
    );
    let evals = run(&env, ev, None).await.unwrap();
    assert_eq!(evals.len(), 1);
    assert_eq!(fake.count("GetComplianceDetailsByConfigRule"), 0);
    assert!(fake.reported(OWN).contains_key("deleted-last-week"));
}

#[tokio::test]
async fn a_failed_read_during_a_pass_puts_nothing() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_page_size(3);
    fake.fail(
        "SelectResourceConfig",
        crate::util::fake_aws::Fault::ServerError,
        1000,
    );
    let env = env(&fake, 1000).await;
    let err = run(&env, scheduled(json!({})), None).await.unwrap_err();
    assert_eq!(err.error_type(), "AwsService");
    assert!(fake.puts().is_empty());
    fake.fail(
        "SelectResourceConfig",
        crate::util::fake_aws::Fault::ServerError,
        0,
    );
}

#[tokio::test]
async fn a_put_that_fails_midway_says_what_config_already_keeps() {
    // GIVEN 261 tables (three batches) and a PutEvaluations that fails after the first batch
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.add_tables(OWN, "us-east-1", bulk_tables(250));
    fake.set_page_size(100);
    fake.fail_later(
        "PutEvaluations",
        1,
        crate::util::fake_aws::Fault::AccessDenied,
        1,
    );
    let env = env(&fake, 1000).await;
    let err = run(&env, scheduled(json!({})), None).await.unwrap_err();
    // THEN the failure keeps its type and says that 100 of the 261 are already kept
    assert_eq!(err.error_type(), "AccessDenied", "{err}");
    assert!(
        err.to_string()
            .contains("100 of 261 evaluations had already been put"),
        "{err}"
    );
    assert_eq!(fake.results(OWN).len(), 100);
    // AND a retried pass puts only the rest
    let again = run(&env, scheduled(json!({})), None).await.unwrap();
    assert_eq!(again.len(), 161);
}

#[tokio::test]
async fn malformed_tags_in_configs_inventory_are_read_from_dynamodb_never_taken_as_none() {
    // GIVEN Config's row for `orders` carries a `tags` that is not a list of pairs
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.malform_tags("orders");
    let env = env(&fake, 1000).await;
    let evals = run(&env, scheduled(json!({})), None).await.unwrap();
    // THEN its tags are read with ListTagsOfResource, and it keeps its tag-based verdict
    assert_eq!(fake.count("ListTagsOfResource"), 1);
    assert_eq!(
        verdict(&evals, "orders").unwrap().compliance,
        Compliance::Compliant
    );
}
