//! The rule in a real account, through the release-shaped Lambda binary against the fake
//! endpoint that keeps, orders and pages results as Config does: rule creation, an idle
//! periodic pass, a lagging inventory, a stopped recorder, a deleted vault and a tight deadline.

use crate::lambda::{spawn_lambda, stop};
use crate::util::fake_aws::FakeAws;
use crate::util::runtime_api::{Outcome, RuntimeApi};
use crate::util::{config_event, demo_snapshot, rule_creation_events, table_change};
use serde_json::{json, Value};
use std::time::Duration;

const OWN: &str = "111122223333";

fn scheduled() -> Value {
    config_event(
        &json!({"awsAccountId": OWN, "notificationCreationTime": "2026-11-21T00:00:00.373Z",
            "messageType": "ScheduledNotification", "recordVersion": "1.0"}),
        &json!({}),
        "periodic-token",
    )
}

fn bodies(outcomes: &[Outcome], logs: &str) -> Vec<Value> {
    outcomes
        .iter()
        .map(|o| match o {
            Outcome::Response { body, .. } => body.clone(),
            other => panic!("{other:?}\n{logs}"),
        })
        .collect()
}

/// One scheduled notification through the binary; the logs, once it answered.
async fn periodic_pass(fake: &FakeAws) -> String {
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, fake, &[]);
    rt.push("periodic", scheduled());
    let outcomes = rt.wait_for(1, Duration::from_secs(60)).await;
    let logs = stop(child).await;
    bodies(&outcomes, &logs);
    logs
}

fn put_count(fake: &FakeAws) -> usize {
    fake.puts()
        .iter()
        .filter(|p| !p.test_mode)
        .map(|p| p.evaluations.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_creation_costs_at_most_two_evaluations_per_resource_and_an_idle_pass_costs_none() {
    // GIVEN the demo account plus 60 tables (T = 71), its plans and selections (P + S), and
    // the events Config sends when the rule is created: one per resource, shuffled, then the
    // periodic trigger
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.add_tables(OWN, "us-east-1", crate::util::prod_tagged_tables("t", 60));
    fake.set_page_size(100);
    let mut account = demo_snapshot();
    account["Regions"]["us-east-1"]["Tables"]
        .as_array_mut()
        .unwrap()
        .extend(crate::util::prod_tagged_tables("t", 60));
    account["Regions"]
        .as_object_mut()
        .unwrap()
        .remove("eu-west-1");
    let shuffled = rule_creation_events(&account, "creation-token");
    let region = &account["Regions"]["us-east-1"];
    let n_tables = region["Tables"].as_array().unwrap().len();
    let backup = shuffled.len() - n_tables;
    let resources = shuffled.len();
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, &fake, &[]);
    for (i, e) in shuffled.iter().enumerate() {
        rt.push(&format!("create-{i:03}"), e.clone());
    }
    rt.push("periodic-1", scheduled());
    let outcomes = rt
        .wait_for(shuffled.len() + 1, Duration::from_secs(120))
        .await;
    // THEN it records at most 2 (T + P + S) evaluations, reading the whole catalog at most 3
    // times (revalidations reuse selections by ID)
    let recorded = put_count(&fake);
    let loads = fake.full_catalog_reads();
    let revalidations = fake.catalog_loads();
    // AND a second periodic pass, with nothing changed, records no evaluation at all
    let before = put_count(&fake);
    rt.push("periodic-2", scheduled());
    let outcomes2 = rt
        .wait_for(shuffled.len() + 2, Duration::from_secs(60))
        .await;
    let logs = stop(child).await;
    let b = bodies(&outcomes2, &logs);
    assert!(
        recorded <= 2 * resources,
        "{recorded} evaluations for {resources} resources"
    );
    assert!(loads <= 3, "{loads} full catalog reads");
    eprintln!("rule creation: {resources} resources, {recorded} evaluations recorded, {loads} full catalog reads, {revalidations} catalog listings");
    let idle = b.last().unwrap();
    assert_eq!(put_count(&fake) - before, 0, "{idle}");
    assert_eq!(idle["decided"], n_tables, "{idle}");
    assert_eq!(idle["unchanged"], n_tables, "{idle}");
    // AND the backup events after the first pass were coalesced into it
    let coalesced = bodies(&outcomes, &logs)
        .iter()
        .filter(|b| b["coalesced"] == true)
        .count();
    assert!(coalesced >= backup - 2, "{coalesced} of {backup} coalesced");
    // AND the dashboard agrees with a pass decided from scratch
    let shown = fake.reported(OWN);
    assert_eq!(shown.get("t-000").map(String::as_str), Some("COMPLIANT"));
    assert_eq!(
        shown.get("t-001").map(String::as_str),
        Some("NON_COMPLIANT")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_table_missing_from_a_lagging_inventory_is_evaluated_not_retired() {
    // GIVEN Config's inventory frozen before `late` was created, and a result for `late` left by
    // its own change event
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.freeze_config_inventory(OWN, "us-east-1");
    fake.add_tables(
        OWN,
        "us-east-1",
        vec![json!({"TableName": "late",
        "TableArn": format!("arn:aws:dynamodb:us-east-1:{OWN}:table/late"), "TableStatus": "ACTIVE",
        "Tags": [{"Key": "env", "Value": "prod"}]})],
    );
    fake.report(OWN, "AWS::DynamoDB::Table", "late", "COMPLIANT");
    // AND a result for a table that is really gone
    fake.report(
        OWN,
        "AWS::DynamoDB::Table",
        "gone-for-good",
        "NON_COMPLIANT",
    );
    let logs = periodic_pass(&fake).await;
    // THEN the live one keeps a verdict from DynamoDB, and only the gone one is retired
    let results = fake.results(OWN);
    assert_eq!(results["late"].compliance, "COMPLIANT", "{logs}");
    assert_eq!(results["gone-for-good"].compliance, "NOT_APPLICABLE");
    assert!(results["gone-for-good"]
        .annotation
        .as_deref()
        .unwrap_or_default()
        .contains("no longer exists"));
    assert!(
        logs.contains("table missing from the inventory is live"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_recorder_makes_the_pass_read_dynamodb() {
    // GIVEN a recorder stopped before `new-prod` was created (Config's inventory is frozen)
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.freeze_config_inventory(OWN, "us-east-1");
    fake.set_recorder_status(
        OWN,
        "us-east-1",
        json!([{"name": "default", "recording": false, "lastStatus": "SUCCESS"}]),
    );
    fake.add_tables(OWN, "us-east-1", vec![json!({"TableName": "new-prod",
        "TableArn": format!("arn:aws:dynamodb:us-east-1:{OWN}:table/new-prod"), "TableStatus": "ACTIVE",
        "Tags": [{"Key": "env", "Value": "prod"}]})]);
    let logs = periodic_pass(&fake).await;
    // THEN the frozen inventory is not trusted: the new table has a verdict, and the log says why
    assert_eq!(fake.count("SelectResourceConfig"), 0);
    assert_eq!(fake.results(OWN)["new-prod"].compliance, "COMPLIANT");
    assert!(logs.contains("recorder default is stopped"), "{logs}");

    // AND a failed last delivery reported in upper case (as the service sends it) is noticed
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_recorder_status(
        OWN,
        "us-east-1",
        json!([{"name": "default", "recording": true, "lastStatus": "FAILURE"}]),
    );
    let logs = periodic_pass(&fake).await;
    assert_eq!(fake.count("SelectResourceConfig"), 0, "{logs}");
    assert!(logs.contains("last delivery failed"), "{logs}");

    // AND tables recorded daily are not trusted either
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_recorders(OWN, "us-east-1", json!([{"name": "default", "roleARN": "arn:aws:iam::111122223333:role/config",
        "recordingGroup": {"allSupported": true, "includeGlobalResourceTypes": false, "resourceTypes": []},
        "recordingMode": {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": [
            {"resourceTypes": ["AWS::DynamoDB::Table"], "recordingFrequency": "DAILY"}]}}]));
    let logs = periodic_pass(&fake).await;
    assert_eq!(fake.count("SelectResourceConfig"), 0, "{logs}");
    assert!(logs.contains("daily"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_vault_was_deleted_covers_nothing_and_fails_nothing() {
    // GIVEN the vault of `daily-prod` deleted under it (ListBackupVaults omits it, and
    // DescribeBackupVault would answer 403)
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.delete_vault(OWN, "us-east-1", "prod-vault");
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, &fake, &[]);
    rt.push(
        "change",
        config_event(
            &table_change(
                OWN,
                "us-east-1",
                "orders",
                Some(json!({"env": "prod"})),
                "ACTIVE",
            ),
            &json!({}),
            "t",
        ),
    );
    let outcomes = rt.wait_for(1, Duration::from_secs(60)).await;
    let logs = stop(child).await;
    bodies(&outcomes, &logs);
    // THEN `orders`, covered only by that plan, is NON_COMPLIANT naming the plan and the vault
    let put = &fake.puts()[0].evaluations[0];
    assert_eq!(put["ComplianceType"], "NON_COMPLIANT", "{put}");
    let note = put["Annotation"].as_str().unwrap();
    assert!(
        note.contains("daily-prod") && note.contains("prod-vault"),
        "{note}"
    );
    assert_eq!(fake.count("DescribeBackupVault"), 0);

    // AND the CLI's audit answers for the Region instead of failing it
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args(["audit", "--region", "us-east-1", "--format", "json"])
        .envs(crate::util::fake_aws_vars(&fake))
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("prod-vault"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_that_cannot_read_its_recovery_points_in_time_fails_before_reading_or_putting() {
    // GIVEN 300 covered tables under maxRecoveryPointAgeHours, AWS Backup paced at 20 reads a
    // second (15 s of reads), and 20 s left before the Lambda deadline
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let covered: Vec<Value> = (0..300)
        .map(|i| {
            let name = format!("c-{i:03}");
            json!({"TableName": name, "TableArn": format!("arn:aws:dynamodb:us-east-1:{OWN}:table/{name}"),
                "TableStatus": "ACTIVE", "Tags": [{"Key": "env", "Value": "prod"}]})
        })
        .collect();
    fake.add_tables(OWN, "us-east-1", covered);
    fake.set_page_size(100);
    let rt = RuntimeApi::start().await;
    rt.set_deadline(Duration::from_secs(20));
    let child = spawn_lambda(&rt, &fake, &[("BACKUP_READS_PER_SECOND", "20")]);
    let mut event = scheduled();
    event["ruleParameters"] = json!(json!({"maxRecoveryPointAgeHours": "24"}).to_string());
    rt.push("periodic", event);
    let outcomes = rt.wait_for(1, Duration::from_secs(60)).await;
    let logs = stop(child).await;
    // THEN it fails with Timeout, having read no recovery point and put nothing
    let Some(Outcome::Error {
        error_type,
        message,
        ..
    }) = outcomes.first()
    else {
        panic!("{outcomes:?}\n{logs}")
    };
    assert_eq!(error_type, "Timeout", "{message}");
    assert!(
        message.contains("backup:ListRecoveryPointsByResource"),
        "{message}"
    );
    assert_eq!(fake.count("ListRecoveryPointsByResource"), 0);
    assert!(fake.puts().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_that_cannot_be_read_in_time_fails_before_reading_it_or_putting() {
    // GIVEN 2,000 selections (about 100 s of AWS Backup reads at the default 20 a second) and
    // 20 s left before the Lambda deadline
    let fake = FakeAws::start().await;
    let file = crate::util::synth::generate(crate::util::synth::SynthConfig {
        tables: 300,
        selections: 2000,
        seed: 7,
        adversarial: false,
    });
    fake.load_snapshot(&serde_json::to_value(&file).unwrap());
    fake.set_page_size(100);
    let rt = RuntimeApi::start().await;
    rt.set_deadline(Duration::from_secs(20));
    let child = spawn_lambda(&rt, &fake, &[]);
    let start = std::time::Instant::now();
    rt.push("periodic", scheduled());
    let outcomes = rt.wait_for(1, Duration::from_secs(60)).await;
    let took = start.elapsed();
    let logs = stop(child).await;
    // THEN it answers Timeout well before the deadline, as soon as the plans are listed, having
    // read no selection and put nothing
    let Some(Outcome::Error {
        error_type,
        message,
        ..
    }) = outcomes.first()
    else {
        panic!("{outcomes:?}\n{logs}")
    };
    assert_eq!(error_type, "Timeout", "{message}");
    assert!(
        message.contains("reading the AWS Backup catalog"),
        "{message}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(fake.count("GetBackupSelection"), 0);
    assert!(fake.puts().is_empty());
}
