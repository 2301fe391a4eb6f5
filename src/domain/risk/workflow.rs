//! A risk (RISK-n) and its workflow on the one engine (WORKFLOWS.md "Risk";
//! ISO 14971:2019 5.4, 5.5, 6, 7.1–7.4): identified → analyzed → controlled
//! → verified → accepted, accepted without control when the initial risk is
//! acceptable, and reopen. The record carries its estimates' evaluations
//! against the product's approved plan (the service places them) and, for
//! each control, whether its requirement's tests passed last; the guards
//! read those, never a database.

use super::{Acceptability, Estimate, Evaluation};
use crate::domain::user::Role;
use crate::domain::workflow::{
    ActionDef, At, BUTTON_ONLY, Checks, InputDef, InputKind, Refusal, SignatureRule, SodRule,
    StateDef, StepForm, To, Workflow,
};

/// A risk's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskState {
    Identified,
    Analyzed,
    Controlled,
    Verified,
    Accepted,
}

impl RiskState {
    pub const ALL: [RiskState; 5] = [
        Self::Identified,
        Self::Analyzed,
        Self::Controlled,
        Self::Verified,
        Self::Accepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identified => "identified",
            Self::Analyzed => "analyzed",
            Self::Controlled => "controlled",
            Self::Verified => "verified",
            Self::Accepted => "accepted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The risk control options of 7.1, in their order of priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControlOption {
    InherentSafety,
    ProtectiveMeasure,
    InformationForSafety,
}

impl ControlOption {
    pub const ALL: [ControlOption; 3] = [
        Self::InherentSafety,
        Self::ProtectiveMeasure,
        Self::InformationForSafety,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InherentSafety => "inherent_safety",
            Self::ProtectiveMeasure => "protective_measure",
            Self::InformationForSafety => "information_for_safety",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::InherentSafety => "Inherent safety by design",
            Self::ProtectiveMeasure => "Protective measure",
            Self::InformationForSafety => "Information for safety",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A risk control (7.1–7.3) as the guards read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    /// Its row (0 before it is stored).
    pub id: i64,
    pub option: ControlOption,
    pub description: String,
    /// The requirement (kind risk_control) implementing it.
    pub requirement: Option<i64>,
    /// Whether the requirement has at least one test and every one of its
    /// tests passed in its latest result (verification of implementation).
    pub tests_pass: bool,
    /// Verification of effectiveness: what showed the control works.
    pub effectiveness: String,
}

/// A risk as its workflow reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Risk {
    pub id: i64,
    pub product_id: i64,
    /// The hazard of the product's hazard list, and its name.
    pub hazard_id: Option<i64>,
    pub hazard: String,
    pub sequence: String,
    pub situation: String,
    pub harm: String,
    pub initial: Option<Estimate>,
    /// `initial` placed in the product's approved plan.
    pub initial_eval: Option<Evaluation>,
    pub controls: Vec<Control>,
    pub residual: Option<Estimate>,
    pub residual_eval: Option<Evaluation>,
    /// Why a residual estimate is worse than the initial one.
    pub residual_reason: String,
    /// Why the benefits outweigh a residual risk that is not acceptable (7.4).
    pub benefit_risk: String,
    /// Who analyzed it (may not accept it).
    pub analyst: Option<i64>,
    /// Why it was last reopened.
    pub reason: String,
    /// The risk whose control introduced this one (7.6).
    pub introduced_by: Option<i64>,
    /// Why the risk needs review (a line each), empty when it does not:
    /// raised by what its controls rest on, cleared by a review decision.
    pub needs_review: String,
    pub needs_review_since: Option<chrono::DateTime<chrono::Utc>>,
    pub state: RiskState,
    pub created_by: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl Risk {
    pub fn key(&self) -> String {
        format!("RISK-{}", self.id)
    }

    /// Whether the residual estimate is worse than the initial one (a
    /// higher severity or probability level): allowed only with a reason.
    pub fn residual_worse(&self) -> bool {
        match (self.initial_eval, self.residual_eval) {
            (Some(i), Some(r)) => r.severity > i.severity || r.probability > i.probability,
            _ => false,
        }
    }

    /// The fields as audit entries show them.
    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "product_id": self.product_id,
            "hazard_id": self.hazard_id,
            "hazard": self.hazard,
            "sequence": self.sequence,
            "situation": self.situation,
            "harm": self.harm,
            "initial": estimate_json(self.initial, self.initial_eval),
            "residual": estimate_json(self.residual, self.residual_eval),
            "residual_reason": self.residual_reason,
            "benefit_risk": self.benefit_risk,
            "introduced_by": self.introduced_by.map(|n| format!("RISK-{n}")),
            "analyst": self.analyst,
            "reason": self.reason,
            "needs_review": self.needs_review,
            "state": self.state.as_str(),
        })
    }

    /// What an acceptance binds (11.70): the analysis, both estimates and
    /// their evaluations, every control with its requirement, whether its
    /// tests passed and how its effectiveness was shown, and the rationale.
    pub fn signed_content(&self) -> serde_json::Value {
        let mut v = self.audit_fields();
        if let Some(o) = v.as_object_mut() {
            o.remove("state");
            o.remove("reason");
            o.remove("needs_review");
            o.insert("key".into(), serde_json::json!(self.key()));
            o.insert(
                "controls".into(),
                self.controls
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "id": c.id,
                            "option": c.option.as_str(),
                            "description": c.description,
                            "requirement_id": c.requirement,
                            "tests_pass": c.tests_pass,
                            "effectiveness": c.effectiveness,
                        })
                    })
                    .collect(),
            );
        }
        v
    }
}

/// An estimate and its evaluation as audit entries and signatures show them.
pub fn estimate_json(e: Option<Estimate>, ev: Option<Evaluation>) -> serde_json::Value {
    let Some(e) = e else {
        return serde_json::Value::Null;
    };
    let (p, p1, p2) = match e.probability {
        super::Probability::Level(n) => (Some(n), None, None),
        super::Probability::Split { p1, p2 } => (None, Some(p1), Some(p2)),
    };
    serde_json::json!({
        "severity": e.severity,
        "probability": p,
        "p1": p1,
        "p2": p2,
        "level": ev.map(|v| v.probability),
        "verdict": ev.map(|v| v.verdict.as_str()),
    })
}

/// What a person gives with a step.
#[derive(Clone, Debug, Default)]
pub struct RiskInput {
    pub reason: Option<String>,
}

pub struct RiskWorkflow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskAction {
    Analyze,
    AcceptWithoutControl,
    Control,
    Verify,
    Accept,
    Reopen,
}

static STATES: [StateDef<RiskState>; 5] = [
    StateDef {
        state: RiskState::Identified,
        name: "identified",
        label: "Identified",
        terminal: false,
        main: true,
    },
    StateDef {
        state: RiskState::Analyzed,
        name: "analyzed",
        label: "Analyzed",
        terminal: false,
        main: true,
    },
    StateDef {
        state: RiskState::Controlled,
        name: "controlled",
        label: "Controlled",
        terminal: false,
        main: true,
    },
    StateDef {
        state: RiskState::Verified,
        name: "verified",
        label: "Verified",
        terminal: false,
        main: true,
    },
    StateDef {
        state: RiskState::Accepted,
        name: "accepted",
        label: "Accepted",
        terminal: false,
        main: true,
    },
];

const ANALYSTS: &[Role] = &[Role::Engineer, Role::Quality];
const QUALITY: &[Role] = &[Role::Quality];
pub const MAX_TEXT: usize = 10_000;

const ANALYSIS: At = At::Section("analysis");
const CONTROLS: At = At::Section("controls");
const RESIDUAL: At = At::Section("residual");

fn no_input(_: &mut Risk, _: &RiskInput) {}
fn no_signature(_: &Risk) -> Option<SignatureRule> {
    None
}

fn analyze_guard(r: &Risk, out: &mut Checks) {
    let filled = |s: &str| !s.trim().is_empty();
    out.require(
        filled(&r.hazard),
        "A hazard is named",
        Refusal::new(
            "risk.hazard_required",
            "Name the hazard",
            Some("ISO 14971 5.4"),
        )
        .at(ANALYSIS),
    );
    out.require(
        filled(&r.situation),
        "The hazardous situation is described",
        Refusal::new(
            "risk.situation_required",
            "Describe the hazardous situation (and the sequence of events leading to it)",
            Some("ISO 14971 5.4"),
        )
        .at(ANALYSIS),
    );
    out.require(
        filled(&r.harm),
        "The harm is described",
        Refusal::new(
            "risk.harm_required",
            "Describe the harm",
            Some("ISO 14971 5.4"),
        )
        .at(ANALYSIS),
    );
    out.require(
        r.initial_eval.is_some(),
        "The initial severity and probability are estimated on the plan's scales",
        Refusal::new(
            "risk.initial_estimate_required",
            "Estimate the initial severity and probability on the product's approved plan",
            Some("ISO 14971 5.5, 6"),
        )
        .at(ANALYSIS),
    );
}

fn taken_analysis(r: &mut Risk, user: Option<i64>) {
    if r.state == RiskState::Identified {
        r.analyst = user;
    }
}

fn accept_without_control_guard(r: &Risk, out: &mut Checks) {
    out.require(
        r.initial_eval
            .is_some_and(|e| e.verdict == Acceptability::Acceptable),
        "The initial risk is acceptable in the plan's matrix",
        Refusal::new(
            "risk.initial_not_acceptable",
            "Only a risk acceptable in the plan's matrix is accepted without a control",
            Some("ISO 14971 6, 7.1"),
        )
        .at(ANALYSIS),
    );
}

fn accepted_signature(_: &Risk) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Accepted",
        sod: Some(SodRule::NotAnalyst),
    })
}

fn control_guard(r: &Risk, out: &mut Checks) {
    out.require(
        !r.controls.is_empty() && r.controls.iter().all(|c| c.requirement.is_some()),
        "At least one risk control, each implemented by a requirement",
        Refusal::new(
            "risk.control_required",
            "Add at least one risk control and link each to the requirement (kind risk control) that implements it",
            Some("ISO 14971 7.1"),
        )
        .at(CONTROLS),
    );
}

fn verify_guard(r: &Risk, out: &mut Checks) {
    control_guard(r, out);
    out.require(
        r.controls.iter().all(|c| c.tests_pass),
        "Every control's requirement has tests whose latest results passed",
        Refusal::new(
            "risk.implementation_unverified",
            "Every control's requirement needs at least one test whose latest result passed",
            Some("ISO 14971 7.2"),
        )
        .at(CONTROLS),
    );
    out.require(
        r.controls
            .iter()
            .all(|c| !c.effectiveness.trim().is_empty()),
        "Every control's effectiveness is verified",
        Refusal::new(
            "risk.effectiveness_unverified",
            "Record how each control's effectiveness was verified",
            Some("ISO 14971 7.2"),
        )
        .at(CONTROLS),
    );
}

fn accept_guard(r: &Risk, out: &mut Checks) {
    out.require(
        r.residual_eval.is_some(),
        "The residual severity and probability are estimated",
        Refusal::new(
            "risk.residual_required",
            "Estimate the residual severity and probability on the product's approved plan",
            Some("ISO 14971 7.3"),
        )
        .at(RESIDUAL),
    );
    let acceptable = r
        .residual_eval
        .is_some_and(|e| e.verdict == Acceptability::Acceptable);
    out.require(
        acceptable || !r.benefit_risk.trim().is_empty(),
        "The residual risk is acceptable, or its benefit-risk rationale is written",
        Refusal::new(
            "risk.benefit_risk_required",
            "The residual risk is not acceptable in the plan's matrix: write why the medical benefits outweigh it",
            Some("ISO 14971 7.4"),
        )
        .at(RESIDUAL),
    );
}

fn reopen(r: &mut Risk, i: &RiskInput) {
    r.reason = i.reason.clone().unwrap_or_default().trim().to_string();
}

fn reopen_guard(r: &Risk, out: &mut Checks) {
    let n = r.reason.chars().count();
    out.require(
        n > 0 && n <= MAX_TEXT,
        "Why it is reopened",
        Refusal::new(
            "risk.reopen_reason_required",
            "Say why the risk is reopened (a linked nonconformance or CAPA, or new information)",
            Some("ISO 14971 10"),
        )
        .at(At::Input("reason")),
    );
}

const ACCEPT_FORM: StepForm = StepForm {
    inputs: &[],
    sign_note: "Needs a quality signature (Accepted), not the analyst's.",
    disclosure: None,
    together: None,
};

const REOPEN_FORM: StepForm = StepForm {
    inputs: &[InputDef {
        name: "reason",
        label: "Why reopen it",
        kind: InputKind::Text {
            max: MAX_TEXT,
            rows: 3,
        },
        hint: "required",
    }],
    sign_note: "",
    disclosure: Some("Reopen this risk…"),
    together: None,
};

static ACTIONS: [ActionDef<RiskWorkflow>; 6] = [
    ActionDef {
        action: RiskAction::Analyze,
        name: "analyze",
        label: "Analysis complete",
        from: &[RiskState::Identified],
        to: To::State(RiskState::Analyzed),
        roles: ANALYSTS,
        owner: false,
        apply: no_input,
        guard: analyze_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: RiskAction::AcceptWithoutControl,
        name: "accept_without_control",
        label: "Accept without control",
        from: &[RiskState::Analyzed],
        to: To::State(RiskState::Accepted),
        roles: QUALITY,
        owner: false,
        apply: no_input,
        guard: accept_without_control_guard,
        signature: accepted_signature,
        form: ACCEPT_FORM,
    },
    ActionDef {
        action: RiskAction::Control,
        name: "control",
        label: "Controls in place",
        from: &[RiskState::Analyzed],
        to: To::State(RiskState::Controlled),
        roles: ANALYSTS,
        owner: false,
        apply: no_input,
        guard: control_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: RiskAction::Verify,
        name: "verify",
        label: "Controls verified",
        from: &[RiskState::Controlled],
        to: To::State(RiskState::Verified),
        roles: ANALYSTS,
        owner: false,
        apply: no_input,
        guard: verify_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: RiskAction::Accept,
        name: "accept",
        label: "Accept the residual risk",
        from: &[RiskState::Verified],
        to: To::State(RiskState::Accepted),
        roles: QUALITY,
        owner: false,
        apply: no_input,
        guard: accept_guard,
        signature: accepted_signature,
        form: ACCEPT_FORM,
    },
    ActionDef {
        action: RiskAction::Reopen,
        name: "reopen",
        label: "Reopen",
        from: &[
            RiskState::Controlled,
            RiskState::Verified,
            RiskState::Accepted,
        ],
        to: To::State(RiskState::Analyzed),
        roles: ANALYSTS,
        owner: false,
        apply: reopen,
        guard: reopen_guard,
        signature: no_signature,
        form: REOPEN_FORM,
    },
];

impl Workflow for RiskWorkflow {
    type State = RiskState;
    type Action = RiskAction;
    type Record = Risk;
    type Input = RiskInput;
    const KIND: &'static str = "risk";

    fn states() -> &'static [StateDef<RiskState>] {
        &STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(r: &Risk) -> RiskState {
        r.state
    }
    fn set_state(r: &mut Risk, state: RiskState) {
        r.state = state;
    }
    fn sod_party(r: &Risk, rule: SodRule) -> Option<i64> {
        match rule {
            SodRule::NotAnalyst => r.analyst,
            _ => None,
        }
    }
    fn taken_by(r: &mut Risk, action: RiskAction, user: Option<i64>) {
        if action == RiskAction::Analyze {
            taken_analysis(r, user);
        }
    }
}
