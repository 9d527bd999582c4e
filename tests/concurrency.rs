//! Config invokes the function concurrently, and Lambda retries. Two release-shaped Lambda
//! containers (two binaries, two Runtime API servers) run against one fake, and the fake holds
//! chosen requests until the test releases them, so each interleaving that matters happens
//! exactly: both finish orders of two overlapping passes, a table event during a pass,
//! duplicate deliveries, and the retry of a failed invocation. Each runs twice: with the fake
//! keeping the result of the newest `OrderingTimestamp`, and with it keeping the last to arrive
//! (Config documents neither). Afterwards every table's recorded result must be the verdict of
//! the account as it finally is, decided from scratch. Last, two weeks of a changing account:
//! every day ends true, within a bound on what it records.

use crate::lambda::{spawn_lambda, stop, Lambda};
use crate::util::fake_aws::{FakeAws, Gate};
use crate::util::runtime_api::{Outcome, RuntimeApi};
use crate::util::{backup_change, config_event, demo_snapshot, table_change};
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::{rule, snapshot};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const OWN: &str = "111122223333";
const REGION: &str = "us-east-1";
const PLAN: &str = "8f2c6a0e-3d4b-4a8e-9c1f-2b7d5e6f8a90";
const TABLE: &str = "feature-flags";
const WAIT: Duration = Duration::from_secs(60);

/// One Lambda container: its Runtime API and its process.
struct Container {
    rt: RuntimeApi,
    lambda: Lambda,
    answered: usize,
}

impl Container {
    async fn start(fake: &FakeAws) -> Container {
        let rt = RuntimeApi::start().await;
        let lambda = spawn_lambda(&rt, fake, &[]);
        Container {
            rt,
            lambda,
            answered: 0,
        }
    }

    /// Delivers an event without waiting for its answer.
    fn deliver(&mut self, id: &str, event: Value) {
        self.rt.push(id, event);
        self.answered += 1;
    }

    /// Waits for every event delivered so far; the last answer.
    async fn settled(&self) -> Outcome {
        let outcomes = self.rt.wait_for(self.answered, WAIT).await;
        assert_eq!(outcomes.len(), self.answered, "{outcomes:?}");
        outcomes.last().cloned().expect("an answer")
    }

    async fn stop(self) -> String {
        stop(self.lambda).await
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn scheduled() -> Value {
    config_event(
        &json!({"awsAccountId": OWN, "notificationCreationTime": now(),
            "messageType": "ScheduledNotification", "recordVersion": "1.0"}),
        &json!({}),
        "periodic-token",
    )
}

/// A selection change, captured now.
fn selection_changed(id: &str) -> Value {
    config_event(
        &backup_change(OWN, "AWS::Backup::BackupSelection", id, &now()),
        &json!({}),
        "backup-token",
    )
}

/// A table's change, captured now, with its tags.
fn table_changed(name: &str, tags: Value) -> Value {
    let mut invoking = table_change(OWN, REGION, name, Some(tags), "ACTIVE");
    invoking["configurationItem"]["configurationItemCaptureTime"] = json!(now());
    config_event(&invoking, &json!({}), "table-token")
}

/// A selection of the demo's daily plan naming `TABLE` by ARN, with `conditions`.
fn selection(id: &str, conditions: Value) -> Value {
    json!({"SelectionId": id, "BackupSelection": {"SelectionName": format!("sel-{id}"),
        "IamRoleArn": format!("arn:aws:iam::{OWN}:role/backup"),
        "Resources": [format!("arn:aws:dynamodb:{REGION}:{OWN}:table/{TABLE}")],
        "Conditions": conditions}})
}

/// Every table's verdict for the account as the fake holds it now, decided from scratch.
fn truth(fake: &FakeAws) -> BTreeMap<String, String> {
    let snap = snapshot::parse(&fake.snapshot(OWN).to_string()).expect("the fake's account");
    rule::evaluate_snapshot(&snap, &RuleParameters::default(), chrono::Utc::now())
        .into_iter()
        .filter(|e| e.table.arn.region == REGION)
        .map(|e| {
            (
                e.table.name.clone(),
                e.verdict.compliance.as_str().to_string(),
            )
        })
        .collect()
}

/// Every table's recorded result.
fn recorded(fake: &FakeAws) -> BTreeMap<String, String> {
    let tables = truth(fake);
    fake.results(OWN)
        .into_iter()
        .filter(|(id, _)| tables.contains_key(id))
        .map(|(id, r)| (id, r.compliance))
        .collect()
}

fn assert_true(fake: &FakeAws, logs: &str) {
    assert_eq!(recorded(fake), truth(fake), "\n{logs}");
}

/// The demo account behind the fake, its results recorded by a first periodic pass.
async fn steady_account(last_arrival_wins: bool) -> FakeAws {
    let fake = FakeAws::start().await;
    fake.load_snapshot(&demo_snapshot());
    fake.set_last_arrival_wins(last_arrival_wins);
    let mut c = Container::start(&fake).await;
    c.deliver("periodic", scheduled());
    let outcome = c.settled().await;
    let logs = c.stop().await;
    assert!(
        matches!(outcome, Outcome::Response { .. }),
        "{outcome:?}\n{logs}"
    );
    assert_true(&fake, &logs);
    fake
}

/// Stops both containers once they answered everything; both must have succeeded, the table
/// must end `expected`, and every table true. Returns the logs.
async fn both_end_true(
    fake: &FakeAws,
    a: Container,
    b: Container,
    expected: &str,
    last_arrival_wins: bool,
) -> String {
    let (a_out, b_out) = (a.settled().await, b.settled().await);
    let logs = format!("{}\n{}", a.stop().await, b.stop().await);
    for out in [a_out, b_out] {
        assert!(matches!(out, Outcome::Response { .. }), "{out:?}\n{logs}");
    }
    assert_eq!(
        recorded(fake).get(TABLE).map(String::as_str),
        Some(expected),
        "last arrival wins: {last_arrival_wins}\n{logs}"
    );
    assert_true(fake, &logs);
    logs
}

/// Two containers over the steady account, with selection S naming the table created and
/// container A's pass over it held as it puts.
async fn a_held_at_its_put(last_arrival_wins: bool) -> (FakeAws, Container, Container, Gate) {
    let fake = steady_account(last_arrival_wins).await;
    let (mut a, b) = (Container::start(&fake).await, Container::start(&fake).await);
    fake.add_selection(OWN, REGION, PLAN, selection("s-new", json!({})));
    let held = fake.gate("PutEvaluations", 0);
    a.deliver("s-created", selection_changed("s-new"));
    held.reached().await;
    (fake, a, b, held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_pass_that_finishes_last_leaves_no_stale_verdict() {
    for last_arrival_wins in [false, true] {
        // GIVEN a selection S naming the table is created, and container A's pass over it is
        // held just as it puts the table COMPLIANT
        let (fake, a, mut b, held) = a_held_at_its_put(last_arrival_wins).await;
        // WHEN S is deleted, and container B's pass over that runs to the end (it decides the
        // table NON_COMPLIANT, which Config still keeps, and so puts nothing for it)
        fake.remove_selection(OWN, REGION, PLAN, "s-new");
        b.deliver("s-deleted", selection_changed("s-new"));
        b.settled().await;
        // AND only then A's pass goes on
        held.release();
        // THEN the table's result is the verdict of the newest catalog: NON_COMPLIANT
        both_end_true(&fake, a, b, "NON_COMPLIANT", last_arrival_wins).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_pass_that_finishes_last_leaves_no_stale_verdict() {
    for last_arrival_wins in [false, true] {
        // GIVEN container A's pass over a new selection S held as it puts
        let (fake, a, mut b, held_a) = a_held_at_its_put(last_arrival_wins).await;
        // AND S deleted, with container B's pass held as it reads what Config keeps
        fake.remove_selection(OWN, REGION, PLAN, "s-new");
        let held_b = fake.gate("GetComplianceDetailsByConfigRule", 0);
        b.deliver("s-deleted", selection_changed("s-new"));
        held_b.reached().await;
        // WHEN A finishes first, then B
        held_a.release();
        a.settled().await;
        held_b.release();
        // THEN every result is the verdict of the account as it is
        both_end_true(&fake, a, b, "NON_COMPLIANT", last_arrival_wins).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_event_during_a_pass_is_not_overwritten_by_it() {
    for last_arrival_wins in [false, true] {
        // GIVEN a selection naming the table unless it is tagged backup-exempt=true, and
        // container A's pass over it held as it re-reads the results it is about to replace
        let fake = steady_account(last_arrival_wins).await;
        let (mut a, mut b) = (Container::start(&fake).await, Container::start(&fake).await);
        let exempt = json!({"StringNotEquals": [
            {"ConditionKey": "aws:ResourceTag/backup-exempt", "ConditionValue": "true"}]});
        fake.add_selection(OWN, REGION, PLAN, selection("s-unless-exempt", exempt));
        let held = fake.gate("GetComplianceDetailsByResource", 0);
        a.deliver("s-created", selection_changed("s-unless-exempt"));
        held.reached().await;
        // WHEN, meanwhile, the table is tagged exempt and its change event runs in container B
        let tags = json!([{"Key": "backup-exempt", "Value": "true"}]);
        fake.set_tags(OWN, REGION, TABLE, tags);
        b.deliver(
            "tagged",
            table_changed(TABLE, json!({"backup-exempt": "true"})),
        );
        b.settled().await;
        held.release();
        // THEN the pass, which read the table untagged, does not replace the newer result
        let logs = both_end_true(&fake, a, b, "NON_COMPLIANT", last_arrival_wins).await;
        assert!(
            logs.contains("a newer result is recorded; not replaced"),
            "{logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_delivery_to_two_containers_records_each_verdict_once() {
    for last_arrival_wins in [false, true] {
        // GIVEN a new selection naming the table, whose event Config delivers twice, to two
        // containers at once
        let fake = steady_account(last_arrival_wins).await;
        let before = fake.puts().len();
        let (mut a, mut b) = (Container::start(&fake).await, Container::start(&fake).await);
        fake.add_selection(OWN, REGION, PLAN, selection("s-new", json!({})));
        let event = selection_changed("s-new");
        // Both read what Config keeps before either puts.
        let held = fake.gate("GetComplianceDetailsByResource", 1);
        a.deliver("first", event.clone());
        b.deliver("again", event);
        held.reached().await;
        // WHEN the first to re-read puts, and then the second re-reads
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.release();
        // THEN the table is COMPLIANT, recorded once: the second saw the first's result
        let logs = both_end_true(&fake, a, b, "COMPLIANT", last_arrival_wins).await;
        let puts_of_table = fake.puts()[before..]
            .iter()
            .flat_map(|p| &p.evaluations)
            .filter(|e| e["ComplianceResourceId"] == TABLE)
            .count();
        assert_eq!(puts_of_table, 1, "{logs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_invocation_finishes_what_the_failed_one_started() {
    // GIVEN 150 more tables, new to the rule, and a PutEvaluations that fails after the first
    // batch of 100 was taken
    let fake = steady_account(false).await;
    fake.add_tables(OWN, REGION, crate::util::prod_tagged_tables("more", 150));
    fake.fail_later(
        "PutEvaluations",
        1,
        crate::util::fake_aws::Fault::AccessDenied,
        1,
    );
    let mut c = Container::start(&fake).await;
    // WHEN the periodic pass fails, and Lambda delivers it again
    c.deliver("periodic", scheduled());
    let failed = c.settled().await;
    assert!(matches!(failed, Outcome::Error { .. }), "{failed:?}");
    let before = fake.puts().len();
    c.deliver("periodic-retry", scheduled());
    let retried = c.settled().await;
    let logs = c.stop().await;
    assert!(
        matches!(retried, Outcome::Response { .. }),
        "{retried:?}\n{logs}"
    );
    // THEN every table holds its true verdict, and the retry put only what the first attempt
    // had not
    assert_true(&fake, &logs);
    let again: usize = fake.puts()[before..]
        .iter()
        .map(|p| p.evaluations.len())
        .sum();
    assert_eq!(again, 50, "{logs}");
}

/// A small deterministic generator for the simulation (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Every table's (compliance, annotation, covering selections) for the account as it is.
fn truth_in_full(fake: &FakeAws) -> BTreeMap<String, (String, String, Vec<String>)> {
    let snap = snapshot::parse(&fake.snapshot(OWN).to_string()).expect("the fake's account");
    rule::evaluate_snapshot(&snap, &RuleParameters::default(), chrono::Utc::now())
        .into_iter()
        .filter(|e| e.table.arn.region == REGION)
        .map(|e| {
            let covering = e
                .verdict
                .covered_by
                .iter()
                .map(|c| c.selection_id.clone())
                .collect();
            (
                e.table.name.clone(),
                (
                    e.verdict.compliance.as_str().to_string(),
                    e.verdict.annotation(),
                    covering,
                ),
            )
        })
        .collect()
}

fn table_doc(name: &str, tags: &[(&str, &str)]) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    json!({"TableName": name, "TableArn": format!("arn:aws:dynamodb:{REGION}:{OWN}:table/{name}"),
        "TableStatus": "ACTIVE", "Tags": tags})
}

fn tags_object(tags: &[(&str, &str)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

/// A deleted table's change event.
fn table_deleted(name: &str) -> Value {
    let mut invoking = table_change(OWN, REGION, name, None, "ACTIVE");
    invoking["configurationItem"]["configurationItemCaptureTime"] = json!(now());
    invoking["configurationItem"]["configurationItemStatus"] = json!("ResourceDeleted");
    config_event(&invoking, &json!({}), "table-token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_weeks_of_a_changing_account_end_every_day_true_and_cheap() {
    // GIVEN the demo account plus 30 tables, its results recorded, and two containers
    let fake = steady_account(false).await;
    let extra: Vec<Value> = (0..30)
        .map(|i| {
            let env = if i % 3 == 0 { "prod" } else { "dev" };
            table_doc(&format!("app-{i:02}"), &[("env", env)])
        })
        .collect();
    fake.add_tables(OWN, REGION, extra);
    let mut a = Container::start(&fake).await;
    let mut b = Container::start(&fake).await;
    a.deliver("day-0", scheduled());
    a.settled().await;
    let mut rng = Rng(0x2026_1207);
    let mut live: Vec<String> = (0..30).map(|i| format!("app-{i:02}")).collect();
    let mut created_selections: Vec<String> = Vec::new();
    let mut next_table = 30;
    let mut report = Vec::new();
    for day in 1..=14 {
        let before = truth_in_full(&fake);
        let puts_before = fake.puts().len();
        let recorder_stopped = (6..=7).contains(&day);
        if day == 6 {
            fake.set_recorder_status(
                OWN,
                REGION,
                json!([{"name": "default", "recording": false, "lastStatus": "SUCCESS"}]),
            );
        }
        if day == 8 {
            fake.set_recorder_status(
                OWN,
                REGION,
                json!([{"name": "default", "recording": true, "lastStatus": "SUCCESS"}]),
            );
        }
        if day == 11 {
            fake.freeze_config_inventory(OWN, REGION);
        }
        if day == 12 {
            fake.unfreeze_config_inventory(OWN, REGION);
        }
        // The day's changes, and the events Config would send for them.
        let mut events: Vec<Value> = Vec::new();
        let mut touched: std::collections::BTreeSet<String> = Default::default();
        for _ in 0..(4 + rng.below(5)) {
            match rng.below(6) {
                0 => {
                    let name = format!("app-{next_table:02}");
                    next_table += 1;
                    let tags = [("env", if rng.below(2) == 0 { "prod" } else { "dev" })];
                    fake.add_tables(OWN, REGION, vec![table_doc(&name, &tags)]);
                    events.push(table_changed(&name, tags_object(&tags)));
                    touched.insert(name.clone());
                    live.push(name);
                }
                1 if live.len() > 5 => {
                    let name = live.remove(rng.below(live.len()));
                    fake.drop_table(OWN, REGION, &name);
                    events.push(table_deleted(&name));
                    touched.insert(name);
                }
                2 if !live.is_empty() => {
                    let name = live[rng.below(live.len())].clone();
                    let tags: Vec<(&str, &str)> = match rng.below(3) {
                        0 => vec![("env", "prod")],
                        1 => vec![("env", "prod"), ("backup-exempt", "true")],
                        _ => vec![("env", "dev")],
                    };
                    let list: Vec<Value> = tags
                        .iter()
                        .map(|(k, v)| json!({"Key": k, "Value": v}))
                        .collect();
                    fake.set_tags(OWN, REGION, &name, json!(list));
                    events.push(table_changed(&name, tags_object(&tags)));
                    touched.insert(name);
                }
                3 if !live.is_empty() => {
                    let id = format!("sim-{day}-{}", rng.below(1000));
                    let target = live[rng.below(live.len())].clone();
                    fake.add_selection(OWN, REGION, PLAN, json!({"SelectionId": id,
                        "BackupSelection": {"SelectionName": id, "IamRoleArn": format!("arn:aws:iam::{OWN}:role/backup"),
                            "Resources": [format!("arn:aws:dynamodb:{REGION}:{OWN}:table/{target}")]}}));
                    events.push(selection_changed(&id));
                    created_selections.push(id);
                }
                4 if !created_selections.is_empty() => {
                    let id = created_selections.remove(rng.below(created_selections.len()));
                    fake.remove_selection(OWN, REGION, PLAN, &id);
                    events.push(selection_changed(&id));
                }
                _ => {}
            }
        }
        match day {
            3 | 10 => {
                fake.set_dynamodb_opt_in(OWN, REGION, day == 10);
                // Opt-in is a Region setting, not a recorded resource: no event; the periodic
                // pass picks it up.
            }
            5 => {
                fake.delete_plan(OWN, REGION, "e5f6a7b8-5555-4c9d-8e0f-4a5b6c7d8e9f");
                events.push(config_event(
                    &backup_change(
                        OWN,
                        "AWS::Backup::BackupPlan",
                        "e5f6a7b8-5555-4c9d-8e0f-4a5b6c7d8e9f",
                        &now(),
                    ),
                    &json!({}),
                    "backup-token",
                ));
            }
            9 => fake.delete_vault(OWN, REGION, "Default"),
            _ => {}
        }
        // A stopped recorder sends no table events; duplicates and reordering otherwise.
        if recorder_stopped {
            events.retain(|e| {
                !e["invokingEvent"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("AWS::DynamoDB::Table")
            });
        }
        let n = events.len();
        for i in 0..n {
            if rng.below(4) == 0 {
                events.push(events[i].clone());
            }
        }
        for i in (1..events.len()).rev() {
            events.swap(i, rng.below(i + 1));
        }
        let delivered = events.len();
        for (i, e) in events.into_iter().enumerate() {
            let c = if rng.below(2) == 0 { &mut a } else { &mut b };
            c.deliver(&format!("day{day}-{i}"), e);
        }
        let (ao, bo) = (a.settled().await, b.settled().await);
        // WHEN the day's periodic pass runs
        a.deliver(&format!("day{day}-periodic"), scheduled());
        let po = a.settled().await;
        // THEN no invocation failed, and every table holds its true verdict
        let all: Vec<Outcome> =
            a.rt.wait_for(a.answered, WAIT)
                .await
                .into_iter()
                .chain(b.rt.wait_for(b.answered, WAIT).await)
                .collect();
        let failed: Vec<&Outcome> = all
            .iter()
            .filter(|o| !matches!(o, Outcome::Response { .. }))
            .collect();
        assert!(
            failed.is_empty(),
            "day {day}: {failed:?} {ao:?} {bo:?} {po:?}"
        );
        let after = truth_in_full(&fake);
        let results = fake.results(OWN);
        for (name, (compliance, _, _)) in &after {
            assert_eq!(
                results.get(name).map(|r| r.compliance.as_str()),
                Some(compliance.as_str()),
                "day {day}: table {name}"
            );
        }
        for (name, r) in &results {
            if r.resource_type == "AWS::DynamoDB::Table" && !after.contains_key(name) {
                assert_eq!(
                    r.compliance, "NOT_APPLICABLE",
                    "day {day}: gone table {name}"
                );
            }
        }
        // AND the day recorded no more than the bound
        let changed = after
            .iter()
            .filter(|(k, v)| before.get(*k).is_none_or(|b| b.0 != v.0 || b.2 != v.2))
            .count()
            + before.keys().filter(|k| !after.contains_key(*k)).count()
            + touched.len();
        let recorded_today: usize = fake.puts()[puts_before..]
            .iter()
            .filter(|p| !p.test_mode)
            .map(|p| p.evaluations.len())
            .sum();
        let bound = delivered + changed + 10;
        report.push(format!(
            "day {day}: {delivered} events, {changed} tables changed, {recorded_today} evaluations (bound {bound})"
        ));
        assert!(recorded_today <= bound, "{}", report.join("\n"));
        // A day passes.
        fake.age_results(OWN, 86_400.0);
    }
    // AND a quiet day records nothing (no refresh comes due within two weeks)
    let puts_before = fake.puts().len();
    a.deliver("quiet-day", scheduled());
    let quiet = a.settled().await;
    assert!(matches!(quiet, Outcome::Response { .. }), "{quiet:?}");
    let recorded_quiet: usize = fake.puts()[puts_before..]
        .iter()
        .map(|p| p.evaluations.len())
        .sum();
    assert_eq!(recorded_quiet, 0);
    let logs = format!("{}\n{}", a.stop().await, b.stop().await);
    eprintln!("{}", report.join("\n"));
    assert!(!logs.contains("\"level\":\"ERROR\""), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_that_decides_again_still_answers_for_its_backup_resource() {
    // GIVEN a new selection naming the table, and the pass over its change held as it
    // revalidates the catalog before putting
    let fake = steady_account(false).await;
    let mut a = Container::start(&fake).await;
    fake.add_selection(OWN, REGION, PLAN, selection("s-new", json!({})));
    let held = fake.gate("DescribeRegionSettings", 1);
    a.deliver("s-created", selection_changed("s-new"));
    held.reached().await;
    // WHEN meanwhile another selection is created, so the pass decides again
    fake.add_selection(
        OWN,
        REGION,
        PLAN,
        json!({"SelectionId": "s-users", "BackupSelection": {"SelectionName": "users-too",
            "IamRoleArn": format!("arn:aws:iam::{OWN}:role/backup"),
            "Resources": [format!("arn:aws:dynamodb:{REGION}:{OWN}:table/users")]}}),
    );
    held.release();
    let out = a.settled().await;
    let logs = a.stop().await;
    assert!(matches!(out, Outcome::Response { .. }), "{out:?}\n{logs}");
    // THEN it put the newer catalog's verdicts, and the selection's own result all the same
    assert!(logs.contains("deciding again"), "{logs}");
    assert_true(&fake, &logs);
    let results = fake.results(OWN);
    let own = results.get("s-new").expect("the selection's own result");
    assert_eq!(
        (own.resource_type.as_str(), own.compliance.as_str()),
        ("AWS::Backup::BackupSelection", "NOT_APPLICABLE")
    );
}
