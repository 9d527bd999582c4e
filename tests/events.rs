//! Every Config event fixture decodes (or fails) as its name says, and survives a round trip
//! through `aws_lambda_events`' `ConfigEvent`.

use crate::util::repo_path;
use aws_lambda_events::event::config::ConfigEvent;
use dynamodb_backup_rule::event::{decode_payload, Trigger};
use serde_json::Value;

fn fixtures() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(repo_path("testdata/events"))
        .expect("events dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let v =
                serde_json::from_str(&std::fs::read_to_string(&p).expect("read")).expect("JSON");
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_fixture_round_trips_through_config_event() {
    let all = fixtures();
    assert!(all.len() >= 15, "{} fixtures", all.len());
    for (name, v) in all {
        let event: ConfigEvent =
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again: ConfigEvent =
            serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
        assert_eq!(event, again, "{name}");
        // Every field Config sends survives, byte for byte.
        for field in [
            "invokingEvent",
            "ruleParameters",
            "resultToken",
            "accountId",
            "executionRoleArn",
        ] {
            assert_eq!(
                serde_json::to_value(&event).unwrap()[field],
                v[field],
                "{name}: {field}"
            );
        }
    }
}

#[test]
fn every_fixture_decodes_as_its_name_says() {
    for (name, v) in fixtures() {
        let decoded = decode_payload(v);
        match name.as_str() {
            "invalid-invoking-event.json" => {
                let e = decoded.unwrap_err();
                assert_eq!(e.error_type(), "InvalidEvent");
                assert!(e.to_string().contains("invokingEvent"), "{e}");
            }
            "scheduled.json" => assert!(matches!(
                decoded.unwrap().trigger,
                Trigger::Scheduled { .. }
            )),
            "oversized.json" => assert!(matches!(decoded.unwrap().trigger, Trigger::Oversized(_))),
            _ => {
                let inv = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
                let Trigger::Change(item) = &inv.trigger else {
                    panic!("{name}: not a change")
                };
                assert!(!item.resource_id.is_empty());
                assert_eq!(inv.event_left_scope, name == "left-scope.json", "{name}");
                assert_eq!(inv.test_mode(), name == "testmode.json", "{name}");
                assert_eq!(
                    item.tags.is_none(),
                    name == "change-tags-missing.json",
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn malformed_payloads_name_the_field() {
    let cases = [
        (serde_json::json!([1, 2]), "(event)"),
        (
            serde_json::json!({"invokingEvent": "{}", "resultToken": "t"}),
            "invokingEvent.messageType",
        ),
        (serde_json::json!({"resultToken": "t"}), "invokingEvent"),
        (
            serde_json::json!({"invokingEvent": "{\"messageType\":\"ScheduledNotification\"}"}),
            "resultToken",
        ),
        (
            serde_json::json!({"invokingEvent": "{\"messageType\":\"ScheduledNotification\",\"notificationCreationTime\":\"yesterday\"}", "resultToken": "t"}),
            "invokingEvent.notificationCreationTime",
        ),
        (
            serde_json::json!({"invokingEvent": "{\"messageType\":\"ConfigurationItemChangeNotification\",\"configurationItem\":{\"resourceType\":\"AWS::DynamoDB::Table\"}}", "resultToken": "t"}),
            "configurationItem.resourceId",
        ),
        (
            serde_json::json!({"invokingEvent": "{\"messageType\":\"Other\"}", "resultToken": "t"}),
            "invokingEvent.messageType",
        ),
        (
            serde_json::json!({"invokingEvent": 5, "resultToken": "t"}),
            "(event)",
        ),
    ];
    for (payload, field) in cases {
        let e = decode_payload(payload.clone()).unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent", "{payload}");
        assert!(e.to_string().contains(field), "{payload}: {e}");
    }
    let e = decode_payload(serde_json::json!({"invokingEvent": "{\"messageType\":\"ScheduledNotification\",\"notificationCreationTime\":\"2026-01-01T00:00:00Z\"}", "resultToken": "t", "ruleParameters": "[1]"})).unwrap_err();
    assert_eq!(e.error_type(), "InvalidParameters", "{e}");
}
