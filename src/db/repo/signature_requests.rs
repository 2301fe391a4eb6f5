//! Signature requests: a person asks a named colleague to sign a step of a
//! record. Open until withdrawn, taken, or the record moves on; never
//! deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::signature_requests as r;
use crate::db::{DbConnection, naive, utc};

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The person who asked (or quality) withdrew it.
    Withdrawn,
    /// The step asked for was taken.
    Taken,
    /// The record left the state it was asked in by another step.
    MovedOn,
}

impl Ended {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Withdrawn => "withdrawn",
            Self::Taken => "taken",
            Self::MovedOn => "moved_on",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Withdrawn, Self::Taken, Self::MovedOn]
            .into_iter()
            .find(|e| e.as_str() == s)
    }
}

/// One request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: i64,
    pub record_type: String,
    pub record_id: String,
    pub record_key: String,
    /// The step asked for (`close_effective`), its words and the meaning
    /// of its signature when asked.
    pub action: String,
    pub label: String,
    pub meaning: String,
    /// The record's state when it was asked (`verification`).
    pub state: String,
    pub asked_of: i64,
    pub asked_by: i64,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub ended: Option<Ended>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<i64>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = r)]
struct Row {
    id: i64,
    record_type: String,
    record_id: String,
    record_key: String,
    action: String,
    label: String,
    meaning: String,
    state: String,
    asked_of: i64,
    asked_by: i64,
    note: String,
    created_at: NaiveDateTime,
    ended: Option<String>,
    ended_at: Option<NaiveDateTime>,
    ended_by: Option<i64>,
}

fn of(x: Row) -> Request {
    Request {
        id: x.id,
        record_type: x.record_type,
        record_id: x.record_id,
        record_key: x.record_key,
        action: x.action,
        label: x.label,
        meaning: x.meaning,
        state: x.state,
        asked_of: x.asked_of,
        asked_by: x.asked_by,
        note: x.note,
        created_at: utc(x.created_at),
        ended: x.ended.as_deref().and_then(Ended::parse),
        ended_at: x.ended_at.map(utc),
        ended_by: x.ended_by,
    }
}

/// A request to write.
pub struct NewRequest<'a> {
    /// The record: its type, id and key (`capa`, `capa-3`, `CAPA-3`).
    pub record: (&'a str, &'a str, &'a str),
    /// The step: its name, words and signature meaning.
    pub action: (&'a str, &'a str, &'a str),
    pub state: &'a str,
    pub asked_of: i64,
    pub asked_by: i64,
    pub note: &'a str,
    pub at: DateTime<Utc>,
}

/// Writes an open request; its id.
pub fn insert(conn: &mut DbConnection, x: &NewRequest<'_>) -> QueryResult<i64> {
    diesel::insert_into(r::table)
        .values((
            r::record_type.eq(x.record.0),
            r::record_id.eq(x.record.1),
            r::record_key.eq(x.record.2),
            r::action.eq(x.action.0),
            r::label.eq(x.action.1),
            r::meaning.eq(x.action.2),
            r::state.eq(x.state),
            r::asked_of.eq(x.asked_of),
            r::asked_by.eq(x.asked_by),
            r::note.eq(x.note),
            r::created_at.eq(naive(x.at)),
        ))
        .execute(conn)?;
    r::table
        .filter(r::record_type.eq(x.record.0))
        .filter(r::record_id.eq(x.record.1))
        .filter(r::asked_of.eq(x.asked_of))
        .filter(r::ended.is_null())
        .order(r::id.desc())
        .select(r::id)
        .first(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Request>> {
    r::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|x| x.map(of))
}

/// The open requests on record `(record_type, record_id)`, oldest first.
pub fn open_on(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
) -> QueryResult<Vec<Request>> {
    r::table
        .filter(r::record_type.eq(record_type))
        .filter(r::record_id.eq(record_id))
        .filter(r::ended.is_null())
        .order(r::id.asc())
        .limit(100)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(of).collect())
}

/// The open requests asked of `user`, oldest first (at most `limit`).
pub fn open_of(conn: &mut DbConnection, user: i64, limit: i64) -> QueryResult<Vec<Request>> {
    r::table
        .filter(r::asked_of.eq(user))
        .filter(r::ended.is_null())
        .order(r::created_at.asc())
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(of).collect())
}

/// Ends request `id` if it is still open; whether it was.
pub fn end(
    conn: &mut DbConnection,
    id: i64,
    how: Ended,
    at: DateTime<Utc>,
    by: Option<i64>,
) -> QueryResult<bool> {
    diesel::update(r::table.filter(r::id.eq(id)).filter(r::ended.is_null()))
        .set((
            r::ended.eq(Some(how.as_str())),
            r::ended_at.eq(Some(naive(at))),
            r::ended_by.eq(by),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// After step `action` took record `(record_type, record_id)` to `state`,
/// taken by `actor`: the requests for that step end as taken when the
/// person asked took it or the record moved on; the others asked in
/// another state than `state` end as moved on. How many ended.
pub fn settle(
    conn: &mut DbConnection,
    (record_type, record_id): (&str, &str),
    (action, state): (&str, &str),
    actor: Option<i64>,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let open = || {
        r::table
            .filter(r::record_type.eq(record_type))
            .filter(r::record_id.eq(record_id))
            .filter(r::ended.is_null())
    };
    // Most steps have no request to settle: one indexed look first.
    let any: Option<i64> = open().select(r::id).first(conn).optional()?;
    if any.is_none() {
        return Ok(0);
    }
    let set = |how: Ended| {
        (
            r::ended.eq(Some(how.as_str())),
            r::ended_at.eq(Some(naive(at))),
            r::ended_by.eq(actor),
        )
    };
    let mut n = 0;
    if let Some(actor) = actor {
        n += diesel::update(
            open()
                .filter(r::action.eq(action))
                .filter(r::asked_of.eq(actor)),
        )
        .set(set(Ended::Taken))
        .execute(conn)?;
    }
    n += diesel::update(
        open()
            .filter(r::action.eq(action))
            .filter(r::state.ne(state)),
    )
    .set(set(Ended::Taken))
    .execute(conn)?;
    n += diesel::update(open().filter(r::state.ne(state)))
        .set(set(Ended::MovedOn))
        .execute(conn)?;
    Ok(n)
}
