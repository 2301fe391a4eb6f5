//! CI test results (TRACEABILITY.md): a JUnit file's cases become test
//! cases of the product (created when first seen), its results a test run,
//! and the requirement keys in `requirement` properties or in test names
//! links `test-N verifies req-M`. One transaction, one audit entry.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::repo::links as link_repo;
use crate::db::repo::requirements;
use crate::db::repo::tests::{self as repo, NewRun};
use crate::db::{DbConnection, write_tx};
use crate::domain::trace::{Outcome, keys_in_test_name, name_form};
use crate::ingest::junit::Case;

/// Most keys an answer or audit entry lists.
const LISTED: usize = 200;

/// Where a run comes from (the query of `POST /api/v1/test-runs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunMeta {
    pub product_id: i64,
    pub repository_id: Option<i64>,
    pub commit: String,
    pub branch: String,
    pub ci_url: String,
    pub file_sha256: String,
}

/// What an import did, as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    pub run: i64,
    pub tests: usize,
    pub results_stored: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub errors: usize,
    pub new_test_cases: usize,
    pub links_added: usize,
    pub requirements_touched: Vec<String>,
    pub unknown_keys: Vec<String>,
}

fn entity(run: i64, meta: &RunMeta) -> EntityRef {
    EntityRef {
        kind: "test_run".into(),
        id: format!("run-{run}"),
        key: format!(
            "run {run} @ {}",
            meta.commit.chars().take(12).collect::<String>()
        ),
        version: 1,
    }
}

/// Stores a run of `cases` for `meta.product_id`, uploaded by user `by`.
pub fn import(
    conn: &mut DbConnection,
    ctx: &Ctx,
    by: i64,
    meta: &RunMeta,
    cases: &[Case],
) -> Result<RunSummary, RecordError> {
    // A test named twice in a file counts once, with its last result.
    let mut last: HashMap<&str, &Case> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for c in cases {
        if last.insert(c.key.as_str(), c).is_none() {
            order.push(c.key.as_str());
        }
    }
    let count = |o: Outcome| last.values().filter(|c| c.outcome == o).count();
    write_tx(conn, |conn| {
        let keys: Vec<String> = order.iter().map(|k| k.to_string()).collect();
        let known: HashSet<String> = repo::cases_by_key(conn, meta.product_id, &keys)?
            .into_iter()
            .map(|c| c.key)
            .collect();
        let fresh: Vec<(String, String)> = order
            .iter()
            .filter(|k| !known.contains(**k))
            .filter_map(|k| last.get(k).map(|c| (c.key.clone(), c.name.clone())))
            .collect();
        repo::insert_cases(conn, meta.product_id, &fresh, ctx.now)?;
        let ids: HashMap<String, i64> = repo::cases_by_key(conn, meta.product_id, &keys)?
            .into_iter()
            .map(|c| (c.key, c.id))
            .collect();
        let counts = [
            last.len(),
            count(Outcome::Passed),
            count(Outcome::Failed),
            count(Outcome::Skipped),
            count(Outcome::Error),
        ]
        .map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let run = repo::insert_run(
            conn,
            &NewRun {
                product_id: meta.product_id,
                repository_id: meta.repository_id,
                commit_sha: &meta.commit,
                branch: &meta.branch,
                ci_url: &meta.ci_url,
                file_sha256: &meta.file_sha256,
                uploaded_by: by,
                counts,
            },
            ctx.now,
        )?;
        let results: Vec<(i64, Outcome, i64, String)> = order
            .iter()
            .filter_map(|k| {
                let c = last.get(k)?;
                Some((*ids.get(*k)?, c.outcome, c.duration_ms, c.message.clone()))
            })
            .collect();
        repo::insert_results(conn, run, &results)?;

        // Requirement keys: named by properties (every one counts), or
        // found in a test's name (only keys that exist).
        let all = requirements::of_product(conn, meta.product_id)?;
        let by_key: HashMap<&str, String> = all
            .iter()
            .map(|r| (r.key.as_str(), r.entity_id()))
            .collect();
        let by_name: HashMap<String, String> = all
            .iter()
            .map(|r| (name_form(&r.key), r.key.clone()))
            .collect();
        let mut wanted: Vec<(i64, String)> = Vec::new();
        let mut wanted_seen: HashSet<(i64, String)> = HashSet::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut unknown_seen: HashSet<String> = HashSet::new();
        for k in &order {
            let (Some(c), Some(id)) = (last.get(k), ids.get(*k)) else {
                continue;
            };
            let mut keys = c.requirements.clone();
            keys.extend(keys_in_test_name(&c.key, &by_name));
            for key in keys {
                match by_key.get(key.as_str()) {
                    Some(req) => {
                        if wanted_seen.insert((*id, req.clone())) {
                            wanted.push((*id, req.clone()));
                        }
                    }
                    None => {
                        if unknown_seen.insert(key.clone()) {
                            unknown.push(key);
                        }
                    }
                }
            }
        }
        let tests: Vec<String> = wanted.iter().map(|(t, _)| format!("test-{t}")).collect();
        let existing: HashSet<(String, String)> =
            link_repo::from_any(conn, "test_case", &tests, "verifies")?
                .into_iter()
                .map(|l| (l.from_id, l.to_id))
                .collect();
        let mut added = 0;
        let key_of: HashMap<String, &str> = all
            .iter()
            .map(|r| (r.entity_id(), r.key.as_str()))
            .collect();
        let mut touched: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for (test, req) in &wanted {
            let from = format!("test-{test}");
            if !existing.contains(&(from.clone(), req.clone())) {
                link_repo::insert(
                    conn,
                    ("test_case", &from),
                    "verifies",
                    ("requirement", req),
                    None,
                    ctx.now,
                )?;
                added += 1;
            }
            if let Some(key) = key_of.get(req.as_str()) {
                touched.insert(*key);
            }
        }
        // A control's requirement whose test failed: its risks need review.
        let failing: Vec<String> = order
            .iter()
            .filter(|k| {
                last.get(*k)
                    .is_some_and(|c| matches!(c.outcome, Outcome::Failed | Outcome::Error))
            })
            .filter_map(|k| ids.get(*k).map(|t| format!("test-{t}")))
            .collect();
        if !failing.is_empty() {
            let test_key: HashMap<String, &str> = ids
                .iter()
                .map(|(k, t)| (format!("test-{t}"), k.as_str()))
                .collect();
            let mut failed_of: HashMap<i64, String> = HashMap::new();
            for l in link_repo::from_any(conn, "test_case", &failing, "verifies")? {
                let req = l
                    .to_id
                    .strip_prefix("req-")
                    .and_then(|n| n.parse::<i64>().ok());
                if let (Some(req), Some(test)) = (req, test_key.get(&l.from_id)) {
                    failed_of.entry(req).or_insert_with(|| (*test).to_string());
                }
            }
            let reqs: Vec<i64> = failed_of.keys().copied().collect();
            super::risks::flag_requirements(conn, ctx, &reqs, |req| {
                let key = key_of
                    .get(&format!("req-{req}"))
                    .copied()
                    .unwrap_or("a requirement");
                let test = failed_of.get(&req).map_or("", String::as_str);
                format!("{key}'s test {test} failed (run {run})")
            })?;
        }
        let touched: Vec<String> = touched.into_iter().map(str::to_string).collect();
        unknown.sort();
        let summary = RunSummary {
            run,
            tests: last.len(),
            results_stored: results.len(),
            passed: count(Outcome::Passed),
            failed: count(Outcome::Failed),
            skipped: count(Outcome::Skipped),
            errors: count(Outcome::Error),
            new_test_cases: fresh.len(),
            links_added: added,
            requirements_touched: touched,
            unknown_keys: unknown,
        };
        let listed = |v: &[String]| v.iter().take(LISTED).cloned().collect::<Vec<_>>();
        audit::append(
            conn,
            &ctx.entry("test_run.imported")
                .entity(entity(run, meta))
                .after(json!({
                    "product_id": meta.product_id,
                    "repository_id": meta.repository_id,
                    "commit": meta.commit,
                    "branch": meta.branch,
                    "ci_url": meta.ci_url,
                    "file_sha256": meta.file_sha256,
                    "tests": summary.tests,
                    "passed": summary.passed,
                    "failed": summary.failed,
                    "skipped": summary.skipped,
                    "errors": summary.errors,
                    "new_test_cases": summary.new_test_cases,
                    "links_added": summary.links_added,
                    "requirements_touched": listed(&summary.requirements_touched),
                    "unknown_keys": listed(&summary.unknown_keys),
                })),
        )?;
        Ok(summary)
    })
}
