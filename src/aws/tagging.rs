//! The Resource Groups Tagging API: every DynamoDB table's tags in bulk (`GetResources`, 100 a
//! page), instead of one `ListTagsOfResource` per table at DynamoDB's 10 a second. A table with
//! no tags is not listed, which reads as no tags.

use super::error::classify;
use crate::error::Error;
use crate::model::Tags;
use aws_sdk_resourcegroupstagging::Client;
use std::collections::HashMap;

/// Tags of every tagged table of the client's Region, by table ARN. `progress` hears each page's
/// count (the total is unknown until the last page).
pub(crate) async fn table_tags(
    client: &Client,
    role: Option<&str>,
    progress: Option<&dyn crate::ports::Progress>,
) -> Result<HashMap<String, Tags>, Error> {
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_resources()
            .resource_type_filters("dynamodb:table")
            .resources_per_page(100)
            .set_pagination_token(token.take())
            .send()
            .await
            .map_err(|e| classify("tag:GetResources", role, e))?;
        if let Some(p) = progress {
            p.advance(page.resource_tag_mapping_list().len() as u64);
        }
        for m in page.resource_tag_mapping_list() {
            let Some(arn) = m.resource_arn() else {
                continue;
            };
            let tags: Tags = m
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            out.insert(arn.to_string(), tags);
        }
        match page.pagination_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}
