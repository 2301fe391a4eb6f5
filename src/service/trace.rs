//! The traceability matrix of a product, loaded from the links in bulk
//! (one query per kind of link, in slices), computed by `trace::matrix`, and
//! kept until a record changes; and the gap report.

use std::collections::{HashMap, HashSet};

use crate::db::DbConnection;
use crate::db::repo::{git, links, requirements, tests};
use crate::trace::matrix::{self, CommitRef, Graph, Row, TestRef};

use crate::domain::requirement::DERIVES_FROM;

fn id_of(entity: &str, prefix: &str) -> Option<i64> {
    entity.strip_prefix(prefix).and_then(|n| n.parse().ok())
}

/// Loads what the matrix of `product` is computed from.
pub fn graph(conn: &mut DbConnection, product: i64) -> diesel::QueryResult<Graph> {
    let reqs = requirements::of_product(conn, product)?;
    let ids: Vec<String> = reqs.iter().map(|r| r.entity_id()).collect();
    let parents = links::from_any(conn, "requirement", &ids, DERIVES_FROM)?
        .into_iter()
        .filter_map(|l| Some((id_of(&l.from_id, "req-")?, id_of(&l.to_id, "req-")?)))
        .collect();

    let commit_links = links::from_type_to_any(conn, "commit", "requirement", &ids)?;
    let commit_ids: Vec<i64> = {
        let set: HashSet<i64> = commit_links
            .iter()
            .filter_map(|l| id_of(&l.from_id, "commit-"))
            .collect();
        set.into_iter().collect()
    };
    let times: HashMap<i64, (String, chrono::DateTime<chrono::Utc>)> =
        git::commit_times(conn, &commit_ids)?
            .into_iter()
            .map(|(id, sha, at)| (id, (sha, at)))
            .collect();
    let mut commits: HashMap<i64, Vec<CommitRef>> = HashMap::new();
    let mut seen: HashSet<(i64, i64)> = HashSet::new();
    for l in &commit_links {
        let (Some(req), Some(c)) = (id_of(&l.to_id, "req-"), id_of(&l.from_id, "commit-")) else {
            continue;
        };
        // A commit that both implements and mentions a requirement counts once.
        if let Some((sha, at)) = times.get(&c)
            && seen.insert((req, c))
        {
            commits.entry(req).or_default().push(CommitRef {
                sha: sha.clone(),
                at: *at,
            });
        }
    }

    let test_links = links::to_any(conn, "test_case", "verifies", "requirement", &ids)?;
    let test_ids: Vec<i64> = {
        let set: HashSet<i64> = test_links
            .iter()
            .filter_map(|l| id_of(&l.from_id, "test-"))
            .collect();
        set.into_iter().collect()
    };
    let keys: HashMap<i64, String> = tests::cases_by_id(conn, &test_ids)?
        .into_iter()
        .map(|c| (c.id, c.key))
        .collect();
    let latest: HashMap<i64, tests::LatestResult> = tests::latest_results(conn, &test_ids)?
        .into_iter()
        .map(|r| (r.test_case_id, r))
        .collect();
    let mut by_req: HashMap<i64, Vec<TestRef>> = HashMap::new();
    for l in &test_links {
        let (Some(req), Some(t)) = (id_of(&l.to_id, "req-"), id_of(&l.from_id, "test-")) else {
            continue;
        };
        let Some(key) = keys.get(&t) else { continue };
        let r = latest.get(&t);
        by_req.entry(req).or_default().push(TestRef {
            key: key.clone(),
            latest: r.map(|r| r.outcome),
            latest_at: r.map(|r| r.received_at),
        });
    }
    let req_ids: Vec<i64> = reqs.iter().map(|r| r.id).collect();
    let risks = crate::db::repo::risks::risks_by_requirement(conn, &req_ids)?;
    Ok(Graph {
        requirements: reqs,
        parents,
        commits,
        tests: by_req,
        risks,
    })
}

/// The matrix of a product now.
pub fn rows(conn: &mut DbConnection, product: i64) -> diesel::QueryResult<Vec<Row>> {
    Ok(matrix::compute(&graph(conn, product)?))
}

/// Each product's matrix, kept until a record changes: every change that
/// moves a status (a requirement, a link, a push, a test run) advances the
/// data stamp.
pub type MatrixCache = super::KeptUntilDataChanges<i64, Vec<Row>>;

/// The gap report's lists beside the matrix rows.
pub struct Gaps {
    /// Test cases that verify no requirement.
    pub orphan_tests: Vec<tests::TestCase>,
    /// References to keys that name nothing (newest first, at most 1,000).
    pub dangling: Vec<git::Dangling>,
}

pub fn gaps(conn: &mut DbConnection, product: i64) -> diesel::QueryResult<Gaps> {
    let cases = tests::cases_of_product(conn, product)?;
    let ids: Vec<String> = cases.iter().map(|c| c.entity_id()).collect();
    let linked: HashSet<String> = links::from_any(conn, "test_case", &ids, "verifies")?
        .into_iter()
        .map(|l| l.from_id)
        .collect();
    Ok(Gaps {
        orphan_tests: cases
            .into_iter()
            .filter(|c| !linked.contains(&c.entity_id()))
            .collect(),
        dangling: git::dangling_of_product(conn, product, 1_000)?,
    })
}
