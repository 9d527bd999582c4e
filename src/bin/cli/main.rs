//! The `dynamodb-backup-rule` command line. Glue only: parse flags, load, call the library,
//! print, and map the outcome to an exit status.

mod args;
mod errors;
mod feedback;
mod files;
mod live;

use args::{CheckFormat, Cli, Command, Export, Format, Only, Sort};
use errors::{chain, init_logging, summary};
use files::{
    check_document, check_writable, load, parameter_map, read_text, rule_parameters, QuietPipe,
};
use live::{capture, points_wanted, runtime, QUIET};

use clap::Parser;
use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::model::Snapshot;
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::ports::snapshot_env::{Recording, SnapshotEnv};
use dynamodb_backup_rule::rule::Caller;
use dynamodb_backup_rule::snapshot::SnapshotFile;
use dynamodb_backup_rule::{coverage::Compliance, event, formats, report, rule, snapshot, Error};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The width text lines are cut to: `--width` (0: none), else the terminal's when stdout is one.
fn text_width(given: Option<usize>) -> Option<usize> {
    match given {
        Some(0) => None,
        Some(w) => Some(w),
        None => console::Term::stdout()
            .size_checked()
            .map(|(_, cols)| usize::from(cols))
            .filter(|c| *c > 0),
    }
}

/// The time a snapshot is judged at: when it was captured, else now.
fn as_of(snapshot: &Snapshot) -> chrono::DateTime<chrono::Utc> {
    snapshot.captured_at.unwrap_or_else(chrono::Utc::now)
}

/// A writer of one of the formats other tools read.
type ExportFn<W> = fn(
    &mut W,
    &[dynamodb_backup_rule::rule::TableEvaluation<'_>],
    &formats::Context<'_>,
) -> std::io::Result<()>;

/// The output format and, for ASFF, the folder of batch files; `--batch-dir` needs asff.
fn export_target(
    format: Export,
    batch_dir: Option<&Path>,
) -> Result<(Export, Option<&Path>), Error> {
    match (format, batch_dir) {
        (Export::Asff, dir) | (_, dir @ None) => Ok((format, dir)),
        (_, Some(_)) => Err(Error::Usage {
            flag: "--batch-dir".into(),
            expected: "--format asff with it (the batch files hold Security Hub findings)".into(),
            source: None,
        }),
    }
}

/// Evaluates, keeps the tables asked for in the order asked for, prints them; `Ok(true)` when
/// any table at all is NON_COMPLIANT.
fn print_selected(
    out: &mut impl Write,
    snapshot: &Snapshot,
    (format, batch_dir): (Export, Option<&Path>),
    params: &RuleParameters,
    only: Option<Only>,
    sort: Sort,
    width: Option<usize>,
) -> Result<bool, Error> {
    if let Some(id) = &params.resource_id {
        if !snapshot
            .regions
            .iter()
            .flat_map(|r| &r.tables)
            .any(|t| &t.name == id)
        {
            eprintln!("warning: resourceId `{id}` names no table in the account; every table is NOT_APPLICABLE");
        }
    }
    // One instant for the verdicts and the fixes, so both judge recovery-point age alike.
    let now = as_of(snapshot);
    let mut evaluations = rule::evaluate_snapshot(snapshot, params, now);
    let all = report::Summary::of(&evaluations);
    let any_non_compliant = all.non_compliant > 0;
    if let Some(only) = only {
        let keep = match only {
            Only::NonCompliant => Compliance::NonCompliant,
            Only::Compliant => Compliance::Compliant,
            Only::NotApplicable => Compliance::NotApplicable,
        };
        evaluations.retain(|e| e.verdict.compliance == keep);
    }
    match sort {
        Sort::File => {}
        Sort::Verdict => evaluations.sort_by_key(|e| match e.verdict.compliance {
            Compliance::NonCompliant => 0,
            Compliance::NotApplicable => 1,
            Compliance::Compliant => 2,
        }),
        Sort::Table => evaluations.sort_by(|a, b| a.table.name.cmp(&b.table.name)),
        Sort::Region => evaluations.sort_by(|a, b| a.region.cmp(b.region)),
    }
    let exported = |out: &mut _, write: ExportFn<_>| {
        // Each failed finding carries its fix, so find them (NON_COMPLIANT tables only).
        let fixes: Vec<_> = snapshot
            .regions
            .iter()
            .flat_map(|r| dynamodb_backup_rule::remedy::first_fixes(r, params, now, None))
            .collect();
        write(out, &evaluations, &formats::Context::new(now, &fixes))
    };
    if let Some(dir) = batch_dir {
        let fixes: Vec<_> = snapshot
            .regions
            .iter()
            .flat_map(|r| dynamodb_backup_rule::remedy::first_fixes(r, params, now, None))
            .collect();
        let written =
            formats::write_asff_batches(dir, &evaluations, &formats::Context::new(now, &fixes))
                .map_err(Error::Output)?;
        let findings: usize = written.iter().map(|(_, _, n)| n).sum();
        writeln!(
            out,
            "wrote {findings} finding(s) in {} file(s) to {}, at most {} each, one Region per file",
            written.len(),
            dir.display(),
            formats::ASFF_BATCH
        )
        .map_err(Error::Output)?;
        return Ok(any_non_compliant);
    }
    match format {
        Export::Text => {
            report::write_evaluations_text(out, &evaluations, text_width(width), Some(&all))
        }
        Export::Json => report::write_evaluations_json(out, &evaluations),
        Export::Asff => exported(out, formats::write_asff),
        Export::Junit => exported(out, formats::write_junit),
        Export::Sarif => exported(out, formats::write_sarif),
    }
    .map_err(Error::Output)?;
    Ok(any_non_compliant)
}

/// Runs a command; `Ok(true)` when something is NON_COMPLIANT.
fn run(command: Command, strict: bool, out: &mut impl Write) -> Result<bool, Error> {
    match command {
        Command::Audit {
            regions,
            format,
            width,
            parameters,
            batch_dir,
        } => {
            let params = rule_parameters(parameters.as_deref())?;
            // Recovery points only when a parameter judges them, as the Lambda reads them.
            let snapshot = capture(regions, points_wanted(&params))?;
            let target = export_target(format, batch_dir.as_deref())?;
            print_selected(out, &snapshot, target, &params, None, Sort::File, width)
        }
        Command::Snapshot {
            regions,
            output,
            no_recovery_points,
        } => {
            // A capture can take minutes; learn that the file cannot be written before it.
            check_writable(&output)?;
            // Every table a maxRecoveryPointAgeHours replay would judge: in scope, covered.
            let mut any_age = RuleParameters::default();
            any_age.policy.recovery_point_age_hours = Some(1);
            let snapshot = capture(regions, (!no_recovery_points).then_some(&any_age))?;
            let text = serde_json::to_string_pretty(&SnapshotFile::from(&snapshot))
                .map_err(|e| Error::Output(e.into()))?;
            std::fs::write(&output, text + "\n").map_err(Error::Output)?;
            let tables: usize = snapshot.regions.iter().map(|r| r.tables.len()).sum();
            writeln!(
                out,
                "wrote {} ({} Region(s), {tables} table(s))",
                output.display(),
                snapshot.regions.len()
            )
            .map_err(Error::Output)?;
            Ok(false)
        }
        Command::Invoke {
            event,
            snapshot,
            format,
            parameters,
        } => {
            let text = read_text(&event)?;
            check_document(&event, &text, "event")?;
            let payload: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::InvalidEvent {
                    field: "(event)".into(),
                    expected: format!("a JSON document ({e})"),
                    source: Some(e),
                })?;
            let mut invocation = event::decode_payload(payload)?;
            invocation
                .rule_parameters
                .extend(parameter_map(parameters.as_deref())?);
            let (put, scope) = runtime()?.block_on(async {
                match snapshot {
                    Some(path) => {
                        let env = Recording::new(SnapshotEnv::new(load(&path, strict)?));
                        // The event's configRuleArn names the Region a periodic pass covers.
                        let caller = Caller {
                            region: std::env::var("AWS_REGION")
                                .ok()
                                .or_else(|| invocation.rule_region().map(str::to_string))
                                .or_else(|| env.inner().only_region()),
                            ..Caller::default()
                        };
                        let handled = rule::handle(&invocation, &env, &caller).await?;
                        Ok::<_, Error>((env.put(), handled.scope))
                    }
                    None => {
                        let env = Recording::new(AwsEnv::from_env(Settings::from_env()?).await);
                        // The CLI never assumes a role, so another account's table would be
                        // judged against the caller's own plans.
                        let own = env.inner().caller_account().await?;
                        if let Some(other) = invocation.evaluated_account().filter(|a| *a != own) {
                            return Err(Error::InvalidEvent {
                                field: "accountId".into(),
                                expected: format!(
                                    "the account of your credentials ({own}); the event is for account {other}. Run invoke with credentials for {other}, or with --snapshot of that account"
                                ),
                                source: None,
                            });
                        }
                        let caller = Caller {
                            region: env.inner().default_region(),
                            ..Caller::default()
                        };
                        let handled = rule::handle(&invocation, &env, &caller).await?;
                        Ok((env.put(), handled.scope))
                    }
                }
            })?;
            match format {
                Format::Text => report::write_put_text(out, &put),
                Format::Json => report::write_put_json(out, &put, &scope),
            }
            .map_err(Error::Output)?;
            Ok(put.iter().any(|e| e.compliance == Compliance::NonCompliant))
        }
        Command::Evaluate {
            snapshot,
            format,
            parameters,
            only,
            sort,
            width,
            batch_dir,
        } => {
            let params = rule_parameters(parameters.as_deref())?;
            let snapshot = load(&snapshot, strict)?;
            let target = export_target(format, batch_dir.as_deref())?;
            print_selected(out, &snapshot, target, &params, only, sort, width)
        }
        Command::Remediate {
            snapshot,
            table,
            regions,
            format,
            parameters,
            apply_to_snapshot,
            check_tag,
            max_actions,
        } => {
            let params = rule_parameters(parameters.as_deref())?;
            let check_tag = match check_tag.as_deref().map(|t| t.split_once('=')) {
                None => None,
                Some(Some((k, v))) if !k.is_empty() => Some((k.to_string(), v.to_string())),
                Some(_) => {
                    return Err(Error::Usage {
                        flag: "--check-tag".into(),
                        expected: "a tag as KEY=VALUE, for example backup=daily".into(),
                        source: None,
                    })
                }
            };
            let source = snapshot.clone();
            let snapshot = match snapshot {
                Some(path) => load(&path, strict)?,
                None => capture(regions, points_wanted(&params))?,
            };
            let now = as_of(&snapshot);
            let only = match &table {
                Some(t) => {
                    let (region, found) = rule::find_table(&snapshot, t)?;
                    Some((region.catalog.region.clone(), found.name.clone()))
                }
                None => None,
            };
            let mut remediations = Vec::new();
            for region in &snapshot.regions {
                if only
                    .as_ref()
                    .is_some_and(|(r, _)| r != &region.catalog.region)
                {
                    continue;
                }
                let name = only.as_ref().map(|(_, n)| n.as_str());
                remediations.extend(match max_actions {
                    0 => dynamodb_backup_rule::remedy::remediate_region(region, &params, now, name),
                    n => dynamodb_backup_rule::remedy::remediate_top(region, &params, now, name, n),
                });
            }
            if let (Some(t), true) = (&table, remediations.is_empty()) {
                writeln!(out, "table {t} is not NON_COMPLIANT: nothing to remediate")
                    .map_err(Error::Output)?;
                return Ok(false);
            }
            if let Some(path) = apply_to_snapshot {
                // The what-if edits the input document itself, call by call, as AWS would: every
                // key of the input is kept, and the result is read back and judged afresh.
                let mut doc: serde_json::Value = match &source {
                    Some(p) => {
                        serde_json::from_str(&read_text(p)?).map_err(|e| Error::SnapshotFormat {
                            path: "(top level)".into(),
                            source: e,
                        })?
                    }
                    None => serde_json::to_value(SnapshotFile::from(&snapshot))
                        .map_err(|e| Error::Output(e.into()))?,
                };
                for region in &snapshot.regions {
                    let r = &region.catalog.region;
                    for call in dynamodb_backup_rule::remedy::first_calls(&remediations, r) {
                        call.apply_to_file(&mut doc["Regions"][r], now);
                    }
                }
                let text =
                    serde_json::to_string_pretty(&doc).map_err(|e| Error::Output(e.into()))?;
                let edited = snapshot::parse(&text)?;
                for (before, after) in snapshot.regions.iter().zip(&edited.regions) {
                    let problems = dynamodb_backup_rule::remedy::broken_promises(
                        before,
                        after,
                        &remediations,
                        &params,
                        now,
                    );
                    if !problems.is_empty() {
                        eprintln!(
                            "warning: in {}, applied together the actions leave {} not COMPLIANT: {}",
                            before.catalog.region,
                            problems.len(),
                            problems.join(", ")
                        );
                    }
                }
                std::fs::write(&path, text + "\n").map_err(Error::Output)?;
                eprintln!(
                    "wrote {} (each table's first verified action applied)",
                    path.display()
                );
            }
            if let Some((key, value)) = &check_tag {
                // The answer alone, on stdout: which tables the tag protects, and why not the
                // others.
                let mut all_protected = true;
                for region in &snapshot.regions {
                    let (covered, not) = dynamodb_backup_rule::remedy::tag_would_cover(
                        region, &params, now, key, value,
                    );
                    if covered.is_empty() && not.is_empty() {
                        continue;
                    }
                    all_protected &= not.is_empty();
                    writeln!(
                        out,
                        "tag {key}={value} in {}: protects {} of {} NON_COMPLIANT table(s){}",
                        region.catalog.region,
                        covered.len(),
                        covered.len() + not.len(),
                        if covered.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", covered.join(", "))
                        }
                    )
                    .map_err(Error::Output)?;
                    for (table, why) in &not {
                        writeln!(out, "  not {table}: tagged, it would still be {why}")
                            .map_err(Error::Output)?;
                    }
                }
                return Ok(!all_protected);
            }
            match format {
                Format::Text => report::write_remediations_text(out, &remediations),
                Format::Json => report::write_remediations_json(out, &remediations),
            }
            .map_err(Error::Output)?;
            Ok(remediations.iter().any(|r| r.first_verified().is_none()))
        }
        Command::Report {
            snapshot,
            regions,
            parameters,
            output,
        } => {
            let params = rule_parameters(parameters.as_deref())?;
            // `-` is standard output, as for every other file argument.
            let to_stdout = output.as_os_str() == "-";
            if !to_stdout {
                check_writable(&output)?;
            }
            let snapshot = match snapshot {
                Some(path) => load(&path, strict)?,
                None => capture(regions, points_wanted(&params))?,
            };
            let now = as_of(&snapshot);
            let evaluations = rule::evaluate_snapshot(&snapshot, &params, now);
            let fixes: Vec<_> = snapshot
                .regions
                .iter()
                .flat_map(|r| dynamodb_backup_rule::remedy::first_fixes(r, &params, now, None))
                .collect();
            let title = format!("DynamoDB backup coverage, account {}", snapshot.account_id);
            let as_of = match snapshot.captured_at {
                Some(t) => format!(
                    "Account {}, as captured at {}",
                    snapshot.account_id,
                    t.format("%Y-%m-%d %H:%M UTC")
                ),
                None => format!(
                    "Account {}, judged at {}",
                    snapshot.account_id,
                    now.format("%Y-%m-%d %H:%M UTC")
                ),
            };
            let markdown = output
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md"));
            let doc = if markdown {
                dynamodb_backup_rule::page::markdown(&evaluations, &fixes, &title, &as_of)
            } else {
                dynamodb_backup_rule::page::html(&evaluations, &fixes, &title, &as_of)
            };
            if to_stdout {
                out.write_all(doc.as_bytes()).map_err(Error::Output)?;
            } else {
                std::fs::write(&output, doc).map_err(Error::Output)?;
                writeln!(out, "wrote {}", output.display()).map_err(Error::Output)?;
            }
            Ok(report::Summary::of(&evaluations).non_compliant > 0)
        }
        Command::CheckTemplate {
            files,
            snapshot,
            region,
            stack_name,
            template_parameters,
            parameters,
            format,
        } => {
            let params = rule_parameters(parameters.as_deref())?;
            let mut given = std::collections::BTreeMap::new();
            for kv in &template_parameters {
                match kv.split_once('=') {
                    Some((k, v)) if !k.is_empty() => {
                        given.insert(k.to_string(), v.to_string());
                    }
                    _ => {
                        return Err(Error::Usage {
                            flag: "--template-parameter".into(),
                            expected: format!("KEY=VALUE, got `{kv}`"),
                            source: None,
                        })
                    }
                }
            }
            let mut ctx = dynamodb_backup_rule::template::Context {
                stack_name,
                region,
                account: None,
                parameters: given,
            };
            let texts = files
                .iter()
                .map(|f| Ok((f.display().to_string(), read_text(f)?)))
                .collect::<Result<Vec<_>, Error>>()?;
            // Parsed before any account is read: bad input fails fast and reads nothing.
            let mut proposed = texts
                .iter()
                .map(|(file, text)| {
                    Ok((
                        file.clone(),
                        dynamodb_backup_rule::template::parse(file, text, &ctx)?,
                    ))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let snapshot = match snapshot {
                Some(path) => load(&path, strict)?,
                None => {
                    // Only the Regions the tables would be in (and the given one).
                    let mut wanted: Vec<String> = ctx.region.iter().cloned().collect();
                    for t in proposed.iter().flat_map(|(_, tables)| tables) {
                        if let dynamodb_backup_rule::template::Known::Value(r) = &t.region {
                            if !wanted.contains(r) {
                                wanted.push(r.clone());
                            }
                        }
                    }
                    // Only the catalogs: the account's tables do not decide a proposed one.
                    live::catalogs(wanted)?
                }
            };
            // `AWS::AccountId` is known now; only a file that names it is read again.
            ctx.account = Some(snapshot.account_id.clone());
            for ((file, text), (_, tables)) in texts.iter().zip(proposed.iter_mut()) {
                if text.contains("AWS::AccountId") {
                    *tables = dynamodb_backup_rule::template::parse(file, text, &ctx)?;
                }
            }
            let mut checked = rule::proposed::check_all(&params, proposed, &snapshot)?;
            // Each NON_COMPLIANT table's first verified fix, Region by Region.
            let mut fix_params = params.clone();
            fix_params.policy.recovery_point_age_hours = None;
            let now = as_of(&snapshot);
            for r in &snapshot.regions {
                let region = r.catalog.region.as_str();
                let wanted: Vec<usize> = (0..checked.len())
                    .filter(|&i| {
                        checked[i].verdict.compliance == Compliance::NonCompliant
                            && checked[i].proposed.region
                                == dynamodb_backup_rule::template::Known::Value(region.to_string())
                    })
                    .collect();
                if wanted.is_empty() {
                    continue;
                }
                let tables: Vec<_> = wanted
                    .iter()
                    .map(|&i| {
                        rule::proposed::table_of(&checked[i].proposed, &snapshot.account_id, region)
                    })
                    .collect();
                let fixes = dynamodb_backup_rule::remedy::proposed::proposed_fixes(
                    &fix_params,
                    &tables,
                    &r.catalog,
                    now,
                );
                for (i, fix) in wanted.into_iter().zip(fixes) {
                    checked[i].fix = fix;
                }
            }
            match format {
                CheckFormat::Text => report::write_checked_text(out, &checked),
                CheckFormat::Json => report::write_checked_json(out, &checked),
                CheckFormat::Sarif => report::write_checked_sarif(out, &checked),
                CheckFormat::Junit => report::write_checked_junit(out, &checked),
            }
            .map_err(Error::Output)?;
            Ok(checked
                .iter()
                .any(|c| c.verdict.compliance == Compliance::NonCompliant))
        }
        Command::Explain {
            snapshot,
            table,
            format,
            parameters,
            all,
        } => {
            let params = rule_parameters(parameters.as_deref())?;
            let snapshot = load(&snapshot, strict)?;
            let now = as_of(&snapshot);
            let (region, explanation) = rule::explain(&snapshot, &table, &params, now)?;
            match format {
                Format::Text => report::write_explanation_text(out, region, &explanation, all),
                Format::Json => report::write_explanation_json(out, region, &explanation),
            }
            .map_err(Error::Output)?;
            if explanation.verdict.compliance == Compliance::NonCompliant {
                // Point to the fix: the first verified action, if there is one.
                let fixes = dynamodb_backup_rule::remedy::first_fixes(
                    region,
                    &params,
                    now,
                    Some(&explanation.table.name),
                );
                let hint = fixes.first().and_then(|r| r.first_verified()).map_or_else(
                    || "no verified fix; run remediate for what could be done".to_string(),
                    |a| {
                        format!(
                            "fix (verified): {}; run remediate for the command",
                            a.description
                        )
                    },
                );
                if matches!(format, Format::Text) {
                    writeln!(out, "  {hint}").map_err(Error::Output)?;
                }
            }
            Ok(explanation.verdict.compliance == Compliance::NonCompliant)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints usage errors and exits 2, help and version exit 0.
        Err(e) => e.exit(),
    };
    init_logging(cli.verbose);
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(QuietPipe {
        inner: stdout.lock(),
        closed: false,
    });
    let result = run(cli.command, cli.strict, &mut out)
        .and_then(|nc| out.flush().map(|_| nc).map_err(Error::Output));
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(3),
        Err(e) => {
            if cli.verbose {
                eprintln!("error: {}", chain(&e));
            } else {
                eprintln!("error: {}", summary(&e));
            }
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}
