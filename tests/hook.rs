//! The CloudFormation Lambda Hook through the real Lambda binary: a Runtime API on loopback
//! delivers hook requests, the fake AWS endpoint serves the account's AWS Backup catalog, and
//! the test reads the hook's answers.

use crate::lambda::{spawn_lambda, stop};
use crate::util::demo_snapshot;
use crate::util::fake_aws::{FakeAws, Fault};
use crate::util::runtime_api::{Outcome, RuntimeApi};
use serde_json::{json, Value};
use std::time::Duration;

const STACK: &str = "arn:aws:cloudformation:us-east-1:111122223333:stack/payments/0f4e3c10-1a2b-11ef-9a3b-0e5f6a7b8c9d";

fn request(token: &str, action: &str, target: &str, logical_id: &str, props: Value) -> Value {
    json!({
        "clientRequestToken": token,
        "awsAccountId": "111122223333",
        "stackId": STACK,
        "changeSetId": "",
        "hookTypeName": "Private::Backup::Guard",
        "hookTypeVersion": "00000001",
        "hookModel": {"LambdaFunction": "arn:aws:lambda:us-east-1:111122223333:function:guard"},
        "actionInvocationPoint": action,
        "requestData": {
            "targetName": target,
            "targetType": target,
            "targetLogicalId": logical_id,
            "targetModel": {"resourceProperties": props, "previousResourceProperties": {}}
        },
        "requestContext": {"invocation": 1, "callbackContext": null}
    })
}

fn answer<'a>(outcomes: &'a [Outcome], id: &str) -> &'a Value {
    outcomes
        .iter()
        .find_map(|o| match o {
            Outcome::Response { id: got, body } if got == id => Some(body),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no answer to {id}: {outcomes:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hook_answers_creates_updates_deletes_and_global_tables() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, &fake, &[]);
    let table = "AWS::DynamoDB::Table";
    let events = [
        // Covered by `prod-tables` (table/* with env=prod).
        (
            "create-covered",
            request(
                "t1",
                "CREATE_PRE_PROVISION",
                table,
                "Orders",
                json!({"TableName": "orders-v2", "Tags": [{"Key": "env", "Value": "prod"}]}),
            ),
        ),
        // Nothing covers a dev table.
        (
            "update-uncovered",
            request(
                "t2",
                "UPDATE_PRE_PROVISION",
                table,
                "Flags",
                json!({"TableName": "feature-flags-v2", "Tags": [{"Key": "env", "Value": "dev"}]}),
            ),
        ),
        // The same table with the fix the hook gives for it.
        (
            "fixed",
            request(
                "t8",
                "UPDATE_PRE_PROVISION",
                table,
                "Flags",
                json!({"TableName": "feature-flags-v2", "Tags": [{"Key": "env", "Value": "dev"},
                {"Key": "compliance", "Value": "pci"}]}),
            ),
        ),
        // A generated name: the stack is `payments`, so `payments-Ledger-…` is covered by
        // `payments-*` whatever the suffix.
        (
            "create-generated",
            request("t3", "CREATE_PRE_PROVISION", table, "Ledger", json!({})),
        ),
        (
            "delete",
            request("t4", "DELETE_PRE_PROVISION", table, "Orders", json!({})),
        ),
        (
            "other-type",
            request(
                "t5",
                "CREATE_PRE_PROVISION",
                "AWS::S3::Bucket",
                "Logs",
                json!({}),
            ),
        ),
        // One replica is covered, the us-west-2 one is not: the message names its Region.
        (
            "global",
            request(
                "t6",
                "CREATE_PRE_PROVISION",
                "AWS::DynamoDB::GlobalTable",
                "Global",
                json!({"TableName": "orders", "Replicas": [
                {"Region": "us-east-1", "Tags": [{"Key": "env", "Value": "prod"}]},
                {"Region": "us-west-2"}]}),
            ),
        ),
    ];
    for (id, event) in &events {
        rt.push(id, event.clone());
    }
    let mut malformed = request("t7", "CREATE_PRE_PROVISION", table, "Bad", json!({}));
    malformed["stackId"] = json!("not-an-arn");
    rt.push("malformed", malformed);
    let outcomes = rt.wait_for(events.len() + 1, Duration::from_secs(60)).await;
    let logs = stop(child).await;
    assert_eq!(outcomes.len(), events.len() + 1, "{logs}");

    let covered = answer(&outcomes, "create-covered");
    assert_eq!(covered["hookStatus"], "SUCCESS", "{covered}");
    assert_eq!(covered["clientRequestToken"], "t1");

    let uncovered = answer(&outcomes, "update-uncovered");
    assert_eq!(uncovered["hookStatus"], "FAILED");
    assert_eq!(uncovered["errorCode"], "NonCompliant");
    assert_eq!(uncovered["clientRequestToken"], "t2");
    let message = uncovered["message"].as_str().unwrap();
    assert!(message.contains("env=prod"), "{message}");
    assert_eq!(uncovered["annotations"][0]["status"], "FAILED");
    // The first verified fix, as a change to the template: a tag added ranks before one that
    // replaces the table's env=dev. The table with it is protected (the `fixed` request).
    assert_eq!(
        uncovered["annotations"][0]["remediationMessage"],
        r#"us-east-1: set in the resource's Tags: {Key: "compliance", Value: "pci"}"#
    );
    assert_eq!(answer(&outcomes, "fixed")["hookStatus"], "SUCCESS");

    let generated = answer(&outcomes, "create-generated");
    assert_eq!(generated["hookStatus"], "SUCCESS", "{generated}");
    assert!(generated["message"]
        .as_str()
        .unwrap()
        .contains("payments-explicit"));

    for id in ["delete", "other-type"] {
        assert_eq!(answer(&outcomes, id)["hookStatus"], "SUCCESS", "{id}");
    }

    let global = answer(&outcomes, "global");
    assert_eq!(global["hookStatus"], "FAILED", "{global}");
    let message = global["message"].as_str().unwrap();
    assert!(message.contains("us-west-2:"), "{message}");
    assert!(!message.contains("us-east-1:"), "{message}");

    let bad = outcomes
        .iter()
        .find_map(|o| match o {
            Outcome::Error {
                id,
                error_type,
                message,
            } if id == "malformed" => Some((error_type, message)),
            _ => None,
        })
        .expect("the malformed request fails");
    assert_eq!(bad.0, "InvalidEvent");
    assert!(bad.1.contains("stackId"), "{}", bad.1);
    // The delete and the other resource type read nothing; the rest read us-east-1 once (the
    // cache serves the rest) and us-west-2 once.
    assert_eq!(fake.count("DescribeRegionSettings"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_is_an_internal_failure_never_a_verdict() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.fail("ListBackupPlans", Fault::AccessDenied, 100);
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, &fake, &[]);
    rt.push(
        "create",
        request(
            "t1",
            "CREATE_PRE_PROVISION",
            "AWS::DynamoDB::Table",
            "Orders",
            json!({"TableName": "orders-v2", "Tags": [{"Key": "env", "Value": "prod"}]}),
        ),
    );
    let outcomes = rt.wait_for(1, Duration::from_secs(60)).await;
    let logs = stop(child).await;
    let a = answer(&outcomes, "create");
    assert_eq!(a["hookStatus"], "FAILED", "{a}\n{logs}");
    assert_eq!(a["errorCode"], "InternalFailure");
    assert!(
        a["message"].as_str().unwrap().contains("ListBackupPlans"),
        "{a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_too_large_for_one_invocation_is_read_across_in_progress_answers() {
    // GIVEN 80 selections paced at 20 reads a second, and invocations of 4 s (2 s to read)
    let fake = one_plan_account(80, |i| {
        format!("arn:aws:dynamodb:us-east-1:111122223333:table/app-{i}")
    })
    .await;
    // AWS lists up to 1,000 selections a page; the fake's default of 2 would make the listing,
    // not the selections, the cost.
    fake.set_page_size(1_000);
    let rt = RuntimeApi::start().await;
    rt.set_deadline(Duration::from_millis(4_000));
    let child = spawn_lambda(&rt, &fake, &[("BACKUP_READS_PER_SECOND", "20")]);
    let props = json!({"TableName": "app-42"});
    // WHEN CloudFormation invokes again after each IN_PROGRESS, as it does (3 invocations in all)
    let mut statuses = Vec::new();
    for invocation in 1..=3u64 {
        let mut event = create_app(props.clone());
        event["requestContext"] =
            json!({"invocation": invocation, "callbackContext": {"invocation": invocation - 1}});
        let id = format!("call-{invocation}");
        rt.push(&id, event);
        let outcomes = rt
            .wait_for(invocation as usize, Duration::from_secs(30))
            .await;
        let a = answer(&outcomes, &id).clone();
        statuses.push(a["hookStatus"].as_str().unwrap().to_string());
        if a["hookStatus"] != "IN_PROGRESS" {
            assert_eq!(a["hookStatus"], "SUCCESS", "{a} after {statuses:?}");
            break;
        }
        assert!(a["callbackContext"].is_object(), "{a}");
        assert!(a["callbackDelaySeconds"].is_number(), "{a}");
    }
    let logs = stop(child).await;
    // THEN it needed more than one invocation, finished within CloudFormation's limit, and read
    // each selection once: what one invocation read, the next one reused
    assert_eq!(
        statuses.first().map(String::as_str),
        Some("IN_PROGRESS"),
        "{statuses:?}\n{logs}"
    );
    assert_eq!(
        statuses.last().map(String::as_str),
        Some("SUCCESS"),
        "{statuses:?}\n{logs}"
    );
    assert!(statuses.len() <= 3, "{statuses:?}");
    assert_eq!(fake.count("GetBackupSelection"), 80, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_invocation_answers_finally_never_from_part_of_a_catalog() {
    // GIVEN a catalog that needs more reading than three invocations allow
    let fake = one_plan_account(200, |_| "arn:aws:dynamodb:*:*:table/*".to_string()).await;
    fake.set_page_size(1_000);
    let rt = RuntimeApi::start().await;
    rt.set_deadline(Duration::from_millis(3_000));
    let child = spawn_lambda(&rt, &fake, &[("BACKUP_READS_PER_SECOND", "10")]);
    let mut last = Value::Null;
    for invocation in 1..=3u64 {
        let mut event = create_app(json!({"TableName": "app"}));
        event["requestContext"] = json!({"invocation": invocation});
        let id = format!("call-{invocation}");
        rt.push(&id, event);
        let outcomes = rt
            .wait_for(invocation as usize, Duration::from_secs(30))
            .await;
        last = answer(&outcomes, &id).clone();
    }
    let _ = stop(child).await;
    // THEN the third says the catalog could not be read, and gives no verdict
    assert_eq!(last["hookStatus"], "FAILED", "{last}");
    assert_eq!(last["errorCode"], "InternalFailure", "{last}");
    assert!(
        last["message"].as_str().unwrap().contains("catalog"),
        "{last}"
    );
}

/// A fake account whose one plan has `n` selections, selection `i` naming `resource(i)`.
async fn one_plan_account(n: usize, resource: impl Fn(usize) -> String) -> FakeAws {
    let fake = FakeAws::start().await;
    let selections: Vec<Value> = (0..n)
        .map(|i| {
            json!({"SelectionId": format!("s-{i:03}"), "BackupSelection": {
            "SelectionName": format!("sel-{i}"), "IamRoleArn": "arn:aws:iam::111122223333:role/b",
            "Resources": [resource(i)]}})
        })
        .collect();
    fake.load_snapshot(&json!({"AccountId": "111122223333", "Regions": {"us-east-1": {
        "ResourceTypeOptInPreference": {"DynamoDB": true},
        "BackupVaults": [{"BackupVaultName": "Default", "BackupVaultArn": "arn:aws:backup:us-east-1:111122223333:backup-vault:Default"}],
        "BackupPlans": [{"BackupPlanId": "p1", "BackupPlanName": "apps", "VersionId": "v1",
            "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default"}],
            "Selections": selections}],
        "Tables": []}}}));
    fake
}

/// A create request for the table `App`.
fn create_app(props: Value) -> Value {
    request(
        "t1",
        "CREATE_PRE_PROVISION",
        "AWS::DynamoDB::Table",
        "App",
        props,
    )
}
