//! Ports that never write to AWS: a snapshot file behind the read ports (`invoke --snapshot`
//! runs the real handler fully offline on it), and a recorder that keeps evaluations instead of
//! sending them (`invoke` without `--snapshot` reads live but puts nothing).

use crate::cache::PassLedger;
use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{
    Evaluation, RecordedResults, RecoveryPoint, RegionCatalog, Snapshot, Table, Tags,
};
use crate::ports::{
    BackupCatalog, ComplianceHistory, ConfigItems, EvaluationSink, Freshness, Inventory,
    InventorySource, PacedRead, Pacing, PassKey, PassLog, RecoveryPoints, Scope, TableInventory,
    TableTags,
};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A snapshot behind the rule's read ports.
#[derive(Debug)]
pub struct SnapshotEnv {
    snapshot: Snapshot,
    catalogs: Vec<Arc<RegionCatalog>>,
    passes: PassLedger,
}

impl SnapshotEnv {
    /// Serves this snapshot.
    pub fn new(snapshot: Snapshot) -> SnapshotEnv {
        let catalogs = snapshot
            .regions
            .iter()
            .map(|r| Arc::new(r.catalog.clone()))
            .collect();
        SnapshotEnv {
            snapshot,
            catalogs,
            passes: PassLedger::default(),
        }
    }

    fn check_account(&self, scope: &Scope) -> Result<(), Error> {
        if scope.account == self.snapshot.account_id {
            Ok(())
        } else {
            Err(Error::InvalidEvent {
                field: "accountId".into(),
                expected: format!(
                    "account {} (the snapshot's), got {}; a table is never evaluated against another account's plans",
                    self.snapshot.account_id, scope.account
                ),
                source: None,
            })
        }
    }
}

impl BackupCatalog for SnapshotEnv {
    async fn region_catalog(
        &self,
        scope: &Scope,
        _freshness: Freshness,
        _finish_by: Option<Instant>,
    ) -> Result<Arc<RegionCatalog>, Error> {
        self.check_account(scope)?;
        self.catalogs
            .iter()
            .find(|c| c.region == scope.region)
            .cloned()
            .ok_or_else(|| Error::SnapshotInvalid {
                path: "Regions".into(),
                expected: format!(
                    "Region {} for this event; the snapshot does not have it",
                    scope.region
                ),
            })
    }
}

impl PassLog for SnapshotEnv {
    fn last_pass_started(&self, scope: &Scope, rule: &PassKey) -> Option<DateTime<Utc>> {
        self.passes.last(scope, rule)
    }

    fn pass_done(&self, scope: &Scope, rule: &PassKey, started: DateTime<Utc>) {
        self.passes.record(scope, rule, started)
    }
}

impl Pacing for SnapshotEnv {
    /// A file is read at once.
    fn reads_per_second(&self, _read: PacedRead) -> f64 {
        f64::INFINITY
    }
}

impl TableInventory for SnapshotEnv {
    async fn tables(
        &self,
        scope: &Scope,
        _with_tags: bool,
        _deadline: Option<Instant>,
    ) -> Result<Inventory, Error> {
        self.check_account(scope)?;
        let tables = self
            .snapshot
            .regions
            .iter()
            .find(|r| r.catalog.region == scope.region)
            .map(|r| r.tables.clone())
            .unwrap_or_default();
        Ok(Inventory {
            tables,
            source: InventorySource::Snapshot,
            why: "the snapshot file".to_string(),
        })
    }

    async fn table(
        &self,
        scope: &Scope,
        name: &str,
        _with_tags: bool,
    ) -> Result<Option<Table>, Error> {
        self.check_account(scope)?;
        Ok(self
            .snapshot
            .regions
            .iter()
            .filter(|r| r.catalog.region == scope.region)
            .flat_map(|r| &r.tables)
            .find(|t| t.name == name)
            .cloned())
    }
}

impl ComplianceHistory for SnapshotEnv {
    /// A snapshot has no Config history: every verdict is new.
    async fn recorded_results(
        &self,
        _scope: &Scope,
        _rule_name: &str,
    ) -> Result<RecordedResults, Error> {
        Ok(RecordedResults::default())
    }

    async fn recorded_results_of(
        &self,
        _scope: &Scope,
        _rule_name: &str,
        _tables: &[&str],
    ) -> Result<RecordedResults, Error> {
        Ok(RecordedResults::default())
    }
}

impl SnapshotEnv {
    /// The snapshot's only Region, if it has exactly one.
    pub fn only_region(&self) -> Option<String> {
        match self.snapshot.regions.as_slice() {
            [one] => Some(one.catalog.region.clone()),
            _ => None,
        }
    }
}

impl RecoveryPoints for SnapshotEnv {
    async fn recovery_points(
        &self,
        scope: &Scope,
        table_arn: &str,
    ) -> Result<Option<Vec<RecoveryPoint>>, Error> {
        self.check_account(scope)?;
        Ok(self
            .snapshot
            .regions
            .iter()
            .flat_map(|r| r.tables.iter().map(move |t| (r, t)))
            .find(|(_, t)| t.arn.arn == table_arn)
            .and_then(|(r, t)| r.recovery_points.get(&t.name).cloned()))
    }
}

impl<E: RecoveryPoints + Sync> RecoveryPoints for Recording<E> {
    async fn recovery_points(
        &self,
        scope: &Scope,
        table_arn: &str,
    ) -> Result<Option<Vec<RecoveryPoint>>, Error> {
        self.inner.recovery_points(scope, table_arn).await
    }
}

impl TableTags for SnapshotEnv {
    async fn table_tags(&self, scope: &Scope, table_arn: &str) -> Result<Tags, Error> {
        self.check_account(scope)?;
        self.snapshot
            .regions
            .iter()
            .flat_map(|r| &r.tables)
            .find(|t| t.arn.arn == table_arn)
            .map(|t| t.tags.clone())
            .ok_or_else(|| Error::TableNotFound {
                table: table_arn.to_string(),
                close: Vec::new(),
            })
    }
}

impl ConfigItems for SnapshotEnv {
    async fn config_item(
        &self,
        _scope: &Scope,
        _summary: &ItemSummary,
    ) -> Result<Option<ConfigItem>, Error> {
        Err(Error::Usage {
            flag: "--snapshot".into(),
            expected: "to be left out for this event: its configuration item was too large for Config to send with it, so it has to be read from AWS Config, which a snapshot does not hold. Run invoke without --snapshot, with credentials for the event's account".into(),
            source: None,
        })
    }
}

/// Wraps read ports and records evaluations instead of putting them.
#[derive(Debug)]
pub struct Recording<E> {
    inner: E,
    put: Mutex<Vec<Evaluation>>,
}

impl<E> Recording<E> {
    /// Reads through `inner`; writes nowhere.
    pub fn new(inner: E) -> Recording<E> {
        Recording {
            inner,
            put: Mutex::new(Vec::new()),
        }
    }

    /// Every evaluation "put" so far.
    pub fn put(&self) -> Vec<Evaluation> {
        self.put.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The wrapped ports.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: BackupCatalog + Sync> BackupCatalog for Recording<E> {
    async fn region_catalog(
        &self,
        scope: &Scope,
        freshness: Freshness,
        finish_by: Option<Instant>,
    ) -> Result<Arc<RegionCatalog>, Error> {
        self.inner.region_catalog(scope, freshness, finish_by).await
    }
}

impl<E: PassLog> PassLog for Recording<E> {
    fn last_pass_started(&self, scope: &Scope, rule: &PassKey) -> Option<DateTime<Utc>> {
        self.inner.last_pass_started(scope, rule)
    }

    /// Nothing was put, so the pass answers no later event.
    fn pass_done(&self, _scope: &Scope, _rule: &PassKey, _started: DateTime<Utc>) {}
}

impl<E: Pacing> Pacing for Recording<E> {
    fn reads_per_second(&self, read: PacedRead) -> f64 {
        self.inner.reads_per_second(read)
    }
}

impl<E: TableInventory + Sync> TableInventory for Recording<E> {
    async fn tables(
        &self,
        scope: &Scope,
        with_tags: bool,
        deadline: Option<Instant>,
    ) -> Result<Inventory, Error> {
        self.inner.tables(scope, with_tags, deadline).await
    }

    async fn table(
        &self,
        scope: &Scope,
        name: &str,
        with_tags: bool,
    ) -> Result<Option<Table>, Error> {
        self.inner.table(scope, name, with_tags).await
    }
}

impl<E: ComplianceHistory + Sync> ComplianceHistory for Recording<E> {
    async fn recorded_results(
        &self,
        scope: &Scope,
        rule_name: &str,
    ) -> Result<RecordedResults, Error> {
        self.inner.recorded_results(scope, rule_name).await
    }

    async fn recorded_results_of(
        &self,
        scope: &Scope,
        rule_name: &str,
        tables: &[&str],
    ) -> Result<RecordedResults, Error> {
        self.inner
            .recorded_results_of(scope, rule_name, tables)
            .await
    }
}

impl<E: TableTags + Sync> TableTags for Recording<E> {
    async fn table_tags(&self, scope: &Scope, table_arn: &str) -> Result<Tags, Error> {
        self.inner.table_tags(scope, table_arn).await
    }
}

impl<E: ConfigItems + Sync> ConfigItems for Recording<E> {
    async fn config_item(
        &self,
        scope: &Scope,
        summary: &ItemSummary,
    ) -> Result<Option<ConfigItem>, Error> {
        self.inner.config_item(scope, summary).await
    }
}

impl<E: Sync> EvaluationSink for Recording<E> {
    async fn put_evaluations(
        &self,
        _scope: &Scope,
        _result_token: &str,
        _test_mode: bool,
        evaluations: &[Evaluation],
    ) -> Result<Vec<Evaluation>, Error> {
        if let Ok(mut put) = self.put.lock() {
            put.extend_from_slice(evaluations);
        }
        Ok(Vec::new())
    }
}
