//! PURE. Every fix worth trying for one NON_COMPLIANT table, unverified: what the engine already
//! knows about it (each mentioning selection's trace, the Region's opt-in, plans that cannot
//! run, the policy parameters a covering plan misses), and the tags other selections key on.
//! Each candidate is the AWS calls it makes; whether it works is for [`super::verify`].
//!
//! Within the service's rules: tag keys and values DynamoDB can store (never `aws:`), selection
//! names within the API's pattern and unique in their plan, and no edit of a plan an AWS
//! Organizations backup policy owns (the member account cannot change it).

use super::calls::{plan_input, Call};
use super::{Action, Kind};
use crate::coverage::selection::{Blocker, PlanState, SelectionTrace};
use crate::coverage::tags::{is_string_equals, list_of_tags_key};
use crate::coverage::{self, Tri};
use crate::model::{
    lock_range_words, BackupPlan, ConditionOperator, LockMode, OptIn, RegionSnapshot, RuleEffect,
    Selection, Table, Vault, RESOURCE_TAG_PREFIX,
};
use crate::params::RuleParameters;
use crate::text::{selection_name, shown, unstorable_tag};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The retention and schedule a rule the fix must invent gets: AWS Backup's daily default.
const NEW_RULE_DAYS: i64 = 35;
const NEW_RULE_SCHEDULE: &str = "cron(0 5 ? * * *)";

/// What the candidates of every table of a Region share, computed once.
pub struct RegionContext {
    /// Distinct sets of tags that would make some selection select a table by its tags:
    /// a `ListOfTags` entry with the selection's `StringEquals` conditions.
    pub tag_offers: Vec<TagOffer>,
    /// Every offer's tag set.
    pub offer_sets: std::collections::HashSet<Vec<(String, String)>>,
}

/// Tags that one selection selects by.
#[derive(Debug, Clone, PartialEq)]
pub struct TagOffer {
    /// The tags.
    pub tags: Vec<(String, String)>,
    /// "selection `s` of plan `p`".
    pub at: String,
    /// Why DynamoDB cannot store them, when it cannot.
    pub unstorable: Option<String>,
}

impl RegionContext {
    /// Collects the tag offers of every selection of a plan that may back up.
    pub fn new(region: &RegionSnapshot) -> RegionContext {
        let mut offers: Vec<TagOffer> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for plan in &region.catalog.plans {
            if plan.deletion_date.is_some() || !plan.rules.iter().any(|r| r.backs_up()) {
                continue;
            }
            for s in &plan.selections {
                let equals: Vec<(String, String)> = s
                    .conditions
                    .iter()
                    .filter(|c| c.operator == ConditionOperator::StringEquals)
                    .filter_map(|c| {
                        let k = c.key.strip_prefix(RESOURCE_TAG_PREFIX)?;
                        Some((k.to_string(), c.value.clone()))
                    })
                    .collect();
                for entry in s.list_of_tags.iter().filter(|c| is_string_equals(c)) {
                    let Some(key) = list_of_tags_key(entry) else {
                        continue;
                    };
                    let mut tags = vec![(key.to_string(), entry.value.clone())];
                    tags.extend(equals.iter().cloned());
                    tags.sort();
                    tags.dedup();
                    if !seen.insert(tags.clone()) {
                        continue;
                    }
                    let unstorable = tags.iter().find_map(|(k, v)| unstorable_tag(k, v));
                    offers.push(TagOffer {
                        tags,
                        at: coverage::verdict::selection_phrase(plan, s),
                        unstorable,
                    });
                }
            }
        }
        RegionContext {
            offer_sets: offers.iter().map(|o| o.tags.clone()).collect(),
            tag_offers: offers,
        }
    }
}

/// A candidate before verification.
pub fn action(kind: Kind, description: String, calls: Vec<Call>) -> Action {
    Action {
        kind,
        // Built from names read from AWS: shown with control characters escaped.
        description: shown(&description).into_owned(),
        calls,
        command: String::new(),
        snippet: None,
        verified: false,
        not_verified_because: None,
        affects: 0,
        affects_tables: Vec::new(),
        doubled: Vec::new(),
        preconditions: Vec::new(),
        bypasses: None,
        overwrites: false,
        covered_by: Vec::new(),
    }
}

fn unverified(mut a: Action, why: impl Into<String>) -> Action {
    a.not_verified_because = Some(shown(&why.into()).into_owned());
    a
}

/// A tag change for one table, not yet built into an action: a table named by hundreds of
/// selections gets hundreds, and only those verification reaches are built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagChange {
    /// Tags to set.
    pub set: Vec<(String, String)>,
    /// Tag keys to remove.
    pub remove: Vec<String>,
}

impl TagChange {
    /// Whether it overwrites a value the table has (`env=dev` to `env=prod`).
    pub fn overwrites(&self, table: &Table) -> bool {
        self.set
            .iter()
            .any(|(k, v)| table.tags.get(k).is_some_and(|old| old != v))
    }

    /// The kind of action it makes.
    pub fn kind(&self) -> Kind {
        if self.set.is_empty() {
            Kind::UntagResource
        } else {
            Kind::TagResource
        }
    }
}

/// Where a tag change comes from, for its description.
#[derive(Debug, Clone, Copy)]
pub enum TagSource<'a> {
    /// A selection that mentions the table.
    Selection(&'a BackupPlan, &'a Selection),
    /// A selection that selects by these tags (a tag offer).
    Offer(&'a TagOffer),
}

/// A tag change not built yet: a table can meet hundreds of tag offers, and building each
/// (its tags copied, then dropped) cost more than all the rest of remediation.
#[derive(Debug, Clone)]
pub enum LazyChange<'a> {
    /// Built.
    Built(TagChange),
    /// An offer the table has none of the tags of: the change is the offer's whole set.
    WholeOffer(&'a TagOffer),
}

impl LazyChange<'_> {
    /// The change.
    pub fn build(self) -> TagChange {
        match self {
            LazyChange::Built(c) => c,
            LazyChange::WholeOffer(o) => TagChange {
                set: o.tags.clone(),
                remove: Vec::new(),
            },
        }
    }

    /// The tags it sets.
    pub fn set(&self) -> &[(String, String)] {
        match self {
            LazyChange::Built(c) => &c.set,
            LazyChange::WholeOffer(o) => &o.tags,
        }
    }

    /// The kind of action it makes.
    pub fn kind(&self) -> Kind {
        match self {
            LazyChange::Built(c) => c.kind(),
            LazyChange::WholeOffer(_) => Kind::TagResource,
        }
    }

    /// Whether it overwrites a value the table has.
    pub fn overwrites(&self, table: &Table) -> bool {
        self.set()
            .iter()
            .any(|(k, v)| table.tags.get(k).is_some_and(|old| old != v))
    }
}

/// The candidates of one table: those built, and the tag changes, built only when
/// verification reaches them.
pub struct Candidates<'a> {
    /// Candidates built, unverified.
    pub actions: Vec<Action>,
    /// Tag changes, each once, in the order found.
    pub tags: Vec<(LazyChange<'a>, TagSource<'a>)>,
    /// The explicit exclusion every candidate routes around, if any.
    pub bypasses: Option<String>,
}

impl Candidates<'_> {
    /// How many candidates in all.
    pub fn len(&self) -> usize {
        self.actions.len() + self.tags.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Builds a tag change's candidate for `table`.
pub fn tag_action(
    change: LazyChange<'_>,
    source: TagSource<'_>,
    table: &Table,
    bypasses: &Option<String>,
) -> Option<Action> {
    let at = match source {
        TagSource::Selection(plan, selection) => {
            coverage::verdict::selection_phrase(plan, selection)
        }
        TagSource::Offer(o) => o.at.clone(),
    };
    let change = change.build();
    let mut a = tag_calls(table, change.set, change.remove, &at)?;
    a.bypasses = bypasses.clone();
    Some(a)
}

/// Every candidate for `table`. `traces` are the selections that mention it.
pub fn candidates<'a>(
    region: &'a RegionSnapshot,
    ctx: &'a RegionContext,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
    traces: &[(SelectionTrace<'a>, Blocker<'a>)],
    coverage_verdict: Option<&coverage::Verdict>,
) -> Candidates<'a> {
    let mut out: Vec<Action> = Vec::new();
    let mut from_traces: Vec<(TagChange, TagSource<'a>)> = Vec::new();
    for (t, blocker) in traces {
        match from_trace(region, table, t, blocker) {
            FromTrace::Actions(a) => out.extend(a),
            FromTrace::Tags(change) => {
                from_traces.push((change, TagSource::Selection(t.plan, t.selection)))
            }
        }
    }
    // Hundreds of mentioning selections propose the same tags: keep the first of each, without
    // copying any (this runs for every selection that mentions every table).
    let keep: Vec<bool> = {
        let mut seen = std::collections::HashSet::new();
        from_traces.iter().map(|(c, _)| seen.insert(c)).collect()
    };
    let mut keep = keep.into_iter();
    from_traces.retain(|_| keep.next().unwrap_or(false));
    if let Some(a) = explicit_selection(region, table) {
        out.push(a);
    }
    if region.catalog.settings.dynamodb_opt_in != OptIn::Enabled {
        out.push(action(
            Kind::UpdateRegionSettings,
            format!(
                "opt DynamoDB in to AWS Backup in {} (tag and wildcard assignments then apply to it)",
                region.catalog.region
            ),
            vec![Call::OptInDynamoDb],
        ));
    }
    if let Some(v) = coverage_verdict {
        out.extend(policy_actions(region, params, now, table, v));
    }
    if !region
        .catalog
        .plans
        .iter()
        .any(|p| PlanState::of(p, table) == PlanState::Active && !p.is_org_policy())
    {
        out.push(new_plan(region, table));
    }
    // Routing around an explicit exclusion is the last resort: say which one.
    let bypasses = explicit_exclusion(traces.iter().map(|(t, _)| t));
    for a in &mut out {
        a.bypasses = bypasses.clone();
    }
    let mut seen: std::collections::HashSet<(Kind, Vec<Call>)> = Default::default();
    out.retain(|a| {
        a.calls.is_empty() && a.not_verified_because.is_some()
            || seen.insert((a.kind, a.calls.clone()))
    });
    // The tags other selections select by, where the table lacks them. Offers are distinct
    // sets; an offer the table has none of is kept whole and unbuilt unless a trace proposed
    // the same; an offer it partly has is reduced to what it lacks, and kept unless that is
    // another offer's whole set (kept there) or already proposed.
    let mut offered: Vec<(LazyChange<'a>, TagSource<'a>)> = Vec::new();
    {
        let proposed: std::collections::HashSet<&[(String, String)]> = from_traces
            .iter()
            .filter(|(c, _)| c.remove.is_empty())
            .map(|(c, _)| c.set.as_slice())
            .collect();
        let mut partial: std::collections::HashSet<Vec<(String, String)>> = Default::default();
        for o in &ctx.tag_offers {
            let has = |(k, v): &(String, String)| table.tags.get(k) == Some(v);
            let held = o.tags.iter().filter(|t| has(t)).count();
            if held == o.tags.len() {
                continue;
            }
            if held == 0 {
                if !proposed.contains(o.tags.as_slice()) {
                    offered.push((LazyChange::WholeOffer(o), TagSource::Offer(o)));
                }
                continue;
            }
            let set: Vec<(String, String)> = o.tags.iter().filter(|t| !has(t)).cloned().collect();
            if ctx.offer_sets.contains(&set)
                || proposed.contains(set.as_slice())
                || !partial.insert(set.clone())
            {
                continue;
            }
            let change = TagChange {
                set,
                remove: Vec::new(),
            };
            offered.push((LazyChange::Built(change), TagSource::Offer(o)));
        }
    }
    let mut tags: Vec<(LazyChange<'a>, TagSource<'a>)> = from_traces
        .into_iter()
        .map(|(c, s)| (LazyChange::Built(c), s))
        .collect();
    tags.extend(offered);
    Candidates {
        actions: out,
        tags,
        bypasses,
    }
}

/// The first exclusion that names the table on purpose: a `NotResources` entry that matches
/// it by name (its ARN, or a pattern with a table-name prefix; not a catch-all such as
/// `arn:aws:dynamodb:*`), or a negative condition (`StringNotEquals`, `StringNotLike`) that
/// fails for it.
fn explicit_exclusion<'t, 'a: 't>(
    mut traces: impl Iterator<Item = &'t SelectionTrace<'a>>,
) -> Option<String> {
    let names_table = |p: &str| {
        let (prefix, exact) = coverage::pattern::required_prefix(p);
        exact
            || prefix
                .split_once(":table/")
                .is_some_and(|(_, name)| !name.is_empty())
    };
    traces.find_map(|t| {
        let at = || coverage::verdict::selection_phrase(t.plan, t.selection);
        if let Some(p) = t
            .not_resources
            .iter()
            .find(|c| c.result.value == Tri::True && names_table(c.pattern))
        {
            return Some(format!("NotResources `{}` of {}", p.pattern, at()));
        }
        t.conditions
            .iter()
            .find(|c| {
                matches!(
                    c.entry.operator,
                    ConditionOperator::StringNotEquals | ConditionOperator::StringNotLike
                ) && c.check.result.value == Tri::False
            })
            .map(|c| format!("condition {} of {}", c.entry, at()))
    })
}

/// What one trace suggests: built actions, or a tag change built later.
enum FromTrace {
    Actions(Vec<Action>),
    Tags(TagChange),
}

/// What one mentioning selection's trace suggests, given its blocker.
fn from_trace(
    region: &RegionSnapshot,
    table: &Table,
    t: &SelectionTrace<'_>,
    blocker: &Blocker<'_>,
) -> FromTrace {
    if let Some(change) = tag_change(table, t, blocker) {
        return FromTrace::Tags(change);
    }
    FromTrace::Actions(trace_actions(region, table, t, blocker.clone()))
}

fn trace_actions(
    region: &RegionSnapshot,
    table: &Table,
    t: &SelectionTrace<'_>,
    blocker: Blocker<'_>,
) -> Vec<Action> {
    let at = coverage::verdict::selection_phrase(t.plan, t.selection);
    let org = t.plan.is_org_policy();
    match blocker {
        Blocker::PlanInactive(
            PlanState::NoRules | PlanState::VaultMissing(_) | PlanState::LockRefused(_),
        ) if org => vec![org_advice(t.plan, "give it a rule that can back up")],
        Blocker::PlanInactive(PlanState::NoRules) => vec![give_rule(region, t.plan)],
        Blocker::PlanInactive(PlanState::VaultMissing(_) | PlanState::LockRefused(_)) => {
            repair_rules(region, t.plan)
        }
        Blocker::PlanInactive(_) => Vec::new(),
        Blocker::Excluded(pattern) if org => vec![org_advice(
            t.plan,
            &format!("remove `{pattern}` from the NotResources of {at}"),
        )],
        Blocker::Excluded(pattern) => {
            let mut new = t.selection.clone();
            new.not_resources.retain(|p| p != pattern);
            vec![replace(
                t,
                new,
                format!("replace {at} with one whose NotResources no longer lists `{pattern}`"),
            )]
        }
        Blocker::Ambiguous(coverage::selection::Construct::Resource(pattern), _) if org => {
            vec![org_advice(
                t.plan,
                &format!("rewrite the ambiguous pattern `{pattern}` of {at}"),
            )]
        }
        Blocker::Ambiguous(coverage::selection::Construct::Resource(pattern), _) => {
            let mut new = t.selection.clone();
            match coverage::pattern::fill_empty_segments(pattern) {
                Some(filled) => {
                    for p in new.resources.iter_mut().filter(|p| p.as_str() == pattern) {
                        *p = filled.clone();
                    }
                }
                None => new.resources.push(table.arn.arn.clone()),
            }
            vec![replace(
                t,
                new,
                format!(
                    "replace {at}: rewrite the ambiguous pattern `{pattern}` in a documented form"
                ),
            )]
        }
        // Tag blockers are [`tag_change`]'s.
        Blocker::ConditionFailed(..)
        | Blocker::TagNearMiss(_)
        | Blocker::NotOptedIn
        | Blocker::Ambiguous(..)
        | Blocker::UnsupportedTagType(_)
        | Blocker::Invalid => Vec::new(),
    }
}

/// Advice for a plan an AWS Organizations backup policy owns: the member account cannot change
/// it, so the fix is a change to the policy, never verified here.
fn org_advice(plan: &BackupPlan, what: &str) -> Action {
    unverified(
        action(
            Kind::ChangeOrganizationBackupPolicy,
            format!(
                "in the AWS Organizations backup policy that creates plan `{}` ({}), {what}",
                plan.name, plan.id
            ),
            Vec::new(),
        ),
        "the plan belongs to an AWS Organizations backup policy: only the management account (or a delegated administrator) can change it",
    )
}

/// Tags that make the selection's tag tests and conditions hold for the table, when the
/// selection's blocker is one tags can lift.
fn tag_change(table: &Table, t: &SelectionTrace<'_>, blocker: &Blocker<'_>) -> Option<TagChange> {
    match blocker {
        Blocker::ConditionFailed(..)
        | Blocker::TagNearMiss(_)
        | Blocker::NotOptedIn
        | Blocker::Ambiguous(coverage::selection::Construct::ListOfTags(_), _)
        | Blocker::Ambiguous(coverage::selection::Construct::Condition(_), _)
        | Blocker::Ambiguous(coverage::selection::Construct::NotResource(_), _)
        | Blocker::Ambiguous(coverage::selection::Construct::OptIn, _) => {}
        _ => return None,
    }
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
    remove.sort();
    remove.dedup();
    (!set.is_empty() || !remove.is_empty()).then_some(TagChange { set, remove })
}

/// Tag and untag calls, or an unverified note when DynamoDB could not store the tags.
fn tag_calls(
    table: &Table,
    set: Vec<(String, String)>,
    remove: Vec<String>,
    at: &str,
) -> Option<Action> {
    if set.is_empty() && remove.is_empty() {
        return None;
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
    let kind = if set.is_empty() {
        Kind::UntagResource
    } else {
        Kind::TagResource
    };
    if let Some(why) = set.iter().find_map(|(k, v)| unstorable_tag(k, v)) {
        return Some(unverified(
            action(kind, what, Vec::new()),
            format!("no tag fix: {why}"),
        ));
    }
    let overwrites = set
        .iter()
        .any(|(k, v)| table.tags.get(k).is_some_and(|old| old != v));
    let arn = table.arn.arn.clone();
    let mut calls = Vec::new();
    if !remove.is_empty() {
        calls.push(Call::UntagResource {
            resource_arn: arn.clone(),
            tag_keys: remove,
        });
    }
    if !set.is_empty() {
        calls.push(Call::TagResource {
            resource_arn: arn,
            tags: set,
        });
    }
    let mut a = action(kind, what, calls);
    a.overwrites = overwrites;
    Some(a)
}

fn pairs(set: &[(String, String)]) -> String {
    set.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Selections are immutable: create the replacement under a new unique name, then delete the
/// old one, in that order, so the account is never less protected midway, and a failed create
/// stops before the delete.
fn replace(t: &SelectionTrace<'_>, mut new: Selection, what: String) -> Action {
    let taken: Vec<&str> = t.plan.selections.iter().map(|s| s.name.as_str()).collect();
    new.name = selection_name(&t.selection.name, &taken);
    let mut a = action(
        Kind::ReplaceBackupSelection,
        format!("{what} (named `{}`)", new.name),
        vec![
            Call::CreateBackupSelection {
                plan_id: t.plan.id.clone(),
                selection: new.clone(),
            },
            Call::DeleteBackupSelection {
                plan_id: t.plan.id.clone(),
                selection_id: t.selection.id.clone(),
            },
        ],
    );
    a.snippet = Some(super::render::cfn_selection(&t.plan.id, &new));
    a
}

/// An explicit assignment by ARN in an existing plan that can run: it bypasses opt-in and tags.
fn explicit_selection(region: &RegionSnapshot, table: &Table) -> Option<Action> {
    let plan = region
        .catalog
        .plans
        .iter()
        .find(|p| PlanState::of(p, table) == PlanState::Active && !p.is_org_policy())?;
    let taken: Vec<&str> = plan.selections.iter().map(|s| s.name.as_str()).collect();
    let role = plan
        .selections
        .iter()
        .find_map(|s| s.iam_role_arn.clone())
        .unwrap_or_else(|| {
            format!(
                "arn:{}:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
                table.arn.partition, region.catalog.account
            )
        });
    let selection = Selection {
        id: String::new(),
        name: selection_name(&format!("protect-{}", table.name), &taken),
        iam_role_arn: Some(role.clone()),
        resources: vec![table.arn.arn.clone()],
        not_resources: Vec::new(),
        list_of_tags: Vec::new(),
        conditions: Vec::new(),
    };
    let mut a = action(
        Kind::CreateBackupSelection,
        format!(
            "assign the table by its ARN in a new selection `{}` of plan `{}`",
            selection.name, plan.name
        ),
        vec![Call::CreateBackupSelection {
            plan_id: plan.id.clone(),
            selection: selection.clone(),
        }],
    );
    a.snippet = Some(super::render::cfn_selection(&plan.id, &selection));
    a.preconditions.push(shown(&format!(
        "the IAM role {role} must be able to back up DynamoDB tables (AWSBackupServiceRolePolicyForBackup, or a policy with dynamodb:CreateBackup and the table's KMS key)"
    )).into_owned());
    Some(a)
}

/// A vault of the Region that exists and whose lock accepts `retention`: `Default` first, then
/// by name. `None` when the vaults were not listed, or none accepts it.
fn accepting_vault(region: &RegionSnapshot, retention: Option<i64>) -> Option<&Vault> {
    accepting(region.catalog.vaults.as_ref()?, retention)
}

/// The vault of a list whose lock accepts `retention`: `Default` first, then by name.
fn accepting(vaults: &BTreeMap<String, Vault>, retention: Option<i64>) -> Option<&Vault> {
    let accepts = |v: &&Vault| RuleEffect::of_lock(v, retention) == RuleEffect::Effective;
    vaults
        .get("Default")
        .filter(accepts)
        .or_else(|| vaults.values().find(accepts))
}

fn vault_unknown(a: Action, region: &RegionSnapshot, retention: Option<i64>) -> Action {
    let why = if region.catalog.vaults.is_none() {
        "the Region's backup vaults were not captured, so no target vault is known to exist"
            .to_string()
    } else {
        format!(
            "no backup vault of {} accepts a retention of {}",
            region.catalog.region,
            crate::model::retention_words(retention)
        )
    };
    unverified(a, why)
}

fn plan_not_captured(a: Action) -> Action {
    unverified(
        a,
        "the plan's full document was not captured (re-capture the snapshot): rewriting it from part of it would drop settings",
    )
}

/// A rule for a plan that has none: daily, 35 days, into a vault that exists and accepts that.
fn give_rule(region: &RegionSnapshot, plan: &BackupPlan) -> Action {
    let vault = accepting_vault(region, Some(NEW_RULE_DAYS));
    let name = vault.map_or("Default", |v| v.name.as_str());
    let rule: Map<String, Value> = match json!({
        "RuleName": "daily",
        "TargetBackupVaultName": name,
        "ScheduleExpression": NEW_RULE_SCHEDULE,
        "Lifecycle": {"DeleteAfterDays": NEW_RULE_DAYS},
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let description = format!(
        "give plan `{}` a daily rule into vault `{name}`, keeping recovery points {NEW_RULE_DAYS} days (it has none)",
        plan.name
    );
    match plan_input(plan, |rules| rules.push(rule)) {
        Some(doc) if vault.is_some() => action(
            Kind::UpdateBackupPlan,
            description,
            vec![Call::UpdateBackupPlan {
                plan_id: plan.id.clone(),
                plan: doc,
            }],
        ),
        Some(_) => vault_unknown(
            action(Kind::UpdateBackupPlan, description, Vec::new()),
            region,
            Some(NEW_RULE_DAYS),
        ),
        None => plan_not_captured(action(Kind::UpdateBackupPlan, description, Vec::new())),
    }
}

/// A change to one rule's document.
type RuleEdit = Box<dyn Fn(&mut Map<String, Value>)>;

/// A plan none of whose rules can back up: point rules whose vault is gone at one that exists
/// and accepts their retention, and bring retentions a lock refuses inside its range.
fn repair_rules(region: &RegionSnapshot, plan: &BackupPlan) -> Vec<Action> {
    let mut out = Vec::new();
    for (i, rule) in plan.rules.iter().enumerate() {
        let (what, change): (String, RuleEdit) = match rule.effect {
            RuleEffect::VaultMissing => {
                let Some(vault) = accepting_vault(region, rule.delete_after_days) else {
                    out.push(vault_unknown(
                        action(
                            Kind::UpdateBackupPlan,
                            format!(
                                "point rule `{}` of plan `{}` at an existing vault (its vault was deleted)",
                                rule.name, plan.name
                            ),
                            Vec::new(),
                        ),
                        region,
                        rule.delete_after_days,
                    ));
                    continue;
                };
                let name = vault.name.clone();
                (
                    format!(
                        "point rule `{}` of plan `{}` at the existing vault `{name}` (its vault was deleted)",
                        rule.name, plan.name
                    ),
                    Box::new(move |r: &mut Map<String, Value>| {
                        r.insert("TargetBackupVaultName".into(), json!(name));
                    }),
                )
            }
            RuleEffect::LockRefuses { min, max } => {
                let days = match (min, max, rule.delete_after_days) {
                    (Some(m), _, Some(d)) if d < m => m,
                    (_, Some(m), _) => m,
                    (Some(m), None, _) => m,
                    _ => continue,
                };
                (
                    format!(
                        "keep rule `{}` of plan `{}`'s recovery points {days} days, within vault `{}`'s lock range ({}); this changes how long its backups are kept",
                        rule.name,
                        plan.name,
                        rule.target_vault.as_deref().unwrap_or_default(),
                        lock_range_words(min, max)
                    ),
                    Box::new(move |r: &mut Map<String, Value>| {
                        let lifecycle = r.entry("Lifecycle").or_insert_with(|| json!({}));
                        lifecycle["DeleteAfterDays"] = json!(days);
                    }),
                )
            }
            _ => continue,
        };
        let a = match plan_input(plan, |rules| change(&mut rules[i])) {
            Some(doc) => action(
                Kind::UpdateBackupPlan,
                what,
                vec![Call::UpdateBackupPlan {
                    plan_id: plan.id.clone(),
                    plan: doc,
                }],
            ),
            None => plan_not_captured(action(Kind::UpdateBackupPlan, what, Vec::new())),
        };
        out.push(a);
    }
    out
}

/// The last resort: a new plan. Unverified: its vault, schedule and retention are the user's to
/// choose, and the selection needs the new plan's ID, which only AWS assigns.
fn new_plan(region: &RegionSnapshot, table: &Table) -> Action {
    let vault = accepting_vault(region, Some(NEW_RULE_DAYS));
    let plan = json!({
        "BackupPlanName": selection_name(&format!("dynamodb-{}", table.name), &[]),
        "Rules": [{
            "RuleName": "daily",
            "TargetBackupVaultName": vault.map_or("Default", |v| v.name.as_str()),
            "ScheduleExpression": NEW_RULE_SCHEDULE,
            "Lifecycle": {"DeleteAfterDays": NEW_RULE_DAYS},
        }],
    });
    let mut a = action(
        Kind::CreateBackupPlan,
        "create a backup plan with a rule of your choosing, then a selection naming the table in it".to_string(),
        Vec::new(),
    );
    a.snippet = Some(serde_json::to_string_pretty(&plan).unwrap_or_default());
    unverified(
        a,
        "a new plan's vault, schedule and retention are yours to choose; no existing plan can be reused",
    )
}

/// Changes that make a covering plan meet the policy parameters.
fn policy_actions(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    table: &Table,
    coverage_verdict: &coverage::Verdict,
) -> Vec<Action> {
    let p = &params.policy;
    if !p.has_properties() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in &coverage_verdict.covered_by {
        let Some(plan) = region
            .catalog
            .plans
            .iter()
            .find(|pl| pl.id == c.backup_plan_id)
        else {
            continue;
        };
        if plan.is_org_policy() {
            out.push(org_advice(
                plan,
                "meet the rule's policy parameters (vault lock, retention, frequency, copies)",
            ));
            continue;
        }
        let first = out.len();
        if p.needs_vaults() {
            let mut vaults: Vec<&str> = plan
                .rules
                .iter()
                .filter(|r| r.backs_up())
                .filter_map(|r| r.target_vault.as_deref())
                .collect();
            vaults.dedup();
            for vault in vaults {
                out.extend(lock_action(region, params, now, vault));
            }
        }
        let mut changes: Vec<String> = Vec::new();
        let mut unknown_copy: Option<String> = None;
        let edit = |rules: &mut Vec<Map<String, Value>>| {
            for (doc, ru) in rules.iter_mut().zip(&plan.rules) {
                if !ru.backs_up() {
                    continue;
                }
                if let Some(days) = p.retention_days {
                    if ru.delete_after_days.is_some_and(|d| d < i64::from(days)) {
                        let lifecycle = doc.entry("Lifecycle").or_insert_with(|| json!({}));
                        lifecycle["DeleteAfterDays"] = json!(days);
                        changes.push(format!("keep recovery points {days} days"));
                    }
                }
                if let Some(h) = p.frequency_hours {
                    if coverage::schedule::max_interval_hours(
                        ru.schedule.as_deref().unwrap_or_default(),
                    )
                    .map_or(true, |g| g > f64::from(h))
                    {
                        let schedule = if h >= 24 {
                            NEW_RULE_SCHEDULE.to_string()
                        } else {
                            format!("cron(0 0/{h} ? * * *)")
                        };
                        doc.insert("ScheduleExpression".into(), json!(schedule));
                        changes.push(format!("run at least every {h} hours"));
                    }
                }
                for dest in &p.cross_regions {
                    if ru
                        .copies
                        .iter()
                        .any(|c| c.destination.split(':').nth(3) == Some(dest.as_str()))
                    {
                        continue;
                    }
                    // Copies are kept as long as the rule keeps its own points, so that a lock
                    // in the destination judges them as it would the source's.
                    let keep = ru.delete_after_days;
                    let known = region.catalog.copy_vaults.get(dest.as_str());
                    let vault = known.and_then(|list| accepting(list, keep));
                    let name = vault.map_or("Default", |v| v.name.as_str());
                    let arn = format!(
                        "arn:{}:backup:{dest}:{}:backup-vault:{name}",
                        table.arn.partition, region.catalog.account
                    );
                    let mut copy = json!({"DestinationBackupVaultArn": arn});
                    if let Some(days) = keep {
                        copy["Lifecycle"] = json!({"DeleteAfterDays": days});
                    }
                    let copies = doc.entry("CopyActions").or_insert_with(|| json!([]));
                    if let Some(list) = copies.as_array_mut() {
                        list.push(copy);
                    }
                    changes.push(format!("copy to vault {name} in {dest}"));
                    if vault.is_none() {
                        unknown_copy = Some(match known {
                            Some(_) => format!(
                                "no backup vault in {dest} accepts copies kept {}",
                                crate::model::retention_words(keep)
                            ),
                            None => format!(
                                "the destination vault `Default` in {dest} is not known to exist (the vaults of {dest} were not read)"
                            ),
                        });
                    }
                }
            }
        };
        let doc = plan_input(plan, edit);
        if !changes.is_empty() || doc.is_none() {
            changes.dedup();
            let what = format!(
                "change plan `{}`'s rules: {}",
                plan.name,
                changes.join(", ")
            );
            let a = match doc {
                Some(doc) => {
                    let a = action(
                        Kind::UpdateBackupPlan,
                        what,
                        vec![Call::UpdateBackupPlan {
                            plan_id: plan.id.clone(),
                            plan: doc,
                        }],
                    );
                    match unknown_copy {
                        Some(why) => unverified(a, why),
                        None => a,
                    }
                }
                None => plan_not_captured(action(Kind::UpdateBackupPlan, what, Vec::new())),
            };
            if !(a.calls.is_empty() && changes.is_empty()) {
                out.push(a);
            }
        }
        // Several properties missed at once need their changes together: plan changes first,
        // then the lock, so that no rule's retention is outside a new lock range midway.
        let mut parts: Vec<&Action> = out[first..]
            .iter()
            .filter(|a| !a.calls.is_empty())
            .collect();
        parts.sort_by_key(|a| a.kind != Kind::UpdateBackupPlan);
        if parts.len() > 1 {
            let mut combined = action(
                Kind::UpdateBackupPlan,
                format!(
                    "all of: {}",
                    parts
                        .iter()
                        .map(|a| a.description.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                parts.iter().flat_map(|a| a.calls.clone()).collect(),
            );
            combined.not_verified_because =
                parts.iter().find_map(|a| a.not_verified_because.clone());
            out.push(combined);
        }
    }
    if p.recovery_point_age_hours.is_some() && !coverage_verdict.covered_by.is_empty() {
        out.push(unverified(
            action(
                Kind::StartBackupJob,
                "run a backup job now with `aws backup start-backup-job` (recovery points are created by jobs, not by configuration)".into(),
                Vec::new(),
            ),
            "only a completed backup job creates a recovery point; check the plan's job history",
        ));
    }
    out
}

/// A vault lock that meets the lock parameters, by spec §10: both bounds passed, never weaker
/// than the current lock, never on an immutable lock, a compliance-mode lock's date kept.
fn lock_action(
    region: &RegionSnapshot,
    params: &RuleParameters,
    now: DateTime<Utc>,
    vault: &str,
) -> Option<Action> {
    let p = &params.policy;
    let current = region.catalog.vaults.as_ref().and_then(|v| v.get(vault));
    let (cur_min, cur_max) = match current {
        Some(v) if v.locked => (v.min_retention_days, v.max_retention_days),
        _ => (None, None),
    };
    // Never weaker: the stricter of what the lock has and what the parameters ask.
    let min = match (cur_min, p.min_retention_days.map(i64::from)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let max = match (cur_max, p.max_retention_days.map(i64::from)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let min = min.or(Some(1));
    let what = format!(
        "lock vault `{vault}` with Vault Lock ({})",
        lock_range_words(min, max)
    );
    let mode = current.map_or(LockMode::Unlocked, |v| v.lock_mode(now));
    let changeable_for_days = match mode {
        LockMode::Immutable => {
            return Some(unverified(
                action(Kind::PutBackupVaultLockConfiguration, what, Vec::new()),
                format!(
                    "vault `{vault}`'s lock is immutable (past its LockDate): nobody can change it"
                ),
            ))
        }
        LockMode::ComplianceChangeable(date) => {
            // Keep the date: leaving ChangeableForDays out would make it a governance lock.
            let days = (date - now).num_days();
            if days < 3 {
                return Some(unverified(
                    action(Kind::PutBackupVaultLockConfiguration, what, Vec::new()),
                    format!("vault `{vault}`'s compliance-mode lock becomes immutable in under 3 days, the least ChangeableForDays AWS takes; changing it now would move its date"),
                ));
            }
            Some(days)
        }
        LockMode::Governance | LockMode::Unlocked => None,
    };
    if min.is_some_and(|a| max.is_some_and(|b| a > b)) {
        return None;
    }
    Some(action(
        Kind::PutBackupVaultLockConfiguration,
        what,
        vec![Call::PutBackupVaultLockConfiguration {
            vault: vault.to_string(),
            min,
            max,
            changeable_for_days,
        }],
    ))
}
