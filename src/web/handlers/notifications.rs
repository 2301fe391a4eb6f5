//! `GET /notifications`: the signed-in person's notifications, newest first
//! (`?unread=1` only unread ones), 50 a page; `POST /notifications/{id}/open`
//! marks one read and goes to its place on its record; `POST
//! /notifications/read-all` marks them all read.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use super::{html, page_ctx, see_other, when};
use crate::db::repo::notifications as repo;
use crate::service::error::RecordError;
use crate::web::AppState;
use crate::web::csrf::{Form, Typed};
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId};
use crate::web::list::{ListQuery, PerPage};
use crate::web::rejected::Rejected;
use crate::web::views::notifications::{NotificationRow, NotificationsPage};

const PER_PAGE: i64 = 50;

pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let q = ListQuery::read(&query, &["unread"], PerPage::Fixed(PER_PAGE))?;
    let unread_only = match q.get("unread") {
        "" => false,
        "1" => true,
        v => {
            return Err(AppError::BadRequest(format!(
                "unread is 1 or nothing, not {v:?}"
            )));
        }
    };
    let me = s.account.id.0;
    let (offset, limit) = (q.offset(), q.per_page);
    let (rows, total) = state
        .read(move |conn| Ok::<_, AppError>(repo::list(conn, me, unread_only, (offset, limit))?))
        .await?;
    html(&NotificationsPage {
        ctx: page_ctx(&state, s, "/notifications").await?,
        rows: rows
            .into_iter()
            .map(|n| NotificationRow {
                id: n.id,
                words: n.words,
                at: when(Some(n.created_at)),
                read: n.read_at.is_some(),
            })
            .collect(),
        total,
        unread_only,
        unread: s.unread,
        pages: q.pages("/notifications", total),
    })
}

/// Marks the notification read and opens its place; another person's is
/// not found.
pub async fn open(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
    Form(_): Form<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (me, id, now) = (user.0.account.id.0, path.into_inner(), state.clock.now());
    let n = state
        .db(move |conn| Ok(repo::mark_read(conn, me, id, now)?))
        .await?
        .ok_or(AppError::NotFound)?;
    // Written by Attest from a record's page; anything else goes home.
    let to = if n.href.starts_with('/') && !n.href.starts_with("//") {
        n.href
    } else {
        "/".to_string()
    };
    Ok(see_other(&to))
}

pub async fn read_all(
    state: web::Data<AppState>,
    user: CurrentUser,
    Form(_): Form<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (me, now) = (user.0.account.id.0, state.clock.now());
    state
        .db(move |conn| Ok(repo::mark_all_read(conn, me, now)?))
        .await?;
    Ok(see_other("/notifications"))
}

fn settings_page(
    s: &crate::web::session::SessionCtx,
    state: &AppState,
    prefs: &crate::db::repo::mail_prefs::Prefs,
    problems: crate::web::rejected::Rejected,
) -> crate::web::views::notifications::MailSettingsPage {
    use crate::domain::notification::{Category, Delivery};
    use crate::web::views::notifications::{CategoryRow, MailSettingsPage};
    let typed = |field: &str, kept: &'static str| -> &'static str {
        match problems.value(field).and_then(Delivery::parse) {
            Some(d) => d.as_str(),
            None => kept,
        }
    };
    let rows = Category::ALL
        .into_iter()
        .map(|c| CategoryRow {
            field: c.field(),
            label: c.label(),
            chosen: typed(c.field(), prefs.delivery(c).as_str()),
            can_be_off: c.can_be_off(),
        })
        .collect();
    let digest = match problems.value("digest") {
        Some("weekly") => "weekly",
        Some("daily") => "daily",
        _ => prefs.digest.as_str(),
    };
    MailSettingsPage {
        ctx: crate::web::views::PageCtx::signed_in(s, "/notifications"),
        email: s.account.email.clone(),
        mail_on: state.mailer.enabled(),
        version: prefs.version,
        digest,
        rows,
        problems,
    }
}

/// `GET /notifications/settings`: the person's mail preferences.
pub async fn settings(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let me = user.0.account.id.0;
    let prefs = state
        .read(move |conn| Ok::<_, AppError>(crate::db::repo::mail_prefs::find(conn, me)?))
        .await?;
    let mut page = settings_page(&user.0, &state, &prefs, Rejected::new("prefs", ""));
    page.ctx = page_ctx(&state, &user.0, "/notifications").await?;
    html(&page)
}

/// `POST /notifications/settings`: saves them (audited); a refused form
/// comes back as typed, with why.
pub async fn save_settings(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    Typed(f, typed): Typed<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::service::mail_prefs::{self, PrefsInput};
    let s = &user.0;
    let me = s.account.id.0;
    let input = PrefsInput {
        version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(-1),
        digest: f.get("digest").cloned().unwrap_or_default(),
        choices: f
            .iter()
            .filter(|(k, _)| k.starts_with("cat_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let ctx = super::user_ctx(&state, s, op);
    match state
        .db(move |conn| Ok(mail_prefs::save(conn, &ctx, me, &input)))
        .await?
    {
        Ok(_) => {
            super::flash(&state, s, "ok", "Mail settings saved.").await?;
            Ok(see_other("/notifications/settings"))
        }
        Err(e @ (RecordError::Invalid(_) | RecordError::Stale)) => {
            let prefs = state
                .read(move |conn| Ok::<_, AppError>(crate::db::repo::mail_prefs::find(conn, me)?))
                .await?;
            let problems = Rejected::new("prefs", "").typed_all(&typed).refused(&e);
            super::html_status(
                actix_web::http::StatusCode::BAD_REQUEST,
                &settings_page(s, &state, &prefs, problems),
            )
        }
        Err(e) => Err(e.into()),
    }
}
