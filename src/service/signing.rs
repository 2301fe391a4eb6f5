//! Signer keys through an account's life (SIGNATURES.md "Signer keys"), and
//! the signature a transition service writes beside the transition.
//!
//! A key pair is made only under a password the user chose and nobody else
//! has seen: the first password they set themselves (after the one-time
//! password an administrator handed them), or at sign-in for an account that
//! has no key and no password change due. It is never made under a one-time
//! password, so an administrator never holds anything that signs as the user
//! (11.200(a)(3)). The argon2id work runs before the write transaction;
//! inside it, the stored rows are checked to be the ones the work was done on.

use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::json;

use super::Ctx;
use super::accounts::{AccountError, entity};
use crate::audit::{self, SignatureRef};
use crate::db::DbConnection;
use crate::db::repo::{sessions, signatures as repo};
use crate::domain::ids::UserId;
use crate::domain::user::Account;
use crate::signature::{self, KeyError, Message, NewKey, RecordRef, SignerRef};

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
) -> Result<(), AccountError> {
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
            .entity(entity(account))
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
) -> Result<Option<String>, AccountError> {
    let Some(old) = repo::retire_active(conn, account.id, ctx.now, reason)? else {
        return Ok(None);
    };
    audit::append(
        conn,
        &ctx.entry("signature.key_retired")
            .entity(entity(account))
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
) -> Result<String, AccountError> {
    match plan {
        KeyPlan::Rewrap {
            key_id,
            old_wrapped,
            wrapped,
            salt,
        } => {
            if !repo::rewrap(conn, key_id, old_wrapped, wrapped, salt)? {
                return Err(AccountError::Stale);
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

/// The signer of a transition: their opened key (it exists only for this
/// request), the session signing (for 11.200(a)(1)'s first-signature rule)
/// and what the signing form showed them.
pub struct SignWith {
    pub user: UserId,
    pub key: SigningKey,
    pub key_id: String,
    pub session: String,
    pub shown: Shown,
}

/// What a signing form showed the signer: the parts of the signed message
/// the server recomputes (SIGNATURES.md; 21 CFR 11.50, 11.70). The form
/// carries them back; nothing is signed unless each one is what the server
/// would sign at that moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    /// The record kind as audited (`nonconformance`).
    pub record_type: String,
    /// The record's id (`nc-2`).
    pub record_id: String,
    /// Its key as people read it (`NC-2`).
    pub record_key: String,
    /// The version the record has once the signed step is taken.
    pub version: i64,
    /// The step's name (`disposition`), or empty for a signature without one.
    pub action: String,
    pub meaning: String,
    /// The hex SHA-256 of the content shown.
    pub content_sha256: String,
}

impl Shown {
    /// The form fields that carry it, in order.
    pub const FIELDS: [&'static str; 7] = [
        "signed_record_type",
        "signed_record_id",
        "signed_record_key",
        "signed_version",
        "signed_action",
        "signed_meaning",
        "signed_content_sha256",
    ];

    /// The values of [`Self::FIELDS`], in the same order.
    pub fn values(&self) -> [String; 7] {
        [
            self.record_type.clone(),
            self.record_id.clone(),
            self.record_key.clone(),
            self.version.to_string(),
            self.action.clone(),
            self.meaning.clone(),
            self.content_sha256.clone(),
        ]
    }

    /// Reads it back from the submitted form fields; a missing or malformed
    /// field reads as empty (or version -1), which never matches.
    pub fn from_fields<'a>(mut get: impl FnMut(&str) -> Option<&'a str>) -> Self {
        let mut text = |name: &str| get(name).unwrap_or_default().to_string();
        Self {
            record_type: text("signed_record_type"),
            record_id: text("signed_record_id"),
            record_key: text("signed_record_key"),
            version: text("signed_version").parse().unwrap_or(-1),
            action: text("signed_action"),
            meaning: text("signed_meaning"),
            content_sha256: text("signed_content_sha256"),
        }
    }

    /// Each way what was shown (`self`) differs from what would be signed
    /// now, in words; empty when they are the same. `action_label` names the
    /// step the form was sent to.
    pub fn differences(&self, now: &Shown, action_label: &str) -> Vec<String> {
        let shown_key = if self.record_key.is_empty() {
            "another record".to_string()
        } else {
            self.record_key.clone()
        };
        let mut out = Vec::new();
        if self.record_type != now.record_type || self.record_id != now.record_id {
            out.push(format!(
                "the form showed {shown_key} but was sent for {}",
                now.record_key
            ));
        } else if self.record_key != now.record_key {
            out.push(format!(
                "the form named the record {shown_key}, not {}",
                now.record_key
            ));
        }
        if self.action != now.action {
            let shown = if self.action.is_empty() {
                "no step".to_string()
            } else {
                format!("the step “{}”", self.action)
            };
            out.push(format!(
                "the form was for {shown} but was sent to “{action_label}”"
            ));
        }
        if self.meaning != now.meaning {
            out.push(format!(
                "the form showed the meaning “{}”; this step is signed with the meaning “{}”",
                self.meaning, now.meaning
            ));
        }
        if out.is_empty() && self.version != now.version {
            out.push(format!(
                "{} has changed since the form was shown (it would now be signed at version {}, not {})",
                now.record_key, now.version, self.version
            ));
        }
        if out.is_empty() && self.content_sha256 != now.content_sha256 {
            out.push(format!(
                "the content that would be signed is not the content shown (SHA-256 {} shown, {} now): a field was changed after the form was shown",
                short(&self.content_sha256),
                short(&now.content_sha256)
            ));
        }
        out
    }
}

fn short(hash: &str) -> String {
    if hash.is_empty() {
        return "none".into();
    }
    hash.chars().take(12).collect::<String>() + "…"
}

/// Why the signer may not sign now (checked inside the transaction).
#[derive(Debug, thiserror::Error)]
pub enum SignerRefused {
    #[error("disabled accounts cannot sign")]
    Disabled,
    #[error("the account is locked after wrong passwords; it cannot sign until the lock ends")]
    Locked,
    #[error(
        "your signing key changed while you were signing (a password change or reset); sign again"
    )]
    KeyChanged,
}

/// Checks the signer is active, unlocked and still holds the key they opened.
pub fn check_signer(
    conn: &mut DbConnection,
    ctx: &Ctx,
    signer: &Account,
    with: &SignWith,
) -> Result<(), SignerRefused> {
    if !signer.active {
        return Err(SignerRefused::Disabled);
    }
    if signer.failures.is_locked(ctx.now) {
        return Err(SignerRefused::Locked);
    }
    match repo::active_key(conn, signer.id) {
        Ok(Some(k)) if k.key_id == with.key_id => Ok(()),
        _ => Err(SignerRefused::KeyChanged),
    }
}

/// Signs and stores the signature for `record` at `content`; returns the
/// reference the transition's audit entry carries. Inside the transaction.
#[allow(clippy::too_many_arguments)]
pub fn sign_record(
    conn: &mut DbConnection,
    ctx: &Ctx,
    signer: &Account,
    with: &SignWith,
    record: RecordRef,
    content_sha256: String,
    transition: Option<&str>,
    meaning: &str,
) -> Result<SignatureRef, crate::service::workflow::TransitionError> {
    use crate::service::workflow::TransitionError;
    let message = Message {
        v: 1,
        record,
        content_sha256,
        transition: transition.map(str::to_string),
        meaning: meaning.to_string(),
        signer: SignerRef {
            id: signer.id.to_string(),
            username: signer.username.clone(),
            name: signer.full_name.clone(),
        },
        signed_at: audit::format_time(ctx.now),
        key_id: with.key_id.clone(),
    };
    let (bytes, sig) = signature::sign(&with.key, &message)
        .map_err(|e| TransitionError::Invalid(e.to_string()))?;
    let id = repo::insert(
        conn,
        &repo::NewSignature {
            message: &message,
            bytes: &bytes,
            signature: &sig,
            signer: signer.id,
            signed_at: ctx.now,
        },
    )?;
    sessions::mark_signed(conn, &with.session, ctx.now)?;
    Ok(SignatureRef {
        id: format!("sig-{id}"),
        meaning: meaning.to_string(),
    })
}

/// A wrong password (or someone else's username) typed at signing: refused,
/// audited as `signature.refused` and counted towards lockout. If it locks
/// the account, every session of the user ends. Returns true when locked.
pub fn refused(
    conn: &mut DbConnection,
    ctx: &Ctx,
    user: UserId,
    policy: &crate::domain::user::LockoutPolicy,
    after: serde_json::Value,
) -> Result<bool, AccountError> {
    crate::db::write_tx(conn, |conn| {
        let account = crate::db::repo::users::find(conn, user)?.ok_or(AccountError::NotFound)?;
        let locked = super::accounts::record_wrong_password(
            conn,
            ctx,
            &account,
            policy,
            "signature.refused",
            after,
        )?;
        if locked {
            sessions::end_all_for_user(conn, user, ctx.now, "locked after wrong passwords", None)?;
        }
        Ok(locked)
    })
}

/// The hex SHA-256 of the signed content of a stored record as it is now,
/// by the record type and id a signature names; `None` if there is no such
/// record (or Attest does not know the type).
pub fn current_content_hash(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
) -> diesel::QueryResult<Option<String>> {
    use crate::domain::capa::CapaWorkflow;
    use crate::domain::nonconformance::NcWorkflow;
    use crate::domain::record::{self, CAPA, NONCONFORMANCE};
    use crate::service::workflow::Stored;
    fn hash<W: Stored>(
        conn: &mut DbConnection,
        n: Option<i64>,
    ) -> diesel::QueryResult<Option<String>> {
        let Some(n) = n else { return Ok(None) };
        Ok(W::load(conn, n)?.and_then(|r| signature::content_sha256(&W::signed_content(&r)).ok()))
    }
    match record::kind(record_type) {
        Some(k) if *k == NONCONFORMANCE => hash::<NcWorkflow>(conn, k.number(record_id)),
        Some(k) if *k == CAPA => hash::<CapaWorkflow>(conn, k.number(record_id)),
        _ => Ok(None),
    }
}

/// One stored signature, checked.
pub struct Checked {
    pub stored: signature::Stored,
    pub outcome: Result<Message, String>,
}

/// Verifies a stored signature as `attest verify --signatures` and every
/// page showing it do: key on file and in the audit trail, Ed25519, and the
/// record's current content.
pub fn check(conn: &mut DbConnection, stored: signature::Stored) -> diesel::QueryResult<Checked> {
    let key = repo::key_on_file(conn, &stored.key_id)?;
    let content = current_content_hash(conn, &stored.record_type, &stored.record_id)?;
    let outcome = match &content {
        None => Err(format!(
            "the signed record {} {} does not exist",
            stored.record_type, stored.record_id
        )),
        Some(now) => signature::verify(&stored, key.as_ref(), Some(now)).map_err(|f| f.to_string()),
    };
    Ok(Checked { stored, outcome })
}

/// The result of checking every signature and every signer key.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub ok: bool,
    pub signatures: u64,
    pub keys: u64,
    /// `sig-N: reason` or `key K: reason`, in order.
    pub failures: Vec<String>,
}

/// Checks every signature (in pages, never the whole table at once) and
/// every signer key against the audit trail's record of its issue.
pub fn verify_all(conn: &mut DbConnection) -> diesel::QueryResult<Report> {
    let mut report = Report::default();
    let mut after = 0;
    loop {
        let page = repo::after(conn, after, 500)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for stored in page {
            report.signatures += 1;
            let checked = check(conn, stored)?;
            if let Err(why) = checked.outcome {
                report
                    .failures
                    .push(format!("sig-{}: {why}", checked.stored.id));
            }
        }
    }
    let mut offset = 0;
    loop {
        let (keys, _) = repo::key_page(conn, offset, 500)?;
        if keys.is_empty() {
            break;
        }
        offset += keys.len() as i64;
        for (k, username, _) in keys {
            report.keys += 1;
            if signature::key_id(&k.public_key) != k.key_id {
                report.failures.push(format!(
                    "key {} ({username}): the public key does not hash to its key id: it was replaced",
                    k.key_id
                ));
            } else if repo::issued_in_log(conn, k.user_id, &k.key_id)?.as_deref()
                != Some(k.public_key.as_slice())
            {
                report.failures.push(format!(
                    "key {} ({username}): the audit trail has no matching signature.key_issued entry",
                    k.key_id
                ));
            }
        }
    }
    report.ok = report.failures.is_empty();
    Ok(report)
}
