//! Request handlers, one file per area. They parse input into domain types,
//! call a service, and render a page or redirect (post/redirect/get).

pub mod account;
pub mod admin;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod capas;
pub mod dashboard;
pub mod documents;
pub mod health;
pub mod help;
pub mod hooks;
pub mod nonconformances;
pub mod notifications;
pub mod outbox;
pub mod products;
pub mod repositories;
pub mod requirements;
pub mod risk_reports;
pub mod risks;
pub mod signatures;
pub mod tokens;
pub mod trace;
pub mod training;

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};

use super::AppState;
use super::session::SessionCtx;
use crate::db::repo::sessions;
use crate::service::{Ctx, accounts};
use crate::web::error::{AppError, Rendered};

/// 200 with the rendered page.
pub fn html<T: Template>(page: &T) -> Result<HttpResponse, AppError> {
    html_status(StatusCode::OK, page)
}

/// A rendered page with another status (a form shown again with its errors).
pub fn html_status<T: Template>(status: StatusCode, page: &T) -> Result<HttpResponse, AppError> {
    let body = page.render()?;
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body);
    res.extensions_mut().insert(Rendered);
    Ok(res)
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, to))
        .finish()
}

/// The service context for the signed-in user.
pub fn user_ctx(state: &AppState, s: &SessionCtx, op: Option<String>) -> Ctx {
    Ctx {
        log: state.log_origin.clone(),
        actor: accounts::actor(&s.account),
        now: state.clock.now(),
        op,
    }
}

/// Leaves a one-time message on the session for the next page.
pub async fn flash(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    kind: &str,
    text: &str,
) -> Result<(), AppError> {
    let (hash, value) = (s.id_hash.clone(), format!("{kind}:{text}"));
    state
        .db(move |conn| Ok(sessions::set_flash(conn, &hash, Some(&value))?))
        .await
}

/// The layout context for a page; a pending flash is shown now and cleared.
pub async fn page_ctx(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    current: &str,
) -> Result<super::views::PageCtx, AppError> {
    if s.flash.is_some() {
        let hash = s.id_hash.clone();
        // Shown once; if the database cannot take the write now, the page is
        // still served and the message may show once more.
        if let Err(e) = state
            .db(move |conn| Ok(sessions::set_flash(conn, &hash, None)?))
            .await
        {
            tracing::warn!(error = %e, "a shown message could not be cleared");
        }
    }
    Ok(super::views::PageCtx::signed_in(s, current))
}

/// A query parameter, trimmed; empty when absent.
pub fn query_text(query: &std::collections::HashMap<String, String>, name: &str) -> String {
    query
        .get(name)
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

pub use crate::web::list::choice as filter_value;

/// The `page` of a list from the query: 1 when absent, else a whole number >= 1.
pub fn page_number(query: &std::collections::HashMap<String, String>) -> Result<i64, AppError> {
    Ok(filter_value(&query_text(query, "page"), "page", |v| {
        v.parse::<i64>().ok().filter(|n| *n >= 1)
    })?
    .unwrap_or(1))
}

/// "2026-11-21 10:42 UTC", or "never".
pub fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "never".to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// A `next` target for after sign-in: a local path only, never another site.
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok && next.len() <= 512 {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// How a refused workflow step is answered: a missing record is a 404 and a
/// role refusal a 403 page (as `Err`); anything else is shown on the record
/// page with its status and message (as `Ok`).
/// Audits a refusal of access to the signed-in person (SECURITY.md 29):
/// `entity` is the record refused, when there is one.
pub async fn deny(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    op: Option<String>,
    entity: Option<crate::audit::EntityRef>,
    method: &'static str,
    path: String,
    why: String,
) -> Result<(), AppError> {
    let ctx = user_ctx(state, s, op);
    state
        .db(move |conn| {
            let denied = crate::service::access::Denied {
                method,
                path: &path,
                why: &why,
                extra: None,
            };
            Ok(crate::service::access::denied(conn, &ctx, entity, &denied)?)
        })
        .await?;
    Ok(())
}

/// A refused workflow step: the form as typed with why, and the status the
/// record page shows it with (a missing record is a 404, a role refusal a
/// 403 page, as `Err`). A refusal for role or ownership is audited on the
/// record first; a stale form says what changed since it was shown.
pub async fn step_refused<W: crate::service::workflow::Stored>(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (op, path): (Option<String>, String),
    (id, version): (i64, i64),
    e: crate::service::error::RecordError,
    rejected: crate::web::rejected::Rejected,
) -> Result<(StatusCode, crate::web::rejected::Rejected), AppError> {
    use crate::domain::workflow::Refused;
    use crate::service::error::RecordError;
    let audited = match &e {
        RecordError::Refused(r @ Refused::Role { .. }) => Some(r.to_string()),
        RecordError::Refused(r) if W::AUDITS_REFUSALS => Some(r.to_string()),
        _ => None,
    };
    if let Some(why) = audited {
        let entity = state
            .db(move |conn| Ok(W::load(conn, id)?.map(|r| W::entity(&r))))
            .await?;
        deny(state, s, op, entity, "POST", path, why).await?;
    } else if e.rule_ids().contains(&crate::domain::training::GATE_RULE) {
        // The training gate's refusal is audited on the record.
        let ctx = user_ctx(state, s, op);
        let why = e.to_string();
        state
            .db(move |conn| {
                let entity = W::load(conn, id)?.map(|r| W::entity(&r));
                let mut entry = ctx
                    .entry("training.gate_refused")
                    .after(serde_json::json!({"path": path, "why": why}));
                if let Some(entity) = entity {
                    entry = entry.entity(entity);
                }
                crate::db::write_tx(conn, |conn| crate::audit::append(conn, &entry))?;
                Ok(())
            })
            .await?;
    }
    refused_form(state, s, e, rejected, Some((W::KIND, id, version))).await
}

/// A refused form: the status it is shown again with and the form with
/// why, or the error page when the refusal is not the person's to put
/// right. A form someone else's save made stale on record `(kind, id)`,
/// sent at `version`, says what they changed.
pub async fn refused_form(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    e: crate::service::error::RecordError,
    rejected: crate::web::rejected::Rejected,
    record: Option<(&'static str, i64, i64)>,
) -> Result<(StatusCode, crate::web::rejected::Rejected), AppError> {
    use crate::service::error::RecordError;
    let Some(status) = crate::web::error::refusal_status(&e) else {
        return Err(e.into());
    };
    let rejected = match (e, record) {
        (RecordError::Stale, Some((kind, id, version))) => {
            rejected_stale(state, s, kind, id, version, rejected).await?
        }
        (e, _) => rejected.refused(&e),
    };
    Ok((status, rejected))
}

/// A form refused because someone else saved the record (`kind`, row
/// `id`) after the version it showed: what they changed goes in its
/// summary, and beside each field of the form they changed, the value saved
/// now; what the person typed stays in the form.
pub async fn rejected_stale(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    kind: &'static str,
    id: i64,
    version: i64,
    rejected: crate::web::rejected::Rejected,
) -> Result<crate::web::rejected::Rejected, AppError> {
    let roles = s.account.roles.clone();
    let prefix = crate::domain::record::kind(kind).map_or("", |k| k.id_prefix);
    let record = format!("{prefix}{id}");
    let changes = state
        .db(move |conn| audit::changes_since(conn, kind, &record, version, &roles))
        .await?;
    let mut r = rejected;
    if changes.lines.is_empty() {
        // Sent twice, or changed in a way this reader may not see.
        return Ok(r.refused(&crate::service::error::RecordError::Stale));
    }
    for (field, now) in &changes.fields {
        if r.value(field).is_some() {
            r = r.problem(field, format!("Saved meanwhile by someone else: “{now}”."));
        }
    }
    Ok(r.with_changes(changes.lines))
}

/// `GET` on a URL under a record that only takes `POST` (a step, a form's
/// target: a reload after a refused form, a bookmarked result): back to the
/// record's page instead of a 404, so no one lands on a dead end.
pub async fn back_to_record(
    req: actix_web::HttpRequest,
    _user: crate::web::extract::CurrentUser,
    path: web::Path<(i64, String)>,
) -> actix_web::HttpResponse {
    let (_, tail) = path.into_inner();
    let full = req.path();
    let record = full
        .strip_suffix(tail.as_str())
        .and_then(|p| p.strip_suffix('/'))
        .unwrap_or("/");
    see_other(record)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_redirects_only_to_local_paths() {
        assert_eq!(safe_next("/admin/users?page=2"), "/admin/users?page=2");
        assert_eq!(safe_next("//evil.example/x"), "/");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
