//! The chaos test: 1,000 change events and 5 periodic passes through the real Lambda binary,
//! once against a healthy fake endpoint and once with 20% of requests faulted (throttling,
//! 500/503, connection resets, responses slower than the attempt timeout, truncated bodies,
//! NextTokens that lead to an error). Every invocation must either put exactly what the healthy
//! run put, or fail with a typed error having put nothing. Zero wrong verdicts, zero panics, no
//! evaluation from a partial catalog, and no secret in the logs.
//!
//! `CHAOS_EVENTS` changes the number of change events (default 1,000).

use crate::lambda::{spawn_lambda, stop};
use crate::util::fake_aws::{Chaos, FakeAws};
use crate::util::runtime_api::{Outcome, RuntimeApi};
use crate::util::{config_event, demo_snapshot, table_change};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const OWN: &str = "111122223333";
const PASSES: usize = 5;

/// The events, each with its own result token so puts can be matched to invocations.
fn events(n: usize) -> Vec<(String, Value)> {
    let demo = demo_snapshot();
    let tables: Vec<(String, Value, String)> = demo["Regions"]["us-east-1"]["Tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let tags: serde_json::Map<String, Value> = t["Tags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|kv| (kv["Key"].as_str().unwrap().to_string(), kv["Value"].clone()))
                        .collect()
                })
                .unwrap_or_default();
            (
                t["TableName"].as_str().unwrap().to_string(),
                Value::Object(tags),
                t["TableStatus"].as_str().unwrap_or("ACTIVE").to_string(),
            )
        })
        .collect();
    let mut out = Vec::new();
    for i in 0..n {
        if i % (n / PASSES).max(1) == 0
            && out
                .iter()
                .filter(|(t, _): &&(String, Value)| t.starts_with("periodic"))
                .count()
                < PASSES
        {
            let token = format!("periodic-{i:05}");
            let scheduled = json!({"awsAccountId": OWN, "notificationCreationTime": "2026-11-21T00:00:00.000Z",
                "messageType": "ScheduledNotification", "recordVersion": "1.0"});
            out.push((token.clone(), config_event(&scheduled, &json!({}), &token)));
        }
        let (name, tags, status) = &tables[i % tables.len()];
        let token = format!("change-{i:05}");
        let item = table_change(OWN, "us-east-1", name, Some(tags.clone()), status);
        out.push((token.clone(), config_event(&item, &json!({}), &token)));
    }
    out
}

struct Run {
    outcomes: Vec<Outcome>,
    puts: BTreeMap<String, Vec<Value>>,
    logs: String,
    requests: usize,
    took: Duration,
}

async fn run(events: &[(String, Value)], chaos: Option<Chaos>) -> (Run, FakeAws) {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_chaos(chaos);
    let rt = RuntimeApi::start().await;
    let lambda = spawn_lambda(
        &rt,
        &fake,
        &[
            // Every event reloads the catalog, so faults hit the whole read path.
            ("CATALOG_CACHE_TTL_SECONDS", "0"),
            ("ATTEMPT_TIMEOUT_MS", "150"),
            ("RETRY_INITIAL_BACKOFF_MS", "2"),
            ("AWS_MAX_ATTEMPTS", "4"),
            ("BACKUP_READS_PER_SECOND", "100000"),
            // The chaos throttles one request in five at random, whatever the rate: the
            // adaptive mode's client-side limiter (the default, for throttles that come from
            // load) would only slow down, never reduce them. Standard retry is what this test
            // is about: faults are retried, or fail the invocation cleanly.
            ("AWS_RETRY_MODE", "standard"),
        ],
    );
    for (token, event) in events {
        rt.push(token, event.clone());
    }
    let start = Instant::now();
    let outcomes = rt.wait_for(events.len(), Duration::from_secs(600)).await;
    let took = start.elapsed();
    let logs = stop(lambda).await;
    let mut puts: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for p in fake.puts() {
        puts.entry(p.result_token)
            .or_default()
            .extend(p.evaluations);
    }
    let requests = fake.log().len();
    (
        Run {
            outcomes,
            puts,
            logs,
            requests,
            took,
        },
        fake,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_never_change_a_verdict_they_only_fail_invocations_cleanly() {
    let n: usize = std::env::var("CHAOS_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let events = events(n);
    let (healthy, _) = run(&events, None).await;
    assert_eq!(
        healthy.outcomes.len(),
        events.len(),
        "healthy run incomplete:\n{}",
        healthy.logs
    );
    assert!(
        healthy
            .outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Response { .. })),
        "the healthy run must succeed"
    );

    let (chaotic, fake) = run(
        &events,
        Some(Chaos::new(20, 0x5eed, Duration::from_millis(400))),
    )
    .await;
    assert_eq!(
        chaotic.outcomes.len(),
        events.len(),
        "an invocation never answered (a panic or a hang)"
    );

    let (mut succeeded, mut failed_cleanly, mut wrong) = (0, 0, Vec::new());
    let mut error_types: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in &chaotic.outcomes {
        match outcome {
            Outcome::Response { id, .. } => {
                if chaotic.puts.get(id) == healthy.puts.get(id) {
                    succeeded += 1;
                } else {
                    wrong.push(format!(
                        "{id}: put {:?}, healthy put {:?}",
                        chaotic.puts.get(id),
                        healthy.puts.get(id)
                    ));
                }
            }
            Outcome::Error {
                id,
                error_type,
                message,
            } => {
                *error_types.entry(error_type.clone()).or_default() += 1;
                let typed = ["Throttled", "AwsService", "Timeout"].contains(&error_type.as_str());
                if typed && !chaotic.puts.contains_key(id) {
                    failed_cleanly += 1;
                } else {
                    wrong.push(format!(
                        "{id}: {error_type} {message} (put {:?})",
                        chaotic.puts.get(id)
                    ));
                }
            }
            Outcome::InitError { body } => wrong.push(format!("init error {body}")),
        }
    }
    let injected = fake.injected();
    let faults: usize = injected.values().sum();
    eprintln!(
        "chaos: {} invocations ({} change events, {PASSES} periodic passes), {} requests, {faults} faults injected {:?}; \
         {succeeded} identical to the healthy run, {failed_cleanly} failed cleanly {:?}, {} wrong; {:.1} s (healthy run {:.1} s, {} requests)",
        events.len(),
        n,
        chaotic.requests,
        injected,
        error_types,
        wrong.len(),
        chaotic.took.as_secs_f64(),
        healthy.took.as_secs_f64(),
        healthy.requests,
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        faults > events.len() / 2,
        "the chaos must actually bite: {faults} faults"
    );
    assert!(
        succeeded > events.len() / 2,
        "retries should carry most invocations through: {succeeded}"
    );
    assert!(!chaotic.logs.contains("panicked"), "a panic was logged");
    crate::util::assert_no_secrets(&chaotic.logs);
}
