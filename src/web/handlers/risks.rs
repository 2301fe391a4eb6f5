//! The risk file (ISO 14971): a product's risks with their heat maps, its
//! hazard list and risk management plan; each risk's page with its
//! analysis, controls and residual risk; the plan's page and editor. Steps
//! go through the one step handler (`web::step`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::nonconformances::{QualityOnly, choices, product_name};
use super::{flash, html_status, page_ctx, see_other, user_ctx};
use crate::db::DbConnection;
use crate::db::repo::risks::{self as repo, Filter};
use crate::db::repo::{requirements, users};
use crate::domain::ids::UserId;
use crate::domain::risk::plan::{HazardCategory, PlanState, PlanWorkflow, RiskPlan};
use crate::domain::risk::workflow::{ControlOption, Risk, RiskInput, RiskState, RiskWorkflow};
use crate::domain::risk::{
    Acceptability, Criteria, Estimate, Evaluation, Level, Probability, Scale,
};
use crate::domain::trace::Outcome;
use crate::domain::user::Role;
use crate::domain::workflow::Who;
use crate::service::error::RecordError;
use crate::service::risks::{self as service, Analysis, ControlText, EstimateText, Residual};
use crate::service::workflow::Stored;
use crate::web::AppState;
use crate::web::csrf::Typed;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, RoleSet, WithRole};
use crate::web::list::{ListQuery, PerPage};
use crate::web::record::{Fact, RecordHead, Section, next_steps};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::step::{WebWorkflow, text};
use crate::web::views::audit::Choice;
use crate::web::views::charts::{HeatCell, heat_map};
use crate::web::views::risks::*;
use crate::web::views::signatures::SignedField;

/// Who writes risks, their analysis and controls, and hazards.
pub struct Analysts;
impl RoleSet for Analysts {
    const ROLES: &'static [Role] = service::ANALYSTS;
}

const PER_PAGE: i64 = 50;
type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map_or("", String::as_str)
}

/// An estimate's words: "S4 Critical × P2 Remote".
fn estimate_words(c: Option<&Criteria>, e: Option<Estimate>, ev: Option<Evaluation>) -> String {
    let Some(e) = e else {
        return String::new();
    };
    let label = |s: &Scale, n: u8| {
        s.level(n)
            .map_or(String::new(), |l| format!(" {}", l.label))
    };
    let p = match e.probability {
        Probability::Level(n) => n,
        Probability::Split { .. } => ev.map_or(0, |v| v.probability),
    };
    let split = match e.probability {
        Probability::Split { p1, p2 } => format!(" (P1 {p1}, P2 {p2})"),
        Probability::Level(_) => String::new(),
    };
    match c {
        Some(c) => format!(
            "S{}{} × P{}{}{split}",
            e.severity,
            label(&c.severity, e.severity),
            p,
            label(&c.probability, p)
        ),
        None => format!("S{} × P{p}{split}", e.severity),
    }
}

fn verdict_of(ev: Option<Evaluation>) -> &'static str {
    ev.map_or("", |v| v.verdict.as_str())
}

fn level_choices(scale: &Scale, selected: &str) -> Vec<Choice> {
    (1..=scale.0.len())
        .map(|n| Choice {
            value: n.to_string(),
            label: format!("{n} {}", scale.0[n - 1].label),
            selected: selected == n.to_string(),
        })
        .collect()
}

/// The estimate fields' choices under `plan`, with what was typed (or is
/// stored) selected.
fn estimate_choices(
    plan: Option<&RiskPlan>,
    typed: &Rejected,
    (prefix, id_prefix): (&'static str, &'static str),
    stored: Option<Estimate>,
) -> Option<EstimateChoices> {
    let c = &plan?.criteria;
    let (s, p, p1, p2) = match stored {
        Some(e) => match e.probability {
            Probability::Level(n) => (
                e.severity.to_string(),
                n.to_string(),
                String::new(),
                String::new(),
            ),
            Probability::Split { p1, p2 } => (
                e.severity.to_string(),
                String::new(),
                p1.to_string(),
                p2.to_string(),
            ),
        },
        None => Default::default(),
    };
    let pick = |name: &str, stored: &str| typed.or(&format!("{prefix}{name}"), stored).to_string();
    Some(EstimateChoices {
        severity: level_choices(&c.severity, &pick("severity", &s)),
        probability: level_choices(&c.probability, &pick("probability", &p)),
        p1: c
            .split
            .as_ref()
            .map_or_else(Vec::new, |sp| level_choices(&sp.p1, &pick("p1", &p1))),
        p2: c
            .split
            .as_ref()
            .map_or_else(Vec::new, |sp| level_choices(&sp.p2, &pick("p2", &p2))),
        split: c.split.is_some(),
        prefix,
        id_prefix,
    })
}

fn estimate_text(f: &Fields, prefix: &str) -> EstimateText {
    let get = |n: &str| field(f, &format!("{prefix}{n}")).to_string();
    EstimateText {
        severity: get("severity"),
        probability: get("probability"),
        p1: get("p1"),
        p2: get("p2"),
    }
}

fn analysis_of(f: &Fields) -> Analysis {
    Analysis {
        hazard: field(f, "hazard").into(),
        sequence: field(f, "sequence").into(),
        situation: field(f, "situation").into(),
        harm: field(f, "harm").into(),
        estimate: estimate_text(f, "initial_"),
    }
}

fn hazard_choices(hazards: &[crate::domain::risk::plan::Hazard], selected: &str) -> Vec<Choice> {
    hazards
        .iter()
        .map(|h| Choice {
            value: h.id.to_string(),
            label: format!("{} ({})", h.name, h.category.label()),
            selected: h.id.to_string() == selected,
        })
        .collect()
}

/// The risk file's parameters.
pub const PARAMS: &[&str] = &["state", "verdict", "hazard", "q", "cell", "review"];

pub fn filter_of(q: &ListQuery) -> Result<Filter, AppError> {
    let cell = match q.get("cell") {
        "" => None,
        c => {
            let parts: Vec<&str> = c.split('-').collect();
            match parts.as_slice() {
                [which @ ("initial" | "residual"), s, p] => match (s.parse(), p.parse()) {
                    (Ok(s), Ok(p)) => Some((*which == "residual", s, p)),
                    _ => return Err(AppError::BadRequest(format!("There is no cell {c:?}"))),
                },
                _ => return Err(AppError::BadRequest(format!("There is no cell {c:?}"))),
            }
        }
    };
    Ok(Filter {
        state: q.choice("state", "state", RiskState::parse)?,
        verdict: match q.get("verdict") {
            "" => None,
            "none" => Some(None),
            v => Some(Some(Acceptability::parse(v).ok_or_else(|| {
                AppError::BadRequest(format!("There is no evaluation {v:?}"))
            })?)),
        },
        hazard_id: q.number("hazard", "hazard")?,
        text: q.text("q"),
        cell,
        needs_review: match q.get("review") {
            "" => false,
            "1" => true,
            v => {
                return Err(AppError::BadRequest(format!(
                    "review is 1 or nothing, not {v:?}"
                )));
            }
        },
    })
}

fn heat(plan: &RiskPlan, product: i64, residual: bool, counts: &[(i64, i64, i64)]) -> HeatMap {
    let c = &plan.criteria;
    let which = if residual { "residual" } else { "initial" };
    let labels = |s: &Scale| s.0.iter().map(|l| l.label.clone()).collect::<Vec<_>>();
    let (sev, prob) = (labels(&c.severity), labels(&c.probability));
    let count = |s: usize, p: usize| {
        counts
            .iter()
            .find(|(a, b, _)| *a == s as i64 && *b == p as i64)
            .map_or(0, |x| x.2)
    };
    let cells: Vec<Vec<HeatCell>> = (1..=sev.len())
        .map(|s| {
            (1..=prob.len())
                .map(|p| HeatCell {
                    count: count(s, p),
                    verdict: c
                        .matrix
                        .get(s - 1)
                        .and_then(|row| row.get(p - 1))
                        .map_or("unacceptable", |a| a.as_str()),
                    href: format!("/products/{product}/risks?cell={which}-{s}-{p}#risks"),
                })
                .collect()
        })
        .collect();
    let title = if residual {
        "Residual risks (after controls)"
    } else {
        "Initial risks (before controls)"
    };
    let svg = heat_map(title, &format!("heat-{which}"), &sev, &prob, &cells);
    let rows = cells
        .iter()
        .enumerate()
        .rev()
        .map(|(s, row)| {
            (
                sev[s].clone(),
                row.iter().map(|c| (c.count, c.verdict)).collect(),
            )
        })
        .collect();
    HeatMap {
        title,
        svg,
        probability: prob,
        rows,
        total: counts.iter().map(|c| c.2).sum(),
    }
}

async fn file_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (product, query): (i64, &HashMap<String, String>),
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let q = ListQuery::read(query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let filter = filter_of(&q)?;
    let (offset, limit) = (q.offset(), q.per_page);
    let f = filter.clone();
    let (d, (checks, reports, waiting)) = state
        .read(move |conn| {
            use crate::domain::risk::report::ReportKind;
            let d = service::file(conn, product, &f, (offset, limit))?.ok_or(AppError::NotFound)?;
            let (checks, _) =
                crate::service::risk_reports::live(conn, product, ReportKind::Report)?;
            let reports = crate::db::repo::risk_reports::of_product(conn, product)?;
            let waiting = crate::db::repo::risk_reports::waiting_of(conn, product, 20)?;
            Ok((d, (checks, reports, waiting)))
        })
        .await?;
    let roles = &s.account.roles;
    let criteria = d.plan.as_ref().map(|p| &p.criteria);
    let typed = sent.form("new-risk").clone();
    let path = format!("/products/{product}/risks");
    let (first, last) = q.shown(d.rows.len());
    let maps = match &d.plan {
        Some(p) => vec![
            heat(p, product, false, &d.cells.0),
            heat(p, product, true, &d.cells.1),
        ],
        None => Vec::new(),
    };
    let mut states = choices(
        &RiskState::ALL,
        RiskState::as_str,
        state_label,
        q.get("state"),
    );
    states.insert(
        0,
        Choice {
            value: String::new(),
            label: "Any state".into(),
            selected: q.get("state").is_empty(),
        },
    );
    let mut verdicts = vec![
        Choice {
            value: String::new(),
            label: "Any evaluation".into(),
            selected: q.get("verdict").is_empty(),
        },
        Choice {
            value: "none".into(),
            label: "Not evaluated yet".into(),
            selected: q.get("verdict") == "none",
        },
    ];
    verdicts.extend(choices(
        &Acceptability::ALL,
        Acceptability::as_str,
        Acceptability::label,
        q.get("verdict"),
    ));
    let mut hazard_filter = hazard_choices(&d.hazards, q.get("hazard"));
    hazard_filter.insert(
        0,
        Choice {
            value: String::new(),
            label: "Any hazard".into(),
            selected: q.get("hazard").is_empty(),
        },
    );
    let report_kinds = crate::domain::risk::report::ReportKind::ALL
        .iter()
        .map(|k| {
            let of = |st: PlanState| reports.iter().find(|r| r.kind == *k && r.state == st);
            ReportKindRow {
                kind: k.as_str(),
                label: k.label(),
                clause: k.clause(),
                approved: of(PlanState::Approved).map(|r| {
                    (
                        r.key(),
                        format!("/risk-reports/{}", r.id),
                        super::when(r.approved_at),
                    )
                }),
                draft: of(PlanState::Draft).map(|r| (r.key(), format!("/risk-reports/{}", r.id))),
            }
        })
        .collect();
    let kept = PARAMS
        .iter()
        .filter(|p| !q.get(p).is_empty())
        .map(|p| (p.to_string(), q.get(p).to_string()))
        .collect();
    let page = RiskFilePage {
        ctx: page_ctx(state, s, "/products").await?,
        kept,
        checks: checks
            .into_iter()
            .map(|c| CheckView {
                label: c.label,
                passed: c.passed,
                detail: c.detail,
            })
            .collect(),
        reviews_waiting: waiting.len(),
        waiting: waiting
            .iter()
            .map(|w| (w.record_key(), w.record_href()))
            .collect(),
        report_kinds,
        product_id: product,
        product: d.product,
        plan: d
            .plan
            .as_ref()
            .map(|p| (p.key(), format!("/risk-plans/{}", p.id))),
        draft: d
            .draft
            .as_ref()
            .map(|p| (p.key(), format!("/risk-plans/{}", p.id))),
        can_plan: roles.contains(Role::Quality),
        can_edit: roles.has_any(Analysts::ROLES),
        by_state: RiskState::ALL
            .iter()
            .map(|st| {
                let n = d
                    .by_state
                    .iter()
                    .find(|(n, _)| n == st.as_str())
                    .map_or(0, |x| x.1);
                (
                    state_label(*st),
                    n,
                    format!("{path}?state={}#risks", st.as_str()),
                )
            })
            .collect(),
        maps,
        rows: d
            .rows
            .iter()
            .map(|r| RiskRow {
                id: r.id,
                key: r.key(),
                hazard: r.hazard.clone(),
                situation: r.situation.clone(),
                harm: r.harm.clone(),
                initial: estimate_words(criteria, r.initial, r.initial_eval),
                initial_verdict: verdict_of(r.initial_eval),
                residual: estimate_words(criteria, r.residual, r.residual_eval),
                residual_verdict: verdict_of(r.residual_eval),
                state: state_label(r.state),
                controls: r.controls.len(),
            })
            .collect(),
        total: d.total,
        needing_review: d.needing_review,
        review: q.get("review") == "1",
        first,
        last,
        pages: q.pages(&path, d.total),
        states,
        verdicts,
        hazard_filter,
        q: q.get("q").to_string(),
        cell: q.get("cell").to_string(),
        filtered: q.filtered(),
        hazards: d
            .hazards
            .iter()
            .map(|h| HazardRow {
                category: h.category.label(),
                name: h.name.clone(),
                description: h.description.clone(),
            })
            .collect(),
        categories: choices(
            &HazardCategory::ALL,
            HazardCategory::as_str,
            HazardCategory::label,
            sent.form("hazard").or("category", ""),
        ),
        hazard_choices: hazard_choices(&d.hazards, typed.or("hazard", "")),
        estimate: estimate_choices(d.plan.as_ref(), &typed, ("initial_", "new-risk-"), None),
        sent,
    };
    html_status(status, &page)
}

fn state_label(s: RiskState) -> &'static str {
    crate::domain::workflow::state_def::<RiskWorkflow>(s).map_or("", |d| d.label)
}

/// `GET /products/{id}/risks`
pub async fn file(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    file_page(
        &state,
        &user.0,
        (path.into_inner(), &query),
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

/// `POST /products/{id}/risks`: a new risk.
pub async fn create(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, product) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let by = s.account.id.0;
    let analysis = analysis_of(&f);
    // A risk one of another risk's controls introduces (7.6).
    let from = match field(&f, "introduced_by") {
        "" => None,
        n => Some(
            n.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("There is no risk {n:?}")))?,
        ),
    };
    let created = state
        .db(move |conn| Ok(service::identify(conn, &ctx, by, product, &analysis, from)))
        .await?;
    match created {
        Ok(risk) => {
            flash(&state, s, "ok", &format!("{} identified.", risk.key())).await?;
            Ok(see_other(&format!("/risks/{}", risk.id)))
        }
        Err(e) => {
            let typed = Rejected::named("new-risk").typed_all(&pairs);
            let (status, rejected) = super::refused_form(&state, s, e, typed, None).await?;
            file_page(
                &state,
                s,
                (product, &HashMap::new()),
                Sent::of(rejected),
                status,
            )
            .await
        }
    }
}

/// `POST /products/{id}/hazards`: a hazard added to the product's list.
pub async fn add_hazard(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, product) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let by = s.account.id.0;
    let added = state
        .db(move |conn| {
            Ok(service::add_hazard(
                conn,
                &ctx,
                by,
                product,
                (
                    field(&f, "category"),
                    field(&f, "name"),
                    field(&f, "description"),
                ),
            ))
        })
        .await?;
    match added {
        Ok(h) => {
            flash(&state, s, "ok", &format!("Hazard {:?} added.", h.name)).await?;
            Ok(see_other(&format!("/products/{product}/risks#hazards")))
        }
        Err(e) => {
            let typed = Rejected::named("hazard").typed_all(&pairs);
            let (status, rejected) = super::refused_form(&state, s, e, typed, None).await?;
            file_page(
                &state,
                s,
                (product, &HashMap::new()),
                Sent::of(rejected),
                status,
            )
            .await
        }
    }
}

/// `POST /products/{id}/risk-plan`: the draft of the product's next plan.
pub async fn start_plan(
    state: web::Data<AppState>,
    r: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<i64>,
    crate::web::csrf::Form(_): crate::web::csrf::Form<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, product) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let by = s.account.id.0;
    let plan = state
        .db(move |conn| Ok(service::start_plan(conn, &ctx, product, by)?))
        .await?;
    Ok(see_other(&format!("/risk-plans/{}", plan.id)))
}

// ---- a risk's page ----

const SECTIONS: [Section; 3] = [
    Section {
        anchor: "analysis",
        label: "Analysis",
    },
    Section {
        anchor: "controls",
        label: "Controls",
    },
    Section {
        anchor: "residual",
        label: "Residual risk",
    },
];

fn control_choices(
    reqs: &[(i64, String, String)],
    typed: &Rejected,
    stored: (&str, &str),
) -> (Vec<Choice>, Vec<Choice>) {
    let option = typed.or("option", stored.0);
    let req = typed.or("requirement", stored.1);
    let options = choices(
        &ControlOption::ALL,
        ControlOption::as_str,
        ControlOption::label,
        option,
    );
    let mut requirements = vec![Choice {
        value: String::new(),
        label: "Not linked yet".into(),
        selected: req.is_empty(),
    }];
    requirements.extend(reqs.iter().map(|(id, key, title)| Choice {
        value: id.to_string(),
        label: format!("{key} {title}"),
        selected: id.to_string() == req,
    }));
    (options, requirements)
}

async fn show_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let asks = state.signature_requests.clone();
    let (risk, more) = state
        .read(move |conn| {
            let risk = RiskWorkflow::load(conn, id)?.ok_or(AppError::NotFound)?;
            let asks = crate::web::ask::on_record::<RiskWorkflow>(conn, &asks, &risk)?;
            let product = product_name(conn, Some(risk.product_id))?;
            let plan = service::approved_plan(conn, risk.product_id)?;
            let hazards = repo::hazards_of(conn, risk.product_id)?;
            let req_ids: Vec<i64> = risk.controls.iter().filter_map(|c| c.requirement).collect();
            let tests = service::implementation(conn, &req_ids)?;
            let linked: HashMap<i64, (String, String)> = requirements::by_ids(conn, &req_ids)?
                .into_iter()
                .map(|r| (r.id, (r.key, r.title)))
                .collect();
            // The choices of a control's requirement, only where one is chosen.
            let choosable = match risk.state {
                RiskState::Analyzed => repo::control_requirements(conn, risk.product_id, 500)?,
                _ => Vec::new(),
            };
            let analyst = match risk.analyst {
                Some(a) => {
                    users::find(conn, UserId(a))?.map_or_else(|| format!("u-{a}"), |u| u.full_name)
                }
                None => String::new(),
            };
            let introduces = repo::introduced_by(conn, risk.id)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "risk",
                &format!("risk-{id}"),
                &roles,
            )?;
            let signatures = super::signatures::panel_of::<RiskWorkflow>(conn, &risk, &roles)?;
            let records = crate::service::risk_reports::records_of_risk(conn, id)?;
            let files =
                crate::db::repo::attachments::of_record(conn, "risk", &format!("risk-{id}"))?;
            let file_people = users::names(conn, &super::attachments::people_of(&files))?;
            Ok((
                risk,
                (
                    product,
                    plan,
                    hazards,
                    (tests, linked, choosable),
                    analyst,
                    introduces,
                    (history, signatures, asks),
                    (records, files, file_people),
                ),
            ))
        })
        .await?;
    let (
        product,
        plan,
        hazards,
        (tests, linked, choosable),
        analyst,
        introduces,
        (history, signatures, asks),
        (records, files, file_people),
    ) = more;
    let roles = &s.account.roles;
    let who = Who {
        user: Some(s.account.id.0),
        roles,
    };
    let criteria = plan.as_ref().map(|p| &p.criteria);
    let mut head = RecordHead::new::<RiskWorkflow>(
        ("/products", "Products"),
        (
            risk.key(),
            if risk.situation.is_empty() {
                "New risk".into()
            } else {
                risk.situation.clone()
            },
        ),
        risk.state,
        &SECTIONS,
        crate::web::record::diagram::<RiskWorkflow>(&risk.key(), risk.state),
    );
    head.facts = vec![
        Fact::new("Product", format!("{product} risk file"))
            .link(Some(format!("/products/{}/risks", risk.product_id))),
        Fact::new("Hazard", risk.hazard.clone()),
        Fact::new(
            "Initial",
            format!(
                "{} {}",
                estimate_words(criteria, risk.initial, risk.initial_eval),
                verdict_of(risk.initial_eval)
            ),
        ),
        Fact::new(
            "Residual",
            format!(
                "{} {}",
                estimate_words(criteria, risk.residual, risk.residual_eval),
                verdict_of(risk.residual_eval)
            ),
        ),
    ];
    if risk.needs_review_since.is_some() {
        head.badges.push(("Needs review".into(), "#review".into()));
    }
    let next = next_steps::<RiskWorkflow>(&risk, who, format!("/risks/{}", risk.id), risk.version);
    let next = crate::web::ask::with_requests::<RiskWorkflow>(next, asks.as_deref(), &risk, s);
    let analyst_role = roles.has_any(Analysts::ROLES);
    let can_analyze =
        analyst_role && matches!(risk.state, RiskState::Identified | RiskState::Analyzed);
    let can_add_control = analyst_role && risk.state == RiskState::Analyzed;
    let can_edit_controls =
        analyst_role && matches!(risk.state, RiskState::Analyzed | RiskState::Controlled);
    let can_residual =
        analyst_role && matches!(risk.state, RiskState::Controlled | RiskState::Verified);
    let mut forms: Vec<String> = next.forms();
    if can_analyze {
        forms.push("analysis".into());
    }
    if can_add_control {
        forms.push("control-new".into());
    }
    if can_residual {
        forms.push("residual".into());
    }
    let can_review = analyst_role && risk.needs_review_since.is_some();
    if can_review {
        forms.push("review".into());
    }
    let controls: Vec<ControlView> = risk
        .controls
        .iter()
        .map(|c| {
            let form = format!("control-{}", c.id);
            if can_edit_controls {
                forms.push(form.clone());
            }
            let typed = sent.form(&form);
            let req = c.requirement.map(|r| r.to_string()).unwrap_or_default();
            let (options, requirements) =
                control_choices(&choosable, typed, (c.option.as_str(), &req));
            ControlView {
                id: c.id,
                option: c.option.label(),
                option_name: c.option.as_str(),
                description: typed.or("description", &c.description).to_string(),
                requirement: c
                    .requirement
                    .and_then(|r| linked.get(&r).map(|(k, t)| (r, k.clone(), t.clone()))),
                tests: c
                    .requirement
                    .and_then(|r| tests.get(&r))
                    .map(|ts| {
                        ts.iter()
                            .map(|(k, o)| (k.clone(), o.map_or("no result", Outcome::label)))
                            .collect()
                    })
                    .unwrap_or_default(),
                tests_pass: c.tests_pass,
                effectiveness: typed.or("effectiveness", &c.effectiveness).to_string(),
                options,
                requirements,
            }
        })
        .collect();
    let typed_new = sent.form("control-new");
    let (options, requirements) = control_choices(&choosable, typed_new, ("", ""));
    let new_control = ControlView {
        id: 0,
        option: "",
        option_name: "",
        description: typed_new.or("description", "").to_string(),
        requirement: None,
        tests: Vec::new(),
        tests_pass: false,
        effectiveness: typed_new.or("effectiveness", "").to_string(),
        options,
        requirements,
    };
    let can_link = analyst_role;
    if can_link {
        forms.push("link".into());
    }
    let attachments = attachments_panel(state, s, &risk, &files, &file_people);
    forms.extend(attachments.forms());
    let analysis = sent.form("analysis").clone();
    let residual = sent.form("residual").clone();
    let mut sent = sent;
    sent.place(&forms);
    let page = RiskPage {
        ctx: page_ctx(state, s, "/products").await?,
        head,
        next,
        id: risk.id,
        product_id: risk.product_id,
        product,
        hazard: risk.hazard.clone(),
        sequence: analysis.or("sequence", &risk.sequence).to_string(),
        situation: analysis.or("situation", &risk.situation).to_string(),
        harm: analysis.or("harm", &risk.harm).to_string(),
        initial: estimate_words(criteria, risk.initial, risk.initial_eval),
        initial_verdict: verdict_of(risk.initial_eval),
        residual: estimate_words(criteria, risk.residual, risk.residual_eval),
        residual_verdict: verdict_of(risk.residual_eval),
        residual_reason: residual
            .or("residual_reason", &risk.residual_reason)
            .to_string(),
        benefit_risk: residual.or("benefit_risk", &risk.benefit_risk).to_string(),
        analyst,
        reason: risk.reason.clone(),
        needs_review: risk.needs_review.lines().map(str::to_string).collect(),
        needs_review_since: super::when(risk.needs_review_since),
        can_review,
        introduced_by: risk
            .introduced_by
            .map(|n| (format!("RISK-{n}"), format!("/risks/{n}"))),
        introduces: introduces
            .into_iter()
            .map(|n| (format!("RISK-{n}"), format!("/risks/{n}")))
            .collect(),
        plan: plan
            .as_ref()
            .map(|p| (p.key(), format!("/risk-plans/{}", p.id))),
        can_analyze,
        can_add_control,
        can_edit_controls,
        can_residual,
        hazards: hazard_choices(
            &hazards,
            analysis.or(
                "hazard",
                &risk.hazard_id.map(|h| h.to_string()).unwrap_or_default(),
            ),
        ),
        initial_choices: estimate_choices(
            plan.as_ref(),
            &analysis,
            ("initial_", "analysis-"),
            risk.initial,
        ),
        residual_choices: estimate_choices(
            plan.as_ref(),
            &residual,
            ("residual_", "residual-"),
            risk.residual,
        ),
        controls,
        new_control,
        records: records
            .into_iter()
            .map(|l| (l.link_id, l.key, l.href, l.title))
            .collect(),
        can_link,
        attachments,
        history,
        signatures,
        sent,
    };
    html_status(status, &page)
}

/// The Attachments section of a risk: files on the risk or as the evidence
/// of one of its controls (verification of effectiveness, 7.2), added and
/// removed by engineers and quality until the risk is accepted.
fn attachments_panel(
    state: &AppState,
    s: &SessionCtx,
    risk: &Risk,
    kept: &[crate::db::repo::attachments::Attachment],
    names: &HashMap<i64, String>,
) -> crate::web::views::attachments::AttachmentsPanel {
    use crate::web::views::attachments::{AttachmentView, AttachmentsPanel};
    let me = s.account.id.0;
    let quality = s.account.roles.contains(Role::Quality);
    let editor = s.account.roles.has_any(Analysts::ROLES);
    let open = risk.state != RiskState::Accepted;
    let name_of = |n: i64| names.get(&n).cloned().unwrap_or_else(|| format!("u-{n}"));
    let control_label = |n: usize, c: &crate::domain::risk::workflow::Control| {
        let text: String = c.description.chars().take(60).collect();
        format!("Control {n}: {text}")
    };
    let part_label = |part: &str| -> String {
        match part {
            "" => "The risk".into(),
            p => risk
                .controls
                .iter()
                .enumerate()
                .find(|(_, c)| format!("risk-control-{}", c.id) == p)
                .map_or_else(
                    || "A control since withdrawn".into(),
                    |(n, c)| control_label(n + 1, c),
                ),
        }
    };
    let mut parts = Vec::new();
    if open && editor {
        parts.push(Choice {
            value: String::new(),
            label: "The risk".into(),
            selected: true,
        });
        for (n, c) in risk.controls.iter().enumerate() {
            parts.push(Choice {
                value: format!("risk-control-{}", c.id),
                label: format!("{} (evidence of effectiveness)", control_label(n + 1, c)),
                selected: false,
            });
        }
    }
    AttachmentsPanel {
        list: kept
            .iter()
            .map(|a| {
                let can_remove = open && (quality || editor && a.added_by == me);
                AttachmentView::new(a, part_label(&a.part), &name_of, can_remove)
            })
            .collect(),
        post_to: (!parts.is_empty()).then(|| format!("/attachments/risk/risk-{}", risk.id)),
        parts,
        limit: super::attachments::limit_text(state.settings.max_upload_bytes),
    }
}

/// `POST /risks/{id}/links` (`key`: NC-3 or CAPA-7): links the record to
/// the risk, which then needs review (ISO 14971 10).
pub async fn link_record(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (r.session(), path.into_inner());
    let ctx = user_ctx(&state, s, op);
    let key = field(&f, "key").to_string();
    let account = s.account.clone();
    let linked = state
        .db(move |conn| {
            Ok(crate::service::risk_reports::link_record(
                conn, &ctx, id, &key, &account,
            ))
        })
        .await?;
    match linked {
        Ok(key) => {
            flash(
                &state,
                s,
                "ok",
                &format!("{key} is linked; RISK-{id} needs review."),
            )
            .await?;
            Ok(see_other(&format!("/risks/{id}#records")))
        }
        Err(e) => {
            let typed = Rejected::named("link").typed_all(&pairs);
            let (status, rejected) = super::refused_form(&state, s, e, typed, None).await?;
            show_page(&state, s, id, Sent::of(rejected), status).await
        }
    }
}

/// `POST /risks/{id}/links/{link}/remove`
pub async fn unlink_record(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    crate::web::csrf::Form(_): crate::web::csrf::Form<Fields>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let (id, link) = path.into_inner();
    let ctx = user_ctx(&state, s, op);
    let account = s.account.clone();
    state
        .db(move |conn| {
            Ok(crate::service::risk_reports::unlink_record(
                conn, &ctx, id, link, &account,
            )?)
        })
        .await?;
    flash(
        &state,
        s,
        "ok",
        "The link is removed (kept in the history).",
    )
    .await?;
    Ok(see_other(&format!("/risks/{id}#records")))
}

/// `GET /risks/{id}`
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_page(
        &state,
        &user.0,
        path.into_inner(),
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

fn version_of(f: &Fields) -> Result<i64, AppError> {
    field(f, "version")
        .parse()
        .map_err(|_| AppError::BadRequest("The form has no record version".into()))
}

/// A risk's form saved by `save`, or shown again as typed with why not.
async fn save_risk_form(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (id, form, op): (i64, &str, Option<String>),
    (f, pairs): (Fields, Vec<(String, String)>),
    save: impl FnOnce(
        &mut DbConnection,
        &crate::service::Ctx,
        i64,
        &Fields,
    ) -> Result<Risk, RecordError>
    + Send
    + 'static,
) -> Result<HttpResponse, AppError> {
    let version = version_of(&f)?;
    let ctx = user_ctx(state, s, op);
    let saved = state
        .db(move |conn| Ok(save(conn, &ctx, version, &f)))
        .await?;
    match saved {
        Ok(r) => {
            flash(state, s, "ok", &format!("{} saved.", r.key())).await?;
            Ok(see_other(&format!("/risks/{id}")))
        }
        Err(e) => {
            let typed = Rejected::named(form).typed_all(&pairs);
            let (status, rejected) =
                super::refused_form(state, s, e, typed, Some(("risk", id, version))).await?;
            show_page(state, s, id, Sent::of(rejected), status).await
        }
    }
}

/// `POST /risks/{id}/analysis`
pub async fn save_analysis(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    save_risk_form(
        &state,
        r.session(),
        (id, "analysis", op),
        (f, pairs),
        move |conn, ctx, v, f| service::update_analysis(conn, ctx, id, v, &analysis_of(f)),
    )
    .await
}

/// `POST /risks/{id}/review`: a review decision that clears "needs review".
pub async fn save_review(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    save_risk_form(
        &state,
        r.session(),
        (id, "review", op),
        (f, pairs),
        move |conn, ctx, v, f| service::review(conn, ctx, (id, v), field(f, "decision")),
    )
    .await
}

/// `POST /risks/{id}/residual`
pub async fn save_residual(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    save_risk_form(
        &state,
        r.session(),
        (id, "residual", op),
        (f, pairs),
        move |conn, ctx, v, f| {
            let residual = Residual {
                estimate: estimate_text(f, "residual_"),
                reason: field(f, "residual_reason").into(),
                benefit_risk: field(f, "benefit_risk").into(),
            };
            service::update_residual(conn, ctx, id, v, &residual)
        },
    )
    .await
}

fn control_text(f: &Fields) -> ControlText {
    ControlText {
        option: field(f, "option").into(),
        description: field(f, "description").into(),
        requirement: field(f, "requirement").into(),
        effectiveness: field(f, "effectiveness").into(),
    }
}

/// `POST /risks/{id}/controls`: a control added.
pub async fn add_control(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    save_risk_form(
        &state,
        r.session(),
        (id, "control-new", op),
        (f, pairs),
        move |conn, ctx, v, f| service::add_control(conn, ctx, id, v, &control_text(f)),
    )
    .await
}

/// `POST /risks/{id}/controls/{control}`: a control changed, or withdrawn
/// (`withdraw=1`).
pub async fn change_control(
    state: web::Data<AppState>,
    r: WithRole<Analysts>,
    OpId(op): OpId,
    path: web::Path<(i64, i64)>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (id, control) = path.into_inner();
    let form = format!("control-{control}");
    save_risk_form(
        &state,
        r.session(),
        (id, &form, op),
        (f, pairs),
        move |conn, ctx, v, f| match field(f, "withdraw") {
            "" => service::update_control(conn, ctx, (id, v, control), &control_text(f)),
            _ => service::withdraw_control(conn, ctx, (id, v, control)),
        },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    version: i64,
    #[serde(default)]
    reason: Option<String>,
}

/// Risk steps on the one step handler.
impl WebWorkflow for RiskWorkflow {
    const AREA: &'static str = "risks";
    type Form = ActionForm;

    fn form_version(f: &ActionForm) -> i64 {
        f.version
    }
    fn input(f: &ActionForm) -> Result<RiskInput, AppError> {
        Ok(RiskInput {
            reason: text(f.reason.as_ref()),
        })
    }
    fn title(r: &Risk) -> String {
        r.situation.clone()
    }
    fn signed_fields(conn: &mut DbConnection, r: &Risk) -> Result<Vec<SignedField>, AppError> {
        let plan = service::approved_plan(conn, r.product_id)?;
        let c = plan.as_ref().map(|p| &p.criteria);
        let reqs: Vec<i64> = r.controls.iter().filter_map(|c| c.requirement).collect();
        let keys: HashMap<i64, String> = requirements::by_ids(conn, &reqs)?
            .into_iter()
            .map(|q| (q.id, q.key))
            .collect();
        let field = |label, value: String| SignedField { label, value };
        let mut out = vec![
            field("Product", product_name(conn, Some(r.product_id))?),
            field("Plan", plan.as_ref().map(|p| p.key()).unwrap_or_default()),
            field("Hazard", r.hazard.clone()),
            field("Sequence of events", r.sequence.clone()),
            field("Hazardous situation", r.situation.clone()),
            field("Harm", r.harm.clone()),
            field(
                "Initial risk",
                format!(
                    "{} ({})",
                    estimate_words(c, r.initial, r.initial_eval),
                    verdict_of(r.initial_eval)
                ),
            ),
        ];
        for ctl in &r.controls {
            out.push(field(
                "Control",
                format!(
                    "{}: {} (requirement {}, tests {}; effectiveness: {})",
                    ctl.option.label(),
                    ctl.description,
                    ctl.requirement
                        .and_then(|q| keys.get(&q).cloned())
                        .unwrap_or_else(|| "none".into()),
                    if ctl.tests_pass {
                        "passed"
                    } else {
                        "not all passed"
                    },
                    ctl.effectiveness
                ),
            ));
        }
        out.push(field(
            "Residual risk",
            format!(
                "{} ({})",
                estimate_words(c, r.residual, r.residual_eval),
                verdict_of(r.residual_eval)
            ),
        ));
        out.push(field("Benefit-risk rationale", r.benefit_risk.clone()));
        Ok(out)
    }
    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        rejected: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        show_page(state, s, id, Sent::of(rejected), status).await
    }
}

// ---- the plan ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanActionForm {
    version: i64,
}

const PLAN_SECTIONS: [Section; 1] = [Section {
    anchor: "criteria",
    label: "Criteria",
}];

fn levels_view(s: &Scale) -> Vec<LevelView> {
    s.0.iter()
        .enumerate()
        .map(|(i, l)| LevelView {
            n: i + 1,
            label: l.label.clone(),
            description: l.description.clone(),
        })
        .collect()
}

async fn plan_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    shown: Option<Criteria>,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let asks = state.signature_requests.clone();
    let (plan, product, versions, history, (signatures, asks)) = state
        .read(move |conn| {
            let plan = repo::plans::find_plan(conn, id)?.ok_or(AppError::NotFound)?;
            let asks = crate::web::ask::on_record::<PlanWorkflow>(conn, &asks, &plan)?;
            let product = product_name(conn, Some(plan.product_id))?;
            let versions = repo::plans::plans_of(conn, plan.product_id)?;
            let history = super::audit::history_panel(
                conn,
                &histories,
                "risk_plan",
                &format!("rmp-{id}"),
                &roles,
            )?;
            let signatures = super::signatures::panel_of::<PlanWorkflow>(conn, &plan, &roles)?;
            Ok((plan, product, versions, history, (signatures, asks)))
        })
        .await?;
    let roles = &s.account.roles;
    let who = Who {
        user: Some(s.account.id.0),
        roles,
    };
    let mut head = RecordHead::new::<PlanWorkflow>(
        ("/products", "Products"),
        (plan.key(), format!("Risk management plan of {product}")),
        plan.state,
        &PLAN_SECTIONS,
        crate::web::record::diagram::<PlanWorkflow>(&plan.key(), plan.state),
    );
    head.facts = vec![
        Fact::new("Product", format!("{product} risk file"))
            .link(Some(format!("/products/{}/risks", plan.product_id))),
        Fact::new("Approved", super::when(plan.approved_at)),
    ];
    let next =
        next_steps::<PlanWorkflow>(&plan, who, format!("/risk-plans/{}", plan.id), plan.version);
    let next = crate::web::ask::with_requests::<PlanWorkflow>(next, asks.as_deref(), &plan, s);
    let can_edit = roles.contains(Role::Quality) && plan.state == PlanState::Draft;
    let mut forms: Vec<String> = next.forms();
    if can_edit {
        forms.push("criteria".into());
    }
    let c = shown.unwrap_or_else(|| plan.criteria.clone());
    let mut sent = sent;
    sent.place(&forms);
    let sev = levels_view(&c.severity);
    let matrix = (0..c.severity.0.len())
        .rev()
        .map(|si| {
            (
                c.severity.0[si].label.clone(),
                (0..c.probability.0.len())
                    .map(|pi| {
                        let v = c
                            .matrix
                            .get(si)
                            .and_then(|row| row.get(pi))
                            .copied()
                            .unwrap_or(Acceptability::Unacceptable);
                        (format!("m_{}_{}", si + 1, pi + 1), v.as_str())
                    })
                    .collect(),
            )
        })
        .collect();
    let page = PlanPage {
        ctx: page_ctx(state, s, "/products").await?,
        head,
        next,
        id: plan.id,
        product_id: plan.product_id,
        product,
        severity_levels: c.severity.0.len(),
        probability_levels: c.probability.0.len(),
        severity: sev,
        probability: levels_view(&c.probability),
        split: c.split.as_ref().map(|sp| SplitView {
            p1: levels_view(&sp.p1),
            p2: levels_view(&sp.p2),
            rows: sp
                .p1
                .0
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let row = sp.combine.get(i);
                    (
                        l.label.clone(),
                        (0..sp.p2.0.len())
                            .map(|j| {
                                (
                                    format!("c_{}_{}", i + 1, j + 1),
                                    row.and_then(|r| r.get(j)).copied().unwrap_or(0),
                                )
                            })
                            .collect(),
                    )
                })
                .collect(),
        }),
        matrix,
        reevaluation: plan.reevaluation.clone(),
        can_edit,
        levels: (3..=5)
            .map(|n| Choice {
                value: n.to_string(),
                label: n.to_string(),
                selected: false,
            })
            .collect(),
        verdicts: Acceptability::ALL
            .iter()
            .map(|a| (a.as_str(), a.label()))
            .collect(),
        versions: versions
            .iter()
            .map(|p| (p.key(), format!("/risk-plans/{}", p.id), p.state.label()))
            .collect(),
        history,
        signatures,
        sent,
    };
    html_status(status, &page)
}

/// `GET /risk-plans/{id}`
pub async fn plan(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    plan_page(
        &state,
        &user.0,
        path.into_inner(),
        None,
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

/// The criteria as the editor sent them: `severity_levels` and
/// `probability_levels` (3 to 5), each level's `severity_label_n` and
/// `severity_description_n` (and probability's), each cell `m_s_p`; with
/// `split=yes`, `p1_levels` and `p2_levels` (3 when not sent yet), their
/// levels' labels and descriptions, and each combination's probability
/// level `c_p1_p2`. A changed number of levels shows the editor again at
/// that size.
fn criteria_of_form(f: &Fields) -> (Criteria, bool) {
    let count = |name: &str| field(f, name).parse::<usize>().unwrap_or(3).clamp(1, 5);
    let (ns, np) = (count("severity_levels"), count("probability_levels"));
    let scale = |what: &str, n: usize| {
        Scale(
            (1..=n)
                .map(|i| Level {
                    label: field(f, &format!("{what}_label_{i}")).trim().to_string(),
                    description: field(f, &format!("{what}_description_{i}"))
                        .trim()
                        .to_string(),
                })
                .collect(),
        )
    };
    let mut complete = true;
    let matrix = (1..=ns)
        .map(|s| {
            (1..=np)
                .map(
                    |p| match Acceptability::parse(field(f, &format!("m_{s}_{p}"))) {
                        Some(a) => a,
                        None => {
                            complete = false;
                            Acceptability::Unacceptable
                        }
                    },
                )
                .collect()
        })
        .collect();
    let split = (field(f, "split") == "yes").then(|| {
        let (n1, n2) = (count("p1_levels"), count("p2_levels"));
        crate::domain::risk::Split {
            p1: scale("p1", n1),
            p2: scale("p2", n2),
            combine: (1..=n1)
                .map(|a| {
                    (1..=n2)
                        .map(|b| field(f, &format!("c_{a}_{b}")).parse::<u8>().unwrap_or(0))
                        .collect()
                })
                .collect(),
        }
    });
    (
        Criteria {
            severity: scale("severity", ns),
            probability: scale("probability", np),
            split,
            matrix,
        },
        complete,
    )
}

/// `POST /risk-plans/{id}/edit`
pub async fn save_plan(
    state: web::Data<AppState>,
    r: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (r.session(), path.into_inner());
    let version = version_of(&f)?;
    let (criteria, complete) = criteria_of_form(&f);
    let typed = Rejected::named("criteria").typed_all(&pairs);
    if !complete {
        let rejected = typed.problem(
            "matrix",
            "Choose a verdict for every cell of the acceptability matrix.",
        );
        return plan_page(
            &state,
            s,
            id,
            Some(criteria),
            Sent::of(rejected),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let ctx = user_ctx(&state, s, op);
    let c = criteria.clone();
    let saved = state
        .db(move |conn| Ok(service::save_plan(conn, &ctx, id, version, c)))
        .await?;
    match saved {
        Ok(p) => {
            flash(&state, s, "ok", &format!("{} saved.", p.key())).await?;
            Ok(see_other(&format!("/risk-plans/{id}")))
        }
        Err(e) => {
            let (status, rejected) =
                super::refused_form(&state, s, e, typed, Some(("risk_plan", id, version))).await?;
            plan_page(&state, s, id, Some(criteria), Sent::of(rejected), status).await
        }
    }
}

/// Plan steps on the one step handler.
impl WebWorkflow for PlanWorkflow {
    const AREA: &'static str = "risk-plans";
    type Form = PlanActionForm;

    fn form_version(f: &PlanActionForm) -> i64 {
        f.version
    }
    fn input(_: &PlanActionForm) -> Result<(), AppError> {
        Ok(())
    }
    fn title(p: &RiskPlan) -> String {
        format!("Risk management plan {}", p.number)
    }
    fn signed_fields(conn: &mut DbConnection, p: &RiskPlan) -> Result<Vec<SignedField>, AppError> {
        let c = &p.criteria;
        let scale = |s: &Scale| {
            s.0.iter()
                .enumerate()
                .map(|(i, l)| format!("{} {} ({})", i + 1, l.label, l.description))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let field = |label, value: String| SignedField { label, value };
        let mut out = vec![
            field("Product", product_name(conn, Some(p.product_id))?),
            field("Severity", scale(&c.severity)),
            field("Probability", scale(&c.probability)),
        ];
        if let Some(sp) = &c.split {
            out.push(field("P1", scale(&sp.p1)));
            out.push(field("P2", scale(&sp.p2)));
            for (i, row) in sp.combine.iter().enumerate() {
                out.push(field(
                    "P1 x P2",
                    format!(
                        "P1 {} {}: {}",
                        i + 1,
                        sp.p1.0.get(i).map_or("", |l| l.label.as_str()),
                        row.iter()
                            .enumerate()
                            .map(|(j, v)| format!("P2 {} gives P{v}", j + 1))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        for (i, row) in c.matrix.iter().enumerate().rev() {
            out.push(field(
                "Matrix",
                format!(
                    "S{} {}: {}",
                    i + 1,
                    c.severity.0.get(i).map_or("", |l| l.label.as_str()),
                    row.iter()
                        .enumerate()
                        .map(|(j, a)| format!("P{} {}", j + 1, a.label()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(out)
    }
    async fn refused_page(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        id: i64,
        rejected: Rejected,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        plan_page(state, s, id, None, Sent::of(rejected), status).await
    }
    async fn done(
        state: &web::Data<AppState>,
        s: &SessionCtx,
        p: &RiskPlan,
        _action: &str,
    ) -> Result<HttpResponse, AppError> {
        let id = p.id;
        let words = state
            .read(move |conn| {
                Ok(repo::plans::find_plan(conn, id)?
                    .map(|p| p.reevaluation)
                    .unwrap_or_default())
            })
            .await?;
        flash(state, s, "ok", &format!("{} is approved. {words}", p.key())).await?;
        Ok(see_other(&format!("/risk-plans/{id}")))
    }
}

/// `POST /products/{id}/risks/export` (`format` csv or xlsx, and the risk
/// file's filters): the product's risks as the filters keep them, kept with
/// a manifest signed by the log key, a checkpoint signed at once.
pub async fn export(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(_, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, product) = (&user.0, path.into_inner());
    let (query, format) = super::documents::export_request(pairs, PARAMS)?;
    let q = ListQuery::read(&query, PARAMS, PerPage::Fixed(PER_PAGE))?;
    let filter = filter_of(&q)?;
    let mut described: Vec<String> = PARAMS
        .iter()
        .filter(|p| !q.get(p).is_empty())
        .map(|p| format!("{p}={}", q.get(p)))
        .collect();
    described.sort();
    let ctx = user_ctx(&state, s, op);
    let key = state.log_key.clone();
    let id = state
        .db(move |conn| {
            Ok(crate::service::risk_reports::export_file(
                conn,
                &ctx,
                &key,
                (product, &filter, &described),
                format,
            )?)
        })
        .await?;
    state.checkpoint().await?;
    flash(
        &state,
        s,
        "ok",
        "Exported: download the file and its signed manifest below.",
    )
    .await?;
    Ok(see_other(&format!("/risk-exports#export-{id}")))
}

/// `GET /risk-exports`: the kept risk file exports, newest first.
pub async fn exports(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    super::documents::kept_exports(
        &state,
        &user.0,
        &query,
        ("risks", "risk files"),
        ("/products", "Products"),
    )
    .await
}

/// `GET /risk-exports/{id}/file`: the exact bytes exported.
pub async fn export_file(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    super::documents::kept_file(&state, path.into_inner(), "risks").await
}

/// `GET /risk-exports/{id}/manifest`: the signed manifest file.
pub async fn export_manifest(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    super::documents::kept_manifest(&state, path.into_inner(), "risks").await
}
