//! PURE. The snapshot file's keys, checked before it is read: a one-word typo in a key must not
//! silently change a verdict (`"Condition"` for `"Conditions"` drops every condition and widens
//! the selection). The spec's rule "never drop a construct, it widens the selection" holds for
//! our own format as much as for AWS's responses.
//!
//! At every object of the format, each key is one of:
//! - ours: read;
//! - a field the AWS CLI prints in the same place (`RuleId`, `TableId`, `CreationDate`, …): the
//!   format takes AWS CLI output as it is, so these are accepted silently;
//! - a **near miss** of one of ours valid at that place: an error naming the key and the likely
//!   intended one. Near miss means the same letters in another case, a plural or singular of it,
//!   or an edit distance (insertions, deletions, substitutions, transpositions) of at most 1, or
//!   at most 2 when both keys are at least 8 characters long;
//! - anything else: listed in one warning (an error with `--strict`).
//!
//! `TableStatus` values get the same treatment: a near miss of a known status is an error; an
//! unknown but well-formed one (AWS adds statuses) is a warning, and the table is NOT_APPLICABLE
//! naming it.

use crate::error::Error;
use serde_json::Value;

/// What a key check found that is not an error.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    /// Unknown keys, by JSON path.
    pub unknown_keys: Vec<String>,
    /// Unknown but well-formed enumeration values, by JSON path.
    pub unknown_values: Vec<String>,
}

/// The places in the format that hold objects.
#[derive(Debug, Clone, Copy)]
enum Place {
    Root,
    Region,
    Plan,
    Rule,
    Lifecycle,
    CopyAction,
    Selection,
    BackupSelection,
    TagCondition,
    ConditionParameter,
    Table,
    Tag,
    RecoveryPoint,
    Vault,
}

impl Place {
    /// Our keys here, and the AWS CLI's that are accepted as they are.
    fn keys(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Place::Root => (&["AccountId", "CaptureTime", "Regions"], &[]),
            Place::Region => (
                &[
                    "ResourceTypeOptInPreference",
                    "ResourceTypeManagementPreference",
                    "BackupPlans",
                    "Tables",
                    "BackupVaults",
                ],
                &[],
            ),
            Place::Plan => (
                &[
                    "BackupPlanId",
                    "BackupPlanName",
                    "BackupPlanArn",
                    "VersionId",
                    "DeletionDate",
                    "Rules",
                    "Selections",
                ],
                &[
                    "BackupPlan",
                    "CreationDate",
                    "CreatorRequestId",
                    "LastExecutionDate",
                    "AdvancedBackupSettings",
                    "ScanSettings",
                    "ScheduledRunsPreview",
                ],
            ),
            Place::Rule => (
                &[
                    "RuleName",
                    "TargetBackupVaultName",
                    "ScheduleExpression",
                    "Lifecycle",
                    "CopyActions",
                ],
                &[
                    "RuleId",
                    "StartWindowMinutes",
                    "CompletionWindowMinutes",
                    "EnableContinuousBackup",
                    "RecoveryPointTags",
                    "ScheduleExpressionTimezone",
                    "IndexActions",
                    "ScanActions",
                    "TargetLogicallyAirGappedBackupVaultArn",
                ],
            ),
            Place::Lifecycle => (
                &["DeleteAfterDays", "MoveToColdStorageAfterDays"],
                &["OptInToArchiveForSupportedResources", "DeleteAfterEvent"],
            ),
            Place::CopyAction => (&["DestinationBackupVaultArn", "Lifecycle"], &[]),
            Place::Selection => (
                &["SelectionId", "BackupSelection"],
                &["BackupPlanId", "CreationDate", "CreatorRequestId"],
            ),
            Place::BackupSelection => (
                &[
                    "SelectionName",
                    "IamRoleArn",
                    "Resources",
                    "NotResources",
                    "ListOfTags",
                    "Conditions",
                ],
                &[],
            ),
            Place::TagCondition => (&["ConditionType", "ConditionKey", "ConditionValue"], &[]),
            Place::ConditionParameter => (&["ConditionKey", "ConditionValue"], &[]),
            Place::Table => (
                &[
                    "TableName",
                    "TableArn",
                    "TableStatus",
                    "Tags",
                    "RecoveryPoints",
                ],
                &[
                    "TableId",
                    "CreationDateTime",
                    "ItemCount",
                    "TableSizeBytes",
                    "KeySchema",
                    "AttributeDefinitions",
                    "ProvisionedThroughput",
                    "BillingModeSummary",
                    "GlobalSecondaryIndexes",
                    "LocalSecondaryIndexes",
                    "StreamSpecification",
                    "LatestStreamArn",
                    "LatestStreamLabel",
                    "SSEDescription",
                    "TableClassSummary",
                    "DeletionProtectionEnabled",
                    "Replicas",
                    "ArchivalSummary",
                    "RestoreSummary",
                    "OnDemandThroughput",
                    "WarmThroughput",
                    "GlobalTableVersion",
                    "MultiRegionConsistency",
                    "GlobalTableWitnesses",
                ],
            ),
            Place::Tag => (&["Key", "Value"], &[]),
            Place::RecoveryPoint => (
                &[
                    "RecoveryPointArn",
                    "CreationDate",
                    "Status",
                    "BackupVaultName",
                ],
                &[
                    "BackupSizeBytes",
                    "BackupSizeInBytes",
                    "CompletionDate",
                    "ResourceArn",
                    "ResourceType",
                    "ResourceName",
                    "IamRoleArn",
                    "StatusMessage",
                    "EncryptionKeyArn",
                    "IsEncrypted",
                    "IsParent",
                    "ParentRecoveryPointArn",
                    "Lifecycle",
                    "CalculatedLifecycle",
                    "CreatedBy",
                    "LastRestoreTime",
                    "BackupVaultArn",
                    "VaultType",
                    "IndexStatus",
                ],
            ),
            Place::Vault => (
                &[
                    "BackupVaultName",
                    "BackupVaultArn",
                    "Locked",
                    "MinRetentionDays",
                    "MaxRetentionDays",
                    "LockDate",
                ],
                &[
                    "CreationDate",
                    "EncryptionKeyArn",
                    "CreatorRequestId",
                    "NumberOfRecoveryPoints",
                    "VaultType",
                    "VaultState",
                    "EncryptionKeyType",
                ],
            ),
        }
    }

    /// Keys here whose absence is read as a default that decides verdicts (no status is
    /// ACTIVE, no `DeletionDate` is a live plan, no `NotResources` excludes nothing, …). When one
    /// is missing and a key we do not know sits beside it, the unknown key is probably the
    /// missing one misspelt, however far from it: an error, not a warning.
    fn deciding(self) -> &'static [&'static str] {
        match self {
            Place::Region => &["ResourceTypeOptInPreference", "BackupVaults"],
            Place::Plan => &["DeletionDate", "Rules", "Selections"],
            Place::Rule => &[
                "TargetBackupVaultName",
                "ScheduleExpression",
                "Lifecycle",
                "CopyActions",
            ],
            Place::Lifecycle => &["DeleteAfterDays"],
            Place::BackupSelection => &["Resources", "NotResources", "ListOfTags", "Conditions"],
            Place::Table => &["TableStatus", "Tags"],
            Place::Vault => &["Locked", "MinRetentionDays", "MaxRetentionDays", "LockDate"],
            _ => &[],
        }
    }

    /// Where a key of this place leads, when it holds objects the format knows.
    fn child(self, key: &str) -> Option<Child> {
        use Child::{Each, EachOf, EachOfEach, One};
        Some(match (self, key) {
            (Place::Root, "Regions") => EachOf(Place::Region),
            (Place::Region, "BackupPlans") => Each(Place::Plan),
            (Place::Region, "Tables") => Each(Place::Table),
            (Place::Region, "BackupVaults") => Each(Place::Vault),
            (Place::Plan, "Rules") => Each(Place::Rule),
            (Place::Plan, "Selections") => Each(Place::Selection),
            (Place::Rule, "Lifecycle") | (Place::CopyAction, "Lifecycle") => One(Place::Lifecycle),
            (Place::Rule, "CopyActions") => Each(Place::CopyAction),
            (Place::Selection, "BackupSelection") => One(Place::BackupSelection),
            (Place::BackupSelection, "ListOfTags") => Each(Place::TagCondition),
            // Operators are kept whatever their name (an unknown one evaluates to unknown), so
            // only their entries are checked.
            (Place::BackupSelection, "Conditions") => EachOfEach(Place::ConditionParameter),
            (Place::Table, "Tags") => Each(Place::Tag),
            (Place::Table, "RecoveryPoints") => Each(Place::RecoveryPoint),
            _ => return None,
        })
    }
}

/// How a key's value holds objects of a place.
#[derive(Debug, Clone, Copy)]
enum Child {
    /// One object.
    One(Place),
    /// A list of them.
    Each(Place),
    /// An object whose every value is one (Regions by name).
    EachOf(Place),
    /// An object whose every value is a list of them (Conditions by operator).
    EachOfEach(Place),
}

/// The `TableStatus` values DynamoDB documents.
const TABLE_STATUSES: [&str; 8] = [
    "ACTIVE",
    "UPDATING",
    "CREATING",
    "DELETING",
    "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
    "ARCHIVING",
    "ARCHIVED",
    "REPLICATION_NOT_AUTHORIZED",
];

/// Checks a snapshot document's keys. A near miss is an error; with `strict`, so is any other
/// unknown key. Otherwise the unknown keys and values are returned for one warning.
pub fn check(doc: &Value, strict: bool) -> Result<Findings, Error> {
    let mut findings = Findings::default();
    walk(doc, Place::Root, &mut Vec::new(), &mut findings)?;
    if strict && !findings.unknown_keys.is_empty() {
        return Err(Error::SnapshotInvalid {
            path: findings.unknown_keys[0].clone(),
            expected: format!(
                "no unknown keys with --strict; {} found: {}",
                findings.unknown_keys.len(),
                findings.unknown_keys.join(", ")
            ),
        });
    }
    Ok(findings)
}

/// One step of a JSON path; the path is rendered only when something is found, since a large
/// snapshot has millions of steps and almost never a finding.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn render(steps: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn walk<'a>(
    v: &'a Value,
    place: Place,
    at: &mut Vec<Step<'a>>,
    out: &mut Findings,
) -> Result<(), Error> {
    let Some(obj) = v.as_object() else {
        return Ok(()); // the reader reports a wrong shape with its path
    };
    let (ours, aws) = place.keys();
    let unknown: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !ours.contains(k) && !aws.contains(k))
        .collect();
    if let Some(first) = unknown.first() {
        let missing: Vec<&str> = place
            .deciding()
            .iter()
            .copied()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        // A near miss of any key of ours is reported below, by name.
        let near = unknown.iter().any(|u| ours.iter().any(|o| near_miss(u, o)));
        if !missing.is_empty() && !near {
            at.push(Step::Key(first));
            let path = render(at);
            at.pop();
            return Err(Error::SnapshotInvalid {
                path,
                expected: format!(
                    "keys this format reads; {} {} not, and {} {} missing here, which decide verdicts when absent — rename the key that was meant, or remove the unknown one (an unread key could change verdicts)",
                    unknown.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                    if unknown.len() == 1 { "is" } else { "are" },
                    missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                    if missing.len() == 1 { "is" } else { "are" },
                ),
            });
        }
    }
    for (key, value) in obj {
        at.push(Step::Key(key));
        let known = ours.contains(&key.as_str()) || aws.contains(&key.as_str());
        if !known {
            if let Some(meant) = ours.iter().find(|o| near_miss(key, o)) {
                return Err(Error::SnapshotInvalid {
                    path: render(at),
                    expected: format!(
                        "a key valid here; `{key}` is not one — did you mean `{meant}`? (an unread key could change verdicts)"
                    ),
                });
            }
            out.unknown_keys.push(render(at));
            at.pop();
            continue;
        }
        if let (Place::Table, "TableStatus", Some(status)) = (place, key.as_str(), value.as_str()) {
            check_status(status, at, out)?;
        }
        match place.child(key) {
            None => {}
            Some(Child::One(p)) => walk(value, p, at, out)?,
            Some(Child::Each(p)) => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    at.push(Step::Index(i));
                    walk(item, p, at, out)?;
                    at.pop();
                }
            }
            Some(Child::EachOf(p)) => {
                for (k, item) in value.as_object().into_iter().flatten() {
                    at.push(Step::Key(k));
                    walk(item, p, at, out)?;
                    at.pop();
                }
            }
            Some(Child::EachOfEach(p)) => {
                for (k, list) in value.as_object().into_iter().flatten() {
                    at.push(Step::Key(k));
                    for (i, item) in list.as_array().into_iter().flatten().enumerate() {
                        at.push(Step::Index(i));
                        walk(item, p, at, out)?;
                        at.pop();
                    }
                    at.pop();
                }
            }
        }
        at.pop();
    }
    Ok(())
}

fn check_status(status: &str, at: &[Step<'_>], out: &mut Findings) -> Result<(), Error> {
    if TABLE_STATUSES.contains(&status) {
        return Ok(());
    }
    let path = render(at);
    if let Some(meant) = TABLE_STATUSES.iter().find(|s| near_miss(status, s)) {
        return Err(Error::SnapshotInvalid {
            path,
            expected: format!("a table status; `{status}` is not one — did you mean `{meant}`?"),
        });
    }
    out.unknown_values.push(format!("{path} = {status}"));
    Ok(())
}

/// Whether `key` is probably a mistyped `known`: the same in another case, a plural or singular
/// of it, or within the edit distance stated in the module docs.
pub fn near_miss(key: &str, known: &str) -> bool {
    if key == known {
        return false;
    }
    if key.eq_ignore_ascii_case(known) {
        return true;
    }
    let (k, n) = (key.to_ascii_lowercase(), known.to_ascii_lowercase());
    if format!("{k}s") == n || format!("{n}s") == k {
        return true;
    }
    let limit = if key.len() >= 8 && known.len() >= 8 {
        2
    } else {
        1
    };
    edit_distance(&k, &n) <= limit
}

/// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a
/// substring): insertions, deletions, substitutions and adjacent transpositions.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(selection: Value, table: Value) -> Value {
        json!({"AccountId": "111122223333", "Regions": {"us-east-1": {
            "BackupPlans": [{"BackupPlanId": "p", "BackupPlanName": "p", "Rules": [],
                "CreationDate": 1, "VersionId": "v",
                "Selections": [{"SelectionId": "s", "BackupSelection": selection}]}],
            "Tables": [table]}}})
    }

    fn table() -> Value {
        json!({"TableName": "t", "TableArn": "arn:aws:dynamodb:us-east-1:111122223333:table/t", "TableId": "x"})
    }

    #[test]
    fn near_misses_of_keys_valid_at_that_place_are_errors_naming_the_intended_key() {
        for (typo, meant) in [
            ("Condition", "Conditions"),
            ("NotResource", "NotResources"),
            ("resources", "Resources"),
            ("ListOfTag", "ListOfTags"),
            ("IamRoleARN", "IamRoleArn"),
        ] {
            let mut sel = json!({"Resources": ["*"]});
            sel[typo] = json!([]);
            let err = check(&doc(sel, table()), false).unwrap_err().to_string();
            assert!(
                err.contains(&format!("did you mean `{meant}`")),
                "{typo}: {err}"
            );
            assert!(
                err.contains(&format!("BackupSelection.{typo}")),
                "{typo}: {err}"
            );
        }
        let mut d = doc(json!({"Resources": ["*"]}), table());
        d["Regions"]["us-east-1"]["BackupPlans"][0]["DeleteionDate"] = json!("2026-01-01");
        assert!(check(&d, false)
            .unwrap_err()
            .to_string()
            .contains("`DeletionDate`"));
    }

    #[test]
    fn aws_cli_fields_are_accepted_and_other_unknown_keys_only_warned_unless_strict() {
        let mut t = table();
        t["TableStatus"] = json!("ACTIVE");
        t["Tags"] = json!([]);
        t["Feature"] = json!(1);
        let d = doc(json!({"Resources": ["*"]}), t.clone());
        let f = check(&d, false).unwrap();
        assert_eq!(f.unknown_keys, ["Regions.us-east-1.Tables[0].Feature"]);
        assert!(check(&d, true).unwrap_err().is_bad_input());
        assert!(check(&doc(json!({"Resources": ["*"]}), table()), true).is_ok());
        // But beside a missing key that decides verdicts, an unknown key is an error: it may be
        // that key, renamed.
        t.as_object_mut().unwrap().remove("TableStatus");
        let err = check(&doc(json!({"Resources": ["*"]}), t), false).unwrap_err();
        assert!(err.to_string().contains("`TableStatus`"), "{err}");
    }

    #[test]
    fn table_status_near_misses_are_errors_and_unknown_statuses_warnings() {
        let mut t = table();
        t["TableStatus"] = json!("CREATIN");
        let err = check(&doc(json!({}), t), false).unwrap_err().to_string();
        assert!(err.contains("did you mean `CREATING`"), "{err}");
        let mut t = table();
        t["TableStatus"] = json!("RESTORING_FROM_ARCHIVE");
        let f = check(&doc(json!({}), t), false).unwrap();
        assert_eq!(f.unknown_values.len(), 1);
    }

    #[test]
    fn the_distance_threshold_is_what_the_docs_state() {
        assert!(near_miss("Tag", "Tags"));
        assert!(near_miss("Kye", "Key"));
        assert!(!near_miss("Val", "Key"));
        assert!(near_miss("SelectinName", "SelectionName"));
        assert!(!near_miss("RuleId", "RuleName"));
        assert!(!near_miss("TableId", "TableArn"));
        assert!(!near_miss("CreationDate", "DeletionDate"));
    }
}
