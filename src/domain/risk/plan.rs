//! The risk management plan of a product (ISO 14971:2019 4.4) as a
//! versioned record: its criteria kept as JSON, a draft quality edits,
//! approved by signature (Approved), the approved one before it superseded
//! by Attest in the same step. And the hazard categories of annex C that a
//! product's hazard list is sorted by.

use serde_json::{Value, json};

use super::{Acceptability, Criteria, Level, Scale, Split};
use crate::domain::user::Role;
use crate::domain::workflow::{
    ActionDef, BUTTON_ONLY, Checks, Refusal, SignatureRule, StateDef, StepForm, To, Workflow,
};

/// Where a plan version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanState {
    Draft,
    Approved,
    Superseded,
}

impl PlanState {
    pub const ALL: [PlanState; 3] = [Self::Draft, Self::Approved, Self::Superseded];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Superseded => "superseded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Approved => "Approved",
            Self::Superseded => "Superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One version of a product's risk management plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskPlan {
    pub id: i64,
    pub product_id: i64,
    /// Its number among the product's plans (1, 2, ...).
    pub number: i64,
    pub criteria: Criteria,
    pub state: PlanState,
    pub author: i64,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What approving it changed in the risks' evaluations, in words.
    pub reevaluation: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl RiskPlan {
    /// `RMP-3 v2`: the plan's id and its number among the product's plans.
    pub fn key(&self) -> String {
        format!("RMP-{} v{}", self.id, self.number)
    }

    pub fn audit_fields(&self) -> Value {
        json!({
            "product_id": self.product_id,
            "number": self.number,
            "criteria": criteria_json(&self.criteria),
            "state": self.state.as_str(),
        })
    }

    /// What the approval signature binds: the product, the plan's number
    /// and its criteria.
    pub fn signed_content(&self) -> Value {
        json!({
            "key": self.key(),
            "product_id": self.product_id,
            "number": self.number,
            "criteria": criteria_json(&self.criteria),
        })
    }
}

fn scale_json(s: &Scale) -> Value {
    Value::Array(
        s.0.iter()
            .map(|l| json!({"label": l.label, "description": l.description}))
            .collect(),
    )
}

/// The criteria as stored, signed and served by the API.
pub fn criteria_json(c: &Criteria) -> Value {
    json!({
        "severity": scale_json(&c.severity),
        "probability": scale_json(&c.probability),
        "split": c.split.as_ref().map(|s| json!({
            "p1": scale_json(&s.p1),
            "p2": scale_json(&s.p2),
            "combine": s.combine,
        })),
        "matrix": c.matrix.iter().map(|row| row.iter().map(|a| a.as_str()).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}

fn scale_of(v: &Value) -> Option<Scale> {
    let levels = v.as_array()?;
    levels
        .iter()
        .map(|l| {
            Some(Level {
                label: l.get("label")?.as_str()?.to_string(),
                description: l.get("description")?.as_str()?.to_string(),
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(Scale)
}

/// Reads criteria stored by [`criteria_json`]; `None` if they are not.
pub fn criteria_of(v: &Value) -> Option<Criteria> {
    let split = match v.get("split") {
        None | Some(Value::Null) => None,
        Some(s) => Some(Split {
            p1: scale_of(s.get("p1")?)?,
            p2: scale_of(s.get("p2")?)?,
            combine: s
                .get("combine")?
                .as_array()?
                .iter()
                .map(|row| {
                    row.as_array()?
                        .iter()
                        .map(|n| n.as_u64().and_then(|n| u8::try_from(n).ok()))
                        .collect::<Option<Vec<u8>>>()
                })
                .collect::<Option<Vec<_>>>()?,
        }),
    };
    let matrix = v
        .get("matrix")?
        .as_array()?
        .iter()
        .map(|row| {
            row.as_array()?
                .iter()
                .map(|a| Acceptability::parse(a.as_str()?))
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Criteria {
        severity: scale_of(v.get("severity")?)?,
        probability: scale_of(v.get("probability")?)?,
        split,
        matrix,
    })
}

/// The plan's workflow: a draft is approved by quality's signature; the
/// approved version before it is superseded by Attest in the same step.
pub struct PlanWorkflow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanAction {
    Approve,
    Supersede,
}

/// The states of a versioned record of the risk file: the plan, the
/// evaluation and the report.
pub(super) static STATES: [StateDef<PlanState>; 3] = [
    StateDef {
        state: PlanState::Draft,
        name: "draft",
        label: "Draft",
        terminal: false,
        main: true,
    },
    StateDef {
        state: PlanState::Approved,
        name: "approved",
        label: "Approved",
        terminal: false,
        main: true,
    },
    StateDef {
        state: PlanState::Superseded,
        name: "superseded",
        label: "Superseded",
        terminal: true,
        main: true,
    },
];

fn no_input(_: &mut RiskPlan, _: &()) {}
fn no_guard(_: &RiskPlan, _: &mut Checks) {}
fn no_signature(_: &RiskPlan) -> Option<SignatureRule> {
    None
}

fn approve_guard(p: &RiskPlan, out: &mut Checks) {
    let problems = p.criteria.check().err().unwrap_or_default();
    let words: Vec<String> = problems.iter().map(|e| e.message.clone()).collect();
    out.require(
        problems.is_empty(),
        "The scales, the P1 x P2 table and the acceptability matrix are complete and consistent",
        Refusal::new(
            "risk_plan.criteria_invalid",
            format!("Put the plan's criteria right first: {}", words.join(" ")),
            Some("ISO 14971 4.4 d"),
        ),
    );
}

fn approved_signature(_: &RiskPlan) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Approved",
        sod: None,
    })
}

static ACTIONS: [ActionDef<PlanWorkflow>; 2] = [
    ActionDef {
        action: PlanAction::Approve,
        name: "approve",
        label: "Approve the plan",
        from: &[PlanState::Draft],
        to: To::State(PlanState::Approved),
        roles: &[Role::Quality],
        owner: false,
        apply: no_input,
        guard: approve_guard,
        signature: approved_signature,
        form: StepForm {
            inputs: &[],
            sign_note: "Needs a quality signature (Approved). Every risk of the product is evaluated again under it.",
            disclosure: None,
            together: None,
        },
    },
    ActionDef {
        action: PlanAction::Supersede,
        name: "supersede",
        label: "Supersede",
        from: &[PlanState::Approved],
        to: To::State(PlanState::Superseded),
        roles: &[],
        owner: false,
        apply: no_input,
        guard: no_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
];

impl Workflow for PlanWorkflow {
    type State = PlanState;
    type Action = PlanAction;
    type Record = RiskPlan;
    type Input = ();
    const KIND: &'static str = "risk_plan";

    fn states() -> &'static [StateDef<PlanState>] {
        &STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(p: &RiskPlan) -> PlanState {
        p.state
    }
    fn set_state(p: &mut RiskPlan, state: PlanState) {
        p.state = state;
    }
    fn by_system(action: PlanAction) -> bool {
        action == PlanAction::Supersede
    }
}

/// The hazard categories of ISO 14971:2019 annex C (table C.1, and use
/// as in C.2), that a product's hazard list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HazardCategory {
    EnergyAcoustic,
    EnergyElectric,
    EnergyMechanical,
    EnergyRadiation,
    EnergyThermal,
    Biological,
    Chemical,
    Immunological,
    PerformanceData,
    PerformanceDelivery,
    PerformanceDiagnostic,
    PerformanceFunctionality,
    Use,
    Other,
}

impl HazardCategory {
    pub const ALL: [HazardCategory; 14] = [
        Self::EnergyAcoustic,
        Self::EnergyElectric,
        Self::EnergyMechanical,
        Self::EnergyRadiation,
        Self::EnergyThermal,
        Self::Biological,
        Self::Chemical,
        Self::Immunological,
        Self::PerformanceData,
        Self::PerformanceDelivery,
        Self::PerformanceDiagnostic,
        Self::PerformanceFunctionality,
        Self::Use,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnergyAcoustic => "energy_acoustic",
            Self::EnergyElectric => "energy_electric",
            Self::EnergyMechanical => "energy_mechanical",
            Self::EnergyRadiation => "energy_radiation",
            Self::EnergyThermal => "energy_thermal",
            Self::Biological => "biological",
            Self::Chemical => "chemical",
            Self::Immunological => "immunological",
            Self::PerformanceData => "performance_data",
            Self::PerformanceDelivery => "performance_delivery",
            Self::PerformanceDiagnostic => "performance_diagnostic",
            Self::PerformanceFunctionality => "performance_functionality",
            Self::Use => "use",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::EnergyAcoustic => "Energy: acoustic (noise, ultrasound)",
            Self::EnergyElectric => "Energy: electric (leakage current, fields)",
            Self::EnergyMechanical => "Energy: mechanical (moving parts, pressure, vibration)",
            Self::EnergyRadiation => "Energy: radiation (ionizing, non-ionizing)",
            Self::EnergyThermal => "Energy: thermal (hot or cold surfaces)",
            Self::Biological => "Biological (bacteria, viruses, prions)",
            Self::Chemical => "Chemical (toxic, corrosive, carcinogenic)",
            Self::Immunological => "Immunological (allergenic, irritant)",
            Self::PerformanceData => "Performance: data (availability, confidentiality, integrity)",
            Self::PerformanceDelivery => "Performance: delivery of energy or substances",
            Self::PerformanceDiagnostic => "Performance: diagnostic information",
            Self::PerformanceFunctionality => "Performance: functionality (alarms, measurement)",
            Self::Use => "Use (use error, human factors)",
            Self::Other => "Other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A hazard of a product's hazard list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    pub id: i64,
    pub product_id: i64,
    pub category: HazardCategory,
    pub name: String,
    pub description: String,
}

/// Most characters of a hazard's name.
pub const MAX_HAZARD_NAME: usize = 200;
