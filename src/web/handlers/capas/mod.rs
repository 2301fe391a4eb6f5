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
use crate::domain::user::FieldError;
use crate::domain::user::Role;
use crate::domain::workflow::Who;
use crate::service::capas as service;
use crate::service::workflow::{RecordError, Stored};
use crate::web::AppState;
use crate::web::csrf::{Form, Typed};
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, WithRole};
use crate::web::record::{Fact, RecordHead, Section, next_steps};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::step::{WebWorkflow, choice, text};
use crate::web::views::audit::{Choice, record_href};
use crate::web::views::capas::*;
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
    /// Where each linked document stands ("title: v3 effective; v4 in review").
    documents: HashMap<String, String>,
    /// The document versions named as carrying out each action item.
    revisions: HashMap<i64, Vec<(String, String, &'static str)>>,
    commits: Vec<crate::service::git::LinkedCommit>,
    signatures: Vec<crate::service::verification::Checked>,
    attachments: Vec<crate::db::repo::attachments::Attachment>,
    fishbone: crate::domain::svg::Svg,
    diagram: crate::domain::svg::Svg,
}

/// CAPA pages by number.
pub type PageCache = crate::service::KeptUntilDataChanges<i64, KeptPage>;

fn kept_page(conn: &mut DbConnection, people: &PeopleCache, id: i64) -> Result<KeptPage, AppError> {
    let capa = repo::find(conn, id)?.ok_or(AppError::NotFound)?;
    let product = product_name(conn, capa.product_id)?;
    let attachments = crate::db::repo::attachments::of_record(conn, "capa", &format!("capa-{id}"))?;
    let mut ids: Vec<i64> = capa.items.iter().map(|i| i.owner_id).collect();
    ids.extend(capa.owner_id);
    ids.extend(
        attachments
            .iter()
            .flat_map(|a| [Some(a.added_by), a.removed.as_ref().map(|r| r.by)])
            .flatten(),
    );
    let names = users::names(conn, &ids)?;
    let item_owners = (*people.get(conn, (), |conn| owner_choices(conn, ""))?).clone();
    let key = format!("capa-{id}");
    let mut links = crate::service::links::linked(conn, "capa", &key)?;
    links.retain(|(kind, _)| kind != "commit");
    let mut documents = HashMap::new();
    for (kind, id) in &links {
        if let (true, Some(n)) = (
            kind == "document",
            id.strip_prefix("doc-").and_then(|n| n.parse::<i64>().ok()),
        ) {
            documents.insert(id.clone(), crate::service::documents::standing(conn, n)?);
        }
    }
    let item_ids: Vec<i64> = capa.items.iter().map(|i| i.id).collect();
    let revisions = crate::service::documents::revisions_of_items(conn, &item_ids)?;
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
    let diagram = crate::web::record::diagram::<CapaWorkflow>(&capa.key(), capa.state);
    Ok(KeptPage {
        fishbone,
        diagram,
        capa,
        product,
        names,
        item_owners,
        links,
        documents,
        revisions,
        commits,
        signatures,
        attachments,
    })
}

/// A CAPA's Attachments section for this reader: every file (removed ones
/// crossed out), what each belongs to, and what they may attach files to
/// (quality and the owner: the CAPA, its effectiveness check and any
/// action item, done or not; an item's owner: their item) while the CAPA is
/// open.
fn attachments_panel(
    state: &AppState,
    s: &SessionCtx,
    c: &Capa,
    kept: &[crate::db::repo::attachments::Attachment],
    name_of: &dyn Fn(i64) -> String,
) -> crate::web::views::attachments::AttachmentsPanel {
    use crate::web::views::attachments::{AttachmentView, AttachmentsPanel};
    let me = s.account.id.0;
    let quality = s.account.roles.contains(Role::Quality);
    let editor = quality || c.owner_id == Some(me);
    let open = !c.state.terminal();
    let item_label = |n: usize, i: &Item| {
        let text: String = i.text.chars().take(60).collect();
        format!("Action item {n}: {text}")
    };
    let part_label = |part: &str| -> String {
        match part {
            "" => "The CAPA".into(),
            "effectiveness" => "The effectiveness check".into(),
            p => c
                .items
                .iter()
                .enumerate()
                .find(|(_, i)| format!("capa-item-{}", i.id) == p)
                .map_or_else(|| "An action item".into(), |(n, i)| item_label(n + 1, i)),
        }
    };
    let mut parts = Vec::new();
    if open && editor {
        parts.push(Choice {
            value: String::new(),
            label: "The CAPA".into(),
            selected: true,
        });
        parts.push(Choice {
            value: "effectiveness".into(),
            label: "The effectiveness check (its evidence)".into(),
            selected: false,
        });
    }
    for (n, i) in c.items.iter().enumerate() {
        // Evidence often comes after the item is marked done: done items
        // take files too while the CAPA is open.
        if open && (editor || i.owner_id == me) {
            parts.push(Choice {
                value: format!("capa-item-{}", i.id),
                label: format!("{} (evidence)", item_label(n + 1, i)),
                selected: false,
            });
        }
    }
    AttachmentsPanel {
        list: kept
            .iter()
            .map(|a| {
                let can_remove = open && (quality || a.added_by == me);
                AttachmentView::new(a, part_label(&a.part), name_of, can_remove)
            })
            .collect(),
        post_to: (!parts.is_empty()).then(|| format!("/attachments/capa/capa-{}", c.id)),
        parts,
        limit: super::attachments::limit_text(state.settings.max_upload_bytes),
    }
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
    problems: Rejected,
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
        problems,
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

/// What a record page shows besides the stored record: the form that was
/// refused, with what was typed there (the details and investigation forms
/// keep theirs in their own shape).
#[derive(Default)]
pub(super) struct Shown {
    sent: Sent,
    details: Option<DetailsForm>,
    investigation: Option<InvestigationForm>,
}

impl Shown {
    fn of(r: Rejected) -> Self {
        Self {
            sent: Sent::of(r),
            ..Default::default()
        }
    }
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

fn investigation_view(f: &InvestigationForm, problems: Rejected) -> InvestigationView {
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
        problems,
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

/// The sections of a CAPA's page before the common ones.
const SECTIONS: [Section; 4] = [
    Section {
        anchor: "overview",
        label: "Overview",
    },
    Section {
        anchor: "investigation",
        label: "Investigation",
    },
    Section {
        anchor: "actions",
        label: "Actions",
    },
    Section {
        anchor: "verification",
        label: "Verification",
    },
];

/// The record page a nonconformance key in the source reference opens.
fn source_href(c: &Capa) -> Option<String> {
    let n = c
        .source_ref
        .trim()
        .strip_prefix("NC-")?
        .parse::<i64>()
        .ok()?;
    (c.source == CapaSource::Nonconformance).then(|| format!("/nonconformances/{n}"))
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
        sent,
        details,
        investigation,
    } = shown;
    let editor = roles.contains(Role::Quality);
    let people = state.people.clone();
    let pages = state.capa_pages.clone();
    let histories = state.histories.clone();
    let details_problems = problems_of(&sent, "details");
    let asks = state.signature_requests.clone();
    let (kept, details, (history, risk_review, asks)) = state
        .read(move |conn| {
            // One read of the data stamp for both kept values.
            let stamp = crate::audit::data_stamp(conn)?;
            let kept = pages.get_at(conn, stamp, id, |conn| kept_page(conn, &people, id))?;
            let asks = crate::web::ask::on_record_at::<CapaWorkflow>(
                conn,
                &asks,
                Some(stamp),
                &kept.capa,
            )?;
            let c = &kept.capa;
            let can_edit = editor || c.owner_id == Some(me);
            let details = match (can_edit && c.details_editable(), details) {
                (true, Some(f)) => Some(details_view(conn, &f, details_problems)?),
                (true, None) => Some(details_view(conn, &details_of(c), details_problems)?),
                (false, _) => None,
            };
            let history = super::audit::history_panel(
                conn,
                &histories,
                "capa",
                &format!("capa-{id}"),
                &roles,
            )?;
            let risk_review = super::risk_reports::review_panel(
                conn,
                ("capa", id),
                kept.capa.product_id,
                &roles,
            )?;
            Ok((kept, details, (history, risk_review, asks)))
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
    let can_edit = may_edit(s, c);
    let day = today(state);
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("u-{id}"));
    let investigation = (can_edit && c.investigation_editable()).then(|| {
        let problems = problems_of(&sent, "investigation");
        match investigation {
            Some(f) => investigation_view(&f, problems),
            None => investigation_view(&investigation_form(c), problems),
        }
    });
    let mut head = RecordHead::new::<CapaWorkflow>(
        ("/capas", "CAPAs"),
        (c.key(), c.title.clone()),
        c.state,
        &SECTIONS,
        kept.diagram.clone(),
    );
    head.overdue = c.overdue(day);
    head.facts = vec![
        Fact::new("Owner", c.owner_id.map(name_of).unwrap_or_default()),
        Fact::new("Due", date_text(c.due_on)).overdue(c.overdue(day)),
        Fact::new("Priority", c.priority.map_or("", Priority::label)),
        Fact::new("Type", c.kind.label()),
        Fact::new("Product", kept.product.clone())
            .link(c.product_id.map(|p| format!("/products/{p}"))),
    ];
    if let Some(href) = source_href(c) {
        head.badges
            .push((format!("from {}", c.source_ref.trim()), href));
    }
    let next = next_steps::<CapaWorkflow>(c, who(s), format!("/capas/{}", c.id), c.version);
    let next = crate::web::ask::with_requests::<CapaWorkflow>(next, asks.as_deref(), c, s);
    let items: Vec<ItemView> = c
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
            can_complete: i.done_on.is_none()
                && c.items_completable()
                && (s.account.roles.contains(Role::Quality) || i.owner_id == me),
            can_change: can_edit && c.items_addable() && i.done_on.is_none(),
            owner_id: i.owner_id.to_string(),
            due_on: i.due_on.to_string(),
            revisions: kept.revisions.get(&i.id).cloned().unwrap_or_default(),
        })
        .collect();
    // The forms on the page; a refused one that is not (the CAPA moved on)
    // has its problems listed at the top.
    let mut forms: Vec<String> = next.forms();
    let can_add_items = can_edit && c.items_addable();
    let can_plan = can_edit && c.plan_editable();
    for (on, form) in [
        (details.is_some(), "details"),
        (investigation.is_some(), "investigation"),
        (can_add_items, "item-new"),
        (can_plan, "plan"),
    ] {
        if on {
            forms.push(form.into());
        }
    }
    for i in &items {
        if i.can_complete {
            forms.push(format!("item-{}-done", i.n));
        }
        if i.can_change {
            forms.push(format!("item-{}-change", i.n));
        }
    }
    let attachments = attachments_panel(state, s, c, &kept.attachments, &name_of);
    forms.extend(attachments.forms());
    if risk_review.post_to.is_some() {
        forms.push("risk-review".into());
    }
    let mut sent = sent;
    sent.place(&forms);
    let page = CapaPage {
        ctx: page_ctx(state, s, "/capas").await?,
        head,
        next,
        sent,
        id: c.id,
        kind: c.kind.label(),
        source: c.source.label(),
        source_ref: c.source_ref.clone(),
        source_href: source_href(c),
        product_href: c.product_id.map(|p| format!("/products/{p}")),
        product: kept.product.clone(),
        problem: c.problem.clone(),
        priority: c.priority.map_or("", Priority::label),
        owner: c.owner_id.map(name_of).unwrap_or_default(),
        due: date_text(c.due_on),
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
        causes: if c.causes.is_empty() {
            Vec::new()
        } else {
            Category::ALL
                .iter()
                .map(|cat| CausesView {
                    label: cat.label(),
                    causes: c
                        .causes
                        .iter()
                        .filter(|x| x.category == cat.as_str())
                        .map(|x| x.text.clone())
                        .collect(),
                })
                .collect()
        },
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
        items,
        item_kinds: choices(ItemKind::ALL, ItemKind::as_str, ItemKind::label, ""),
        item_owners: kept.item_owners.clone(),
        today: day.to_string(),
        links: kept
            .links
            .iter()
            .map(|(kind, id)| LinkView {
                href: record_href(kind, id, &s.account.roles),
                label: {
                    let label = crate::domain::record::kind(kind)
                        .map_or_else(|| format!("{kind} {id}"), |k| k.label(id));
                    match kept.documents.get(id) {
                        Some(standing) => format!("{label} {standing} (to revise)"),
                        None => label,
                    }
                },
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
        details,
        investigation,
        can_add_items,
        can_plan,
        signatures,
        attachments,
        risk_review,
        history,
    };
    html_status(status, &page)
}

/// The refused form `form` as sent, or that form not sent (its element ids
/// start with `<form>-` either way).
fn problems_of(sent: &Sent, form: &str) -> Rejected {
    match sent.rejected() {
        Some(r) if r.form == form => r.clone(),
        _ => Rejected::named(form),
    }
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

/// The answer to an edit: back to the page, or the page again with the
/// form as typed and why it was refused (for a form someone else's save
/// made stale, what they changed since the version it showed).
async fn after_edit(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    result: Result<Capa, RecordError>,
    (rejected, shown_version): (Rejected, i64),
    keep: impl FnOnce(Shown) -> Shown,
    done: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => {
            flash(state, s, "ok", done).await?;
            Ok(see_other(&format!("/capas/{id}")))
        }
        Err(e) => {
            let record = Some(("capa", id, shown_version));
            let (status, rejected) = super::refused_form(state, s, e, rejected, record).await?;
            show_page(state, s, id, keep(Shown::of(rejected)), status).await
        }
    }
}
