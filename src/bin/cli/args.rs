//! The command line's grammar: the commands, their flags and help texts.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub(crate) const EXIT_STATUS: &str =
    "Exit status: 0 when nothing is NON_COMPLIANT, 3 when anything is, \
2 for bad input or usage, 1 for any other failure.";

/// Tells, table by table, whether each DynamoDB table is really protected by an AWS Backup plan.
#[derive(Debug, Parser)]
#[command(name = "dynamodb-backup-rule", version, after_help = EXIT_STATUS)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Make unknown keys in a snapshot file errors, not a warning (a near miss of a known key,
    /// such as `Condition` for `Conditions`, is always an error).
    #[arg(long, global = true)]
    pub(crate) strict: bool,
    /// Log what is being read to stderr (RUST_LOG refines it), and print the full chain of an
    /// error instead of its one-line summary.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
    /// No progress lines on stderr while live modes read the account.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    /// Check CloudFormation or SAM templates and Terraform plans before deploying: would each
    /// DynamoDB table they create or update be protected by the account's AWS Backup plans?
    /// Judged against a snapshot, or the live account read-only.
    #[command(
        name = "check-template",
        after_help = concat!(
            "Templates in YAML (short-form tags such as !Ref and !Sub) or JSON (cdk synth output), SAM's\n",
            "AWS::Serverless::SimpleTable, and Terraform plans from `terraform show -json` are told apart by content.\n",
            "A table is COMPLIANT only if it is provably protected: a generated name, a parameter with no value\n",
            "or a tag known only at deployment is unknown, and the reason says which.\n\n",
            "Examples:\n",
            "  dynamodb-backup-rule check-template testdata/templates/shop.yaml \\\n",
            "      --snapshot testdata/snapshots/demo-account.json --region us-east-1 --stack-name shop\n",
            "  terraform show -json plan.out > plan.json\n",
            "  dynamodb-backup-rule check-template plan.json --snapshot account.json --format sarif > checks.sarif\n\n",
            "Exit status: 0 when every table would be protected, 3 when some would not, 2 for bad input or usage, 1 for any other failure."
        )
    )]
    CheckTemplate {
        /// Templates and plans to check; - reads standard input.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
        /// Snapshot file to judge against; without it, the live account is read, read-only.
        #[arg(long, value_name = "FILE")]
        snapshot: Option<PathBuf>,
        /// The Region the stack deploys to (AWS::Region); for a Terraform plan, used when the
        /// provider's Region is not in the plan.
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// The stack's name (AWS::StackName): generated table names start with it.
        #[arg(long, value_name = "NAME")]
        stack_name: Option<String>,
        /// A template parameter's value, KEY=VALUE; repeat for more. Others take their Default.
        #[arg(long = "template-parameter", value_name = "KEY=VALUE")]
        template_parameters: Vec<String>,
        /// Rule parameters as a JSON object, exactly as in the Config rule's InputParameters, or
        /// @FILE.
        #[arg(long, value_name = "JSON")]
        parameters: Option<String>,
        /// Output format: text, JSON, SARIF (with file and line, for code scanning) or JUnit.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
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
pub(crate) enum Only {
    #[value(alias = "NON_COMPLIANT")]
    NonCompliant,
    #[value(alias = "COMPLIANT")]
    Compliant,
    #[value(alias = "NOT_APPLICABLE")]
    NotApplicable,
}

/// An order for tables.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Sort {
    File,
    Verdict,
    Table,
    Region,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

/// The formats of `check-template`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CheckFormat {
    Text,
    Json,
    /// SARIF 2.1.0, each result at the resource's file and line.
    Sarif,
    /// JUnit XML: a test case per table and Region.
    Junit,
}

/// The formats of `evaluate` and `audit`: those of every command, and those other tools read.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Export {
    Text,
    Json,
    /// AWS Security Finding Format: the body of Security Hub's BatchImportFindings.
    Asff,
    /// JUnit XML: a test case per table, a failure per NON_COMPLIANT table.
    Junit,
    /// SARIF 2.1.0, with each table as a logical location.
    Sarif,
}
