//! Where the Config half of the rule meets its ports: the ports it needs ([`RuleEnv`]), who is
//! calling ([`Caller`]), and putting evaluations in Config's batches. Shared by one invocation
//! ([`protocol`](super::protocol)) and a pass ([`pass`](super::pass)), so neither reaches into
//! the other.

use crate::error::Error;
use crate::model::Evaluation;
use crate::ports::{
    BackupCatalog, ComplianceHistory, ConfigItems, EvaluationSink, Pacing, PassLog, RecoveryPoints,
    Scope, TableInventory, TableTags,
};
use std::time::Instant;
use tracing::warn;

/// Config's limit on evaluations per `PutEvaluations` call.
pub const PUT_BATCH: usize = 100;

/// How often evaluations Config rejects (`FailedEvaluations`) are sent again before failing.
pub const PUT_ATTEMPTS: u32 = 3;

/// The ports the Config rule needs.
pub trait RuleEnv:
    BackupCatalog
    + TableTags
    + TableInventory
    + ComplianceHistory
    + ConfigItems
    + EvaluationSink
    + RecoveryPoints
    + PassLog
    + Pacing
    + Sync
{
}
impl<T> RuleEnv for T where
    T: BackupCatalog
        + TableTags
        + TableInventory
        + ComplianceHistory
        + ConfigItems
        + EvaluationSink
        + RecoveryPoints
        + PassLog
        + Pacing
        + Sync
{
}

/// Who runs the rule: the function's own account and Region (from its ARN), when the
/// invocation must be done, and how often an unchanged result is refreshed. The CLI leaves the
/// account unset, so it never assumes a role.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The function's own account.
    pub account: Option<String>,
    /// The function's Region: the Region a periodic pass evaluates.
    pub region: Option<String>,
    /// When the invocation must have finished.
    pub deadline: Option<Instant>,
    /// How old an unchanged result may grow before a pass puts it again.
    pub refresh_after: chrono::Duration,
}

impl Default for Caller {
    fn default() -> Caller {
        Caller {
            account: None,
            region: None,
            deadline: None,
            refresh_after: chrono::Duration::days(i64::from(
                super::reconcile::DEFAULT_REFRESH_DAYS,
            )),
        }
    }
}

/// Puts evaluations in batches of 100, sending rejected ones again a bounded number of times
/// with backoff. A failure names how many evaluations, and which, Config had already taken:
/// those are kept, and a retried invocation decides them again.
pub async fn put_all<S: EvaluationSink + Sync>(
    sink: &S,
    scope: &Scope,
    result_token: &str,
    test_mode: bool,
    evaluations: &[Evaluation],
) -> Result<(), Error> {
    let mut batches: Vec<&[Evaluation]> = evaluations.chunks(PUT_BATCH).collect();
    if batches.is_empty() {
        // Config expects a PutEvaluations even with nothing to report (rdklib does the same).
        batches.push(&[]);
    }
    let mut done: Vec<&str> = Vec::new();
    for batch in batches {
        put_batch(sink, scope, result_token, test_mode, batch)
            .await
            .map_err(|source| {
                if done.is_empty() {
                    source
                } else {
                    Error::PartlyPut {
                        put: done.iter().map(|s| s.to_string()).collect(),
                        total: evaluations.len(),
                        source: Box::new(source),
                    }
                }
            })?;
        done.extend(batch.iter().map(|e| e.resource_id.as_str()));
    }
    Ok(())
}

async fn put_batch<S: EvaluationSink + Sync>(
    sink: &S,
    scope: &Scope,
    result_token: &str,
    test_mode: bool,
    batch: &[Evaluation],
) -> Result<(), Error> {
    let mut pending = batch.to_vec();
    let mut attempt = 1;
    loop {
        let failed = sink
            .put_evaluations(scope, result_token, test_mode, &pending)
            .await?;
        if failed.is_empty() {
            return Ok(());
        }
        if attempt >= PUT_ATTEMPTS {
            return Err(Error::FailedEvaluations {
                failed: failed
                    .iter()
                    .map(|e| format!("{} ({})", e.resource_id, e.compliance))
                    .collect(),
                attempts: attempt,
            });
        }
        warn!(
            failed = failed.len(),
            attempt, "PutEvaluations rejected some evaluations; retrying"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
        pending = failed;
        attempt += 1;
    }
}
