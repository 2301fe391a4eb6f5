//! Changes to people that reach beyond their accounts: a person created,
//! given other roles, disabled or enabled has their training brought in
//! line with the curricula in the same transaction (a role added brings its
//! documents at once; a role removed marks its training not required).
//! Every caller that changes an account's roles or whether it is active
//! goes through here.

use super::Ctx;
use super::accounts::{self, ValidNewUser};
use super::error::RecordError;
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::domain::user::{Account, Roles};

/// [`accounts::create_user`], and the curricula of the person's roles.
pub fn create_user(
    conn: &mut DbConnection,
    ctx: &Ctx,
    user: &ValidNewUser,
    password_hash: &str,
    must_change_password: bool,
) -> Result<Account, RecordError> {
    write_tx(conn, |conn| {
        let a = accounts::create_user(conn, ctx, user, password_hash, must_change_password)?;
        super::training::reconcile_person(conn, ctx, a.id.0)?;
        Ok(a)
    })
}

/// [`accounts::set_roles`], and training in line with the new roles.
pub fn set_roles(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    version: i64,
    roles: Roles,
) -> Result<Account, RecordError> {
    write_tx(conn, |conn| {
        let a = accounts::set_roles(conn, ctx, id, version, roles)?;
        super::training::reconcile_person(conn, ctx, a.id.0)?;
        Ok(a)
    })
}

/// [`accounts::set_active`]: a disabled person's open training is marked
/// not required, and required again when they are enabled.
pub fn set_active(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: UserId,
    version: Option<i64>,
    active: bool,
    reason: &str,
    acting_user: Option<UserId>,
) -> Result<Account, RecordError> {
    write_tx(conn, |conn| {
        let a = accounts::set_active(conn, ctx, id, version, active, reason, acting_user)?;
        super::training::reconcile_person(conn, ctx, a.id.0)?;
        Ok(a)
    })
}
