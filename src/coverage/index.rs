//! The selection index: for each table, the few selections that can matter.
//!
//! A naive pass costs tables × selections pattern matches. Instead every selection is filed
//! under the keys a table must have for the selection to say anything about it: its exact ARNs,
//! the literal prefixes of its wildcard patterns, and the tag pairs of its `ListOfTags`. The
//! index only ever over-approximates (a candidate may still turn out not to match); a selection
//! it leaves out is one whose `Resources ∪ ListOfTags` is definitely false for the table, which
//! the plain semantics would also ignore. `tests/index_equivalence.rs` proves this on
//! generated accounts.
//!
//! Two lookups are kept. The *verdict* lookup additionally files a selection with a definite
//! `StringEquals` condition under that tag pair only, since without the tag it is false whatever
//! else matches. The *mention* lookup ignores conditions: it finds every selection that mentions
//! the table, which the reason for a NON_COMPLIANT verdict needs.

use super::classes::{ClassBest, Classes};
use super::pattern::required_prefix;
use super::tags::{gate, is_string_equals, list_of_tags_key};
use crate::model::{BackupPlan, RegionCatalog, Selection, Table};
use std::collections::HashMap;

/// Selections filed by the keys a table must carry for them to match.
#[derive(Debug, Default)]
struct Lookup<'a> {
    /// Selections that may match any table (`*`, unusual keys, invalid selections).
    universal: Vec<u32>,
    /// By exact table ARN.
    exact: HashMap<&'a str, Vec<u32>>,
    /// By required ARN prefix.
    prefix: HashMap<&'a str, Vec<u32>>,
    /// The distinct prefix lengths, so a lookup probes only lengths that exist.
    prefix_lens: Vec<usize>,
    /// By tag (key, value).
    tag: HashMap<(&'a str, &'a str), Vec<u32>>,
    /// By `ListOfTags` key in lower case, whatever the value: the mention lookup only, so a
    /// reason can name a selection the table nearly satisfies (`backup=weekly` against
    /// `backup=daily`, `Backup` against `backup`).
    tag_key: HashMap<String, Vec<u32>>,
}

impl<'a> Lookup<'a> {
    fn add_resources(&mut self, ordinal: u32, selection: &'a Selection) {
        for pattern in &selection.resources {
            match required_prefix(pattern) {
                ("", _) => self.universal.push(ordinal),
                (exact, true) => self.exact.entry(exact).or_default().push(ordinal),
                (prefix, false) => self.prefix.entry(prefix).or_default().push(ordinal),
            }
        }
        for c in &selection.list_of_tags {
            match list_of_tags_key(c) {
                Some(key) if is_string_equals(c) => self
                    .tag
                    .entry((key, c.value.as_str()))
                    .or_default()
                    .push(ordinal),
                // Unsupported types and miscased prefixes still deserve a word in the reason.
                _ => self.universal.push(ordinal),
            }
        }
        if selection.resources.is_empty() && selection.list_of_tags.is_empty() {
            self.universal.push(ordinal);
        }
    }

    fn add_tag_keys(&mut self, ordinal: u32, selection: &'a Selection) {
        for c in &selection.list_of_tags {
            if let Some(key) = list_of_tags_key(c) {
                self.tag_key
                    .entry(key.to_ascii_lowercase())
                    .or_default()
                    .push(ordinal);
            }
        }
    }

    fn finish(&mut self) {
        let mut lens: Vec<usize> = self.prefix.keys().map(|p| p.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        self.prefix_lens = lens;
    }

    /// Appends the candidates for `table` to `out` (unsorted, possibly repeated).
    fn candidates(&self, table: &Table, out: &mut Vec<u32>) {
        let arn = table.arn.arn.as_str();
        out.extend_from_slice(&self.universal);
        if let Some(v) = self.exact.get(arn) {
            out.extend_from_slice(v);
        }
        for &len in &self.prefix_lens {
            if len > arn.len() {
                break;
            }
            if let Some(v) = arn.get(..len).and_then(|p| self.prefix.get(p)) {
                out.extend_from_slice(v);
            }
        }
        for (k, v) in &table.tags {
            if let Some(found) = self.tag.get(&(k.as_str(), v.as_str())) {
                out.extend_from_slice(found);
            }
            if !self.tag_key.is_empty() {
                if let Some(found) = self.tag_key.get(&k.to_ascii_lowercase()) {
                    out.extend_from_slice(found);
                }
            }
        }
    }
}

/// A Region catalog with its selections numbered and indexed. Build once per catalog; cheap to
/// query per table.
#[derive(Debug)]
pub struct CatalogIndex<'a> {
    /// The catalog indexed.
    pub catalog: &'a RegionCatalog,
    /// Every (plan, selection) in catalog order; a selection's ordinal is its position here.
    pub entries: Vec<(&'a BackupPlan, &'a Selection)>,
    verdict: Lookup<'a>,
    mention: Lookup<'a>,
    /// Mention-only: selections decided once per class of table, in no [`Lookup`].
    classes: Classes,
}

impl<'a> CatalogIndex<'a> {
    /// Indexes every selection of every plan in the catalog.
    pub fn new(catalog: &'a RegionCatalog) -> CatalogIndex<'a> {
        let mut index = CatalogIndex {
            catalog,
            entries: Vec::new(),
            verdict: Lookup::default(),
            mention: Lookup::default(),
            classes: Classes::default(),
        };
        for plan in &catalog.plans {
            // A deleted plan, or one with no rule that can back up, can never cover; it only
            // matters for reasons.
            let may_cover = plan.deletion_date.is_none() && plan.rules.iter().any(|r| r.backs_up());
            for selection in &plan.selections {
                let ordinal = index.entries.len() as u32;
                index.entries.push((plan, selection));
                if !index.classes.add(ordinal, selection) {
                    index.mention.add_resources(ordinal, selection);
                    index.mention.add_tag_keys(ordinal, selection);
                }
                let valid = !selection.resources.is_empty() || !selection.list_of_tags.is_empty();
                if !may_cover || !valid {
                    continue;
                }
                match selection.conditions.iter().find_map(gate) {
                    Some(pair) => index.verdict.tag.entry(pair).or_default().push(ordinal),
                    None => index.verdict.add_resources(ordinal, selection),
                }
            }
        }
        index.verdict.finish();
        index.mention.finish();
        index
    }

    /// Selections that may cover `table`, in catalog order.
    pub fn verdict_candidates(&self, table: &Table) -> Vec<u32> {
        let mut out = Vec::new();
        self.verdict.candidates(table, &mut out);
        sort_dedup(out)
    }

    /// Selections that may mention `table`, in catalog order, except those decided per class:
    /// with `true`, the caller asks [`CatalogIndex::class_bests`] for them; with `false` (a
    /// table whose ARN has no head) they are among the candidates.
    pub fn mention_candidates(&self, table: &Table) -> (Vec<u32>, bool) {
        let mut out = Vec::new();
        self.mention.candidates(table, &mut out);
        let by_class = self.classes.apply_to(table);
        if !by_class {
            out.extend(self.classes.ordinals());
        }
        (sort_dedup(out), by_class)
    }

    /// Every selection that may mention `table`, in catalog order, the per-class ones included:
    /// what a search that needs each mention's trace (remediation) walks.
    pub fn every_mention_candidate(&self, table: &Table) -> Vec<u32> {
        let mut out = Vec::new();
        self.mention.candidates(table, &mut out);
        out.extend(self.classes.ordinals());
        sort_dedup(out)
    }

    /// The reason search over the selections decided per class, one answer per group of them,
    /// for a table [`CatalogIndex::mention_candidates`] said they apply to.
    pub fn class_bests(
        &self,
        table: &Table,
        search: impl FnMut(&[u32]) -> ClassBest,
    ) -> Vec<ClassBest> {
        self.classes.bests(table, search)
    }

    /// Every selection, in catalog order: the plain semantics with no index.
    pub fn all(&self) -> Vec<u32> {
        (0..self.entries.len() as u32).collect()
    }
}

fn sort_dedup(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}
