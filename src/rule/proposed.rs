//! A table that does not exist yet, decided before deployment: what `check-template` and the
//! CloudFormation Lambda Hook ask. It goes through [`decide`](super::decide) like every table;
//! what is not known before deployment stays unknown, and unknown is never COMPLIANT.
//!
//! - A name CloudFormation will generate is known only by its start (`<stack>-<logical ID>-`):
//!   the engine treats a pattern that looks past the start as unknown
//!   ([`crate::coverage::pattern::arn_match_generated`]).
//! - A tag whose value is unknown is left out, and a COMPLIANT verdict that rests on a selection
//!   whose `Conditions` name that key (or on any `Conditions` when the tag set itself is unknown)
//!   becomes NON_COMPLIANT saying so: a negated condition passes on an absent tag and could fail
//!   on the real value. `ListOfTags` only ever adds, so a known tag it matches stays a match.
//! - `maxRecoveryPointAgeHours` does not apply: a table not created yet has no recovery points,
//!   and the question before deployment is whether it will be backed up.

use super::{decide, Decision};
use crate::coverage::{CatalogIndex, Compliance, Verdict};
use crate::model::{partition_of_region, ReasonKind, Table, TableArn, Tags};
use crate::params::RuleParameters;
use crate::template::{Known, ProposedName, ProposedTable};

/// The Region a proposed table is judged in, or why it cannot be judged.
pub fn region_of(proposed: &ProposedTable) -> Result<&str, String> {
    match &proposed.region {
        Known::Value(r) => Ok(r),
        Known::Unknown(why) => Err(why.clone()),
    }
}

/// The table model of a proposed table in `region`: what the engine decides.
pub fn table_of(proposed: &ProposedTable, account: &str, region: &str) -> Table {
    let (name, generated) = match &proposed.name {
        ProposedName::Known(n) => (n.clone(), false),
        ProposedName::Generated { start } => (start.clone().unwrap_or_default(), true),
        // Nothing of the name is known: every pattern that looks at it is unknown.
        ProposedName::Unknown(_) => (String::new(), true),
    };
    let partition = partition_of_region(region);
    Table {
        arn: TableArn {
            arn: format!("arn:{partition}:dynamodb:{region}:{account}:table/{name}"),
            partition: partition.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            name: name.clone(),
        },
        name,
        // A table being created or updated is live once deployed.
        status: None,
        tags: proposed
            .tags
            .iter()
            .filter_map(|(k, v)| match v {
                Known::Value(v) => Some((k.clone(), v.clone())),
                Known::Unknown(_) => None,
            })
            .collect::<Tags>(),
        generated_name: generated,
    }
}

/// Decides a proposed table against its Region's catalog (`index`), in `account`.
pub fn decide_proposed(
    params: &RuleParameters,
    proposed: &ProposedTable,
    account: &str,
    index: &CatalogIndex<'_>,
) -> Verdict {
    let table = table_of(proposed, account, &index.catalog.region);
    let mut params = params.clone();
    params.policy.recovery_point_age_hours = None;
    let verdict = match decide(&params, &table, index) {
        Decision::Final(v) => v,
        // Not reachable without the age parameter; kept total.
        Decision::NeedsRecoveryPoints { coverage, .. } => coverage,
    };
    let mut verdict = unknown_tags_matter(verdict, proposed, index);
    // `explain` walks a snapshot's tables; a table not deployed yet is not one of them.
    verdict.reason = verdict.reason_without_hint();
    with_name_caveat(verdict, proposed)
}

/// A COMPLIANT verdict that rests on conditions over tags not known before deployment is not
/// proven.
fn unknown_tags_matter(
    verdict: Verdict,
    proposed: &ProposedTable,
    index: &CatalogIndex<'_>,
) -> Verdict {
    if verdict.compliance != Compliance::Compliant {
        return verdict;
    }
    let unknown_keys: Vec<(&str, &str)> = proposed
        .tags
        .iter()
        .filter_map(|(k, v)| match v {
            Known::Unknown(why) => Some((k.as_str(), why.as_str())),
            Known::Value(_) => None,
        })
        .collect();
    // Some covering selection that does not look at the unknown tags proves coverage alone.
    let mut blocker = None;
    for c in &verdict.covered_by {
        let Some((plan, selection)) = index
            .entries
            .iter()
            .find(|(p, s)| p.id == c.backup_plan_id && s.id == c.selection_id)
        else {
            continue;
        };
        let named = |key: &str| {
            selection.conditions.iter().any(|cond| {
                let k = cond.key.as_str();
                let bare = k
                    .get(crate::model::RESOURCE_TAG_PREFIX.len()..)
                    .unwrap_or(k);
                k.eq_ignore_ascii_case(key) || bare.eq_ignore_ascii_case(key)
            })
        };
        let depends = match (&proposed.tags_unknown, selection.conditions.is_empty()) {
            (Some(why), false) => Some(format!("the table's tags are not known ({why})")),
            _ => unknown_keys
                .iter()
                .find(|(k, _)| named(k))
                .map(|(k, why)| format!("its condition on tag `{k}` cannot be decided ({why})")),
        };
        match depends {
            None => return verdict,
            Some(why) => {
                blocker.get_or_insert(format!(
                    "not proven covered before deployment: {} would cover it, but {why}",
                    crate::coverage::verdict::selection_phrase(plan, selection)
                ));
            }
        }
    }
    match blocker {
        Some(reason) => Verdict {
            compliance: Compliance::NonCompliant,
            kind: ReasonKind::Ambiguous,
            reason,
            covered_by: Vec::new(),
            about: verdict.about,
        },
        None => verdict,
    }
}

/// A NON_COMPLIANT verdict for a table whose name or tags are not fully known says so, since
/// the real values could change the answer (a tag left out reads as absent).
fn with_name_caveat(mut verdict: Verdict, proposed: &ProposedTable) -> Verdict {
    if verdict.compliance != Compliance::NonCompliant {
        return verdict;
    }
    let mut caveats = Vec::new();
    match &proposed.name {
        ProposedName::Known(_) => {}
        // The engine's own reason already says it looked past a generated name's start.
        ProposedName::Generated { start: Some(_) }
            if verdict.reason.contains("generated at deployment") => {}
        ProposedName::Generated { start: Some(start) } => caveats.push(format!(
            "the table's name is generated at deployment (`{start}…`); set TableName to decide patterns on the name"
        )),
        ProposedName::Generated { start: None } => caveats.push("the table's name is generated at deployment from the stack name, which is not known (give --stack-name)".to_string()),
        ProposedName::Unknown(why) => caveats.push(format!("the table's name is not known before deployment ({why})")),
    }
    for (key, value) in &proposed.tags {
        if let Known::Unknown(why) = value {
            caveats.push(format!(
                "tag `{key}` is taken as absent: its value is not known before deployment ({why})"
            ));
        }
    }
    if let Some(why) = &proposed.tags_unknown {
        caveats.push(format!(
            "the tags are taken as absent: they are not known before deployment ({why})"
        ));
    }
    if !caveats.is_empty() {
        verdict.reason = format!("{}; {}", verdict.reason, caveats.join("; "));
    }
    verdict
}

/// One proposed table and its verdict, with the file it came from.
#[derive(Debug)]
pub struct Checked {
    /// The template or plan, as given.
    pub file: String,
    /// The table.
    pub proposed: ProposedTable,
    /// Its verdict: NON_COMPLIANT with the reason when its Region is not known.
    pub verdict: Verdict,
    /// The first verified fix of a NON_COMPLIANT table, when the caller looked for one
    /// (`remedy::proposed::proposed_fix`; the decision layer does not depend on remediation).
    pub fix: Option<String>,
}

/// Decides every proposed table against the snapshot's catalogs, building each Region's index
/// once. A table in a Region the snapshot lacks is an error naming the Region: no verdict from
/// a catalog never read.
pub fn check_all(
    params: &RuleParameters,
    files: Vec<(String, Vec<ProposedTable>)>,
    snapshot: &crate::model::Snapshot,
) -> Result<Vec<Checked>, crate::error::Error> {
    let indexes: std::collections::BTreeMap<&str, CatalogIndex<'_>> = snapshot
        .regions
        .iter()
        .map(|r| (r.catalog.region.as_str(), CatalogIndex::new(&r.catalog)))
        .collect();
    let mut out = Vec::new();
    for (file, tables) in files {
        for proposed in tables {
            let verdict = match region_of(&proposed) {
                Err(why) => Verdict {
                    compliance: Compliance::NonCompliant,
                    kind: ReasonKind::Ambiguous,
                    reason: format!("not proven covered: the Region is not known ({why})"),
                    covered_by: Vec::new(),
                    about: None,
                },
                Ok(region) => {
                    let index = indexes.get(region).ok_or_else(|| crate::error::Error::Usage {
                        flag: "--snapshot".into(),
                        expected: format!(
                            "the Backup catalog of {region}, where {} of {file} would be; capture it with `snapshot --region {region}`",
                            proposed.resource
                        ),
                        source: None,
                    })?;
                    decide_proposed(params, &proposed, &snapshot.account_id, index)
                }
            };
            out.push(Checked {
                file: file.clone(),
                proposed,
                verdict,
                fix: None,
            });
        }
    }
    Ok(out)
}
