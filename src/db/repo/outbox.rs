//! The mail outbox: each e-mail to send, rendered, with how its delivery
//! goes (queued, sent, failed), the attempts made and the last error.
//! Written in the transaction that decides a mail is needed, delivered by
//! the mail job after it commits; never deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::mail_outbox as o;
use crate::db::{DbConnection, naive, utc};
use crate::notify::Letter;

/// Where a mail's delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Queued,
    Sent,
    Failed,
}

impl Status {
    pub const ALL: [Self; 3] = [Self::Queued, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One mail of the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub id: i64,
    pub idem_key: String,
    pub user_id: Option<i64>,
    pub letter: Letter,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl Mail {
    /// Its audited id (`mail-42`).
    pub fn entity_id(&self) -> String {
        format!("mail-{}", self.id)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = o)]
struct Row {
    id: i64,
    idem_key: String,
    user_id: Option<i64>,
    to_address: String,
    subject: String,
    body_text: String,
    body_html: String,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

fn of(r: Row) -> Mail {
    Mail {
        id: r.id,
        idem_key: r.idem_key,
        user_id: r.user_id,
        letter: Letter {
            to: r.to_address,
            subject: r.subject,
            text: r.body_text,
            html: r.body_html,
        },
        status: Status::parse(&r.status).unwrap_or(Status::Failed),
        attempts: r.attempts,
        next_attempt_at: utc(r.next_attempt_at),
        last_error: r.last_error,
        created_at: utc(r.created_at),
        sent_at: r.sent_at.map(utc),
    }
}

/// Queues `letter` under `key` unless a mail of that key exists; `refused`
/// writes it failed at once with that reason (a letter the mail builder
/// refuses is kept, so the outbox shows it, but never sent). The new
/// mail's id, or `None` when the key was taken.
pub fn insert(
    conn: &mut DbConnection,
    key: &str,
    user_id: Option<i64>,
    letter: &Letter,
    refused: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<Option<i64>> {
    let there: i64 = o::table
        .filter(o::idem_key.eq(key))
        .count()
        .get_result(conn)?;
    if there > 0 {
        return Ok(None);
    }
    insert_new(conn, key, user_id, letter, refused, at)?;
    o::table
        .filter(o::idem_key.eq(key))
        .select(o::id)
        .first(conn)
        .map(Some)
}

/// Queues `letter` under `key`, which the caller knows is new (the notify
/// job's key is its notification's, written once in the same
/// transaction): one statement.
pub fn insert_new(
    conn: &mut DbConnection,
    key: &str,
    user_id: Option<i64>,
    letter: &Letter,
    refused: Option<&str>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let status = match refused {
        Some(_) => Status::Failed,
        None => Status::Queued,
    };
    diesel::insert_into(o::table)
        .values((
            o::idem_key.eq(key),
            o::user_id.eq(user_id),
            o::to_address.eq(&letter.to),
            o::subject.eq(&letter.subject),
            o::body_text.eq(&letter.text),
            o::body_html.eq(&letter.html),
            o::status.eq(status.as_str()),
            o::attempts.eq(0),
            o::next_attempt_at.eq(naive(at)),
            o::last_error.eq(refused),
            o::created_at.eq(naive(at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Up to `limit` queued mails whose next attempt is due at `now`, the
/// longest waiting first.
pub fn due(conn: &mut DbConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<Vec<Mail>> {
    o::table
        .filter(o::status.eq(Status::Queued.as_str()))
        .filter(o::next_attempt_at.le(naive(now)))
        .order((o::next_attempt_at.asc(), o::id.asc()))
        .limit(limit)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(of).collect())
}

/// Marks mail `id` sent after `attempts` attempts.
pub fn mark_sent(
    conn: &mut DbConnection,
    id: i64,
    attempts: i32,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(o::table.filter(o::id.eq(id)))
        .set((
            o::status.eq(Status::Sent.as_str()),
            o::attempts.eq(attempts),
            o::sent_at.eq(Some(naive(at))),
            o::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a failed attempt: queued again for `next`, or failed for good
/// when `next` is `None`.
pub fn mark_attempt_failed(
    conn: &mut DbConnection,
    id: i64,
    attempts: i32,
    error: &str,
    next: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    let q = diesel::update(o::table.filter(o::id.eq(id)));
    match next {
        Some(next) => q
            .set((
                o::attempts.eq(attempts),
                o::last_error.eq(Some(error)),
                o::next_attempt_at.eq(naive(next)),
            ))
            .execute(conn),
        None => q
            .set((
                o::status.eq(Status::Failed.as_str()),
                o::attempts.eq(attempts),
                o::last_error.eq(Some(error)),
            ))
            .execute(conn),
    }
}

/// Queues a failed mail again to be tried at `now` (by hand, from the
/// outbox page); whether it was failed.
pub fn requeue(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::update(
        o::table
            .filter(o::id.eq(id))
            .filter(o::status.eq(Status::Failed.as_str())),
    )
    .set((
        o::status.eq(Status::Queued.as_str()),
        o::next_attempt_at.eq(naive(now)),
    ))
    .execute(conn)
    .map(|n| n > 0)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Mail>> {
    o::table
        .filter(o::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(of))
}

/// A page of the outbox, newest first, of one status or all, whose address
/// or subject contains `text` (any case); and how many there are.
pub fn list(
    conn: &mut DbConnection,
    status: Option<Status>,
    text: &str,
    (offset, limit): (i64, i64),
) -> QueryResult<(Vec<Mail>, i64)> {
    let pattern = format!("%{}%", super::escape_like(&text.to_lowercase()));
    let build = || {
        let mut q = o::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(o::status.eq(s.as_str()));
        }
        if !text.is_empty() {
            q = q.filter(
                super::lower(o::to_address)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(super::lower(o::subject).like(pattern.clone()).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(o::id.desc())
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?;
    Ok((rows.into_iter().map(of).collect(), total))
}

/// How many mails are queued, sent and failed.
pub fn counts(conn: &mut DbConnection) -> QueryResult<[i64; 3]> {
    let mut out = [0; 3];
    for (i, s) in Status::ALL.into_iter().enumerate() {
        let n: i64 = o::table
            .filter(o::status.eq(s.as_str()))
            .count()
            .get_result(conn)?;
        if let Some(slot) = out.get_mut(i) {
            *slot = n;
        }
    }
    Ok(out)
}
