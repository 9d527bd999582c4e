//! PURE. Remediation: the smallest change that protects a NON_COMPLIANT table, proven before it
//! is shown. The work is split by job:
//! - [`candidates`]: every fix worth trying, as the AWS calls it makes, within the service's rules;
//! - [`verify`]: apply the calls to a copy of the account, decide again, measure side effects;
//! - [`calls`]: the calls themselves, and how they change the model and a snapshot file;
//! - [`render`]: the one place that prints a fix for a shell (quoting, `&&`, JSON parameters).
//!
//! This module ranks and chooses: verified fixes first; among them, those that do not route
//! around an explicit exclusion, then those that add rather than overwrite a tag, then by blast
//! radius (a tag on the table, then a selection, a plan, a vault lock, the Region's settings),
//! then by how many tables' verdicts change.

pub mod calls;
pub mod candidates;
pub mod proposed;
pub mod render;
pub mod verify;

use crate::coverage::{self, CatalogIndex, Compliance, Covering};
use crate::model::RegionSnapshot;
use crate::params::RuleParameters;
use calls::Call;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::rc::Rc;
use verify::{verdict_of, Before, Verification};

/// The kinds of action, by the AWS API that carries them out; ranked in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    /// Add or correct tags on the table.
    TagResource,
    /// Remove a tag an exclusion keys on.
    UntagResource,
    /// Replace a selection (selections are immutable: create the new one, then delete the old).
    ReplaceBackupSelection,
    /// Add a selection naming the table to an existing plan.
    CreateBackupSelection,
    /// Give a plan a rule, or change one (vault, retention, schedule, copies).
    UpdateBackupPlan,
    /// Lock a vault with AWS Backup Vault Lock.
    PutBackupVaultLockConfiguration,
    /// Opt DynamoDB in to AWS Backup in the Region.
    UpdateRegionSettings,
    /// Run a backup job now.
    StartBackupJob,
    /// Create a plan: the last resort.
    CreateBackupPlan,
    /// Change an AWS Organizations backup policy: advice for its administrators.
    ChangeOrganizationBackupPolicy,
}

/// One proposed action.
#[derive(Debug, Clone)]
pub struct Action {
    /// What kind of change.
    pub kind: Kind,
    /// What it does, in a sentence (control characters from AWS names escaped).
    pub description: String,
    /// The AWS calls it makes, in order; empty for advice that cannot be carried out as is.
    pub calls: Vec<Call>,
    /// The AWS CLI command that makes the calls (one line, steps joined by `&&`), rendered for
    /// the actions shown; empty when there is none.
    pub command: String,
    /// A backup-as-code snippet, where one is cheap (CloudFormation for selection changes).
    pub snippet: Option<String>,
    /// Whether re-evaluation proved it.
    pub verified: bool,
    /// Why it is not verified, when it is not.
    pub not_verified_because: Option<String>,
    /// How many tables' verdicts it changes.
    pub affects: usize,
    /// Which tables' verdicts it changes.
    pub affects_tables: Vec<String>,
    /// Tables already covered that it would start backing up again, with the plans that would.
    pub doubled: Vec<(String, Vec<String>)>,
    /// What must hold for it to work that no snapshot can show (an IAM role's permissions).
    pub preconditions: Vec<String>,
    /// The explicit exclusion of the table that it routes around, if any.
    pub bypasses: Option<String>,
    /// Whether it overwrites a tag value the table already has (`env=dev` to `env=prod`):
    /// ranked after changes that add rather than replace.
    pub overwrites: bool,
    /// The selections that cover the table once it is applied.
    pub covered_by: Vec<Covering>,
}

impl Action {
    fn rank(&self) -> (bool, bool, Kind) {
        (self.bypasses.is_some(), self.overwrites, self.kind)
    }
}

/// A candidate in the ranking: built, or a tag offer built only when verification reaches it.
enum Slot<'a> {
    Built(Action),
    Tags(candidates::LazyChange<'a>, candidates::TagSource<'a>, bool),
}

/// The actions proposed for one table.
#[derive(Debug, Clone)]
pub struct Remediation {
    /// The table's ARN.
    pub resource_arn: String,
    /// Its name.
    pub table: String,
    /// Its Region.
    pub region: String,
    /// Why it is NON_COMPLIANT now.
    pub reason: String,
    /// Verified actions, best first; with no limit, then the unverified ones.
    pub actions: Vec<Action>,
    /// Candidate actions left out by the limit: unverified ones, and verified ones ranked
    /// after those shown.
    pub not_shown: usize,
}

impl Remediation {
    /// The first verified action, if any.
    pub fn first_verified(&self) -> Option<&Action> {
        self.actions.iter().find(|a| a.verified)
    }
}

/// Remediations for every NON_COMPLIANT table of a Region (or the one named), with every
/// candidate verified and listed, the unverified ones with their reasons.
pub fn remediate_region(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    only: Option<&str>,
) -> Vec<Remediation> {
    remediate(region, params, now, only, None)
}

/// Like [`remediate_region`], but each table lists only its `max` best verified actions;
/// unverified candidates and the rest are counted in `not_shown`. Candidates are verified in
/// ranking order until none left could enter the top `max`: a table named by hundreds of
/// selections costs a few verifications.
pub fn remediate_top(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    only: Option<&str>,
    max: usize,
) -> Vec<Remediation> {
    remediate(region, params, now, only, Some(max.max(1)))
}

/// Each NON_COMPLIANT table's first verified action: what the report, the export formats and
/// `explain` show.
pub fn first_fixes(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    only: Option<&str>,
) -> Vec<Remediation> {
    remediate(region, params, now, only, Some(1))
}

/// `top`: keep each table's best `top` verified actions (verifying no more than that needs);
/// `None`: verify and keep every candidate.
fn remediate(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    only: Option<&str>,
    top: Option<usize>,
) -> Vec<Remediation> {
    let index = CatalogIndex::new(&region.catalog);
    let before = Before::new(region, &index, params, now);
    let ctx = candidates::RegionContext::new(region);
    let todo: Vec<usize> = (0..region.tables.len())
        .filter(|&i| {
            before.compliance[i] == Compliance::NonCompliant
                && only.is_none_or(|n| n == region.tables[i].name)
        })
        .collect();
    let shared = Shared {
        region,
        params,
        now,
        top,
        index: &index,
        before: &before,
        ctx: &ctx,
    };
    // Tables are independent: a large Region is split across the cores, each part with its
    // own cache of catalog verifications. The output keeps the table order either way.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || todo.len() < PARALLEL_MIN_TABLES {
        return remediate_tables(&shared, &todo);
    }
    let chunk = todo.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|part| scope.spawn(|| remediate_tables(&shared, part)))
            .collect();
        handles
            .into_iter()
            // A worker can only fail by panicking; re-raise it rather than lose tables.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Below this many NON_COMPLIANT tables a Region is remediated on one thread.
const PARALLEL_MIN_TABLES: usize = 500;

/// What every table's remediation reads.
struct Shared<'a> {
    region: &'a RegionSnapshot,
    params: &'a RuleParameters,
    now: DateTime<Utc>,
    top: Option<usize>,
    index: &'a CatalogIndex<'a>,
    before: &'a Before,
    ctx: &'a candidates::RegionContext,
}

/// The remediations of the tables at `todo` (indexes into the Region's tables).
fn remediate_tables(shared: &Shared<'_>, todo: &[usize]) -> Vec<Remediation> {
    let Shared {
        region,
        params,
        now,
        top,
        index,
        before,
        ctx,
    } = *shared;
    // Catalog calls are verified once each, whatever table proposed them; shared, not copied,
    // since a Region-wide verification holds a verdict for every table.
    let mut verified_catalog: HashMap<Vec<Call>, Rc<Verification>> = HashMap::new();
    let mut out = Vec::new();
    let opt_in = region.catalog.settings.dynamodb_opt_in;
    for &i in todo {
        let table = &region.tables[i];
        // Only the selections that mention the table can suggest a fix to it.
        let traces: Vec<_> = index
            .every_mention_candidate(table)
            .into_iter()
            .filter_map(|o| {
                let (plan, selection) = index.entries[o as usize];
                let t = coverage::trace(plan, selection, table, opt_in);
                let blocker = t.blocker()?;
                Some((t, blocker))
            })
            .collect();
        // The coverage before the policy names the plans a policy fix would change; only
        // policy parameters need it.
        let coverage_verdict = params
            .policy
            .has_properties()
            .then(|| coverage::evaluate_table(table, index));
        let found = candidates::candidates(
            region,
            ctx,
            params,
            now,
            table,
            &traces,
            coverage_verdict.as_ref(),
        );
        let candidates_found = found.len();
        let bypasses = found.bypasses.clone();
        // Built candidates, then the tag offers (built when reached), in ranking order; stable,
        // so ties keep the candidates' order.
        let mut slots: Vec<Slot<'_>> = found.actions.into_iter().map(Slot::Built).collect();
        slots.extend(found.tags.into_iter().map(|(change, source)| {
            let overwrites = change.overwrites(table);
            Slot::Tags(change, source, overwrites)
        }));
        let rank_of = |slot: &Slot<'_>| match slot {
            Slot::Built(a) => a.rank(),
            Slot::Tags(change, _, overwrites) => (bypasses.is_some(), *overwrites, change.kind()),
        };
        slots.sort_by_key(rank_of);
        let mut actions: Vec<Action> = Vec::new();
        // Verified so far, before the current rank group, and in it with the least `affects`
        // a verified action can have (its own table: 1).
        let (mut verified, mut before_group, mut ones_in_group) = (0, 0, 0);
        let mut group = None;
        for slot in slots {
            let rank = rank_of(&slot);
            if let Some(n) = top {
                if group != Some(rank) {
                    // A later rank group never beats an earlier one's verified actions.
                    if verified >= n {
                        break;
                    }
                    (group, before_group, ones_in_group) = (Some(rank), verified, 0);
                }
            }
            let action = match slot {
                Slot::Built(a) => a,
                Slot::Tags(change, source, _) => {
                    match candidates::tag_action(change, source, table, &bypasses) {
                        Some(a) => a,
                        None => continue,
                    }
                }
            };
            actions.push(action);
            let Some(action) = actions.last_mut() else {
                continue;
            };
            if action.not_verified_because.is_some() || action.calls.is_empty() {
                continue;
            }
            let local = action.calls.iter().all(|c| verify::local_to(c, table));
            let result = if local {
                Rc::new(verify::verify_local(
                    region,
                    index,
                    params,
                    now,
                    table,
                    &action.calls,
                ))
            } else {
                verified_catalog
                    .entry(action.calls.clone())
                    .or_insert_with(|| {
                        Rc::new(verify::verify_region(
                            region,
                            params,
                            now,
                            before,
                            &action.calls,
                        ))
                    })
                    .clone()
            };
            apply_verification(action, &table.name, &result);
            if action.verified {
                verified += 1;
                ones_in_group += usize::from(action.affects <= 1);
            }
            // Enough of this group at the least possible `affects`: none after can rank higher.
            if top.is_some_and(|n| ones_in_group >= n.saturating_sub(before_group)) {
                break;
            }
        }
        actions.sort_by_key(|a| (!a.verified, a.rank(), a.affects));
        if let Some(n) = top {
            // Quiet by default: the best `n` verified actions; the rest are counted.
            actions.retain(|a| a.verified);
            actions.truncate(n);
        }
        for a in &mut actions {
            render_action(a, &region.catalog.region);
        }
        out.push(Remediation {
            resource_arn: table.arn.arn.clone(),
            table: table.name.clone(),
            region: region.catalog.region.clone(),
            reason: before.reason[i].clone(),
            not_shown: candidates_found - actions.len(),
            actions,
        });
    }
    out
}

/// Prints the action's calls as a command. A value no command can carry safely turns a
/// verified action into an unverified one: nothing unsafe is ever printed.
fn render_action(a: &mut Action, region: &str) {
    if a.calls.is_empty() {
        return;
    }
    match render::command(&a.calls, region) {
        Ok(c) => a.command = c,
        Err(render::Unprintable(why)) => {
            a.verified = false;
            a.not_verified_because = Some(format!("no command printed: {why}"));
        }
    }
}

/// Records what re-evaluation found on the action.
fn apply_verification(action: &mut Action, table: &str, result: &Verification) {
    let fixed = result.after.get(table).map(|(c, _)| *c) == Some(Compliance::Compliant);
    action.verified = fixed && result.broke.is_empty() && result.refused.is_none();
    action.affects = result.changed.len();
    action.affects_tables = result.changed.clone();
    action.doubled = result.doubled.clone();
    action.covered_by = result
        .after
        .get(table)
        .map(|(_, cov)| cov.clone())
        .unwrap_or_default();
    if !action.verified {
        action.not_verified_because = Some(if let Some(why) = &result.refused {
            why.clone()
        } else if !result.broke.is_empty() {
            format!(
                "it would stop covering {} that are COMPLIANT now: {}",
                result.broke.len(),
                result.broke.join(", ")
            )
        } else {
            "re-evaluated, the table would still not be COMPLIANT".to_string()
        });
    }
}

/// Which of a Region's NON_COMPLIANT tables one tag would protect: what the dashboard's
/// Remediate action (which writes a configured tag) will achieve. Returns (protected, not).
pub fn tag_would_cover(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    key: &str,
    value: &str,
) -> (Vec<String>, Vec<(String, String)>) {
    let index = CatalogIndex::new(&region.catalog);
    let mut covered = Vec::new();
    let mut not = Vec::new();
    for t in &region.tables {
        if verdict_of(region, &index, params, now, t).compliance != Compliance::NonCompliant {
            continue;
        }
        let call = Call::TagResource {
            resource_arn: t.arn.arn.clone(),
            tags: vec![(key.to_string(), value.to_string())],
        };
        let v = verify::verify_local(region, &index, params, now, t, &[call]);
        match v.after.get(&t.name) {
            Some((Compliance::Compliant, _)) => covered.push(t.name.clone()),
            _ => {
                // Why not: the table's verdict with the tag on it.
                let mut tagged = t.clone();
                tagged.tags.insert(key.to_string(), value.to_string());
                let why = verdict_of(region, &index, params, now, &tagged).reason;
                not.push((t.name.clone(), why));
            }
        }
    }
    (covered, not)
}

/// The calls of each remediation's first verified action in one Region, in order, each call once
/// (two tables proposing the same selection change make it once).
pub fn first_calls<'a>(remediations: &'a [Remediation], region: &str) -> Vec<&'a Call> {
    let mut calls: Vec<&Call> = Vec::new();
    for r in remediations.iter().filter(|r| r.region == region) {
        if let Some(a) = r.first_verified() {
            for c in &a.calls {
                if !calls.contains(&c) {
                    calls.push(c);
                }
            }
        }
    }
    calls
}

/// Applies each remediation's first verified action to a copy of the Region, all together, and
/// checks the whole: every table with a verified action is COMPLIANT, and no table that was
/// COMPLIANT is anything else. Returns the edited Region and the tables that did not come out
/// as promised.
pub fn apply_all(
    region: &RegionSnapshot,
    remediations: &[Remediation],
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> (RegionSnapshot, Vec<String>) {
    let mut copy = region.clone();
    for c in first_calls(remediations, &region.catalog.region) {
        c.apply(&mut copy, now);
    }
    let problems = broken_promises(region, &copy, remediations, params, now);
    (copy, problems)
}

/// The tables that `after` does not leave as promised: a table with a verified action not
/// COMPLIANT, or a COMPLIANT table no longer so.
pub fn broken_promises(
    before: &RegionSnapshot,
    after: &RegionSnapshot,
    remediations: &[Remediation],
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Vec<String> {
    let index = CatalogIndex::new(&before.catalog);
    let was = Before::new(before, &index, params, now);
    let fixed: Vec<&str> = remediations
        .iter()
        .filter(|r| r.region == before.catalog.region && r.first_verified().is_some())
        .map(|r| r.table.as_str())
        .collect();
    let index = CatalogIndex::new(&after.catalog);
    let mut problems = Vec::new();
    for (t, was) in after.tables.iter().zip(&was.compliance) {
        let now_c = verdict_of(after, &index, params, now, t).compliance;
        let promised = fixed.contains(&t.name.as_str());
        if (promised || *was == Compliance::Compliant) && now_c != Compliance::Compliant {
            problems.push(t.name.clone());
        }
    }
    problems
}
