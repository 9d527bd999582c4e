//! The only code that talks to AWS: the SDK clients behind the rule's ports.
//!
//! Clients are built once per (account, Region, role) and kept for the life of the process, so a
//! warm Lambda reuses connections and assumed-role credentials. Catalogs are cached per account
//! and Region for `CATALOG_CACHE_TTL_SECONDS` (at most [`MAX_CACHE_TTL`]).

pub mod actions;
mod backup;
mod config;
mod dynamodb;
mod error;
pub mod pace;
mod tagging;

use crate::cache::{CatalogCache, PassLedger};
use crate::error::{AwsErrorKind, Error};
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{
    Evaluation, RecordedResults, RecoveryPoint, RegionCatalog, RegionSnapshot, Snapshot, Table,
    Tags, DYNAMODB_TABLE_TYPE,
};
use crate::ports::{
    BackupCatalog, ComplianceHistory, ConfigItems, EvaluationSink, Freshness, Inventory,
    InventorySource, PacedRead, Pacing, PassKey, PassLog, Progress, RecoveryPoints, Scope,
    TableInventory, TableTags,
};
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_backup::config::ProvideCredentials;
use aws_sdk_backup::config::SharedCredentialsProvider;
use pace::Pacer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// The environment variable that sets the catalog cache TTL, in seconds.
pub const CACHE_TTL_VAR: &str = "CATALOG_CACHE_TTL_SECONDS";
/// The default catalog cache TTL.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
/// The longest catalog cache TTL: change events may be decided from a catalog this old (passes
/// always revalidate), so it stays at minutes.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(900);
/// `DescribeTable` calls a second a pass expects (eight in flight); DynamoDB's control plane
/// publishes no rate for it.
pub const DESCRIBE_RATE: f64 = 20.0;
/// `PutEvaluations` calls a second a pass expects.
pub const PUT_RATE: f64 = 5.0;

/// Which of a Region's tables a capture reads the recovery points of, one flag per table.
pub type PointsFor<'a> = dyn Fn(&RegionCatalog, &[Table]) -> Vec<bool> + Sync + 'a;

/// Up to this many tables, a pass re-reads their recorded results one
/// `GetComplianceDetailsByResource` call each; beyond, the rule's whole listing is cheaper for
/// any account of up to 100 times as many tables.
pub const RECORDED_PER_RESOURCE_MAX: usize = 20;
/// The environment variable that sets the pace of `ListTagsOfResource` in fallback inventories.
pub const TAG_RATE_VAR: &str = "TAG_READS_PER_SECOND";
/// DynamoDB's documented limit for `ListTagsOfResource`: 10 requests per second per account.
pub const DEFAULT_TAG_RATE: u32 = 10;
/// The environment variable that sets the pace of AWS Backup reads.
pub const BACKUP_RATE_VAR: &str = "BACKUP_READS_PER_SECOND";
/// AWS does not publish Backup's per-API rates; 20 a second is a conservative guess that still
/// reads 3,000 selections in under three minutes.
pub const DEFAULT_BACKUP_RATE: u32 = 20;

/// Settings read from the environment once, at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a loaded catalog is trusted; zero disables the cache.
    pub cache_ttl: Duration,
    /// `ListTagsOfResource` calls per second.
    pub tag_reads_per_second: u32,
    /// AWS Backup reads per second.
    pub backup_reads_per_second: u32,
    /// How long one attempt of an AWS call may take before it is abandoned and retried.
    pub attempt_timeout: Duration,
    /// The first retry's backoff; the SDK doubles it, with jitter, up to 20 s.
    pub retry_initial_backoff: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            cache_ttl: DEFAULT_CACHE_TTL,
            tag_reads_per_second: DEFAULT_TAG_RATE,
            backup_reads_per_second: DEFAULT_BACKUP_RATE,
            attempt_timeout: Duration::from_secs(10),
            retry_initial_backoff: Duration::from_secs(1),
        }
    }
}

fn millis_from_env(var: &str, default: Duration) -> Result<Duration, Error> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| Error::InvalidParameters {
                name: format!("environment variable {var}"),
                expected: format!("a whole number of milliseconds above 0, got `{v}`"),
                source: None,
            }),
    }
}

fn rate_from_env(var: &str, default: u32) -> Result<u32, Error> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::InvalidParameters {
                name: format!("environment variable {var}"),
                expected: format!("a whole number of requests per second above 0, got `{v}`"),
                source: None,
            }),
    }
}

impl Settings {
    /// Reads `CATALOG_CACHE_TTL_SECONDS`, `TAG_READS_PER_SECOND` and `BACKUP_READS_PER_SECOND`;
    /// unset means the default.
    pub fn from_env() -> Result<Settings, Error> {
        let defaults = Settings::default();
        Ok(Settings {
            cache_ttl: cache_ttl_from_env()?,
            tag_reads_per_second: rate_from_env(TAG_RATE_VAR, DEFAULT_TAG_RATE)?,
            backup_reads_per_second: rate_from_env(BACKUP_RATE_VAR, DEFAULT_BACKUP_RATE)?,
            attempt_timeout: millis_from_env("ATTEMPT_TIMEOUT_MS", defaults.attempt_timeout)?,
            retry_initial_backoff: millis_from_env(
                "RETRY_INITIAL_BACKOFF_MS",
                defaults.retry_initial_backoff,
            )?,
        })
    }
}

/// The session name on assumed roles, visible in CloudTrail.
const SESSION_NAME: &str = "dynamodb-backup-rule";

/// SDK clients for one account, Region and role, with the pacers that keep them under the
/// account's request-rate quotas.
#[derive(Debug)]
struct Clients {
    backup: aws_sdk_backup::Client,
    config: aws_sdk_config::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    tagging: aws_sdk_resourcegroupstagging::Client,
    backup_pace: Pacer,
    tag_pace: Pacer,
}

/// An assume-role provider whose first session was already fetched (to fail early, naming the
/// role): the clients start with it instead of assuming the role a second time, and the inner
/// provider refreshes after it.
#[derive(Debug)]
struct Primed {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    inner: AssumeRoleProvider,
}

impl ProvideCredentials for Primed {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().ok().and_then(|mut f| f.take()) {
            Some(c) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(c)),
            None => self.inner.provide_credentials(),
        }
    }
}

/// Marks a response the SDK could not deserialize as transient. The standard classifiers leave
/// it alone, so one truncated body would fail a whole pass that a retry would have saved.
#[derive(Debug)]
struct RetryUnreadableResponses;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry
    for RetryUnreadableResponses
{
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        let Some(Err(e)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        // A body cut short surfaces as an unhandled operation error whose source is the JSON
        // reader's own error.
        let unreadable = e.is_response_error()
            || e.as_operation_error().is_some_and(|op| {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(op);
                while let Some(err) = source {
                    if err
                        .downcast_ref::<aws_smithy_json::deserialize::error::DeserializeError>()
                        .is_some()
                    {
                        return true;
                    }
                    source = err.source();
                }
                false
            });
        if unreadable {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "RetryUnreadableResponses"
    }
}

/// The ports served by AWS.
#[derive(Debug)]
pub struct AwsEnv {
    base: SdkConfig,
    clients: tokio::sync::Mutex<HashMap<Scope, Arc<Clients>>>,
    cache: CatalogCache,
    passes: PassLedger,
    settings: Settings,
}

/// Reads the cache TTL from the environment: unset means the default, `0` disables the cache,
/// and anything above [`MAX_CACHE_TTL`] is capped to it (with a warning), so no change event is
/// decided from a catalog older than minutes.
pub fn cache_ttl_from_env() -> Result<Duration, Error> {
    let ttl = match std::env::var(CACHE_TTL_VAR) {
        Err(_) => return Ok(DEFAULT_CACHE_TTL),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| Error::InvalidParameters {
                name: format!("environment variable {CACHE_TTL_VAR}"),
                expected: format!("a whole number of seconds (0 disables the cache), got `{v}`"),
                source: None,
            })?,
    };
    if ttl > MAX_CACHE_TTL {
        warn!(
            requested = ttl.as_secs(),
            used = MAX_CACHE_TTL.as_secs(),
            "{CACHE_TTL_VAR} is capped"
        );
        return Ok(MAX_CACHE_TTL);
    }
    Ok(ttl)
}

impl AwsEnv {
    /// Loads the standard AWS configuration (environment, profiles, SSO, container and instance
    /// credentials; `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_MAX_ATTEMPTS` …).
    pub async fn from_env(settings: Settings) -> AwsEnv {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        AwsEnv::new(base, settings)
    }

    /// Serves the ports from an already loaded configuration.
    pub fn new(base: SdkConfig, settings: Settings) -> AwsEnv {
        AwsEnv {
            base,
            clients: tokio::sync::Mutex::new(HashMap::new()),
            cache: CatalogCache::new(settings.cache_ttl.min(MAX_CACHE_TTL)),
            passes: PassLedger::default(),
            settings,
        }
    }

    /// The Region the configuration resolved, if any.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    /// The clients of a scope, built once. For an assumed role, the role is assumed here, so a
    /// role that cannot be assumed fails as `AccessDenied` naming it, before any read.
    async fn clients(&self, scope: &Scope) -> Result<Arc<Clients>, Error> {
        // An async lock: two invocations must not both assume the role for one new scope.
        let mut known = self.clients.lock().await;
        if let Some(c) = known.get(scope) {
            return Ok(c.clone());
        }
        let region = Region::new(scope.region.clone());
        let mut builder = self.base.to_builder();
        builder.set_region(Some(region.clone()));
        // A hung call must not hold the invocation: each attempt is bounded, then retried with
        // the SDK's backoff (the attempts still come from AWS_MAX_ATTEMPTS).
        builder.set_timeout_config(Some(
            TimeoutConfig::builder()
                .operation_attempt_timeout(self.settings.attempt_timeout)
                .build(),
        ));
        // Adaptive retry, unless AWS_RETRY_MODE says otherwise: AWS enforces its rate quotas
        // per account, and a container cannot know how many others read the same account (in
        // the organization stack they mostly read different ones). So each paces at the whole
        // account rate, and when several do at once, the throttles AWS answers slow every
        // client down (the SDK's client-side rate limiter) instead of failing the pass.
        let base = self.base.retry_config().cloned();
        let explicit = std::env::var_os("AWS_RETRY_MODE").is_some();
        let retry = match base {
            Some(r) if explicit => r,
            Some(r) => RetryConfig::adaptive().with_max_attempts(r.max_attempts()),
            None => RetryConfig::adaptive(),
        }
        .with_initial_backoff(self.settings.retry_initial_backoff);
        builder.set_retry_config(Some(retry));
        if let Some(role) = &scope.role_arn {
            // The standard provider refreshes the session before it expires.
            let provider = AssumeRoleProvider::builder(role)
                .session_name(SESSION_NAME)
                .region(region)
                .configure(&self.base)
                .build()
                .await;
            let first = provider
                .provide_credentials()
                .await
                .map_err(|e| Error::Aws {
                    action: "sts:AssumeRole",
                    kind: AwsErrorKind::AccessDenied,
                    code: None,
                    message: format!("cannot assume role {role}: {e}"),
                    role: Some(role.clone()),
                    source: Box::new(e),
                })?;
            let primed = Primed {
                first: std::sync::Mutex::new(Some(first)),
                inner: provider,
            };
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(primed)));
        }
        let config = builder.build();
        let backup_rate = self.settings.backup_reads_per_second;
        let tag_rate = self.settings.tag_reads_per_second;
        // A 200 whose body cannot be read (cut off by a reset or a proxy) is retried like a 5xx.
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&config)
                        .retry_classifier(RetryUnreadableResponses)
                        .build(),
                )
            };
        }
        let clients = Arc::new(Clients {
            backup: client!(aws_sdk_backup),
            config: client!(aws_sdk_config),
            dynamodb: client!(aws_sdk_dynamodb),
            tagging: client!(aws_sdk_resourcegroupstagging),
            // Backup reads may burst so one change event is never slowed; tag reads are paced
            // strictly because DynamoDB documents a hard 10 per second.
            backup_pace: Pacer::new(backup_rate, backup_rate),
            tag_pace: Pacer::new(tag_rate, 1),
        });
        known.insert(scope.clone(), clients.clone());
        Ok(clients)
    }

    /// The account of the credentials in use (`sts:GetCallerIdentity`).
    pub async fn caller_account(&self) -> Result<String, Error> {
        let sts = aws_sdk_sts::Client::new(&self.base);
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| error::classify("sts:GetCallerIdentity", None, e))?;
        Ok(identity.account().unwrap_or_default().to_string())
    }

    /// Captures one account's Regions into the snapshot model (`snapshot` and `audit`).
    ///
    /// With `points_for`, the recovery points of the tables it picks are captured too
    /// (`ListRecoveryPointsByResource`, eight in flight under the Backup pacer), so that
    /// `maxRecoveryPointAgeHours` can be judged from the snapshot. Which tables is the caller's
    /// decision, not this adapter's: the CLI picks those the rule's one decision path would
    /// read recovery points for.
    ///
    /// `progress` hears each phase as it ends, with counts, an estimate before a paced phase
    /// that will take long, and each table of the counted phases (describing tables, reading
    /// recovery points): the CLI shows them so minutes of reading are not silent.
    pub async fn capture(
        &self,
        regions: &[String],
        points_for: Option<&PointsFor<'_>>,
        progress: &dyn Progress,
    ) -> Result<Snapshot, Error> {
        let account = self.caller_account().await?;
        let mut out = Vec::new();
        for region in regions {
            progress.note(format!(
                "{region}: reading AWS Backup (plans, selections, vaults)"
            ));
            let scope = Scope {
                account: account.clone(),
                region: region.clone(),
                role_arn: None,
            };
            let clients = self.clients(&scope).await?;
            // The vault list is captured too: policy parameters and missing vaults offline.
            let catalog =
                backup::load_catalog(&clients.backup, &clients.backup_pace, &scope, None, None)
                    .await?;
            progress.note(format!(
                "{region}: {} plan(s), {} selection(s), {} vault(s); reading tables and tags",
                catalog.plans.len(),
                catalog
                    .plans
                    .iter()
                    .map(|p| p.selections.len())
                    .sum::<usize>(),
                catalog.vaults.as_ref().map_or(0, |v| v.len())
            ));
            progress.start(format!("{region}: reading tags"), None);
            let tags = tagging::table_tags(&clients.tagging, None, Some(progress)).await;
            progress.finish();
            let tags = tags?;
            let described = dynamodb::Described {
                what: format!("{region}: describing tables"),
                progress,
            };
            let tables = dynamodb::tables(
                &clients.dynamodb,
                None,
                Some(&tags),
                DESCRIBE_RATE,
                None,
                Some(&described),
            )
            .await?;
            progress.note(format!("{region}: {} table(s)", tables.len()));
            let points = match points_for {
                Some(pick) => {
                    let picked = pick(&catalog, &tables);
                    let wanted: Vec<&Table> = tables
                        .iter()
                        .zip(picked)
                        .filter_map(|(t, p)| p.then_some(t))
                        .collect();
                    self.recovery_points_of(&clients, &catalog, &wanted, progress)
                        .await?
                }
                None => Default::default(),
            };
            info!(region = %region, plans = catalog.plans.len(), tables = tables.len(),
                recovery_points_of = points.len(), "captured");
            out.push(RegionSnapshot {
                catalog,
                tables,
                recovery_points: points,
            });
        }
        Ok(Snapshot {
            account_id: account,
            captured_at: Some(chrono::Utc::now()),
            regions: out,
        })
    }
}

impl AwsEnv {
    /// The recovery points of the tables the catalog covers, by table name.
    async fn recovery_points_of(
        &self,
        clients: &Clients,
        catalog: &RegionCatalog,
        covered: &[&Table],
        progress: &dyn Progress,
    ) -> Result<std::collections::BTreeMap<String, Vec<RecoveryPoint>>, Error> {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        let rate = self.settings.backup_reads_per_second;
        progress.note(format!(
            "{}: reading the recovery points of {} covered table(s) at {rate}/s, about {} s",
            catalog.region,
            covered.len(),
            (covered.len() as u64).div_ceil(u64::from(rate.max(1)))
        ));
        progress.start(
            format!("{}: recovery points", catalog.region),
            Some(covered.len() as u64),
        );
        let points = stream::iter(covered.iter().copied())
            .map(|t| async move {
                let points = backup::recovery_points(
                    &clients.backup,
                    &clients.backup_pace,
                    None,
                    &t.arn.arn,
                )
                .await?;
                progress.advance(1);
                Ok::<_, Error>((t.name.clone(), points))
            })
            .buffered(8)
            .try_collect()
            .await;
        progress.finish();
        points
    }
}

impl BackupCatalog for AwsEnv {
    async fn region_catalog(
        &self,
        scope: &Scope,
        freshness: Freshness,
        finish_by: Option<Instant>,
    ) -> Result<Arc<RegionCatalog>, Error> {
        if freshness == Freshness::Cached {
            if let Some(c) = self.cache.fresh(&scope.account, &scope.region) {
                debug!(account = %scope.account, region = %scope.region, "catalog from cache");
                return Ok(c);
            }
        }
        let clients = self.clients(scope).await?;
        let previous = self.cache.previous(&scope.account, &scope.region);
        let catalog = Arc::new(
            backup::load_catalog(
                &clients.backup,
                &clients.backup_pace,
                scope,
                previous.as_deref(),
                finish_by,
            )
            .await?,
        );
        let missing: Vec<&str> = catalog
            .plans
            .iter()
            .flat_map(|p| &p.rules)
            .filter(|r| r.effect == crate::model::RuleEffect::VaultMissing)
            .filter_map(|r| r.target_vault.as_deref())
            .collect();
        info!(
            account = %scope.account,
            region = %scope.region,
            plans = catalog.plans.len(),
            selections = catalog.plans.iter().map(|p| p.selections.len()).sum::<usize>(),
            vaults = catalog.vaults.as_ref().map_or(0, |v| v.len()),
            missing_vaults = ?missing,
            revalidated = freshness == Freshness::Revalidate,
            "catalog loaded"
        );
        self.cache.store(catalog.clone());
        Ok(catalog)
    }
}

impl PassLog for AwsEnv {
    fn last_pass_started(
        &self,
        scope: &Scope,
        rule: &PassKey,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.passes.last(scope, rule)
    }

    fn pass_done(&self, scope: &Scope, rule: &PassKey, started: chrono::DateTime<chrono::Utc>) {
        self.passes.record(scope, rule, started);
    }
}

impl Pacing for AwsEnv {
    fn reads_per_second(&self, read: PacedRead) -> f64 {
        match read {
            PacedRead::RecoveryPoints => f64::from(self.settings.backup_reads_per_second),
            PacedRead::DescribeTable => DESCRIBE_RATE,
            PacedRead::PutEvaluations => PUT_RATE,
        }
    }
}

impl AwsEnv {
    /// Tables of Config's inventory whose tags its row did not give are read one by one; one
    /// deleted meanwhile is left out.
    async fn config_inventory(
        &self,
        clients: &Clients,
        scope: &Scope,
    ) -> Result<Vec<Table>, Error> {
        let role = scope.role_arn.as_deref();
        let mut tables = Vec::new();
        for row in config::inventory::tables(&clients.config, scope).await? {
            let mut table = row.table;
            if !row.tags_known {
                match dynamodb::table_tags(
                    &clients.dynamodb,
                    &clients.tag_pace,
                    role,
                    &table.arn.arn,
                )
                .await?
                {
                    Some(tags) => table.tags = tags,
                    None => continue,
                }
            }
            tables.push(table);
        }
        Ok(tables)
    }
}

impl TableInventory for AwsEnv {
    async fn tables(
        &self,
        scope: &Scope,
        with_tags: bool,
        deadline: Option<Instant>,
    ) -> Result<Inventory, Error> {
        let clients = self.clients(scope).await?;
        let role = scope.role_arn.as_deref();
        let liveness = config::inventory::liveness(&clients.config, role).await?;
        if liveness.live {
            return Ok(Inventory {
                tables: self.config_inventory(&clients, scope).await?,
                source: InventorySource::ConfigInventory,
                why: liveness.why,
            });
        }
        warn!(account = %scope.account, region = %scope.region, why = %liveness.why,
            "Config's inventory is not live; reading DynamoDB's");
        let tags = if with_tags {
            Some(tagging::table_tags(&clients.tagging, role, None).await?)
        } else {
            None
        };
        Ok(Inventory {
            tables: dynamodb::tables(
                &clients.dynamodb,
                role,
                tags.as_ref(),
                DESCRIBE_RATE,
                deadline,
                None,
            )
            .await?,
            source: InventorySource::DynamoDb,
            why: liveness.why,
        })
    }

    async fn table(
        &self,
        scope: &Scope,
        name: &str,
        with_tags: bool,
    ) -> Result<Option<Table>, Error> {
        let clients = self.clients(scope).await?;
        let role = scope.role_arn.as_deref();
        let Some(mut table) = dynamodb::describe(&clients.dynamodb, role, name).await? else {
            return Ok(None);
        };
        if with_tags {
            match dynamodb::table_tags(&clients.dynamodb, &clients.tag_pace, role, &table.arn.arn)
                .await?
            {
                Some(tags) => table.tags = tags,
                None => return Ok(None),
            }
        }
        Ok(Some(table))
    }
}

impl ComplianceHistory for AwsEnv {
    async fn recorded_results(
        &self,
        scope: &Scope,
        rule_name: &str,
    ) -> Result<RecordedResults, Error> {
        let clients = self.clients(scope).await?;
        config::evaluations::recorded_results(&clients.config, scope.role_arn.as_deref(), rule_name)
            .await
    }

    async fn recorded_results_of(
        &self,
        scope: &Scope,
        rule_name: &str,
        tables: &[&str],
    ) -> Result<RecordedResults, Error> {
        // One call per table, or the whole listing (100 a page) when that is fewer calls.
        if tables.len() > RECORDED_PER_RESOURCE_MAX {
            let mut all = self.recorded_results(scope, rule_name).await?;
            let wanted: std::collections::HashSet<&str> = tables.iter().copied().collect();
            all.results.retain(|r| {
                r.resource_type == DYNAMODB_TABLE_TYPE && wanted.contains(r.resource_id.as_str())
            });
            return Ok(all);
        }
        let clients = self.clients(scope).await?;
        config::evaluations::recorded_results_of(
            &clients.config,
            scope.role_arn.as_deref(),
            rule_name,
            DYNAMODB_TABLE_TYPE,
            tables,
        )
        .await
    }
}

impl RecoveryPoints for AwsEnv {
    async fn recovery_points(
        &self,
        scope: &Scope,
        table_arn: &str,
    ) -> Result<Option<Vec<RecoveryPoint>>, Error> {
        let clients = self.clients(scope).await?;
        backup::recovery_points(
            &clients.backup,
            &clients.backup_pace,
            scope.role_arn.as_deref(),
            table_arn,
        )
        .await
        .map(Some)
    }
}

impl TableTags for AwsEnv {
    async fn table_tags(&self, scope: &Scope, table_arn: &str) -> Result<Tags, Error> {
        let clients = self.clients(scope).await?;
        let role = scope.role_arn.as_deref();
        dynamodb::table_tags(&clients.dynamodb, &clients.tag_pace, role, table_arn)
            .await?
            .ok_or_else(|| Error::Aws {
                action: "dynamodb:ListTagsOfResource",
                kind: AwsErrorKind::Service,
                code: Some("ResourceNotFoundException".into()),
                message: format!("table {table_arn} no longer exists"),
                role: role.map(str::to_string),
                source: "the table was deleted after its change was recorded".into(),
            })
    }
}

impl ConfigItems for AwsEnv {
    async fn config_item(
        &self,
        scope: &Scope,
        summary: &ItemSummary,
    ) -> Result<Option<ConfigItem>, Error> {
        let clients = self.clients(scope).await?;
        config::items::config_item(&clients.config, scope.role_arn.as_deref(), summary).await
    }
}

impl EvaluationSink for AwsEnv {
    async fn put_evaluations(
        &self,
        scope: &Scope,
        result_token: &str,
        test_mode: bool,
        evaluations: &[Evaluation],
    ) -> Result<Vec<Evaluation>, Error> {
        let clients = self.clients(scope).await?;
        config::evaluations::put_evaluations(
            &clients.config,
            scope.role_arn.as_deref(),
            result_token,
            test_mode,
            evaluations,
        )
        .await
    }
}
