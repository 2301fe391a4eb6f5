//! Repositories (administrators): register one (its webhook secret shown
//! once), rotate the secret, deactivate and activate, see the deliveries.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::nonconformances::{all_products, choices, choices_of};
use super::{flash, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::repo::{git as repo, products};
use crate::domain::trace::{Provider, Repository, parse_repository_name};
use crate::ingest::secret;
use crate::service::git as service;
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::AppError;
use crate::web::extract::{Admins, OpId, WithRole};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::views::repositories::*;

type Admin = WithRole<Admins>;

async fn list_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    typed: (String, String, String),
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (provider, name, product) = typed;
    let (repos, all) = state
        .db(|conn| Ok((repo::all(conn)?, all_products(conn)?)))
        .await?;
    let names: std::collections::HashMap<i64, String> =
        all.iter().map(|p| (p.id, p.name.clone())).collect();
    html_status(
        status,
        &RepositoryListPage {
            ctx: page_ctx(state, s, "/admin/repositories").await?,
            rows: repos
                .into_iter()
                .map(|r| RepositoryRow {
                    id: r.id,
                    provider: r.provider.label(),
                    product: names.get(&r.product_id).cloned().unwrap_or_default(),
                    name: r.name,
                    active: r.active,
                })
                .collect(),
            providers: choices(Provider::ALL, Provider::as_str, Provider::label, &provider),
            products: choices_of(&all, &product),
            name,
            problems,
        },
    )
}

/// The registration form: its element ids are the fields' names.
fn new_repository() -> Rejected {
    Rejected::new("new", "")
}

/// `GET /admin/repositories`
pub async fn list(state: web::Data<AppState>, a: Admin) -> Result<HttpResponse, AppError> {
    let typed = ("github".to_string(), String::new(), String::new());
    list_page(&state, a.session(), typed, new_repository(), StatusCode::OK).await
}

/// The address GitHub or GitLab posts to for this repository.
fn webhook_url(state: &AppState, r: &Repository) -> String {
    let base = state
        .settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.settings.bind));
    format!(
        "{}/hooks/{}?repository={}",
        base.trim_end_matches('/'),
        r.provider.as_str(),
        r.id
    )
}

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    secret: Option<Zeroizing<String>>,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let (r, product, deliveries, history) = state
        .db(move |conn| {
            let r = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
            let product = products::find(conn, r.product_id)?.ok_or(AppError::NotFound)?;
            let deliveries = repo::recent_deliveries(conn, id, 20)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "repository",
                &r.entity_id(),
                &roles,
            )?;
            Ok((r, product, deliveries, history))
        })
        .await?;
    let page = RepositoryPage {
        ctx: page_ctx(state, s, "/admin/repositories").await?,
        id: r.id,
        version: r.version,
        provider: r.provider.label(),
        github: r.provider == Provider::Github,
        webhook_url: webhook_url(state, &r),
        name: r.name,
        product: product.name,
        product_id: product.id,
        active: r.active,
        created: when(Some(r.created_at)),
        secret: secret.map(|s| s.to_string()),
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryView {
                at: when(Some(d.received_at)),
                event: d.event,
                delivery: d.delivery_id,
                commits: d.commits,
                outcome: d.outcome,
            })
            .collect(),
        sent,
        history,
    };
    html_status(status, &page)
}

/// `GET /admin/repositories/{id}`
pub async fn show(
    state: web::Data<AppState>,
    a: Admin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &state,
        a.session(),
        path.into_inner(),
        None,
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateData {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    product_id: String,
}

/// `POST /admin/repositories`: the new repository's page shows its secret once.
pub async fn create(
    state: web::Data<AppState>,
    a: Admin,
    OpId(op): OpId,
    Form(f): Form<CreateData>,
) -> Result<HttpResponse, AppError> {
    let s = a.session();
    let typed = (f.provider.clone(), f.name.clone(), f.product_id.clone());
    let mut problems = new_repository();
    let provider = Provider::parse(f.provider.trim());
    if provider.is_none() {
        problems = problems.problem("provider", "Choose GitHub or GitLab.");
    }
    let name = match parse_repository_name(&f.name) {
        Ok(n) => Some(n),
        Err(e) => {
            problems = problems.problem("name", e);
            None
        }
    };
    let product = f.product_id.trim().parse::<i64>().ok();
    if product.is_none() {
        problems = problems.problem("product_id", "Choose a product from the list.");
    }
    let (Some(provider), Some(name), Some(product)) = (provider, name, product) else {
        return list_page(&state, s, typed, problems, StatusCode::BAD_REQUEST).await;
    };
    let ctx = user_ctx(&state, s, op);
    let key = state.log_key.derived_key(secret::PURPOSE);
    let made = state
        .db(move |conn| Ok(service::create(conn, &ctx, &key, provider, &name, product)))
        .await?;
    match made {
        Ok((r, secret)) => {
            show_page(&state, s, r.id, Some(secret), Sent::none(), StatusCode::OK).await
        }
        Err(e) => {
            let (status, problems) =
                super::refused_form(&state, s, e, new_repository(), None).await?;
            list_page(&state, s, typed, problems, status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionData {
    version: i64,
}

/// `POST /admin/repositories/{id}/rotate`: the page shows the new secret once.
pub async fn rotate(
    state: web::Data<AppState>,
    a: Admin,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<VersionData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (a.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let key = state.log_key.derived_key(secret::PURPOSE);
    let version = f.version;
    let done = state
        .db(move |conn| Ok(service::rotate_secret(conn, &ctx, &key, id, f.version)))
        .await?;
    match done {
        Ok((_, secret)) => {
            show_page(&state, s, id, Some(secret), Sent::none(), StatusCode::OK).await
        }
        Err(e) => {
            let record = Some(("repository", id, version));
            let rejected = Rejected::named("rotate");
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            show_page(&state, s, id, None, Sent::of(rejected), status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonData {
    version: i64,
    reason: String,
}

async fn set_active(
    state: web::Data<AppState>,
    a: Admin,
    op: Option<String>,
    id: i64,
    f: ReasonData,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let s = a.session();
    let rejected = Rejected::named("status").typed("reason", &f.reason);
    if f.reason.chars().count() > 500 {
        let sent =
            Sent::of(rejected.problem("reason", "The reason can have at most 500 characters."));
        return show_page(&state, s, id, None, sent, StatusCode::BAD_REQUEST).await;
    }
    let version = f.version;
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| {
            Ok(service::set_active(
                conn, &ctx, id, f.version, active, &f.reason,
            ))
        })
        .await?;
    match done {
        Ok(r) => {
            let verb = if active { "activated" } else { "deactivated" };
            flash(&state, s, "ok", &format!("{} {verb}.", r.name)).await?;
            Ok(see_other(&format!("/admin/repositories/{id}")))
        }
        Err(e) => {
            let record = Some(("repository", id, version));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            show_page(&state, s, id, None, Sent::of(rejected), status).await
        }
    }
}

/// `POST /admin/repositories/{id}/deactivate`
pub async fn deactivate(
    state: web::Data<AppState>,
    a: Admin,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonData>,
) -> Result<HttpResponse, AppError> {
    set_active(state, a, op, path.into_inner(), f, false).await
}

/// `POST /admin/repositories/{id}/activate`
pub async fn activate(
    state: web::Data<AppState>,
    a: Admin,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonData>,
) -> Result<HttpResponse, AppError> {
    set_active(state, a, op, path.into_inner(), f, true).await
}
