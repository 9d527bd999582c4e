//! Generated bad input never panics and always fails with a typed error naming what was wrong:
//! arbitrary and mutated Config events, rule parameters, and mutated snapshot files.

use crate::util::repo_path;
use dynamodb_backup_rule::event::decode_payload;
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::{snapshot, Error};
use proptest::prelude::*;
use serde_json::Value;

/// Arbitrary JSON, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON path in a document, as a list of steps.
fn paths(v: &Value, prefix: Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let mut p = prefix.clone();
                p.push(Step::Key(k.clone()));
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(Step::Index(i));
                out.push(p.clone());
                paths(child, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Replaces (or, for object keys, removes) the value at one path.
fn mutate(doc: &Value, which: usize, replacement: Option<Value>) -> Value {
    let mut all = Vec::new();
    paths(doc, Vec::new(), &mut all);
    let mut out = doc.clone();
    if all.is_empty() {
        return out;
    }
    let path = &all[which % all.len()];
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut cur = &mut out;
    for step in parents {
        cur = match step {
            Step::Key(k) => &mut cur[k.as_str()],
            Step::Index(i) => &mut cur[*i],
        };
    }
    match (last, replacement) {
        (Step::Key(k), None) => {
            if let Some(m) = cur.as_object_mut() {
                m.remove(k);
            }
        }
        (Step::Key(k), Some(v)) => cur[k.as_str()] = v,
        (Step::Index(i), Some(v)) => cur[*i] = v,
        (Step::Index(i), None) => {
            if let Some(a) = cur.as_array_mut() {
                a.remove(*i);
            }
        }
    }
    out
}

fn events() -> Vec<Value> {
    let dir = repo_path("testdata/events");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| {
            let mut v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            // Decode the nested JSON strings so mutations reach inside them too.
            for k in ["invokingEvent", "ruleParameters"] {
                if let Some(inner) = v[k]
                    .as_str()
                    .and_then(|s| serde_json::from_str::<Value>(s).ok())
                {
                    v[k] = inner;
                }
            }
            v
        })
        .collect()
}

fn reencode(mut v: Value) -> Value {
    for k in ["invokingEvent", "ruleParameters"] {
        if v.get(k).is_some_and(|x| !x.is_string() && !x.is_null()) {
            v[k] = Value::String(v[k].to_string());
        }
    }
    v
}

fn typed_event_error(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidEvent { .. } | Error::InvalidParameters { .. }
    ) && !e.to_string().is_empty()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(10_000), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_payloads_decode_or_fail_typed(v in json()) {
        if let Err(e) = decode_payload(v) {
            prop_assert!(typed_event_error(&e), "{e:?}");
        }
    }

    #[test]
    fn mutated_real_events_decode_or_fail_typed(
        pick in 0usize..64, which in any::<usize>(), replacement in prop::option::of(json()),
    ) {
        let all = events();
        let event = &all[pick % all.len()];
        let mutated = reencode(mutate(event, which, replacement));
        match decode_payload(mutated) {
            Ok(inv) => {
                // Whatever decoded must still validate its parameters without panicking.
                if let Err(e) = RuleParameters::parse(&inv.rule_parameters) {
                    prop_assert_eq!(e.error_type(), "InvalidParameters");
                }
            }
            Err(e) => prop_assert!(typed_event_error(&e), "{e:?}"),
        }
    }

    #[test]
    fn arbitrary_rule_parameters_parse_or_fail_typed(
        params in prop::collection::btree_map(
            prop_oneof![Just("resourceTags".to_string()), Just("resourceId".to_string()),
                Just("ExecutionRoleName".to_string()), "[a-zA-Z]{1,10}"],
            json(), 0..4),
    ) {
        let map: serde_json::Map<String, Value> = params.into_iter().collect();
        if let Err(e) = RuleParameters::parse(&map) {
            prop_assert_eq!(e.error_type(), "InvalidParameters");
            prop_assert!(e.to_string().contains("invalid rule parameter"));
        }
    }

    #[test]
    fn mutated_snapshots_load_or_fail_with_a_path(which in any::<usize>(), replacement in prop::option::of(json())) {
        let text = std::fs::read_to_string(repo_path("testdata/snapshots/demo-account.json")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mutated = mutate(&doc, which, replacement).to_string();
        if let Err(e) = snapshot::parse(&mutated) {
            prop_assert!(matches!(e, Error::SnapshotFormat { .. } | Error::SnapshotInvalid { .. }), "{e:?}");
            prop_assert!(e.to_string().starts_with("invalid snapshot at "), "{e}");
        }
    }

    #[test]
    fn truncated_snapshots_fail_with_a_path(cut in 0usize..20_000) {
        let text = std::fs::read_to_string(repo_path("testdata/snapshots/demo-account.json")).unwrap();
        let mut end = cut.min(text.len().saturating_sub(2));
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let e = snapshot::parse(&text[..end]).unwrap_err();
        prop_assert!(matches!(e, Error::SnapshotFormat { .. }), "{e:?}");
    }
}

#[test]
fn a_six_megabyte_event_is_decoded_or_refused_clearly() {
    // Config sends large items as oversized notifications, but a hand-made event may be huge.
    let mut item = crate::util::table_change(
        "111122223333",
        "us-east-1",
        "orders",
        Some(serde_json::json!({})),
        "ACTIVE",
    );
    item["configurationItem"]["supplementaryConfiguration"]["Blob"] =
        Value::String("x".repeat(6 << 20));
    let event = crate::util::config_event(&item, &serde_json::json!({}), "t");
    assert!(event.to_string().len() > 6_000_000);
    let inv = decode_payload(event).expect("a large but valid event decodes");
    assert!(matches!(
        inv.trigger,
        dynamodb_backup_rule::event::Trigger::Change(_)
    ));
}

#[test]
fn a_snapshot_with_100000_tables_is_evaluated() {
    use crate::util::synth::{generate, SynthConfig};
    let file = generate(SynthConfig {
        tables: 100_000,
        selections: 300,
        seed: 9,
        adversarial: false,
    });
    let text = serde_json::to_string(&file).unwrap();
    let snap = snapshot::parse(&text).expect("valid");
    let evaluations = dynamodb_backup_rule::rule::evaluate_snapshot(
        &snap,
        &Default::default(),
        chrono::Utc::now(),
    );
    assert_eq!(evaluations.len(), 100_000);
}
