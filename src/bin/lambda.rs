//! The Config rule, and the CloudFormation Lambda Hook, as a Lambda function
//! (`provided.al2023`). Glue only: clients are built once at start and shared by every
//! invocation; a hook invocation (told by its shape) goes to `rule::hook`, every other event to
//! `rule::handle`.

use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::rule::{hook, reconcile, Caller};
use dynamodb_backup_rule::{event, rule, Error};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};
use tracing::error;

/// Maps the library error to the runtime's, with a stable `errorType` alarms can group by.
fn diagnostic(e: Error) -> Diagnostic {
    error!(error_type = e.error_type(), error = %e, "invocation failed");
    Diagnostic {
        error_type: e.error_type().to_string(),
        error_message: e.to_string(),
    }
}

/// The hook waits 30 s for an answer; this much is kept for deciding and answering.
const HOOK_BUDGET: Duration = Duration::from_secs(25);

/// The hook's policy parameters, read once at start: the same JSON as the rule's
/// `InputParameters`, in `HOOK_RULE_PARAMETERS` (unset: none).
fn hook_parameters() -> Result<RuleParameters, Error> {
    let Ok(text) = std::env::var(hook::PARAMETERS_VAR) else {
        return Ok(RuleParameters::default());
    };
    if text.trim().is_empty() {
        return Ok(RuleParameters::default());
    }
    let map: serde_json::Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| Error::InvalidParameters {
            name: format!("environment variable {}", hook::PARAMETERS_VAR),
            expected: "a JSON object, as the rule's InputParameters".into(),
            source: Some(e),
        })?;
    RuleParameters::parse(&map)
}

async fn handle(
    event: LambdaEvent<Value>,
    env: &AwsEnv,
    refresh_days: u32,
    hook_params: &RuleParameters,
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
    if hook::is_hook_event(&event.payload) {
        let request = hook::parse_request(&event.payload).map_err(diagnostic)?;
        let finish_by = Instant::now()
            + remaining
                .saturating_sub(Duration::from_secs(2))
                .min(HOOK_BUDGET);
        let fix = |table: &dynamodb_backup_rule::model::Table,
                   catalog: &dynamodb_backup_rule::model::RegionCatalog| {
            let mut params = hook_params.clone();
            params.policy.recovery_point_age_hours = None;
            dynamodb_backup_rule::remedy::proposed::proposed_fix(
                &params,
                table,
                catalog,
                chrono::Utc::now(),
            )
        };
        return Ok(hook::handle_hook(&request, hook_params, env, None, finish_by, &fix).await);
    }
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
    let hook_params = hook_parameters().map_err(|e| Box::new(e) as lambda_runtime::Error)?;
    let env = AwsEnv::from_env(settings).await;
    let (env, hook_params) = (&env, &hook_params);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(event, env, refresh_days, hook_params).await
    }))
    .await
}
