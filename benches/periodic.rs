//! Periodic passes against the fake AWS endpoint, counting every call: the lower-bound account
//! (5,000 tables, 20 plans, 60 selections) with Config's inventory and with the DynamoDB
//! fallback, and the scale account (10,000 tables, 300 plans, 3,000 selections) against a fake
//! that throttles every AWS Backup operation.
//!
//! `cargo bench --bench periodic` prints the numbers recorded in the README.

#[path = "../tests/util/mod.rs"]
mod util;

use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::event::decode_payload;
use dynamodb_backup_rule::rule::{self, Caller};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use util::fake_aws::FakeAws;
use util::synth::{generate, SynthConfig};

const OWN: &str = "111122223333";

/// A generated account with its selections spread over `plans` plans.
fn account(tables: usize, plans: usize, selections: usize) -> serde_json::Value {
    let mut file = generate(SynthConfig {
        tables,
        selections,
        seed: 3,
        adversarial: false,
    });
    let region = file.regions.get_mut("us-east-1").expect("region");
    let all: Vec<_> = region
        .backup_plans
        .iter()
        .flat_map(|p| p.selections.clone())
        .collect();
    let template = region.backup_plans[0].clone();
    region.backup_plans = (0..plans)
        .map(|p| {
            let mut plan = template.clone();
            plan.backup_plan_id = format!("plan-{p:03}");
            plan.backup_plan_name = format!("plan-{p:03}");
            plan.backup_plan_arn = Some(format!(
                "arn:aws:backup:us-east-1:{OWN}:backup-plan:plan-{p:03}"
            ));
            plan.selections = all.iter().skip(p).step_by(plans).cloned().collect();
            plan
        })
        .collect();
    serde_json::to_value(&file).expect("serializable")
}

async fn env(fake: &FakeAws, settings: Settings) -> AwsEnv {
    util::aws_env(fake, settings).await
}

async fn pass(env: &AwsEnv) -> (usize, Duration) {
    let event = util::config_event(
        &json!({"awsAccountId": OWN, "notificationCreationTime": "2026-11-21T00:00:00.000Z",
            "messageType": "ScheduledNotification", "recordVersion": "1.0"}),
        &json!({}),
        "bench-token",
    );
    let caller = Caller {
        account: Some(OWN.into()),
        region: Some("us-east-1".into()),
        deadline: Some(Instant::now() + Duration::from_secs(900)),
        ..Caller::default()
    };
    let start = Instant::now();
    let handled = rule::handle(&decode_payload(event).expect("event"), env, &caller)
        .await
        .expect("pass");
    (handled.evaluations.len(), start.elapsed())
}

fn calls(fake: &FakeAws) -> (usize, String) {
    let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
    for l in fake.log() {
        *by_op.entry(l.op).or_default() += 1;
    }
    let total = by_op.values().sum();
    (
        total,
        by_op
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let fast = util::fast_settings();

    // 5,000 tables, 20 plans, 60 selections at AWS's page sizes (100).
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account(5000, 20, 60));
    fake.set_page_size(100);
    let e = env(
        &fake,
        Settings {
            cache_ttl: Duration::ZERO,
            ..Settings::default()
        },
    )
    .await;
    let (n, took) = pass(&e).await;
    let (total, detail) = calls(&fake);
    println!("periodic, Config inventory, first pass: {n} evaluations in {:.0} ms, {total} calls: {detail}", took.as_secs_f64() * 1000.0);
    let before = fake.log().len();
    let (n, took) = pass(&e).await;
    let after = fake.log().len();
    let again = fake.log()[before..after]
        .iter()
        .filter(|l| l.op == "GetComplianceDetailsByConfigRule")
        .count();
    println!("periodic, Config inventory, next pass: {n} evaluations in {:.0} ms, {} calls, {again} of them GetComplianceDetailsByConfigRule pages", took.as_secs_f64() * 1000.0, after - before);

    // The same account when Config does not record tables.
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account(5000, 20, 60));
    fake.set_page_size(100);
    fake.set_recorders(OWN, "us-east-1", json!([]));
    let e = env(&fake, fast).await;
    let (n, took) = pass(&e).await;
    let (total, detail) = calls(&fake);
    println!("periodic, DynamoDB fallback (tag reads unpaced for the count): {n} evaluations in {:.0} ms, {total} calls: {detail}", took.as_secs_f64() * 1000.0);
    println!(
        "  at DynamoDB's 10 ListTagsOfResource per second the tag reads alone take {} s",
        5000 / 10
    );

    // Scale: 10,000 tables, 300 plans, 3,000 selections; the fake throttles every Backup
    // operation beyond 25 calls a second, and the rule runs with its default pacing.
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account(10_000, 300, 3000));
    fake.set_page_size(100);
    for op in [
        "DescribeRegionSettings",
        "ListBackupPlans",
        "GetBackupPlan",
        "ListBackupSelections",
        "GetBackupSelection",
        "ListTagsOfResource",
    ] {
        fake.limit(op, if op == "ListTagsOfResource" { 10 } else { 25 });
    }
    let e = env(&fake, Settings::default()).await;
    let (n, took) = pass(&e).await;
    let (total, detail) = calls(&fake);
    let throttled: usize = [
        "GetBackupPlan",
        "ListBackupSelections",
        "GetBackupSelection",
    ]
    .iter()
    .map(|op| fake.throttled(op))
    .sum();
    println!(
        "scale pass (10,000 tables, 300 plans, 3,000 selections, Backup throttled above 25/s): {n} evaluations in {:.1} s, {total} calls, {throttled} throttled: {detail}",
        took.as_secs_f64()
    );
}
