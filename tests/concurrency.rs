//! Config invokes the function concurrently, and Lambda retries. Two release-shaped Lambda
//! containers (two binaries, two Runtime API servers) run against one fake, and the fake holds
//! chosen requests until the test releases them, so each interleaving that matters happens
//! exactly: both finish orders of two overlapping passes, a table event during a pass,
//! duplicate deliveries, and the retry of a failed invocation. Each runs twice: with the fake
//! keeping the result of the newest `OrderingTimestamp`, and with it keeping the last to arrive
//! (Config documents neither). Afterwards every table's recorded result must be the verdict of
//! the account as it finally is, decided from scratch.

use crate::lambda::{spawn_lambda, stop, Lambda};
use crate::util::fake_aws::FakeAws;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_pass_that_finishes_last_leaves_no_stale_verdict() {
    for last_arrival_wins in [false, true] {
        // GIVEN a selection S naming the table is created, and container A's pass over it is
        // held just as it puts the table COMPLIANT
        let fake = steady_account(last_arrival_wins).await;
        let (mut a, mut b) = (Container::start(&fake).await, Container::start(&fake).await);
        fake.add_selection(OWN, REGION, PLAN, selection("s-new", json!({})));
        let held = fake.gate("PutEvaluations", 0);
        a.deliver("s-created", selection_changed("s-new"));
        held.reached().await;
        // WHEN S is deleted, and container B's pass over that runs to the end (it decides the
        // table NON_COMPLIANT, which Config still keeps, and so puts nothing for it)
        fake.remove_selection(OWN, REGION, PLAN, "s-new");
        b.deliver("s-deleted", selection_changed("s-new"));
        let b_out = b.settled().await;
        // AND only then A's pass goes on
        held.release();
        let a_out = a.settled().await;
        let logs = format!("{}\n{}", a.stop().await, b.stop().await);
        assert!(
            matches!(a_out, Outcome::Response { .. }),
            "{a_out:?}\n{logs}"
        );
        assert!(
            matches!(b_out, Outcome::Response { .. }),
            "{b_out:?}\n{logs}"
        );
        // THEN the table's result is the verdict of the newest catalog: NON_COMPLIANT
        assert_eq!(
            recorded(&fake).get(TABLE).map(String::as_str),
            Some("NON_COMPLIANT"),
            "last arrival wins: {last_arrival_wins}\n{logs}"
        );
        assert_true(&fake, &logs);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_pass_that_finishes_last_leaves_no_stale_verdict() {
    for last_arrival_wins in [false, true] {
        // GIVEN container A's pass over a new selection S held as it puts
        let fake = steady_account(last_arrival_wins).await;
        let (mut a, mut b) = (Container::start(&fake).await, Container::start(&fake).await);
        fake.add_selection(OWN, REGION, PLAN, selection("s-new", json!({})));
        let held_a = fake.gate("PutEvaluations", 0);
        a.deliver("s-created", selection_changed("s-new"));
        held_a.reached().await;
        // AND S deleted, with container B's pass held as it reads what Config keeps
        fake.remove_selection(OWN, REGION, PLAN, "s-new");
        let held_b = fake.gate("GetComplianceDetailsByConfigRule", 0);
        b.deliver("s-deleted", selection_changed("s-new"));
        held_b.reached().await;
        // WHEN A finishes first, then B
        held_a.release();
        let a_out = a.settled().await;
        held_b.release();
        let b_out = b.settled().await;
        let logs = format!("{}\n{}", a.stop().await, b.stop().await);
        assert!(
            matches!(a_out, Outcome::Response { .. }),
            "{a_out:?}\n{logs}"
        );
        assert!(
            matches!(b_out, Outcome::Response { .. }),
            "{b_out:?}\n{logs}"
        );
        // THEN every result is the verdict of the account as it is
        assert_eq!(
            recorded(&fake).get(TABLE).map(String::as_str),
            Some("NON_COMPLIANT"),
            "last arrival wins: {last_arrival_wins}\n{logs}"
        );
        assert_true(&fake, &logs);
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
        let b_out = b.settled().await;
        held.release();
        let a_out = a.settled().await;
        let logs = format!("{}\n{}", a.stop().await, b.stop().await);
        assert!(
            matches!(a_out, Outcome::Response { .. }),
            "{a_out:?}\n{logs}"
        );
        assert!(
            matches!(b_out, Outcome::Response { .. }),
            "{b_out:?}\n{logs}"
        );
        // THEN the pass, which read the table untagged, does not replace the newer result
        assert_eq!(
            recorded(&fake).get(TABLE).map(String::as_str),
            Some("NON_COMPLIANT"),
            "last arrival wins: {last_arrival_wins}\n{logs}"
        );
        assert!(
            logs.contains("a newer result is recorded; not replaced"),
            "{logs}"
        );
        assert_true(&fake, &logs);
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
        let (a_out, b_out) = (a.settled().await, b.settled().await);
        let logs = format!("{}\n{}", a.stop().await, b.stop().await);
        assert!(
            matches!(a_out, Outcome::Response { .. }),
            "{a_out:?}\n{logs}"
        );
        assert!(
            matches!(b_out, Outcome::Response { .. }),
            "{b_out:?}\n{logs}"
        );
        // THEN the table is COMPLIANT, recorded once: the second saw the first's result
        assert_eq!(
            recorded(&fake).get(TABLE).map(String::as_str),
            Some("COMPLIANT")
        );
        let puts_of_table = fake.puts()[before..]
            .iter()
            .flat_map(|p| &p.evaluations)
            .filter(|e| e["ComplianceResourceId"] == TABLE)
            .count();
        assert_eq!(puts_of_table, 1, "{logs}");
        assert_true(&fake, &logs);
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
