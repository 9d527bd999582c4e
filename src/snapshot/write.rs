//! Writing the model back as a snapshot file (`snapshot`, and the what-if).

use super::types::*;
use crate::model::{BackupPlan, BackupRule, OptIn, RegionSnapshot, Selection, Snapshot};
use std::collections::BTreeMap;

impl From<&Snapshot> for SnapshotFile {
    /// Writes the model back in the file format; what `snapshot` saves after a live capture.
    fn from(s: &Snapshot) -> SnapshotFile {
        let regions = s
            .regions
            .iter()
            .map(|r| (r.catalog.region.clone(), region_file(r)))
            .collect();
        SnapshotFile {
            account_id: s.account_id.clone(),
            capture_time: s
                .captured_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            regions,
        }
    }
}

fn region_file(r: &RegionSnapshot) -> RegionFile {
    let c = &r.catalog;
    let opt_in = match c.settings.dynamodb_opt_in {
        OptIn::Enabled => Some(BTreeMap::from([("DynamoDB".to_string(), true)])),
        OptIn::Disabled => Some(BTreeMap::from([("DynamoDB".to_string(), false)])),
        OptIn::KeyAbsent => Some(BTreeMap::new()),
        OptIn::NotCaptured => None,
    };
    RegionFile {
        resource_type_opt_in_preference: opt_in,
        resource_type_management_preference: c
            .settings
            .dynamodb_management
            .map(|m| BTreeMap::from([("DynamoDB".to_string(), m)])),
        backup_plans: c.plans.iter().map(plan_file).collect(),
        backup_vaults: c.vaults.as_ref().map(|vaults| {
            vaults
                .values()
                .map(|v| VaultFile {
                    backup_vault_name: v.name.clone(),
                    backup_vault_arn: None,
                    locked: Some(v.locked),
                    min_retention_days: v.min_retention_days,
                    max_retention_days: v.max_retention_days,
                    lock_date: v.lock_date.map(|d| {
                        serde_json::Value::String(
                            d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        )
                    }),
                })
                .collect()
        }),
        tables: r
            .tables
            .iter()
            .map(|t| TableFile {
                table_name: t.name.clone(),
                table_arn: t.arn.arn.clone(),
                table_status: t.status.clone(),
                tags: Some(
                    t.tags
                        .iter()
                        .map(|(k, v)| TagFile {
                            key: k.clone(),
                            value: v.clone(),
                        })
                        .collect(),
                ),
                recovery_points: r.recovery_points.get(&t.name).map(|points| {
                    points
                        .iter()
                        .map(|p| RecoveryPointFile {
                            recovery_point_arn: None,
                            creation_date: serde_json::Value::String(
                                p.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            ),
                            status: p.status.clone(),
                            backup_vault_name: None,
                        })
                        .collect()
                }),
            })
            .collect(),
    }
}

fn plan_file(p: &BackupPlan) -> PlanFile {
    PlanFile {
        backup_plan_id: p.id.clone(),
        backup_plan_name: p.name.clone(),
        backup_plan_arn: p.arn.clone(),
        version_id: p.version_id.clone(),
        deletion_date: p.deletion_date.clone().map(serde_json::Value::String),
        rules: p.rules.iter().map(rule_file).collect(),
        selections: p.selections.iter().map(selection_file).collect(),
        other: p.document.clone(),
    }
}

/// A rule as the file keeps it: its whole document when there is one (every member AWS gave),
/// else the fields the model holds.
fn rule_file(r: &BackupRule) -> RuleFile {
    if let Ok(file) =
        serde_json::from_value::<RuleFile>(serde_json::Value::Object(r.document.clone()))
    {
        if !r.document.is_empty() {
            return file;
        }
    }
    RuleFile {
        rule_name: r.name.clone(),
        target_backup_vault_name: r.target_vault.clone(),
        schedule_expression: r.schedule.clone(),
        lifecycle: r.delete_after_days.map(|d| LifecycleFile {
            delete_after_days: Some(d),
            move_to_cold_storage_after_days: None,
            other: Default::default(),
        }),
        copy_actions: (!r.copies.is_empty()).then(|| {
            r.copies
                .iter()
                .map(|c| CopyActionFile {
                    destination_backup_vault_arn: c.destination.clone(),
                    lifecycle: c.delete_after_days.map(|d| LifecycleFile {
                        delete_after_days: Some(d),
                        move_to_cold_storage_after_days: None,
                        other: Default::default(),
                    }),
                    other: Default::default(),
                })
                .collect()
        }),
        other: Default::default(),
    }
}

fn selection_file(s: &Selection) -> SelectionFile {
    let mut conditions: BTreeMap<String, Option<Vec<ConditionParameterFile>>> = BTreeMap::new();
    for c in &s.conditions {
        conditions
            .entry(c.operator.name().to_string())
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(ConditionParameterFile {
                condition_key: c.key.clone(),
                condition_value: c.value.clone(),
            });
    }
    SelectionFile {
        selection_id: s.id.clone(),
        backup_selection: BackupSelectionFile {
            selection_name: Some(s.name.clone()),
            iam_role_arn: s.iam_role_arn.clone(),
            resources: Some(s.resources.clone()),
            not_resources: Some(s.not_resources.clone()),
            list_of_tags: Some(
                s.list_of_tags
                    .iter()
                    .map(|c| TagConditionFile {
                        condition_type: c.condition_type.clone(),
                        condition_key: c.key.clone(),
                        condition_value: c.value.clone(),
                    })
                    .collect(),
            ),
            conditions: Some(conditions),
        },
    }
}
