//! PURE. Rule parameters (`ruleParameters`): parse and validate.
//!
//! The names and meanings of `resourceTags` and `resourceId` are those of AWS's managed rule
//! `dynamodb-resources-protected-by-backup-plan`, so this rule is a drop-in for DynamoDB.4
//! users. `ExecutionRoleName` is the RDK convention for cross-account evaluation.

pub use crate::coverage::policy::Policy;
use crate::error::Error;
use crate::model::{Table, Tags};
use serde_json::Value;

/// Validated rule parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleParameters {
    /// Only tables carrying all these tags are evaluated; others are NOT_APPLICABLE.
    pub resource_tags: Option<Tags>,
    /// Only this table is evaluated; others are NOT_APPLICABLE.
    pub resource_id: Option<String>,
    /// Role name to assume in the evaluated account instead of `executionRoleArn`'s.
    pub execution_role_name: Option<String>,
    /// What a covering plan must also do.
    pub policy: Policy,
}

/// Every accepted name, for the error message.
pub const ACCEPTED: &str = "resourceTags, resourceId, ExecutionRoleName, backupVaultLockCheck, minRetentionDays, \
maxRetentionDays, crossRegionList, crossAccountList, requiredRetentionDays, requiredFrequencyHours, \
maxRecoveryPointAgeHours, exemptionTag";

fn bad(name: &str, expected: impl Into<String>) -> Error {
    Error::InvalidParameters {
        name: name.to_string(),
        expected: expected.into(),
        source: None,
    }
}

/// Config passes parameter values as strings; an object given directly is accepted too.
fn text<'a>(name: &str, v: &'a Value) -> Result<&'a str, Error> {
    v.as_str().ok_or_else(|| bad(name, "a string"))
}

impl RuleParameters {
    /// Validates a decoded `ruleParameters` object. Empty values mean "not set", as the Config
    /// console sends them for optional parameters left blank.
    pub fn parse(raw: &serde_json::Map<String, Value>) -> Result<RuleParameters, Error> {
        let mut p = RuleParameters::default();
        for (name, value) in raw {
            let blank = value.as_str().is_some_and(|s| s.trim().is_empty()) || value.is_null();
            if blank && ACCEPTED.split(", ").any(|n| n == name) {
                continue;
            }
            match name.as_str() {
                "resourceTags" => p.resource_tags = Some(parse_tags(value)?),
                "resourceId" => {
                    let id = text(name, value)?.trim();
                    if id.len() > 255
                        || !id
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
                    {
                        return Err(bad(
                            name,
                            format!(
                                "a DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .), got `{id}`"
                            ),
                        ));
                    }
                    p.resource_id = Some(id.to_string());
                }
                "ExecutionRoleName" => {
                    let role = text(name, value)?.trim();
                    if role.contains(':') || role.is_empty() {
                        return Err(bad(
                            name,
                            format!("an IAM role name (not an ARN), got `{role}`"),
                        ));
                    }
                    p.execution_role_name = Some(role.to_string());
                }
                // A JSON boolean is clearly meant; Config itself always sends strings.
                "backupVaultLockCheck" if value.is_boolean() => {
                    p.policy.vault_lock = value.as_bool().unwrap_or_default()
                }
                "backupVaultLockCheck" => {
                    p.policy.vault_lock =
                        match text(name, value)?.trim().to_ascii_lowercase().as_str() {
                            "true" => true,
                            "false" => false,
                            other => {
                                return Err(bad(name, format!("true or false, got `{other}`")))
                            }
                        }
                }
                "minRetentionDays" => {
                    p.policy.min_retention_days = Some(count(name, value, 1, 36_500)?)
                }
                "maxRetentionDays" => {
                    p.policy.max_retention_days = Some(count(name, value, 1, 36_500)?)
                }
                "requiredRetentionDays" => {
                    p.policy.retention_days = Some(count(name, value, 1, 36_500)?)
                }
                "requiredFrequencyHours" => {
                    p.policy.frequency_hours = Some(count(name, value, 1, 8_784)?)
                }
                "maxRecoveryPointAgeHours" => {
                    p.policy.recovery_point_age_hours = Some(count(name, value, 1, 8_784)?)
                }
                "crossRegionList" => {
                    p.policy.cross_regions =
                        list(name, value, "Region names such as us-east-1", |r| {
                            let parts: Vec<&str> = r.split('-').collect();
                            parts.len() >= 3
                                && parts.iter().all(|x| {
                                    !x.is_empty()
                                        && x.bytes()
                                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                                })
                                && parts
                                    .last()
                                    .is_some_and(|x| x.bytes().all(|b| b.is_ascii_digit()))
                        })?
                }
                "crossAccountList" => {
                    p.policy.cross_accounts = list(name, value, "12-digit account IDs", |a| {
                        a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
                    })?
                }
                "exemptionTag" => {
                    let t = text(name, value)?.trim();
                    match t.split_once('=') {
                        Some((k, v)) if !k.trim().is_empty() => {
                            p.policy.exemption_tag =
                                Some((k.trim().to_string(), v.trim().to_string()))
                        }
                        _ => {
                            return Err(bad(
                                name,
                                format!(
                                    "a tag as key=value, for example backup-exempt=true, got `{t}`"
                                ),
                            ))
                        }
                    }
                }
                other => {
                    let close = ACCEPTED
                        .split(", ")
                        .find(|known| crate::snapshot::keys::near_miss(other, known));
                    let expected = match close {
                        Some(known) => format!(
                            "a parameter this rule accepts; did you mean `{known}`? (accepted: {ACCEPTED})"
                        ),
                        None => format!("one of the accepted parameters: {ACCEPTED}"),
                    };
                    return Err(bad(other, expected));
                }
            }
        }
        if let (Some(min), Some(max)) = (p.policy.min_retention_days, p.policy.max_retention_days) {
            if min > max {
                return Err(bad(
                    "minRetentionDays",
                    format!("at most maxRetentionDays ({max}), got {min}"),
                ));
            }
        }
        Ok(p)
    }

    /// Whether the scope parameters or the exemption tag look at a table's tags, so they must
    /// be known before [`RuleParameters::excludes`] can answer.
    pub fn filters_on_tags(&self) -> bool {
        self.resource_tags.is_some() || self.policy.exemption_tag.is_some()
    }

    /// Why a table is outside the parameters' scope, or `None` when it is in scope.
    pub fn excludes(&self, table: &Table) -> Option<String> {
        if let Some((k, v)) = &self.policy.exemption_tag {
            if table.tags.get(k) == Some(v) {
                return Some(format!(
                    "not evaluated: exempt by tag {k}={v} (exemptionTag)"
                ));
            }
        }
        if let Some(id) = &self.resource_id {
            if &table.name != id {
                return Some(format!(
                    "not evaluated: the resourceId parameter limits the rule to table `{id}`"
                ));
            }
        }
        if let Some(wanted) = &self.resource_tags {
            for (k, v) in wanted {
                if table.tags.get(k) != Some(v) {
                    return Some(format!(
                        "not evaluated: the resourceTags parameter requires tag {k}={v}"
                    ));
                }
            }
        }
        None
    }
}

/// A whole number in `lo..=hi`, given as a string (Config's form) or a number.
fn count(name: &str, value: &Value, lo: u32, hi: u32) -> Result<u32, Error> {
    let n = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.filter(|n| (u64::from(lo)..=u64::from(hi)).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| {
            bad(
                name,
                format!(
                    "a whole number from {lo} to {hi}, got `{}`",
                    value_text(value)
                ),
            )
        })
}

/// A comma-separated list whose every item passes `ok`.
fn list(
    name: &str,
    value: &Value,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<Vec<String>, Error> {
    // A JSON list of strings is clearly meant too; Config sends the comma-separated form.
    let items: Vec<String> = match value {
        Value::Array(values) => values
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| bad(name, format!("a list of {what} as strings, got `{v}`")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => text(name, value)?
            .split(',')
            .map(|s| s.trim().to_string())
            .collect(),
    };
    let items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
    match items.iter().find(|i| !ok(i)) {
        Some(badone) => Err(bad(
            name,
            format!("a comma-separated list of {what}, got `{badone}`"),
        )),
        None if items.is_empty() => Err(bad(name, format!("a comma-separated list of {what}"))),
        None => Ok(items),
    }
}

fn value_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn parse_tags(value: &Value) -> Result<Tags, Error> {
    const EXPECTED: &str =
        "a JSON object of tag keys to string values, e.g. {\"backup\":\"daily\"}";
    let parsed;
    let obj = match value {
        Value::Object(m) => m,
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).map_err(|e| Error::InvalidParameters {
                name: "resourceTags".into(),
                expected: format!("{EXPECTED} ({e})"),
                source: Some(e),
            })?;
            parsed
                .as_object()
                .ok_or_else(|| bad("resourceTags", EXPECTED))?
        }
        _ => return Err(bad("resourceTags", EXPECTED)),
    };
    if obj.is_empty() {
        return Err(bad(
            "resourceTags",
            format!("{EXPECTED}, got an empty object"),
        ));
    }
    obj.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(bad(
                "resourceTags",
                format!("{EXPECTED}; the value of `{k}` is not a string"),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<RuleParameters, Error> {
        RuleParameters::parse(v.as_object().unwrap())
    }

    #[test]
    fn managed_rule_parameters_are_accepted_in_configs_string_form() {
        let p =
            parse(json!({"resourceTags": "{\"env\":\"prod\"}", "resourceId": "orders"})).unwrap();
        assert_eq!(
            p.resource_tags.unwrap().get("env").map(String::as_str),
            Some("prod")
        );
        assert_eq!(p.resource_id.as_deref(), Some("orders"));
        assert_eq!(
            parse(json!({"resourceId": ""})).unwrap(),
            RuleParameters::default()
        );
    }

    #[test]
    fn policy_parameters_parse_in_the_managed_rules_formats() {
        let p = parse(json!({
            "backupVaultLockCheck": "TRUE", "minRetentionDays": "7", "maxRetentionDays": "365",
            "crossRegionList": "us-west-2, eu-west-1", "crossAccountList": "444455556666",
            "requiredRetentionDays": "35", "requiredFrequencyHours": "24", "maxRecoveryPointAgeHours": "36",
            "exemptionTag": "backup-exempt=true"
        }))
        .unwrap()
        .policy;
        assert!(p.vault_lock && p.needs_vaults() && p.has_properties());
        assert_eq!(
            (p.min_retention_days, p.max_retention_days),
            (Some(7), Some(365))
        );
        assert_eq!(p.cross_regions, vec!["us-west-2", "eu-west-1"]);
        assert_eq!(p.cross_accounts, vec!["444455556666"]);
        assert_eq!(
            (
                p.retention_days,
                p.frequency_hours,
                p.recovery_point_age_hours
            ),
            (Some(35), Some(24), Some(36))
        );
        assert_eq!(
            p.exemption_tag,
            Some(("backup-exempt".into(), "true".into()))
        );
        assert!(!parse(json!({"backupVaultLockCheck": "false"}))
            .unwrap()
            .policy
            .has_properties());
    }

    #[test]
    fn bad_policy_values_name_the_parameter_and_what_is_accepted() {
        for (params, name, expected) in [
            (
                json!({"backupVaultLockCheck": "yes"}),
                "backupVaultLockCheck",
                "true or false",
            ),
            (
                json!({"minRetentionDays": "-1"}),
                "minRetentionDays",
                "whole number",
            ),
            (
                json!({"maxRetentionDays": "0"}),
                "maxRetentionDays",
                "whole number",
            ),
            (
                json!({"minRetentionDays": "30", "maxRetentionDays": "7"}),
                "minRetentionDays",
                "at most maxRetentionDays",
            ),
            (
                json!({"crossRegionList": "us-east-1,Mars"}),
                "crossRegionList",
                "`Mars`",
            ),
            (
                json!({"crossAccountList": "1234"}),
                "crossAccountList",
                "12-digit",
            ),
            (
                json!({"requiredFrequencyHours": "often"}),
                "requiredFrequencyHours",
                "whole number",
            ),
            (
                json!({"maxRecoveryPointAgeHours": true}),
                "maxRecoveryPointAgeHours",
                "whole number",
            ),
            (
                json!({"exemptionTag": "=true"}),
                "exemptionTag",
                "key=value",
            ),
        ] {
            let e = parse(params.clone()).unwrap_err();
            assert_eq!(e.error_type(), "InvalidParameters");
            let text = e.to_string();
            assert!(
                text.contains(name) && text.contains(expected),
                "{params}: {text}"
            );
        }
    }

    #[test]
    fn unknown_names_and_bad_values_name_the_parameter() {
        let e = parse(json!({"resourceTag": "x"})).unwrap_err().to_string();
        assert!(e.contains("resourceTag") && e.contains(ACCEPTED), "{e}");
        let e = parse(json!({"resourceTags": "{env=prod}"}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("resourceTags") && e.contains("JSON object"),
            "{e}"
        );
        let e = parse(json!({"resourceTags": "{\"n\": 1}"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`n`"), "{e}");
        let e = parse(json!({"resourceId": "a/b"})).unwrap_err().to_string();
        assert!(e.contains("resourceId"), "{e}");
        let e = parse(json!({"ExecutionRoleName": "arn:aws:iam::1:role/x"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ExecutionRoleName"), "{e}");
    }

    #[test]
    fn json_booleans_and_lists_are_accepted_where_clearly_meant() {
        let p = parse(
            json!({"backupVaultLockCheck": true, "crossRegionList": ["us-west-2", "eu-west-1"]}),
        )
        .unwrap();
        assert!(p.policy.vault_lock);
        assert_eq!(p.policy.cross_regions, ["us-west-2", "eu-west-1"]);
        let e = parse(json!({"crossAccountList": [111122223333u64]})).unwrap_err();
        assert!(e.to_string().contains("as strings"), "{e}");
    }
}
