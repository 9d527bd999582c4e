//! The CloudFormation Lambda Hook: before CloudFormation creates or updates a DynamoDB table,
//! would the account's AWS Backup plans protect it? The request's proposed properties go through
//! [`super::proposed::decide_proposed`] (and so [`super::decide`]) against the catalog of each
//! Region the table would be in: the stack's, or each replica's for a global table.
//!
//! - `SUCCESS` when every table would be protected; `FAILED` with `NonCompliant` and the reason
//!   (naming the Region of each unprotected replica) when not; `FAILED` with `InternalFailure`
//!   saying what failed when a read fails, never a verdict.
//! - A catalog too large to read within the hook's 30 s answers `IN_PROGRESS`: what was read is
//!   kept in the catalog cache ([`Freshness::Resume`]), so the next invocation goes on from there
//!   rather than starting again. CloudFormation invokes a Lambda hook at most three times, so the
//!   third invocation answers finally: `FAILED` with `InternalFailure` if the catalog is still
//!   not read, never a verdict from part of it.
//! - `DELETE_PRE_PROVISION` and other target types: `SUCCESS`, nothing read.

use super::proposed::{decide_proposed, table_of};
use crate::coverage::{CatalogIndex, Compliance};
use crate::error::Error;
use crate::model::{RegionCatalog, Table};
use crate::params::RuleParameters;
use crate::ports::{BackupCatalog, Freshness, Scope};
use crate::template::{from_hook_properties, Context, Known, ProposedTable};
use serde_json::{json, Value};
use std::time::Instant;
use tracing::info;

/// The environment variable holding the policy parameters: the same JSON object as the Config
/// rule's `InputParameters`.
pub const PARAMETERS_VAR: &str = "HOOK_RULE_PARAMETERS";

/// How many times CloudFormation invokes a Lambda hook for one operation, at most: it accepts
/// `IN_PROGRESS` three times, which for a Lambda hook means three invocations in all, so the
/// last must give a final answer.
pub const MAX_INVOCATIONS: u64 = 3;

/// Whether an event is a Lambda Hook invocation rather than a Config event, by its shape.
pub fn is_hook_event(event: &Value) -> bool {
    event.get("clientRequestToken").is_some()
        && (event.get("actionInvocationPoint").is_some() || event.get("hookTypeName").is_some())
}

/// One resource operation a hook is asked about.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRequest {
    /// Echoed in the answer.
    pub client_request_token: String,
    /// `CREATE_PRE_PROVISION`, `UPDATE_PRE_PROVISION`, `DELETE_PRE_PROVISION`.
    pub action: String,
    /// The account.
    pub account: String,
    /// The stack's name and Region, from `stackId` (empty for Cloud Control).
    pub stack_name: Option<String>,
    /// The stack's Region, from `stackId`.
    pub region: Option<String>,
    /// `AWS::DynamoDB::Table`, …
    pub target_name: String,
    /// The resource's logical ID.
    pub logical_id: String,
    /// The proposed properties.
    pub properties: Value,
    /// Which invocation of this operation this is (1 the first).
    pub invocation: u64,
}

fn invalid(field: &str, expected: &str) -> Error {
    Error::InvalidEvent {
        field: field.to_string(),
        expected: expected.to_string(),
        source: None,
    }
}

/// Reads a hook invocation; a malformed one is `InvalidEvent` naming the field.
pub fn parse_request(event: &Value) -> Result<HookRequest, Error> {
    let text = |field: &str| -> Result<String, Error> {
        event
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| invalid(field, "text"))
    };
    let client_request_token = text("clientRequestToken")?;
    let action = text("actionInvocationPoint")?;
    let account = text("awsAccountId")?;
    // arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>
    let stack_id = event.get("stackId").and_then(Value::as_str).unwrap_or("");
    let (region, stack_name) = if stack_id.is_empty() {
        (None, None)
    } else {
        let parts: Vec<&str> = stack_id.splitn(6, ':').collect();
        let name = parts
            .get(5)
            .and_then(|r| r.strip_prefix("stack/"))
            .and_then(|r| r.split('/').next());
        match (parts.get(3), name) {
            (Some(region), Some(name)) if !region.is_empty() && !name.is_empty() => {
                (Some(region.to_string()), Some(name.to_string()))
            }
            _ => return Err(invalid(
                "stackId",
                "a stack ARN, arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>",
            )),
        }
    };
    let request = event
        .get("requestData")
        .filter(|v| v.is_object())
        .ok_or_else(|| invalid("requestData", "an object"))?;
    let target_name = request
        .get("targetName")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("requestData.targetName", "the resource type"))?
        .to_string();
    let logical_id = request
        .get("targetLogicalId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let properties = request
        .pointer("/targetModel/resourceProperties")
        .cloned()
        .unwrap_or(Value::Null);
    let invocation = event
        .pointer("/requestContext/invocation")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    Ok(HookRequest {
        client_request_token,
        action,
        account,
        stack_name,
        region,
        target_name,
        logical_id,
        properties,
        invocation,
    })
}

/// The hook's answer.
fn answer(token: &str, status: &str, code: Option<&str>, message: String) -> Value {
    // CloudFormation truncates at 4,096 characters; cut on a character boundary first.
    let message: String = message.chars().take(4_096).collect();
    let mut out = json!({
        "hookStatus": status,
        "message": message,
        "clientRequestToken": token,
    });
    if let Some(code) = code {
        out["errorCode"] = json!(code);
    }
    out
}

/// Finds the first verified fix of a NON_COMPLIANT proposed table, said as a change to make;
/// the Lambda passes `remedy::proposed::proposed_fix` (the decision layer does not depend on
/// remediation).
pub type FixFinder<'a> = &'a (dyn Fn(&Table, &RegionCatalog) -> Option<String> + Sync);

/// Answers one hook invocation. `finish_by` bounds the catalog reads (the hook waits 30 s).
pub async fn handle_hook(
    request: &HookRequest,
    params: &RuleParameters,
    env: &impl BackupCatalog,
    role_arn: Option<String>,
    finish_by: Instant,
    fix: FixFinder<'_>,
) -> Value {
    let token = request.client_request_token.as_str();
    let judged = ["CREATE_PRE_PROVISION", "UPDATE_PRE_PROVISION"];
    let is_table = crate::template::TABLE_TYPES[..2].contains(&request.target_name.as_str());
    if !judged.contains(&request.action.as_str()) || !is_table {
        return answer(
            token,
            "SUCCESS",
            None,
            format!(
                "{} of {}: nothing to judge",
                request.action, request.target_name
            ),
        );
    }
    let ctx = Context {
        stack_name: request.stack_name.clone(),
        region: request.region.clone(),
        account: Some(request.account.clone()),
        parameters: Default::default(),
    };
    let tables = match from_hook_properties(
        &request.logical_id,
        &request.target_name,
        &request.properties,
        &ctx,
    ) {
        Ok(t) => t,
        Err(problem) => {
            return answer(
                token,
                "FAILED",
                Some("InternalFailure"),
                format!("the hook could not read the proposed properties: {problem}"),
            )
        }
    };
    let mut failed: Vec<String> = Vec::new();
    let mut passed: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    for table in &tables {
        match judge(
            table,
            params,
            env,
            &request.account,
            role_arn.clone(),
            finish_by,
            fix,
        )
        .await
        {
            Ok((region, compliance, reason, found)) => {
                fixes.extend(found.map(|f| format!("{region}: {f}")));
                info!(resource = %request.logical_id, region = %region, compliance = compliance.as_str(), reason = %reason, "hook verdict");
                let line = format!("{region}: {reason}");
                if compliance == Compliance::NonCompliant {
                    failed.push(line);
                } else {
                    passed.push(line);
                }
            }
            Err(Error::WouldNotFinish { what, .. }) if request.invocation < MAX_INVOCATIONS => {
                info!(resource = %request.logical_id, invocation = request.invocation, what = %what, "hook needs another invocation");
                let mut out = answer(
                    token,
                    "IN_PROGRESS",
                    None,
                    format!("still reading the AWS Backup catalog ({what}); what was read is kept for the next invocation"),
                );
                out["callbackContext"] = json!({ "invocation": request.invocation });
                out["callbackDelaySeconds"] = json!(1);
                return out;
            }
            Err(e) => {
                return answer(
                    token,
                    "FAILED",
                    Some("InternalFailure"),
                    format!("could not judge {}: {e}", request.logical_id),
                )
            }
        }
    }
    if failed.is_empty() {
        return answer(
            token,
            "SUCCESS",
            None,
            format!(
                "{} would be protected: {}",
                request.logical_id,
                passed.join("; ")
            ),
        );
    }
    let mut out = answer(
        token,
        "FAILED",
        Some("NonCompliant"),
        format!(
            "{} would not be protected by an AWS Backup plan: {}",
            request.logical_id,
            failed.join("; ")
        ),
    );
    out["annotations"] = json!([{
        "annotationName": "DynamoDbTableProtectedByBackupPlan",
        "status": "FAILED",
        "statusMessage": failed.join("; ").chars().take(1_024).collect::<String>(),
        "remediationMessage": if fixes.is_empty() {
            "No single change was verified to protect it; run `dynamodb-backup-rule check-template` on the template and `remediate` on the account for the options.".to_string()
        } else {
            fixes.join("; ").chars().take(1_024).collect::<String>()
        },
        "severityLevel": "HIGH",
    }]);
    out
}

/// One table's verdict in its Region, and its first verified fix when NON_COMPLIANT.
async fn judge(
    table: &ProposedTable,
    params: &RuleParameters,
    env: &impl BackupCatalog,
    account: &str,
    role_arn: Option<String>,
    finish_by: Instant,
    fix: FixFinder<'_>,
) -> Result<(String, Compliance, String, Option<String>), Error> {
    let region = match &table.region {
        Known::Value(r) => r.clone(),
        Known::Unknown(why) => {
            return Ok((
                "(unknown Region)".into(),
                Compliance::NonCompliant,
                format!("not proven covered: the Region is not known ({why})"),
                None,
            ))
        }
    };
    let scope = Scope {
        account: account.to_string(),
        region: region.clone(),
        role_arn,
    };
    let catalog = env
        .region_catalog(&scope, Freshness::Resume, Some(finish_by))
        .await?;
    let index = CatalogIndex::new(&catalog);
    let verdict = decide_proposed(params, table, account, &index);
    let found = (verdict.compliance == Compliance::NonCompliant)
        .then(|| fix(&table_of(table, account, &region), &catalog))
        .flatten();
    Ok((region, verdict.compliance, verdict.reason, found))
}
