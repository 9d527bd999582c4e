//! DynamoDB: table tags, and the table inventory of the CLI's live modes.

use super::error::classify;
use crate::error::Error;
use crate::model::{Table, TableArn, Tags};
use aws_sdk_dynamodb::Client;

/// `ListTagsOfResource`, paged to exhaustion.
pub(crate) async fn table_tags(
    client: &Client,
    role: Option<&str>,
    arn: &str,
) -> Result<Tags, Error> {
    let mut tags = Tags::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("dynamodb:ListTagsOfResource", role, e))?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(tags),
        }
    }
}

/// Every table of the client's Region with status and tags (`ListTables`, `DescribeTable`,
/// `ListTagsOfResource`), for `audit` and `snapshot`.
pub(crate) async fn tables(client: &Client) -> Result<Vec<Table>, Error> {
    let mut names: Vec<String> = Vec::new();
    let mut pages = client.list_tables().into_paginator().items().send();
    while let Some(name) = pages.next().await {
        names.push(name.map_err(|e| classify("dynamodb:ListTables", None, e))?);
    }
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let out = client
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .map_err(|e| classify("dynamodb:DescribeTable", None, e))?;
        let Some(desc) = out.table() else { continue };
        let arn_text = desc.table_arn().unwrap_or_default();
        let arn = TableArn::parse(arn_text).ok_or_else(|| Error::Aws {
            action: "dynamodb:DescribeTable",
            kind: crate::error::AwsErrorKind::Service,
            code: None,
            message: format!("table {name} has no table ARN (`{arn_text}`)"),
            role: None,
            source: "unexpected DescribeTable response".into(),
        })?;
        let tags = table_tags(client, None, &arn.arn).await?;
        tables.push(Table {
            name,
            arn,
            status: desc.table_status().map(|s| s.as_str().to_string()),
            tags,
        });
    }
    Ok(tables)
}
