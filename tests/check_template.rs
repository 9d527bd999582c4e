//! `check-template` through the CLI binary: CloudFormation and SAM templates (YAML with
//! short-form tags, CDK-style JSON) and Terraform plans, judged against the demo account before
//! deployment. What is not known before deployment is never taken as protection.

use crate::util::{cli, stderr, stdout};
use serde_json::Value;

const DEMO: &str = "testdata/snapshots/demo-account.json";

fn check(args: &[&str]) -> (Option<i32>, Value, String) {
    let mut all = vec!["check-template"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--snapshot", DEMO, "--format", "json"]);
    let out = cli(&all);
    let doc = serde_json::from_str(&stdout(&out)).unwrap_or(Value::Null);
    (out.status.code(), doc, stderr(&out))
}

/// The evaluation of `resource` in `region`.
fn find<'a>(doc: &'a Value, resource: &str, region: &str) -> &'a Value {
    doc["Evaluations"]
        .as_array()
        .expect("evaluations")
        .iter()
        .find(|e| e["Resource"] == resource && e["Region"] == region)
        .unwrap_or_else(|| panic!("{resource} in {region}: {doc:#}"))
}

#[test]
fn a_template_gets_one_verdict_per_table_and_replica_region_with_its_line() {
    let (code, doc, err) = check(&[
        "testdata/templates/shop.yaml",
        "--region",
        "us-east-1",
        "--stack-name",
        "shop",
    ]);
    assert_eq!(code, Some(3), "{err}");
    let all = doc["Evaluations"].as_array().unwrap();
    // Five table resources, the global table in three Regions; the queue is not a table.
    assert_eq!(all.len(), 7, "{doc:#}");
    assert!(all
        .iter()
        .all(|e| e["File"] == "testdata/templates/shop.yaml"));

    // `!Sub "${Env}-orders"` and `!Ref Env` take the parameter's Default.
    let orders = find(&doc, "Orders", "us-east-1");
    assert_eq!(orders["TableName"], "prod-orders");
    assert_eq!(orders["ComplianceType"], "COMPLIANT");
    assert_eq!(orders["Line"], 9);

    // A generated name: only `shop-Scratch-` is known, so TableName is null and the verdict
    // cannot rest on the part to come.
    let scratch = find(&doc, "Scratch", "us-east-1");
    assert_eq!(scratch["TableName"], Value::Null);
    assert_eq!(scratch["ComplianceType"], "NON_COMPLIANT");
    assert!(
        scratch["Reason"]
            .as_str()
            .unwrap()
            .contains("generated at deployment"),
        "{scratch:#}"
    );

    // A tag known only at deployment is never taken as satisfying a condition.
    let audit = find(&doc, "AuditLog", "us-east-1");
    assert_eq!(audit["ComplianceType"], "NON_COMPLIANT");
    let reason = audit["Reason"].as_str().unwrap();
    assert!(reason.contains("tag `env` is taken as absent"), "{reason}");
    assert!(reason.contains("Fn::GetAtt"), "{reason}");

    // A global table: each replica in its own Region's catalog. eu-west-1 has DynamoDB opt-in
    // off, but a selection names the table's ARN there, which bypasses opt-in.
    assert_eq!(
        find(&doc, "Global", "us-east-1")["ComplianceType"],
        "COMPLIANT"
    );
    let eu = find(&doc, "Global", "eu-west-1");
    assert_eq!(eu["ComplianceType"], "COMPLIANT", "{eu:#}");
    assert!(eu["Reason"].as_str().unwrap().contains("eu-orders-replica"));
    let west = find(&doc, "Global", "us-west-2");
    assert_eq!(west["ComplianceType"], "NON_COMPLIANT");
    assert!(west["Reason"].as_str().unwrap().contains("us-west-2"));

    // SAM's SimpleTable, tags as a map.
    let sessions = find(&doc, "Sessions", "us-east-1");
    assert_eq!(sessions["ResourceType"], "AWS::Serverless::SimpleTable");
    assert_eq!(sessions["ComplianceType"], "COMPLIANT", "{sessions:#}");
}

#[test]
fn template_parameters_given_on_the_command_line_win_over_defaults() {
    let (_, doc, err) = check(&[
        "testdata/templates/shop.yaml",
        "--region",
        "us-east-1",
        "--template-parameter",
        "Env=dev",
    ]);
    let orders = find(&doc, "Orders", "us-east-1");
    assert_eq!(orders["TableName"], "dev-orders", "{err}");
    assert_eq!(orders["ComplianceType"], "NON_COMPLIANT");
}

#[test]
fn a_generated_name_is_decided_by_its_known_start_when_that_is_enough() {
    // `payments-*` matches every name that starts `payments-Ledger-`, and the exclusion of
    // `payments-scratch` matches none of them.
    let (code, doc, err) = check(&[
        "testdata/templates/ledger.yaml",
        "--region",
        "us-east-1",
        "--stack-name",
        "payments",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let ledger = find(&doc, "Ledger", "us-east-1");
    assert_eq!(ledger["ComplianceType"], "COMPLIANT");
    assert!(ledger["Reason"]
        .as_str()
        .unwrap()
        .contains("payments-explicit"));

    // Without the stack name nothing of the name is known: not proven.
    let (code, doc, _) = check(&["testdata/templates/ledger.yaml", "--region", "us-east-1"]);
    assert_eq!(code, Some(3));
    let reason = find(&doc, "Ledger", "us-east-1")["Reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("--stack-name"), "{reason}");
}

#[test]
fn a_cdk_style_json_template_with_joins_and_region_refs_is_read() {
    let dir = tempdir();
    let file = dir.join("cdk.template.json");
    std::fs::write(
        &file,
        serde_json::to_string_pretty(&serde_json::json!({
            "Parameters": {"Stage": {"Type": "String", "Default": "prod"}},
            "Resources": {
                "OrdersTable5F0A3C3E": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "TableName": {"Fn::Join": ["-", ["payments", {"Ref": "AWS::Region"}]]},
                        "Tags": [{"Key": "env", "Value": {"Ref": "Stage"}}]
                    }
                },
                "Bucket": {"Type": "AWS::S3::Bucket"}
            }
        }))
        .unwrap(),
    )
    .unwrap();
    let (code, doc, err) = check(&[file.to_str().unwrap(), "--region", "us-east-1"]);
    assert_eq!(code, Some(0), "{err}");
    let t = find(&doc, "OrdersTable5F0A3C3E", "us-east-1");
    assert_eq!(t["TableName"], "payments-us-east-1");
    // The line of the logical ID under Resources, as code scanning shows it.
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("\"OrdersTable5F0A3C3E\""))
        .unwrap()
        + 1;
    assert!(line > 5);
    assert_eq!(t["Line"], line, "{t:#}");
}

#[test]
fn a_terraform_plan_is_judged_by_its_creates_and_updates_with_default_tags() {
    let (code, doc, err) = check(&["testdata/templates/plan.json"]);
    assert_eq!(code, Some(3), "{err}");
    let all = doc["Evaluations"].as_array().unwrap();
    // Deletes, no-ops and other resource types are left out; the replica is a second table.
    assert_eq!(all.len(), 5, "{doc:#}");
    assert!(all.iter().all(|e| e["Line"].is_null()));
    assert!(!all
        .iter()
        .any(|e| e["Resource"] == "aws_dynamodb_table.old"
            || e["Resource"] == "aws_dynamodb_table.same"));
    assert_eq!(
        find(&doc, "aws_dynamodb_table.ledger", "us-east-1")["ComplianceType"],
        "COMPLIANT"
    );
    // tags_all carries the provider's default tags; the exclusion still wins.
    let cache = find(&doc, "aws_dynamodb_table.cache", "us-east-1");
    assert_eq!(cache["ComplianceType"], "NON_COMPLIANT");
    assert!(cache["Reason"].as_str().unwrap().contains("NotResources"));
    // A name known only after apply: null, and decided only by what does not look at it.
    let computed = find(&doc, "aws_dynamodb_table.computed", "us-east-1");
    assert_eq!(computed["TableName"], Value::Null);
    let orders = "module.shop.aws_dynamodb_table.orders";
    assert_eq!(
        find(&doc, orders, "us-east-1")["ComplianceType"],
        "COMPLIANT"
    );
    assert_eq!(
        find(&doc, orders, "eu-west-1")["ComplianceType"],
        "COMPLIANT"
    );
}

#[test]
fn bad_templates_and_plans_are_refused_naming_the_problem() {
    let dir = tempdir();
    let cases = [
        ("broken.yaml", "Resources:\n  T: [unclosed\n", "not valid YAML"),
        ("plan.json", r#"{"format_version": "2.0", "resource_changes": []}"#, "format_version 2.0"),
        ("empty.yaml", "", "empty"),
        ("notcfn.yaml", "just: text\n", "no `Resources`"),
        (
            "replicas.yaml",
            "Resources:\n  G:\n    Type: AWS::DynamoDB::GlobalTable\n    Properties: {TableName: g}\n",
            "Resources.G.Replicas",
        ),
    ];
    for (name, text, expected) in cases {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let out = cli(&["check-template", file.to_str().unwrap(), "--snapshot", DEMO]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{name}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{name}");
    }
    // A Region the snapshot never read is an error, not a verdict.
    let out = cli(&[
        "check-template",
        "testdata/templates/ledger.yaml",
        "--snapshot",
        DEMO,
        "--region",
        "ap-south-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ap-south-1"), "{}", stderr(&out));
}

#[test]
fn sarif_places_each_result_at_its_file_and_line_and_is_valid() {
    let out = cli(&[
        "check-template",
        "testdata/templates/shop.yaml",
        "testdata/templates/plan.json",
        "--snapshot",
        DEMO,
        "--region",
        "us-east-1",
        "--stack-name",
        "shop",
        "--format",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let sarif = stdout(&out);
    crate::formats::validate("sarif", &sarif).unwrap_or_else(|e| panic!("{e}"));
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    let scratch = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Scratch ")
        })
        .expect("Scratch");
    assert_eq!(scratch["kind"], "fail");
    assert_eq!(scratch["level"], "error");
    let at = &scratch["locations"][0]["physicalLocation"];
    assert_eq!(
        at["artifactLocation"]["uri"],
        "testdata/templates/shop.yaml"
    );
    assert_eq!(at["region"]["startLine"], 19);

    let junit = cli(&[
        "check-template",
        "testdata/templates/shop.yaml",
        "--snapshot",
        DEMO,
        "--region",
        "us-east-1",
        "--format",
        "junit",
    ]);
    crate::formats::validate("junit", &stdout(&junit)).unwrap_or_else(|e| panic!("{e}"));
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ddb-rule-check-template-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_non_compliant_table_gets_a_fix_that_makes_it_compliant_when_applied_to_the_template() {
    let (_, doc, err) = check(&[
        "testdata/templates/shop.yaml",
        "--region",
        "us-east-1",
        "--stack-name",
        "shop",
    ]);
    // The generated-name table is tagged env=dev; the fix sets env=prod in its Tags.
    let scratch = find(&doc, "Scratch", "us-east-1");
    let fix = scratch["Fix"]
        .as_str()
        .unwrap_or_else(|| panic!("{scratch:#} {err}"));
    assert_eq!(
        fix,
        r#"set in the resource's Tags: {Key: "env", Value: "prod"}"#
    );
    // No fix for a Region without plans; none for a COMPLIANT table.
    assert!(find(&doc, "Global", "us-west-2")["Fix"].is_null());
    assert!(find(&doc, "Orders", "us-east-1")["Fix"].is_null());

    // Applied to the template, the fix makes the table COMPLIANT.
    let text = std::fs::read_to_string("testdata/templates/shop.yaml").unwrap();
    let fixed = text.replacen("          Value: dev", "          Value: prod", 1);
    assert_ne!(fixed, text);
    let dir = tempdir();
    let file = dir.join("shop.yaml");
    std::fs::write(&file, fixed).unwrap();
    let (_, doc, _) = check(&[
        file.to_str().unwrap(),
        "--region",
        "us-east-1",
        "--stack-name",
        "shop",
    ]);
    assert_eq!(
        find(&doc, "Scratch", "us-east-1")["ComplianceType"],
        "COMPLIANT"
    );
}

#[test]
fn the_account_id_is_known_from_the_snapshot() {
    let dir = tempdir();
    let file = dir.join("account.yaml");
    std::fs::write(
        &file,
        "Resources:\n  Ledger:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub \"${AWS::AccountId}-ledger\"\n  Other:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: other\n",
    )
    .unwrap();
    let (_, doc, err) = check(&[file.to_str().unwrap(), "--region", "us-east-1"]);
    assert_eq!(
        find(&doc, "Ledger", "us-east-1")["TableName"],
        "111122223333-ledger",
        "{err}"
    );
    assert_eq!(find(&doc, "Other", "us-east-1")["TableName"], "other");
}
