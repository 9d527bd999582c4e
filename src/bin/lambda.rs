//! The Config rule as a Lambda function (`provided.al2023`). Glue only: clients are built once
//! at start and shared by every invocation; each event goes to `rule::handle`.

use dynamodb_backup_rule::aws::{cache_ttl_from_env, AwsEnv};
use dynamodb_backup_rule::{event, rule, Error};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use tracing::error;

/// Maps the library error to the runtime's, with a stable `errorType` alarms can group by.
fn diagnostic(e: Error) -> Diagnostic {
    error!(error_type = e.error_type(), error = %e, "invocation failed");
    Diagnostic {
        error_type: e.error_type().to_string(),
        error_message: e.to_string(),
    }
}

async fn handle(event: LambdaEvent<Value>, env: &AwsEnv) -> Result<Value, Diagnostic> {
    // The function's own account decides whether the event's account needs an assumed role.
    let own_account = event
        .context
        .invoked_function_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty());
    // The payload is decoded here rather than by the runtime so that a malformed event gets
    // the stable InvalidEvent error type.
    let invocation = event::decode_payload(event.payload).map_err(diagnostic)?;
    let handled = rule::handle(&invocation, env, own_account)
        .await
        .map_err(diagnostic)?;
    Ok(json!({
        "account": handled.scope.account,
        "region": handled.scope.region,
        "evaluations": handled.evaluations.iter().map(|e| json!({
            "ComplianceResourceId": e.resource_id,
            "ComplianceType": e.compliance.as_str(),
        })).collect::<Vec<_>>(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let ttl = cache_ttl_from_env().map_err(|e| Box::new(e) as lambda_runtime::Error)?;
    let env = AwsEnv::from_env(ttl).await;
    let env = &env;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(event, env).await
    }))
    .await
}
