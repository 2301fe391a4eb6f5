//! `GET /notifications`: the signed-in person's notifications, newest first
//! (`?unread=1` only unread ones), 50 a page; `POST /notifications/{id}/open`
//! marks one read and goes to its place on its record; `POST
//! /notifications/read-all` marks them all read.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use super::{html, page_ctx, see_other, when};
use crate::db::repo::notifications as repo;
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::AppError;
use crate::web::extract::CurrentUser;
use crate::web::list::{ListQuery, PerPage};
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
