//! Configuration items too large for their notification (`GetResourceConfigHistory`).

use super::{from_sdk_time, to_sdk_time};
use crate::aws::error::classify;
use crate::error::Error;
use crate::event::{ConfigItem, ItemSummary};
use aws_sdk_config::types::ResourceType;
use aws_sdk_config::Client;

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
