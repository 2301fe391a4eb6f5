//! Accounts. Rows are never deleted; `save` writes with an optimistic
//! version check so a stale form cannot overwrite a newer change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{DbConnection, naive, utc};
use crate::domain::ids::UserId;
use crate::domain::user::{Account, FailureCount, Role, Roles};

/// An account as stored, without its password hash, which only the
/// password checks read (`password_hash`, `find_for_sign_in`).
#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct Row {
    id: i64,
    username: String,
    full_name: String,
    email: String,
    roles: String,
    active: bool,
    must_change_password: bool,
    failed_logins: i64,
    failed_window_start: Option<NaiveDateTime>,
    locked_until: Option<NaiveDateTime>,
    last_login_at: Option<NaiveDateTime>,
    password_changed_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

/// The account of a stored row, read strictly (an unknown role is an error).
pub(crate) fn account(r: Row) -> QueryResult<Account> {
    let c = crate::db::strict::Cols::new("users", r.id);
    let roles = c.one_of("roles", &r.roles, Roles::parse_stored)?;
    Ok(Account {
        id: UserId(r.id),
        username: r.username,
        full_name: r.full_name,
        email: r.email,
        roles,
        active: r.active,
        must_change_password: r.must_change_password,
        failures: FailureCount {
            count: r.failed_logins,
            window_start: r.failed_window_start.map(utc),
            locked_until: r.locked_until.map(utc),
        },
        last_login_at: r.last_login_at.map(utc),
        password_changed_at: utc(r.password_changed_at),
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<Account>> {
    users::table
        .find(id.0)
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()
        .and_then(|r| r.map(account).transpose())
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<Account>> {
    users::table
        .filter(users::username.eq(username))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()
        .and_then(|r| r.map(account).transpose())
}

/// The account and its stored password hash, for checking a password.
pub fn find_for_sign_in(
    conn: &mut DbConnection,
    username: &str,
) -> QueryResult<Option<(Account, String)>> {
    users::table
        .filter(users::username.eq(username))
        .select((Row::as_select(), users::password_hash))
        .first::<(Row, String)>(conn)
        .optional()
        .and_then(|r| r.map(|(row, hash)| Ok((account(row)?, hash))).transpose())
}

/// The stored password hash of an account.
pub fn password_hash(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<String>> {
    users::table
        .find(id.0)
        .select(users::password_hash)
        .first(conn)
        .optional()
}

/// Sets an account's password hash; the caller saves the account's new
/// version (and its audit entry) in the same transaction.
pub fn set_password_hash(conn: &mut DbConnection, id: UserId, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id.0))
        .set(users::password_hash.eq(hash))
        .execute(conn)
        .map(|_| ())
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// A new account's stored fields.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub email: &'a str,
    pub roles: &'a Roles,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub now: chrono::DateTime<chrono::Utc>,
}

pub fn insert(conn: &mut DbConnection, a: &NewAccount<'_>) -> QueryResult<Account> {
    let now = naive(a.now);
    diesel::insert_into(users::table)
        .values((
            users::username.eq(a.username),
            users::full_name.eq(a.full_name),
            users::email.eq(a.email),
            users::roles.eq(a.roles.to_stored()),
            users::active.eq(true),
            users::password_hash.eq(a.password_hash),
            users::must_change_password.eq(a.must_change_password),
            users::failed_logins.eq(0_i64),
            users::password_changed_at.eq(now),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            users::version.eq(1_i64),
        ))
        .execute(conn)?;
    find_by_username(conn, a.username)?.ok_or(diesel::result::Error::NotFound)
}

/// Writes every mutable field of `a` if the stored version is still
/// `a.version - 1`; returns false when someone else changed it first.
pub fn save(conn: &mut DbConnection, a: &Account) -> QueryResult<bool> {
    let n = diesel::update(
        users::table.filter(users::id.eq(a.id.0).and(users::version.eq(a.version - 1))),
    )
    .set((
        users::full_name.eq(&a.full_name),
        users::email.eq(&a.email),
        users::roles.eq(a.roles.to_stored()),
        users::active.eq(a.active),
        users::must_change_password.eq(a.must_change_password),
        users::failed_logins.eq(a.failures.count),
        users::failed_window_start.eq(a.failures.window_start.map(naive)),
        users::locked_until.eq(a.failures.locked_until.map(naive)),
        users::last_login_at.eq(a.last_login_at.map(naive)),
        users::password_changed_at.eq(naive(a.password_changed_at)),
        users::updated_at.eq(naive(a.updated_at)),
        users::version.eq(a.version),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Active accounts holding `role`.
pub fn count_active_with_role(conn: &mut DbConnection, role: Role) -> QueryResult<i64> {
    users::table
        .filter(users::active.eq(true))
        .filter(role_filter(role))
        .count()
        .get_result(conn)
}

/// Stored roles are a sorted comma list of distinct names, none a substring
/// of another, so a LIKE on the name is exact.
pub(crate) fn role_filter(role: Role) -> diesel::dsl::Like<users::roles, String> {
    users::roles.like(format!("%{}%", role.as_str()))
}

/// Filters of the user list.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub text: Option<String>,
    pub role: Option<Role>,
    pub status: Option<StatusFilter>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Disabled,
    Locked,
}

/// One page of accounts ordered by username, and the total that match.
pub fn list(
    conn: &mut DbConnection,
    filter: &ListFilter,
    now: chrono::DateTime<chrono::Utc>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Account>, i64)> {
    let build = || {
        let mut q = users::table.into_boxed();
        if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!("%{}%", super::escape_like(&text.to_lowercase()));
            q = q.filter(
                users::username
                    .like(pattern.clone())
                    .escape('\\')
                    .or(super::lower(users::full_name)
                        .like(pattern.clone())
                        .escape('\\'))
                    .or(super::lower(users::email).like(pattern).escape('\\')),
            );
        }
        if let Some(role) = filter.role {
            q = q.filter(role_filter(role));
        }
        match filter.status {
            Some(StatusFilter::Active) => q = q.filter(users::active.eq(true)),
            Some(StatusFilter::Disabled) => q = q.filter(users::active.eq(false)),
            Some(StatusFilter::Locked) => {
                q = q.filter(
                    users::active
                        .eq(true)
                        .and(users::locked_until.gt(naive(now))),
                )
            }
            None => {}
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(users::username.asc())
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)?;
    Ok((
        rows.into_iter().map(account).collect::<QueryResult<_>>()?,
        total,
    ))
}

/// Active accounts locked at `now`, for the administrators' "What needs me".
pub fn locked(
    conn: &mut DbConnection,
    now: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> QueryResult<Vec<Account>> {
    users::table
        .filter(
            users::active
                .eq(true)
                .and(users::locked_until.gt(naive(now))),
        )
        .order(users::username.asc())
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)
        .and_then(|rows| rows.into_iter().map(account).collect())
}

/// Writes only the sign-in bookkeeping (failure count, lock, last sign-in).
/// It does not bump the version: it is not an edit of the account, and an
/// administrator's open form must not go stale because the user signed in.
pub fn save_sign_in_state(
    conn: &mut DbConnection,
    id: UserId,
    failures: &FailureCount,
    last_login_at: Option<chrono::DateTime<chrono::Utc>>,
) -> QueryResult<()> {
    diesel::update(users::table.find(id.0))
        .set((
            users::failed_logins.eq(failures.count),
            users::failed_window_start.eq(failures.window_start.map(naive)),
            users::locked_until.eq(failures.locked_until.map(naive)),
            users::last_login_at.eq(last_login_at.map(naive)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Active users who can own quality work (quality or engineer), by name;
/// at most `limit` (the pickers of owners).
pub fn assignable(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Account>> {
    users::table
        .filter(users::active.eq(true))
        .filter(role_filter(Role::Quality).or(role_filter(Role::Engineer)))
        .order(users::full_name.asc())
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)
        .and_then(|rows| rows.into_iter().map(account).collect())
}

/// Printed names of the given users (one query), for lists.
pub fn names(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    // A page names the same few people many times: ask for each once.
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::full_name))
        .load::<(i64, String)>(conn)
        .map(|rows| rows.into_iter().collect())
}

/// The roles of accounts `ids`.
pub fn roles_of(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Roles>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i64, String)> = users::table
            .filter(users::id.eq_any(chunk))
            .select((users::id, users::roles))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, r)| (id, Roles::from_stored(&r))));
    }
    Ok(out)
}

/// The ids of the active users with `role`, at most `limit`.
pub fn active_with_role(conn: &mut DbConnection, role: Role, limit: i64) -> QueryResult<Vec<i64>> {
    users::table
        .filter(users::active.eq(true))
        .filter(role_filter(role))
        .order(users::id.asc())
        .limit(limit)
        .select(users::id)
        .load(conn)
}

/// Active accounts holding any of `roles`, by name; at most `limit` (the
/// people a step could be asked of).
pub fn active_with_any_role(
    conn: &mut DbConnection,
    roles: &[Role],
    limit: i64,
) -> QueryResult<Vec<Account>> {
    let mut out = Vec::new();
    // One query per role (a step names one or two), merged by id.
    for role in roles {
        let rows: Vec<Row> = users::table
            .filter(users::active.eq(true))
            .filter(role_filter(*role))
            .order(users::full_name.asc())
            .limit(limit)
            .select(Row::as_select())
            .load(conn)?;
        for r in rows {
            let a = account(r)?;
            if !out.iter().any(|x: &Account| x.id == a.id) {
                out.push(a);
            }
        }
    }
    Ok(out)
}
