//! PURE. The `report` command's document: one self-contained HTML page, or Markdown for pull
//! requests and wikis. Coverage by Region, by plan and by team tag; the top causes; and each
//! NON_COMPLIANT table with its reason and its first verified fix.

use crate::coverage::Compliance;
use crate::remedy::Remediation;
use crate::report::top_causes;
use crate::rule::TableEvaluation;
use std::collections::BTreeMap;

/// Counts of one group of tables.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    compliant: usize,
    non_compliant: usize,
    not_applicable: usize,
}

impl Counts {
    fn add(&mut self, c: Compliance) {
        match c {
            Compliance::Compliant => self.compliant += 1,
            Compliance::NonCompliant => self.non_compliant += 1,
            Compliance::NotApplicable => self.not_applicable += 1,
        }
    }

    fn percent(&self) -> String {
        let judged = self.compliant + self.non_compliant;
        match judged {
            0 => "n/a".to_string(),
            n => format!("{:.0}%", 100.0 * self.compliant as f64 / n as f64),
        }
    }
}

/// The sections, computed once for both renderings.
struct Sections {
    by_region: BTreeMap<String, Counts>,
    by_plan: BTreeMap<String, usize>,
    by_team: BTreeMap<String, Counts>,
    causes: Vec<(String, String, usize)>,
    /// Table, Region, reason, and the first verified fix.
    failing: Vec<(String, String, String, Option<Fix>)>,
}

/// A fix as the page shows it: (description, command).
type Fix = (String, String);

fn sections(evaluations: &[TableEvaluation<'_>], fixes: &[Remediation]) -> Sections {
    let mut s = Sections {
        by_region: BTreeMap::new(),
        by_plan: BTreeMap::new(),
        by_team: BTreeMap::new(),
        causes: top_causes(evaluations)
            .into_iter()
            .map(|(k, subject, n)| (format!("{k:?}"), subject, n))
            .collect(),
        failing: Vec::new(),
    };
    for e in evaluations {
        let c = e.verdict.compliance;
        s.by_region.entry(e.region.to_string()).or_default().add(c);
        let team = e
            .table
            .tags
            .get("team")
            .cloned()
            .unwrap_or_else(|| "(no team tag)".to_string());
        s.by_team.entry(team).or_default().add(c);
        for cov in &e.verdict.covered_by {
            *s.by_plan.entry(cov.backup_plan_name.clone()).or_default() += 1;
        }
        if c == Compliance::NonCompliant {
            let fix = fixes
                .iter()
                .find(|r| r.resource_arn == e.table.arn.arn)
                .and_then(|r| r.first_verified())
                .map(|a| (a.description.clone(), a.command.clone()));
            // Nothing can be run from a page: the hint to run explain is left out.
            let reason = e.verdict.reason_without_hint();
            s.failing
                .push((e.table.name.clone(), e.region.to_string(), reason, fix));
        }
    }
    s
}

/// What the page is of: when the account was read, and the totals.
fn preamble(evaluations: &[TableEvaluation<'_>], as_of: &str) -> String {
    let mut all = Counts::default();
    for e in evaluations {
        all.add(e.verdict.compliance);
    }
    format!(
        "{as_of}. {} tables: {} COMPLIANT, {} NON_COMPLIANT, {} NOT_APPLICABLE ({} of those judged covered).",
        evaluations.len(),
        all.compliant,
        all.non_compliant,
        all.not_applicable,
        all.percent()
    )
}

/// The report as Markdown. `as_of` says when the account was read.
pub fn markdown(
    evaluations: &[TableEvaluation<'_>],
    fixes: &[Remediation],
    title: &str,
    as_of: &str,
) -> String {
    let s = sections(evaluations, fixes);
    let cell = |t: &str| md_text(t);
    let mut out = format!(
        "# {}\n\n{}\n\n",
        cell(title),
        cell(&preamble(evaluations, as_of))
    );
    out.push_str("## Coverage by Region\n\n| Region | Compliant | Non-compliant | Not applicable | Covered |\n|---|---|---|---|---|\n");
    for (r, c) in &s.by_region {
        out.push_str(&format!(
            "| {r} | {} | {} | {} | {} |\n",
            c.compliant,
            c.non_compliant,
            c.not_applicable,
            c.percent()
        ));
    }
    out.push_str("\n## Tables covered, by plan\n\n| Plan | Tables |\n|---|---|\n");
    for (p, n) in &s.by_plan {
        out.push_str(&format!("| {} | {n} |\n", cell(p)));
    }
    out.push_str("\n## Coverage by team tag\n\n| Team | Compliant | Non-compliant | Covered |\n|---|---|---|---|\n");
    for (t, c) in &s.by_team {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell(t),
            c.compliant,
            c.non_compliant,
            c.percent()
        ));
    }
    out.push_str("\n## Top causes\n\n| Tables | Kind | Where |\n|---|---|---|\n");
    for (k, subject, n) in &s.causes {
        out.push_str(&format!("| {n} | {k} | {} |\n", cell(subject)));
    }
    out.push_str("\n## Non-compliant tables\n\n| Table | Region | Reason | Verified fix |\n|---|---|---|---|\n");
    for (t, r, why, fix) in &s.failing {
        out.push_str(&format!(
            "| {} | {r} | {} | {} |\n",
            cell(t),
            cell(why),
            fix.as_ref().map_or_else(
                || "none verified".to_string(),
                |(what, cmd)| format!("{} {}", cell(what), md_code(cmd))
            )
        ));
    }
    out
}

/// Text for a Markdown table cell: every character Markdown or a table could read as syntax is
/// escaped, and control characters are shown, never kept (names and values come from AWS).
fn md_text(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in crate::text::shown(t).chars() {
        // Inline syntax only: a cell never starts a block, so `#`, `-` and `+` are safe.
        if "\\`*_[]<>|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span for a Markdown table cell: a fence longer than any run of backticks inside, and
/// `|` escaped as tables require.
fn md_code(t: &str) -> String {
    if t.is_empty() {
        return String::new();
    }
    let longest = t.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    format!(
        "{fence} {} {fence}",
        crate::text::shown(t).replace('|', "\\|")
    )
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one self-contained HTML page (no script, no external resource).
pub fn html(
    evaluations: &[TableEvaluation<'_>],
    fixes: &[Remediation],
    title: &str,
    as_of: &str,
) -> String {
    let s = sections(evaluations, fixes);
    // The last column of a table whose head ends in "Command" is code.
    let table = |head: &[&str], rows: Vec<Vec<String>>| {
        let code_last = head.last() == Some(&"Command");
        let mut t = String::from("<table><thead><tr>");
        for h in head {
            t.push_str(&format!("<th>{}</th>", esc(h)));
        }
        t.push_str("</tr></thead><tbody>");
        for r in rows {
            t.push_str("<tr>");
            let n = r.len();
            for (i, c) in r.into_iter().enumerate() {
                if code_last && i + 1 == n && !c.is_empty() {
                    t.push_str(&format!("<td><code>{}</code></td>", esc(&c)));
                } else {
                    t.push_str(&format!("<td>{}</td>", esc(&c)));
                }
            }
            t.push_str("</tr>");
        }
        t.push_str("</tbody></table>");
        t
    };
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        esc(title),
        esc(&preamble(evaluations, as_of))
    );
    body.push_str("<h2>Coverage by Region</h2>");
    body.push_str(&table(
        &[
            "Region",
            "Compliant",
            "Non-compliant",
            "Not applicable",
            "Covered",
        ],
        s.by_region
            .iter()
            .map(|(r, c)| {
                vec![
                    r.clone(),
                    c.compliant.to_string(),
                    c.non_compliant.to_string(),
                    c.not_applicable.to_string(),
                    c.percent(),
                ]
            })
            .collect(),
    ));
    body.push_str("<h2>Tables covered, by plan</h2>");
    body.push_str(&table(
        &["Plan", "Tables"],
        s.by_plan
            .iter()
            .map(|(p, n)| vec![p.clone(), n.to_string()])
            .collect(),
    ));
    body.push_str("<h2>Coverage by team tag</h2>");
    body.push_str(&table(
        &["Team", "Compliant", "Non-compliant", "Covered"],
        s.by_team
            .iter()
            .map(|(t, c)| {
                vec![
                    t.clone(),
                    c.compliant.to_string(),
                    c.non_compliant.to_string(),
                    c.percent(),
                ]
            })
            .collect(),
    ));
    body.push_str("<h2>Top causes</h2>");
    body.push_str(&table(
        &["Tables", "Kind", "Where"],
        s.causes
            .iter()
            .map(|(k, w, n)| vec![n.to_string(), k.clone(), w.clone()])
            .collect(),
    ));
    body.push_str("<h2>Non-compliant tables</h2>");
    body.push_str(&table(
        &["Table", "Region", "Reason", "Verified fix", "Command"],
        s.failing
            .iter()
            .map(|(t, r, why, fix)| {
                vec![
                    t.clone(),
                    r.clone(),
                    why.clone(),
                    fix.as_ref()
                        .map_or_else(|| "none verified".into(), |(what, _)| what.clone()),
                    fix.as_ref()
                        .map_or_else(String::new, |(_, cmd)| cmd.clone()),
                ]
            })
            .collect(),
    ));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>{}</title>\n<style>\
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin-bottom:1.5em}}\
th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}}th{{background:#f3f3f3}}code{{white-space:pre-wrap;word-break:break-all}}\
</style></head><body>{body}</body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_escape_syntax_and_control_characters() {
        assert_eq!(md_text("a|b"), "a\\|b");
        assert_eq!(md_text("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(md_text("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(md_text("one\ntwo"), "one\\\\ntwo");
        assert_eq!(md_code("aws x --a '`b`'"), "`` aws x --a '`b`' ``");
        assert_eq!(md_code("a|b"), "` a\\|b `");
    }

    #[test]
    fn html_text_is_escaped() {
        assert_eq!(
            esc(r#"<script>"a&b"</script>"#),
            "&lt;script&gt;&quot;a&amp;b&quot;&lt;/script&gt;"
        );
    }
}
