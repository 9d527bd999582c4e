//! The house rules a reader relies on, checked on the source: which layer may use which, and no
//! two sibling modules using each other. Test code (after `#[cfg(test)]`) is exempt.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The non-test code of a source file, without comments (doc links name modules too).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable source");
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .map(|line| line.split_once("//").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_adapters_and_the_engine_use_only_the_layers_beneath_them() {
    // (directory, paths it must not use): aws/ talks to AWS for whoever decides; coverage/ is
    // the pure engine every caller shares.
    let rules: [(&str, &[&str]); 2] = [
        ("aws", &["crate::rule"]),
        (
            "coverage",
            &[
                "crate::aws",
                "crate::rule",
                "crate::snapshot",
                "crate::remedy",
            ],
        ),
    ];
    let mut broken = Vec::new();
    for (dir, banned) in rules {
        let mut files = Vec::new();
        rust_files(&src().join(dir), &mut files);
        assert!(!files.is_empty(), "src/{dir} has no files");
        for file in files {
            let text = code(&file);
            for path in banned {
                if text.contains(path) {
                    broken.push(format!("{} uses {path}", file.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn no_two_sibling_modules_use_each_other() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    // For each directory module, which sibling each file names (`super::x`, `crate::dir::x`).
    let mut uses: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut siblings: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(src()).expect("under src");
        let parts: Vec<_> = rel
            .iter()
            .map(|p| p.to_string_lossy().to_string())
            .collect();
        if parts.len() != 2 || parts[0] == "bin" {
            continue;
        }
        let dir = parts[0].clone();
        let name = parts[1].trim_end_matches(".rs").to_string();
        siblings
            .entry(dir.clone())
            .or_default()
            .insert(name.clone());
        let text = code(file);
        let named = uses.entry((dir.clone(), name)).or_default();
        for prefix in ["super::".to_string(), format!("crate::{dir}::")] {
            for (i, _) in text.match_indices(&prefix) {
                let rest = &text[i + prefix.len()..];
                let sibling: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                named.insert(sibling);
            }
        }
    }
    let mut cycles = Vec::new();
    for ((dir, a), named) in &uses {
        for b in named {
            if a < b
                && siblings[dir].contains(b)
                && a != "mod"
                && b != "mod"
                && uses
                    .get(&(dir.clone(), b.clone()))
                    .is_some_and(|theirs| theirs.contains(a))
            {
                cycles.push(format!("src/{dir}: {a} <-> {b}"));
            }
        }
    }
    assert!(
        siblings.values().map(BTreeSet::len).sum::<usize>() > 20,
        "the scan found too few modules to mean anything"
    );
    assert!(cycles.is_empty(), "{cycles:#?}");
}
