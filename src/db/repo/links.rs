//! Links between records, named by entity type and id as the audit log
//! names them (`nc-3` escalated_to `capa-7`, `req-12` derives_from `req-3`).
//! A link is never deleted: unlinking sets who removed it and when.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::links as l;
use crate::db::{DbConnection, naive, utc};

/// One end of a link: entity type and id (`("capa", "capa-7")`).
pub type End<'a> = (&'a str, &'a str);

/// A stored link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub id: i64,
    pub from_type: String,
    pub from_id: String,
    pub relation: String,
    pub to_type: String,
    pub to_id: String,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub removed_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = l)]
struct Row {
    id: i64,
    from_type: String,
    from_id: String,
    relation: String,
    to_type: String,
    to_id: String,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
    removed_at: Option<NaiveDateTime>,
}

fn link(r: Row) -> Link {
    Link {
        id: r.id,
        from_type: r.from_type,
        from_id: r.from_id,
        relation: r.relation,
        to_type: r.to_type,
        to_id: r.to_id,
        created_by: r.created_by,
        created_at: utc(r.created_at),
        removed_at: r.removed_at.map(utc),
    }
}

/// Stores a link and returns its id.
pub fn insert(
    conn: &mut DbConnection,
    from: End,
    relation: &str,
    to: End,
    by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(l::table)
        .values((
            l::from_type.eq(from.0),
            l::from_id.eq(from.1),
            l::relation.eq(relation),
            l::to_type.eq(to.0),
            l::to_id.eq(to.1),
            l::created_by.eq(by),
            l::created_at.eq(naive(now)),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

/// The link `from -relation-> to` that is in force, if any.
pub fn find_active(
    conn: &mut DbConnection,
    from: End,
    relation: &str,
    to: End,
) -> QueryResult<Option<Link>> {
    l::table
        .filter(l::from_type.eq(from.0).and(l::from_id.eq(from.1)))
        .filter(l::relation.eq(relation))
        .filter(l::to_type.eq(to.0).and(l::to_id.eq(to.1)))
        .filter(l::removed_at.is_null())
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(link))
}

/// Marks a link removed; false when it was removed already.
pub fn remove(
    conn: &mut DbConnection,
    id: i64,
    by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(l::table.filter(l::id.eq(id).and(l::removed_at.is_null())))
        .set((l::removed_by.eq(by), l::removed_at.eq(naive(now))))
        .execute(conn)?;
    Ok(n == 1)
}

/// The links in force from or to a record, oldest first.
pub fn of(conn: &mut DbConnection, kind: &str, id: &str) -> QueryResult<Vec<Link>> {
    l::table
        .filter(
            (l::from_type.eq(kind).and(l::from_id.eq(id)))
                .or(l::to_type.eq(kind).and(l::to_id.eq(id))),
        )
        .filter(l::removed_at.is_null())
        .order(l::id.asc())
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(link).collect())
}

/// The links in force from records of `from_type` with `relation` to any of
/// `to_ids` (of `to_type`), e.g. the parents of a page of requirements.
pub fn to_any(
    conn: &mut DbConnection,
    from_type: &str,
    relation: &str,
    to_type: &str,
    to_ids: &[String],
) -> QueryResult<Vec<Link>> {
    super::chunked(to_ids, |chunk| {
        l::table
            .filter(l::to_type.eq(to_type).and(l::to_id.eq_any(chunk)))
            .filter(l::from_type.eq(from_type).and(l::relation.eq(relation)))
            .filter(l::removed_at.is_null())
            .order(l::id.asc())
            .select(Row::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(link).collect())
    })
}

/// The links in force with `relation` from any of `from_ids` (of `from_type`).
pub fn from_any(
    conn: &mut DbConnection,
    from_type: &str,
    from_ids: &[String],
    relation: &str,
) -> QueryResult<Vec<Link>> {
    super::chunked(from_ids, |chunk| {
        l::table
            .filter(l::from_type.eq(from_type).and(l::from_id.eq_any(chunk)))
            .filter(l::relation.eq(relation))
            .filter(l::removed_at.is_null())
            .order(l::id.asc())
            .select(Row::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(link).collect())
    })
}

/// The links in force from records of `from_type`, with any relation, to one record.
pub fn from_type_to(conn: &mut DbConnection, from_type: &str, to: End) -> QueryResult<Vec<Link>> {
    l::table
        .filter(l::to_type.eq(to.0).and(l::to_id.eq(to.1)))
        .filter(l::from_type.eq(from_type))
        .filter(l::removed_at.is_null())
        .order(l::id.asc())
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(link).collect())
}

/// The links in force from records of `from_type`, with any relation, to
/// any of `to_ids` (of `to_type`).
pub fn from_type_to_any(
    conn: &mut DbConnection,
    from_type: &str,
    to_type: &str,
    to_ids: &[String],
) -> QueryResult<Vec<Link>> {
    super::chunked(to_ids, |chunk| {
        l::table
            .filter(l::to_type.eq(to_type).and(l::to_id.eq_any(chunk)))
            .filter(l::from_type.eq(from_type))
            .filter(l::removed_at.is_null())
            .select(Row::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().map(link).collect())
    })
}
