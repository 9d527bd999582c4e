//! The files and parameters a command reads, and the standard output it writes to.

use dynamodb_backup_rule::model::Snapshot;
use dynamodb_backup_rule::params::RuleParameters;
use dynamodb_backup_rule::{snapshot, Error};
use std::io::Write;
use std::path::Path;

/// What a file handed to `--snapshot` or `--event` holds, before it is read as either.
pub(crate) fn check_document(path: &Path, text: &str, want: &str) -> Result<(), Error> {
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
    // Only the top-level keys matter here; the values are skipped, not built (a snapshot can be
    // megabytes, and its parser reads it again).
    #[derive(serde::Deserialize)]
    #[allow(non_snake_case)]
    struct Kind {
        invokingEvent: Option<serde::de::IgnoredAny>,
        Regions: Option<serde::de::IgnoredAny>,
        AccountId: Option<serde::de::IgnoredAny>,
    }
    let kind = match serde_json::from_str::<Kind>(text) {
        Ok(kind) => kind,
        // Valid JSON of another shape: the parser that follows names what it expected.
        Err(e) if e.classify() == serde_json::error::Category::Data => return Ok(()),
        Err(e) => {
            return Err(wrong(format!(
                "a {want} file in JSON; {file} is not JSON ({e})"
            )))
        }
    };
    let is_event = kind.invokingEvent.is_some();
    let is_snapshot = kind.Regions.is_some() || kind.AccountId.is_some();
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

/// Reads a snapshot file, warning on stderr about what it ignores.
pub(crate) fn load(path: &Path, strict: bool) -> Result<Snapshot, Error> {
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
pub(crate) fn check_writable(path: &Path) -> Result<(), Error> {
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
pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
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
pub(crate) struct QuietPipe<W> {
    pub(crate) inner: W,
    pub(crate) closed: bool,
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

/// `--parameters` as a JSON object (empty when not given).
pub(crate) fn parameter_map(
    given: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
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

pub(crate) fn rule_parameters(given: Option<&str>) -> Result<RuleParameters, Error> {
    RuleParameters::parse(&parameter_map(given)?)
}
