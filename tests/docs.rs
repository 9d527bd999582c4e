//! The docs hold together: every relative link of README.md and docs/*.md points at a file that
//! exists, and every `#anchor` at a heading of that page (GitHub's heading slugs).

use crate::util::{doc_pages, repo_path};
use std::collections::BTreeSet;
use std::path::Path;

/// The page's text outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces as `-`; a repeated heading gets `-1`, `-2`.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in prose(text) {
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        let title = title.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while out.contains(&candidate) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
        out.insert(candidate);
    }
    out
}

/// The targets of `[text](target)` links in the page's prose.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

fn check(page: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (file, anchor) = match target.split_once('#') {
        Some((f, a)) => (f, Some(a)),
        None => (target, None),
    };
    let dest = if file.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().unwrap().join(file)
    };
    if !dest.exists() {
        return Some(format!(
            "{}: `{target}`: {} does not exist",
            page.display(),
            dest.display()
        ));
    }
    let anchor = anchor?;
    let text = std::fs::read_to_string(&dest).ok()?;
    (!anchors(&text).contains(anchor)).then(|| {
        format!(
            "{}: `{target}`: no heading has the anchor #{anchor}",
            page.display()
        )
    })
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    // GIVEN every page of the docs
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in doc_pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        // WHEN each link is followed
        for target in links(&text) {
            checked += 1;
            broken.extend(check(&page, &target));
        }
    }
    // THEN it reaches a file, and a heading when it names one
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked >= 10, "only {checked} links found");
}

#[test]
fn the_link_check_catches_a_missing_file_and_a_missing_anchor() {
    let page = repo_path("docs/remediation.md");
    assert!(check(&page, "semantics.md#vault-lock-and-copies").is_none());
    assert!(check(&page, "#the-what-if---apply-to-snapshot").is_none());
    assert!(check(&page, "nowhere.md").is_some());
    assert!(check(&page, "semantics.md#no-such-heading").is_some());
}
