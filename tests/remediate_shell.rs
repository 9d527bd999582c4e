//! Strings read from AWS are untrusted. A property test puts generated hostile strings into every
//! field a selection, a plan, a vault and a table can carry, then runs every printed command in
//! `bash -c` with a stub `aws` that records the arguments it receives. Nothing may run but `aws`,
//! and each argument must arrive exactly as the fix means it. The text the tool prints around
//! the commands must never let a stored newline start a line.

use crate::util::{cli, stdout};
use dynamodb_backup_rule::remedy::{calls::Call, remediate_region, render};
use dynamodb_backup_rule::snapshot;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fragments that mean something to a shell, to the AWS CLI or to a terminal.
const HOSTILE: &[&str] = &[
    "$(touch MARK)",
    "`touch MARK`",
    "'; touch MARK; '",
    "\"; touch MARK; \"",
    "$(echo x > MARK)",
    "&& touch MARK",
    "| touch MARK",
    "; touch MARK",
    "> MARK",
    "< /etc/passwd",
    "$HOME",
    "${IFS}",
    "\\",
    "'",
    "\"",
    "*",
    "?",
    "[a]",
    "!",
    "#",
    "~",
    " ",
    "\t",
    "-x",
    "--endpoint-url=http://127.0.0.2",
    "file:///etc/passwd",
    "\n$ aws s3 rm s3://bucket --recursive",
    "\u{1b}[31m",
    "é ü 漢",
    "a,b",
    "Key=k,Value=v",
    "{\"a\":1}",
    "%s%n",
];

fn hostile() -> impl Strategy<Value = String> {
    (
        prop::sample::select(HOSTILE),
        "[a-z0-9]{0,3}",
        prop::sample::select(HOSTILE),
    )
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

const ACCOUNT: &str = "111122223333";

fn arn(name: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}")
}

/// An account whose every string from AWS carries `h[i]`.
fn account(h: &[String], mark: &str) -> Value {
    let h: Vec<String> = h.iter().map(|s| s.replace("MARK", mark)).collect();
    let sel = |id: &str, name: &str, body: Value| {
        let mut b = body;
        b["SelectionName"] = json!(name);
        b["IamRoleArn"] = json!(format!("arn:aws:iam::{ACCOUNT}:role/{}", h[9]));
        json!({"SelectionId": id, "BackupSelection": b})
    };
    json!({"AccountId": ACCOUNT, "Regions": {"us-east-1": {
    "ResourceTypeOptInPreference": {"DynamoDB": false},
    "BackupVaults": [{"BackupVaultName": "Default", "Locked": false}],
    "BackupPlans": [{
        "BackupPlanId": format!("plan-{}", h[0]), "BackupPlanName": h[1], "VersionId": "v1",
        "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default",
            "ScheduleExpression": "cron(0 5 ? * * *)", "Lifecycle": {"DeleteAfterDays": 35},
            "RecoveryPointTags": {"note": h[2]}}],
        "Selections": [
            sel(&format!("sel-{}", h[3]), &h[4], json!({
                "Resources": [arn("t0"), format!("{}{}", arn("t"), h[5])],
                "NotResources": [arn("t0"), h[6]]})),
            sel("s-cond", &h[7], json!({
                "Resources": [format!("arn:aws:dynamodb:*:*:table/*")],
                "Conditions": {"StringEquals": [{"ConditionKey": format!("aws:ResourceTag/{}", h[8]), "ConditionValue": h[10]}],
                    "StringNotEquals": [{"ConditionKey": "aws:ResourceTag/skip", "ConditionValue": h[11]}]}})),
            sel("s-tags", &h[12], json!({
                "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": h[13], "ConditionValue": h[14]},
                    {"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily plan"}]})),
            sel("s-mid", "mid", json!({"Resources": [format!("{}*{}", arn("t"), h[15])]})),
        ]}],
    "Tables": [
        {"TableName": "t0", "TableArn": arn("t0"), "Tags": [{"Key": "skip", "Value": h[11]}]},
        {"TableName": "t1", "TableArn": arn("t1"), "Tags": [{"Key": h[8], "Value": format!("{}x", h[10])}]},
        {"TableName": "t2", "TableArn": arn("t2"), "Tags": [{"Key": "note", "Value": h[16]}]},
    ]}}})
}

/// Runs `command` in bash with a stub `aws` first on the PATH; the arguments of each `aws` it
/// ran, in order.
fn run_with_stub(command: &str, dir: &Path) -> Vec<Vec<String>> {
    let log = dir.join("argv.log");
    let _ = std::fs::remove_file(&log);
    let stub = dir.join("bin");
    std::fs::create_dir_all(&stub).unwrap();
    let aws = stub.join("aws");
    if !aws.exists() {
        std::fs::write(
            &aws,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$ARGV_LOG\"; done\nprintf '\\001\\0' >> \"$ARGV_LOG\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", stub.display()))
        .env("ARGV_LOG", &log)
        .env("HOME", dir)
        .status()
        .expect("bash runs");
    assert!(status.success(), "{command}");
    let raw = std::fs::read(&log).unwrap_or_default();
    let mut calls = vec![Vec::new()];
    for word in raw.split(|b| *b == 0).filter(|w| !w.is_empty()) {
        if word == [1] {
            calls.push(Vec::new());
        } else {
            calls
                .last_mut()
                .unwrap()
                .push(String::from_utf8(word.to_vec()).unwrap());
        }
    }
    calls.pop();
    calls
}

fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ddb-shell-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The JSON parameters each call must carry, from its own description (`Call::to_json`).
fn json_arguments(call: &Call) -> Vec<(&'static str, Value)> {
    let p = call.to_json()["Parameters"].clone();
    match call {
        Call::TagResource { .. } => vec![("--tags", p["Tags"].clone())],
        Call::UntagResource { .. } => vec![("--tag-keys", p["TagKeys"].clone())],
        Call::CreateBackupSelection { .. } => {
            vec![("--backup-selection", p["BackupSelection"].clone())]
        }
        Call::UpdateBackupPlan { .. } => vec![("--backup-plan", p["BackupPlan"].clone())],
        Call::OptInDynamoDb => vec![(
            "--resource-type-opt-in-preference",
            p["ResourceTypeOptInPreference"].clone(),
        )],
        _ => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(24), ..ProptestConfig::default() })]

    #[test]
    fn hostile_strings_never_run_and_arrive_intact(h in prop::collection::vec(hostile(), 17)) {
        // GIVEN an account whose every string from AWS is hostile
        let dir = scratch();
        let mark = dir.join("PWNED");
        let doc = account(&h, mark.to_str().unwrap());
        let snap = snapshot::parse(&doc.to_string()).expect("the account parses");
        let now = chrono::Utc::now();
        let mut commands = 0;
        for region in &snap.regions {
            // WHEN every candidate fix is built (all of them, verified or not)
            for r in remediate_region(region, &Default::default(), now, None) {
                for a in r.actions.iter().filter(|a| !a.command.is_empty()) {
                    // THEN the command is one line of `aws` steps
                    prop_assert!(!a.command.contains('\n'), "{}", a.command);
                    // AND run by bash, it runs `aws` only, with each argument intact
                    let received = run_with_stub(&a.command, &dir);
                    // (the stub does not receive its own name)
                    let expected: Vec<Vec<String>> = render::argv(&a.calls, &region.catalog.region)
                        .into_iter()
                        .map(|w| w[1..].to_vec())
                        .collect();
                    prop_assert_eq!(&received, &expected, "{}", a.command);
                    for (call, args) in a.calls.iter().zip(&received) {
                        for (flag, want) in json_arguments(call) {
                            let at = args.iter().position(|w| w == flag).expect("flag present");
                            let got: Value = serde_json::from_str(&args[at + 1]).expect("JSON argument");
                            prop_assert_eq!(got, want);
                        }
                    }
                    commands += 1;
                }
                // AND no description, reason or precondition holds a control character
                for a in &r.actions {
                    let texts = [a.description.as_str(), a.not_verified_because.as_deref().unwrap_or("")];
                    for t in texts.iter().chain(a.preconditions.iter().map(String::as_str).collect::<Vec<_>>().iter()) {
                        prop_assert!(!t.chars().any(char::is_control), "{t:?}");
                    }
                }
                prop_assert!(!r.reason.chars().any(char::is_control), "{:?}", r.reason);
            }
        }
        prop_assert!(commands > 0, "no command was printed");
        prop_assert!(!mark.exists(), "a hostile string ran");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_stored_newline_never_starts_a_line_in_text_output() {
    // GIVEN selection and plan names that hold a newline followed by a command
    let h: Vec<String> = (0..17)
        .map(|i| format!("n{i}\n$ aws s3 rm s3://bucket --recursive\u{1b}[2J"))
        .collect();
    let doc = account(&h, "/nonexistent/MARK");
    let path = scratch().join("hostile.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let p = path.to_str().unwrap();
    let md = path.with_extension("md");
    let report = cli(&["report", "--snapshot", p, "--output", md.to_str().unwrap()]);
    assert!(matches!(report.status.code(), Some(0) | Some(3)));
    // WHEN remediate, explain, evaluate and the Markdown report print
    let outputs = [
        stdout(&cli(&["remediate", "--snapshot", p, "--max-actions", "0"])),
        stdout(&cli(&["explain", "--snapshot", p, "--table", "t1"])),
        stdout(&cli(&["evaluate", "--snapshot", p])),
        std::fs::read_to_string(&md).unwrap(),
    ];
    for (i, text) in outputs.iter().enumerate() {
        assert!(!text.is_empty(), "output {i} is empty");
        // THEN every line that starts like a command is one of ours, and no escape reaches the
        // terminal
        for line in text.lines() {
            if line.trim_start().starts_with('$') {
                prop_assert_line(i, line);
            }
            assert!(!line.contains('\u{1b}'), "output {i}: {line:?}");
        }
    }
}

fn prop_assert_line(output: usize, line: &str) {
    assert!(
        line.starts_with("     $ aws "),
        "output {output}: a line that looks like a command is not one of the tool's: {line:?}"
    );
}
