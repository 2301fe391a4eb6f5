//! Signature requests on every record page (issue 18): under "Next steps",
//! a step that waits on someone else's signature offers "Ask someone to
//! sign…" (the people who could sign it now), lists the open requests
//! ("Asked of Quinn Quality by Owen Owner on 2026-12-07"), and lets the
//! person who asked, or quality, withdraw one. One pair of handlers serves
//! every workflow, as the step handler does: `POST
//! /<area>/{id}/signature-requests` and `POST
//! /<area>/{id}/signature-requests/{request}/withdraw`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::csrf::Typed;
use super::error::AppError;
use super::extract::{CurrentUser, OpId};
use super::handlers::{flash, see_other, step_refused, user_ctx};
use super::record::{NextSteps, RequestView};
use super::rejected::Rejected;
use super::session::SessionCtx;
use super::step::WebWorkflow;
use crate::db::DbConnection;
use crate::db::repo::signature_requests::{self as repo, Request};
use crate::db::repo::users;
use crate::domain::workflow::{ActionDef, Who, action_def, state_def};
use crate::service::KeptUntilDataChanges;
use crate::service::error::RecordError;
use crate::service::signature_requests::{self as service, Candidate};
use crate::service::workflow::Stored;

/// What a record page shows of its signature requests that depends on
/// the data alone, not on who reads it: the open requests with the names
/// they show, and for each signed step from the record's state, everyone
/// who could take it now. Kept until the data changes (a request, a step,
/// a person's roles all advance the data stamp).
pub struct OnRecord {
    requests: Vec<Request>,
    names: HashMap<i64, String>,
    signers: Vec<(&'static str, Vec<Candidate>)>,
}

/// Each record's [`OnRecord`], by its audited type and id.
pub type RequestsCache = KeptUntilDataChanges<(String, String), OnRecord>;

/// The signature requests of `record` and who could sign its steps, from
/// `cache`, read in the page's own transaction; nothing read at all when
/// no step from the record's state needs a signature.
pub fn on_record<W: Stored>(
    conn: &mut DbConnection,
    cache: &RequestsCache,
    record: &W::Record,
) -> Result<Option<Arc<OnRecord>>, AppError> {
    on_record_at::<W>(conn, cache, None, record)
}

/// As [`on_record`], against the data stamp `stamp` when the page read it
/// already (for its own kept values).
pub fn on_record_at<W: Stored>(
    conn: &mut DbConnection,
    cache: &RequestsCache,
    stamp: Option<i64>,
    record: &W::Record,
) -> Result<Option<Arc<OnRecord>>, AppError> {
    let at = W::state_of(record);
    if state_def::<W>(at).is_none_or(|s| s.terminal) {
        return Ok(None);
    }
    let signed: Vec<&'static ActionDef<W>> = W::actions()
        .iter()
        .filter(|a| a.from.contains(&at) && (a.signature)(record).is_some())
        .collect();
    if signed.is_empty() {
        return Ok(None);
    }
    let entity = W::entity(record);
    let key = (entity.kind.clone(), entity.id.clone());
    let stamp = match stamp {
        Some(s) => s,
        None => crate::audit::data_stamp(conn)?,
    };
    cache
        .get_at(conn, stamp, key, |conn| {
            let requests = repo::open_on(conn, &entity.kind, &entity.id)?;
            let people: Vec<i64> = requests
                .iter()
                .flat_map(|r| [r.asked_of, r.asked_by])
                .collect();
            let names = match people.is_empty() {
                true => HashMap::new(),
                false => users::names(conn, &people)?,
            };
            let mut signers = Vec::new();
            for a in signed {
                signers.push((a.name, service::candidates::<W>(conn, record, a)?));
            }
            Ok::<_, AppError>(OnRecord {
                requests,
                names,
                signers,
            })
        })
        .map(Some)
}

/// `next` with the record's open signature requests beside their steps,
/// and, on each step that waits on someone else's signature, whom reader
/// `s` may ask to sign it (anyone who could take it but them).
pub fn with_requests<W: Stored>(
    mut next: NextSteps,
    on: Option<&OnRecord>,
    record: &W::Record,
    s: &SessionCtx,
) -> NextSteps {
    let Some(on) = on else {
        return next;
    };
    let me = s.account.id.0;
    let who = Who {
        user: Some(me),
        roles: &s.account.roles,
    };
    let name_of = |id: i64| {
        on.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("u-{id}"))
    };
    let base = next.step_base.clone();
    let view = |r: &Request| RequestView {
        asked_of: name_of(r.asked_of),
        of_you: r.asked_of == me,
        asked_by: name_of(r.asked_by),
        on: r.created_at.format("%Y-%m-%d").to_string(),
        note: r.note.clone(),
        withdraw: service::may_withdraw(r, who)
            .then(|| format!("{base}/signature-requests/{}/withdraw", r.id)),
        form: format!("withdraw-{}", r.id),
    };
    for b in &mut next.blocks {
        for button in &b.buttons {
            let asked = on.requests.iter().filter(|r| r.action == button.name);
            b.requests.extend(asked.map(view));
        }
    }
    let may_ask = service::may_ask(&s.account.roles);
    for w in &mut next.waiting {
        let asked: Vec<&Request> = on
            .requests
            .iter()
            .filter(|r| r.action == w.action)
            .collect();
        w.requests = asked.iter().map(|r| view(r)).collect();
        let askable = may_ask
            && action_def::<W>(w.action)
                .is_some_and(|a| service::askable::<W>(record, a, who).is_some());
        if !askable {
            continue;
        }
        let could = on.signers.iter().find(|(a, _)| *a == w.action);
        w.candidates = could
            .map(|(_, people)| {
                people
                    .iter()
                    // Never oneself, nor someone asked already.
                    .filter(|p| p.id != me && !asked.iter().any(|r| r.asked_of == p.id))
                    .map(|p| (p.id.to_string(), p.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
    }
    next
}

/// The ask form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskForm {
    pub action: String,
    pub asked_of: Option<String>,
    pub note: Option<String>,
}

/// A refused request or withdrawal: the record page with the form as
/// typed and why at its top (a refusal for role audited, a 403).
async fn refused<W>(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    asked: Asked,
    (id, rejected): (i64, Rejected),
    e: RecordError,
) -> Result<HttpResponse, AppError>
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    let (status, rejected) = step_refused::<W>(state, s, asked, (id, 0), e, rejected).await?;
    W::refused_page(state, s, id, rejected, status).await
}

/// The operation id and path of a request, as a refusal audits them.
type Asked = (Option<String>, String);

/// What an ask or a withdrawal answers: done, the record's "Next steps"
/// with what was done (`said`, given the name of the person asked)
/// flashed; refused, the record page with form `form` as typed.
async fn answer<W>(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    done: Result<(Request, W::Record), RecordError>,
    said: impl Fn(&str, &Request) -> String,
    (asked, id, form, typed): (Asked, i64, &str, &[(String, String)]),
) -> Result<HttpResponse, AppError>
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    match done {
        Ok((r, record)) => {
            let of = r.asked_of;
            let name = state
                .db(move |conn| Ok(users::names(conn, &[of])?))
                .await?
                .remove(&of)
                .unwrap_or_default();
            flash(state, s, "ok", &said(&name, &r)).await?;
            Ok(see_other(&format!("{}#next", W::page(&record))))
        }
        Err(e) => {
            let rejected = Rejected::named(form).typed_all(typed);
            refused::<W>(state, s, asked, (id, rejected), e).await
        }
    }
}

/// `POST /<area>/{id}/signature-requests`: asks a colleague by name to
/// sign a step of the record.
pub async fn ask<W>(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(form, typed): Typed<AskForm>,
) -> Result<HttpResponse, AppError>
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    let s = &user.0;
    let id = path.into_inner();
    let asked = (op.clone(), format!("/{}/{id}/signature-requests", W::AREA));
    let form_id = format!("ask-{}", form.action);
    // Empty is no one chosen (the form says so); the form offers only
    // people's numbers, so anything else is a 400.
    let asked_of = match form.asked_of.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("There is no person {v:?} to ask")))?,
        ),
    };
    let ctx = user_ctx(&state, s, op);
    let (me, roles) = (s.account.id.0, s.account.roles.clone());
    let note = form.note.clone().unwrap_or_default();
    let action = form.action.clone();
    let done = state
        .db(move |conn| {
            let who = Who {
                user: Some(me),
                roles: &roles,
            };
            Ok(service::ask::<W>(
                conn,
                &ctx,
                who,
                (id, &action),
                asked_of,
                &note,
            ))
        })
        .await?;
    let said = |name: &str, r: &Request| {
        format!("{name} is asked to sign “{}” on {}.", r.label, r.record_key)
    };
    answer::<W>(&state, s, done, said, (asked, id, &form_id, &typed)).await
}

/// The withdraw form: nothing but the CSRF token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawForm {}

/// `POST /<area>/{id}/signature-requests/{request}/withdraw`.
pub async fn withdraw<W>(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Typed(_, typed): Typed<WithdrawForm>,
) -> Result<HttpResponse, AppError>
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    let s = &user.0;
    let (id, request) = path.into_inner();
    let asked = (
        op.clone(),
        format!("/{}/{id}/signature-requests/{request}/withdraw", W::AREA),
    );
    let ctx = user_ctx(&state, s, op);
    let (me, roles) = (s.account.id.0, s.account.roles.clone());
    let done = state
        .db(move |conn| {
            let who = Who {
                user: Some(me),
                roles: &roles,
            };
            Ok(service::withdraw::<W>(conn, &ctx, who, id, request))
        })
        .await?;
    let said = |name: &str, r: &Request| {
        format!("The request to {name} to sign “{}” is withdrawn.", r.label)
    };
    let form = format!("withdraw-{request}");
    answer::<W>(&state, s, done, said, (asked, id, &form, &typed)).await
}
