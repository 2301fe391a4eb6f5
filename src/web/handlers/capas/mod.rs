//! CAPAs: quality opens them (or escalates a nonconformance); quality and
//! the owner take them through investigation, actions and verification;
//! closing and cancelling are signed. Everyone signed in reads them.
//!
//! `list` is the list and its CSV export, `edit` the forms that change a
//! CAPA's fields and action items, `step` its part in the one step handler;
//! the record page and what they share are here.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::nonconformances::{QualityOnly, all_products, choices, choices_of, product_name};
use super::{flash, html, html_status, page_ctx, see_other, user_ctx};
use crate::db::DbConnection;
use crate::db::repo::capas::{self as repo, Filter, Sort};
use crate::db::repo::users;
use crate::domain::capa::{
    Capa, CapaFields, CapaInput, CapaSource, CapaState, CapaWorkflow, Category, DetailsForm,
    Effectiveness, Investigation, InvestigationForm, Item, ItemKind, Kind, Priority, RcaMethod,
    parse_date,
};
use crate::domain::user::Role;
use crate::domain::workflow::{Who, Workflow, diagram_svg, offered};
use crate::service::capas as service;
use crate::service::workflow::{RecordError, Stored};
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, WithRole};
use crate::web::session::SessionCtx;
use crate::web::step::{WebWorkflow, choice, text};
use crate::web::views::audit::{Choice, record_href};
use crate::web::views::capas::*;
use crate::web::views::nonconformances::ActionView;
use crate::web::views::signatures::SignedField;

mod edit;
mod list;
mod step;

pub use edit::{
    DetailsData, DoneData, ItemChangeData, ItemData, PlanData, add_item, change_item,
    complete_item, create, details, investigation, new_form, plan,
};
pub use list::{ListCache, PARAMS, export_csv, filter_of, list};
pub use step::ActionForm;

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

/// The people a CAPA or an action item can be given to (none selected),
/// kept until a record changes.
pub type PeopleCache = crate::service::KeptUntilDataChanges<(), Vec<Choice>>;

/// What a CAPA's page shows that depends on the data alone, not on who
/// reads it: the record, names, links, commits, each signature checked,
/// and its two drawings.
/// Kept until the data changes; the database advances the data stamp on
/// every write to the tables these come from, whoever makes it, so a
/// verified mark is as of the data as it is now.
pub struct KeptPage {
    capa: Capa,
    product: String,
    names: HashMap<i64, String>,
    item_owners: Vec<Choice>,
    links: Vec<(String, String)>,
    commits: Vec<crate::service::git::LinkedCommit>,
    signatures: Vec<crate::service::verification::Checked>,
    fishbone: crate::domain::svg::Svg,
    diagram: crate::domain::svg::Svg,
}

/// CAPA pages by number.
pub type PageCache = crate::service::KeptUntilDataChanges<i64, KeptPage>;

fn kept_page(conn: &mut DbConnection, people: &PeopleCache, id: i64) -> Result<KeptPage, AppError> {
    let capa = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
    let product = product_name(conn, capa.product_id)?;
    let mut ids: Vec<i64> = capa.items.iter().map(|i| i.owner_id).collect();
    ids.extend(capa.owner_id);
    let names = users::names(conn, &ids)?;
    let item_owners = (*people.get(conn, (), |conn| owner_choices(conn, ""))?).clone();
    let key = format!("capa-{id}");
    let mut links = crate::service::links::linked(conn, "capa", &key)?;
    links.retain(|(kind, _)| kind != "commit");
    let commits = crate::service::git::commits_linked_to(conn, ("capa", &key))?;
    let signatures = super::signatures::checked_of::<CapaWorkflow>(conn, &capa)?;
    let by_category: Vec<(&str, Vec<String>)> = Category::ALL
        .iter()
        .map(|cat| {
            (
                cat.label(),
                capa.causes
                    .iter()
                    .filter(|x| x.category == cat.as_str())
                    .map(|x| x.text.clone())
                    .collect(),
            )
        })
        .collect();
    let fishbone = fishbone_svg(&capa.problem, &by_category);
    let diagram = diagram_svg::<CapaWorkflow>(
        Some(capa.state),
        &format!("{} workflow, now {}", capa.key(), capa.state.label()),
    );
    Ok(KeptPage {
        fishbone,
        diagram,
        capa,
        product,
        names,
        item_owners,
        links,
        commits,
        signatures,
    })
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
    let people = state.people.clone();
    let pages = state.capa_pages.clone();
    let histories = state.histories.clone();
    let (kept, (details, spilled), history) = state
        .read(move |conn| {
            let kept = pages.get(conn, id, |conn| kept_page(conn, &people, id))?;
            let c = &kept.capa;
            let can_edit = editor || c.owner_id == Some(me);
            // Errors of a section whose form is not on the page go on top.
            let mut spilled = Vec::new();
            let details = match (can_edit && c.details_editable(), details) {
                (true, Some((f, e))) => Some(details_view(conn, &f, e)?),
                (true, None) => Some(details_view(conn, &details_of(c), Vec::new())?),
                (false, Some((_, e))) => {
                    spilled = e;
                    None
                }
                (false, None) => None,
            };
            let history = super::audit::history_panel(
                conn,
                &histories,
                "capa",
                &format!("capa-{id}"),
                &roles,
            )?;
            Ok((kept, (details, spilled), history))
        })
        .await?;
    let roles = &s.account.roles;
    let c = &kept.capa;
    let names = &kept.names;
    let signatures = kept
        .signatures
        .iter()
        .map(|checked| super::signatures::view(checked, roles))
        .collect();
    let mut action_errors = action_errors;
    action_errors.extend(spilled);
    let can_edit = may_edit(s, c);
    let day = today(state);
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("u-{id}"));
    let actions = CapaWorkflow::actions()
        .iter()
        .map(|a| ActionView {
            name: a.name,
            label: a.label,
            form: &a.form,
            blocked: offered::<CapaWorkflow>(c, a, who(s)).err(),
        })
        .collect();
    let investigation = if can_edit && c.investigation_editable() {
        Some(match investigation {
            Some((f, e)) => investigation_view(&f, e),
            None => investigation_view(&investigation_form(c), Vec::new()),
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
        product: kept.product.clone(),
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
        fishbone: kept.fishbone.clone(),
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
        diagram: kept.diagram.clone(),
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
                can_change: can_edit && c.items_addable() && i.done_on.is_none(),
                owner_id: i.owner_id.to_string(),
                due_on: i.due_on.to_string(),
            })
            .collect(),
        item_kinds: choices(ItemKind::ALL, ItemKind::as_str, ItemKind::label, ""),
        item_owners: kept.item_owners.clone(),
        today: day.to_string(),
        links: kept
            .links
            .iter()
            .map(|(kind, id)| LinkView {
                href: record_href(kind, id, &s.account.roles),
                label: crate::domain::record::kind(kind)
                    .map_or_else(|| format!("{kind} {id}"), |k| k.label(id)),
            })
            .collect(),
        commits: kept
            .commits
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
    result: Result<Capa, RecordError>,
    on_error: impl FnOnce(Vec<String>) -> Shown,
    done: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => {
            flash(state, s, "ok", done).await?;
            Ok(see_other(&format!("/capas/{id}")))
        }
        Err(e) => {
            let (status, messages) = crate::web::error::refusal(e)?;
            show_page(state, s, id, on_error(messages), status).await
        }
    }
}
