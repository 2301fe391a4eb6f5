//! The end of a product's risk file and what keeps it open: the overall
//! residual risk evaluation (ISO 14971 7.7) and the risk management report
//! (8), approved by signature once their completeness checks hold; the
//! risk review decisions (10) a nonconformance's escalation or a CAPA's
//! closing asks of quality; and links between risks and those records,
//! each of which raises "needs review" on the risk. Every change is
//! audited in its transaction; every state change goes through the
//! transition service.

use serde_json::{Value, json};

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::risk_reports::{self as repo, RiskReview};
use crate::db::repo::{capas, links, nonconformances, products, risks};
use crate::db::{DbConnection, write_tx};
use crate::domain::capa::CapaWorkflow;
use crate::domain::event::DomainEvent;
use crate::domain::nonconformance::NcWorkflow;
use crate::domain::risk::plan::PlanState;
use crate::domain::risk::report::{
    Completeness, MAX_CONCLUSION, ReportKind, ReportWorkflow, ReviewDecision, RiskReport,
    completeness,
};
use crate::domain::risk::workflow::MAX_TEXT;
use crate::domain::user::{Account, Role};
use crate::domain::workflow::Refused;

impl Stored for ReportWorkflow {
    /// A draft is loaded with its checks as the risk file stands now.
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<RiskReport>> {
        let Some(mut r) = repo::find(conn, id)? else {
            return Ok(None);
        };
        if r.state == PlanState::Draft {
            let (live, plan) = live(conn, r.product_id, r.kind)?;
            r.live = live;
            r.live_plan = plan;
        }
        Ok(Some(r))
    }
    fn save(conn: &mut DbConnection, record: &RiskReport) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &RiskReport) -> i64 {
        record.version
    }
    fn bump(record: &mut RiskReport, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
        if record.state == PlanState::Approved && record.approved_at.is_none() {
            record.approved_at = Some(now);
        }
    }
    fn entity(record: &RiskReport) -> EntityRef {
        report_entity(record)
    }
    fn audit_fields(record: &RiskReport) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &RiskReport) -> Value {
        record.signed_content()
    }
    /// Approving supersedes the approved one of the same kind, in the same
    /// transaction.
    fn before_save(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        r: &RiskReport,
    ) -> Result<(), RecordError> {
        if action == "approve"
            && let Some(before) = repo::of_kind_in(conn, r.product_id, r.kind, PlanState::Approved)?
        {
            super::workflow::step_as_attest::<ReportWorkflow>(
                conn,
                ctx,
                (before.id, before.version),
                "supersede",
                &(),
                &[],
            )?;
        }
        Ok(())
    }
}

pub fn report_entity(r: &RiskReport) -> EntityRef {
    EntityRef {
        kind: "risk_report".into(),
        id: format!("rr-{}", r.id),
        key: r.key(),
        version: r.version,
    }
}

crate::versioned!(RiskReport => report_entity);

/// The checks of `kind` as the product's risk file stands now, and the id
/// of its approved plan.
pub fn live(
    conn: &mut DbConnection,
    product: i64,
    kind: ReportKind,
) -> diesel::QueryResult<(Vec<Completeness>, Option<i64>)> {
    let mut facts = repo::facts(conn, product)?;
    let plan = super::risks::approved_plan(conn, product)?;
    facts.plan = plan.as_ref().map(|p| p.key());
    facts.evaluation =
        repo::of_kind_in(conn, product, ReportKind::Evaluation, PlanState::Approved)?
            .map(|e| e.key());
    Ok((completeness(kind, &facts), plan.map(|p| p.id)))
}

/// Starts a draft of the product's `kind` (or returns the draft there is),
/// with the conclusion of the approved one to start from.
pub fn start(
    conn: &mut DbConnection,
    ctx: &Ctx,
    product: i64,
    kind: ReportKind,
    author: i64,
) -> Result<RiskReport, RecordError> {
    write_tx(conn, |conn| {
        match products::find(conn, product)? {
            Some(p) if p.active => {}
            Some(_) => {
                return Err(RecordError::invalid(
                    "The product is archived: its risk file is kept as it is.",
                ));
            }
            None => return Err(RecordError::NotFound),
        }
        if let Some(draft) = repo::of_kind_in(conn, product, kind, PlanState::Draft)? {
            return Ok(draft);
        }
        let conclusion = repo::of_kind_in(conn, product, kind, PlanState::Approved)?
            .map(|r| r.conclusion)
            .unwrap_or_default();
        let r = repo::insert(
            conn,
            &RiskReport {
                id: 0,
                product_id: product,
                kind,
                plan_id: None,
                conclusion,
                checks: Vec::new(),
                state: PlanState::Draft,
                author,
                approved_at: None,
                created_at: ctx.now,
                updated_at: ctx.now,
                version: 1,
                live: Vec::new(),
                live_plan: None,
            },
        )?;
        audit::append(
            conn,
            &ctx.entry("risk_report.created")
                .entity(report_entity(&r))
                .after(r.audit_fields()),
        )?;
        Ok(r)
    })
}

/// Saves a draft's conclusion.
pub fn save_conclusion(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version): (i64, i64),
    conclusion: &str,
) -> Result<RiskReport, RecordError> {
    let conclusion = conclusion.trim();
    if conclusion.chars().count() > MAX_CONCLUSION {
        return Err(RecordError::field(
            "conclusion",
            format!("Keep the conclusion to {MAX_CONCLUSION} characters."),
        ));
    }
    write_tx(conn, |conn| {
        let before = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        if before.version != version {
            return Err(RecordError::Stale);
        }
        if before.state != PlanState::Draft {
            return Err(RecordError::invalid(format!(
                "{} is {}: only a draft is edited (start the next one from the risk file)",
                before.key(),
                before.state.label().to_lowercase()
            )));
        }
        let after = RiskReport {
            conclusion: conclusion.to_string(),
            ..before.clone()
        };
        super::edit::edit(
            conn,
            ctx,
            "risk_report.updated",
            &before,
            after,
            None,
            |conn, r| Ok::<_, RecordError>(repo::save_conclusion(conn, r)?),
        )
    })
}

// ---- risk review decisions (ISO 14971 10) ----

/// Asks quality for a risk review decision on a record of `product` that
/// the step `asked_on` (its name and label) just moved, in that step's
/// transaction: audited on the record (`risk_review.requested`) with a
/// domain event. Once a record.
pub fn ask(
    conn: &mut DbConnection,
    ctx: &Ctx,
    product: i64,
    (entity, record_id): (&EntityRef, i64),
    (asked_on, label): (&str, &str),
) -> Result<(), RecordError> {
    if !repo::ask(conn, product, (&entity.kind, record_id), asked_on, ctx.now)? {
        return Ok(());
    }
    audit::append(
        conn,
        &ctx.entry("risk_review.requested")
            .entity(entity.clone())
            .after(json!({ "product_id": product, "step": label })),
    )?;
    super::events::append(
        conn,
        ctx,
        entity,
        &[DomainEvent::risk_review_requested(product, asked_on)],
    )?;
    Ok(())
}

/// A nonconformance or CAPA as the risk pages name it: its entity, title
/// and product.
struct Linkable {
    entity: EntityRef,
    title: String,
    product: Option<i64>,
}

fn linkable(
    conn: &mut DbConnection,
    record_type: &str,
    n: i64,
) -> diesel::QueryResult<Option<Linkable>> {
    Ok(match record_type {
        "capa" => capas::find(conn, n)?.map(|c| Linkable {
            entity: <CapaWorkflow as Stored>::entity(&c),
            title: c.title.clone(),
            product: c.product_id,
        }),
        "nonconformance" => nonconformances::find(conn, n)?.map(|x| Linkable {
            entity: <NcWorkflow as Stored>::entity(&x),
            title: x.title.clone(),
            product: x.product_id,
        }),
        _ => None,
    })
}

/// The decision as typed: which one, the risk it names (`RISK-4`, for an
/// update) and the reasoning.
#[derive(Clone, Debug, Default)]
pub struct DecisionText {
    pub decision: String,
    pub risk: String,
    pub note: String,
}

/// Who records risk review decisions.
pub const DECIDERS: &[Role] = &[Role::Quality];

/// Records quality's decision on the review `record_type` `n` asked for:
/// no new hazard; an existing risk of the product to update (linked to the
/// record, and needing review); or a new risk (identified in the risk file
/// from the record, linked to it). Audited on the record
/// (`risk_review.decided`), once.
pub fn decide(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (record_type, n): (&str, i64),
    typed: &DecisionText,
    who: &Account,
) -> Result<RiskReview, RecordError> {
    if !who.roles.has_any(DECIDERS) {
        return Err(RecordError::Refused(Refused::Role {
            action: "Recording a risk review decision",
            roles: DECIDERS,
            owner: false,
            named: None,
        }));
    }
    let mut problems = Vec::new();
    let decision = ReviewDecision::parse(typed.decision.trim());
    if decision.is_none() {
        problems.push(crate::domain::user::FieldError::new(
            "decision",
            "Choose what the information means for the risk file.",
        ));
    }
    let note = typed.note.trim();
    if note.is_empty() || note.chars().count() > MAX_TEXT {
        problems.push(crate::domain::user::FieldError::new(
            "note",
            "Write why (1 to 10,000 characters): what was weighed, and what it means for the hazards and estimates.",
        ));
    }
    let risk_key = typed.risk.trim().to_uppercase();
    if decision == Some(ReviewDecision::UpdateRisk) && risk_key.is_empty() {
        problems.push(crate::domain::user::FieldError::new(
            "risk",
            "Name the risk to update (RISK-4).",
        ));
    }
    if !problems.is_empty() {
        return Err(RecordError::Invalid(problems));
    }
    let Some(decision) = decision else {
        return Err(RecordError::field("decision", "Choose a decision."));
    };
    write_tx(conn, |conn| {
        let mut review = repo::of_record(conn, record_type, n)?.ok_or(RecordError::NotFound)?;
        let record = linkable(conn, record_type, n)?.ok_or(RecordError::NotFound)?;
        if review.decision.is_some() {
            return Err(RecordError::Conflict(format!(
                "The risk review decision on {} is recorded already.",
                record.entity.key
            )));
        }
        let risk = match decision {
            ReviewDecision::NoNewHazard => None,
            ReviewDecision::UpdateRisk => {
                let found = crate::domain::record::by_key(&risk_key)
                    .filter(|(k, _)| **k == crate::domain::record::RISK)
                    .map(|(_, id)| risks::find(conn, id))
                    .transpose()?
                    .flatten();
                match found {
                    Some(r) if r.product_id == review.product_id => {
                        link(conn, ctx, &record, r.id)?;
                        Some(r.id)
                    }
                    _ => {
                        return Err(RecordError::field(
                            "risk",
                            format!("There is no {risk_key} in this product's risk file."),
                        ));
                    }
                }
            }
            ReviewDecision::NewRisk => {
                let analysis = super::risks::Analysis {
                    sequence: format!("From {}: {}", record.entity.key, record.title),
                    ..super::risks::Analysis::default()
                };
                let r = super::risks::identify(
                    conn,
                    ctx,
                    who.id.0,
                    review.product_id,
                    &analysis,
                    None,
                )?;
                link(conn, ctx, &record, r.id)?;
                Some(r.id)
            }
        };
        review.decision = Some(decision);
        review.risk_id = risk;
        review.note = note.to_string();
        review.decided_by = Some(who.id.0);
        review.decided_at = Some(ctx.now);
        if !repo::decide(conn, &review)? {
            return Err(RecordError::Stale);
        }
        audit::append(
            conn,
            &ctx.entry("risk_review.decided")
                .entity(record.entity.clone())
                .after(json!({
                    "decision": decision.as_str(),
                    "risk": risk.map(|r| format!("RISK-{r}")),
                    "product_id": review.product_id,
                }))
                .reason(note),
        )?;
        Ok(review)
    })
}

/// Links `record` to risk `risk` (`record -concerns_risk-> risk`), audited
/// on the risk, and raises "needs review" on it unless already linked.
fn link(
    conn: &mut DbConnection,
    ctx: &Ctx,
    record: &Linkable,
    risk: i64,
) -> Result<bool, RecordError> {
    let from = (record.entity.kind.as_str(), record.entity.id.as_str());
    let risk_id = format!("risk-{risk}");
    let to = ("risk", risk_id.as_str());
    if links::find_active(conn, from, RELATION, to)?.is_some() {
        return Ok(false);
    }
    let r = risks::find(conn, risk)?.ok_or(RecordError::NotFound)?;
    super::links::create(conn, ctx, from, RELATION, to, super::risks::risk_entity(&r))?;
    super::risks::flag_one(
        conn,
        ctx,
        risk,
        &format!("{} linked: {}", record.entity.key, record.title),
    )?;
    Ok(true)
}

/// How a nonconformance or CAPA is linked to a risk.
pub const RELATION: &str = "concerns_risk";

/// Links the nonconformance or CAPA named by `key` (`NC-3`, `CAPA-7`) to
/// risk `id`, from the risk's page: audited on the risk, which then needs
/// review. By engineers or quality; a record of another product is refused.
pub fn link_record(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    key: &str,
    who: &Account,
) -> Result<String, RecordError> {
    use crate::domain::record::{self, CAPA, NONCONFORMANCE};
    if !who.roles.has_any(super::risks::ANALYSTS) {
        return Err(RecordError::Refused(Refused::Role {
            action: "Linking records to risks",
            roles: super::risks::ANALYSTS,
            owner: false,
            named: None,
        }));
    }
    let key = key.trim().to_uppercase();
    let target = record::by_key(&key).filter(|(k, _)| **k == CAPA || **k == NONCONFORMANCE);
    let Some((kind, n)) = target else {
        return Err(RecordError::field(
            "key",
            "Type the key of a nonconformance (NC-2) or a CAPA (CAPA-3).",
        ));
    };
    write_tx(conn, |conn| {
        let risk = risks::find(conn, id)?.ok_or(RecordError::NotFound)?;
        let Some(record) = linkable(conn, kind.kind, n)? else {
            return Err(RecordError::field("key", format!("There is no {key}.")));
        };
        if record.product.is_some_and(|p| p != risk.product_id) {
            return Err(RecordError::field(
                "key",
                format!(
                    "{key} is about another product: link it to a risk of that product's risk file."
                ),
            ));
        }
        if !link(conn, ctx, &record, id)? {
            return Err(RecordError::field(
                "key",
                format!("{} is linked to {key} already.", risk.key()),
            ));
        }
        Ok(key.clone())
    })
}

/// Removes link `link_id` from risk `id` (the link stays in the History,
/// marked removed); by engineers or quality.
pub fn unlink_record(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    link_id: i64,
    who: &Account,
) -> Result<(), RecordError> {
    if !who.roles.has_any(super::risks::ANALYSTS) {
        return Err(RecordError::Refused(Refused::Role {
            action: "Unlinking records from risks",
            roles: super::risks::ANALYSTS,
            owner: false,
            named: None,
        }));
    }
    write_tx(conn, |conn| {
        let risk = risks::find(conn, id)?.ok_or(RecordError::NotFound)?;
        let link = links::of(conn, "risk", &format!("risk-{id}"))?
            .into_iter()
            .find(|l| l.id == link_id && l.relation == RELATION)
            .ok_or(RecordError::NotFound)?;
        super::links::remove(conn, ctx, &link, super::risks::risk_entity(&risk))?;
        Ok(())
    })
}

/// A record linked to a risk as a page lists it.
#[derive(Clone, Debug)]
pub struct LinkedRecord {
    pub link_id: i64,
    pub key: String,
    pub href: String,
    pub title: String,
}

/// The nonconformances and CAPAs linked to risk `id`.
pub fn records_of_risk(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Vec<LinkedRecord>> {
    let mut out = Vec::new();
    for l in links::of(conn, "risk", &format!("risk-{id}"))? {
        if l.relation != RELATION {
            continue;
        }
        let Some((k, n)) = crate::domain::record::kind(&l.from_type)
            .and_then(|k| Some((k, k.number(&l.from_id)?)))
        else {
            continue;
        };
        if let Some(r) = linkable(conn, k.kind, n)? {
            out.push(LinkedRecord {
                link_id: l.id,
                href: format!("{}{n}", k.page.unwrap_or("/")),
                key: r.entity.key,
                title: r.title,
            });
        }
    }
    Ok(out)
}

/// The risks linked to a nonconformance or CAPA (`nc-3`, `capa-7`).
pub fn risks_of_record(
    conn: &mut DbConnection,
    (record_type, record_id): (&str, &str),
) -> diesel::QueryResult<Vec<LinkedRecord>> {
    let mut out = Vec::new();
    for l in links::of(conn, record_type, record_id)? {
        if l.relation != RELATION || l.to_type != "risk" {
            continue;
        }
        let Some(n) = l
            .to_id
            .strip_prefix("risk-")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        if let Some(r) = risks::find(conn, n)? {
            out.push(LinkedRecord {
                link_id: l.id,
                key: r.key(),
                href: format!("/risks/{n}"),
                title: r.situation.clone(),
            });
        }
    }
    Ok(out)
}

// ---- the risk file export ----

/// The columns of a risk file export, one line a risk.
pub const EXPORT_COLUMNS: [&str; 22] = [
    "key",
    "state",
    "hazard",
    "sequence",
    "situation",
    "harm",
    "initial_severity",
    "initial_probability",
    "initial_level",
    "initial_verdict",
    "controls",
    "control_requirements",
    "control_tests_pass",
    "effectiveness",
    "residual_severity",
    "residual_probability",
    "residual_level",
    "residual_verdict",
    "benefit_risk",
    "introduced_by",
    "needs_review",
    "linked_records",
];

/// An estimate's columns: severity, probability (`3`, or `P1 2 x P2 3`
/// when split), the probability level the plan gives it, the verdict.
fn estimate_cells(
    e: Option<crate::domain::risk::Estimate>,
    ev: Option<crate::domain::risk::Evaluation>,
) -> [String; 4] {
    use crate::domain::risk::Probability;
    let Some(e) = e else {
        return Default::default();
    };
    [
        e.severity.to_string(),
        match e.probability {
            Probability::Level(n) => n.to_string(),
            Probability::Split { p1, p2 } => format!("P1 {p1} x P2 {p2}"),
        },
        ev.map(|v| v.probability.to_string()).unwrap_or_default(),
        ev.map(|v| v.verdict.as_str().to_string())
            .unwrap_or_default(),
    ]
}

/// The product's risks that `filter` keeps (every one when it keeps all),
/// one line each with its estimates, controls and their requirements,
/// written as a kept file with a manifest signed by the log key, audited
/// (`risk.exported` on the product); the export's number.
pub fn export_file(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &crate::audit::key::LogKey,
    (product, filter, described): (i64, &risks::Filter, &[String]),
    format: super::exports::ListFormat,
) -> Result<i64, RecordError> {
    write_tx(conn, |conn| {
        let p = products::find(conn, product)?.ok_or(RecordError::NotFound)?;
        let mut all = Vec::new();
        loop {
            let offset = i64::try_from(all.len()).unwrap_or(i64::MAX);
            let (page, total) = risks::list(conn, product, filter, offset, 500)?;
            let done = page.is_empty() || offset + 500 >= total;
            all.extend(page);
            if done {
                break;
            }
        }
        let req_ids: Vec<i64> = all
            .iter()
            .flat_map(|r| r.controls.iter().filter_map(|c| c.requirement))
            .collect();
        let req_keys: std::collections::HashMap<i64, String> =
            crate::db::repo::requirements::by_ids(conn, &req_ids)?
                .into_iter()
                .map(|r| (r.id, r.key))
                .collect();
        let passing = super::risks::implementation(conn, &req_ids)?;
        let ids: Vec<String> = all.iter().map(|r| format!("risk-{}", r.id)).collect();
        let mut records: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (from, prefix) in [("nonconformance", "NC-"), ("capa", "CAPA-")] {
            for l in links::to_any(conn, from, RELATION, "risk", &ids)? {
                let n = l.from_id.rsplit('-').next().unwrap_or_default();
                records
                    .entry(l.to_id.clone())
                    .or_default()
                    .push(format!("{prefix}{n}"));
            }
        }
        let rows: Vec<Vec<String>> = all
            .iter()
            .map(|r| {
                let [is, ip, il, iv] = estimate_cells(r.initial, r.initial_eval);
                let [rs, rp, rl, rv] = estimate_cells(r.residual, r.residual_eval);
                let reqs = |c: &crate::domain::risk::workflow::Control| {
                    c.requirement
                        .and_then(|q| req_keys.get(&q).cloned())
                        .unwrap_or_default()
                };
                let pass = |c: &crate::domain::risk::workflow::Control| {
                    c.requirement
                        .and_then(|q| passing.get(&q))
                        .is_some_and(|ts| {
                            !ts.is_empty()
                                && ts
                                    .iter()
                                    .all(|t| t.1 == Some(crate::domain::trace::Outcome::Passed))
                        })
                };
                let joined = |f: &dyn Fn(&crate::domain::risk::workflow::Control) -> String| {
                    r.controls.iter().map(f).collect::<Vec<_>>().join("; ")
                };
                vec![
                    r.key(),
                    r.state.as_str().to_string(),
                    r.hazard.clone(),
                    r.sequence.clone(),
                    r.situation.clone(),
                    r.harm.clone(),
                    is,
                    ip,
                    il,
                    iv,
                    joined(&|c| format!("{}: {}", c.option.label(), c.description)),
                    joined(&reqs),
                    joined(&|c| if pass(c) { "yes" } else { "no" }.to_string()),
                    joined(&|c| c.effectiveness.clone()),
                    rs,
                    rp,
                    rl,
                    rv,
                    r.benefit_risk.clone(),
                    r.introduced_by
                        .map(|n| format!("RISK-{n}"))
                        .unwrap_or_default(),
                    r.needs_review.replace('\n', "; "),
                    records
                        .get(&format!("risk-{}", r.id))
                        .map(|v| v.join(" "))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let mut words = vec![format!("product {}", p.key_prefix)];
        words.extend_from_slice(described);
        let stem = format!(
            "risks-{}",
            p.key_prefix
                .to_lowercase()
                .replace(|c: char| !(c.is_ascii_alphanumeric() || c == '-'), "_")
        );
        super::exports::keep_list(
            conn,
            ctx,
            key,
            &super::exports::KeptList {
                subject: "risks",
                stem: &stem,
                what: &format!("risk file of {}", p.key_prefix),
                action: "risk.exported",
                sheet: "Risk file",
                columns: &EXPORT_COLUMNS,
                number_columns: &[6, 8, 14, 16],
                rows: &rows,
                described: &words,
            },
            format,
        )
    })
}
