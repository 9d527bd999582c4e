//! The file's shapes, as serde reads and writes them: AWS's own member names.

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
pub(super) const PLAN_LISTING_MEMBERS: [&str; 5] = [
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
