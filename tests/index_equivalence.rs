//! The selection index must never change an answer: on generated accounts, including every
//! ambiguous and degenerate construct, the indexed verdict equals the plain one (every
//! selection checked) for every table: compliance, covering set and reason.

use crate::util::synth::{generate, SynthConfig};
use dynamodb_backup_rule::coverage::{evaluate_table, evaluate_table_plain, CatalogIndex};
use dynamodb_backup_rule::model::Snapshot;

fn snapshot(cfg: SynthConfig) -> Snapshot {
    let file = generate(cfg);
    Snapshot::try_from(file).expect("generated snapshots are valid")
}

fn assert_equivalent(cfg: SynthConfig) -> (usize, usize) {
    let snap = snapshot(cfg);
    let mut compliant = 0;
    let mut tables = 0;
    for region in &snap.regions {
        let index = CatalogIndex::new(&region.catalog);
        for table in &region.tables {
            let fast = evaluate_table(table, &index);
            let plain = evaluate_table_plain(table, &index);
            assert_eq!(fast, plain, "seed {} table {}", cfg.seed, table.name);
            tables += 1;
            compliant += usize::from(!fast.covered_by.is_empty());
        }
    }
    (tables, compliant)
}

#[test]
fn indexed_verdicts_equal_plain_verdicts_on_adversarial_accounts() {
    // GIVEN 40 generated accounts with every ambiguous construct mixed in
    // WHEN each table is evaluated with and without the index
    // THEN the verdicts, covering sets and reasons are identical
    let mut compliant = 0;
    let mut total = 0;
    for seed in 0..40 {
        let (t, c) = assert_equivalent(SynthConfig {
            tables: 150,
            selections: 120,
            seed,
            adversarial: true,
        });
        total += t;
        compliant += c;
    }
    // The data must exercise both outcomes, or the comparison proves little.
    assert!(
        compliant > total / 10 && compliant < total * 9 / 10,
        "{compliant} of {total} compliant"
    );
}

#[test]
fn indexed_verdicts_equal_plain_verdicts_on_the_benchmark_mix() {
    let (tables, compliant) = assert_equivalent(SynthConfig {
        tables: 2_000,
        selections: 1_000,
        seed: 7,
        adversarial: false,
    });
    assert!(compliant > 0 && compliant < tables);
}

/// Every combination of the tags a few class-decided selections look at (values, absence, a
/// key in another letter case, a value with a space), against `table/*` with conditions,
/// `ListOfTags` alone, an ambiguous `StringLike`, an exclusion of every table and a deleted
/// plan, each alone and in pairs (so each one's reason is the one shown for some table): the
/// reason search that decides such selections once per class of table must give each table the
/// verdict and reason of checking every selection for it.
#[test]
fn selections_decided_per_class_give_every_table_its_own_reason() {
    use serde_json::json;
    let cond = |key: &str, value: &str| json!({"ConditionKey": format!("aws:ResourceTag/{key}"), "ConditionValue": value});
    let lot = |key: &str, value: &str| json!([{"ConditionType": "STRINGEQUALS", "ConditionKey": key, "ConditionValue": value}]);
    let sel = |id: &str, body: serde_json::Value| {
        let mut b = json!({"SelectionName": id, "IamRoleArn": "arn:aws:iam::111122223333:role/b"});
        b.as_object_mut()
            .expect("object")
            .extend(body.as_object().expect("object").clone());
        json!({"SelectionId": id, "BackupSelection": b})
    };
    let all = "arn:aws:dynamodb:*:*:table/*";
    // Each fails for every table (no table has tier=gold), so its reason always shows; which
    // part fails, and what the reason quotes, depends on the table's tags.
    let active = [
        sel(
            "team-a-prod",
            json!({"Resources": [all], "Conditions": {
            "StringEquals": [cond("team", "a"), cond("tier", "gold")],
            "StringLike": [cond("env", "pro*")]}}),
        ),
        sel(
            "not-weekly",
            json!({"Resources": [all], "Conditions": {
            "StringEquals": [cond("tier", "gold")], "StringNotEquals": [cond("backup", "weekly")]}}),
        ),
        sel(
            "staging",
            json!({"Resources": ["*"], "Conditions": {"StringLike": [cond("env", "st?ging")]}}),
        ),
        sel(
            "monthly-tag",
            json!({"ListOfTags": lot("backup", "monthly")}),
        ),
        sel(
            "hourly-tag",
            json!({"ListOfTags": lot("aws:ResourceTag/Backup", "hourly")}),
        ),
        sel(
            "excluded",
            json!({"Resources": ["*"], "NotResources": [all]}),
        ),
        sel(
            "rds-or-team-c",
            json!({"Resources": ["arn:aws:rds:*:*:db:*"], "ListOfTags": lot("team", "c")}),
        ),
    ];
    let deleted = sel(
        "deleted-plan",
        json!({"Resources": [all], "Conditions": {"StringEquals": [cond("env", "dev")]}}),
    );

    let mut tables = Vec::new();
    let envs = [
        Some("prod"),
        Some("dev"),
        Some("staging"),
        Some("pro d"),
        None,
    ];
    let backups = [Some("daily"), Some("weekly"), None];
    let capitals = [Some("weekly"), Some("Hourly"), None];
    for (i, env) in envs.iter().enumerate() {
        for (j, backup) in backups.iter().enumerate() {
            for (k, capital) in capitals.iter().enumerate() {
                for team in ["a", "b"] {
                    // Two tables of each class, so the second is decided from the memo.
                    for copy in 0..2 {
                        let mut tags = vec![
                            json!({"Key": "team", "Value": team}),
                            json!({"Key": "other", "Value": copy.to_string()}),
                        ];
                        for (key, value) in [("env", env), ("backup", backup), ("Backup", capital)]
                        {
                            if let Some(v) = value {
                                tags.push(json!({"Key": key, "Value": v}));
                            }
                        }
                        let name = format!("t-{i}{j}{k}-{team}-{copy}");
                        tables.push(json!({"TableName": name, "TableStatus": "ACTIVE",
                            "TableArn": format!("arn:aws:dynamodb:us-east-1:111122223333:table/{name}"), "Tags": tags}));
                    }
                }
            }
        }
    }
    let rule = json!([{"RuleName": "r", "TargetBackupVaultName": "Default"}]);
    let account = |selections: Vec<serde_json::Value>, with_deleted: bool| {
        let mut plans = vec![
            json!({"BackupPlanId": "p1", "BackupPlanName": "p1", "Rules": rule, "Selections": selections}),
        ];
        if with_deleted {
            plans.push(json!({"BackupPlanId": "p2", "BackupPlanName": "gone", "DeletionDate": "2026-01-01T00:00:00Z",
                "Rules": rule, "Selections": [deleted.clone()]}));
        }
        json!({"AccountId": "111122223333", "Regions": {"us-east-1": {
            "ResourceTypeOptInPreference": {"DynamoDB": true}, "BackupPlans": plans, "Tables": tables}}})
    };
    let mut accounts = vec![account(active.to_vec(), true), account(Vec::new(), true)];
    for (i, a) in active.iter().enumerate() {
        accounts.push(account(vec![a.clone()], false));
        for b in &active[i + 1..] {
            accounts.push(account(vec![a.clone(), b.clone()], i % 2 == 0));
        }
    }
    let mut reasons = std::collections::BTreeSet::new();
    for doc in &accounts {
        let snap = dynamodb_backup_rule::snapshot::parse(&doc.to_string()).expect("snapshot");
        let region = &snap.regions[0];
        let index = CatalogIndex::new(&region.catalog);
        for table in &region.tables {
            let fast = evaluate_table(table, &index);
            let plain = evaluate_table_plain(table, &index);
            assert_eq!(fast, plain, "table {} in {doc}", table.name);
            assert!(fast.covered_by.is_empty(), "{}", fast.reason);
            reasons.insert(fast.reason);
        }
    }
    // The accounts must produce many different reasons, or the comparison proves little.
    assert!(
        reasons.len() >= 30,
        "{} reasons: {reasons:#?}",
        reasons.len()
    );
}
