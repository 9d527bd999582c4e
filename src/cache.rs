//! The per-container catalog cache. A burst of change events in one warm Lambda reads the
//! Backup configuration once per account and Region, not once per event.
//!
//! Within the TTL nothing is revalidated. After it, the expired catalog is still handed to the
//! loader so that immutable parts (a selection never changes once created; a plan's rules only
//! change with its `VersionId`) need not be read again.

use crate::model::RegionCatalog;
use crate::ports::{PassKey, Scope};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A cached catalog and when it was loaded.
/// When stored, the catalog, and whether it is complete (a partial one only helps the next
/// read along: [`CatalogCache::previous`] gives it, [`CatalogCache::fresh`] never).
type Entry = (Instant, Arc<RegionCatalog>, bool);

/// Catalogs by (account, Region), with their load time.
#[derive(Debug)]
pub struct CatalogCache {
    ttl: Duration,
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl CatalogCache {
    /// A cache whose entries are fresh for `ttl`; a zero TTL disables it.
    pub fn new(ttl: Duration) -> CatalogCache {
        CatalogCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, account: &str, region: &str) -> Option<Entry> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&(account.to_string(), region.to_string()))
            .cloned()
    }

    /// The catalog if it was loaded less than the TTL ago.
    pub fn fresh(&self, account: &str, region: &str) -> Option<Arc<RegionCatalog>> {
        self.get(account, region)
            .filter(|(at, _, complete)| *complete && at.elapsed() < self.ttl)
            .map(|(_, c, _)| c)
    }

    /// The last catalog loaded, however old: for reusing what cannot have changed.
    pub fn previous(&self, account: &str, region: &str) -> Option<Arc<RegionCatalog>> {
        self.get(account, region).map(|(_, c, _)| c)
    }

    /// Stores a freshly loaded catalog.
    pub fn store(&self, catalog: Arc<RegionCatalog>) {
        self.put(catalog, true);
    }

    /// Keeps what an unfinished read got, for the next read to reuse; never served as fresh.
    pub fn store_partial(&self, catalog: Arc<RegionCatalog>) {
        self.put(catalog, false);
    }

    fn put(&self, catalog: Arc<RegionCatalog>, complete: bool) {
        // With the cache off nothing is served again; a partial read is still kept, since it is
        // only ever reused for what cannot change (selections by ID, rules by version).
        if complete && self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                (catalog.account.clone(), catalog.region.clone()),
                (Instant::now(), catalog, complete),
            );
        }
    }

    /// Forgets an account and Region, e.g. after a backup plan changed.
    pub fn invalidate(&self, account: &str, region: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(account.to_string(), region.to_string()));
        }
    }
}

/// When the last successful pass of each rule over each account and Region started, in this
/// container.
#[derive(Debug, Default)]
pub struct PassLedger {
    started: Mutex<HashMap<(String, String, PassKey), chrono::DateTime<chrono::Utc>>>,
}

impl PassLedger {
    fn key(scope: &Scope, rule: &PassKey) -> (String, String, PassKey) {
        (scope.account.clone(), scope.region.clone(), rule.clone())
    }

    /// The start of the last successful pass of `rule` over the scope.
    pub fn last(&self, scope: &Scope, rule: &PassKey) -> Option<chrono::DateTime<chrono::Utc>> {
        let passes = self.started.lock().ok()?;
        passes.get(&Self::key(scope, rule)).copied()
    }

    /// Records a successful pass; an older start never replaces a newer one.
    pub fn record(&self, scope: &Scope, rule: &PassKey, started: chrono::DateTime<chrono::Utc>) {
        if let Ok(mut passes) = self.started.lock() {
            let e = passes.entry(Self::key(scope, rule)).or_insert(started);
            *e = (*e).max(started);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OptIn, RegionSettings};

    fn catalog(region: &str) -> Arc<RegionCatalog> {
        Arc::new(RegionCatalog {
            account: "111122223333".into(),
            region: region.into(),
            settings: RegionSettings {
                dynamodb_opt_in: OptIn::Enabled,
                dynamodb_management: None,
            },
            plans: Vec::new(),
            vaults: None,
            copy_vaults: Default::default(),
        })
    }

    #[test]
    fn entries_are_fresh_within_the_ttl_and_kept_for_reuse_after() {
        let cache = CatalogCache::new(Duration::from_millis(30));
        cache.store(catalog("us-east-1"));
        assert!(cache.fresh("111122223333", "us-east-1").is_some());
        assert!(cache.fresh("111122223333", "eu-west-1").is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.fresh("111122223333", "us-east-1").is_none());
        assert!(cache.previous("111122223333", "us-east-1").is_some());
        cache.invalidate("111122223333", "us-east-1");
        assert!(cache.previous("111122223333", "us-east-1").is_none());
    }

    #[test]
    fn a_zero_ttl_disables_the_cache() {
        let cache = CatalogCache::new(Duration::ZERO);
        cache.store(catalog("us-east-1"));
        assert!(cache.previous("111122223333", "us-east-1").is_none());
    }
}
