//! API tokens: only their SHA-256 is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::api_tokens as t;
use crate::db::{DbConnection, naive, utc};
use crate::domain::trace::{Scope, parse_scopes};

/// A stored token (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i64,
}

impl Token {
    pub fn entity_id(&self) -> String {
        format!("tok-{}", self.id)
    }

    /// Usable now: not revoked and not expired.
    pub fn live(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    id: i64,
    user_id: i64,
    name: String,
    scopes: String,
    prefix: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    version: i64,
}

fn record(r: Row) -> Token {
    Token {
        id: r.id,
        user_id: r.user_id,
        name: r.name,
        scopes: parse_scopes(&r.scopes),
        prefix: r.prefix,
        created_at: utc(r.created_at),
        expires_at: r.expires_at.map(utc),
        revoked_at: r.revoked_at.map(utc),
        last_used_at: r.last_used_at.map(utc),
        version: r.version,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConnection,
    user: i64,
    name: &str,
    scopes: &[Scope],
    hash: &str,
    prefix: &str,
    expires: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Token> {
    let scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    diesel::insert_into(t::table)
        .values((
            t::user_id.eq(user),
            t::name.eq(name),
            t::scopes.eq(scopes.join(" ")),
            t::token_hash.eq(hash),
            t::prefix.eq(prefix),
            t::created_at.eq(naive(now)),
            t::expires_at.eq(expires.map(naive)),
            t::version.eq(1),
        ))
        .execute(conn)?;
    by_hash(conn, hash)?.ok_or(diesel::result::Error::NotFound)
}

pub fn by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<Token>> {
    t::table
        .filter(t::token_hash.eq(hash))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(record))
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Token>> {
    t::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(record))
}

/// A user's tokens, newest first.
pub fn of_user(conn: &mut DbConnection, user: i64) -> QueryResult<Vec<Token>> {
    t::table
        .filter(t::user_id.eq(user))
        .order(t::id.desc())
        .limit(200)
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(record).collect())
}

pub fn revoke(
    conn: &mut DbConnection,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(t::table.filter(t::id.eq(id).and(t::revoked_at.is_null())))
        .set((t::revoked_at.eq(naive(now)), t::version.eq(t::version + 1)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn touch(
    conn: &mut DbConnection,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    diesel::update(t::table.filter(t::id.eq(id)))
        .set(t::last_used_at.eq(naive(now)))
        .execute(conn)
        .map(|_| ())
}
