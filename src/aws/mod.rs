//! The only code that talks to AWS: the SDK clients behind the rule's ports.
//!
//! Clients are built once per (account, Region, role) and kept for the life of the process, so a
//! warm Lambda reuses connections and assumed-role credentials. Catalogs are cached per account
//! and Region for `CATALOG_CACHE_TTL_SECONDS`.

pub mod actions;
mod backup;
mod config;
mod dynamodb;
mod error;
pub mod pace;

use crate::cache::CatalogCache;
use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{Evaluation, RecoveryPoint, RegionCatalog, RegionSnapshot, Snapshot, Tags};
use crate::ports::{
    BackupCatalog, ComplianceHistory, ConfigItems, EvaluationSink, Inventory, InventorySource,
    RecoveryPoints, Scope, TableInventory, TableTags,
};
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_backup::config::SharedCredentialsProvider;
use pace::Pacer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{debug, info};

/// The environment variable that sets the catalog cache TTL, in seconds.
pub const CACHE_TTL_VAR: &str = "CATALOG_CACHE_TTL_SECONDS";
/// The default catalog cache TTL.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);
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
    backup_pace: Pacer,
    tag_pace: Pacer,
}

/// The ports served by AWS.
#[derive(Debug)]
pub struct AwsEnv {
    base: SdkConfig,
    clients: Mutex<HashMap<Scope, Arc<Clients>>>,
    cache: CatalogCache,
    settings: Settings,
}

/// Reads the cache TTL from the environment: unset means the default, `0` disables the cache.
pub fn cache_ttl_from_env() -> Result<Duration, Error> {
    match std::env::var(CACHE_TTL_VAR) {
        Err(_) => Ok(DEFAULT_CACHE_TTL),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| Error::InvalidParameters {
                name: format!("environment variable {CACHE_TTL_VAR}"),
                expected: format!("a whole number of seconds (0 disables the cache), got `{v}`"),
            }),
    }
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
            clients: Mutex::new(HashMap::new()),
            cache: CatalogCache::new(settings.cache_ttl),
            settings,
        }
    }

    /// The Region the configuration resolved, if any.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    async fn clients(&self, scope: &Scope) -> Arc<Clients> {
        if let Some(c) = self.clients.lock().ok().and_then(|m| m.get(scope).cloned()) {
            return c;
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
        let retry = self
            .base
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::standard)
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
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(provider)));
        }
        let config = builder.build();
        let clients = Arc::new(Clients {
            backup: aws_sdk_backup::Client::new(&config),
            config: aws_sdk_config::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            // Backup reads may burst so one change event is never slowed; tag reads are paced
            // strictly because DynamoDB documents a hard 10 per second.
            backup_pace: Pacer::new(
                self.settings.backup_reads_per_second,
                self.settings.backup_reads_per_second,
            ),
            tag_pace: Pacer::new(self.settings.tag_reads_per_second, 1),
        });
        if let Ok(mut m) = self.clients.lock() {
            m.insert(scope.clone(), clients.clone());
        }
        clients
    }

    /// Captures one account's Regions into the snapshot model (`snapshot` and `audit`).
    pub async fn capture(&self, regions: &[String]) -> Result<Snapshot, Error> {
        let sts = aws_sdk_sts::Client::new(&self.base);
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| error::classify("sts:GetCallerIdentity", None, e))?;
        let account = identity.account().unwrap_or_default().to_string();
        let mut out = Vec::new();
        for region in regions {
            let scope = Scope {
                account: account.clone(),
                region: region.clone(),
                role_arn: None,
            };
            let clients = self.clients(&scope).await;
            // Vaults are captured too, so policy parameters can be checked offline.
            let catalog =
                backup::load_catalog(&clients.backup, &clients.backup_pace, &scope, None, true)
                    .await?;
            let tag_pace = (&clients.tag_pace, self.settings.tag_reads_per_second);
            let tables = dynamodb::tables(&clients.dynamodb, None, true, tag_pace, None).await?;
            info!(region = %region, plans = catalog.plans.len(), tables = tables.len(), "captured");
            out.push(RegionSnapshot {
                catalog,
                tables,
                recovery_points: Default::default(),
            });
        }
        Ok(Snapshot {
            account_id: account,
            captured_at: Some(chrono::Utc::now()),
            regions: out,
        })
    }
}

impl BackupCatalog for AwsEnv {
    async fn region_catalog(
        &self,
        scope: &Scope,
        with_vaults: bool,
    ) -> Result<Arc<RegionCatalog>, Error> {
        if let Some(c) = self.cache.fresh(&scope.account, &scope.region) {
            if c.vaults.is_some() || !with_vaults {
                debug!(account = %scope.account, region = %scope.region, "catalog from cache");
                return Ok(c);
            }
        }
        let clients = self.clients(scope).await;
        let previous = self.cache.previous(&scope.account, &scope.region);
        let catalog = Arc::new(
            backup::load_catalog(
                &clients.backup,
                &clients.backup_pace,
                scope,
                previous.as_deref(),
                with_vaults,
            )
            .await?,
        );
        info!(
            account = %scope.account,
            region = %scope.region,
            plans = catalog.plans.len(),
            selections = catalog.plans.iter().map(|p| p.selections.len()).sum::<usize>(),
            vaults = catalog.vaults.as_ref().map_or(0, |v| v.len()),
            "catalog loaded"
        );
        self.cache.store(catalog.clone());
        Ok(catalog)
    }

    fn invalidate(&self, scope: &Scope) {
        self.cache.invalidate(&scope.account, &scope.region);
    }
}

impl TableInventory for AwsEnv {
    async fn tables(
        &self,
        scope: &Scope,
        with_tags: bool,
        deadline: Option<Instant>,
    ) -> Result<Inventory, Error> {
        let clients = self.clients(scope).await;
        let role = scope.role_arn.as_deref();
        if config::records_tables(&clients.config, role).await? {
            return Ok(Inventory {
                tables: config::inventory(&clients.config, scope).await?,
                source: InventorySource::ConfigInventory,
            });
        }
        let tag_pace = (&clients.tag_pace, self.settings.tag_reads_per_second);
        Ok(Inventory {
            tables: dynamodb::tables(&clients.dynamodb, role, with_tags, tag_pace, deadline)
                .await?,
            source: InventorySource::DynamoDb,
        })
    }
}

impl ComplianceHistory for AwsEnv {
    async fn reported_resources(
        &self,
        scope: &Scope,
        rule_name: &str,
    ) -> Result<Vec<(String, String)>, Error> {
        let clients = self.clients(scope).await;
        config::reported_resources(&clients.config, scope.role_arn.as_deref(), rule_name).await
    }
}

impl RecoveryPoints for AwsEnv {
    async fn recovery_points(
        &self,
        scope: &Scope,
        table_arn: &str,
    ) -> Result<Option<Vec<RecoveryPoint>>, Error> {
        let clients = self.clients(scope).await;
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
        let clients = self.clients(scope).await;
        dynamodb::table_tags(
            &clients.dynamodb,
            &clients.tag_pace,
            scope.role_arn.as_deref(),
            table_arn,
        )
        .await
    }
}

impl ConfigItems for AwsEnv {
    async fn config_item(
        &self,
        scope: &Scope,
        summary: &ItemSummary,
    ) -> Result<Option<ConfigItem>, Error> {
        let clients = self.clients(scope).await;
        config::config_item(&clients.config, scope.role_arn.as_deref(), summary).await
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
        let clients = self.clients(scope).await;
        config::put_evaluations(
            &clients.config,
            scope.role_arn.as_deref(),
            result_token,
            test_mode,
            evaluations,
        )
        .await
    }
}
