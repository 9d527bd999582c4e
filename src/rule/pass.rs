//! A pass over every table of an account and Region: the periodic run, or the run after a
//! backup plan or selection changed.
//!
//! 1. Note the time, then read the inputs: the catalog (revalidated: no pass is decided from a
//!    cached one), the inventory (Config's when its recorder is live, else DynamoDB's) and,
//!    with the rule's name, what Config keeps for the rule. Every evaluation the pass puts is
//!    stamped with that time, the oldest of its inputs' times: a result put from newer inputs
//!    (a table's own change event, a pass that started later) is newer, and is never replaced.
//! 2. Tables Config reports but the inventory lacks are asked of DynamoDB: a live one is
//!    evaluated (the inventory lags), a gone one is retired if its result predates the pass.
//! 3. Decide every table; read recovery points, concurrently and paced, only for covered tables
//!    under `maxRecoveryPointAgeHours`.
//! 4. [`reconcile`](super::reconcile): keep only what changed, or is due for a refresh.
//! 5. When something is to be put (see `docs/concurrency.md`): revalidate the catalog, and
//!    decide again if it changed; re-read the recorded results of those tables, and drop what a
//!    newer result superseded or already says; put; revalidate once more, and if the catalog
//!    changed meanwhile, decide again and put the difference. At most [`MAX_REDECISIONS`]
//!    times: a catalog still changing after that fails the invocation, and Lambda retries it.
//!
//! Every paced phase is budgeted against the deadline before it starts: a pass that cannot
//! finish fails with `Timeout` before reading or putting, rather than being killed halfway.

use super::put::{put_all, Caller, RuleEnv, PUT_BATCH};
use super::reconcile::{self, Reconciled};
use super::{decide, Decision};
use crate::coverage::CatalogIndex;
use crate::error::Error;
use crate::model::{
    Evaluation, Recorded, RecoveryPoint, RegionCatalog, Table, DYNAMODB_TABLE_TYPE,
};
use crate::params::RuleParameters;
use crate::ports::{Freshness, PacedRead, Scope};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

/// What a pass leaves before the deadline for what it cannot estimate: a slow answer, the
/// invocation's own response.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// How many times a pass decides again because the catalog changed while it ran.
pub const MAX_REDECISIONS: u32 = 2;

/// `DescribeTable` calls in flight at once for tables the inventory lacks.
const DESCRIBES_IN_FLIGHT: usize = 8;

/// Recovery-point reads in flight at once; the pacer still holds the rate.
const RECOVERY_POINT_READS_IN_FLIGHT: usize = 8;

/// What a pass decided and what it put.
#[derive(Debug)]
pub struct PassOutcome {
    /// When the pass began reading its inputs: events captured before it are reflected in it,
    /// and every evaluation it put carries this time.
    pub started: DateTime<Utc>,
    /// Tables decided, plus tables retired.
    pub decided: usize,
    /// The evaluations put: new, changed, refreshed and retired.
    pub put: Vec<Evaluation>,
    /// Decided evaluations Config already keeps unchanged.
    pub unchanged: usize,
}

/// Where a pass puts its evaluations.
#[derive(Debug, Clone, Copy)]
pub struct Sink<'a> {
    /// The invocation's result token.
    pub result_token: &'a str,
    /// Whether Config only checks the evaluations (`TestMode`).
    pub test_mode: bool,
}

/// The inputs a pass decides from, and what it learnt along the way.
struct Inputs<'a, E> {
    params: &'a RuleParameters,
    env: &'a E,
    scope: &'a Scope,
    deadline: Option<Instant>,
    read_at: DateTime<Utc>,
    /// Recovery points read so far, by table ARN: a pass that decides again reads none twice.
    points: HashMap<String, Option<Vec<RecoveryPoint>>>,
}

impl<E: RuleEnv> Inputs<'_, E> {
    /// Every table's evaluation under `catalog`, stamped with the pass's read time.
    async fn decide_all(
        &mut self,
        catalog: &RegionCatalog,
        tables: &[&Table],
        puts_after: usize,
    ) -> Result<Vec<Evaluation>, Error> {
        let index = CatalogIndex::new(catalog);
        let decisions: Vec<Decision> = tables
            .iter()
            .map(|t| decide(self.params, t, &index))
            .collect();
        let wanted: Vec<&str> = tables
            .iter()
            .zip(&decisions)
            .filter(|(t, d)| d.needs_recovery_points() && !self.points.contains_key(&t.arn.arn))
            .map(|(t, _)| t.arn.arn.as_str())
            .collect();
        budget(
            self.env,
            self.deadline,
            &[
                (PacedRead::RecoveryPoints, wanted.len()),
                (PacedRead::PutEvaluations, puts_after.div_ceil(PUT_BATCH)),
            ],
            "reading recovery points and putting evaluations",
        )?;
        let (env, scope) = (self.env, self.scope);
        let read: Vec<(String, Option<Vec<RecoveryPoint>>)> = stream::iter(wanted)
            .map(|arn| async move {
                Ok::<_, Error>((arn.to_string(), env.recovery_points(scope, arn).await?))
            })
            .buffered(RECOVERY_POINT_READS_IN_FLIGHT)
            .try_collect()
            .await?;
        self.points.extend(read);
        let now = Utc::now();
        Ok(tables
            .iter()
            .zip(decisions)
            .map(|(t, d)| {
                let p = self.points.get(&t.arn.arn).and_then(|p| p.as_deref());
                let verdict = d.finish(self.params, catalog, p, now);
                info!(table = %t.name, region = %self.scope.region, account = %self.scope.account,
                    verdict = verdict.compliance.as_str(), reason = %verdict.reason, "decision");
                verdict.evaluation(DYNAMODB_TABLE_TYPE, &t.name, self.read_at)
            })
            .collect())
    }
}

/// Runs a pass and puts what it decided. With `rule` (the rule's name), it reads the rule's
/// recorded results and puts only the difference; without it (an event that does not name its
/// rule), it puts every verdict and retires nothing. `own` is the result of the backup resource
/// whose change started the pass, put with the first evaluations.
pub async fn run<E: RuleEnv>(
    params: &RuleParameters,
    env: &E,
    scope: &Scope,
    caller: &Caller,
    rule: Option<&str>,
    sink: Sink<'_>,
    mut own: Option<Evaluation>,
) -> Result<PassOutcome, Error> {
    // Before any input is read: the stamp of every evaluation this pass puts.
    let read_at = Utc::now();
    let deadline = caller.deadline;
    let catalog = env
        .region_catalog(scope, Freshness::Revalidate, finish_by(deadline))
        .await?;
    let with_tags = catalog.reads_tags() || params.filters_on_tags();
    let mut inventory = env.tables(scope, with_tags, finish_by(deadline)).await?;
    info!(
        account = %scope.account,
        region = %scope.region,
        source = inventory.source.as_str(),
        why = %inventory.why,
        tables = inventory.tables.len(),
        tags_read = with_tags,
        "inventory"
    );
    let (mut known, unreadable): (Vec<Recorded>, usize) = match rule {
        Some(rule) => {
            let r = env.recorded_results(scope, rule).await?;
            (r.results, r.unreadable)
        }
        None => (Vec::new(), 0),
    };

    // Tables Config reports that the inventory lacks: only DynamoDB can say they are gone.
    let listed: HashSet<&str> = inventory.tables.iter().map(|t| t.name.as_str()).collect();
    let missing: Vec<Recorded> = reconcile::missing_from_inventory(&known, &listed)
        .into_iter()
        .cloned()
        .collect();
    budget(
        env,
        deadline,
        &[(PacedRead::DescribeTable, missing.len())],
        "confirming tables missing from the inventory",
    )?;
    let mut lagging: Vec<Table> = Vec::new();
    let mut retired: Vec<Evaluation> = Vec::new();
    let names: Vec<&str> = missing.iter().map(|r| r.resource_id.as_str()).collect();
    let described = describe_all(env, scope, &names, with_tags).await?;
    for (r, found) in missing.iter().zip(described) {
        match found {
            Some(table) => {
                info!(table = %table.name, source = inventory.source.as_str(),
                    "table missing from the inventory is live; evaluating it from DynamoDB");
                lagging.push(table);
            }
            None => match reconcile::retirement(r, read_at, read_at) {
                Some(e) => {
                    info!(table = %e.resource_id, verdict = "NOT_APPLICABLE", reason = %e.annotation, "decision");
                    retired.push(e);
                }
                None => info!(table = %r.resource_id,
                    "table is gone, but its result was recorded during this pass; left as it is"),
            },
        }
    }

    // Tables the inventory lists whose recorded result says they were deleted: a lagging
    // inventory must not bring them back, so DynamoDB is asked.
    let doubtful: Vec<&str> = known
        .iter()
        .filter(|r| reconcile::says_gone(r) && listed.contains(r.resource_id.as_str()))
        .map(|r| r.resource_id.as_str())
        .collect();
    budget(
        env,
        deadline,
        &[(PacedRead::DescribeTable, doubtful.len())],
        "confirming deleted tables the inventory still lists",
    )?;
    let confirmed = describe_all(env, scope, &doubtful, false).await?;
    let gone: HashSet<String> = doubtful
        .iter()
        .zip(confirmed)
        .filter(|(_, found)| found.is_none())
        .map(|(name, _)| name.to_string())
        .collect();
    for name in &gone {
        info!(table = %name, source = inventory.source.as_str(),
            "the inventory lists a table DynamoDB says is gone; left as recorded");
    }
    inventory.tables.retain(|t| !gone.contains(&t.name));
    let mut world = World {
        catalog,
        inventory,
        lagging,
        tags_read: with_tags,
        gone,
    };

    let mut inputs = Inputs {
        params,
        env,
        scope,
        deadline,
        read_at,
        points: HashMap::new(),
    };
    let mut decided = {
        let tables = world.tables();
        let puts_after = tables.len() + retired.len();
        inputs
            .decide_all(&world.catalog, &tables, puts_after)
            .await?
    };
    let n_decided = decided.len() + retired.len();
    let n_retired = retired.len();

    let mut all_put: Vec<Evaluation> = Vec::new();
    let mut first: Option<Reconciled> = None;
    let mut superseded = 0usize;
    let mut rounds = 0u32;
    // Whether the catalog was revalidated, unchanged, since the verdicts were decided.
    let mut validated = false;
    loop {
        let now = Utc::now();
        let mut round = match rule {
            Some(_) => reconcile::reconcile(
                decided.clone(),
                &reconcile::index(&known),
                now,
                caller.refresh_after,
            ),
            None if all_put.is_empty() => Reconciled {
                new: decided.len(),
                put: decided.clone(),
                ..Reconciled::default()
            },
            None => Reconciled::default(),
        };
        // Retirements go with the first put; they do not depend on the catalog.
        let mut put = std::mem::take(&mut round.put);
        put.extend(retired.iter().cloned());
        first.get_or_insert(round);
        if put.is_empty() {
            break;
        }
        // Before putting: is the catalog still the one these verdicts were decided from?
        if !validated {
            if let Some(fresh) = world.changed(env, scope, deadline).await? {
                rounds = redecision(scope, rounds)?;
                decided = world.decide_under(fresh, &mut inputs).await?;
                validated = true;
                continue;
            }
        }
        // What Config keeps for exactly these tables now: a newer result is not replaced, and
        // one already saying the same is not put again.
        if let Some(rule) = rule {
            let ids: Vec<&str> = put
                .iter()
                .filter(|e| e.resource_type == DYNAMODB_TABLE_TYPE)
                .map(|e| e.resource_id.as_str())
                .collect();
            let current = env.recorded_results_of(scope, rule, &ids).await?;
            let by_id: HashMap<&str, &Recorded> = current
                .results
                .iter()
                .map(|r| (r.resource_id.as_str(), r))
                .collect();
            let before = put.len();
            put.retain(|e| match by_id.get(e.resource_id.as_str()) {
                Some(r) if r.ordered_at.is_some_and(|t| t > read_at) => {
                    info!(table = %e.resource_id, recorded = r.compliance.as_str(),
                        "a newer result is recorded; not replaced");
                    false
                }
                // Another invocation put the same since this pass read (a duplicate delivery).
                Some(r)
                    if r.compliance == e.compliance
                        && r.annotation == e.annotation
                        && !reconcile::refresh_due(
                            &e.resource_id,
                            r.recorded_at,
                            now,
                            caller.refresh_after,
                        ) =>
                {
                    false
                }
                _ => true,
            });
            superseded += before - put.len();
            overlay(&mut known, current.results);
        }
        // The backup resource's own result goes with the first put, never alone in a call.
        put.extend(own.take());
        budget(
            env,
            deadline,
            &[(PacedRead::PutEvaluations, put.len().div_ceil(PUT_BATCH))],
            "putting evaluations",
        )?;
        if !put.is_empty() {
            put_all(env, scope, sink.result_token, sink.test_mode, &put).await?;
        }
        retired.clear();
        overlay(
            &mut known,
            put.iter().map(|e| recorded_as(e, now)).collect(),
        );
        all_put.extend(put);
        // After putting: a catalog change since the read could have been missed by a pass that
        // read the results before these landed, so this pass must decide it.
        let Some(fresh) = world.changed(env, scope, deadline).await? else {
            break;
        };
        rounds = redecision(scope, rounds)?;
        decided = world.decide_under(fresh, &mut inputs).await?;
        validated = true;
    }
    let Reconciled {
        new,
        changed,
        refreshed,
        unchanged,
        ..
    } = first.unwrap_or_default();
    // Nothing else was put: the backup resource's own result, or the empty put Config expects
    // of every invocation.
    if all_put.is_empty() {
        let own: Vec<Evaluation> = own.into_iter().collect();
        put_all(env, scope, sink.result_token, sink.test_mode, &own).await?;
        all_put.extend(own);
    }
    info!(
        account = %scope.account,
        region = %scope.region,
        decided = n_decided,
        put = all_put.len(),
        unchanged,
        new,
        changed,
        refreshed,
        retired = n_retired,
        superseded,
        redecided = rounds,
        lagging = world.lagging.len(),
        recorded = known.len(),
        unreadable_results = unreadable,
        "pass"
    );
    Ok(PassOutcome {
        started: read_at,
        decided: n_decided,
        put: all_put,
        unchanged,
    })
}

/// When reads must be done: the deadline less the margin for what cannot be estimated.
fn finish_by(deadline: Option<Instant>) -> Option<Instant> {
    deadline.map(|d| d.checked_sub(DEADLINE_MARGIN).unwrap_or(d))
}

/// One more decision, or the error that ends a pass whose catalog keeps changing.
fn redecision(scope: &Scope, rounds: u32) -> Result<u32, Error> {
    if rounds >= MAX_REDECISIONS {
        return Err(Error::CatalogKeptChanging {
            account: scope.account.clone(),
            region: scope.region.clone(),
            rounds,
        });
    }
    info!(account = %scope.account, region = %scope.region, round = rounds + 1,
        "the catalog changed during the pass; deciding again");
    Ok(rounds + 1)
}

/// What a pass decides from: the catalog, the tables, and what it learnt of them.
struct World {
    catalog: Arc<RegionCatalog>,
    inventory: crate::ports::Inventory,
    /// Tables the inventory lacks that DynamoDB says are live.
    lagging: Vec<Table>,
    tags_read: bool,
    /// Tables the inventory lists that DynamoDB says are gone.
    gone: HashSet<String>,
}

impl World {
    fn tables(&self) -> Vec<&Table> {
        self.inventory.tables.iter().chain(&self.lagging).collect()
    }

    /// The catalog read again, when it is not the one the verdicts were decided from.
    async fn changed<E: RuleEnv>(
        &self,
        env: &E,
        scope: &Scope,
        deadline: Option<Instant>,
    ) -> Result<Option<Arc<RegionCatalog>>, Error> {
        let fresh = env
            .region_catalog(scope, Freshness::Revalidate, finish_by(deadline))
            .await?;
        Ok((*fresh != *self.catalog).then_some(fresh))
    }

    /// Every table decided again under a changed catalog; the tables are read again with their
    /// tags if the new catalog selects by tags and the pass had not read them.
    async fn decide_under<E: RuleEnv>(
        &mut self,
        fresh: Arc<RegionCatalog>,
        inputs: &mut Inputs<'_, E>,
    ) -> Result<Vec<Evaluation>, Error> {
        self.catalog = fresh;
        if !self.tags_read && (self.catalog.reads_tags() || inputs.params.filters_on_tags()) {
            let (env, scope) = (inputs.env, inputs.scope);
            self.inventory = env.tables(scope, true, finish_by(inputs.deadline)).await?;
            self.inventory
                .tables
                .retain(|t| !self.gone.contains(&t.name));
            let names: Vec<&str> = self.lagging.iter().map(|t| t.name.as_str()).collect();
            self.lagging = describe_all(env, scope, &names, true)
                .await?
                .into_iter()
                .flatten()
                .collect();
            self.tags_read = true;
        }
        let tables = self.tables();
        inputs
            .decide_all(&self.catalog, &tables, tables.len())
            .await
    }
}

/// `DescribeTable` of each name, eight in flight so that they go at the pace the budget
/// assumes: the table, or `None` for one DynamoDB says does not exist.
async fn describe_all<E: RuleEnv>(
    env: &E,
    scope: &Scope,
    names: &[&str],
    with_tags: bool,
) -> Result<Vec<Option<Table>>, Error> {
    stream::iter(names)
        .map(|name| env.table(scope, name, with_tags))
        .buffered(DESCRIBES_IN_FLIGHT)
        .try_collect()
        .await
}

/// Replaces what is known of some results with newer knowledge.
fn overlay(known: &mut Vec<Recorded>, newer: Vec<Recorded>) {
    let ids: HashSet<(String, String)> = newer
        .iter()
        .map(|r| (r.resource_type.clone(), r.resource_id.clone()))
        .collect();
    known.retain(|r| !ids.contains(&(r.resource_type.clone(), r.resource_id.clone())));
    known.extend(newer);
}

/// What Config keeps once `e` is put.
fn recorded_as(e: &Evaluation, now: DateTime<Utc>) -> Recorded {
    Recorded {
        resource_type: e.resource_type.clone(),
        resource_id: e.resource_id.clone(),
        compliance: e.compliance,
        annotation: e.annotation.clone(),
        recorded_at: Some(now),
        ordered_at: Some(e.ordering_timestamp),
    }
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
