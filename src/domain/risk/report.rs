//! The overall residual risk evaluation (ISO 14971:2019 7.7, `RRE-n`) and
//! the risk management report (clause 8, `RMR-n`) of a product: records
//! approved by quality's signature once the risk file is complete. Their
//! completeness checks are the approval's guard, so the same declaration
//! lists them with ticks on the record page and refuses the approval while
//! one fails; approving keeps them as they stood, and the signature binds
//! them with the signer's conclusion. A newer approval supersedes the one
//! before, as a plan's does.

use serde_json::{Value, json};

use super::plan::PlanState;
use crate::domain::user::Role;
use crate::domain::workflow::{
    ActionDef, BUTTON_ONLY, Checks, Refusal, SignatureRule, StateDef, StepForm, To, Workflow,
};

/// Which of the two records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// The overall residual risk evaluation (7.7).
    Evaluation,
    /// The risk management report (8).
    Report,
}

impl ReportKind {
    pub const ALL: [ReportKind; 2] = [Self::Evaluation, Self::Report];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evaluation => "evaluation",
            Self::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The key's prefix: `RRE` or `RMR`.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Evaluation => "RRE",
            Self::Report => "RMR",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Evaluation => "Overall residual risk evaluation",
            Self::Report => "Risk management report",
        }
    }

    pub fn clause(self) -> &'static str {
        match self {
            Self::Evaluation => "ISO 14971 7.7",
            Self::Report => "ISO 14971 8",
        }
    }

    /// What the conclusion states, as the form asks for it.
    pub fn asks(self) -> &'static str {
        match self {
            Self::Evaluation => {
                "The overall residual risk, weighed against the benefits of the intended use, and whether it is acceptable (7.7)."
            }
            Self::Report => {
                "That the risk management plan was carried out, the overall residual risk is acceptable, and the methods to collect and review production and post-production information are in place (8)."
            }
        }
    }
}

/// The completeness checks, in the order they are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckName {
    Plan,
    Risks,
    Evaluated,
    Unacceptable,
    ControlsVerified,
    NoReview,
    Accepted,
    ReviewsDecided,
    EvaluationApproved,
}

impl CheckName {
    pub const ALL: [CheckName; 9] = [
        Self::Plan,
        Self::Risks,
        Self::Evaluated,
        Self::Unacceptable,
        Self::ControlsVerified,
        Self::NoReview,
        Self::Accepted,
        Self::ReviewsDecided,
        Self::EvaluationApproved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Risks => "risks",
            Self::Evaluated => "evaluated",
            Self::Unacceptable => "unacceptable",
            Self::ControlsVerified => "controls_verified",
            Self::NoReview => "no_review",
            Self::Accepted => "accepted",
            Self::ReviewsDecided => "reviews_decided",
            Self::EvaluationApproved => "evaluation_approved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The refusal's stable id when the check fails.
    fn refusal_id(self) -> &'static str {
        match self {
            Self::Plan => "risk_report.no_plan",
            Self::Risks => "risk_report.no_risks",
            Self::Evaluated => "risk_report.not_evaluated",
            Self::Unacceptable => "risk_report.unacceptable_open",
            Self::ControlsVerified => "risk_report.controls_unverified",
            Self::NoReview => "risk_report.needs_review",
            Self::Accepted => "risk_report.not_accepted",
            Self::ReviewsDecided => "risk_report.reviews_waiting",
            Self::EvaluationApproved => "risk_report.no_evaluation",
        }
    }

    fn clause(self) -> &'static str {
        match self {
            Self::Plan => "ISO 14971 4.4",
            Self::Risks | Self::Evaluated => "ISO 14971 5, 6",
            Self::Unacceptable => "ISO 14971 7.1, 7.4",
            Self::ControlsVerified => "ISO 14971 7.2",
            Self::NoReview | Self::ReviewsDecided => "ISO 14971 10",
            Self::Accepted => "ISO 14971 7.3",
            Self::EvaluationApproved => "ISO 14971 7.7",
        }
    }
}

/// One completeness check as the risk file stood: what it asks, whether it
/// held, and the figures behind it ("12 of 12 risks evaluated").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completeness {
    pub name: CheckName,
    pub label: String,
    pub passed: bool,
    pub detail: String,
}

/// The counts of a product's risk file the checks are made from (each an
/// indexed count, never the risks themselves).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFacts {
    /// The approved plan's key, if there is one.
    pub plan: Option<String>,
    pub risks: i64,
    pub not_evaluated: i64,
    /// Unacceptable before control, not controlled (identified, analyzed,
    /// or accepted without control) and with no benefit-risk rationale.
    pub unacceptable_uncontrolled: i64,
    /// Unacceptable after control with no benefit-risk rationale.
    pub unjustified: i64,
    /// Controlled and not verified yet.
    pub controls_unverified: i64,
    pub needing_review: i64,
    pub not_accepted: i64,
    /// Risk review decisions (10) still waiting on the product.
    pub reviews_waiting: i64,
    /// The approved overall residual risk evaluation's key, if there is one.
    pub evaluation: Option<String>,
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The completeness checks of `kind` for a risk file with `facts`.
pub fn completeness(kind: ReportKind, f: &FileFacts) -> Vec<Completeness> {
    let check = |name: CheckName, label: &str, passed: bool, detail: String| Completeness {
        name,
        label: label.to_string(),
        passed,
        detail,
    };
    let mut out = vec![
        check(
            CheckName::Plan,
            "The risk management plan is approved",
            f.plan.is_some(),
            f.plan
                .clone()
                .unwrap_or_else(|| "no approved plan".to_string()),
        ),
        check(
            CheckName::Risks,
            "The risk file has risks",
            f.risks > 0,
            plural(f.risks, "risk", "risks"),
        ),
        check(
            CheckName::Evaluated,
            "Every risk is evaluated",
            f.not_evaluated == 0,
            format!(
                "{} of {} evaluated",
                f.risks - f.not_evaluated,
                plural(f.risks, "risk", "risks")
            ),
        ),
        check(
            CheckName::Unacceptable,
            "Every unacceptable risk is controlled or justified",
            f.unacceptable_uncontrolled == 0 && f.unjustified == 0,
            format!(
                "{} unacceptable before control and not controlled; {} unacceptable after control without a benefit-risk rationale",
                f.unacceptable_uncontrolled, f.unjustified
            ),
        ),
        check(
            CheckName::ControlsVerified,
            "Every risk control is verified",
            f.controls_unverified == 0,
            format!(
                "{} controlled, not verified yet",
                plural(f.controls_unverified, "risk", "risks")
            ),
        ),
        check(
            CheckName::NoReview,
            "Nothing needs review",
            f.needing_review == 0,
            format!(
                "{} needing review",
                plural(f.needing_review, "risk", "risks")
            ),
        ),
        check(
            CheckName::Accepted,
            "Every risk is accepted",
            f.not_accepted == 0,
            format!("{} not accepted", plural(f.not_accepted, "risk", "risks")),
        ),
        check(
            CheckName::ReviewsDecided,
            "Every risk review decision asked by a nonconformance or CAPA is recorded",
            f.reviews_waiting == 0,
            format!(
                "{} waiting",
                plural(f.reviews_waiting, "decision", "decisions")
            ),
        ),
    ];
    if kind == ReportKind::Report {
        out.push(check(
            CheckName::EvaluationApproved,
            "The overall residual risk evaluation is approved",
            f.evaluation.is_some(),
            f.evaluation
                .clone()
                .unwrap_or_else(|| "no approved evaluation".to_string()),
        ));
    }
    out
}

/// The checks as stored, signed and served.
pub fn checks_json(checks: &[Completeness]) -> Value {
    Value::Array(
        checks
            .iter()
            .map(|c| {
                json!({
                    "check": c.name.as_str(),
                    "label": c.label,
                    "passed": c.passed,
                    "detail": c.detail,
                })
            })
            .collect(),
    )
}

/// Reads checks stored by [`checks_json`]; `None` if they are not.
pub fn checks_of(v: &Value) -> Option<Vec<Completeness>> {
    v.as_array()?
        .iter()
        .map(|c| {
            Some(Completeness {
                name: CheckName::parse(c.get("check")?.as_str()?)?,
                label: c.get("label")?.as_str()?.to_string(),
                passed: c.get("passed")?.as_bool()?,
                detail: c.get("detail")?.as_str()?.to_string(),
            })
        })
        .collect()
}

/// Most characters of a conclusion.
pub const MAX_CONCLUSION: usize = 10_000;

/// One version of a product's evaluation or report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskReport {
    pub id: i64,
    pub product_id: i64,
    pub kind: ReportKind,
    /// The approved plan when it was approved (the live one while a draft).
    pub plan_id: Option<i64>,
    pub conclusion: String,
    /// The checks as they stood when it was approved (empty for a draft).
    pub checks: Vec<Completeness>,
    pub state: PlanState,
    pub author: i64,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
    /// The checks as the risk file stands now, and its approved plan: read
    /// when a draft is loaded, never stored (approving copies them).
    pub live: Vec<Completeness>,
    pub live_plan: Option<i64>,
}

impl RiskReport {
    /// `RRE-4` or `RMR-5`.
    pub fn key(&self) -> String {
        format!("{}-{}", self.kind.prefix(), self.id)
    }

    /// The checks the page lists: kept ones once approved, live ones while
    /// a draft.
    pub fn shown_checks(&self) -> &[Completeness] {
        if self.state == PlanState::Draft {
            &self.live
        } else {
            &self.checks
        }
    }

    pub fn audit_fields(&self) -> Value {
        json!({
            "product_id": self.product_id,
            "kind": self.kind.as_str(),
            "plan_id": self.plan_id,
            "conclusion": self.conclusion,
            "checks": checks_json(&self.checks),
            "state": self.state.as_str(),
        })
    }

    /// What the approval signature binds: the product, the plan, the
    /// conclusion and every check with its figures.
    pub fn signed_content(&self) -> Value {
        json!({
            "key": self.key(),
            "kind": self.kind.as_str(),
            "product_id": self.product_id,
            "plan_id": self.plan_id,
            "conclusion": self.conclusion,
            "checks": checks_json(&self.checks),
        })
    }
}

/// The workflow of both records: a draft is approved by quality's
/// signature once every check holds; the approved one before it is
/// superseded by Attest in the same step.
pub struct ReportWorkflow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportAction {
    Approve,
    Supersede,
}

/// Approving keeps the checks and the plan as they stand.
fn take_checks(r: &mut RiskReport, _: &()) {
    r.checks = r.live.clone();
    r.plan_id = r.live_plan;
}
fn no_input(_: &mut RiskReport, _: &()) {}
fn no_guard(_: &RiskReport, _: &mut Checks) {}
fn no_signature(_: &RiskReport) -> Option<SignatureRule> {
    None
}

fn approve_guard(r: &RiskReport, out: &mut Checks) {
    out.require(
        !r.conclusion.trim().is_empty(),
        "The conclusion is written",
        Refusal::new(
            "risk_report.no_conclusion",
            format!("Write the conclusion first: {}", r.kind.asks()),
            Some(r.kind.clause()),
        ),
    );
    for c in &r.live {
        out.require(
            c.passed,
            c.label.clone(),
            Refusal::new(
                c.name.refusal_id(),
                format!("{}: {}.", c.label, c.detail),
                Some(c.name.clause()),
            ),
        );
    }
}

fn approved_signature(_: &RiskReport) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Approved",
        sod: None,
    })
}

static ACTIONS: [ActionDef<ReportWorkflow>; 2] = [
    ActionDef {
        action: ReportAction::Approve,
        name: "approve",
        label: "Approve",
        from: &[PlanState::Draft],
        to: To::State(PlanState::Approved),
        roles: &[Role::Quality],
        owner: false,
        apply: take_checks,
        guard: approve_guard,
        signature: approved_signature,
        form: StepForm {
            inputs: &[],
            sign_note: "Needs a quality signature (Approved). The signature binds the conclusion and every check with its figures as they stand now.",
            disclosure: None,
            together: None,
        },
    },
    ActionDef {
        action: ReportAction::Supersede,
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

impl Workflow for ReportWorkflow {
    type State = PlanState;
    type Action = ReportAction;
    type Record = RiskReport;
    type Input = ();
    const KIND: &'static str = "risk_report";

    fn states() -> &'static [StateDef<PlanState>] {
        &super::plan::STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(r: &RiskReport) -> PlanState {
        r.state
    }
    fn set_state(r: &mut RiskReport, state: PlanState) {
        r.state = state;
    }
    fn by_system(action: ReportAction) -> bool {
        action == ReportAction::Supersede
    }
}

/// What quality decided when a nonconformance's escalation or a CAPA's
/// closing asked for a risk review (10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewDecision {
    /// The information brings no new hazard and changes no estimate.
    NoNewHazard,
    /// An existing risk is to be updated (it is linked and needs review).
    UpdateRisk,
    /// A new risk is identified (linked to the record).
    NewRisk,
}

impl ReviewDecision {
    pub const ALL: [ReviewDecision; 3] = [Self::NoNewHazard, Self::UpdateRisk, Self::NewRisk];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoNewHazard => "no_new_hazard",
            Self::UpdateRisk => "update_risk",
            Self::NewRisk => "new_risk",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NoNewHazard => "No new hazard: the risk file still holds",
            Self::UpdateRisk => "An existing risk is to be updated",
            Self::NewRisk => "A new risk is identified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> FileFacts {
        FileFacts {
            plan: Some("RMP-1 v1".into()),
            risks: 3,
            evaluation: Some("RRE-1".into()),
            ..FileFacts::default()
        }
    }

    #[test]
    fn a_complete_file_passes_every_check_and_each_gap_fails_its_own() {
        let all = completeness(ReportKind::Report, &complete());
        assert_eq!(all.len(), 9);
        assert!(all.iter().all(|c| c.passed), "{all:?}");
        assert_eq!(completeness(ReportKind::Evaluation, &complete()).len(), 8);
        let gaps: [(FileFacts, CheckName); 9] = [
            (
                FileFacts {
                    plan: None,
                    ..complete()
                },
                CheckName::Plan,
            ),
            (
                FileFacts {
                    risks: 0,
                    ..complete()
                },
                CheckName::Risks,
            ),
            (
                FileFacts {
                    not_evaluated: 1,
                    ..complete()
                },
                CheckName::Evaluated,
            ),
            (
                FileFacts {
                    unacceptable_uncontrolled: 1,
                    ..complete()
                },
                CheckName::Unacceptable,
            ),
            (
                FileFacts {
                    unjustified: 2,
                    ..complete()
                },
                CheckName::Unacceptable,
            ),
            (
                FileFacts {
                    controls_unverified: 1,
                    ..complete()
                },
                CheckName::ControlsVerified,
            ),
            (
                FileFacts {
                    needing_review: 1,
                    ..complete()
                },
                CheckName::NoReview,
            ),
            (
                FileFacts {
                    reviews_waiting: 1,
                    ..complete()
                },
                CheckName::ReviewsDecided,
            ),
            (
                FileFacts {
                    evaluation: None,
                    ..complete()
                },
                CheckName::EvaluationApproved,
            ),
        ];
        for (facts, name) in gaps {
            let failed: Vec<CheckName> = completeness(ReportKind::Report, &facts)
                .into_iter()
                .filter(|c| !c.passed)
                .map(|c| c.name)
                .collect();
            assert_eq!(failed, vec![name], "{facts:?}");
        }
    }

    #[test]
    fn approval_is_refused_while_a_check_fails_and_keeps_the_checks_it_was_shown() {
        use crate::domain::user::Roles;
        use crate::domain::workflow::{Who, decide};
        let facts = FileFacts {
            not_accepted: 1,
            ..complete()
        };
        let now = chrono::DateTime::UNIX_EPOCH;
        let mut r = RiskReport {
            id: 4,
            product_id: 1,
            kind: ReportKind::Evaluation,
            plan_id: None,
            conclusion: String::new(),
            checks: Vec::new(),
            state: PlanState::Draft,
            author: 1,
            approved_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            live: completeness(ReportKind::Evaluation, &facts),
            live_plan: Some(7),
        };
        let quality = Roles::new([Role::Quality]);
        let who = Who {
            user: Some(2),
            roles: &quality,
        };
        let refused = decide::<ReportWorkflow>(&r, "approve", &(), who)
            .err()
            .map(|e| format!("{e:?}"))
            .unwrap_or_default();
        assert!(refused.contains("risk_report.no_conclusion"), "{refused}");
        assert!(refused.contains("risk_report.not_accepted"), "{refused}");
        r.conclusion = "Acceptable: benefits outweigh the residual risk.".into();
        r.live = completeness(ReportKind::Evaluation, &complete());
        let d = decide::<ReportWorkflow>(&r, "approve", &(), who)
            .map_err(|e| format!("{e:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.record.state, PlanState::Approved);
        assert_eq!(d.record.checks, r.live);
        assert_eq!(d.record.plan_id, Some(7));
        assert_eq!(
            checks_of(&checks_json(&d.record.checks)).as_deref(),
            Some(d.record.checks.as_slice())
        );
        let engineer = Roles::new([Role::Engineer]);
        assert!(
            decide::<ReportWorkflow>(
                &r,
                "approve",
                &(),
                Who {
                    user: Some(3),
                    roles: &engineer
                }
            )
            .is_err()
        );
    }
}
