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
use crate::web::csrf::{Form, Typed};
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, ProductManager};
use crate::web::rejected::{Rejected, Sent};
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
    problems: Rejected,
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
        problems,
    }
}

/// The form on `/products/new`: its element ids are the fields' names.
fn new_form_problems() -> Rejected {
    Rejected::new("new", "")
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
        form: form("", "", "", "", new_form_problems()),
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
    fn parse(&self) -> Result<ProductFields, Vec<crate::domain::user::FieldError>> {
        ProductFields::parse(
            &self.name,
            &self.key_prefix,
            &self.safety_class,
            &self.description,
        )
    }

    /// The form as typed, with why it was refused.
    fn again(&self, problems: Rejected) -> ProductForm {
        form(
            &self.name,
            &self.key_prefix,
            &self.safety_class,
            &self.description,
            problems.typed_each(&[
                ("name", &self.name),
                ("key_prefix", &self.key_prefix),
                ("safety_class", &self.safety_class),
                ("description", &self.description),
            ]),
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
        problems: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        let page = NewProductPage {
            ctx: page_ctx(state, s, "/products").await?,
            form: f.again(problems),
        };
        html_status(status, &page)
    }
    let fields = match f.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            let problems = new_form_problems().fields(errors);
            return again(&state, s, &f, problems, StatusCode::BAD_REQUEST).await;
        }
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
        Err(e) => {
            let (status, problems) =
                super::refused_form(&state, s, e, new_form_problems(), None).await?;
            again(&state, s, &f, problems, status).await
        }
    }
}

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    (edited, sent): (Option<ProductForm>, Sent),
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
            Rejected::named("edit"),
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
        sent,
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
    show_page(
        &state,
        &user.0,
        path.into_inner(),
        (None, Sent::none()),
        StatusCode::OK,
    )
    .await
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
            let edited = f.again(Rejected::named("edit").fields(errors));
            let shown = (Some(edited), Sent::none());
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
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
        Err(e) => {
            let form = f.again(Rejected::named("edit"));
            let record = Some(("product", id, version));
            let (status, problems) =
                super::refused_form(&state, s, e, form.problems, record).await?;
            let edited = ProductForm { problems, ..form };
            show_page(&state, s, id, (Some(edited), Sent::none()), status).await
        }
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
    Typed(f, typed): Typed<ReasonForm>,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let s = m.session();
    let rejected = Rejected::named("status").typed_all(&typed);
    if f.reason.chars().count() > 500 {
        let sent =
            Sent::of(rejected.problem("reason", "The reason can have at most 500 characters."));
        return show_page(&state, s, id, (None, sent), StatusCode::BAD_REQUEST).await;
    }
    let ctx = user_ctx(&state, s, op);
    let version = f.version;
    let done = state
        .db(move |conn| {
            Ok(products::set_active(
                conn, &ctx, id, f.version, active, &f.reason,
            ))
        })
        .await?;
    if let Err(e) = done {
        let record = Some(("product", id, version));
        let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
        return show_page(&state, s, id, (None, Sent::of(rejected)), status).await;
    }
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
    f: Typed<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    set_active(state, m, op, path.into_inner(), f, false).await
}

/// `POST /products/{id}/restore`
pub async fn restore(
    state: web::Data<AppState>,
    m: ProductManager,
    OpId(op): OpId,
    path: web::Path<i64>,
    f: Typed<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    set_active(state, m, op, path.into_inner(), f, true).await
}
