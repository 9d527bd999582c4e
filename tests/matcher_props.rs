//! Property tests: the linear-time glob agrees with a plain dynamic-programming reference on
//! generated patterns and ARNs, and the ARN matcher's three-valued answer is consistent with
//! the readings it reconciles.

use dynamodb_backup_rule::coverage::pattern::{
    arn_match, arn_match_generated, fill_empty_segments, glob, glob_reading, head_only, like,
    table_head, Reading,
};
use dynamodb_backup_rule::coverage::Tri;
use proptest::prelude::*;

const LITERAL: Reading = Reading {
    question_mark_is_wildcard: false,
    star_skips_whitespace: false,
};

/// ARN-ish text from a small alphabet, so that patterns and texts collide often.
fn arnish() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "(arn:aws:dynamodb:(us-east-1|\\*|):(1111|\\*|):table/)?[ab.:/\\-]{0,8}",
    )
    .expect("regex")
}

fn patternish() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "(arn:aws:dynamodb:(us-east-1|\\*|):(1111|\\*|):table/)?[ab.:/\\-*?]{0,8}",
    )
    .expect("regex")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(10_000), ..ProptestConfig::default() })]

    #[test]
    fn glob_agrees_with_the_reference(p in patternish(), t in arnish()) {
        prop_assert_eq!(glob(p.as_bytes(), t.as_bytes()), glob_reading(&p, &t, LITERAL));
    }

    #[test]
    fn glob_agrees_on_arbitrary_unicode(p in "\\PC{0,12}", t in "\\PC{0,12}") {
        prop_assert_eq!(glob(p.as_bytes(), t.as_bytes()), glob_reading(&p, &t, LITERAL));
    }

    #[test]
    fn a_pattern_always_matches_itself_when_it_has_no_question_mark(p in "[^?]{0,20}") {
        // `*` matches the literal `*` too, so every pattern matches its own text.
        prop_assert!(glob(p.as_bytes(), p.as_bytes()));
    }

    #[test]
    fn arn_match_is_true_only_when_every_reading_matches(p in patternish(), t in arnish()) {
        let m = arn_match(&p, &t);
        let literal = glob(p.as_bytes(), t.as_bytes()) || p == "*";
        let q_reading = Reading { question_mark_is_wildcard: true, ..LITERAL };
        let q = glob_reading(&p, &t, q_reading) || p == "*";
        // The lost-asterisk reading (A3), alone and combined with `?` as a wildcard (A2).
        let filled = fill_empty_segments(&p);
        let lost = filled.as_ref().is_some_and(|f| glob(f.as_bytes(), t.as_bytes()));
        let lost_q = filled.as_ref().is_some_and(|f| glob_reading(f, &t, q_reading));
        match m.value {
            Tri::True => prop_assert!(literal && q),
            Tri::False => prop_assert!(!literal && !q && !lost && !lost_q),
            Tri::Unknown => prop_assert!(m.ambiguity.is_some()),
        }
        prop_assert_eq!(m.value == Tri::Unknown, m.ambiguity.is_some());
    }

    #[test]
    fn like_is_definite_only_when_all_readings_agree(p in "[ab* ?]{0,6}", v in "[ab ]{0,6}") {
        let m = like(&p, &v);
        // `*` never matches whitespace (spec A4, decided); `?` has two readings (A2).
        let readings: Vec<bool> = [(false, true), (true, true)]
            .iter()
            .map(|&(q, ws)| glob_reading(&p, &v, Reading { question_mark_is_wildcard: q, star_skips_whitespace: ws }))
            .collect();
        match m.value {
            Tri::True => prop_assert!(readings.iter().all(|&r| r)),
            Tri::False => prop_assert!(readings.iter().all(|&r| !r)),
            Tri::Unknown => prop_assert!(readings.iter().any(|&r| r) && readings.iter().any(|&r| !r)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(10_000), ..ProptestConfig::default() })]

    /// The segment-wise shortcut for the commonest patterns must answer exactly as the general
    /// matcher: checked against the readings it stands for on generated table ARNs.
    #[test]
    fn the_common_pattern_shortcut_agrees_with_the_readings(
        region in "(us-east-1|eu-west-1|\\*|)",
        account in "(1111|2222|\\*|)",
        rest in "(table/)?[ab\\-:]{0,5}\\*?",
        t_region in "(us-east-1|eu-west-1)",
        t_account in "(1111|2222)",
        name in "[ab\\-]{1,5}",
    ) {
        let pattern = format!("arn:aws:dynamodb:{region}:{account}:{rest}");
        let arn = format!("arn:aws:dynamodb:{t_region}:{t_account}:table/{name}");
        let m = arn_match(&pattern, &arn);
        let literal = glob(pattern.as_bytes(), arn.as_bytes());
        match m.value {
            Tri::True => prop_assert!(literal, "{pattern} {arn}"),
            Tri::False => {
                prop_assert!(!literal, "{pattern} {arn}");
                let lost = fill_empty_segments(&pattern)
                    .is_some_and(|f| glob(f.as_bytes(), arn.as_bytes()));
                prop_assert!(!lost, "{pattern} {arn}");
            }
            Tri::Unknown => prop_assert!(m.ambiguity.is_some()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(10_000), ..ProptestConfig::default() })]

    /// A pattern classed as depending only on a table's ARN head gives every table with that
    /// head the same answer, ambiguity included, and one that "may match" no head really
    /// matches none: the reason search decides such patterns once per class of table.
    #[test]
    fn a_head_only_pattern_answers_alike_for_every_name_under_one_head(
        partition in "(aws|aws-cn)",
        service in "(dynamodb|rds|\\*)",
        region in "(us-east-1|eu-west-1|\\*|)",
        account in "(1111|2222|\\*|)",
        rest in "(table/|tab|db:|)[ab\\-:?]{0,4}\\*?",
        whole in proptest::bool::weighted(0.05),
        t_region in "(us-east-1|eu-west-1)",
        t_account in "(1111|2222)",
        one in "[ab\\-]{1,5}",
        other in "[ab\\-.]{1,5}",
    ) {
        let pattern = if whole {
            "*".to_string()
        } else {
            format!("arn:{partition}:{service}:{region}:{account}:{rest}")
        };
        let arn = |name: &str| format!("arn:aws:dynamodb:{t_region}:{t_account}:table/{name}");
        let (a, b) = (arn(&one), arn(&other));
        prop_assert_eq!(table_head(&a), table_head(&b));
        if let Some(may_match) = head_only(&pattern) {
            let (ma, mb) = (arn_match(&pattern, &a), arn_match(&pattern, &b));
            prop_assert_eq!(&ma, &mb, "{} against {} and {}", pattern, a, b);
            if !may_match {
                prop_assert_eq!(ma.value, Tri::False, "{}", pattern);
            }
        }
    }
}

#[test]
fn only_arns_of_six_parts_ending_in_a_table_name_have_a_head() {
    assert_eq!(
        table_head("arn:aws:dynamodb:us-east-1:111122223333:table/orders"),
        Some("arn:aws:dynamodb:us-east-1:111122223333:table/")
    );
    for arn in [
        "arn:aws:dynamodb:us-east-1:111122223333:table/",
        "arn:aws:dynamodb:us-east-1:111122223333:table/a:b",
        "arn:aws:dynamodb:us-east-1:111122223333:index/orders",
        "arn:aws:dynamodb:us-east-1:table/orders",
    ] {
        assert_eq!(table_head(arn), None, "{arn}");
    }
    // A name prefix or an exact table ARN depends on the name; a type wildcard does not.
    assert_eq!(head_only("arn:aws:dynamodb:*:*:table/*"), Some(true));
    assert_eq!(head_only("arn:aws:dynamodb:*:*:table/prod-*"), None);
    assert_eq!(head_only("arn:aws:dynamodb:us-east-1:1:table/orders"), None);
    assert_eq!(head_only("arn:aws:rds:*:*:db*"), Some(false));
    assert_eq!(head_only("arn:aws:dynamodb:::table/*"), None);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::prop_cases(10_000), ..ProptestConfig::default() })]

    /// A generated name is known only by its start: a definite answer must hold for every way
    /// the name could end (checked on sampled endings, the empty one included), and an unknown
    /// one must carry its reason.
    #[test]
    fn a_definite_answer_for_a_generated_name_holds_for_every_ending(
        p in patternish(),
        start in "[ab\\-]{0,4}",
        endings in proptest::collection::vec("[ab\\-.A-Z0-9]{1,6}", 1..6),
    ) {
        let known = format!("arn:aws:dynamodb:us-east-1:1111:table/{start}");
        let m = arn_match_generated(&p, &known);
        for ending in &endings {
            let full = arn_match(&p, &format!("{known}{ending}"));
            match m.value {
                Tri::True => prop_assert_eq!(full.value, Tri::True, "{} on {}{}", p, known, ending),
                Tri::False => prop_assert_eq!(full.value, Tri::False, "{} on {}{}", p, known, ending),
                Tri::Unknown => prop_assert!(m.ambiguity.is_some()),
            }
        }
    }
}
