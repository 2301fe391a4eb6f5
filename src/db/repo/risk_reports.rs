//! A product's overall residual risk evaluations and risk management
//! reports (ISO 14971 7.7, 8), the counts of its risk file their checks
//! are made from, and the risk review decisions production and
//! post-production information asks for (10). Rows are never deleted.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{risk_reports as rr, risk_reviews as rv, risks as t};
use crate::db::{DbConnection, naive, utc};
use crate::domain::risk::plan::PlanState;
use crate::domain::risk::report::{
    FileFacts, ReportKind, ReviewDecision, RiskReport, checks_json, checks_of,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = rr)]
struct ReportRow {
    id: i64,
    product_id: i64,
    kind: String,
    plan_id: Option<i64>,
    conclusion: String,
    checks: String,
    state: String,
    author: i64,
    approved_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn report(r: ReportRow) -> QueryResult<RiskReport> {
    let c = crate::db::strict::Cols::new("risk_reports", r.id);
    let value: serde_json::Value = c.json("checks", &r.checks)?;
    Ok(RiskReport {
        id: r.id,
        product_id: r.product_id,
        kind: c.one_of("kind", &r.kind, ReportKind::parse)?,
        plan_id: r.plan_id,
        conclusion: r.conclusion,
        checks: checks_of(&value).ok_or_else(|| c.bad("checks", &r.checks, "a report's checks"))?,
        state: c.one_of("state", &r.state, PlanState::parse)?,
        author: r.author,
        approved_at: r.approved_at.map(utc),
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
        live: Vec::new(),
        live_plan: None,
    })
}

/// Stores a new draft and returns it.
pub fn insert(conn: &mut DbConnection, r: &RiskReport) -> QueryResult<RiskReport> {
    diesel::insert_into(rr::table)
        .values((
            rr::product_id.eq(r.product_id),
            rr::kind.eq(r.kind.as_str()),
            rr::conclusion.eq(&r.conclusion),
            rr::checks.eq(checks_json(&r.checks).to_string()),
            rr::state.eq(r.state.as_str()),
            rr::author.eq(r.author),
            rr::created_at.eq(naive(r.created_at)),
            rr::updated_at.eq(naive(r.updated_at)),
            rr::version.eq(1),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    find(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<RiskReport>> {
    rr::table
        .find(id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .map(report)
        .transpose()
}

/// The product's `kind` in `state` (at most one draft and one approved).
pub fn of_kind_in(
    conn: &mut DbConnection,
    product: i64,
    kind: ReportKind,
    state: PlanState,
) -> QueryResult<Option<RiskReport>> {
    rr::table
        .filter(rr::product_id.eq(product))
        .filter(rr::kind.eq(kind.as_str()))
        .filter(rr::state.eq(state.as_str()))
        .order(rr::id.desc())
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .map(report)
        .transpose()
}

/// Every evaluation and report of the product, newest first (at most 100).
pub fn of_product(conn: &mut DbConnection, product: i64) -> QueryResult<Vec<RiskReport>> {
    rr::table
        .filter(rr::product_id.eq(product))
        .order(rr::id.desc())
        .limit(100)
        .select(ReportRow::as_select())
        .load(conn)?
        .into_iter()
        .map(report)
        .collect()
}

/// Writes a draft's conclusion as version `r.version`.
pub fn save_conclusion(conn: &mut DbConnection, r: &RiskReport) -> QueryResult<bool> {
    let n = diesel::update(rr::table.filter(rr::id.eq(r.id).and(rr::version.eq(r.version - 1))))
        .set((
            rr::conclusion.eq(&r.conclusion),
            rr::updated_at.eq(naive(r.updated_at)),
            rr::version.eq(r.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Saves a workflow step (the checks and plan approving keeps). Only the
/// transition service calls it.
pub(crate) fn save_step(conn: &mut DbConnection, r: &RiskReport) -> QueryResult<bool> {
    let n = diesel::update(rr::table.filter(rr::id.eq(r.id).and(rr::version.eq(r.version - 1))))
        .set((
            rr::state.eq(r.state.as_str()),
            rr::plan_id.eq(r.plan_id),
            rr::checks.eq(checks_json(&r.checks).to_string()),
            rr::approved_at.eq(r.approved_at.map(naive)),
            rr::updated_at.eq(naive(r.updated_at)),
            rr::version.eq(r.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The counts of the product's risk file the completeness checks are made
/// of (the plan and the evaluation are filled by the caller), in one pass
/// over the product's risks. The workflow makes the state say what the
/// controls are: a risk is *controlled* by the step that needs a control
/// in force (and withdrawing one takes an analyzed risk), so a risk not
/// controlled yet is identified or analyzed, or accepted without control
/// (no residual estimate); a risk controlled and not verified is in state
/// controlled.
pub fn facts(conn: &mut DbConnection, product: i64) -> QueryResult<FileFacts> {
    use diesel::dsl::{case_when, count_star, sum};
    use diesel::sql_types::Integer;
    type Sum = Option<i64>;
    let uncontrolled = t::state
        .eq_any(["identified", "analyzed"])
        .or(t::state.eq("accepted").and(t::residual_verdict.is_null()));
    let (risks, not_evaluated, open, unjustified, unverified, needing_review, not_accepted): (
        i64,
        Sum,
        Sum,
        Sum,
        Sum,
        Sum,
        Sum,
    ) = t::table
        .filter(t::product_id.eq(product))
        .select((
            count_star(),
            sum(case_when::<_, _, Integer>(t::initial_verdict.is_null(), 1).otherwise(0)),
            sum(case_when::<_, _, Integer>(
                t::initial_verdict
                    .eq("unacceptable")
                    .and(t::benefit_risk.eq(""))
                    .and(uncontrolled),
                1,
            )
            .otherwise(0)),
            sum(case_when::<_, _, Integer>(
                t::residual_verdict
                    .eq("unacceptable")
                    .and(t::benefit_risk.eq("")),
                1,
            )
            .otherwise(0)),
            sum(case_when::<_, _, Integer>(t::state.eq("controlled"), 1).otherwise(0)),
            sum(case_when::<_, _, Integer>(t::needs_review_since.is_not_null(), 1).otherwise(0)),
            sum(case_when::<_, _, Integer>(t::state.ne("accepted"), 1).otherwise(0)),
        ))
        .first(conn)?;
    let n = |v: Sum| v.unwrap_or(0);
    Ok(FileFacts {
        plan: None,
        risks,
        not_evaluated: n(not_evaluated),
        unacceptable_uncontrolled: n(open),
        unjustified: n(unjustified),
        controls_unverified: n(unverified),
        needing_review: n(needing_review),
        not_accepted: n(not_accepted),
        reviews_waiting: waiting_count(conn, product)?,
        evaluation: None,
    })
}

// ---- risk review decisions (10) ----

/// A risk review decision asked of quality by a nonconformance's escalation
/// or a CAPA's closing, and what was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskReview {
    pub id: i64,
    pub product_id: i64,
    /// `nonconformance` or `capa`.
    pub record_type: String,
    pub record_id: i64,
    /// The step that asked (`escalate_to_capa`, `close_effective`).
    pub asked_on: String,
    pub asked_at: chrono::DateTime<chrono::Utc>,
    pub decision: Option<ReviewDecision>,
    pub risk_id: Option<i64>,
    pub note: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl RiskReview {
    /// `NC-3` or `CAPA-7`.
    pub fn record_key(&self) -> String {
        match self.record_type.as_str() {
            "capa" => format!("CAPA-{}", self.record_id),
            _ => format!("NC-{}", self.record_id),
        }
    }

    /// `/capas/7` or `/nonconformances/3`.
    pub fn record_href(&self) -> String {
        match self.record_type.as_str() {
            "capa" => format!("/capas/{}", self.record_id),
            _ => format!("/nonconformances/{}", self.record_id),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = rv)]
struct ReviewRow {
    id: i64,
    product_id: i64,
    record_type: String,
    record_id: i64,
    asked_on: String,
    asked_at: NaiveDateTime,
    decision: Option<String>,
    risk_id: Option<i64>,
    note: String,
    decided_by: Option<i64>,
    decided_at: Option<NaiveDateTime>,
}

fn review(r: ReviewRow) -> QueryResult<RiskReview> {
    let c = crate::db::strict::Cols::new("risk_reviews", r.id);
    Ok(RiskReview {
        id: r.id,
        product_id: r.product_id,
        record_type: r.record_type,
        record_id: r.record_id,
        asked_on: r.asked_on,
        asked_at: utc(r.asked_at),
        decision: match r.decision {
            Some(d) => Some(c.one_of("decision", &d, ReviewDecision::parse)?),
            None => None,
        },
        risk_id: r.risk_id,
        note: r.note,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(utc),
    })
}

/// Asks for a decision on `record` of `product`; false when one was asked
/// for that record already (a record asks once).
pub fn ask(
    conn: &mut DbConnection,
    product: i64,
    (record_type, record_id): (&str, i64),
    asked_on: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    if of_record(conn, record_type, record_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(rv::table)
        .values((
            rv::product_id.eq(product),
            rv::record_type.eq(record_type),
            rv::record_id.eq(record_id),
            rv::asked_on.eq(asked_on),
            rv::asked_at.eq(naive(at)),
        ))
        .execute(conn)?;
    Ok(true)
}

/// The decision asked of `record`, if one was.
pub fn of_record(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: i64,
) -> QueryResult<Option<RiskReview>> {
    rv::table
        .filter(rv::record_type.eq(record_type))
        .filter(rv::record_id.eq(record_id))
        .select(ReviewRow::as_select())
        .first(conn)
        .optional()?
        .map(review)
        .transpose()
}

/// Records the decision of a review still waiting; false when it was
/// decided already (by someone else, in the meantime).
pub fn decide(conn: &mut DbConnection, r: &RiskReview) -> QueryResult<bool> {
    let n = diesel::update(rv::table.filter(rv::id.eq(r.id).and(rv::decision.is_null())))
        .set((
            rv::decision.eq(r.decision.map(ReviewDecision::as_str)),
            rv::risk_id.eq(r.risk_id),
            rv::note.eq(&r.note),
            rv::decided_by.eq(r.decided_by),
            rv::decided_at.eq(r.decided_at.map(naive)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// How many decisions wait on the product.
pub fn waiting_count(conn: &mut DbConnection, product: i64) -> QueryResult<i64> {
    rv::table
        .filter(rv::product_id.eq(product))
        .filter(rv::decision.is_null())
        .count()
        .get_result(conn)
}

/// The decisions waiting on any product (the dashboard's list), oldest
/// first, at most `limit`.
pub fn waiting(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<RiskReview>> {
    rv::table
        .filter(rv::decision.is_null())
        .order(rv::asked_at.asc())
        .limit(limit)
        .select(ReviewRow::as_select())
        .load(conn)?
        .into_iter()
        .map(review)
        .collect()
}

/// The decisions waiting on `product`, oldest first, at most `limit`.
pub fn waiting_of(
    conn: &mut DbConnection,
    product: i64,
    limit: i64,
) -> QueryResult<Vec<RiskReview>> {
    rv::table
        .filter(rv::product_id.eq(product))
        .filter(rv::decision.is_null())
        .order(rv::asked_at.asc())
        .limit(limit)
        .select(ReviewRow::as_select())
        .load(conn)?
        .into_iter()
        .map(review)
        .collect()
}
