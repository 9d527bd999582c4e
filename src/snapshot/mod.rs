//! PURE. The snapshot file format: one account's AWS Backup configuration and DynamoDB tables,
//! Region by Region, in the shapes the AWS CLI prints. Other tools read and write this
//! contract, so the wire types here are kept apart from the domain types in [`crate::model`].
//!
//! Unknown keys are ignored so later versions can add fields. Every error names the JSON path of
//! the offending value.

pub mod keys;
mod read;
mod types;
mod write;

pub use read::{parse, parse_checked, rule_from_document};
pub use types::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConditionOperator, OptIn};

    const MINIMAL: &str = r#"{"AccountId":"111122223333","Regions":{"us-east-1":{
        "BackupPlans":[{"BackupPlanId":"p1","BackupPlanName":"daily","Rules":[{"RuleName":"r"}],
          "Selections":[{"SelectionId":"s1","BackupSelection":{"SelectionName":"all",
             "Resources":["*"],"Conditions":{"StringLike":[{"ConditionKey":"aws:ResourceTag/a","ConditionValue":"b*"}],
             "StringEquals":[{"ConditionKey":"aws:ResourceTag/c","ConditionValue":"d"}]}}}]}],
        "Tables":[{"TableName":"orders","TableArn":"arn:aws:dynamodb:us-east-1:111122223333:table/orders",
          "Tags":[{"Key":"a","Value":"bc"}]}]}}}"#;

    #[test]
    fn a_minimal_snapshot_loads_with_defaults() {
        let s = parse(MINIMAL).expect("valid");
        let r = &s.regions[0];
        assert_eq!(r.catalog.settings.dynamodb_opt_in, OptIn::NotCaptured);
        assert_eq!(r.tables[0].tags.get("a").map(String::as_str), Some("bc"));
        assert_eq!(r.tables[0].status, None);
        let sel = &r.catalog.plans[0].selections[0];
        // Conditions come out in AWS's documented order, not the file's.
        assert_eq!(sel.conditions[0].operator, ConditionOperator::StringEquals);
        assert_eq!(sel.conditions[1].operator, ConditionOperator::StringLike);
        assert_eq!(r.catalog.plans[0].region, "us-east-1");
    }

    #[test]
    fn a_missing_condition_key_is_reported_with_its_path() {
        let broken = MINIMAL.replace(
            r#"{"ConditionKey":"aws:ResourceTag/a","ConditionValue":"b*"}"#,
            r#"{"ConditionValue":"b*"}"#,
        );
        let err = parse(&broken).unwrap_err().to_string();
        assert!(
            err.contains("Regions.us-east-1.BackupPlans[0].Selections[0].BackupSelection.Conditions.StringLike[0]"),
            "{err}"
        );
        assert!(err.contains("missing field `ConditionKey`"), "{err}");
    }

    #[test]
    fn a_null_opt_in_value_is_unknown_not_false() {
        let null = MINIMAL.replace(
            r#""us-east-1":{"#,
            r#""us-east-1":{"ResourceTypeOptInPreference":{"DynamoDB":null},"#,
        );
        let s = parse(&null).unwrap();
        assert_eq!(
            s.regions[0].catalog.settings.dynamodb_opt_in,
            OptIn::KeyAbsent
        );
    }

    #[test]
    fn unknown_operators_are_kept_not_dropped() {
        let odd = MINIMAL.replace("\"StringLike\"", "\"ForAnyValue:StringLike\"");
        let s = parse(&odd).unwrap();
        let sel = &s.regions[0].catalog.plans[0].selections[0];
        assert!(
            sel.conditions
                .iter()
                .any(|c| c.operator
                    == ConditionOperator::Unsupported("ForAnyValue:StringLike".into()))
        );
    }

    #[test]
    fn table_arn_must_match_its_region_and_name() {
        let wrong_region = MINIMAL.replace(
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
        );
        let err = parse(&wrong_region).unwrap_err().to_string();
        assert!(
            err.contains("Regions.us-east-1.Tables[0].TableArn"),
            "{err}"
        );
        let wrong_name = MINIMAL.replace("\"TableName\":\"orders\"", "\"TableName\":\"users\"");
        let err = parse(&wrong_name).unwrap_err().to_string();
        assert!(err.contains("Tables[0].TableName"), "{err}");
    }

    #[test]
    fn the_model_round_trips_through_the_file_format() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/snapshots/demo-account.json"
        ))
        .expect("demo snapshot");
        let model = parse(&text).expect("valid");
        let written = serde_json::to_string(&SnapshotFile::from(&model)).expect("serializable");
        assert_eq!(parse(&written).expect("re-read"), model);
    }

    #[test]
    fn plan_arn_decides_where_the_plan_lives() {
        let moved = MINIMAL.replace(
            "\"BackupPlanId\":\"p1\"",
            "\"BackupPlanId\":\"p1\",\"BackupPlanArn\":\"arn:aws:backup:us-west-2:999999999999:backup-plan:p1\"",
        );
        let s = parse(&moved).unwrap();
        let plan = &s.regions[0].catalog.plans[0];
        assert_eq!(
            (plan.region.as_str(), plan.account.as_str()),
            ("us-west-2", "999999999999")
        );
    }
}
