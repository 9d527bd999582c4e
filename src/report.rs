//! PURE. How verdicts are printed: the `evaluate` table and JSON, and the `explain` walk-through.
//! Everything is written to a `Write` so the CLI stays glue and tests can capture output.

use crate::coverage::pattern::Match;
use crate::coverage::selection::{EntryCheck, PatternCheck, PlanState, SelectionTrace};
use crate::coverage::tags::TagCheck;
use crate::coverage::verdict::{lock_words, opt_in_words, selection_phrase};
use crate::coverage::{Compliance, Covering, Explanation, ReasonKind, Tri, Verdict};
use crate::model::{Evaluation, RegionSnapshot, DYNAMODB_TABLE_TYPE};
use crate::rule::TableEvaluation;
use crate::text::Shown as S;
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

fn match_words(m: &Match) -> String {
    match &m.ambiguity {
        Some(why) => format!("{} ({why})", m.value),
        None => m.value.to_string(),
    }
}

fn tag_words(c: &TagCheck<'_>) -> String {
    let seen = match (c.key, c.seen) {
        (None, _) => String::new(),
        (Some(_), None) => ", tag absent".to_string(),
        (Some(_), Some(v)) => format!(", tag is `{}`", S(v)),
    };
    let unsupported = if c.unsupported_type {
        ", ignored: only STRINGEQUALS is supported"
    } else {
        ""
    };
    format!("{}{seen}{unsupported}", match_words(&c.result))
}

fn write_patterns(
    out: &mut impl Write,
    label: &str,
    all: usize,
    hits: &[PatternCheck<'_>],
) -> io::Result<()> {
    if all == 0 {
        return Ok(());
    }
    if hits.is_empty() {
        let s = if all == 1 { "" } else { "s" };
        return writeln!(out, "      {label}: none of {all} pattern{s} matches");
    }
    for h in hits {
        let kind = if h.names_table_type {
            " [names the table type]"
        } else {
            ""
        };
        writeln!(
            out,
            "      {label} `{}`: {}{kind}",
            S(h.pattern),
            match_words(&h.result)
        )?;
    }
    let rest = all - hits.len();
    if rest > 0 {
        writeln!(out, "      {label}: {rest} other pattern(s) do not match")?;
    }
    Ok(())
}

fn write_trace(out: &mut impl Write, t: &SelectionTrace<'_>, region: &str) -> io::Result<()> {
    let s = t.selection;
    writeln!(
        out,
        "  selection `{}` ({}): {}",
        S(&s.name),
        S(&s.id),
        t.result
    )?;
    if !t.valid {
        writeln!(
            out,
            "      invalid: neither Resources nor ListOfTags, so it selects nothing"
        )?;
        return Ok(());
    }
    write_patterns(out, "Resources", s.resources.len(), &t.resources)?;
    for EntryCheck { entry, check } in &t.list_of_tags {
        writeln!(
            out,
            "      ListOfTags {} {}={}: {}",
            S(&entry.condition_type),
            S(&entry.key),
            S(&entry.value),
            tag_words(check)
        )?;
    }
    writeln!(
        out,
        "      included (Resources or ListOfTags): {}",
        t.included
    )?;
    if t.included == Tri::False {
        // Nothing else about a selection that does not select the table changes its answer.
        return writeln!(out, "      => does not select this table");
    }
    write_patterns(out, "NotResources", s.not_resources.len(), &t.not_resources)?;
    writeln!(out, "      excluded (NotResources): {}", t.excluded)?;
    for EntryCheck { entry, check } in &t.conditions {
        writeln!(
            out,
            "      condition {}: {}",
            S(&entry.to_string()),
            tag_words(check)
        )?;
    }
    writeln!(out, "      conditions all hold: {}", t.conditions_ok)?;
    let opt_in = match (t.opt_in.explicit, t.opt_in.value) {
        (Some(p), _) => format!(
            "yes (`{}` names the table type, so opt-in does not apply)",
            S(p)
        ),
        (None, Tri::True) => format!("yes ({} in {region})", opt_in_words(t.opt_in.setting)),
        (None, v) => format!(
            "{v} ({} in {region}, and it is selected only through {})",
            opt_in_words(t.opt_in.setting),
            S(&t.opt_in_path())
        ),
    };
    writeln!(out, "      service opt-in: {opt_in}")?;
    let note = if t.plan_state == PlanState::Active {
        ""
    } else {
        " (the plan cannot cover)"
    };
    writeln!(out, "      => covers this table: {}{note}", t.result)
}

/// The `explain` walk-through as text.
/// `explain` as text: the table, **the verdict first**, then plan by plan the selections that
/// mention the table (every selection with `all`), and the policy parameters per covering plan.
pub fn write_explanation_text(
    out: &mut impl Write,
    region: &RegionSnapshot,
    e: &Explanation<'_>,
    all: bool,
) -> io::Result<()> {
    let t = e.table;
    let c = &region.catalog;
    writeln!(out, "table {} ({})", S(&t.name), S(&t.arn.arn))?;
    writeln!(
        out,
        "  account {}, Region {}, status {}",
        t.arn.account,
        t.arn.region,
        S(t.status.as_deref().unwrap_or("(not recorded)"))
    )?;
    let tags: Vec<String> = t
        .tags
        .iter()
        .map(|(k, v)| format!("{}={}", S(k), S(v)))
        .collect();
    writeln!(
        out,
        "  tags: {}",
        if tags.is_empty() {
            "(none)".to_string()
        } else {
            tags.join(", ")
        }
    )?;
    let mgmt = match c.settings.dynamodb_management {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown",
    };
    writeln!(
        out,
        "  {}: {}; advanced DynamoDB backup: {mgmt} (does not affect coverage)",
        c.region,
        opt_in_words(c.settings.dynamodb_opt_in)
    )?;
    writeln!(out, "  {} backup plan(s) in {}", c.plans.len(), c.region)?;
    writeln!(out, "\nverdict: {}", e.verdict.compliance)?;
    // This is explain: the reason does not ask to run it.
    writeln!(out, "  {}", e.verdict.reason_without_hint())?;
    if e.verdict.annotation() != e.verdict.reason {
        writeln!(out, "  annotation: {}", e.verdict.annotation())?;
    }
    // A selection mentions the table when it covers it or has something to say about it.
    let mentions = |tr: &SelectionTrace<'_>| tr.result == Tri::True || tr.blocker().is_some();
    let hidden = e.traces.iter().filter(|tr| !mentions(tr)).count();
    let mut traces = e.traces.iter().peekable();
    for plan in &c.plans {
        let shown = e
            .traces
            .iter()
            .filter(|tr| std::ptr::eq(tr.plan, plan))
            .any(|tr| all || mentions(tr));
        if !shown {
            while traces.next_if(|tr| std::ptr::eq(tr.plan, plan)).is_some() {}
            continue;
        }
        let kind = if plan.is_org_policy() {
            "organization policy plan"
        } else {
            "plan"
        };
        let rules: Vec<String> = plan.rules.iter().map(|r| S(&r.name).to_string()).collect();
        let state = match PlanState::of(plan, t) {
            PlanState::Active => String::new(),
            PlanState::Deleted(d) => format!("\n  deleted on {}: cannot cover", S(d)),
            PlanState::NoRules => "\n  no rules, so nothing is scheduled: cannot cover".to_string(),
            PlanState::VaultMissing(v) => {
                format!(
                    "\n  targets backup vault {}, which no longer exists: cannot cover",
                    S(v)
                )
            }
            PlanState::OtherScope => format!(
                "\n  lives in account {} Region {}: cannot cover this table",
                plan.account, plan.region
            ),
            PlanState::LockRefused(r) => format!("\n  {}: cannot cover", S(&lock_words(r))),
            PlanState::LockAmbiguous(r) => {
                format!("\n  {}: ambiguous (A-LOCK-FOREVER)", S(&lock_words(r)))
            }
        };
        writeln!(
            out,
            "\n{kind} `{}` ({}), {} rule(s){}{state}",
            S(&plan.name),
            S(&plan.id),
            rules.len(),
            if rules.is_empty() {
                String::new()
            } else {
                format!(": {}", rules.join(", "))
            }
        )?;
        if plan.selections.is_empty() {
            writeln!(out, "  no selections")?;
        }
        while let Some(trace) = traces.next_if(|tr| std::ptr::eq(tr.plan, plan)) {
            if all || mentions(trace) {
                write_trace(out, trace, &c.region)?;
            }
        }
    }
    if !all && hidden > 0 {
        writeln!(
            out,
            "\n({hidden} selection(s) that do not mention this table are not shown; --all shows every one)"
        )?;
    }
    if !e.policy.is_empty() || e.recovery_points.is_some() {
        writeln!(out, "\npolicy parameters, per covering plan:")?;
        for c in &e.policy {
            writeln!(
                out,
                "  plan `{}` (selection `{}`)",
                S(&c.covering.backup_plan_name),
                S(&c.covering.selection_name)
            )?;
            for r in &c.rules {
                let all = if r.meets_all() {
                    "meets every property"
                } else {
                    "misses some"
                };
                writeln!(out, "    rule `{}`: {all}", S(&r.rule))?;
                for p in &r.checks {
                    writeln!(
                        out,
                        "      {}: {} ({})",
                        p.parameter,
                        Tri::from_bool(p.met),
                        S(&p.detail)
                    )?;
                }
            }
        }
        if let Some(p) = &e.recovery_points {
            writeln!(
                out,
                "  table: {}: {} ({})",
                p.parameter,
                Tri::from_bool(p.met),
                S(&p.detail)
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MatchJson<'a> {
    value: Tri,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seen: Option<Option<&'a str>>,
}

impl<'a> MatchJson<'a> {
    fn of(m: &Match) -> Self {
        MatchJson {
            value: m.value,
            why: m.ambiguity.as_ref().map(ToString::to_string),
            seen: None,
        }
    }
    fn tag(c: &TagCheck<'a>) -> Self {
        MatchJson {
            seen: c.key.map(|_| c.seen),
            ..MatchJson::of(&c.result)
        }
    }
}

/// The `explain` walk-through as JSON.
pub fn write_explanation_json(
    out: &mut impl Write,
    region: &RegionSnapshot,
    e: &Explanation<'_>,
) -> io::Result<()> {
    let c = &region.catalog;
    let selections: Vec<serde_json::Value> = e
        .traces
        .iter()
        .map(|t| {
            let patterns = |hits: &[PatternCheck<'_>]| -> Vec<serde_json::Value> {
                hits.iter()
                    .map(|h| serde_json::json!({"Pattern": h.pattern, "NamesTableType": h.names_table_type, "Match": MatchJson::of(&h.result)}))
                    .collect()
            };
            let plan_state = match t.plan_state {
                PlanState::Active => "active".to_string(),
                PlanState::Deleted(d) => format!("deleted {d}"),
                PlanState::NoRules => "no rules".to_string(),
                PlanState::VaultMissing(v) => format!("target vault {v} missing"),
                PlanState::OtherScope => format!("in account {} Region {}", t.plan.account, t.plan.region),
                PlanState::LockRefused(r) => format!("vault lock refuses rule {}", r.name),
                PlanState::LockAmbiguous(r) => format!("vault lock may refuse rule {} (A-LOCK-FOREVER)", r.name),
            };
            serde_json::json!({
                "BackupPlanId": t.plan.id,
                "BackupPlanName": t.plan.name,
                "OrganizationPolicyPlan": t.plan.is_org_policy(),
                "PlanState": plan_state,
                "SelectionId": t.selection.id,
                "SelectionName": t.selection.name,
                "Phrase": selection_phrase(t.plan, t.selection),
                "Valid": t.valid,
                "MatchingResources": patterns(&t.resources),
                "ListOfTags": t.list_of_tags.iter().map(|c| serde_json::json!({
                    "ConditionType": c.entry.condition_type, "ConditionKey": c.entry.key, "ConditionValue": c.entry.value,
                    "Unsupported": c.check.unsupported_type, "Match": MatchJson::tag(&c.check)})).collect::<Vec<_>>(),
                "Included": t.included,
                "MatchingNotResources": patterns(&t.not_resources),
                "Excluded": t.excluded,
                "Conditions": t.conditions.iter().map(|c| serde_json::json!({
                    "Operator": c.entry.operator.name(), "ConditionKey": c.entry.key, "ConditionValue": c.entry.value,
                    "Match": MatchJson::tag(&c.check)})).collect::<Vec<_>>(),
                "ConditionsHold": t.conditions_ok,
                "OptIn": {"Value": t.opt_in.value, "ExplicitTableType": t.opt_in.explicit, "Setting": opt_in_words(t.opt_in.setting)},
                "Covers": t.result,
            })
        })
        .collect();
    let v: &Verdict = &e.verdict;
    let doc = serde_json::json!({
        "Table": {
            "TableName": e.table.name, "TableArn": e.table.arn.arn, "TableStatus": e.table.status,
            "Tags": e.table.tags, "Region": c.region, "AccountId": c.account,
        },
        "OptIn": opt_in_words(c.settings.dynamodb_opt_in),
        "BackupPlans": c.plans.len(),
        "Selections": selections,
        "Policy": e.policy.iter().map(|c| serde_json::json!({
            "CoveredBy": c.covering,
            "Rules": c.rules.iter().map(|r| serde_json::json!({
                "RuleName": r.rule, "MeetsAll": r.meets_all(),
                "Properties": r.checks.iter().map(|p| serde_json::json!({"Parameter": p.parameter, "Met": p.met, "Detail": p.detail})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "RecoveryPoints": e.recovery_points.as_ref().map(|p| serde_json::json!({"Parameter": p.parameter, "Met": p.met, "Detail": p.detail})),
        "Verdict": {
            "ComplianceType": v.compliance, "ReasonKind": v.kind, "Reason": v.reason,
            "Annotation": v.annotation(), "CoveredBy": v.covered_by,
        },
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
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
