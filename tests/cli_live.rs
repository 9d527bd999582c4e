//! The CLI's live modes against the fake AWS endpoint through the standard AWS environment:
//! `audit` is read-only, `snapshot` captures what `evaluate` replays, `invoke` puts nothing.

use crate::util::fake_aws::FakeAws;
use crate::util::{demo_snapshot, repo_path};
use std::process::Output;

async fn cli_with(fake: &FakeAws, args: &[&str]) -> Output {
    cli_with_env(fake, args, &[]).await
}

/// The CLI against the fake endpoint, with `extra` environment on top (later wins).
async fn cli_with_env(fake: &FakeAws, args: &[&str], extra: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .envs(crate::util::fake_aws_vars(fake))
        .envs(extra.iter().copied())
        .output()
        .await
        .expect("the CLI runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_reads_the_live_account_and_never_puts() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let audit = cli_with(
        &fake,
        &[
            "audit",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(audit.status.code(), Some(3), "{}", text(&audit.stderr));
    assert_eq!(fake.count("PutEvaluations"), 0);
    // The verdicts are those of the same account evaluated offline.
    let live: serde_json::Value = serde_json::from_slice(&audit.stdout).expect("JSON");
    let offline: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("testdata/expected/demo-evaluate.json")).unwrap(),
    )
    .unwrap();
    let verdicts = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["Evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["ResourceArn"].as_str().unwrap().to_string(),
                    e["ComplianceType"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&live), verdicts(&offline));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_snapshot_replays_to_the_same_audit() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let dir = std::env::temp_dir().join(format!("ddb-rule-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("captured.json");
    let file_arg = file.to_str().unwrap();
    let snap = cli_with(
        &fake,
        &[
            "snapshot",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--output",
            file_arg,
        ],
    )
    .await;
    assert_eq!(snap.status.code(), Some(0), "{}", text(&snap.stderr));
    assert!(
        text(&snap.stdout).contains("2 Region(s), 16 table(s)"),
        "{}",
        text(&snap.stdout)
    );
    let captured: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let vaults = captured["Regions"]["us-east-1"]["BackupVaults"]
        .as_array()
        .expect("vaults captured");
    assert!(
        vaults
            .iter()
            .any(|v| v["BackupVaultName"] == "prod-vault" && v["Locked"] == true),
        "{vaults:?}"
    );
    let replay = cli_with(
        &fake,
        &["evaluate", "--snapshot", file_arg, "--format", "json"],
    )
    .await;
    let audit = cli_with(
        &fake,
        &[
            "audit",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(text(&replay.stdout), text(&audit.stdout));
    assert_eq!(replay.status.code(), audit.status.code());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_runs_the_handler_live_or_offline_and_puts_nothing() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let live = cli_with(
        &fake,
        &[
            "invoke",
            "--event",
            "testdata/events/change-covered.json",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(live.status.code(), Some(0), "{}", text(&live.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&live.stdout).unwrap();
    assert_eq!(doc["Evaluations"][0]["ComplianceType"], "COMPLIANT");
    // The fields evaluate prints, where what was put tells them.
    assert_eq!(doc["Evaluations"][0]["Region"], "us-east-1");
    assert_eq!(
        doc["Evaluations"][0]["ResourceArn"],
        "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
    );
    assert_eq!(
        doc["Evaluations"][0]["OrderingTimestamp"],
        "2026-11-20T10:15:30.123Z"
    );
    assert!(fake.count("ListBackupPlans") > 0, "live mode reads AWS");
    assert_eq!(fake.count("PutEvaluations"), 0);

    let offline = cli_with(
        &fake,
        &[
            "invoke",
            "--event",
            "testdata/events/change-not-covered.json",
            "--snapshot",
            "testdata/snapshots/demo-account.json",
        ],
    )
    .await;
    assert_eq!(offline.status.code(), Some(3));
    assert!(
        text(&offline.stdout).contains("feature-flags  NON_COMPLIANT"),
        "{}",
        text(&offline.stdout)
    );

    let bad = cli_with(
        &fake,
        &[
            "invoke",
            "--event",
            "testdata/events/invalid-parameters.json",
            "--snapshot",
            "testdata/snapshots/demo-account.json",
        ],
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("invalid rule parameter resourceTag"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_failures_are_typed_and_print_no_verdicts() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.fail(
        "ListBackupSelections",
        crate::util::fake_aws::Fault::AccessDenied,
        1,
    );
    let out = cli_with(&fake, &["audit", "--quiet"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    // One actionable line names the action; -v shows the whole chain.
    let err = text(&out.stderr);
    assert!(
        err.contains("access denied") && err.contains("backup:ListBackupSelections"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !err.contains("no verdict was put"),
        "audit puts nothing: {err}"
    );
    fake.fail(
        "ListBackupSelections",
        crate::util::fake_aws::Fault::AccessDenied,
        1,
    );
    let out = cli_with(&fake, &["audit", "-v"]).await;
    let err = text(&out.stderr);
    assert!(err.contains("backup:ListBackupSelections failed"), "{err}");
    assert!(err.contains("caused by"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_error_says_what_to_set() {
    let fake = FakeAws::start().await;
    // `audit` with no credentials anywhere, and `extra` environment on top.
    let audit = |extra: &'static [(&'static str, &'static str)]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
            .args(["audit", "--region", "us-east-1"])
            .env_clear()
            .env("AWS_ENDPOINT_URL", fake.url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("AWS_MAX_ATTEMPTS", "1")
            .envs(extra.iter().copied())
            .output()
    };
    let out = audit(&[]).await.unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no AWS credentials found")
            && err.contains("AWS_PROFILE")
            && err.contains("aws sso login"),
        "{err}"
    );
    assert!(err.len() < 300, "one line, not the SDK's chain: {err}");

    // AND a profile named in AWS_PROFILE that does not exist is named as such
    let out = audit(&[("AWS_PROFILE", "prod")]).await.unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the AWS profile `prod` (AWS_PROFILE) was not found"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_invoke_refuses_another_accounts_event() {
    // GIVEN credentials of account 111122223333 and an event for account 444455556666
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let out = cli_with(
        &fake,
        &["invoke", "--event", "testdata/events/cross-account.json"],
    )
    .await;
    // THEN it refuses, naming both accounts, instead of judging the table by the caller's plans
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("111122223333") && err.contains("444455556666"),
        "{err}"
    );
    assert_eq!(fake.count("ListBackupPlans"), 0, "nothing was read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_and_snapshot_read_recovery_points_when_the_age_parameter_needs_them() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    // WHEN audit runs with maxRecoveryPointAgeHours
    let audit = cli_with(
        &fake,
        &[
            "audit",
            "--region",
            "us-east-1",
            "--format",
            "json",
            "--parameters",
            r#"{"maxRecoveryPointAgeHours":"24"}"#,
        ],
    )
    .await;
    // THEN it reads the covered tables' recovery points, as the Lambda does, and no verdict
    // says they were not read
    let out = text(&audit.stdout);
    assert!(
        fake.count("ListRecoveryPointsByResource") > 0,
        "{}",
        text(&audit.stderr)
    );
    assert!(!out.contains("were not read"), "{out}");

    // AND it reads them only for the tables the rule's decision path would, as the Lambda
    // does: of the four covered tables, only the one in scope (resourceId)
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    cli_with(
        &fake,
        &[
            "audit",
            "--region",
            "us-east-1",
            "--parameters",
            r#"{"maxRecoveryPointAgeHours":"24","resourceId":"orders"}"#,
        ],
    )
    .await;
    assert_eq!(fake.count("ListRecoveryPointsByResource"), 1);

    // AND without the parameter, audit reads none
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    cli_with(&fake, &["audit", "--region", "us-east-1"]).await;
    assert_eq!(fake.count("ListRecoveryPointsByResource"), 0);

    // AND snapshot captures them, so a replay with the parameter works; --no-recovery-points
    // skips them
    let dir = std::env::temp_dir().join(format!("ddb-rp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let with = dir.join("with.json");
    let without = dir.join("without.json");
    let out = cli_with(
        &fake,
        &[
            "snapshot",
            "--region",
            "us-east-1",
            "--output",
            with.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let captured = std::fs::read_to_string(&with).unwrap();
    assert!(
        captured.contains("RecoveryPoints"),
        "the snapshot carries recovery points"
    );
    let replay = cli_with(
        &fake,
        &[
            "evaluate",
            "--snapshot",
            with.to_str().unwrap(),
            "--parameters",
            r#"{"maxRecoveryPointAgeHours":"24"}"#,
        ],
    )
    .await;
    assert!(
        !text(&replay.stdout).contains("were not read"),
        "{}",
        text(&replay.stdout)
    );
    cli_with(
        &fake,
        &[
            "snapshot",
            "--region",
            "us-east-1",
            "--no-recovery-points",
            "--output",
            without.to_str().unwrap(),
        ],
    )
    .await;
    assert!(!std::fs::read_to_string(&without)
        .unwrap()
        .contains("RecoveryPoints"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_checks_its_output_is_writable_before_reading_anything() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let out = cli_with(
        &fake,
        &[
            "snapshot",
            "--region",
            "us-east-1",
            "--output",
            "/nonexistent-dir/s.json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--output"),
        "{}",
        text(&out.stderr)
    );
    assert!(fake.log().is_empty(), "nothing was read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_modes_report_progress_on_stderr_unless_quiet() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let out = cli_with(&fake, &PACED_AUDIT).await;
    let err = text(&out.stderr);
    assert!(err.contains("us-east-1: reading AWS Backup"), "{err}");
    assert!(
        err.contains("table(s)") && err.contains("reading the recovery points of"),
        "{err}"
    );
    assert!(
        err.contains("about"),
        "an estimate before the paced phase: {err}"
    );
    assert!(
        !text(&out.stdout).contains("reading AWS Backup"),
        "progress never goes to stdout"
    );
    let out = cli_with(&fake, &["audit", "--region", "us-east-1", "--quiet"]).await;
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

/// The live-mode arguments that make one paced, counted phase: the recovery points of the
/// covered tables of us-east-1, read at 5 per second.
const PACED_AUDIT: [&str; 5] = [
    "audit",
    "--region",
    "us-east-1",
    "--parameters",
    r#"{"maxRecoveryPointAgeHours":"24"}"#,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_progress_lines_give_counts_rate_and_time_left_when_stderr_is_not_a_terminal() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let out = cli_with_env(
        &fake,
        &PACED_AUDIT,
        &[
            ("BACKUP_READS_PER_SECOND", "5"),
            ("PROGRESS_INTERVAL_SECONDS", "0.1"),
        ],
    )
    .await;
    let err = text(&out.stderr);
    // GIVEN a phase that takes about a second at 5 reads per second, and a line every 0.1 s
    // THEN lines in between say how far, how fast and how long is left
    let between: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("us-east-1: recovery points: ") && l.contains("left"))
        .collect();
    assert!(!between.is_empty(), "{err}");
    assert!(between.iter().all(|l| l.contains("/s")), "{err}");
    // AND the phase ends with its count and rate, and no bar's control characters
    assert!(
        err.lines()
            .any(|l| l.contains("us-east-1: recovery points: ") && l.contains(" done in ")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("us-east-1: describing tables: ") && l.contains(" done in ")),
        "{err}"
    );
    // AND the tag pages, whose total is unknown until the last, are counted too
    assert!(
        err.lines()
            .any(|l| l.contains("us-east-1: reading tags: ") && l.contains(" done in ")),
        "{err}"
    );
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");

    // A bad interval is a usage error naming the variable.
    let out = cli_with_env(
        &fake,
        &["audit", "--region", "us-east-1"],
        &[("PROGRESS_INTERVAL_SECONDS", "soon")],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("PROGRESS_INTERVAL_SECONDS"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_progress_is_a_bar_with_rate_and_time_left() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    // GIVEN the CLI on a pseudo-terminal (util-linux `script`), with the same paced phase
    let mut command = format!(
        "stty cols 120 rows 40; exec {}",
        env!("CARGO_BIN_EXE_dynamodb-backup-rule")
    );
    for a in PACED_AUDIT {
        command.push_str(&format!(" '{a}'"));
    }
    let out = tokio::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .envs(crate::util::fake_aws_vars(&fake))
        .env("BACKUP_READS_PER_SECOND", "5")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("script (util-linux) runs");
    let tty = text(&out.stdout);
    // THEN a bar is drawn and redrawn in place, with the rate and the time left
    assert!(
        tty.contains("us-east-1: recovery points [") && tty.contains("left"),
        "{tty:?}"
    );
    assert!(tty.contains('\r') || tty.contains('\u{1b}'), "{tty:?}");
    assert!(tty.contains("/s"), "{tty:?}");
    // AND the verdicts still follow
    assert!(tty.contains("NON_COMPLIANT"), "{tty:?}");
}

const AUDIT_QUIET: &[&str] = &["audit", "--region", "us-east-1", "--quiet"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn common_aws_failures_each_get_one_actionable_line() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let one_line = |out: &Output| {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(out.stdout.is_empty(), "no verdicts: {}", text(&out.stdout));
        err
    };

    // Throttled on every attempt: says so, and what to do.
    fake.fail(
        "ListBackupPlans",
        crate::util::fake_aws::Fault::Throttle,
        100,
    );
    let err = one_line(
        &cli_with_env(
            &fake,
            AUDIT_QUIET,
            &[("AWS_MAX_ATTEMPTS", "2"), ("RETRY_INITIAL_BACKOFF_MS", "1")],
        )
        .await,
    );
    assert!(
        err.contains("backup:ListBackupPlans") && err.contains("throttled after retries"),
        "{err}"
    );
    fake.clear_faults();

    // A proxy's HTML page: summarised, never printed.
    fake.fail(
        "ListBackupPlans",
        crate::util::fake_aws::Fault::ProxyHtml,
        100,
    );
    let err = one_line(&cli_with_env(&fake, AUDIT_QUIET, &[("AWS_MAX_ATTEMPTS", "1")]).await);
    assert!(err.contains("HTML page") && err.contains("proxy"), "{err}");
    assert!(
        !err.contains("<html") && !err.contains("Proxy error"),
        "{err}"
    );

    // Nothing listening at the endpoint: network, DNS or endpoint, and which settings to check.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = one_line(
        &cli_with_env(
            &fake,
            AUDIT_QUIET,
            &[("AWS_ENDPOINT_URL", &url), ("AWS_MAX_ATTEMPTS", "1")],
        )
        .await,
    );
    assert!(
        err.contains("cannot reach AWS") && err.contains("AWS_ENDPOINT_URL"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_template_reads_the_live_account_read_only_and_agrees_with_the_snapshot() {
    // GIVEN the demo account behind the fake endpoint
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let args = [
        "check-template",
        "testdata/templates/shop.yaml",
        "--region",
        "us-east-1",
        "--stack-name",
        "shop",
        "--format",
        "json",
    ];
    // WHEN the template is checked without a snapshot
    let live = cli_with(&fake, &args).await;
    assert_eq!(live.status.code(), Some(3), "{}", text(&live.stderr));
    // THEN it read only the catalogs of the Regions the tables would be in, wrote nothing, and
    // the verdicts are those of the captured account
    let writes = fake.writes();
    assert!(writes.is_empty(), "{writes:?}");
    let mut offline = args.to_vec();
    offline.extend_from_slice(&["--snapshot", "testdata/snapshots/demo-account.json"]);
    let offline = crate::util::cli(&offline);
    let verdicts = |o: &[u8]| -> Vec<(String, String, String)> {
        let doc: serde_json::Value = serde_json::from_slice(o).expect("JSON");
        doc["Evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["Resource"].as_str().unwrap().to_string(),
                    e["Region"].as_str().unwrap().to_string(),
                    e["ComplianceType"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(verdicts(&live.stdout), verdicts(&offline.stdout));
    let regions: std::collections::BTreeSet<String> = fake
        .log()
        .iter()
        .filter(|l| l.service == "backup")
        .map(|l| l.region.clone())
        .collect();
    assert_eq!(
        regions.into_iter().collect::<Vec<_>>(),
        vec!["eu-west-1", "us-east-1", "us-west-2"]
    );
    // Only the AWS Backup catalogs (and who the credentials are): no table is listed or read.
    let other: std::collections::BTreeSet<String> = fake
        .log()
        .iter()
        .filter(|l| l.service != "backup")
        .map(|l| l.op.clone())
        .collect();
    assert_eq!(
        other.into_iter().collect::<Vec<_>>(),
        vec!["GetCallerIdentity"]
    );
}
