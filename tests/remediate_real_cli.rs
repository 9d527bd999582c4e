//! The printed fixes, pasted as a careful operator would: each table's first verified command
//! runs in `bash` with the real AWS CLI (pinned, from PyPI; `scripts/aws-cli.sh`), against the
//! fake endpoint, which applies what AWS applies and refuses what AWS refuses. The account is
//! then audited afresh through the live read path: every table whose fix ran must be COMPLIANT,
//! and every table that was COMPLIANT must still be. Nothing here uses the tool's own model of
//! what a fix does.

use crate::util::fake_aws::{FakeAws, Write, BASE_ACCESS_KEY, BASE_SECRET};
use crate::util::{aws_bin, demo_snapshot, fake_aws_vars, stderr, stdout};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const ACCOUNT: &str = "111122223333";

fn temp_file(doc: &Value) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "ddb-real-cli-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

async fn tool(fake: &FakeAws, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .envs(fake_aws_vars(fake))
        .output()
        .await
        .expect("the CLI runs")
}

/// Every table's verdict, read live from the fake through the SDK: (Region, table) -> verdict.
async fn audit(fake: &FakeAws, regions: &[&str]) -> BTreeMap<(String, String), String> {
    let mut args = vec!["audit", "--format", "json"];
    for r in regions {
        args.extend(["--region", r]);
    }
    let out = tool(fake, &args).await;
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&out)
    );
    verdicts(&stdout(&out))
}

/// (Region, table) -> verdict, from `evaluate`'s or `audit`'s JSON.
fn verdicts(json: &str) -> BTreeMap<(String, String), String> {
    let doc: Value = serde_json::from_str(json).expect("evaluation JSON");
    doc["Evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                (
                    e["Region"].as_str().unwrap().to_string(),
                    e["ComplianceResourceId"].as_str().unwrap().to_string(),
                ),
                e["ComplianceType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs one printed command in bash with the real AWS CLI, against the fake.
async fn paste(fake: &FakeAws, command: &str) -> std::process::Output {
    let home = std::env::temp_dir().join(format!("ddb-real-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    tokio::process::Command::new("bash")
        .arg("-c")
        .arg(command)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", aws_bin().display()))
        .env("HOME", &home)
        .env("AWS_ENDPOINT_URL", fake.url())
        .env("AWS_ACCESS_KEY_ID", BASE_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .await
        .expect("bash runs")
}

/// What pasting every first verified fix of `account` did.
struct Outcome {
    /// Tables whose fix ran, by (Region, table).
    fixed: Vec<(String, String)>,
    /// The verdicts before and after.
    before: BTreeMap<(String, String), String>,
    after: BTreeMap<(String, String), String>,
    /// The write requests the fake received.
    writes: Vec<Write>,
}

async fn paste_first_fixes(account: &Value, parameters: Option<&str>) -> Outcome {
    let o = paste_fixes(account, parameters, |_, actions| {
        actions.iter().find(|a| a["Verified"] == true).cloned()
    })
    .await;
    // The what-if must agree with what the commands did: `--apply-to-snapshot` applies the same
    // first fixes, all together, to the snapshot file, and evaluating that file must give every
    // table the verdict the real CLI's changes gave it.
    let what_if = what_if_verdicts(account, parameters).await;
    let differ: Vec<_> = o
        .after
        .iter()
        .filter(|(t, v)| what_if.get(*t) != Some(*v))
        .map(|(t, v)| format!("{t:?}: commands {v}, what-if {:?}", what_if.get(t)))
        .collect();
    assert!(
        differ.is_empty() && what_if.len() == o.after.len(),
        "the what-if disagrees with the commands:\n{}",
        differ.join("\n")
    );
    o
}

/// `remediate --apply-to-snapshot`, then `evaluate` of the file it wrote.
async fn what_if_verdicts(
    account: &Value,
    parameters: Option<&str>,
) -> BTreeMap<(String, String), String> {
    let file = temp_file(account);
    let out_file = file.with_extension("what-if.json");
    let fake = FakeAws::start().await;
    let (input, output) = (file.to_str().unwrap(), out_file.to_str().unwrap());
    let mut args = vec![
        "remediate",
        "--snapshot",
        input,
        "--apply-to-snapshot",
        output,
    ];
    let mut eval = vec!["evaluate", "--snapshot", output, "--format", "json"];
    if let Some(p) = parameters {
        args.extend(["--parameters", p]);
        eval.extend(["--parameters", p]);
    }
    let ran = tool(&fake, &args).await;
    assert!(
        matches!(ran.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&ran)
    );
    let out = tool(&fake, &eval).await;
    let _ = (std::fs::remove_file(&file), std::fs::remove_file(&out_file));
    verdicts(&stdout(&out))
}

/// Pastes, for each NON_COMPLIANT table, the verified action `pick` chooses among all of its
/// actions (`--max-actions 0`), given the table's name.
async fn paste_fixes(
    account: &Value,
    parameters: Option<&str>,
    pick: impl Fn(&str, &[Value]) -> Option<Value>,
) -> Outcome {
    let file = temp_file(account);
    let fake = FakeAws::start().await;
    fake.load_snapshot(account);
    let regions: Vec<String> = account["Regions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
    let before = audit(&fake, &regions).await;
    let mut args = vec![
        "remediate",
        "--snapshot",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--max-actions",
        "0",
    ];
    if let Some(p) = parameters {
        args.extend(["--parameters", p]);
    }
    let out = tool(&fake, &args).await;
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("remediate JSON");
    let mut fixed = Vec::new();
    for r in doc["Remediations"].as_array().unwrap() {
        let Some(first) = pick(
            r["Table"].as_str().unwrap(),
            r["Actions"].as_array().unwrap(),
        ) else {
            continue;
        };
        assert_eq!(first["Verified"], true, "only verified actions are pasted");
        let command = first["Command"].as_str().unwrap();
        let ran = paste(&fake, command).await;
        assert!(
            ran.status.success(),
            "the fix for {} failed in the real AWS CLI:\n$ {command}\n{}",
            r["Table"],
            stderr(&ran)
        );
        fixed.push((
            r["Region"].as_str().unwrap().to_string(),
            r["Table"].as_str().unwrap().to_string(),
        ));
    }
    let after = audit(&fake, &regions).await;
    let _ = std::fs::remove_file(&file);
    Outcome {
        fixed,
        before,
        after,
        writes: fake.writes(),
    }
}

/// Every fixed table COMPLIANT, and no COMPLIANT table anything else.
fn assert_fixed_without_damage(o: &Outcome, at_least: usize) {
    assert!(
        o.fixed.len() >= at_least,
        "only {} fixes ran: {:?}",
        o.fixed.len(),
        o.fixed
    );
    for t in &o.fixed {
        assert_eq!(
            o.after.get(t).map(String::as_str),
            Some("COMPLIANT"),
            "{t:?} is not COMPLIANT after its fix ran"
        );
    }
    for (t, was) in &o.before {
        if was == "COMPLIANT" {
            assert_eq!(
                o.after.get(t).map(String::as_str),
                Some("COMPLIANT"),
                "{t:?} was COMPLIANT and no longer is"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_accounts_first_fixes_work_in_the_real_aws_cli() {
    // GIVEN the demo account behind an endpoint that refuses what AWS refuses
    // WHEN each table's first verified fix is pasted into bash with the real AWS CLI
    let o = paste_first_fixes(&demo_snapshot(), None).await;
    // THEN every one succeeds, and the account audited afresh shows them all fixed
    assert_fixed_without_damage(&o, 9);
    assert!(o.after.values().filter(|v| *v == "NON_COMPLIANT").count() == 0);
    // AND no organization policy plan was touched
    assert!(o.writes.iter().all(|w| !w.path.iter().any(|p| p == "orgs")));
}

/// A table ARN in the demo account's Region.
fn arn(name: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}")
}

fn table(name: &str, tags: &[(&str, &str)]) -> Value {
    json!({"TableName": name, "TableArn": arn(name), "TableStatus": "ACTIVE",
        "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()})
}

fn account(plans: Value, tables: Vec<Value>) -> Value {
    json!({"AccountId": ACCOUNT, "Regions": {"us-east-1": {
        "ResourceTypeOptInPreference": {"DynamoDB": true},
        "BackupVaults": [{"BackupVaultName": "Default", "Locked": false}],
        "BackupPlans": plans, "Tables": tables}}})
}

fn plan(id: &str, selections: Value) -> Value {
    json!({"BackupPlanId": id, "BackupPlanName": id, "VersionId": "v1",
        "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default",
            "ScheduleExpression": "cron(0 5 ? * * *)", "Lifecycle": {"DeleteAfterDays": 35}}],
        "Selections": selections})
}

const ROLE: &str = "arn:aws:iam::111122223333:role/service-role/AWSBackupDefaultServiceRole";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_table_names_get_fixes_the_service_accepts() {
    // GIVEN tables whose names are far longer than SelectionName's 50 characters, named only by
    // ARN, and one excluded by NotResources from a catch-all selection
    let long = |i: usize| format!("{}-{i}", "orders-archive-by-customer-and-region".repeat(3));
    let names: Vec<String> = (0..6).map(long).collect();
    let plans = json!([
        plan(
            "named",
            json!([{"SelectionId": "s-named", "BackupSelection": {
            "SelectionName": "named", "IamRoleArn": ROLE, "Resources": [arn(&names[0])]}}])
        ),
        plan(
            "everything",
            json!([{"SelectionId": "s-all", "BackupSelection": {
            "SelectionName": "all-but-one", "IamRoleArn": ROLE,
            "Resources": [format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{}*", &names[0][..20])],
            "NotResources": [arn(&names[5])],
            "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/keep", "ConditionValue": "yes"}]}}}])
        ),
    ]);
    let tables: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == 5 {
                table(n, &[("keep", "yes")])
            } else {
                table(n, &[])
            }
        })
        .collect();
    // WHEN each first fix is pasted
    let o = paste_first_fixes(&account(plans, tables), None).await;
    // THEN all succeed and protect their tables
    assert_fixed_without_damage(&o, 5);
    for w in o.writes.iter().filter(|w| w.op == "CreateBackupSelection") {
        let name = w.body["BackupSelection"]["SelectionName"].as_str().unwrap();
        assert!(name.len() <= 50, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awkward_but_ordinary_tag_values_arrive_intact() {
    // GIVEN selections that select by tag values with spaces, slashes, colons, pluses, equals
    // signs, a trailing space and letters outside ASCII, and one by a value DynamoDB cannot
    // store (no tag fix may be proposed for that one)
    let values = [
        ("team", "data platform"),
        ("cost-center", "a/b:c"),
        ("owner", "ops + sre"),
        ("backup", "daily "),
        ("tier", "x=y"),
        ("name", "Ünïcode ñame"),
    ];
    let selections: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, (k, v))| {
            json!({"SelectionId": format!("s-{i}"), "BackupSelection": {
                "SelectionName": format!("by-{k}"), "IamRoleArn": ROLE,
                "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": k, "ConditionValue": v}]}})
        })
        .chain(std::iter::once(json!({"SelectionId": "s-bad", "BackupSelection": {
            "SelectionName": "by-shell", "IamRoleArn": ROLE,
            "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "x", "ConditionValue": "$(touch /tmp/ddb-pwned)"}]}})))
        .collect();
    let tables: Vec<Value> = (0..6).map(|i| table(&format!("t{i}"), &[])).collect();
    // WHEN table `t<i>` gets the verified fix that tags it for selection `by-<key i>`
    let o = paste_fixes(
        &account(json!([plan("tags", json!(selections))]), tables),
        None,
        |t, actions| {
            let i: usize = t[1..].parse().unwrap();
            let wanted = format!("`by-{}`", values[i].0);
            actions
                .iter()
                .find(|a| {
                    a["Verified"] == true && a["Description"].as_str().unwrap().contains(&wanted)
                })
                .cloned()
        },
    )
    .await;
    // THEN every one succeeds and protects its table
    assert_fixed_without_damage(&o, 6);
    // AND every value arrived byte for byte
    let sent: Vec<(String, String)> = o
        .writes
        .iter()
        .filter(|w| w.op == "TagResource")
        .flat_map(|w| w.body["Tags"].as_array().cloned().unwrap_or_default())
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (k, v) in values {
        assert!(
            sent.iter().any(|(sk, sv)| sk == k && sv == v),
            "{k}={v:?} not sent intact: {sent:?}"
        );
    }
    assert!(!sent.iter().any(|(k, _)| k == "x"));
    assert!(!Path::new("/tmp/ddb-pwned").exists());
}

/// A plan rule with every optional member AWS documents.
fn full_rule() -> Value {
    json!({
        "RuleName": "daily", "RuleId": "a1b2c3", "TargetBackupVaultName": "gone-vault",
        "ScheduleExpression": "cron(0 5 ? * * *)", "ScheduleExpressionTimezone": "Europe/Paris",
        "StartWindowMinutes": 60, "CompletionWindowMinutes": 240, "EnableContinuousBackup": true,
        "Lifecycle": {"DeleteAfterDays": 120, "MoveToColdStorageAfterDays": 30,
            "OptInToArchiveForSupportedResources": true},
        "RecoveryPointTags": {"owner": "platform", "cost": "shared"},
        "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-west-2:111122223333:backup-vault:dr",
            "Lifecycle": {"DeleteAfterDays": 365, "MoveToColdStorageAfterDays": 90}}],
        "IndexActions": [{"ResourceTypes": ["EBS"]}],
        "TargetLogicallyAirGappedBackupVaultArn": "arn:aws:backup:us-east-1:111122223333:backup-vault:airgap"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_rewrite_sends_back_every_member_but_the_one_it_fixes() {
    // GIVEN a plan shared with other services, with every optional member, whose vault was
    // deleted
    let mut p = plan(
        "shared",
        json!([{"SelectionId": "s1", "BackupSelection": {"SelectionName": "everything",
        "IamRoleArn": ROLE, "Resources": ["*"]}}]),
    );
    p["Rules"] = json!([full_rule()]);
    p["AdvancedBackupSettings"] =
        json!([{"ResourceType": "EC2", "BackupOptions": {"WindowsVSS": "enabled"}}]);
    let doc = account(json!([p]), vec![table("orders", &[])]);
    // WHEN its fix is pasted into the real AWS CLI
    let o = paste_first_fixes(&doc, None).await;
    assert_fixed_without_damage(&o, 1);
    // THEN the plan sent is the plan read, field by field, with only the vault changed and the
    // output-only RuleId left out
    let update = o
        .writes
        .iter()
        .find(|w| w.op == "UpdateBackupPlan")
        .expect("an UpdateBackupPlan");
    let sent = &update.body["BackupPlan"];
    let mut expected = full_rule();
    expected.as_object_mut().unwrap().remove("RuleId");
    expected["TargetBackupVaultName"] = json!("Default");
    assert_eq!(sent["Rules"][0], expected);
    assert_eq!(
        sent["AdvancedBackupSettings"],
        doc["Regions"]["us-east-1"]["BackupPlans"][0]["AdvancedBackupSettings"]
    );
    assert_eq!(sent["BackupPlanName"], "shared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_fix_changes_only_the_retention() {
    // GIVEN the same plan, its vault present, and a policy asking for 400 days of retention
    let mut p = plan(
        "shared",
        json!([{"SelectionId": "s1", "BackupSelection": {"SelectionName": "everything",
        "IamRoleArn": ROLE, "Resources": ["*"]}}]),
    );
    let mut rule = full_rule();
    rule["TargetBackupVaultName"] = json!("Default");
    p["Rules"] = json!([rule.clone()]);
    let doc = account(json!([p]), vec![table("orders", &[])]);
    let o = paste_first_fixes(&doc, Some(r#"{"requiredRetentionDays":"400"}"#)).await;
    let update = o
        .writes
        .iter()
        .find(|w| w.op == "UpdateBackupPlan")
        .expect("an UpdateBackupPlan");
    let mut expected = rule;
    expected.as_object_mut().unwrap().remove("RuleId");
    expected["Lifecycle"]["DeleteAfterDays"] = json!(400);
    assert_eq!(update.body["BackupPlan"]["Rules"][0], expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reads_keep_every_plan_member_even_one_the_sdk_does_not_know() {
    for future in [false, true] {
        live_plan_rewrite(future).await;
    }
}

/// A plan rewrite read live: with `future`, the rule also holds a member no SDK or CLI knows yet.
async fn live_plan_rewrite(future: bool) {
    // GIVEN, behind the endpoint, a plan whose vault was deleted, with every optional member,
    // ScanActions and ScanSettings
    let mut p = plan(
        "shared",
        json!([{"SelectionId": "s1", "BackupSelection": {"SelectionName": "everything",
        "IamRoleArn": ROLE, "Resources": ["*"]}}]),
    );
    let mut rule = full_rule();
    rule["ScanActions"] = json!([{"MalwareScanner": "GUARDDUTY", "ScanMode": "FULL_SCAN"}]);
    if future {
        rule["MemberAddedNextYear"] = json!({"Nested": [1, 2]});
    }
    p["Rules"] = json!([rule.clone()]);
    p["ScanSettings"] = json!([{"MalwareScanner": "GUARDDUTY", "ResourceTypes": ["EBS"]}]);
    let doc = account(json!([p]), vec![table("orders", &[])]);
    let fake = FakeAws::start().await;
    fake.load_snapshot(&doc);
    let mut expected = rule;
    expected.as_object_mut().unwrap().remove("RuleId");

    // WHEN `snapshot` captures the account live
    let file = temp_file(&json!({}));
    let path = file.to_str().unwrap();
    let out = tool(
        &fake,
        &["snapshot", "--region", "us-east-1", "--output", path],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    // THEN the file keeps every member of the rule under its AWS name, and the plan's own
    let captured: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&file);
    let plan0 = &captured["Regions"]["us-east-1"]["BackupPlans"][0];
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&plan0["Rules"][0][k], v, "rule member {k} in the snapshot");
    }
    assert_eq!(
        plan0["ScanSettings"],
        doc["Regions"]["us-east-1"]["BackupPlans"][0]["ScanSettings"]
    );

    // WHEN live `remediate` reads the account and its first fix is pasted into the real CLI
    let out = tool(
        &fake,
        &["remediate", "--region", "us-east-1", "--format", "json"],
    )
    .await;
    let rem: Value = serde_json::from_str(&stdout(&out)).expect("remediate JSON");
    let fix = rem["Remediations"][0]["Actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Verified"] == true)
        .expect("a verified fix")
        .clone();
    assert_eq!(fix["Kind"], "UpdateBackupPlan", "{fix}");
    let command = fix["Command"].as_str().unwrap();
    let ran = paste(&fake, command).await;
    let writes = fake.writes();
    let sent = writes.iter().find(|w| w.op == "UpdateBackupPlan");
    if future {
        // THEN the unknown member is sent back too, never dropped: a CLI that does not know it
        // refuses the whole command, and nothing is written
        assert!(command.contains("MemberAddedNextYear"), "{command}");
        assert!(!ran.status.success());
        assert!(
            stderr(&ran).contains("Unknown parameter"),
            "{}",
            stderr(&ran)
        );
        assert!(sent.is_none(), "nothing may be written");
        return;
    }
    // THEN the plan sent back is the plan read, with only the vault changed
    assert!(ran.status.success(), "{}", stderr(&ran));
    let sent = &sent.expect("an UpdateBackupPlan").body["BackupPlan"];
    expected["TargetBackupVaultName"] = json!("Default");
    assert_eq!(sent["Rules"][0], expected);
    assert_eq!(sent["ScanSettings"], plan0["ScanSettings"]);
}
