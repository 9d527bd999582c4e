//! Reading a Region's AWS Backup catalog: `DescribeRegionSettings`, `ListBackupPlans`,
//! `GetBackupPlan`, `ListBackupSelections`, `GetBackupSelection` and `ListBackupVaults`, paged
//! to exhaustion, at most eight calls in flight. Any failure fails the whole load: a partial catalog could turn a
//! missing selection into a false NON_COMPLIANT, or a missing exclusion into a false COMPLIANT.

use super::error::classify;
use super::pace::Pacer;
use crate::error::Error;
use crate::model::{
    BackupPlan, BackupRule, Condition, ConditionOperator, OptIn, RecoveryPoint, RegionCatalog,
    RegionSettings, Selection, TagCondition, Vault,
};
use crate::ports::Scope;
use aws_sdk_backup::primitives::DateTimeFormat as Format;
use aws_sdk_backup::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Calls in flight per catalog load.
pub const MAX_IN_FLIGHT: usize = 8;

/// The largest page the list calls take (their `MaxResults`): fewer paced calls.
const LIST_PAGE: i32 = 1000;

/// What `ListBackupPlans` says of one plan.
struct PlanListing {
    id: String,
    name: String,
    arn: Option<String>,
    version_id: Option<String>,
    deletion_date: Option<String>,
}

/// What a load got: the catalog, or (resumable loads only) the part read before the deadline.
pub(crate) enum Loaded {
    /// Every plan, selection and vault.
    Complete(RegionCatalog),
    /// Plans whose rules were read, with the selections read so far and no vault list: for the
    /// next load to reuse, never to decide from. The error says what was left.
    Partial(RegionCatalog, Error),
}

impl Loaded {
    /// The complete catalog, or the error that says what was left.
    pub(crate) fn into_complete(self) -> Result<RegionCatalog, Error> {
        match self {
            Loaded::Complete(c) => Ok(c),
            Loaded::Partial(_, e) => Err(e),
        }
    }
}

/// Loads the whole catalog. `previous` is an expired (or partial) catalog of the same scope
/// whose immutable parts may be reused: rules of a plan with the same `VersionId`, and
/// selections by ID.
///
/// With `finish_by`, a load that is not `resumable` fails as soon as it knows it cannot finish
/// in time, having read little; a `resumable` one reads until the deadline and returns what it
/// got as [`Loaded::Partial`].
pub(crate) async fn load_catalog(
    client: &Client,
    pace: &Pacer,
    scope: &Scope,
    previous: Option<&RegionCatalog>,
    finish_by: Option<Instant>,
    resumable: bool,
) -> Result<Loaded, Error> {
    // Resumable loads check the clock before each read instead of predicting.
    let predict = if resumable { None } else { finish_by };
    let out_of_time = || resumable && finish_by.is_some_and(|f| Instant::now() >= f);
    let role = scope.role_arn.as_deref();
    pace.acquire().await;
    let settings = client
        .describe_region_settings()
        .send()
        .await
        .map_err(|e| classify("backup:DescribeRegionSettings", role, e))?;
    let to_map = |m: Option<&std::collections::HashMap<String, bool>>| {
        m.map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect::<BTreeMap<_, _>>()
        })
    };
    let settings = RegionSettings {
        dynamodb_opt_in: OptIn::from_map(
            to_map(settings.resource_type_opt_in_preference()).as_ref(),
        ),
        dynamodb_management: settings
            .resource_type_management_preference()
            .and_then(|m| m.get("DynamoDB").copied()),
    };

    // IncludeDeleted stays unset: the default lists active plans only.
    let mut listings: Vec<PlanListing> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        pace.acquire().await;
        let page = client
            .list_backup_plans()
            .max_results(LIST_PAGE)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("backup:ListBackupPlans", role, e))?;
        listings.extend(page.backup_plans_list().iter().map(|p| PlanListing {
            id: p.backup_plan_id().unwrap_or_default().to_string(),
            name: p.backup_plan_name().unwrap_or_default().to_string(),
            arn: p.backup_plan_arn().map(str::to_string),
            version_id: p.version_id().map(str::to_string),
            deletion_date: p.deletion_date().and_then(|d| d.fmt(Format::DateTime).ok()),
        }));
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => break,
        }
    }

    let find_previous = |id: &str| previous.and_then(|c| c.plans.iter().find(|p| p.id == id));
    // At least one ListBackupSelections per plan, a GetBackupPlan per changed plan, and the
    // vault list: known now, so a read that cannot finish in time stops before it starts.
    let changed = listings
        .iter()
        .filter(|l| {
            find_previous(&l.id)
                .is_none_or(|p| p.version_id.is_none() || p.version_id != l.version_id)
        })
        .count();
    in_time(
        pace,
        predict,
        listings.len() + changed + 1,
        "listing the plans' selections",
    )?;

    // Per plan: its rules (unless unchanged) and the IDs of its selections; `None` for a plan
    // a resumable load had no time for.
    let plans: Vec<Option<(PlanListing, PlanDocument, Vec<String>)>> = stream::iter(listings)
        .map(|listing| async move {
            if out_of_time() {
                return Ok(None);
            }
            let reusable = find_previous(&listing.id)
                .filter(|p| p.version_id.is_some() && p.version_id == listing.version_id)
                .map(|p| (p.rules.clone(), p.document.clone()));
            let rules = match reusable {
                Some(document) => document,
                None => {
                    pace.acquire().await;
                    get_rules(client, role, &listing.id).await?
                }
            };
            let mut selection_ids: Vec<String> = Vec::new();
            let mut token: Option<String> = None;
            loop {
                pace.acquire().await;
                let page = client
                    .list_backup_selections()
                    .backup_plan_id(&listing.id)
                    .max_results(LIST_PAGE)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| classify("backup:ListBackupSelections", role, e))?;
                selection_ids.extend(
                    page.backup_selections_list()
                        .iter()
                        .map(|s| s.selection_id().unwrap_or_default().to_string()),
                );
                match page.next_token() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => break,
                }
            }
            Ok::<_, Error>(Some((listing, rules, selection_ids)))
        })
        .buffered(MAX_IN_FLIGHT)
        .try_collect()
        .await?;
    let plans_left = plans.iter().filter(|p| p.is_none()).count();
    let plans: Vec<(PlanListing, PlanDocument, Vec<String>)> =
        plans.into_iter().flatten().collect();

    // Every selection's document, reusing those already read: selections are immutable.
    // Owned keys: borrowed ones trip the compiler's Send analysis of the stream below.
    let wanted: Vec<(usize, String, String)> = plans
        .iter()
        .enumerate()
        .flat_map(|(i, (listing, _, ids))| {
            ids.iter()
                .map(move |sid| (i, listing.id.clone(), sid.clone()))
        })
        .collect();
    let unknown = wanted
        .iter()
        .filter(|(_, plan_id, sid)| {
            find_previous(plan_id).is_none_or(|p| p.selections.iter().all(|s| s.id != *sid))
        })
        .count();
    in_time(
        pace,
        predict,
        unknown + 1,
        "reading the selections not read before",
    )?;
    let documents: Vec<(usize, Option<Selection>)> = stream::iter(wanted)
        .map(|(i, plan_id, selection_id)| async move {
            let known = find_previous(&plan_id)
                .and_then(|p| p.selections.iter().find(|s| s.id == selection_id))
                .cloned();
            let selection = match known {
                Some(s) => Some(s),
                None if out_of_time() => None,
                None => {
                    pace.acquire().await;
                    Some(get_selection(client, role, &plan_id, &selection_id).await?)
                }
            };
            Ok::<_, Error>((i, selection))
        })
        .buffered(MAX_IN_FLIGHT)
        .try_collect()
        .await?;

    let selections_left = documents.iter().filter(|(_, s)| s.is_none()).count();
    let mut selections_by_plan: Vec<Vec<Selection>> = vec![Vec::new(); plans.len()];
    for (i, s) in documents {
        selections_by_plan[i].extend(s);
    }
    let plans: Vec<BackupPlan> = plans
        .into_iter()
        .zip(selections_by_plan)
        .map(|((listing, (rules, document), _), selections)| BackupPlan {
            id: listing.id,
            name: listing.name,
            arn: listing.arn,
            version_id: listing.version_id,
            deletion_date: listing.deletion_date,
            account: scope.account.clone(),
            region: scope.region.clone(),
            rules,
            selections,
            document,
        })
        .collect();
    let mut catalog = RegionCatalog {
        account: scope.account.clone(),
        region: scope.region.clone(),
        settings,
        plans,
        vaults: None,
        copy_vaults: BTreeMap::new(),
    };
    if plans_left + selections_left > 0 || out_of_time() {
        let remaining_secs = 0;
        let left = plans_left + selections_left + 1;
        return Ok(Loaded::Partial(
            catalog,
            Error::WouldNotFinish {
                what: format!(
                    "reading the AWS Backup catalog of {}: {plans_left} plan(s) and {selections_left} selection(s) left, then the vaults",
                    scope.region
                ),
                needed_secs: (left as f64 / pace.rate()).ceil() as u64,
                remaining_secs,
                advice: "What was read is kept for the next invocation.".to_string(),
            },
        ));
    }
    catalog.vaults = Some(list_vaults(client, pace, role).await?);
    // A copy is judged by its destination's lock (spec §10): list the vaults of every other
    // Region of the account the rules copy to, with the same credentials. (Another account's
    // vaults cannot be listed from here; their locks stay unknown.)
    for region in catalog.copy_regions() {
        let there = Client::from_conf(
            client
                .config()
                .to_builder()
                .region(aws_sdk_backup::config::Region::new(region.clone()))
                .build(),
        );
        let list = list_vaults(&there, pace, role).await?;
        catalog.copy_vaults.insert(region, list);
    }
    catalog.mark_rule_effects();
    Ok(Loaded::Complete(catalog))
}

/// Fails with `Timeout` when `calls` more paced reads cannot be done by `finish_by`.
fn in_time(
    pace: &Pacer,
    finish_by: Option<Instant>,
    calls: usize,
    what: &str,
) -> Result<(), Error> {
    let Some(finish_by) = finish_by else {
        return Ok(());
    };
    let needed = std::time::Duration::from_secs_f64(calls as f64 / pace.rate());
    let remaining = finish_by.saturating_duration_since(Instant::now());
    if needed <= remaining {
        return Ok(());
    }
    Err(Error::WouldNotFinish {
        what: format!(
            "reading the AWS Backup catalog: {what} ({calls} backup reads at {}/s)",
            pace.rate()
        ),
        needed_secs: needed.as_secs(),
        remaining_secs: remaining.as_secs(),
        advice: "Raise the function timeout (up to 900 s), or BACKUP_READS_PER_SECOND if your account's AWS Backup quotas allow; a catalog that needs more than one invocation is described in docs/concurrency.md.".to_string(),
    })
}

/// `ListBackupVaults`: every vault of the Region, with its lock settings. Not
/// `DescribeBackupVault`: for a vault that does not exist it answers 403 AccessDenied, so a
/// deleted vault would look like a missing permission and fail the pass (spec §9). A target
/// vault absent from this list is missing.
async fn list_vaults(
    client: &Client,
    pace: &Pacer,
    role: Option<&str>,
) -> Result<BTreeMap<String, Vault>, Error> {
    let mut vaults = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        pace.acquire().await;
        let page = client
            .list_backup_vaults()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("backup:ListBackupVaults", role, e))?;
        for v in page.backup_vault_list() {
            let Some(name) = v.backup_vault_name() else {
                continue;
            };
            vaults.insert(
                name.to_string(),
                Vault {
                    name: name.to_string(),
                    locked: v.locked().unwrap_or(false),
                    min_retention_days: v.min_retention_days(),
                    max_retention_days: v.max_retention_days(),
                    lock_date: v
                        .lock_date()
                        .and_then(|d| chrono::DateTime::from_timestamp(d.secs(), d.subsec_nanos())),
                },
            );
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(vaults),
        }
    }
}

/// `ListRecoveryPointsByResource` for one table, paged to exhaustion.
pub(crate) async fn recovery_points(
    client: &Client,
    pace: &Pacer,
    role: Option<&str>,
    table_arn: &str,
) -> Result<Vec<RecoveryPoint>, Error> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        pace.acquire().await;
        let page = client
            .list_recovery_points_by_resource()
            .resource_arn(table_arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("backup:ListRecoveryPointsByResource", role, e))?;
        out.extend(page.recovery_points().iter().filter_map(|rp| {
            let created = rp.creation_date()?;
            Some(RecoveryPoint {
                created: chrono::TimeZone::timestamp_millis_opt(
                    &chrono::Utc,
                    created.to_millis().ok()?,
                )
                .single()?,
                status: rp
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
        }));
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}

/// A plan's rules, and the members of its `BackupPlan` document other than its name and rules.
type PlanDocument = (Vec<BackupRule>, serde_json::Map<String, serde_json::Value>);

/// `GetBackupPlan`: the rules in our terms, each with its whole document, and the plan's other
/// document members. The documents come from the raw body, not the SDK's types: the SDK drops
/// members it does not model, and a fix that sends a plan back must not drop any (an
/// `UpdateBackupPlan` replaces the whole plan).
async fn get_rules(
    client: &Client,
    role: Option<&str>,
    plan_id: &str,
) -> Result<PlanDocument, Error> {
    let raw = RawBody::default();
    let out = client
        .get_backup_plan()
        .backup_plan_id(plan_id)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(|e| classify("backup:GetBackupPlan", role, e))?;
    // A plan with no rules is an answer (`Rules: []`); a response with no plan is not.
    let plan = out.backup_plan().ok_or_else(|| Error::Aws {
        action: "backup:GetBackupPlan",
        kind: crate::error::AwsErrorKind::Service,
        code: None,
        message: format!("the response for plan {plan_id} has no BackupPlan"),
        role: role.map(str::to_string),
        source: "empty GetBackupPlan response".into(),
    })?;
    let mut document = raw
        .json()
        .and_then(|mut d| match d["BackupPlan"].take() {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default();
    let raw_rules = match document.remove("Rules") {
        Some(serde_json::Value::Array(list)) => list,
        _ => Vec::new(),
    };
    document.remove("BackupPlanName");
    let rules = plan
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| BackupRule {
            name: r.rule_name().to_string(),
            target_vault: Some(r.target_backup_vault_name().to_string()),
            schedule: r.schedule_expression().map(str::to_string),
            delete_after_days: r.lifecycle().and_then(|l| l.delete_after_days()),
            copies: r
                .copy_actions()
                .iter()
                .map(|c| crate::model::CopyAction {
                    destination: c.destination_backup_vault_arn().to_string(),
                    delete_after_days: c.lifecycle().and_then(|l| l.delete_after_days()),
                })
                .collect(),
            // Set once the Region's vaults are listed.
            effect: crate::model::RuleEffect::Unchecked,
            // Empty when the body could not be read as JSON: a fix then refuses to rewrite the
            // plan rather than send back a partial one.
            document: match raw_rules.get(i) {
                Some(serde_json::Value::Object(m)) if raw_rules.len() == plan.rules().len() => {
                    m.clone()
                }
                _ => serde_json::Map::new(),
            },
        })
        .collect();
    Ok((rules, document))
}

async fn get_selection(
    client: &Client,
    role: Option<&str>,
    plan_id: &str,
    selection_id: &str,
) -> Result<Selection, Error> {
    let raw = RawBody::default();
    let out = client
        .get_backup_selection()
        .backup_plan_id(plan_id)
        .selection_id(selection_id)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .map_err(|e| classify("backup:GetBackupSelection", role, e))?;
    let b = out.backup_selection().ok_or_else(|| Error::Aws {
        action: "backup:GetBackupSelection",
        kind: crate::error::AwsErrorKind::Service,
        code: None,
        message: format!(
            "the response for selection {selection_id} of plan {plan_id} has no BackupSelection"
        ),
        role: role.map(str::to_string),
        source: "empty GetBackupSelection response".into(),
    })?;
    let mut selection = selection_from_sdk(selection_id, b);
    if let Some(doc) = raw.json() {
        selection.conditions.extend(unmodeled_conditions(&doc));
    }
    Ok(selection)
}

/// The `Conditions` operators AWS Backup documents, and the only ones the SDK models.
const MODELED_OPERATORS: [&str; 4] = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
];

/// Keeps a response's raw body. The SDK drops fields it does not know: a future `Conditions`
/// operator would silently widen a selection (a false COMPLIANT), and a plan member it does not
/// model would be dropped by a fix that sends the plan back. Read from the raw body, both are
/// kept (spec §7; lossless edits).
#[derive(Debug, Clone, Default)]
struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    fn json(&self) -> Option<serde_json::Value> {
        let body = self.0.lock().ok()?.take()?;
        serde_json::from_slice(&body).ok()
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "RawBody"
    }

    // After deserialization the body has been read into memory, so its bytes are at hand.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(body) = context.response().body().bytes() {
            if let Ok(mut kept) = self.0.lock() {
                *kept = Some(body.to_vec());
            }
        }
        Ok(())
    }
}

/// Every `Conditions` entry of a `GetBackupSelection` body under an operator the SDK does not
/// model. An entry list that is not a list still counts, as one entry with no key.
fn unmodeled_conditions(doc: &serde_json::Value) -> Vec<Condition> {
    let Some(conditions) = doc["BackupSelection"]["Conditions"].as_object() else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    conditions
        .iter()
        .filter(|(op, _)| !MODELED_OPERATORS.contains(&op.as_str()))
        .flat_map(|(op, entries)| {
            let entries = match entries.as_array() {
                Some(list) => list.clone(),
                None => vec![serde_json::Value::Null],
            };
            entries.into_iter().map(move |e| Condition {
                operator: ConditionOperator::Unsupported(op.clone()),
                key: text(&e, "ConditionKey"),
                value: text(&e, "ConditionValue"),
            })
        })
        .collect()
}

/// The SDK's selection in our terms. The SDK models exactly the four documented `Conditions`
/// operators; any other is read from the raw body by [`UnmodeledConditions`].
fn selection_from_sdk(selection_id: &str, b: &aws_sdk_backup::types::BackupSelection) -> Selection {
    let mut conditions = Vec::new();
    if let Some(c) = b.conditions() {
        let lists = [
            (ConditionOperator::StringEquals, c.string_equals()),
            (ConditionOperator::StringNotEquals, c.string_not_equals()),
            (ConditionOperator::StringLike, c.string_like()),
            (ConditionOperator::StringNotLike, c.string_not_like()),
        ];
        for (operator, entries) in lists {
            conditions.extend(entries.iter().map(|p| Condition {
                operator: operator.clone(),
                key: p.condition_key().unwrap_or_default().to_string(),
                value: p.condition_value().unwrap_or_default().to_string(),
            }));
        }
    }
    Selection {
        id: selection_id.to_string(),
        name: if b.selection_name().is_empty() {
            selection_id.to_string()
        } else {
            b.selection_name().to_string()
        },
        iam_role_arn: Some(b.iam_role_arn().to_string()),
        resources: b.resources().to_vec(),
        not_resources: b.not_resources().to_vec(),
        list_of_tags: b
            .list_of_tags()
            .iter()
            .map(|c| TagCondition {
                condition_type: c.condition_type().as_str().to_string(),
                key: c.condition_key().to_string(),
                value: c.condition_value().to_string(),
            })
            .collect(),
        conditions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_the_sdk_does_not_model_are_kept_from_the_raw_body() {
        let body = br#"{"BackupSelection": {"Conditions": {
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}],
            "StringEqualsIgnoreCase": [{"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "GOLD"}]}}}"#;
        let found = unmodeled_conditions(&serde_json::from_slice(body).unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].operator,
            ConditionOperator::Unsupported("StringEqualsIgnoreCase".into())
        );
        assert_eq!(found[0].key, "aws:ResourceTag/tier");
        assert!(unmodeled_conditions(&serde_json::json!({"BackupSelection": {}})).is_empty());
        assert!(unmodeled_conditions(&serde_json::json!("not an object")).is_empty());
    }
}
