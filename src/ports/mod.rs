//! The capabilities the rule needs from the outside world, as small traits that speak our own
//! types. `aws/` implements them with the AWS SDK; [`snapshot_env`] serves them from a snapshot
//! file, which is also what `invoke --snapshot` and many tests use.

pub mod snapshot_env;

use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{Evaluation, RecordedResults, RecoveryPoint, RegionCatalog, Table, Tags};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// Where one evaluation's reads and writes go: an account and Region, and the role to assume
/// there (`None`: the caller's own credentials).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The account evaluated.
    pub account: String,
    /// The Region evaluated.
    pub region: String,
    /// The role assumed for cross-account evaluation.
    pub role_arn: Option<String>,
}

/// How old a catalog may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// A catalog cached within its TTL will do: one table's change event.
    Cached,
    /// Read the catalog again, reusing only what cannot have changed (a plan's rules under the
    /// same `VersionId`, selections by ID): every pass over many tables, so no pass is decided
    /// from an old catalog.
    Revalidate,
    /// As [`Freshness::Cached`], but a read that cannot finish by its deadline reads what it can
    /// and keeps it for the next read to go on from (never as a catalog to decide from), then
    /// fails with `Timeout`: the CloudFormation hook, which may answer "in progress" and be
    /// invoked again.
    Resume,
}

/// Reads a Region's AWS Backup configuration: settings, plans, rules, selections and vaults.
pub trait BackupCatalog {
    /// The complete catalog of the scope's account and Region, or an error; never a partial one.
    /// It always carries the Region's vault list, so a plan whose target vault was deleted is
    /// known (spec §9). With `finish_by`, a read that cannot be done by then at the paced rate
    /// fails with `Timeout` as soon as that is known (after listing the plans, and after listing
    /// their selections), not when the clock runs out.
    fn region_catalog(
        &self,
        scope: &Scope,
        freshness: Freshness,
        finish_by: Option<Instant>,
    ) -> impl Future<Output = Result<Arc<RegionCatalog>, Error>> + Send;
}

/// What this container remembers of its own passes, so a burst of backup-change events costs
/// one pass: an event captured before the last pass started is already reflected in it.
///
/// Passes are remembered per rule, by `rule` (the rule's name and parameters, see
/// [`PassKey`]): two rules sharing the function decide and put different things, so one's pass
/// never answers the other's event.
pub trait PassLog {
    /// When the last successful pass of `rule` over the scope started, in this container.
    fn last_pass_started(&self, scope: &Scope, rule: &PassKey) -> Option<DateTime<Utc>>;
    /// Records a successful pass of `rule` that started at `started`.
    fn pass_done(&self, scope: &Scope, rule: &PassKey, started: DateTime<Utc>);
}

/// Which rule a pass was for: its name and its parameters, in a canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassKey(String);

impl PassKey {
    /// The key of a rule named `rule` (none when the event does not name it) with `parameters`.
    pub fn new(
        rule: Option<&str>,
        parameters: &serde_json::Map<String, serde_json::Value>,
    ) -> PassKey {
        // serde_json's Map is ordered by key, so equal parameters give equal text.
        PassKey(format!(
            "{}\u{0}{}",
            rule.unwrap_or_default(),
            serde_json::Value::Object(parameters.clone())
        ))
    }
}

/// How fast paced reads go, so a pass can tell before it starts whether it can finish in time.
pub trait Pacing {
    /// Sustained requests per second for one kind of paced read.
    fn reads_per_second(&self, read: PacedRead) -> f64;
}

/// The kinds of paced reads a pass makes per table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacedRead {
    /// `backup:ListRecoveryPointsByResource`, one per covered table under
    /// `maxRecoveryPointAgeHours`.
    RecoveryPoints,
    /// `dynamodb:DescribeTable`, one per table Config still reports but its inventory lacks.
    DescribeTable,
    /// `config:PutEvaluations`, one per 100 evaluations.
    PutEvaluations,
}

impl PacedRead {
    /// The IAM action, as errors name it.
    pub fn action(self) -> &'static str {
        match self {
            PacedRead::RecoveryPoints => "backup:ListRecoveryPointsByResource",
            PacedRead::DescribeTable => "dynamodb:DescribeTable",
            PacedRead::PutEvaluations => "config:PutEvaluations",
        }
    }
}

/// Reads a table's recovery points, for `maxRecoveryPointAgeHours`.
pub trait RecoveryPoints {
    /// Every recovery point AWS Backup holds for the table; `None` when they cannot be known
    /// (a snapshot that did not capture them).
    fn recovery_points(
        &self,
        scope: &Scope,
        table_arn: &str,
    ) -> impl Future<Output = Result<Option<Vec<RecoveryPoint>>, Error>> + Send;
}

/// Where a table inventory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventorySource {
    /// AWS Config's own inventory (`SelectResourceConfig`).
    ConfigInventory,
    /// DynamoDB itself (`ListTables`, `DescribeTable`, `ListTagsOfResource`), because Config
    /// does not record tables here.
    DynamoDb,
    /// A snapshot file.
    Snapshot,
}

impl InventorySource {
    /// How logs and the docs name it.
    pub fn as_str(self) -> &'static str {
        match self {
            InventorySource::ConfigInventory => "config:SelectResourceConfig",
            InventorySource::DynamoDb => "dynamodb:ListTables",
            InventorySource::Snapshot => "snapshot",
        }
    }
}

/// Every DynamoDB table of an account and Region.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The tables, with status and (when asked for) tags.
    pub tables: Vec<Table>,
    /// Where they came from.
    pub source: InventorySource,
    /// Why that source: e.g. that the recorder is stopped, so Config's inventory is frozen.
    pub why: String,
}

/// Lists every table of an account and Region, for periodic passes.
pub trait TableInventory {
    /// All tables, complete or an error. `with_tags` asks for tags even where they cost one call
    /// per table; `finish_by` is when the reads must be done (the caller keeps its own margin
    /// out of it), so a read that cannot finish in time fails at once instead of running out the
    /// clock.
    fn tables(
        &self,
        scope: &Scope,
        with_tags: bool,
        finish_by: Option<Instant>,
    ) -> impl Future<Output = Result<Inventory, Error>> + Send;

    /// One table from DynamoDB itself (`DescribeTable`, and its tags when `with_tags`), or
    /// `None` when DynamoDB answers that it does not exist: the only proof a table is gone.
    fn table(
        &self,
        scope: &Scope,
        name: &str,
        with_tags: bool,
    ) -> impl Future<Output = Result<Option<Table>, Error>> + Send;
}

/// What Config keeps for this rule, so a pass puts only what changed.
pub trait ComplianceHistory {
    /// Every COMPLIANT, NON_COMPLIANT and NOT_APPLICABLE result Config keeps for the rule in
    /// the scope's account and Region.
    fn recorded_results(
        &self,
        scope: &Scope,
        rule_name: &str,
    ) -> impl Future<Output = Result<RecordedResults, Error>> + Send;

    /// The rule's results for these tables only, read again just before a pass puts them: a
    /// newer result (a table's own change event, a pass that read later) is not replaced.
    fn recorded_results_of(
        &self,
        scope: &Scope,
        rule_name: &str,
        tables: &[&str],
    ) -> impl Future<Output = Result<RecordedResults, Error>> + Send;
}

/// Reads a table's tags when the configuration item did not carry them.
pub trait TableTags {
    /// The table's current tags.
    fn table_tags(
        &self,
        scope: &Scope,
        table_arn: &str,
    ) -> impl Future<Output = Result<Tags, Error>> + Send;
}

/// Reads configuration items that were too large for the notification.
pub trait ConfigItems {
    /// The item as of the summary's capture time, or `None` when Config has none.
    fn config_item(
        &self,
        scope: &Scope,
        summary: &ItemSummary,
    ) -> impl Future<Output = Result<Option<ConfigItem>, Error>> + Send;
}

/// Sends evaluations to Config.
pub trait EvaluationSink {
    /// One `PutEvaluations` call of at most 100 evaluations; returns the ones Config rejected.
    /// A rejected evaluation that matches none of those sent is an error, never re-sent: the
    /// rule puts only verdicts it decided.
    fn put_evaluations(
        &self,
        scope: &Scope,
        result_token: &str,
        test_mode: bool,
        evaluations: &[Evaluation],
    ) -> impl Future<Output = Result<Vec<Evaluation>, Error>> + Send;
}

/// What a long read tells the person waiting for it (the CLI's live modes). Phase lines say what
/// ended and what comes next; a counted phase reports each item so a display can show the rate
/// and how long is left.
pub trait Progress: Send + Sync {
    /// A phase ended, with its counts, or an estimate before a long one.
    fn note(&self, line: String);
    /// A counted phase begins: `what`, of `total` items when known.
    fn start(&self, what: String, total: Option<u64>);
    /// `n` more items of the counted phase are done.
    fn advance(&self, n: u64);
    /// The counted phase ended.
    fn finish(&self);
}
