//! Deterministic synthetic accounts for the benchmarks and the index-equivalence tests. Test
//! support, not part of the library: tests, benches and the generator example include it by path.
//!
//! Tables belong to "apps" (about ten tables each) and carry `app`, `env`, `team` and sometimes
//! `backup` tags. Selections cycle through the constructs real accounts use: exact ARN lists,
//! name prefixes, the table-type wildcard gated by a `StringEquals` condition, `ListOfTags`, and
//! prefixes with `NotResources` exclusions, plus a few account-wide selections. With
//! `adversarial` set, every ambiguous and degenerate construct of the spec is mixed in too.

use dynamodb_backup_rule::snapshot::{
    BackupSelectionFile, ConditionParameterFile, PlanFile, RegionFile, RuleFile, SelectionFile,
    SnapshotFile, TableFile, TagConditionFile, TagFile,
};
use std::collections::BTreeMap;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthConfig {
    /// Tables in the account (all in one Region).
    pub tables: usize,
    /// Selections across all plans (at most 100 per plan, as AWS allows).
    pub selections: usize,
    /// PRNG seed; the same seed gives the same file.
    pub seed: u64,
    /// Mix in ambiguous, invalid and inactive constructs.
    pub adversarial: bool,
}

/// SplitMix64: a few lines, good enough for test data, and no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

fn table_arn(name: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
}

fn tag(key: &str, value: &str) -> TagFile {
    TagFile {
        key: key.into(),
        value: value.into(),
    }
}

fn cond(key: &str, value: &str) -> ConditionParameterFile {
    ConditionParameterFile {
        condition_key: key.into(),
        condition_value: value.into(),
    }
}

fn lot(kind: &str, key: &str, value: &str) -> TagConditionFile {
    TagConditionFile {
        condition_type: kind.into(),
        condition_key: key.into(),
        condition_value: value.into(),
    }
}

/// Generates a snapshot.
pub fn generate(cfg: SynthConfig) -> SnapshotFile {
    let mut rng = Rng(cfg.seed);
    let apps = (cfg.tables / 10).max(1);
    let kinds = ["orders", "users", "events", "sessions", "ledger"];
    let envs = ["prod", "staging", "dev"];
    let names: Vec<String> = (0..cfg.tables)
        .map(|i| format!("app-{}-{}-{i}", i % apps, kinds[i % kinds.len()]))
        .collect();
    let tables: Vec<TableFile> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let app = i % apps;
            let mut tags = vec![
                tag("app", &format!("app-{app}")),
                tag("env", envs[rng.below(envs.len())]),
                tag("team", &format!("team-{}", app % 50)),
            ];
            if rng.chance(60) {
                tags.push(tag(
                    "backup",
                    if rng.chance(80) { "daily" } else { "weekly" },
                ));
            }
            if cfg.adversarial && i % 10 == 3 {
                // A key that differs from the selections' only in case: reasons name it. (By
                // position, not by the generator, so the rest of the account stays as it was.)
                tags.push(tag(
                    if i % 20 == 3 { "Backup" } else { "ENV" },
                    if i % 40 < 20 { "daily" } else { "prod" },
                ));
            }
            if cfg.adversarial && rng.chance(10) {
                tags.push(tag(
                    "owner",
                    if rng.chance(50) { "data platform" } else { "" },
                ));
            }
            let status = if rng.chance(1) { "CREATING" } else { "ACTIVE" };
            TableFile {
                table_name: name.clone(),
                table_arn: table_arn(name),
                table_status: Some(status.into()),
                tags: Some(tags),
                recovery_points: None,
            }
        })
        .collect();

    let mut selections: Vec<SelectionFile> = Vec::with_capacity(cfg.selections);
    for s in 0..cfg.selections {
        let app = rng.below(apps);
        let mut b = BackupSelectionFile {
            selection_name: Some(format!("sel-{s}")),
            iam_role_arn: Some(format!(
                "arn:aws:iam::{ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
            )),
            ..Default::default()
        };
        let prefix = table_arn(&format!("app-{app}-"));
        // A few account-wide selections, as real accounts have: they are candidates for every
        // table, so their number is fixed rather than growing with the selection count.
        let kind = if s < 3 { 100 + s } else { s % 5 };
        match kind {
            0 => {
                let n = 1 + rng.below(8);
                b.resources = Some(
                    (0..n)
                        .map(|_| table_arn(&names[rng.below(names.len())]))
                        .collect(),
                );
            }
            1 => b.resources = Some(vec![format!("{prefix}*")]),
            2 => {
                b.resources = Some(vec!["arn:aws:dynamodb:*:*:table/*".into()]);
                b.conditions = Some(BTreeMap::from([
                    (
                        "StringEquals".to_string(),
                        Some(vec![cond("aws:ResourceTag/app", &format!("app-{app}"))]),
                    ),
                    (
                        "StringNotEquals".to_string(),
                        Some(vec![cond("aws:ResourceTag/env", "dev")]),
                    ),
                ]));
            }
            3 => {
                b.list_of_tags = Some(vec![
                    lot("STRINGEQUALS", "app", &format!("app-{app}")),
                    lot(
                        "STRINGEQUALS",
                        "team",
                        &format!("team-{}", rng.below(50) + 1000),
                    ),
                ])
            }
            4 => {
                b.resources = Some(vec![format!("{prefix}*")]);
                b.not_resources = Some(vec![
                    table_arn(&names[rng.below(names.len())]),
                    format!("{prefix}*-sessions-*"),
                ]);
            }
            100 => {
                b.resources = Some(vec!["arn:aws:dynamodb:*:*:table/*".into()]);
                b.conditions = Some(BTreeMap::from([(
                    "StringNotEquals".to_string(),
                    Some(vec![
                        cond("aws:ResourceTag/env", "dev"),
                        cond("aws:ResourceTag/backup", "weekly"),
                    ]),
                )]));
            }
            101 => b.list_of_tags = Some(vec![lot("STRINGEQUALS", "backup", "daily")]),
            _ => {
                b.resources = Some(vec!["*".into()]);
                b.not_resources = Some(vec!["arn:aws:dynamodb:*".into()]);
            }
        }
        if cfg.adversarial {
            adversarial_touch(&mut rng, &mut b, &prefix, &names);
        }
        selections.push(SelectionFile {
            selection_id: format!("{:08x}-sel-{s}", rng.next() as u32),
            backup_selection: b,
        });
    }

    let mut plans = Vec::new();
    let mut chunks = selections.chunks(100).enumerate().peekable();
    if chunks.peek().is_none() {
        plans.push(plan(0, Vec::new(), &mut rng, cfg.adversarial));
    }
    for (p, chunk) in chunks {
        plans.push(plan(p, chunk.to_vec(), &mut rng, cfg.adversarial));
    }
    let opt_in = if cfg.adversarial {
        match rng.below(4) {
            0 => None,
            1 => Some(BTreeMap::new()),
            2 => Some(BTreeMap::from([("DynamoDB".to_string(), false)])),
            _ => Some(BTreeMap::from([("DynamoDB".to_string(), true)])),
        }
    } else {
        Some(BTreeMap::from([("DynamoDB".to_string(), true)]))
    };
    SnapshotFile {
        account_id: ACCOUNT.into(),
        capture_time: None,
        regions: BTreeMap::from([(
            REGION.to_string(),
            RegionFile {
                resource_type_opt_in_preference: opt_in,
                resource_type_management_preference: Some(BTreeMap::from([(
                    "DynamoDB".to_string(),
                    true,
                )])),
                backup_plans: plans,
                tables,
                backup_vaults: None,
            },
        )]),
    }
}

fn plan(p: usize, selections: Vec<SelectionFile>, rng: &mut Rng, adversarial: bool) -> PlanFile {
    let id = if p % 7 == 3 {
        format!("orgs/{:08x}-plan-{p}", rng.next() as u32)
    } else {
        format!("{:08x}-plan-{p}", rng.next() as u32)
    };
    let deleted = adversarial && rng.chance(10);
    let no_rules = adversarial && rng.chance(10);
    PlanFile {
        backup_plan_arn: Some(format!(
            "arn:aws:backup:{REGION}:{ACCOUNT}:backup-plan:{id}"
        )),
        backup_plan_id: id,
        backup_plan_name: format!("plan-{p}"),
        version_id: Some(format!("{:016x}", rng.next())),
        deletion_date: deleted
            .then(|| serde_json::Value::String("2025-01-01T00:00:00+00:00".into())),
        rules: if no_rules {
            Vec::new()
        } else {
            vec![RuleFile {
                rule_name: "daily".into(),
                target_backup_vault_name: Some("Default".into()),
                schedule_expression: Some("cron(0 5 ? * * *)".into()),
                ..RuleFile::default()
            }]
        },
        selections,
        other: Default::default(),
    }
}

/// Adds one of the spec's ambiguous or degenerate constructs to some selections.
fn adversarial_touch(rng: &mut Rng, b: &mut BackupSelectionFile, prefix: &str, names: &[String]) {
    if !rng.chance(40) {
        return;
    }
    let name = &names[rng.below(names.len())];
    let exact = table_arn(name);
    let push_res =
        |b: &mut BackupSelectionFile, p: String| b.resources.get_or_insert_with(Vec::new).push(p);
    let push_cond = |b: &mut BackupSelectionFile, op: &str, c: ConditionParameterFile| {
        b.conditions
            .get_or_insert_with(BTreeMap::new)
            .entry(op.to_string())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(c)
    };
    match rng.below(17) {
        0 => push_res(b, format!("{prefix}*-orders-*")),
        1 => push_res(b, format!("{}?", &exact[..exact.len() - 1])),
        2 => push_res(
            b,
            format!("arn:aws:dynamodb:::table/{}*", &name[..name.len().min(6)]),
        ),
        3 => push_res(b, "arn:aws:dynamodb:*".into()),
        4 => b
            .not_resources
            .get_or_insert_with(Vec::new)
            .push("arn:aws:dynamodb:*:*:table/*-events-*".into()),
        5 => push_cond(b, "StringLike", cond("aws:ResourceTag/owner", "data*")),
        6 => push_cond(b, "StringEquals", cond("backup", "daily")),
        7 => push_cond(
            b,
            "ForAnyValue:StringEquals",
            cond("aws:ResourceTag/env", "prod"),
        ),
        8 => b
            .list_of_tags
            .get_or_insert_with(Vec::new)
            .push(lot("STRINGNOTEQUALS", "env", "dev")),
        9 => b.list_of_tags.get_or_insert_with(Vec::new).push(lot(
            "STRINGEQUALS",
            "aws:resourcetag/env",
            "prod",
        )),
        10 => b.list_of_tags.get_or_insert_with(Vec::new).push(lot(
            "StringEquals",
            "aws:ResourceTag/backup",
            "daily",
        )),
        11 => {
            b.resources = Some(Vec::new());
            b.list_of_tags = Some(Vec::new());
        }
        12 => push_cond(b, "StringNotLike", cond("aws:ResourceTag/env", "st?ging")),
        13 => push_cond(b, "StringLike", cond("aws:ResourceTag/owner", "*")),
        14 => push_res(b, exact.replace(":table/", ":table/x").to_uppercase()),
        15 => push_res(b, format!("{exact}*")),
        _ => push_res(b, "*".into()),
    }
}
