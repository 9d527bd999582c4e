//! Periodic passes against the fake AWS endpoint, counting every call: the lower-bound account
//! (5,000 tables, 20 plans, 60 selections) with Config's inventory and with the DynamoDB
//! fallback, and the scale account (10,000 tables, 300 plans, 3,000 selections) against a fake
//! that throttles every AWS Backup operation.
//!
//! `cargo bench --bench periodic` prints the numbers recorded in the README.

#[path = "shared_gen.rs"]
mod shared_gen;
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

/// One periodic pass: (evaluations put, evaluations decided, wall time).
async fn pass(env: &AwsEnv) -> (usize, usize, Duration) {
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
    (handled.evaluations.len(), handled.decided, start.elapsed())
}

/// A periodic pass's calls on the first day and the day after, at AWS's page size of 100.
async fn two_days(tables: usize, plans: usize, selections: usize) {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account(tables, plans, selections));
    fake.set_page_size(100);
    let e = env(&fake, util::fast_settings()).await;
    for day in ["first day", "next day"] {
        let before = fake.log().len();
        let (put, decided, took) = pass(&e).await;
        let log = fake.log();
        let mut by_op: BTreeMap<&str, usize> = BTreeMap::new();
        for l in &log[before..] {
            *by_op.entry(l.op.as_str()).or_default() += 1;
        }
        let detail: Vec<String> = by_op.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "periodic, {tables} tables, {plans} plans, {selections} selections, {day}: {} calls, {put} of {decided} evaluations put, {:.0} ms: {}",
            log.len() - before,
            took.as_secs_f64() * 1000.0,
            detail.join(", ")
        );
    }
}

/// Rule creation replayed in one container: one change event per table, plan and selection
/// (shuffled), then the periodic trigger. Evaluations recorded and catalog loads.
async fn rule_creation(tables: usize, plans: usize, selections: usize) {
    let fake = FakeAws::start().await;
    let account = account(tables, plans, selections);
    fake.load_snapshot(&account);
    fake.set_page_size(100);
    let e = env(&fake, util::fast_settings()).await;
    let caller = Caller {
        account: Some(OWN.into()),
        region: Some("us-east-1".into()),
        deadline: Some(Instant::now() + Duration::from_secs(900)),
        ..Caller::default()
    };
    let events = util::rule_creation_events(&account, "creation-token");
    let start = Instant::now();
    for event in &events {
        rule::handle(&decode_payload(event.clone()).expect("event"), &e, &caller)
            .await
            .expect("event");
    }
    let recorded_before_periodic: usize = fake.puts().iter().map(|p| p.evaluations.len()).sum();
    let (periodic_put, _, _) = pass(&e).await;
    let recorded: usize = fake.puts().iter().map(|p| p.evaluations.len()).sum();
    let resources = events.len();
    println!(
        "rule creation, T={tables} P={plans} S={selections}: {resources} events, {recorded} evaluations recorded ({recorded_before_periodic} by the events, {periodic_put} by the periodic pass; bound 2(T+P+S) = {}), {} catalog loads, {} calls, {:.1} s",
        2 * resources,
        fake.catalog_loads(),
        fake.log().len(),
        start.elapsed().as_secs_f64()
    );
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

/// An account from the shared benchmark generator, parsed.
fn shared_account(args: &[&str]) -> Option<serde_json::Value> {
    serde_json::from_str(&shared_gen::shared_account_json(args)?).ok()
}

/// Periodic passes over a shared benchmark account with the settings the single-account
/// template deploys (Backup reads paced at 20 a second, AWS's page sizes): the first day, then
/// a steady day.
async fn at_template_defaults(args: &[&str]) {
    let Some(account) = shared_account(args) else {
        println!(
            "gen_snapshot.py {}: python3 is not here; skipped",
            args.join(" ")
        );
        return;
    };
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account);
    fake.set_page_size(100);
    let e = env(&fake, Settings::default()).await;
    for day in ["first day", "steady day"] {
        let before = fake.log().len();
        let (put, decided, took) = pass(&e).await;
        let backup = fake.log()[before..]
            .iter()
            .filter(|l| l.service == "backup")
            .count();
        println!(
            "gen_snapshot.py {}, template defaults, {day}: {:.1} s, {backup} AWS Backup reads, {put} of {decided} evaluations put, {} calls in all",
            args.join(" "),
            took.as_secs_f64(),
            fake.log().len() - before
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let fast = util::fast_settings();

    // The shared benchmark accounts, at the template's defaults.
    at_template_defaults(&["300", "600", "33", "30", "1"]).await;
    at_template_defaults(&["10000", "3000", "5", "30", "1"]).await;

    // Rule creation: T = 300 tables, P = 10 plans, S = 40 selections.
    rule_creation(300, 10, 40).await;

    // 5,000 tables, 20 plans, 60 selections, and 10,000 tables, at AWS's page sizes (100).
    two_days(5000, 20, 60).await;
    two_days(10_000, 20, 60).await;

    // The same account when Config does not record tables.
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account(5000, 20, 60));
    fake.set_page_size(100);
    fake.set_recorders(OWN, "us-east-1", json!([]));
    let e = env(&fake, fast).await;
    let (n, _, took) = pass(&e).await;
    let (total, detail) = calls(&fake);
    println!("periodic, DynamoDB fallback (tags in bulk from the Tagging API): {n} evaluations in {:.0} ms, {total} calls: {detail}", took.as_secs_f64() * 1000.0);

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
        "ListBackupVaults",
    ] {
        fake.limit(op, 25);
    }
    let e = env(&fake, Settings::default()).await;
    let (n, _, took) = pass(&e).await;
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
