//! Every bad input and fault of SECURITY.md (the shared design page) whose
//! feature exists is named by a test: `// SECURITY.md 14, 16` above it, or
//! `_security_14_16` at the end of its name. Items whose feature is still to
//! come are listed here, and docs/security.md says so.

use std::collections::BTreeSet;

/// Items of features not built yet (none now).
const TO_COME: &[u32] = &[];

fn numbers(list: &str) -> impl Iterator<Item = u32> + '_ {
    list.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
}

fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(std::fs::read_to_string(&p).unwrap());
        }
    }
}

/// The item numbers the tests name.
fn named() -> BTreeSet<u32> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("tests"), &mut files);
    sources(&root.join("src"), &mut files);
    let mut found = BTreeSet::new();
    for text in &files {
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("// SECURITY.md ") {
                // The numbers before any explanation in brackets.
                let list = rest.split('(').next().unwrap_or_default();
                found.extend(numbers(list));
            }
            let is_fn = line.starts_with("fn ") || line.starts_with("async fn ");
            if let Some(at) = line.find("_security_")
                && is_fn
            {
                let tail = &line[at + "_security_".len()..];
                let name_end = tail.find('(').unwrap_or(tail.len());
                found.extend(numbers(&tail[..name_end]));
            }
        }
    }
    found
}

#[test]
fn every_security_item_whose_feature_exists_is_named_by_a_test() {
    // The design page beside the repository when it is there (a checkout
    // alone does not have it), else this repository's docs/security.md,
    // whose table has a row per item.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let design = root.join("../shared/design/SECURITY.md");
    let items: Vec<u32> = match std::fs::read_to_string(&design) {
        Ok(text) => text
            .lines()
            .filter_map(|l| l.split_once(". ").and_then(|(n, _)| n.parse().ok()))
            .collect(),
        Err(_) => {
            let docs = root.join("docs/security.md");
            let text = std::fs::read_to_string(&docs)
                .unwrap_or_else(|e| panic!("{} is needed: {e}", docs.display()));
            text.lines()
                .filter_map(|l| {
                    l.strip_prefix("| ")
                        .and_then(|r| r.split_once(" |"))
                        .and_then(|(n, _)| n.parse().ok())
                })
                .collect()
        }
    };
    assert_eq!(
        items.first(),
        Some(&1),
        "SECURITY.md lists its items 1, 2, ..."
    );
    assert!(items.len() >= 30, "{items:?}");
    let named = named();
    let missing: Vec<u32> = items
        .iter()
        .copied()
        .filter(|n| !named.contains(n) && !TO_COME.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "SECURITY.md items no test names: {missing:?}"
    );
    let early: Vec<u32> = TO_COME
        .iter()
        .copied()
        .filter(|n| named.contains(n))
        .collect();
    assert!(
        early.is_empty(),
        "items listed as to come but already tested; take them off TO_COME: {early:?}"
    );
}
