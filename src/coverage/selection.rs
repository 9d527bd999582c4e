//! One selection against one table: the predicate of spec §1,
//! `Included ∧ ¬Excluded ∧ CondOK ∧ OptInOK`, kept as a trace so the verdict and `explain` can
//! both say which entry decided it.

use super::pattern::{
    arn_match, arn_match_generated, names_table_type, required_prefix, Ambiguity, Match,
};
use super::tags::{
    all_conditions, condition_match, is_string_equals, list_of_tags_key, list_of_tags_match,
    TagCheck,
};
use super::tri::Tri;
use crate::model::{
    BackupPlan, BackupRule, Condition, OptIn, RuleEffect, Selection, Table, TagCondition, Tags,
};

/// Why a plan cannot cover this table whatever its selections say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanState<'a> {
    /// Listed, not deleted, with at least one rule, in the table's account and Region.
    Active,
    /// `DeletionDate` is set.
    Deleted(&'a str),
    /// No rules: nothing is ever scheduled.
    NoRules,
    /// Every rule targets a vault that no longer exists (the first one named), so every backup
    /// job fails (spec §9).
    VaultMissing(&'a str),
    /// No rule can back up, and this one's vault lock refuses its retention (spec §10).
    LockRefused(&'a BackupRule),
    /// No rule is known to back up, and this one keeps points forever against a lock minimum:
    /// ambiguous (A-LOCK-FOREVER), so the plan may or may not back anything up.
    LockAmbiguous(&'a BackupRule),
    /// The plan lives in another account or Region than the table; plans are regional.
    OtherScope,
}

impl<'a> PlanState<'a> {
    /// The plan's state with respect to one table.
    pub fn of(plan: &'a BackupPlan, table: &Table) -> PlanState<'a> {
        if let Some(date) = plan.deletion_date.as_deref() {
            PlanState::Deleted(date)
        } else if plan.rules.is_empty() {
            PlanState::NoRules
        } else if !plan.rules.iter().any(BackupRule::backs_up) {
            // Name the rule that might still run first, then the first that cannot.
            if let Some(r) = plan.rules.iter().find(|r| r.may_back_up()) {
                PlanState::LockAmbiguous(r)
            } else {
                match plan.rules.iter().find_map(|r| match r.effect {
                    RuleEffect::LockRefuses { .. } => Some(PlanState::LockRefused(r)),
                    RuleEffect::VaultMissing => Some(PlanState::VaultMissing(
                        r.target_vault.as_deref().unwrap_or(""),
                    )),
                    _ => None,
                }) {
                    Some(state) => state,
                    None => PlanState::VaultMissing(""),
                }
            }
        } else if plan.account != table.arn.account || plan.region != table.arn.region {
            PlanState::OtherScope
        } else {
            PlanState::Active
        }
    }
}

/// One `Resources` or `NotResources` pattern that matched or may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternCheck<'a> {
    /// The pattern.
    pub pattern: &'a str,
    /// yes / unknown, and why unknown.
    pub result: Match,
    /// Whether the pattern names the DynamoDB table type (bypasses opt-in).
    pub names_table_type: bool,
}

/// One `ListOfTags` or `Conditions` entry and its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryCheck<'a, T> {
    /// The entry.
    pub entry: &'a T,
    /// Its outcome against the table's tags.
    pub check: TagCheck<'a>,
}

/// The service opt-in factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptInCheck<'a> {
    /// yes / no / unknown.
    pub value: Tri,
    /// The `Resources` pattern that names the table type and so makes opt-in irrelevant.
    pub explicit: Option<&'a str>,
    /// The Region's setting.
    pub setting: OptIn,
}

/// Everything one selection says about one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionTrace<'a> {
    /// The table traced.
    pub table: &'a Table,
    /// The plan the selection belongs to.
    pub plan: &'a BackupPlan,
    /// The selection.
    pub selection: &'a Selection,
    /// Whether the plan can cover anything here.
    pub plan_state: PlanState<'a>,
    /// `false` when the selection has neither `Resources` nor `ListOfTags` (A8).
    pub valid: bool,
    /// `Resources` entries that matched or may match; the others did not.
    pub resources: Vec<PatternCheck<'a>>,
    /// Every `ListOfTags` entry.
    pub list_of_tags: Vec<EntryCheck<'a, TagCondition>>,
    /// `NotResources` entries that matched or may match; the others did not.
    pub not_resources: Vec<PatternCheck<'a>>,
    /// Every `Conditions` entry.
    pub conditions: Vec<EntryCheck<'a, Condition>>,
    /// `Resources ∪ ListOfTags`.
    pub included: Tri,
    /// `NotResources`.
    pub excluded: Tri,
    /// All `Conditions`.
    pub conditions_ok: Tri,
    /// Service opt-in.
    pub opt_in: OptInCheck<'a>,
    /// What the selection's own terms say (`Included ∧ ¬Excluded ∧ CondOK ∧ OptInOK`), before
    /// the plan's state: only a selection that selects the table is blamed on its plan.
    pub selects: Tri,
    /// The selection's verdict for this table.
    pub result: Tri,
}

/// What stops a selection from covering a table that it mentions. [`Blocker::rank`] orders
/// them by how useful they are to hear first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker<'a> {
    /// The selection might cover the table, but only under a reading AWS does not document.
    Ambiguous(Construct<'a>, Ambiguity),
    /// Selected only through a path that needs DynamoDB opt-in, which is off.
    NotOptedIn,
    /// The selection would select it, but the plan is deleted, rule-less or elsewhere.
    PlanInactive(PlanState<'a>),
    /// A `NotResources` pattern matches.
    Excluded(&'a str),
    /// A condition fails.
    ConditionFailed(&'a Condition, Option<&'a str>),
    /// A `ListOfTags` entry names one of the table's tag keys (or the key in another letter
    /// case) with another value: the commonest real mistake (`Backup` vs `backup`).
    TagNearMiss(TagNearMiss<'a>),
    /// A `ListOfTags` entry with an unsupported `ConditionType` names one of the table's tags.
    UnsupportedTagType(&'a TagCondition),
    /// Neither `Resources` nor `ListOfTags`.
    Invalid,
}

impl Blocker<'_> {
    /// Lower is more useful to the user.
    pub fn rank(&self) -> u8 {
        match self {
            Blocker::Ambiguous(..) => 0,
            // A plan that would select the table but cannot run is the surprise to report
            // first: someone meant to protect this table.
            Blocker::PlanInactive(_) => 1,
            Blocker::NotOptedIn => 2,
            Blocker::Excluded(_) => 3,
            Blocker::ConditionFailed(..) => 4,
            Blocker::TagNearMiss(_) => 5,
            Blocker::UnsupportedTagType(_) => 6,
            Blocker::Invalid => 7,
        }
    }
}

/// A `ListOfTags` entry the table almost satisfies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagNearMiss<'a> {
    /// The entry.
    pub entry: &'a TagCondition,
    /// The table's key: the entry's own, or the same key in another letter case.
    pub key: &'a str,
    /// The table's value for that key.
    pub value: &'a str,
}

impl TagNearMiss<'_> {
    /// Whether key and value differ from the entry's only in letter case.
    pub fn case_only(&self) -> bool {
        self.key
            .eq_ignore_ascii_case(list_of_tags_key(self.entry).unwrap_or(&self.entry.key))
            && self.value.eq_ignore_ascii_case(&self.entry.value)
    }
}

/// The table's tag `key` or, failing that, a tag whose key differs from it only in letter case.
pub fn tag_or_case_variant<'t>(tags: &'t Tags, key: &str) -> Option<(&'t str, &'t str)> {
    tags.get_key_value(key)
        .or_else(|| tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The entry an ambiguity was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construct<'a> {
    /// A `Resources` pattern.
    Resource(&'a str),
    /// A `NotResources` pattern.
    NotResource(&'a str),
    /// A `ListOfTags` entry.
    ListOfTags(&'a TagCondition),
    /// A `Conditions` entry.
    Condition(&'a Condition),
    /// The Region's opt-in setting.
    OptIn,
}

/// The non-false pattern checks of a pattern list.
fn matching_patterns<'a>(patterns: &'a [String], table: &Table) -> Vec<PatternCheck<'a>> {
    let arn = table.arn.arn.as_str();
    patterns
        .iter()
        .filter_map(|pattern| {
            let result = if table.generated_name {
                arn_match_generated(pattern, arn)
            } else {
                arn_match(pattern, arn)
            };
            (result.value != Tri::False).then(|| PatternCheck {
                pattern,
                result,
                names_table_type: names_table_type(pattern),
            })
        })
        .collect()
}

fn any_of<'x>(values: impl IntoIterator<Item = &'x Match>) -> Tri {
    values
        .into_iter()
        .fold(Tri::False, |acc, m| acc.or(m.value))
}

/// Evaluates one selection of `plan` against `table`, under the Region's opt-in setting.
pub fn trace<'a>(
    plan: &'a BackupPlan,
    selection: &'a Selection,
    table: &'a Table,
    opt_in: OptIn,
) -> SelectionTrace<'a> {
    let plan_state = PlanState::of(plan, table);
    let valid = !selection.resources.is_empty() || !selection.list_of_tags.is_empty();
    let resources = matching_patterns(&selection.resources, table);
    let not_resources = matching_patterns(&selection.not_resources, table);
    let list_of_tags: Vec<_> = selection
        .list_of_tags
        .iter()
        .map(|entry| EntryCheck {
            entry,
            check: list_of_tags_match(entry, &table.tags),
        })
        .collect();
    let conditions: Vec<_> = selection
        .conditions
        .iter()
        .map(|entry| EntryCheck {
            entry,
            check: condition_match(entry, &table.tags),
        })
        .collect();

    let included = any_of(resources.iter().map(|c| &c.result))
        .or(any_of(list_of_tags.iter().map(|c| &c.check.result)));
    let excluded = any_of(not_resources.iter().map(|c| &c.result));
    let conditions_ok = all_conditions(conditions.iter().map(|c| &c.check));

    // An explicit table-type assignment that definitely matched bypasses opt-in; `*`, service
    // patterns and tags do not (spec §4.2).
    let explicit = resources
        .iter()
        .find(|c| c.result.value == Tri::True && c.names_table_type)
        .map(|c| c.pattern);
    let opt_in_value = match (explicit, opt_in) {
        (Some(_), _) | (None, OptIn::Enabled) => Tri::True,
        (None, OptIn::Disabled) => Tri::False,
        (None, OptIn::KeyAbsent | OptIn::NotCaptured) => Tri::Unknown,
    };

    let selects = if valid {
        included
            .and(excluded.not())
            .and(conditions_ok)
            .and(opt_in_value)
    } else {
        Tri::False
    };
    let result = match plan_state {
        PlanState::Active => selects,
        PlanState::LockAmbiguous(_) => selects.and(Tri::Unknown),
        _ => Tri::False,
    };

    SelectionTrace {
        table,
        plan,
        selection,
        plan_state,
        valid,
        resources,
        list_of_tags,
        not_resources,
        conditions,
        included,
        excluded,
        conditions_ok,
        opt_in: OptInCheck {
            value: opt_in_value,
            explicit,
            setting: opt_in,
        },
        selects,
        result,
    }
}

impl<'a> SelectionTrace<'a> {
    /// Why this selection does not cover a table it mentions; `None` when it covers the table or
    /// does not mention it at all. Only selections that mention the table can produce a
    /// blocker, which is what lets the index skip the others without changing any reason.
    pub fn blocker(&self) -> Option<Blocker<'a>> {
        if !self.valid {
            return Some(Blocker::Invalid);
        }
        if self.included == Tri::False {
            let near_miss = self.list_of_tags.iter().find_map(|c| {
                if !is_string_equals(c.entry) {
                    return None;
                }
                let key = list_of_tags_key(c.entry)?;
                let (key, value) = tag_or_case_variant(&self.table.tags, key)?;
                Some(Blocker::TagNearMiss(TagNearMiss {
                    entry: c.entry,
                    key,
                    value,
                }))
            });
            return near_miss.or_else(|| {
                self.list_of_tags
                    .iter()
                    .find(|c| c.check.unsupported_type && c.check.seen.is_some())
                    .map(|c| Blocker::UnsupportedTagType(c.entry))
            });
        }
        // A plan that cannot run is blamed only where the selection itself selects the table:
        // "selects it, but the plan …" must be true of the selection first.
        if self.plan_state != PlanState::Active && self.selects == Tri::True {
            return Some(Blocker::PlanInactive(self.plan_state));
        }
        match self.selects {
            Tri::True => None,
            Tri::Unknown => Some(self.first_ambiguity()),
            Tri::False => Some(self.first_failure()),
        }
    }

    fn first_ambiguity(&self) -> Blocker<'a> {
        let unknown = |m: &Match| m.value == Tri::Unknown;
        if self.included == Tri::Unknown {
            if let Some(c) = self.resources.iter().find(|c| unknown(&c.result)) {
                return Blocker::Ambiguous(Construct::Resource(c.pattern), ambiguity(&c.result));
            }
            if let Some(c) = self.list_of_tags.iter().find(|c| unknown(&c.check.result)) {
                return Blocker::Ambiguous(
                    Construct::ListOfTags(c.entry),
                    ambiguity(&c.check.result),
                );
            }
        }
        if self.excluded == Tri::Unknown {
            if let Some(c) = self.not_resources.iter().find(|c| unknown(&c.result)) {
                return Blocker::Ambiguous(Construct::NotResource(c.pattern), ambiguity(&c.result));
            }
        }
        if self.conditions_ok == Tri::Unknown {
            if let Some(c) = self.conditions.iter().find(|c| unknown(&c.check.result)) {
                return Blocker::Ambiguous(
                    Construct::Condition(c.entry),
                    ambiguity(&c.check.result),
                );
            }
        }
        let why = if self.opt_in.setting == OptIn::NotCaptured {
            Ambiguity::OptInNotCaptured
        } else {
            Ambiguity::OptInKeyAbsent
        };
        Blocker::Ambiguous(Construct::OptIn, why)
    }

    fn first_failure(&self) -> Blocker<'a> {
        if self.excluded == Tri::True {
            if let Some(c) = self
                .not_resources
                .iter()
                .find(|c| c.result.value == Tri::True)
            {
                return Blocker::Excluded(c.pattern);
            }
        }
        if self.conditions_ok == Tri::False {
            if let Some(c) = self
                .conditions
                .iter()
                .find(|c| c.check.result.value == Tri::False)
            {
                return Blocker::ConditionFailed(c.entry, c.check.seen);
            }
        }
        Blocker::NotOptedIn
    }

    /// How the selection reaches the table when it needs opt-in: the first pattern that
    /// matched, an ambiguous table-type pattern (which would bypass opt-in under the reading
    /// where it names the table), or tags.
    pub fn opt_in_path(&self) -> String {
        if let Some(c) = self.resources.iter().find(|c| c.result.value == Tri::True) {
            return format!("`{}`", c.pattern);
        }
        match self.resources.iter().find(|c| c.result.value == Tri::Unknown) {
            Some(c) if c.names_table_type => format!(
                "the ambiguous pattern `{}` ({}; read as naming this table it is an explicit assignment that bypasses opt-in, otherwise opt-in applies)",
                c.pattern,
                ambiguity(&c.result)
            ),
            Some(c) => format!("the ambiguous pattern `{}` ({})", c.pattern, ambiguity(&c.result)),
            None => "tags".to_string(),
        }
    }

    /// How directly the selection names the table, for choosing which selection a reason
    /// names: an exact ARN (3), a narrower pattern (2), tags (2), a catch-all such as `table/*`
    /// or `*` (1), nothing (0).
    pub fn specificity(&self) -> u8 {
        let by_pattern = self
            .resources
            .iter()
            .filter(|c| c.result.value != Tri::False)
            .map(|c| match required_prefix(c.pattern) {
                (_, true) => 3,
                (prefix, false)
                    if prefix
                        .rsplit_once('/')
                        .is_some_and(|(_, rest)| !rest.is_empty()) =>
                {
                    2
                }
                _ => 1,
            })
            .max()
            .unwrap_or(0);
        let by_tags = if self.list_of_tags.iter().any(|c| c.check.seen.is_some()) {
            2
        } else {
            0
        };
        by_pattern.max(by_tags)
    }
}

/// The ambiguity behind an unknown match. Every unknown carries one by construction; the
/// fallback only keeps a broken invariant from becoming a panic.
fn ambiguity(m: &Match) -> Ambiguity {
    m.ambiguity.clone().unwrap_or(Ambiguity::WildcardPosition)
}
