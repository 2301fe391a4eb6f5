//! Domain events, as written in their change's transaction (append-only but
//! for `processed_at`, which the database lets be set once).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::schema::events as ev;
use crate::db::strict::Cols;
use crate::db::{DbConnection, naive, utc};
use crate::domain::event::EventKind;

/// A stored event.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: EventKind,
    /// The record kind as audited (`capa`).
    pub record_type: String,
    pub record_id: String,
    pub record_key: String,
    /// The audit actor id of who caused it (`u-3`, `system`).
    pub actor_id: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = ev)]
struct Row {
    id: i64,
    kind: String,
    record_type: String,
    record_id: String,
    record_key: String,
    actor_id: String,
    data: String,
    created_at: NaiveDateTime,
    processed_at: Option<NaiveDateTime>,
}

impl TryFrom<Row> for StoredEvent {
    type Error = diesel::result::Error;
    fn try_from(r: Row) -> QueryResult<Self> {
        let cols = Cols::new("events", r.id);
        Ok(Self {
            id: r.id,
            kind: cols.one_of("kind", &r.kind, EventKind::parse)?,
            record_type: r.record_type,
            record_id: r.record_id,
            record_key: r.record_key,
            actor_id: r.actor_id,
            data: cols.json("data", &r.data)?,
            created_at: utc(r.created_at),
            processed_at: r.processed_at.map(utc),
        })
    }
}

/// An event to store.
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub record_key: &'a str,
    pub actor_id: &'a str,
    pub data: &'a Value,
    pub at: DateTime<Utc>,
}

pub fn insert(conn: &mut DbConnection, e: &NewEvent) -> QueryResult<()> {
    diesel::insert_into(ev::table)
        .values((
            ev::kind.eq(e.kind.as_str()),
            ev::record_type.eq(e.record_type),
            ev::record_id.eq(e.record_id),
            ev::record_key.eq(e.record_key),
            ev::actor_id.eq(e.actor_id),
            ev::data.eq(e.data.to_string()),
            ev::created_at.eq(naive(e.at)),
        ))
        .execute(conn)
        .map(|_| ())
}

fn read(rows: Vec<Row>) -> QueryResult<Vec<StoredEvent>> {
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// The oldest events not yet processed, at most `limit`.
pub fn unprocessed(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<StoredEvent>> {
    read(
        ev::table
            .filter(ev::processed_at.is_null())
            .order(ev::id.asc())
            .limit(limit)
            .select(Row::as_select())
            .load(conn)?,
    )
}

/// A record's events, oldest first, at most `limit`.
pub fn of_record(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
    limit: i64,
) -> QueryResult<Vec<StoredEvent>> {
    read(
        ev::table
            .filter(ev::record_type.eq(record_type))
            .filter(ev::record_id.eq(record_id))
            .order(ev::id.asc())
            .limit(limit)
            .select(Row::as_select())
            .load(conn)?,
    )
}

/// Marks events processed at `at`; those already processed are left as
/// they are. Returns how many were marked.
pub fn mark_processed(
    conn: &mut DbConnection,
    ids: &[i64],
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += diesel::update(
            ev::table
                .filter(ev::id.eq_any(chunk))
                .filter(ev::processed_at.is_null()),
        )
        .set(ev::processed_at.eq(Some(naive(at))))
        .execute(conn)?;
    }
    Ok(n)
}
