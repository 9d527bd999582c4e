//! DynamoDB: one table, table tags, and the table inventory when Config's cannot be trusted.

use super::error::classify;
use super::pace::Pacer;
use crate::error::{AwsErrorKind, Error};
use crate::model::{Table, TableArn, Tags};
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// `DescribeTable` calls in flight at once.
const DESCRIBE_IN_FLIGHT: usize = 8;

/// `ListTagsOfResource`, paged to exhaustion, each page paced; `None` when DynamoDB answers that
/// the table does not exist.
pub(crate) async fn table_tags(
    client: &Client,
    pace: &Pacer,
    role: Option<&str>,
    arn: &str,
) -> Result<Option<Tags>, Error> {
    let mut tags = Tags::new();
    let mut token: Option<String> = None;
    loop {
        pace.acquire().await;
        let out = client
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token.take())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(classify("dynamodb:ListTagsOfResource", role, e)),
        };
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(Some(tags)),
        }
    }
}

/// One table's name, ARN and status from `DescribeTable`; `None` when DynamoDB answers that it
/// does not exist.
pub(crate) async fn describe(
    client: &Client,
    role: Option<&str>,
    name: &str,
) -> Result<Option<Table>, Error> {
    let out = match client.describe_table().table_name(name).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(classify("dynamodb:DescribeTable", role, e)),
    };
    let unexpected = |message: String, source: &str| Error::Aws {
        action: "dynamodb:DescribeTable",
        kind: AwsErrorKind::Service,
        code: None,
        message,
        role: role.map(str::to_string),
        source: source.to_string().into(),
    };
    // A description without a table would silently drop a table from the pass.
    let desc = out.table().ok_or_else(|| {
        unexpected(
            format!("the response for table {name} has no table description"),
            "empty DescribeTable response",
        )
    })?;
    let arn_text = desc.table_arn().unwrap_or_default();
    let arn = TableArn::parse(arn_text).ok_or_else(|| {
        unexpected(
            format!("table {name} has no table ARN (`{arn_text}`)"),
            "unexpected DescribeTable response",
        )
    })?;
    Ok(Some(Table {
        name: name.to_string(),
        arn,
        status: desc.table_status().map(|s| s.as_str().to_string()),
        tags: Tags::new(),
        generated_name: false,
    }))
}

/// Every table of the client's Region from DynamoDB itself: `ListTables`, `DescribeTable` (eight
/// in flight) and, when `tags` is given, the tags read in bulk from the Tagging API.
///
/// When the `DescribeTable` calls could not finish before `deadline` at `describe_rate`, it
/// fails at once rather than running out the clock or putting a partial set. A table deleted
/// between `ListTables` and `DescribeTable` no longer exists, so it is left out.
pub(crate) async fn tables(
    client: &Client,
    role: Option<&str>,
    tags: Option<&HashMap<String, Tags>>,
    describe_rate: f64,
    deadline: Option<Instant>,
    shown: Option<&Described<'_>>,
) -> Result<Vec<Table>, Error> {
    let mut names: Vec<String> = Vec::new();
    let mut pages = client.list_tables().into_paginator().items().send();
    while let Some(name) = pages.next().await {
        names.push(name.map_err(|e| classify("dynamodb:ListTables", role, e))?);
    }
    check_time(names.len(), describe_rate, deadline)?;
    if let Some(s) = shown {
        s.progress.start(s.what.clone(), Some(names.len() as u64));
    }
    let described: Result<Vec<Option<Table>>, Error> = stream::iter(names)
        .map(|name| async move {
            let t = describe(client, role, &name).await;
            if let Some(s) = shown {
                s.progress.advance(1);
            }
            t
        })
        .buffered(DESCRIBE_IN_FLIGHT)
        .try_collect()
        .await;
    if let Some(s) = shown {
        s.progress.finish();
    }
    let described = described?;
    Ok(described
        .into_iter()
        .flatten()
        .map(|mut t| {
            if let Some(tags) = tags {
                t.tags = tags.get(&t.arn.arn).cloned().unwrap_or_default();
            }
            t
        })
        .collect())
}

/// Where `tables` reports each table described, and under what name.
pub(crate) struct Described<'a> {
    /// The phase's name, with its Region.
    pub what: String,
    /// Who is told.
    pub progress: &'a dyn crate::ports::Progress,
}

/// Fails fast when `n` `DescribeTable` calls cannot be done by `finish_by` (the caller keeps
/// its own margin out of it).
fn check_time(n: usize, rate: f64, finish_by: Option<Instant>) -> Result<(), Error> {
    let Some(finish_by) = finish_by else {
        return Ok(());
    };
    let remaining = finish_by.saturating_duration_since(Instant::now());
    let needed = Duration::from_secs_f64(n as f64 / rate.max(f64::MIN_POSITIVE));
    if needed > remaining {
        return Err(Error::WouldNotFinish {
            what: format!("describing {n} tables at about {rate} per second (dynamodb:DescribeTable)"),
            needed_secs: needed.as_secs(),
            remaining_secs: remaining.as_secs(),
            advice: "Let AWS Config record AWS::DynamoDB::Table continuously so the rule can use Config's inventory, or raise the function timeout.".to_string(),
        });
    }
    Ok(())
}
