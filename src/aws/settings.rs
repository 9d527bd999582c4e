//! What the adapters read from the environment once, at start: the catalog cache's TTL, the
//! pace of AWS Backup and tagging reads, and the rates a pass's budget assumes.

use crate::error::Error;
use std::time::Duration;
use tracing::warn;

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

/// A whole number above 0 from the environment, `None` when unset; `unit` names it in the
/// error ("milliseconds", "requests per second").
fn positive_from_env(var: &str, unit: &str) -> Result<Option<u32>, Error> {
    match std::env::var(var) {
        Err(_) => Ok(None),
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| Error::InvalidParameters {
                name: format!("environment variable {var}"),
                expected: format!("a whole number of {unit} above 0, got `{v}`"),
                source: None,
            }),
    }
}

fn millis_from_env(var: &str, default: Duration) -> Result<Duration, Error> {
    Ok(positive_from_env(var, "milliseconds")?
        .map_or(default, |ms| Duration::from_millis(u64::from(ms))))
}

fn rate_from_env(var: &str, default: u32) -> Result<u32, Error> {
    Ok(positive_from_env(var, "requests per second")?.unwrap_or(default))
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
