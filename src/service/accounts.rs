//! Account operations: create, edit, roles, disable/enable, password reset
//! and change, unlock, sign-in, sign-out. Each is one write transaction that
//! appends its audit entry (AUDIT-LOG.md section 1); the audit entry never
//! holds a password, hash or token.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::error::RecordError;
use super::keys;
use super::{Ctx, random_token, sha256_hex};
use crate::audit::{self, Actor, EntityRef};
use crate::db::repo::{sessions, signatures, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::domain::user::{
    Account, Email, FailureCount, FieldError, LockoutPolicy, PrintedName, Role, Roles,
    SessionPolicy, Username,
};
use crate::signature::NewKey;

/// The username is held by another account already.
fn username_taken(name: &str) -> RecordError {
    RecordError::taken(
        "username",
        format!(
            "the username {name:?} is already taken (accounts are never deleted, so names are never reused)"
        ),
    )
}

/// The audit entity of an account.
pub fn entity(a: &Account) -> EntityRef {
    EntityRef {
        kind: "user".into(),
        id: a.id.to_string(),
        key: a.username.clone(),
        version: a.version,
    }
}

/// The audit actor for a signed-in user.
pub fn actor(a: &Account) -> Actor {
    Actor {
        id: a.id.to_string(),
        name: a.full_name.clone(),
    }
}

/// What an administrator (or the CLI) types to create an account.
#[derive(Clone, Debug, Default)]
pub struct NewUserInput {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: Roles,
}

/// Checked fields of a new account.
pub struct ValidNewUser {
    pub username: Username,
    pub full_name: PrintedName,
    /// None: no address (notifications in the app only).
    pub email: Option<Email>,
    pub roles: Roles,
}

/// Checks every field and reports every problem at once.
pub fn validate_new_user(input: &NewUserInput) -> Result<ValidNewUser, RecordError> {
    let username = Username::parse(&input.username);
    let name = PrintedName::parse(&input.full_name);
    let email = Email::parse_optional(&input.email);
    match (username, name, email) {
        (Ok(username), Ok(full_name), Ok(email)) if !input.roles.is_empty() => Ok(ValidNewUser {
            username,
            full_name,
            email,
            roles: input.roles.clone(),
        }),
        (u, n, e) => {
            let mut errors: Vec<FieldError> =
                [u.err(), n.err(), e.err()].into_iter().flatten().collect();
            if input.roles.is_empty() {
                errors.push(FieldError::new("roles", "Choose at least one role."));
            }
            Err(RecordError::Invalid(errors))
        }
    }
}

fn load(conn: &mut DbConnection, id: UserId, version: Option<i64>) -> Result<Account, RecordError> {
    let account = users::find(conn, id)?.ok_or(RecordError::NotFound)?;
    match version {
        Some(v) if v != account.version => Err(RecordError::Stale),
        _ => Ok(account),
    }
}

/// Saves `after` (whose version is one above the stored one) or reports Stale.
fn save(conn: &mut DbConnection, after: &Account) -> Result<(), RecordError> {
    if users::save(conn, after)? {
        Ok(())
    } else {
        Err(RecordError::Stale)
    }
}

fn bump(a: &Account, now: DateTime<Utc>) -> Account {
    let mut next = a.clone();
    next.version += 1;
    next.updated_at = now;
    next
}

/// Creates an account with an already-hashed password.
pub fn create_user(
    conn: &mut DbConnection,
    ctx: &Ctx,
    user: &ValidNewUser,
    password_hash: &str,
    must_change_password: bool,
) -> Result<Account, RecordError> {
    write_tx(conn, |conn| {
        if users::find_by_username(conn, user.username.as_str())?.is_some() {
            return Err(username_taken(user.username.as_str()));
        }
        let new = users::NewAccount {
            username: user.username.as_str(),
            full_name: user.full_name.as_str(),
            email: user.email.as_ref().map_or("", Email::as_str),
            roles: &user.roles,
            password_hash,
            must_change_password,
            now: ctx.now,
        };
        // A concurrent create of the same name (PostgreSQL) meets the unique index.
        let account = users::insert(conn, &new).map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => username_taken(user.username.as_str()),
            other => other.into(),
        })?;
        let entry = ctx
            .entry("user.created")
            .entity(entity(&account))
            .after(json!({
                "username": account.username,
                "full_name": account.full_name,
                "email": account.email,
                "roles": account.roles.to_json(),
                "active": true,
                "must_change_password": must_change_password,
            }));
        audit::append(conn, &entry)?;
        Ok(account)
    })
}

/// Changes the printed name and e-mail address.
pub fn update_profile(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    version: i64,
    full_name: &str,
    email: &str,
) -> Result<Account, RecordError> {
    let errors: Vec<FieldError> = [
        PrintedName::parse(full_name).err(),
        Email::parse_optional(email).err(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !errors.is_empty() {
        return Err(RecordError::Invalid(errors));
    }
    let (full_name, email) = (full_name.trim(), email.trim());
    write_tx(conn, |conn| {
        let before = load(conn, id, Some(version))?;
        let after = Account {
            full_name: full_name.to_string(),
            email: email.to_string(),
            ..before.clone()
        };
        super::edit::edit(
            conn,
            ctx,
            "user.updated",
            &before,
            after,
            None,
            |conn, a| Ok::<_, RecordError>(users::save(conn, a)?),
        )
    })
}

/// Refuses a change that would leave no active administrator.
fn keep_an_admin(
    conn: &mut DbConnection,
    before: &Account,
    after: &Account,
) -> Result<(), RecordError> {
    let loses_admin = before.active
        && before.roles.contains(Role::Admin)
        && !(after.active && after.roles.contains(Role::Admin));
    if loses_admin && users::count_active_with_role(conn, Role::Admin)? <= 1 {
        return Err(RecordError::Conflict(
            "at least one active administrator must remain: make another user an administrator first"
                .into(),
        ));
    }
    Ok(())
}

/// Replaces the account's roles.
pub fn set_roles(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    version: i64,
    roles: Roles,
) -> Result<Account, RecordError> {
    if roles.is_empty() {
        return Err(RecordError::Invalid(vec![FieldError::new(
            "roles",
            "Choose at least one role.",
        )]));
    }
    write_tx(conn, |conn| {
        let before = load(conn, id, Some(version))?;
        let after = Account {
            roles: roles.clone(),
            ..before.clone()
        };
        keep_an_admin(conn, &before, &after)?;
        super::edit::edit(
            conn,
            ctx,
            "user.roles_changed",
            &before,
            after,
            None,
            |conn, a| Ok::<_, RecordError>(users::save(conn, a)?),
        )
    })
}

/// Disables (and ends every session of) or re-enables an account.
pub fn set_active(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    version: Option<i64>,
    active: bool,
    reason: &str,
    acting_user: Option<UserId>,
) -> Result<Account, RecordError> {
    let reason = required_reason(reason)?;
    if !active && acting_user == Some(id) {
        return Err(RecordError::Conflict(
            "you cannot disable your own account".into(),
        ));
    }
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        if before.active == active {
            return Ok(before);
        }
        let mut after = bump(&before, ctx.now);
        after.active = active;
        keep_an_admin(conn, &before, &after)?;
        save(conn, &after)?;
        let mut ended = 0;
        if !active {
            ended = sessions::end_all_for_user(conn, id, ctx.now, "account disabled", None)?;
        }
        let action = if active {
            "user.enabled"
        } else {
            "user.disabled"
        };
        let mut after_json = json!({"active": active});
        if !active {
            after_json["sessions_ended"] = json!(ended);
        }
        audit::append(
            conn,
            &ctx.entry(action)
                .entity(entity(&after))
                .before(json!({"active": before.active}))
                .after(after_json)
                .reason(reason),
        )?;
        Ok(after)
    })
}

/// A reason kept in the audit trail: required, at most 500 characters.
pub fn required_reason(reason: &str) -> Result<&str, RecordError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RecordError::Invalid(vec![FieldError::new(
            "reason",
            "Give a reason: it is kept in the audit trail.",
        )]));
    }
    if reason.chars().count() > 500 {
        return Err(RecordError::Invalid(vec![FieldError::new(
            "reason",
            "Reasons are at most 500 characters.",
        )]));
    }
    Ok(reason)
}

/// An administrator's password reset: a new one-time password that must be
/// changed at the next sign-in; every session of the user ends.
pub fn reset_password(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    version: Option<i64>,
    new_hash: &str,
    reason: &str,
) -> Result<Account, RecordError> {
    let reason = required_reason(reason)?;
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        let mut after = bump(&before, ctx.now);
        after.must_change_password = true;
        after.password_changed_at = ctx.now;
        after.failures = FailureCount::cleared();
        save(conn, &after)?;
        users::set_password_hash(conn, id, new_hash)?;
        let ended = sessions::end_all_for_user(conn, id, ctx.now, "password reset", None)?;
        audit::append(
            conn,
            &ctx.entry("user.password_reset")
                .entity(entity(&after))
                .before(json!({"must_change_password": before.must_change_password}))
                .after(json!({"must_change_password": true, "sessions_ended": ended}))
                .reason(reason),
        )?;
        // The key was wrapped under a password only the user knew; nobody
        // can open it now. A new one is issued when they next choose a
        // password of their own; the old public key stays for verification.
        keys::retire(
            conn,
            ctx,
            &after,
            "password reset by an administrator: a new key is issued at the user's next password",
        )?;
        Ok(after)
    })
}

/// Lifts a lockout before it runs out.
pub fn unlock(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    reason: &str,
) -> Result<Account, RecordError> {
    let reason = required_reason(reason)?;
    write_tx(conn, |conn| {
        let before = load(conn, id, None)?;
        if !before.failures.is_locked(ctx.now) {
            return Ok(before);
        }
        users::save_sign_in_state(conn, id, &FailureCount::cleared(), before.last_login_at)?;
        let locked_until = before.failures.locked_until.map(audit::format_time);
        audit::append(
            conn,
            &ctx.entry("user.unlocked")
                .entity(entity(&before))
                .before(json!({"locked_until": locked_until}))
                .after(json!({"locked_until": null}))
                .reason(reason),
        )?;
        Ok(Account {
            failures: FailureCount::cleared(),
            ..before
        })
    })
}

/// The user changes their own password. `verified_hash` is the stored hash
/// the current password was checked against (outside this transaction); if
/// it changed meanwhile, the change is refused. Other sessions end.
pub fn change_own_password(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    verified_hash: &str,
    new_hash: &str,
    keep_session: &str,
    key: &keys::KeyPlan,
) -> Result<Account, RecordError> {
    write_tx(conn, |conn| {
        let before = load(conn, id, None)?;
        if users::password_hash(conn, id)?.as_deref() != Some(verified_hash) {
            return Err(RecordError::Stale);
        }
        let mut after = bump(&before, ctx.now);
        after.must_change_password = false;
        after.password_changed_at = ctx.now;
        save(conn, &after)?;
        users::set_password_hash(conn, id, new_hash)?;
        let ended =
            sessions::end_all_for_user(conn, id, ctx.now, "password changed", Some(keep_session))?;
        audit::append(
            conn,
            &ctx.entry("user.password_changed")
                .entity(entity(&after))
                .before(json!({"must_change_password": before.must_change_password}))
                .after(json!({
                    "must_change_password": false,
                    "other_sessions_ended": ended,
                    "signing_key": key.key_id(),
                })),
        )?;
        keys::apply_plan(conn, ctx, &before, key)?;
        Ok(after)
    })
}

/// One sign-in attempt, after the password was checked outside any transaction.
pub struct SignInAttempt<'a> {
    pub username: &'a str,
    /// The stored hash the password matched, if it matched one.
    pub matched_hash: Option<&'a str>,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The session the browser presented, ended if sign-in succeeds.
    pub presented_session: Option<&'a str>,
    pub lockout: LockoutPolicy,
    pub sessions: SessionPolicy,
    /// A key pair wrapped under the typed password, for an account that has
    /// none and no password change due (made only when the password matched).
    pub new_key: Option<&'a NewKey>,
}

pub enum SignIn {
    /// The cookie token and the signed-in account.
    Success {
        token: String,
        account: Box<Account>,
    },
    Refused,
}

/// Records a sign-in attempt: the session and `auth.login`, or the failure,
/// its count towards lockout, and `user.locked` when it locks the account.
pub fn sign_in(
    conn: &mut DbConnection,
    ctx: &Ctx,
    attempt: &SignInAttempt<'_>,
) -> Result<SignIn, RecordError> {
    let token = random_token().map_err(RecordError::fault)?;
    let csrf = random_token().map_err(RecordError::fault)?;
    write_tx(conn, |conn| {
        let Some(account) = users::find_by_username(conn, attempt.username)? else {
            // The typed name is not recorded: people type passwords there.
            audit::append(
                conn,
                &ctx.entry("auth.login_failed")
                    .after(json!({"reason": "unknown username", "ip": attempt.ip})),
            )?;
            return Ok(SignIn::Refused);
        };
        let refuse =
            |conn: &mut DbConnection, reason: &str, extra: Value| -> Result<SignIn, RecordError> {
                let mut after = json!({"reason": reason, "ip": attempt.ip});
                if let (Some(a), Value::Object(extra)) = (after.as_object_mut(), extra) {
                    a.extend(extra);
                }
                audit::append(
                    conn,
                    &ctx.entry("auth.login_failed")
                        .entity(entity(&account))
                        .after(after),
                )?;
                Ok(SignIn::Refused)
            };
        if !account.active {
            return refuse(conn, "account disabled", json!({}));
        }
        if account.failures.is_locked(ctx.now) {
            return refuse(conn, "account locked", json!({}));
        }
        let stored_hash = users::password_hash(conn, account.id)?;
        if attempt.matched_hash.is_none() || attempt.matched_hash != stored_hash.as_deref() {
            let extra = json!({"reason": "wrong password", "ip": attempt.ip});
            record_wrong_password(
                conn,
                ctx,
                &account,
                &attempt.lockout,
                "auth.login_failed",
                extra,
            )?;
            return Ok(SignIn::Refused);
        }
        users::save_sign_in_state(conn, account.id, &FailureCount::cleared(), Some(ctx.now))?;
        if let Some(old) = attempt.presented_session {
            sessions::end(conn, old, ctx.now, "replaced at sign-in")?;
        }
        sessions::insert(
            conn,
            &sessions::NewSession {
                id_hash: &sha256_hex(token.as_bytes()),
                user_id: account.id,
                csrf_token: &csrf,
                now: ctx.now,
                expires_at: ctx.now + attempt.sessions.absolute,
                ip: attempt.ip,
                user_agent: attempt.user_agent,
            },
        )?;
        let signed_in = Ctx {
            actor: actor(&account),
            ..ctx.clone()
        };
        audit::append(
            conn,
            &signed_in
                .entry("auth.login")
                .entity(entity(&account))
                .after(json!({"ip": attempt.ip})),
        )?;
        if let Some(key) = attempt.new_key
            && !account.must_change_password
            && signatures::active_key(conn, account.id)?.is_none()
        {
            keys::issue(
                conn,
                &signed_in,
                &account,
                key,
                "first sign-in with a password of the user's own and no signing key",
            )?;
        }
        let account = Account {
            failures: FailureCount::cleared(),
            last_login_at: Some(ctx.now),
            ..account
        };
        Ok(SignIn::Success {
            token,
            account: Box::new(account),
        })
    })
}

/// Counts a wrong password towards lockout, appends `action` with the count,
/// and `user.locked` when this failure locks the account. Runs inside the
/// caller's transaction. Returns true when the account is now locked.
pub fn record_wrong_password(
    conn: &mut DbConnection,
    ctx: &Ctx,
    account: &Account,
    policy: &LockoutPolicy,
    action: &str,
    mut after: Value,
) -> Result<bool, RecordError> {
    let (failures, locks) = account.failures.record_failure(ctx.now, policy);
    users::save_sign_in_state(conn, account.id, &failures, account.last_login_at)?;
    after["failures_this_hour"] = json!(failures.count);
    audit::append(
        conn,
        &ctx.entry(action).entity(entity(account)).after(after),
    )?;
    if locks {
        let locked_until = failures.locked_until.map(audit::format_time);
        audit::append(
            conn,
            &ctx.entry("user.locked")
                .entity(entity(account))
                .before(json!({"locked_until": null}))
                .after(json!({"locked_until": locked_until}))
                .reason(format!("{} wrong passwords within an hour", failures.count)),
        )?;
        super::events::append(
            conn,
            ctx,
            &entity(account),
            &[crate::domain::event::DomainEvent::account_locked(
                failures.locked_until,
            )],
        )?;
    }
    Ok(failures.is_locked(ctx.now))
}

/// A wrong current password typed by a signed-in user (password change;
/// later, signing): audited and counted towards lockout like a sign-in.
pub fn wrong_password_while_signed_in(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    policy: &LockoutPolicy,
    purpose: &str,
) -> Result<bool, RecordError> {
    write_tx(conn, |conn| {
        let account = load(conn, id, None)?;
        record_wrong_password(
            conn,
            ctx,
            &account,
            policy,
            "auth.password_check_failed",
            json!({"reason": purpose}),
        )
    })
}

/// Ends a session: signed out by its user, or timed out.
pub fn end_session(
    conn: &mut DbConnection,
    ctx: &Ctx,
    account: &Account,
    id_hash: &str,
    action: &str,
    reason: &str,
) -> Result<(), RecordError> {
    write_tx(conn, |conn| {
        if sessions::end(conn, id_hash, ctx.now, reason)? {
            audit::append(
                conn,
                &ctx.entry(action)
                    .entity(entity(account))
                    .after(json!({"reason": reason})),
            )?;
        }
        Ok(())
    })
}

/// An account's edited fields: its printed name, e-mail address and roles
/// (status, password and lockout have their own audited operations).
impl super::edit::Versioned for Account {
    fn bump(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
    fn entity(&self) -> EntityRef {
        entity(self)
    }
    fn audit_fields(&self) -> Value {
        json!({
            "full_name": self.full_name,
            "email": self.email,
            "roles": self.roles.to_json(),
        })
    }
}
