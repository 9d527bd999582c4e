//! `remediate`: every action shown as verified is proven by re-evaluation; the demo account
//! covers each kind of action; bad input is refused clearly; `--apply-to-snapshot` round-trips
//! through `evaluate`; and the live mode reads the account through the fake endpoint.

use crate::util::fake_aws::FakeAws;
use crate::util::synth::{generate, SynthConfig};
use crate::util::{cli, demo_snapshot, stderr, stdout};
use dynamodb_backup_rule::coverage::Compliance;
use dynamodb_backup_rule::remedy::{
    first_fixes, remediate_region, remediate_top, Kind, Remediation,
};
use dynamodb_backup_rule::{rule, snapshot};
use proptest::prelude::*;
use serde_json::{json, Value};

const DEMO: &str = "testdata/snapshots/demo-account.json";

fn json_of(args: &[&str]) -> Value {
    let out = cli(args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).expect("JSON")
}

fn kinds(doc: &Value) -> Vec<String> {
    doc["Remediations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Actions"].as_array().unwrap().iter())
        .filter(|a| a["Verified"] == true)
        .map(|a| a["Kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_demo_account_gets_every_kind_of_verified_action() {
    let plain = json_of(&["remediate", "--snapshot", DEMO, "--format", "json"]);
    let mut seen = kinds(&plain);
    let policy = json_of(&[
        "remediate",
        "--snapshot",
        DEMO,
        "--format",
        "json",
        "--parameters",
        r#"{"backupVaultLockCheck":"true","requiredRetentionDays":"400"}"#,
    ]);
    seen.extend(kinds(&policy));
    let lock = json_of(&[
        "remediate",
        "--snapshot",
        DEMO,
        "--format",
        "json",
        "--parameters",
        r#"{"backupVaultLockCheck":"true"}"#,
    ]);
    seen.extend(kinds(&lock));
    // A plan whose vault was deleted: the fix points its rule at a vault that exists.
    let mut doc = demo_snapshot();
    let vaults = doc["Regions"]["us-east-1"]["BackupVaults"]
        .as_array_mut()
        .unwrap();
    vaults.retain(|v| v["BackupVaultName"] != "prod-vault");
    let dir = std::env::temp_dir().join(format!("ddb-rem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gone = dir.join("gone.json");
    std::fs::write(&gone, doc.to_string()).unwrap();
    seen.extend(kinds(&json_of(&[
        "remediate",
        "--snapshot",
        gone.to_str().unwrap(),
        "--format",
        "json",
    ])));
    for kind in [
        "TagResource",
        "UntagResource",
        "ReplaceBackupSelection",
        "CreateBackupSelection",
        "UpdateRegionSettings",
        "UpdateBackupPlan",
        "PutBackupVaultLockConfiguration",
    ] {
        assert!(
            seen.iter().any(|k| k == kind),
            "no verified {kind}: {seen:?}"
        );
    }
    // AND a Region with no plan at all gets only the last resort, plainly not verified
    let empty = json!({"AccountId": "111122223333", "Regions": {"us-east-1": {
        "ResourceTypeOptInPreference": {"DynamoDB": true}, "BackupPlans": [],
        "Tables": [{"TableName": "lonely", "TableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/lonely"}]}}});
    let path = dir.join("empty.json");
    std::fs::write(&path, empty.to_string()).unwrap();
    let out = cli(&["remediate", "--snapshot", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "a table without a verified fix");
    let text = stdout(&out);
    assert!(text.contains("no action could be verified"), "{text}");
    // Quiet by default: the unverified last resort is counted, and listed on request.
    assert!(text.contains("1 unverified candidate"), "{text}");
    assert!(!text.contains("not verified: CreateBackupPlan"), "{text}");
    let all = cli(&[
        "remediate",
        "--snapshot",
        path.to_str().unwrap(),
        "--max-actions",
        "0",
    ]);
    assert!(
        stdout(&all).contains("not verified: CreateBackupPlan"),
        "{}",
        stdout(&all)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_output_prints_the_exact_commands_and_explain_points_to_the_fix() {
    let out = cli(&[
        "remediate",
        "--snapshot",
        DEMO,
        "--table",
        "payments-scratch",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("$ aws dynamodb tag-resource --region us-east-1 --resource-arn arn:aws:dynamodb:us-east-1:111122223333:table/payments-scratch"), "{text}");
    // A replacement is one command: the delete runs only if the create succeeded.
    assert!(
        text.contains("' && aws backup delete-backup-selection --region us-east-1"),
        "{text}"
    );
    assert!(
        text.lines()
            .filter(|l| l.contains("aws "))
            .all(|l| l.trim_start().starts_with("$ aws ")),
        "{text}"
    );
    let explain = cli(&["explain", "--snapshot", DEMO, "--table", "payments-scratch"]);
    assert!(
        stdout(&explain).contains("fix (verified):"),
        "{}",
        stdout(&explain)
    );
}

#[test]
fn bad_input_is_refused_clearly() {
    let out = cli(&["remediate", "--snapshot", DEMO, "--table", "no-such-table"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-table"), "{}", stderr(&out));
    let out = cli(&[
        "remediate",
        "--snapshot",
        DEMO,
        "--table",
        "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("is not NON_COMPLIANT: nothing to remediate"),
        "{}",
        stdout(&out)
    );
    let out = cli(&[
        "remediate",
        "--snapshot",
        "testdata/snapshots/bad/invalid-json.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn applied_to_the_snapshot_every_verified_fix_holds_together() {
    let dir = std::env::temp_dir().join(format!("ddb-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("what-if.json");
    let out = cli(&[
        "remediate",
        "--snapshot",
        DEMO,
        "--apply-to-snapshot",
        out_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fixed: Vec<String> = serde_json::from_str::<Value>(&stdout(&out)).unwrap()["Remediations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["Actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["Verified"] == true)
        })
        .map(|r| r["ResourceArn"].as_str().unwrap().to_string())
        .collect();
    assert!(!fixed.is_empty());
    // THEN evaluate on the what-if snapshot shows every fixed table COMPLIANT, and nothing that
    // was COMPLIANT lost it
    let before = json_of(&["evaluate", "--snapshot", DEMO, "--format", "json"]);
    let after = json_of(&[
        "evaluate",
        "--snapshot",
        out_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let verdict = |doc: &Value, arn: &str| {
        doc["Evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["ResourceArn"] == arn)
            .map(|e| e["ComplianceType"].as_str().unwrap().to_string())
    };
    for arn in &fixed {
        assert_eq!(verdict(&after, arn).as_deref(), Some("COMPLIANT"), "{arn}");
    }
    for e in before["Evaluations"].as_array().unwrap() {
        if e["ComplianceType"] == "COMPLIANT" {
            let arn = e["ResourceArn"].as_str().unwrap();
            assert_eq!(
                verdict(&after, arn).as_deref(),
                Some("COMPLIANT"),
                "{arn} lost coverage"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_remediate_reads_the_account_and_changes_nothing() {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args([
            "remediate",
            "--region",
            "us-east-1",
            "--table",
            "users",
            "--format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .envs(crate::util::fake_aws_vars(&fake))
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Remediations"][0]["Table"], "users");
    assert!(fake.count("ListBackupPlans") > 0);
    assert_eq!(fake.count("PutEvaluations"), 0);
    assert!(fake
        .log()
        .iter()
        .all(|l| !l.op.starts_with("Tag") && !l.op.starts_with("Create")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(40), ..ProptestConfig::default() })]

    #[test]
    fn every_verified_action_fixes_its_table_and_breaks_no_other(seed in 0u64..10_000) {
        // GIVEN a generated account with adversarial constructs
        let file = generate(SynthConfig { tables: 60, selections: 30, seed, adversarial: true });
        let snap = snapshot::parse(&serde_json::to_string(&file).unwrap()).unwrap();
        let params = Default::default();
        let now = chrono::Utc::now();
        for region in &snap.regions {
            let original = dynamodb_backup_rule::model::Snapshot {
                account_id: snap.account_id.clone(),
                captured_at: None,
                regions: vec![region.clone()],
            };
            let before = rule::evaluate_snapshot(&original, &params, now);
            for r in remediate_region(region, &params, now, None) {
                for a in r.actions.iter().filter(|a| a.verified) {
                    // WHEN the action is applied to a copy, by itself
                    let mut copy = region.clone();
                    for c in &a.calls { c.apply(&mut copy, now); }
                    let whole = dynamodb_backup_rule::model::Snapshot { account_id: snap.account_id.clone(), captured_at: None, regions: vec![copy] };
                    let after = rule::evaluate_snapshot(&whole, &params, now);
                    // THEN its table is COMPLIANT, and every COMPLIANT table stays so
                    let mine = after.iter().find(|e| e.table.name == r.table).unwrap();
                    prop_assert_eq!(mine.verdict.compliance, Compliance::Compliant, "{:?} {}", a.kind, a.description);
                    for (b, af) in before.iter().zip(&after) {
                        if b.verdict.compliance == Compliance::Compliant {
                            prop_assert_eq!(af.verdict.compliance, Compliance::Compliant, "{:?} broke {}", a.kind, af.table.name);
                        }
                    }
                    prop_assert!(a.kind != Kind::CreateBackupPlan);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(40), ..ProptestConfig::default() })]

    #[test]
    fn a_limited_remediation_shows_exactly_the_best_actions_of_the_full_one(
        seed in 0u64..10_000,
        adversarial: bool,
        max in 1usize..5,
    ) {
        // GIVEN a generated account
        let file = generate(SynthConfig { tables: 60, selections: 30, seed, adversarial });
        let snap = snapshot::parse(&serde_json::to_string(&file).unwrap()).unwrap();
        let params = Default::default();
        let now = chrono::Utc::now();
        for region in &snap.regions {
            // WHEN the full remediation, the top `max` and the first fix all run
            let full = remediate_region(region, &params, now, None);
            let top = remediate_top(region, &params, now, None, max);
            let first = first_fixes(region, &params, now, None);
            prop_assert_eq!(full.len(), top.len());
            prop_assert_eq!(full.len(), first.len());
            for ((f, t), q) in full.iter().zip(&top).zip(&first) {
                prop_assert_eq!(&f.resource_arn, &t.resource_arn);
                let best = |r: &Remediation, n: usize| -> Vec<(String, usize)> {
                    r.actions.iter().filter(|a| a.verified).take(n)
                        .map(|a| (a.description.clone(), a.affects)).collect()
                };
                // THEN the limited one shows the full one's best `max` verified actions, in order
                prop_assert_eq!(best(f, max), best(t, max), "{}", f.table);
                prop_assert_eq!(best(f, 1), best(q, 1), "{}", f.table);
                // AND counts what it leaves out: nothing is lost silently
                prop_assert_eq!(t.actions.len() + t.not_shown, f.actions.len(), "{}", f.table);
                // AND with fewer than `max` verified, every verified one is shown, and only those:
                // unverified candidates are counted, not listed (quiet by default)
                prop_assert!(t.actions.iter().all(|a| a.verified));
                if best(f, max).len() < max {
                    prop_assert_eq!(t.actions.len(), best(f, max).len());
                }
            }
        }
    }
}

#[test]
fn check_tag_says_which_tables_the_dashboard_remediation_would_protect() {
    let out = cli(&["remediate", "--snapshot", DEMO, "--check-tag", "env=prod"]);
    // The answer alone, on stdout, and no remediation listing
    let text = stdout(&out);
    assert!(
        text.contains("tag env=prod in us-east-1: protects 5 of 6"),
        "{text}"
    );
    assert!(!text.contains("$ aws"), "{text}");
    // `users` carries backup-exempt=true, which prod-tables excludes: the tag alone cannot
    // help, and the answer says why
    assert!(
        text.contains("not users: tagged, it would still be not covered: condition StringNotEquals aws:ResourceTag/backup-exempt=true failed"),
        "{text}"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "some table the tag does not protect"
    );
    let out = cli(&["remediate", "--snapshot", DEMO, "--check-tag", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--check-tag"), "{}", stderr(&out));
}

#[test]
fn by_default_each_table_shows_its_three_best_actions_and_counts_the_rest() {
    // GIVEN a generated account where tables are named by many selections
    let file = generate(SynthConfig {
        tables: 300,
        selections: 100,
        seed: 7,
        adversarial: false,
    });
    let path = std::env::temp_dir().join(format!("ddb-max-actions-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    let p = path.to_str().unwrap();
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["remediate", "--snapshot", p, "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&stdout(&cli(&args))).unwrap()
    };
    let limited = run(&[]);
    let full = run(&["--max-actions", "0"]);
    let (limited, full) = (
        limited["Remediations"].as_array().unwrap(),
        full["Remediations"].as_array().unwrap(),
    );
    assert_eq!(limited.len(), full.len());
    let mut cut = 0;
    for (l, f) in limited.iter().zip(full) {
        let (la, fa) = (
            l["Actions"].as_array().unwrap(),
            f["Actions"].as_array().unwrap(),
        );
        // THEN the shown actions are the full list's first ones, at most 3 when 3 verify
        let verified = fa.iter().filter(|a| a["Verified"] == true).count();
        if verified >= 3 {
            assert_eq!(la.len(), 3, "{}", l["Table"]);
        }
        assert_eq!(&fa[..la.len()], &la[..], "{}", l["Table"]);
        // AND what is left out is counted, never lost
        let not_shown = l["ActionsNotShown"].as_u64().unwrap() as usize;
        assert_eq!(la.len() + not_shown, fa.len(), "{}", l["Table"]);
        assert_eq!(f["ActionsNotShown"], 0);
        cut += usize::from(not_shown > 0);
    }
    assert!(
        cut > 0,
        "the account must have tables with more than 3 candidates"
    );
    // AND the text says how to see them all
    let text = stdout(&cli(&["remediate", "--snapshot", p]));
    assert!(
        text.contains(
            "more candidate actions, ranked after these or not verified; --max-actions 0"
        ),
        "{text}"
    );
    let _ = std::fs::remove_file(&path);
}
