//! Signature requests (issue 18): from a step that needs someone else's
//! electronic signature (the owner of a CAPA cannot close it as effective),
//! a person asks a named colleague who may give it. The request is kept
//! with its audit entry and a `signature_needed` event for that colleague
//! (their notification and mail), in one transaction; it shows on the
//! record ("Waiting on …") and in the colleague's "What needs me" until it
//! is withdrawn, the step is taken, or the record moves on (the transition
//! service settles it in the step's own transaction).

use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit;
use crate::db::repo::signature_requests::{self as repo, Ended, NewRequest, Request};
use crate::db::repo::users;
use crate::db::{DbConnection, write_tx};
use crate::domain::event::DomainEvent;
use crate::domain::ids::UserId;
use crate::domain::user::{FieldError, Role, Roles};
use crate::domain::workflow::{
    ActionDef, Offer, Refusal, Refused, SignatureRule, Who, action_def, offer, state_def,
};

/// The most characters of a request's note.
pub const NOTE_MAX: usize = 500;

/// The roles that may ask for a signature: everyone but a read-only
/// auditor.
pub const ASKERS: &[Role] = &[Role::Quality, Role::Engineer, Role::Admin];

/// Whether someone with `roles` may ask colleagues for signatures.
pub fn may_ask(roles: &Roles) -> bool {
    roles.has_any(ASKERS)
}

/// Whether `who` may withdraw `request`: the person who asked, or quality.
pub fn may_withdraw(request: &Request, who: Who<'_>) -> bool {
    who.user == Some(request.asked_by) || who.roles.contains(Role::Quality)
}

/// One person who could sign a step now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
}

/// The signature `action` needs on `record` as it stands, when `who` may
/// ask someone else for it: a signed step from the record's state that
/// waits on someone else (they cannot take it themselves).
pub fn askable<W: Stored>(
    record: &W::Record,
    action: &ActionDef<W>,
    who: Who<'_>,
) -> Option<SignatureRule> {
    let rule = (action.signature)(record)?;
    match offer::<W>(record, action, who) {
        Offer::Waiting(_) => Some(rule),
        Offer::Take | Offer::Hidden => None,
    }
}

/// Whether the account `(id, roles)` could take `action` on `record` now.
fn could_sign<W: Stored>(
    record: &W::Record,
    action: &ActionDef<W>,
    id: i64,
    roles: &Roles,
) -> bool {
    let who = Who {
        user: Some(id),
        roles,
    };
    offer::<W>(record, action, who) == Offer::Take
}

/// The active people who could take `action` on `record` now, by name (at
/// most 200): those holding one of its roles, its owner when the owner may
/// take it, and those the record names for it, each checked as the step
/// would be.
pub fn candidates<W: Stored>(
    conn: &mut DbConnection,
    record: &W::Record,
    action: &ActionDef<W>,
) -> diesel::QueryResult<Vec<Candidate>> {
    let mut people = users::active_with_any_role(conn, action.roles, 200)?;
    let mut more = W::named(record, action.action);
    if action.owner {
        more.extend(W::owner(record));
    }
    for id in more {
        if !people.iter().any(|a| a.id.0 == id)
            && let Some(a) = users::find(conn, UserId(id))?.filter(|a| a.active)
        {
            people.push(a);
        }
    }
    let mut out: Vec<Candidate> = people
        .into_iter()
        .filter(|a| could_sign::<W>(record, action, a.id.0, &a.roles))
        .map(|a| Candidate {
            id: a.id.0,
            name: a.full_name,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The state name `record` is in.
fn state_name<W: Stored>(record: &W::Record) -> &'static str {
    state_def::<W>(W::state_of(record)).map_or("", |s| s.name)
}

/// Asks `asked_of` to sign step `name` of record `id` for `who`, with an
/// optional `note`: kept with its audit entry and the event that tells
/// them, in one transaction. Refused when `who` is an auditor (audited by
/// the caller as a refusal for role), when the step needs no signature or
/// they may take it themselves, when `asked_of` could not sign it now, or
/// when they are asked already.
pub fn ask<W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    who: Who<'_>,
    (id, name): (i64, &str),
    asked_of: Option<i64>,
    note: &str,
) -> Result<(Request, W::Record), RecordError> {
    let me = who.user.ok_or(RecordError::NotFound)?;
    let action = action_def::<W>(name)
        .ok_or_else(|| RecordError::Refused(Refused::UnknownAction(name.to_string())))?;
    if !may_ask(who.roles) {
        return Err(RecordError::Refused(Refused::Role {
            action: "Asking for a signature",
            roles: ASKERS,
            owner: false,
            named: None,
        }));
    }
    let note = note.trim();
    let mut problems = Vec::new();
    if note.chars().count() > NOTE_MAX {
        problems.push(FieldError::new(
            "note",
            format!("Keep the note to {NOTE_MAX} characters."),
        ));
    }
    let Some(asked_of) = asked_of else {
        problems.push(FieldError::new("asked_of", "Choose who is to sign."));
        return Err(RecordError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(RecordError::Invalid(problems));
    }
    write_tx(conn, |conn| {
        let record = W::load(conn, id)?.ok_or(RecordError::NotFound)?;
        let entity = W::entity(&record);
        let Some(rule) = askable::<W>(&record, action, who) else {
            return Err(RecordError::Refused(Refused::Guards(vec![Refusal::new(
                "signature_request.not_waiting",
                format!(
                    "“{}” does not wait on someone else's signature on {} as it stands",
                    action.label, entity.key
                ),
                None,
            )])));
        };
        let person = users::find(conn, UserId(asked_of))?.filter(|a| a.active);
        let Some(person) =
            person.filter(|a| a.id.0 != me && could_sign::<W>(&record, action, a.id.0, &a.roles))
        else {
            return Err(RecordError::Invalid(vec![FieldError::new(
                "asked_of",
                format!(
                    "Choose someone who may sign “{}” on {} now: that person cannot.",
                    action.label, entity.key
                ),
            )]));
        };
        let open = repo::open_on(conn, &entity.kind, &entity.id)?;
        if let Some(there) = open
            .iter()
            .find(|r| r.asked_of == asked_of && r.action == action.name)
        {
            return Err(RecordError::Invalid(vec![FieldError::new(
                "asked_of",
                format!(
                    "{} was asked to sign this on {} already.",
                    person.full_name,
                    there.created_at.format("%Y-%m-%d")
                ),
            )]));
        }
        let state = state_name::<W>(&record);
        let request = repo::insert(
            conn,
            &NewRequest {
                record: (&entity.kind, &entity.id, &entity.key),
                action: (action.name, action.label, rule.meaning),
                state,
                asked_of,
                asked_by: me,
                note,
                at: ctx.now,
            },
        )?;
        let entry = ctx
            .entry("signature.requested")
            .entity(entity.clone())
            .after(json!({
                "request": request,
                "action": action.name,
                "meaning": rule.meaning,
                "state": state,
                "asked_of": UserId(asked_of).to_string(),
                "note": note,
            }));
        audit::append(conn, &entry)?;
        let event = DomainEvent::signature_asked(
            action.name,
            action.label,
            rule.meaning,
            asked_of,
            request,
        );
        super::events::append(conn, ctx, &entity, &[event])?;
        let request = repo::find(conn, request)?.ok_or(RecordError::NotFound)?;
        Ok((request, record))
    })
}

/// Withdraws open request `request` on record `id` for `who` (the person
/// who asked, or quality), with its audit entry.
pub fn withdraw<W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    who: Who<'_>,
    id: i64,
    request: i64,
) -> Result<(Request, W::Record), RecordError> {
    write_tx(conn, |conn| {
        let record = W::load(conn, id)?.ok_or(RecordError::NotFound)?;
        let entity = W::entity(&record);
        let r = repo::find(conn, request)?
            .filter(|r| r.record_type == entity.kind && r.record_id == entity.id)
            .ok_or(RecordError::NotFound)?;
        if !may_withdraw(&r, who) {
            return Err(RecordError::Refused(Refused::Role {
                action: "Withdrawing a signature request",
                roles: &[Role::Quality],
                owner: false,
                named: Some("the person who asked"),
            }));
        }
        if let Some(how) = r.ended {
            let why = match how {
                Ended::Withdrawn => "it was withdrawn already",
                Ended::Taken => "the step was taken",
                Ended::MovedOn => "the record moved on",
            };
            return Err(RecordError::Conflict(format!(
                "The request to sign “{}” is no longer open: {why}.",
                r.label
            )));
        }
        if !repo::end(conn, r.id, Ended::Withdrawn, ctx.now, who.user)? {
            return Err(RecordError::Conflict(format!(
                "The request to sign “{}” ended meanwhile.",
                r.label
            )));
        }
        let entry = ctx
            .entry("signature.request_withdrawn")
            .entity(entity)
            .before(json!({
                "request": r.id,
                "action": r.action,
                "asked_of": UserId(r.asked_of).to_string(),
                "ended": null,
            }))
            .after(json!({ "ended": Ended::Withdrawn.as_str() }));
        audit::append(conn, &entry)?;
        let request = repo::find(conn, r.id)?.ok_or(RecordError::NotFound)?;
        Ok((request, record))
    })
}
