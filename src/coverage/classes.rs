//! Selections decided once per class of table, for the reason search.
//!
//! A selection such as `table/*` gated by tag conditions mentions every table, so the reason for
//! each NON_COMPLIANT table had to trace it: tables × such selections (2,000,000 traces on the
//! 10,000-table, 1,000-selection benchmark account). But its answer for a table depends only on
//! the table's ARN *head* (`arn:aws:dynamodb:<region>:<account>:table/`, see
//! [`table_head`]) and the tags it names. Tables that agree on those form a class, and every
//! table of a class gets the same trace results from the selection. So the reason search over
//! such selections runs once per class, and each table re-traces only the winner (whose blocker
//! names that table's own tags).
//!
//! Selections are grouped by the tag keys they name, each group with its own classes: a group
//! of `team`/`env` conditions and a group of `backup` tag lists then give 40 and 4 classes, not
//! 160 of both. Groups are capped; past the cap, new key sets share the last group, which only
//! makes its classes finer, never wrong.

use super::pattern::{head_only, table_head};
use crate::model::{Selection, Table, RESOURCE_TAG_PREFIX};
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Mutex;

/// Beyond this many distinct key sets, selections share the last group.
const MAX_GROUPS: usize = 16;

/// The reason search over one group's selections for one class: the selection a reason would
/// name, and how many of them mention the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassBest {
    /// The ordinal of the most useful blocker, if any selection of the group mentions the class.
    pub winner: Option<u32>,
    /// How many of the group's selections mention (and do not cover) a table of the class.
    pub mentions: usize,
}

/// One class, owned: what two tables must share to be treated alike by a group.
#[derive(Debug, PartialEq, Eq)]
struct Class {
    head: String,
    account: String,
    region: String,
    tags: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Group {
    ordinals: Vec<u32>,
    /// The tag keys the group's selections may look up, in lower case: a check may also find a
    /// key that differs only in case (`Backup` against `backup`).
    keys: HashSet<String>,
    /// Answers by class hash; the few classes sharing a hash are compared in full.
    memo: Mutex<HashMap<u64, Vec<(Class, ClassBest)>>>,
}

impl Group {
    /// The table's tags among the group's keys, in the table's (sorted) order.
    fn tags<'s, 't>(
        &'s self,
        table: &'t Table,
    ) -> impl Iterator<Item = (&'t str, &'t str)> + Clone + use<'s, 't> {
        table
            .tags
            .iter()
            .filter(|(k, _)| {
                if k.bytes().any(|b| b.is_ascii_uppercase()) {
                    self.keys.contains(&k.to_ascii_lowercase())
                } else {
                    self.keys.contains(k.as_str())
                }
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// The selections decided per class, grouped by the tag keys they name.
#[derive(Debug, Default)]
pub struct Classes {
    groups: Vec<Group>,
    by_keys: HashMap<Vec<String>, usize>,
    hasher: RandomState,
}

impl Classes {
    /// Takes the selection if its answer depends on a table only through its class, and it may
    /// mention some table; `false` leaves it to the caller's lookups.
    pub fn add(&mut self, ordinal: u32, selection: &Selection) -> bool {
        if !decided_by_class(selection) {
            return false;
        }
        let keys = tag_keys_named(selection);
        let group = match self.by_keys.get(&keys) {
            Some(&g) => g,
            None if self.groups.len() < MAX_GROUPS => {
                self.groups.push(Group::default());
                self.by_keys.insert(keys.clone(), self.groups.len() - 1);
                self.groups.len() - 1
            }
            None => MAX_GROUPS - 1,
        };
        let group = &mut self.groups[group];
        group.ordinals.push(ordinal);
        group.keys.extend(keys);
        true
    }

    /// Every selection taken, in no particular order.
    pub fn ordinals(&self) -> impl Iterator<Item = u32> + '_ {
        self.groups.iter().flat_map(|g| g.ordinals.iter().copied())
    }

    /// Whether [`Classes::bests`] applies to `table`: some selection was taken and the table's
    /// ARN has a head. When not, the caller traces [`Classes::ordinals`] itself.
    pub fn apply_to(&self, table: &Table) -> bool {
        !self.groups.is_empty() && table_head(&table.arn.arn).is_some()
    }

    /// For each group, the reason search over its selections for `table`'s class: computed by
    /// `search` (over the group's ordinals, for this table) the first time the class is seen.
    /// Threads deciding one Region share the memo; two may compute the same class at once and
    /// get the same answer.
    pub fn bests(
        &self,
        table: &Table,
        mut search: impl FnMut(&[u32]) -> ClassBest,
    ) -> Vec<ClassBest> {
        let Some(head) = table_head(&table.arn.arn) else {
            return Vec::new();
        };
        let (account, region) = (table.arn.account.as_str(), table.arn.region.as_str());
        self.groups
            .iter()
            .map(|group| {
                let tags = group.tags(table);
                let mut h = self.hasher.build_hasher();
                (head, account, region).hash(&mut h);
                tags.clone().for_each(|t| t.hash(&mut h));
                let hash = h.finish();
                let same = |entry: &&(Class, ClassBest)| {
                    let c = &entry.0;
                    let mut theirs = tags.clone();
                    c.head == head
                        && c.account == account
                        && c.region == region
                        && c.tags
                            .iter()
                            .all(|(k, v)| theirs.next() == Some((k.as_str(), v.as_str())))
                        && theirs.next().is_none()
                };
                // A poisoned lock only means another thread panicked mid-insert of a plain value.
                let memo = || group.memo.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((_, best)) = memo().get(&hash).and_then(|v| v.iter().find(same)) {
                    return *best;
                }
                let best = search(&group.ordinals);
                let class = Class {
                    head: head.to_string(),
                    account: account.to_string(),
                    region: region.to_string(),
                    tags: tags.map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                };
                memo().entry(hash).or_default().push((class, best));
                best
            })
            .collect()
    }
}

/// Whether a selection's answer for a table with an ARN head depends on the table only through
/// the head and its tags, and it may mention some table: each of its patterns is [`head_only`],
/// and it has a pattern that may match a table, or `ListOfTags`, or neither `Resources` nor
/// `ListOfTags` (invalid, which a reason names for every table).
fn decided_by_class(selection: &Selection) -> bool {
    let classes = |patterns: &[String]| -> Option<Vec<bool>> {
        patterns.iter().map(|p| head_only(p)).collect()
    };
    match (
        classes(&selection.resources),
        classes(&selection.not_resources),
    ) {
        (Some(resources), Some(_)) => {
            resources.is_empty() || resources.contains(&true) || !selection.list_of_tags.is_empty()
        }
        _ => false,
    }
}

/// Every tag key a selection's `ListOfTags` and `Conditions` may look up, in lower case, sorted:
/// as written and without an `aws:ResourceTag/` prefix in any letter case.
fn tag_keys_named(selection: &Selection) -> Vec<String> {
    let prefix = RESOURCE_TAG_PREFIX.to_ascii_lowercase();
    let written = selection
        .list_of_tags
        .iter()
        .map(|c| c.key.as_str())
        .chain(selection.conditions.iter().map(|c| c.key.as_str()));
    let mut out = Vec::new();
    for key in written {
        let lower = key.to_ascii_lowercase();
        if let Some(bare) = lower.strip_prefix(&prefix) {
            out.push(bare.to_string());
        }
        out.push(lower);
    }
    out.sort_unstable();
    out.dedup();
    out
}
