//! Reading a snapshot file into the model: keys checked first, then every value converted with
//! the JSON path of anything wrong.

use super::keys;
use super::types::*;
use crate::error::Error;
use crate::model::{
    BackupPlan, BackupRule, Condition, ConditionOperator, OptIn, RecoveryPoint, RegionCatalog,
    RegionSettings, RegionSnapshot, Selection, Snapshot, Table, TableArn, TagCondition, Tags,
    Vault,
};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;

/// Parses and validates a snapshot document.
pub fn parse(json: &str) -> Result<Snapshot, Error> {
    parse_checked(json, false).map(|(snapshot, _)| snapshot)
}

/// Parses a snapshot after checking its keys ([`keys::check`]): a near miss of a key valid at
/// its place is an error, and so is any unknown key with `strict`; otherwise the unknown keys
/// and values come back for a warning.
pub fn parse_checked(json: &str, strict: bool) -> Result<(Snapshot, keys::Findings), Error> {
    let doc: serde_json::Value =
        serde_json::from_str(json).map_err(|source| Error::SnapshotFormat {
            path: "(top level)".into(),
            source,
        })?;
    let findings = keys::check(&doc, strict)?;
    let file: SnapshotFile = serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        Error::SnapshotFormat {
            path: if path == "." {
                "(top level)".into()
            } else {
                path
            },
            source: e.into_inner(),
        }
    })?;
    Ok((file.try_into()?, findings))
}

fn invalid(path: impl Into<String>, expected: impl Into<String>) -> Error {
    Error::SnapshotInvalid {
        path: path.into(),
        expected: expected.into(),
    }
}

impl TryFrom<SnapshotFile> for Snapshot {
    type Error = Error;

    fn try_from(file: SnapshotFile) -> Result<Snapshot, Error> {
        let account = file.account_id;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "AccountId",
                format!("expected a 12-digit account ID, got `{account}`"),
            ));
        }
        let captured_at = file
            .capture_time
            .as_deref()
            .map(|t| timestamp("CaptureTime", &serde_json::Value::String(t.to_string())))
            .transpose()?;
        let mut regions: Vec<RegionSnapshot> = file
            .regions
            .into_iter()
            .map(|(region, r)| convert_region(&account, region, r))
            .collect::<Result<_, _>>()?;
        // A copy to another Region of the account is judged by that Region's vaults, when the
        // snapshot lists them (spec §10). Every other Region's list is kept, not only those the
        // rules copy to today: a fix that adds a copy (crossRegionList) is checked the same way.
        let lists: BTreeMap<String, BTreeMap<String, Vault>> = regions
            .iter()
            .filter_map(|r| Some((r.catalog.region.clone(), r.catalog.vaults.clone()?)))
            .collect();
        for r in &mut regions {
            for (region, list) in &lists {
                if *region != r.catalog.region {
                    r.catalog.copy_vaults.insert(region.clone(), list.clone());
                }
            }
        }
        Ok(Snapshot {
            account_id: account,
            captured_at,
            regions,
        })
    }
}

/// An ISO 8601 string or epoch seconds, as the AWS CLI prints timestamps.
fn timestamp(path: &str, v: &serde_json::Value) -> Result<DateTime<Utc>, Error> {
    let parsed = match v {
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        serde_json::Value::Number(n) => n.as_f64().and_then(|secs| {
            Utc.timestamp_millis_opt((secs * 1000.0).round() as i64)
                .single()
        }),
        _ => None,
    };
    parsed.ok_or_else(|| {
        invalid(
            path,
            format!("an ISO 8601 timestamp or epoch seconds, got `{v}`"),
        )
    })
}

fn convert_region(account: &str, region: String, r: RegionFile) -> Result<RegionSnapshot, Error> {
    let at = format!("Regions.{region}");
    if region.is_empty() {
        return Err(invalid(
            "Regions",
            "expected Region names as keys, got an empty key",
        ));
    }
    let settings = RegionSettings {
        dynamodb_opt_in: OptIn::from_map(r.resource_type_opt_in_preference.as_ref()),
        dynamodb_management: r
            .resource_type_management_preference
            .as_ref()
            .and_then(|m| m.get("DynamoDB").copied()),
    };
    let plans = r
        .backup_plans
        .into_iter()
        .enumerate()
        .map(|(i, p)| convert_plan(&format!("{at}.BackupPlans[{i}]"), account, &region, p))
        .collect::<Result<_, _>>()?;
    let vaults = r
        .backup_vaults
        .map(|list| {
            list.into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let lock_date = match &v.lock_date {
                        None | Some(serde_json::Value::Null) => None,
                        Some(d) => Some(timestamp(&format!("{at}.BackupVaults[{i}].LockDate"), d)?),
                    };
                    let vault = Vault {
                        name: v.backup_vault_name.clone(),
                        locked: v.locked.unwrap_or(false),
                        min_retention_days: v.min_retention_days,
                        max_retention_days: v.max_retention_days,
                        lock_date,
                    };
                    Ok((v.backup_vault_name, vault))
                })
                .collect::<Result<BTreeMap<_, _>, Error>>()
        })
        .transpose()?;
    let mut tables: Vec<Table> = Vec::with_capacity(r.tables.len());
    let mut recovery_points = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for (i, mut t) in r.tables.into_iter().enumerate() {
        let path = format!("{at}.Tables[{i}]");
        if let Some(points) = t.recovery_points.take() {
            let points = points
                .into_iter()
                .enumerate()
                .map(|(j, rp)| {
                    Ok(RecoveryPoint {
                        created: timestamp(
                            &format!("{path}.RecoveryPoints[{j}].CreationDate"),
                            &rp.creation_date,
                        )?,
                        status: rp.status,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            recovery_points.insert(t.table_name.clone(), points);
        }
        let table = convert_table(&path, account, &region, t)?;
        if !seen.insert(table.name.clone()) {
            return Err(invalid(
                format!("{path}.TableName"),
                format!("table `{}` is listed twice in {region}", table.name),
            ));
        }
        tables.push(table);
    }
    // `BackupVaults`, when present, is the Region's whole vault list (as `ListBackupVaults`
    // gives it), so a rule's target absent from it is a vault found missing (spec §9).
    let mut catalog = RegionCatalog {
        account: account.to_string(),
        region,
        settings,
        plans,
        vaults,
        copy_vaults: BTreeMap::new(),
    };
    catalog.mark_rule_effects();
    Ok(RegionSnapshot {
        catalog,
        tables,
        recovery_points,
    })
}

fn convert_table(path: &str, account: &str, region: &str, t: TableFile) -> Result<Table, Error> {
    let arn = TableArn::parse(&t.table_arn).ok_or_else(|| {
        invalid(
            format!("{path}.TableArn"),
            format!(
                "expected a DynamoDB table ARN arn:<partition>:dynamodb:<region>:<account>:table/<name>, got `{}`",
                t.table_arn
            ),
        )
    })?;
    if arn.region != region || arn.account != account {
        return Err(invalid(
            format!("{path}.TableArn"),
            format!(
                "the ARN is in account {} Region {}, but the table is listed under account {account} Region {region}",
                arn.account, arn.region
            ),
        ));
    }
    if arn.name != t.table_name {
        return Err(invalid(
            format!("{path}.TableName"),
            format!(
                "expected the TableArn's name `{}`, got `{}`",
                arn.name, t.table_name
            ),
        ));
    }
    let mut tags = Tags::new();
    for (i, tag) in t.tags.unwrap_or_default().into_iter().enumerate() {
        if tags.insert(tag.key.clone(), tag.value).is_some() {
            return Err(invalid(
                format!("{path}.Tags[{i}].Key"),
                format!("tag key `{}` appears twice; tag keys are unique", tag.key),
            ));
        }
    }
    Ok(Table {
        name: t.table_name,
        arn,
        status: t.table_status,
        tags,
        generated_name: false,
    })
}

/// Reads `(region, account)` from `arn:<p>:backup:<region>:<account>:backup-plan:<id>`.
fn plan_arn_scope(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", p, "backup", region, account, rest]
            if !p.is_empty()
                && !region.is_empty()
                && !account.is_empty()
                && rest.starts_with("backup-plan:") =>
        {
            Some((region, account))
        }
        _ => None,
    }
}

fn convert_plan(path: &str, account: &str, region: &str, p: PlanFile) -> Result<BackupPlan, Error> {
    // The plan's own ARN says where it lives. Normally that is where it is listed; when it is
    // not, the ARN wins and the plan covers nothing here (plans are regional).
    let (plan_region, plan_account) = match p.backup_plan_arn.as_deref() {
        None => (region.to_string(), account.to_string()),
        Some(arn) => {
            let (r, a) = plan_arn_scope(arn).ok_or_else(|| {
                invalid(
                    format!("{path}.BackupPlanArn"),
                    format!("expected arn:<partition>:backup:<region>:<account>:backup-plan:<id>, got `{arn}`"),
                )
            })?;
            (r.to_string(), a.to_string())
        }
    };
    let deletion_date = match p.deletion_date {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(invalid(
                format!("{path}.DeletionDate"),
                format!("expected a timestamp string, epoch seconds or null, got `{other}`"),
            ))
        }
    };
    let selections = p
        .selections
        .into_iter()
        .enumerate()
        .map(|(i, s)| convert_selection(&format!("{path}.Selections[{i}]"), s))
        .collect::<Result<_, _>>()?;
    Ok(BackupPlan {
        id: p.backup_plan_id,
        name: p.backup_plan_name,
        arn: p.backup_plan_arn,
        version_id: p.version_id,
        deletion_date,
        account: plan_account,
        region: plan_region,
        rules: p.rules.into_iter().map(rule_from_file).collect(),
        selections,
        document: p
            .other
            .into_iter()
            .filter(|(k, _)| !PLAN_LISTING_MEMBERS.contains(&k.as_str()))
            .collect(),
    })
}

/// A rule in our terms from its document in `GetBackupPlan`'s shape (or `BackupRuleInput`'s):
/// what a fix's `UpdateBackupPlan` will make of the plan, read the same way as a snapshot's.
pub fn rule_from_document(
    doc: &serde_json::Map<String, serde_json::Value>,
) -> Result<BackupRule, serde_json::Error> {
    serde_json::from_value::<RuleFile>(serde_json::Value::Object(doc.clone())).map(rule_from_file)
}

/// A rule in our terms, with its whole document: what the file had, every member kept.
fn rule_from_file(r: RuleFile) -> BackupRule {
    let document = match serde_json::to_value(&r) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    BackupRule {
        name: r.rule_name,
        target_vault: r.target_backup_vault_name,
        schedule: r.schedule_expression,
        delete_after_days: r.lifecycle.and_then(|l| l.delete_after_days),
        copies: r
            .copy_actions
            .unwrap_or_default()
            .into_iter()
            .map(|c| crate::model::CopyAction {
                destination: c.destination_backup_vault_arn,
                delete_after_days: c.lifecycle.and_then(|l| l.delete_after_days),
            })
            .collect(),
        effect: crate::model::RuleEffect::Unchecked,
        document,
    }
}

fn convert_selection(path: &str, s: SelectionFile) -> Result<Selection, Error> {
    if s.selection_id.is_empty() {
        return Err(invalid(
            format!("{path}.SelectionId"),
            "expected a non-empty selection ID",
        ));
    }
    let b = s.backup_selection;
    let mut conditions: Vec<Condition> = Vec::new();
    for (op, entries) in b.conditions.unwrap_or_default() {
        let operator = ConditionOperator::from_name(&op);
        let entries = entries.unwrap_or_default();
        if entries.is_empty() {
            // An empty list constrains nothing under any reading, known operator or not.
            continue;
        }
        conditions.extend(entries.into_iter().map(|c| Condition {
            operator: operator.clone(),
            key: c.condition_key,
            value: c.condition_value,
        }));
    }
    // Print and evaluate in AWS's documented order, whatever order the file had.
    conditions.sort_by_key(|c| c.operator.rank());
    Ok(Selection {
        name: b.selection_name.unwrap_or_else(|| s.selection_id.clone()),
        id: s.selection_id,
        iam_role_arn: b.iam_role_arn,
        resources: b.resources.unwrap_or_default(),
        not_resources: b.not_resources.unwrap_or_default(),
        list_of_tags: b
            .list_of_tags
            .unwrap_or_default()
            .into_iter()
            .map(|c| TagCondition {
                condition_type: c.condition_type,
                key: c.condition_key,
                value: c.condition_value,
            })
            .collect(),
        conditions,
    })
}
