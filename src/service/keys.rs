//! Signer keys through an account's life (SIGNATURES.md "Signer keys").
//!
//! A key pair is made only under a password the user chose and nobody else
//! has seen: the first password they set themselves (after the one-time
//! password an administrator handed them), or at sign-in for an account that
//! has no key and no password change due. It is never made under a one-time
//! password, so an administrator never holds anything that signs as the user
//! (11.200(a)(3)). The argon2id work runs before the write transaction;
//! inside it, the stored rows are checked to be the ones the work was done on.

use base64::Engine;
use serde_json::json;

use super::Ctx;
use super::edit::Versioned;
use super::error::RecordError;
use crate::audit;
use crate::db::DbConnection;
use crate::db::repo::signatures as repo;
use crate::domain::ids::UserId;
use crate::domain::user::Account;
use crate::signature::{self, KeyError, NewKey};

/// What a password change does to the user's signing key, worked out
/// (argon2id, outside the transaction) from the old and new passwords.
pub enum KeyPlan {
    /// Re-wrap the active key under the new password.
    Rewrap {
        key_id: String,
        old_wrapped: Vec<u8>,
        wrapped: Vec<u8>,
        salt: Vec<u8>,
    },
    /// Issue a first key (or a new one after an administrator's reset).
    Issue(NewKey),
}

impl KeyPlan {
    pub fn key_id(&self) -> &str {
        match self {
            Self::Rewrap { key_id, .. } => key_id,
            Self::Issue(k) => &k.key_id,
        }
    }
}

/// Works out the plan for a password change. Blocking (two argon2id runs).
pub fn plan_for_password_change(
    user: UserId,
    active: Option<&repo::KeyRow>,
    current_password: &str,
    new_password: &str,
) -> Result<KeyPlan, KeyError> {
    if let Some(k) = active
        && let (Some(wrapped), Some(salt)) = (&k.wrapped_key, &k.kdf_salt)
    {
        match signature::unwrap(user.0, &k.key_id, wrapped, salt, current_password) {
            Ok(key) => {
                let (new_wrapped, new_salt) = signature::rewrap(user.0, &key, new_password)?;
                return Ok(KeyPlan::Rewrap {
                    key_id: k.key_id.clone(),
                    old_wrapped: wrapped.clone(),
                    wrapped: new_wrapped,
                    salt: new_salt,
                });
            }
            // A key the current password does not open cannot be carried
            // over; it is retired and a new one issued.
            Err(KeyError::WrongPassword | KeyError::Damaged(_)) => {}
            Err(e) => return Err(e),
        }
    }
    signature::generate(user.0, new_password).map(KeyPlan::Issue)
}

/// Stores a new key for `account` and appends `signature.key_issued` with the
/// public key (verification compares the key on file with this entry).
/// Any active key is retired first. Inside the caller's transaction.
pub fn issue(
    conn: &mut DbConnection,
    ctx: &Ctx,
    account: &Account,
    key: &NewKey,
    why: &str,
) -> Result<(), RecordError> {
    retire(
        conn,
        ctx,
        account,
        "replaced by a new key: the password it was wrapped under is gone",
    )?;
    repo::insert_key(conn, account.id, key, ctx.now)?;
    audit::append(
        conn,
        &ctx.entry("signature.key_issued")
            .entity(account.entity())
            .after(json!({
                "key_id": key.key_id,
                "public_key": base64::engine::general_purpose::STANDARD.encode(key.public_key),
                "valid_from": audit::format_time(ctx.now),
            }))
            .reason(why),
    )?;
    Ok(())
}

/// Retires the account's active key, if any, and appends `signature.key_retired`.
pub fn retire(
    conn: &mut DbConnection,
    ctx: &Ctx,
    account: &Account,
    reason: &str,
) -> Result<Option<String>, RecordError> {
    let Some(old) = repo::retire_active(conn, account.id, ctx.now, reason)? else {
        return Ok(None);
    };
    audit::append(
        conn,
        &ctx.entry("signature.key_retired")
            .entity(account.entity())
            .before(json!({"key_id": old.key_id, "valid_until": null}))
            .after(json!({"key_id": old.key_id, "valid_until": audit::format_time(ctx.now)}))
            .reason(reason),
    )?;
    Ok(Some(old.key_id))
}

/// Carries out a password change's plan. Returns the key id now active.
pub fn apply_plan(
    conn: &mut DbConnection,
    ctx: &Ctx,
    account: &Account,
    plan: &KeyPlan,
) -> Result<String, RecordError> {
    match plan {
        KeyPlan::Rewrap {
            key_id,
            old_wrapped,
            wrapped,
            salt,
        } => {
            if !repo::rewrap(conn, key_id, old_wrapped, wrapped, salt)? {
                return Err(RecordError::Stale);
            }
        }
        KeyPlan::Issue(key) => issue(
            conn,
            ctx,
            account,
            key,
            if account.must_change_password {
                "a password of the user's own choosing, set after a one-time password"
            } else {
                "password changed and no key it could carry over"
            },
        )?,
    }
    Ok(plan.key_id().to_string())
}
