//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A path under the repository root.
pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The pages of the docs: README.md, then docs/*.md by name.
pub fn doc_pages() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo_path("docs"))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    let mut pages = vec![repo_path("README.md")];
    pages.extend(docs);
    pages
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
pub mod synth;

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

/// A change notification for a backup plan or selection, captured at `at`.
pub fn backup_change(account: &str, resource_type: &str, id: &str, at: &str) -> Value {
    json!({"configurationItem": {"relatedEvents": [], "relationships": [], "configuration": {},
        "supplementaryConfiguration": {}, "tags": {}, "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": at, "configurationStateId": 1, "awsAccountId": account,
        "configurationItemStatus": "OK", "resourceType": resource_type, "resourceId": id,
        "resourceName": id, "ARN": format!("arn:aws:backup:us-east-1:{account}:backup-plan:{id}"),
        "awsRegion": "us-east-1", "availabilityZone": "Not Applicable", "configurationStateMd5Hash": ""},
        "notificationCreationTime": at, "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3"})
}

/// The events Config sends when a rule is created over a snapshot-shaped account (`us-east-1`):
/// one change event per table (with its tags) and per backup plan and selection (captured before
/// the rule existed), in a fixed shuffled order, all with `token`.
pub fn rule_creation_events(snapshot: &Value, token: &str) -> Vec<Value> {
    let account = snapshot["AccountId"].as_str().unwrap_or_default();
    let region = &snapshot["Regions"]["us-east-1"];
    let mut events = Vec::new();
    for t in region["Tables"].as_array().cloned().unwrap_or_default() {
        let tags: serde_json::Map<String, Value> = t["Tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|kv| {
                        (
                            kv["Key"].as_str().unwrap_or_default().to_string(),
                            kv["Value"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = t["TableName"].as_str().unwrap_or_default();
        let status = t["TableStatus"].as_str().unwrap_or("ACTIVE");
        events.push(table_change(
            account,
            "us-east-1",
            name,
            Some(Value::Object(tags)),
            status,
        ));
    }
    let at = "2026-11-01T00:00:00.000Z";
    for p in region["BackupPlans"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let id = p["BackupPlanId"].as_str().unwrap_or_default();
        events.push(backup_change(account, "AWS::Backup::BackupPlan", id, at));
        for sel in p["Selections"].as_array().cloned().unwrap_or_default() {
            let sid = sel["SelectionId"].as_str().unwrap_or_default();
            events.push(backup_change(
                account,
                "AWS::Backup::BackupSelection",
                sid,
                at,
            ));
        }
    }
    // A fixed shuffle: every fifth event to the front, so backup events land among the tables.
    let mut shuffled: Vec<Value> = events.iter().step_by(5).cloned().collect();
    shuffled.extend(
        events
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 5 != 0)
            .map(|(_, e)| e.clone()),
    );
    shuffled
        .into_iter()
        .map(|e| config_event(&e, &json!({}), token))
        .collect()
}

/// `n` tables of account 111122223333 in us-east-1 named `<prefix>-NNN`, every third tagged
/// env=prod (covered by the demo's `prod-tables` selection), the rest untagged.
pub fn prod_tagged_tables(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let name = format!("{prefix}-{i:03}");
            let tags = if i % 3 == 0 { json!([{"Key": "env", "Value": "prod"}]) } else { json!([]) };
            json!({"TableName": name, "TableArn": format!("arn:aws:dynamodb:us-east-1:111122223333:table/{name}"),
                "TableStatus": "ACTIVE", "Tags": tags})
        })
        .collect()
}

/// The demo snapshot as JSON.
pub fn demo_snapshot() -> Value {
    let text = std::fs::read_to_string(repo_path("testdata/snapshots/demo-account.json"))
        .expect("demo snapshot");
    serde_json::from_str(&text).expect("demo JSON")
}

/// Settings that keep tests fast: a minute of cache, and pacing far above anything a test
/// sends unless the test is about pacing.
pub fn fast_settings() -> dynamodb_backup_rule::aws::Settings {
    dynamodb_backup_rule::aws::Settings {
        cache_ttl: std::time::Duration::from_secs(60),
        tag_reads_per_second: 1000,
        backup_reads_per_second: 1000,
        attempt_timeout: std::time::Duration::from_secs(5),
        retry_initial_backoff: std::time::Duration::from_millis(5),
    }
}

/// The real SDK clients pointed at the fake endpoint, as account 111122223333 in us-east-1,
/// retrying with a short backoff so retry tests stay quick.
pub async fn aws_env(
    fake: &fake_aws::FakeAws,
    settings: dynamodb_backup_rule::aws::Settings,
) -> dynamodb_backup_rule::aws::AwsEnv {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(fake.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_config::config::Credentials::new(
            fake_aws::BASE_ACCESS_KEY,
            fake_aws::BASE_SECRET,
            None,
            None,
            "test",
        ))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(5)),
        )
        .load()
        .await;
    dynamodb_backup_rule::aws::AwsEnv::new(config, settings)
}

/// The environment a child process (the CLI or the Lambda binary) needs to reach the fake
/// endpoint through the standard AWS environment, and nothing else on the machine.
pub fn fake_aws_vars(fake: &fake_aws::FakeAws) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", fake.url()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", fake_aws::BASE_ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", fake_aws::BASE_SECRET.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
    ]
}

/// Cases per property test: `PROPTEST_CASES` when set (for longer runs), else `default`.
/// Ten property tests at 10,000 each make the 100,000 cases a CI run checks.
pub fn prop_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Serves HTTP/1 on a loopback listener in the background, calling `handle` for every request.
/// An `Err` from `handle` drops the connection, as a reset would.
pub fn serve<F, Fut>(listener: tokio::net::TcpListener, handle: F)
where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<
            Output = Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::io::Error>,
        > + Send
        + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handle = handle.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// A request's whole body as text (lossy: the fakes only need to read what the SDK sent).
pub async fn body_text(req: hyper::Request<hyper::body::Incoming>) -> String {
    use http_body_util::BodyExt;
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&body).into_owned()
}

/// Fails if any fake credential, session token or request signature appears in `logs`; the fake
/// endpoint hands out recognisable ones so a leak is visible.
pub fn assert_no_secrets(logs: &str) {
    for secret in [
        fake_aws::BASE_SECRET,
        fake_aws::ISSUED_SECRET,
        fake_aws::ISSUED_TOKEN,
        "BASETOKENdoNotLog",
        "Signature=",
    ] {
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
    }
}

/// The folder holding the real AWS CLI's `aws` (pinned, from PyPI; `scripts/aws-cli.sh`),
/// installed on first use.
pub fn aws_bin() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let out = std::process::Command::new("bash")
            .arg(repo_path("scripts/aws-cli.sh"))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "installing the AWS CLI failed (it comes from PyPI):\n{}",
            stderr(&out)
        );
        repo_path(stdout(&out).trim())
    })
}
