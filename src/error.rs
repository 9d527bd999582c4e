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
        "table `{table}` is not in the snapshot; give a table name or ARN from its Tables lists"
    )]
    TableNotFound {
        /// The name or ARN asked for.
        table: String,
    },

    /// A table name matches tables in several Regions.
    #[error("table name `{table}` is in several Regions ({regions}); give the table ARN instead")]
    AmbiguousTable {
        /// The name asked for.
        table: String,
        /// The Regions it is in.
        regions: String,
    },

    /// Writing the output failed (e.g. a closed pipe).
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl Error {
    /// Whether the error is the user's input (exit status 2) rather than a failure (1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Output(_))
    }
}
