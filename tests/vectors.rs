//! Every coverage vector runs through the same path as `evaluate`: the vector becomes a
//! snapshot document, which is parsed and evaluated exactly as the CLI does.
//!
//! `DDB_RULE_VECTORS=path` runs another file written the same way.

use crate::util::repo_path;
use dynamodb_backup_rule::{coverage::Compliance, rule, snapshot};
use serde_json::{json, Map, Value};

fn vectors_file() -> std::path::PathBuf {
    std::env::var_os("DDB_RULE_VECTORS")
        .map(Into::into)
        .unwrap_or_else(|| repo_path("testdata/coverage-vectors.json"))
}

/// Builds a snapshot document from one vector. A plan listed in another Region goes under
/// that Region; a plan of another account keeps its own ARN, which is where the loader reads
/// the plan's account from.
fn snapshot_of(v: &Value) -> Value {
    let t = &v["table"];
    let account = t["account"].as_str().expect("table.account");
    let region = t["region"].as_str().expect("table.region");
    let partition = t["arn"]
        .as_str()
        .expect("table.arn")
        .split(':')
        .nth(1)
        .unwrap_or("aws");
    let tags: Vec<Value> = t["tags"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect()
        })
        .unwrap_or_default();
    let mut table = json!({"TableName": t["name"], "TableArn": t["arn"], "Tags": tags});
    let status = ["status", "TableStatus", "table_status", "tableStatus"]
        .iter()
        .find_map(|k| t.get(*k));
    if let Some(status) = status.filter(|s| !s.is_null()) {
        table["TableStatus"] = status.clone();
    }
    let mut regions = Map::new();
    let mut home = json!({"BackupPlans": [], "Tables": [table]});
    for key in [
        "ResourceTypeOptInPreference",
        "ResourceTypeManagementPreference",
    ] {
        if let Some(m) = v["region_settings"].get(key) {
            home[key] = m.clone();
        }
    }
    regions.insert(region.to_string(), home);
    for p in v["plans"].as_array().expect("plans") {
        let plan = &p["plan"];
        let id = plan["BackupPlanId"].as_str().expect("BackupPlanId");
        let plan_region = plan["Region"].as_str().unwrap_or(region);
        let plan_account = plan["AccountId"].as_str().unwrap_or(account);
        let rules = plan["RuleCount"].as_u64().unwrap_or(1);
        let doc = json!({
            "BackupPlanId": id,
            "BackupPlanName": plan.get("BackupPlanName").cloned().unwrap_or(json!(id)),
            "BackupPlanArn": format!("arn:{partition}:backup:{plan_region}:{plan_account}:backup-plan:{id}"),
            "DeletionDate": plan.get("DeletionDate").cloned().unwrap_or(Value::Null),
            "Rules": (0..rules).map(|i| json!({"RuleName": format!("rule-{i}")})).collect::<Vec<_>>(),
            "Selections": p["selections"].as_array().expect("selections").iter()
                .map(|s| json!({"SelectionId": s["SelectionId"], "BackupSelection": s["BackupSelection"]}))
                .collect::<Vec<_>>(),
        });
        let entry = regions
            .entry(plan_region.to_string())
            .or_insert_with(|| json!({"BackupPlans": [], "Tables": []}));
        entry["BackupPlans"]
            .as_array_mut()
            .expect("array")
            .push(doc);
    }
    json!({"AccountId": account, "Regions": regions})
}

#[test]
fn every_coverage_vector_matches_verdict_and_covering_set() {
    let text = std::fs::read_to_string(vectors_file()).expect("vectors file");
    let doc: Value = serde_json::from_str(&text).expect("vectors JSON");
    let vectors = doc["vectors"].as_array().expect("vectors array");
    assert!(!vectors.is_empty());
    let mut failures = Vec::new();
    for v in vectors {
        let id = v["id"].as_str().unwrap_or("?");
        let snap = snapshot::parse(&snapshot_of(v).to_string())
            .unwrap_or_else(|e| panic!("{id}: vector does not make a valid snapshot: {e}"));
        let evaluations = rule::evaluate_snapshot(&snap, &Default::default(), chrono::Utc::now());
        let name = v["table"]["name"].as_str().unwrap();
        let e = evaluations
            .iter()
            .find(|e| e.table.name == name)
            .unwrap_or_else(|| panic!("{id}: table not evaluated"));
        let expected = &v["expected"];
        let want_verdict = expected["verdict"].as_str().unwrap();
        let want_cover: Vec<(String, String)> = expected["covered_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["BackupPlanId"].as_str().unwrap().into(),
                    c["SelectionId"].as_str().unwrap().into(),
                )
            })
            .collect();
        let got_cover: Vec<(String, String)> = e
            .verdict
            .covered_by
            .iter()
            .map(|c| (c.backup_plan_id.clone(), c.selection_id.clone()))
            .collect();
        let annotation = e.verdict.annotation();
        let mut problems = Vec::new();
        if e.verdict.compliance.as_str() != want_verdict {
            problems.push(format!(
                "verdict {} != {want_verdict}",
                e.verdict.compliance
            ));
        }
        if got_cover != want_cover {
            problems.push(format!("covered_by {got_cover:?} != {want_cover:?}"));
        }
        // An ambiguous vector must say so, not look like a plain miss.
        if expected["covered"].is_null() && !annotation.contains("ambiguous") {
            problems.push(format!("ambiguity not surfaced: {annotation}"));
        }
        if annotation.is_empty() || annotation.len() > 256 {
            problems.push(format!("annotation length {}", annotation.len()));
        }
        if e.verdict.compliance == Compliance::Compliant && !annotation.starts_with("covered by") {
            problems.push(format!(
                "compliant annotation does not list coverage: {annotation}"
            ));
        }
        if std::env::var_os("DDB_RULE_SHOW").is_some() {
            eprintln!("{id}: {} {annotation}", e.verdict.compliance);
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{id} ({}): {} — {annotation}",
                v["name"],
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

/// A bundled copy must equal the shared one where both exist (CI, developers); a user's clone
/// has no ../shared.
fn assert_same_as_shared(ours: &str, shared: &str) {
    let shared = repo_path(shared);
    let Ok(upstream) = std::fs::read(&shared) else {
        eprintln!(
            "note: {} not present; skipping the comparison",
            shared.display()
        );
        return;
    };
    let bundled = std::fs::read(repo_path(ours)).expect("bundled copy");
    assert!(
        bundled == upstream,
        "{ours} differs from {}",
        shared.display()
    );
}

#[test]
fn bundled_vectors_are_identical_to_the_shared_copy() {
    assert_same_as_shared(
        "testdata/coverage-vectors.json",
        "../shared/vectors/coverage-vectors.json",
    );
}

#[test]
fn bundled_benchmark_generator_is_identical_to_the_shared_copy() {
    // The benchmarks run benches/gen_snapshot.py; the targets are set on the shared one.
    assert_same_as_shared("benches/gen_snapshot.py", "../shared/bench/gen_snapshot.py");
}
