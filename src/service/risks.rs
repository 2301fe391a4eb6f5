//! The risk file of a product (ISO 14971): its risk management plan, its
//! hazard list, its risks and their controls. Every change is audited in
//! its transaction; every state change goes through the transition service.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::{links, products, requirements, risks as repo, tests};
use crate::db::{DbConnection, write_tx};
use crate::domain::requirement::ReqKind;
use crate::domain::risk::plan::{
    Hazard, HazardCategory, MAX_HAZARD_NAME, PlanState, PlanWorkflow, RiskPlan,
};
use crate::domain::risk::workflow::{
    Control, ControlOption, MAX_TEXT, Risk, RiskState, RiskWorkflow,
};
use crate::domain::risk::{Criteria, Estimate, starting_criteria};
use crate::domain::trace::Outcome;
use crate::domain::user::{FieldError, Role};

impl Stored for RiskWorkflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Risk>> {
        let Some(mut risk) = repo::find(conn, id)? else {
            return Ok(None);
        };
        let reqs: Vec<i64> = risk.controls.iter().filter_map(|c| c.requirement).collect();
        let verified = implementation(conn, &reqs)?;
        for c in &mut risk.controls {
            c.tests_pass = c
                .requirement
                .and_then(|r| verified.get(&r))
                .is_some_and(|tests| {
                    !tests.is_empty() && tests.iter().all(|t| t.1 == Some(Outcome::Passed))
                });
        }
        Ok(Some(risk))
    }
    fn save(conn: &mut DbConnection, record: &Risk) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &Risk) -> i64 {
        record.version
    }
    fn bump(record: &mut Risk, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
    }
    fn entity(record: &Risk) -> EntityRef {
        risk_entity(record)
    }
    fn audit_fields(record: &Risk) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &Risk) -> Value {
        record.signed_content()
    }
    fn after_step(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        _from: RiskState,
        record: &Risk,
    ) -> Result<(), RecordError> {
        if matches!(action, "accept" | "accept_without_control") {
            // The content signed, kept: a later reopening changes the risk,
            // not what this acceptance bound.
            let content = record.signed_content();
            let bytes = crate::audit::canonical::to_vec(&content)
                .map_err(|e| RecordError::invalid(format!("the risk cannot be kept: {e}")))?;
            let sha = super::workflow::content_hash::<RiskWorkflow>(record)?;
            repo::keep_acceptance(
                conn,
                record.id,
                (&String::from_utf8_lossy(&bytes), &sha),
                ctx.now,
            )?;
        }
        Ok(())
    }
}

pub fn risk_entity(r: &Risk) -> EntityRef {
    EntityRef {
        kind: "risk".into(),
        id: format!("risk-{}", r.id),
        key: r.key(),
        version: r.version,
    }
}

crate::versioned!(Risk => risk_entity, RiskPlan => plan_entity);

fn plan_entity(p: &RiskPlan) -> EntityRef {
    EntityRef {
        kind: "risk_plan".into(),
        id: format!("rmp-{}", p.id),
        key: p.key(),
        version: p.version,
    }
}

impl Stored for PlanWorkflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<RiskPlan>> {
        repo::plans::find_plan(conn, id)
    }
    fn save(conn: &mut DbConnection, record: &RiskPlan) -> diesel::QueryResult<bool> {
        repo::plans::save_step(conn, record)
    }
    fn version(record: &RiskPlan) -> i64 {
        record.version
    }
    fn bump(record: &mut RiskPlan, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
        if record.state == PlanState::Approved && record.approved_at.is_none() {
            record.approved_at = Some(now);
        }
    }
    fn entity(record: &RiskPlan) -> EntityRef {
        plan_entity(record)
    }
    fn audit_fields(record: &RiskPlan) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &RiskPlan) -> Value {
        record.signed_content()
    }
    fn before_save(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        p: &RiskPlan,
    ) -> Result<(), RecordError> {
        if action == "approve"
            && let Some(before) = repo::plans::plan_in(conn, p.product_id, PlanState::Approved)?
        {
            super::workflow::step_as_attest::<PlanWorkflow>(
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
    fn after_step(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        _from: PlanState,
        p: &RiskPlan,
    ) -> Result<(), RecordError> {
        if action == "approve" {
            let words = reevaluate(conn, ctx, p)?;
            repo::plans::note_reevaluation(conn, p.id, &words)?;
        }
        Ok(())
    }
}

/// Every risk of the product evaluated again under `plan`, just approved:
/// each one whose evaluation changes is written with its audit entry.
/// Returns what changed, in words.
fn reevaluate(conn: &mut DbConnection, ctx: &Ctx, plan: &RiskPlan) -> Result<String, RecordError> {
    let mut changed = Vec::new();
    let mut after = 0;
    loop {
        let page = repo::estimates_after(conn, plan.product_id, after)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for before in page {
            let mut next = before.clone();
            next.initial_eval = next.initial.and_then(|e| plan.criteria.evaluate(e).ok());
            next.residual_eval = next.residual.and_then(|e| plan.criteria.evaluate(e).ok());
            if next.initial_eval == before.initial_eval
                && next.residual_eval == before.residual_eval
            {
                continue;
            }
            next.version += 1;
            next.updated_at = ctx.now;
            if !repo::save_evaluations(conn, &next)? {
                return Err(RecordError::Stale);
            }
            let (was, now) = super::edit::changed(&before.audit_fields(), &next.audit_fields());
            audit::append(
                conn,
                &ctx.entry("risk.reevaluated")
                    .entity(risk_entity(&next))
                    .before(Value::Object(was))
                    .after(Value::Object(now))
                    .reason(format!("{} approved", plan.key())),
            )?;
            changed.push(format!(
                "{}: {} → {}",
                next.key(),
                verdicts(&before),
                verdicts(&next)
            ));
        }
    }
    Ok(match changed.len() {
        0 => "No risk's evaluation changed.".into(),
        n => format!("{n} evaluation(s) changed: {}", changed.join("; ")),
    })
}

fn verdicts(r: &Risk) -> String {
    let one = |e: Option<crate::domain::risk::Evaluation>, had: bool| match (e, had) {
        (Some(e), _) => format!("S{} P{} {}", e.severity, e.probability, e.verdict.label()),
        (None, true) => "not on the plan's scales: estimate again".into(),
        (None, false) => "not estimated".into(),
    };
    format!(
        "initial {}, residual {}",
        one(r.initial_eval, r.initial.is_some()),
        one(r.residual_eval, r.residual.is_some())
    )
}

/// Each requirement's linked tests: key and latest outcome.
pub type TestsOf = HashMap<i64, Vec<(String, Option<Outcome>)>>;

/// Each requirement's linked tests (key, latest outcome).
pub fn implementation(conn: &mut DbConnection, reqs: &[i64]) -> diesel::QueryResult<TestsOf> {
    let ids: Vec<String> = reqs.iter().map(|r| format!("req-{r}")).collect();
    let test_links = links::to_any(conn, "test_case", "verifies", "requirement", &ids)?;
    let id_of = |s: &str, p: &str| s.strip_prefix(p).and_then(|n| n.parse::<i64>().ok());
    let cases: Vec<i64> = test_links
        .iter()
        .filter_map(|l| id_of(&l.from_id, "test-"))
        .collect();
    let keys: HashMap<i64, String> = tests::cases_by_id(conn, &cases)?
        .into_iter()
        .map(|c| (c.id, c.key))
        .collect();
    let latest: HashMap<i64, Outcome> = tests::latest_results(conn, &cases)?
        .into_iter()
        .map(|r| (r.test_case_id, r.outcome))
        .collect();
    let mut out: HashMap<i64, Vec<(String, Option<Outcome>)>> = HashMap::new();
    for l in &test_links {
        let (Some(req), Some(t)) = (id_of(&l.to_id, "req-"), id_of(&l.from_id, "test-")) else {
            continue;
        };
        if let Some(key) = keys.get(&t) {
            out.entry(req)
                .or_default()
                .push((key.clone(), latest.get(&t).copied()));
        }
    }
    Ok(out)
}

fn active_product(conn: &mut DbConnection, product: i64) -> Result<(), RecordError> {
    match products::find(conn, product)? {
        Some(p) if p.active => Ok(()),
        Some(_) => Err(RecordError::invalid(
            "The product is archived: its risk file is kept as it is.",
        )),
        None => Err(RecordError::NotFound),
    }
}

/// The product's approved plan, or why there is none.
pub fn approved_plan(
    conn: &mut DbConnection,
    product: i64,
) -> diesel::QueryResult<Option<RiskPlan>> {
    repo::plans::plan_in(conn, product, PlanState::Approved)
}

/// Starts a draft of the product's next plan: a copy of the approved one,
/// or the starting criteria for a product's first plan.
pub fn start_plan(
    conn: &mut DbConnection,
    ctx: &Ctx,
    product: i64,
    author: i64,
) -> Result<RiskPlan, RecordError> {
    write_tx(conn, |conn| {
        active_product(conn, product)?;
        if let Some(draft) = repo::plans::plan_in(conn, product, PlanState::Draft)? {
            return Ok(draft);
        }
        let criteria = match approved_plan(conn, product)? {
            Some(p) => p.criteria,
            None => starting_criteria(),
        };
        let number = repo::plans::next_plan_number(conn, product)?;
        let plan = repo::plans::insert_plan(
            conn,
            &RiskPlan {
                id: 0,
                product_id: product,
                number,
                criteria,
                state: PlanState::Draft,
                author,
                approved_at: None,
                reevaluation: String::new(),
                created_at: ctx.now,
                updated_at: ctx.now,
                version: 1,
            },
        )?;
        audit::append(
            conn,
            &ctx.entry("risk_plan.created")
                .entity(plan_entity(&plan))
                .after(plan.audit_fields()),
        )?;
        Ok(plan)
    })
}

/// Saves a draft plan's criteria; each broken rule is a field error.
pub fn save_plan(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    criteria: Criteria,
) -> Result<RiskPlan, RecordError> {
    criteria.check().map_err(RecordError::Invalid)?;
    write_tx(conn, |conn| {
        let before = repo::plans::find_plan(conn, id)?.ok_or(RecordError::NotFound)?;
        if before.version != version {
            return Err(RecordError::Stale);
        }
        if before.state != PlanState::Draft {
            return Err(RecordError::invalid(format!(
                "{} is {}: only a draft is edited (start the next version from the risk file)",
                before.key(),
                before.state.label().to_lowercase()
            )));
        }
        let after = RiskPlan {
            criteria: criteria.clone(),
            ..before.clone()
        };
        super::edit::edit(
            conn,
            ctx,
            "risk_plan.updated",
            &before,
            after,
            None,
            |conn, p| Ok::<_, RecordError>(repo::plans::save_plan(conn, p)?),
        )
    })
}

/// Adds a hazard to the product's hazard list.
pub fn add_hazard(
    conn: &mut DbConnection,
    ctx: &Ctx,
    by: i64,
    product: i64,
    (category, name, description): (&str, &str, &str),
) -> Result<Hazard, RecordError> {
    let mut problems = Vec::new();
    let category = HazardCategory::parse(category.trim());
    if category.is_none() {
        problems.push(FieldError::new(
            "category",
            "Choose the hazard's category (ISO 14971 annex C).",
        ));
    }
    let (name, description) = (name.trim(), description.trim());
    if name.is_empty() || name.chars().count() > MAX_HAZARD_NAME || name.contains(['\r', '\n']) {
        problems.push(FieldError::new(
            "name",
            format!("Name the hazard in one line of 1 to {MAX_HAZARD_NAME} characters."),
        ));
    }
    if description.chars().count() > MAX_TEXT {
        problems.push(FieldError::new(
            "description",
            "The description can have at most 10,000 characters.",
        ));
    }
    let Some(category) = category.filter(|_| problems.is_empty()) else {
        return Err(RecordError::Invalid(problems));
    };
    write_tx(conn, |conn| {
        active_product(conn, product)?;
        if repo::hazard_named(conn, product, name)? {
            return Err(RecordError::field(
                "name",
                format!("The product's hazard list has {name:?} already."),
            ));
        }
        let hz = repo::insert_hazard(
            conn,
            &Hazard {
                id: 0,
                product_id: product,
                category,
                name: name.into(),
                description: description.into(),
            },
            by,
            ctx.now,
        )?;
        audit::append(
            conn,
            &ctx.entry("hazard.created")
                .entity(EntityRef {
                    kind: "hazard".into(),
                    id: format!("hz-{}", hz.id),
                    key: hz.name.clone(),
                    version: 1,
                })
                .after(json!({
                    "product_id": product,
                    "category": category.as_str(),
                    "name": hz.name,
                    "description": hz.description,
                })),
        )?;
        Ok(hz)
    })
}

/// The analysis a person writes: hazard, sequence of events, hazardous
/// situation, harm and the initial estimate, as typed.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub hazard: String,
    pub sequence: String,
    pub situation: String,
    pub harm: String,
    pub estimate: EstimateText,
}

/// An estimate as typed: severity, and probability or P1 and P2.
#[derive(Clone, Debug, Default)]
pub struct EstimateText {
    pub severity: String,
    pub probability: String,
    pub p1: String,
    pub p2: String,
}

impl EstimateText {
    fn blank(&self) -> bool {
        [&self.severity, &self.probability, &self.p1, &self.p2]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    /// The estimate placed under `plan`, field errors named with `prefix`
    /// (`initial_`, `residual_`); `None` when nothing is typed.
    fn read(
        &self,
        plan: Option<&RiskPlan>,
        fields: [&'static str; 4],
        out: &mut Vec<FieldError>,
    ) -> Option<(Estimate, crate::domain::risk::Evaluation)> {
        if self.blank() {
            return None;
        }
        let Some(plan) = plan else {
            out.push(FieldError::new(
                fields[0],
                "The product has no approved risk management plan yet: approve its plan before estimating risks.",
            ));
            return None;
        };
        let number = |s: &str, field: &'static str, out: &mut Vec<FieldError>| -> Option<u8> {
            match s.trim().parse::<u8>() {
                Ok(n) => Some(n),
                Err(_) => {
                    out.push(FieldError::new(
                        field,
                        "Choose a level of the plan's scale.",
                    ));
                    None
                }
            }
        };
        let severity = number(&self.severity, fields[0], out)?;
        let probability = match plan.criteria.split {
            None => {
                crate::domain::risk::Probability::Level(number(&self.probability, fields[1], out)?)
            }
            Some(_) => crate::domain::risk::Probability::Split {
                p1: number(&self.p1, fields[2], out)?,
                p2: number(&self.p2, fields[3], out)?,
            },
        };
        let e = Estimate {
            severity,
            probability,
        };
        match plan.criteria.evaluate(e) {
            Ok(ev) => Some((e, ev)),
            Err(err) => {
                let field = match err.field() {
                    "severity" => fields[0],
                    "p1" => fields[2],
                    "p2" => fields[3],
                    _ => fields[1],
                };
                out.push(FieldError::new(field, err.to_string()));
                None
            }
        }
    }
}

const INITIAL: [&str; 4] = [
    "initial_severity",
    "initial_probability",
    "initial_p1",
    "initial_p2",
];
const RESIDUAL: [&str; 4] = [
    "residual_severity",
    "residual_probability",
    "residual_p1",
    "residual_p2",
];

fn text_field(value: &str, field: &'static str, what: &str, out: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.chars().count() > MAX_TEXT {
        out.push(FieldError::new(
            field,
            format!("{what} can have at most 10,000 characters."),
        ));
    }
    v.to_string()
}

/// Writes the analysis onto `r` (hazard checked against the product's
/// list, the estimate against its approved plan).
fn apply_analysis(conn: &mut DbConnection, r: &mut Risk, a: &Analysis) -> Result<(), RecordError> {
    let mut problems = Vec::new();
    r.hazard = String::new();
    r.hazard_id = match a.hazard.trim() {
        "" => None,
        h => match h
            .parse::<i64>()
            .ok()
            .map(|id| repo::find_hazard(conn, id))
            .transpose()?
            .flatten()
        {
            Some(hz) if hz.product_id == r.product_id => {
                r.hazard = hz.name;
                Some(hz.id)
            }
            _ => {
                problems.push(FieldError::new(
                    "hazard",
                    "Choose a hazard of this product's hazard list.",
                ));
                None
            }
        },
    };
    r.sequence = text_field(
        &a.sequence,
        "sequence",
        "The sequence of events",
        &mut problems,
    );
    r.situation = text_field(
        &a.situation,
        "situation",
        "The hazardous situation",
        &mut problems,
    );
    r.harm = text_field(&a.harm, "harm", "The harm", &mut problems);
    let plan = approved_plan(conn, r.product_id)?;
    match a.estimate.read(plan.as_ref(), INITIAL, &mut problems) {
        Some((e, ev)) => {
            r.initial = Some(e);
            r.initial_eval = Some(ev);
        }
        None => {
            r.initial = None;
            r.initial_eval = None;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(RecordError::Invalid(problems))
    }
}

/// Identifies a new risk in the product's risk file, with what is known of
/// its analysis.
pub fn identify(
    conn: &mut DbConnection,
    ctx: &Ctx,
    by: i64,
    product: i64,
    analysis: &Analysis,
    introduced_by: Option<i64>,
) -> Result<Risk, RecordError> {
    write_tx(conn, |conn| {
        active_product(conn, product)?;
        let mut r = Risk {
            id: 0,
            product_id: product,
            hazard_id: None,
            hazard: String::new(),
            sequence: String::new(),
            situation: String::new(),
            harm: String::new(),
            initial: None,
            initial_eval: None,
            controls: Vec::new(),
            residual: None,
            residual_eval: None,
            residual_reason: String::new(),
            benefit_risk: String::new(),
            analyst: None,
            reason: String::new(),
            introduced_by: None,
            needs_review: String::new(),
            needs_review_since: None,
            state: RiskState::Identified,
            created_by: by,
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
        };
        apply_analysis(conn, &mut r, analysis)?;
        if let Some(from) = introduced_by {
            match repo::find(conn, from)? {
                Some(f) if f.product_id == product => r.introduced_by = Some(from),
                _ => {
                    return Err(RecordError::invalid(
                        "The risk it comes from is not in this product's risk file.",
                    ));
                }
            }
        }
        let risk = repo::insert(conn, &r)?;
        audit::append(
            conn,
            &ctx.entry("risk.created")
                .entity(risk_entity(&risk))
                .after(risk.audit_fields()),
        )?;
        Ok(risk)
    })
}

fn load_at(conn: &mut DbConnection, id: i64, version: i64) -> Result<Risk, RecordError> {
    let r = RiskWorkflow::load(conn, id)?.ok_or(RecordError::NotFound)?;
    if r.version != version {
        return Err(RecordError::Stale);
    }
    Ok(r)
}

fn editable(r: &Risk, states: &[RiskState], what: &str) -> Result<(), RecordError> {
    if states.contains(&r.state) {
        return Ok(());
    }
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    Err(RecordError::invalid(format!(
        "{} is {}: {what} is changed only while it is {} (reopen it first)",
        r.key(),
        r.state.as_str(),
        names.join(" or ")
    )))
}

/// Changes the fields of risk `id` seen at `version` while it is in one of
/// `states` (`what` is changed then): `change` writes them onto the risk or
/// refuses them; the risk is saved with its audit entry (`risk.updated`).
fn edit_risk(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version): (i64, i64),
    (states, what): (&[RiskState], &str),
    change: impl FnOnce(&mut DbConnection, &Risk, &mut Risk) -> Result<(), RecordError>,
) -> Result<Risk, RecordError> {
    write_tx(conn, |conn| {
        let before = load_at(conn, id, version)?;
        editable(&before, states, what)?;
        let mut after = before.clone();
        change(conn, &before, &mut after)?;
        super::edit::edit(
            conn,
            ctx,
            "risk.updated",
            &before,
            after,
            None,
            |conn, r| Ok::<_, RecordError>(repo::save(conn, r)?),
        )
    })
}

/// Saves the analysis of a risk identified or analyzed.
pub fn update_analysis(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    analysis: &Analysis,
) -> Result<Risk, RecordError> {
    let states = [RiskState::Identified, RiskState::Analyzed];
    edit_risk(
        conn,
        ctx,
        (id, version),
        (&states, "the analysis"),
        |conn, before, after| {
            apply_analysis(conn, after, analysis)?;
            if before.state != RiskState::Analyzed {
                return Ok(());
            }
            // An analyzed risk keeps what its analysis step checked.
            let mut problems = Vec::new();
            for (empty, field, words) in [
                (
                    after.hazard_id.is_none(),
                    "hazard",
                    "An analyzed risk keeps its hazard.",
                ),
                (
                    after.situation.is_empty(),
                    "situation",
                    "An analyzed risk keeps its hazardous situation.",
                ),
                (
                    after.harm.is_empty(),
                    "harm",
                    "An analyzed risk keeps its harm.",
                ),
                (
                    after.initial_eval.is_none(),
                    "initial_severity",
                    "An analyzed risk keeps its initial estimate: give its severity and probability.",
                ),
            ] {
                if empty {
                    problems.push(FieldError::new(field, words));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(RecordError::Invalid(problems))
            }
        },
    )
}

/// The residual estimate and the benefit-risk rationale as typed.
#[derive(Clone, Debug, Default)]
pub struct Residual {
    pub estimate: EstimateText,
    pub reason: String,
    pub benefit_risk: String,
}

/// Saves the residual estimate of a risk controlled or verified. A residual
/// worse than the initial estimate needs a reason.
pub fn update_residual(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    residual: &Residual,
) -> Result<Risk, RecordError> {
    let states = [RiskState::Controlled, RiskState::Verified];
    edit_risk(
        conn,
        ctx,
        (id, version),
        (&states, "the residual risk"),
        |conn, before, after| {
            let mut problems = Vec::new();
            let plan = approved_plan(conn, before.product_id)?;
            let placed = residual
                .estimate
                .read(plan.as_ref(), RESIDUAL, &mut problems);
            after.residual = placed.map(|p| p.0);
            after.residual_eval = placed.map(|p| p.1);
            after.residual_reason = text_field(
                &residual.reason,
                "residual_reason",
                "The reason",
                &mut problems,
            );
            after.benefit_risk = text_field(
                &residual.benefit_risk,
                "benefit_risk",
                "The benefit-risk rationale",
                &mut problems,
            );
            if problems.is_empty() && after.residual_worse() && after.residual_reason.is_empty() {
                problems.push(FieldError::new(
                "residual_reason",
                "The residual risk is estimated worse than the initial risk: say why (a control that adds a hazard, new information).",
            ));
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(RecordError::Invalid(problems))
            }
        },
    )
}

/// A control as typed.
#[derive(Clone, Debug, Default)]
pub struct ControlText {
    pub option: String,
    pub description: String,
    pub requirement: String,
    pub effectiveness: String,
}

/// The control typed, its requirement checked: of this product and of
/// kind risk control.
fn read_control(
    conn: &mut DbConnection,
    product: i64,
    id: i64,
    c: &ControlText,
) -> Result<Control, RecordError> {
    let mut problems = Vec::new();
    let option = ControlOption::parse(c.option.trim());
    if option.is_none() {
        problems.push(FieldError::new(
            "option",
            "Choose the control option (ISO 14971 7.1): inherent safety by design, protective measure or information for safety.",
        ));
    }
    let description = text_field(
        &c.description,
        "description",
        "The description",
        &mut problems,
    );
    if description.is_empty() {
        problems.push(FieldError::new("description", "Describe the control."));
    }
    let effectiveness = text_field(
        &c.effectiveness,
        "effectiveness",
        "The verification of effectiveness",
        &mut problems,
    );
    let requirement = match c.requirement.trim() {
        "" => None,
        v => match v
            .parse::<i64>()
            .ok()
            .map(|n| requirements::find(conn, n))
            .transpose()?
            .flatten()
        {
            Some(req) if req.product_id != product => {
                problems.push(FieldError::new(
                    "requirement",
                    format!("{} is a requirement of another product: link a requirement of this product.", req.key),
                ));
                None
            }
            Some(req) if req.kind != ReqKind::RiskControl => {
                problems.push(FieldError::new(
                    "requirement",
                    format!("{} is a {} requirement: a control is implemented by a requirement of kind risk control.", req.key, req.kind.label().to_lowercase()),
                ));
                None
            }
            Some(req) => Some(req.id),
            None => {
                problems.push(FieldError::new(
                    "requirement",
                    "Choose a requirement of this product from the list.",
                ));
                None
            }
        },
    };
    match option {
        Some(option) if problems.is_empty() => Ok(Control {
            id,
            option,
            description,
            requirement,
            tests_pass: false,
            effectiveness,
        }),
        _ => Err(RecordError::Invalid(problems)),
    }
}

fn control_json(c: &Control) -> Value {
    json!({
        "id": c.id,
        "option": c.option.as_str(),
        "description": c.description,
        "requirement_id": c.requirement,
        "effectiveness": c.effectiveness,
    })
}

/// Saves a change of a risk's controls: the risk moves on one version and
/// the audit entry names the control before and after.
fn control_change(
    conn: &mut DbConnection,
    ctx: &Ctx,
    before: &Risk,
    action: &str,
    (was, now): (Value, Value),
) -> Result<Risk, RecordError> {
    let mut after = before.clone();
    super::edit::Versioned::bump(&mut after, ctx.now);
    if !repo::save(conn, &after)? {
        return Err(RecordError::Stale);
    }
    audit::append(
        conn,
        &ctx.entry(action)
            .entity(risk_entity(&after))
            .before(json!({ "control": was }))
            .after(json!({ "control": now })),
    )?;
    Ok(after)
}

/// Adds a control to an analyzed risk.
pub fn add_control(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    c: &ControlText,
) -> Result<Risk, RecordError> {
    write_tx(conn, |conn| {
        let before = load_at(conn, id, version)?;
        editable(&before, &[RiskState::Analyzed], "a control")?;
        let mut control = read_control(conn, before.product_id, 0, c)?;
        control.id = repo::insert_control(conn, id, &control, ctx.now)?;
        control_change(
            conn,
            ctx,
            &before,
            "risk.control_added",
            (Value::Null, control_json(&control)),
        )
    })
}

/// Changes control `control` of a risk: all of it while the risk is
/// analyzed; its verification of effectiveness while it is controlled.
pub fn update_control(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version, control): (i64, i64, i64),
    c: &ControlText,
) -> Result<Risk, RecordError> {
    write_tx(conn, |conn| {
        let before = load_at(conn, id, version)?;
        editable(
            &before,
            &[RiskState::Analyzed, RiskState::Controlled],
            "a control",
        )?;
        let was = before
            .controls
            .iter()
            .find(|x| x.id == control)
            .cloned()
            .ok_or(RecordError::NotFound)?;
        let mut next = read_control(conn, before.product_id, control, c)?;
        if before.state == RiskState::Controlled {
            // The control is in place: only how its effectiveness was shown changes.
            next = Control {
                effectiveness: next.effectiveness,
                ..was.clone()
            };
        }
        if !repo::update_control(conn, id, &next, ctx.now)? {
            return Err(RecordError::Stale);
        }
        control_change(
            conn,
            ctx,
            &before,
            "risk.control_updated",
            (control_json(&was), control_json(&next)),
        )
    })
}

/// Withdraws a control of an analyzed risk (kept, no longer in force).
pub fn withdraw_control(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version, control): (i64, i64, i64),
) -> Result<Risk, RecordError> {
    write_tx(conn, |conn| {
        let before = load_at(conn, id, version)?;
        editable(&before, &[RiskState::Analyzed], "a control")?;
        let was = before
            .controls
            .iter()
            .find(|x| x.id == control)
            .cloned()
            .ok_or(RecordError::NotFound)?;
        if !repo::withdraw_control(conn, id, control, ctx.now)? {
            return Err(RecordError::Stale);
        }
        control_change(
            conn,
            ctx,
            &before,
            "risk.control_withdrawn",
            (control_json(&was), Value::Null),
        )
    })
}

/// Who may write a risk's analysis and controls.
pub const ANALYSTS: &[Role] = &[Role::Engineer, Role::Quality];

/// A heat-map cell's severity, probability level and count of risks.
pub type Cell = (i64, i64, i64);

/// What the risk file page shows of a product: its plans, counts by state,
/// heat-map cell counts before and after controls, a page of its risks and
/// its hazard list (each an indexed query).
pub struct RiskFile {
    pub product: String,
    pub plan: Option<RiskPlan>,
    pub draft: Option<RiskPlan>,
    pub by_state: Vec<(String, i64)>,
    /// (severity, probability level, count), initial and residual.
    pub cells: (Vec<Cell>, Vec<Cell>),
    pub rows: Vec<Risk>,
    pub total: i64,
    pub hazards: Vec<Hazard>,
    /// How many of its risks need review.
    pub needing_review: i64,
}

/// The risk file of `product`, a page of its risks as `filter` keeps them.
pub fn file(
    conn: &mut DbConnection,
    product: i64,
    filter: &repo::Filter,
    (offset, limit): (i64, i64),
) -> Result<Option<RiskFile>, RecordError> {
    let Some(p) = products::find(conn, product)? else {
        return Ok(None);
    };
    let (rows, total) = repo::list(conn, product, filter, offset, limit)?;
    Ok(Some(RiskFile {
        product: p.name,
        plan: approved_plan(conn, product)?,
        draft: repo::plans::plan_in(conn, product, PlanState::Draft)?,
        by_state: repo::count_by_state(conn, product)?,
        cells: (
            repo::cell_counts(conn, product, false)?,
            repo::cell_counts(conn, product, true)?,
        ),
        rows,
        total,
        hazards: repo::hazards_of(conn, product)?,
        needing_review: repo::needing_review(conn, Some(product))?,
    }))
}

/// Raises "needs review" on every risk with a control in force implemented
/// by one of `requirements`, for `reason(requirement)` (a line added to
/// the risk's reasons, once), each change audited (`risk.needs_review`).
/// Called in the transaction of what raises it: a requirement reworded, a
/// test of one failing. Returns how many risks it flagged.
pub fn flag_requirements(
    conn: &mut DbConnection,
    ctx: &Ctx,
    requirements: &[i64],
    reason: impl Fn(i64) -> String,
) -> Result<usize, RecordError> {
    let mut flagged = 0;
    for id in repo::controlled_by(conn, requirements)? {
        let Some(before) = repo::find(conn, id)? else {
            continue;
        };
        let why: Vec<String> = before
            .controls
            .iter()
            .filter_map(|c| c.requirement)
            .filter(|req| requirements.contains(req))
            .map(&reason)
            .collect();
        if flag(conn, ctx, before, &why)? {
            flagged += 1;
        }
    }
    Ok(flagged)
}

/// Raises "needs review" on risk `id` for `why` (a line added to its
/// reasons, once), audited (`risk.needs_review`), in the caller's
/// transaction: a nonconformance or CAPA linked to it.
pub fn flag_one(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    why: &str,
) -> Result<bool, RecordError> {
    let before = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
    flag(conn, ctx, before, &[why.to_string()])
}

/// Adds the lines of `why` the risk does not list yet to its reasons for
/// review; false when there were none to add.
fn flag(
    conn: &mut DbConnection,
    ctx: &Ctx,
    before: Risk,
    why: &[String],
) -> Result<bool, RecordError> {
    let mut lines: Vec<String> = before.needs_review.lines().map(str::to_string).collect();
    let mut added = false;
    for w in why {
        if !lines.contains(w) {
            lines.push(w.clone());
            added = true;
        }
    }
    if !added {
        return Ok(false);
    }
    let mut after = before.clone();
    after.needs_review = lines.join("\n");
    after.needs_review_since = before.needs_review_since.or(Some(ctx.now));
    super::edit::Versioned::bump(&mut after, ctx.now);
    if !repo::save_review(conn, &after)? {
        return Err(RecordError::Stale);
    }
    audit::append(
        conn,
        &ctx.entry("risk.needs_review")
            .entity(risk_entity(&after))
            .before(json!({ "needs_review": before.needs_review }))
            .after(json!({ "needs_review": after.needs_review })),
    )?;
    Ok(true)
}

/// Records a review decision on a risk that needs review: what was decided
/// (the risk's analysis and controls still hold, or what will change), and
/// clears the flag. Audited (`risk.reviewed`) with the decision.
pub fn review(
    conn: &mut DbConnection,
    ctx: &Ctx,
    (id, version): (i64, i64),
    decision: &str,
) -> Result<Risk, RecordError> {
    let decision = decision.trim();
    if decision.is_empty() || decision.chars().count() > MAX_TEXT {
        return Err(RecordError::field(
            "decision",
            "Write the review decision (1 to 10,000 characters): whether the analysis and controls still hold, and what changes if not.",
        ));
    }
    write_tx(conn, |conn| {
        let before = load_at(conn, id, version)?;
        if before.needs_review_since.is_none() {
            return Err(RecordError::invalid(format!(
                "{} does not need review.",
                before.key()
            )));
        }
        let mut after = before.clone();
        after.needs_review = String::new();
        after.needs_review_since = None;
        super::edit::Versioned::bump(&mut after, ctx.now);
        if !repo::save_review(conn, &after)? {
            return Err(RecordError::Stale);
        }
        audit::append(
            conn,
            &ctx.entry("risk.reviewed")
                .entity(risk_entity(&after))
                .before(json!({ "needs_review": before.needs_review }))
                .after(json!({ "needs_review": "" }))
                .reason(decision),
        )?;
        Ok(after)
    })
}
