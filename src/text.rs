//! PURE. Strings read from AWS, shown to people. Every one is untrusted: a selection name, a tag
//! value or a pattern can hold a newline, an escape sequence or Markdown. What reaches a terminal,
//! a reason, an annotation or a report goes through [`shown`], so that a stored newline can never
//! start a line that looks like a command, and an escape sequence never reaches a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character (C0, DEL, C1) written as a visible escape: `\n`, `\r`,
/// `\t`, `\u{1b}`. Everything else is kept as it is.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A string read from AWS, displayed through [`shown`]: for `format!` arguments.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&shown(self.0))
    }
}

/// Why DynamoDB would refuse a tag, or `None` when it can store it: keys of 1 to 128 characters
/// and values of up to 256, of letters, numbers, white space and `+ - = . _ : /`, and no key
/// starting with the reserved `aws:` (DynamoDB's tagging restrictions).
pub fn unstorable_tag(key: &str, value: &str) -> Option<String> {
    let allowed = |c: char| {
        c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "+-=._:/".contains(c)
    };
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 {
        return Some(format!(
            "tag key `{}` has {key_len} characters; DynamoDB takes 1 to 128",
            shown(key)
        ));
    }
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        return Some(format!(
            "tag key `{}` starts with the reserved prefix aws:",
            shown(key)
        ));
    }
    if value.chars().count() > 256 {
        return Some(format!(
            "the value of tag `{}` is longer than DynamoDB's 256 characters",
            shown(key)
        ));
    }
    for (what, s) in [("key", key), ("value", value)] {
        if let Some(bad) = s.chars().find(|c| !allowed(*c)) {
            return Some(format!(
                "tag {what} `{}` holds `{}`, which DynamoDB does not allow in tags (letters, numbers, white space and + - = . _ : / only)",
                shown(s),
                shown(&bad.to_string())
            ));
        }
    }
    None
}

/// A `SelectionName` from `base`, within the API's pattern `[a-zA-Z0-9\-\_\.]{1,50}` and unused by
/// `taken`: other characters become `-`, a long name is cut and given a short digest of the
/// whole so that two long names stay apart, and a clash gets a counter.
pub fn selection_name(base: &str, taken: &[&str]) -> String {
    const MAX: usize = 50;
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let fit = |s: &str, suffix: &str| -> String {
        if s.len() + suffix.len() <= MAX {
            format!("{s}{suffix}")
        } else {
            let digest = format!("-{:08x}", fnv1a(s) as u32);
            let keep = MAX - suffix.len() - digest.len();
            format!("{}{digest}{suffix}", &s[..keep])
        }
    };
    let mut name = fit(&clean, "");
    let mut n = 2;
    while taken.contains(&name.as_str()) {
        name = fit(&clean, &format!("-{n}"));
        n += 1;
    }
    name
}

/// FNV-1a: a stable digest for names (not for security).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(shown("plain `x` é"), "plain `x` é");
        assert_eq!(
            shown("a\nb\r\tc\u{1b}[31m\u{85}"),
            "a\\nb\\r\\tc\\u{1b}[31m\\u{85}"
        );
        assert!(!shown("x\n$ aws s3 rm").contains('\n'));
    }

    #[test]
    fn tags_dynamodb_cannot_store_are_named() {
        assert_eq!(unstorable_tag("backup", "daily plan 2"), None);
        assert_eq!(unstorable_tag("a+b-c=d.e_f:g/h", "ü 1"), None);
        assert!(unstorable_tag("aws:backup", "x")
            .unwrap()
            .contains("reserved"));
        assert!(unstorable_tag("AWS:backup", "x")
            .unwrap()
            .contains("reserved"));
        assert!(unstorable_tag("k", "$(id)").unwrap().contains("`$`"));
        assert!(unstorable_tag("k", "a,b").is_some());
        assert!(unstorable_tag("", "x").is_some());
        assert!(unstorable_tag(&"k".repeat(129), "x").is_some());
        assert!(unstorable_tag("k", &"v".repeat(257)).is_some());
        assert!(unstorable_tag("k", "line\nbreak").is_some());
    }

    #[test]
    fn selection_names_fit_the_api_pattern_and_stay_unique() {
        let long = format!("protect-{}", "t".repeat(60));
        let name = selection_name(&long, &[]);
        assert!(name.len() <= 50, "{name}");
        let other = selection_name(&format!("protect-{}x", "t".repeat(60)), &[]);
        assert_ne!(name, other);
        assert_eq!(selection_name("protect-orders", &[]), "protect-orders");
        assert_eq!(
            selection_name("protect-orders", &["protect-orders"]),
            "protect-orders-2"
        );
        let clash = selection_name(&long, &[name.as_str()]);
        assert!(clash.len() <= 50 && clash != name, "{clash}");
        assert_eq!(selection_name("a b/c", &[]), "a-b-c");
    }
}
