//! Measures the Lambda binary as deployed code runs: cold start to the first PutEvaluations,
//! peak RSS, requests per event, and the stripped release binary's size. It uses the same
//! loopback Runtime API and fake AWS endpoint as the tests.
//!
//! `cargo bench --bench lambda` prints the numbers recorded in the README.

#[path = "../tests/util/mod.rs"]
mod util;

use serde_json::json;
use std::time::{Duration, Instant};
use util::fake_aws::FakeAws;
use util::runtime_api::RuntimeApi;

const BIN: &str = env!("CARGO_BIN_EXE_dynamodb-backup-rule-lambda");

fn spawn(rt: &RuntimeApi, fake: &FakeAws) -> tokio::process::Child {
    tokio::process::Command::new(BIN)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", rt.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "dynamodb-backup-rule")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .envs(util::fake_aws_vars(fake))
        .env("AWS_LAMBDA_LOG_LEVEL", "WARN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("lambda binary")
}

/// Peak resident set size of a live process, from /proc.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn event(name: &str) -> serde_json::Value {
    util::config_event(
        &util::table_change(
            "111122223333",
            "us-east-1",
            name,
            Some(json!({"env": "prod", "team": "commerce"})),
            "ACTIVE",
        ),
        &json!({}),
        "token",
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Cold starts: process start -> first change event evaluated -> PutEvaluations at the fake.
    let runs = 20;
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for i in 0..runs {
        let fake = FakeAws::start().await;
        fake.load_snapshot(&util::demo_snapshot());
        let rt = RuntimeApi::start().await;
        rt.push(&format!("cold-{i}"), event("orders"));
        let start = Instant::now();
        let child = spawn(&rt, &fake);
        let pid = child.id().expect("pid");
        while fake.count("PutEvaluations") == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no PutEvaluations"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        rt.wait_for(1, Duration::from_secs(5)).await;
        rss.push(peak_rss_kib(pid).unwrap_or_default() as f64 / 1024.0);
        drop(child);
    }
    println!(
        "cold start to first PutEvaluations, median of {runs}: {:.1} ms (min {:.1}, max {:.1})",
        median(times.clone()),
        times.iter().cloned().fold(f64::MAX, f64::min),
        times.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "peak RSS after the first event, median of {runs}: {:.1} MiB",
        median(rss)
    );

    // Requests per event: 1 event, then 1,000 in one warm process.
    for n in [1usize, 1000] {
        let fake = FakeAws::start().await;
        fake.load_snapshot(&util::demo_snapshot());
        let rt = RuntimeApi::start().await;
        for i in 0..n {
            rt.push(
                &format!("burst-{i}"),
                event(["orders", "users", "metrics", "feature-flags"][i % 4]),
            );
        }
        let start = Instant::now();
        let child = spawn(&rt, &fake);
        let outcomes = rt.wait_for(n, Duration::from_secs(120)).await;
        let elapsed = start.elapsed();
        let pid = child.id().expect("pid");
        let peak = peak_rss_kib(pid).unwrap_or_default();
        drop(child);
        let puts = fake.count("PutEvaluations");
        let total = fake.log().len();
        println!(
            "{n} change event(s) in one process: {} answered in {:.0} ms, {} requests = {} catalog reads ({} backup) + {} PutEvaluations; peak RSS {:.1} MiB",
            outcomes.len(),
            elapsed.as_secs_f64() * 1000.0,
            total,
            total - puts,
            fake.backup_requests(),
            puts,
            peak as f64 / 1024.0
        );
    }

    // Size of the release binary as built, and stripped.
    let size = std::fs::metadata(BIN).map(|m| m.len()).unwrap_or_default();
    let stripped = std::env::temp_dir().join("dynamodb-backup-rule-lambda.stripped");
    let ok = std::process::Command::new("strip")
        .arg("-o")
        .arg(&stripped)
        .arg(BIN)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let stripped_size = if ok {
        std::fs::metadata(&stripped)
            .map(|m| m.len())
            .unwrap_or_default()
    } else {
        0
    };
    println!(
        "lambda binary (x86_64, bench profile): {:.1} MiB, stripped {:.1} MiB",
        size as f64 / 1048576.0,
        stripped_size as f64 / 1048576.0
    );
}
