//! PURE. The `explain` walk-through, as text and JSON: the verdict, then each selection that
//! mentions the table, step by step.

use crate::coverage::pattern::Match;
use crate::coverage::selection::{EntryCheck, PatternCheck, PlanState, SelectionTrace};
use crate::coverage::tags::TagCheck;
use crate::coverage::verdict::{lock_words, opt_in_words, selection_phrase};
use crate::coverage::{Explanation, Tri, Verdict};
use crate::model::RegionSnapshot;
use crate::text::Shown as S;
use serde::Serialize;
use std::io::{self, Write};

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
