//! The only code that talks to AWS: the SDK clients behind the rule's ports.
//!
//! Clients are built once per (account, Region, role) and kept for the life of the process, so a
//! warm Lambda reuses connections and assumed-role credentials. Catalogs are cached per account
//! and Region for `CATALOG_CACHE_TTL_SECONDS` (at most [`MAX_CACHE_TTL`]).

pub mod actions;
mod backup;
mod capture;
mod clients;
mod config;
mod dynamodb;
mod error;
pub mod pace;
mod settings;
mod tagging;

pub use capture::PointsFor;
use clients::Clients;
pub use settings::*;

use crate::cache::{CatalogCache, PassLedger};
use crate::error::{AwsErrorKind, Error};
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{
    Evaluation, RecordedResults, RecoveryPoint, RegionCatalog, Table, Tags, DYNAMODB_TABLE_TYPE,
};
use crate::ports::{
    BackupCatalog, ComplianceHistory, ConfigItems, EvaluationSink, Freshness, Inventory,
    InventorySource, PacedRead, Pacing, PassKey, PassLog, RecoveryPoints, Scope, TableInventory,
    TableTags,
};
use aws_config::{BehaviorVersion, SdkConfig};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tracing::{debug, info, warn};

/// The ports served by AWS.
#[derive(Debug)]
pub struct AwsEnv {
    base: SdkConfig,
    clients: tokio::sync::Mutex<HashMap<Scope, Arc<Clients>>>,
    cache: CatalogCache,
    passes: PassLedger,
    settings: Settings,
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
}

impl BackupCatalog for AwsEnv {
    async fn region_catalog(
        &self,
        scope: &Scope,
        freshness: Freshness,
        finish_by: Option<Instant>,
    ) -> Result<Arc<RegionCatalog>, Error> {
        if matches!(freshness, Freshness::Cached | Freshness::Resume) {
            if let Some(c) = self.cache.fresh(&scope.account, &scope.region) {
                debug!(account = %scope.account, region = %scope.region, "catalog from cache");
                return Ok(c);
            }
        }
        let clients = self.clients(scope).await?;
        let previous = self.cache.previous(&scope.account, &scope.region);
        let loaded = backup::load_catalog(
            &clients.backup,
            &clients.backup_pace,
            scope,
            previous.as_deref(),
            finish_by,
            freshness == Freshness::Resume,
        )
        .await?;
        let catalog = match loaded {
            backup::Loaded::Complete(c) => Arc::new(c),
            backup::Loaded::Partial(part, left) => {
                info!(
                    account = %scope.account,
                    region = %scope.region,
                    plans = part.plans.len(),
                    selections = part.plans.iter().map(|p| p.selections.len()).sum::<usize>(),
                    "catalog read in part; kept for the next read"
                );
                self.cache.store_partial(Arc::new(part));
                return Err(left);
            }
        };
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
