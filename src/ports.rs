//! The capabilities the rule needs from the outside world, as small traits that speak our own
//! types. `aws/` implements them with the AWS SDK; `offline` serves them from a snapshot, which
//! is also what `invoke --snapshot` and many tests use.

use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{Evaluation, RecoveryPoint, RegionCatalog, Table, Tags};
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

/// Reads a Region's AWS Backup configuration: settings, plans, rules and selections.
pub trait BackupCatalog {
    /// The complete catalog of the scope's account and Region, or an error; never a partial one.
    /// With `with_vaults`, the catalog also describes every vault the rules target.
    fn region_catalog(
        &self,
        scope: &Scope,
        with_vaults: bool,
    ) -> impl Future<Output = Result<Arc<RegionCatalog>, Error>> + Send;

    /// Forgets any cached catalog of the scope, so the next read sees a change just made.
    fn invalidate(&self, scope: &Scope);
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
    /// How logs and the README name it.
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
}

/// Lists every table of an account and Region, for periodic passes.
pub trait TableInventory {
    /// All tables, complete or an error. `with_tags` asks for tags even where they cost one call
    /// per table; `deadline` is when the pass must be done, so a read that cannot finish in time
    /// fails at once instead of running out the clock.
    fn tables(
        &self,
        scope: &Scope,
        with_tags: bool,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<Inventory, Error>> + Send;
}

/// What Config currently shows for this rule, so stale results can be cleared.
pub trait ComplianceHistory {
    /// `(resource type, resource id)` of every COMPLIANT or NON_COMPLIANT result of the rule.
    fn reported_resources(
        &self,
        scope: &Scope,
        rule_name: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Error>> + Send;
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
    fn put_evaluations(
        &self,
        scope: &Scope,
        result_token: &str,
        test_mode: bool,
        evaluations: &[Evaluation],
    ) -> impl Future<Output = Result<Vec<Evaluation>, Error>> + Send;
}
