//! The CloudFormation hook against the fake AWS endpoint at the template's defaults (AWS Backup
//! reads paced at 20 a second, AWS's page sizes), on the project's 600-selection benchmark
//! account (`gen_snapshot.py 300 600 33 30 1`): a cold container, which reads the catalog across
//! as many invocations as it needs (answering IN_PROGRESS with what it read kept), then warm
//! calls served from the catalog cache, as a stack of many tables makes them.
//!
//! `cargo bench --bench hook` prints the numbers recorded in docs/hook.md.

#[path = "shared_gen.rs"]
mod shared_gen;
#[path = "../tests/util/mod.rs"]
mod util;

use dynamodb_backup_rule::aws::Settings;
use dynamodb_backup_rule::rule::hook::{handle_hook, parse_request};
use serde_json::json;
use std::time::{Duration, Instant};
use util::fake_aws::FakeAws;

fn request(invocation: u64, name: &str, env: &str) -> serde_json::Value {
    json!({
        "clientRequestToken": "bench", "awsAccountId": "111122223333",
        "stackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/shop/0f4e3c10",
        "hookTypeName": "Private::Backup::DynamoDBProtection",
        "actionInvocationPoint": "CREATE_PRE_PROVISION",
        "requestData": {"targetName": "AWS::DynamoDB::Table", "targetType": "AWS::DynamoDB::Table",
            "targetLogicalId": "Orders",
            "targetModel": {"resourceProperties": {"TableName": name,
                "Tags": [{"Key": "team", "Value": "orders"}, {"Key": "env", "Value": env}]}}},
        "requestContext": {"invocation": invocation}
    })
}

/// One hook invocation with the hook's 30 s, less the 5 s the function keeps for answering, and
/// the Lambda's fix finder.
async fn call(
    env: &dynamodb_backup_rule::aws::AwsEnv,
    params: &dynamodb_backup_rule::params::RuleParameters,
    invocation: u64,
    name: &str,
    tag_env: &str,
) -> serde_json::Value {
    let req = parse_request(&request(invocation, name, tag_env)).expect("request");
    let fix = |t: &dynamodb_backup_rule::model::Table,
               c: &dynamodb_backup_rule::model::RegionCatalog| {
        dynamodb_backup_rule::remedy::proposed::proposed_fix(params, t, c, chrono::Utc::now())
    };
    handle_hook(
        &req,
        params,
        env,
        None,
        Instant::now() + Duration::from_secs(25),
        &fix,
    )
    .await
}

async fn run(args: &[&str]) {
    let Some(account) = shared_gen::shared_account_json(args) else {
        println!(
            "gen_snapshot.py {}: python3 is not here; skipped",
            args.join(" ")
        );
        return;
    };
    let account: serde_json::Value = serde_json::from_str(&account).expect("JSON");
    let fake = FakeAws::start().await;
    fake.load_snapshot(&account);
    fake.set_page_size(1_000);
    let env = util::aws_env(&fake, Settings::default()).await;
    let params = dynamodb_backup_rule::params::RuleParameters::default();
    let label = format!("gen_snapshot.py {}", args.join(" "));

    // Cold: as many invocations as the catalog needs, at most CloudFormation's three.
    let mut invocation = 1;
    let cold = Instant::now();
    let mut status;
    loop {
        let start = Instant::now();
        let answer = call(&env, &params, invocation, "prod-orders-new", "prod").await;
        println!(
            "{label}: cold invocation {invocation}: {} in {:.1} s, {} AWS Backup reads so far",
            answer["hookStatus"],
            start.elapsed().as_secs_f64(),
            fake.backup_requests()
        );
        status = answer["hookStatus"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if answer["hookStatus"] != "IN_PROGRESS" || invocation >= 3 {
            break;
        }
        invocation += 1;
    }
    println!(
        "{label}: cold answer after {:.1} s in all",
        cold.elapsed().as_secs_f64()
    );
    if status == "FAILED" {
        println!(
            "{label}: the catalog needs more than CloudFormation's three invocations at this pace"
        );
        return;
    }

    // Warm: 50 tables of one stack, as CloudFormation calls the hook once per table.
    let before = fake.backup_requests();
    let warm = Instant::now();
    for i in 0..50 {
        // NON_COMPLIANT (env=dev): each answer also finds and verifies a fix.
        let _ = call(&env, &params, 1, &format!("prod-orders-{i}"), "dev").await;
    }
    println!(
        "{label}: warm: 50 tables in {:.1} ms ({:.2} ms each), {} AWS Backup reads",
        warm.elapsed().as_secs_f64() * 1000.0,
        warm.elapsed().as_secs_f64() * 1000.0 / 50.0,
        fake.backup_requests() - before
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    run(&["300", "600", "33", "30", "1"]).await;
    run(&["10000", "3000", "5", "30", "1"]).await;
}
