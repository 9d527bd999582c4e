//! The library's one error type. Variants keep their sources; messages are lower-case and say
//! what to do next.

use std::path::PathBuf;

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The snapshot is not valid JSON or does not have the snapshot format's shape.
    #[error("invalid snapshot at {path}: {source}")]
    SnapshotFormat {
        /// JSON path of the offending value, e.g. `Regions.us-east-1.Tables[3].TableArn`.
        path: String,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },

    /// The snapshot parses but a value is not what the format allows.
    #[error("invalid snapshot at {path}: {expected}")]
    SnapshotInvalid {
        /// JSON path of the offending value.
        path: String,
        /// What was expected there, and what was found.
        expected: String,
    },

    /// `explain` was asked about a table the snapshot does not have.
    #[error(
        "table `{table}` is not in the snapshot{}; give the name or ARN of a table it lists",
        suggest(.close)
    )]
    TableNotFound {
        /// The name or ARN asked for.
        table: String,
        /// Table names close to it (case-only differences first).
        close: Vec<String>,
    },

    /// A template or plan given to `check-template` cannot be read as one.
    #[error("{file}: {problem}")]
    InvalidTemplate {
        /// The file.
        file: String,
        /// What is wrong, with where (a JSON path or a YAML position) when known.
        problem: String,
        /// The JSON or YAML parser's error, when that is what found it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A command-line flag is missing or has a bad value.
    #[error("{flag}: expected {expected}")]
    Usage {
        /// The flag, e.g. `--region`.
        flag: String,
        /// What is expected.
        expected: String,
        /// The I/O error behind it, when there was one (an `--output` that cannot be written).
        #[source]
        source: Option<std::io::Error>,
    },

    /// A table name matches tables in several Regions.
    #[error("table name `{table}` is in several Regions; give one of its ARNs instead: {}", .arns.join(", "))]
    AmbiguousTable {
        /// The name asked for.
        table: String,
        /// The ARNs of the tables of that name, one per Region.
        arns: Vec<String>,
    },

    /// Writing the output failed (e.g. a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),

    /// The Config event is malformed.
    #[error("invalid event: {field}: expected {expected}")]
    InvalidEvent {
        /// The field, e.g. `invokingEvent.configurationItem.awsRegion`.
        field: String,
        /// What was expected there.
        expected: String,
        /// The JSON parser's error, when that is what found it.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// A rule parameter is unknown or has a bad value.
    #[error("invalid rule parameter {name}: expected {expected}")]
    InvalidParameters {
        /// The parameter name.
        name: String,
        /// What is accepted.
        expected: String,
        /// The JSON parser's error, when that is what found it.
        #[source]
        source: Option<serde_json::Error>,
    },

    /// The event asks for something this version does not do yet.
    #[error("{0} is not supported yet; no evaluation was put")]
    NotSupported(String),

    /// An AWS call failed after the SDK's retries.
    #[error("{action} failed{}: {message}{}", role_phrase(.role), advice(.kind, .action))]
    Aws {
        /// The IAM action, e.g. `backup:ListBackupPlans`.
        action: &'static str,
        /// Access denied, throttled, or another service or transport failure.
        kind: AwsErrorKind,
        /// The AWS error code, when there was one.
        code: Option<String>,
        /// The AWS error message, or the transport failure.
        message: String,
        /// The role the call ran as, when it was an assumed role.
        role: Option<String>,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A periodic pass could not finish before the invocation's deadline.
    #[error("{what} would take about {needed_secs} s but only {remaining_secs} s remain; no evaluation was put. {advice}")]
    WouldNotFinish {
        /// What would take too long.
        what: String,
        /// The estimate.
        needed_secs: u64,
        /// What is left of the invocation.
        remaining_secs: u64,
        /// What to do about it.
        advice: String,
    },

    /// The Backup catalog changed each time a pass checked it, more often than a pass decides
    /// again: the invocation fails so that Lambda retries it with a fresh read.
    #[error("the AWS Backup catalog of {account} {region} changed during the pass {rounds} times in a row; what was put is the verdict of the catalog read before the last change, and the invocation fails so that it runs again")]
    CatalogKeptChanging {
        /// The account.
        account: String,
        /// The Region.
        region: String,
        /// How many times the pass decided again.
        rounds: u32,
    },

    /// `PutEvaluations` kept rejecting some evaluations.
    #[error("config:PutEvaluations rejected {} evaluation(s) after {attempts} attempts: {}", .failed.len(), .failed.join("; "))]
    FailedEvaluations {
        /// `resourceId: reason` for each evaluation still failing.
        failed: Vec<String>,
        /// How many times it was tried.
        attempts: u32,
    },
    /// Putting failed after Config had already taken some evaluations. Those are kept; a
    /// retried invocation decides them again and, in a pass, finds them unchanged.
    #[error("{source}; {} of {total} evaluations had already been put and Config keeps them: {}", .put.len(), preview(.put))]
    PartlyPut {
        /// The resource IDs already put.
        put: Vec<String>,
        /// How many evaluations there were to put.
        total: usize,
        /// Why the rest failed.
        #[source]
        source: Box<Error>,
    },
}

fn suggest(close: &[String]) -> String {
    match close {
        [] => String::new(),
        names => format!(
            " (did you mean {}?)",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

/// The first few of a list, and how many more.
fn preview(items: &[String]) -> String {
    const SHOWN: usize = 10;
    let head = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(SHOWN) {
        0 => head,
        more => format!("{head} (+{more} more)"),
    }
}

/// The class of an AWS failure, which decides the Lambda error type alarms group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The role lacks a permission.
    AccessDenied,
    /// Throttled even after the SDK's retries.
    Throttled,
    /// Any other service error, timeout or transport failure.
    Service,
}

fn role_phrase(role: &Option<String>) -> String {
    role.as_ref()
        .map(|r| format!(" as {r}"))
        .unwrap_or_default()
}

fn advice(kind: &AwsErrorKind, action: &str) -> String {
    match kind {
        AwsErrorKind::AccessDenied => format!("; allow {action} for this role"),
        AwsErrorKind::Throttled => "; throttled after retries".to_string(),
        AwsErrorKind::Service => String::new(),
    }
}

impl Error {
    /// Whether the error is the user's input (exit status 2) rather than a failure (1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::ReadFile { .. }
                | Error::SnapshotFormat { .. }
                | Error::SnapshotInvalid { .. }
                | Error::TableNotFound { .. }
                | Error::Usage { .. }
                | Error::InvalidTemplate { .. }
                | Error::AmbiguousTable { .. }
                | Error::InvalidEvent { .. }
                | Error::InvalidParameters { .. }
        )
    }

    /// The stable error type the Lambda reports, so alarms can group failures.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::InvalidEvent { .. } => "InvalidEvent",
            Error::InvalidParameters { .. } => "InvalidParameters",
            Error::NotSupported(_) => "NotSupported",
            Error::WouldNotFinish { .. } => "Timeout",
            Error::CatalogKeptChanging { .. } => "CatalogChanging",
            Error::Aws {
                kind: AwsErrorKind::AccessDenied,
                ..
            } => "AccessDenied",
            Error::Aws {
                kind: AwsErrorKind::Throttled,
                ..
            } => "Throttled",
            Error::Aws { .. } | Error::FailedEvaluations { .. } => "AwsService",
            Error::PartlyPut { source, .. } => source.error_type(),
            _ => "Internal",
        }
    }
}
#[cfg(test)]
mod tests {
    #[test]
    fn a_malformed_event_keeps_the_json_error_as_its_source() {
        // GIVEN an event whose invokingEvent is not JSON
        let event = serde_json::json!({"invokingEvent": "{not json", "resultToken": "t"});
        // WHEN it is decoded
        let err = crate::event::decode_payload(event).unwrap_err();
        // THEN the error names the field and keeps the parser's error as its source
        assert_eq!(err.error_type(), "InvalidEvent");
        let source = std::error::Error::source(&err).expect("a source");
        assert!(
            source.downcast_ref::<serde_json::Error>().is_some(),
            "{source}"
        );
    }
}
