//! The first verified fix for tables a template proposes, said as a change to the template where
//! one will do (tags to set in the resource's `Tags`), else as the account change. Found the way
//! every fix is: candidates verified by deciding the table again with the change applied
//! ([`super::first_fixes`]), on a Region that holds the proposed tables instead of the account's.

use super::calls::Call;
use super::{first_fixes, Action};
use crate::model::{RegionCatalog, RegionSnapshot, Table};
use crate::params::RuleParameters;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The first verified fix for one table (as `rule::proposed::table_of` builds it), or `None`
/// when no candidate verifies.
pub fn proposed_fix(
    params: &RuleParameters,
    table: &Table,
    catalog: &RegionCatalog,
    now: DateTime<Utc>,
) -> Option<String> {
    proposed_fixes(params, std::slice::from_ref(table), catalog, now)
        .pop()
        .flatten()
}

/// The first verified fix for each table of one Region, in order. The tables are remediated
/// together (one copy of the catalog, one index); a table whose ARN another one shares is
/// remediated alone, so no fix is given to the wrong one.
pub fn proposed_fixes(
    params: &RuleParameters,
    tables: &[Table],
    catalog: &RegionCatalog,
    now: DateTime<Utc>,
) -> Vec<Option<String>> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for t in tables {
        *count.entry(t.arn.arn.as_str()).or_default() += 1;
    }
    let shared = |t: &Table| count[t.arn.arn.as_str()] > 1;
    let remediate = |tables: Vec<Table>| -> HashMap<String, String> {
        let region = RegionSnapshot {
            catalog: catalog.clone(),
            tables,
            recovery_points: Default::default(),
        };
        first_fixes(&region, params, now, None)
            .into_iter()
            .filter_map(|r| Some((r.resource_arn.clone(), said(r.first_verified()?))))
            .collect()
    };
    let unique: Vec<Table> = tables.iter().filter(|t| !shared(t)).cloned().collect();
    let mut found = if unique.is_empty() {
        HashMap::new()
    } else {
        remediate(unique)
    };
    tables
        .iter()
        .map(|t| {
            if shared(t) {
                remediate(vec![t.clone()]).remove(&t.arn.arn)
            } else {
                found.remove(&t.arn.arn)
            }
        })
        .collect()
}

/// A tag key or value as a YAML (and JSON) double-quoted scalar: the text comes from a
/// selection read from AWS, and may hold `:`, `,`, `}`, quotes or control characters that
/// would otherwise change what a pasted entry means.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// An action as a change to make: tags in the template, or the account change.
fn said(action: &Action) -> String {
    let tags: Option<Vec<String>> = action
        .calls
        .iter()
        .map(|c| match c {
            Call::TagResource { tags, .. } => Some(
                tags.iter()
                    .map(|(k, v)| format!("{{Key: {}, Value: {}}}", quoted(k), quoted(v)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        })
        .collect();
    match tags {
        Some(tags) if !tags.is_empty() => {
            format!("set in the resource's Tags: {}", tags.join(", "))
        }
        // The command is the one `remediate` prints: rendered by the shell-safe renderer.
        _ if !action.command.is_empty() => {
            format!("in the account: {}: {}", action.description, action.command)
        }
        _ => format!("in the account: {}", action.description),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remedy::Kind;

    fn action(calls: Vec<Call>, command: &str) -> Action {
        let mut a = crate::remedy::candidates::action(Kind::TagResource, "do it".into(), calls);
        a.command = command.into();
        a.verified = true;
        a
    }

    #[test]
    fn tags_are_said_as_a_template_change_and_the_rest_as_the_account_command() {
        let tag = Call::TagResource {
            resource_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/t".into(),
            tags: vec![
                ("backup".into(), "daily".into()),
                ("env".into(), "prod".into()),
            ],
        };
        assert_eq!(
            said(&action(vec![tag], "aws dynamodb tag-resource ...")),
            r#"set in the resource's Tags: {Key: "backup", Value: "daily"}, {Key: "env", Value: "prod"}"#
        );
        // A value that would end the entry or the line is quoted, and reads back as itself.
        let hostile = "a, b}: \"x\"\n- {Key: y";
        let text = said(&action(
            vec![Call::TagResource {
                resource_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/t".into(),
                tags: vec![("k".into(), hostile.into())],
            }],
            "",
        ));
        assert!(!text.contains('\n'), "{text}");
        let entry = text.trim_start_matches("set in the resource's Tags: ");
        let back: serde_norway::Value = serde_norway::from_str(entry).expect("a YAML mapping");
        assert_eq!(back["Value"].as_str(), Some(hostile));
        let delete = Call::DeleteBackupSelection {
            plan_id: "p".into(),
            selection_id: "s".into(),
        };
        assert_eq!(
            said(&action(vec![delete.clone()], "aws backup delete-backup-selection --backup-plan-id p --selection-id s")),
            "in the account: do it: aws backup delete-backup-selection --backup-plan-id p --selection-id s"
        );
        assert_eq!(said(&action(vec![delete], "")), "in the account: do it");
    }
}
