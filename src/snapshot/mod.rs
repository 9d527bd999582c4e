//! PURE. The snapshot file format: one account's AWS Backup configuration and DynamoDB tables,
//! Region by Region, in the shapes the AWS CLI prints. Other tools read and write this
//! contract, so the wire types here are kept apart from the domain types in [`crate::model`].
//!
//! Unknown keys are ignored so later versions can add fields. Every error names the JSON path of
//! the offending value.

pub mod keys;

use crate::error::Error;
use crate::model::{
    BackupPlan, BackupRule, Condition, ConditionOperator, OptIn, RecoveryPoint, RegionCatalog,
    RegionSettings, RegionSnapshot, Selection, Snapshot, Table, TableArn, TagCondition, Tags,
    Vault,
};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapshotFile {
    /// The account's 12-digit ID.
    pub account_id: String,
    /// When the snapshot was captured (ISO 8601); recovery point ages are measured from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_time: Option<String>,
    /// Per Region.
    pub regions: BTreeMap<String, RegionFile>,
}

/// One Region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RegionFile {
    /// `DescribeRegionSettings.ResourceTypeOptInPreference`; missing means not captured. A key
    /// whose value is `null` is read as absent (opt-in unknown), never as a yes or a no.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "preference_map"
    )]
    pub resource_type_opt_in_preference: Option<BTreeMap<String, bool>>,
    /// `DescribeRegionSettings.ResourceTypeManagementPreference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type_management_preference: Option<BTreeMap<String, bool>>,
    /// Plans with their rules and selections.
    pub backup_plans: Vec<PlanFile>,
    /// DynamoDB tables.
    pub tables: Vec<TableFile>,
    /// `DescribeBackupVault` of the vaults the rules target; missing means not captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vaults: Option<Vec<VaultFile>>,
}

/// A vault in `DescribeBackupVault`'s shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VaultFile {
    /// `BackupVaultName`.
    pub backup_vault_name: String,
    /// `BackupVaultArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vault_arn: Option<String>,
    /// `Locked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    /// `MinRetentionDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retention_days: Option<i64>,
    /// `MaxRetentionDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retention_days: Option<i64>,
    /// `LockDate`: ISO 8601 or epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_date: Option<serde_json::Value>,
}

/// `Lifecycle`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleFile {
    /// `DeleteAfterDays`; missing means never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<i64>,
    /// `MoveToColdStorageAfterDays`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_cold_storage_after_days: Option<i64>,
    /// Every other member (`OptInToArchiveForSupportedResources`, …), kept as given.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One of a rule's `CopyActions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyActionFile {
    /// `DestinationBackupVaultArn`.
    pub destination_backup_vault_arn: String,
    /// `Lifecycle` of the copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleFile>,
    /// Every other member, kept as given.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One recovery point in `ListRecoveryPointsByResource`'s shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecoveryPointFile {
    /// `RecoveryPointArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_point_arn: Option<String>,
    /// `CreationDate`: ISO 8601 as the AWS CLI prints it, or epoch seconds.
    pub creation_date: serde_json::Value,
    /// `Status`.
    pub status: String,
    /// `BackupVaultName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_vault_name: Option<String>,
}

fn preference_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, bool>>, D::Error> {
    let raw: Option<BTreeMap<String, Option<bool>>> = Deserialize::deserialize(d)?;
    Ok(raw.map(|m| {
        m.into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }))
}

/// One plan: `ListBackupPlans` member + `GetBackupPlan` rules + its selections.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PlanFile {
    /// `BackupPlanId`.
    pub backup_plan_id: String,
    /// `BackupPlanName`.
    pub backup_plan_name: String,
    /// `BackupPlanArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_plan_arn: Option<String>,
    /// `VersionId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `DeletionDate`: an ISO timestamp as the AWS CLI prints it, epoch seconds, or null.
    #[serde(default)]
    pub deletion_date: Option<serde_json::Value>,
    /// `BackupPlan.Rules`.
    pub rules: Vec<RuleFile>,
    /// The plan's selections.
    pub selections: Vec<SelectionFile>,
    /// Every other member: `ListBackupPlans`' (`CreationDate`, …, dropped on reading) and the
    /// plan document's (`AdvancedBackupSettings`, `ScanSettings`, members this version does not
    /// know), kept so that a fix sends them back.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Members of a plan entry that belong to the plan's listing (`ListBackupPlans`,
/// `GetBackupPlan`'s envelope), not to its `BackupPlan` document: not sent back by a fix.
const PLAN_LISTING_MEMBERS: [&str; 5] = [
    "CreationDate",
    "CreatorRequestId",
    "LastExecutionDate",
    "BackupPlan",
    "ScheduleExpressionTimezone",
];

/// One backup rule; the fields coverage reads, the rest ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleFile {
    /// `RuleName`.
    #[serde(default)]
    pub rule_name: String,
    /// `TargetBackupVaultName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_backup_vault_name: Option<String>,
    /// `ScheduleExpression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    /// `Lifecycle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<LifecycleFile>,
    /// `CopyActions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_actions: Option<Vec<CopyActionFile>>,
    /// Every other member (`RuleId`, `EnableContinuousBackup`, `StartWindowMinutes`, members
    /// this version does not know, …), kept as given.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One selection in `GetBackupSelection`'s output shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SelectionFile {
    /// `SelectionId`.
    pub selection_id: String,
    /// `BackupSelection`.
    pub backup_selection: BackupSelectionFile,
}

/// `BackupSelection`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BackupSelectionFile {
    /// `SelectionName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_name: Option<String>,
    /// `IamRoleArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_role_arn: Option<String>,
    /// `Resources`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    /// `NotResources`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_resources: Option<Vec<String>>,
    /// `ListOfTags`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_of_tags: Option<Vec<TagConditionFile>>,
    /// `Conditions`, operator name → entries. A map rather than four fields so that an operator
    /// this version does not know is kept (and evaluates to unknown) instead of dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<BTreeMap<String, Option<Vec<ConditionParameterFile>>>>,
}

/// A `ListOfTags` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagConditionFile {
    /// `ConditionType`.
    pub condition_type: String,
    /// `ConditionKey`.
    pub condition_key: String,
    /// `ConditionValue`.
    pub condition_value: String,
}

/// A `ConditionParameter`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConditionParameterFile {
    /// `ConditionKey`.
    pub condition_key: String,
    /// `ConditionValue`.
    pub condition_value: String,
}

/// One table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableFile {
    /// `TableName`.
    pub table_name: String,
    /// `TableArn`.
    pub table_arn: String,
    /// `TableStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_status: Option<String>,
    /// Tags as `ListTagsOfResource` prints them; missing means no tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagFile>>,
    /// `ListRecoveryPointsByResource`; missing means not captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_points: Option<Vec<RecoveryPointFile>>,
}

/// A `{Key, Value}` tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagFile {
    /// `Key`.
    pub key: String,
    /// `Value`.
    pub value: String,
}

/// Parses and validates a snapshot document.
pub fn parse(json: &str) -> Result<Snapshot, Error> {
    parse_checked(json, false).map(|(snapshot, _)| snapshot)
}

/// Parses a snapshot after checking its keys ([`keys::check`]): a near miss of a key valid at
/// its place is an error, and so is any unknown key with `strict`; otherwise the unknown keys
/// and values come back for a warning.
pub fn parse_checked(json: &str, strict: bool) -> Result<(Snapshot, keys::Findings), Error> {
    let doc: serde_json::Value =
        serde_json::from_str(json).map_err(|source| Error::SnapshotFormat {
            path: "(top level)".into(),
            source,
        })?;
    let findings = keys::check(&doc, strict)?;
    let file: SnapshotFile = serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        Error::SnapshotFormat {
            path: if path == "." {
                "(top level)".into()
            } else {
                path
            },
            source: e.into_inner(),
        }
    })?;
    Ok((file.try_into()?, findings))
}

fn invalid(path: impl Into<String>, expected: impl Into<String>) -> Error {
    Error::SnapshotInvalid {
        path: path.into(),
        expected: expected.into(),
    }
}

impl TryFrom<SnapshotFile> for Snapshot {
    type Error = Error;

    fn try_from(file: SnapshotFile) -> Result<Snapshot, Error> {
        let account = file.account_id;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "AccountId",
                format!("expected a 12-digit account ID, got `{account}`"),
            ));
        }
        let captured_at = file
            .capture_time
            .as_deref()
            .map(|t| timestamp("CaptureTime", &serde_json::Value::String(t.to_string())))
            .transpose()?;
        let mut regions: Vec<RegionSnapshot> = file
            .regions
            .into_iter()
            .map(|(region, r)| convert_region(&account, region, r))
            .collect::<Result<_, _>>()?;
        // A copy to another Region of the account is judged by that Region's vaults, when the
        // snapshot lists them (spec §10). Every other Region's list is kept, not only those the
        // rules copy to today: a fix that adds a copy (crossRegionList) is checked the same way.
        let lists: BTreeMap<String, BTreeMap<String, Vault>> = regions
            .iter()
            .filter_map(|r| Some((r.catalog.region.clone(), r.catalog.vaults.clone()?)))
            .collect();
        for r in &mut regions {
            for (region, list) in &lists {
                if *region != r.catalog.region {
                    r.catalog.copy_vaults.insert(region.clone(), list.clone());
                }
            }
        }
        Ok(Snapshot {
            account_id: account,
            captured_at,
            regions,
        })
    }
}

/// An ISO 8601 string or epoch seconds, as the AWS CLI prints timestamps.
fn timestamp(path: &str, v: &serde_json::Value) -> Result<DateTime<Utc>, Error> {
    let parsed = match v {
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        serde_json::Value::Number(n) => n.as_f64().and_then(|secs| {
            Utc.timestamp_millis_opt((secs * 1000.0).round() as i64)
                .single()
        }),
        _ => None,
    };
    parsed.ok_or_else(|| {
        invalid(
            path,
            format!("an ISO 8601 timestamp or epoch seconds, got `{v}`"),
        )
    })
}

fn convert_region(account: &str, region: String, r: RegionFile) -> Result<RegionSnapshot, Error> {
    let at = format!("Regions.{region}");
    if region.is_empty() {
        return Err(invalid(
            "Regions",
            "expected Region names as keys, got an empty key",
        ));
    }
    let settings = RegionSettings {
        dynamodb_opt_in: OptIn::from_map(r.resource_type_opt_in_preference.as_ref()),
        dynamodb_management: r
            .resource_type_management_preference
            .as_ref()
            .and_then(|m| m.get("DynamoDB").copied()),
    };
    let plans = r
        .backup_plans
        .into_iter()
        .enumerate()
        .map(|(i, p)| convert_plan(&format!("{at}.BackupPlans[{i}]"), account, &region, p))
        .collect::<Result<_, _>>()?;
    let vaults = r
        .backup_vaults
        .map(|list| {
            list.into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let lock_date = match &v.lock_date {
                        None | Some(serde_json::Value::Null) => None,
                        Some(d) => Some(timestamp(&format!("{at}.BackupVaults[{i}].LockDate"), d)?),
                    };
                    let vault = Vault {
                        name: v.backup_vault_name.clone(),
                        locked: v.locked.unwrap_or(false),
                        min_retention_days: v.min_retention_days,
                        max_retention_days: v.max_retention_days,
                        lock_date,
                    };
                    Ok((v.backup_vault_name, vault))
                })
                .collect::<Result<BTreeMap<_, _>, Error>>()
        })
        .transpose()?;
    let mut tables: Vec<Table> = Vec::with_capacity(r.tables.len());
    let mut recovery_points = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for (i, mut t) in r.tables.into_iter().enumerate() {
        let path = format!("{at}.Tables[{i}]");
        if let Some(points) = t.recovery_points.take() {
            let points = points
                .into_iter()
                .enumerate()
                .map(|(j, rp)| {
                    Ok(RecoveryPoint {
                        created: timestamp(
                            &format!("{path}.RecoveryPoints[{j}].CreationDate"),
                            &rp.creation_date,
                        )?,
                        status: rp.status,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            recovery_points.insert(t.table_name.clone(), points);
        }
        let table = convert_table(&path, account, &region, t)?;
        if !seen.insert(table.name.clone()) {
            return Err(invalid(
                format!("{path}.TableName"),
                format!("table `{}` is listed twice in {region}", table.name),
            ));
        }
        tables.push(table);
    }
    // `BackupVaults`, when present, is the Region's whole vault list (as `ListBackupVaults`
    // gives it), so a rule's target absent from it is a vault found missing (spec §9).
    let mut catalog = RegionCatalog {
        account: account.to_string(),
        region,
        settings,
        plans,
        vaults,
        copy_vaults: BTreeMap::new(),
    };
    catalog.mark_rule_effects();
    Ok(RegionSnapshot {
        catalog,
        tables,
        recovery_points,
    })
}

fn convert_table(path: &str, account: &str, region: &str, t: TableFile) -> Result<Table, Error> {
    let arn = TableArn::parse(&t.table_arn).ok_or_else(|| {
        invalid(
            format!("{path}.TableArn"),
            format!(
                "expected a DynamoDB table ARN arn:<partition>:dynamodb:<region>:<account>:table/<name>, got `{}`",
                t.table_arn
            ),
        )
    })?;
    if arn.region != region || arn.account != account {
        return Err(invalid(
            format!("{path}.TableArn"),
            format!(
                "the ARN is in account {} Region {}, but the table is listed under account {account} Region {region}",
                arn.account, arn.region
            ),
        ));
    }
    if arn.name != t.table_name {
        return Err(invalid(
            format!("{path}.TableName"),
            format!(
                "expected the TableArn's name `{}`, got `{}`",
                arn.name, t.table_name
            ),
        ));
    }
    let mut tags = Tags::new();
    for (i, tag) in t.tags.unwrap_or_default().into_iter().enumerate() {
        if tags.insert(tag.key.clone(), tag.value).is_some() {
            return Err(invalid(
                format!("{path}.Tags[{i}].Key"),
                format!("tag key `{}` appears twice; tag keys are unique", tag.key),
            ));
        }
    }
    Ok(Table {
        name: t.table_name,
        arn,
        status: t.table_status,
        tags,
    })
}

/// Reads `(region, account)` from `arn:<p>:backup:<region>:<account>:backup-plan:<id>`.
fn plan_arn_scope(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", p, "backup", region, account, rest]
            if !p.is_empty()
                && !region.is_empty()
                && !account.is_empty()
                && rest.starts_with("backup-plan:") =>
        {
            Some((region, account))
        }
        _ => None,
    }
}

fn convert_plan(path: &str, account: &str, region: &str, p: PlanFile) -> Result<BackupPlan, Error> {
    // The plan's own ARN says where it lives. Normally that is where it is listed; when it is
    // not, the ARN wins and the plan covers nothing here (plans are regional).
    let (plan_region, plan_account) = match p.backup_plan_arn.as_deref() {
        None => (region.to_string(), account.to_string()),
        Some(arn) => {
            let (r, a) = plan_arn_scope(arn).ok_or_else(|| {
                invalid(
                    format!("{path}.BackupPlanArn"),
                    format!("expected arn:<partition>:backup:<region>:<account>:backup-plan:<id>, got `{arn}`"),
                )
            })?;
            (r.to_string(), a.to_string())
        }
    };
    let deletion_date = match p.deletion_date {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(invalid(
                format!("{path}.DeletionDate"),
                format!("expected a timestamp string, epoch seconds or null, got `{other}`"),
            ))
        }
    };
    let selections = p
        .selections
        .into_iter()
        .enumerate()
        .map(|(i, s)| convert_selection(&format!("{path}.Selections[{i}]"), s))
        .collect::<Result<_, _>>()?;
    Ok(BackupPlan {
        id: p.backup_plan_id,
        name: p.backup_plan_name,
        arn: p.backup_plan_arn,
        version_id: p.version_id,
        deletion_date,
        account: plan_account,
        region: plan_region,
        rules: p.rules.into_iter().map(rule_from_file).collect(),
        selections,
        document: p
            .other
            .into_iter()
            .filter(|(k, _)| !PLAN_LISTING_MEMBERS.contains(&k.as_str()))
            .collect(),
    })
}

/// A rule in our terms from its document in `GetBackupPlan`'s shape (or `BackupRuleInput`'s):
/// what a fix's `UpdateBackupPlan` will make of the plan, read the same way as a snapshot's.
pub fn rule_from_document(
    doc: &serde_json::Map<String, serde_json::Value>,
) -> Result<BackupRule, serde_json::Error> {
    serde_json::from_value::<RuleFile>(serde_json::Value::Object(doc.clone())).map(rule_from_file)
}

/// A rule in our terms, with its whole document: what the file had, every member kept.
fn rule_from_file(r: RuleFile) -> BackupRule {
    let document = match serde_json::to_value(&r) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    BackupRule {
        name: r.rule_name,
        target_vault: r.target_backup_vault_name,
        schedule: r.schedule_expression,
        delete_after_days: r.lifecycle.and_then(|l| l.delete_after_days),
        copies: r
            .copy_actions
            .unwrap_or_default()
            .into_iter()
            .map(|c| crate::model::CopyAction {
                destination: c.destination_backup_vault_arn,
                delete_after_days: c.lifecycle.and_then(|l| l.delete_after_days),
            })
            .collect(),
        effect: crate::model::RuleEffect::Unchecked,
        document,
    }
}

fn convert_selection(path: &str, s: SelectionFile) -> Result<Selection, Error> {
    if s.selection_id.is_empty() {
        return Err(invalid(
            format!("{path}.SelectionId"),
            "expected a non-empty selection ID",
        ));
    }
    let b = s.backup_selection;
    let mut conditions: Vec<Condition> = Vec::new();
    for (op, entries) in b.conditions.unwrap_or_default() {
        let operator = ConditionOperator::from_name(&op);
        let entries = entries.unwrap_or_default();
        if entries.is_empty() {
            // An empty list constrains nothing under any reading, known operator or not.
            continue;
        }
        conditions.extend(entries.into_iter().map(|c| Condition {
            operator: operator.clone(),
            key: c.condition_key,
            value: c.condition_value,
        }));
    }
    // Print and evaluate in AWS's documented order, whatever order the file had.
    conditions.sort_by_key(|c| c.operator.rank());
    Ok(Selection {
        name: b.selection_name.unwrap_or_else(|| s.selection_id.clone()),
        id: s.selection_id,
        iam_role_arn: b.iam_role_arn,
        resources: b.resources.unwrap_or_default(),
        not_resources: b.not_resources.unwrap_or_default(),
        list_of_tags: b
            .list_of_tags
            .unwrap_or_default()
            .into_iter()
            .map(|c| TagCondition {
                condition_type: c.condition_type,
                key: c.condition_key,
                value: c.condition_value,
            })
            .collect(),
        conditions,
    })
}

impl From<&Snapshot> for SnapshotFile {
    /// Writes the model back in the file format; what `snapshot` saves after a live capture.
    fn from(s: &Snapshot) -> SnapshotFile {
        let regions = s
            .regions
            .iter()
            .map(|r| (r.catalog.region.clone(), region_file(r)))
            .collect();
        SnapshotFile {
            account_id: s.account_id.clone(),
            capture_time: s
                .captured_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            regions,
        }
    }
}

fn region_file(r: &RegionSnapshot) -> RegionFile {
    let c = &r.catalog;
    let opt_in = match c.settings.dynamodb_opt_in {
        OptIn::Enabled => Some(BTreeMap::from([("DynamoDB".to_string(), true)])),
        OptIn::Disabled => Some(BTreeMap::from([("DynamoDB".to_string(), false)])),
        OptIn::KeyAbsent => Some(BTreeMap::new()),
        OptIn::NotCaptured => None,
    };
    RegionFile {
        resource_type_opt_in_preference: opt_in,
        resource_type_management_preference: c
            .settings
            .dynamodb_management
            .map(|m| BTreeMap::from([("DynamoDB".to_string(), m)])),
        backup_plans: c.plans.iter().map(plan_file).collect(),
        backup_vaults: c.vaults.as_ref().map(|vaults| {
            vaults
                .values()
                .map(|v| VaultFile {
                    backup_vault_name: v.name.clone(),
                    backup_vault_arn: None,
                    locked: Some(v.locked),
                    min_retention_days: v.min_retention_days,
                    max_retention_days: v.max_retention_days,
                    lock_date: v.lock_date.map(|d| {
                        serde_json::Value::String(
                            d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        )
                    }),
                })
                .collect()
        }),
        tables: r
            .tables
            .iter()
            .map(|t| TableFile {
                table_name: t.name.clone(),
                table_arn: t.arn.arn.clone(),
                table_status: t.status.clone(),
                tags: Some(
                    t.tags
                        .iter()
                        .map(|(k, v)| TagFile {
                            key: k.clone(),
                            value: v.clone(),
                        })
                        .collect(),
                ),
                recovery_points: r.recovery_points.get(&t.name).map(|points| {
                    points
                        .iter()
                        .map(|p| RecoveryPointFile {
                            recovery_point_arn: None,
                            creation_date: serde_json::Value::String(
                                p.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            ),
                            status: p.status.clone(),
                            backup_vault_name: None,
                        })
                        .collect()
                }),
            })
            .collect(),
    }
}

fn plan_file(p: &BackupPlan) -> PlanFile {
    PlanFile {
        backup_plan_id: p.id.clone(),
        backup_plan_name: p.name.clone(),
        backup_plan_arn: p.arn.clone(),
        version_id: p.version_id.clone(),
        deletion_date: p.deletion_date.clone().map(serde_json::Value::String),
        rules: p.rules.iter().map(rule_file).collect(),
        selections: p.selections.iter().map(selection_file).collect(),
        other: p.document.clone(),
    }
}

/// A rule as the file keeps it: its whole document when there is one (every member AWS gave),
/// else the fields the model holds.
fn rule_file(r: &BackupRule) -> RuleFile {
    if let Ok(file) =
        serde_json::from_value::<RuleFile>(serde_json::Value::Object(r.document.clone()))
    {
        if !r.document.is_empty() {
            return file;
        }
    }
    RuleFile {
        rule_name: r.name.clone(),
        target_backup_vault_name: r.target_vault.clone(),
        schedule_expression: r.schedule.clone(),
        lifecycle: r.delete_after_days.map(|d| LifecycleFile {
            delete_after_days: Some(d),
            move_to_cold_storage_after_days: None,
            other: Default::default(),
        }),
        copy_actions: (!r.copies.is_empty()).then(|| {
            r.copies
                .iter()
                .map(|c| CopyActionFile {
                    destination_backup_vault_arn: c.destination.clone(),
                    lifecycle: c.delete_after_days.map(|d| LifecycleFile {
                        delete_after_days: Some(d),
                        move_to_cold_storage_after_days: None,
                        other: Default::default(),
                    }),
                    other: Default::default(),
                })
                .collect()
        }),
        other: Default::default(),
    }
}

fn selection_file(s: &Selection) -> SelectionFile {
    let mut conditions: BTreeMap<String, Option<Vec<ConditionParameterFile>>> = BTreeMap::new();
    for c in &s.conditions {
        conditions
            .entry(c.operator.name().to_string())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(ConditionParameterFile {
                condition_key: c.key.clone(),
                condition_value: c.value.clone(),
            });
    }
    SelectionFile {
        selection_id: s.id.clone(),
        backup_selection: BackupSelectionFile {
            selection_name: Some(s.name.clone()),
            iam_role_arn: s.iam_role_arn.clone(),
            resources: Some(s.resources.clone()),
            not_resources: Some(s.not_resources.clone()),
            list_of_tags: Some(
                s.list_of_tags
                    .iter()
                    .map(|c| TagConditionFile {
                        condition_type: c.condition_type.clone(),
                        condition_key: c.key.clone(),
                        condition_value: c.value.clone(),
                    })
                    .collect(),
            ),
            conditions: Some(conditions),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"AccountId":"111122223333","Regions":{"us-east-1":{
        "BackupPlans":[{"BackupPlanId":"p1","BackupPlanName":"daily","Rules":[{"RuleName":"r"}],
          "Selections":[{"SelectionId":"s1","BackupSelection":{"SelectionName":"all",
             "Resources":["*"],"Conditions":{"StringLike":[{"ConditionKey":"aws:ResourceTag/a","ConditionValue":"b*"}],
             "StringEquals":[{"ConditionKey":"aws:ResourceTag/c","ConditionValue":"d"}]}}}]}],
        "Tables":[{"TableName":"orders","TableArn":"arn:aws:dynamodb:us-east-1:111122223333:table/orders",
          "Tags":[{"Key":"a","Value":"bc"}]}]}}}"#;

    #[test]
    fn a_minimal_snapshot_loads_with_defaults() {
        let s = parse(MINIMAL).expect("valid");
        let r = &s.regions[0];
        assert_eq!(r.catalog.settings.dynamodb_opt_in, OptIn::NotCaptured);
        assert_eq!(r.tables[0].tags.get("a").map(String::as_str), Some("bc"));
        assert_eq!(r.tables[0].status, None);
        let sel = &r.catalog.plans[0].selections[0];
        // Conditions come out in AWS's documented order, not the file's.
        assert_eq!(sel.conditions[0].operator, ConditionOperator::StringEquals);
        assert_eq!(sel.conditions[1].operator, ConditionOperator::StringLike);
        assert_eq!(r.catalog.plans[0].region, "us-east-1");
    }

    #[test]
    fn a_missing_condition_key_is_reported_with_its_path() {
        let broken = MINIMAL.replace(
            r#"{"ConditionKey":"aws:ResourceTag/a","ConditionValue":"b*"}"#,
            r#"{"ConditionValue":"b*"}"#,
        );
        let err = parse(&broken).unwrap_err().to_string();
        assert!(
            err.contains("Regions.us-east-1.BackupPlans[0].Selections[0].BackupSelection.Conditions.StringLike[0]"),
            "{err}"
        );
        assert!(err.contains("missing field `ConditionKey`"), "{err}");
    }

    #[test]
    fn a_null_opt_in_value_is_unknown_not_false() {
        let null = MINIMAL.replace(
            r#""us-east-1":{"#,
            r#""us-east-1":{"ResourceTypeOptInPreference":{"DynamoDB":null},"#,
        );
        let s = parse(&null).unwrap();
        assert_eq!(
            s.regions[0].catalog.settings.dynamodb_opt_in,
            OptIn::KeyAbsent
        );
    }

    #[test]
    fn unknown_operators_are_kept_not_dropped() {
        let odd = MINIMAL.replace("\"StringLike\"", "\"ForAnyValue:StringLike\"");
        let s = parse(&odd).unwrap();
        let sel = &s.regions[0].catalog.plans[0].selections[0];
        assert!(
            sel.conditions
                .iter()
                .any(|c| c.operator
                    == ConditionOperator::Unsupported("ForAnyValue:StringLike".into()))
        );
    }

    #[test]
    fn table_arn_must_match_its_region_and_name() {
        let wrong_region = MINIMAL.replace(
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
        );
        let err = parse(&wrong_region).unwrap_err().to_string();
        assert!(
            err.contains("Regions.us-east-1.Tables[0].TableArn"),
            "{err}"
        );
        let wrong_name = MINIMAL.replace("\"TableName\":\"orders\"", "\"TableName\":\"users\"");
        let err = parse(&wrong_name).unwrap_err().to_string();
        assert!(err.contains("Tables[0].TableName"), "{err}");
    }

    #[test]
    fn the_model_round_trips_through_the_file_format() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/snapshots/demo-account.json"
        ))
        .expect("demo snapshot");
        let model = parse(&text).expect("valid");
        let written = serde_json::to_string(&SnapshotFile::from(&model)).expect("serializable");
        assert_eq!(parse(&written).expect("re-read"), model);
    }

    #[test]
    fn plan_arn_decides_where_the_plan_lives() {
        let moved = MINIMAL.replace(
            "\"BackupPlanId\":\"p1\"",
            "\"BackupPlanId\":\"p1\",\"BackupPlanArn\":\"arn:aws:backup:us-west-2:999999999999:backup-plan:p1\"",
        );
        let s = parse(&moved).unwrap();
        let plan = &s.regions[0].catalog.plans[0];
        assert_eq!(
            (plan.region.as_str(), plan.account.as_str()),
            ("us-west-2", "999999999999")
        );
    }
}
