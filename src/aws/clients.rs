//! The SDK clients of one account, Region and role: built once per scope and kept for the life
//! of the process, with the assumed role's first session fetched up front (so a role that cannot
//! be assumed fails before any read) and a retry for responses the SDK could not read.

use super::pace::Pacer;
use super::AwsEnv;
use crate::error::{AwsErrorKind, Error};
use crate::ports::Scope;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::Region;
use aws_sdk_backup::config::ProvideCredentials;
use aws_sdk_backup::config::SharedCredentialsProvider;
use std::sync::Arc;

/// The session name on assumed roles, visible in CloudTrail.
const SESSION_NAME: &str = "dynamodb-backup-rule";

/// SDK clients for one account, Region and role, with the pacers that keep them under the
/// account's request-rate quotas.
#[derive(Debug)]
pub(super) struct Clients {
    pub(super) backup: aws_sdk_backup::Client,
    pub(super) config: aws_sdk_config::Client,
    pub(super) dynamodb: aws_sdk_dynamodb::Client,
    pub(super) tagging: aws_sdk_resourcegroupstagging::Client,
    pub(super) backup_pace: Pacer,
    pub(super) tag_pace: Pacer,
}

/// An assume-role provider whose first session was already fetched (to fail early, naming the
/// role): the clients start with it instead of assuming the role a second time, and the inner
/// provider refreshes after it.
#[derive(Debug)]
struct Primed {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    inner: AssumeRoleProvider,
}

impl ProvideCredentials for Primed {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        match self.first.lock().ok().and_then(|mut f| f.take()) {
            Some(c) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(c)),
            None => self.inner.provide_credentials(),
        }
    }
}

/// Marks a response the SDK could not deserialize as transient. The standard classifiers leave
/// it alone, so one truncated body would fail a whole pass that a retry would have saved.
#[derive(Debug)]
struct RetryUnreadableResponses;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry
    for RetryUnreadableResponses
{
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        let Some(Err(e)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        // A body cut short surfaces as an unhandled operation error whose source is the JSON
        // reader's own error.
        let unreadable = e.is_response_error()
            || e.as_operation_error().is_some_and(|op| {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(op);
                while let Some(err) = source {
                    if err
                        .downcast_ref::<aws_smithy_json::deserialize::error::DeserializeError>()
                        .is_some()
                    {
                        return true;
                    }
                    source = err.source();
                }
                false
            });
        if unreadable {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "RetryUnreadableResponses"
    }
}

impl AwsEnv {
    /// The clients of a scope, built once. For an assumed role, the role is assumed here, so a
    /// role that cannot be assumed fails as `AccessDenied` naming it, before any read.
    pub(super) async fn clients(&self, scope: &Scope) -> Result<Arc<Clients>, Error> {
        // An async lock: two invocations must not both assume the role for one new scope.
        let mut known = self.clients.lock().await;
        if let Some(c) = known.get(scope) {
            return Ok(c.clone());
        }
        let region = Region::new(scope.region.clone());
        let mut builder = self.base.to_builder();
        builder.set_region(Some(region.clone()));
        // A hung call must not hold the invocation: each attempt is bounded, then retried with
        // the SDK's backoff (the attempts still come from AWS_MAX_ATTEMPTS).
        builder.set_timeout_config(Some(
            TimeoutConfig::builder()
                .operation_attempt_timeout(self.settings.attempt_timeout)
                .build(),
        ));
        // Adaptive retry, unless AWS_RETRY_MODE says otherwise: AWS enforces its rate quotas
        // per account, and a container cannot know how many others read the same account (in
        // the organization stack they mostly read different ones). So each paces at the whole
        // account rate, and when several do at once, the throttles AWS answers slow every
        // client down (the SDK's client-side rate limiter) instead of failing the pass.
        let base = self.base.retry_config().cloned();
        let explicit = std::env::var_os("AWS_RETRY_MODE").is_some();
        let retry = match base {
            Some(r) if explicit => r,
            Some(r) => RetryConfig::adaptive().with_max_attempts(r.max_attempts()),
            None => RetryConfig::adaptive(),
        }
        .with_initial_backoff(self.settings.retry_initial_backoff);
        builder.set_retry_config(Some(retry));
        if let Some(role) = &scope.role_arn {
            // The standard provider refreshes the session before it expires.
            let provider = AssumeRoleProvider::builder(role)
                .session_name(SESSION_NAME)
                .region(region)
                .configure(&self.base)
                .build()
                .await;
            let first = provider
                .provide_credentials()
                .await
                .map_err(|e| Error::Aws {
                    action: "sts:AssumeRole",
                    kind: AwsErrorKind::AccessDenied,
                    code: None,
                    message: format!("cannot assume role {role}: {e}"),
                    role: Some(role.clone()),
                    source: Box::new(e),
                })?;
            let primed = Primed {
                first: std::sync::Mutex::new(Some(first)),
                inner: provider,
            };
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(primed)));
        }
        let config = builder.build();
        let backup_rate = self.settings.backup_reads_per_second;
        let tag_rate = self.settings.tag_reads_per_second;
        // A 200 whose body cannot be read (cut off by a reset or a proxy) is retried like a 5xx.
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&config)
                        .retry_classifier(RetryUnreadableResponses)
                        .build(),
                )
            };
        }
        let clients = Arc::new(Clients {
            backup: client!(aws_sdk_backup),
            config: client!(aws_sdk_config),
            dynamodb: client!(aws_sdk_dynamodb),
            tagging: client!(aws_sdk_resourcegroupstagging),
            // Backup reads may burst so one change event is never slowed; tag reads are paced
            // strictly because DynamoDB documents a hard 10 per second.
            backup_pace: Pacer::new(backup_rate, backup_rate),
            tag_pace: Pacer::new(tag_rate, 1),
        });
        known.insert(scope.clone(), clients.clone());
        Ok(clients)
    }
}
