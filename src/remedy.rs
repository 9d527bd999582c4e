//! PURE. Remediation: the smallest change that protects a NON_COMPLIANT table, proven before it
//! is shown.
//!
//! For each table, candidate actions come from what the engine already knows about it: every
//! selection's trace (which tag it lacks, which `NotResources` entry excludes it, which pattern is
//! ambiguous), the Region's opt-in, plans that cannot run, and the policy parameters a covering
//! plan misses. Each action is an [`Edit`] of the account model. It is **verified** by applying it
//! to a copy, deciding again with the same engine and parameters, and keeping it only if the
//! table becomes COMPLIANT and no table that was COMPLIANT stops being so. What cannot be verified
//! (a plan you would have to invent, a recovery point that only a backup job can create) is listed
//! apart, marked as not verified, with the reason.
//!
//! Actions are ranked by blast radius, smallest first: a tag on the table itself, then a change
//! to one selection, then a plan, then the Region's settings.

use crate::coverage::selection::{Blocker, PlanState, SelectionTrace};
use crate::coverage::tags::{is_string_equals, list_of_tags_key};
use crate::coverage::{self, CatalogIndex, Compliance, Covering};
use crate::model::{
    BackupPlan, BackupRule, ConditionOperator, OptIn, RegionSnapshot, Selection, Table, Vault,
    RESOURCE_TAG_PREFIX,
};
use crate::params::RuleParameters;
use crate::rule::decide;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The kinds of action, by the AWS API that carries them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    /// Add or correct tags on the table.
    TagResource,
    /// Remove a tag an exclusion keys on.
    UntagResource,
    /// Replace a selection (selections are immutable: create the new one, delete the old).
    ReplaceBackupSelection,
    /// Add a selection naming the table to an existing plan.
    CreateBackupSelection,
    /// Give a plan a rule, or change one (vault, retention, schedule, copies).
    UpdateBackupPlan,
    /// Lock a vault with AWS Backup Vault Lock.
    PutBackupVaultLockConfiguration,
    /// Opt DynamoDB in to AWS Backup in the Region.
    UpdateRegionSettings,
    /// Create a plan: the last resort.
    CreateBackupPlan,
}

/// A change to the account model.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Set and remove tags of one table.
    Tags {
        /// The table's name.
        table: String,
        /// Tags to set.
        set: Vec<(String, String)>,
        /// Tag keys to remove.
        remove: Vec<String>,
    },
    /// Replace a selection of a plan.
    ReplaceSelection {
        /// The plan.
        plan_id: String,
        /// The selection replaced.
        selection_id: String,
        /// Its replacement.
        new: Selection,
    },
    /// Add a selection to a plan.
    AddSelection {
        /// The plan.
        plan_id: String,
        /// The selection.
        selection: Selection,
    },
    /// Replace a plan's rules.
    SetRules {
        /// The plan.
        plan_id: String,
        /// Its new rules.
        rules: Vec<BackupRule>,
    },
    /// Lock a vault.
    LockVault(Vault),
    /// Opt DynamoDB in.
    OptIn,
}

impl Edit {
    /// Whether only the named table's verdict can change (a tag on it, a selection naming only
    /// it), so verification need decide only that table.
    fn local_to(&self, table: &str) -> bool {
        match self {
            Edit::Tags { table: t, .. } => t == table,
            Edit::AddSelection { selection, .. } => {
                selection.conditions.is_empty()
                    && selection.list_of_tags.is_empty()
                    && selection.resources.len() == 1
                    && selection.resources[0].ends_with(&format!(":table/{table}"))
            }
            _ => false,
        }
    }

    /// Applies the edit to a Region.
    pub fn apply(&self, region: &mut RegionSnapshot) {
        let plan = |region: &mut RegionSnapshot, id: &str| {
            region.catalog.plans.iter_mut().position(|p| p.id == id)
        };
        match self {
            Edit::Tags { table, set, remove } => {
                if let Some(t) = region.tables.iter_mut().find(|t| &t.name == table) {
                    for k in remove {
                        t.tags.remove(k);
                    }
                    for (k, v) in set {
                        t.tags.insert(k.clone(), v.clone());
                    }
                }
            }
            Edit::ReplaceSelection {
                plan_id,
                selection_id,
                new,
            } => {
                if let Some(i) = plan(region, plan_id) {
                    let p = &mut region.catalog.plans[i];
                    p.selections.retain(|s| &s.id != selection_id);
                    p.selections.push(new.clone());
                }
            }
            Edit::AddSelection { plan_id, selection } => {
                if let Some(i) = plan(region, plan_id) {
                    region.catalog.plans[i].selections.push(selection.clone());
                }
            }
            Edit::SetRules { plan_id, rules } => {
                if let Some(i) = plan(region, plan_id) {
                    region.catalog.plans[i].rules = rules.clone();
                }
                region.catalog.mark_missing_vaults();
            }
            Edit::LockVault(v) => {
                if let Some(vaults) = region.catalog.vaults.as_mut() {
                    vaults.insert(v.name.clone(), v.clone());
                }
            }
            Edit::OptIn => region.catalog.settings.dynamodb_opt_in = OptIn::Enabled,
        }
    }
}

/// One proposed action.
#[derive(Debug, Clone)]
pub struct Action {
    /// What kind of change.
    pub kind: Kind,
    /// What it does, in a sentence.
    pub description: String,
    /// The exact AWS CLI command(s).
    pub command: String,
    /// A backup-as-code snippet, where one is cheap (CloudFormation for selection changes).
    pub snippet: Option<String>,
    /// The edits it makes.
    pub edits: Vec<Edit>,
    /// Whether re-evaluation proved it.
    pub verified: bool,
    /// Why it is not verified, when it is not.
    pub not_verified_because: Option<String>,
    /// How many tables' verdicts it changes.
    pub affects: usize,
    /// Whether it overwrites a tag value the table already has (`env=dev` to `env=prod`):
    /// ranked after changes that add rather than replace.
    pub overwrites: bool,
    /// The selections that cover the table once it is applied.
    pub covered_by: Vec<Covering>,
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
    /// Verified actions first, smallest blast radius first; then the unverified ones.
    pub actions: Vec<Action>,
    /// Candidate actions left out by a limit on how many to show (never verified, or ranked
    /// after those shown).
    pub not_shown: usize,
}

impl Remediation {
    /// The first verified action, if any.
    pub fn first_verified(&self) -> Option<&Action> {
        self.actions.iter().find(|a| a.verified)
    }
}

/// Remediations for every NON_COMPLIANT table of a Region (or the one named), with every
/// candidate action verified.
pub fn remediate_region(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    only: Option<&str>,
) -> Vec<Remediation> {
    remediate(region, params, now, only, None)
}

/// Like [`remediate_region`], but each table keeps only its `max` best verified actions, the
/// ones `remediate_region` ranks first (all candidates, tried, when fewer verify). Candidates
/// are verified in ranking order until none left could enter the top `max`: a table named by
/// hundreds of selections costs a few verifications. `Remediation::not_shown` counts the rest.
pub fn remediate_top(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    only: Option<&str>,
    max: usize,
) -> Vec<Remediation> {
    remediate(region, params, now, only, Some(max.max(1)))
}

/// Each NON_COMPLIANT table's first verified action only (the one `remediate` lists first), or
/// its unverified candidates when none verifies: what the report, the export formats and
/// `explain` show. It verifies candidates in ranking order and stops at the first that no other
/// can beat, so a table named by hundreds of selections costs a few verifications, not hundreds.
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
    let before = compliances(region, &index, params, now);
    // Catalog edits are verified once each, whatever table proposed them; shared, not copied,
    // since a Region-wide verification holds a verdict for every table.
    let mut verified_catalog: BTreeMap<String, Rc<Verification>> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, table) in region.tables.iter().enumerate() {
        if before[i] != Compliance::NonCompliant || only.is_some_and(|n| n != table.name) {
            continue;
        }
        let explanation = coverage::explain_table(table, &index);
        let reason = verdict_of(region, &index, params, now, table).reason;
        let mut actions = candidates(region, params, table, &explanation);
        // The ranking's order before verification; stable, so ties keep the candidates' order.
        if top.is_some() {
            actions.sort_by_key(|a| (a.overwrites, a.kind));
        }
        let candidates_found = actions.len();
        // Verified so far, before the current rank group, and in it with the least `affects`
        // a verified action can have (its own table: 1).
        let (mut verified, mut before_group, mut ones_in_group) = (0, 0, 0);
        let mut group: Option<(bool, Kind)> = None;
        for action in actions.iter_mut() {
            if action.not_verified_because.is_some() {
                continue;
            }
            if let Some(n) = top {
                let rank = (action.overwrites, action.kind);
                if group != Some(rank) {
                    // A later rank group never beats an earlier one's verified actions.
                    if verified >= n {
                        break;
                    }
                    (group, before_group, ones_in_group) = (Some(rank), verified, 0);
                }
            }
            let local = action.edits.iter().all(|e| e.local_to(&table.name));
            let result = if local {
                Rc::new(verify_local(
                    region,
                    &index,
                    params,
                    now,
                    table,
                    &action.edits,
                ))
            } else {
                let key = format!("{:?}", action.edits);
                verified_catalog
                    .entry(key)
                    .or_insert_with(|| {
                        Rc::new(verify_region(region, params, now, &before, &action.edits))
                    })
                    .clone()
            };
            apply_verification(action, table, &result);
            if action.verified {
                verified += 1;
                ones_in_group += usize::from(action.affects <= 1);
            }
            // Enough of this group at the least possible `affects`: none after can rank higher.
            if top.is_some_and(|n| ones_in_group >= n.saturating_sub(before_group)) {
                break;
            }
        }
        actions.sort_by_key(|a| (!a.verified, a.overwrites, a.kind, a.affects));
        if let Some(n) = top {
            // Fewer than `n` verified means every candidate was tried: keep them all, the
            // unverified ones with their reasons. Otherwise the best `n`.
            if verified >= n {
                actions.truncate(n);
            }
        }
        let not_shown = candidates_found - actions.len();
        out.push(Remediation {
            resource_arn: table.arn.arn.clone(),
            table: table.name.clone(),
            region: region.catalog.region.clone(),
            reason,
            actions,
            not_shown,
        });
    }
    out
}

/// Records what re-evaluation found on the action.
fn apply_verification(action: &mut Action, table: &Table, result: &Verification) {
    let fixed = result.after.get(&table.name).map(|(c, _)| *c) == Some(Compliance::Compliant);
    action.verified = fixed && result.broke.is_empty();
    action.affects = result.changed;
    action.covered_by = result
        .after
        .get(&table.name)
        .map(|(_, cov)| cov.clone())
        .unwrap_or_default();
    if !action.verified {
        action.not_verified_because = Some(if !result.broke.is_empty() {
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
) -> (Vec<String>, Vec<String>) {
    let index = CatalogIndex::new(&region.catalog);
    let mut covered = Vec::new();
    let mut not = Vec::new();
    for t in &region.tables {
        if verdict_of(region, &index, params, now, t).compliance != Compliance::NonCompliant {
            continue;
        }
        let edit = Edit::Tags {
            table: t.name.clone(),
            set: vec![(key.to_string(), value.to_string())],
            remove: Vec::new(),
        };
        let v = verify_local(region, &index, params, now, t, &[edit]);
        match v.after.get(&t.name) {
            Some((Compliance::Compliant, _)) => covered.push(t.name.clone()),
            _ => not.push(t.name.clone()),
        }
    }
    (covered, not)
}

/// Every table's compliance now, in table order.
fn compliances(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> Vec<Compliance> {
    region
        .tables
        .iter()
        .map(|t| verdict_of(region, index, params, now, t).compliance)
        .collect()
}

fn verdict_of(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
) -> coverage::Verdict {
    let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
    decide(params, table, index).finish(params, &region.catalog, points, now)
}

/// What re-evaluating an edit showed.
#[derive(Debug, Clone, Default)]
struct Verification {
    /// Verdicts after the edit, of the tables decided.
    after: BTreeMap<String, (Compliance, Vec<Covering>)>,
    /// Tables that were COMPLIANT and would not be.
    broke: Vec<String>,
    /// How many tables' verdicts change.
    changed: usize,
}

/// Verifies an edit that can change only `table`'s verdict, without copying the catalog: tag
/// edits are decided against the Region's own index; a selection added for the table alone is
/// traced by itself, and the policy applied to the coverage it gives.
fn verify_local(
    region: &RegionSnapshot,
    index: &CatalogIndex<'_>,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
    edits: &[Edit],
) -> Verification {
    let mut changed_table = table.clone();
    let mut added: Vec<(&BackupPlan, &Selection)> = Vec::new();
    for e in edits {
        match e {
            Edit::Tags { set, remove, .. } => {
                for k in remove {
                    changed_table.tags.remove(k);
                }
                for (k, v) in set {
                    changed_table.tags.insert(k.clone(), v.clone());
                }
            }
            Edit::AddSelection { plan_id, selection } => {
                if let Some(plan) = region.catalog.plans.iter().find(|p| &p.id == plan_id) {
                    added.push((plan, selection));
                }
            }
            _ => {}
        }
    }
    let mut v = verdict_of(region, index, params, now, &changed_table);
    if v.compliance == Compliance::NonCompliant {
        let opt_in = region.catalog.settings.dynamodb_opt_in;
        let covering: Vec<Covering> = added
            .iter()
            .filter(|(p, s)| {
                coverage::trace(p, s, &changed_table, opt_in).result == coverage::Tri::True
            })
            .map(|(p, s)| Covering::new(p, s))
            .collect();
        if !covering.is_empty() {
            let points = region.recovery_points.get(&table.name).map(Vec::as_slice);
            v = crate::rule::decide_covered(params, &region.catalog, covering, points, now);
        }
    }
    let changed = usize::from(v.compliance != Compliance::NonCompliant);
    Verification {
        after: BTreeMap::from([(table.name.clone(), (v.compliance, v.covered_by))]),
        broke: Vec::new(),
        changed,
    }
}

fn verify_region(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    before: &[Compliance],
    edits: &[Edit],
) -> Verification {
    let catalog_only = !edits.iter().any(|e| matches!(e, Edit::Tags { .. }));
    let mut copy = if catalog_only {
        // The tables are read from `region`: catalog edits never change them.
        RegionSnapshot {
            catalog: region.catalog.clone(),
            tables: Vec::new(),
            recovery_points: region.recovery_points.clone(),
        }
    } else {
        region.clone()
    };
    for e in edits {
        e.apply(&mut copy);
    }
    let tables = if catalog_only {
        &region.tables
    } else {
        &copy.tables
    };
    let index = CatalogIndex::new(&copy.catalog);
    let mut out = Verification::default();
    // Only tables an edited selection (old or new) or plan can reach may change verdict; the
    // rest keep theirs, so they need not be decided again.
    let reach = reach_of(region, edits);
    for (i, (t, was)) in tables.iter().zip(before).enumerate() {
        if reach.as_ref().is_some_and(|r| !r[i]) {
            continue;
        }
        let v = verdict_of(&copy, &index, params, now, t);
        if v.compliance != *was {
            out.changed += 1;
        }
        if *was == Compliance::Compliant && v.compliance != Compliance::Compliant {
            out.broke.push(t.name.clone());
        }
        out.after
            .insert(t.name.clone(), (v.compliance, v.covered_by));
    }
    out
}

/// For each table, whether an edit can change its verdict: whether some selection the edit
/// touches (before or after it) can include the table by a `Resources` pattern or a
/// `ListOfTags` key. `None` when every table may change (opt-in, a vault lock).
fn reach_of(before: &RegionSnapshot, edits: &[Edit]) -> Option<Vec<bool>> {
    let mut selections: Vec<&Selection> = Vec::new();
    let plan_selections = |r: &'_ RegionSnapshot, id: &str| -> Vec<Selection> {
        r.catalog
            .plans
            .iter()
            .filter(|p| p.id == id)
            .flat_map(|p| p.selections.clone())
            .collect()
    };
    let mut owned: Vec<Selection> = Vec::new();
    for e in edits {
        match e {
            Edit::ReplaceSelection {
                plan_id,
                selection_id,
                new,
            } => {
                owned.extend(
                    plan_selections(before, plan_id)
                        .into_iter()
                        .filter(|s| &s.id == selection_id),
                );
                owned.push(new.clone());
            }
            Edit::AddSelection { selection, .. } => owned.push(selection.clone()),
            // A plan's rules decide for every table any of its selections reaches.
            Edit::SetRules { plan_id, .. } => owned.extend(plan_selections(before, plan_id)),
            Edit::OptIn | Edit::LockVault(_) | Edit::Tags { .. } => return None,
        }
    }
    selections.extend(owned.iter());
    let reach = before
        .tables
        .iter()
        .map(|t| {
            selections.iter().any(|s| {
                s.resources.iter().any(|p| {
                    coverage::pattern::arn_match(p, &t.arn.arn).value != coverage::Tri::False
                }) || s.list_of_tags.iter().any(|c| {
                    list_of_tags_key(c)
                        .is_some_and(|k| t.tags.keys().any(|tk| tk.eq_ignore_ascii_case(k)))
                })
            })
        })
        .collect();
    Some(reach)
}

/// Every action worth trying for a table, unverified.
fn candidates(
    region: &RegionSnapshot,
    params: &RuleParameters,
    table: &Table,
    explanation: &coverage::Explanation<'_>,
) -> Vec<Action> {
    let traces = &explanation.traces;
    let r = &region.catalog.region;
    let arn = &table.arn.arn;
    let mut out: Vec<Action> = Vec::new();
    // A table named by hundreds of selections gets hundreds of candidates, many the same edit:
    // keep the first of each, found by key rather than by comparing every pair.
    let mut seen: std::collections::HashSet<String> = Default::default();
    let mut push = |out: &mut Vec<Action>, a: Action| {
        if seen.insert(format!("{:?}{:?}", a.kind, a.edits)) {
            out.push(a);
        }
    };
    for t in traces {
        if let Some(a) = from_trace(region, table, t) {
            push(&mut out, a);
        }
    }
    // An explicit assignment in an existing plan that can run: it bypasses opt-in and tags.
    if let Some(plan) = region
        .catalog
        .plans
        .iter()
        .find(|p| PlanState::of(p, table) == PlanState::Active)
    {
        let selection = Selection {
            id: format!("new-{}", table.name),
            name: format!("protect-{}", table.name),
            iam_role_arn: Some(role_of(plan, &region.catalog.account)),
            resources: vec![arn.clone()],
            not_resources: Vec::new(),
            list_of_tags: Vec::new(),
            conditions: Vec::new(),
        };
        push(
            &mut out,
            action(
                Kind::CreateBackupSelection,
                format!(
                    "assign the table by its ARN in a new selection of plan `{}`",
                    plan.name
                ),
                create_selection_command(&plan.id, &selection, r),
                Some(cfn_selection(&plan.id, &selection)),
                vec![Edit::AddSelection {
                    plan_id: plan.id.clone(),
                    selection,
                }],
            ),
        );
    }
    if region.catalog.settings.dynamodb_opt_in != OptIn::Enabled {
        push(&mut out, action(
            Kind::UpdateRegionSettings,
            format!("opt DynamoDB in to AWS Backup in {r} (tag and wildcard assignments then apply to it)"),
            format!("aws backup update-region-settings --region {r} --resource-type-opt-in-preference DynamoDB=true"),
            None,
            vec![Edit::OptIn],
        ));
    }
    for a in policy_actions(region, params, table, &explanation.verdict) {
        push(&mut out, a);
    }
    if out.is_empty()
        || !region
            .catalog
            .plans
            .iter()
            .any(|p| PlanState::of(p, table) == PlanState::Active)
    {
        let mut a = action(
            Kind::CreateBackupPlan,
            "create a backup plan with a rule of your choosing, then a selection naming the table".to_string(),
            format!(
                "aws backup create-backup-plan --region {r} --backup-plan '{{\"BackupPlanName\":\"dynamodb-{name}\",\"Rules\":[{{\"RuleName\":\"daily\",\"TargetBackupVaultName\":\"Default\",\"ScheduleExpression\":\"cron(0 5 ? * * *)\",\"Lifecycle\":{{\"DeleteAfterDays\":35}}}}]}}'\n\
                 # then: aws backup create-backup-selection --region {r} --backup-plan-id <new plan id> --backup-selection '{{\"SelectionName\":\"protect-{name}\",\"IamRoleArn\":\"arn:{p}:iam::{acct}:role/service-role/AWSBackupDefaultServiceRole\",\"Resources\":[\"{arn}\"]}}'",
                name = table.name,
                p = table.arn.partition,
                acct = region.catalog.account,
            ),
            None,
            Vec::new(),
        );
        a.not_verified_because = Some(
            "a new plan's vault, schedule and retention are yours to choose; no existing plan can be reused".into(),
        );
        push(&mut out, a);
    }
    out
}

fn action(
    kind: Kind,
    description: String,
    command: String,
    snippet: Option<String>,
    edits: Vec<Edit>,
) -> Action {
    Action {
        kind,
        description,
        command,
        snippet,
        edits,
        verified: false,
        not_verified_because: None,
        affects: 0,
        overwrites: false,
        covered_by: Vec::new(),
    }
}

/// What one selection's trace suggests.
fn from_trace(region: &RegionSnapshot, table: &Table, t: &SelectionTrace<'_>) -> Option<Action> {
    let r = &region.catalog.region;
    let arn = &table.arn.arn;
    let blocker = t.blocker();
    let at = format!("selection `{}` of plan `{}`", t.selection.name, t.plan.name);
    match blocker? {
        Blocker::PlanInactive(PlanState::NoRules)
        | Blocker::PlanInactive(PlanState::VaultMissing(_)) => {
            let vault = existing_vault(region)?;
            let mut rules: Vec<BackupRule> = t
                .plan
                .rules
                .iter()
                .filter(|r| r.backs_up())
                .cloned()
                .collect();
            let retarget = !t.plan.rules.is_empty();
            if retarget {
                rules = t
                    .plan
                    .rules
                    .iter()
                    .cloned()
                    .map(|mut r| {
                        if r.vault_missing {
                            r.target_vault = Some(vault.clone());
                            r.vault_missing = false;
                        }
                        r
                    })
                    .collect();
            } else {
                rules.push(BackupRule {
                    name: "daily".into(),
                    target_vault: Some(vault.clone()),
                    schedule: Some("cron(0 5 ? * * *)".into()),
                    delete_after_days: Some(35),
                    copy_destinations: Vec::new(),
                    vault_missing: false,
                });
            }
            let what = if retarget {
                format!("point plan `{}`'s rules at the existing vault `{vault}` (their vault was deleted)", t.plan.name)
            } else {
                format!(
                    "give plan `{}` a daily rule into vault `{vault}` (it has none)",
                    t.plan.name
                )
            };
            Some(action(
                Kind::UpdateBackupPlan,
                what,
                update_plan_command(t.plan, &rules, r),
                None,
                vec![Edit::SetRules {
                    plan_id: t.plan.id.clone(),
                    rules,
                }],
            ))
        }
        Blocker::PlanInactive(_) => None,
        Blocker::Excluded(pattern) => {
            let mut new = t.selection.clone();
            new.not_resources.retain(|p| p != pattern);
            new.id = format!("{}-replaced", t.selection.id);
            Some(replace(
                t,
                new,
                format!("replace {at} with one whose NotResources no longer lists `{pattern}`"),
                r,
            ))
        }
        Blocker::Ambiguous(coverage::selection::Construct::Resource(pattern), _) => {
            let mut new = t.selection.clone();
            match coverage::pattern::fill_empty_segments(pattern) {
                Some(filled) => {
                    for p in new.resources.iter_mut().filter(|p| p.as_str() == pattern) {
                        *p = filled.clone();
                    }
                }
                None => new.resources.push(arn.clone()),
            }
            new.id = format!("{}-replaced", t.selection.id);
            Some(replace(
                t,
                new,
                format!(
                    "replace {at}: rewrite the ambiguous pattern `{pattern}` in a documented form"
                ),
                r,
            ))
        }
        Blocker::ConditionFailed(..)
        | Blocker::TagNearMiss(_)
        | Blocker::NotOptedIn
        | Blocker::Ambiguous(..) => tag_action(table, t, &at, r),
        Blocker::UnsupportedTagType(_) | Blocker::Invalid => None,
    }
}

/// Tags that make the selection's tag tests and conditions hold for the table.
fn tag_action(table: &Table, t: &SelectionTrace<'_>, at: &str, region: &str) -> Option<Action> {
    let mut set: Vec<(String, String)> = Vec::new();
    let mut remove: Vec<String> = Vec::new();
    if t.resources.is_empty() {
        // Included only by tags: satisfy the first supported ListOfTags entry.
        let entry = t
            .selection
            .list_of_tags
            .iter()
            .find(|c| is_string_equals(c))?;
        set.push((list_of_tags_key(entry)?.to_string(), entry.value.clone()));
    }
    for c in &t.selection.conditions {
        let key = c.key.strip_prefix(RESOURCE_TAG_PREFIX)?;
        let seen = table.tags.get(key);
        match c.operator {
            ConditionOperator::StringEquals if seen != Some(&c.value) => {
                set.push((key.to_string(), c.value.clone()))
            }
            ConditionOperator::StringLike
                if !c.value.contains(['*', '?']) && seen != Some(&c.value) =>
            {
                set.push((key.to_string(), c.value.clone()))
            }
            ConditionOperator::StringNotEquals if seen == Some(&c.value) => {
                remove.push(key.to_string())
            }
            ConditionOperator::StringNotLike if seen.is_some() => remove.push(key.to_string()),
            _ => {}
        }
    }
    // A key that differs only in case is the commonest mistake: remove the wrong one.
    for (k, _) in &set {
        for tk in table.tags.keys() {
            if tk != k && tk.eq_ignore_ascii_case(k) {
                remove.push(tk.clone());
            }
        }
    }
    if set.is_empty() && remove.is_empty() {
        return None;
    }
    let arn = &table.arn.arn;
    let mut commands = Vec::new();
    if !remove.is_empty() {
        commands.push(format!(
            "aws dynamodb untag-resource --region {region} --resource-arn {arn} --tag-keys {}",
            remove.join(" ")
        ));
    }
    if !set.is_empty() {
        commands.push(format!(
            "aws dynamodb tag-resource --region {region} --resource-arn {arn} --tags {}",
            set.iter()
                .map(|(k, v)| format!("Key={k},Value={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let what = match (set.is_empty(), remove.is_empty()) {
        (false, true) => format!("tag the table {} so that {at} selects it", pairs(&set)),
        (true, false) => format!("remove tag(s) {} that {at} excludes", remove.join(", ")),
        _ => format!(
            "tag the table {} and remove {} so that {at} selects it",
            pairs(&set),
            remove.join(", ")
        ),
    };
    let overwrites = set
        .iter()
        .any(|(k, v)| table.tags.get(k).is_some_and(|old| old != v));
    let mut a = action(
        if set.is_empty() {
            Kind::UntagResource
        } else {
            Kind::TagResource
        },
        what,
        commands.join("\n"),
        None,
        vec![Edit::Tags {
            table: table.name.clone(),
            set,
            remove,
        }],
    );
    a.overwrites = overwrites;
    Some(a)
}

fn pairs(set: &[(String, String)]) -> String {
    set.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn replace(t: &SelectionTrace<'_>, new: Selection, what: String, region: &str) -> Action {
    let command = format!(
        "{}\naws backup delete-backup-selection --region {region} --backup-plan-id {} --selection-id {}",
        create_selection_command(&t.plan.id, &new, region),
        t.plan.id,
        t.selection.id
    );
    action(
        Kind::ReplaceBackupSelection,
        what,
        command,
        Some(cfn_selection(&t.plan.id, &new)),
        vec![Edit::ReplaceSelection {
            plan_id: t.plan.id.clone(),
            selection_id: t.selection.id.clone(),
            new,
        }],
    )
}

/// Changes that make a covering plan meet the policy parameters.
/// `coverage` is the table's coverage verdict (before the policy), which the caller already has:
/// no second index is built per table.
fn policy_actions(
    region: &RegionSnapshot,
    params: &RuleParameters,
    table: &Table,
    coverage: &coverage::Verdict,
) -> Vec<Action> {
    let p = &params.policy;
    if !p.has_properties() {
        return Vec::new();
    }
    let r = &region.catalog.region;
    let mut out = Vec::new();
    for c in &coverage.covered_by {
        let Some(plan) = region
            .catalog
            .plans
            .iter()
            .find(|pl| pl.id == c.backup_plan_id)
        else {
            continue;
        };
        let first = out.len();
        if p.needs_vaults() {
            for vault in plan
                .rules
                .iter()
                .filter_map(|ru| ru.target_vault.as_deref())
            {
                let current = region.catalog.vaults.as_ref().and_then(|v| v.get(vault));
                let min = p
                    .min_retention_days
                    .map(i64::from)
                    .or(current.and_then(|v| v.min_retention_days))
                    .unwrap_or(1);
                let max = p.max_retention_days.map(i64::from);
                let v = Vault {
                    name: vault.to_string(),
                    locked: true,
                    min_retention_days: Some(min),
                    max_retention_days: max,
                };
                let mut command = format!("aws backup put-backup-vault-lock-configuration --region {r} --backup-vault-name {vault} --min-retention-days {min}");
                if let Some(max) = max {
                    command.push_str(&format!(" --max-retention-days {max}"));
                }
                out.push(action(
                    Kind::PutBackupVaultLockConfiguration,
                    format!(
                        "lock vault `{vault}` with Vault Lock (minimum {min} days{})",
                        max.map(|m| format!(", maximum {m}")).unwrap_or_default()
                    ),
                    command,
                    None,
                    vec![Edit::LockVault(v)],
                ));
            }
        }
        let mut rules = plan.rules.clone();
        let mut changes = Vec::new();
        for ru in rules.iter_mut().filter(|ru| ru.backs_up()) {
            if let Some(days) = p.retention_days {
                if ru.delete_after_days.is_some_and(|d| d < i64::from(days)) {
                    ru.delete_after_days = Some(i64::from(days));
                    changes.push(format!("keep recovery points {days} days"));
                }
            }
            if let Some(h) = p.frequency_hours {
                if coverage::schedule::max_interval_hours(
                    ru.schedule.as_deref().unwrap_or_default(),
                )
                .map_or(true, |g| g > f64::from(h))
                {
                    ru.schedule = Some(if h >= 24 {
                        "cron(0 5 ? * * *)".into()
                    } else {
                        format!("cron(0 0/{h} ? * * *)")
                    });
                    changes.push(format!("run at least every {h} hours"));
                }
            }
            for dest in &p.cross_regions {
                let arn = format!(
                    "arn:{}:backup:{dest}:{}:backup-vault:Default",
                    table.arn.partition, region.catalog.account
                );
                if !ru
                    .copy_destinations
                    .iter()
                    .any(|d| d.split(':').nth(3) == Some(dest.as_str()))
                {
                    ru.copy_destinations.push(arn);
                    changes.push(format!("copy to {dest}"));
                }
            }
        }
        if !changes.is_empty() {
            changes.dedup();
            out.push(action(
                Kind::UpdateBackupPlan,
                format!(
                    "change plan `{}`'s rules: {}",
                    plan.name,
                    changes.join(", ")
                ),
                update_plan_command(plan, &rules, r),
                None,
                vec![Edit::SetRules {
                    plan_id: plan.id.clone(),
                    rules,
                }],
            ));
        }
        // Several properties missed at once need their changes together.
        if out.len() - first > 1 {
            let parts = &out[first..];
            let combined = action(
                Kind::UpdateBackupPlan,
                format!(
                    "all of: {}",
                    parts
                        .iter()
                        .map(|a| a.description.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                parts
                    .iter()
                    .map(|a| a.command.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                None,
                parts.iter().flat_map(|a| a.edits.clone()).collect(),
            );
            out.push(combined);
        }
    }
    if p.recovery_point_age_hours.is_some() && !coverage.covered_by.is_empty() {
        let mut a = action(
            Kind::UpdateBackupPlan,
            "run a backup job now (recovery points are created by jobs, not by configuration)".into(),
            format!("aws backup start-backup-job --region {r} --backup-vault-name <vault> --resource-arn {} --iam-role-arn <role>", table.arn.arn),
            None,
            Vec::new(),
        );
        a.not_verified_because = Some(
            "only a completed backup job creates a recovery point; check the plan's job history"
                .into(),
        );
        out.push(a);
    }
    out
}

fn existing_vault(region: &RegionSnapshot) -> Option<String> {
    match &region.catalog.vaults {
        Some(v) if v.contains_key("Default") => Some("Default".into()),
        Some(v) => v.keys().next().cloned(),
        None => Some("Default".into()),
    }
}

fn role_of(plan: &BackupPlan, account: &str) -> String {
    plan.selections
        .iter()
        .find_map(|s| s.iam_role_arn.clone())
        .unwrap_or_else(|| {
            format!("arn:aws:iam::{account}:role/service-role/AWSBackupDefaultServiceRole")
        })
}

fn selection_json(s: &Selection) -> serde_json::Value {
    let mut doc = serde_json::json!({"SelectionName": s.name, "IamRoleArn": s.iam_role_arn});
    if !s.resources.is_empty() {
        doc["Resources"] = serde_json::json!(s.resources);
    }
    if !s.not_resources.is_empty() {
        doc["NotResources"] = serde_json::json!(s.not_resources);
    }
    if !s.list_of_tags.is_empty() {
        doc["ListOfTags"] = s
            .list_of_tags
            .iter()
            .map(|c| serde_json::json!({"ConditionType": c.condition_type, "ConditionKey": c.key, "ConditionValue": c.value}))
            .collect();
    }
    if !s.conditions.is_empty() {
        let mut by_op: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for c in &s.conditions {
            by_op
                .entry(c.operator.name().to_string())
                .or_default()
                .push(serde_json::json!({"ConditionKey": c.key, "ConditionValue": c.value}));
        }
        doc["Conditions"] = serde_json::json!(by_op);
    }
    doc
}

fn create_selection_command(plan_id: &str, s: &Selection, region: &str) -> String {
    format!(
        "aws backup create-backup-selection --region {region} --backup-plan-id {plan_id} --backup-selection '{}'",
        selection_json(s)
    )
}

fn cfn_selection(plan_id: &str, s: &Selection) -> String {
    let doc = serde_json::json!({"Type": "AWS::Backup::BackupSelection", "Properties": {
        "BackupPlanId": plan_id, "BackupSelection": selection_json(s)}});
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn update_plan_command(plan: &BackupPlan, rules: &[BackupRule], region: &str) -> String {
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            let mut doc =
                serde_json::json!({"RuleName": r.name, "TargetBackupVaultName": r.target_vault});
            if let Some(s) = &r.schedule {
                doc["ScheduleExpression"] = serde_json::json!(s);
            }
            if let Some(d) = r.delete_after_days {
                doc["Lifecycle"] = serde_json::json!({"DeleteAfterDays": d});
            }
            if !r.copy_destinations.is_empty() {
                doc["CopyActions"] = r
                    .copy_destinations
                    .iter()
                    .map(|d| serde_json::json!({"DestinationBackupVaultArn": d}))
                    .collect();
            }
            doc
        })
        .collect();
    format!(
        "aws backup update-backup-plan --region {region} --backup-plan-id {} --backup-plan '{}'",
        plan.id,
        serde_json::json!({"BackupPlanName": plan.name, "Rules": rules})
    )
}

/// Applies each remediation's first verified action to a copy of the Region, all together
/// (edits of the same selection or plan merge, since they apply in turn), and checks the whole:
/// every table with a verified action is COMPLIANT, and no table that was COMPLIANT is anything
/// else. Returns the edited Region and the tables that did not come out as promised.
pub fn apply_all(
    region: &RegionSnapshot,
    remediations: &[Remediation],
    params: &RuleParameters,
    now: DateTime<Utc>,
) -> (RegionSnapshot, Vec<String>) {
    let index = CatalogIndex::new(&region.catalog);
    let before = compliances(region, &index, params, now);
    let mut copy = region.clone();
    let mut applied: Vec<&Edit> = Vec::new();
    for r in remediations
        .iter()
        .filter(|r| r.region == region.catalog.region)
    {
        if let Some(a) = r.first_verified() {
            for e in &a.edits {
                if !applied.contains(&e) {
                    e.apply(&mut copy);
                    applied.push(e);
                }
            }
        }
    }
    let fixed: Vec<&str> = remediations
        .iter()
        .filter(|r| r.region == region.catalog.region && r.first_verified().is_some())
        .map(|r| r.table.as_str())
        .collect();
    let index = CatalogIndex::new(&copy.catalog);
    let mut problems = Vec::new();
    for (t, was) in copy.tables.iter().zip(&before) {
        let now_c = verdict_of(&copy, &index, params, now, t).compliance;
        let promised = fixed.contains(&t.name.as_str());
        if (promised || *was == Compliance::Compliant) && now_c != Compliance::Compliant {
            problems.push(t.name.clone());
        }
    }
    (copy, problems)
}
