//! `--format asff --batch-dir`: Security Hub takes at most 100 findings a call, all of the call's
//! Region, and a large account's findings do not fit on a command line. The tool writes batch
//! files, and the loop the docs show imports them with the real AWS CLI into a fake Security Hub
//! that refuses what Security Hub refuses.

use crate::util::fake_aws::{FakeAws, BASE_ACCESS_KEY, BASE_SECRET};
use crate::util::synth::{generate, SynthConfig};
use crate::util::{aws_bin, cli, demo_snapshot, stderr, stdout};
use serde_json::Value;
use std::collections::BTreeMap;

/// The import loop as the docs print it: the `for` loop of the shell block that calls
/// `batch-import-findings`, in README.md or a page of docs/, so the docs cannot drift from what
/// is tested.
fn docs_loop() -> String {
    for page in crate::util::doc_pages() {
        let text = std::fs::read_to_string(&page).unwrap_or_default();
        let Some(at) = text.find("aws securityhub batch-import-findings") else {
            continue;
        };
        let start = text[..at]
            .rfind("for f in")
            .expect("the import loop starts with `for f in`");
        let end = at
            + text[at..]
                .find("done")
                .expect("the import loop ends with `done`")
            + 4;
        // The docs indent the block inside a list item.
        return text[start..end]
            .lines()
            .map(str::trim_start)
            .collect::<Vec<_>>()
            .join("\n");
    }
    panic!("no page of the docs shows the batch-import-findings loop");
}

async fn import(fake: &FakeAws, dir: &std::path::Path) {
    let out = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(docs_loop())
        .env_clear()
        .env("DIR", dir)
        .env("PATH", format!("{}:/usr/bin:/bin", aws_bin().display()))
        .env("HOME", dir)
        .env("AWS_ENDPOINT_URL", fake.url())
        .env("AWS_ACCESS_KEY_ID", BASE_ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .await
        .expect("bash runs");
    assert!(out.status.success(), "{}", stderr(&out));
}

fn batches(snapshot: &Value, dir: &std::path::Path) -> BTreeMap<String, usize> {
    let file = dir.join("account.json");
    std::fs::write(&file, snapshot.to_string()).unwrap();
    let out = cli(&[
        "evaluate",
        "--snapshot",
        file.to_str().unwrap(),
        "--format",
        "asff",
        "--batch-dir",
        dir.join("batches").to_str().unwrap(),
    ]);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("wrote "), "{}", stdout(&out));
    // Every file: a JSON list of 1 to 100 findings, all of the Region its name says.
    let mut per_region = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("batches")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let region = name
            .trim_start_matches("findings-")
            .rsplit_once('-')
            .unwrap()
            .0
            .to_string();
        let list: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!((1..=100).contains(&list.len()), "{name}: {}", list.len());
        for f in &list {
            assert_eq!(f["Resources"][0]["Region"], region.as_str(), "{name}");
        }
        *per_region.entry(region).or_default() += list.len();
    }
    per_region
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_region_account_is_split_by_region_and_imported() {
    let dir = std::env::temp_dir().join(format!("ddb-asff-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let demo = demo_snapshot();
    let per_region = batches(&demo, &dir);
    let tables: BTreeMap<String, usize> = demo["Regions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(r, v)| (r.clone(), v["Tables"].as_array().unwrap().len()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(per_region, tables);
    let fake = FakeAws::start().await;
    import(&fake, &dir.join("batches")).await;
    let imported: usize = fake
        .writes()
        .iter()
        .filter(|w| w.op == "BatchImportFindings")
        .map(|w| w.body["Count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(imported, tables.values().sum::<usize>());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_tables_import_in_calls_of_at_most_one_hundred() {
    // GIVEN the 10,000-table account
    let dir = std::env::temp_dir().join(format!("ddb-asff-10k-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let account = serde_json::to_value(generate(SynthConfig {
        tables: 10_000,
        selections: 1_000,
        seed: 5,
        adversarial: false,
    }))
    .unwrap();
    // WHEN it is exported in batches and imported with the docs' loop
    let per_region = batches(&account, &dir);
    assert_eq!(per_region.values().sum::<usize>(), 10_000);
    let fake = FakeAws::start().await;
    import(&fake, &dir.join("batches")).await;
    // THEN every finding arrives once, in calls Security Hub accepts
    let calls: Vec<_> = fake
        .writes()
        .into_iter()
        .filter(|w| w.op == "BatchImportFindings")
        .collect();
    assert_eq!(calls.len(), 100);
    let mut ids: Vec<String> = calls
        .iter()
        .flat_map(|w| w.body["Ids"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10_000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn batch_files_need_the_asff_format() {
    let out = cli(&[
        "evaluate",
        "--snapshot",
        "testdata/snapshots/demo-account.json",
        "--format",
        "json",
        "--batch-dir",
        "/tmp/never-written",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--batch-dir"), "{}", stderr(&out));
    assert!(!std::path::Path::new("/tmp/never-written").exists());
}
