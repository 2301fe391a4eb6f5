//! Requirements: everyone signed in reads them; quality and engineers write,
//! change, retire and restore them, link their parents, and import CSV
//! files after a preview.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use super::nonconformances::{all_products, choices, choices_of};
use super::{flash, html, html_status, page_ctx, query_text, see_other, user_ctx, when};
use crate::db::DbConnection;
use crate::db::repo::requirements::{self as repo, Filter};
use crate::db::repo::{products, users};
use crate::domain::product::{Product, SafetyClass};
use crate::domain::requirement::{
    MAX_IMPORT_ROWS, ReqKind, ReqStatus, Requirement, RequirementFields, parse_key_list,
};
use crate::domain::user::{FieldError, Role};
use crate::service::error::RecordError;
use crate::service::requirements::{self as service, RowPlan};
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, RoleSet, WithRole};
use crate::web::list::{ListQuery, PerPage};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::views::audit::Choice;
use crate::web::views::requirements::*;

const PER_PAGE: i64 = 50;

/// Who writes requirements: quality and engineers.
pub struct Editors;
impl RoleSet for Editors {
    const ROLES: &'static [Role] = &[Role::Quality, Role::Engineer];
}

fn can_edit(s: &SessionCtx) -> bool {
    s.account.roles.has_any(Editors::ROLES)
}

fn class_choices(selected: &str) -> Vec<Choice> {
    SafetyClass::ALL
        .iter()
        .map(|c| Choice {
            value: c.as_str().into(),
            label: format!("Class {}", c.as_str()),
            selected: c.as_str() == selected,
        })
        .collect()
}

/// The form's fields as typed.
#[derive(Clone, Debug, Default)]
struct Typed {
    product_id: String,
    key: String,
    title: String,
    text: String,
    kind: String,
    safety_class: String,
    parents: String,
}

impl Typed {
    fn of(r: &Requirement) -> Self {
        Self {
            product_id: r.product_id.to_string(),
            key: r.key.clone(),
            title: r.title.clone(),
            text: r.body.clone(),
            kind: r.kind.as_str().into(),
            safety_class: r.safety_class.as_str().into(),
            parents: String::new(),
        }
    }

    fn form(&self, products: Vec<Choice>, problems: Rejected) -> RequirementForm {
        RequirementForm {
            products,
            key: self.key.clone(),
            title: self.title.clone(),
            text: self.text.clone(),
            kinds: choices(ReqKind::ALL, ReqKind::as_str, ReqKind::label, &self.kind),
            classes: class_choices(&self.safety_class),
            parents: self.parents.clone(),
            problems,
        }
    }

    fn parse(&self, class: SafetyClass) -> Result<RequirementFields, Vec<FieldError>> {
        RequirementFields::parse(
            &self.key,
            &self.title,
            &self.text,
            &self.kind,
            &self.safety_class,
            class,
        )
    }

    /// The fields as typed, by name.
    fn typed(&self, r: Rejected) -> Rejected {
        r.typed_each(&[
            ("product_id", &self.product_id),
            ("key", &self.key),
            ("title", &self.title),
            ("text", &self.text),
            ("kind", &self.kind),
            ("safety_class", &self.safety_class),
            ("parents", &self.parents),
        ])
    }
}

/// The form on `/requirements/new`: its element ids are the fields' names.
fn new_form_problems() -> Rejected {
    Rejected::new("new", "")
}

fn product_label(p: &Product) -> String {
    format!("{} ({})", p.name, p.key_prefix)
}

/// The parameters of the requirement list and `GET /api/v1/requirements`.
pub const PARAMS: &[&str] = &["product", "kind", "class", "status", "q"];

/// The list's filters (the list and the API share them).
pub fn filter_of(q: &ListQuery) -> Result<Filter, AppError> {
    Ok(Filter {
        product_id: q.number("product", "product")?,
        kind: q.choice("kind", "kind", ReqKind::parse)?,
        status: q.choice("status", "status", ReqStatus::parse)?,
        safety_class: q.choice("class", "safety class", SafetyClass::parse)?,
        text: q.text("q"),
    })
}

/// `GET /requirements`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let filter = filter_of(&q)?;
    let (offset, limit) = (q.offset(), q.per_page);
    let f = filter.clone();
    let (rows, total, all) = state
        .db(move |conn| {
            let (rows, total) = repo::list(conn, &f, offset, limit)?;
            Ok((rows, total, all_products(conn)?))
        })
        .await?;
    let names: HashMap<i64, String> = all.iter().map(|p| (p.id, p.name.clone())).collect();
    let pages = q.pages("/requirements", total);
    let (first, last) = q.shown(rows.len());
    let (kind, status, class) = (q.get("kind"), q.get("status"), q.get("class"));
    html(&RequirementListPage {
        ctx: page_ctx(&state, s, "/requirements").await?,
        last,
        first,
        total,
        rows: rows
            .into_iter()
            .map(|r| RequirementRow {
                id: r.id,
                product: names.get(&r.product_id).cloned().unwrap_or_default(),
                key: r.key,
                title: r.title,
                kind: r.kind.label(),
                safety_class: r.safety_class.as_str(),
                text_version: r.text_version,
                retired: r.status == ReqStatus::Retired,
            })
            .collect(),
        products: choices_of(&all, q.get("product")),
        kinds: choices(ReqKind::ALL, ReqKind::as_str, ReqKind::label, kind),
        statuses: choices(ReqStatus::ALL, ReqStatus::as_str, ReqStatus::label, status),
        classes: class_choices(class),
        q: q.get("q").to_string(),
        filtered: q.filtered(),
        many_products: filter.product_id.is_none(),
        can_edit: can_edit(s),
        product_query: filter
            .product_id
            .map(|p| format!("?product={p}"))
            .unwrap_or_default(),
        pages,
    })
}

async fn new_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    typed: Typed,
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let problems = typed.typed(problems);
    let selected = typed.product_id.clone();
    let products = state
        .db(move |conn| Ok(choices_of(&all_products(conn)?, &selected)))
        .await?;
    html_status(
        status,
        &NewRequirementPage {
            ctx: page_ctx(state, s, "/requirements").await?,
            form: typed.form(products, problems),
        },
    )
}

/// `GET /requirements/new`
pub async fn new_form(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let typed = Typed {
        product_id: query_text(&query, "product"),
        ..Typed::default()
    };
    new_page(
        &state,
        e.session(),
        typed,
        new_form_problems(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateData {
    #[serde(default)]
    product_id: String,
    key: String,
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    safety_class: String,
    #[serde(default)]
    parents: String,
}

/// `POST /requirements`
pub async fn create(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    Form(f): Form<CreateData>,
) -> Result<HttpResponse, AppError> {
    let s = e.session();
    let typed = Typed {
        product_id: f.product_id,
        key: f.key,
        title: f.title,
        text: f.text,
        kind: f.kind,
        safety_class: f.safety_class,
        parents: f.parents,
    };
    let product_id: Option<i64> = typed.product_id.trim().parse().ok();
    let product = match product_id {
        Some(id) => state.db(move |conn| Ok(products::find(conn, id)?)).await?,
        None => None,
    };
    let Some(product) = product else {
        let problems = new_form_problems().problem("product_id", "Choose a product from the list.");
        return new_page(&state, s, typed, problems, StatusCode::BAD_REQUEST).await;
    };
    let mut errors = Vec::new();
    let fields = typed
        .parse(product.safety_class)
        .map_err(|e| errors.extend(e));
    let parents = parse_key_list(&typed.parents).map_err(|e| {
        errors.extend(e.into_iter().map(|m| FieldError::new("parents", m)));
    });
    let (Ok(fields), Ok(parents)) = (fields, parents) else {
        let problems = new_form_problems().fields(errors);
        return new_page(&state, s, typed, problems, StatusCode::BAD_REQUEST).await;
    };
    let ctx = user_ctx(&state, s, op);
    let pid = product.id;
    let made = state
        .db(move |conn| Ok(service::create(conn, &ctx, pid, &fields, &parents)))
        .await?;
    match made {
        Ok(r) => {
            flash(&state, s, "ok", &format!("{} created.", r.key)).await?;
            Ok(see_other(&format!("/requirements/{}", r.id)))
        }
        Err(e) => {
            let (status, problems) =
                super::refused_form(&state, s, e, new_form_problems(), None).await?;
            new_page(&state, s, typed, problems, status).await
        }
    }
}

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    (edited, sent): (Option<Typed>, Sent),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let (
        r,
        product,
        (parents, children, commits, tests),
        (texts, risks),
        names,
        (history, files, file_people),
    ) = state
        .db(move |conn: &mut DbConnection| {
            let r = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
            let product = products::find(conn, r.product_id)?.ok_or(AppError::NotFound)?;
            let parents = service::parents_of(conn, &r)?;
            let children = service::children_of(conn, &r)?;
            let texts = repo::texts_of(conn, id)?;
            let risks = crate::db::repo::risks::risks_by_requirement(conn, &[id])?
                .remove(&id)
                .unwrap_or_default();
            let ids: Vec<i64> = texts.iter().filter_map(|t| t.changed_by).collect();
            let names = users::names(conn, &ids)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "requirement",
                &r.entity_id(),
                &roles,
            )?;
            let commits =
                crate::service::git::commits_linked_to(conn, ("requirement", &r.entity_id()))?;
            let tests = service::tests_of(conn, &r)?;
            let files =
                crate::db::repo::attachments::of_record(conn, "requirement", &r.entity_id())?;
            let file_people = users::names(conn, &super::attachments::people_of(&files))?;
            Ok((
                r,
                product,
                (parents, children, commits, tests),
                (texts, risks),
                names,
                (history, files, file_people),
            ))
        })
        .await?;
    let related = |list: Vec<(crate::db::repo::links::Link, Requirement)>| {
        list.into_iter()
            .map(|(l, o)| RelatedView {
                link_id: l.id,
                id: o.id,
                key: o.key,
                title: o.title,
                retired: o.status == ReqStatus::Retired,
            })
            .collect()
    };
    let problems = match sent.rejected() {
        Some(r) if r.form == "edit" => r.clone(),
        _ => Rejected::named("edit"),
    };
    let typed = edited.unwrap_or_else(|| Typed::of(&r));
    let active = r.status == ReqStatus::Active;
    let mut forms: Vec<String> = Vec::new();
    if can_edit(s) {
        forms.push("status".into());
        if active {
            forms.extend(["edit", "parent", "test-link", "commit-link"].map(String::from));
        }
    }
    let attachments = super::attachments::simple_panel(
        state,
        s,
        ("requirement", &r.entity_id()),
        &files,
        (active, can_edit(s)),
        &file_people,
    );
    forms.extend(attachments.forms());
    let mut sent = sent;
    sent.place(&forms);
    let page = RequirementPage {
        ctx: page_ctx(state, s, "/requirements").await?,
        id: r.id,
        version: r.version,
        key: r.key.clone(),
        title: r.title.clone(),
        text: r.body.clone(),
        product_id: product.id,
        product: product_label(&product),
        kind: r.kind.label(),
        safety_class: r.safety_class.label(),
        text_version: r.text_version,
        retired: r.status == ReqStatus::Retired,
        created: when(Some(r.created_at)),
        updated: when(Some(r.updated_at)),
        risks: risks
            .into_iter()
            .map(|k| {
                let n = k.trim_start_matches("RISK-").to_string();
                (k, format!("/risks/{n}"))
            })
            .collect(),
        parents: related(parents),
        children: related(children),
        versions: texts
            .into_iter()
            .map(|t| TextVersionView {
                current: t.text_version == r.text_version,
                text_version: t.text_version,
                title: t.title,
                text: t.body,
                by: t
                    .changed_by
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_else(|| "system".into()),
                at: when(Some(t.changed_at)),
            })
            .collect(),
        commits: commits
            .iter()
            .map(crate::web::views::CommitView::new)
            .collect(),
        commits_of: r.key.clone(),
        commits_hint: format!("Implements: {}", r.key),
        commits_unlink: (can_edit(s) && r.status == ReqStatus::Active)
            .then(|| format!("/requirements/{}/links", r.id)),
        tests: tests
            .into_iter()
            .map(|(l, c, o)| LinkedTestView {
                link_id: l.id,
                key: c.key,
                outcome: o.map_or("not run", |o| o.as_str()),
            })
            .collect(),
        can_edit: can_edit(s),
        form: typed.form(Vec::new(), problems),
        sent,
        attachments,
        history,
    };
    html_status(status, &page)
}

/// The requirement page again with a refused form (an attachment's).
pub async fn refused_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    rejected: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    show_page(state, s, id, (None, Sent::of(rejected)), status).await
}

/// `GET /requirements/{id}`
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
pub struct UpdateData {
    version: i64,
    title: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    safety_class: String,
}

/// `POST /requirements/{id}`
pub async fn update(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<UpdateData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (e.session(), path.into_inner());
    let stored = state
        .db(move |conn| repo::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    let class = SafetyClass::parse(&f.safety_class).unwrap_or(stored.safety_class);
    let typed = Typed {
        key: stored.key.clone(),
        title: f.title,
        text: f.text,
        kind: f.kind,
        safety_class: f.safety_class,
        ..Typed::of(&stored)
    };
    let rejected = typed.typed(Rejected::named("edit"));
    let fields = match typed.parse(class) {
        Ok(fields) => fields,
        Err(errors) => {
            let sent = Sent::of(rejected.fields(errors));
            return show_page(&state, s, id, (Some(typed), sent), StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let version = f.version;
    let saved = state
        .db(move |conn| Ok(service::update(conn, &ctx, id, version, &fields)))
        .await?;
    match saved {
        Ok(r) => {
            let text = if r.text_version != stored.text_version {
                format!("{} saved as version {}.", r.key, r.text_version)
            } else {
                format!("{} saved.", r.key)
            };
            flash(&state, s, "ok", &text).await?;
            Ok(see_other(&format!("/requirements/{id}")))
        }
        Err(e) => {
            let record = Some(("requirement", id, version));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            show_page(&state, s, id, (Some(typed), Sent::of(rejected)), status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentData {
    parent_key: String,
}

/// `POST /requirements/{id}/parents`
pub async fn add_parent(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ParentData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (e.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let key = f.parent_key.clone();
    let done = state
        .db(move |conn| Ok(service::add_parent(conn, &ctx, id, &key)))
        .await?;
    match done {
        Ok(r) => {
            let text = format!(
                "{} now derives from {}.",
                r.key,
                f.parent_key.trim().to_ascii_uppercase()
            );
            flash(&state, s, "ok", &text).await?;
            Ok(see_other(&format!("/requirements/{id}")))
        }
        Err(e) => {
            let rejected = Rejected::named("parent").typed("parent_key", &f.parent_key);
            let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
            show_page(&state, s, id, (None, Sent::of(rejected)), status).await
        }
    }
}

/// `POST /requirements/{id}/parents/{link}/remove`
pub async fn remove_parent(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, AppError> {
    let (s, (id, link)) = (e.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| Ok(service::remove_parent(conn, &ctx, id, link)))
        .await?;
    match done {
        Ok(_) => {
            flash(&state, s, "ok", "Parent removed.").await?;
            Ok(see_other(&format!("/requirements/{id}")))
        }
        Err(e) => {
            let rejected = Rejected::named("remove-parent");
            let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
            show_page(&state, s, id, (None, Sent::of(rejected)), status).await
        }
    }
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonData {
    version: i64,
    reason: String,
}

async fn set_status(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    op: Option<String>,
    id: i64,
    f: ReasonData,
    status: ReqStatus,
) -> Result<HttpResponse, AppError> {
    let s = e.session();
    let rejected = Rejected::named("status").typed("reason", &f.reason);
    if f.reason.chars().count() > 500 {
        let sent =
            Sent::of(rejected.problem("reason", "The reason can have at most 500 characters."));
        return show_page(&state, s, id, (None, sent), StatusCode::BAD_REQUEST).await;
    }
    let version = f.version;
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| {
            Ok(service::set_status(
                conn, &ctx, id, f.version, status, &f.reason,
            ))
        })
        .await?;
    match done {
        Ok(r) => {
            let verb = match status {
                ReqStatus::Retired => "retired",
                ReqStatus::Active => "restored",
            };
            flash(&state, s, "ok", &format!("{} {verb}.", r.key)).await?;
            Ok(see_other(&format!("/requirements/{id}")))
        }
        Err(e) => {
            let record = Some(("requirement", id, version));
            let (code, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            show_page(&state, s, id, (None, Sent::of(rejected)), code).await
        }
    }
}

/// `POST /requirements/{id}/retire`
pub async fn retire(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonData>,
) -> Result<HttpResponse, AppError> {
    set_status(state, e, op, path.into_inner(), f, ReqStatus::Retired).await
}

/// `POST /requirements/{id}/restore`
pub async fn restore(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonData>,
) -> Result<HttpResponse, AppError> {
    set_status(state, e, op, path.into_inner(), f, ReqStatus::Active).await
}

/// The import form: its element ids are the fields' names.
fn import_problems() -> Rejected {
    Rejected::new("import", "")
}

async fn import_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    product: String,
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let products = state
        .db(move |conn| Ok(choices_of(&all_products(conn)?, &product)))
        .await?;
    html_status(
        status,
        &ImportFormPage {
            ctx: page_ctx(state, s, "/requirements").await?,
            products,
            problems,
            max_kib: state.settings.max_upload_bytes / 1024,
            max_rows: MAX_IMPORT_ROWS,
        },
    )
}

/// `GET /requirements/import`
pub async fn import_form(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let product = query_text(&query, "product");
    import_page(
        &state,
        e.session(),
        product,
        import_problems(),
        StatusCode::OK,
    )
    .await
}

/// An uploaded form: its small fields and its one file.
#[derive(Default)]
struct Upload {
    fields: HashMap<String, String>,
    file_name: String,
    file: Option<Vec<u8>>,
}

/// Reads a multipart form: small text fields, and one file of at most `limit` bytes.
async fn read_upload(mut body: Multipart, limit: usize) -> Result<Upload, AppError> {
    let mut out = Upload::default();
    while let Some(field) = body.next().await {
        let mut field = field
            .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let cap = if file_name.is_some() { limit } else { 4096 };
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk
                .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
            if data.len() + chunk.len() > cap {
                return Err(AppError::PayloadTooLarge(format!(
                    "The file is larger than the {} KiB allowed",
                    limit / 1024
                )));
            }
            data.extend_from_slice(&chunk);
        }
        match (name.as_str(), file_name) {
            ("file", Some(f)) => {
                out.file_name = f;
                out.file = Some(data);
            }
            ("file", None) => {}
            ("product_id" | "csrf_token", None) => {
                out.fields
                    .insert(name, String::from_utf8_lossy(&data).into_owned());
            }
            _ => {
                return Err(AppError::BadRequest(format!(
                    "The upload has an unexpected field {name:?}"
                )));
            }
        }
    }
    Ok(out)
}

/// The name a file is shown and recorded under: its last path part, without
/// control characters, at most 200 characters.
fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !crate::domain::text::is_bidi_control(*c))
        .take(200)
        .collect();
    if clean.trim().is_empty() {
        "upload.csv".into()
    } else {
        clean
    }
}

/// `POST /requirements/import` (multipart: product_id, file)
pub async fn upload(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    body: Multipart,
) -> Result<HttpResponse, AppError> {
    let s = e.session();
    let up = read_upload(body, state.settings.max_upload_bytes).await?;
    let product = up.fields.get("product_id").cloned().unwrap_or_default();
    // A browser cannot fill a file field in again: the product stays chosen.
    let refuse = |field: &str, msg: &str| import_problems().problem(field, msg);
    let Ok(pid) = product.trim().parse::<i64>() else {
        let problems = refuse("product_id", "Choose a product from the list.");
        return import_page(&state, s, product, problems, StatusCode::BAD_REQUEST).await;
    };
    if let Some(problem) = crate::domain::text::upload_name_problem(&up.file_name) {
        let problems = refuse("file", problem);
        return import_page(&state, s, product, problems, StatusCode::BAD_REQUEST).await;
    }
    let content = match up.file {
        None => {
            let problems = refuse("file", "Choose the CSV file to import.");
            return import_page(&state, s, product, problems, StatusCode::BAD_REQUEST).await;
        }
        Some(bytes) if bytes.is_empty() => {
            let problems = refuse("file", "The file is empty.");
            return import_page(&state, s, product, problems, StatusCode::BAD_REQUEST).await;
        }
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let problems = refuse(
                    "file",
                    &format!(
                        "The file is not UTF-8 text (byte {} is not): save it as CSV UTF-8 and upload it again.",
                        e.utf8_error().valid_up_to() + 1
                    ),
                );
                return import_page(&state, s, product, problems, StatusCode::BAD_REQUEST).await;
            }
        },
    };
    let file_name = clean_file_name(&up.file_name);
    let ctx = user_ctx(&state, s, op);
    let stored = state
        .db(move |conn| Ok(service::upload(conn, &ctx, pid, &file_name, &content)))
        .await?;
    match stored {
        Ok(id) => Ok(see_other(&format!("/requirements/imports/{id}"))),
        Err(e) => {
            let (status, problems) =
                super::refused_form(&state, s, e, import_problems(), None).await?;
            import_page(&state, s, product, problems, status).await
        }
    }
}

async fn import_show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (import, product, plan, by, existing) = state
        .db(move |conn: &mut DbConnection| {
            let import = repo::find_import(conn, id)?.ok_or(AppError::NotFound)?;
            let product = products::find(conn, import.product_id)?.ok_or(AppError::NotFound)?;
            let plan = service::plan(conn, &import)?;
            let by = users::names(conn, &[import.uploaded_by])?
                .remove(&import.uploaded_by)
                .unwrap_or_default();
            let keys: Vec<String> = plan.rows.iter().map(|r| r.key.clone()).collect();
            let existing: HashMap<String, i64> = repo::by_keys(conn, product.id, &keys)?
                .into_iter()
                .map(|r| (r.key, r.id))
                .collect();
            Ok((import, product, plan, by, existing))
        })
        .await?;
    let rows = plan
        .rows
        .iter()
        .map(|r| {
            let (class, outcome, errors) = match &r.plan {
                RowPlan::New => ("new", "New requirement".to_string(), Vec::new()),
                RowPlan::Changed { what, text } => (
                    "changed",
                    format!(
                        "Changes its {}{}",
                        what.join(", "),
                        if *text { " (a new version)" } else { "" }
                    ),
                    Vec::new(),
                ),
                RowPlan::Unchanged => ("unchanged", "No change".to_string(), Vec::new()),
                RowPlan::Invalid(errs) => ("invalid", "Error".to_string(), errs.clone()),
            };
            PlannedView {
                line: r.line,
                key: r.key.clone(),
                title: r.title.clone(),
                class,
                outcome,
                errors,
                href: existing.get(&r.key).map(|id| format!("/requirements/{id}")),
            }
        })
        .collect();
    let page = ImportPage {
        ctx: page_ctx(state, s, "/requirements").await?,
        id: import.id,
        version: import.version,
        product: product_label(&product),
        product_id: product.id,
        file_name: import.file_name.clone(),
        sha256: import.sha256.clone(),
        uploaded: when(Some(import.uploaded_at)),
        uploaded_by: by,
        applied: import.applied_at.map(|t| when(Some(t))),
        file_error: plan.file_error.clone(),
        rows,
        new_rows: plan.new_rows(),
        changed_rows: plan.changed_rows(),
        unchanged_rows: plan.unchanged_rows(),
        invalid_rows: plan.invalid_rows(),
        can_apply: plan.can_apply() && product.active,
        can_edit: can_edit(s),
        problems,
    };
    html_status(status, &page)
}

/// `GET /requirements/imports/{id}`: the preview (or the record of an applied import).
pub async fn import_show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    import_show_page(
        &state,
        &user.0,
        path.into_inner(),
        Rejected::named("apply"),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyData {
    version: i64,
}

/// `POST /requirements/imports/{id}/apply`
pub async fn apply(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ApplyData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (e.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| Ok(service::apply(conn, &ctx, id, f.version)))
        .await?;
    match done {
        Ok(a) => {
            let text = format!(
                "Imported: {} created, {} changed, {} unchanged.",
                a.created, a.changed, a.unchanged
            );
            flash(&state, s, "ok", &text).await?;
            Ok(see_other(&format!("/requirements/imports/{id}")))
        }
        Err(e) => {
            let rejected = Rejected::named("apply");
            let (status, problems) = super::refused_form(&state, s, e, rejected, None).await?;
            import_show_page(&state, s, id, problems, status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestLinkData {
    test_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitLinkData {
    sha: String,
}

/// Answers a by-hand link or unlink: back to the page, or the page with why not.
async fn link_answer(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    (done, rejected): (Result<Requirement, RecordError>, Rejected),
    text: &str,
) -> Result<HttpResponse, AppError> {
    match done {
        Ok(_) => {
            flash(state, s, "ok", text).await?;
            Ok(see_other(&format!("/requirements/{id}")))
        }
        Err(e) => {
            let (status, rejected) = super::refused_form(state, s, e, rejected, None).await?;
            show_page(state, s, id, (None, Sent::of(rejected)), status).await
        }
    }
}

/// `POST /requirements/{id}/tests`: link a test case by hand.
pub async fn link_test(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<TestLinkData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (e.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let rejected = Rejected::named("test-link").typed("test_key", &f.test_key);
    let done = state
        .db(move |conn| Ok(service::link_test(conn, &ctx, id, &f.test_key)))
        .await?;
    link_answer(&state, s, id, (done, rejected), "Test linked.").await
}

/// `POST /requirements/{id}/commits`: link a commit by hand.
pub async fn link_commit(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<CommitLinkData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (e.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let rejected = Rejected::named("commit-link").typed("sha", &f.sha);
    let done = state
        .db(move |conn| Ok(service::link_commit(conn, &ctx, id, &f.sha)))
        .await?;
    link_answer(&state, s, id, (done, rejected), "Commit linked.").await
}

/// `POST /requirements/{id}/links/{link}/remove`: unlink a test or a commit.
pub async fn unlink(
    state: web::Data<AppState>,
    e: WithRole<Editors>,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Form(_): Form<Empty>,
) -> Result<HttpResponse, AppError> {
    let (s, (id, link)) = (e.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let done = state
        .db(move |conn| Ok(service::unlink(conn, &ctx, id, link)))
        .await?;
    let rejected = Rejected::named("unlink");
    link_answer(&state, s, id, (done, rejected), "Link removed.").await
}
