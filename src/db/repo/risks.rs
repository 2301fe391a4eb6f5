//! The risk file (ISO 14971): risk management plans, hazards, risks and
//! their controls. Rows are never deleted (a control taken out is
//! withdrawn); risks and plans are written with an optimistic version check.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    hazards as h, risk_acceptances as acc, risk_controls as rc, risk_plans as rp, risks as t,
};
use crate::db::{DbConnection, naive, utc};
use crate::domain::risk::plan::{Hazard, HazardCategory, PlanState, RiskPlan, criteria_of};

use crate::domain::risk::workflow::{Control, ControlOption, Risk, RiskState};
use crate::domain::risk::{Acceptability, Estimate, Evaluation, Probability};

/// Risk management plans (versioned records of their criteria).
pub mod plans {
    use super::*;

    #[derive(Queryable, Selectable)]
    #[diesel(table_name = rp)]
    struct PlanRow {
        id: i64,
        product_id: i64,
        number: i64,
        criteria: String,
        state: String,
        author: i64,
        approved_at: Option<NaiveDateTime>,
        reevaluation: String,
        created_at: NaiveDateTime,
        updated_at: NaiveDateTime,
        version: i64,
    }

    fn plan(r: PlanRow) -> QueryResult<RiskPlan> {
        let c = crate::db::strict::Cols::new("risk_plans", r.id);
        let value: serde_json::Value = c.json("criteria", &r.criteria)?;
        Ok(RiskPlan {
            id: r.id,
            product_id: r.product_id,
            number: r.number,
            criteria: criteria_of(&value)
                .ok_or_else(|| c.bad("criteria", &r.criteria, "a plan's criteria"))?,
            state: c.one_of("state", &r.state, PlanState::parse)?,
            author: r.author,
            approved_at: r.approved_at.map(utc),
            reevaluation: r.reevaluation,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            version: r.version,
        })
    }

    fn criteria_text(p: &RiskPlan) -> String {
        crate::domain::risk::plan::criteria_json(&p.criteria).to_string()
    }

    /// Stores a new draft plan and returns it.
    pub fn insert_plan(conn: &mut DbConnection, p: &RiskPlan) -> QueryResult<RiskPlan> {
        diesel::insert_into(rp::table)
            .values((
                rp::product_id.eq(p.product_id),
                rp::number.eq(p.number),
                rp::criteria.eq(criteria_text(p)),
                rp::state.eq(p.state.as_str()),
                rp::author.eq(p.author),
                rp::created_at.eq(naive(p.created_at)),
                rp::updated_at.eq(naive(p.updated_at)),
                rp::version.eq(1),
            ))
            .execute(conn)?;
        let id = crate::db::last_insert_id(conn)?;
        find_plan(conn, id)?.ok_or(diesel::result::Error::NotFound)
    }

    pub fn find_plan(conn: &mut DbConnection, id: i64) -> QueryResult<Option<RiskPlan>> {
        rp::table
            .find(id)
            .select(PlanRow::as_select())
            .first(conn)
            .optional()?
            .map(plan)
            .transpose()
    }

    /// The product's plan in `state` (at most one draft and one approved).
    pub fn plan_in(
        conn: &mut DbConnection,
        product: i64,
        state: PlanState,
    ) -> QueryResult<Option<RiskPlan>> {
        rp::table
            .filter(rp::product_id.eq(product))
            .filter(rp::state.eq(state.as_str()))
            .order(rp::number.desc())
            .select(PlanRow::as_select())
            .first(conn)
            .optional()?
            .map(plan)
            .transpose()
    }

    /// Every plan version of the product, newest first.
    pub fn plans_of(conn: &mut DbConnection, product: i64) -> QueryResult<Vec<RiskPlan>> {
        rp::table
            .filter(rp::product_id.eq(product))
            .order(rp::number.desc())
            .limit(100)
            .select(PlanRow::as_select())
            .load(conn)?
            .into_iter()
            .map(plan)
            .collect()
    }

    /// The product's next plan number.
    pub fn next_plan_number(conn: &mut DbConnection, product: i64) -> QueryResult<i64> {
        let max: Option<i64> = rp::table
            .filter(rp::product_id.eq(product))
            .select(diesel::dsl::max(rp::number))
            .first(conn)?;
        Ok(max.unwrap_or(0) + 1)
    }

    /// Writes a draft's criteria as version `p.version`.
    pub fn save_plan(conn: &mut DbConnection, p: &RiskPlan) -> QueryResult<bool> {
        let n =
            diesel::update(rp::table.filter(rp::id.eq(p.id).and(rp::version.eq(p.version - 1))))
                .set((
                    rp::criteria.eq(criteria_text(p)),
                    rp::reevaluation.eq(&p.reevaluation),
                    rp::updated_at.eq(naive(p.updated_at)),
                    rp::version.eq(p.version),
                ))
                .execute(conn)?;
        Ok(n == 1)
    }

    /// Saves a plan's workflow step. Only the transition service calls it.
    pub(crate) fn save_step(conn: &mut DbConnection, p: &RiskPlan) -> QueryResult<bool> {
        let n =
            diesel::update(rp::table.filter(rp::id.eq(p.id).and(rp::version.eq(p.version - 1))))
                .set((
                    rp::state.eq(p.state.as_str()),
                    rp::approved_at.eq(p.approved_at.map(naive)),
                    rp::updated_at.eq(naive(p.updated_at)),
                    rp::version.eq(p.version),
                ))
                .execute(conn)?;
        Ok(n == 1)
    }

    /// Notes what approving plan `id` changed (written in the approval's
    /// transaction, after the re-evaluation).
    pub fn note_reevaluation(conn: &mut DbConnection, id: i64, words: &str) -> QueryResult<()> {
        diesel::update(rp::table.find(id))
            .set(rp::reevaluation.eq(words))
            .execute(conn)
            .map(|_| ())
    }
}

// ---- hazards ----

fn hazard(
    (id, product_id, category, name, description): (i64, i64, String, String, String),
) -> QueryResult<Hazard> {
    let c = crate::db::strict::Cols::new("hazards", id);
    Ok(Hazard {
        id,
        product_id,
        category: c.one_of("category", &category, HazardCategory::parse)?,
        name,
        description,
    })
}

type HazardCols = (h::id, h::product_id, h::category, h::name, h::description);
const HAZARD: HazardCols = (h::id, h::product_id, h::category, h::name, h::description);

pub fn insert_hazard(
    conn: &mut DbConnection,
    hz: &Hazard,
    by: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Hazard> {
    diesel::insert_into(h::table)
        .values((
            h::product_id.eq(hz.product_id),
            h::category.eq(hz.category.as_str()),
            h::name.eq(&hz.name),
            h::description.eq(&hz.description),
            h::created_by.eq(by),
            h::created_at.eq(naive(at)),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    find_hazard(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_hazard(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Hazard>> {
    h::table
        .find(id)
        .select(HAZARD)
        .first(conn)
        .optional()?
        .map(hazard)
        .transpose()
}

/// The product's hazard list by category and name (at most 1,000).
pub fn hazards_of(conn: &mut DbConnection, product: i64) -> QueryResult<Vec<Hazard>> {
    h::table
        .filter(h::product_id.eq(product))
        .order((h::category.asc(), h::name.asc()))
        .limit(1_000)
        .select(HAZARD)
        .load(conn)?
        .into_iter()
        .map(hazard)
        .collect()
}

/// Whether the product's list has a hazard of that name (any case).
pub fn hazard_named(conn: &mut DbConnection, product: i64, name: &str) -> QueryResult<bool> {
    let names: Vec<String> = h::table
        .filter(h::product_id.eq(product))
        .select(h::name)
        .load(conn)?;
    Ok(names.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

// ---- risks ----

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    id: i64,
    product_id: i64,
    hazard_id: Option<i64>,
    sequence: String,
    situation: String,
    harm: String,
    initial_severity: Option<i64>,
    initial_probability: Option<i64>,
    initial_p1: Option<i64>,
    initial_p2: Option<i64>,
    initial_level: Option<i64>,
    initial_verdict: Option<String>,
    residual_severity: Option<i64>,
    residual_probability: Option<i64>,
    residual_p1: Option<i64>,
    residual_p2: Option<i64>,
    residual_level: Option<i64>,
    residual_verdict: Option<String>,
    residual_reason: String,
    benefit_risk: String,
    introduced_by: Option<i64>,
    analyst: Option<i64>,
    reason: String,
    needs_review: String,
    needs_review_since: Option<NaiveDateTime>,
    state: String,
    created_by: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn small(n: i64) -> u8 {
    u8::try_from(n).unwrap_or(0)
}

/// An estimate's stored columns: severity, probability level, P1, P2.
type EstimateCols = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn estimate((s, p, p1, p2): EstimateCols) -> Option<Estimate> {
    let severity = small(s?);
    let probability = match (p, p1, p2) {
        (Some(p), _, _) => Probability::Level(small(p)),
        (None, Some(a), Some(b)) => Probability::Split {
            p1: small(a),
            p2: small(b),
        },
        _ => return None,
    };
    Some(Estimate {
        severity,
        probability,
    })
}

fn evaluation(
    c: &crate::db::strict::Cols,
    column: &'static str,
    (s, level, verdict): (Option<i64>, Option<i64>, Option<&str>),
) -> QueryResult<Option<Evaluation>> {
    let verdict = c.opt_one_of(column, verdict, Acceptability::parse)?;
    Ok(match (s, level, verdict) {
        (Some(s), Some(p), Some(v)) => Some(Evaluation {
            severity: small(s),
            probability: small(p),
            verdict: v,
        }),
        _ => None,
    })
}

fn record(r: Row, hazard: String) -> QueryResult<Risk> {
    let c = crate::db::strict::Cols::new("risks", r.id);
    Ok(Risk {
        id: r.id,
        product_id: r.product_id,
        hazard_id: r.hazard_id,
        hazard,
        sequence: r.sequence,
        situation: r.situation,
        harm: r.harm,
        initial: estimate((
            r.initial_severity,
            r.initial_probability,
            r.initial_p1,
            r.initial_p2,
        )),
        initial_eval: evaluation(
            &c,
            "initial_verdict",
            (
                r.initial_severity,
                r.initial_level,
                r.initial_verdict.as_deref(),
            ),
        )?,
        controls: Vec::new(),
        residual: estimate((
            r.residual_severity,
            r.residual_probability,
            r.residual_p1,
            r.residual_p2,
        )),
        residual_eval: evaluation(
            &c,
            "residual_verdict",
            (
                r.residual_severity,
                r.residual_level,
                r.residual_verdict.as_deref(),
            ),
        )?,
        residual_reason: r.residual_reason,
        benefit_risk: r.benefit_risk,
        analyst: r.analyst,
        reason: r.reason,
        introduced_by: r.introduced_by,
        needs_review: r.needs_review,
        needs_review_since: r.needs_review_since.map(utc),
        state: c.one_of("state", &r.state, RiskState::parse)?,
        created_by: r.created_by,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

/// An estimate's columns to write.
fn columns(
    e: Option<Estimate>,
    ev: Option<Evaluation>,
) -> (EstimateCols, Option<i64>, Option<&'static str>) {
    let Some(e) = e else {
        return ((None, None, None, None), None, None);
    };
    let (p, p1, p2) = match e.probability {
        Probability::Level(n) => (Some(i64::from(n)), None, None),
        Probability::Split { p1, p2 } => (None, Some(i64::from(p1)), Some(i64::from(p2))),
    };
    (
        (Some(i64::from(e.severity)), p, p1, p2),
        ev.map(|v| i64::from(v.probability)),
        ev.map(|v| v.verdict.as_str()),
    )
}

/// Stores a new risk (identified) and returns it.
pub fn insert(conn: &mut DbConnection, r: &Risk) -> QueryResult<Risk> {
    diesel::insert_into(t::table)
        .values((
            t::product_id.eq(r.product_id),
            t::state.eq(r.state.as_str()),
            t::created_by.eq(r.created_by),
            t::created_at.eq(naive(r.created_at)),
            t::updated_at.eq(naive(r.updated_at)),
            t::version.eq(0),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    let mut stored = Risk {
        id,
        version: 1,
        ..r.clone()
    };
    stored.controls = Vec::new();
    if !save(conn, &stored)? {
        return Err(diesel::result::Error::NotFound);
    }
    find(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

/// The risk with its hazard's name and its controls in force (their
/// `tests_pass` false: the service reads the tests).
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Risk>> {
    let Some(row) = t::table
        .find(id)
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let name = match row.hazard_id {
        Some(hz) => h::table
            .find(hz)
            .select(h::name)
            .first::<String>(conn)
            .optional()?
            .unwrap_or_default(),
        None => String::new(),
    };
    let mut risk = record(row, name)?;
    risk.controls = controls_of(conn, id)?;
    Ok(Some(risk))
}

/// Writes the risk's fields (never its state) as version `r.version` if the
/// stored one is `r.version - 1`.
pub fn save(conn: &mut DbConnection, r: &Risk) -> QueryResult<bool> {
    let ((is, ip, ip1, ip2), il, iv) = columns(r.initial, r.initial_eval);
    let ((rs, rpr, rp1, rp2), rl, rv) = columns(r.residual, r.residual_eval);
    // The version moves first (the check against a stale write); the
    // other columns follow in the same transaction, in small statements.
    let n = diesel::update(t::table.filter(t::id.eq(r.id).and(t::version.eq(r.version - 1))))
        .set((
            t::version.eq(r.version),
            t::updated_at.eq(naive(r.updated_at)),
            t::hazard_id.eq(r.hazard_id),
            t::sequence.eq(&r.sequence),
            t::situation.eq(&r.situation),
            t::harm.eq(&r.harm),
            t::reason.eq(&r.reason),
            t::analyst.eq(r.analyst),
            t::introduced_by.eq(r.introduced_by),
        ))
        .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    let this = || t::table.filter(t::id.eq(r.id));
    diesel::update(this())
        .set((
            t::initial_severity.eq(is),
            t::initial_probability.eq(ip),
            t::initial_p1.eq(ip1),
            t::initial_p2.eq(ip2),
            t::initial_level.eq(il),
            t::initial_verdict.eq(iv),
        ))
        .execute(conn)?;
    diesel::update(this())
        .set((
            t::residual_severity.eq(rs),
            t::residual_probability.eq(rpr),
            t::residual_p1.eq(rp1),
            t::residual_p2.eq(rp2),
            t::residual_level.eq(rl),
            t::residual_verdict.eq(rv),
            t::residual_reason.eq(&r.residual_reason),
            t::benefit_risk.eq(&r.benefit_risk),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Saves a workflow step. Only the transition service calls it.
pub(crate) fn save_step(conn: &mut DbConnection, r: &Risk) -> QueryResult<bool> {
    if !save(conn, r)? {
        return Ok(false);
    }
    let n = diesel::update(t::table.filter(t::id.eq(r.id).and(t::version.eq(r.version))))
        .set(t::state.eq(r.state.as_str()))
        .execute(conn)?;
    Ok(n == 1)
}

/// The risk file's filters; empty ones do not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub state: Option<RiskState>,
    /// The initial evaluation's verdict; "none" (`Some(None)`) for risks
    /// not evaluated yet.
    pub verdict: Option<Option<Acceptability>>,
    pub hazard_id: Option<i64>,
    pub text: Option<String>,
    /// Only these risks (a heat-map cell's).
    pub cell: Option<(bool, u8, u8)>,
    /// Only risks that need review.
    pub needs_review: bool,
}

/// A page of the product's risks in number order, and how many match.
pub fn list(
    conn: &mut DbConnection,
    product: i64,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Risk>, i64)> {
    let build = || {
        let mut q = t::table.filter(t::product_id.eq(product)).into_boxed();
        if let Some(s) = f.state {
            q = q.filter(t::state.eq(s.as_str()));
        }
        match f.verdict {
            Some(Some(v)) => q = q.filter(t::initial_verdict.eq(v.as_str())),
            Some(None) => q = q.filter(t::initial_verdict.is_null()),
            None => {}
        }
        if let Some(hz) = f.hazard_id {
            q = q.filter(t::hazard_id.eq(hz));
        }
        if f.needs_review {
            q = q.filter(t::needs_review_since.is_not_null());
        }
        if let Some((residual, s, p)) = f.cell {
            let (s, p) = (i64::from(s), i64::from(p));
            q = match residual {
                false => q.filter(t::initial_severity.eq(s).and(t::initial_level.eq(p))),
                true => q.filter(t::residual_severity.eq(s).and(t::residual_level.eq(p))),
            };
        }
        if let Some(text) = f.text.as_deref().filter(|x| !x.is_empty()) {
            let pattern = format!("%{}%", super::escape_like(text));
            q = q.filter(
                t::situation
                    .like(pattern.clone())
                    .escape('\\')
                    .or(t::harm.like(pattern.clone()).escape('\\'))
                    .or(t::sequence.like(pattern).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(t::id.asc())
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)?;
    let hazard_ids: Vec<i64> = rows.iter().filter_map(|r| r.hazard_id).collect();
    let names: std::collections::HashMap<i64, String> = h::table
        .filter(h::id.eq_any(&hazard_ids))
        .select((h::id, h::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut controls = controls_of_many(conn, &ids)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let name = r
            .hazard_id
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_default();
        let id = r.id;
        let mut risk = record(r, name)?;
        risk.controls = controls.remove(&id).unwrap_or_default();
        out.push(risk);
    }
    Ok((out, total))
}

/// Counts of the product's risks by state.
pub fn count_by_state(conn: &mut DbConnection, product: i64) -> QueryResult<Vec<(String, i64)>> {
    t::table
        .filter(t::product_id.eq(product))
        .group_by(t::state)
        .select((t::state, diesel::dsl::count_star()))
        .load(conn)
}

/// Counts of the product's evaluated risks per matrix cell (severity,
/// probability level), initial or residual.
pub fn cell_counts(
    conn: &mut DbConnection,
    product: i64,
    residual: bool,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    let rows: Vec<(Option<i64>, Option<i64>, i64)> = match residual {
        false => t::table
            .filter(t::product_id.eq(product))
            .filter(t::initial_level.is_not_null())
            .group_by((t::initial_severity, t::initial_level))
            .select((
                t::initial_severity,
                t::initial_level,
                diesel::dsl::count_star(),
            ))
            .load(conn)?,
        true => t::table
            .filter(t::product_id.eq(product))
            .filter(t::residual_level.is_not_null())
            .group_by((t::residual_severity, t::residual_level))
            .select((
                t::residual_severity,
                t::residual_level,
                diesel::dsl::count_star(),
            ))
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .filter_map(|(s, p, n)| Some((s?, p?, n)))
        .collect())
}

/// Every risk of the product with its estimates (for re-evaluation under a
/// new plan), in slices of 1,000 after `after`.
pub fn estimates_after(
    conn: &mut DbConnection,
    product: i64,
    after: i64,
) -> QueryResult<Vec<Risk>> {
    let rows = t::table
        .filter(t::product_id.eq(product))
        .filter(t::id.gt(after))
        .order(t::id.asc())
        .limit(1_000)
        .select(Row::as_select())
        .load::<Row>(conn)?;
    rows.into_iter().map(|r| record(r, String::new())).collect()
}

/// Writes a risk's evaluations (a new plan approved) as version `r.version`.
pub fn save_evaluations(conn: &mut DbConnection, r: &Risk) -> QueryResult<bool> {
    let (_, il, iv) = columns(r.initial, r.initial_eval);
    let (_, rl, rv) = columns(r.residual, r.residual_eval);
    let n = diesel::update(t::table.filter(t::id.eq(r.id).and(t::version.eq(r.version - 1))))
        .set((
            t::initial_level.eq(il),
            t::initial_verdict.eq(iv),
            t::residual_level.eq(rl),
            t::residual_verdict.eq(rv),
            t::updated_at.eq(naive(r.updated_at)),
            t::version.eq(r.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Keys of the risks each requirement controls (controls in force), for
/// the traceability matrix.
pub fn risks_by_requirement(
    conn: &mut DbConnection,
    requirements: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<String>>> {
    let rows: Vec<(Option<i64>, i64)> = super::chunked(requirements, |chunk| {
        rc::table
            .filter(rc::requirement_id.eq_any(chunk))
            .filter(rc::withdrawn_at.is_null())
            .select((rc::requirement_id, rc::risk_id))
            .order((rc::requirement_id.asc(), rc::risk_id.asc()))
            .load(conn)
    })?;
    let mut out: std::collections::HashMap<i64, Vec<String>> = Default::default();
    for (req, risk) in rows {
        if let Some(req) = req {
            let keys = out.entry(req).or_default();
            let key = format!("RISK-{risk}");
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    Ok(out)
}

// ---- controls ----

type ControlRow = (i64, i64, String, String, Option<i64>, String);
type ControlCols = (
    rc::id,
    rc::risk_id,
    rc::option,
    rc::description,
    rc::requirement_id,
    rc::effectiveness,
);
const CONTROL: ControlCols = (
    rc::id,
    rc::risk_id,
    rc::option,
    rc::description,
    rc::requirement_id,
    rc::effectiveness,
);

fn control(
    (id, _, option, description, requirement, effectiveness): ControlRow,
) -> QueryResult<Control> {
    let c = crate::db::strict::Cols::new("risk_controls", id);
    Ok(Control {
        id,
        option: c.one_of("option", &option, ControlOption::parse)?,
        description,
        requirement,
        tests_pass: false,
        effectiveness,
    })
}

/// The risk's controls in force, in the order they were added.
pub fn controls_of(conn: &mut DbConnection, risk: i64) -> QueryResult<Vec<Control>> {
    rc::table
        .filter(rc::risk_id.eq(risk))
        .filter(rc::withdrawn_at.is_null())
        .order(rc::id.asc())
        .select(CONTROL)
        .load::<ControlRow>(conn)?
        .into_iter()
        .map(control)
        .collect()
}

fn controls_of_many(
    conn: &mut DbConnection,
    risks: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<Control>>> {
    let rows: Vec<ControlRow> = super::chunked(risks, |chunk| {
        rc::table
            .filter(rc::risk_id.eq_any(chunk))
            .filter(rc::withdrawn_at.is_null())
            .order(rc::id.asc())
            .select(CONTROL)
            .load(conn)
    })?;
    let mut out: std::collections::HashMap<i64, Vec<Control>> = Default::default();
    for row in rows {
        let risk = row.1;
        out.entry(risk).or_default().push(control(row)?);
    }
    Ok(out)
}

/// Adds a control to risk `risk`; returns its id.
pub fn insert_control(
    conn: &mut DbConnection,
    risk: i64,
    c: &Control,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(rc::table)
        .values((
            rc::risk_id.eq(risk),
            rc::option.eq(c.option.as_str()),
            rc::description.eq(&c.description),
            rc::requirement_id.eq(c.requirement),
            rc::effectiveness.eq(&c.effectiveness),
            rc::created_at.eq(naive(at)),
            rc::updated_at.eq(naive(at)),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

/// Rewrites control `c.id` of risk `risk`.
pub fn update_control(
    conn: &mut DbConnection,
    risk: i64,
    c: &Control,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        rc::table
            .filter(rc::id.eq(c.id))
            .filter(rc::risk_id.eq(risk))
            .filter(rc::withdrawn_at.is_null()),
    )
    .set((
        rc::option.eq(c.option.as_str()),
        rc::description.eq(&c.description),
        rc::requirement_id.eq(c.requirement),
        rc::effectiveness.eq(&c.effectiveness),
        rc::updated_at.eq(naive(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Withdraws control `id` of risk `risk` (kept, no longer in force).
pub fn withdraw_control(
    conn: &mut DbConnection,
    risk: i64,
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        rc::table
            .filter(rc::id.eq(id))
            .filter(rc::risk_id.eq(risk))
            .filter(rc::withdrawn_at.is_null()),
    )
    .set((rc::withdrawn_at.eq(naive(at)), rc::updated_at.eq(naive(at))))
    .execute(conn)?;
    Ok(n == 1)
}

// ---- acceptances ----

/// Keeps the content an acceptance signed.
pub fn keep_acceptance(
    conn: &mut DbConnection,
    risk: i64,
    (content, sha256): (&str, &str),
    at: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    diesel::insert_into(acc::table)
        .values((
            acc::risk_id.eq(risk),
            acc::content.eq(content),
            acc::sha256.eq(sha256),
            acc::accepted_at.eq(naive(at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The content of each acceptance of risk `risk`, as signed.
pub fn acceptances(conn: &mut DbConnection, risk: i64) -> QueryResult<Vec<String>> {
    acc::table
        .filter(acc::risk_id.eq(risk))
        .order(acc::id.asc())
        .select(acc::content)
        .load(conn)
}

/// The risks a control of risk `risk` introduced (7.6), by number.
pub fn introduced_by(conn: &mut DbConnection, risk: i64) -> QueryResult<Vec<i64>> {
    t::table
        .filter(t::introduced_by.eq(risk))
        .order(t::id.asc())
        .limit(100)
        .select(t::id)
        .load(conn)
}

/// Writes risk `r`'s review flag as version `r.version`.
pub fn save_review(conn: &mut DbConnection, r: &Risk) -> QueryResult<bool> {
    let n = diesel::update(t::table.filter(t::id.eq(r.id).and(t::version.eq(r.version - 1))))
        .set((
            t::needs_review.eq(&r.needs_review),
            t::needs_review_since.eq(r.needs_review_since.map(naive)),
            t::updated_at.eq(naive(r.updated_at)),
            t::version.eq(r.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The risks with a control in force implemented by one of `requirements`.
pub fn controlled_by(conn: &mut DbConnection, requirements: &[i64]) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = super::chunked(requirements, |chunk| {
        rc::table
            .filter(rc::requirement_id.eq_any(chunk))
            .filter(rc::withdrawn_at.is_null())
            .select(rc::risk_id)
            .load(conn)
    })?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// How many of the product's risks (every product's, when `None`) need review.
pub fn needing_review(conn: &mut DbConnection, product: Option<i64>) -> QueryResult<i64> {
    let mut q = t::table
        .filter(t::needs_review_since.is_not_null())
        .into_boxed();
    if let Some(p) = product {
        q = q.filter(t::product_id.eq(p));
    }
    q.count().get_result(conn)
}

/// The product's active requirements of kind risk control a control may
/// name (id, key, title), by key, at most `limit`.
pub fn control_requirements(
    conn: &mut DbConnection,
    product: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, String, String)>> {
    use crate::db::schema::requirements as q;
    q::table
        .filter(q::product_id.eq(product))
        .filter(q::kind.eq(crate::domain::requirement::ReqKind::RiskControl.as_str()))
        .filter(q::status.eq(crate::domain::requirement::ReqStatus::Active.as_str()))
        .order(q::key.asc())
        .limit(limit)
        .select((q::id, q::key, q::title))
        .load(conn)
}

/// Risks needing review per product (product id, name, count), most first
/// (at most 20 products).
pub fn needing_review_by_product(conn: &mut DbConnection) -> QueryResult<Vec<(i64, String, i64)>> {
    let mut counts: Vec<(i64, i64)> = t::table
        .filter(t::needs_review_since.is_not_null())
        .group_by(t::product_id)
        .select((t::product_id, diesel::dsl::count_star()))
        .load(conn)?;
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out = Vec::new();
    for (product, n) in counts.into_iter().take(20) {
        let name = super::products::find(conn, product)?
            .map_or_else(|| format!("product {product}"), |p| p.name);
        out.push((product, name, n));
    }
    Ok(out)
}
