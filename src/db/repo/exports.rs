//! Matrix exports (kept byte for byte) and releases.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{exports as e, releases as r};
use crate::db::{DbConnection, naive, utc};

/// An export without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub id: i64,
    pub product_id: i64,
    pub format: String,
    pub file_name: String,
    pub sha256: String,
    pub bytes: i64,
    pub manifest: String,
    pub audit_seq: i64,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = e)]
struct Row {
    id: i64,
    product_id: i64,
    format: String,
    file_name: String,
    sha256: String,
    bytes: i64,
    manifest: String,
    audit_seq: i64,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
}

fn record(r: Row) -> Export {
    Export {
        id: r.id,
        product_id: r.product_id,
        format: r.format,
        file_name: r.file_name,
        sha256: r.sha256,
        bytes: r.bytes,
        manifest: r.manifest,
        audit_seq: r.audit_seq,
        created_by: r.created_by,
        created_at: utc(r.created_at),
    }
}

/// A new export.
pub struct NewExport<'a> {
    pub product_id: i64,
    pub format: &'a str,
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub content: &'a [u8],
    pub manifest: &'a str,
    pub audit_seq: i64,
    pub created_by: Option<i64>,
}

pub fn insert(
    conn: &mut DbConnection,
    n: &NewExport,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(e::table)
        .values((
            e::product_id.eq(n.product_id),
            e::format.eq(n.format),
            e::file_name.eq(n.file_name),
            e::sha256.eq(n.sha256),
            e::bytes.eq(i64::try_from(n.content.len()).unwrap_or(i64::MAX)),
            e::content.eq(n.content),
            e::manifest.eq(n.manifest),
            e::audit_seq.eq(n.audit_seq),
            e::created_by.eq(n.created_by),
            e::created_at.eq(naive(now)),
        ))
        .execute(conn)?;
    e::table
        .filter(e::audit_seq.eq(n.audit_seq))
        .select(e::id)
        .first(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Export>> {
    e::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(record))
}

pub fn content(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Vec<u8>>> {
    e::table.find(id).select(e::content).first(conn).optional()
}

/// A product's newest exports.
pub fn of_product(conn: &mut DbConnection, product: i64, limit: i64) -> QueryResult<Vec<Export>> {
    e::table
        .filter(e::product_id.eq(product))
        .order(e::id.desc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(record).collect())
}

/// A release: a tag of a repository and the export of the matrix then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub id: i64,
    pub repository_id: i64,
    pub tag: String,
    pub sha: String,
    pub export_id: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub fn insert_release(
    conn: &mut DbConnection,
    repository: i64,
    tag: &str,
    sha: &str,
    export: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    diesel::insert_into(r::table)
        .values((
            r::repository_id.eq(repository),
            r::tag.eq(tag),
            r::sha.eq(sha),
            r::export_id.eq(export),
            r::created_at.eq(naive(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The releases of the repositories of a product, newest first.
pub fn releases_of(conn: &mut DbConnection, repositories: &[i64]) -> QueryResult<Vec<Release>> {
    r::table
        .filter(r::repository_id.eq_any(repositories))
        .order(r::id.desc())
        .limit(200)
        .select((
            r::id,
            r::repository_id,
            r::tag,
            r::sha,
            r::export_id,
            r::created_at,
        ))
        .load::<(i64, i64, String, String, i64, NaiveDateTime)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|x| Release {
                    id: x.0,
                    repository_id: x.1,
                    tag: x.2,
                    sha: x.3,
                    export_id: x.4,
                    created_at: utc(x.5),
                })
                .collect()
        })
}
