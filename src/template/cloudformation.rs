//! `AWS::DynamoDB::Table`, `AWS::DynamoDB::GlobalTable` (one table per replica Region) and
//! `AWS::Serverless::SimpleTable` in a CloudFormation or SAM template, and the same resource
//! types in a Lambda Hook's request (whose properties are already resolved).

use super::intrinsics::{resolve, Context, Parameters};
use super::{Known, ProposedName, ProposedTable};
use serde_json::Value;

/// The resource types that make DynamoDB tables.
pub const TABLE_TYPES: [&str; 3] = [
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::GlobalTable",
    "AWS::Serverless::SimpleTable",
];

/// Every table a template's resources would make.
pub fn parse_cloudformation(
    doc: &Value,
    text: &str,
    ctx: &Context,
) -> Result<Vec<ProposedTable>, String> {
    let resources = doc
        .get("Resources")
        .and_then(Value::as_object)
        .ok_or("not a CloudFormation template: no `Resources` mapping (nor a Terraform plan)")?;
    let params = Parameters::of(doc, ctx);
    let mut out = Vec::new();
    for (logical_id, resource) in resources {
        let Some(kind) = resource.get("Type").and_then(Value::as_str) else {
            return Err(format!("Resources.{logical_id}: no `Type`"));
        };
        if !TABLE_TYPES.contains(&kind) {
            continue;
        }
        let empty = Value::Object(Default::default());
        let props = resource.get("Properties").unwrap_or(&empty);
        if !props.is_object() {
            return Err(format!(
                "Resources.{logical_id}.Properties: expected a mapping"
            ));
        }
        let line = line_of(text, logical_id);
        let resolve = |v: &Value| resolve(v, &params, ctx);
        let tables = tables_of(logical_id, kind, props, ctx, &resolve)
            .map_err(|e| format!("Resources.{logical_id}.{e}"))?;
        out.extend(tables.into_iter().map(|mut t| {
            t.line = line;
            t
        }));
    }
    // The parser's mappings are sorted by key; the file's order reads better.
    out.sort_by_key(|t| t.line.unwrap_or(usize::MAX));
    Ok(out)
}

/// The tables of one resource of a Lambda Hook request: its properties are resolved already,
/// and a missing `TableName` is generated from the stack's name.
pub fn from_hook_properties(
    logical_id: &str,
    resource_type: &str,
    props: &Value,
    ctx: &Context,
) -> Result<Vec<ProposedTable>, String> {
    let params = Parameters::default();
    let resolve = |v: &Value| resolve(v, &params, ctx);
    tables_of(logical_id, resource_type, props, ctx, &resolve)
        .map_err(|e| format!("requestData.targetModel.resourceProperties.{e}"))
}

fn tables_of(
    logical_id: &str,
    kind: &str,
    props: &Value,
    ctx: &Context,
    resolve: &dyn Fn(&Value) -> Known<String>,
) -> Result<Vec<ProposedTable>, String> {
    let name = match props.get("TableName") {
        None => ProposedName::Generated {
            start: ctx
                .stack_name
                .as_ref()
                .map(|stack| format!("{stack}-{logical_id}-")),
        },
        Some(v) => match resolve(v) {
            Known::Value(n) => ProposedName::Known(n),
            Known::Unknown(why) => ProposedName::Unknown(format!("TableName: {why}")),
        },
    };
    let region = match &ctx.region {
        Some(r) => Known::Value(r.clone()),
        None => Known::Unknown("the stack's Region is not known; give --region".into()),
    };
    let table = |region: Known<String>, tags: &Value, at: &str| -> Result<ProposedTable, String> {
        let (tags, tags_unknown) = tags_of(tags, kind, resolve).map_err(|e| format!("{at}{e}"))?;
        Ok(ProposedTable {
            resource: logical_id.to_string(),
            resource_type: kind.to_string(),
            region,
            name: name.clone(),
            tags,
            tags_unknown,
            line: None,
        })
    };
    let none = Value::Null;
    if kind != "AWS::DynamoDB::GlobalTable" {
        return Ok(vec![table(
            region,
            props.get("Tags").unwrap_or(&none),
            "Tags",
        )?]);
    }
    // A global table's replicas each carry their own Region and tags.
    let replicas = props
        .get("Replicas")
        .and_then(Value::as_array)
        .ok_or("Replicas: expected a list of replicas")?;
    replicas
        .iter()
        .enumerate()
        .map(|(i, replica)| {
            let region = match replica.get("Region") {
                Some(r) => resolve(r),
                None => return Err(format!("Replicas[{i}].Region: missing")),
            };
            table(
                region,
                replica.get("Tags").unwrap_or(&none),
                &format!("Replicas[{i}].Tags"),
            )
        })
        .collect()
}

type Tags = (Vec<(String, Known<String>)>, Option<String>);

/// Tags as `[{Key, Value}]` (CloudFormation) or `{key: value}` (SAM's `SimpleTable`).
fn tags_of(
    v: &Value,
    kind: &str,
    resolve: &dyn Fn(&Value) -> Known<String>,
) -> Result<Tags, String> {
    let mut out = Vec::new();
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let key = item.get("Key").map(resolve);
                let value = item.get("Value").map(resolve);
                match (key, value) {
                    (Some(Known::Value(k)), Some(v)) => out.push((k, v)),
                    (Some(Known::Unknown(why)), _) => {
                        return Ok((out, Some(format!("the key of tag {i} is not known: {why}"))))
                    }
                    _ => return Err(format!("[{i}]: expected {{Key, Value}}")),
                }
            }
        }
        Value::Object(map) if kind == "AWS::Serverless::SimpleTable" => {
            for (k, v) in map {
                out.push((k.clone(), resolve(v)));
            }
        }
        Value::Object(map)
            if map.len() == 1 && map.keys().any(|k| k == "Ref" || k.starts_with("Fn::")) =>
        {
            let why = match resolve(v) {
                Known::Unknown(why) => why,
                Known::Value(_) => "a function in place of the tag list".into(),
            };
            return Ok((out, Some(why)));
        }
        _ => return Err(": expected a list of {Key, Value}".into()),
    }
    Ok((out, None))
}

/// The line (1-based) of a resource's logical ID under `Resources`, found in the text: the
/// first line after `Resources` whose key is the ID, quoted or not.
fn line_of(text: &str, logical_id: &str) -> Option<usize> {
    let mut in_resources = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let key = trimmed
            .trim_start_matches(['"', '\''])
            .split(['"', '\'', ':'])
            .next()
            .unwrap_or("");
        if !in_resources {
            in_resources = key == "Resources";
            continue;
        }
        if key == logical_id
            && trimmed[trimmed.find(logical_id)? + logical_id.len()..]
                .trim_start_matches(['"', '\''])
                .trim_start()
                .starts_with(':')
        {
            return Some(i + 1);
        }
    }
    None
}
