//! The Config rule as a Lambda function (`provided.al2023`). Glue only: clients are built once
//! at start and shared by every invocation; each event goes to `rule::handle`.

use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::rule::{reconcile, Caller};
use dynamodb_backup_rule::{event, rule, Error};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use std::time::{Instant, SystemTime};
use tracing::error;

/// Maps the library error to the runtime's, with a stable `errorType` alarms can group by.
fn diagnostic(e: Error) -> Diagnostic {
    error!(error_type = e.error_type(), error = %e, "invocation failed");
    Diagnostic {
        error_type: e.error_type().to_string(),
        error_message: e.to_string(),
    }
}

async fn handle(
    event: LambdaEvent<Value>,
    env: &AwsEnv,
    refresh_days: u32,
) -> Result<Value, Diagnostic> {
    // The function's ARN gives its own account (whether the event's account needs an assumed
    // role) and Region (what a periodic pass evaluates).
    let arn: Vec<&str> = event.context.invoked_function_arn.split(':').collect();
    let part = |i: usize| arn.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
    let remaining = event
        .context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let caller = Caller {
        account: part(4),
        region: part(3).or_else(|| std::env::var("AWS_REGION").ok()),
        deadline: Some(Instant::now() + remaining),
        refresh_after: chrono::Duration::days(i64::from(refresh_days)),
    };
    // The payload is decoded here rather than by the runtime so that a malformed event gets
    // the stable InvalidEvent error type.
    let invocation = event::decode_payload(event.payload).map_err(diagnostic)?;
    let handled = rule::handle(&invocation, env, &caller)
        .await
        .map_err(diagnostic)?;
    let count = |c: &str| {
        handled
            .evaluations
            .iter()
            .filter(|e| e.compliance.as_str() == c)
            .count()
    };
    // Counts of what was put; `decided` and `unchanged` tell what reconciliation saved.
    Ok(json!({
        "account": handled.scope.account,
        "region": handled.scope.region,
        "decided": handled.decided,
        "evaluations": handled.evaluations.len(),
        "unchanged": handled.unchanged,
        "coalesced": handled.coalesced,
        "compliant": count("COMPLIANT"),
        "nonCompliant": count("NON_COMPLIANT"),
        "notApplicable": count("NOT_APPLICABLE"),
    }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = Settings::from_env().map_err(|e| Box::new(e) as lambda_runtime::Error)?;
    let refresh_days =
        reconcile::refresh_days_from(std::env::var(reconcile::REFRESH_DAYS_VAR).ok().as_deref())
            .map_err(|e| Box::new(e) as lambda_runtime::Error)?;
    let env = AwsEnv::from_env(settings).await;
    let env = &env;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(event, env, refresh_days).await
    }))
    .await
}
