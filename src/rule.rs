//! The evaluator: the one entry the CLI, the Lambda and the tests call. Offline, it walks a
//! snapshot's Regions; as a Config rule, it turns one invocation into evaluations: applicability
//! first (which reads nothing), then the catalog, then [`crate::coverage`], then `PutEvaluations`.
//! It talks to the outside only through [`crate::ports`].

use crate::coverage::verdict::truncate_annotation;
use crate::coverage::{self, policy, CatalogIndex, Compliance, Explanation, Verdict};
use crate::error::Error;
use crate::event::{ConfigItem, Invocation, ItemSummary, Trigger};
use crate::model::{Evaluation, RegionSnapshot, Snapshot, Table, TableArn, DYNAMODB_TABLE_TYPE};
use crate::params::RuleParameters;
use crate::ports::{
    BackupCatalog, ComplianceHistory, ConfigItems, EvaluationSink, RecoveryPoints, Scope,
    TableInventory, TableTags,
};
use chrono::{DateTime, Utc};
use std::time::Instant;
use tracing::{info, warn};

/// One table's verdict, with where it was found.
#[derive(Debug)]
pub struct TableEvaluation<'a> {
    /// The Region the table is in.
    pub region: &'a str,
    /// The table.
    pub table: &'a Table,
    /// Its verdict.
    pub verdict: Verdict,
}

/// Below this many tables a Region is decided on one thread; spawning costs more than it saves.
const PARALLEL_MIN_TABLES: usize = 2_000;

/// Evaluates every table of the snapshot, Region by Region in file order, under the rule
/// parameters (scope, exemption and policy). Recovery point ages are measured from the
/// snapshot's capture time, or from `now` when it has none.
///
/// Tables are independent once the Region's index is built, so large Regions are split across
/// the available cores; the output order is the snapshot's order either way.
pub fn evaluate_snapshot<'a>(
    snapshot: &'a Snapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Vec<TableEvaluation<'a>> {
    let now = snapshot.captured_at.unwrap_or(now);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = Vec::with_capacity(snapshot.regions.iter().map(|r| r.tables.len()).sum());
    for region in &snapshot.regions {
        let index = CatalogIndex::new(&region.catalog);
        let decide_one = |t: &Table| decide_offline(region, &index, params, now, t);
        let decide =
            |tables: &'_ [Table]| -> Vec<Verdict> { tables.iter().map(decide_one).collect() };
        let verdicts: Vec<Verdict> = if threads < 2 || region.tables.len() < PARALLEL_MIN_TABLES {
            decide(&region.tables)
        } else {
            let chunk = region.tables.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = region
                    .tables
                    .chunks(chunk)
                    .map(|part| scope.spawn(|| decide(part)))
                    .collect();
                handles
                    .into_iter()
                    // A worker can only fail by panicking; re-raise it rather than lose tables.
                    .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        out.extend(
            region
                .tables
                .iter()
                .zip(verdicts)
                .map(|(table, verdict)| TableEvaluation {
                    region: &region.catalog.region,
                    table,
                    verdict,
                }),
        );
    }
    out
}

/// The offline decision for one table: scope and exemption, coverage, then the policy with the
/// snapshot's recovery points.
fn decide_offline(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
) -> Verdict {
    if let Some(why) = params.excludes(table) {
        return Verdict::out_of_scope(why);
    }
    let coverage = coverage::evaluate_table(table, index);
    let rp = offline_recovery_check(region, params, now, table, coverage.compliance);
    policy::apply(&params.policy, coverage, &region.catalog, rp)
}

fn offline_recovery_check(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
    compliance: Compliance,
) -> Option<policy::PropertyCheck> {
    match (params.policy.recovery_point_age_hours, compliance) {
        (Some(h), Compliance::Compliant) => {
            let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
            Some(policy::check_recovery_points(h, points, now))
        }
        _ => None,
    }
}

/// Coverage, then the policy parameters. Recovery points are read only for covered tables and
/// only when `maxRecoveryPointAgeHours` asks for them.
async fn decide<E: RuleEnv>(
    env: &E,
    scope: &Scope,
    params: &RuleParameters,
    table: &Table,
    index: &CatalogIndex<'_>,
) -> Result<Verdict, Error> {
    let coverage = coverage::evaluate_table(table, index);
    let rp = match (params.policy.recovery_point_age_hours, coverage.compliance) {
        (Some(h), Compliance::Compliant) => {
            let points = env.recovery_points(scope, &table.arn.arn).await?;
            Some(policy::check_recovery_points(
                h,
                points.as_deref(),
                Utc::now(),
            ))
        }
        _ => None,
    };
    Ok(policy::apply(&params.policy, coverage, index.catalog, rp))
}

/// Finds a table by ARN, or by name when the name is unique across Regions.
pub fn find_table<'a>(
    snapshot: &'a Snapshot,
    name_or_arn: &str,
) -> Result<(&'a RegionSnapshot, &'a Table), Error> {
    let hits: Vec<_> = snapshot
        .regions
        .iter()
        .flat_map(|r| r.tables.iter().map(move |t| (r, t)))
        .filter(|(_, t)| t.arn.arn == name_or_arn || t.name == name_or_arn)
        .collect();
    match hits.as_slice() {
        [] => Err(Error::TableNotFound {
            table: name_or_arn.to_string(),
        }),
        [one] => Ok(*one),
        many => Err(Error::AmbiguousTable {
            table: name_or_arn.to_string(),
            regions: many
                .iter()
                .map(|(r, _)| r.catalog.region.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Explains one table selection by selection, and each policy property per candidate plan.
pub fn explain<'a>(
    snapshot: &'a Snapshot,
    name_or_arn: &str,
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Result<(&'a RegionSnapshot, Explanation<'a>), Error> {
    let now = snapshot.captured_at.unwrap_or(now);
    let (region, table) = find_table(snapshot, name_or_arn)?;
    let index = CatalogIndex::new(&region.catalog);
    let mut explanation = coverage::explain_table(table, &index);
    // The same steps as `decide_offline`, on the coverage verdict explain already has, keeping
    // what the policy saw so it can be shown.
    let coverage = explanation.verdict.clone();
    let rp = offline_recovery_check(region, params, now, table, coverage.compliance);
    if params.policy.has_properties() {
        explanation.policy = policy::candidates(&params.policy, &coverage, &region.catalog);
        explanation.recovery_points = rp.clone();
    }
    explanation.verdict = match params.excludes(table) {
        Some(why) => Verdict::out_of_scope(why),
        None => policy::apply(&params.policy, coverage, &region.catalog, rp),
    };
    Ok((region, explanation))
}

// ---------------------------------------------------------------------------------------------
// The Config rule: one invocation in, evaluations out. Talks to ports only.
// ---------------------------------------------------------------------------------------------

/// `configurationItemStatus` values that mean the resource is gone or no longer recorded.
const GONE_STATUSES: [&str; 3] = [
    "ResourceDeleted",
    "ResourceDeletedNotRecorded",
    "ResourceNotRecorded",
];

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
        + Sync
{
}

/// The outcome of one invocation: what was put, and where.
#[derive(Debug)]
pub struct Handled {
    /// Where the evaluations were put.
    pub scope: Scope,
    /// The evaluations put.
    pub evaluations: Vec<Evaluation>,
}

fn not_applicable(
    resource_type: &str,
    resource_id: &str,
    reason: String,
    at: DateTime<Utc>,
) -> Evaluation {
    Evaluation {
        resource_type: resource_type.to_string(),
        resource_id: resource_id.to_string(),
        compliance: Compliance::NotApplicable,
        annotation: truncate_annotation(&reason),
        ordering_timestamp: at,
    }
}

/// Why an item is not evaluated, decided from what the event alone says; `None` when it is.
fn inapplicable(left_scope: bool, status: &str, resource_type: &str) -> Option<String> {
    if left_scope {
        return Some("not evaluated: the resource left the rule's scope".to_string());
    }
    if GONE_STATUSES.contains(&status) {
        return Some(format!(
            "not evaluated: configuration item status is {status}"
        ));
    }
    if resource_type != DYNAMODB_TABLE_TYPE {
        return Some(format!(
            "not evaluated: {resource_type} is not a DynamoDB table"
        ));
    }
    None
}

/// The account, Region and role an item's evaluation runs in. The event's account differs from
/// the function's own in an organization deployment; then the rule assumes the role named by
/// `ExecutionRoleName`, or else Config's `executionRoleArn`, as RDK rules do.
fn scope_for(
    inv: &Invocation,
    params: &RuleParameters,
    own_account: Option<&str>,
    account: &str,
    region: &str,
) -> Result<Scope, Error> {
    let evaluated = inv.account_id.as_deref().unwrap_or(account);
    let role_arn = match own_account {
        Some(own) if own != evaluated => {
            let partition = crate::model::partition_of_region(region);
            let role = match (&params.execution_role_name, &inv.execution_role_arn) {
                (Some(name), _) => format!("arn:{partition}:iam::{evaluated}:role/{name}"),
                (None, Some(arn)) => arn.clone(),
                (None, None) => {
                    return Err(Error::InvalidEvent {
                        field: "executionRoleArn".into(),
                        expected: format!(
                            "a role to assume in account {evaluated} (or the ExecutionRoleName parameter), since the function runs in {own}"
                        ),
                    })
                }
            };
            Some(role)
        }
        _ => None,
    };
    Ok(Scope {
        account: evaluated.to_string(),
        region: region.to_string(),
        role_arn,
    })
}

/// Who runs the rule: the function's own account and Region (from its ARN) and when the
/// invocation must be done. The CLI leaves the account unset, so it never assumes a role.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The function's own account.
    pub account: Option<String>,
    /// The function's Region: the Region a periodic pass evaluates.
    pub region: Option<String>,
    /// When the invocation must have finished.
    pub deadline: Option<Instant>,
}

/// Backup resource types whose changes re-evaluate a Region's tables.
pub const BACKUP_TYPES: [&str; 2] = ["AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection"];

fn missing(field: &str, expected: &str) -> Error {
    Error::InvalidEvent {
        field: field.into(),
        expected: expected.into(),
    }
}

/// Handles one Config invocation: decide, put, and return what was put.
pub async fn handle<E: RuleEnv>(
    inv: &Invocation,
    env: &E,
    caller: &Caller,
) -> Result<Handled, Error> {
    let params = RuleParameters::parse(&inv.rule_parameters)?;
    let own = caller.account.as_deref();
    let (scope, evaluations) = match &inv.trigger {
        Trigger::Scheduled {
            account,
            notification_time,
        } => {
            let account = inv
                .account_id
                .as_deref()
                .or(account.as_deref())
                .ok_or_else(|| missing("accountId", "the account to evaluate"))?;
            let region = caller.region.as_deref().ok_or_else(|| {
                missing(
                    "(function Region)",
                    "the Region to evaluate, from the function ARN or AWS_REGION",
                )
            })?;
            let rule = inv.config_rule_name.as_deref().ok_or_else(|| {
                missing("configRuleName", "the rule's name, to clear stale results")
            })?;
            let scope = scope_for(inv, &params, own, account, region)?;
            let evaluations = evaluate_region(
                &params,
                env,
                &scope,
                *notification_time,
                caller.deadline,
                Some(rule),
            )
            .await?;
            (scope, evaluations)
        }
        Trigger::Change(item) if BACKUP_TYPES.contains(&item.resource_type.as_str()) => {
            backup_changed(inv, &params, env, caller, &item.summary()).await?
        }
        Trigger::Oversized(s) if BACKUP_TYPES.contains(&s.resource_type.as_str()) => {
            backup_changed(inv, &params, env, caller, s).await?
        }
        Trigger::Change(item) => {
            let scope = scope_for(inv, &params, own, &item.account, &item.region)?;
            let e = evaluate_change(inv, &params, env, &scope, item).await?;
            (scope, vec![e])
        }
        Trigger::Oversized(summary) => {
            let scope = scope_for(inv, &params, own, &summary.account, &summary.region)?;
            let e = match inapplicable(
                inv.event_left_scope,
                &summary.status,
                &summary.resource_type,
            ) {
                Some(why) => not_applicable(
                    &summary.resource_type,
                    &summary.resource_id,
                    why,
                    summary.capture_time,
                ),
                None => {
                    let item = env.config_item(&scope, summary).await?.ok_or_else(|| Error::InvalidEvent {
                        field: "configurationItemSummary".into(),
                        expected: format!(
                            "a resource Config has a configuration item for; config:GetResourceConfigHistory returned none for {} as of {}",
                            summary.resource_id, summary.capture_time
                        ),
                    })?;
                    evaluate_change(inv, &params, env, &scope, &item).await?
                }
            };
            (scope, vec![e])
        }
    };
    put_all(
        env,
        &scope,
        &inv.result_token,
        inv.test_mode(),
        &evaluations,
    )
    .await?;
    Ok(Handled { scope, evaluations })
}

/// A backup plan or selection changed: nothing about any table changed, so without this the
/// dashboard would keep yesterday's answers. Drop the cached catalog, re-evaluate every table of
/// the Region, and give the backup resource itself NOT_APPLICABLE so it does not show as
/// unevaluated.
async fn backup_changed<E: RuleEnv>(
    inv: &Invocation,
    params: &RuleParameters,
    env: &E,
    caller: &Caller,
    item: &ItemSummary,
) -> Result<(Scope, Vec<Evaluation>), Error> {
    let scope = scope_for(
        inv,
        params,
        caller.account.as_deref(),
        &item.account,
        &item.region,
    )?;
    env.invalidate(&scope);
    let at = item.capture_time;
    let mut evaluations = evaluate_region(params, env, &scope, at, caller.deadline, None).await?;
    let why = format!(
        "not evaluated: a change to this {} re-evaluated the Region's DynamoDB tables",
        item.resource_type
    );
    info!(resource = %item.resource_id, resource_type = %item.resource_type, verdict = "NOT_APPLICABLE", reason = %why, "decision");
    evaluations.push(not_applicable(
        &item.resource_type,
        &item.resource_id,
        why,
        at,
    ));
    Ok((scope, evaluations))
}

/// rdklib's `evaluate_periodic`: every table of the scope's account and Region, decided against
/// one catalog and one index. With `cleanup_rule`, tables the rule still reports but that no
/// longer exist are set to NOT_APPLICABLE; only periodic runs do this, because a change-triggered
/// run sees one resource and must never clear the others' results.
pub async fn evaluate_region<E: RuleEnv>(
    params: &RuleParameters,
    env: &E,
    scope: &Scope,
    at: DateTime<Utc>,
    deadline: Option<Instant>,
    cleanup_rule: Option<&str>,
) -> Result<Vec<Evaluation>, Error> {
    let catalog = env
        .region_catalog(scope, params.policy.needs_vaults())
        .await?;
    let with_tags = catalog.reads_tags()
        || params.resource_tags.is_some()
        || params.policy.exemption_tag.is_some();
    let inventory = env.tables(scope, with_tags, deadline).await?;
    info!(
        account = %scope.account,
        region = %scope.region,
        source = inventory.source.as_str(),
        tables = inventory.tables.len(),
        tags_read = with_tags,
        "inventory"
    );
    let index = CatalogIndex::new(&catalog);
    let mut evaluations: Vec<Evaluation> = Vec::with_capacity(inventory.tables.len());
    for table in &inventory.tables {
        let verdict = match params.excludes(table) {
            Some(why) => Verdict::out_of_scope(why),
            None => decide(env, scope, params, table, &index).await?,
        };
        info!(table = %table.name, region = %scope.region, account = %scope.account,
            verdict = verdict.compliance.as_str(), reason = %verdict.reason, "decision");
        evaluations.push(Evaluation {
            resource_type: DYNAMODB_TABLE_TYPE.to_string(),
            resource_id: table.name.clone(),
            compliance: verdict.compliance,
            annotation: verdict.annotation(),
            ordering_timestamp: at,
        });
    }
    if let Some(rule) = cleanup_rule {
        let current: std::collections::HashSet<&str> =
            inventory.tables.iter().map(|t| t.name.as_str()).collect();
        let stale: Vec<String> = env
            .reported_resources(scope, rule)
            .await?
            .into_iter()
            .filter(|(kind, id)| kind == DYNAMODB_TABLE_TYPE && !current.contains(id.as_str()))
            .map(|(_, id)| id)
            .collect();
        for id in stale {
            let why = "not evaluated: the table no longer exists".to_string();
            info!(table = %id, verdict = "NOT_APPLICABLE", reason = %why, "decision");
            evaluations.push(not_applicable(DYNAMODB_TABLE_TYPE, &id, why, at));
        }
    }
    Ok(evaluations)
}

/// rdklib's `evaluate_change`: one configuration item, one evaluation.
async fn evaluate_change<E: RuleEnv>(
    inv: &Invocation,
    params: &RuleParameters,
    env: &E,
    scope: &Scope,
    item: &ConfigItem,
) -> Result<Evaluation, Error> {
    let na = |why: String| {
        Ok(not_applicable(
            &item.resource_type,
            &item.resource_id,
            why,
            item.capture_time,
        ))
    };
    if let Some(why) = inapplicable(inv.event_left_scope, &item.status, &item.resource_type) {
        info!(table = %item.resource_id, verdict = "NOT_APPLICABLE", reason = %why, "decision");
        return na(why);
    }
    let arn_text = item.arn.as_deref().ok_or_else(|| Error::InvalidEvent {
        field: "configurationItem.ARN".into(),
        expected: "the table ARN".into(),
    })?;
    let arn = TableArn::parse(arn_text).ok_or_else(|| Error::InvalidEvent {
        field: "configurationItem.ARN".into(),
        expected: format!("a DynamoDB table ARN, got `{arn_text}`"),
    })?;
    let mut table = Table {
        name: item.resource_id.clone(),
        arn,
        status: item.table_status.clone(),
        tags: item.tags.clone().unwrap_or_default(),
    };
    // Everything decidable without AWS Backup is decided first, so these paths read nothing.
    if !table.status_is_evaluated() {
        let v = coverage::Verdict::table_status(table.status.as_deref().unwrap_or_default());
        info!(table = %table.name, verdict = "NOT_APPLICABLE", reason = %v.reason, "decision");
        return na(v.reason);
    }
    let mut tags_known = item.tags.is_some();
    let filters_on_tags = params.resource_tags.is_some() || params.policy.exemption_tag.is_some();
    if params.resource_id.is_some() || filters_on_tags {
        if filters_on_tags && !tags_known {
            table.tags = env.table_tags(scope, &table.arn.arn).await?;
            tags_known = true;
        }
        if let Some(why) = params.excludes(&table) {
            info!(table = %table.name, verdict = "NOT_APPLICABLE", reason = %why, "decision");
            return na(why);
        }
    }
    let catalog = env
        .region_catalog(scope, params.policy.needs_vaults())
        .await?;
    if !tags_known && catalog.reads_tags() {
        table.tags = env.table_tags(scope, &table.arn.arn).await?;
    }
    let index = CatalogIndex::new(&catalog);
    let verdict = decide(env, scope, params, &table, &index).await?;
    let covered_by: Vec<String> = verdict
        .covered_by
        .iter()
        .map(|c| format!("{}/{}", c.backup_plan_id, c.selection_id))
        .collect();
    info!(
        table = %table.name,
        region = %table.arn.region,
        account = %table.arn.account,
        verdict = verdict.compliance.as_str(),
        reason = %verdict.reason,
        covered_by = ?covered_by,
        "decision"
    );
    Ok(Evaluation {
        resource_type: item.resource_type.clone(),
        resource_id: item.resource_id.clone(),
        compliance: verdict.compliance,
        annotation: verdict.annotation(),
        ordering_timestamp: item.capture_time,
    })
}

/// Puts evaluations in batches of 100, sending rejected ones again a bounded number of times
/// with backoff; fails listing those Config still rejects.
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
    for batch in batches {
        let mut pending = batch.to_vec();
        let mut attempt = 1;
        loop {
            let failed = sink
                .put_evaluations(scope, result_token, test_mode, &pending)
                .await?;
            if failed.is_empty() {
                break;
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::decode_payload;
    use serde_json::json;

    #[test]
    fn gone_out_of_scope_and_foreign_items_are_not_applicable() {
        assert!(inapplicable(true, "OK", DYNAMODB_TABLE_TYPE).is_some());
        for status in GONE_STATUSES {
            assert!(inapplicable(false, status, DYNAMODB_TABLE_TYPE)
                .unwrap()
                .contains(status));
        }
        assert!(inapplicable(false, "OK", "AWS::S3::Bucket")
            .unwrap()
            .contains("AWS::S3::Bucket"));
        assert_eq!(inapplicable(false, "OK", DYNAMODB_TABLE_TYPE), None);
        assert_eq!(
            inapplicable(false, "ResourceDiscovered", DYNAMODB_TABLE_TYPE),
            None
        );
    }

    fn invocation(account: &str, role: Option<&str>, params: serde_json::Value) -> Invocation {
        let mut event = json!({
            "invokingEvent": json!({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-01-01T00:00:00Z"}).to_string(),
            "ruleParameters": params.to_string(),
            "resultToken": "t",
            "accountId": account,
        });
        if let Some(r) = role {
            event["executionRoleArn"] = json!(r);
        }
        decode_payload(event).unwrap()
    }

    #[test]
    fn only_another_accounts_events_assume_a_role() {
        let params = RuleParameters::default();
        let own = invocation(
            "111122223333",
            Some("arn:aws:iam::111122223333:role/config"),
            json!({}),
        );
        let s = scope_for(
            &own,
            &params,
            Some("111122223333"),
            "111122223333",
            "us-east-1",
        )
        .unwrap();
        assert_eq!(s.role_arn, None);

        let member = invocation(
            "444455556666",
            Some("arn:aws:iam::444455556666:role/config"),
            json!({}),
        );
        let s = scope_for(
            &member,
            &params,
            Some("111122223333"),
            "444455556666",
            "eu-west-1",
        )
        .unwrap();
        assert_eq!(s.account, "444455556666");
        assert_eq!(
            s.role_arn.as_deref(),
            Some("arn:aws:iam::444455556666:role/config")
        );

        let named =
            RuleParameters::parse(json!({"ExecutionRoleName": "audit"}).as_object().unwrap())
                .unwrap();
        let s = scope_for(
            &member,
            &named,
            Some("111122223333"),
            "444455556666",
            "cn-north-1",
        )
        .unwrap();
        assert_eq!(
            s.role_arn.as_deref(),
            Some("arn:aws-cn:iam::444455556666:role/audit")
        );

        let no_role = invocation("444455556666", None, json!({}));
        let e = scope_for(
            &no_role,
            &params,
            Some("111122223333"),
            "444455556666",
            "us-east-1",
        )
        .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
    }
}
