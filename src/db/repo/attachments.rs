//! Attachments and the stored contents they name (migration 19). Rows are
//! never deleted and contents never changed; an attachment's removal is set
//! once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{attachments as a, file_blobs as b, file_chunks as c};
use crate::db::{DbConnection, naive, utc};

/// An attachment as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub record_type: String,
    pub record_id: String,
    /// What of the record it belongs to: empty for the record itself,
    /// `capa-item-5` for an action item, `effectiveness` for the check.
    pub part: String,
    pub name: String,
    pub sha256: String,
    pub size: i64,
    pub added_by: i64,
    pub added_at: chrono::DateTime<chrono::Utc>,
    pub removed: Option<Removal>,
}

/// Who removed an attachment, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removal {
    pub by: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = a)]
struct Row {
    id: i64,
    record_type: String,
    record_id: String,
    part: String,
    name: String,
    sha256: String,
    size: i64,
    added_by: i64,
    added_at: NaiveDateTime,
    removed_by: Option<i64>,
    removed_at: Option<NaiveDateTime>,
    removed_reason: String,
}

fn attachment(r: Row) -> Attachment {
    Attachment {
        id: r.id,
        removed: match (r.removed_by, r.removed_at) {
            (Some(by), Some(at)) => Some(Removal {
                by,
                at: utc(at),
                reason: r.removed_reason,
            }),
            _ => None,
        },
        record_type: r.record_type,
        record_id: r.record_id,
        part: r.part,
        name: r.name,
        sha256: r.sha256,
        size: r.size,
        added_by: r.added_by,
        added_at: utc(r.added_at),
    }
}

/// A new attachment.
pub struct New<'a> {
    pub record: (&'a str, &'a str),
    pub part: &'a str,
    pub name: &'a str,
    pub sha256: &'a str,
    pub size: i64,
    pub by: i64,
    pub at: chrono::DateTime<chrono::Utc>,
}

pub fn insert(conn: &mut DbConnection, n: &New<'_>) -> QueryResult<i64> {
    diesel::insert_into(a::table)
        .values((
            a::record_type.eq(n.record.0),
            a::record_id.eq(n.record.1),
            a::part.eq(n.part),
            a::name.eq(n.name),
            a::sha256.eq(n.sha256),
            a::size.eq(n.size),
            a::added_by.eq(n.by),
            a::added_at.eq(naive(n.at)),
            a::removed_reason.eq(""),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Attachment>> {
    a::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(attachment))
}

/// A record's attachments, removed ones too, in the order they were added
/// (at most 500: the record page lists them all).
pub fn of_record(conn: &mut DbConnection, kind: &str, id: &str) -> QueryResult<Vec<Attachment>> {
    a::table
        .filter(a::record_type.eq(kind))
        .filter(a::record_id.eq(id))
        .order(a::id.asc())
        .limit(500)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(attachment).collect())
}

/// Marks attachment `id` removed, if it is not yet; false when it was.
pub fn remove(
    conn: &mut DbConnection,
    id: i64,
    by: i64,
    at: chrono::DateTime<chrono::Utc>,
    reason: &str,
) -> QueryResult<bool> {
    diesel::update(a::table.find(id).filter(a::removed_at.is_null()))
        .set((
            a::removed_by.eq(Some(by)),
            a::removed_at.eq(Some(naive(at))),
            a::removed_reason.eq(reason),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Where a content is stored: `directory` or `database`, if it is.
pub fn stored_in(conn: &mut DbConnection, sha256: &str) -> QueryResult<Option<String>> {
    b::table
        .find(sha256)
        .select(b::stored_in)
        .first(conn)
        .optional()
}

/// Records a stored content. Another transaction may have recorded the
/// same content meanwhile: then nothing is written (a savepoint keeps the
/// caller's transaction usable on PostgreSQL).
pub fn insert_blob(
    conn: &mut DbConnection,
    sha256: &str,
    size: i64,
    stored_in: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(b::table)
            .values((
                b::sha256.eq(sha256),
                b::size.eq(size),
                b::stored_in.eq(stored_in),
                b::created_at.eq(naive(at)),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if crate::db::unique_violation(&e).is_some() => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn insert_chunk(conn: &mut DbConnection, sha256: &str, n: i64, data: &[u8]) -> QueryResult<()> {
    diesel::insert_into(c::table)
        .values((c::sha256.eq(sha256), c::n.eq(n), c::data.eq(data)))
        .execute(conn)
        .map(|_| ())
}

/// Chunk `n` of a content stored in the database, if there is one.
pub fn chunk(conn: &mut DbConnection, sha256: &str, n: i64) -> QueryResult<Option<Vec<u8>>> {
    c::table
        .find((sha256, n))
        .select(c::data)
        .first(conn)
        .optional()
}
