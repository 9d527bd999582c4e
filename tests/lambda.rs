//! The real `dynamodb-backup-rule-lambda` binary, end to end: a Runtime API on loopback feeds it
//! the events in `testdata/events/`, the fake AWS endpoint serves its SDK calls, and the test
//! reads back what Config received and what the runtime was told.

use crate::util::fake_aws::FakeAws;
use crate::util::runtime_api::{Outcome, RuntimeApi};
use crate::util::{demo_snapshot, repo_path};
use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

/// A running Lambda binary whose output is drained as it is written (a full pipe would block it).
pub struct Lambda {
    child: Child,
    logs: Arc<Mutex<String>>,
    drains: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts the Lambda binary against the fakes.
pub fn spawn_lambda(rt: &RuntimeApi, fake: &FakeAws, extra: &[(&str, &str)]) -> Lambda {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule-lambda"));
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", rt.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "dynamodb-backup-rule")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .envs(crate::util::fake_aws_vars(fake))
        .env("AWS_SESSION_TOKEN", "BASETOKENdoNotLog")
        .env("AWS_MAX_ATTEMPTS", "3")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the lambda binary");
    let logs = Arc::new(Mutex::new(String::new()));
    let mut drains = Vec::new();
    let out = child
        .stdout
        .take()
        .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
    let err = child
        .stderr
        .take()
        .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
    for mut stream in [out, err].into_iter().flatten() {
        let logs = logs.clone();
        drains.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                logs.lock()
                    .expect("logs")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }));
    }
    Lambda {
        child,
        logs,
        drains,
    }
}

impl Lambda {
    /// Waits for the process to exit by itself.
    pub async fn wait(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()?
            .ok()
    }
}

/// Stops the process and returns everything it printed.
pub async fn stop(mut lambda: Lambda) -> String {
    let _ = lambda.child.start_kill();
    let _ = lambda.child.wait().await;
    for d in lambda.drains {
        let _ = d.await;
    }
    let logs = lambda.logs.lock().expect("logs").clone();
    logs
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_path(&format!("testdata/events/{name}"))).expect("fixture"),
    )
    .expect("fixture JSON")
}

/// A put verdict for the named resource, or the error type the runtime must be told.
type Expected = Result<(&'static str, &'static str), &'static str>;

/// What each fixture must produce.
const EXPECTED: &[(&str, Expected)] = &[
    ("change-covered.json", Ok(("orders", "COMPLIANT"))),
    (
        "change-not-covered.json",
        Ok(("feature-flags", "NON_COMPLIANT")),
    ),
    ("change-tag-only.json", Ok(("metrics", "COMPLIANT"))),
    ("change-tags-missing.json", Ok(("metrics", "COMPLIANT"))),
    ("change-creating.json", Ok(("sessions", "NOT_APPLICABLE"))),
    ("oversized.json", Ok(("orders", "COMPLIANT"))),
    ("deleted.json", Ok(("orders-archive", "NOT_APPLICABLE"))),
    ("left-scope.json", Ok(("orders", "NOT_APPLICABLE"))),
    ("non-table.json", Ok(("my-bucket", "NOT_APPLICABLE"))),
    (
        "resource-tags-parameter.json",
        Ok(("orders", "NOT_APPLICABLE")),
    ),
    ("testmode.json", Ok(("orders", "COMPLIANT"))),
    ("cross-account.json", Ok(("orders", "NON_COMPLIANT"))),
    // A new selection: every us-east-1 table is re-evaluated; `orders` comes first.
    ("backup-selection-change.json", Ok(("orders", "COMPLIANT"))),
    ("invalid-invoking-event.json", Err("InvalidEvent")),
    ("invalid-parameters.json", Err("InvalidParameters")),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_binary_handles_every_fixture_end_to_end() {
    // GIVEN the demo account, a member account, and the binary polling a loopback Runtime API
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.load_snapshot(&json!({"AccountId": "444455556666", "Regions": {"us-east-1": {
        "ResourceTypeOptInPreference": {"DynamoDB": true}, "BackupPlans": [],
        "Tables": [{"TableName": "orders", "TableArn": "arn:aws:dynamodb:us-east-1:444455556666:table/orders"}]}}}));
    let rt = RuntimeApi::start().await;
    let child = spawn_lambda(&rt, &fake, &[]);
    // WHEN every fixture is delivered
    for (i, (name, _)) in EXPECTED.iter().enumerate() {
        rt.push(&format!("req-{i:02}-{name}"), fixture(name));
    }
    let outcomes = rt.wait_for(EXPECTED.len(), Duration::from_secs(60)).await;
    let logs = stop(child).await;
    if std::env::var_os("DDB_RULE_SHOW").is_some() {
        eprintln!("{logs}");
    }
    assert_eq!(outcomes.len(), EXPECTED.len(), "logs:\n{logs}");

    // THEN each got the expected answer, and Config received exactly the verdicts
    let puts = fake.puts();
    let mut put_iter = puts.iter();
    for ((name, expected), outcome) in EXPECTED.iter().zip(&outcomes) {
        match (expected, outcome) {
            (Ok((resource, verdict)), Outcome::Response { id, body }) => {
                assert!(id.ends_with(name), "{id} answered out of order");
                let put = put_iter
                    .next()
                    .unwrap_or_else(|| panic!("{name}: no PutEvaluations"));
                let e = &put.evaluations[0];
                assert_eq!(
                    (
                        e["ComplianceResourceId"].as_str(),
                        e["ComplianceType"].as_str()
                    ),
                    (Some(*resource), Some(*verdict)),
                    "{name}: {e}"
                );
                assert!(
                    e["Annotation"]
                        .as_str()
                        .is_some_and(|a| !a.is_empty() && a.len() <= 256),
                    "{name}"
                );
                assert_eq!(put.test_mode, *name == "testmode.json", "{name}");
                assert_eq!(body["evaluations"], put.evaluations.len(), "{name}");
            }
            (
                Err(error_type),
                Outcome::Error {
                    error_type: got,
                    message,
                    ..
                },
            ) => {
                assert_eq!(got, error_type, "{name}: {message}");
                assert!(!message.is_empty());
            }
            (want, got) => panic!("{name}: expected {want:?}, got {got:?}\nlogs:\n{logs}"),
        }
    }
    assert!(
        put_iter.next().is_none(),
        "a failed invocation put something"
    );
    assert_eq!(
        fake.assumed_roles(),
        vec!["arn:aws:iam::444455556666:role/dynamodb-backup-rule-member".to_string()]
    );
    // One catalog load for the function's own account and Region, one for the member's, and
    // three for the backup change's pass: its read, and its revalidations before and after it
    // put (which reuse every selection by ID).
    assert_eq!(fake.count("DescribeRegionSettings"), 5);
    // The backup change decided the 11 tables and the selection, and put only what Config did
    // not already keep: the tables the earlier events had put unchanged were left alone.
    let backup_put = puts.last().expect("the backup change put");
    let Some(Outcome::Response { body, .. }) = outcomes
        .iter()
        .find(|o| matches!(o, Outcome::Response { id, .. } if id.ends_with("backup-selection-change.json")))
    else {
        panic!("the backup change answered")
    };
    assert_eq!(body["decided"], 12, "11 tables and the selection");
    let unchanged = body["unchanged"].as_u64().unwrap_or_default() as usize;
    assert!(unchanged >= 1, "{body}");
    assert_eq!(backup_put.evaluations.len(), 12 - unchanged, "{body}");
    assert!(backup_put
        .evaluations
        .iter()
        .any(|e| e["ComplianceResourceType"] == "AWS::Backup::BackupSelection"));

    // AND the logs are JSON, one decision line per evaluated resource, with no secret in them
    let decisions: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "decision")
        .collect();
    // Every decision is logged, put or not: a pass also decides what it leaves unchanged.
    let decided: u64 = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Response { body, .. } => body["decided"].as_u64(),
            _ => None,
        })
        .sum();
    assert_eq!(decisions.len() as u64, decided, "logs:\n{logs}");
    assert!(
        decisions
            .iter()
            .any(|d| d["fields"]["table"] == "orders" && d["fields"]["verdict"] == "COMPLIANT"),
        "{decisions:?}"
    );
    crate::util::assert_no_secrets(&logs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_cache_setting_stops_the_function_at_start_with_a_clear_message() {
    let fake = FakeAws::start().await;
    let rt = RuntimeApi::start().await;
    let mut child = spawn_lambda(&rt, &fake, &[("CATALOG_CACHE_TTL_SECONDS", "soon")]);
    let status = child.wait(Duration::from_secs(20)).await.expect("exits");
    assert!(!status.success());
    let logs = stop(child).await;
    assert!(
        logs.contains("CATALOG_CACHE_TTL_SECONDS") && logs.contains("`soon`"),
        "{logs}"
    );
}
