//! My account → API tokens: each user makes tokens for themselves (shown
//! once), sees when each was last used, and revokes them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{flash, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::repo::tokens as repo;
use crate::domain::capa::parse_date;
use crate::domain::trace::Scope;
use crate::domain::user::FieldError;
use crate::service::tokens as service;
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId};
use crate::web::rejected::Rejected;
use crate::web::session::SessionCtx;
use crate::web::views::tokens::{ScopeChoice, TokenRow, TokensPage};

#[derive(Default)]
struct Typed {
    name: String,
    scopes: Vec<String>,
    expires_on: String,
}

async fn page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    typed: Typed,
    shown: Option<String>,
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let me = s.account.id.0;
    let tokens = state.db(move |conn| Ok(repo::of_user(conn, me)?)).await?;
    let now = state.clock.now();
    let rows = tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            status: if t.revoked_at.is_some() {
                "revoked"
            } else if !t.live(now) {
                "expired"
            } else {
                "active"
            },
            live: t.live(now),
            scopes: t
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: when(Some(t.created_at)),
            expires: t.expires_at.map_or_else(
                || "never".into(),
                |e| {
                    let last_day = (e - chrono::Duration::microseconds(1)).date_naive();
                    format!("end of {last_day} (UTC)")
                },
            ),
            last_used: when(t.last_used_at),
            name: t.name,
            prefix: t.prefix,
        })
        .collect();
    html_status(
        status,
        &TokensPage {
            ctx: page_ctx(state, s, "/account").await?,
            rows,
            scopes: Scope::ALL
                .iter()
                .map(|sc| ScopeChoice {
                    value: sc.as_str(),
                    label: sc.label(),
                    checked: typed.scopes.iter().any(|t| t == sc.as_str()),
                })
                .collect(),
            name: typed.name,
            expires_on: typed.expires_on,
            shown,
            problems,
        },
    )
}

/// The new-token form: its element ids are the fields' names.
fn new_token() -> Rejected {
    Rejected::new("new", "")
}

/// `GET /account/tokens`
pub async fn list(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
) -> Result<HttpResponse, AppError> {
    page(
        &state,
        &s,
        Typed::default(),
        None,
        new_token(),
        StatusCode::OK,
    )
    .await
}

/// `POST /account/tokens` (scopes as repeated `scope` fields)
pub async fn create(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    OpId(op): OpId,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let mut typed = Typed::default();
    for (k, v) in f {
        match k.as_str() {
            "name" => typed.name = v,
            "scope" => typed.scopes.push(v),
            "expires_on" => typed.expires_on = v,
            other => {
                return Err(AppError::BadRequest(format!(
                    "The form could not be accepted: unknown field {other:?}"
                )));
            }
        }
    }
    let mut errors = Vec::new();
    let mut scopes = Vec::new();
    for v in &typed.scopes {
        match Scope::parse(v) {
            Some(sc) if !scopes.contains(&sc) => scopes.push(sc),
            Some(_) => {}
            None => errors.push(FieldError::new(
                "scopes",
                format!("There is no scope {v:?}."),
            )),
        }
    }
    let expires = parse_date(
        &mut errors,
        "expires_on",
        "The expiry date",
        &typed.expires_on,
    );
    if !errors.is_empty() {
        let problems = new_token().fields(errors);
        return page(&state, &s, typed, None, problems, StatusCode::BAD_REQUEST).await;
    }
    let ctx = user_ctx(&state, &s, op);
    let account = s.account.clone();
    let name = typed.name.clone();
    let made = state
        .db(move |conn| {
            Ok(service::create(
                conn, &ctx, &account, &name, &scopes, expires,
            ))
        })
        .await?;
    match made {
        Ok((_, token)) => {
            page(
                &state,
                &s,
                Typed::default(),
                Some(token.to_string()),
                new_token(),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let (status, problems) = super::refused_form(&state, &s, e, new_token(), None).await?;
            page(&state, &s, typed, None, problems, status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `POST /account/tokens/{id}/revoke`
pub async fn revoke(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let ctx = user_ctx(&state, &s, op);
    let account = s.account.clone();
    let done = state
        .db(move |conn| Ok(service::revoke(conn, &ctx, &account, id)))
        .await?;
    match done {
        Ok(t) => {
            flash(&state, &s, "ok", &format!("Token {} revoked.", t.name)).await?;
            Ok(see_other("/account/tokens"))
        }
        Err(e) => {
            let refused = Rejected::named("revoke");
            let (status, problems) = super::refused_form(&state, &s, e, refused, None).await?;
            page(&state, &s, Typed::default(), None, problems, status).await
        }
    }
}
