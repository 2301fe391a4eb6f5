//! Corrective and preventive actions, key CAPA-n (ISO 13485 8.5.2, 8.5.3;
//! WORKFLOWS.md). The workflow is declared here and enforced only through
//! `workflow::decide`; the investigation, the action items and the
//! effectiveness check are fields of the record the guards read.
//!
//! Here the record and its values; `forms` reads and checks what people
//! type; `workflow` declares the states, the actions and their guards.

use serde::{Deserialize, Serialize};

use super::user::{FieldError, Role};
use super::workflow::{
    ActionDef, At, BUTTON_ONLY, Checks, InputDef, InputKind, Refusal, SignatureRule, SodRule,
    StateDef, StepForm, To, Workflow,
};

mod forms;
mod workflow;

pub use forms::*;
pub use workflow::*;

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

#[cfg(test)]
mod tests;
