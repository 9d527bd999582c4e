//! The one place that turns a fix into text a person runs: AWS CLI commands and a CloudFormation
//! snippet. Everything printed for a shell is built here, so this is the file to review for
//! shell safety.
//!
//! The guarantees, which `tests/remediate_shell.rs` checks by running the commands:
//! - a command holds only `aws` invocations, joined by `&&` so that a failed step stops the rest;
//!   no pipes, redirections, subshells, variables, heredocs or other programs;
//! - every argument is quoted with POSIX shell quoting (the `shlex` crate), so that no string
//!   read from AWS is ever read by the shell as syntax;
//! - structured parameters are JSON (`--tags '[{"Key":…,"Value":…}]'`), never the CLI's
//!   shorthand, whose commas and brackets a value could break;
//! - an option whose value could be read as another option (`-x…`) is written `--opt=value`;
//! - a value holding a control character is never printed: the command would span lines, and a
//!   stored newline must never start a line that looks like a command.

use super::calls::{selection_document, Call};
use serde_json::{json, Value};

/// Why a fix cannot be printed as a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprintable(pub String);

/// One AWS CLI invocation as its words, unquoted.
fn words(call: &Call, region: &str) -> Vec<(String, Option<String>)> {
    // (option or word, value)
    let mut w: Vec<(String, Option<String>)> = Vec::new();
    let cmd = |service: &str, op: &str| {
        vec![
            ("aws".to_string(), None),
            (service.to_string(), None),
            (op.to_string(), None),
            ("--region".to_string(), Some(region.to_string())),
        ]
    };
    match call {
        Call::TagResource { resource_arn, tags } => {
            w.extend(cmd("dynamodb", "tag-resource"));
            w.push(("--resource-arn".into(), Some(resource_arn.clone())));
            let tags: Vec<Value> = tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            w.push(("--tags".into(), Some(Value::Array(tags).to_string())));
        }
        Call::UntagResource {
            resource_arn,
            tag_keys,
        } => {
            w.extend(cmd("dynamodb", "untag-resource"));
            w.push(("--resource-arn".into(), Some(resource_arn.clone())));
            w.push(("--tag-keys".into(), Some(json!(tag_keys).to_string())));
        }
        Call::CreateBackupSelection { plan_id, selection } => {
            w.extend(cmd("backup", "create-backup-selection"));
            w.push(("--backup-plan-id".into(), Some(plan_id.clone())));
            w.push((
                "--backup-selection".into(),
                Some(selection_document(selection).to_string()),
            ));
        }
        Call::DeleteBackupSelection {
            plan_id,
            selection_id,
        } => {
            w.extend(cmd("backup", "delete-backup-selection"));
            w.push(("--backup-plan-id".into(), Some(plan_id.clone())));
            w.push(("--selection-id".into(), Some(selection_id.clone())));
        }
        Call::UpdateBackupPlan { plan_id, plan } => {
            w.extend(cmd("backup", "update-backup-plan"));
            w.push(("--backup-plan-id".into(), Some(plan_id.clone())));
            w.push((
                "--backup-plan".into(),
                Some(Value::Object(plan.clone()).to_string()),
            ));
        }
        Call::PutBackupVaultLockConfiguration {
            vault,
            min,
            max,
            changeable_for_days,
        } => {
            w.extend(cmd("backup", "put-backup-vault-lock-configuration"));
            w.push(("--backup-vault-name".into(), Some(vault.clone())));
            for (opt, v) in [
                ("--min-retention-days", min),
                ("--max-retention-days", max),
                ("--changeable-for-days", changeable_for_days),
            ] {
                if let Some(v) = v {
                    w.push((opt.into(), Some(v.to_string())));
                }
            }
        }
        Call::OptInDynamoDb => {
            w.extend(cmd("backup", "update-region-settings"));
            w.push((
                "--resource-type-opt-in-preference".into(),
                Some(json!({"DynamoDB": true}).to_string()),
            ));
        }
    }
    w
}

/// Each call's AWS CLI arguments, unquoted: what `aws` must receive, word for word, when the
/// printed command runs.
pub fn argv(calls: &[Call], region: &str) -> Vec<Vec<String>> {
    calls
        .iter()
        .map(|call| {
            words(call, region)
                .into_iter()
                .flat_map(|(word, value)| match value {
                    Some(v) if v.starts_with('-') => vec![format!("{word}={v}")],
                    Some(v) => vec![word, v],
                    None => vec![word],
                })
                .collect()
        })
        .collect()
}

/// The AWS CLI command that makes `calls`, in order: one line, steps joined by `&&`.
pub fn command(calls: &[Call], region: &str) -> Result<String, Unprintable> {
    let mut steps = Vec::with_capacity(calls.len());
    for call in calls {
        let mut parts: Vec<String> = Vec::new();
        for (word, value) in words(call, region) {
            let Some(value) = value else {
                parts.push(word);
                continue;
            };
            if value.chars().any(char::is_control) {
                return Err(Unprintable(format!(
                    "the value of {word} read from AWS holds a control character"
                )));
            }
            // `--opt -x` would read `-x` as an option; `--opt=-x` cannot.
            let token = if value.starts_with('-') {
                quote(&format!("{word}={value}"))?
            } else {
                format!("{word} {}", quote(&value)?)
            };
            parts.push(token);
        }
        steps.push(parts.join(" "));
    }
    Ok(steps.join(" && "))
}

fn quote(s: &str) -> Result<String, Unprintable> {
    shlex::try_quote(s)
        .map(|q| q.into_owned())
        .map_err(|e| Unprintable(e.to_string()))
}

/// A CloudFormation resource for a selection a fix creates.
pub fn cfn_selection(plan_id: &str, selection: &crate::model::Selection) -> String {
    let doc = json!({"Type": "AWS::Backup::BackupSelection", "Properties": {
        "BackupPlanId": plan_id, "BackupSelection": selection_document(selection)}});
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_quoted_and_json_carries_structure() {
        let call = Call::TagResource {
            resource_arn: "arn:aws:dynamodb:us-east-1:111122223333:table/t".into(),
            tags: vec![("k".into(), "it's $(id); a,b [c] ".into())],
        };
        let cmd = command(&[call], "us-east-1").unwrap();
        assert!(cmd.starts_with("aws dynamodb tag-resource --region us-east-1 "));
        let args = shlex::split(&cmd).unwrap();
        let tags: Value = serde_json::from_str(&args[args.len() - 1]).unwrap();
        assert_eq!(tags[0]["Value"], "it's $(id); a,b [c] ");
    }

    #[test]
    fn a_value_like_an_option_is_attached_and_control_characters_are_refused() {
        let call = Call::DeleteBackupSelection {
            plan_id: "-p".into(),
            selection_id: "s".into(),
        };
        let cmd = command(&[call], "us-east-1").unwrap();
        assert!(cmd.contains("--backup-plan-id=-p"), "{cmd}");
        let bad = Call::DeleteBackupSelection {
            plan_id: "p\nrm -rf /".into(),
            selection_id: "s".into(),
        };
        assert!(command(&[bad], "us-east-1").is_err());
    }

    #[test]
    fn steps_are_joined_so_that_a_failure_stops_the_rest() {
        let calls = [Call::OptInDynamoDb, Call::OptInDynamoDb];
        let cmd = command(&calls, "eu-west-1").unwrap();
        assert_eq!(cmd.matches(" && aws backup").count(), 1, "{cmd}");
        assert!(!cmd.contains('\n'));
    }
}
