//! ARN patterns and `StringLike` values: the glob AWS Backup documents, and every place where
//! the documentation leaves two readings open.
//!
//! AWS Backup treats an ARN pattern as one string: `*` is "zero or more non-whitespace
//! characters" and crosses `:` and `/` (unlike IAM's `ArnLike`, which checks each segment).
//! Everything else is literal and case-sensitive. No regex engine sees a user pattern, so `.`
//! or `[` can never turn into syntax.

use super::tri::Tri;
use serde::Serialize;
use std::fmt;

/// A construct whose meaning AWS leaves open. Each one makes a check `Unknown`, and its
/// `Display` is the "why" a user reads in the annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "Kind", content = "Detail")]
pub enum Ambiguity {
    /// `*` somewhere other than the end, a whole Region or account segment (A1).
    WildcardPosition,
    /// `?` may be a one-character wildcard (IAM) or a literal (A2).
    QuestionMark,
    /// `arn:aws:dynamodb:::table/…`: empty segments, probably lost asterisks (A3).
    EmptySegments,
    /// A `Conditions` key without the exact `aws:ResourceTag/` prefix (A5).
    ConditionKeyPrefix,
    /// A `ListOfTags` key whose prefix differs from `aws:ResourceTag/` only in case.
    TagKeyPrefixCase,
    /// A `Conditions` operator AWS Backup does not document.
    UnsupportedOperator(String),
    /// `ResourceTypeOptInPreference` has no `DynamoDB` key (A7).
    OptInKeyAbsent,
    /// The Region's opt-in settings were not captured at all.
    OptInNotCaptured,
    /// The table's name is generated at deployment and the pattern looks past its known start.
    GeneratedName,
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ambiguity::WildcardPosition => f.write_str(
                "wildcard position not supported by AWS Backup (only a trailing or whole-segment `*`)",
            ),
            Ambiguity::QuestionMark => {
                f.write_str("`?` is not documented by AWS Backup (wildcard or literal)")
            }
            Ambiguity::EmptySegments => f.write_str(
                "empty Region/account segment matches no real ARN; did you mean arn:aws:dynamodb:*:*:table/*?",
            ),
            Ambiguity::ConditionKeyPrefix => {
                f.write_str("condition key lacks the exact `aws:ResourceTag/` prefix")
            }
            Ambiguity::TagKeyPrefixCase => {
                f.write_str("tag key prefix differs from `aws:ResourceTag/` in case")
            }
            Ambiguity::UnsupportedOperator(op) => {
                write!(f, "condition operator `{op}` is not supported by AWS Backup")
            }
            Ambiguity::OptInKeyAbsent => {
                f.write_str("DescribeRegionSettings has no DynamoDB opt-in key")
            }
            Ambiguity::OptInNotCaptured => f.write_str("service opt-in settings were not captured"),
            Ambiguity::GeneratedName => f.write_str(
                "the table's name is generated at deployment, and this pattern depends on the part not known before (give the table a TableName to decide it)",
            ),
        }
    }
}

/// The outcome of one pattern or condition check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// yes / no / unknown.
    pub value: Tri,
    /// Why it is unknown; `None` when the value is definite.
    pub ambiguity: Option<Ambiguity>,
}

impl Match {
    /// A definite answer.
    pub fn definite(b: bool) -> Match {
        Match {
            value: Tri::from_bool(b),
            ambiguity: None,
        }
    }

    /// An unknown answer and why.
    pub fn unknown(why: Ambiguity) -> Match {
        Match {
            value: Tri::Unknown,
            ambiguity: Some(why),
        }
    }
}

/// Byte-exact glob: `*` matches any run of bytes (including none, `:` and `/`); every other byte
/// matches only itself. Linear-time two-pointer matching with one backtrack point, so a hostile
/// pattern cannot blow up.
///
/// Matching bytes is exact for UTF-8: a literal run always starts on a character boundary and a
/// leading byte never equals a continuation byte, so no match can start mid-character.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // Position after the last `*` seen, and the text position it is currently anchored at.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p + 1, t));
                p += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                // Let the last `*` swallow one more byte and retry. Earlier stars never need
                // to move: the last star can absorb anything they could.
                Some((after_star, anchor)) => {
                    p = after_star;
                    t = anchor + 1;
                    backtrack = Some((after_star, anchor + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// One way of reading a pattern whose documentation is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// `?` matches exactly one character (IAM) instead of itself.
    pub question_mark_is_wildcard: bool,
    /// `*` matches only non-whitespace characters (AWS Backup's wording) instead of anything.
    pub star_skips_whitespace: bool,
}

/// Glob under an explicit reading, by dynamic programming over characters. Slower than [`glob`]
/// but obviously correct; it runs only when a pattern has `?` or a value has whitespace, and it
/// is the reference the property tests hold [`glob`] to.
pub fn glob_reading(pattern: &str, text: &str, reading: Reading) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // prev[j]: does p[..i-1] match t[..j]; cur[j]: does p[..i] match t[..j].
    let mut prev = vec![false; t.len() + 1];
    prev[0] = true;
    for &pc in &p {
        let mut cur = vec![false; t.len() + 1];
        if pc == '*' {
            cur[0] = prev[0];
        }
        for j in 1..=t.len() {
            let tc = t[j - 1];
            cur[j] = match pc {
                '*' => {
                    prev[j]
                        || (cur[j - 1] && !(reading.star_skips_whitespace && tc.is_whitespace()))
                }
                '?' if reading.question_mark_is_wildcard => prev[j - 1],
                _ => prev[j - 1] && pc == tc,
            };
        }
        prev = cur;
    }
    prev[t.len()]
}

/// Splits an ARN-shaped pattern into its six colon-separated parts (the resource part keeps its
/// own colons), or `None` when it is not `arn:…` with six parts.
fn arn_parts(pattern: &str) -> Option<[&str; 6]> {
    // Without collecting into a Vec: this runs for every pattern of every traced selection.
    if !pattern.starts_with("arn:") {
        return None;
    }
    let mut it = pattern.splitn(6, ':');
    let mut parts = [""; 6];
    for part in &mut parts {
        *part = it.next()?;
    }
    Some(parts)
}

/// Whether every `*` in the pattern sits where AWS Backup documents wildcards: the whole
/// pattern, a whole Region or account segment, or the last character.
pub fn wildcard_positions_supported(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let last = pattern.len().saturating_sub(1);
    let mut offset = 0;
    for (segment, part) in pattern.splitn(6, ':').enumerate() {
        let whole_segment = (segment == 3 || segment == 4) && part == "*";
        for (i, _) in part.match_indices('*') {
            if !(whole_segment || offset + i == last) {
                return false;
            }
        }
        offset += part.len() + 1;
    }
    true
}

/// The pattern with empty Region/account segments filled with `*`, or `None` when it has none.
/// This is the "lost asterisk" reading of AWS's own `arn:aws:ec2:::instance/*` example.
pub fn fill_empty_segments(pattern: &str) -> Option<String> {
    let mut parts = arn_parts(pattern)?;
    if !parts[3].is_empty() && !parts[4].is_empty() {
        return None;
    }
    for i in [3, 4] {
        if parts[i].is_empty() {
            parts[i] = "*";
        }
    }
    Some(parts.join(":"))
}

/// Whether a `Resources` pattern names the DynamoDB *table* resource type
/// (`arn:<p>:dynamodb:<r>:<a>:table/…`, exact ARNs included). Such an assignment is explicit,
/// so AWS Backup backs the table up even with DynamoDB opt-in off; `*` and `arn:aws:dynamodb:*`
/// are not explicit.
pub fn names_table_type(pattern: &str) -> bool {
    arn_parts(pattern).is_some_and(|p| p[2] == "dynamodb" && p[5].starts_with("table/"))
}

/// Does a `Resources`/`NotResources` pattern match this ARN?
///
/// `True` only when every plausible reading matches; see the ambiguity register (spec §8).
pub fn arn_match(pattern: &str, arn: &str) -> Match {
    if pattern == "*" {
        return Match::definite(true);
    }
    // An exact ARN, the commonest pattern: equal is a definite match, and unequal a definite
    // miss unless an empty segment (`::`) allows the lost-asterisk reading.
    if !pattern.bytes().any(|b| b == b'*' || b == b'?') {
        if pattern == arn {
            return Match::definite(true);
        }
        if !pattern.contains("::") {
            return Match::definite(false);
        }
    }
    if let Some(fast) = simple_arn_match(pattern, arn) {
        return fast;
    }
    let literal_q = glob(pattern.as_bytes(), arn.as_bytes());
    if pattern.contains('?') {
        let wildcard_q = glob_reading(
            pattern,
            arn,
            Reading {
                question_mark_is_wildcard: true,
                star_skips_whitespace: false,
            },
        );
        if wildcard_q != literal_q {
            return Match::unknown(Ambiguity::QuestionMark);
        }
    }
    if !literal_q {
        // The lost-asterisk reading (A3) combines with either reading of `?` (A2): any of them
        // matching makes the answer unknown, never a definite no (which in `NotResources` would
        // be a false COMPLIANT).
        let lost_asterisks = fill_empty_segments(pattern).is_some_and(|filled| {
            glob(filled.as_bytes(), arn.as_bytes())
                || (pattern.contains('?')
                    && glob_reading(
                        &filled,
                        arn,
                        Reading {
                            question_mark_is_wildcard: true,
                            star_skips_whitespace: false,
                        },
                    ))
        });
        return if lost_asterisks {
            Match::unknown(Ambiguity::EmptySegments)
        } else {
            Match::definite(false)
        };
    }
    if !wildcard_positions_supported(pattern) {
        return Match::unknown(Ambiguity::WildcardPosition);
    }
    Match::definite(true)
}

/// The commonest patterns decided segment by segment, without the general glob: a literal
/// partition and service, a Region and an account each literal or a whole-segment `*`, and a
/// resource part literal or a literal prefix with one trailing `*` (`arn:aws:dynamodb:*:*:table/*`,
/// an exact table ARN, a name prefix). With both the pattern and the ARN of exactly six
/// `:`-separated parts, a `*` cannot reach across a `:` and stay matched, so the glob agrees
/// segment by segment; every `*` is in a supported position, so a match is definite, and so is
/// a miss unless an empty Region or account allows the lost-asterisk reading (left to the
/// general path). `None` for every other form.
fn simple_arn_match(pattern: &str, arn: &str) -> Option<Match> {
    if pattern.contains('?') || arn.bytes().filter(|b| *b == b':').count() != 5 {
        return None;
    }
    let p = arn_parts(pattern)?;
    if p[5].contains(':') || p[3].is_empty() || p[4].is_empty() {
        return None;
    }
    let a = arn_parts(arn)?;
    let literal = |s: &str| !s.contains('*');
    let segment = |s: &str| s == "*" || literal(s);
    let resource_ok = match p[5].find('*') {
        None => true,
        Some(i) => i + 1 == p[5].len(),
    };
    if !(literal(p[1]) && literal(p[2]) && segment(p[3]) && segment(p[4]) && resource_ok) {
        return None;
    }
    let seg = |pat: &str, val: &str| pat == "*" || pat == val;
    let resource = match p[5].strip_suffix('*') {
        Some(prefix) => a[5].starts_with(prefix),
        None => p[5] == a[5],
    };
    Some(Match::definite(
        p[0] == a[0]
            && p[1] == a[1]
            && p[2] == a[2]
            && seg(p[3], a[3])
            && seg(p[4], a[4])
            && resource,
    ))
}

/// The part of a table ARN every table of one account and Region shares:
/// `arn:<partition>:dynamodb:<region>:<account>:table/`. `None` for an ARN not of exactly six
/// `:`-separated parts ending in `table/<name>` with a non-empty name; such a table is never
/// decided through [`head_only`].
pub fn table_head(arn: &str) -> Option<&str> {
    if arn.bytes().filter(|b| *b == b':').count() != 5 {
        return None;
    }
    let (_, resource) = arn.rsplit_once(':')?;
    let name = resource.strip_prefix("table/")?;
    (!name.is_empty()).then(|| &arn[..arn.len() - name.len()])
}

/// How a pattern's answer depends on a table with a [`table_head`]: `Some(may_match)` when the
/// answer is the same for every table sharing a head, whatever its name; `None` when the name
/// matters. Only `*` and the forms [`simple_arn_match`] decides qualify, so the answer is one
/// segment-by-segment comparison: the head fixes the first five segments and the resource part
/// starts `table/` followed by a name without `:`. A resource part that is a prefix of `table/`,
/// or that can never start a table's resource part, does not look at the name.
///
/// `may_match` is `true` when some table head can match: the pattern is worth tracing at all.
pub fn head_only(pattern: &str) -> Option<bool> {
    if pattern == "*" {
        return Some(true);
    }
    // The same shape test as `simple_arn_match`, on the pattern alone.
    if pattern.contains('?') {
        return None;
    }
    let p = arn_parts(pattern)?;
    if p[5].contains(':') || p[3].is_empty() || p[4].is_empty() {
        return None;
    }
    let literal = |s: &str| !s.contains('*');
    let segment = |s: &str| s == "*" || literal(s);
    if !(literal(p[1]) && literal(p[2]) && segment(p[3]) && segment(p[4])) {
        return None;
    }
    const TABLE: &str = "table/";
    let resource_may_match = match p[5].find('*') {
        // A prefix: `tab*` and `table/*` match every name; `table/prod-*` depends on it.
        Some(i) if i + 1 == p[5].len() => {
            let prefix = &p[5][..i];
            if prefix.len() <= TABLE.len() {
                TABLE.starts_with(prefix)
            } else if prefix.starts_with(TABLE) {
                return None;
            } else {
                false
            }
        }
        Some(_) => return None,
        // A literal resource: an exact table ARN depends on the name; anything else never
        // equals `table/<name>` with a non-empty name.
        None if p[5].starts_with(TABLE) && p[5].len() > TABLE.len() => return None,
        None => false,
    };
    Some(resource_may_match && p[2] == "dynamodb")
}

/// Does a pattern match the ARN of a table whose name is generated at deployment, of which
/// only the start `known` (`arn:…:table/<stack>-<logical ID>-`) is known?
///
/// `True` when every completion matches (a `*`-terminated literal the known start already
/// satisfies, or a pattern that does not look at the name), `False` when none can under any
/// reading (the literal start of the pattern, and of its lost-asterisk reading, disagrees with
/// the known start), and otherwise unknown.
pub fn arn_match_generated(pattern: &str, known: &str) -> Match {
    if head_only(pattern).is_some() {
        // The same answer for every name under the head, so any completion stands for all.
        return arn_match(pattern, &format!("{known}x"));
    }
    let wildcard = |c: char| c == '*' || c == '?';
    let literal_start = |p: &str| p[..p.find(wildcard).unwrap_or(p.len())].to_string();
    let compatible = |start: &str| start.starts_with(known) || known.starts_with(start);
    if let Some(fixed) = pattern.strip_suffix('*') {
        if !fixed.contains(wildcard) && known.starts_with(fixed) {
            return Match::definite(true);
        }
    }
    let lost_asterisks = fill_empty_segments(pattern);
    let may_match = compatible(&literal_start(pattern))
        || lost_asterisks.is_some_and(|filled| compatible(&literal_start(&filled)));
    if may_match {
        Match::unknown(Ambiguity::GeneratedName)
    } else {
        Match::definite(false)
    }
}

/// `StringLike` matching of a tag value. `*` is "zero or more non-whitespace characters", as
/// AWS Backup's CLI guide, its console guide and a published test say (spec A4, decided): it
/// never matches a space, so `prod*` does not match `prod server`. `?` may or may not be a
/// wildcard (A2); when its readings disagree the answer is unknown.
pub fn like(pattern: &str, value: &str) -> Match {
    let read = |q| {
        glob_reading(
            pattern,
            value,
            Reading {
                question_mark_is_wildcard: q,
                star_skips_whitespace: true,
            },
        )
    };
    let has_ws = value.chars().any(char::is_whitespace);
    let base = if has_ws {
        read(false)
    } else {
        glob(pattern.as_bytes(), value.as_bytes())
    };
    if pattern.contains('?') && read(true) != base {
        return Match::unknown(Ambiguity::QuestionMark);
    }
    Match::definite(base)
}

/// The longest prefix every reading of the pattern requires of a matching ARN, or the whole
/// pattern (`exact = true`) when the pattern can only ever match itself. The selection index
/// uses it; it must never be longer than the truth, or a table would miss a candidate.
pub fn required_prefix(pattern: &str) -> (&str, bool) {
    let mut end = pattern.find(['*', '?']).unwrap_or(pattern.len());
    if let Some(parts) = arn_parts(pattern) {
        if parts[3].is_empty() || parts[4].is_empty() {
            // The lost-asterisk reading rewrites from the Region segment on.
            let region_start = parts[..3].iter().map(|p| p.len() + 1).sum::<usize>();
            end = end.min(region_start);
        }
    }
    (&pattern[..end], end == pattern.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDERS: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";

    #[test]
    fn star_crosses_colons_and_slashes() {
        // GIVEN service-level and Region-level patterns, THEN `*` spans `:` and `/`.
        assert!(glob(b"arn:aws:dynamodb:*", ORDERS.as_bytes()));
        assert!(glob(b"arn:aws:dynamodb:us-east-1:*", ORDERS.as_bytes()));
        assert!(glob(b"*", ORDERS.as_bytes()));
        assert!(glob(b"*orders", ORDERS.as_bytes()));
    }

    #[test]
    fn literal_characters_are_exact_and_case_sensitive() {
        assert!(!glob(
            b"arn:aws:dynamodb:us-east-1:111122223333:table/Orders",
            ORDERS.as_bytes()
        ));
        assert!(!glob(
            b"arn:aws:dynamodb:us-east-1:111122223333:table/order",
            ORDERS.as_bytes()
        ));
        assert!(!glob(
            b"arn:aws:dynamodb:us-east-1:111122223333:table/app.orders",
            b"arn:aws:dynamodb:us-east-1:111122223333:table/appXorders"
        ));
        assert!(!glob(b"a[b]c", b"abc"));
        assert!(glob(b"a[b]c", b"a[b]c"));
    }

    #[test]
    fn glob_backtracks_over_repeated_stars() {
        assert!(glob(b"a*b*c", b"aXbYbZc"));
        assert!(glob(b"**", b""));
        assert!(!glob(b"a*b*c", b"aXbYbZ"));
        assert!(glob(b"*a*a*a", b"aaaa"));
        assert!(!glob(b"", b"x"));
    }

    #[test]
    fn trailing_and_segment_wildcards_are_supported() {
        for p in [
            "*",
            "arn:aws:dynamodb:*",
            "arn:aws:dynamodb:*:*:table/*",
            "arn:aws:dynamodb:us-east-1:111122223333:table/prod-*",
            "arn:aws:rds:*:*:db:*",
        ] {
            assert!(wildcard_positions_supported(p), "{p}");
        }
        for p in [
            "arn:aws:dynamodb:*:*:table/*-orders",
            "arn:aws:dynamodb:us-*:*:table/orders",
            "arn:aws:dynamodb:*:*:table/prod-*-orders",
            "*orders",
        ] {
            assert!(!wildcard_positions_supported(p), "{p}");
        }
    }

    #[test]
    fn middle_wildcard_that_would_match_is_unknown() {
        let m = arn_match("arn:aws:dynamodb:*:*:table/*ders", ORDERS);
        assert_eq!(m, Match::unknown(Ambiguity::WildcardPosition));
        // A middle wildcard that cannot match under any reading is a plain no.
        assert_eq!(
            arn_match("arn:aws:dynamodb:*:*:table/*xyz", ORDERS),
            Match::definite(false)
        );
    }

    #[test]
    fn question_mark_is_unknown_only_when_readings_differ() {
        assert_eq!(
            arn_match(
                "arn:aws:dynamodb:us-east-1:111122223333:table/order?",
                ORDERS
            ),
            Match::unknown(Ambiguity::QuestionMark)
        );
        // Neither reading matches a different name.
        assert_eq!(
            arn_match(
                "arn:aws:dynamodb:us-east-1:111122223333:table/users?",
                ORDERS
            ),
            Match::definite(false)
        );
    }

    #[test]
    fn empty_segments_are_flagged_as_lost_asterisks() {
        assert_eq!(
            arn_match("arn:aws:dynamodb:::table/*", ORDERS),
            Match::unknown(Ambiguity::EmptySegments)
        );
        assert_eq!(
            arn_match("arn:aws:rds:::db:*", ORDERS),
            Match::definite(false)
        );
    }

    #[test]
    fn table_type_patterns_are_recognised() {
        assert!(names_table_type("arn:aws:dynamodb:*:*:table/*"));
        assert!(names_table_type(ORDERS));
        assert!(!names_table_type("*"));
        assert!(!names_table_type("arn:aws:dynamodb:*"));
        assert!(!names_table_type("arn:aws:dynamodb:*:*:*"));
        assert!(!names_table_type("arn:aws:rds:*:*:table/*"));
    }

    #[test]
    fn lost_asterisks_and_a_wildcard_question_mark_together_are_unknown() {
        // `order?` matches `orders` only if `?` is a wildcard, and the empty segments match the
        // table's Region and account only if asterisks were lost: together, a possible match.
        let m = arn_match(
            "arn:aws:dynamodb:::table/order?",
            "arn:aws:dynamodb:us-east-1:111122223333:table/orders",
        );
        assert_eq!(m.value, Tri::Unknown);
        assert_eq!(
            arn_match(
                "arn:aws:dynamodb:::table/order?",
                "arn:aws:dynamodb:us-east-1:111122223333:table/users",
            ),
            Match::definite(false)
        );
    }

    #[test]
    fn like_flags_whitespace_and_question_marks() {
        assert_eq!(like("dai*", "daily"), Match::definite(true));
        assert_eq!(like("PROD*", "prod"), Match::definite(false));
        assert_eq!(like("*", ""), Match::definite(true));
        // `*` never matches whitespace (spec A4).
        assert_eq!(like("data*", "data platform"), Match::definite(false));
        assert_eq!(like("*", "a b"), Match::definite(false));
        // Whitespace matched literally is no ambiguity.
        assert_eq!(like("data *", "data platform"), Match::definite(true));
        assert_eq!(
            like("dail?", "daily"),
            Match::unknown(Ambiguity::QuestionMark)
        );
        assert_eq!(like("week?", "daily"), Match::definite(false));
    }

    #[test]
    fn required_prefix_is_never_longer_than_a_match_needs() {
        assert_eq!(required_prefix(ORDERS), (ORDERS, true));
        assert_eq!(
            required_prefix("arn:aws:dynamodb:*:*:table/*"),
            ("arn:aws:dynamodb:", false)
        );
        assert_eq!(
            required_prefix("arn:aws:dynamodb:::table/orders"),
            ("arn:aws:dynamodb:", false)
        );
        assert_eq!(required_prefix("*"), ("", false));
        assert_eq!(required_prefix("x?y"), ("x", false));
    }
}
