//! Products: anyone signed in reads them; quality and administrators create,
//! change, archive and restore them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{flash, html, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::repo::products as repo;
use crate::domain::product::{Product, ProductFields, SafetyClass};
use crate::domain::user::Role;
use crate::service::products;
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::{AppError, refusal_status};
use crate::web::extract::{CurrentUser, OpId, ProductManager};
use crate::web::session::SessionCtx;
use crate::web::views::admin::PageLink;
use crate::web::views::products::*;

const PER_PAGE: i64 = 50;

fn can_manage(s: &SessionCtx) -> bool {
    s.account.roles.has_any(&[Role::Quality, Role::Admin])
}

fn form(
    name: &str,
    prefix: &str,
    class: &str,
    description: &str,
    errors: Vec<String>,
) -> ProductForm {
    ProductForm {
        name: name.to_string(),
        key_prefix: prefix.to_string(),
        classes: SafetyClass::ALL
            .iter()
            .map(|c| ClassChoice {
                value: c.as_str(),
                label: c.label(),
                checked: c.as_str() == class,
            })
            .collect(),
        description: description.to_string(),
        errors,
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    archived: Option<String>,
    #[serde(default)]
    page: Option<i64>,
}

/// `GET /products`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let archived = query.archived.as_deref() == Some("1");
    let page = query.page.unwrap_or(1).max(1);
    let (rows, total) = state
        .db(move |conn| Ok(repo::list(conn, archived, (page - 1) * PER_PAGE, PER_PAGE)?))
        .await?;
    let pages = PageLink::window(page, total, PER_PAGE, |n| {
        format!(
            "/products?page={n}{}",
            if archived { "&archived=1" } else { "" }
        )
    });
    html(&ProductListPage {
        ctx: page_ctx(&state, s, "/products").await?,
        rows: rows
            .into_iter()
            .map(|p| ProductRow {
                id: p.id,
                name: p.name,
                key_prefix: p.key_prefix,
                safety_class: p.safety_class.as_str(),
                active: p.active,
            })
            .collect(),
        total,
        archived,
        can_manage: can_manage(s),
        pages,
    })
}

/// `GET /products/new`
pub async fn new_form(
    state: web::Data<AppState>,
    m: ProductManager,
) -> Result<HttpResponse, AppError> {
    html(&NewProductPage {
        ctx: page_ctx(&state, m.session(), "/products").await?,
        form: form("", "", "", "", Vec::new()),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductFormData {
    name: String,
    key_prefix: String,
    #[serde(default)]
    safety_class: String,
    #[serde(default)]
    description: String,
}

impl ProductFormData {
    fn parse(&self) -> Result<ProductFields, Vec<String>> {
        ProductFields::parse(
            &self.name,
            &self.key_prefix,
            &self.safety_class,
            &self.description,
        )
        .map_err(|errs| errs.into_iter().map(|e| e.message).collect())
    }

    fn again(&self, errors: Vec<String>) -> ProductForm {
        form(
            &self.name,
            &self.key_prefix,
            &self.safety_class,
            &self.description,
            errors,
        )
    }
}

/// `POST /products`
pub async fn create(
    state: web::Data<AppState>,
    m: ProductManager,
    OpId(op): OpId,
    Form(f): Form<ProductFormData>,
) -> Result<HttpResponse, AppError> {
    let s = m.session();
    async fn again(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        f: &ProductFormData,
        errors: Vec<String>,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        let page = NewProductPage {
            ctx: page_ctx(state, s, "/products").await?,
            form: f.again(errors),
        };
        html_status(status, &page)
    }
    let fields = match f.parse() {
        Ok(fields) => fields,
        Err(errors) => return again(&state, s, &f, errors, StatusCode::BAD_REQUEST).await,
    };
    let ctx = user_ctx(&state, s, op);
    let created = state
        .db(move |conn| Ok(products::create(conn, &ctx, &fields)))
        .await?;
    match created {
        Ok(p) => {
            flash(&state, s, "ok", &format!("Product {} created.", p.name)).await?;
            Ok(see_other(&format!("/products/{}", p.id)))
        }
        Err(e) => match refusal_status(&e) {
            Some(status) => {
                let errors = vec![crate::web::error::capitalise(&e.to_string())];
                again(&state, s, &f, errors, status).await
            }
            None => Err(e.into()),
        },
    }
}

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    edited: Option<ProductForm>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let (p, history) = state
        .db(move |conn| {
            let p: Product = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "product",
                &format!("p-{id}"),
                &roles,
            )?;
            Ok((p, history))
        })
        .await?;
    let form = edited.unwrap_or_else(|| {
        form(
            &p.name,
            &p.key_prefix,
            p.safety_class.as_str(),
            &p.description,
            Vec::new(),
        )
    });
    let page = ProductPage {
        ctx: page_ctx(state, s, "/products").await?,
        id: p.id,
        version: p.version,
        name: p.name,
        key_prefix: p.key_prefix,
        safety_class: p.safety_class.label().to_string(),
        description: p.description,
        active: p.active,
        created: when(Some(p.created_at)),
        updated: when(Some(p.updated_at)),
        can_manage: can_manage(s),
        form,
        history,
    };
    html_status(status, &page)
}

/// `GET /products/{id}`
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(&state, &user.0, path.into_inner(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateForm {
    version: i64,
    name: String,
    key_prefix: String,
    #[serde(default)]
    safety_class: String,
    #[serde(default)]
    description: String,
}

/// `POST /products/{id}`
pub async fn update(
    state: web::Data<AppState>,
    m: ProductManager,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<UpdateForm>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (m.session(), path.into_inner());
    let (version, f) = (
        f.version,
        ProductFormData {
            name: f.name,
            key_prefix: f.key_prefix,
            safety_class: f.safety_class,
            description: f.description,
        },
    );
    let fields = match f.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            return show_page(
                &state,
                s,
                id,
                Some(f.again(errors)),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let saved = state
        .db(move |conn| Ok(products::update(conn, &ctx, id, version, &fields)))
        .await?;
    match saved {
        Ok(_) => {
            flash(&state, s, "ok", "Product saved.").await?;
            Ok(see_other(&format!("/products/{id}")))
        }
        Err(e) => match refusal_status(&e) {
            Some(status) => {
                let errors = vec![crate::web::error::capitalise(&e.to_string())];
                show_page(&state, s, id, Some(f.again(errors)), status).await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonForm {
    version: i64,
    reason: String,
}

async fn set_active(
    state: web::Data<AppState>,
    m: ProductManager,
    op: Option<String>,
    id: i64,
    f: ReasonForm,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let s = m.session();
    if f.reason.chars().count() > 500 {
        return Err(AppError::BadRequest(
            "The reason can have at most 500 characters".into(),
        ));
    }
    let ctx = user_ctx(&state, s, op);
    state
        .db(move |conn| {
            Ok(products::set_active(
                conn, &ctx, id, f.version, active, &f.reason,
            )?)
        })
        .await?;
    let text = if active {
        "Product restored."
    } else {
        "Product archived."
    };
    flash(&state, s, "ok", text).await?;
    Ok(see_other(&format!("/products/{id}")))
}

/// `POST /products/{id}/archive`
pub async fn archive(
    state: web::Data<AppState>,
    m: ProductManager,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    set_active(state, m, op, path.into_inner(), f, false).await
}

/// `POST /products/{id}/restore`
pub async fn restore(
    state: web::Data<AppState>,
    m: ProductManager,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    set_active(state, m, op, path.into_inner(), f, true).await
}
