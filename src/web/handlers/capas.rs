//! CAPAs: quality opens them (or escalates a nonconformance); quality and
//! the owner take them through investigation, actions and verification;
//! closing and cancelling are signed. Everyone signed in reads them.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::nonconformances::{QualityOnly, all_products, choices, choices_of, product_name};
use super::{flash, html, html_status, page_ctx, query_text, see_other, user_ctx};
use crate::db::DbConnection;
use crate::db::repo::capas::{self as repo, Filter, Sort};
use crate::db::repo::users;
use crate::domain::capa::{
    Capa, CapaFields, CapaInput, CapaSource, CapaState, CapaWorkflow, Category, DetailsForm,
    Effectiveness, Investigation, InvestigationForm, Item, ItemKind, Kind, Priority, RcaMethod,
    parse_date,
};
use crate::domain::user::Role;
use crate::domain::workflow::{Who, Workflow, diagram_svg, may_start};
use crate::service::capas as service;
use crate::service::workflow::{Stored, TransitionError};
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::{AppError, capitalise, urlencode};
use crate::web::extract::{CurrentUser, OpId, WithRole};
use crate::web::session::SessionCtx;
use crate::web::step::{WebWorkflow, choice, text};
use crate::web::views::admin::PageLink;
use crate::web::views::audit::{Choice, record_href};
use crate::web::views::capas::*;
use crate::web::views::nonconformances::ActionView;
use crate::web::views::signatures::SignedField;

const PER_PAGE: i64 = 50;

/// How a flash message says where a CAPA now stands ("CAPA-4 is now in investigation.").
fn state_phrase(s: CapaState) -> &'static str {
    match s {
        CapaState::Open => "open",
        CapaState::Investigation => "in investigation",
        CapaState::Action => "in action",
        CapaState::Verification => "in verification",
        CapaState::Closed => "closed",
        CapaState::Cancelled => "cancelled",
    }
}

fn today(state: &AppState) -> chrono::NaiveDate {
    state.clock.today()
}

fn date_text(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Owners offered on forms: active quality and engineering users.
fn owner_choices(conn: &mut DbConnection, selected: &str) -> Result<Vec<Choice>, AppError> {
    Ok(users::assignable(conn, 500)?
        .into_iter()
        .map(|a| Choice {
            selected: a.id.0.to_string() == selected,
            value: a.id.0.to_string(),
            label: format!("{} ({})", a.full_name, a.username),
        })
        .collect())
}

fn details_view(
    conn: &mut DbConnection,
    f: &DetailsForm,
    errors: Vec<String>,
) -> Result<DetailsView, AppError> {
    let products = choices_of(&all_products(conn)?, &f.product_id);
    Ok(DetailsView {
        title: f.title.clone(),
        kinds: choices(Kind::ALL, Kind::as_str, Kind::label, &f.kind),
        sources: choices(
            CapaSource::ALL,
            CapaSource::as_str,
            CapaSource::label,
            &f.source,
        ),
        source_ref: f.source_ref.clone(),
        products,
        problem: f.problem.clone(),
        priorities: choices(
            Priority::ALL,
            Priority::as_str,
            Priority::label,
            &f.priority,
        ),
        owners: owner_choices(conn, &f.owner_id)?,
        due_on: f.due_on.clone(),
        containment: f.containment.clone(),
        errors,
    })
}

fn details_of(c: &Capa) -> DetailsForm {
    DetailsForm {
        title: c.title.clone(),
        kind: c.kind.as_str().into(),
        source: c.source.as_str().into(),
        source_ref: c.source_ref.clone(),
        product_id: c.product_id.map(|p| p.to_string()).unwrap_or_default(),
        problem: c.problem.clone(),
        priority: c
            .priority
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        owner_id: c.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        due_on: date_text(c.due_on),
        containment: c.containment.clone(),
    }
}

/// The due date: as typed, or the priority's default (settings) when none is typed.
fn with_default_due(state: &AppState, mut fields: CapaFields) -> CapaFields {
    if fields.due_on.is_none()
        && let Some(p) = fields.priority
    {
        fields.due_on =
            Some(today(state) + chrono::Duration::days(state.settings.capa_due_days(p)));
    }
    fields
}

/// The list's filters and order from the query (the list and its CSV share them).
fn filter_of(
    query: &HashMap<String, String>,
    today: chrono::NaiveDate,
) -> Result<(Filter, Sort), AppError> {
    let get = |k| query_text(query, k);
    let (st, kind, source, priority, owner, product, overdue, text, sort) = (
        get("state"),
        get("kind"),
        get("source"),
        get("priority"),
        get("owner"),
        get("product"),
        get("overdue"),
        get("q"),
        get("sort"),
    );
    let bad = |what: &str, v: &str| AppError::BadRequest(format!("There is no {what} {v:?}"));
    if text.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "The search text can have at most 200 characters".into(),
        ));
    }
    let id = |what: &str, v: &str| -> Result<Option<i64>, AppError> {
        match v {
            "" => Ok(None),
            v => v.parse().map(Some).map_err(|_| bad(what, v)),
        }
    };
    let filter = Filter {
        state: match st.as_str() {
            "" => None,
            "open" => Some("open".into()),
            v => Some(
                CapaState::parse(v)
                    .ok_or_else(|| bad("state", v))?
                    .as_str()
                    .into(),
            ),
        },
        kind: super::filter_value(&kind, "type", Kind::parse)?,
        source: super::filter_value(&source, "source", CapaSource::parse)?,
        priority: super::filter_value(&priority, "priority", Priority::parse)?,
        owner_id: id("owner", &owner)?,
        product_id: id("product", &product)?,
        overdue_on: match overdue.as_str() {
            "" => None,
            "1" => Some(today),
            v => return Err(bad("overdue value", v)),
        },
        text: Some(text.clone()).filter(|t| !t.is_empty()),
    };
    let order = match sort.as_str() {
        "" | "newest" => Sort::Newest,
        "due" => Sort::Due,
        "priority" => Sort::Priority,
        v => return Err(bad("sort order", v)),
    };
    Ok((filter, order))
}

/// `GET /capas`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let get = |k| query_text(&query, k);
    let (st, kind, source, priority, owner, product, overdue, text, sort) = (
        get("state"),
        get("kind"),
        get("source"),
        get("priority"),
        get("owner"),
        get("product"),
        get("overdue"),
        get("q"),
        get("sort"),
    );
    let (filter, order) = filter_of(&query, today(&state))?;
    let page = super::page_number(&query)?;
    let (f, owner_sel, product_sel) = (filter.clone(), owner.clone(), product.clone());
    let (rows, total, owners, products, names) = state
        .db(move |conn| {
            let (rows, total) = repo::list(conn, &f, order, (page - 1) * PER_PAGE, PER_PAGE)?;
            let ids: Vec<i64> = rows.iter().filter_map(|c| c.owner_id).collect();
            let names = users::names(conn, &ids)?;
            let owners = owner_choices(conn, &owner_sel)?;
            let products = choices_of(&all_products(conn)?, &product_sel);
            Ok((rows, total, owners, products, names))
        })
        .await?;
    let mut params: Vec<String> = Vec::new();
    for (k, v) in [
        ("state", &st),
        ("kind", &kind),
        ("source", &source),
        ("priority", &priority),
        ("owner", &owner),
        ("product", &product),
        ("overdue", &overdue),
        ("q", &text),
        ("sort", &sort),
    ] {
        if !v.is_empty() {
            params.push(format!("{k}={}", urlencode(v)));
        }
    }
    let pages = PageLink::window(page, total, PER_PAGE, |n| {
        let mut p = params.clone();
        p.push(format!("page={n}"));
        format!("/capas?{}", p.join("&"))
    });
    let mut states = vec![Choice {
        value: "open".into(),
        label: "Open (not closed or cancelled)".into(),
        selected: st == "open",
    }];
    states.extend(choices(
        CapaState::ALL,
        CapaState::as_str,
        CapaState::label,
        &st,
    ));
    let first = if total == 0 {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    let day = today(&state);
    let sort_choice = |value: &str, label: &str| Choice {
        value: value.into(),
        label: label.into(),
        selected: sort == value || (sort.is_empty() && value == "newest"),
    };
    html(&CapaListPage {
        ctx: page_ctx(&state, s, "/capas").await?,
        last: first + rows.len() as i64 - 1,
        first,
        rows: rows
            .into_iter()
            .map(|c| CapaRow {
                id: c.id,
                key: c.key(),
                overdue: c.overdue(day),
                owner: c
                    .owner_id
                    .and_then(|o| names.get(&o).cloned())
                    .unwrap_or_default(),
                due: date_text(c.due_on),
                title: c.title,
                kind: c.kind.label(),
                state: c.state.label(),
                state_name: c.state.as_str(),
                priority: c.priority.map_or("—", Priority::label),
            })
            .collect(),
        total,
        states,
        kinds: choices(Kind::ALL, Kind::as_str, Kind::label, &kind),
        sources: choices(
            CapaSource::ALL,
            CapaSource::as_str,
            CapaSource::label,
            &source,
        ),
        priorities: choices(Priority::ALL, Priority::as_str, Priority::label, &priority),
        owners,
        products,
        sorts: vec![
            sort_choice("newest", "Newest first"),
            sort_choice("due", "Due soonest"),
            sort_choice("priority", "Highest priority"),
        ],
        overdue: overdue == "1",
        filtered: !params.iter().all(|p| p.starts_with("sort=")),
        q: text,
        can_open: s.account.roles.contains(Role::Quality),
        csv_href: format!("/capas/export.csv?{}", params.join("&")),
        pages,
    })
}

/// `GET /capas/export.csv`: the filtered list as CSV, read a page at a time;
/// the export is audited with its filters and row count.
pub async fn export_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (filter, order) = filter_of(&query, today(&state))?;
    let ctx = user_ctx(&state, s, op);
    let described: Vec<String> = {
        let mut v: Vec<String> = query
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        v.sort();
        v
    };
    let day = today(&state);
    let body = state
        .db(move |conn| {
            Ok(crate::service::capas::export_csv(
                conn, &ctx, &filter, order, day, &described,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"capas-{}.csv\"",
                day.format("%Y%m%d")
            ),
        ))
        .body(body))
}

/// The details form's fields as submitted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailsData {
    #[serde(default)]
    version: Option<i64>,
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_ref: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    containment: String,
}

impl DetailsData {
    fn form(self) -> (Option<i64>, DetailsForm) {
        (
            self.version,
            DetailsForm {
                title: self.title,
                kind: self.kind,
                source: self.source,
                source_ref: self.source_ref,
                product_id: self.product_id,
                problem: self.problem,
                priority: self.priority,
                owner_id: self.owner_id,
                due_on: self.due_on,
                containment: self.containment,
            },
        )
    }
}

async fn new_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    f: DetailsForm,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let form = state.db(move |conn| details_view(conn, &f, errors)).await?;
    html_status(
        status,
        &NewCapaPage {
            ctx: page_ctx(state, s, "/capas").await?,
            form,
        },
    )
}

/// `GET /capas/new`
pub async fn new_form(
    state: web::Data<AppState>,
    qm: WithRole<QualityOnly>,
) -> Result<HttpResponse, AppError> {
    let f = DetailsForm {
        kind: Kind::Corrective.as_str().into(),
        ..Default::default()
    };
    new_page(&state, qm.session(), f, Vec::new(), StatusCode::OK).await
}

fn messages(errors: Vec<crate::domain::user::FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.message).collect()
}

/// `POST /capas`
pub async fn create(
    state: web::Data<AppState>,
    qm: WithRole<QualityOnly>,
    OpId(op): OpId,
    Form(data): Form<DetailsData>,
) -> Result<HttpResponse, AppError> {
    let s = qm.session();
    let (_, f) = data.form();
    let fields = match CapaFields::parse(&f, today(&state)) {
        Ok(fields) => with_default_due(&state, fields),
        Err(e) => return new_page(&state, s, f, messages(e), StatusCode::BAD_REQUEST).await,
    };
    let ctx = user_ctx(&state, s, op);
    let by = s.account.id.0;
    let opened = state
        .db(move |conn| Ok(service::open(conn, &ctx, by, fields)))
        .await?;
    match opened {
        Ok(c) => {
            flash(&state, s, "ok", &format!("{} opened.", c.key())).await?;
            Ok(see_other(&format!("/capas/{}", c.id)))
        }
        Err(TransitionError::Invalid(m)) => {
            new_page(&state, s, f, vec![m], StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// What a record page shows besides the stored record: the errors of one
/// section's form and what was typed there.
#[derive(Default)]
struct Shown {
    details: Option<(DetailsForm, Vec<String>)>,
    investigation: Option<(InvestigationForm, Vec<String>)>,
    action_errors: Vec<String>,
    item_errors: Vec<String>,
    plan_errors: Vec<String>,
}

fn investigation_form(c: &Capa) -> InvestigationForm {
    let mut whys: Vec<(String, String, String)> = c
        .whys
        .iter()
        .enumerate()
        .map(|(i, w)| ((i + 1).to_string(), w.question.clone(), w.answer.clone()))
        .collect();
    // Five rows to begin a five-whys chain, and always one spare to add
    // another (empty rows are dropped on saving).
    loop {
        whys.push(((whys.len() + 1).to_string(), String::new(), String::new()));
        if whys.len() >= 5 {
            break;
        }
    }
    InvestigationForm {
        rca_method: c
            .rca_method
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
        whys,
        causes: Category::ALL
            .iter()
            .map(|cat| {
                (
                    cat.as_str().to_string(),
                    c.causes
                        .iter()
                        .filter(|x| x.category == cat.as_str())
                        .map(|x| x.text.clone())
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })
            .collect(),
        root_cause: c.root_cause.clone(),
        action_required: match c.action_required {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => String::new(),
        },
        action_rationale: c.action_rationale.clone(),
    }
}

fn investigation_view(f: &InvestigationForm, errors: Vec<String>) -> InvestigationView {
    InvestigationView {
        methods: choices(
            RcaMethod::ALL,
            RcaMethod::as_str,
            RcaMethod::label,
            &f.rca_method,
        ),
        whys: f
            .whys
            .iter()
            .map(|(p, q, a)| WhyRow {
                position: p.clone(),
                question: q.clone(),
                answer: a.clone(),
            })
            .collect(),
        categories: Category::ALL
            .iter()
            .map(|cat| CategoryRow {
                name: cat.as_str(),
                label: cat.label(),
                causes: f
                    .causes
                    .iter()
                    .find(|(c, _)| c == cat.as_str())
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        root_cause: f.root_cause.clone(),
        action_required: f.action_required.clone(),
        action_rationale: f.action_rationale.clone(),
        errors,
    }
}

/// Whether `s` may edit the CAPA: quality, or its owner.
fn may_edit(s: &SessionCtx, c: &Capa) -> bool {
    s.account.roles.contains(Role::Quality) || c.owner_id == Some(s.account.id.0)
}

fn who(s: &SessionCtx) -> Who<'_> {
    Who {
        user: Some(s.account.id.0),
        roles: &s.account.roles,
    }
}

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    shown: Shown,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let me = s.account.id.0;
    let Shown {
        details,
        investigation,
        action_errors,
        item_errors,
        plan_errors,
    } = shown;
    let editor = roles.contains(Role::Quality);
    let loaded = state
        .db(move |conn| {
            let c = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
            let can_edit = editor || c.owner_id == Some(me);
            let product = product_name(conn, c.product_id)?;
            let mut ids: Vec<i64> = c.items.iter().map(|i| i.owner_id).collect();
            ids.extend(c.owner_id);
            let names = users::names(conn, &ids)?;
            // Errors of a section whose form is not on the page go on top.
            let mut spilled = Vec::new();
            let details = match (can_edit && c.details_editable(), details) {
                (true, Some((f, e))) => Some(details_view(conn, &f, e)?),
                (true, None) => Some(details_view(conn, &details_of(&c), Vec::new())?),
                (false, Some((_, e))) => {
                    spilled = e;
                    None
                }
                (false, None) => None,
            };
            let item_owners = owner_choices(conn, "")?;
            let key = format!("capa-{id}");
            let mut links = crate::service::links::linked(conn, "capa", &key)?;
            links.retain(|(kind, _)| kind != "commit");
            let commits = crate::service::git::commits_linked_to(conn, ("capa", &key))?;
            let history = super::audit::history_panel(conn, "capa", &key, &roles)?;
            let signatures = super::signatures::panel(conn, "capa", &key, &roles)?;
            Ok((
                c,
                product,
                names,
                (details, spilled),
                item_owners,
                (links, commits),
                history,
                signatures,
            ))
        })
        .await?;
    let (c, product, names, (details, spilled), item_owners, (links, commits), history, signatures) =
        loaded;
    let mut action_errors = action_errors;
    action_errors.extend(spilled);
    let can_edit = may_edit(s, &c);
    let day = today(state);
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("u-{id}"));
    let actions = CapaWorkflow::actions()
        .iter()
        .map(|a| ActionView {
            name: a.name,
            label: a.label,
            form: &a.form,
            blocked: may_start::<CapaWorkflow>(&c, a, who(s))
                .err()
                .map(|e| e.to_string()),
        })
        .collect();
    let by_category: Vec<(&str, Vec<String>)> = Category::ALL
        .iter()
        .map(|cat| {
            (
                cat.label(),
                c.causes
                    .iter()
                    .filter(|x| x.category == cat.as_str())
                    .map(|x| x.text.clone())
                    .collect(),
            )
        })
        .collect();
    let investigation = if can_edit && c.investigation_editable() {
        Some(match investigation {
            Some((f, e)) => investigation_view(&f, e),
            None => investigation_view(&investigation_form(&c), Vec::new()),
        })
    } else {
        action_errors.extend(investigation.map(|(_, e)| e).unwrap_or_default());
        None
    };
    let page = CapaPage {
        ctx: page_ctx(state, s, "/capas").await?,
        step_base: format!("/capas/{}", c.id),
        id: c.id,
        key: c.key(),
        version: c.version,
        title: c.title.clone(),
        state: c.state.label(),
        state_name: c.state.as_str(),
        kind: c.kind.label(),
        source: c.source.label(),
        source_ref: c.source_ref.clone(),
        product_href: c.product_id.map(|p| format!("/products/{p}")),
        product,
        problem: c.problem.clone(),
        priority: c.priority.map_or("", Priority::label),
        owner: c.owner_id.map(name_of).unwrap_or_default(),
        due: date_text(c.due_on),
        overdue: c.overdue(day),
        containment: c.containment.clone(),
        rca_method: c.rca_method.map_or("", RcaMethod::label),
        whys: c
            .whys
            .iter()
            .enumerate()
            .map(|(i, w)| WhyRow {
                position: (i + 1).to_string(),
                question: w.question.clone(),
                answer: w.answer.clone(),
            })
            .collect(),
        fishbone: fishbone_svg(&c.problem, &by_category),
        has_causes: !c.causes.is_empty(),
        root_cause: c.root_cause.clone(),
        action_required: match c.action_required {
            Some(true) => "Yes",
            Some(false) => "No",
            None => "",
        },
        action_rationale: c.action_rationale.clone(),
        no_adverse_effect: c.no_adverse_effect.clone(),
        effectiveness_criteria: c.effectiveness_criteria.clone(),
        effectiveness_due: date_text(c.effectiveness_due),
        effectiveness_result: c.effectiveness_result.map_or("", Effectiveness::label),
        effectiveness_evidence: c.effectiveness_evidence.clone(),
        cancel_justification: c.cancel_justification.clone(),
        diagram: diagram_svg::<CapaWorkflow>(
            Some(c.state),
            &format!("{} workflow, now {}", c.key(), c.state.label()),
        ),
        actions,
        action_errors,
        items: c
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| ItemView {
                id: i.id,
                n: n + 1,
                text: i.text.clone(),
                kind: i.kind.label(),
                owner: name_of(i.owner_id),
                due: i.due_on.to_string(),
                overdue: i.done_on.is_none() && i.due_on < day && !c.state.terminal(),
                done: date_text(i.done_on),
                evidence: i.evidence.clone(),
                can_complete: c.items_completable()
                    && (s.account.roles.contains(Role::Quality) || i.owner_id == me),
            })
            .collect(),
        item_kinds: choices(ItemKind::ALL, ItemKind::as_str, ItemKind::label, ""),
        item_owners,
        today: day.to_string(),
        links: links
            .into_iter()
            .map(|(kind, id)| LinkView {
                href: record_href(&kind, &id, &s.account.roles),
                label: crate::domain::record::kind(&kind)
                    .map_or_else(|| format!("{kind} {id}"), |k| k.label(&id)),
            })
            .collect(),
        commits: commits
            .iter()
            .map(crate::web::views::CommitView::new)
            .collect(),
        commits_of: c.key(),
        commits_hint: format!("Fixes: {}", c.key()),
        commits_unlink: None,
        can_edit,
        details,
        investigation,
        can_add_items: can_edit && c.items_addable(),
        can_plan: can_edit && c.plan_editable(),
        item_errors,
        plan_errors,
        signatures,
        history,
    };
    html_status(status, &page)
}

/// `GET /capas/{id}`
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &state,
        &user.0,
        path.into_inner(),
        Shown::default(),
        StatusCode::OK,
    )
    .await
}

/// Refuses an edit by someone who is neither quality nor the owner.
/// The refusal is audited on the CAPA (SECURITY.md 29).
async fn editor_check(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    op: &Option<String>,
    id: i64,
    section: &str,
) -> Result<(), AppError> {
    let c = state
        .db(move |conn| repo::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    if may_edit(s, &c) {
        return Ok(());
    }
    let why = "Only quality or the CAPA's owner can change it";
    let entity = <CapaWorkflow as Stored>::entity(&c);
    let path = format!("/capas/{id}/{section}");
    super::deny(state, s, op.clone(), Some(entity), "POST", path, why.into()).await?;
    Err(AppError::Forbidden(why.into()))
}

/// The answer to an edit: back to the page, or the page with the error in
/// the section it belongs to.
async fn after_edit(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    result: Result<Capa, TransitionError>,
    on_error: impl FnOnce(Vec<String>) -> Shown,
    done: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => {
            flash(state, s, "ok", done).await?;
            Ok(see_other(&format!("/capas/{id}")))
        }
        Err(TransitionError::NotFound) => Err(AppError::NotFound),
        Err(e) => {
            let (status, message) = AppError::from(e).status_and_message();
            show_page(state, s, id, on_error(vec![capitalise(&message)]), status).await
        }
    }
}

/// `POST /capas/{id}/details`
pub async fn details(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(data): Form<DetailsData>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "details").await?;
    let (version, f) = data.form();
    let version = version.ok_or_else(|| AppError::BadRequest("The form has no version".into()))?;
    let fields = match CapaFields::parse(&f, today(&state)) {
        Ok(fields) => with_default_due(&state, fields),
        Err(e) => {
            let shown = Shown {
                details: Some((f, messages(e))),
                ..Default::default()
            };
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let result = state
        .db(move |conn| Ok(service::update_details(conn, &ctx, id, version, fields)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            details: Some((f, e)),
            ..Default::default()
        },
        "Saved.",
    )
    .await
}

/// `POST /capas/{id}/investigation`: the form repeats `why_pos`, `why_q`,
/// `why_a` and `cause_cat`, `cause_text`, so it is read as pairs.
pub async fn investigation(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (&user.0, path.into_inner());
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    const KNOWN: [&str; 10] = [
        "action_rationale",
        "version",
        "rca_method",
        "why_pos",
        "why_q",
        "why_a",
        "cause_cat",
        "cause_text",
        "root_cause",
        "action_required",
    ];
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        return Err(AppError::BadRequest(format!(
            "The form has a field it should not have: {k:?}"
        )));
    }
    editor_check(&state, s, &op, id, "investigation").await?;
    let version: i64 = one("version")
        .parse()
        .map_err(|_| AppError::BadRequest("The form has no version".into()))?;
    let (pos, q, a) = (all("why_pos"), all("why_q"), all("why_a"));
    let (cats, texts) = (all("cause_cat"), all("cause_text"));
    if pos.len() != q.len() || q.len() != a.len() || cats.len() != texts.len() {
        return Err(AppError::BadRequest(
            "The five-whys or fishbone rows are incomplete".into(),
        ));
    }
    let f = InvestigationForm {
        rca_method: one("rca_method"),
        whys: pos
            .into_iter()
            .zip(q)
            .zip(a)
            .map(|((p, q), a)| (p, q, a))
            .collect(),
        causes: cats.into_iter().zip(texts).collect(),
        root_cause: one("root_cause"),
        action_required: one("action_required"),
        action_rationale: one("action_rationale"),
    };
    let inv = match Investigation::parse(&f) {
        Ok(inv) => inv,
        Err(e) => {
            let shown = Shown {
                investigation: Some((f, messages(e))),
                ..Default::default()
            };
            return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let result = state
        .db(move |conn| Ok(service::update_investigation(conn, &ctx, id, version, inv)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            investigation: Some((f, e)),
            ..Default::default()
        },
        "Investigation saved.",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanData {
    version: i64,
    #[serde(default)]
    no_adverse_effect: String,
    #[serde(default)]
    effectiveness_criteria: String,
    #[serde(default)]
    effectiveness_due: String,
}

/// `POST /capas/{id}/plan`
pub async fn plan(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(d): Form<PlanData>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::capa::MAX_TEXT;
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "plan").await?;
    let mut errors = Vec::new();
    let due = parse_date(
        &mut errors,
        "effectiveness_due",
        "The check's due date",
        &d.effectiveness_due,
    );
    if due.is_some_and(|d| d < today(&state)) {
        errors.push(crate::domain::user::FieldError::new(
            "effectiveness_due",
            "The check's due date cannot be in the past.",
        ));
    }
    for (text, what) in [
        (&d.no_adverse_effect, "The no-adverse-effect statement"),
        (&d.effectiveness_criteria, "The effectiveness criteria"),
    ] {
        if text.chars().count() > MAX_TEXT {
            errors.push(crate::domain::user::FieldError::new(
                "plan",
                format!("{what} can have at most {MAX_TEXT} characters."),
            ));
        }
    }
    if !errors.is_empty() {
        let shown = Shown {
            plan_errors: messages(errors),
            ..Default::default()
        };
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
    }
    let plan = service::Plan {
        no_adverse_effect: d.no_adverse_effect.trim().to_string(),
        effectiveness_criteria: d.effectiveness_criteria.trim().to_string(),
        effectiveness_due: due,
    };
    let ctx = user_ctx(&state, s, op);
    let version = d.version;
    let result = state
        .db(move |conn| Ok(service::update_plan(conn, &ctx, id, version, plan)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            plan_errors: e,
            ..Default::default()
        },
        "Plan saved.",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemData {
    version: i64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
}

/// `POST /capas/{id}/items`
pub async fn add_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(d): Form<ItemData>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::capa::MAX_TEXT;
    let (s, id) = (&user.0, path.into_inner());
    editor_check(&state, s, &op, id, "items").await?;
    let mut errors = Vec::new();
    let text = d.text.trim().to_string();
    if text.is_empty() {
        errors.push("Say what will be done.".to_string());
    } else if text.chars().count() > MAX_TEXT {
        errors.push(format!(
            "The action can have at most {MAX_TEXT} characters."
        ));
    }
    let kind = ItemKind::parse(d.kind.trim());
    if kind.is_none() {
        errors.push("Choose the kind: correction, corrective or preventive.".into());
    }
    let owner = d.owner_id.trim().parse::<i64>().ok();
    if owner.is_none() {
        errors.push("Choose the action's owner.".into());
    }
    let mut date_errors = Vec::new();
    let due = parse_date(&mut date_errors, "due_on", "The due date", &d.due_on);
    errors.extend(messages(date_errors));
    match due {
        None if d.due_on.trim().is_empty() => errors.push("Give a due date.".into()),
        Some(day) if day < today(&state) => {
            errors.push("The due date cannot be in the past.".into())
        }
        _ => {}
    }
    let (Some(kind), Some(owner_id), Some(due_on), true) = (kind, owner, due, errors.is_empty())
    else {
        let shown = Shown {
            item_errors: errors,
            ..Default::default()
        };
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
    };
    let item = Item {
        id: 0,
        text,
        kind,
        owner_id,
        due_on,
        done_on: None,
        evidence: String::new(),
    };
    let ctx = user_ctx(&state, s, op);
    let version = d.version;
    let result = state
        .db(move |conn| Ok(service::add_item(conn, &ctx, id, version, item)))
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            item_errors: e,
            ..Default::default()
        },
        "Action item added.",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneData {
    version: i64,
    #[serde(default)]
    done_on: String,
    #[serde(default)]
    evidence: String,
}

/// `POST /capas/{id}/items/{item}/done`: the item's owner or quality.
pub async fn complete_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Form(d): Form<DoneData>,
) -> Result<HttpResponse, AppError> {
    use crate::domain::capa::MAX_TEXT;
    let s = &user.0;
    let (id, item_id) = path.into_inner();
    let owner = state
        .db(move |conn| Ok(repo::find_item(conn, item_id)?))
        .await?
        .filter(|i| i.capa_id == id)
        .ok_or(AppError::NotFound)?
        .item
        .owner_id;
    if !(s.account.roles.contains(Role::Quality) || owner == s.account.id.0) {
        let why = "Only the action's owner or quality can mark it done";
        let entity = state
            .db(move |conn| Ok(repo::find(conn, id)?.map(|c| <CapaWorkflow as Stored>::entity(&c))))
            .await?;
        let path = format!("/capas/{id}/items/{item_id}/done");
        super::deny(&state, s, op.clone(), entity, "POST", path, why.into()).await?;
        return Err(AppError::Forbidden(why.into()));
    }
    let mut errors = Vec::new();
    let done = parse_date(&mut errors, "done_on", "The date done", &d.done_on);
    let mut errors = messages(errors);
    let evidence = d.evidence.trim().to_string();
    if evidence.is_empty() {
        errors.push("Give the evidence of what was done (8.5.2 d).".into());
    } else if evidence.chars().count() > MAX_TEXT {
        errors.push(format!(
            "The evidence can have at most {MAX_TEXT} characters."
        ));
    }
    match done {
        None if errors.is_empty() => errors.push("Give the date it was done.".into()),
        Some(day) if day > today(&state) => {
            errors.push("The date done cannot be in the future.".into())
        }
        _ => {}
    }
    let (Some(done_on), true) = (done, errors.is_empty()) else {
        let shown = Shown {
            item_errors: errors,
            ..Default::default()
        };
        return show_page(&state, s, id, shown, StatusCode::BAD_REQUEST).await;
    };
    let ctx = user_ctx(&state, s, op);
    let version = d.version;
    let result = state
        .db(move |conn| {
            Ok(service::complete_item(
                conn, &ctx, id, version, item_id, done_on, evidence,
            ))
        })
        .await?;
    after_edit(
        &state,
        s,
        id,
        result,
        |e| Shown {
            item_errors: e,
            ..Default::default()
        },
        "Action item done.",
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    version: i64,
    #[serde(default)]
    effectiveness_result: Option<String>,
    #[serde(default)]
    effectiveness_evidence: Option<String>,
    #[serde(default)]
    justification: Option<String>,
}

/// CAPA steps on the one step handler (`web::step`).
impl WebWorkflow for CapaWorkflow {
    const AREA: &'static str = "capas";
    type Form = ActionForm;

    fn form_version(f: &ActionForm) -> i64 {
        f.version
    }

    fn input(f: &ActionForm) -> Result<CapaInput, AppError> {
        Ok(CapaInput {
            effectiveness_result: choice(
                f.effectiveness_result.as_ref(),
                "effectiveness result",
                Effectiveness::parse,
            )?,
            effectiveness_evidence: text(f.effectiveness_evidence.as_ref()),
            justification: text(f.justification.as_ref()),
        })
    }

    fn title(c: &Capa) -> String {
        c.title.clone()
    }

    fn signed_fields(_conn: &mut DbConnection, c: &Capa) -> Result<Vec<SignedField>, AppError> {
        let field = |label, value: String| SignedField { label, value };
        let items: Vec<String> = c
            .items
            .iter()
            .enumerate()
            .map(|(n, i)| {
                format!(
                    "{}. {} ({}; done {}: {})",
                    n + 1,
                    i.text,
                    i.kind.label(),
                    date_text(i.done_on),
                    i.evidence
                )
            })
            .collect();
        Ok(vec![
            field("Type", c.kind.label().into()),
            field("Problem statement", c.problem.clone()),
            field("Root cause", c.root_cause.clone()),
            field(
                "Action needed",
                match c.action_required {
                    Some(true) => format!("Yes: {}", c.action_rationale),
                    Some(false) => format!("No: {}", c.action_rationale),
                    None => String::new(),
                },
            ),
            field("Action items", items.join("\n")),
            field("No adverse effect", c.no_adverse_effect.clone()),
            field("Effectiveness criteria", c.effectiveness_criteria.clone()),
            field(
                "Effectiveness result",
                c.effectiveness_result
                    .map(|r| format!("{}: {}", r.label(), c.effectiveness_evidence))
                    .unwrap_or_default(),
            ),
            field("Cancellation", c.cancel_justification.clone()),
        ])
    }

    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        message: String,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        let shown = Shown {
            action_errors: vec![message],
            ..Default::default()
        };
        show_page(state, s, id, shown, status).await
    }

    async fn done(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        c: &Capa,
        _action: &str,
    ) -> Result<HttpResponse, AppError> {
        flash(
            state,
            s,
            "ok",
            &format!("{} is now {}.", c.key(), state_phrase(c.state)),
        )
        .await?;
        Ok(see_other(&format!("/capas/{}", c.id)))
    }
}
