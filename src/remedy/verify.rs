//! PURE. Verification: apply a fix's calls to a copy of the account model, decide again with the
//! same engine and parameters ([`crate::rule::decide`], the one decision path), and keep the fix
//! only if the table becomes COMPLIANT and no COMPLIANT table stops being so. It also measures
//! what else the fix does: every table whose verdict changes, and the tables already covered
//! that a fix would start backing up a second time.

use super::calls::Call;
use crate::coverage::tags::list_of_tags_key;
use crate::coverage::{self, CatalogIndex, Compliance, Covering, Tri};
use crate::model::{RegionSnapshot, RuleEffect, Selection, Table};
use crate::params::RuleParameters;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Every table's verdict before any fix, in table order.
pub struct Before {
    /// Compliance per table.
    pub compliance: Vec<Compliance>,
    /// Covering plan IDs per table.
    pub plans: Vec<BTreeSet<String>>,
    /// The reason per table.
    pub reason: Vec<String>,
}

impl Before {
    /// Decides every table of the Region once.
    pub fn new(
        region: &RegionSnapshot,
        index: &CatalogIndex<'_>,
        params: &RuleParameters,
        now: DateTime<Utc>,
    ) -> Before {
        let mut out = Before {
            compliance: Vec::with_capacity(region.tables.len()),
            plans: Vec::with_capacity(region.tables.len()),
            reason: Vec::with_capacity(region.tables.len()),
        };
        for v in crate::rule::offline::evaluate_region(region, index, params, now) {
            out.compliance.push(v.compliance);
            out.plans.push(
                v.covered_by
                    .iter()
                    .map(|c| c.backup_plan_id.clone())
                    .collect(),
            );
            out.reason.push(v.reason);
        }
        out
    }
}

/// The verdict of one table, through the one decision path `evaluate` takes.
pub use crate::rule::offline::verdict_in_snapshot as verdict_of;

/// What re-evaluating a fix showed.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// Verdicts after the fix, of the tables decided.
    pub after: BTreeMap<String, (Compliance, Vec<Covering>)>,
    /// Tables that were COMPLIANT and would not be.
    pub broke: Vec<String>,
    /// Tables whose verdict changes.
    pub changed: Vec<String>,
    /// Tables covered before and after that gain a covering plan: they would be backed up
    /// again, by these plans (names).
    pub doubled: Vec<(String, Vec<String>)>,
    /// Why the fix is refused whatever the verdicts say (a lock a rule cannot live with).
    pub refused: Option<String>,
}

/// Whether only `table`'s verdict can change: tags on it, or a selection naming only it.
pub fn local_to(call: &Call, table: &Table) -> bool {
    match call {
        Call::TagResource { resource_arn, .. } | Call::UntagResource { resource_arn, .. } => {
            resource_arn == &table.arn.arn
        }
        Call::CreateBackupSelection { selection, .. } => {
            selection.conditions.is_empty()
                && selection.list_of_tags.is_empty()
                && selection.resources.len() == 1
                && selection.resources[0] == table.arn.arn
        }
        _ => false,
    }
}

/// Verifies calls that can change only `table`'s verdict, without copying the catalog: tag calls
/// are decided against the Region's own index; a selection added for the table alone is traced
/// by itself, and the policy applied to the coverage it gives.
pub fn verify_local(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
    calls: &[Call],
) -> Verification {
    let mut changed_table = table.clone();
    let mut added: Vec<(&crate::model::BackupPlan, &Selection)> = Vec::new();
    for call in calls {
        match call {
            Call::TagResource { tags, .. } => {
                for (k, v) in tags {
                    changed_table.tags.insert(k.clone(), v.clone());
                }
            }
            Call::UntagResource { tag_keys, .. } => {
                for k in tag_keys {
                    changed_table.tags.remove(k);
                }
            }
            Call::CreateBackupSelection { plan_id, selection } => {
                if let Some(plan) = region.catalog.plans.iter().find(|p| &p.id == plan_id) {
                    added.push((plan, selection));
                }
            }
            _ => {}
        }
    }
    // The one decision, in its parts: the table's own checks, the selections that cover it
    // (the Region's and the fix's), then the policy. A table still not covered needs no
    // reason here, and looking for one was most of the cost.
    let v = match crate::rule::precheck(params, &changed_table) {
        Some(v) => v,
        None => {
            let opt_in = region.catalog.settings.dynamodb_opt_in;
            let mut covering = coverage::covering(&changed_table, index);
            covering.extend(
                added
                    .iter()
                    .filter(|(p, s)| {
                        coverage::trace(p, s, &changed_table, opt_in).result == Tri::True
                    })
                    .map(|(p, s)| Covering::new(p, s)),
            );
            if covering.is_empty() {
                coverage::Verdict {
                    compliance: Compliance::NonCompliant,
                    kind: crate::model::ReasonKind::NoSelection,
                    reason: String::new(),
                    covered_by: Vec::new(),
                    about: None,
                }
            } else {
                let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
                crate::rule::decide_given(
                    params,
                    coverage::Verdict::covered(covering),
                    &region.catalog,
                )
                .finish(params, &region.catalog, points, now)
            }
        }
    };
    let changed = if v.compliance == Compliance::NonCompliant {
        Vec::new()
    } else {
        vec![table.name.clone()]
    };
    Verification {
        after: BTreeMap::from([(table.name.clone(), (v.compliance, v.covered_by))]),
        changed,
        ..Verification::default()
    }
}

/// Verifies calls that may change any table's verdict, on a copy of the Region.
pub fn verify_region(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    before: &Before,
    calls: &[Call],
) -> Verification {
    let catalog_only = !calls
        .iter()
        .any(|c| matches!(c, Call::TagResource { .. } | Call::UntagResource { .. }));
    let mut copy = if catalog_only {
        // The tables are read from `region`: catalog calls never change them.
        RegionSnapshot {
            catalog: region.catalog.clone(),
            tables: Vec::new(),
            recovery_points: region.recovery_points.clone(),
        }
    } else {
        region.clone()
    };
    for call in calls {
        call.apply(&mut copy, now);
    }
    let tables = if catalog_only {
        &region.tables
    } else {
        &copy.tables
    };
    let mut out = Verification {
        refused: lock_refuses_a_rule(region, &copy, calls),
        ..Verification::default()
    };
    let index = CatalogIndex::new(&copy.catalog);
    let plan_names: BTreeMap<&str, &str> = copy
        .catalog
        .plans
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    // Only tables an edited selection (old or new) or plan can reach may change verdict; the
    // rest keep theirs, so they need not be decided again.
    let reach = reach_of(region, calls);
    for (i, t) in tables.iter().enumerate() {
        if reach.as_ref().is_some_and(|r| !r[i]) {
            continue;
        }
        let was = before.compliance[i];
        let v = verdict_of(&copy, &index, params, now, t);
        if v.compliance != was {
            out.changed.push(t.name.clone());
        }
        if was == Compliance::Compliant && v.compliance != Compliance::Compliant {
            out.broke.push(t.name.clone());
        }
        if was == Compliance::Compliant && v.compliance == Compliance::Compliant {
            let new: Vec<String> = v
                .covered_by
                .iter()
                .filter(|c| !before.plans[i].contains(&c.backup_plan_id))
                .map(|c| {
                    plan_names
                        .get(c.backup_plan_id.as_str())
                        .map_or(c.backup_plan_id.clone(), |n| n.to_string())
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !new.is_empty() {
                out.doubled.push((t.name.clone(), new));
            }
        }
        out.after
            .insert(t.name.clone(), (v.compliance, v.covered_by));
    }
    out
}

/// A lock change must suit every rule of every plan that targets the vault, not only those of
/// the tables decided (spec §10): a rule whose jobs succeed now and would fail after is refused.
fn lock_refuses_a_rule(
    before: &RegionSnapshot,
    after: &RegionSnapshot,
    calls: &[Call],
) -> Option<String> {
    if !calls
        .iter()
        .any(|c| matches!(c, Call::PutBackupVaultLockConfiguration { .. }))
    {
        return None;
    }
    let rules = |r: &RegionSnapshot| -> Vec<(String, String, RuleEffect)> {
        r.catalog
            .plans
            .iter()
            .flat_map(|p| {
                p.rules
                    .iter()
                    .map(move |ru| (p.name.clone(), ru.name.clone(), ru.effect))
            })
            .collect()
    };
    rules(before)
        .into_iter()
        .zip(rules(after))
        .find(|((_, _, was), (_, _, now))| was.may_back_up() && !now.may_back_up())
        .map(|((plan, rule, _), (_, _, now))| {
            let range = match now {
                RuleEffect::LockRefuses { min, max } => crate::model::lock_range_words(min, max),
                _ => String::new(),
            };
            format!("the new lock ({range}) would fail every job of rule `{rule}` of plan `{plan}`")
        })
}

/// For each table, whether calls can change its verdict: whether some selection they touch
/// (before or after) can include the table by a `Resources` pattern or a `ListOfTags` key.
/// `None` when every table may change (opt-in, a vault lock, tags).
fn reach_of(before: &RegionSnapshot, calls: &[Call]) -> Option<Vec<bool>> {
    let mut touched: Vec<Selection> = Vec::new();
    let plan_selections = |id: &str| -> Vec<Selection> {
        before
            .catalog
            .plans
            .iter()
            .filter(|p| p.id == id)
            .flat_map(|p| p.selections.clone())
            .collect()
    };
    for call in calls {
        match call {
            Call::DeleteBackupSelection {
                plan_id,
                selection_id,
            } => touched.extend(
                plan_selections(plan_id)
                    .into_iter()
                    .filter(|s| &s.id == selection_id),
            ),
            Call::CreateBackupSelection { selection, .. } => touched.push(selection.clone()),
            // A plan's rules decide for every table any of its selections reaches.
            Call::UpdateBackupPlan { plan_id, .. } => touched.extend(plan_selections(plan_id)),
            Call::OptInDynamoDb
            | Call::PutBackupVaultLockConfiguration { .. }
            | Call::TagResource { .. }
            | Call::UntagResource { .. } => return None,
        }
    }
    Some(
        before
            .tables
            .iter()
            .map(|t| {
                touched.iter().any(|s| {
                    s.resources
                        .iter()
                        .any(|p| coverage::pattern::arn_match(p, &t.arn.arn).value != Tri::False)
                        || s.list_of_tags.iter().any(|c| {
                            list_of_tags_key(c)
                                .is_some_and(|k| t.tags.keys().any(|tk| tk.eq_ignore_ascii_case(k)))
                        })
                })
            })
            .collect(),
    )
}
