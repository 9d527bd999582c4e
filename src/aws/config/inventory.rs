//! Config's own table inventory (`SelectResourceConfig`), and whether it can be trusted: only
//! when a recorder records tables, continuously, and is recording without failure. A stopped
//! recorder freezes the inventory: tables created since are missing, deleted ones linger.

use crate::aws::error::classify;
use crate::error::{AwsErrorKind, Error};
use crate::model::{Table, TableArn, Tags, DYNAMODB_TABLE_TYPE};
use aws_sdk_config::types::{ConfigurationRecorder, RecordingFrequency, ResourceType};
use aws_sdk_config::Client;

/// Whether Config's inventory of tables is live, and why (for the log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Liveness {
    /// Live: recorded, continuously, by a recorder that is recording without failure.
    pub live: bool,
    /// Why, in words.
    pub why: String,
}

/// `DescribeConfigurationRecorders` and `DescribeConfigurationRecorderStatus`.
pub(crate) async fn liveness(client: &Client, role: Option<&str>) -> Result<Liveness, Error> {
    let recorders = client
        .describe_configuration_recorders()
        .send()
        .await
        .map_err(|e| classify("config:DescribeConfigurationRecorders", role, e))?;
    let statuses = client
        .describe_configuration_recorder_status()
        .send()
        .await
        .map_err(|e| classify("config:DescribeConfigurationRecorderStatus", role, e))?;
    let status = |name: Option<&str>| {
        statuses
            .configuration_recorders_status()
            .iter()
            .find(|s| s.name() == name)
            .map(|s| {
                (
                    s.recording(),
                    // The service sends `SUCCESS`, `PENDING`, `FAILURE` in upper case, which the
                    // SDK's enum (`Success` …) parses as unknown: compare the text.
                    s.last_status().map(|l| l.as_str().to_string()),
                )
            })
    };
    let mut reasons = Vec::new();
    for r in recorders.configuration_recorders() {
        let name = r.name().unwrap_or("(unnamed)");
        if !records_tables(r) {
            reasons.push(format!(
                "recorder {name} does not record {DYNAMODB_TABLE_TYPE}"
            ));
            continue;
        }
        if !continuous_for_tables(r) {
            reasons.push(format!(
                "recorder {name} records tables daily, not continuously"
            ));
            continue;
        }
        match status(r.name()) {
            Some((true, last))
                if !last
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case("failure")) =>
            {
                return Ok(Liveness {
                    live: true,
                    why: format!("recorder {name} records tables continuously and is recording"),
                })
            }
            Some((true, _)) => reasons.push(format!("recorder {name}'s last delivery failed")),
            Some((false, _)) => reasons.push(format!("recorder {name} is stopped")),
            None => reasons.push(format!("recorder {name} has no status")),
        }
    }
    if reasons.is_empty() {
        reasons.push("no configuration recorder in this Region".to_string());
    }
    Ok(Liveness {
        live: false,
        why: reasons.join("; "),
    })
}

/// Whether the recorder's recording group includes DynamoDB tables.
fn records_tables(r: &ConfigurationRecorder) -> bool {
    let table = ResourceType::from(DYNAMODB_TABLE_TYPE);
    r.recording_group().is_some_and(|g| {
        let excluded = g
            .exclusion_by_resource_types()
            .is_some_and(|x| x.resource_types().contains(&table));
        (g.all_supported() && !excluded)
            || g.resource_types().contains(&table)
            || (
                // EXCLUSION_BY_RESOURCE_TYPES records everything not excluded.
                g.recording_strategy()
                    .and_then(|s| s.use_only())
                    .is_some_and(|u| u.as_str() == "EXCLUSION_BY_RESOURCE_TYPES")
                    && !excluded
            )
    })
}

/// Whether tables are recorded continuously: an absent `recordingMode` means continuous, and an
/// override naming `AWS::DynamoDB::Table` decides for tables.
fn continuous_for_tables(r: &ConfigurationRecorder) -> bool {
    let Some(mode) = r.recording_mode() else {
        return true;
    };
    let table = ResourceType::from(DYNAMODB_TABLE_TYPE);
    let frequency = mode
        .recording_mode_overrides()
        .iter()
        .find(|o| o.resource_types().contains(&table))
        .map_or(mode.recording_frequency(), |o| o.recording_frequency());
    *frequency == RecordingFrequency::Continuous
}

/// A table from Config's inventory, and whether its tags are known.
pub(crate) struct Row {
    /// The table (tags empty when unknown).
    pub table: Table,
    /// Whether the row's `tags` could be read; when not, they must be read from DynamoDB.
    pub tags_known: bool,
}

/// Config's advanced query over its own inventory: every recorded table of the Region, with
/// status and tags, 100 rows a page. `BatchGetResourceConfig` would not do: it filters tags out.
pub(crate) async fn tables(
    client: &Client,
    scope: &crate::ports::Scope,
) -> Result<Vec<Row>, Error> {
    let role = scope.role_arn.as_deref();
    let query = format!(
        "SELECT resourceId, resourceName, arn, awsRegion, accountId, configurationItemStatus, configuration.tableStatus, tags \
         WHERE resourceType = 'AWS::DynamoDB::Table' AND awsRegion = '{}'",
        scope.region
    );
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .select_resource_config()
            .expression(&query)
            .limit(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("config:SelectResourceConfig", role, e))?;
        for row in out.results() {
            if let Some(r) = row_of(row).map_err(|message| Error::Aws {
                action: "config:SelectResourceConfig",
                kind: AwsErrorKind::Service,
                code: None,
                message,
                role: role.map(str::to_string),
                source: "unexpected SelectResourceConfig row".into(),
            })? {
                rows.push(r);
            }
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(rows),
        }
    }
}

/// One advanced-query row; `None` for a table Config records as deleted.
fn row_of(row: &str) -> Result<Option<Row>, String> {
    let v: serde_json::Value =
        serde_json::from_str(row).map_err(|e| format!("a row is not JSON ({e})"))?;
    let status = v["configurationItemStatus"].as_str().unwrap_or("OK");
    if matches!(
        status,
        "ResourceDeleted" | "ResourceDeletedNotRecorded" | "ResourceNotRecorded"
    ) {
        return Ok(None);
    }
    let arn_text = v["arn"].as_str().unwrap_or_default();
    let arn = TableArn::parse(arn_text)
        .ok_or_else(|| format!("a row has no table ARN (`{arn_text}`)"))?;
    let tags = strict_tags(&v["tags"]);
    Ok(Some(Row {
        tags_known: tags.is_some(),
        table: Table {
            name: v["resourceId"]
                .as_str()
                .map_or_else(|| arn.name.clone(), str::to_string),
            status: v["configuration"]["tableStatus"]
                .as_str()
                .map(str::to_string),
            arn,
            tags: tags.unwrap_or_default(),
            generated_name: false,
        },
    }))
}

/// A row's `tags`: a list of `{key, value}` objects with string keys and values, or absent
/// (no tags). Anything else is unknown, never "no tags": with a `StringNotEquals` exclusion,
/// "no tags" would be a false COMPLIANT.
fn strict_tags(v: &serde_json::Value) -> Option<Tags> {
    match v {
        serde_json::Value::Null => Some(Tags::new()),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|t| {
                let key = t.get("key")?.as_str()?;
                let value = match t.get("value") {
                    None | Some(serde_json::Value::Null) => "",
                    Some(v) => v.as_str()?,
                };
                Some((key.to_string(), value.to_string()))
            })
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn malformed_tags_are_unknown_never_empty() {
        assert_eq!(strict_tags(&json!(null)), Some(Tags::new()));
        assert_eq!(
            strict_tags(&json!([{"key": "env", "value": "prod", "tag": "env=prod"}])),
            Some(
                [("env".to_string(), "prod".to_string())]
                    .into_iter()
                    .collect()
            )
        );
        assert_eq!(strict_tags(&json!("env=prod")), None);
        assert_eq!(strict_tags(&json!([{"value": "prod"}])), None);
        assert_eq!(strict_tags(&json!([{"key": "env", "value": 3}])), None);
        assert_eq!(strict_tags(&json!({"env": "prod"})), None);
    }
}
