//! Server-side sessions. Looked up by the SHA-256 of the cookie token;
//! ended, never deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::{DbConnection, naive, utc};
use crate::domain::ids::UserId;

/// A stored session.
#[derive(Clone, Debug)]
pub struct Session {
    pub id_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub flash: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct Row {
    id_hash: String,
    user_id: i64,
    csrf_token: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    ended_at: Option<NaiveDateTime>,
    flash: Option<String>,
}

impl From<Row> for Session {
    fn from(r: Row) -> Self {
        Session {
            id_hash: r.id_hash,
            user_id: UserId(r.user_id),
            csrf_token: r.csrf_token,
            created_at: utc(r.created_at),
            last_seen_at: utc(r.last_seen_at),
            expires_at: utc(r.expires_at),
            ended_at: r.ended_at.map(utc),
            flash: r.flash,
        }
    }
}

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub fn insert(conn: &mut DbConnection, s: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id_hash.eq(s.id_hash),
            sessions::user_id.eq(s.user_id.0),
            sessions::csrf_token.eq(s.csrf_token),
            sessions::created_at.eq(naive(s.now)),
            sessions::last_seen_at.eq(naive(s.now)),
            sessions::expires_at.eq(naive(s.expires_at)),
            sessions::ip.eq(s.ip),
            sessions::user_agent.eq(s.user_agent),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConnection, id_hash: &str) -> QueryResult<Option<Session>> {
    sessions::table
        .find(id_hash)
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()
        .map(|r| r.map(Session::from))
}

/// A live-or-ended session with its account, in one query: what every
/// signed-in request reads first (the account without its password hash).
pub fn find_with_user(
    conn: &mut DbConnection,
    id_hash: &str,
) -> QueryResult<Option<(Session, crate::domain::user::Account)>> {
    use super::users::Row as UserRow;
    use crate::db::schema::users;
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id_hash.eq(id_hash))
        .select((Row::as_select(), UserRow::as_select()))
        .first::<(Row, UserRow)>(conn)
        .optional()
        .and_then(|r| {
            r.map(|(s, u)| Ok((Session::from(s), super::users::account(u)?)))
                .transpose()
        })
}

pub fn touch(conn: &mut DbConnection, id_hash: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::last_seen_at.eq(naive(now)))
        .execute(conn)
        .map(|_| ())
}

/// Ends one live session; returns false if it had already ended.
pub fn end(
    conn: &mut DbConnection,
    id_hash: &str,
    now: DateTime<Utc>,
    reason: &str,
) -> QueryResult<bool> {
    diesel::update(
        sessions::table.filter(
            sessions::id_hash
                .eq(id_hash)
                .and(sessions::ended_at.is_null()),
        ),
    )
    .set((
        sessions::ended_at.eq(naive(now)),
        sessions::ended_reason.eq(reason),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Ends every live session of a user, except `keep`; returns how many ended.
pub fn end_all_for_user(
    conn: &mut DbConnection,
    user: UserId,
    now: DateTime<Utc>,
    reason: &str,
    keep: Option<&str>,
) -> QueryResult<usize> {
    let live = sessions::table.filter(
        sessions::user_id
            .eq(user.0)
            .and(sessions::ended_at.is_null()),
    );
    match keep {
        Some(keep) => diesel::update(live.filter(sessions::id_hash.ne(keep)))
            .set((
                sessions::ended_at.eq(naive(now)),
                sessions::ended_reason.eq(reason),
            ))
            .execute(conn),
        None => diesel::update(live)
            .set((
                sessions::ended_at.eq(naive(now)),
                sessions::ended_reason.eq(reason),
            ))
            .execute(conn),
    }
}

pub fn set_flash(conn: &mut DbConnection, id_hash: &str, flash: Option<&str>) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash))
        .set(sessions::flash.eq(flash))
        .execute(conn)
        .map(|_| ())
}

/// Live sessions of a user, newest first (shown on the user's page).
pub fn live_count(conn: &mut DbConnection, user: UserId) -> QueryResult<i64> {
    sessions::table
        .filter(
            sessions::user_id
                .eq(user.0)
                .and(sessions::ended_at.is_null()),
        )
        .count()
        .get_result(conn)
}

/// Whether the session has already made an electronic signature (its first
/// signature asks for the username as well as the password, 11.200(a)(1)).
pub fn has_signed(conn: &mut DbConnection, id_hash: &str) -> QueryResult<bool> {
    sessions::table
        .find(id_hash)
        .select(sessions::first_signed_at)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()
        .map(|r| r.flatten().is_some())
}

/// Notes the session's first signature; later ones keep the first time.
pub fn mark_signed(conn: &mut DbConnection, id_hash: &str, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        sessions::table.filter(
            sessions::id_hash
                .eq(id_hash)
                .and(sessions::first_signed_at.is_null()),
        ),
    )
    .set(sessions::first_signed_at.eq(naive(now)))
    .execute(conn)
    .map(|_| ())
}
