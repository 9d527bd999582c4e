//! The Config rule: one invocation in, evaluations out (rdklib's evaluator). Applicability is
//! decided first, from the event alone, and reads nothing; a table's change event puts its one
//! result; a scheduled notification or a backup plan or selection change runs a [`pass`] over
//! the Region, which puts only what changed. Talks to ports only.
//!
//! [`pass`]: super::pass

use super::pass::{self, PassOutcome};
use super::put::put_all;
use super::put::{Caller, RuleEnv};
use super::{decide, precheck};
use crate::coverage::verdict::truncate_annotation;
use crate::coverage::{CatalogIndex, Compliance, ReasonKind};
use crate::error::Error;
use crate::event::{ConfigItem, Invocation, ItemSummary, Trigger};
use crate::model::{Evaluation, Table, TableArn, DYNAMODB_TABLE_TYPE};
use crate::params::RuleParameters;
use crate::ports::{Freshness, PassKey, Scope};
use chrono::{DateTime, Utc};
use tracing::info;

/// `configurationItemStatus` values that mean the resource is gone or no longer recorded.
const GONE_STATUSES: [&str; 3] = [
    "ResourceDeleted",
    "ResourceDeletedNotRecorded",
    "ResourceNotRecorded",
];

/// The outcome of one invocation: what was decided, what was put, and where.
#[derive(Debug)]
pub struct Handled {
    /// Where the evaluations were put.
    pub scope: Scope,
    /// The evaluations put.
    pub evaluations: Vec<Evaluation>,
    /// How many evaluations were decided (put or not).
    pub decided: usize,
    /// Decided evaluations not put, because Config already keeps the same result.
    pub unchanged: usize,
    /// Whether a backup-change event was answered by an earlier pass of this container.
    pub coalesced: bool,
}

pub(crate) fn not_applicable(
    resource_type: &str,
    resource_id: &str,
    (kind, reason): (ReasonKind, String),
    at: DateTime<Utc>,
) -> Evaluation {
    Evaluation {
        resource_type: resource_type.to_string(),
        resource_id: resource_id.to_string(),
        compliance: Compliance::NotApplicable,
        annotation: truncate_annotation(&reason),
        ordering_timestamp: at,
        reason,
        reason_kind: kind,
        covered_by: Vec::new(),
    }
}

/// Why an item is not evaluated, decided from what the event alone says; `None` when it is.
fn inapplicable(
    left_scope: bool,
    status: &str,
    resource_type: &str,
) -> Option<(ReasonKind, String)> {
    if left_scope {
        return Some((
            ReasonKind::OutOfScope,
            "not evaluated: the resource left the rule's scope".to_string(),
        ));
    }
    if GONE_STATUSES.contains(&status) {
        return Some((
            ReasonKind::TableStatus,
            format!("not evaluated: configuration item status is {status}"),
        ));
    }
    if resource_type != DYNAMODB_TABLE_TYPE {
        return Some((
            ReasonKind::OutOfScope,
            format!("not evaluated: {resource_type} is not a DynamoDB table"),
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
                        source: None,
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

/// Backup resource types whose changes re-evaluate a Region's tables.
pub const BACKUP_TYPES: [&str; 2] = ["AWS::Backup::BackupPlan", "AWS::Backup::BackupSelection"];

fn missing(field: &str, expected: &str) -> Error {
    Error::InvalidEvent {
        field: field.into(),
        expected: expected.into(),
        source: None,
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
    let one = |scope: Scope, e: Evaluation| Handled {
        scope,
        evaluations: vec![e],
        decided: 1,
        unchanged: 0,
        coalesced: false,
    };
    let handled = match &inv.trigger {
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
                missing(
                    "configRuleName",
                    "the rule's name, to read its recorded results",
                )
            })?;
            let scope = scope_for(inv, &params, own, account, region)?;
            info!(notified = %notification_time, "scheduled pass");
            let outcome =
                pass::run(&params, env, &scope, caller, Some(rule), sink(inv), None).await?;
            return finish_pass(inv, env, scope, outcome, false);
        }
        Trigger::Change(item) if BACKUP_TYPES.contains(&item.resource_type.as_str()) => {
            return backup_changed(inv, &params, env, caller, &item.summary()).await;
        }
        Trigger::Oversized(s) if BACKUP_TYPES.contains(&s.resource_type.as_str()) => {
            return backup_changed(inv, &params, env, caller, s).await;
        }
        Trigger::Change(item) => {
            let scope = scope_for(inv, &params, own, &item.account, &item.region)?;
            let e = evaluate_change(inv, &params, env, &scope, item).await?;
            one(scope, e)
        }
        Trigger::Oversized(summary) => {
            let scope = scope_for(inv, &params, own, &summary.account, &summary.region)?;
            let e = match inapplicable(
                inv.event_left_scope,
                &summary.status,
                &summary.resource_type,
            ) {
                Some(why) => {
                    info!(table = %summary.resource_id, verdict = "NOT_APPLICABLE", reason = %why.1, "decision");
                    not_applicable(
                        &summary.resource_type,
                        &summary.resource_id,
                        why,
                        summary.capture_time,
                    )
                }
                None => {
                    let item = env.config_item(&scope, summary).await?.ok_or_else(|| Error::InvalidEvent {
                        field: "configurationItemSummary".into(),
                        expected: format!(
                            "a resource Config has a configuration item for; config:GetResourceConfigHistory returned none for {} as of {}",
                            summary.resource_id, summary.capture_time
                        ),
                        source: None,
                    })?;
                    evaluate_change(inv, &params, env, &scope, &item).await?
                }
            };
            one(scope, e)
        }
    };
    put_all(
        env,
        &handled.scope,
        &inv.result_token,
        inv.test_mode(),
        &handled.evaluations,
    )
    .await?;
    Ok(handled)
}

fn sink(inv: &Invocation) -> pass::Sink<'_> {
    pass::Sink {
        result_token: &inv.result_token,
        test_mode: inv.test_mode(),
    }
}

/// Remembers a pass, so the events it already answers cost nothing.
fn finish_pass<E: RuleEnv>(
    inv: &Invocation,
    env: &E,
    scope: Scope,
    outcome: PassOutcome,
    own: bool,
) -> Result<Handled, Error> {
    let evaluations = outcome.put;
    let decided = outcome.decided + usize::from(own);
    // A test-mode pass changed nothing Config keeps, so it answers no later event.
    if !inv.test_mode() {
        let key = PassKey::new(inv.config_rule_name.as_deref(), &inv.rule_parameters);
        env.pass_done(&scope, &key, outcome.started);
    }
    Ok(Handled {
        scope,
        evaluations,
        decided,
        unchanged: outcome.unchanged,
        coalesced: false,
    })
}

/// A backup plan or selection changed: nothing about any table changed, so without a pass the
/// dashboard would keep yesterday's answers. The backup resource itself gets NOT_APPLICABLE so
/// it does not show as unevaluated.
///
/// A burst of such events (a rule's creation sends one per plan and selection) costs one pass:
/// an event whose configuration item was captured before the last pass of this container
/// started is already reflected in that pass, which read the catalog afresh, so it gets only
/// its own NOT_APPLICABLE and reads nothing.
async fn backup_changed<E: RuleEnv>(
    inv: &Invocation,
    params: &RuleParameters,
    env: &E,
    caller: &Caller,
    item: &ItemSummary,
) -> Result<Handled, Error> {
    let scope = scope_for(
        inv,
        params,
        caller.account.as_deref(),
        &item.account,
        &item.region,
    )?;
    let at = item.capture_time;
    let key = PassKey::new(inv.config_rule_name.as_deref(), &inv.rule_parameters);
    let last = env.last_pass_started(&scope, &key);
    let coalesced = last.is_some_and(|started| at < started);
    let why = if coalesced {
        format!(
            "not evaluated: this {} change was captured before the rule's last pass over the Region's DynamoDB tables, which reflects it",
            item.resource_type
        )
    } else {
        format!(
            "not evaluated: a change to this {} re-evaluated the Region's DynamoDB tables",
            item.resource_type
        )
    };
    info!(resource = %item.resource_id, resource_type = %item.resource_type, verdict = "NOT_APPLICABLE", reason = %why, coalesced, "decision");
    let own = not_applicable(
        &item.resource_type,
        &item.resource_id,
        (ReasonKind::OutOfScope, why),
        at,
    );
    if coalesced {
        let evaluations = vec![own];
        put_all(
            env,
            &scope,
            &inv.result_token,
            inv.test_mode(),
            &evaluations,
        )
        .await?;
        return Ok(Handled {
            scope,
            evaluations,
            decided: 1,
            unchanged: 0,
            coalesced: true,
        });
    }
    let rule = inv.config_rule_name.as_deref();
    let outcome = pass::run(params, env, &scope, caller, rule, sink(inv), Some(own)).await?;
    finish_pass(inv, env, scope, outcome, true)
}

/// rdklib's `evaluate_change`: one configuration item, one evaluation. Everything decidable
/// without AWS Backup is decided first, so those paths read nothing.
async fn evaluate_change<E: RuleEnv>(
    inv: &Invocation,
    params: &RuleParameters,
    env: &E,
    scope: &Scope,
    item: &ConfigItem,
) -> Result<Evaluation, Error> {
    let na = |why: (ReasonKind, String)| {
        info!(table = %item.resource_id, verdict = "NOT_APPLICABLE", reason = %why.1, "decision");
        Ok(not_applicable(
            &item.resource_type,
            &item.resource_id,
            why,
            item.capture_time,
        ))
    };
    if let Some(why) = inapplicable(inv.event_left_scope, &item.status, &item.resource_type) {
        return na(why);
    }
    let arn_text = item.arn.as_deref().ok_or_else(|| Error::InvalidEvent {
        field: "configurationItem.ARN".into(),
        expected: "the table ARN".into(),
        source: None,
    })?;
    let arn = TableArn::parse(arn_text).ok_or_else(|| Error::InvalidEvent {
        field: "configurationItem.ARN".into(),
        expected: format!("a DynamoDB table ARN, got `{arn_text}`"),
        source: None,
    })?;
    let mut table = Table {
        name: item.resource_id.clone(),
        arn,
        status: item.table_status.clone(),
        tags: item.tags.clone().unwrap_or_default(),
        generated_name: false,
    };
    let mut tags_known = item.tags.is_some();
    // The scope parameters and the exemption tag need the tags; read them only then.
    if !tags_known && table.status_is_evaluated() && params.filters_on_tags() {
        table.tags = env.table_tags(scope, &table.arn.arn).await?;
        tags_known = true;
    }
    if let Some(v) = precheck(params, &table) {
        return na((v.kind, v.reason));
    }
    let catalog = env.region_catalog(scope, Freshness::Cached, None).await?;
    if !tags_known && catalog.reads_tags() {
        table.tags = env.table_tags(scope, &table.arn.arn).await?;
    }
    let index = CatalogIndex::new(&catalog);
    let decision = decide(params, &table, &index);
    let points = if decision.needs_recovery_points() {
        env.recovery_points(scope, &table.arn.arn).await?
    } else {
        None
    };
    let verdict = decision.finish(params, &catalog, points.as_deref(), Utc::now());
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
    Ok(verdict.evaluation(&item.resource_type, &item.resource_id, item.capture_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::decode_payload;
    use serde_json::json;

    #[test]
    fn gone_out_of_scope_and_foreign_items_are_not_applicable() {
        assert_eq!(
            inapplicable(true, "OK", DYNAMODB_TABLE_TYPE).map(|(k, _)| k),
            Some(ReasonKind::OutOfScope)
        );
        for status in GONE_STATUSES {
            let (kind, why) = inapplicable(false, status, DYNAMODB_TABLE_TYPE).unwrap();
            assert!(why.contains(status));
            assert_eq!(kind, ReasonKind::TableStatus);
        }
        let (kind, why) = inapplicable(false, "OK", "AWS::S3::Bucket").unwrap();
        assert!(why.contains("AWS::S3::Bucket"));
        assert_eq!(kind, ReasonKind::OutOfScope);
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
