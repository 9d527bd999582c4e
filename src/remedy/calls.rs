//! PURE. A fix is data: the AWS API calls it makes, in order. The printed commands
//! ([`super::render`]), the JSON, the CloudFormation snippet and the what-if are all views of
//! these calls, so they cannot disagree: the what-if applies exactly what the commands send.

use crate::model::{OptIn, RegionSnapshot, Selection, Vault};
use crate::snapshot::rule_from_document;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

/// One AWS API call of a fix, in the table's Region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `dynamodb:TagResource`.
    TagResource {
        /// `ResourceArn`.
        resource_arn: String,
        /// `Tags`, in order.
        tags: Vec<(String, String)>,
    },
    /// `dynamodb:UntagResource`.
    UntagResource {
        /// `ResourceArn`.
        resource_arn: String,
        /// `TagKeys`.
        tag_keys: Vec<String>,
    },
    /// `backup:CreateBackupSelection`. AWS assigns the new selection's ID.
    CreateBackupSelection {
        /// `BackupPlanId`.
        plan_id: String,
        /// `BackupSelection` (its `id` is not sent).
        selection: Selection,
    },
    /// `backup:DeleteBackupSelection`.
    DeleteBackupSelection {
        /// `BackupPlanId`.
        plan_id: String,
        /// `SelectionId`.
        selection_id: String,
    },
    /// `backup:UpdateBackupPlan`: replaces the whole plan with `plan`, a `BackupPlanInput`.
    UpdateBackupPlan {
        /// `BackupPlanId`.
        plan_id: String,
        /// `BackupPlan`: every member of the current plan, with only the fix's fields changed.
        plan: Map<String, Value>,
    },
    /// `backup:PutBackupVaultLockConfiguration`: sets the whole lock; a bound left out is no
    /// longer enforced, so both are always passed when the lock has them.
    PutBackupVaultLockConfiguration {
        /// `BackupVaultName`.
        vault: String,
        /// `MinRetentionDays`.
        min: Option<i64>,
        /// `MaxRetentionDays`.
        max: Option<i64>,
        /// `ChangeableForDays`: keeps a compliance-mode lock's date.
        changeable_for_days: Option<i64>,
    },
    /// `backup:UpdateRegionSettings` with `ResourceTypeOptInPreference` `{"DynamoDB": true}`.
    OptInDynamoDb,
}

impl std::hash::Hash for Call {
    // By hand: a plan document (`serde_json::Value`) has no `Hash`; its text stands in for it.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Call::TagResource { resource_arn, tags } => (resource_arn, tags).hash(state),
            Call::UntagResource {
                resource_arn,
                tag_keys,
            } => (resource_arn, tag_keys).hash(state),
            Call::CreateBackupSelection { plan_id, selection } => (plan_id, selection).hash(state),
            Call::DeleteBackupSelection {
                plan_id,
                selection_id,
            } => (plan_id, selection_id).hash(state),
            Call::UpdateBackupPlan { plan_id, plan } => {
                (plan_id, Value::Object(plan.clone()).to_string()).hash(state)
            }
            Call::PutBackupVaultLockConfiguration {
                vault,
                min,
                max,
                changeable_for_days,
            } => (vault, min, max, changeable_for_days).hash(state),
            Call::OptInDynamoDb => {}
        }
    }
}

/// The `BackupSelection` document of `CreateBackupSelection`.
pub fn selection_document(s: &Selection) -> Value {
    let mut doc = json!({"SelectionName": s.name, "IamRoleArn": s.iam_role_arn});
    if !s.resources.is_empty() {
        doc["Resources"] = json!(s.resources);
    }
    if !s.not_resources.is_empty() {
        doc["NotResources"] = json!(s.not_resources);
    }
    if !s.list_of_tags.is_empty() {
        doc["ListOfTags"] = s
            .list_of_tags
            .iter()
            .map(|c| json!({"ConditionType": c.condition_type, "ConditionKey": c.key, "ConditionValue": c.value}))
            .collect();
    }
    if !s.conditions.is_empty() {
        let mut by_op: Map<String, Value> = Map::new();
        for c in &s.conditions {
            let list = by_op
                .entry(c.operator.name().to_string())
                .or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                list.push(json!({"ConditionKey": c.key, "ConditionValue": c.value}));
            }
        }
        doc["Conditions"] = Value::Object(by_op);
    }
    doc
}

/// The ID the what-if gives a selection a fix creates (AWS assigns the real one).
pub fn new_selection_id(name: &str) -> String {
    format!("(new) {name}")
}

impl Call {
    /// Applies the call to the account model, as AWS would.
    pub fn apply(&self, region: &mut RegionSnapshot, now: DateTime<Utc>) {
        let catalog = &mut region.catalog;
        match self {
            Call::TagResource { resource_arn, tags } => {
                if let Some(t) = region
                    .tables
                    .iter_mut()
                    .find(|t| &t.arn.arn == resource_arn)
                {
                    for (k, v) in tags {
                        t.tags.insert(k.clone(), v.clone());
                    }
                }
            }
            Call::UntagResource {
                resource_arn,
                tag_keys,
            } => {
                if let Some(t) = region
                    .tables
                    .iter_mut()
                    .find(|t| &t.arn.arn == resource_arn)
                {
                    for k in tag_keys {
                        t.tags.remove(k);
                    }
                }
            }
            Call::CreateBackupSelection { plan_id, selection } => {
                if let Some(p) = catalog.plans.iter_mut().find(|p| &p.id == plan_id) {
                    let mut s = selection.clone();
                    s.id = new_selection_id(&s.name);
                    p.selections.push(s);
                }
            }
            Call::DeleteBackupSelection {
                plan_id,
                selection_id,
            } => {
                if let Some(p) = catalog.plans.iter_mut().find(|p| &p.id == plan_id) {
                    p.selections.retain(|s| &s.id != selection_id);
                }
            }
            Call::UpdateBackupPlan { plan_id, plan } => {
                if let Some(p) = catalog.plans.iter_mut().find(|p| &p.id == plan_id) {
                    let mut document = plan.clone();
                    let rules = match document.remove("Rules") {
                        Some(Value::Array(list)) => list,
                        _ => Vec::new(),
                    };
                    document.remove("BackupPlanName");
                    p.rules = rules
                        .iter()
                        .filter_map(|r| r.as_object().and_then(|r| rule_from_document(r).ok()))
                        .collect();
                    p.document = document;
                }
                catalog.mark_rule_effects();
            }
            Call::PutBackupVaultLockConfiguration {
                vault,
                min,
                max,
                changeable_for_days,
            } => {
                if let Some(vaults) = catalog.vaults.as_mut() {
                    let lock_date = changeable_for_days.map(|d| now + Duration::days(d));
                    let name = vault.clone();
                    vaults
                        .entry(name.clone())
                        .and_modify(|v| {
                            v.locked = true;
                            v.min_retention_days = *min;
                            v.max_retention_days = *max;
                            v.lock_date = lock_date;
                        })
                        .or_insert(Vault {
                            name,
                            locked: true,
                            min_retention_days: *min,
                            max_retention_days: *max,
                            lock_date,
                        });
                }
                catalog.mark_rule_effects();
            }
            Call::OptInDynamoDb => catalog.settings.dynamodb_opt_in = OptIn::Enabled,
        }
    }

    /// Applies the call to one Region of a snapshot file (`Regions.<region>`), as AWS would,
    /// keeping every key the file has: what `remediate --apply-to-snapshot` writes.
    pub fn apply_to_file(&self, region: &mut Value, now: DateTime<Utc>) {
        match self {
            Call::TagResource { resource_arn, tags } => {
                if let Some(t) = table_file(region, resource_arn) {
                    let list = t.entry("Tags").or_insert_with(|| json!([]));
                    if let Some(list) = list.as_array_mut() {
                        for (k, v) in tags {
                            list.retain(|e| e["Key"].as_str() != Some(k));
                            list.push(json!({"Key": k, "Value": v}));
                        }
                    }
                }
            }
            Call::UntagResource {
                resource_arn,
                tag_keys,
            } => {
                if let Some(list) = table_file(region, resource_arn)
                    .and_then(|t| t.get_mut("Tags"))
                    .and_then(Value::as_array_mut)
                {
                    list.retain(|e| !tag_keys.iter().any(|k| e["Key"].as_str() == Some(k)));
                }
            }
            Call::CreateBackupSelection { plan_id, selection } => {
                if let Some(p) = plan(region, plan_id) {
                    let list = p.entry("Selections").or_insert_with(|| json!([]));
                    if let Some(list) = list.as_array_mut() {
                        list.push(json!({
                            "SelectionId": new_selection_id(&selection.name),
                            "BackupSelection": selection_document(selection),
                        }));
                    }
                }
            }
            Call::DeleteBackupSelection {
                plan_id,
                selection_id,
            } => {
                if let Some(list) = plan(region, plan_id)
                    .and_then(|p| p.get_mut("Selections"))
                    .and_then(Value::as_array_mut)
                {
                    list.retain(|s| s["SelectionId"].as_str() != Some(selection_id));
                }
            }
            Call::UpdateBackupPlan { plan_id, plan: doc } => {
                if let Some(p) = plan(region, plan_id) {
                    for (k, v) in doc {
                        p.insert(k.clone(), v.clone());
                    }
                }
            }
            Call::PutBackupVaultLockConfiguration {
                vault,
                min,
                max,
                changeable_for_days,
            } => {
                let Some(list) = region.get_mut("BackupVaults").and_then(Value::as_array_mut)
                else {
                    return;
                };
                let found = list
                    .iter_mut()
                    .filter_map(Value::as_object_mut)
                    .find(|v| v.get("BackupVaultName").and_then(Value::as_str) == Some(vault));
                if let Some(v) = found {
                    v.insert("Locked".into(), json!(true));
                    for (key, value) in [("MinRetentionDays", min), ("MaxRetentionDays", max)] {
                        match value {
                            Some(d) => v.insert(key.into(), json!(d)),
                            None => v.remove(key),
                        };
                    }
                    match changeable_for_days {
                        Some(d) => v.insert(
                            "LockDate".into(),
                            json!((now + Duration::days(*d))
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                        ),
                        None => v.remove("LockDate"),
                    };
                }
            }
            Call::OptInDynamoDb => {
                if let Some(obj) = region.as_object_mut() {
                    let prefs = obj
                        .entry("ResourceTypeOptInPreference")
                        .or_insert_with(|| json!({}));
                    prefs["DynamoDB"] = json!(true);
                }
            }
        }
    }
}

fn plan<'a>(region: &'a mut Value, id: &str) -> Option<&'a mut Map<String, Value>> {
    region["BackupPlans"]
        .as_array_mut()?
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|p| p.get("BackupPlanId").and_then(Value::as_str) == Some(id))
}

fn table_file<'a>(region: &'a mut Value, arn: &str) -> Option<&'a mut Map<String, Value>> {
    region["Tables"]
        .as_array_mut()?
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .find(|t| t.get("TableArn").and_then(Value::as_str) == Some(arn))
}

/// Members of `GetBackupPlan`'s `BackupRule` that `BackupRuleInput` does not have: AWS assigns
/// them, and `UpdateBackupPlan` refuses them (botocore `backup` model).
const RULE_OUTPUT_ONLY: [&str; 1] = ["RuleId"];

/// The `BackupPlanInput` for `UpdateBackupPlan`: the plan's whole document (name, every rule
/// with every member, `AdvancedBackupSettings`, `ScanSettings`, unknown members), with
/// output-only members dropped, and `edit` applied to the rules. `None` when the plan's
/// document was not captured whole: sending a partial plan would drop settings.
pub fn plan_input(
    plan: &crate::model::BackupPlan,
    edit: impl FnOnce(&mut Vec<Map<String, Value>>),
) -> Option<Map<String, Value>> {
    // Edited even when incomplete, so that the caller learns what the fix would change.
    let complete = plan.rules.iter().all(|r| !r.document.is_empty());
    let mut rules: Vec<Map<String, Value>> = plan
        .rules
        .iter()
        .map(|r| {
            let mut doc = r.document.clone();
            for k in RULE_OUTPUT_ONLY {
                doc.remove(k);
            }
            doc
        })
        .collect();
    edit(&mut rules);
    let mut out = Map::new();
    out.insert("BackupPlanName".into(), json!(plan.name));
    out.insert(
        "Rules".into(),
        Value::Array(rules.into_iter().map(Value::Object).collect()),
    );
    for (k, v) in &plan.document {
        out.insert(k.clone(), v.clone());
    }
    complete.then_some(out)
}

impl Call {
    /// The call as `{"Operation": "backup:UpdateBackupPlan", "Parameters": {…}}`, parameters
    /// under their API names: what the JSON output lists, for programs that make the calls
    /// themselves.
    pub fn to_json(&self) -> Value {
        let (op, params) = match self {
            Call::TagResource { resource_arn, tags } => (
                "dynamodb:TagResource",
                json!({"ResourceArn": resource_arn,
                       "Tags": tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}),
            ),
            Call::UntagResource {
                resource_arn,
                tag_keys,
            } => (
                "dynamodb:UntagResource",
                json!({"ResourceArn": resource_arn, "TagKeys": tag_keys}),
            ),
            Call::CreateBackupSelection { plan_id, selection } => (
                "backup:CreateBackupSelection",
                json!({"BackupPlanId": plan_id, "BackupSelection": selection_document(selection)}),
            ),
            Call::DeleteBackupSelection {
                plan_id,
                selection_id,
            } => (
                "backup:DeleteBackupSelection",
                json!({"BackupPlanId": plan_id, "SelectionId": selection_id}),
            ),
            Call::UpdateBackupPlan { plan_id, plan } => (
                "backup:UpdateBackupPlan",
                json!({"BackupPlanId": plan_id, "BackupPlan": plan}),
            ),
            Call::PutBackupVaultLockConfiguration {
                vault,
                min,
                max,
                changeable_for_days,
            } => {
                let mut p = json!({"BackupVaultName": vault});
                for (k, v) in [
                    ("MinRetentionDays", min),
                    ("MaxRetentionDays", max),
                    ("ChangeableForDays", changeable_for_days),
                ] {
                    if let Some(v) = v {
                        p[k] = json!(v);
                    }
                }
                ("backup:PutBackupVaultLockConfiguration", p)
            }
            Call::OptInDynamoDb => (
                "backup:UpdateRegionSettings",
                json!({"ResourceTypeOptInPreference": {"DynamoDB": true}}),
            ),
        };
        json!({"Operation": op, "Parameters": params})
    }
}
