//! The overall residual risk evaluation (ISO 14971 7.7) and the risk
//! management report (8): their pages, the conclusion's editor and their
//! approval on the one step handler. And the risk review decisions (10)
//! a nonconformance's or CAPA's page asks quality for.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::nonconformances::{QualityOnly, product_name};
use super::{flash, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::DbConnection;
use crate::db::repo::risk_reports as repo;
use crate::db::repo::users;
use crate::domain::capa::CapaWorkflow;
use crate::domain::ids::UserId;
use crate::domain::nonconformance::NcWorkflow;
use crate::domain::risk::plan::PlanState;
use crate::domain::risk::report::{ReportKind, ReportWorkflow, ReviewDecision, RiskReport};
use crate::domain::user::{Role, Roles};
use crate::domain::workflow::Who;
use crate::service::risk_reports::{self as service, DecisionText};
use crate::web::AppState;
use crate::web::csrf::Typed;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId, WithRole};
use crate::web::record::{Fact, RecordHead, Section, next_steps};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::step::WebWorkflow;
use crate::web::views::audit::Choice;
use crate::web::views::risks::{CheckView, DecidedView, ReportPage, RiskReviewPanel};
use crate::web::views::signatures::SignedField;

type Fields = HashMap<String, String>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map_or("", String::as_str)
}

/// `POST /products/{id}/risk-reports` (`kind`: evaluation or report): the
/// product's draft of that kind, started if there is none.
pub async fn start(
    state: web::Data<AppState>,
    r: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<i64>,
    crate::web::csrf::Form(f): crate::web::csrf::Form<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, product) = (r.session(), path.into_inner());
    let kind = ReportKind::parse(field(&f, "kind"))
        .ok_or_else(|| AppError::BadRequest("kind is evaluation or report".into()))?;
    let ctx = user_ctx(&state, s, op);
    let by = s.account.id.0;
    let report = state
        .db(move |conn| Ok(service::start(conn, &ctx, product, kind, by)?))
        .await?;
    Ok(see_other(&format!("/risk-reports/{}", report.id)))
}

const SECTIONS: [Section; 2] = [
    Section {
        anchor: "checks",
        label: "Checks",
    },
    Section {
        anchor: "conclusion",
        label: "Conclusion",
    },
];

async fn report_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: i64,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    use crate::service::workflow::Stored;
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let asks = state.signature_requests.clone();
    let (r, product, versions, plan, (history, signatures, asks)) = state
        .read(move |conn| {
            let r = ReportWorkflow::load(conn, id)?.ok_or(AppError::NotFound)?;
            let asks = crate::web::ask::on_record::<ReportWorkflow>(conn, &asks, &r)?;
            let product = product_name(conn, Some(r.product_id))?;
            let versions: Vec<RiskReport> = repo::of_product(conn, r.product_id)?
                .into_iter()
                .filter(|v| v.kind == r.kind)
                .collect();
            let plan_id = if r.state == PlanState::Draft {
                r.live_plan
            } else {
                r.plan_id
            };
            let plan = match plan_id {
                Some(p) => crate::db::repo::risks::plans::find_plan(conn, p)?,
                None => None,
            };
            let history = super::audit::history_panel(
                conn,
                &histories,
                "risk_report",
                &format!("rr-{id}"),
                &roles,
            )?;
            let signatures = super::signatures::panel_of::<ReportWorkflow>(conn, &r, &roles)?;
            Ok((r, product, versions, plan, (history, signatures, asks)))
        })
        .await?;
    let roles = &s.account.roles;
    let who = Who {
        user: Some(s.account.id.0),
        roles,
    };
    let mut head = RecordHead::new::<ReportWorkflow>(
        ("/products", "Products"),
        (r.key(), format!("{} of {product}", r.kind.label())),
        r.state,
        &SECTIONS,
        crate::web::record::diagram::<ReportWorkflow>(&r.key(), r.state),
    );
    head.facts = vec![
        Fact::new("Product", format!("{product} risk file"))
            .link(Some(format!("/products/{}/risks", r.product_id))),
        Fact::new("Approved", when(r.approved_at)),
    ];
    let next = next_steps::<ReportWorkflow>(&r, who, format!("/risk-reports/{}", r.id), r.version);
    let next = crate::web::ask::with_requests::<ReportWorkflow>(next, asks.as_deref(), &r, s);
    let can_edit = roles.contains(Role::Quality) && r.state == PlanState::Draft;
    let mut forms: Vec<String> = next.forms();
    if can_edit {
        forms.push("conclusion".into());
    }
    let mut sent = sent;
    sent.place(&forms);
    let page = ReportPage {
        ctx: page_ctx(state, s, "/products").await?,
        head,
        next,
        sent,
        id: r.id,
        product_id: r.product_id,
        clause: r.kind.clause(),
        asks: r.kind.asks(),
        conclusion: r.conclusion.clone(),
        kept: r.state != PlanState::Draft,
        checks: r
            .shown_checks()
            .iter()
            .map(|c| CheckView {
                label: c.label.clone(),
                passed: c.passed,
                detail: c.detail.clone(),
            })
            .collect(),
        plan: plan.map(|p| (p.key(), format!("/risk-plans/{}", p.id))),
        can_edit,
        versions: versions
            .iter()
            .map(|v| (v.key(), format!("/risk-reports/{}", v.id), v.state.label()))
            .collect(),
        history,
        signatures,
    };
    html_status(status, &page)
}

/// `GET /risk-reports/{id}`
pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    report_page(
        &state,
        &user.0,
        path.into_inner(),
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

/// `POST /risk-reports/{id}/edit`: a draft's conclusion.
pub async fn save(
    state: web::Data<AppState>,
    r: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let (s, id) = (r.session(), path.into_inner());
    let version: i64 = field(&f, "version")
        .parse()
        .map_err(|_| AppError::BadRequest("The form has no record version".into()))?;
    let ctx = user_ctx(&state, s, op);
    let text = field(&f, "conclusion").to_string();
    let saved = state
        .db(move |conn| Ok(service::save_conclusion(conn, &ctx, (id, version), &text)))
        .await?;
    match saved {
        Ok(r) => {
            flash(&state, s, "ok", &format!("{} saved.", r.key())).await?;
            Ok(see_other(&format!("/risk-reports/{id}")))
        }
        Err(e) => {
            let typed = Rejected::named("conclusion").typed_all(&pairs);
            let (status, rejected) =
                super::refused_form(&state, s, e, typed, Some(("risk_report", id, version)))
                    .await?;
            report_page(&state, s, id, Sent::of(rejected), status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportActionForm {
    version: i64,
}

/// Evaluation and report steps on the one step handler.
impl WebWorkflow for ReportWorkflow {
    const AREA: &'static str = "risk-reports";
    type Form = ReportActionForm;

    fn form_version(f: &ReportActionForm) -> i64 {
        f.version
    }
    fn input(_: &ReportActionForm) -> Result<(), AppError> {
        Ok(())
    }
    fn title(r: &RiskReport) -> String {
        r.kind.label().to_string()
    }
    /// The signer is shown the conclusion and every check with its figures.
    fn signed_fields(
        conn: &mut DbConnection,
        r: &RiskReport,
    ) -> Result<Vec<SignedField>, AppError> {
        let field = |label, value: String| SignedField { label, value };
        let plan = match r.plan_id {
            Some(p) => crate::db::repo::risks::plans::find_plan(conn, p)?.map(|p| p.key()),
            None => None,
        };
        let mut out = vec![
            field("Product", product_name(conn, Some(r.product_id))?),
            field("Plan", plan.unwrap_or_default()),
            field("Conclusion", r.conclusion.clone()),
        ];
        for c in &r.checks {
            out.push(field(
                "Check",
                format!(
                    "{} {} ({})",
                    if c.passed { "✓" } else { "✗" },
                    c.label,
                    c.detail
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
        report_page(state, s, id, Sent::of(rejected), status).await
    }
}

// ---- risk review decisions (ISO 14971 10) ----

/// The risk review section of nonconformance or CAPA `n`'s page
/// (`record_type` `nonconformance` or `capa`), for a reader with `roles`.
pub fn review_panel(
    conn: &mut DbConnection,
    (record_type, n): (&str, i64),
    product: Option<i64>,
    roles: &Roles,
) -> Result<RiskReviewPanel, AppError> {
    let prefix = if record_type == "capa" {
        "capa-"
    } else {
        "nc-"
    };
    let risks = service::risks_of_record(conn, (record_type, &format!("{prefix}{n}")))?
        .into_iter()
        .map(|l| (l.key, l.href, l.title))
        .collect();
    let mut panel = RiskReviewPanel {
        file: product.map(|p| format!("/products/{p}/risks")),
        risks,
        ..RiskReviewPanel::default()
    };
    let Some(review) = repo::of_record(conn, record_type, n)? else {
        return Ok(panel);
    };
    let step = match review.asked_on.as_str() {
        "escalate_to_capa" => "escalated to a CAPA",
        _ => "closed",
    };
    panel.asked = Some(format!(
        "Quality was asked for a risk review decision when {} was {step}, {}.",
        review.record_key(),
        when(Some(review.asked_at))
    ));
    match review.decision {
        Some(d) => {
            let by = match review.decided_by {
                Some(u) => {
                    users::find(conn, UserId(u))?.map_or_else(|| format!("u-{u}"), |a| a.full_name)
                }
                None => String::new(),
            };
            panel.decided = Some(DecidedView {
                decision: d.label(),
                risk: review
                    .risk_id
                    .map(|r| (format!("RISK-{r}"), format!("/risks/{r}"))),
                note: review.note.clone(),
                by,
                at: when(review.decided_at),
            });
        }
        None if roles.has_any(service::DECIDERS) => {
            panel.post_to = Some(format!("/risk-reviews/{record_type}/{n}"));
            panel.decisions = ReviewDecision::ALL
                .iter()
                .map(|d| Choice {
                    value: d.as_str().into(),
                    label: d.label().into(),
                    selected: false,
                })
                .collect();
        }
        None => {}
    }
    Ok(panel)
}

/// `POST /risk-reviews/{nonconformance|capa}/{n}`: quality's decision.
pub async fn decide(
    state: web::Data<AppState>,
    r: WithRole<QualityOnly>,
    OpId(op): OpId,
    path: web::Path<(String, i64)>,
    Typed(f, pairs): Typed<Fields>,
) -> Result<HttpResponse, AppError> {
    let s = r.session();
    let (record_type, n) = path.into_inner();
    if !matches!(record_type.as_str(), "nonconformance" | "capa") {
        return Err(AppError::NotFound);
    }
    let ctx = user_ctx(&state, s, op);
    let typed = DecisionText {
        decision: field(&f, "decision").to_string(),
        risk: field(&f, "risk").to_string(),
        note: field(&f, "note").to_string(),
    };
    let account = s.account.clone();
    let kind = record_type.clone();
    let decided = state
        .db(move |conn| Ok(service::decide(conn, &ctx, (&kind, n), &typed, &account)))
        .await?;
    let key = if record_type == "capa" {
        format!("CAPA-{n}")
    } else {
        format!("NC-{n}")
    };
    match decided {
        Ok(_) => {
            flash(
                &state,
                s,
                "ok",
                &format!("The risk review decision on {key} is recorded."),
            )
            .await?;
            let page = if record_type == "capa" {
                "capas"
            } else {
                "nonconformances"
            };
            Ok(see_other(&format!("/{page}/{n}#risk-review")))
        }
        Err(e) => {
            let typed = Rejected::named("risk-review").typed_all(&pairs);
            let (status, rejected) = super::refused_form(&state, s, e, typed, None).await?;
            if record_type == "capa" {
                <CapaWorkflow as WebWorkflow>::refused_page(&state, s, n, rejected, status).await
            } else {
                <NcWorkflow as WebWorkflow>::refused_page(&state, s, n, rejected, status).await
            }
        }
    }
}
