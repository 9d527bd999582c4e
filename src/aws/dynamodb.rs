//! DynamoDB: table tags, and the table inventory of the CLI's live modes.

use super::error::classify;
use super::pace::Pacer;
use crate::error::Error;
use crate::model::{Table, TableArn, Tags};
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::time::{Duration, Instant};

/// `ListTagsOfResource`, paged to exhaustion, each page paced.
pub(crate) async fn table_tags(
    client: &Client,
    pace: &Pacer,
    role: Option<&str>,
    arn: &str,
) -> Result<Tags, Error> {
    let mut tags = Tags::new();
    let mut token: Option<String> = None;
    loop {
        pace.acquire().await;
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

/// Every table of the client's Region from DynamoDB itself (`ListTables`, `DescribeTable`, and
/// `ListTagsOfResource` when `with_tags`), for when Config does not record tables, and for the
/// CLI's live modes.
///
/// `ListTagsOfResource` is limited to 10 requests per second per account, so tag reads are
/// paced at `tag_rate` per second; when the pass could not finish before `deadline` at that
/// pace, it fails at once rather than running out the clock or putting a partial set.
pub(crate) async fn tables(
    client: &Client,
    role: Option<&str>,
    with_tags: bool,
    tag_pace: (&Pacer, u32),
    deadline: Option<Instant>,
) -> Result<Vec<Table>, Error> {
    let (pace, tag_rate) = tag_pace;
    let mut names: Vec<String> = Vec::new();
    let mut pages = client.list_tables().into_paginator().items().send();
    while let Some(name) = pages.next().await {
        names.push(name.map_err(|e| classify("dynamodb:ListTables", role, e))?);
    }
    if with_tags {
        check_time(names.len(), tag_rate, deadline)?;
    }
    let described: Vec<Option<(String, TableArn, Option<String>)>> = stream::iter(names)
        .map(|name| async move {
            let out = match client.describe_table().table_name(&name).send().await {
                Ok(out) => out,
                // Deleted between ListTables and now: it no longer exists, so it is not in the
                // inventory, and the periodic clean-up retires its old result.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_not_found_exception()) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(classify("dynamodb:DescribeTable", role, e)),
            };
            // A description without a table would silently drop a table from the pass.
            let desc = out.table().ok_or_else(|| Error::Aws {
                action: "dynamodb:DescribeTable",
                kind: crate::error::AwsErrorKind::Service,
                code: None,
                message: format!("the response for table {name} has no table description"),
                role: role.map(str::to_string),
                source: "empty DescribeTable response".into(),
            })?;
            let arn_text = desc.table_arn().unwrap_or_default();
            let arn = TableArn::parse(arn_text).ok_or_else(|| Error::Aws {
                action: "dynamodb:DescribeTable",
                kind: crate::error::AwsErrorKind::Service,
                code: None,
                message: format!("table {name} has no table ARN (`{arn_text}`)"),
                role: role.map(str::to_string),
                source: "unexpected DescribeTable response".into(),
            })?;
            Ok::<_, Error>(Some((
                name,
                arn,
                desc.table_status().map(|s| s.as_str().to_string()),
            )))
        })
        .buffered(8)
        .try_collect()
        .await?;
    let mut tables = Vec::with_capacity(described.len());
    for (name, arn, status) in described.into_iter().flatten() {
        let tags = if with_tags {
            table_tags(client, pace, role, &arn.arn).await?
        } else {
            Tags::new()
        };
        tables.push(Table {
            name,
            arn,
            status,
            tags,
        });
    }
    Ok(tables)
}

/// Fails fast when `n` paced tag reads cannot finish before the deadline.
fn check_time(n: usize, tag_rate: u32, deadline: Option<Instant>) -> Result<(), Error> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    // Keep a margin for evaluation and PutEvaluations after the reads.
    let remaining = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(Duration::from_secs(30));
    let needed = Duration::from_secs_f64(n as f64 / f64::from(tag_rate.max(1)));
    if needed > remaining {
        return Err(Error::WouldNotFinish {
            what: format!("reading the tags of {n} tables at {tag_rate} per second (dynamodb:ListTagsOfResource)"),
            needed_secs: needed.as_secs(),
            remaining_secs: remaining.as_secs(),
            advice: "Let AWS Config record AWS::DynamoDB::Table so the rule can use Config's inventory, or raise the function timeout.".to_string(),
        });
    }
    Ok(())
}
