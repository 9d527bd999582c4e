//! `check-template` output: what each proposed table's verdict would be, in text, JSON, SARIF
//! (with the file and line, so code scanning annotates the pull request) and JUnit.

use crate::coverage::Compliance;
use crate::formats::{kind_name, write_sarif_run, xml, CHECK_ID, TOOL};
use crate::rule::proposed::Checked;
use crate::template::{Known, ProposedName};
use serde_json::{json, Value};
use std::io::{self, Write};

fn table_name(c: &Checked) -> Option<&str> {
    match &c.proposed.name {
        ProposedName::Known(n) => Some(n),
        _ => None,
    }
}

fn region(c: &Checked) -> Option<&str> {
    match &c.proposed.region {
        Known::Value(r) => Some(r),
        Known::Unknown(_) => None,
    }
}

/// What a person reads in a row: the table's name, or what is known of it.
fn shown_name(c: &Checked) -> String {
    match &c.proposed.name {
        ProposedName::Known(n) => n.clone(),
        ProposedName::Generated { start: Some(s) } => format!("{s}…"),
        ProposedName::Generated { start: None } => "(generated)".into(),
        ProposedName::Unknown(_) => "(unknown)".into(),
    }
}

/// `{"Evaluations": [...]}`, one per table and Region.
pub fn write_checked_json(out: &mut impl Write, checked: &[Checked]) -> io::Result<()> {
    let evaluations: Vec<Value> = checked
        .iter()
        .map(|c| {
            json!({
                "Resource": c.proposed.resource,
                "ResourceType": c.proposed.resource_type,
                "Region": region(c),
                "TableName": table_name(c),
                "ComplianceType": c.verdict.compliance.as_str(),
                "ReasonKind": kind_name(c.verdict.kind),
                "Reason": c.verdict.reason,
                "CoveredBy": c.verdict.covered_by,
                "File": c.file,
                "Line": c.proposed.line,
                "Fix": c.fix,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json!({ "Evaluations": evaluations }))?;
    writeln!(out)
}

/// One line per table: verdict, file:line, resource, Region, name, reason; then a summary.
pub fn write_checked_text(out: &mut impl Write, checked: &[Checked]) -> io::Result<()> {
    for c in checked {
        let at = match c.proposed.line {
            Some(line) => format!("{}:{line}", c.file),
            None => c.file.clone(),
        };
        writeln!(
            out,
            "{:<14} {at} {} ({}, {}): {}",
            c.verdict.compliance.as_str(),
            c.proposed.resource,
            region(c).unwrap_or("Region unknown"),
            shown_name(c),
            c.verdict.reason
        )?;
    }
    let failing = checked
        .iter()
        .filter(|c| c.verdict.compliance == Compliance::NonCompliant)
        .count();
    writeln!(
        out,
        "{} table(s) checked, {failing} would not be protected",
        checked.len()
    )
}

/// SARIF 2.1.0 with a physical location per result: the file and the resource's line.
pub fn write_checked_sarif(out: &mut impl Write, checked: &[Checked]) -> io::Result<()> {
    let results: Vec<Value> = checked
        .iter()
        .map(|c| {
            let (kind, level) = match c.verdict.compliance {
                Compliance::NonCompliant => ("fail", "error"),
                Compliance::Compliant => ("pass", "none"),
                Compliance::NotApplicable => ("notApplicable", "none"),
            };
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": c.file },
                },
                "logicalLocations": [{
                    "name": c.proposed.resource,
                    "kind": "resource",
                }],
            });
            if let Some(line) = c.proposed.line {
                location["physicalLocation"]["region"] = json!({ "startLine": line });
            }
            json!({
                "ruleId": CHECK_ID,
                "ruleIndex": 0,
                "kind": kind,
                "level": level,
                "message": { "text": format!("{} ({}): {}", c.proposed.resource, region(c).unwrap_or("Region unknown"), c.verdict.reason) },
                "locations": [location],
                "partialFingerprints": {
                    "resource/v1": format!("{}#{}#{}", c.file, c.proposed.resource, region(c).unwrap_or("")),
                },
                "properties": {
                    "reasonKind": kind_name(c.verdict.kind),
                    "resourceType": c.proposed.resource_type,
                    "region": region(c),
                    "tableName": table_name(c),
                    "coveredBy": c.verdict.covered_by,
                },
            })
        })
        .collect();
    write_sarif_run(
        out,
        results,
        "DynamoDB table will be protected by an AWS Backup plan",
        "Judged before deployment against the account's AWS Backup plans and selections: the table's name, Region and tags as the template or plan sets them. Unknown values are never taken as protection.",
        json!({ "executionSuccessful": true }),
    )
}

/// JUnit XML: one suite per file, one case per table and Region.
pub fn write_checked_junit(out: &mut impl Write, checked: &[Checked]) -> io::Result<()> {
    let failures = |cs: &[&Checked]| {
        cs.iter()
            .filter(|c| c.verdict.compliance == Compliance::NonCompliant)
            .count()
    };
    let mut files: Vec<&str> = Vec::new();
    for c in checked {
        if !files.contains(&c.file.as_str()) {
            files.push(&c.file);
        }
    }
    let all: Vec<&Checked> = checked.iter().collect();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="{TOOL} check-template" tests="{}" failures="{}" errors="0" time="0">"#,
        all.len(),
        failures(&all)
    )?;
    for file in files {
        let cs: Vec<&Checked> = checked.iter().filter(|c| c.file == file).collect();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="0" time="0">"#,
            xml(file),
            cs.len(),
            failures(&cs)
        )?;
        for c in cs {
            write!(
                out,
                r#"    <testcase classname="{TOOL}.{}" name="{} {}" time="0""#,
                xml(file),
                xml(&c.proposed.resource),
                xml(region(c).unwrap_or("Region unknown"))
            )?;
            if c.verdict.compliance == Compliance::NonCompliant {
                writeln!(
                    out,
                    ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    kind_name(c.verdict.kind),
                    xml(&c.verdict.annotation()),
                    xml(&c.verdict.reason)
                )?;
            } else {
                writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    xml(&c.verdict.reason)
                )?;
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}
