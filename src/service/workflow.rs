//! The one transition service (ARCHITECTURE.md rule 3): in one transaction,
//! load the record at the version the person saw, let the workflow engine
//! decide, save with `WHERE version = old`, and append the audit entry with
//! the fields before and after. No other code changes a record's state.

use serde_json::{Value, json};

pub use super::edit::changed;

use super::Ctx;
pub use super::error::RecordError;
use super::signing::{Shown, SignWith, check_signer, sign_record};
use crate::audit::{self, EntityRef};
use crate::db::repo::users;
use crate::db::{DbConnection, write_tx};
use crate::domain::workflow::{Who, Workflow, decide_at, sod_refusal, state_def};
use crate::signature::{RecordRef, content_sha256};

/// A workflow whose records are stored.
pub trait Stored: Workflow {
    /// Whether every refused step is audited (`access.denied`), not only a
    /// refusal for role: a person's own training, where a refused
    /// signature is evidence an auditor asks for.
    const AUDITS_REFUSALS: bool = false;
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Self::Record>>;
    /// Writes the record as its next version; false if the stored version moved.
    fn save(conn: &mut DbConnection, record: &Self::Record) -> diesel::QueryResult<bool>;
    fn version(record: &Self::Record) -> i64;
    /// Moves the record on one version at `now`.
    fn bump(record: &mut Self::Record, now: chrono::DateTime<chrono::Utc>);
    fn entity(record: &Self::Record) -> EntityRef;
    /// The record's fields as a flat JSON object, as audit entries show them.
    fn audit_fields(record: &Self::Record) -> Value;
    /// What a signature on the record binds (11.70): the content whose
    /// RFC 8785 SHA-256 the signed message carries. It must not change once
    /// a signed transition has been taken.
    fn signed_content(record: &Self::Record) -> Value;
    /// What must happen before the step's record is saved, in the same
    /// transaction (the version in force superseded before the next one
    /// is saved as effective, so the database never holds two).
    fn before_save(
        _conn: &mut DbConnection,
        _ctx: &Ctx,
        _action: &str,
        _record: &Self::Record,
    ) -> Result<(), RecordError> {
        Ok(())
    }
    /// What a step does beyond the record itself (escalate_to_capa opens the
    /// CAPA), run inside the transition's transaction after the record is
    /// saved and audited, so both happen or neither does.
    fn after_step(
        _conn: &mut DbConnection,
        _ctx: &Ctx,
        _action: &str,
        _from: Self::State,
        _record: &Self::Record,
    ) -> Result<(), RecordError> {
        Ok(())
    }
}

/// The hex SHA-256 a signature on `record` binds.
pub fn content_hash<W: Stored>(record: &W::Record) -> Result<String, RecordError> {
    content_sha256(&W::signed_content(record))
        .map_err(|e| RecordError::invalid(format!("the record cannot be signed: {e}")))
}

/// Applies the action `name` to record `id` as seen at `version`. A step
/// that needs an electronic signature is taken only with `signer`: their
/// signature over the record as the step leaves it is stored, the record
/// saved and the audit entry (naming the signature) appended together.
#[allow(clippy::too_many_arguments)]
pub fn transition<'a, W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    who: impl Into<Who<'a>>,
    id: i64,
    version: i64,
    name: &str,
    input: &W::Input,
    signer: Option<&SignWith>,
) -> Result<W::Record, RecordError> {
    let who = who.into();
    write_tx(conn, |conn| {
        take_step::<W>(conn, ctx, who, (id, version), name, input, signer)
    })
}

/// [`transition`] inside a transaction the caller holds: a step that makes
/// another happen with it (a document version approved for today becomes
/// effective, the one before it superseded) takes that step here, so all
/// of them are saved and audited together or none is.
pub fn take_step<W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    who: Who<'_>,
    (id, version): (i64, i64),
    name: &str,
    input: &W::Input,
    signer: Option<&SignWith>,
) -> Result<W::Record, RecordError> {
    let record = W::load(conn, id)?.ok_or(RecordError::NotFound)?;
    if let Some(with) = signer {
        shown_record::<W>(&record, version, &with.shown)?;
    }
    if W::version(&record) != version {
        return Err(RecordError::Stale);
    }
    // A signer's roles are read now, not from when their session began.
    let account = match signer {
        Some(with) => Some(users::find(conn, with.user)?.ok_or(RecordError::NotFound)?),
        None => None,
    };
    let who = match &account {
        Some(a) => Who {
            user: Some(a.id.0),
            roles: &a.roles,
        },
        None => who,
    };
    let decision =
        decide_at::<W>(&record, name, input, who, ctx.now).map_err(RecordError::Refused)?;
    let mut next = decision.record;
    W::bump(&mut next, ctx.now);
    let mut signed = None;
    if decision.signature.is_none() && signer.is_some() {
        return Err(RecordError::unsigned_step(decision.action.name));
    }
    if let Some(rule) = decision.signature {
        let (Some(with), Some(account)) = (signer, account.as_ref()) else {
            return Err(RecordError::SignatureRequired {
                action: decision.action.label,
                meaning: rule.meaning,
            });
        };
        check_signer(conn, ctx, account, with)?;
        if let Some(refused) = sod_refusal(decision.signature, decision.barred_signer, account.id.0)
        {
            return Err(RecordError::Refused(refused));
        }
        let entity = W::entity(&next);
        // The training gate: a signer overdue on the procedure governing
        // the step is refused, or signs with the warning audited.
        super::gate::at_signing(
            conn,
            ctx,
            W::KIND,
            decision.action.name,
            account.id.0,
            &entity,
        )?;
        let content = content_hash::<W>(&next)?;
        let now = Shown {
            record_type: entity.kind.clone(),
            record_id: entity.id.clone(),
            record_key: entity.key.clone(),
            version: entity.version,
            action: decision.action.name.to_string(),
            meaning: rule.meaning.to_string(),
            content_sha256: content.clone(),
        };
        let differences = with.shown.differences(&now, decision.action.label);
        if !differences.is_empty() {
            return Err(RecordError::NotAsShown(differences));
        }
        let record_ref = RecordRef {
            kind: entity.kind,
            id: entity.id,
            key: entity.key,
            version: entity.version,
        };
        signed = Some(sign_record(
            conn,
            ctx,
            account,
            with,
            record_ref,
            content,
            Some(decision.action.name),
            rule.meaning,
        )?);
    }
    W::before_save(conn, ctx, decision.action.name, &next)?;
    if !W::save(conn, &next)? {
        return Err(RecordError::Stale);
    }
    let (mut was, mut now) = changed(&W::audit_fields(&record), &W::audit_fields(&next));
    was.insert("transition".into(), Value::Null);
    now.insert("transition".into(), json!(decision.action.name));
    let mut entry = ctx
        .entry(&format!("{}.transition", W::KIND))
        .entity(W::entity(&next))
        .before(Value::Object(was))
        .after(Value::Object(now));
    if let Some(s) = signed {
        entry = entry.signature(s);
    }
    audit::append(conn, &entry)?;
    let entity = W::entity(&next);
    super::events::append(conn, ctx, &entity, &decision.events)?;
    // Signature requests this step answers or leaves behind end with it.
    let state = state_def::<W>(W::state_of(&next)).map_or("", |s| s.name);
    crate::db::repo::signature_requests::settle(
        conn,
        (&entity.kind, &entity.id),
        (decision.action.name, state),
        who.user,
        ctx.now,
    )?;
    W::after_step(conn, ctx, decision.action.name, decision.from, &next)?;
    Ok(next)
}

/// Takes step `name` of record `(id, version)` as Attest itself, no
/// person, with the authority of `roles` (none for a step the workflow
/// takes `by_system`), in the caller's transaction: a version superseded
/// by the next one's approval, a training assignment reopened.
pub fn step_as_attest<W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version): (i64, i64),
    name: &str,
    input: &W::Input,
    roles: &[crate::domain::user::Role],
) -> Result<W::Record, RecordError> {
    let roles = crate::domain::user::Roles::new(roles.iter().copied());
    let who = Who {
        user: None,
        roles: &roles,
    };
    take_step::<W>(conn, ctx, who, (id, version), name, input, None)
}

/// Refuses a signing form sent for another record than the one it showed,
/// or for a record that changed after it was shown.
fn shown_record<W: Stored>(
    record: &W::Record,
    version: i64,
    shown: &Shown,
) -> Result<(), RecordError> {
    let entity = W::entity(record);
    if shown.record_type != entity.kind || shown.record_id != entity.id {
        let key = if shown.record_key.is_empty() {
            "another record"
        } else {
            &shown.record_key
        };
        return Err(RecordError::NotAsShown(vec![format!(
            "the form showed {key} but was sent for {}",
            entity.key
        )]));
    }
    let now = W::version(record);
    if now != version {
        return Err(RecordError::NotAsShown(vec![format!(
            "{} has changed since the form was shown (the form showed version {version}, it is now at version {now}), or the form was sent twice",
            entity.key
        )]));
    }
    if shown.version != now + 1 {
        return Err(RecordError::NotAsShown(vec![format!(
            "the form would have signed {} at version {}, not at version {}",
            entity.key,
            shown.version,
            now + 1
        )]));
    }
    Ok(())
}

/// What a signed step would sign, as its signing form shows it.
pub struct ToSign {
    pub rule: crate::domain::workflow::SignatureRule,
    pub shown: Shown,
    /// Who may not sign it (segregation of duties), decided by the domain.
    pub barred_signer: Option<i64>,
}

impl ToSign {
    /// The refusal of `user` as this step's signer, if the rule bars them.
    pub fn refusal_of(&self, user: i64) -> Option<RecordError> {
        sod_refusal(Some(self.rule), self.barred_signer, user).map(RecordError::Refused)
    }
}

/// What a step would do, without saving anything: the record as the step
/// would leave it and, for a signed step, what the signature would bind (the
/// signing form shows and carries it back).
#[allow(clippy::too_many_arguments)]
pub fn preview<'a, W: Stored>(
    conn: &mut DbConnection,
    who: impl Into<Who<'a>>,
    id: i64,
    version: i64,
    name: &str,
    input: &W::Input,
    shown: Option<&Shown>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(W::Record, Option<ToSign>), RecordError> {
    let record = W::load(conn, id)?.ok_or(RecordError::NotFound)?;
    if let Some(shown) = shown {
        shown_record::<W>(&record, version, shown)?;
    }
    if W::version(&record) != version {
        return Err(RecordError::Stale);
    }
    let decision = decide_at::<W>(&record, name, input, who, now).map_err(RecordError::Refused)?;
    let to_sign = match decision.signature {
        None => None,
        Some(rule) => {
            let entity = W::entity(&decision.record);
            Some(ToSign {
                rule,
                barred_signer: decision.barred_signer,
                shown: Shown {
                    record_type: entity.kind,
                    record_id: entity.id,
                    record_key: entity.key,
                    version: version + 1,
                    action: decision.action.name.to_string(),
                    meaning: rule.meaning.to_string(),
                    content_sha256: content_hash::<W>(&decision.record)?,
                },
            })
        }
    };
    Ok((decision.record, to_sign))
}
