//! `aws_dynamodb_table` in a Terraform plan as `terraform show -json` writes it: the resources
//! the plan creates or updates, with `tags_all` (which includes the provider's `default_tags`),
//! `after_unknown` for values known only after apply, and one table per `replica` Region.

use super::intrinsics::Context;
use super::{Known, ProposedName, ProposedTable};
use serde_json::Value;

/// Every `aws_dynamodb_table` the plan creates or updates.
pub fn parse_terraform_plan(doc: &Value, ctx: &Context) -> Result<Vec<ProposedTable>, String> {
    let version = doc
        .get("format_version")
        .and_then(Value::as_str)
        .ok_or("format_version: expected text such as \"1.2\"")?;
    if version.split('.').next() != Some("1") {
        return Err(format!(
            "format_version {version}: only Terraform plan format 1.x is understood"
        ));
    }
    let provider_region = doc
        .pointer("/configuration/provider_config/aws/expressions/region/constant_value")
        .and_then(Value::as_str)
        .map(str::to_string);
    let changes = match doc.get("resource_changes") {
        None => return Ok(Vec::new()),
        Some(Value::Array(c)) => c,
        Some(_) => return Err("resource_changes: expected a list".into()),
    };
    let mut out = Vec::new();
    for (i, rc) in changes.iter().enumerate() {
        if rc.get("type").and_then(Value::as_str) != Some("aws_dynamodb_table") {
            continue;
        }
        let at = |field: &str| format!("resource_changes[{i}].{field}");
        let address = rc
            .get("address")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: expected text", at("address")))?;
        let actions: Vec<&str> = rc
            .pointer("/change/actions")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: expected a list", at("change.actions")))?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // Deletes, no-ops and reads change no table that will exist.
        if !actions.iter().any(|a| *a == "create" || *a == "update") {
            continue;
        }
        let after = rc.pointer("/change/after").unwrap_or(&Value::Null);
        let unknown = rc.pointer("/change/after_unknown").unwrap_or(&Value::Null);
        let is_unknown = |field: &str| unknown.get(field) == Some(&Value::Bool(true));
        let name = match after.get("name").and_then(Value::as_str) {
            Some(n) => ProposedName::Known(n.to_string()),
            None if is_unknown("name") => {
                ProposedName::Unknown("name is known only after apply".into())
            }
            None => {
                return Err(format!(
                    "{}: expected the table name",
                    at("change.after.name")
                ))
            }
        };
        let (tags, tags_unknown) = tags(after, unknown);
        let region = after
            .get("region")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| provider_region.clone())
            .or_else(|| ctx.region.clone());
        let table = |region: Known<String>| ProposedTable {
            resource: address.to_string(),
            resource_type: "aws_dynamodb_table".into(),
            region,
            name: name.clone(),
            tags: tags.clone(),
            tags_unknown: tags_unknown.clone(),
            line: None,
        };
        out.push(table(match &region {
            Some(r) => Known::Value(r.clone()),
            None => Known::Unknown(
                "the provider's Region is not a constant in the plan; give --region".into(),
            ),
        }));
        // Replicas are tables of the same name in other Regions.
        if let Some(replicas) = after.get("replica").and_then(Value::as_array) {
            for (j, replica) in replicas.iter().enumerate() {
                let region = match replica.get("region_name").and_then(Value::as_str) {
                    Some(r) => Known::Value(r.to_string()),
                    None => Known::Unknown(format!("replica {j}'s region_name is not known")),
                };
                out.push(table(region));
            }
        }
    }
    Ok(out)
}

type Tags = (Vec<(String, Known<String>)>, Option<String>);

/// `tags_all` (with the provider's default tags) where the plan has it, else `tags`.
fn tags(after: &Value, unknown: &Value) -> Tags {
    let field = if after.get("tags_all").is_some() || unknown.get("tags_all").is_some() {
        "tags_all"
    } else {
        "tags"
    };
    if unknown.get(field) == Some(&Value::Bool(true)) {
        return (
            Vec::new(),
            Some(format!("{field} is known only after apply")),
        );
    }
    let unknown_keys = unknown.get(field);
    let mut out = Vec::new();
    if let Some(map) = after.get(field).and_then(Value::as_object) {
        for (k, v) in map {
            let value = match v.as_str() {
                Some(s) => Known::Value(s.to_string()),
                None => Known::Unknown(format!("tag {k} is known only after apply")),
            };
            out.push((k.clone(), value));
        }
    }
    // A tag whose value is computed appears in after_unknown, not in after.
    if let Some(map) = unknown_keys.and_then(Value::as_object) {
        for (k, v) in map {
            if v == &Value::Bool(true) && !out.iter().any(|(key, _)| key == k) {
                out.push((
                    k.clone(),
                    Known::Unknown(format!("tag {k} is known only after apply")),
                ));
            }
        }
    }
    (out, None)
}
