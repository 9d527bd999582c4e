//! SDK errors into the library's error, classified so the Lambda's error type tells access
//! problems from throttling from everything else. The SDK error is kept as the source.

use crate::error::{AwsErrorKind, Error};
use aws_sdk_backup::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::fmt::Debug;

const ACCESS_DENIED: [&str; 4] = [
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
];
const THROTTLED: [&str; 6] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
];

/// Classifies an SDK error for `action`, run as `role` (when assumed).
pub(crate) fn classify<E, R>(action: &'static str, role: Option<&str>, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_string);
    let message = match err.message() {
        Some(m) => format!("{}: {m}", code.as_deref().unwrap_or("error")),
        None => DisplayErrorContext(&err).to_string(),
    };
    let kind = match code.as_deref() {
        Some(c) if ACCESS_DENIED.contains(&c) => AwsErrorKind::AccessDenied,
        Some(c) if THROTTLED.contains(&c) => AwsErrorKind::Throttled,
        _ => AwsErrorKind::Service,
    };
    Error::Aws {
        action,
        kind,
        code,
        message,
        role: role.map(str::to_string),
        source: Box::new(err),
    }
}
