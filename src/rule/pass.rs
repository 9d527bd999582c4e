//! A pass over every table of an account and Region: the periodic run, or the run after a
//! backup plan or selection changed.
//!
//! 1. Revalidate the catalog: no pass is decided from a cached one.
//! 2. Read the inventory (Config's when its recorder is live, else DynamoDB's) and, with the
//!    rule's name, what Config keeps for the rule.
//! 3. Tables Config reports but the inventory lacks are asked of DynamoDB: a live one is
//!    evaluated (the inventory lags), a gone one is retired if its result predates the pass.
//! 4. Decide every table; read recovery points, concurrently and paced, only for covered tables
//!    under `maxRecoveryPointAgeHours`.
//! 5. [`reconcile`](super::reconcile): put only what changed, or is due for a refresh.
//!
//! Every paced phase is budgeted against the deadline before it starts: a pass that cannot
//! finish fails with `Timeout` before reading or putting, rather than being killed halfway.

use super::protocol::{Caller, RuleEnv, PUT_BATCH};
use super::reconcile::{self, Reconciled};
use super::{decide, Decision};
use crate::coverage::CatalogIndex;
use crate::error::Error;
use crate::model::{Evaluation, Recorded, Table, DYNAMODB_TABLE_TYPE};
use crate::params::RuleParameters;
use crate::ports::{Freshness, PacedRead, Scope};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tracing::info;

/// What a pass leaves before the deadline for what it cannot estimate: a slow answer, the
/// invocation's own response.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// Recovery-point reads in flight at once; the pacer still holds the rate.
const RECOVERY_POINT_READS_IN_FLIGHT: usize = 8;

/// What a pass decided and what it will put.
#[derive(Debug)]
pub struct PassOutcome {
    /// When the pass started (wall clock): events captured before it are reflected in it.
    pub started: DateTime<Utc>,
    /// Tables decided, plus tables retired.
    pub decided: usize,
    /// The evaluations to put: new, changed, refreshed and retired.
    pub put: Vec<Evaluation>,
    /// Decided evaluations Config already keeps unchanged.
    pub unchanged: usize,
}

/// Runs a pass. With `rule` (the rule's name), it reads the rule's recorded results and puts
/// only the difference; without it (an event that does not name its rule), it puts every
/// verdict and retires nothing.
pub async fn run<E: RuleEnv>(
    params: &RuleParameters,
    env: &E,
    scope: &Scope,
    at: DateTime<Utc>,
    caller: &Caller,
    rule: Option<&str>,
) -> Result<PassOutcome, Error> {
    let started = Utc::now();
    let deadline = caller.deadline;
    let catalog = env.region_catalog(scope, Freshness::Revalidate).await?;
    let with_tags = catalog.reads_tags() || params.filters_on_tags();
    let inventory = env.tables(scope, with_tags, deadline).await?;
    info!(
        account = %scope.account,
        region = %scope.region,
        source = inventory.source.as_str(),
        why = %inventory.why,
        tables = inventory.tables.len(),
        tags_read = with_tags,
        "inventory"
    );
    let recorded: Vec<Recorded> = match rule {
        Some(rule) => env.recorded_results(scope, rule).await?,
        None => Vec::new(),
    };

    // Tables Config reports that the inventory lacks: only DynamoDB can say they are gone.
    let listed: HashSet<&str> = inventory.tables.iter().map(|t| t.name.as_str()).collect();
    let missing = reconcile::missing_from_inventory(&recorded, &listed);
    budget(
        env,
        deadline,
        &[(PacedRead::DescribeTable, missing.len())],
        "confirming tables missing from the inventory",
    )?;
    let mut lagging: Vec<Table> = Vec::new();
    let mut retired: Vec<Evaluation> = Vec::new();
    for r in missing {
        match env.table(scope, &r.resource_id, with_tags).await? {
            Some(table) => {
                info!(table = %table.name, source = inventory.source.as_str(),
                    "table missing from the inventory is live; evaluating it from DynamoDB");
                lagging.push(table);
            }
            None => match reconcile::retirement(r, started, at) {
                Some(e) => {
                    info!(table = %e.resource_id, verdict = "NOT_APPLICABLE", reason = %e.annotation, "decision");
                    retired.push(e);
                }
                None => info!(table = %r.resource_id,
                    "table is gone, but its result was recorded during this pass; left as it is"),
            },
        }
    }

    // Decide every table; only covered tables under maxRecoveryPointAgeHours wait on reads.
    let index = CatalogIndex::new(&catalog);
    let tables: Vec<&Table> = inventory.tables.iter().chain(&lagging).collect();
    let decisions: Vec<Decision> = tables.iter().map(|t| decide(params, t, &index)).collect();
    let reads = decisions
        .iter()
        .filter(|d| d.needs_recovery_points())
        .count();
    let put_bound = tables.len() + retired.len();
    budget(
        env,
        deadline,
        &[
            (PacedRead::RecoveryPoints, reads),
            (PacedRead::PutEvaluations, put_bound.div_ceil(PUT_BATCH)),
        ],
        "reading recovery points and putting evaluations",
    )?;
    let points: Vec<Option<Vec<crate::model::RecoveryPoint>>> =
        stream::iter(tables.iter().zip(&decisions))
            .map(|(t, d)| async move {
                if d.needs_recovery_points() {
                    env.recovery_points(scope, &t.arn.arn).await
                } else {
                    Ok(None)
                }
            })
            .buffered(RECOVERY_POINT_READS_IN_FLIGHT)
            .try_collect()
            .await?;
    let now = Utc::now();
    let decided: Vec<Evaluation> = tables
        .iter()
        .zip(decisions)
        .zip(points)
        .map(|((t, d), p)| {
            let verdict = d.finish(params, &catalog, p.as_deref(), now);
            info!(table = %t.name, region = %scope.region, account = %scope.account,
                verdict = verdict.compliance.as_str(), reason = %verdict.reason, "decision");
            verdict.evaluation(DYNAMODB_TABLE_TYPE, &t.name, at)
        })
        .collect();

    let n_decided = decided.len() + retired.len();
    let Reconciled {
        mut put,
        new,
        changed,
        refreshed,
        unchanged,
    } = if rule.is_some() {
        reconcile::reconcile(
            decided,
            &reconcile::index(&recorded),
            now,
            caller.refresh_after,
        )
    } else {
        Reconciled {
            new: decided.len(),
            put: decided,
            ..Reconciled::default()
        }
    };
    let n_retired = retired.len();
    put.extend(retired);
    budget(
        env,
        deadline,
        &[(PacedRead::PutEvaluations, put.len().div_ceil(PUT_BATCH))],
        "putting evaluations",
    )?;
    info!(
        account = %scope.account,
        region = %scope.region,
        decided = n_decided,
        put = put.len(),
        unchanged,
        new,
        changed,
        refreshed,
        retired = n_retired,
        lagging = lagging.len(),
        recorded = recorded.len(),
        "pass"
    );
    Ok(PassOutcome {
        started,
        decided: n_decided,
        put,
        unchanged,
    })
}

/// Fails with `Timeout` when the paced calls cannot finish before the deadline with a margin.
fn budget<E: RuleEnv>(
    env: &E,
    deadline: Option<Instant>,
    calls: &[(PacedRead, usize)],
    what: &str,
) -> Result<(), Error> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    let needed: f64 = calls
        .iter()
        .map(|(read, n)| *n as f64 / env.reads_per_second(*read).max(f64::MIN_POSITIVE))
        .sum();
    let needed = Duration::from_secs_f64(needed.min(1e9));
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(DEADLINE_MARGIN);
    if needed > remaining {
        let detail: Vec<String> = calls
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(read, n)| format!("{n} {} at {}/s", read.action(), env.reads_per_second(*read)))
            .collect();
        return Err(Error::WouldNotFinish {
            what: format!("{what} ({})", detail.join(", ")),
            needed_secs: needed.as_secs(),
            remaining_secs: remaining.as_secs(),
            advice: "Raise the function timeout (up to 900 s), or the pacing rates if your account's quotas allow.".to_string(),
        });
    }
    Ok(())
}
