//! In-app notifications: written by the notify job, read and marked read by
//! the person they are for; never deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::notifications as n;
use crate::db::{DbConnection, naive, utc};

/// A notification as its person's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub event_id: i64,
    pub kind: String,
    pub record_key: String,
    pub words: String,
    pub href: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = n)]
struct Row {
    id: i64,
    user_id: i64,
    event_id: i64,
    kind: String,
    record_key: String,
    words: String,
    href: String,
    created_at: NaiveDateTime,
    read_at: Option<NaiveDateTime>,
}

fn of(r: Row) -> Notification {
    Notification {
        id: r.id,
        user_id: r.user_id,
        event_id: r.event_id,
        kind: r.kind,
        record_key: r.record_key,
        words: r.words,
        href: r.href,
        created_at: utc(r.created_at),
        read_at: r.read_at.map(utc),
    }
}

/// A notification to write.
pub struct NewNotification<'a> {
    pub user_id: i64,
    pub event_id: i64,
    pub kind: &'a str,
    pub record: (&'a str, &'a str, &'a str),
    pub words: &'a str,
    pub href: &'a str,
    pub at: DateTime<Utc>,
    /// Its mail waits for the person's digest.
    pub held: bool,
}

/// Writes a notification unless its person has one of that event already;
/// whether it was written.
pub fn insert(conn: &mut DbConnection, x: &NewNotification<'_>) -> QueryResult<bool> {
    let there: i64 = n::table
        .filter(n::user_id.eq(x.user_id))
        .filter(n::event_id.eq(x.event_id))
        .count()
        .get_result(conn)?;
    if there > 0 {
        return Ok(false);
    }
    diesel::insert_into(n::table)
        .values((
            n::user_id.eq(x.user_id),
            n::event_id.eq(x.event_id),
            n::kind.eq(x.kind),
            n::record_type.eq(x.record.0),
            n::record_id.eq(x.record.1),
            n::record_key.eq(x.record.2),
            n::words.eq(x.words),
            n::href.eq(x.href),
            n::created_at.eq(naive(x.at)),
            n::held.eq(x.held),
        ))
        .execute(conn)?;
    Ok(true)
}

/// `user`'s notifications held for the digest and not told by one yet,
/// oldest first (at most `limit`).
pub fn held_for(conn: &mut DbConnection, user: i64, limit: i64) -> QueryResult<Vec<Notification>> {
    n::table
        .filter(n::held.eq(true))
        .filter(n::digested_at.is_null())
        .filter(n::user_id.eq(user))
        .order(n::id.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(of).collect())
}

/// Marks notifications `ids` told by a digest at `at`.
pub fn mark_digested(
    conn: &mut DbConnection,
    ids: &[i64],
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(n::table.filter(n::id.eq_any(ids)))
        .set(n::digested_at.eq(Some(naive(at))))
        .execute(conn)
}

/// How many of `user`'s notifications are unread.
pub fn unread(conn: &mut DbConnection, user: i64) -> QueryResult<i64> {
    n::table
        .filter(n::user_id.eq(user))
        .filter(n::read_at.is_null())
        .count()
        .get_result(conn)
}

/// A page of `user`'s notifications, newest first (only unread ones when
/// `unread_only`), and how many there are.
pub fn list(
    conn: &mut DbConnection,
    user: i64,
    unread_only: bool,
    (offset, limit): (i64, i64),
) -> QueryResult<(Vec<Notification>, i64)> {
    let build = || {
        let mut q = n::table.filter(n::user_id.eq(user)).into_boxed();
        if unread_only {
            q = q.filter(n::read_at.is_null());
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(n::id.desc())
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?;
    Ok((rows.into_iter().map(of).collect(), total))
}

/// Marks `user`'s notification `id` read (once; later reads keep the first
/// time); the notification, if it is theirs.
pub fn mark_read(
    conn: &mut DbConnection,
    user: i64,
    id: i64,
    at: DateTime<Utc>,
) -> QueryResult<Option<Notification>> {
    diesel::update(
        n::table
            .filter(n::id.eq(id))
            .filter(n::user_id.eq(user))
            .filter(n::read_at.is_null()),
    )
    .set(n::read_at.eq(Some(naive(at))))
    .execute(conn)?;
    n::table
        .filter(n::id.eq(id))
        .filter(n::user_id.eq(user))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(of))
}

/// Marks every unread notification of `user` read; how many.
pub fn mark_all_read(conn: &mut DbConnection, user: i64, at: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        n::table
            .filter(n::user_id.eq(user))
            .filter(n::read_at.is_null()),
    )
    .set(n::read_at.eq(Some(naive(at))))
    .execute(conn)
}
