//! PURE. The verdicts in formats other tools read: AWS Security Finding Format for Security
//! Hub's `BatchImportFindings`, JUnit XML for CI dashboards, and SARIF 2.1.0 for code-scanning
//! viewers. Each writer takes the evaluations and, for NON_COMPLIANT tables, the first verified
//! fix `remediate` found, so every failed finding says what to change.

use crate::coverage::{Compliance, ReasonKind};
use crate::remedy::Remediation;
use crate::rule::TableEvaluation;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{self, Write};

/// The one check every finding is about.
pub const CHECK_ID: &str = "dynamodb-table-protected-by-backup-plan";
/// The tool name the formats give.
pub const TOOL: &str = "dynamodb-backup-rule";
/// Where the formats point readers for the check.
pub const DOCS_URL: &str =
    "https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html";

/// What the writers need besides the verdicts: when, and each NON_COMPLIANT table's fix.
pub struct Context<'a> {
    /// When the account was read (`CreatedAt`, timestamps).
    pub at: DateTime<Utc>,
    fixes: HashMap<&'a str, String>,
}

impl<'a> Context<'a> {
    /// The fix sentence per table ARN: the first verified action, or where to look when none is.
    pub fn new(at: DateTime<Utc>, remediations: &'a [Remediation]) -> Context<'a> {
        let fixes = remediations
            .iter()
            .map(|r| {
                let text = match r.first_verified() {
                    Some(a) => format!("{} (verified by re-evaluation)", a.description),
                    None => format!(
                        "No single change was verified to protect it; run `{TOOL} remediate --table {}` for the candidates.",
                        r.resource_arn
                    ),
                };
                (r.resource_arn.as_str(), text)
            })
            .collect();
        Context { at, fixes }
    }

    fn fix(&self, e: &TableEvaluation<'_>) -> Option<&str> {
        self.fixes.get(e.table.arn.arn.as_str()).map(String::as_str)
    }

    fn timestamp(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// `text` cut to at most `max` bytes on a character boundary, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The reason kind's name, as the formats write it.
pub fn kind_name(kind: ReasonKind) -> String {
    format!("{kind:?}")
}

/// `{"Findings": […]}`: the `BatchImportFindings` request body, every finding in one document.
/// Security Hub takes at most 100 findings per call, all of the Region the call is made in:
/// [`write_asff_batches`] writes files ready for that.
pub fn write_asff(
    out: &mut impl Write,
    evaluations: &[TableEvaluation<'_>],
    ctx: &Context<'_>,
) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &json!({ "Findings": asff_findings(evaluations, ctx) }),
    )?;
    writeln!(out)
}

/// Security Hub's limit on findings per `BatchImportFindings` call.
pub const ASFF_BATCH: usize = 100;

/// Writes `dir/findings-<Region>-<n>.json`, each a JSON list of at most [`ASFF_BATCH`]
/// findings of one Region, for `aws securityhub batch-import-findings --region <Region>
/// --findings file://<file>`: a file, not the command line, so no account is too large for
/// Linux's argument limit. Returns the files written, with their Region and finding count.
pub fn write_asff_batches(
    dir: &std::path::Path,
    evaluations: &[TableEvaluation<'_>],
    ctx: &Context<'_>,
) -> io::Result<Vec<(std::path::PathBuf, String, usize)>> {
    std::fs::create_dir_all(dir)?;
    let mut by_region: std::collections::BTreeMap<&str, Vec<Value>> = Default::default();
    for (e, f) in evaluations.iter().zip(asff_findings(evaluations, ctx)) {
        by_region.entry(e.region).or_default().push(f);
    }
    let mut written = Vec::new();
    for (region, findings) in by_region {
        for (n, batch) in findings.chunks(ASFF_BATCH).enumerate() {
            let path = dir.join(format!("findings-{region}-{}.json", n + 1));
            let mut file = io::BufWriter::new(std::fs::File::create(&path)?);
            serde_json::to_writer(&mut file, batch)?;
            writeln!(file)?;
            file.flush()?;
            written.push((path, region.to_string(), batch.len()));
        }
    }
    Ok(written)
}

/// One ASFF finding per evaluation, in order.
fn asff_findings(evaluations: &[TableEvaluation<'_>], ctx: &Context<'_>) -> Vec<Value> {
    let now = ctx.timestamp();
    evaluations
        .iter()
        .map(|e| {
            let arn = &e.table.arn;
            let (status, severity, title) = match e.verdict.compliance {
                Compliance::Compliant => (
                    "PASSED",
                    "INFORMATIONAL",
                    format!("DynamoDB table {} is protected by an AWS Backup plan", arn.name),
                ),
                // DynamoDB.4, the Security Hub control for the same check, is MEDIUM.
                Compliance::NonCompliant => (
                    "FAILED",
                    "MEDIUM",
                    format!("DynamoDB table {} is not protected by an AWS Backup plan", arn.name),
                ),
                Compliance::NotApplicable => (
                    "NOT_AVAILABLE",
                    "INFORMATIONAL",
                    format!("DynamoDB table {} is not evaluated for AWS Backup coverage", arn.name),
                ),
            };
            let covered_by: Vec<String> = e
                .verdict
                .covered_by
                .iter()
                .map(|c| format!("{}/{}", c.backup_plan_id, c.selection_id))
                .collect();
            let mut finding = json!({
                "SchemaVersion": "2018-10-08",
                "Id": format!("{TOOL}/{}", arn.arn),
                "ProductArn": format!(
                    "arn:{}:securityhub:{}:{}:product/{}/default",
                    arn.partition, arn.region, arn.account, arn.account
                ),
                "ProductName": TOOL,
                "GeneratorId": format!("{TOOL}/{CHECK_ID}"),
                "AwsAccountId": arn.account,
                "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
                "CreatedAt": now,
                "UpdatedAt": now,
                "Severity": { "Label": severity },
                "Title": cut(&title, 256),
                "Description": cut(&e.verdict.reason, 1024),
                "ProductFields": {
                    "dynamodb-backup-rule/ReasonKind": kind_name(e.verdict.kind),
                },
                "Resources": [{
                    "Type": "AwsDynamoDbTable",
                    "Id": arn.arn,
                    "Partition": arn.partition,
                    "Region": e.region,
                }],
                "Compliance": { "Status": status },
                "RecordState": "ACTIVE",
            });
            if !covered_by.is_empty() {
                // Security Hub takes at most 2,048 characters per ProductFields value.
                finding["ProductFields"]["dynamodb-backup-rule/CoveredBy"] =
                    json!(cut(&covered_by.join(","), 2048));
            }
            // Only a failed finding has something to change.
            if e.verdict.compliance == Compliance::NonCompliant {
                let text = ctx.fix(e).unwrap_or(
                    "Select the table in an active AWS Backup plan, by its ARN or by a tag it carries.",
                );
                finding["Remediation"] =
                    json!({ "Recommendation": { "Text": cut(text, 512), "Url": DOCS_URL } });
            }
            finding
        })
        .collect()
}

/// Text XML 1.0 can carry: markup characters escaped, control characters (which a tag value
/// may hold) dropped.
/// Text escaped for XML attributes and content, without control characters XML cannot hold.
pub fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            '\t' | '\n' | '\r' => s.push(c),
            c if c.is_control() => {}
            c => s.push(c),
        }
    }
    s
}

/// JUnit XML: one test suite per Region, one test case per table; a NON_COMPLIANT table is a
/// failure carrying its reason and fix, a NOT_APPLICABLE one is skipped.
pub fn write_junit(
    out: &mut impl Write,
    evaluations: &[TableEvaluation<'_>],
    ctx: &Context<'_>,
) -> io::Result<()> {
    let failures = |es: &[&TableEvaluation<'_>]| {
        es.iter()
            .filter(|e| e.verdict.compliance == Compliance::NonCompliant)
            .count()
    };
    let mut regions: Vec<&str> = Vec::new();
    let mut by_region: HashMap<&str, Vec<&TableEvaluation<'_>>> = HashMap::new();
    for e in evaluations {
        if !by_region.contains_key(e.region) {
            regions.push(e.region);
        }
        by_region.entry(e.region).or_default().push(e);
    }
    let all: Vec<&TableEvaluation<'_>> = evaluations.iter().collect();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="{TOOL}" tests="{}" failures="{}" errors="0" time="0">"#,
        all.len(),
        failures(&all)
    )?;
    for region in regions {
        let es = &by_region[region];
        let skipped = es
            .iter()
            .filter(|e| e.verdict.compliance == Compliance::NotApplicable)
            .count();
        writeln!(
            out,
            r#"  <testsuite name="{TOOL} {}" tests="{}" failures="{}" errors="0" skipped="{skipped}" time="0" timestamp="{}">"#,
            xml(region),
            es.len(),
            failures(es),
            ctx.timestamp()
        )?;
        for e in es {
            write!(
                out,
                r#"    <testcase classname="{TOOL}.{}.{}" name="{}" time="0""#,
                xml(&e.table.arn.account),
                xml(region),
                xml(&e.table.name)
            )?;
            match e.verdict.compliance {
                Compliance::NonCompliant => {
                    let fix = ctx
                        .fix(e)
                        .map(|f| format!("\nfix: {f}"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        ">\n      <failure type=\"{}\" message=\"{}\">{}\n{}{}</failure>\n    </testcase>",
                        kind_name(e.verdict.kind),
                        xml(&e.verdict.annotation()),
                        xml(&e.table.arn.arn),
                        xml(&e.verdict.reason),
                        xml(&fix)
                    )?;
                }
                Compliance::NotApplicable => writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(&e.verdict.annotation())
                )?,
                Compliance::Compliant => writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    xml(&e.verdict.reason)
                )?,
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// SARIF 2.1.0: one rule, one result per table with `kind` fail, pass or notApplicable. A
/// table is a cloud resource, not a line in a file, so each result has a logical location
/// (the table ARN) and no physical one; viewers that insist on files (GitHub code scanning)
/// will not place it.
pub fn write_sarif(
    out: &mut impl Write,
    evaluations: &[TableEvaluation<'_>],
    ctx: &Context<'_>,
) -> io::Result<()> {
    let results: Vec<Value> = evaluations
        .iter()
        .map(|e| {
            let (kind, level) = match e.verdict.compliance {
                Compliance::NonCompliant => ("fail", "error"),
                // SARIF: a result whose kind is not `fail` has level `none`.
                Compliance::Compliant => ("pass", "none"),
                Compliance::NotApplicable => ("notApplicable", "none"),
            };
            let mut properties = json!({
                "reasonKind": kind_name(e.verdict.kind),
                "accountId": e.table.arn.account,
                "region": e.region,
                "coveredBy": e.verdict.covered_by,
            });
            if let Some(fix) = ctx.fix(e) {
                properties["fix"] = json!(fix);
            }
            json!({
                "ruleId": CHECK_ID,
                "ruleIndex": 0,
                "kind": kind,
                "level": level,
                "message": { "text": e.verdict.reason },
                "locations": [{
                    "logicalLocations": [{
                        "name": e.table.name,
                        "fullyQualifiedName": e.table.arn.arn,
                        "kind": "resource",
                    }]
                }],
                "partialFingerprints": { "resourceArn/v1": e.table.arn.arn },
                "properties": properties,
            })
        })
        .collect();
    write_sarif_run(
        out,
        results,
        "DynamoDB table is protected by an AWS Backup plan",
        "A plan with at least one rule has a selection whose Resources or ListOfTags include the table, whose Conditions hold, whose NotResources do not exclude it, with DynamoDB opted in (or the table type named explicitly).",
        json!({ "executionSuccessful": true, "endTimeUtc": ctx.timestamp() }),
    )
}

/// A SARIF 2.1.0 document of one run of our one rule, with its results.
pub fn write_sarif_run(
    out: &mut impl Write,
    results: Vec<Value>,
    short: &str,
    full: &str,
    invocation: Value,
) -> io::Result<()> {
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": TOOL,
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": [{
                        "id": CHECK_ID,
                        "name": "DynamoDbTableProtectedByBackupPlan",
                        "shortDescription": { "text": short },
                        "fullDescription": { "text": full },
                        "helpUri": DOCS_URL,
                        "defaultConfiguration": { "level": "error" },
                    }],
                }
            },
            "invocations": [invocation],
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_stays_within_the_limit_on_a_character_boundary() {
        let s = "é".repeat(600);
        let c = cut(&s, 1024);
        assert!(c.len() <= 1024 && c.ends_with('…'), "{}", c.len());
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn xml_escapes_markup_and_drops_control_characters() {
        assert_eq!(xml("a<b>&\"'\u{1}\tz"), "a&lt;b&gt;&amp;&quot;&apos;\tz");
    }
}
