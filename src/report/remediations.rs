//! PURE. `remediate`'s output: each NON_COMPLIANT table's fixes, as text with the commands to
//! paste, and as JSON.

use crate::coverage::Covering;
use serde::Serialize;
use std::io::{self, Write};

/// One remediation action in the JSON shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ActionJson<'a> {
    kind: crate::remedy::Kind,
    description: &'a str,
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<&'a str>,
    affects: usize,
    affects_tables: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also_backed_up: Vec<AlsoBackedUp<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    preconditions: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    bypasses: Option<&'a str>,
    verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_verified_because: Option<&'a str>,
    covered_by: &'a [Covering],
}

/// A table already covered that an action would start backing up again.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AlsoBackedUp<'a> {
    table: &'a str,
    by_plans: &'a [String],
}

/// `{"Remediations": [{"ResourceArn", "Region", "Table", "Reason", "Actions": [...],
/// "ActionsNotShown"}]}`.
pub fn write_remediations_json(
    out: &mut impl Write,
    remediations: &[crate::remedy::Remediation],
) -> io::Result<()> {
    // Typed and borrowed, not a `serde_json::Value` tree: `--max-actions 0` on a large account
    // writes hundreds of thousands of actions, and a copy of each string doubled the memory.
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct RemediationJson<'a> {
        resource_arn: &'a str,
        region: &'a str,
        table: &'a str,
        reason: &'a str,
        actions: Vec<ActionJson<'a>>,
        actions_not_shown: usize,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Doc<'a> {
        remediations: Vec<RemediationJson<'a>>,
    }
    let remediations = remediations
        .iter()
        .map(|r| RemediationJson {
            resource_arn: &r.resource_arn,
            region: &r.region,
            table: &r.table,
            reason: &r.reason,
            actions: r
                .actions
                .iter()
                .map(|a| ActionJson {
                    kind: a.kind,
                    description: &a.description,
                    command: &a.command,
                    snippet: a.snippet.as_deref(),
                    affects: a.affects,
                    affects_tables: &a.affects_tables,
                    also_backed_up: a
                        .doubled
                        .iter()
                        .map(|(t, p)| AlsoBackedUp {
                            table: t,
                            by_plans: p,
                        })
                        .collect(),
                    preconditions: &a.preconditions,
                    bypasses: a.bypasses.as_deref(),
                    verified: a.verified,
                    not_verified_because: a.not_verified_because.as_deref(),
                    covered_by: &a.covered_by,
                })
                .collect(),
            actions_not_shown: r.not_shown,
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &Doc { remediations })?;
    writeln!(out)
}

/// Each NON_COMPLIANT table, its verified actions with their commands, then the rest.
pub fn write_remediations_text(
    out: &mut impl Write,
    remediations: &[crate::remedy::Remediation],
) -> io::Result<()> {
    let mut fixed = 0;
    for r in remediations {
        writeln!(out, "{} ({}): {}", r.table, r.region, r.reason)?;
        let (verified, rest): (Vec<_>, Vec<_>) = r.actions.iter().partition(|a| a.verified);
        if verified.is_empty() {
            writeln!(
                out,
                "  no action could be verified for this table{}",
                if r.not_shown > 0 {
                    format!(
                        " ({} unverified candidate(s); --max-actions 0 lists them with their reasons)",
                        r.not_shown
                    )
                } else {
                    String::new()
                }
            )?;
        } else {
            fixed += 1;
        }
        for (i, a) in verified.iter().enumerate() {
            let tables = if a.affects == 1 { "table" } else { "tables" };
            writeln!(
                out,
                "  {}. {:?}: {} (verified; changes {} {tables}: {})",
                i + 1,
                a.kind,
                a.description,
                a.affects,
                a.affects_tables.join(", ")
            )?;
            // One line per command, always behind `$ `: a command can be told from prose.
            writeln!(out, "     $ {}", a.command)?;
            if let Some(c) = a.covered_by.first() {
                writeln!(
                    out,
                    "     then covered by plan `{}` selection `{}`",
                    crate::text::shown(&c.backup_plan_name),
                    crate::text::shown(&c.selection_name)
                )?;
            }
            for p in &a.preconditions {
                writeln!(out, "     precondition: {p}")?;
            }
            if let Some(b) = &a.bypasses {
                writeln!(
                    out,
                    "     note: this routes around the explicit exclusion {b}"
                )?;
            }
            if !a.doubled.is_empty() {
                let mut plans: Vec<&str> = a
                    .doubled
                    .iter()
                    .flat_map(|(_, p)| p.iter().map(String::as_str))
                    .collect();
                plans.sort_unstable();
                plans.dedup();
                writeln!(
                    out,
                    "     side effect: {} table(s) already covered would also be backed up by {}",
                    a.doubled.len(),
                    plans.join(", ")
                )?;
            }
        }
        for a in rest {
            writeln!(
                out,
                "  not verified: {:?}: {} ({})",
                a.kind,
                a.description,
                a.not_verified_because.as_deref().unwrap_or("not verified")
            )?;
        }
        if r.not_shown > 0 && !verified.is_empty() {
            writeln!(
                out,
                "  (+{} more candidate action{}, ranked after these or not verified; --max-actions 0 lists all)",
                r.not_shown,
                if r.not_shown == 1 { "" } else { "s" }
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} NON_COMPLIANT table{}, {fixed} with a verified action",
        remediations.len(),
        if remediations.len() == 1 { "" } else { "s" }
    )
}
