//! PURE. Rule parameters (`ruleParameters`): parse and validate.
//!
//! The names and meanings of `resourceTags` and `resourceId` are those of AWS's managed rule
//! `dynamodb-resources-protected-by-backup-plan`, so this rule is a drop-in for DynamoDB.4
//! users. `ExecutionRoleName` is the RDK convention for cross-account evaluation.

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
}

/// Every accepted name, for the error message.
pub const ACCEPTED: &str = "resourceTags, resourceId, ExecutionRoleName";

fn bad(name: &str, expected: impl Into<String>) -> Error {
    Error::InvalidParameters {
        name: name.to_string(),
        expected: expected.into(),
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
                other => {
                    return Err(bad(
                        other,
                        format!("one of the accepted parameters: {ACCEPTED}"),
                    ))
                }
            }
        }
        Ok(p)
    }

    /// Why a table is outside the parameters' scope, or `None` when it is in scope.
    pub fn excludes(&self, table: &Table) -> Option<String> {
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

fn parse_tags(value: &Value) -> Result<Tags, Error> {
    const EXPECTED: &str =
        "a JSON object of tag keys to string values, e.g. {\"backup\":\"daily\"}";
    let parsed;
    let obj = match value {
        Value::Object(m) => m,
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s)
                .map_err(|e| bad("resourceTags", format!("{EXPECTED} ({e})")))?;
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
}
