//! The `dynamodb-backup-rule` command line. Glue only: parse flags, load, call the library,
//! print, and map the outcome to an exit status.

use clap::{Parser, Subcommand, ValueEnum};
use dynamodb_backup_rule::{coverage::Compliance, report, rule, snapshot, Error};
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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate every table in a snapshot file, offline.
    #[command(after_help = concat!(
        "Examples:\n",
        "  dynamodb-backup-rule evaluate --snapshot testdata/snapshots/demo-account.json\n",
        "  dynamodb-backup-rule evaluate --snapshot account.json --format json > evaluations.json\n\n",
        "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, 2 for bad input or usage, 1 for any other failure."
    ))]
    Evaluate {
        /// Snapshot file (see the README for the format).
        #[arg(long, value_name = "FILE")]
        snapshot: PathBuf,
        /// Output format: an aligned table with a summary, or {"Evaluations": [...]}.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain one table's verdict, selection by selection.
    #[command(after_help = concat!(
        "Examples:\n",
        "  dynamodb-backup-rule explain --snapshot testdata/snapshots/demo-account.json --table orders\n",
        "  dynamodb-backup-rule explain --snapshot account.json \\\n",
        "      --table arn:aws:dynamodb:eu-west-1:111122223333:table/orders --format json\n\n",
        "Exit status: 0 when the table is COMPLIANT or NOT_APPLICABLE, 3 when NON_COMPLIANT, 2 for bad input or usage, 1 for any other failure."
    ))]
    Explain {
        /// Snapshot file (see the README for the format).
        #[arg(long, value_name = "FILE")]
        snapshot: PathBuf,
        /// Table name, or table ARN when the name exists in several Regions.
        #[arg(long, value_name = "NAME|ARN")]
        table: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn load(path: &Path) -> Result<dynamodb_backup_rule::model::Snapshot, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    snapshot::parse(&text)
}

/// Runs a command; `Ok(true)` when something is NON_COMPLIANT.
fn run(command: Command, out: &mut impl Write) -> Result<bool, Error> {
    match command {
        Command::Evaluate { snapshot, format } => {
            let snapshot = load(&snapshot)?;
            let evaluations = rule::evaluate_snapshot(&snapshot);
            match format {
                Format::Text => report::write_evaluations_text(out, &evaluations),
                Format::Json => report::write_evaluations_json(out, &evaluations),
            }
            .map_err(Error::Output)?;
            Ok(report::Summary::of(&evaluations).non_compliant > 0)
        }
        Command::Explain {
            snapshot,
            table,
            format,
        } => {
            let snapshot = load(&snapshot)?;
            let (region, explanation) = rule::explain(&snapshot, &table)?;
            match format {
                Format::Text => report::write_explanation_text(out, region, &explanation),
                Format::Json => report::write_explanation_json(out, region, &explanation),
            }
            .map_err(Error::Output)?;
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
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result =
        run(cli.command, &mut out).and_then(|nc| out.flush().map(|_| nc).map_err(Error::Output));
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}
