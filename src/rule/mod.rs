//! The evaluator: the one entry the CLI, the Lambda and the tests call.
//!
//! - [`decide`] is the single decision every path shares: status, then scope and exemption,
//!   then coverage, then the policy parameters. Pure but for the recovery points it may ask for.
//! - [`offline`] walks a snapshot's Regions (`evaluate`, `explain`).
//! - [`protocol`] turns one Config invocation into evaluations: applicability first (which reads
//!   nothing), then the catalog, then the decision, then `PutEvaluations`.
//! - [`pass`] decides every table of a Region and, with [`reconcile`], puts only what changed.
//! - [`hook`] answers CloudFormation Lambda Hook invocations with it.
//! - [`proposed`] decides a table a template or a hook proposes, before it exists.
//! - [`put`] holds what both share: the ports they need, the caller, and the batched put.
//!
//! The Config half talks to the outside only through [`crate::ports`].

pub mod hook;
pub mod offline;
pub mod pass;
pub mod proposed;
pub mod protocol;
pub mod put;
pub mod reconcile;

pub use offline::{evaluate_snapshot, explain, find_table, TableEvaluation};
pub use protocol::{handle, Handled, BACKUP_TYPES};
pub use put::{put_all, Caller, RuleEnv, PUT_ATTEMPTS, PUT_BATCH};

use crate::coverage::{self, policy, CatalogIndex, Compliance, Verdict};
use crate::model::{RecoveryPoint, RegionCatalog, Table};
use crate::params::RuleParameters;
use chrono::{DateTime, Utc};

/// What is known of a table before its recovery points are read.
#[derive(Debug, Clone)]
pub enum Decision {
    /// The verdict.
    Final(Verdict),
    /// Covered, and `maxRecoveryPointAgeHours` asks for the table's recovery points before the
    /// verdict can be given.
    NeedsRecoveryPoints {
        /// The coverage verdict (COMPLIANT).
        coverage: Verdict,
        /// The parameter's age limit.
        hours: u32,
    },
}

/// What needs no catalog: the table's status, then the rule's scope parameters and the
/// exemption tag. Every path checks these in this order, so a table gets the same reason from
/// its change event as from a pass.
pub fn precheck(params: &RuleParameters, table: &Table) -> Option<Verdict> {
    if !table.status_is_evaluated() {
        return Some(Verdict::table_status(
            table.status.as_deref().unwrap_or_default(),
        ));
    }
    params.excludes(table).map(Verdict::out_of_scope)
}

/// The one decision: [`precheck`], coverage, then the policy parameters.
pub fn decide(params: &RuleParameters, table: &Table, index: &CatalogIndex<'_>) -> Decision {
    if let Some(v) = precheck(params, table) {
        return Decision::Final(v);
    }
    decide_given(
        params,
        coverage::evaluate_table(table, index),
        index.catalog,
    )
}

/// The decision once coverage is known (the table's status and scope already passed): the
/// policy parameters, or a wait for recovery points. [`decide`] calls it after the coverage
/// engine; remediation's verification calls it with the selections a change leaves covering the
/// table, so both judge the policy the same way.
pub fn decide_given(
    params: &RuleParameters,
    coverage: Verdict,
    catalog: &RegionCatalog,
) -> Decision {
    match (params.policy.recovery_point_age_hours, coverage.compliance) {
        (Some(hours), Compliance::Compliant) => Decision::NeedsRecoveryPoints { coverage, hours },
        _ => Decision::Final(policy::apply(&params.policy, coverage, catalog, None)),
    }
}

impl Decision {
    /// The verdict, given the table's recovery points when they were asked for (`None`: they
    /// could not be known, which fails the age check rather than passing it).
    pub fn finish(
        self,
        params: &RuleParameters,
        catalog: &RegionCatalog,
        points: Option<&[RecoveryPoint]>,
        now: DateTime<Utc>,
    ) -> Verdict {
        match self {
            Decision::Final(v) => v,
            Decision::NeedsRecoveryPoints { coverage, hours } => {
                let check = policy::check_recovery_points(hours, points, now);
                policy::apply(&params.policy, coverage, catalog, Some(check))
            }
        }
    }

    /// Whether the verdict waits on recovery points.
    pub fn needs_recovery_points(&self) -> bool {
        matches!(self, Decision::NeedsRecoveryPoints { .. })
    }
}
