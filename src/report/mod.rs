//! PURE. How verdicts are printed: the `evaluate` table and JSON here, the `explain`
//! walk-through in `explain.rs`, `remediate`'s output in `remediations.rs`. Everything is written
//! to a `Write` so the CLI stays glue and tests can capture output.

mod explain;
mod remediations;
mod templates;

pub use explain::{write_explanation_json, write_explanation_text};
pub use remediations::{write_remediations_json, write_remediations_text};
pub use templates::{
    write_checked_json, write_checked_junit, write_checked_sarif, write_checked_text,
};

use crate::coverage::{Compliance, Covering, ReasonKind};
use crate::model::{Evaluation, DYNAMODB_TABLE_TYPE};
use crate::rule::TableEvaluation;
use serde::Serialize;
use std::borrow::Cow;
use std::io::{self, Write};

/// One element of `{"Evaluations": […]}`: the `PutEvaluations` fields plus where and why. The
/// one shape of an evaluation in every JSON the tool prints (`evaluate`, `audit`, `invoke`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EvaluationJson<'a> {
    /// `AWS::DynamoDB::Table`, or the backup resource a change event was about.
    pub compliance_resource_type: &'a str,
    /// The table name (or the backup resource's ID).
    pub compliance_resource_id: &'a str,
    /// COMPLIANT / NON_COMPLIANT / NOT_APPLICABLE.
    pub compliance_type: Compliance,
    /// The reason, cut to 256 characters as Config takes it.
    pub annotation: Cow<'a, str>,
    /// The whole reason, never cut.
    pub reason: &'a str,
    /// What kind of reason decided it, for grouping.
    pub reason_kind: ReasonKind,
    /// The table's account.
    pub account_id: &'a str,
    /// The table ARN (null for a backup resource).
    pub resource_arn: Option<Cow<'a, str>>,
    /// The table's Region.
    pub region: &'a str,
    /// Every covering selection, in snapshot order.
    pub covered_by: &'a [Covering],
    /// `OrderingTimestamp`, for what `invoke` would put.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordering_timestamp: Option<String>,
}

impl<'a> From<&'a TableEvaluation<'a>> for EvaluationJson<'a> {
    fn from(e: &'a TableEvaluation<'a>) -> Self {
        EvaluationJson {
            compliance_resource_type: DYNAMODB_TABLE_TYPE,
            compliance_resource_id: &e.table.name,
            compliance_type: e.verdict.compliance,
            annotation: Cow::Owned(e.verdict.annotation()),
            reason: &e.verdict.reason,
            reason_kind: e.verdict.kind,
            account_id: &e.table.arn.account,
            resource_arn: Some(Cow::Borrowed(&e.table.arn.arn)),
            region: e.region,
            covered_by: &e.verdict.covered_by,
            ordering_timestamp: None,
        }
    }
}

impl<'a> EvaluationJson<'a> {
    /// An evaluation put (or to be put) in `scope`.
    pub fn put(e: &'a Evaluation, scope: &'a crate::ports::Scope) -> Self {
        let partition = crate::model::partition_of_region(&scope.region);
        EvaluationJson {
            compliance_resource_type: &e.resource_type,
            compliance_resource_id: &e.resource_id,
            compliance_type: e.compliance,
            annotation: Cow::Borrowed(&e.annotation),
            reason: &e.reason,
            reason_kind: e.reason_kind,
            account_id: &scope.account,
            resource_arn: (e.resource_type == DYNAMODB_TABLE_TYPE).then(|| {
                Cow::Owned(format!(
                    "arn:{partition}:dynamodb:{}:{}:table/{}",
                    scope.region, scope.account, e.resource_id
                ))
            }),
            region: &scope.region,
            covered_by: &e.covered_by,
            ordering_timestamp: Some(
                e.ordering_timestamp
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
        }
    }
}

/// Counts per verdict.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// COMPLIANT tables.
    pub compliant: usize,
    /// NON_COMPLIANT tables.
    pub non_compliant: usize,
    /// NOT_APPLICABLE tables.
    pub not_applicable: usize,
}

impl Summary {
    /// Tables counted.
    pub fn tables(&self) -> usize {
        self.compliant + self.non_compliant + self.not_applicable
    }

    /// Counts the verdicts.
    pub fn of(evaluations: &[TableEvaluation<'_>]) -> Summary {
        Summary::count(evaluations.iter().map(|e| e.verdict.compliance))
    }

    /// Counts verdicts.
    pub fn count(verdicts: impl Iterator<Item = Compliance>) -> Summary {
        let mut s = Summary::default();
        for c in verdicts {
            match c {
                Compliance::Compliant => s.compliant += 1,
                Compliance::NonCompliant => s.non_compliant += 1,
                Compliance::NotApplicable => s.not_applicable += 1,
            }
        }
        s
    }
}

/// `{"Version", "Summary", "Evaluations": […]}`, pretty-printed: the document every JSON
/// evaluation output shares.
fn write_evaluation_doc(
    out: &mut impl Write,
    summary: Summary,
    evaluations: Vec<EvaluationJson<'_>>,
) -> io::Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Counts {
        compliant: usize,
        non_compliant: usize,
        not_applicable: usize,
        tables: usize,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Doc<'a> {
        /// The tool's version, so a pipeline can tell which reading produced the verdicts.
        version: &'static str,
        summary: Counts,
        evaluations: Vec<EvaluationJson<'a>>,
    }
    let doc = Doc {
        version: env!("CARGO_PKG_VERSION"),
        summary: Counts {
            compliant: summary.compliant,
            non_compliant: summary.non_compliant,
            not_applicable: summary.not_applicable,
            tables: summary.compliant + summary.non_compliant + summary.not_applicable,
        },
        evaluations,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The evaluations of `evaluate` and `audit` as JSON.
pub fn write_evaluations_json(
    out: &mut impl Write,
    evaluations: &[TableEvaluation<'_>],
) -> io::Result<()> {
    write_evaluation_doc(
        out,
        Summary::of(evaluations),
        evaluations.iter().map(EvaluationJson::from).collect(),
    )
}

/// An aligned table of table, Region, verdict and reason, then a summary line and the top
/// causes. With a `width` (the terminal's), lines are cut to it with `…`, and a last line says
/// how to see a whole reason.
pub fn write_evaluations_text(
    out: &mut impl Write,
    evaluations: &[TableEvaluation<'_>],
    width: Option<usize>,
    all: Option<&Summary>,
) -> io::Result<()> {
    let headers = ["TABLE", "REGION", "VERDICT"];
    let w_table = evaluations
        .iter()
        .map(|e| e.table.name.len())
        .chain([headers[0].len()])
        .max()
        .unwrap_or(0);
    let w_region = evaluations
        .iter()
        .map(|e| e.region.len())
        .chain([headers[1].len()])
        .max()
        .unwrap_or(0);
    let w_verdict = "NOT_APPLICABLE".len();
    let mut cut_any = false;
    let mut fit = |line: String| -> String {
        match width {
            Some(w) if console::measure_text_width(&line) > w => {
                cut_any = true;
                console::truncate_str(&line, w, "…").into_owned()
            }
            _ => line,
        }
    };
    writeln!(
        out,
        "{:w_table$}  {:w_region$}  {:w_verdict$}  REASON",
        headers[0], headers[1], headers[2]
    )?;
    for e in evaluations {
        let line = format!(
            "{:w_table$}  {:w_region$}  {:w_verdict$}  {}",
            e.table.name,
            e.region,
            e.verdict.compliance.as_str(),
            e.verdict.reason
        );
        writeln!(out, "{}", fit(line))?;
    }
    let s = Summary::of(evaluations);
    match all {
        // Filtered: say what is not shown, so "0 non-compliant" never hides nine.
        Some(all) if all.tables() != s.tables() => {
            let hidden: Vec<String> = [
                (all.compliant - s.compliant, "COMPLIANT"),
                (all.non_compliant - s.non_compliant, "NON_COMPLIANT"),
                (all.not_applicable - s.not_applicable, "NOT_APPLICABLE"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
            writeln!(
                out,
                "\n{} of {} tables shown; {} not shown",
                s.tables(),
                all.tables(),
                hidden.join(", ")
            )?;
        }
        _ => writeln!(
            out,
            "\n{} compliant, {} non-compliant, {} not applicable ({} table{})",
            s.compliant,
            s.non_compliant,
            s.not_applicable,
            evaluations.len(),
            if evaluations.len() == 1 { "" } else { "s" }
        )?,
    }
    let causes = top_causes(evaluations);
    if !causes.is_empty() {
        writeln!(out, "\ntop causes of NON_COMPLIANT:")?;
        for (kind, subject, n) in causes.iter().take(10) {
            let tables = if *n == 1 { "table" } else { "tables" };
            writeln!(
                out,
                "{}",
                fit(format!("  {n:>6} {tables:<6} {kind:?}: {subject}"))
            )?;
        }
        if causes.len() > 10 {
            writeln!(out, "  (+{} more causes)", causes.len() - 10)?;
        }
    }
    if let (true, Some(w)) = (cut_any, width) {
        writeln!(
            out,
            "\n(cut to {w} columns: `explain --table NAME` shows a whole reason, --width 0 all)"
        )?;
    }
    Ok(())
}

/// The NON_COMPLIANT tables grouped by kind of reason and the selection or plan it names, most
/// frequent first: a thousand tables often share one cause.
pub fn top_causes(evaluations: &[TableEvaluation<'_>]) -> Vec<(ReasonKind, String, usize)> {
    let mut groups: std::collections::BTreeMap<(String, String), (ReasonKind, usize)> =
        Default::default();
    for e in evaluations
        .iter()
        .filter(|e| e.verdict.compliance == Compliance::NonCompliant)
    {
        // What the reason is about, else the reason itself without its "(+N more)" tail.
        let subject = e.verdict.about.clone().unwrap_or_else(|| {
            let r = &e.verdict.reason;
            r.split(" (+").next().unwrap_or(r).to_string()
        });
        let key = (format!("{:?}", e.verdict.kind), subject);
        groups.entry(key).or_insert((e.verdict.kind, 0)).1 += 1;
    }
    let mut out: Vec<(ReasonKind, String, usize)> = groups
        .into_iter()
        .map(|((_, subject), (kind, n))| (kind, subject, n))
        .collect();
    out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    out
}

/// What `invoke` would put, in the same document and evaluation shape as `evaluate`'s JSON.
pub fn write_put_json(
    out: &mut impl Write,
    evaluations: &[Evaluation],
    scope: &crate::ports::Scope,
) -> io::Result<()> {
    // The counts are of tables: a backup plan or selection event's own NOT_APPLICABLE is in
    // the list (it is put too) but is not a table.
    let tables = evaluations
        .iter()
        .filter(|e| e.resource_type == DYNAMODB_TABLE_TYPE);
    write_evaluation_doc(
        out,
        Summary::count(tables.map(|e| e.compliance)),
        evaluations
            .iter()
            .map(|e| EvaluationJson::put(e, scope))
            .collect(),
    )
}

/// What `invoke` would put, one line per evaluation.
pub fn write_put_text(out: &mut impl Write, evaluations: &[Evaluation]) -> io::Result<()> {
    let w = evaluations
        .iter()
        .map(|e| e.resource_id.len())
        .chain(["RESOURCE".len()])
        .max()
        .unwrap_or(0);
    writeln!(out, "{:w$}  {:14}  ANNOTATION", "RESOURCE", "VERDICT")?;
    for e in evaluations {
        writeln!(
            out,
            "{:w$}  {:14}  {}",
            e.resource_id,
            e.compliance.as_str(),
            e.annotation
        )?;
    }
    Ok(())
}
