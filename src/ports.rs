//! The capabilities the rule needs from the outside world, as small traits that speak our own
//! types. `aws/` implements them with the AWS SDK; `offline` serves them from a snapshot, which
//! is also what `invoke --snapshot` and many tests use.

use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{Evaluation, RegionCatalog, Tags};
use std::future::Future;
use std::sync::Arc;

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
    fn region_catalog(
        &self,
        scope: &Scope,
    ) -> impl Future<Output = Result<Arc<RegionCatalog>, Error>> + Send;
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
