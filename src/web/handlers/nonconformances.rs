//! Nonconformances: engineers and quality report them, quality takes them
//! through the workflow; everyone signed in reads them.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{flash, html, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::DbConnection;
use crate::db::repo::nonconformances::{self as repo, Filter, Sort};
use crate::db::repo::{products, users};
use crate::domain::ids::UserId;
use crate::domain::nonconformance::{
    Disposition, Nc, NcFields, NcInput, NcState, NcWorkflow, Severity, Source,
};
use crate::domain::product::Product;
use crate::domain::user::Role;
use crate::domain::workflow::Who;
use crate::service::error::RecordError;
use crate::service::nonconformances as service;
use crate::web::AppState;
use crate::web::csrf::Form;
use crate::web::error::AppError;
use crate::web::extract::RoleSet;
use crate::web::extract::{CurrentUser, OpId, WithRole};
use crate::web::list::{ListQuery, PerPage};
use crate::web::record::{Fact, RecordHead, Section, next_steps};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::step::{WebWorkflow, choice, text};
use crate::web::views::audit::Choice;
use crate::web::views::nonconformances::*;
use crate::web::views::signatures::SignedField;

const PER_PAGE: i64 = 50;

/// Who may report a nonconformance: engineers and quality.
pub struct Reporters;
impl RoleSet for Reporters {
    const ROLES: &'static [Role] = &[Role::Quality, Role::Engineer];
}
/// Who may correct a report's fields: quality.
pub struct QualityOnly;
impl RoleSet for QualityOnly {
    const ROLES: &'static [Role] = &[Role::Quality];
}

pub(crate) fn choices<T: Copy + PartialEq>(
    all: &[T],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    selected: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|&x| Choice {
            value: value(x).to_string(),
            label: label(x).to_string(),
            selected: value(x) == selected,
        })
        .collect()
}

/// Products for pickers and names (at most 500; see the issue note).
pub(crate) fn all_products(conn: &mut DbConnection) -> Result<Vec<Product>, AppError> {
    Ok(products::list(conn, true, 0, 500)?.0)
}

/// Active products as choices (archived ones only when already chosen).
pub(crate) fn choices_of(all: &[Product], selected: &str) -> Vec<Choice> {
    all.iter()
        .filter(|p| p.active || p.id.to_string() == selected)
        .map(|p| Choice {
            selected: p.id.to_string() == selected,
            value: p.id.to_string(),
            label: format!("{} ({})", p.name, p.key_prefix),
        })
        .collect()
}

fn product_choices(conn: &mut DbConnection, selected: &str) -> Result<Vec<Choice>, AppError> {
    Ok(choices_of(&all_products(conn)?, selected))
}

pub(crate) fn product_name(conn: &mut DbConnection, id: Option<i64>) -> Result<String, AppError> {
    Ok(match id {
        Some(id) => products::find(conn, id)?.map_or_else(|| format!("product {id}"), |p| p.name),
        None => String::new(),
    })
}

/// Pages of the nonconformance list (each row with its product's name, the
/// total, the product choices), kept until a record changes.
pub type ListCache =
    crate::service::KeptUntilDataChanges<String, (Vec<(Nc, String)>, i64, Vec<Choice>)>;

/// The parameters of the nonconformance list and `GET /api/v1/nonconformances`.
pub const PARAMS: &[&str] = &["state", "product", "severity", "source", "q", "sort"];

/// The list's filters and order (the list and the API share them).
pub fn filter_of(q: &ListQuery) -> Result<(Filter, Sort), AppError> {
    let filter = Filter {
        state: match q.get("state") {
            "open" => None,
            _ => q.choice("state", "state", NcState::parse)?,
        },
        open: q.get("state") == "open",
        product_id: q.number("product", "product")?,
        severity: q.choice("severity", "severity", Severity::parse)?,
        source: q.choice("source", "source", Source::parse)?,
        text: q.text("q"),
    };
    let order = q.sort(
        "sort",
        &[
            ("newest", Sort::Newest),
            ("oldest", Sort::Oldest),
            ("changed", Sort::RecentlyChanged),
        ],
    )?;
    Ok((filter, order))
}

/// `GET /nonconformances`
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let (filter, order) = filter_of(&q)?;
    let (offset, limit) = (q.offset(), q.per_page);
    let product_sel = q.get("product").to_string();
    // Read by filters and data alone (not by who reads), kept until a record changes.
    let key = format!("{filter:?}|{order:?}|{offset}|{limit}|{product_sel}");
    let (f, cache) = (filter.clone(), state.nc_lists.clone());
    let data = state
        .db(move |conn| {
            cache.get(conn, key, |conn| {
                let (rows, total) = repo::list(conn, &f, order, offset, limit)?;
                // One query for the page's product names and the filter's choices.
                let all = all_products(conn)?;
                let choices = choices_of(&all, &product_sel);
                let names: HashMap<i64, String> = all.into_iter().map(|p| (p.id, p.name)).collect();
                let mut out = Vec::new();
                for nc in rows {
                    let product = match nc.product_id {
                        Some(id) => match names.get(&id) {
                            Some(n) => n.clone(),
                            None => product_name(conn, Some(id))?,
                        },
                        None => String::new(),
                    };
                    out.push((nc, product));
                }
                Ok::<_, AppError>((out, total, choices))
            })
        })
        .await?;
    let (rows, total, product_list) = (*data).clone();
    let pages = q.pages("/nonconformances", total);
    let (st, severity, source, sort) = (
        q.get("state"),
        q.get("severity"),
        q.get("source"),
        q.get("sort"),
    );
    let mut states = vec![Choice {
        value: "open".into(),
        label: "Open (not closed)".into(),
        selected: st == "open",
    }];
    states.extend(choices(NcState::ALL, NcState::as_str, NcState::label, st));
    let (first, last) = q.shown(rows.len());
    html(&NcListPage {
        ctx: page_ctx(&state, s, "/nonconformances").await?,
        last,
        first,
        rows: rows
            .into_iter()
            .map(|(nc, product)| NcRow {
                id: nc.id,
                key: nc.key(),
                title: nc.title,
                state: nc.state.label(),
                state_name: nc.state.as_str(),
                severity: nc.severity.map_or("—", Severity::label),
                product,
                source: nc.source.label(),
                reported: when(Some(nc.created_at)),
            })
            .collect(),
        total,
        states,
        products: product_list,
        severities: choices(Severity::ALL, Severity::as_str, Severity::label, severity),
        sources: choices(Source::ALL, Source::as_str, Source::label, source),
        sorts: vec![
            Choice {
                value: "newest".into(),
                label: "Newest first".into(),
                selected: sort.is_empty() || sort == "newest",
            },
            Choice {
                value: "oldest".into(),
                label: "Oldest first".into(),
                selected: sort == "oldest",
            },
            Choice {
                value: "changed".into(),
                label: "Recently changed".into(),
                selected: sort == "changed",
            },
        ],
        filtered: q.filtered(),
        q: q.get("q").to_string(),
        can_report: s.account.roles.has_any(Reporters::ROLES),
        pages,
    })
}

/// The report form's fields as submitted.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NcFormData {
    title: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    lot_serial: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    detected_on: String,
    #[serde(default)]
    severity: String,
    /// Why a report is corrected (the correction form only).
    #[serde(default)]
    reason: String,
}

impl NcFormData {
    fn parse(&self) -> Result<NcFields, Vec<crate::domain::user::FieldError>> {
        NcFields::parse(
            &self.title,
            &self.source,
            &self.product_id,
            &self.lot_serial,
            &self.description,
            &self.detected_on,
            &self.severity,
        )
    }

    /// The fields as typed, by name.
    fn typed(&self, r: Rejected) -> Rejected {
        r.typed_each(&[
            ("title", &self.title),
            ("source", &self.source),
            ("product_id", &self.product_id),
            ("lot_serial", &self.lot_serial),
            ("description", &self.description),
            ("detected_on", &self.detected_on),
            ("severity", &self.severity),
            ("reason", &self.reason),
        ])
    }
}

fn nc_form(
    conn: &mut DbConnection,
    f: &NcFormData,
    problems: Rejected,
) -> Result<NcForm, AppError> {
    Ok(NcForm {
        title: f.title.clone(),
        sources: choices(Source::ALL, Source::as_str, Source::label, &f.source),
        products: product_choices(conn, &f.product_id)?,
        lot_serial: f.lot_serial.clone(),
        description: f.description.clone(),
        detected_on: f.detected_on.clone(),
        severities: choices(
            Severity::ALL,
            Severity::as_str,
            Severity::label,
            &f.severity,
        ),
        reason: f.reason.clone(),
        problems,
    })
}

fn form_of(nc: &Nc) -> NcFormData {
    NcFormData {
        title: nc.title.clone(),
        source: nc.source.as_str().into(),
        product_id: nc.product_id.map(|p| p.to_string()).unwrap_or_default(),
        lot_serial: nc.lot_serial.clone(),
        description: nc.description.clone(),
        detected_on: nc.detected_on.map(|d| d.to_string()).unwrap_or_default(),
        severity: nc
            .severity
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: String::new(),
    }
}

/// The form on `/nonconformances/new`: its element ids are the fields' names.
fn new_form_problems() -> Rejected {
    Rejected::new("new", "")
}

async fn new_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    f: NcFormData,
    problems: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let form = state.db(move |conn| nc_form(conn, &f, problems)).await?;
    let page = NewNcPage {
        ctx: page_ctx(state, s, "/nonconformances").await?,
        form,
    };
    html_status(status, &page)
}

/// `GET /nonconformances/new`
pub async fn new_form(
    state: web::Data<AppState>,
    r: WithRole<Reporters>,
) -> Result<HttpResponse, AppError> {
    let empty = NcFormData {
        title: String::new(),
        source: String::new(),
        product_id: String::new(),
        lot_serial: String::new(),
        description: String::new(),
        detected_on: String::new(),
        severity: String::new(),
        reason: String::new(),
    };
    new_page(
        &state,
        r.session(),
        empty,
        new_form_problems(),
        StatusCode::OK,
    )
    .await
}

/// `POST /nonconformances`
pub async fn create(
    state: web::Data<AppState>,
    r: WithRole<Reporters>,
    OpId(op): OpId,
    Form(f): Form<NcFormData>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let fields = match f.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            let problems = new_form_problems().fields(errors);
            return new_page(&state, s, f, problems, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let reporter = s.account.id.0;
    let created = state
        .db(move |conn| Ok(service::report(conn, &ctx, reporter, fields)))
        .await?;
    match created {
        Ok(nc) => {
            flash(&state, s, "ok", &format!("{} reported.", nc.key())).await?;
            Ok(see_other(&format!("/nonconformances/{}", nc.id)))
        }
        Err(e @ RecordError::Invalid(_)) => {
            let problems = new_form_problems().refused(&e);
            new_page(&state, s, f, problems, StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The sections of a nonconformance's page before the common ones.
const SECTIONS: [Section; 2] = [
    Section {
        anchor: "overview",
        label: "Overview",
    },
    Section {
        anchor: "disposition",
        label: "Disposition",
    },
];

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    edited: Option<NcFormData>,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let problems = match sent.rejected() {
        Some(r) if r.form == "details" => r.clone(),
        _ => Rejected::named("details"),
    };
    let asks = state.signature_requests.clone();
    let (nc, product, reporter, form, more) = state
        .read(move |conn| {
            let nc = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
            let asks = crate::web::ask::on_record::<NcWorkflow>(conn, &asks, &nc)?;
            let product = product_name(conn, nc.product_id)?;
            let reporter = users::find(conn, UserId(nc.reported_by))?
                .map_or_else(|| format!("u-{}", nc.reported_by), |a| a.full_name);
            let data = edited.unwrap_or_else(|| form_of(&nc));
            let form = nc_form(conn, &data, problems)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "nonconformance",
                &format!("nc-{id}"),
                &roles,
            )?;
            let signatures = super::signatures::panel_of::<NcWorkflow>(conn, &nc, &roles)?;
            let files = crate::db::repo::attachments::of_record(
                conn,
                "nonconformance",
                &format!("nc-{id}"),
            )?;
            let file_people = users::names(conn, &super::attachments::people_of(&files))?;
            let commits = crate::service::git::commits_linked_to(
                conn,
                ("nonconformance", &format!("nc-{id}")),
            )?;
            let linked =
                crate::service::links::linked(conn, "nonconformance", &format!("nc-{id}"))?;
            let risk_review = super::risk_reports::review_panel(
                conn,
                ("nonconformance", id),
                nc.product_id,
                &roles,
            )?;
            let capas: Vec<(String, String)> = linked
                .iter()
                .filter(|(t, _)| t == "capa")
                .filter_map(|(_, i)| {
                    let n = i.strip_prefix("capa-")?.to_string();
                    Some((format!("CAPA-{n}"), format!("/capas/{n}")))
                })
                .collect();
            let mut documents = Vec::new();
            for (_, i) in linked.iter().filter(|(t, _)| t == "document") {
                if let Some(n) = i.strip_prefix("doc-").and_then(|n| n.parse::<i64>().ok()) {
                    let standing = crate::service::documents::standing(conn, n)?;
                    documents.push((format!("DOC-{n}"), format!("/documents/{n}"), standing));
                }
            }
            Ok((
                nc,
                product,
                reporter,
                form,
                (
                    history,
                    signatures,
                    (capas, documents),
                    commits,
                    (files, file_people, risk_review, asks),
                ),
            ))
        })
        .await?;
    let (history, signatures, (capas, documents), commits, (files, file_people, risk_review, asks)) =
        more;
    let roles = &s.account.roles;
    let who = Who {
        user: Some(s.account.id.0),
        roles,
    };
    let mut head = RecordHead::new::<NcWorkflow>(
        ("/nonconformances", "Nonconformances"),
        (nc.key(), nc.title.clone()),
        nc.state,
        &SECTIONS,
        crate::web::record::diagram::<NcWorkflow>(&nc.key(), nc.state),
    );
    head.facts = vec![
        Fact::new("Severity", nc.severity.map_or("", Severity::label)),
        Fact::new("Product", product.clone()).link(nc.product_id.map(|p| format!("/products/{p}"))),
        Fact::new("Found in", nc.source.label()),
        Fact::new("Reported by", reporter.clone()),
        Fact::new(
            "Detected on",
            nc.detected_on.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ];
    head.badges = capas
        .iter()
        .map(|(key, href)| (format!("{key} opened"), href.clone()))
        .collect();
    let next =
        next_steps::<NcWorkflow>(&nc, who, format!("/nonconformances/{}", nc.id), nc.version);
    let next = crate::web::ask::with_requests::<NcWorkflow>(next, asks.as_deref(), &nc, s);
    let can_edit = roles.contains(Role::Quality) && nc.correctable();
    let mut forms: Vec<String> = next.forms();
    if can_edit {
        forms.push("details".into());
    }
    let open = nc.state != NcState::Closed;
    let may_attach = roles.contains(Role::Quality) || nc.reported_by == s.account.id.0;
    let attachments = super::attachments::simple_panel(
        state,
        s,
        ("nonconformance", &format!("nc-{}", nc.id)),
        &files,
        (open, may_attach),
        &file_people,
    );
    forms.extend(attachments.forms());
    if risk_review.post_to.is_some() {
        forms.push("risk-review".into());
    }
    let mut sent = sent;
    sent.place(&forms);
    let page = NcPage {
        ctx: page_ctx(state, s, "/nonconformances").await?,
        head,
        next,
        sent,
        id: nc.id,
        source: nc.source.label(),
        product_href: nc.product_id.map(|p| format!("/products/{p}")),
        product,
        lot_serial: nc.lot_serial.clone(),
        description: nc.description.clone(),
        detected_on: nc.detected_on.map(|d| d.to_string()).unwrap_or_default(),
        severity: nc.severity.map_or("", Severity::label),
        reported_by: reporter,
        reported: when(Some(nc.created_at)),
        updated: when(Some(nc.updated_at)),
        disposition: nc.disposition.map_or("", Disposition::label),
        justification: nc.justification.clone(),
        closure_note: nc.closure_note.clone(),
        can_edit,
        form,
        history,
        signatures,
        capas,
        documents,
        commits: commits
            .iter()
            .map(crate::web::views::CommitView::new)
            .collect(),
        commits_of: nc.key(),
        commits_hint: format!("Refs: {}", nc.key()),
        commits_unlink: None,
        attachments,
        risk_review,
    };
    html_status(status, &page)
}

/// `GET /nonconformances/{id}`
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &state,
        &user.0,
        path.into_inner(),
        None,
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditForm {
    version: i64,
    title: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    lot_serial: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    detected_on: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    reason: String,
}

/// `POST /nonconformances/{id}/edit`
pub async fn edit(
    state: web::Data<AppState>,
    qm: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<EditForm>,
) -> Result<HttpResponse, AppError> {
    let (s, id, version) = (qm.session(), path.into_inner(), f.version);
    let data = NcFormData {
        title: f.title,
        source: f.source,
        product_id: f.product_id,
        lot_serial: f.lot_serial,
        description: f.description,
        detected_on: f.detected_on,
        severity: f.severity,
        reason: f.reason,
    };
    let rejected = data.typed(Rejected::named("details"));
    let fields = match data.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            let sent = Sent::of(rejected.fields(errors));
            return show_page(&state, s, id, Some(data), sent, StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = user_ctx(&state, s, op);
    let reason = data.reason.clone();
    let saved = state
        .db(move |conn| Ok(service::update(conn, &ctx, id, version, fields, &reason)))
        .await?;
    match saved {
        Ok(_) => {
            flash(&state, s, "ok", "Saved.").await?;
            Ok(see_other(&format!("/nonconformances/{id}")))
        }
        Err(e) => {
            let record = Some(("nonconformance", id, version));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            show_page(&state, s, id, Some(data), Sent::of(rejected), status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    version: i64,
    #[serde(default)]
    disposition: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    closure_note: Option<String>,
}

/// Nonconformance steps on the one step handler (`web::step`).
impl WebWorkflow for NcWorkflow {
    const AREA: &'static str = "nonconformances";
    type Form = ActionForm;

    fn form_version(f: &ActionForm) -> i64 {
        f.version
    }

    fn input(f: &ActionForm) -> Result<NcInput, AppError> {
        Ok(NcInput {
            disposition: choice(f.disposition.as_ref(), "disposition", Disposition::parse)?,
            justification: text(f.justification.as_ref()),
            closure_note: text(f.closure_note.as_ref()),
        })
    }

    fn title(nc: &Nc) -> String {
        nc.title.clone()
    }

    fn signed_fields(conn: &mut DbConnection, nc: &Nc) -> Result<Vec<SignedField>, AppError> {
        let product = product_name(conn, nc.product_id)?;
        let field = |label, value: String| SignedField { label, value };
        Ok(vec![
            field("Title", nc.title.clone()),
            field("Found in", nc.source.label().into()),
            field("Product", product),
            field("Lot / serial", nc.lot_serial.clone()),
            field(
                "Detected on",
                nc.detected_on.map(|d| d.to_string()).unwrap_or_default(),
            ),
            field(
                "Severity",
                nc.severity.map_or("", Severity::label).to_string(),
            ),
            field("Description", nc.description.clone()),
            field(
                "Disposition",
                nc.disposition.map_or("", Disposition::label).to_string(),
            ),
            field("Justification", nc.justification.clone()),
        ])
    }

    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        rejected: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        show_page(state, s, id, None, Sent::of(rejected), status).await
    }

    /// Escalation opened a CAPA in the same transaction: go there to fill it in.
    async fn done(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        nc: &Nc,
        action: &str,
    ) -> Result<HttpResponse, AppError> {
        let escalated = crate::domain::workflow::action_def::<NcWorkflow>(action)
            .is_some_and(|a| a.action == crate::domain::nonconformance::NcAction::EscalateToCapa);
        if !escalated {
            flash(
                state,
                s,
                "ok",
                &format!("{} is now {}.", nc.key(), nc.state.label().to_lowercase()),
            )
            .await?;
            return Ok(see_other(&format!("/nonconformances/{}", nc.id)));
        }
        let key = format!("nc-{}", nc.id);
        let linked = state
            .db(move |conn| Ok(crate::service::links::linked(conn, "nonconformance", &key)?))
            .await?;
        let capa = linked
            .into_iter()
            .rev()
            .find_map(|(t, i)| (t == "capa").then_some(i))
            .and_then(|i| i.strip_prefix("capa-").map(str::to_string))
            .unwrap_or_default();
        flash(
            state,
            s,
            "ok",
            &format!(
                "CAPA-{capa} opened from {}: name its owner, priority and problem statement.",
                nc.key()
            ),
        )
        .await?;
        Ok(see_other(&format!("/capas/{capa}")))
    }
}
