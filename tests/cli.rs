//! The CLI end to end on real files: golden output for the demo account, exit statuses, and a
//! clear message with status 2 for every kind of bad input.

use crate::util::{cli, repo_path, stderr, stdout};

const DEMO: &str = "testdata/snapshots/demo-account.json";

/// Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it after a reviewed change.
fn assert_golden(name: &str, actual: &str) {
    let path = repo_path(&format!("testdata/expected/{name}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        actual == expected,
        "output differs from {}; rerun with UPDATE_GOLDEN=1 after review\n--- actual ---\n{actual}",
        path.display()
    );
}

#[test]
fn evaluate_json_on_the_demo_account_matches_golden_and_exits_3() {
    // GIVEN the demo account, which has non-compliant tables
    let out = cli(&["evaluate", "--snapshot", DEMO, "--format", "json"]);
    // THEN the evaluations match the reviewed output and the exit status says non-compliant
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_golden("demo-evaluate.json", &stdout(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    let evaluations = doc["Evaluations"].as_array().expect("Evaluations");
    assert_eq!(evaluations.len(), 16);
    for e in evaluations {
        assert_eq!(e["ComplianceResourceType"], "AWS::DynamoDB::Table");
        let annotation = e["Annotation"].as_str().expect("annotation");
        assert!(
            !annotation.is_empty() && annotation.len() <= 256,
            "{annotation}"
        );
    }
}

#[test]
fn evaluate_text_is_an_aligned_table_with_a_summary() {
    let out = cli(&["evaluate", "--snapshot", DEMO]);
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("TABLE")
            && lines[0].contains("REGION")
            && lines[0].ends_with("REASON")
    );
    let reason_col = lines[0].find("REASON").unwrap();
    for row in &lines[1..17] {
        assert!(
            row[reason_col..].starts_with("covered by") || row[reason_col..].starts_with("not "),
            "misaligned: {row}"
        );
    }
    // The summary line, then the top causes of the NON_COMPLIANT tables.
    assert!(
        lines.contains(&"6 compliant, 9 non-compliant, 1 not applicable (16 tables)"),
        "{lines:?}"
    );
    assert!(lines.contains(&"top causes of NON_COMPLIANT:"));
}

#[test]
fn evaluate_exits_0_when_nothing_is_non_compliant() {
    let out = cli(&[
        "evaluate",
        "--snapshot",
        "testdata/snapshots/all-covered.json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 compliant, 0 non-compliant, 1 not applicable"));
}

#[test]
fn explain_walks_every_selection_and_matches_golden() {
    let out = cli(&[
        "explain",
        "--snapshot",
        DEMO,
        "--table",
        "orders-archive",
        "--all",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_golden("demo-explain-orders-archive.txt", &stdout(&out));

    let arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/customers";
    let out = cli(&[
        "explain",
        "--snapshot",
        DEMO,
        "--table",
        arn,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert_golden("demo-explain-customers-eu.json", &stdout(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["Selections"].as_array().unwrap().len(), 5);
    assert_eq!(doc["Verdict"]["ReasonKind"], "NotOptedIn");
}

#[test]
fn explain_exit_status_follows_the_verdict() {
    let arn = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
    let out = cli(&["explain", "--snapshot", DEMO, "--table", arn]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("verdict: COMPLIANT"));
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "sessions"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("table status is CREATING"));
}

#[test]
fn explain_refuses_unknown_and_ambiguous_table_names() {
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("table `nope` is not in the snapshot"),
        "{}",
        stderr(&out)
    );
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "orders"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is in several Regions"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_input_gets_a_clear_message_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["evaluate", "--snapshot", "testdata/snapshots/bad/invalid-json.json"], "EOF while parsing"),
        (&["evaluate", "--snapshot", "testdata/snapshots/bad/wrong-type.json"], "Regions.us-east-1.Tables: invalid type: map, expected a sequence"),
        (
            &["evaluate", "--snapshot", "testdata/snapshots/bad/missing-condition-key.json"],
            "Regions.us-east-1.BackupPlans[0].Selections[0].BackupSelection.Conditions.StringLike[0]: missing field `ConditionKey`",
        ),
        (&["evaluate", "--snapshot", "testdata/snapshots/bad/missing-table-arn.json"], "Regions.us-east-1.Tables[0]: missing field `TableArn`"),
        (&["evaluate", "--snapshot", "testdata/snapshots/bad/not-a-table-arn.json"], "Tables[0].TableArn: expected a DynamoDB table ARN"),
        (&["evaluate", "--snapshot", "testdata/snapshots/does-not-exist.json"], "cannot read testdata/snapshots/does-not-exist.json"),
        (&["evaluate", "--snapshot", DEMO, "--format", "yaml"], "invalid value 'yaml' for '--format"),
        (&["evaluate"], "--snapshot <FILE>"),
        (&["evaluate", "--snapshot", DEMO, "--loud"], "unexpected argument '--loud'"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
    ];
    for (args, message) in cases {
        let out = cli(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(message),
            "{args:?}: expected `{message}` in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
        assert!(
            stdout(&out).is_empty(),
            "{args:?} printed results despite the error"
        );
    }
}

#[test]
fn help_shows_examples_for_each_command() {
    for cmd in ["evaluate", "explain"] {
        let out = cli(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert!(
            text.contains("Examples:")
                && text.contains(&format!("dynamodb-backup-rule {cmd} --snapshot")),
            "{text}"
        );
        assert!(text.contains("Exit status"), "{text}");
    }
}

#[test]
fn a_mistyped_snapshot_key_is_an_error_never_a_silent_change_of_verdict() {
    // GIVEN the demo snapshot with `Conditions` mistyped as `Condition` in `prod-tables`
    let text = std::fs::read_to_string(repo_path("testdata/snapshots/demo-account.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sel =
        &mut doc["Regions"]["us-east-1"]["BackupPlans"][0]["Selections"][0]["BackupSelection"];
    let conditions = sel["Conditions"].take();
    sel.as_object_mut().unwrap().remove("Conditions");
    sel["Condition"] = conditions;
    let dir = std::env::temp_dir().join(format!("ddb-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let typo = dir.join("typo.json");
    std::fs::write(&typo, doc.to_string()).unwrap();
    // THEN evaluate refuses it, naming the key and the intended one (exit 2)
    let out = cli(&["evaluate", "--snapshot", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("BackupSelection.Condition") && err.contains("did you mean `Conditions`"),
        "{err}"
    );

    // AND an unknown key that is no near miss is one warning, and an error with --strict
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["Regions"]["us-east-1"]["Tables"][0]["Owner"] = serde_json::json!("team-a");
    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, doc.to_string()).unwrap();
    let out = cli(&["evaluate", "--snapshot", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 unknown key(s) ignored")
            && stderr(&out).contains("Tables[0].Owner"),
        "{}",
        stderr(&out)
    );
    let out = cli(&[
        "evaluate",
        "--strict",
        "--snapshot",
        unknown.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // AND the bundled demo snapshot has no unknown key at all
    let out = cli(&[
        "evaluate",
        "--strict",
        "--snapshot",
        "testdata/snapshots/demo-account.json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn small_things_stdin_parameter_files_quiet_pipes_and_close_names() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_dynamodb-backup-rule");
    let demo = repo_path("testdata/snapshots/demo-account.json");
    // `--snapshot -` reads standard input
    let mut child = Command::new(bin)
        .args(["evaluate", "--snapshot", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read(&demo).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("orders"));

    // `--parameters @file` reads a file; JSON booleans are accepted
    let dir = std::env::temp_dir().join(format!("ddb-small-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let params = dir.join("p.json");
    std::fs::write(&params, r#"{"backupVaultLockCheck": true}"#).unwrap();
    let at = format!("@{}", params.display());
    let out = cli(&[
        "evaluate",
        "--snapshot",
        demo.to_str().unwrap(),
        "--parameters",
        &at,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("is not locked"),
        "the vault lock check ran"
    );

    // a closed pipe ends quietly, with the verdicts' exit status
    let mut child = Command::new(bin)
        .args(["evaluate", "--snapshot", demo.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");

    // an unknown table suggests close names, case-only differences included
    let out = cli(&[
        "explain",
        "--snapshot",
        demo.to_str().unwrap(),
        "--table",
        "Feature-Flags",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `feature-flags`"),
        "{}",
        stderr(&out)
    );

    // a resourceId naming no table is warned about
    let out = cli(&[
        "evaluate",
        "--snapshot",
        demo.to_str().unwrap(),
        "--parameters",
        r#"{"resourceId":"nope"}"#,
    ]);
    assert!(
        stderr(&out).contains("resourceId `nope` names no table"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invoke_takes_the_region_from_the_events_rule_arn() {
    // GIVEN no AWS_REGION and a scheduled event whose configRuleArn names us-east-1
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args([
            "invoke",
            "--event",
            "testdata/events/scheduled.json",
            "--snapshot",
            "testdata/snapshots/demo-account.json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    // THEN the periodic pass runs over that Region instead of failing
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("orders"), "{}", stdout(&out));
}

#[test]
fn evaluate_filters_sorts_and_ends_with_the_top_causes() {
    let out = cli(&[
        "evaluate",
        "--snapshot",
        "testdata/snapshots/demo-account.json",
        "--only",
        "non-compliant",
        "--sort",
        "table",
    ]);
    // The exit status still covers every table.
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).skip(1).collect();
    assert!(rows.iter().all(|l| l.contains("NON_COMPLIANT")), "{text}");
    let names: Vec<&str> = rows
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(text.contains("top causes of NON_COMPLIANT:"), "{text}");
    assert!(
        text.contains("2 tables ConditionFailed: selection `prod-tables` of plan `daily-prod`"),
        "{text}"
    );
    let out = cli(&[
        "evaluate",
        "--snapshot",
        "testdata/snapshots/demo-account.json",
        "--only",
        "compliant",
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(doc["Evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["ComplianceType"] == "COMPLIANT"));
    assert!(
        doc["Evaluations"][0]["Reason"].is_string()
            && doc["Evaluations"][0]["ReasonKind"] == "Covered"
    );
}

#[test]
fn explain_puts_the_verdict_first_and_shows_only_the_selections_that_mention_the_table() {
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "orders-archive"]);
    let text = stdout(&out);
    let verdict = text.find("verdict: NON_COMPLIANT").expect("a verdict");
    let first_plan = text
        .find("\nplan `")
        .or_else(|| text.find("\norganization policy plan `"))
        .expect("a plan");
    assert!(verdict < first_plan, "{text}");
    let full = stdout(&cli(&[
        "explain",
        "--snapshot",
        DEMO,
        "--table",
        "orders-archive",
        "--all",
    ]));
    assert!(text.lines().count() < full.lines().count());
    assert!(text.contains("--all shows every one"), "{text}");
}

#[test]
fn report_writes_a_self_contained_html_page_or_markdown() {
    let dir = std::env::temp_dir().join(format!("ddb-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("coverage.html");
    let out = cli(&[
        "report",
        "--snapshot",
        DEMO,
        "--output",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    for section in [
        "Coverage by Region",
        "Tables covered, by plan",
        "Coverage by team tag",
        "Top causes",
        "Non-compliant tables",
    ] {
        assert!(page.contains(section), "{section}");
    }
    // Self-contained: no script, no external resource.
    assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
    // Every NON_COMPLIANT table is listed with a verified fix from remediate.
    assert!(page.contains("payments-scratch") && page.contains("aws dynamodb tag-resource"));
    let md = dir.join("coverage.md");
    cli(&[
        "report",
        "--snapshot",
        DEMO,
        "--output",
        md.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# DynamoDB backup coverage, account 111122223333"));
    assert!(text.contains("| eu-west-1 | 2 | 3 | 0 | 40% |"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invoke_json_has_the_same_evaluation_shape_as_evaluate() {
    // GIVEN the same table judged by `evaluate` and by `invoke` on its change event
    let evaluated = cli(&["evaluate", "--snapshot", DEMO, "--format", "json"]);
    let invoked = cli(&[
        "invoke",
        "--event",
        "testdata/events/change-covered.json",
        "--snapshot",
        DEMO,
        "--format",
        "json",
    ]);
    assert!(invoked.status.code() == Some(0), "{}", stderr(&invoked));
    let evaluated: serde_json::Value = serde_json::from_str(&stdout(&evaluated)).unwrap();
    let invoked: serde_json::Value = serde_json::from_str(&stdout(&invoked)).unwrap();
    // THEN both are one document shape
    for key in ["Version", "Summary", "Evaluations"] {
        assert!(invoked.get(key).is_some(), "invoke lacks {key}: {invoked}");
    }
    let put = &invoked["Evaluations"][0];
    let id = put["ResourceArn"].as_str().unwrap();
    let same = evaluated["Evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["ResourceArn"] == id)
        .unwrap_or_else(|| panic!("{id} not in evaluate"));
    // AND every field evaluate prints is there, with the same value, in invoke
    for (key, value) in same.as_object().unwrap() {
        assert_eq!(&put[key], value, "{key} differs for {id}");
    }
    assert!(put["OrderingTimestamp"].is_string());
    assert!(!put["CoveredBy"].as_array().unwrap().is_empty());
}

#[test]
fn text_fits_the_width_and_points_to_explain_for_the_rest() {
    // GIVEN --width 80 (what a terminal of 80 columns gives by default)
    let out = cli(&["evaluate", "--snapshot", DEMO, "--width", "80"]);
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    // THEN no line but the last pointer is wider, and cut lines say so
    let lines: Vec<&str> = text.lines().collect();
    let (pointer, table) = lines.split_last().unwrap();
    for l in table {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    assert!(table.iter().any(|l| l.ends_with('…')), "{text}");
    assert!(
        pointer.contains("cut to 80 columns") && pointer.contains("explain --table"),
        "{pointer}"
    );
    // AND a row keeps its table, Region and verdict whole
    assert!(table.iter().any(|l| l.starts_with("customers ")
        && l.contains("eu-west-1")
        && l.contains("NON_COMPLIANT")));

    // --width 0, and output to a pipe, are never cut
    for args in [&["--width", "0"][..], &[][..]] {
        let mut all = vec!["evaluate", "--snapshot", DEMO];
        all.extend_from_slice(args);
        let text = stdout(&cli(&all));
        assert!(!text.contains('…') && !text.contains("cut to"), "{text}");
        assert!(text.lines().any(|l| l.chars().count() > 80));
    }
}

#[test]
fn on_a_terminal_text_is_cut_to_its_width() {
    // GIVEN stdout on a 90-column pseudo-terminal (util-linux `script`)
    let command = format!(
        "stty cols 90 rows 40; exec {} evaluate --snapshot {DEMO}",
        env!("CARGO_BIN_EXE_dynamodb-backup-rule")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let tty = stdout(&out).replace('\r', "");
    // THEN each verdict line fits, and the last line says how to see the rest
    let verdicts: Vec<&str> = tty
        .lines()
        .filter(|l| {
            matches!(
                l.split_whitespace().nth(2),
                Some("COMPLIANT" | "NON_COMPLIANT" | "NOT_APPLICABLE")
            )
        })
        .collect();
    assert_eq!(verdicts.len(), 16, "{tty}");
    assert!(verdicts.iter().all(|l| l.chars().count() <= 90), "{tty}");
    assert!(tty.contains("cut to 90 columns"), "{tty}");
}

#[test]
fn every_example_in_the_docs_is_the_real_output() {
    // GIVEN each code block of README.md and docs/*.md that starts with `$ dynamodb-backup-rule …`
    let mut examples = 0;
    for page in &crate::util::doc_pages() {
        let text = std::fs::read_to_string(page).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if !line.starts_with("```") {
                continue;
            }
            // A fence: its block runs to the next fence.
            let block: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            let Some(command) = block
                .first()
                .and_then(|l| l.strip_prefix("$ dynamodb-backup-rule "))
            else {
                continue;
            };
            let expected: String = block[1..].iter().map(|l| format!("{l}\n")).collect();
            // Split as the shell a reader pastes it into would.
            let args = shlex::split(command).expect("the example is valid shell");
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            // WHEN it runs
            let out = cli(&args);
            // THEN it prints exactly what the page shows
            assert_eq!(
                stdout(&out),
                expected,
                "example `{command}` in {} is stale; paste the real output",
                page.display()
            );
            examples += 1;
        }
    }
    assert!(examples >= 3, "found {examples} examples");
}

#[test]
fn invoke_json_counts_tables_not_the_backup_resource_of_its_event() {
    // GIVEN a backup selection change: the Region's tables, plus the selection's own result
    let out = cli(&[
        "invoke",
        "--event",
        "testdata/events/backup-selection-change.json",
        "--snapshot",
        DEMO,
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let evaluations = doc["Evaluations"].as_array().unwrap();
    let (tables, other): (Vec<_>, Vec<_>) = evaluations
        .iter()
        .partition(|e| e["ComplianceResourceType"] == "AWS::DynamoDB::Table");
    // THEN the summary counts the tables only
    assert_eq!(other.len(), 1, "{doc}");
    assert_eq!(doc["Summary"]["Tables"], tables.len(), "{doc}");
    let s = &doc["Summary"];
    let sum = ["Compliant", "NonCompliant", "NotApplicable"]
        .iter()
        .map(|k| s[*k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(sum as usize, tables.len());
    // AND the backup resource's own evaluation has no table ARN, and says why it is not judged
    assert!(other[0]["ResourceArn"].is_null());
    assert_eq!(other[0]["ComplianceType"], "NOT_APPLICABLE");
    assert_eq!(other[0]["ReasonKind"], "OutOfScope");
}

#[test]
fn a_newcomer_never_has_to_guess() {
    // The example in `explain --help` runs as printed.
    let help = stdout(&cli(&["explain", "--help"]));
    let example = help
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("dynamodb-backup-rule explain --snapshot testdata")
        })
        .expect("an example on the demo account");
    let args: Vec<&str> = example.split_whitespace().skip(1).collect();
    let out = cli(&args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        stderr(&out)
    );

    // Inside explain, the reason does not ask to run explain (Config's annotation still may).
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "users"]);
    let text = stdout(&out);
    assert!(text.contains("(other selections mention it too)"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.contains("run explain"))
            .all(|l| l.trim_start().starts_with("annotation:")),
        "{text}"
    );

    // A name in two Regions: the error lists the ARNs to choose from.
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "orders"]);
    assert_eq!(out.status.code(), Some(2));
    for arn in [
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
        "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
    ] {
        assert!(stderr(&out).contains(arn), "{}", stderr(&out));
    }

    // A name no table has: the tables it is part of are suggested, in plain words.
    let out = cli(&["explain", "--snapshot", DEMO, "--table", "payments"]);
    let err = stderr(&out);
    assert!(
        err.contains("`payments-ledger`") && err.contains("`payments-scratch`"),
        "{err}"
    );
    assert!(!err.contains("Tables lists"), "{err}");

    // --only takes the spelling the tool prints, and says what it does not show.
    let upper = cli(&["evaluate", "--snapshot", DEMO, "--only", "NON_COMPLIANT"]);
    let lower = cli(&["evaluate", "--snapshot", DEMO, "--only", "non-compliant"]);
    assert_eq!(upper.status.code(), Some(3), "{}", stderr(&upper));
    assert_eq!(stdout(&upper), stdout(&lower));
    let out = cli(&["evaluate", "--snapshot", DEMO, "--only", "compliant"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the exit status covers every table"
    );
    assert!(
        stdout(&out).contains("6 of 16 tables shown; 9 NON_COMPLIANT, 1 NOT_APPLICABLE not shown"),
        "{}",
        stdout(&out)
    );

    // report: `-` is standard output, and the Markdown extension in any case.
    let out = cli(&["report", "--snapshot", DEMO, "--output", "-"]);
    let page = stdout(&out);
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", stderr(&out));
    // The page says when the account was read and the totals, shows each fix's command as
    // code, and does not ask to run anything.
    for part in [
        "as captured at 2026-11-21 06:00 UTC",
        "16 tables: 6 COMPLIANT, 9 NON_COMPLIANT, 1 NOT_APPLICABLE",
        "<td><code>aws ",
    ] {
        assert!(page.contains(part), "want `{part}` in the page");
    }
    assert!(!page.contains("run explain"));
    assert!(!repo_path("-").exists(), "no file named -");
    let md = std::env::temp_dir().join(format!("ddb-report-{}.MD", std::process::id()));
    let out = cli(&[
        "report",
        "--snapshot",
        DEMO,
        "--output",
        md.to_str().unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(3)), "{}", stderr(&out));
    let written = std::fs::read_to_string(&md).unwrap();
    let _ = std::fs::remove_file(&md);
    assert!(
        written.starts_with("# "),
        "Markdown, not HTML: {}",
        &written[..40]
    );
}

#[test]
fn wrong_files_and_mistyped_parameters_get_a_way_forward() {
    let dir = std::env::temp_dir();
    let empty = dir.join(format!("ddb-empty-{}.json", std::process::id()));
    let not_json = dir.join(format!("ddb-notjson-{}.json", std::process::id()));
    std::fs::write(&empty, "\n").unwrap();
    std::fs::write(&not_json, "nope").unwrap();
    let cases: Vec<(Vec<String>, Vec<String>)> = vec![
        (
            vec![
                "evaluate".into(),
                "--snapshot".into(),
                empty.display().to_string(),
            ],
            vec![format!("{} is empty", empty.display())],
        ),
        (
            vec![
                "evaluate".into(),
                "--snapshot".into(),
                not_json.display().to_string(),
            ],
            vec![format!("{} is not JSON", not_json.display())],
        ),
        (
            vec![
                "evaluate".into(),
                "--snapshot".into(),
                "testdata/events/scheduled.json".into(),
            ],
            vec![
                "is an AWS Config event".into(),
                "invoke --event testdata/events/scheduled.json".into(),
            ],
        ),
        (
            vec![
                "invoke".into(),
                "--event".into(),
                DEMO.into(),
                "--snapshot".into(),
                DEMO.into(),
            ],
            vec![
                "is a snapshot".into(),
                format!("evaluate --snapshot {DEMO}"),
            ],
        ),
        (
            vec![
                "evaluate".into(),
                "--snapshot".into(),
                DEMO.into(),
                "--parameters".into(),
                r#"{"BackupVaultLockCheck":"true"}"#.into(),
            ],
            vec!["did you mean `backupVaultLockCheck`?".into()],
        ),
        (
            vec![
                "evaluate".into(),
                "--snapshot".into(),
                DEMO.into(),
                "--parameters".into(),
                r#"{"resourceTag":"x"}"#.into(),
            ],
            vec!["did you mean `resourceTags`?".into()],
        ),
        (
            vec![
                "evaluate".into(),
                "--snapshot".into(),
                DEMO.into(),
                "--parameters".into(),
                "backupVaultLockCheck=true".into(),
            ],
            vec![r#"a JSON object, for example '{"backupVaultLockCheck":"true"}'"#.into()],
        ),
    ];
    let cases = cases.into_iter().chain([(
        vec![
            "invoke".into(),
            "--event".into(),
            "testdata/events/oversized.json".into(),
            "--snapshot".into(),
            DEMO.into(),
        ],
        vec![
            "too large for Config to send".into(),
            "Run invoke without --snapshot".into(),
        ],
    )]);
    for (args, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        for s in says {
            assert!(
                stderr(&out).contains(&s),
                "{args:?}: want `{s}` in {}",
                stderr(&out)
            );
        }
    }
    let _ = (
        std::fs::remove_file(&empty),
        std::fs::remove_file(&not_json),
    );
}

#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    // GIVEN logging on and stderr a pipe (as here: output() captures it)
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dynamodb-backup-rule"))
        .args([
            "-v",
            "invoke",
            "--event",
            "testdata/events/change-covered.json",
            "--snapshot",
            DEMO,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the CLI runs");
    // THEN the log lines are there, without ANSI escapes
    let err = stderr(&out);
    assert!(err.contains("decision"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn a_renamed_key_that_decides_verdicts_is_an_error_however_far_from_the_name() {
    use dynamodb_backup_rule::snapshot;
    let demo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path(DEMO)).unwrap()).unwrap();
    // (JSON pointer, the key, its new name) in the demo account's us-east-1
    let renames = [
        ("/Regions/us-east-1/Tables/9", "TableStatus", "Status"),
        (
            "/Regions/us-east-1/BackupPlans/3",
            "DeletionDate",
            "DeleteDate",
        ),
        (
            "/Regions/us-east-1/BackupPlans/0/Rules/0",
            "TargetBackupVaultName",
            "TargetBackupVault",
        ),
        (
            "/Regions/us-east-1/BackupPlans/0/Rules/0",
            "ScheduleExpression",
            "Schedule",
        ),
    ];
    for (at, key, renamed) in renames {
        let mut doc = demo.clone();
        let obj = doc
            .pointer_mut(at)
            .and_then(|v| v.as_object_mut())
            .expect("an object");
        let value = obj
            .remove(key)
            .unwrap_or_else(|| panic!("{key} in the demo"));
        obj.insert(renamed.to_string(), value);
        let err = snapshot::parse(&doc.to_string()).expect_err(renamed);
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{renamed}` is not")) && text.contains(&format!("`{key}`")),
            "{text}"
        );
    }
    // An AWS member the format does not read stays accepted.
    let mut doc = demo.clone();
    doc["Regions"]["us-east-1"]["BackupPlans"][0]["Selections"][0]["CreatorRequestId"] =
        serde_json::json!("abc");
    snapshot::parse(&doc.to_string()).expect("AWS's own members are accepted");
}

#[test]
fn every_help_says_its_exit_statuses_and_how_to_read_files() {
    for command in [
        "evaluate",
        "explain",
        "remediate",
        "report",
        "audit",
        "snapshot",
        "invoke",
    ] {
        let help = stdout(&cli(&[command, "--help"]));
        assert!(help.contains("Exit status:"), "{command}: {help}");
        if help.contains("--parameters <JSON>") {
            assert!(help.contains("@FILE"), "{command}: {help}");
        }
    }
    for command in ["evaluate", "explain"] {
        let help = stdout(&cli(&[command, "--help"]));
        assert!(help.contains("- reads standard input"), "{command}: {help}");
    }
}
