//! `--format asff|junit|sarif` through the CLI binary, each checked against the format's
//! published definition with the validators `scripts/format-validators.sh` installs (pinned,
//! from PyPI and crates.io). Each check is also shown to reject a broken document, so a pass
//! means something.

use crate::util::{cli, repo_path, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

const DEMO: &str = "testdata/snapshots/demo-account.json";

/// The validators' folder, installed on first use (once per test run).
fn validators() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_path("scripts/format-validators.sh"))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "installing the format validators failed (they come from PyPI and crates.io):\n{}",
            stderr(&out)
        );
        repo_path(stdout(&out).trim())
    })
}

/// Runs the validator on `doc`; `Ok(summary)` or `Err(problems)`.
pub(crate) fn validate(format: &str, doc: &str) -> Result<String, String> {
    let dir = validators();
    // One file per call: the tests run in parallel.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "ddb-rule-format-{}-{format}-{}",
        std::process::id(),
        CALLS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, doc).unwrap();
    let mut args = vec![
        repo_path("scripts/validate-formats.py"),
        PathBuf::from(format),
        file.clone(),
    ];
    match format {
        "sarif" => args.push(dir.join("sarif-schema-2.1.0.json")),
        "junit" => args.push(dir.join("junit-10.xsd")),
        _ => {}
    }
    let out = Command::new(dir.join("venv/bin/python"))
        .args(&args)
        .output()
        .expect("python runs");
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(stdout(&out))
    } else {
        Err(format!("{}{}", stdout(&out), stderr(&out)))
    }
}

fn export(format: &str) -> String {
    let out = cli(&["evaluate", "--snapshot", DEMO, "--format", format]);
    // The exit status still follows the verdicts: the demo has NON_COMPLIANT tables.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    stdout(&out)
}

/// The demo's verdict counts, from the JSON every other format must agree with.
fn demo_counts() -> (usize, usize, usize) {
    let doc: serde_json::Value = serde_json::from_str(&export("json")).unwrap();
    let s = &doc["Summary"];
    let n = |k: &str| s[k].as_u64().unwrap() as usize;
    (n("Compliant"), n("NonCompliant"), n("NotApplicable"))
}

#[test]
fn asff_is_a_valid_batch_import_findings_request_with_one_finding_per_table() {
    let asff = export("asff");
    validate("asff", &asff).unwrap_or_else(|e| panic!("{e}"));
    let doc: serde_json::Value = serde_json::from_str(&asff).unwrap();
    let findings = doc["Findings"].as_array().unwrap();
    let (pass, fail, na) = demo_counts();
    let status = |s: &str| {
        findings
            .iter()
            .filter(|f| f["Compliance"]["Status"] == s)
            .count()
    };
    assert_eq!(
        (status("PASSED"), status("FAILED"), status("NOT_AVAILABLE")),
        (pass, fail, na)
    );
    for f in findings {
        assert_eq!(f["Resources"][0]["Type"], "AwsDynamoDbTable");
        let failed = f["Compliance"]["Status"] == "FAILED";
        // A failed finding is MEDIUM (as DynamoDB.4) and says what to change.
        assert_eq!(f["Severity"]["Label"] == "MEDIUM", failed, "{f}");
        assert_eq!(f.get("Remediation").is_some(), failed, "{f}");
    }
    // The check rejects what Security Hub would reject.
    let broken = asff.replacen("\"FAILED\"", "\"FAIL\"", 1);
    assert!(validate("asff", &broken).unwrap_err().contains("FAIL"));
    let missing = asff.replacen("\"SchemaVersion\": \"2018-10-08\",", "", 1);
    assert!(validate("asff", &missing)
        .unwrap_err()
        .contains("SchemaVersion"));
}

#[test]
fn junit_is_valid_with_a_failure_per_non_compliant_table() {
    let junit = export("junit");
    validate("junit", &junit).unwrap_or_else(|e| panic!("{e}"));
    let (pass, fail, na) = demo_counts();
    assert_eq!(junit.matches("<testcase ").count(), pass + fail + na);
    assert_eq!(junit.matches("<failure ").count(), fail);
    assert_eq!(junit.matches("<skipped ").count(), na);
    assert!(junit.contains(&format!(
        r#"tests="{}" failures="{fail}""#,
        pass + fail + na
    )));
    // Each failure carries the verified fix where remediate found one.
    assert!(junit.contains("fix: "), "{junit}");
    let broken = junit.replacen("<testcase ", "<case ", 1);
    assert!(validate("junit", &broken).is_err());
}

#[test]
fn sarif_is_valid_with_a_result_per_table() {
    let sarif = export("sarif");
    validate("sarif", &sarif).unwrap_or_else(|e| panic!("{e}"));
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let (pass, fail, na) = demo_counts();
    let kind = |k: &str| results.iter().filter(|r| r["kind"] == k).count();
    assert_eq!(
        (kind("pass"), kind("fail"), kind("notApplicable")),
        (pass, fail, na)
    );
    for r in results {
        let arn = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        assert!(arn.starts_with("arn:aws:dynamodb:"), "{r}");
        assert_eq!(r["level"] == "error", r["kind"] == "fail", "{r}");
    }
    let broken = sarif.replacen("\"notApplicable\"", "\"skipped\"", 1);
    assert!(validate("sarif", &broken).unwrap_err().contains("skipped"));
}
