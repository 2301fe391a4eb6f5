//! Corrective and preventive actions, key CAPA-n (ISO 13485 8.5.2, 8.5.3;
//! WORKFLOWS.md). The workflow is declared here and enforced only through
//! `workflow::decide`; the investigation, the action items and the
//! effectiveness check are fields of the record the guards read.

use serde::{Deserialize, Serialize};

use super::user::{FieldError, Role};
use super::workflow::{
    ActionDef, BUTTON_ONLY, InputDef, InputKind, Refusal, SignatureRule, SodRule, StateDef,
    StepForm, Workflow,
};

/// Longest title, in characters (stated on the form).
pub const MAX_TITLE: usize = 200;
/// Longest free text, in characters.
pub const MAX_TEXT: usize = 10_000;
/// Longest source reference ("NC-12", an audit report number), in characters.
pub const MAX_REF: usize = 100;
/// Most whys in a chain and causes on a fishbone.
pub const MAX_WHYS: usize = 20;
pub const MAX_CAUSES: usize = 60;
/// Longest why question or answer, and fishbone cause, in characters.
pub const MAX_SHORT: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CapaState {
    Open,
    Investigation,
    Action,
    Verification,
    Closed,
    Cancelled,
}

named!(CapaState {
    Open => ("open", "Open"),
    Investigation => ("investigation", "Investigation"),
    Action => ("action", "Action"),
    Verification => ("verification", "Verification"),
    Closed => ("closed", "Closed"),
    Cancelled => ("cancelled", "Cancelled"),
});

impl CapaState {
    pub const fn terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapaAction {
    StartInvestigation,
    PlanActions,
    CloseNoAction,
    SubmitVerification,
    CloseEffective,
    ReopenActions,
    Cancel,
}

/// Corrective (8.5.2) or preventive (8.5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Corrective,
    Preventive,
}

named!(Kind {
    Corrective => ("corrective", "Corrective"),
    Preventive => ("preventive", "Preventive"),
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapaSource {
    Nonconformance,
    Complaint,
    AuditFinding,
    Trend,
    RiskReview,
    Other,
}

named!(CapaSource {
    Nonconformance => ("nonconformance", "Nonconformance"),
    Complaint => ("complaint", "Complaint"),
    AuditFinding => ("audit_finding", "Audit finding"),
    Trend => ("trend", "Trend"),
    RiskReview => ("risk_review", "Risk review"),
    Other => ("other", "Other"),
});

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

named!(Priority {
    Low => ("low", "Low"),
    Medium => ("medium", "Medium"),
    High => ("high", "High"),
    Critical => ("critical", "Critical"),
});

/// How the root cause was investigated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RcaMethod {
    FiveWhys,
    Fishbone,
    Other,
}

named!(RcaMethod {
    FiveWhys => ("five_whys", "Five whys"),
    Fishbone => ("fishbone", "Fishbone (Ishikawa)"),
    Other => ("other", "Other"),
});

/// The six fishbone categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Man,
    Machine,
    Method,
    Material,
    Measurement,
    Environment,
}

named!(Category {
    Man => ("man", "Man"),
    Machine => ("machine", "Machine"),
    Method => ("method", "Method"),
    Material => ("material", "Material"),
    Measurement => ("measurement", "Measurement"),
    Environment => ("environment", "Environment"),
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effectiveness {
    Effective,
    NotEffective,
}

named!(Effectiveness {
    Effective => ("effective", "Effective"),
    NotEffective => ("not_effective", "Not effective"),
});

/// One step of a five-whys chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Why {
    pub question: String,
    pub answer: String,
}

/// One cause on the fishbone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub category: String,
    pub text: String,
}

/// What an action item does (ISO 13485 8.5.2 d).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Correction,
    Corrective,
    Preventive,
}

named!(ItemKind {
    Correction => ("correction", "Correction"),
    Corrective => ("corrective", "Corrective action"),
    Preventive => ("preventive", "Preventive action"),
});

/// An action item, as the guards see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub text: String,
    pub kind: ItemKind,
    pub owner_id: i64,
    pub due_on: chrono::NaiveDate,
    pub done_on: Option<chrono::NaiveDate>,
    pub evidence: String,
}

impl Item {
    pub fn done_with_evidence(&self) -> bool {
        self.done_on.is_some() && !blank(&self.evidence)
    }
}

/// A CAPA record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capa {
    /// n of the key CAPA-n (0 before it is stored).
    pub id: i64,
    pub title: String,
    pub kind: Kind,
    pub source: CapaSource,
    pub source_ref: String,
    pub product_id: Option<i64>,
    pub problem: String,
    pub priority: Option<Priority>,
    pub owner_id: Option<i64>,
    pub due_on: Option<chrono::NaiveDate>,
    pub containment: String,
    pub rca_method: Option<RcaMethod>,
    pub whys: Vec<Why>,
    pub causes: Vec<Cause>,
    pub root_cause: String,
    pub action_required: Option<bool>,
    pub action_rationale: String,
    pub no_adverse_effect: String,
    pub effectiveness_criteria: String,
    pub effectiveness_due: Option<chrono::NaiveDate>,
    pub effectiveness_result: Option<Effectiveness>,
    pub effectiveness_evidence: String,
    pub cancel_justification: String,
    /// The action items (stored in their own table; read by the guards).
    pub items: Vec<Item>,
    pub state: CapaState,
    pub created_by: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl Capa {
    /// A new CAPA, in state `open`.
    pub fn open(fields: CapaFields, created_by: i64, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            id: 0,
            title: fields.title,
            kind: fields.kind,
            source: fields.source,
            source_ref: fields.source_ref,
            product_id: fields.product_id,
            problem: fields.problem,
            priority: fields.priority,
            owner_id: fields.owner_id,
            due_on: fields.due_on,
            containment: fields.containment,
            rca_method: None,
            whys: Vec::new(),
            causes: Vec::new(),
            root_cause: String::new(),
            action_required: None,
            action_rationale: String::new(),
            no_adverse_effect: String::new(),
            effectiveness_criteria: String::new(),
            effectiveness_due: None,
            effectiveness_result: None,
            effectiveness_evidence: String::new(),
            cancel_justification: String::new(),
            items: Vec::new(),
            state: CapaState::Open,
            created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn key(&self) -> String {
        format!("CAPA-{}", self.id)
    }

    /// Overdue: the due date has passed and the CAPA is not closed or cancelled.
    pub fn overdue(&self, today: chrono::NaiveDate) -> bool {
        !self.state.terminal() && self.due_on.is_some_and(|d| d < today)
    }

    /// The fields as audit entries record them (the items have their own entries).
    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "kind": self.kind.as_str(),
            "source": self.source.as_str(),
            "source_ref": self.source_ref,
            "product_id": self.product_id,
            "problem": self.problem,
            "priority": self.priority.map(Priority::as_str),
            "owner_id": self.owner_id,
            "due_on": self.due_on.map(|d| d.to_string()),
            "containment": self.containment,
            "rca_method": self.rca_method.map(RcaMethod::as_str),
            "whys": self.whys,
            "causes": self.causes,
            "root_cause": self.root_cause,
            "action_required": self.action_required,
            "action_rationale": self.action_rationale,
            "no_adverse_effect": self.no_adverse_effect,
            "effectiveness_criteria": self.effectiveness_criteria,
            "effectiveness_due": self.effectiveness_due.map(|d| d.to_string()),
            "effectiveness_result": self.effectiveness_result.map(Effectiveness::as_str),
            "effectiveness_evidence": self.effectiveness_evidence,
            "cancel_justification": self.cancel_justification,
            "state": self.state.as_str(),
        })
    }

    /// What a closing or cancelling signature binds: every field but the
    /// state, with the action items as they stand.
    pub fn signed_content(&self) -> serde_json::Value {
        let mut v = self.audit_fields();
        if let Some(o) = v.as_object_mut() {
            o.remove("state");
            o.insert("key".into(), serde_json::json!(self.key()));
            o.insert(
                "items".into(),
                serde_json::Value::Array(
                    self.items
                        .iter()
                        .map(|i| {
                            serde_json::json!({
                                "id": i.id,
                                "text": i.text,
                                "kind": i.kind.as_str(),
                                "owner_id": i.owner_id,
                                "due_on": i.due_on.to_string(),
                                "done_on": i.done_on.map(|d| d.to_string()),
                                "evidence": i.evidence,
                            })
                        })
                        .collect(),
                ),
            );
        }
        v
    }

    /// Which editable sections the state allows.
    pub fn details_editable(&self) -> bool {
        matches!(self.state, CapaState::Open | CapaState::Investigation)
    }
    pub fn investigation_editable(&self) -> bool {
        self.state == CapaState::Investigation
    }
    pub fn items_addable(&self) -> bool {
        matches!(self.state, CapaState::Investigation | CapaState::Action)
    }
    pub fn items_completable(&self) -> bool {
        self.state == CapaState::Action
    }
    pub fn plan_editable(&self) -> bool {
        matches!(self.state, CapaState::Investigation | CapaState::Action)
    }
}

/// The fields entered when a CAPA is opened (and corrected while open or
/// in investigation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapaFields {
    pub title: String,
    pub kind: Kind,
    pub source: CapaSource,
    pub source_ref: String,
    pub product_id: Option<i64>,
    pub problem: String,
    pub priority: Option<Priority>,
    pub owner_id: Option<i64>,
    pub due_on: Option<chrono::NaiveDate>,
    pub containment: String,
}

/// Checks a length; pushes the error naming the limit.
fn limit(errors: &mut Vec<FieldError>, field: &'static str, what: &str, text: &str, max: usize) {
    if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("{what} can have at most {max} characters."),
        ));
    }
}

/// A date typed as YYYY-MM-DD, or none.
pub fn parse_date(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    what: &str,
    text: &str,
) -> Option<chrono::NaiveDate> {
    match text.trim() {
        "" => None,
        d => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    format!("{what} must be a date like 2026-11-21."),
                ));
                None
            }
        },
    }
}

fn parse_id(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    what: &str,
    text: &str,
) -> Option<i64> {
    match text.trim() {
        "" => None,
        p => match p.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("Choose {what} from the list."),
                ));
                None
            }
        },
    }
}

/// What the form of a CAPA's details sends, as typed.
#[derive(Clone, Debug, Default)]
pub struct DetailsForm {
    pub title: String,
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    pub product_id: String,
    pub problem: String,
    pub priority: String,
    pub owner_id: String,
    pub due_on: String,
    pub containment: String,
}

impl CapaFields {
    /// Checks what was typed; every problem is reported. `today` is for
    /// due dates, which must not be in the past.
    pub fn parse(f: &DetailsForm, today: chrono::NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = f.title.trim();
        if title.is_empty() {
            errors.push(FieldError::new("title", "Enter a short title."));
        }
        limit(&mut errors, "title", "The title", title, MAX_TITLE);
        let kind = Kind::parse(f.kind.trim());
        if kind.is_none() {
            errors.push(FieldError::new("kind", "Choose corrective or preventive."));
        }
        let source = CapaSource::parse(f.source.trim());
        if source.is_none() {
            errors.push(FieldError::new(
                "source",
                "Choose where the CAPA comes from.",
            ));
        }
        limit(
            &mut errors,
            "source_ref",
            "The source reference",
            f.source_ref.trim(),
            MAX_REF,
        );
        let product_id = parse_id(&mut errors, "product_id", "a product", &f.product_id);
        limit(
            &mut errors,
            "problem",
            "The problem statement",
            &f.problem,
            MAX_TEXT,
        );
        let priority = match f.priority.trim() {
            "" => None,
            p => {
                let parsed = Priority::parse(p);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "priority",
                        "Choose a priority: low, medium, high or critical.",
                    ));
                }
                parsed
            }
        };
        let owner_id = parse_id(&mut errors, "owner_id", "an owner", &f.owner_id);
        let due_on = parse_date(&mut errors, "due_on", "The due date", &f.due_on);
        if due_on.is_some_and(|d| d < today) {
            errors.push(FieldError::new(
                "due_on",
                "The due date cannot be in the past.",
            ));
        }
        limit(
            &mut errors,
            "containment",
            "The containment / correction",
            &f.containment,
            MAX_TEXT,
        );
        match (kind, source) {
            (Some(kind), Some(source)) if errors.is_empty() => Ok(Self {
                title: title.to_string(),
                kind,
                source,
                source_ref: f.source_ref.trim().to_string(),
                product_id,
                problem: f.problem.trim().to_string(),
                priority,
                owner_id,
                due_on,
                containment: f.containment.trim().to_string(),
            }),
            _ => Err(errors),
        }
    }
}

/// The investigation as typed: the method, the chain (question, answer)
/// rows in the order given, causes per category one a line, the root cause
/// and the need-for-action decision.
#[derive(Clone, Debug, Default)]
pub struct InvestigationForm {
    pub rca_method: String,
    /// (position, question, answer), as typed.
    pub whys: Vec<(String, String, String)>,
    /// (category, causes one per line).
    pub causes: Vec<(String, String)>,
    pub root_cause: String,
    pub action_required: String,
    pub action_rationale: String,
}

/// The checked investigation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Investigation {
    pub rca_method: Option<RcaMethod>,
    pub whys: Vec<Why>,
    pub causes: Vec<Cause>,
    pub root_cause: String,
    pub action_required: Option<bool>,
    pub action_rationale: String,
}

impl Investigation {
    pub fn parse(f: &InvestigationForm) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let rca_method = match f.rca_method.trim() {
            "" => None,
            m => {
                let parsed = RcaMethod::parse(m);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "rca_method",
                        "Choose a method from the list.",
                    ));
                }
                parsed
            }
        };
        // Rows wholly empty are dropped (the form always offers a spare one);
        // the rest are ordered by the position typed, ties keeping their order.
        let mut rows: Vec<(i64, usize, &str, &str)> = Vec::new();
        for (i, (pos, q, a)) in f.whys.iter().enumerate() {
            let (q, a) = (q.trim(), a.trim());
            if q.is_empty() && a.is_empty() {
                continue;
            }
            let pos = match pos.trim() {
                "" => i as i64 + 1,
                p => p.parse::<i64>().unwrap_or_else(|_| {
                    errors.push(FieldError::new(
                        "whys",
                        format!("The order of why {} must be a whole number.", i + 1),
                    ));
                    i as i64 + 1
                }),
            };
            if q.is_empty() || a.is_empty() {
                errors.push(FieldError::new(
                    "whys",
                    format!(
                        "Why {} needs both the question and its answer (a chain with empty answers proves nothing).",
                        i + 1
                    ),
                ));
            }
            if q.chars().count() > MAX_SHORT || a.chars().count() > MAX_SHORT {
                errors.push(FieldError::new(
                    "whys",
                    format!("Each question and answer can have at most {MAX_SHORT} characters."),
                ));
            }
            rows.push((pos, i, q, a));
        }
        if rows.len() > MAX_WHYS {
            errors.push(FieldError::new(
                "whys",
                format!("A chain can have at most {MAX_WHYS} whys."),
            ));
        }
        rows.sort_by_key(|r| (r.0, r.1));
        let whys = rows
            .into_iter()
            .map(|(_, _, q, a)| Why {
                question: q.to_string(),
                answer: a.to_string(),
            })
            .collect();
        let mut causes = Vec::new();
        for (cat, text) in &f.causes {
            let Some(category) = Category::parse(cat.trim()) else {
                errors.push(FieldError::new("causes", "Unknown fishbone category."));
                continue;
            };
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if line.chars().count() > MAX_SHORT {
                    errors.push(FieldError::new(
                        "causes",
                        format!("Each cause can have at most {MAX_SHORT} characters."),
                    ));
                }
                causes.push(Cause {
                    category: category.as_str().to_string(),
                    text: line.to_string(),
                });
            }
        }
        if causes.len() > MAX_CAUSES {
            errors.push(FieldError::new(
                "causes",
                format!("A fishbone can have at most {MAX_CAUSES} causes."),
            ));
        }
        limit(
            &mut errors,
            "root_cause",
            "The root cause statement",
            &f.root_cause,
            MAX_TEXT,
        );
        let action_required = match f.action_required.trim() {
            "" => None,
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.push(FieldError::new("action_required", "Answer yes or no."));
                None
            }
        };
        limit(
            &mut errors,
            "action_rationale",
            "The rationale",
            &f.action_rationale,
            MAX_TEXT,
        );
        if errors.is_empty() {
            Ok(Self {
                rca_method,
                whys,
                causes,
                root_cause: f.root_cause.trim().to_string(),
                action_required,
                action_rationale: f.action_rationale.trim().to_string(),
            })
        } else {
            Err(errors)
        }
    }
}

/// What a person submits with a step: the effectiveness result and its
/// evidence (close_effective, reopen_actions), or the cancellation's
/// justification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapaInput {
    pub effectiveness_result: Option<Effectiveness>,
    pub effectiveness_evidence: Option<String>,
    pub justification: Option<String>,
}

pub struct CapaWorkflow;

fn no_input(_: &mut Capa, _: &CapaInput) {}

fn no_signature(_: &Capa) -> Option<SignatureRule> {
    None
}

fn text_rule(
    out: &mut Vec<Refusal>,
    text: &str,
    id: &'static str,
    rule: &str,
    clause: &'static str,
) {
    if blank(text) {
        out.push(Refusal::new(id, rule, Some(clause)));
    } else if text.chars().count() > MAX_TEXT {
        out.push(Refusal::new(
            "capa.text_too_long",
            format!("Texts can have at most {MAX_TEXT} characters"),
            None,
        ));
    }
}

fn start_guard(c: &Capa) -> Vec<Refusal> {
    let mut out = Vec::new();
    if c.owner_id.is_none() {
        out.push(Refusal::new(
            "capa.owner_required",
            "An owner must be named before the investigation starts",
            Some("ISO 13485 8.5.2 a"),
        ));
    }
    text_rule(
        &mut out,
        &c.problem,
        "capa.problem_required",
        "A problem statement is required before the investigation starts",
        "ISO 13485 8.5.2 a",
    );
    if c.priority.is_none() {
        out.push(Refusal::new(
            "capa.priority_required",
            "A priority must be set before the investigation starts",
            Some("ISO 13485 8.5.2 a"),
        ));
    }
    out
}

fn rca_filled(c: &Capa) -> bool {
    c.rca_method.is_some()
        && (c.whys.iter().any(|w| !blank(&w.answer))
            || !c.causes.is_empty()
            || c.rca_method == Some(RcaMethod::Other))
}

fn root_cause_rules(c: &Capa, out: &mut Vec<Refusal>) {
    if !rca_filled(c) {
        out.push(Refusal::new(
            "capa.investigation_required",
            "The investigation must be recorded: choose the method and answer at least one why, or name at least one fishbone cause",
            Some("ISO 13485 8.5.2 b"),
        ));
    }
    text_rule(
        out,
        &c.root_cause,
        "capa.root_cause_required",
        "Root cause is required before actions can be planned or the CAPA closed",
        "ISO 13485 8.5.2 b",
    );
}

fn plan_guard(c: &Capa) -> Vec<Refusal> {
    let mut out = Vec::new();
    root_cause_rules(c, &mut out);
    if c.action_required != Some(true) {
        out.push(Refusal::new(
            "capa.action_needed",
            "The need for action must be decided as yes to plan actions",
            Some("ISO 13485 8.5.2 c"),
        ));
    }
    text_rule(
        &mut out,
        &c.action_rationale,
        "capa.action_rationale_required",
        "The rationale of the need-for-action decision is required",
        "ISO 13485 8.5.2 c",
    );
    if c.items.is_empty() {
        out.push(Refusal::new(
            "capa.item_required",
            "Plan at least one action item",
            Some("ISO 13485 8.5.2 d"),
        ));
    }
    out
}

fn no_action_guard(c: &Capa) -> Vec<Refusal> {
    let mut out = Vec::new();
    root_cause_rules(c, &mut out);
    if c.action_required != Some(false) {
        out.push(Refusal::new(
            "capa.no_action_decided",
            "Closing without action needs the need-for-action decision recorded as no",
            Some("ISO 13485 8.5.2 c"),
        ));
    }
    text_rule(
        &mut out,
        &c.action_rationale,
        "capa.action_rationale_required",
        "The rationale of the need-for-action decision is required",
        "ISO 13485 8.5.2 c",
    );
    out
}

fn signed(meaning: &'static str) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning,
        sod: Some(SodRule::NotOwner),
    })
}

fn no_action_signature(_: &Capa) -> Option<SignatureRule> {
    signed("Approved: no action required")
}

fn verification_guard(c: &Capa) -> Vec<Refusal> {
    let mut out = Vec::new();
    if c.items.is_empty() {
        out.push(Refusal::new(
            "capa.item_required",
            "Plan at least one action item",
            Some("ISO 13485 8.5.2 d"),
        ));
    }
    for (n, i) in c.items.iter().enumerate() {
        if !i.done_with_evidence() {
            out.push(Refusal::new(
                "capa.item_not_done",
                format!(
                    "Action item {} is not done with evidence of what was done",
                    n + 1
                ),
                Some("ISO 13485 8.5.2 d"),
            ));
        }
    }
    text_rule(
        &mut out,
        &c.no_adverse_effect,
        "capa.no_adverse_effect_required",
        "A statement that the actions have no adverse effect on the device is required",
        "ISO 13485 8.5.2 e",
    );
    text_rule(
        &mut out,
        &c.effectiveness_criteria,
        "capa.effectiveness_criteria_required",
        "Effectiveness criteria must be set before verification",
        "ISO 13485 8.5.2 f",
    );
    if c.effectiveness_due.is_none() {
        out.push(Refusal::new(
            "capa.effectiveness_due_required",
            "The effectiveness check needs a due date",
            Some("ISO 13485 8.5.2 f"),
        ));
    }
    out
}

fn apply_result(c: &mut Capa, input: &CapaInput) {
    c.effectiveness_result = input.effectiveness_result;
    c.effectiveness_evidence = input.effectiveness_evidence.clone().unwrap_or_default();
}

fn result_guard(c: &Capa, wanted: Effectiveness, words: &str) -> Vec<Refusal> {
    let id = match wanted {
        Effectiveness::Effective => "capa.result_effective",
        Effectiveness::NotEffective => "capa.result_not_effective",
    };
    let mut out = Vec::new();
    if c.effectiveness_result != Some(wanted) {
        out.push(Refusal::new(
            id,
            format!("The effectiveness result must be {words}"),
            Some("ISO 13485 8.5.2 f"),
        ));
    }
    text_rule(
        &mut out,
        &c.effectiveness_evidence,
        "capa.effectiveness_evidence_required",
        "Evidence of the effectiveness check is required",
        "ISO 13485 8.5.2 f",
    );
    out
}

fn effective_guard(c: &Capa) -> Vec<Refusal> {
    result_guard(c, Effectiveness::Effective, "effective to close")
}

fn effective_signature(_: &Capa) -> Option<SignatureRule> {
    signed("Approved: effective")
}

fn reopen_guard(c: &Capa) -> Vec<Refusal> {
    result_guard(
        c,
        Effectiveness::NotEffective,
        "not effective to reopen the actions",
    )
}

fn apply_cancel(c: &mut Capa, input: &CapaInput) {
    c.cancel_justification = input.justification.clone().unwrap_or_default();
}

fn cancel_guard(c: &Capa) -> Vec<Refusal> {
    let mut out = Vec::new();
    text_rule(
        &mut out,
        &c.cancel_justification,
        "capa.cancel_justification_required",
        "A justification is required to cancel a CAPA",
        "ISO 13485 8.5.2",
    );
    out
}

fn cancel_signature(_: &Capa) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Approved: cancellation",
        sod: None,
    })
}

const QUALITY: &[Role] = &[Role::Quality];
const NOBODY: &[Role] = &[];

macro_rules! state {
    ($s:expr) => {
        StateDef {
            state: $s,
            name: $s.as_str(),
            label: $s.label(),
            terminal: $s.terminal(),
        }
    };
}

static STATES: [StateDef<CapaState>; 6] = [
    state!(CapaState::Open),
    state!(CapaState::Investigation),
    state!(CapaState::Action),
    state!(CapaState::Verification),
    state!(CapaState::Closed),
    state!(CapaState::Cancelled),
];

const EVIDENCE: InputDef = InputDef {
    name: "effectiveness_evidence",
    label: "Evidence of the effectiveness check (8.5.2 f)",
    kind: InputKind::Text {
        max: MAX_TEXT,
        rows: 3,
    },
    hint: "required, at most 10,000 characters",
};

const NO_ACTION_FORM: StepForm = StepForm {
    inputs: &[],
    sign_note: "needs a quality signature; not the owner's",
    disclosure: None,
};

const EFFECTIVE_FORM: StepForm = StepForm {
    inputs: &[
        InputDef {
            name: "effectiveness_result",
            label: "Result",
            kind: InputKind::Fixed("effective"),
            hint: "",
        },
        EVIDENCE,
    ],
    sign_note: "needs a quality signature; not the owner's",
    disclosure: None,
};

const NOT_EFFECTIVE_FORM: StepForm = StepForm {
    inputs: &[
        InputDef {
            name: "effectiveness_result",
            label: "Result",
            kind: InputKind::Fixed("not_effective"),
            hint: "",
        },
        EVIDENCE,
    ],
    sign_note: "",
    disclosure: None,
};

const CANCEL_FORM: StepForm = StepForm {
    inputs: &[InputDef {
        name: "justification",
        label: "Why cancel",
        kind: InputKind::Text {
            max: MAX_TEXT,
            rows: 2,
        },
        hint: "required; needs your signature",
    }],
    sign_note: "needs a quality signature",
    disclosure: Some("Cancel this CAPA…"),
};

static ACTIONS: [ActionDef<CapaWorkflow>; 7] = [
    ActionDef {
        action: CapaAction::StartInvestigation,
        name: "start_investigation",
        label: "Start investigation",
        from: &[CapaState::Open],
        to: CapaState::Investigation,
        roles: QUALITY,
        owner: true,
        apply: no_input,
        guard: start_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: CapaAction::PlanActions,
        name: "plan_actions",
        label: "Plan actions",
        from: &[CapaState::Investigation],
        to: CapaState::Action,
        roles: QUALITY,
        owner: true,
        apply: no_input,
        guard: plan_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: CapaAction::CloseNoAction,
        name: "close_no_action",
        label: "Close without action",
        from: &[CapaState::Investigation],
        to: CapaState::Closed,
        roles: QUALITY,
        owner: false,
        apply: no_input,
        guard: no_action_guard,
        signature: no_action_signature,
        form: NO_ACTION_FORM,
    },
    ActionDef {
        action: CapaAction::SubmitVerification,
        name: "submit_verification",
        label: "Submit for verification",
        from: &[CapaState::Action],
        to: CapaState::Verification,
        roles: NOBODY,
        owner: true,
        apply: no_input,
        guard: verification_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: CapaAction::CloseEffective,
        name: "close_effective",
        label: "Close as effective",
        from: &[CapaState::Verification],
        to: CapaState::Closed,
        roles: QUALITY,
        owner: false,
        apply: apply_result,
        guard: effective_guard,
        signature: effective_signature,
        form: EFFECTIVE_FORM,
    },
    ActionDef {
        action: CapaAction::ReopenActions,
        name: "reopen_actions",
        label: "Not effective: reopen actions",
        from: &[CapaState::Verification],
        to: CapaState::Action,
        roles: QUALITY,
        owner: true,
        apply: apply_result,
        guard: reopen_guard,
        signature: no_signature,
        form: NOT_EFFECTIVE_FORM,
    },
    ActionDef {
        action: CapaAction::Cancel,
        name: "cancel",
        label: "Cancel",
        from: &[
            CapaState::Open,
            CapaState::Investigation,
            CapaState::Action,
            CapaState::Verification,
        ],
        to: CapaState::Cancelled,
        roles: QUALITY,
        owner: false,
        apply: apply_cancel,
        guard: cancel_guard,
        signature: cancel_signature,
        form: CANCEL_FORM,
    },
];

impl Workflow for CapaWorkflow {
    type State = CapaState;
    type Action = CapaAction;
    type Record = Capa;
    type Input = CapaInput;
    const KIND: &'static str = "capa";

    fn states() -> &'static [StateDef<CapaState>] {
        &STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(record: &Capa) -> CapaState {
        record.state
    }
    fn set_state(record: &mut Capa, state: CapaState) {
        record.state = state;
    }
    fn owner(record: &Capa) -> Option<i64> {
        record.owner_id
    }
    fn sod_party(record: &Capa, rule: SodRule) -> Option<i64> {
        match rule {
            SodRule::NotOwner => record.owner_id,
            _ => None,
        }
    }
    fn events(before: &Capa, after: &Capa) -> Vec<crate::domain::event::DomainEvent> {
        crate::domain::event::owner_change(before.owner_id, after.owner_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Roles;
    use crate::domain::workflow::{Refused, Who, decide};

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
    }

    fn opened() -> Capa {
        let f = DetailsForm {
            title: "Hinge cracks".into(),
            kind: "corrective".into(),
            source: "nonconformance".into(),
            ..Default::default()
        };
        let fields = CapaFields::parse(&f, today()).unwrap_or_else(|e| panic!("{e:?}"));
        Capa::open(fields, 1, chrono::DateTime::UNIX_EPOCH)
    }

    fn item(done: bool, evidence: &str) -> Item {
        Item {
            id: 1,
            text: "Change the supplier's drawing".into(),
            kind: ItemKind::Corrective,
            owner_id: 5,
            due_on: today(),
            done_on: done.then(today),
            evidence: evidence.into(),
        }
    }

    #[test]
    fn each_guard_names_its_rule_and_clause() {
        let quality = Roles::new([Role::Quality]);
        let r = decide::<CapaWorkflow>(
            &opened(),
            "start_investigation",
            &CapaInput::default(),
            &quality,
        );
        let Err(Refused::Guards(rules)) = r else {
            panic!("expected guard refusals")
        };
        let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "capa.owner_required",
                "capa.problem_required",
                "capa.priority_required"
            ]
        );
        // The sentence is asserted once, here; other tests match ids.
        assert_eq!(
            rules[0].to_string(),
            "An owner must be named before the investigation starts (ISO 13485 8.5.2 a)"
        );

        let mut c = opened();
        c.state = CapaState::Investigation;
        let r = decide::<CapaWorkflow>(&c, "plan_actions", &CapaInput::default(), &quality);
        let ids = r.err().map(|e| e.rule_ids()).unwrap_or_default();
        assert_eq!(
            ids,
            [
                "capa.investigation_required",
                "capa.root_cause_required",
                "capa.action_needed",
                "capa.action_rationale_required",
                "capa.item_required"
            ]
        );
    }

    #[test]
    fn only_the_owner_submits_for_verification_and_quality_signs_closure_not_the_owner() {
        let mut c = opened();
        c.state = CapaState::Action;
        c.owner_id = Some(5);
        c.items = vec![item(true, "Drawing rev C released")];
        c.no_adverse_effect = "No effect on the device's safety or performance".into();
        c.effectiveness_criteria = "No cracked hinge in 3 lots".into();
        c.effectiveness_due = Some(today());
        let quality = Roles::new([Role::Quality]);
        let engineer = Roles::new([Role::Engineer]);
        let r = decide::<CapaWorkflow>(&c, "submit_verification", &CapaInput::default(), &quality);
        assert_eq!(
            r.err().map(|e| e.to_string()),
            Some("Submit for verification is for the record's owner".into())
        );
        let owner = Who {
            user: Some(5),
            roles: &engineer,
        };
        let d = decide::<CapaWorkflow>(&c, "submit_verification", &CapaInput::default(), owner);
        assert!(d.is_ok_and(|d| d.record.state == CapaState::Verification));

        c.state = CapaState::Verification;
        let input = CapaInput {
            effectiveness_result: Some(Effectiveness::Effective),
            effectiveness_evidence: Some("3 lots inspected, 0 cracks".into()),
            justification: None,
        };
        let d = decide::<CapaWorkflow>(&c, "close_effective", &input, &quality);
        let rule = d.ok().and_then(|d| d.signature);
        assert_eq!(rule.map(|r| r.meaning), Some("Approved: effective"));
        assert_eq!(rule.and_then(|r| r.sod), Some(SodRule::NotOwner));
    }

    #[test]
    fn a_chain_with_empty_answers_is_refused_and_rows_are_ordered_by_position() {
        let f = InvestigationForm {
            rca_method: "five_whys".into(),
            whys: vec![
                (
                    "2".into(),
                    "Why was the wall thin?".into(),
                    "Mould wear".into(),
                ),
                ("1".into(), "Why did it crack?".into(), "Thin wall".into()),
                (String::new(), String::new(), String::new()),
            ],
            ..Default::default()
        };
        let i = Investigation::parse(&f).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(i.whys.len(), 2);
        assert_eq!(i.whys[0].answer, "Thin wall");
        let bad = InvestigationForm {
            whys: vec![("1".into(), "Why?".into(), "  ".into())],
            ..f
        };
        let errors = Investigation::parse(&bad).err().unwrap_or_default();
        assert!(
            errors[0]
                .message
                .contains("needs both the question and its answer")
        );
    }

    #[test]
    fn due_dates_in_the_past_are_refused() {
        let f = DetailsForm {
            title: "T".into(),
            kind: "preventive".into(),
            source: "trend".into(),
            due_on: "2026-11-20".into(),
            ..Default::default()
        };
        let errors = CapaFields::parse(&f, today()).err().unwrap_or_default();
        assert_eq!(errors[0].message, "The due date cannot be in the past.");
    }

    /// Random walks: no sequence of steps, by anyone, with any input,
    /// reaches `closed` without a root cause, the need-for-action decision
    /// with its rationale and, on the effective path, completed actions with
    /// evidence, the no-adverse-effect statement and an effective result;
    /// and every close needs a signature its owner may not give.
    #[test]
    fn no_path_reaches_closed_without_what_8_5_2_requires() {
        struct Rng(u64);
        impl Rng {
            fn next(&mut self, n: u64) -> u64 {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 % n
            }
        }
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let texts = ["", " ", "Because the mould was worn"];
        let names: Vec<&str> = ACTIONS
            .iter()
            .map(|a| a.name)
            .chain(["reopen", "delete"])
            .collect();
        let all_roles = [Role::Admin, Role::Quality, Role::Engineer, Role::Auditor];
        let mut closed = 0;
        for _ in 0..4_000 {
            let mut c = opened();
            for _ in 0..60 {
                // Edits the record's sections may see between steps.
                match r.next(8) {
                    0 => c.owner_id = (r.next(3) > 0).then_some(5),
                    1 => c.problem = texts[r.next(3) as usize].into(),
                    2 => c.priority = (r.next(2) == 0).then_some(Priority::High),
                    3 => {
                        c.root_cause = texts[r.next(3) as usize].into();
                        c.rca_method = (r.next(2) == 0).then_some(RcaMethod::FiveWhys);
                        c.whys = if r.next(2) == 0 {
                            vec![Why {
                                question: "Why?".into(),
                                answer: texts[r.next(3) as usize].into(),
                            }]
                        } else {
                            Vec::new()
                        };
                    }
                    4 => {
                        c.action_required = [None, Some(true), Some(false)][r.next(3) as usize];
                        c.action_rationale = texts[r.next(3) as usize].into();
                    }
                    5 => {
                        c.items = (0..r.next(3))
                            .map(|_| item(r.next(2) == 0, texts[r.next(3) as usize]))
                            .collect()
                    }
                    6 => {
                        c.no_adverse_effect = texts[r.next(3) as usize].into();
                        c.effectiveness_criteria = texts[r.next(3) as usize].into();
                        c.effectiveness_due = (r.next(2) == 0).then(today);
                    }
                    _ => {}
                }
                let roles = Roles::new(all_roles.iter().copied().filter(|_| r.next(2) == 0));
                let who = Who {
                    user: Some([5, 6][r.next(2) as usize]),
                    roles: &roles,
                };
                let input = CapaInput {
                    effectiveness_result: [
                        None,
                        Some(Effectiveness::Effective),
                        Some(Effectiveness::NotEffective),
                    ][r.next(3) as usize],
                    effectiveness_evidence: Some(texts[r.next(3) as usize].into()),
                    justification: Some(texts[r.next(3) as usize].into()),
                };
                let name = names[r.next(names.len() as u64) as usize];
                let Ok(d) = decide::<CapaWorkflow>(&c, name, &input, who) else {
                    continue;
                };
                if d.record.state == CapaState::Closed {
                    closed += 1;
                    let x = &d.record;
                    assert!(
                        roles.contains(Role::Quality),
                        "{name} closed without quality"
                    );
                    assert!(!blank(&x.root_cause) && x.rca_method.is_some());
                    assert!(x.action_required.is_some() && !blank(&x.action_rationale));
                    let sig = d
                        .signature
                        .unwrap_or_else(|| panic!("{name} closed unsigned"));
                    assert_eq!(sig.sod, Some(SodRule::NotOwner));
                    if name == "close_effective" {
                        assert_eq!(x.action_required, Some(true));
                        assert!(
                            !x.items.is_empty() && x.items.iter().all(Item::done_with_evidence)
                        );
                        assert!(!blank(&x.no_adverse_effect));
                        assert_eq!(x.effectiveness_result, Some(Effectiveness::Effective));
                        assert!(!blank(&x.effectiveness_evidence));
                    } else {
                        assert_eq!(name, "close_no_action");
                        assert_eq!(x.action_required, Some(false));
                    }
                }
                if d.record.state == CapaState::Cancelled {
                    assert!(d.signature.is_some() && !blank(&d.record.cancel_justification));
                }
                c = d.record;
                if c.state.terminal() {
                    break;
                }
            }
        }
        assert!(
            closed > 0,
            "the walk never closed a CAPA: the test proves nothing"
        );
    }
}
