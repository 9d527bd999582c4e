//! Domain types: what an account's AWS Backup configuration and DynamoDB tables look like to the
//! coverage engine. Nothing here knows about JSON files, Config events or the AWS SDK; the
//! snapshot loader and (later) the AWS adapters convert into these types once, at the edge.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The Config resource type this rule evaluates.
pub const DYNAMODB_TABLE_TYPE: &str = "AWS::DynamoDB::Table";

/// The tag-key prefix AWS Backup documents for `Conditions` keys (and accepts in `ListOfTags`).
pub const RESOURCE_TAG_PREFIX: &str = "aws:ResourceTag/";

/// A DynamoDB table ARN, split into the parts that decide which plans may cover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableArn {
    /// The whole ARN, byte for byte as AWS reports it.
    pub arn: String,
    /// `aws`, `aws-us-gov`, `aws-cn`, …
    pub partition: String,
    /// The Region segment, e.g. `us-east-1`.
    pub region: String,
    /// The 12-digit account segment.
    pub account: String,
    /// The table name after `table/`.
    pub name: String,
}

impl TableArn {
    /// Parses `arn:<partition>:dynamodb:<region>:<account>:table/<name>`.
    ///
    /// Index and stream ARNs (`table/<name>/index/…`) are refused: they are not tables, and a
    /// verdict for one would be a verdict about the wrong resource.
    pub fn parse(arn: &str) -> Option<TableArn> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        let name = resource.strip_prefix("table/")?;
        let ok = *prefix == "arn"
            && *service == "dynamodb"
            && !partition.is_empty()
            && !region.is_empty()
            && !account.is_empty()
            && !name.is_empty()
            && !name.contains('/');
        ok.then(|| TableArn {
            arn: arn.to_string(),
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for TableArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// A table's tags: keys and values are case-sensitive UTF-8, as DynamoDB stores them.
pub type Tags = BTreeMap<String, String>;

/// One DynamoDB table as the rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table name (Config's `resourceId`).
    pub name: String,
    /// The table ARN.
    pub arn: TableArn,
    /// `TableStatus` as DynamoDB reports it; `None` when the source did not say.
    pub status: Option<String>,
    /// The table's current tags.
    pub tags: Tags,
    /// `true` for a table not created yet whose name CloudFormation will generate
    /// (`<stack>-<logical ID>-<suffix>`): `name` and the ARN's name are only its known start,
    /// and a pattern that looks past it matches or not depending on the part not known yet.
    pub generated_name: bool,
}

impl Table {
    /// Whether a table in this status is evaluated at all. Security Hub DynamoDB.4 evaluates
    /// ACTIVE tables; UPDATING tables are live tables too, and a source that gives no status
    /// (older snapshots) is taken as live rather than silently skipped.
    pub fn status_is_evaluated(&self) -> bool {
        matches!(
            self.status.as_deref(),
            None | Some("ACTIVE") | Some("UPDATING")
        )
    }
}

/// What `DescribeRegionSettings` says about DynamoDB in `ResourceTypeOptInPreference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptIn {
    /// `"DynamoDB": true`.
    Enabled,
    /// `"DynamoDB": false`.
    Disabled,
    /// The map was read but has no `DynamoDB` key (undocumented; ambiguity A7).
    KeyAbsent,
    /// The settings were never read (a snapshot without `ResourceTypeOptInPreference`).
    NotCaptured,
}

impl OptIn {
    /// Reads the `DynamoDB` entry of an opt-in map; `None` means the map itself is missing.
    pub fn from_map(map: Option<&BTreeMap<String, bool>>) -> OptIn {
        match map {
            None => OptIn::NotCaptured,
            Some(m) => match m.get("DynamoDB") {
                Some(true) => OptIn::Enabled,
                Some(false) => OptIn::Disabled,
                None => OptIn::KeyAbsent,
            },
        }
    }
}

/// The Region-level AWS Backup settings that matter to coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSettings {
    /// Service opt-in for DynamoDB.
    pub dynamodb_opt_in: OptIn,
    /// `ResourceTypeManagementPreference["DynamoDB"]` (advanced DynamoDB backup). Shown by
    /// `explain`; it does not decide coverage (spec §4.3).
    pub dynamodb_management: Option<bool>,
}

/// One rule of a backup plan: the fields coverage and the policy read, and the whole rule as
/// AWS returned it, so that a fix can change one field and send back everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupRule {
    /// `RuleName`.
    pub name: String,
    /// `TargetBackupVaultName`.
    pub target_vault: Option<String>,
    /// `ScheduleExpression`.
    pub schedule: Option<String>,
    /// `Lifecycle.DeleteAfterDays`; `None` means recovery points never expire.
    pub delete_after_days: Option<i64>,
    /// `CopyActions`: where each copy goes and how long it is kept there.
    pub copies: Vec<CopyAction>,
    /// Whether the rule can back anything up, given the Region's vaults (spec §9, §10). Set by
    /// [`RegionCatalog::mark_rule_effects`].
    pub effect: RuleEffect,
    /// The rule in `GetBackupPlan`'s output shape, every member kept under its AWS name
    /// (`EnableContinuousBackup`, `StartWindowMinutes`, `RecoveryPointTags`, members this
    /// version does not know, …). Empty when the source gave only the fields above.
    pub document: serde_json::Map<String, serde_json::Value>,
}

/// One of a rule's `CopyActions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyAction {
    /// `DestinationBackupVaultArn`.
    pub destination: String,
    /// `Lifecycle.DeleteAfterDays` of the copies; `None` means they never expire.
    pub delete_after_days: Option<i64>,
}

/// What the Region's vaults do to a rule's backup jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleEffect {
    /// The vaults were not listed (an old snapshot): nothing is known to stop the rule.
    Unchecked,
    /// The target vault exists and its lock, if any, accepts the rule's retention.
    Effective,
    /// The target vault is not in the Region's vault list: every job fails (spec §9).
    VaultMissing,
    /// The target vault's lock refuses the rule's retention: every job fails (spec §10).
    LockRefuses {
        /// The lock's `MinRetentionDays`.
        min: Option<i64>,
        /// The lock's `MaxRetentionDays`.
        max: Option<i64>,
    },
    /// The rule keeps points forever (no `DeleteAfterDays`) and the lock has a minimum: AWS's
    /// text asks for "a lifecycle policy" at least the minimum, which such a job lacks
    /// (ambiguity A-LOCK-FOREVER): not proven to back anything up.
    LockForeverAmbiguous {
        /// The lock's `MinRetentionDays`.
        min: i64,
    },
}

impl RuleEffect {
    /// The effect of a lock range on a retention (`None`: kept forever), spec §10. `None` when
    /// the vault has no lock bounds at all.
    pub fn of_lock(vault: &Vault, retention: Option<i64>) -> RuleEffect {
        if !vault.locked {
            return RuleEffect::Effective;
        }
        let (min, max) = (vault.min_retention_days, vault.max_retention_days);
        let below_min = matches!((min, retention), (Some(m), Some(d)) if d < m);
        let above_max = match (max, retention) {
            (Some(m), Some(d)) => d > m,
            // Forever has no lifecycle policy within any maximum: every job fails.
            (Some(_), None) => true,
            (None, _) => false,
        };
        if below_min || above_max {
            RuleEffect::LockRefuses { min, max }
        } else if let (Some(m), None) = (min, retention) {
            RuleEffect::LockForeverAmbiguous { min: m }
        } else {
            RuleEffect::Effective
        }
    }

    /// Whether the rule's jobs are known to succeed.
    pub fn backs_up(self) -> bool {
        matches!(self, RuleEffect::Unchecked | RuleEffect::Effective)
    }

    /// Whether the rule's jobs may succeed under some reading.
    pub fn may_back_up(self) -> bool {
        !matches!(
            self,
            RuleEffect::VaultMissing | RuleEffect::LockRefuses { .. }
        )
    }
}

/// "min 30 days, max 90 days": a lock's range in words.
pub fn lock_range_words(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a} to {b} days"),
        (Some(1), None) => "at least 1 day".to_string(),
        (Some(a), None) => format!("at least {a} days"),
        (None, Some(1)) => "at most 1 day".to_string(),
        (None, Some(b)) => format!("at most {b} days"),
        (None, None) => "any retention".to_string(),
    }
}

/// "35 days" or "forever": a retention in words.
pub fn retention_words(days: Option<i64>) -> String {
    match days {
        Some(1) => "1 day".to_string(),
        Some(d) => format!("{d} days"),
        None => "forever (no DeleteAfterDays)".to_string(),
    }
}

impl BackupRule {
    /// Whether the rule's jobs are known to succeed: its vault exists and accepts its
    /// retention (or the vaults were not listed).
    pub fn backs_up(&self) -> bool {
        self.effect.backs_up()
    }

    /// Whether the rule's jobs may succeed under some reading.
    pub fn may_back_up(&self) -> bool {
        self.effect.may_back_up()
    }
}

/// A backup plan as listed in one account and Region, with its rules and selections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPlan {
    /// `BackupPlanId`; organization policy plans start with `orgs/`.
    pub id: String,
    /// `BackupPlanName`.
    pub name: String,
    /// `BackupPlanArn`, when known.
    pub arn: Option<String>,
    /// `VersionId`, when known.
    pub version_id: Option<String>,
    /// `DeletionDate` as the source printed it; `Some` means the plan is deleted.
    pub deletion_date: Option<String>,
    /// The account the plan lives in.
    pub account: String,
    /// The Region the plan lives in.
    pub region: String,
    /// The plan's rules; a plan without rules schedules nothing.
    pub rules: Vec<BackupRule>,
    /// The plan's resource assignments.
    pub selections: Vec<Selection>,
    /// The members of `GetBackupPlan`'s `BackupPlan` document other than `BackupPlanName` and
    /// `Rules` (`AdvancedBackupSettings`, `ScanSettings`, members this version does not know),
    /// kept so that `UpdateBackupPlan` sends them back unchanged.
    pub document: serde_json::Map<String, serde_json::Value>,
}

impl BackupPlan {
    /// Plans created by an AWS Organizations backup policy have IDs under `orgs/`.
    pub fn is_org_policy(&self) -> bool {
        self.id.starts_with("orgs/")
    }
}

/// One `ListOfTags` entry (`ConditionType`, `ConditionKey`, `ConditionValue`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagCondition {
    /// `ConditionType`; AWS Backup supports only `STRINGEQUALS`.
    pub condition_type: String,
    /// `ConditionKey`, with or without the `aws:ResourceTag/` prefix.
    pub key: String,
    /// `ConditionValue`.
    pub value: String,
}

/// A `Conditions` operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ConditionOperator {
    /// `StringEquals`.
    StringEquals,
    /// `StringNotEquals`.
    StringNotEquals,
    /// `StringLike`.
    StringLike,
    /// `StringNotLike`.
    StringNotLike,
    /// Any other operator name. Kept, never dropped: dropping an operator would silently widen
    /// the selection, so it evaluates to *unknown*.
    Unsupported(String),
}

impl ConditionOperator {
    /// Maps an operator name exactly as AWS spells it.
    pub fn from_name(name: &str) -> ConditionOperator {
        match name {
            "StringEquals" => ConditionOperator::StringEquals,
            "StringNotEquals" => ConditionOperator::StringNotEquals,
            "StringLike" => ConditionOperator::StringLike,
            "StringNotLike" => ConditionOperator::StringNotLike,
            other => ConditionOperator::Unsupported(other.to_string()),
        }
    }

    /// The operator's name as AWS spells it.
    pub fn name(&self) -> &str {
        match self {
            ConditionOperator::StringEquals => "StringEquals",
            ConditionOperator::StringNotEquals => "StringNotEquals",
            ConditionOperator::StringLike => "StringLike",
            ConditionOperator::StringNotLike => "StringNotLike",
            ConditionOperator::Unsupported(name) => name,
        }
    }

    /// Position in AWS's documented order, used to print conditions the same way every time.
    pub fn rank(&self) -> u8 {
        match self {
            ConditionOperator::StringEquals => 0,
            ConditionOperator::StringNotEquals => 1,
            ConditionOperator::StringLike => 2,
            ConditionOperator::StringNotLike => 3,
            ConditionOperator::Unsupported(_) => 4,
        }
    }
}

/// One `Conditions` entry: operator, `ConditionKey`, `ConditionValue`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    /// The operator list this entry came from.
    pub operator: ConditionOperator,
    /// `ConditionKey`, normally `aws:ResourceTag/<key>`.
    pub key: String,
    /// `ConditionValue`.
    pub value: String,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}={}", self.operator.name(), self.key, self.value)
    }
}

/// A backup selection (resource assignment) in `GetBackupSelection`'s terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selection {
    /// `SelectionId`.
    pub id: String,
    /// `SelectionName` (the ID when the source had no name).
    pub name: String,
    /// `IamRoleArn`, when known.
    pub iam_role_arn: Option<String>,
    /// `Resources`: ARN patterns, OR-ed.
    pub resources: Vec<String>,
    /// `NotResources`: ARN patterns that exclude, OR-ed.
    pub not_resources: Vec<String>,
    /// `ListOfTags`: tag equalities, OR-ed with each other and with `Resources`.
    pub list_of_tags: Vec<TagCondition>,
    /// `Conditions`: every entry AND-ed, in AWS's documented operator order.
    pub conditions: Vec<Condition>,
}

/// Everything AWS Backup holds for one account and Region that decides coverage there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCatalog {
    /// The account the catalog was read in.
    pub account: String,
    /// The Region the catalog was read in.
    pub region: String,
    /// `DescribeRegionSettings`.
    pub settings: RegionSettings,
    /// `ListBackupPlans` (+ `GetBackupPlan`, `ListBackupSelections`, `GetBackupSelection`).
    pub plans: Vec<BackupPlan>,
    /// `DescribeBackupVault` of the vaults the rules target, by name; `None` when not read.
    pub vaults: Option<BTreeMap<String, Vault>>,
    /// The vault lists of the account's other Regions that rules copy to, by Region, where
    /// they were read: a copy is judged by its destination's lock (spec §10).
    pub copy_vaults: BTreeMap<String, BTreeMap<String, Vault>>,
}

/// A backup vault and its Vault Lock settings, as `ListBackupVaults` reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    /// `BackupVaultName`.
    pub name: String,
    /// `Locked`.
    pub locked: bool,
    /// `MinRetentionDays` of the lock.
    pub min_retention_days: Option<i64>,
    /// `MaxRetentionDays` of the lock.
    pub max_retention_days: Option<i64>,
    /// `LockDate`: in the future, a compliance-mode lock still changeable until then; in the
    /// past, immutable; absent on a locked vault, governance mode (spec §10).
    pub lock_date: Option<DateTime<Utc>>,
}

/// How far a vault lock can still be changed (spec §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Not locked.
    Unlocked,
    /// Locked with no `LockDate`: changeable by anyone allowed to.
    Governance,
    /// Compliance mode, changeable until this date.
    ComplianceChangeable(DateTime<Utc>),
    /// Compliance mode past its `LockDate`: nobody can change it.
    Immutable,
}

impl Vault {
    /// The lock's mode at `now`.
    pub fn lock_mode(&self, now: DateTime<Utc>) -> LockMode {
        match (self.locked, self.lock_date) {
            (false, _) => LockMode::Unlocked,
            (true, None) => LockMode::Governance,
            (true, Some(d)) if d > now => LockMode::ComplianceChangeable(d),
            (true, Some(_)) => LockMode::Immutable,
        }
    }
}

/// One recovery point of a table, as `ListRecoveryPointsByResource` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPoint {
    /// `CreationDate`.
    pub created: DateTime<Utc>,
    /// `Status`: COMPLETED, PARTIAL, DELETING, EXPIRED, …
    pub status: String,
}

impl RegionCatalog {
    /// Whether any selection looks at tags. When none does, a table's tags cannot change its
    /// verdict and need not be read.
    pub fn reads_tags(&self) -> bool {
        self.plans
            .iter()
            .flat_map(|p| &p.selections)
            .any(|s| !s.list_of_tags.is_empty() || !s.conditions.is_empty())
    }

    /// The account's other Regions the rules copy to.
    pub fn copy_regions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .plans
            .iter()
            .flat_map(|p| &p.rules)
            .flat_map(|r| &r.copies)
            .filter_map(|c| {
                let parts: Vec<&str> = c.destination.splitn(6, ':').collect();
                match parts.as_slice() {
                    [_, _, _, region, account, _]
                        if *account == self.account && *region != self.region =>
                    {
                        Some(region.to_string())
                    }
                    _ => None,
                }
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Decides every rule's [`RuleEffect`] from the vault list: a target absent from it is
    /// missing (spec §9), a lock range that refuses the rule's retention fails its jobs (§10).
    /// With no vault list (an old snapshot, or one written by hand without `BackupVaults`)
    /// every rule is [`RuleEffect::Unchecked`]: the vaults were not read, so none is known to
    /// be missing or locked.
    pub fn mark_rule_effects(&mut self) {
        let vaults = self.vaults.as_ref();
        for rule in self.plans.iter_mut().flat_map(|p| p.rules.iter_mut()) {
            rule.effect = match (vaults, rule.target_vault.as_ref()) {
                (None, _) => RuleEffect::Unchecked,
                (Some(_), None) => RuleEffect::VaultMissing,
                (Some(v), Some(name)) => match v.get(name) {
                    None => RuleEffect::VaultMissing,
                    Some(vault) => RuleEffect::of_lock(vault, rule.delete_after_days),
                },
            };
        }
    }
}

/// What `PutEvaluations` accepts. `INSUFFICIENT_DATA` is deliberately absent: Config rejects it
/// from custom rules, so ambiguity is reported as NON_COMPLIANT with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    /// Covered by at least one plan under every plausible reading.
    Compliant,
    /// Not covered, or covered only under a reading AWS does not document.
    NonCompliant,
    /// Not evaluated (e.g. the table is being created or deleted).
    NotApplicable,
}

impl Compliance {
    /// The `ComplianceType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl Compliance {
    /// Reads a `ComplianceType` that Config echoes back. Anything but the two verdicts is taken
    /// as NOT_APPLICABLE, the only other value this rule ever sends.
    pub fn from_config(text: &str) -> Compliance {
        match text {
            "COMPLIANT" => Compliance::Compliant,
            "NON_COMPLIANT" => Compliance::NonCompliant,
            _ => Compliance::NotApplicable,
        }
    }
}

impl fmt::Display for Compliance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One result Config keeps for a rule and resource (`GetComplianceDetailsByConfigRule`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `ResourceType`.
    pub resource_type: String,
    /// `ResourceId`.
    pub resource_id: String,
    /// `ComplianceType`.
    pub compliance: Compliance,
    /// `Annotation`, empty when none was put.
    pub annotation: String,
    /// `ResultRecordedTime`: when Config recorded it.
    pub recorded_at: Option<DateTime<Utc>>,
    /// The `OrderingTimestamp` it was put with: how new the state it was decided from is. A
    /// pass never replaces a result whose state is newer than its own inputs.
    pub ordered_at: Option<DateTime<Utc>>,
}

/// What Config keeps for a rule, and how many of its results could not be read (a result
/// without a resource type, ID or compliance type): those are counted and logged, and their
/// tables decided and put as if nothing were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedResults {
    /// The results read.
    pub results: Vec<Recorded>,
    /// Results Config returned that could not be read.
    pub unreadable: usize,
}

/// One selection that covers the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Covering {
    /// `BackupPlanId`.
    pub backup_plan_id: String,
    /// `BackupPlanName`.
    pub backup_plan_name: String,
    /// `SelectionId`.
    pub selection_id: String,
    /// `SelectionName`.
    pub selection_name: String,
}

impl Covering {
    /// The covering pair, from the plan and selection.
    pub fn new(plan: &BackupPlan, selection: &Selection) -> Covering {
        Covering {
            backup_plan_id: plan.id.clone(),
            backup_plan_name: plan.name.clone(),
            selection_id: selection.id.clone(),
            selection_name: selection.name.clone(),
        }
    }

    /// Organization policy plans have IDs under `orgs/`.
    pub fn is_org_policy(&self) -> bool {
        self.backup_plan_id.starts_with("orgs/")
    }
}

/// The kind of reason, for programs; the sentence is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReasonKind {
    /// At least one selection covers the table.
    Covered,
    /// The table's status is not evaluated.
    TableStatus,
    /// Coverage depends on a construct AWS does not document.
    Ambiguous,
    /// Only opt-in-dependent paths select the table, and opt-in is off.
    NotOptedIn,
    /// `NotResources` excludes it.
    Excluded,
    /// A condition fails.
    ConditionFailed,
    /// Selected by a plan that is deleted, rule-less or elsewhere.
    PlanInactive,
    /// A `ListOfTags` entry names the table's tag key (or the key in another case) with
    /// another value.
    TagMismatch,
    /// Named only by a `ListOfTags` entry AWS cannot apply.
    UnsupportedTagType,
    /// A selection with neither `Resources` nor `ListOfTags`.
    InvalidSelection,
    /// Nothing mentions the table.
    NoSelection,
    /// Covered, but no covering plan meets the policy parameters.
    PolicyUnmet,
    /// Outside the rule parameters' scope (resourceId, resourceTags, exemptionTag).
    OutOfScope,
}

/// One evaluation as `PutEvaluations` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// `ComplianceResourceType`.
    pub resource_type: String,
    /// `ComplianceResourceId`: the table name for tables.
    pub resource_id: String,
    /// `ComplianceType`.
    pub compliance: Compliance,
    /// `Annotation`, at most 256 characters.
    pub annotation: String,
    /// `OrderingTimestamp`.
    pub ordering_timestamp: DateTime<Utc>,
    /// The whole reason, never cut (Config gets `annotation`; people and pipelines get this).
    pub reason: String,
    /// What kind of reason decided it.
    pub reason_kind: ReasonKind,
    /// Every covering selection (empty unless COMPLIANT).
    pub covered_by: Vec<Covering>,
}

/// One Region of a snapshot: its Backup catalog and its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSnapshot {
    /// The Backup configuration of this account and Region.
    pub catalog: RegionCatalog,
    /// The DynamoDB tables of this account and Region.
    pub tables: Vec<Table>,
    /// Recovery points by table name, for the tables whose recovery points were captured.
    pub recovery_points: BTreeMap<String, Vec<RecoveryPoint>>,
}

/// One account's Backup configuration and tables, Region by Region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The account ID.
    pub account_id: String,
    /// When it was captured; recovery point ages are measured from here.
    pub captured_at: Option<DateTime<Utc>>,
    /// Regions in file order.
    pub regions: Vec<RegionSnapshot>,
}

/// The partition of a Region, for building ARNs (`aws`, `aws-cn`, `aws-us-gov`, …).
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}
