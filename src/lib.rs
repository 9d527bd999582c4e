//! # dynamodb-backup-rule
//!
//! Tells, table by table, whether each DynamoDB table is really protected by an AWS Backup plan.
//!
//! ```text
//! Given a DynamoDB table in account A and Region R
//!   And the AWS Backup plans, selections and opt-in settings of A in R
//! When a plan with at least one rule has a selection whose Resources or ListOfTags include
//!      the table, whose Conditions all hold, whose NotResources do not exclude it,
//!      and DynamoDB is opted in (or the selection names the table type explicitly)
//! Then the table is COMPLIANT, and the reason lists every covering plan and selection
//!
//! Given a selection that would cover the table only under a reading AWS does not document
//!      (a wildcard in the middle of a name, `?`, a whitespace-sensitive StringLike, …)
//! Then the table is NON_COMPLIANT, and the reason names the construct and why
//!
//! Given a table whose status is not ACTIVE or UPDATING
//! Then the table is NOT_APPLICABLE, and the reason says its status
//! ```
//!
//! The folders tell what decides and what talks to the outside:
//! [`coverage`] and [`snapshot`] are pure; the binaries only wire.

#![deny(missing_docs)]

pub mod aws;
pub mod cache;
pub mod coverage;
pub mod error;
pub mod event;
pub mod formats;
pub mod model;
pub mod page;
pub mod params;
pub mod ports;
pub mod remedy;
pub mod report;
pub mod rule;
pub mod snapshot;
pub mod template;
pub mod text;

pub use error::Error;
