//! Electronic signatures (21 CFR Part 11): the signature a transition
//! service writes beside the transition, a signature given on its own (the
//! 11.100(c) certification), and a wrong password typed at signing.

use ed25519_dalek::SigningKey;
use serde_json::json;

use super::Ctx;
use super::error::RecordError;
pub use super::error::SignerRefused;
use crate::audit::{self, SignatureRef};
use crate::db::DbConnection;
use crate::db::repo::{sessions, signatures as repo};
use crate::domain::ids::UserId;
use crate::domain::user::Account;
use crate::signature::{self, Message, RecordRef, SignerRef};

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
) -> Result<SignatureRef, RecordError> {
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
    let (bytes, sig) = signature::sign(&with.key, &message).map_err(RecordError::fault)?;
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

/// What a signature without a workflow step binds (SIGNATURES.md:
/// `"transition": null`): a certification, a training acknowledgement, a
/// periodic review, a release approval. Built again inside the signing
/// transaction from the record as it is then, so what is signed is what
/// the form showed or nothing is.
pub struct Standalone {
    pub record: RecordRef,
    pub content_sha256: String,
    pub meaning: String,
    /// The audit entry that records the signature (`user.signature_certified`)
    /// and what it says.
    pub action: &'static str,
    pub after: serde_json::Value,
}

impl Standalone {
    /// What its signing form shows and carries back: the record at its
    /// current version (nothing moves it on), no step, the meaning, the
    /// content's hash.
    pub fn shown(&self) -> Shown {
        Shown {
            record_type: self.record.kind.clone(),
            record_id: self.record.id.clone(),
            record_key: self.record.key.clone(),
            version: self.record.version,
            action: String::new(),
            meaning: self.meaning.clone(),
            content_sha256: self.content_sha256.clone(),
        }
    }
}

/// Signs without a transition, in one transaction: the signer read again
/// (active, not locked, still holding the key they opened), `subject` built
/// from the record as it is now (it may refuse, e.g. "already certified"),
/// what the form showed compared with it (any difference refuses, nothing
/// signed), then the signature stored and its audit entry appended.
pub fn sign_alone(
    conn: &mut DbConnection,
    ctx: &Ctx,
    with: &SignWith,
    subject: impl FnOnce(&mut DbConnection, &Account) -> Result<Standalone, RecordError>,
) -> Result<SignatureRef, RecordError> {
    crate::db::write_tx(conn, |conn| {
        let account =
            crate::db::repo::users::find(conn, with.user)?.ok_or(RecordError::NotFound)?;
        check_signer(conn, ctx, &account, with)?;
        let subject = subject(conn, &account)?;
        let differences = with.shown.differences(&subject.shown(), &subject.meaning);
        if !differences.is_empty() {
            return Err(RecordError::NotAsShown(differences));
        }
        let entity = audit::EntityRef {
            kind: subject.record.kind.clone(),
            id: subject.record.id.clone(),
            key: subject.record.key.clone(),
            version: subject.record.version,
        };
        let signed = sign_record(
            conn,
            ctx,
            &account,
            with,
            subject.record,
            subject.content_sha256,
            None,
            &subject.meaning,
        )?;
        audit::append(
            conn,
            &ctx.entry(subject.action)
                .entity(entity)
                .after(subject.after)
                .signature(signed.clone()),
        )?;
        Ok(signed)
    })
}

/// 21 CFR 11.100(c): what each person signs once, before their electronic
/// signatures are relied on.
pub const CERTIFICATION: &str = "I certify that my electronic signature in Attest is the legally binding equivalent of my traditional handwritten signature (21 CFR 11.100(c)).";

/// The meaning of that signature.
pub const CERTIFIED: &str = "Certified: electronic signature";

/// What the certification of `user` binds: the statement and the account
/// (the signed message adds the signer's printed name and username).
pub fn certification_content(user: UserId) -> serde_json::Value {
    json!({ "certification": CERTIFICATION, "user": user.to_string() })
}

/// The person's certification signature, if they gave one.
pub fn certification_of(
    conn: &mut DbConnection,
    user: UserId,
) -> diesel::QueryResult<Option<signature::Stored>> {
    Ok(repo::for_record(conn, "user", &user.to_string())?
        .into_iter()
        .find(|s| signature::Message::parse(&s.message).is_some_and(|m| m.meaning == CERTIFIED)))
}

/// The certification `account` would sign now; refused once given.
pub fn certification(
    conn: &mut DbConnection,
    account: &Account,
) -> Result<Standalone, RecordError> {
    if let Some(given) = certification_of(conn, account.id)? {
        return Err(RecordError::Conflict(format!(
            "You certified your electronic signature already (sig-{}); it is given once.",
            given.id
        )));
    }
    let content_sha256 = signature::content_sha256(&certification_content(account.id))
        .map_err(RecordError::fault)?;
    Ok(Standalone {
        record: RecordRef {
            kind: "user".into(),
            id: account.id.to_string(),
            key: account.username.clone(),
            version: account.version,
        },
        content_sha256,
        meaning: CERTIFIED.into(),
        action: "user.signature_certified",
        after: json!({ "statement": CERTIFICATION }),
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
) -> Result<bool, RecordError> {
    crate::db::write_tx(conn, |conn| {
        let account = crate::db::repo::users::find(conn, user)?.ok_or(RecordError::NotFound)?;
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
