//! The CAPA workflow's declaration: states, actions, guards (each refusal
//! with its rule id and clause), signatures and step forms.

use super::*;

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

/// A text the step needs, put right at `at`: written, and not too long.
fn text_rule(
    out: &mut Checks,
    text: &str,
    (label, at): (&str, At),
    (id, rule, clause): (&'static str, &str, &'static str),
) {
    let refusal = if blank(text) {
        Refusal::new(id, rule, Some(clause))
    } else {
        Refusal::new(
            "capa.text_too_long",
            format!("Texts can have at most {MAX_TEXT} characters"),
            None,
        )
    };
    out.require(
        !blank(text) && text.chars().count() <= MAX_TEXT,
        label,
        refusal.at(at),
    );
}

/// The sections of the record page where a rule is put right.
const OVERVIEW: At = At::Section("overview");
const INVESTIGATION: At = At::Section("investigation");
const ACTION_ITEMS: At = At::Section("actions");
const VERIFICATION: At = At::Section("verification");

fn start_guard(c: &Capa, out: &mut Checks) {
    out.require(
        c.owner_id.is_some(),
        "Owner named",
        Refusal::new(
            "capa.owner_required",
            "An owner must be named before the investigation starts",
            Some("ISO 13485 8.5.2 a"),
        )
        .at(OVERVIEW),
    );
    text_rule(
        out,
        &c.problem,
        ("Problem statement written", OVERVIEW),
        (
            "capa.problem_required",
            "A problem statement is required before the investigation starts",
            "ISO 13485 8.5.2 a",
        ),
    );
    out.require(
        c.priority.is_some(),
        "Priority set",
        Refusal::new(
            "capa.priority_required",
            "A priority must be set before the investigation starts",
            Some("ISO 13485 8.5.2 a"),
        )
        .at(OVERVIEW),
    );
}

fn rca_filled(c: &Capa) -> bool {
    c.rca_method.is_some()
        && (c.whys.iter().any(|w| !blank(&w.answer))
            || !c.causes.is_empty()
            || c.rca_method == Some(RcaMethod::Other))
}

fn root_cause_rules(c: &Capa, out: &mut Checks) {
    out.require(
        rca_filled(c),
        "Investigation recorded: a method, and a why answered or a fishbone cause named",
        Refusal::new(
            "capa.investigation_required",
            "The investigation must be recorded: choose the method and answer at least one why, or name at least one fishbone cause",
            Some("ISO 13485 8.5.2 b"),
        )
        .at(INVESTIGATION),
    );
    text_rule(
        out,
        &c.root_cause,
        ("Root cause stated", INVESTIGATION),
        (
            "capa.root_cause_required",
            "Root cause is required before actions can be planned or the CAPA closed",
            "ISO 13485 8.5.2 b",
        ),
    );
}

fn rationale_rule(c: &Capa, out: &mut Checks) {
    text_rule(
        out,
        &c.action_rationale,
        ("Rationale of the decision written", INVESTIGATION),
        (
            "capa.action_rationale_required",
            "The rationale of the need-for-action decision is required",
            "ISO 13485 8.5.2 c",
        ),
    );
}

fn item_rule(c: &Capa, out: &mut Checks) {
    out.require(
        !c.items.is_empty(),
        "At least one action item planned",
        Refusal::new(
            "capa.item_required",
            "Plan at least one action item",
            Some("ISO 13485 8.5.2 d"),
        )
        .at(ACTION_ITEMS),
    );
}

fn plan_guard(c: &Capa, out: &mut Checks) {
    root_cause_rules(c, out);
    out.require(
        c.action_required == Some(true),
        "Need for action decided: yes",
        Refusal::new(
            "capa.action_needed",
            "The need for action must be decided as yes to plan actions",
            Some("ISO 13485 8.5.2 c"),
        )
        .at(INVESTIGATION),
    );
    rationale_rule(c, out);
    item_rule(c, out);
}

fn no_action_guard(c: &Capa, out: &mut Checks) {
    root_cause_rules(c, out);
    out.require(
        c.action_required == Some(false),
        "Need for action decided: no",
        Refusal::new(
            "capa.no_action_decided",
            "Closing without action needs the need-for-action decision recorded as no",
            Some("ISO 13485 8.5.2 c"),
        )
        .at(INVESTIGATION),
    );
    rationale_rule(c, out);
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

fn verification_guard(c: &Capa, out: &mut Checks) {
    item_rule(c, out);
    for (n, i) in c.items.iter().enumerate() {
        out.require(
            i.done_with_evidence(),
            format!("Action item {} done, with evidence", n + 1),
            Refusal::new(
                "capa.item_not_done",
                format!(
                    "Action item {} is not done with evidence of what was done",
                    n + 1
                ),
                Some("ISO 13485 8.5.2 d"),
            )
            .at(ACTION_ITEMS),
        );
    }
    text_rule(
        out,
        &c.no_adverse_effect,
        ("No-adverse-effect statement written", VERIFICATION),
        (
            "capa.no_adverse_effect_required",
            "A statement that the actions have no adverse effect on the device is required",
            "ISO 13485 8.5.2 e",
        ),
    );
    text_rule(
        out,
        &c.effectiveness_criteria,
        ("Effectiveness criteria set", VERIFICATION),
        (
            "capa.effectiveness_criteria_required",
            "Effectiveness criteria must be set before verification",
            "ISO 13485 8.5.2 f",
        ),
    );
    out.require(
        c.effectiveness_due.is_some(),
        "Effectiveness check due date set",
        Refusal::new(
            "capa.effectiveness_due_required",
            "The effectiveness check needs a due date",
            Some("ISO 13485 8.5.2 f"),
        )
        .at(VERIFICATION),
    );
}

fn apply_result(c: &mut Capa, input: &CapaInput) {
    c.effectiveness_result = input.effectiveness_result;
    c.effectiveness_evidence = input.effectiveness_evidence.clone().unwrap_or_default();
}

fn result_guard(c: &Capa, out: &mut Checks, wanted: Effectiveness, words: &str) {
    let id = match wanted {
        Effectiveness::Effective => "capa.result_effective",
        Effectiveness::NotEffective => "capa.result_not_effective",
    };
    out.require(
        c.effectiveness_result == Some(wanted),
        format!("Result: {}", wanted.label()),
        Refusal::new(
            id,
            format!("The effectiveness result must be {words}"),
            Some("ISO 13485 8.5.2 f"),
        )
        .at(At::Input("effectiveness_result")),
    );
    text_rule(
        out,
        &c.effectiveness_evidence,
        (
            "Evidence of the check given",
            At::Input("effectiveness_evidence"),
        ),
        (
            "capa.effectiveness_evidence_required",
            "Evidence of the effectiveness check is required",
            "ISO 13485 8.5.2 f",
        ),
    );
}

fn effective_guard(c: &Capa, out: &mut Checks) {
    result_guard(c, out, Effectiveness::Effective, "effective to close");
}

fn effective_signature(_: &Capa) -> Option<SignatureRule> {
    signed("Approved: effective")
}

fn reopen_guard(c: &Capa, out: &mut Checks) {
    result_guard(
        c,
        out,
        Effectiveness::NotEffective,
        "not effective to reopen the actions",
    );
}

fn apply_cancel(c: &mut Capa, input: &CapaInput) {
    c.cancel_justification = input.justification.clone().unwrap_or_default();
}

fn cancel_guard(c: &Capa, out: &mut Checks) {
    text_rule(
        out,
        &c.cancel_justification,
        ("Justification given", At::Input("justification")),
        (
            "capa.cancel_justification_required",
            "A justification is required to cancel a CAPA",
            "ISO 13485 8.5.2",
        ),
    );
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
            main: !matches!($s, CapaState::Cancelled),
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
    together: None,
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
    together: Some("Record the effectiveness check (8.5.2 f)"),
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
    together: Some("Record the effectiveness check (8.5.2 f)"),
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
    together: None,
};

pub(super) static ACTIONS: [ActionDef<CapaWorkflow>; 7] = [
    ActionDef {
        action: CapaAction::StartInvestigation,
        name: "start_investigation",
        label: "Start investigation",
        from: &[CapaState::Open],
        to: To::State(CapaState::Investigation),
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
        to: To::State(CapaState::Action),
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
        to: To::State(CapaState::Closed),
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
        to: To::State(CapaState::Verification),
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
        to: To::State(CapaState::Closed),
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
        to: To::State(CapaState::Action),
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
        to: To::State(CapaState::Cancelled),
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
