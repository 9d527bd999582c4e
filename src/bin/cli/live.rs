//! The live account: the SDK runtime, the Regions to read, and a capture.

use crate::feedback;
use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::coverage::CatalogIndex;
use dynamodb_backup_rule::model::{RegionCatalog, Snapshot, Table};
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::{rule, Error};

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)
}

/// The Regions to read: those given, or the configured one.
pub(crate) fn regions(env: &AwsEnv, given: Vec<String>) -> Result<Vec<String>, Error> {
    if !given.is_empty() {
        // Alphabetical, like a snapshot file, so an audit and its replay print the same.
        let mut regions = given;
        regions.sort();
        regions.dedup();
        return Ok(regions);
    }
    env.default_region()
        .map(|r| vec![r])
        .ok_or_else(|| Error::Usage {
            flag: "--region".into(),
            expected: "a Region: pass --region, or set AWS_REGION or a profile Region".into(),
            source: None,
        })
}

/// Reads the live account. With `points` (rule parameters), it also reads the recovery points
/// of the tables whose decision, under those parameters, waits on them: the rule's one path
/// picks them, as it does in the Lambda.
pub(crate) fn capture(
    given: Vec<String>,
    points: Option<&RuleParameters>,
) -> Result<Snapshot, Error> {
    let feedback = feedback::Feedback::new(QUIET.load(std::sync::atomic::Ordering::Relaxed))?;
    let pick = |params: &RuleParameters, catalog: &RegionCatalog, tables: &[Table]| {
        let index = CatalogIndex::new(catalog);
        tables
            .iter()
            .map(|t| rule::decide(params, t, &index).needs_recovery_points())
            .collect::<Vec<bool>>()
    };
    let chooser = points.map(|p| move |c: &RegionCatalog, t: &[Table]| pick(p, c, t));
    runtime()?.block_on(async {
        let env = AwsEnv::from_env(Settings::from_env()?).await;
        let regions = regions(&env, given)?;
        let points_for = chooser
            .as_ref()
            .map(|f| f as &dynamodb_backup_rule::aws::PointsFor<'_>);
        env.capture(&regions, points_for, &feedback).await
    })
}

/// The parameters that pick the tables a capture reads recovery points of: those of the
/// command when they judge recovery points, else none.
pub(crate) fn points_wanted(params: &RuleParameters) -> Option<&RuleParameters> {
    params
        .policy
        .recovery_point_age_hours
        .is_some()
        .then_some(params)
}

/// `--quiet`: no progress lines.
pub(crate) static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Reads only the AWS Backup catalogs of the given Regions, as a snapshot without tables: what
/// `check-template` judges proposed tables against (the account's own tables are not needed).
pub(crate) fn catalogs(given: Vec<String>) -> Result<Snapshot, Error> {
    use dynamodb_backup_rule::model::RegionSnapshot;
    use dynamodb_backup_rule::ports::{BackupCatalog, Freshness, Scope};
    runtime()?.block_on(async {
        let env = AwsEnv::from_env(Settings::from_env()?).await;
        let regions = regions(&env, given)?;
        let account = env.caller_account().await?;
        let mut out = Vec::new();
        for region in regions {
            let scope = Scope {
                account: account.clone(),
                region,
                role_arn: None,
            };
            let catalog = env.region_catalog(&scope, Freshness::Cached, None).await?;
            out.push(RegionSnapshot {
                catalog: (*catalog).clone(),
                tables: Vec::new(),
                recovery_points: Default::default(),
            });
        }
        Ok(Snapshot {
            account_id: account,
            captured_at: None,
            regions: out,
        })
    })
}
