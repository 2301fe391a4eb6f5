//! Test cases, test runs and their results.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{test_cases as tc, test_results as tr, test_runs as run};
use crate::db::{DbConnection, naive, utc};
use crate::domain::trace::Outcome;

/// A test case: a key (TC-044, or the test's full name) in a product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    pub id: i64,
    pub product_id: i64,
    pub key: String,
    pub title: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TestCase {
    pub fn entity_id(&self) -> String {
        format!("test-{}", self.id)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = tc)]
struct CaseRow {
    id: i64,
    product_id: i64,
    key: String,
    title: String,
    created_at: NaiveDateTime,
}

fn case(r: CaseRow) -> TestCase {
    TestCase {
        id: r.id,
        product_id: r.product_id,
        key: r.key,
        title: r.title,
        created_at: utc(r.created_at),
    }
}

pub fn cases_by_key(
    conn: &mut DbConnection,
    product: i64,
    keys: &[String],
) -> QueryResult<Vec<TestCase>> {
    super::chunked(keys, |chunk| {
        tc::table
            .filter(tc::product_id.eq(product).and(tc::key.eq_any(chunk)))
            .select(CaseRow::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(case).collect())
    })
}

pub fn cases_by_id(conn: &mut DbConnection, ids: &[i64]) -> QueryResult<Vec<TestCase>> {
    super::chunked(ids, |chunk| {
        tc::table
            .filter(tc::id.eq_any(chunk))
            .select(CaseRow::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(case).collect())
    })
}

/// Every test case of a product, in key order.
pub fn cases_of_product(conn: &mut DbConnection, product: i64) -> QueryResult<Vec<TestCase>> {
    tc::table
        .filter(tc::product_id.eq(product))
        .order(tc::key.asc())
        .select(CaseRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(case).collect())
}

/// Stores new test cases (key, title) of a product, in batches.
pub fn insert_cases(
    conn: &mut DbConnection,
    product: i64,
    new: &[(String, String)],
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    for chunk in new.chunks(200) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(key, title)| {
                (
                    tc::product_id.eq(product),
                    tc::key.eq(key),
                    tc::title.eq(title),
                    tc::created_at.eq(naive(now)),
                )
            })
            .collect();
        super::batch_insert!(conn, tc::table, rows)?;
    }
    Ok(())
}

/// A test run as uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRun<'a> {
    pub product_id: i64,
    pub repository_id: Option<i64>,
    pub commit_sha: &'a str,
    pub branch: &'a str,
    pub ci_url: &'a str,
    pub file_sha256: &'a str,
    pub uploaded_by: i64,
    /// tests, passed, failed, skipped, errors
    pub counts: [i64; 5],
}

pub fn insert_run(
    conn: &mut DbConnection,
    r: &NewRun,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(run::table)
        .values((
            run::product_id.eq(r.product_id),
            run::repository_id.eq(r.repository_id),
            run::commit_sha.eq(r.commit_sha),
            run::branch.eq(r.branch),
            run::ci_url.eq(r.ci_url),
            run::file_sha256.eq(r.file_sha256),
            run::uploaded_by.eq(r.uploaded_by),
            run::received_at.eq(naive(now)),
            run::tests.eq(r.counts[0]),
            run::passed.eq(r.counts[1]),
            run::failed.eq(r.counts[2]),
            run::skipped.eq(r.counts[3]),
            run::errors.eq(r.counts[4]),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

/// Stores a run's results: (test case, outcome, duration in ms, message).
pub fn insert_results(
    conn: &mut DbConnection,
    run_id: i64,
    results: &[(i64, Outcome, i64, String)],
) -> QueryResult<()> {
    for chunk in results.chunks(200) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(case, outcome, ms, message)| {
                (
                    tr::run_id.eq(run_id),
                    tr::test_case_id.eq(*case),
                    tr::outcome.eq(outcome.as_str()),
                    tr::duration_ms.eq(*ms),
                    tr::message.eq(message),
                )
            })
            .collect();
        super::batch_insert!(conn, tr::table, rows)?;
    }
    Ok(())
}

/// A result as the matrix reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatestResult {
    pub test_case_id: i64,
    pub run_id: i64,
    pub outcome: Outcome,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

/// The latest result of each of `cases` (by run order).
pub fn latest_results(conn: &mut DbConnection, cases: &[i64]) -> QueryResult<Vec<LatestResult>> {
    let newest: Vec<i64> = super::chunked(cases, |chunk| {
        tr::table
            .filter(tr::test_case_id.eq_any(chunk))
            .group_by(tr::test_case_id)
            .select(diesel::dsl::max(tr::id))
            .load::<Option<i64>>(conn)
            .map(|ids| ids.into_iter().flatten().collect())
    })?;
    let rows: Vec<(i64, i64, String, NaiveDateTime)> = super::chunked(&newest, |chunk| {
        tr::table
            .inner_join(run::table.on(run::id.eq(tr::run_id)))
            .filter(tr::id.eq_any(chunk))
            .select((tr::test_case_id, tr::run_id, tr::outcome, run::received_at))
            .load(conn)
    })?;
    rows.into_iter()
        .map(|r| {
            let c = crate::db::strict::Cols::new("test_results", format!("of run {}", r.1));
            Ok(LatestResult {
                test_case_id: r.0,
                run_id: r.1,
                outcome: c.one_of("outcome", &r.2, Outcome::parse)?,
                received_at: utc(r.3),
            })
        })
        .collect()
}
