//! The only code that talks to AWS: the SDK clients behind the rule's ports.
//!
//! Clients are built once per (account, Region, role) and kept for the life of the process, so a
//! warm Lambda reuses connections and assumed-role credentials. Catalogs are cached per account
//! and Region for `CATALOG_CACHE_TTL_SECONDS`.

mod backup;
mod config;
mod dynamodb;
mod error;

use crate::cache::CatalogCache;
use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{Evaluation, RegionCatalog, RegionSnapshot, Snapshot, Tags};
use crate::ports::{BackupCatalog, ConfigItems, EvaluationSink, Scope, TableTags};
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_backup::config::SharedCredentialsProvider;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::{debug, info};

/// The environment variable that sets the catalog cache TTL, in seconds.
pub const CACHE_TTL_VAR: &str = "CATALOG_CACHE_TTL_SECONDS";
/// The default catalog cache TTL.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

/// The session name on assumed roles, visible in CloudTrail.
const SESSION_NAME: &str = "dynamodb-backup-rule";

/// SDK clients for one account, Region and role.
#[derive(Debug)]
struct Clients {
    backup: aws_sdk_backup::Client,
    config: aws_sdk_config::Client,
    dynamodb: aws_sdk_dynamodb::Client,
}

/// The ports served by AWS.
#[derive(Debug)]
pub struct AwsEnv {
    base: SdkConfig,
    clients: Mutex<HashMap<Scope, Arc<Clients>>>,
    cache: CatalogCache,
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
    pub async fn from_env(cache_ttl: Duration) -> AwsEnv {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        AwsEnv::new(base, cache_ttl)
    }

    /// Serves the ports from an already loaded configuration.
    pub fn new(base: SdkConfig, cache_ttl: Duration) -> AwsEnv {
        AwsEnv {
            base,
            clients: Mutex::new(HashMap::new()),
            cache: CatalogCache::new(cache_ttl),
        }
    }

    /// The Region the configuration resolved, if any.
    pub fn default_region(&self) -> Option<String> {
        self.base.region().map(|r| r.to_string())
    }

    /// Drops the cached catalog of an account and Region.
    pub fn invalidate(&self, account: &str, region: &str) {
        self.cache.invalidate(account, region);
    }

    async fn clients(&self, scope: &Scope) -> Arc<Clients> {
        if let Some(c) = self.clients.lock().ok().and_then(|m| m.get(scope).cloned()) {
            return c;
        }
        let region = Region::new(scope.region.clone());
        let mut builder = self.base.to_builder();
        builder.set_region(Some(region.clone()));
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
            let catalog = backup::load_catalog(&clients.backup, &scope, None).await?;
            let tables = dynamodb::tables(&clients.dynamodb).await?;
            info!(region = %region, plans = catalog.plans.len(), tables = tables.len(), "captured");
            out.push(RegionSnapshot { catalog, tables });
        }
        Ok(Snapshot {
            account_id: account,
            regions: out,
        })
    }
}

impl BackupCatalog for AwsEnv {
    async fn region_catalog(&self, scope: &Scope) -> Result<Arc<RegionCatalog>, Error> {
        if let Some(c) = self.cache.fresh(&scope.account, &scope.region) {
            debug!(account = %scope.account, region = %scope.region, "catalog from cache");
            return Ok(c);
        }
        let clients = self.clients(scope).await;
        let previous = self.cache.previous(&scope.account, &scope.region);
        let catalog =
            Arc::new(backup::load_catalog(&clients.backup, scope, previous.as_deref()).await?);
        info!(
            account = %scope.account,
            region = %scope.region,
            plans = catalog.plans.len(),
            selections = catalog.plans.iter().map(|p| p.selections.len()).sum::<usize>(),
            "catalog loaded"
        );
        self.cache.store(catalog.clone());
        Ok(catalog)
    }
}

impl TableTags for AwsEnv {
    async fn table_tags(&self, scope: &Scope, table_arn: &str) -> Result<Tags, Error> {
        let clients = self.clients(scope).await;
        dynamodb::table_tags(&clients.dynamodb, scope.role_arn.as_deref(), table_arn).await
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
