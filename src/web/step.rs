//! One handler for every workflow step (ARCHITECTURE.md rule 8):
//! `POST /<area>/{id}/{action}`. It previews the step; a step that needs an
//! electronic signature answers with the signing form (after telling a
//! barred signer so, before any password is asked for); the form comes back
//! here with the password and what it showed, and the transition service
//! signs, saves and audits in one transaction. A workflow takes part by
//! implementing [`WebWorkflow`]: its URL area, its step form, and its record
//! page for refusals.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::de::DeserializeOwned;

use super::AppState;
use super::csrf::StepForm;
use super::extract::{CurrentUser, OpId};
use super::handlers::signatures::{Ceremony, ceremony};
use super::handlers::{flash, see_other, step_refused, user_ctx};
use super::record::step_form_of;
use super::rejected::Rejected;
use super::session::SessionCtx;
use super::views::signatures::{Carried, SignRequest, SignedField};
use crate::db::DbConnection;
use crate::domain::workflow::{Who, action_def};
use crate::service::workflow::{RecordError, Stored, ToSign, preview, transition};
use crate::web::error::AppError;

/// What the step handler needs of a workflow beyond its stored declaration.
#[allow(async_fn_in_trait)]
pub trait WebWorkflow: Stored
where
    Self::Record: Send,
    Self::Input: Clone + Send,
{
    /// The first part of its URLs (`nonconformances`).
    const AREA: &'static str;
    /// The fields a step form sends besides the signing ceremony's.
    type Form: DeserializeOwned + 'static;

    /// The record version the person saw, from the form.
    fn form_version(form: &Self::Form) -> i64;
    /// The step's input, parsed from the form; a value that is not one of
    /// the choices is a 400 naming it.
    fn input(form: &Self::Form) -> Result<Self::Input, AppError>;
    /// The record's title, as the signing form heads it.
    fn title(record: &Self::Record) -> String;
    /// What the signing form shows of the record as the step leaves it.
    fn signed_fields(
        conn: &mut DbConnection,
        record: &Self::Record,
    ) -> Result<Vec<SignedField>, AppError>;
    /// The record page again, with the step's form as typed and why the
    /// step was not taken at its top.
    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        rejected: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError>;
    /// Where a taken step leads: by default its record, with its new state.
    async fn done(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        record: &Self::Record,
        _action: &str,
    ) -> Result<HttpResponse, AppError> {
        let entity = Self::entity(record);
        let state_label = crate::domain::workflow::state_def::<Self>(Self::state_of(record))
            .map_or("changed", |d| d.label)
            .to_lowercase();
        flash(
            state,
            s,
            "ok",
            &format!("{} is now {state_label}.", entity.key),
        )
        .await?;
        Ok(see_other(&Self::page(record)))
    }
    /// The record's page.
    fn page(record: &Self::Record) -> String {
        let id = Self::entity(record).id;
        let n = id.rsplit('-').next().unwrap_or_default();
        format!("/{}/{n}", Self::AREA)
    }
}

/// An optional choice of a step form: empty is none; anything else must be
/// one of the choices, or the request is a 400 naming `what` and the value.
pub fn choice<T>(
    value: Option<&String>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, AppError> {
    match value.map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| AppError::BadRequest(format!("There is no {what} {v:?}"))),
    }
}

/// An optional text of a step form, trimmed.
pub fn text(value: Option<&String>) -> Option<String> {
    value.map(|t| t.trim().to_string())
}

/// The signing form of a step: the record as the step leaves it and what
/// identifies the message to be signed.
fn sign_request<W>(
    id: i64,
    next: &W::Record,
    action: &str,
    to_sign: ToSign,
    fields: Vec<SignedField>,
    sent: Vec<(String, String)>,
) -> SignRequest
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    let label = action_def::<W>(action).map_or("", |a| a.label);
    // The step's fields as sent (the version among them) go back unchanged.
    let carried = sent
        .into_iter()
        .map(|(name, value)| Carried { name, value })
        .collect();
    SignRequest {
        record_key: to_sign.shown.record_key.clone(),
        record_title: W::title(next),
        back_to: format!("/{}/{id}", W::AREA),
        post_to: format!("/{}/{id}/{action}", W::AREA),
        action_label: label,
        meaning: to_sign.rule.meaning,
        fields,
        content_sha256: to_sign.shown.content_sha256.clone(),
        carried,
        shown: to_sign.shown,
        warning: None,
    }
}

/// The record page with a refusal (role and ownership refusals audited),
/// the step's form shown again as it was sent.
async fn refused<W>(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (op, path): &(Option<String>, String),
    (id, version, name, sent): (i64, i64, &str, &[(String, String)]),
    e: RecordError,
) -> Result<HttpResponse, AppError>
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    // The refused rules' ids travel with the page, for scripts and tests.
    let ids = e.rule_ids().join(" ");
    let form = Rejected::named(&step_form_of::<W>(name)).typed_all(sent);
    let (status, rejected) =
        step_refused::<W>(state, s, (op.clone(), path.clone()), (id, version), e, form).await?;
    let mut page = W::refused_page(state, s, id, rejected, status).await?;
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&ids) {
        page.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static(REFUSED_RULES),
            v,
        );
    }
    Ok(page)
}

/// The response header naming the rules a refused step broke.
pub const REFUSED_RULES: &str = "attest-refused-rules";

/// `POST /<area>/{id}/{action}`: one step of a workflow.
pub async fn step<W>(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, String)>,
    StepForm {
        fields: form,
        sent,
        signing: typed,
    }: StepForm<W::Form>,
) -> Result<HttpResponse, AppError>
where
    W: WebWorkflow,
    W::Record: Send,
    W::Input: Clone + Send,
{
    let s = &user.0;
    let (id, name) = path.into_inner();
    let asked = (op.clone(), format!("/{}/{id}/{name}", W::AREA));
    let input = W::input(&form)?;
    let version = W::form_version(&form);
    let ctx = user_ctx(&state, s, op);
    let (roles, me) = (s.account.roles.clone(), s.account.id.0);
    // What the step would do; a signed step shows the signing form first.
    let previewed = {
        let (roles, name, input) = (roles.clone(), name.clone(), input.clone());
        let shown = typed.as_ref().map(|t| t.shown.clone());
        let now = ctx.now;
        state
            .db(move |conn| {
                let who = Who {
                    user: Some(me),
                    roles: &roles,
                };
                Ok(
                    match preview::<W>(conn, who, id, version, &name, &input, shown.as_ref(), now) {
                        Ok((next, Some(to_sign))) => {
                            let fields = W::signed_fields(conn, &next)?;
                            let gate = crate::service::gate::gate(
                                conn,
                                W::KIND,
                                &to_sign.shown.action,
                                me,
                                now.date_naive(),
                            )?;
                            Ok(Some((next, to_sign, fields, gate)))
                        }
                        Ok((_, None)) => Ok(None),
                        Err(e) => Err(e),
                    },
                )
            })
            .await?
    };
    let mut signer = None;
    let form = (id, version, name.as_str(), sent.as_slice());
    match previewed {
        Err(e) => return refused::<W>(&state, s, &asked, form, e).await,
        Ok(None) if typed.is_some() => {
            let e = RecordError::unsigned_step(&name);
            return refused::<W>(&state, s, &asked, form, e).await;
        }
        Ok(None) => {}
        Ok(Some((next, to_sign, fields, gate))) => {
            // Told before any password is asked for.
            if let Some(e) = to_sign.refusal_of(me) {
                return refused::<W>(&state, s, &asked, form, e).await;
            }
            // The training gate: refused here when it blocks, else the
            // signing form says so.
            let warning = match gate {
                Some(g) if g.mode == crate::domain::training::GateMode::Block => {
                    let e = RecordError::Refused(crate::domain::workflow::Refused::Guards(vec![
                        g.refusal(),
                    ]));
                    return refused::<W>(&state, s, &asked, form, e).await;
                }
                Some(g) => Some(format!(
                    "{}. You may sign; the warning is kept in the audit trail with your signature.",
                    g.words()
                )),
                None => None,
            };
            let mut request = sign_request::<W>(id, &next, &name, to_sign, fields, sent.clone());
            request.warning = warning;
            match ceremony(&state, s, &ctx, request, typed).await? {
                Ceremony::Signer(with) => signer = Some(with),
                Ceremony::Answer(page) => return Ok(page),
            }
        }
    }
    let taken = {
        let name = name.clone();
        state
            .db(move |conn| {
                let who = Who {
                    user: Some(me),
                    roles: &roles,
                };
                Ok(transition::<W>(
                    conn,
                    &ctx,
                    who,
                    id,
                    version,
                    &name,
                    &input,
                    signer.as_deref(),
                ))
            })
            .await?
    };
    match taken {
        Ok(record) => W::done(&state, s, &record, &name).await,
        Err(e) => {
            let form = (id, version, name.as_str(), sent.as_slice());
            refused::<W>(&state, s, &asked, form, e).await
        }
    }
}
