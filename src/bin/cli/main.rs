//! The `dynamodb-backup-rule` command line. Glue only: parse flags, load, call the library,
//! print, and map the outcome to an exit status.

mod feedback;

use clap::{Parser, Subcommand, ValueEnum};
use dynamodb_backup_rule::aws::{AwsEnv, Settings};
use dynamodb_backup_rule::coverage::CatalogIndex;
use dynamodb_backup_rule::model::{RegionCatalog, Snapshot, Table};
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::ports::snapshot_env::{Recording, SnapshotEnv};
use dynamodb_backup_rule::rule::Caller;
use dynamodb_backup_rule::snapshot::SnapshotFile;
use dynamodb_backup_rule::{coverage::Compliance, event, formats, report, rule, snapshot, Error};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_STATUS: &str = "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, \
2 for bad input or usage, 1 for any other failure.";

/// Tells, table by table, whether each DynamoDB table is really protected by an AWS Backup plan.
#[derive(Debug, Parser)]
#[command(name = "dynamodb-backup-rule", version, after_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Make unknown keys in a snapshot file errors, not a warning (a near miss of a known key,
    /// such as `Condition` for `Conditions`, is always an error).
    #[arg(long, global = true)]
    strict: bool,
    /// Log what is being read to stderr (RUST_LOG refines it), and print the full chain of an
    /// error instead of its one-line summary.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// No progress lines on stderr while live modes read the account.
    #[arg(short, long, global = true)]
    quiet: bool,
}

/// Logs go to stderr, never stdout (stdout is the output). Quiet unless -v or RUST_LOG.
fn init_logging(verbose: bool) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) => tracing_subscriber::EnvFilter::new(f),
        Err(_) if verbose => tracing_subscriber::EnvFilter::new("info"),
        Err(_) => return,
    };
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .try_init();
}

/// Whether a profile of that name is in the AWS config file (`[profile NAME]`, or `[default]`)
/// or the shared credentials file (`[NAME]`), where the AWS CLI and SDKs look for them.
fn profile_exists(name: &str) -> bool {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(default))
    };
    let sections = |path: PathBuf| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix('[')?
                    .strip_suffix(']')
                    .map(|s| s.trim().to_string())
            })
            .collect()
    };
    let config = sections(file("AWS_CONFIG_FILE", "config"));
    let credentials = sections(file("AWS_SHARED_CREDENTIALS_FILE", "credentials"));
    config
        .iter()
        .any(|s| s == &format!("profile {name}") || (name == "default" && s == "default"))
        || credentials.iter().any(|s| s == name)
}

/// One line a person can act on for the common AWS failures; the full chain is behind -v.
fn summary(e: &Error) -> String {
    let Error::Aws {
        action,
        kind,
        message,
        role,
        ..
    } = e
    else {
        return e.to_string();
    };
    let full = format!("{message} {:?}", std::error::Error::source(e));
    let lower = full.to_ascii_lowercase();
    let who = role.as_deref().unwrap_or("your credentials");
    if lower.contains("credentials")
        && (lower.contains("dispatch")
            || lower.contains("no credentials")
            || lower.contains("imds")
            || lower.contains("provider"))
    {
        if let Some(profile) = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()) {
            if !profile_exists(&profile) {
                return format!("the AWS profile `{profile}` (AWS_PROFILE) was not found in your AWS config or credentials file; `aws configure list-profiles` lists those that exist");
            }
        }
        return "no AWS credentials found: set AWS_PROFILE (and run `aws sso login` for an SSO profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (-v shows why)".to_string();
    }
    if lower.contains("<html") || lower.contains("<!doctype") {
        return format!("{action} failed: the endpoint answered with an HTML page, not AWS (a proxy or captive portal?); check AWS_ENDPOINT_URL and HTTPS_PROXY (-v shows the response)");
    }
    match kind {
        dynamodb_backup_rule::error::AwsErrorKind::AccessDenied => {
            format!("access denied: {who} may not call {action}; allow it in IAM (-v shows AWS's message)")
        }
        dynamodb_backup_rule::error::AwsErrorKind::Throttled => {
            format!("{action} was still throttled after retries; try again later or raise AWS_MAX_ATTEMPTS")
        }
        _ if lower.contains("dns")
            || lower.contains("connect")
            || lower.contains("dispatch failure") =>
        {
            format!("cannot reach AWS for {action} (network, DNS or endpoint): check AWS_REGION, AWS_ENDPOINT_URL and your connection (-v shows why)")
        }
        _ => {
            let line = e.to_string();
            match line.char_indices().nth(300) {
                Some((cut, _)) => format!("{}… (-v shows all)", &line[..cut]),
                None => line,
            }
        }
    }
}

/// The error and every source under it, one per line.
fn chain(e: &Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("\n  caused by: {s}"));
        source = s.source();
    }
    out
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate every table in a snapshot file, offline.
    #[command(after_help = concat!(
        "Examples:\n",
        "  dynamodb-backup-rule evaluate --snapshot testdata/snapshots/demo-account.json\n",
        "  dynamodb-backup-rule evaluate --snapshot account.json --format json > evaluations.json\n",
        "  dynamodb-backup-rule evaluate --snapshot account.json --format junit > backup-coverage.xml\n",
        "  dynamodb-backup-rule evaluate --snapshot account.json --only non-compliant --sort table\n\n",
        "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, 2 for bad input or usage, 1 for any other failure."
    ))]
    Evaluate {
        /// Snapshot file (its format: docs/snapshot-format.md); - reads standard input.
        #[arg(long, value_name = "FILE")]
        snapshot: PathBuf,
        /// Output format: an aligned table with a summary, the JSON document, or a format other
        /// tools read: asff (Security Hub BatchImportFindings), junit (CI dashboards), sarif.
        #[arg(long, value_enum, default_value_t = Export::Text)]
        format: Export,
        /// Rule parameters as a JSON object, exactly as in the Config rule's InputParameters,
        /// e.g. '{"backupVaultLockCheck":"true","crossRegionList":"us-west-2"}', or @FILE to
        /// read them from a file (@- from standard input).
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
        /// Print only the tables with this verdict (the exit status still covers all).
        #[arg(long, value_enum)]
        only: Option<Only>,
        /// Order of the tables: as in the file, or by verdict, table name or Region.
        #[arg(long, value_enum, default_value_t = Sort::File)]
        sort: Sort,
        /// Cut text lines to this many columns (0: never). Default: the terminal's width when
        /// stdout is a terminal, no limit otherwise.
        #[arg(long, value_name = "COLUMNS")]
        width: Option<usize>,
        /// With --format asff: write the findings to DIR/findings-<Region>-<n>.json, each a list
        /// of at most 100 findings of one Region, ready for `aws securityhub
        /// batch-import-findings --region <Region> --findings file://<file>`.
        #[arg(long, value_name = "DIR")]
        batch_dir: Option<PathBuf>,
    },
    /// Propose, for each NON_COMPLIANT table, the smallest changes that protect it, each one
    /// verified by re-evaluating the account with it applied. Never changes anything.
    #[command(after_help = concat!(
        "Without --snapshot it reads the live account, read-only, as audit does.\n\n",
        "Examples:\n",
        "  dynamodb-backup-rule remediate --snapshot testdata/snapshots/demo-account.json\n",
        "  dynamodb-backup-rule remediate --snapshot account.json --table orders --format json\n",
        "  dynamodb-backup-rule remediate --snapshot account.json --apply-to-snapshot what-if.json\n\n",
        "Exit status: 0 when every NON_COMPLIANT table has a verified action (or there is none), 3 when some has none, 2 for bad input or usage, 1 for any other failure."
    ))]
    Remediate {
        /// Snapshot file; without it, the live account is read.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Only this table (name, or ARN when the name exists in several Regions).
        #[arg(long, value_name = "NAME|ARN")]
        table: Option<String>,
        /// Region to read when live; repeat for several.
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Rule parameters as a JSON object, as in the rule's InputParameters, or @FILE to read
        /// them from a file (@- from standard input).
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
        /// Write the snapshot with each table's first verified action applied, all together.
        #[arg(long, value_name = "OUT")]
        apply_to_snapshot: Option<PathBuf>,
        /// Only say which NON_COMPLIANT tables this tag would protect, and why not the others:
        /// the tag the rule stack's dashboard remediation writes (RemediationTagKey and
        /// RemediationTagValue). Exits 0 when it protects them all, 3 otherwise.
        #[arg(long, value_name = "KEY=VALUE")]
        check_tag: Option<String>,
        /// Show each table's N best verified actions, verifying no more candidates than that
        /// needs (0: verify and list every candidate; a table named by hundreds of selections
        /// has hundreds).
        #[arg(long, value_name = "N", default_value_t = 3)]
        max_actions: usize,
    },
    /// Write a report people can look at: one self-contained HTML page, or Markdown when the
    /// output ends in .md. Coverage by Region, plan and team tag, the top causes, and every
    /// NON_COMPLIANT table with its reason and its first verified fix.
    #[command(after_help = concat!(
        "Without --snapshot it reads the live account, read-only.\n\n",
        "Examples:\n",
        "  dynamodb-backup-rule report --snapshot testdata/snapshots/demo-account.json --output coverage.html\n",
        "  dynamodb-backup-rule report --snapshot account.json --output coverage.md\n\n",
        "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, 2 for bad input or usage, 1 for any other failure."
    ))]
    Report {
        /// Snapshot file; without it, the live account is read.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Region to read when live; repeat for several.
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// Rule parameters as a JSON object, as in the rule's InputParameters, or @FILE to read
        /// them from a file (@- from standard input).
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
        /// Where to write: a file ending in .md (any case) for Markdown, any other for HTML; - for
        /// HTML on standard output.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Explain one table's verdict, selection by selection.
    #[command(after_help = concat!(
        "Examples:\n",
        "  dynamodb-backup-rule explain --snapshot testdata/snapshots/demo-account.json --table orders-archive\n",
        "  dynamodb-backup-rule explain --snapshot account.json \\\n",
        "      --table arn:aws:dynamodb:eu-west-1:111122223333:table/orders --format json\n\n",
        "Exit status: 0 when the table is COMPLIANT or NOT_APPLICABLE, 3 when NON_COMPLIANT, 2 for bad input or usage, 1 for any other failure."
    ))]
    Explain {
        /// Snapshot file (its format: docs/snapshot-format.md); - reads standard input.
        #[arg(long, value_name = "FILE")]
        snapshot: PathBuf,
        /// Table name, or table ARN when the name exists in several Regions.
        #[arg(long, value_name = "NAME|ARN")]
        table: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Rule parameters as a JSON object, exactly as in the Config rule's InputParameters,
        /// e.g. '{"backupVaultLockCheck":"true","crossRegionList":"us-west-2"}', or @FILE to
        /// read them from a file (@- from standard input).
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
        /// Walk every selection of the Region, not only those that mention the table.
        #[arg(long)]
        all: bool,
    },
    /// Audit the live account, read-only: read every table and the Backup configuration, then
    /// evaluate as `evaluate` does. Never calls PutEvaluations.
    #[command(after_help = concat!(
        "Uses the standard AWS environment (AWS_PROFILE, AWS_REGION, SSO, AWS_ENDPOINT_URL, ...).\n\n",
        "Examples:\n",
        "  AWS_PROFILE=security-audit dynamodb-backup-rule audit --region us-east-1 --region eu-west-1\n",
        "  dynamodb-backup-rule audit --format json > evaluations.json\n\n",
        "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, 2 for bad input or usage, 1 for any other failure."
    ))]
    Audit {
        /// Region to audit; repeat for several. Defaults to the configured Region.
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// Output format, as for evaluate: text, json, asff, junit or sarif.
        #[arg(long, value_enum, default_value_t = Export::Text)]
        format: Export,
        /// Cut text lines to this many columns (0: never). Default: the terminal's width when
        /// stdout is a terminal, no limit otherwise.
        #[arg(long, value_name = "COLUMNS")]
        width: Option<usize>,
        /// Rule parameters as a JSON object, exactly as in the Config rule's InputParameters,
        /// e.g. '{"backupVaultLockCheck":"true","crossRegionList":"us-west-2"}', or @FILE to
        /// read them from a file (@- from standard input).
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
        /// With --format asff: write the findings to DIR/findings-<Region>-<n>.json, each a list
        /// of at most 100 findings of one Region, ready for `aws securityhub
        /// batch-import-findings --region <Region> --findings file://<file>`.
        #[arg(long, value_name = "DIR")]
        batch_dir: Option<PathBuf>,
    },
    /// Capture the live account into a snapshot file, to replay any audit offline.
    #[command(after_help = concat!(
        "Examples:\n",
        "  dynamodb-backup-rule snapshot --region us-east-1 --output account.json\n",
        "  dynamodb-backup-rule evaluate --snapshot account.json\n\n",
        "Exit status: 0 when the snapshot was written, 2 for bad input or usage, 1 for any other failure (nothing is written then)."
    ))]
    Snapshot {
        /// Region to capture; repeat for several. Defaults to the configured Region.
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// Where to write the snapshot.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// Skip the recovery points of covered tables (one paced read per covered table), which
        /// `maxRecoveryPointAgeHours` needs when the snapshot is replayed.
        #[arg(long)]
        no_recovery_points: bool,
    },
    /// Run the rule handler on a Config event exactly as the Lambda would, and print the
    /// evaluations it would put. Nothing is ever put.
    #[command(after_help = concat!(
        "With --snapshot it is fully offline; without it, it reads the live account.\n\n",
        "Examples:\n",
        "  dynamodb-backup-rule invoke --event testdata/events/change-covered.json \\\n",
        "      --snapshot testdata/snapshots/demo-account.json\n",
        "  dynamodb-backup-rule invoke --event my-event.json --format json\n\n",
        "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, 2 for bad input or usage, 1 for any other failure."
    ))]
    Invoke {
        /// The Config event, as Lambda receives it; - reads standard input.
        #[arg(long, value_name = "FILE")]
        event: PathBuf,
        /// Serve AWS Backup and tags from this snapshot instead of the live account.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Rule parameters as a JSON object, or @FILE to read them from a file (@- from standard
        /// input); they replace the event's ruleParameters of the same names.
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
    },
}

/// A verdict to keep; Config's own spellings (`NON_COMPLIANT`), which the tool prints, too.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Only {
    #[value(alias = "NON_COMPLIANT")]
    NonCompliant,
    #[value(alias = "COMPLIANT")]
    Compliant,
    #[value(alias = "NOT_APPLICABLE")]
    NotApplicable,
}

/// An order for tables.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    File,
    Verdict,
    Table,
    Region,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The formats of `evaluate` and `audit`: those of every command, and those other tools read.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Export {
    Text,
    Json,
    /// AWS Security Finding Format: the body of Security Hub's BatchImportFindings.
    Asff,
    /// JUnit XML: a test case per table, a failure per NON_COMPLIANT table.
    Junit,
    /// SARIF 2.1.0, with each table as a logical location.
    Sarif,
}

/// Reads a snapshot file, warning on stderr about what it ignores.
/// What a file handed to `--snapshot` or `--event` holds, before it is read as either.
fn check_document(path: &Path, text: &str, want: &str) -> Result<(), Error> {
    let flag = if want == "snapshot" {
        "--snapshot"
    } else {
        "--event"
    };
    let wrong = |expected: String| Error::Usage {
        flag: flag.to_string(),
        expected,
        source: None,
    };
    let file = path.display();
    if text.trim().is_empty() {
        return Err(wrong(format!("a {want} file; {file} is empty")));
    }
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| wrong(format!("a {want} file in JSON; {file} is not JSON ({e})")))?;
    let is_event = doc.get("invokingEvent").is_some();
    let is_snapshot = doc.get("Regions").is_some() || doc.get("AccountId").is_some();
    match want {
        "snapshot" if is_event => Err(wrong(format!(
            "a snapshot; {file} is an AWS Config event: run it with `invoke --event {file}`"
        ))),
        "event" if is_snapshot && !is_event => Err(wrong(format!(
            "an AWS Config event; {file} is a snapshot: evaluate it with `evaluate --snapshot {file}`, or pass it to `invoke` as --snapshot"
        ))),
        _ => Ok(()),
    }
}

fn load(path: &Path, strict: bool) -> Result<Snapshot, Error> {
    let text = read_text(path)?;
    check_document(path, &text, "snapshot")?;
    let (snapshot, found) = snapshot::parse_checked(&text, strict)?;
    if !found.unknown_keys.is_empty() {
        eprintln!(
            "warning: {}: {} unknown key(s) ignored (--strict makes them errors): {}",
            path.display(),
            found.unknown_keys.len(),
            found.unknown_keys.join(", ")
        );
    }
    if !found.unknown_values.is_empty() {
        eprintln!(
            "warning: {}: unknown table status(es), such tables are NOT_APPLICABLE: {}",
            path.display(),
            found.unknown_values.join(", ")
        );
    }
    Ok(snapshot)
}

/// Fails at once when `path` cannot be written, leaving no file behind that was not there.
fn check_writable(path: &Path) -> Result<(), Error> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Error::Usage {
            flag: "--output".into(),
            expected: format!("a file that can be written; {}: {e}", path.display()),
            source: Some(e),
        })?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// A file's text, or standard input's for `-`.
fn read_text(path: &Path) -> Result<String, Error> {
    let read = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    };
    read.map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Output that ends quietly when the reader goes away (`evaluate … | head -1`): the rest is
/// discarded, and the exit status still follows the verdicts.
struct QuietPipe<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> Write for QuietPipe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)
}

/// The Regions to read: those given, or the configured one.
fn regions(env: &AwsEnv, given: Vec<String>) -> Result<Vec<String>, Error> {
    if !given.is_empty() {
        // Alphabetical, like a snapshot file, so an audit and its replay print the same.
        let mut regions = given;
        regions.sort();
        regions.dedup();
        return Ok(regions);
    }
    env.default_region()
        .map(|r| vec![r])
        .ok_or_else(|| Error::Usage {
            flag: "--region".into(),
            expected: "a Region: pass --region, or set AWS_REGION or a profile Region".into(),
            source: None,
        })
}

/// Reads the live account. With `points` (rule parameters), it also reads the recovery points
/// of the tables whose decision, under those parameters, waits on them: the rule's one path
/// picks them, as it does in the Lambda.
fn capture(given: Vec<String>, points: Option<&RuleParameters>) -> Result<Snapshot, Error> {
    let feedback = feedback::Feedback::new(QUIET.load(std::sync::atomic::Ordering::Relaxed))?;
    let pick = |params: &RuleParameters, catalog: &RegionCatalog, tables: &[Table]| {
        let index = CatalogIndex::new(catalog);
        tables
            .iter()
            .map(|t| rule::decide(params, t, &index).needs_recovery_points())
            .collect::<Vec<bool>>()
    };
    let chooser = points.map(|p| move |c: &RegionCatalog, t: &[Table]| pick(p, c, t));
    runtime()?.block_on(async {
        let env = AwsEnv::from_env(Settings::from_env()?).await;
        let regions = regions(&env, given)?;
        let points_for = chooser
            .as_ref()
            .map(|f| f as &dynamodb_backup_rule::aws::PointsFor<'_>);
        env.capture(&regions, points_for, &feedback).await
    })
}

/// The parameters that pick the tables a capture reads recovery points of: those of the
/// command when they judge recovery points, else none.
fn points_wanted(params: &RuleParameters) -> Option<&RuleParameters> {
    params
        .policy
        .recovery_point_age_hours
        .is_some()
        .then_some(params)
}

/// `--quiet`: no progress lines.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--parameters` as a JSON object (empty when not given).
fn parameter_map(given: Option<&str>) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let Some(given) = given else {
        return Ok(serde_json::Map::new());
    };
    // `@file.json` reads the parameters from a file (`@-`: standard input).
    let read;
    let text = match given.strip_prefix('@') {
        Some(path) => {
            read = read_text(Path::new(path))?;
            read.as_str()
        }
        None => given,
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::InvalidParameters {
            name: "--parameters".into(),
            expected: "a JSON object such as {\"backupVaultLockCheck\":\"true\"}".into(),
            source: None,
        }),
        Err(e) => Err(Error::InvalidParameters {
            name: "--parameters".into(),
            expected: match text.split_once('=') {
                // `name=value`, the stack parameter's way of writing it.
                Some((k, v)) if !text.trim_start().starts_with('{') => format!(
                    "a JSON object, for example '{{\"{}\":\"{}\"}}' (got `{text}`)",
                    k.trim(),
                    v.trim()
                ),
                _ => format!(
                    "a JSON object, for example '{{\"backupVaultLockCheck\":\"true\"}}' ({e})"
                ),
            },
            source: Some(e),
        }),
    }
}

fn rule_parameters(given: Option<&str>) -> Result<RuleParameters, Error> {
    RuleParameters::parse(&parameter_map(given)?)
}

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
