//! The traceability matrix (TRACEABILITY.md): for each requirement its
//! parents and children, commits, tests and their latest results, and its
//! coverage status. Pure: the caller loads the graph, this computes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::requirement::{ReqKind, ReqStatus, Requirement};
use crate::domain::trace::Outcome;

/// A requirement's coverage, most urgent first (a row shows the first that
/// applies; the gap report lists all of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Some linked test's latest result failed or errored.
    Failing,
    /// A software requirement with no linked commit.
    NoCode,
    /// No linked test, or not every linked test's latest result passed.
    Untested,
    /// Its statement, or a parent's, changed after its newest passing result.
    Suspect,
    /// Every linked test's latest result passed, after the last change.
    Verified,
}

impl Coverage {
    pub const ALL: [Coverage; 5] = [
        Self::Verified,
        Self::Failing,
        Self::Untested,
        Self::NoCode,
        Self::Suspect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failing => "failing",
            Self::NoCode => "no_code",
            Self::Untested => "untested",
            Self::Suspect => "suspect",
            Self::Verified => "verified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Failing => "Failing",
            Self::NoCode => "No code",
            Self::Untested => "Untested",
            Self::Suspect => "Suspect",
            Self::Verified => "Verified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A commit linked to a requirement, as the matrix counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitRef {
    pub sha: String,
    pub at: DateTime<Utc>,
}

/// A test linked to a requirement and its latest result, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestRef {
    pub key: String,
    pub latest: Option<Outcome>,
    #[serde(skip)]
    pub latest_at: Option<DateTime<Utc>>,
}

/// What the matrix is computed from, for one product.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub requirements: Vec<Requirement>,
    /// (child id, parent id)
    pub parents: Vec<(i64, i64)>,
    /// requirement id -> commits linked to it
    pub commits: HashMap<i64, Vec<CommitRef>>,
    /// requirement id -> tests verifying it
    pub tests: HashMap<i64, Vec<TestRef>>,
    /// Keys of the risks whose controls each requirement implements.
    pub risks: HashMap<i64, Vec<String>>,
}

/// One row of the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    #[serde(skip)]
    pub id: i64,
    pub key: String,
    pub title: String,
    pub text: String,
    pub kind: &'static str,
    pub safety_class: &'static str,
    pub version: i64,
    pub status: &'static str,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    pub risks: Vec<String>,
    pub commits: usize,
    pub newest_commit: Option<String>,
    #[serde(skip)]
    pub newest_commit_at: Option<DateTime<Utc>>,
    pub tests: Vec<TestRef>,
    pub coverage: Coverage,
    /// Every coverage problem of the row (empty when verified).
    pub gaps: Vec<Coverage>,
}

/// Computes every row, in key order.
pub fn compute(g: &Graph) -> Vec<Row> {
    let by_id: HashMap<i64, &Requirement> = g.requirements.iter().map(|r| (r.id, r)).collect();
    let mut parents: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut children: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for &(c, p) in &g.parents {
        if by_id.contains_key(&c) && by_id.contains_key(&p) {
            parents.entry(c).or_default().push(p);
            children.entry(p).or_default().push(c);
        }
    }
    let keys = |ids: Option<&Vec<i64>>| -> Vec<String> {
        let mut v: Vec<String> = ids
            .into_iter()
            .flatten()
            .filter_map(|i| by_id.get(i).map(|r| r.key.clone()))
            .collect();
        v.sort();
        v
    };
    let mut rows: Vec<Row> = g
        .requirements
        .iter()
        .map(|r| {
            let commits = g.commits.get(&r.id).map(Vec::as_slice).unwrap_or_default();
            let newest = commits.iter().max_by_key(|c| c.at);
            let mut tests = g.tests.get(&r.id).cloned().unwrap_or_default();
            tests.sort_by(|a, b| a.key.cmp(&b.key));
            let parent_changed = parents
                .get(&r.id)
                .into_iter()
                .flatten()
                .filter_map(|p| by_id.get(p))
                .map(|p| p.text_changed_at)
                .max();
            let gaps = gaps(r, commits.len(), &tests, parent_changed);
            Row {
                id: r.id,
                key: r.key.clone(),
                title: r.title.clone(),
                text: r.body.clone(),
                kind: r.kind.as_str(),
                safety_class: r.safety_class.as_str(),
                version: r.text_version,
                status: r.status.as_str(),
                parents: keys(parents.get(&r.id)),
                children: keys(children.get(&r.id)),
                risks: g.risks.get(&r.id).cloned().unwrap_or_default(),
                commits: commits.len(),
                newest_commit: newest.map(|c| c.sha.clone()),
                newest_commit_at: newest.map(|c| c.at),
                tests,
                coverage: gaps.first().copied().unwrap_or(Coverage::Verified),
                gaps,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// The coverage problems of one requirement, most urgent first.
fn gaps(
    r: &Requirement,
    commits: usize,
    tests: &[TestRef],
    parent_changed: Option<DateTime<Utc>>,
) -> Vec<Coverage> {
    let mut out = Vec::new();
    if tests
        .iter()
        .any(|t| matches!(t.latest, Some(Outcome::Failed | Outcome::Error)))
    {
        out.push(Coverage::Failing);
    }
    if r.kind == ReqKind::Software && commits == 0 {
        out.push(Coverage::NoCode);
    }
    let all_passed = !tests.is_empty() && tests.iter().all(|t| t.latest == Some(Outcome::Passed));
    if !all_passed && !out.contains(&Coverage::Failing) {
        out.push(Coverage::Untested);
    }
    let newest_pass = tests
        .iter()
        .filter(|t| t.latest == Some(Outcome::Passed))
        .filter_map(|t| t.latest_at)
        .max();
    if let Some(pass) = newest_pass
        && (r.text_changed_at > pass || parent_changed.is_some_and(|p| p > pass))
    {
        out.push(Coverage::Suspect);
    }
    out
}

/// How many rows have each coverage, in `Coverage::ALL` order.
pub fn counts<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<(Coverage, usize)> {
    let mut n = [0usize; 5];
    for r in rows {
        if let Some(i) = Coverage::ALL.iter().position(|c| *c == r.coverage) {
            n[i] += 1;
        }
    }
    Coverage::ALL.iter().copied().zip(n).collect()
}

/// The rows a matrix shows by default: active requirements only.
pub fn active(rows: Vec<Row>) -> Vec<Row> {
    rows.into_iter()
        .filter(|r| r.status == ReqStatus::Active.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::product::SafetyClass;

    fn at(day: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_default()
    }

    fn req(id: i64, key: &str, kind: ReqKind, changed: u32) -> Requirement {
        Requirement {
            id,
            product_id: 1,
            key: key.into(),
            title: key.into(),
            body: String::new(),
            kind,
            safety_class: SafetyClass::B,
            status: ReqStatus::Active,
            text_version: 1,
            text_changed_at: at(changed),
            created_by: None,
            created_at: at(1),
            updated_at: at(changed),
            version: 1,
        }
    }

    fn test(key: &str, latest: Option<(Outcome, u32)>) -> TestRef {
        TestRef {
            key: key.into(),
            latest: latest.map(|l| l.0),
            latest_at: latest.map(|l| at(l.1)),
        }
    }

    /// A known graph with every status:
    /// UN-1 (user need) <- SYS-1 (system) <- SRS-1..SRS-5 (software).
    fn graph() -> Graph {
        let mut g = Graph {
            requirements: vec![
                req(1, "UN-1", ReqKind::UserNeed, 2),
                req(2, "SYS-1", ReqKind::System, 2),
                req(3, "SRS-1", ReqKind::Software, 2),
                req(4, "SRS-2", ReqKind::Software, 2),
                req(5, "SRS-3", ReqKind::Software, 2),
                req(6, "SRS-4", ReqKind::Software, 12),
                req(7, "SRS-5", ReqKind::Software, 2),
            ],
            parents: vec![(2, 1), (3, 2), (4, 2), (5, 2), (6, 2), (7, 2)],
            ..Graph::default()
        };
        let commit = |d| CommitRef {
            sha: format!("c{d}"),
            at: at(d),
        };
        for id in [3, 4, 6, 7] {
            g.commits.insert(id, vec![commit(3), commit(5)]);
        }
        // SRS-1 verified; SRS-2 failing (one of two); SRS-3 no code, untested;
        // SRS-4 changed (day 12) after its pass (day 10): suspect; SRS-5 only skipped.
        g.tests
            .insert(3, vec![test("t-a", Some((Outcome::Passed, 10)))]);
        g.tests.insert(
            4,
            vec![
                test("t-b", Some((Outcome::Passed, 10))),
                test("t-c", Some((Outcome::Error, 10))),
            ],
        );
        g.tests
            .insert(6, vec![test("t-d", Some((Outcome::Passed, 10)))]);
        g.tests
            .insert(7, vec![test("t-e", Some((Outcome::Skipped, 10)))]);
        g.tests
            .insert(2, vec![test("t-f", Some((Outcome::Passed, 10)))]);
        g.tests
            .insert(1, vec![test("t-g", Some((Outcome::Passed, 1)))]);
        g
    }

    fn status_of(rows: &[Row], key: &str) -> (Coverage, Vec<Coverage>) {
        let r = rows
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("{key}"));
        (r.coverage, r.gaps.clone())
    }

    #[test]
    fn each_status_on_a_known_graph() {
        use Coverage::*;
        let rows = compute(&graph());
        assert_eq!(status_of(&rows, "SRS-1"), (Verified, vec![]));
        assert_eq!(status_of(&rows, "SRS-2"), (Failing, vec![Failing]));
        assert_eq!(status_of(&rows, "SRS-3"), (NoCode, vec![NoCode, Untested]));
        assert_eq!(status_of(&rows, "SRS-4"), (Suspect, vec![Suspect]));
        assert_eq!(status_of(&rows, "SRS-5"), (Untested, vec![Untested]));
        assert_eq!(
            status_of(&rows, "SYS-1"),
            (Verified, vec![]),
            "only software needs code"
        );
        // UN-1 passed on day 1; its own text changed on day 2: suspect.
        assert_eq!(status_of(&rows, "UN-1"), (Suspect, vec![Suspect]));
        let sys = rows
            .iter()
            .find(|r| r.key == "SYS-1")
            .map(|r| (r.parents.clone(), r.children.len()));
        assert_eq!(sys, Some((vec!["UN-1".to_string()], 5)));
        let srs1 = rows.iter().find(|r| r.key == "SRS-1");
        assert_eq!(
            srs1.map(|r| (r.commits, r.newest_commit.clone())),
            Some((2, Some("c5".into())))
        );
    }

    #[test]
    fn a_parent_changed_after_the_childs_newest_pass_makes_the_child_suspect() {
        let mut g = graph();
        // SYS-1 is reworded on day 11, after SRS-1's pass on day 10.
        g.requirements[1].text_changed_at = at(11);
        let rows = compute(&g);
        assert_eq!(status_of(&rows, "SRS-1").0, Coverage::Suspect);
        let counts: Vec<usize> = counts(&rows).iter().map(|c| c.1).collect();
        assert_eq!(
            counts,
            [0, 1, 1, 1, 4],
            "verified, failing, untested, no code, suspect (SRS-1, SRS-4, SYS-1, UN-1)"
        );
    }
}
