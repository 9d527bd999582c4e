//! What a person reads when something fails: logs on stderr, and one actionable line per error
//! (the whole chain behind -v).

use dynamodb_backup_rule::Error;
use std::path::PathBuf;

/// Logs go to stderr, never stdout (stdout is the output). Quiet unless -v or RUST_LOG.
pub(crate) fn init_logging(verbose: bool) {
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
pub(crate) fn profile_exists(name: &str) -> bool {
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
pub(crate) fn summary(e: &Error) -> String {
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
pub(crate) fn chain(e: &Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(&format!("\n  caused by: {s}"));
        source = s.source();
    }
    out
}
