//! AWS Config: fetching oversized configuration items and putting evaluations.

use super::error::classify;
use crate::coverage::Compliance;
use crate::error::{AwsErrorKind, Error};
use crate::event::{ConfigItem, ItemSummary};
use crate::model::{Evaluation, Table, TableArn};
use aws_sdk_config::primitives::DateTime as SdkTime;
use aws_sdk_config::types::{ComplianceType, ResourceType};
use aws_sdk_config::Client;
use chrono::{DateTime, TimeZone, Utc};

fn to_sdk_time(t: DateTime<Utc>) -> SdkTime {
    SdkTime::from_millis(t.timestamp_millis())
}

/// Config timestamps have millisecond precision; rounding to it undoes the float epoch seconds
/// of the JSON wire format.
fn from_sdk_time(t: &SdkTime) -> Option<DateTime<Utc>> {
    let millis = (t.as_secs_f64() * 1000.0).round() as i64;
    Utc.timestamp_millis_opt(millis).single()
}

/// `GetResourceConfigHistory` with `laterTime` = the summary's capture time and `limit` 1: the
/// item the notification was about, not whatever is newest now.
pub(crate) async fn config_item(
    client: &Client,
    role: Option<&str>,
    summary: &ItemSummary,
) -> Result<Option<ConfigItem>, Error> {
    let out = client
        .get_resource_config_history()
        .resource_type(ResourceType::from(summary.resource_type.as_str()))
        .resource_id(&summary.resource_id)
        .later_time(to_sdk_time(summary.capture_time))
        .limit(1)
        .send()
        .await
        .map_err(|e| classify("config:GetResourceConfigHistory", role, e))?;
    let Some(ci) = out.configuration_items().first() else {
        return Ok(None);
    };
    let table_status = ci
        .configuration()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .and_then(|c| {
            c.get("tableStatus")
                .and_then(|s| s.as_str())
                .map(str::to_string)
        });
    Ok(Some(ConfigItem {
        resource_type: ci
            .resource_type()
            .map_or(summary.resource_type.clone(), |t| t.as_str().to_string()),
        resource_id: ci.resource_id().unwrap_or(&summary.resource_id).to_string(),
        arn: ci.arn().map(str::to_string),
        region: ci.aws_region().unwrap_or(&summary.region).to_string(),
        account: ci.account_id().unwrap_or(&summary.account).to_string(),
        status: ci
            .configuration_item_status()
            .map_or(summary.status.clone(), |s| s.as_str().to_string()),
        capture_time: ci
            .configuration_item_capture_time()
            .and_then(from_sdk_time)
            .unwrap_or(summary.capture_time),
        table_status,
        tags: ci
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
    }))
}

/// One `PutEvaluations` call; returns the evaluations Config reported as failed.
pub(crate) async fn put_evaluations(
    client: &Client,
    role: Option<&str>,
    result_token: &str,
    test_mode: bool,
    evaluations: &[Evaluation],
) -> Result<Vec<Evaluation>, Error> {
    let sdk_evaluations = evaluations
        .iter()
        .map(|e| {
            aws_sdk_config::types::Evaluation::builder()
                .compliance_resource_type(&e.resource_type)
                .compliance_resource_id(&e.resource_id)
                .compliance_type(ComplianceType::from(e.compliance.as_str()))
                .annotation(&e.annotation)
                .ordering_timestamp(to_sdk_time(e.ordering_timestamp))
                .build()
                .map_err(|source| Error::Aws {
                    action: "config:PutEvaluations",
                    kind: AwsErrorKind::Service,
                    code: None,
                    message: format!("cannot build the evaluation of {}", e.resource_id),
                    role: role.map(str::to_string),
                    source: Box::new(source),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let out = client
        .put_evaluations()
        .result_token(result_token)
        .test_mode(test_mode)
        .set_evaluations(Some(sdk_evaluations))
        .send()
        .await
        .map_err(|e| classify("config:PutEvaluations", role, e))?;
    // Config returns the failed evaluations themselves; match them back to ours. One that
    // matches none of ours is still a failure: rebuilt from Config's copy, it is sent again (and
    // reported if it keeps failing) rather than silently counted as put.
    Ok(out
        .failed_evaluations()
        .iter()
        .map(|f| {
            evaluations
                .iter()
                .find(|e| {
                    e.resource_id == f.compliance_resource_id()
                        && e.resource_type == f.compliance_resource_type()
                })
                .cloned()
                .unwrap_or_else(|| Evaluation {
                    resource_type: f.compliance_resource_type().to_string(),
                    resource_id: f.compliance_resource_id().to_string(),
                    compliance: Compliance::from_config(f.compliance_type().as_str()),
                    annotation: f.annotation().unwrap_or_default().to_string(),
                    ordering_timestamp: from_sdk_time(f.ordering_timestamp())
                        .unwrap_or(DateTime::UNIX_EPOCH),
                })
        })
        .collect())
}

/// Whether this account's and Region's configuration recorder records DynamoDB tables, so that
/// Config's own inventory is complete.
pub(crate) async fn records_tables(client: &Client, role: Option<&str>) -> Result<bool, Error> {
    let out = client
        .describe_configuration_recorders()
        .send()
        .await
        .map_err(|e| classify("config:DescribeConfigurationRecorders", role, e))?;
    let table = ResourceType::from(crate::model::DYNAMODB_TABLE_TYPE);
    Ok(out.configuration_recorders().iter().any(|r| {
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
    }))
}

/// Config's advanced query over its own inventory: every recorded table of the Region, with
/// status and tags, 100 rows a page. `BatchGetResourceConfig` would not do: it filters tags out.
pub(crate) async fn inventory(
    client: &Client,
    scope: &crate::ports::Scope,
) -> Result<Vec<Table>, Error> {
    let role = scope.role_arn.as_deref();
    let query = format!(
        "SELECT resourceId, resourceName, arn, awsRegion, accountId, configurationItemStatus, configuration.tableStatus, tags \
         WHERE resourceType = 'AWS::DynamoDB::Table' AND awsRegion = '{}'",
        scope.region
    );
    let mut tables = Vec::new();
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
            if let Some(table) = table_from_row(row).map_err(|message| Error::Aws {
                action: "config:SelectResourceConfig",
                kind: AwsErrorKind::Service,
                code: None,
                message,
                role: role.map(str::to_string),
                source: "unexpected SelectResourceConfig row".into(),
            })? {
                tables.push(table);
            }
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(tables),
        }
    }
}

/// One advanced-query row; `None` for a table Config records as deleted.
fn table_from_row(row: &str) -> Result<Option<Table>, String> {
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
    let tags = v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t["key"].as_str()?.to_string(),
                        t["value"].as_str().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(Table {
        name: v["resourceId"]
            .as_str()
            .map_or_else(|| arn.name.clone(), str::to_string),
        status: v["configuration"]["tableStatus"]
            .as_str()
            .map(str::to_string),
        arn,
        tags,
    }))
}

/// Every resource the rule currently reports COMPLIANT or NON_COMPLIANT, paged at 100.
pub(crate) async fn reported_resources(
    client: &Client,
    role: Option<&str>,
    rule_name: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_compliance_details_by_config_rule()
            .config_rule_name(rule_name)
            .compliance_types(ComplianceType::Compliant)
            .compliance_types(ComplianceType::NonCompliant)
            .limit(100)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("config:GetComplianceDetailsByConfigRule", role, e))?;
        out.extend(page.evaluation_results().iter().filter_map(|r| {
            let q = r
                .evaluation_result_identifier()?
                .evaluation_result_qualifier()?;
            Some((q.resource_type()?.to_string(), q.resource_id()?.to_string()))
        }));
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}
