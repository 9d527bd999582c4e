//! AWS Config: fetching oversized configuration items and putting evaluations.

use super::error::classify;
use crate::error::{AwsErrorKind, Error};
use crate::event::{ConfigItem, ItemSummary};
use crate::model::Evaluation;
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
    // Config returns the failed evaluations themselves; match them back to ours.
    Ok(out
        .failed_evaluations()
        .iter()
        .filter_map(|f| {
            evaluations
                .iter()
                .find(|e| {
                    e.resource_id == f.compliance_resource_id()
                        && e.resource_type == f.compliance_resource_type()
                })
                .cloned()
        })
        .collect())
}
