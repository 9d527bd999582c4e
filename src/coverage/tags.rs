//! `ListOfTags` and `Conditions`: tag matching, case-sensitive, with the negated operators
//! passing when the tag is absent (the IAM rule AWS Backup's own examples rely on).

use super::pattern::{like, Ambiguity, Match};
use super::tri::Tri;
use crate::model::{Condition, ConditionOperator, TagCondition, Tags, RESOURCE_TAG_PREFIX};

/// The outcome of one tag check, with the tag value it saw so `explain` can show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCheck<'a> {
    /// yes / no / unknown, and why unknown.
    pub result: Match,
    /// The tag key looked up, when the entry names one we could read.
    pub key: Option<&'a str>,
    /// The table's value for that key; `None` when the tag is absent.
    pub seen: Option<&'a str>,
    /// A `ListOfTags` entry with a `ConditionType` other than `STRINGEQUALS`: it selects nothing.
    pub unsupported_type: bool,
}

/// `true` when `key` starts with `aws:ResourceTag/` in some other letter case.
fn has_prefix_in_other_case(key: &str) -> bool {
    key.len() >= RESOURCE_TAG_PREFIX.len()
        && key.is_char_boundary(RESOURCE_TAG_PREFIX.len())
        && key[..RESOURCE_TAG_PREFIX.len()].eq_ignore_ascii_case(RESOURCE_TAG_PREFIX)
        && !key.starts_with(RESOURCE_TAG_PREFIX)
}

/// The tag key a `ListOfTags` entry compares, or `None` when its key is ambiguous.
///
/// AWS documents both `backup` and `aws:ResourceTag/backup` as `ListOfTags` keys, and user tag
/// keys cannot start with `aws:`, so an exact prefix is stripped (A6).
pub fn list_of_tags_key(c: &TagCondition) -> Option<&str> {
    if let Some(bare) = c.key.strip_prefix(RESOURCE_TAG_PREFIX) {
        return Some(bare);
    }
    (!has_prefix_in_other_case(&c.key)).then_some(c.key.as_str())
}

/// Whether a `ListOfTags` entry's `ConditionType` is the one AWS Backup supports. The CLI guide
/// writes `StringEquals`, the API enum `STRINGEQUALS`, so case is ignored.
pub fn is_string_equals(c: &TagCondition) -> bool {
    c.condition_type.eq_ignore_ascii_case("STRINGEQUALS")
}

/// One `ListOfTags` entry against the table's tags.
pub fn list_of_tags_match<'a>(c: &'a TagCondition, tags: &'a Tags) -> TagCheck<'a> {
    let Some(key) = list_of_tags_key(c) else {
        // `aws:resourcetag/backup`: either the prefix is recognised regardless of case (then it
        // may match) or the key is taken literally (then it cannot: no user key starts `aws:`).
        let bare = &c.key[RESOURCE_TAG_PREFIX.len()..];
        let seen = tags.get(bare).map(String::as_str);
        let result = if seen == Some(c.value.as_str()) && is_string_equals(c) {
            Match::unknown(Ambiguity::TagKeyPrefixCase)
        } else {
            Match::definite(false)
        };
        return TagCheck {
            result,
            key: Some(bare),
            seen,
            unsupported_type: !is_string_equals(c),
        };
    };
    let seen = tags.get(key).map(String::as_str);
    if !is_string_equals(c) {
        // Only STRINGEQUALS is supported; ListOfTags only ever adds (OR), so an entry AWS
        // cannot apply adds nothing.
        return TagCheck {
            result: Match::definite(false),
            key: Some(key),
            seen,
            unsupported_type: true,
        };
    }
    TagCheck {
        result: Match::definite(seen == Some(c.value.as_str())),
        key: Some(key),
        seen,
        unsupported_type: false,
    }
}

/// One `Conditions` entry against the table's tags.
pub fn condition_match<'a>(c: &'a Condition, tags: &'a Tags) -> TagCheck<'a> {
    let unknown = |why| TagCheck {
        result: Match::unknown(why),
        key: None,
        seen: None,
        unsupported_type: false,
    };
    if let ConditionOperator::Unsupported(op) = &c.operator {
        return unknown(Ambiguity::UnsupportedOperator(op.clone()));
    }
    let Some(key) = c.key.strip_prefix(RESOURCE_TAG_PREFIX) else {
        // Only the prefixed form is documented; a bare key might be read as "context key not
        // present" (IAM) or as the tag itself. Neither reading is safe to assume.
        return unknown(Ambiguity::ConditionKeyPrefix);
    };
    let seen = tags.get(key).map(String::as_str);
    let value = c.value.as_str();
    let result = match (&c.operator, seen) {
        (ConditionOperator::StringEquals, _) => Match::definite(seen == Some(value)),
        (ConditionOperator::StringNotEquals, _) => Match::definite(seen != Some(value)),
        (ConditionOperator::StringLike, None) => Match::definite(false),
        (ConditionOperator::StringLike, Some(v)) => like(value, v),
        (ConditionOperator::StringNotLike, None) => Match::definite(true),
        (ConditionOperator::StringNotLike, Some(v)) => {
            let m = like(value, v);
            Match {
                value: m.value.not(),
                ambiguity: m.ambiguity,
            }
        }
        // Returned above; kept total so no input can reach a panic.
        (ConditionOperator::Unsupported(op), _) => {
            Match::unknown(Ambiguity::UnsupportedOperator(op.clone()))
        }
    };
    TagCheck {
        result,
        key: Some(key),
        seen,
        unsupported_type: false,
    }
}

/// The condition that alone decides a selection is false unless the table carries `key=value`:
/// a definite `StringEquals` on a prefixed key. The selection index keys on it.
pub fn gate(c: &Condition) -> Option<(&str, &str)> {
    match c.operator {
        ConditionOperator::StringEquals => c
            .key
            .strip_prefix(RESOURCE_TAG_PREFIX)
            .map(|k| (k, c.value.as_str())),
        _ => None,
    }
}

/// Evaluates all conditions with AND, as AWS Backup does (repeated keys included).
pub fn all_conditions<'x, 'a: 'x>(checks: impl IntoIterator<Item = &'x TagCheck<'a>>) -> Tri {
    checks
        .into_iter()
        .fold(Tri::True, |acc, c| acc.and(c.result.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn cond(op: &str, key: &str, value: &str) -> Condition {
        Condition {
            operator: ConditionOperator::from_name(op),
            key: key.into(),
            value: value.into(),
        }
    }

    fn lot(t: &str, key: &str, value: &str) -> TagCondition {
        TagCondition {
            condition_type: t.into(),
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn negated_operators_pass_when_the_tag_is_absent() {
        let t = tags(&[("env", "prod")]);
        let ne = cond("StringNotEquals", "aws:ResourceTag/stage", "test");
        let nl = cond("StringNotLike", "aws:ResourceTag/stage", "te*");
        assert_eq!(condition_match(&ne, &t).result, Match::definite(true));
        assert_eq!(condition_match(&nl, &t).result, Match::definite(true));
        let like = cond("StringLike", "aws:ResourceTag/stage", "*");
        assert_eq!(condition_match(&like, &t).result, Match::definite(false));
    }

    #[test]
    fn condition_values_are_case_sensitive() {
        let t = tags(&[("env", "prod")]);
        let eq = cond("StringEquals", "aws:ResourceTag/env", "Prod");
        assert_eq!(condition_match(&eq, &t).result, Match::definite(false));
        assert_eq!(condition_match(&eq, &t).seen, Some("prod"));
        let key_case = cond("StringEquals", "aws:ResourceTag/Env", "prod");
        assert_eq!(condition_match(&key_case, &t).seen, None);
    }

    #[test]
    fn bare_or_miscased_condition_keys_and_unknown_operators_are_unknown() {
        let t = tags(&[("backup", "daily")]);
        for c in [
            cond("StringEquals", "backup", "daily"),
            cond("StringEquals", "aws:resourcetag/backup", "daily"),
            cond(
                "ForAnyValue:StringEquals",
                "aws:ResourceTag/backup",
                "daily",
            ),
        ] {
            assert_eq!(condition_match(&c, &t).result.value, Tri::Unknown, "{c}");
        }
    }

    #[test]
    fn list_of_tags_strips_the_exact_prefix_and_ignores_type_case() {
        let t = tags(&[("backup", "daily")]);
        assert!(
            list_of_tags_match(&lot("STRINGEQUALS", "aws:ResourceTag/backup", "daily"), &t)
                .result
                .value
                == Tri::True
        );
        assert!(
            list_of_tags_match(&lot("StringEquals", "backup", "daily"), &t)
                .result
                .value
                == Tri::True
        );
        let not_equals = lot("STRINGNOTEQUALS", "backup", "weekly");
        let other_type = list_of_tags_match(&not_equals, &t);
        assert_eq!(other_type.result.value, Tri::False);
        assert!(other_type.unsupported_type);
        let miscased_entry = lot("STRINGEQUALS", "AWS:ResourceTag/backup", "daily");
        let miscased = list_of_tags_match(&miscased_entry, &t);
        assert_eq!(miscased.result, Match::unknown(Ambiguity::TagKeyPrefixCase));
    }

    #[test]
    fn repeated_keys_are_anded() {
        let t = tags(&[("env", "prod")]);
        let a = cond("StringEquals", "aws:ResourceTag/env", "prod");
        let b = cond("StringEquals", "aws:ResourceTag/env", "staging");
        let checks = [condition_match(&a, &t), condition_match(&b, &t)];
        assert_eq!(all_conditions(&checks), Tri::False);
    }
}
