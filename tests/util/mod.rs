//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A path under the repository root.
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs the CLI binary with arguments, from the repository root.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the CLI binary runs")
}

/// stdout as UTF-8.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

/// stderr as UTF-8.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

pub mod fake_aws;
pub mod runtime_api;

use serde_json::{json, Value};

/// A Config rule event in the exact wire shape: `invokingEvent` and `ruleParameters` are JSON
/// strings, so no test hand-escapes JSON.
pub fn config_event(invoking: &Value, params: &Value, token: &str) -> Value {
    json!({
        "version": "1.0",
        "invokingEvent": invoking.to_string(),
        "ruleParameters": params.to_string(),
        "resultToken": token,
        "eventLeftScope": false,
        "executionRoleArn": "arn:aws:iam::111122223333:role/config-role",
        "configRuleArn": "arn:aws:config:us-east-1:111122223333:config-rule/config-rule-0123456",
        "configRuleName": "dynamodb-table-in-backup-plan",
        "configRuleId": "config-rule-0123456",
        "accountId": "111122223333",
        "evaluationMode": "DETECTIVE"
    })
}

/// A change notification for a table.
pub fn table_change(
    account: &str,
    region: &str,
    name: &str,
    tags: Option<Value>,
    status: &str,
) -> Value {
    let mut item = json!({
        "relatedEvents": [], "relationships": [],
        "configuration": {"tableName": name, "tableStatus": status},
        "supplementaryConfiguration": {},
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-20T10:15:30.123Z",
        "configurationStateId": 1763633730123u64,
        "awsAccountId": account,
        "configurationItemStatus": "OK",
        "resourceType": "AWS::DynamoDB::Table",
        "resourceId": name,
        "resourceName": name,
        "ARN": format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
        "awsRegion": region,
        "availabilityZone": "Regional",
        "configurationStateMd5Hash": "",
    });
    if let Some(t) = tags {
        item["tags"] = t;
    }
    json!({
        "configurationItemDiff": null,
        "configurationItem": item,
        "notificationCreationTime": "2026-11-20T10:15:31.456Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3"
    })
}

/// The demo snapshot as JSON.
pub fn demo_snapshot() -> Value {
    let text = std::fs::read_to_string(repo_path("testdata/snapshots/demo-account.json"))
        .expect("demo snapshot");
    serde_json::from_str(&text).expect("demo JSON")
}
