//! Nonconformances and complaints, key NC-n (ISO 13485 8.3, 8.2.2;
//! WORKFLOWS.md). The workflow is declared here and enforced only through
//! `workflow::decide`.

use super::user::Role;
use super::workflow::{
    ActionDef, At, BUTTON_ONLY, Checks, InputDef, InputKind, Refusal, SignatureRule, SodRule,
    StateDef, StepForm, To, Workflow,
};

/// Longest title, in characters (stated on the form).
pub const MAX_TITLE: usize = 200;
/// Longest free text (description, justification, note), in characters.
pub const MAX_TEXT: usize = 10_000;
/// Longest lot or serial number, in characters.
pub const MAX_LOT: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NcState {
    Reported,
    UnderReview,
    Dispositioned,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NcAction {
    StartReview,
    Disposition,
    EscalateToCapa,
    Close,
}

/// Where the nonconformity was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Complaint,
    Production,
    IncomingInspection,
    InternalAudit,
    ExternalAudit,
    Supplier,
    Field,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// What is done with the nonconforming product (ISO 13485 8.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    UseAsIs,
    Rework,
    Scrap,
    ReturnToSupplier,
    Concession,
}

named!(NcState {
    Reported => ("reported", "Reported"),
    UnderReview => ("under_review", "Under review"),
    Dispositioned => ("dispositioned", "Dispositioned"),
    Closed => ("closed", "Closed"),
});

named!(Source {
    Complaint => ("complaint", "Complaint"),
    Production => ("production", "Production"),
    IncomingInspection => ("incoming_inspection", "Incoming inspection"),
    InternalAudit => ("internal_audit", "Internal audit"),
    ExternalAudit => ("external_audit", "External audit"),
    Supplier => ("supplier", "Supplier"),
    Field => ("field", "Field"),
});

named!(Severity {
    Low => ("low", "Low"),
    Medium => ("medium", "Medium"),
    High => ("high", "High"),
    Critical => ("critical", "Critical"),
});

named!(Disposition {
    UseAsIs => ("use_as_is", "Use as is"),
    Rework => ("rework", "Rework"),
    Scrap => ("scrap", "Scrap"),
    ReturnToSupplier => ("return_to_supplier", "Return to supplier"),
    Concession => ("concession", "Concession"),
});

impl Disposition {
    /// Accepting nonconforming product needs an approval signature.
    pub fn needs_signature(self) -> bool {
        matches!(self, Self::UseAsIs | Self::Concession)
    }
}

/// A nonconformance record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nc {
    /// n of the key NC-n (0 before it is stored).
    pub id: i64,
    pub title: String,
    pub source: Source,
    pub product_id: Option<i64>,
    pub lot_serial: String,
    pub description: String,
    pub detected_on: Option<chrono::NaiveDate>,
    pub reported_by: i64,
    pub severity: Option<Severity>,
    pub state: NcState,
    pub disposition: Option<Disposition>,
    pub justification: String,
    pub closure_note: String,
    /// n of the CAPA-n opened from this record, if it was escalated. Read
    /// from the record's `escalated_to` link by `repo::nonconformances::find`
    /// (lists leave it empty); never written with the record.
    pub capa_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl Nc {
    /// A new report, in state `reported`.
    pub fn report(fields: NcFields, reported_by: i64, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            id: 0,
            title: fields.title,
            source: fields.source,
            product_id: fields.product_id,
            lot_serial: fields.lot_serial,
            description: fields.description,
            detected_on: fields.detected_on,
            reported_by,
            severity: fields.severity,
            state: NcState::Reported,
            disposition: None,
            justification: String::new(),
            closure_note: String::new(),
            capa_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn key(&self) -> String {
        format!("NC-{}", self.id)
    }

    /// The fields as audit entries record them.
    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "source": self.source.as_str(),
            "product_id": self.product_id,
            "lot_serial": self.lot_serial,
            "description": self.description,
            "detected_on": self.detected_on.map(|d| d.to_string()),
            "severity": self.severity.map(Severity::as_str),
            "state": self.state.as_str(),
            "disposition": self.disposition.map(Disposition::as_str),
            "justification": self.justification,
            "closure_note": self.closure_note,
        })
    }

    pub fn frozen(&self) -> bool {
        self.state == NcState::Closed
    }

    /// What a disposition signature binds (11.70): the facts as reported and
    /// the disposition decided on them. Not the state or the closure note,
    /// which move on after signing.
    pub fn signed_content(&self) -> serde_json::Value {
        serde_json::json!({
            "key": self.key(),
            "title": self.title,
            "source": self.source.as_str(),
            "product_id": self.product_id,
            "lot_serial": self.lot_serial,
            "description": self.description,
            "detected_on": self.detected_on.map(|d| d.to_string()),
            "severity": self.severity.map(Severity::as_str),
            "disposition": self.disposition.map(Disposition::as_str),
            "justification": self.justification,
        })
    }

    /// The reported facts may be corrected until a disposition rests on them.
    pub fn correctable(&self) -> bool {
        matches!(self.state, NcState::Reported | NcState::UnderReview)
    }
}

/// The fields a reporter fills in (and quality may correct until the disposition).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NcFields {
    pub title: String,
    pub source: Source,
    pub product_id: Option<i64>,
    pub lot_serial: String,
    pub description: String,
    pub detected_on: Option<chrono::NaiveDate>,
    pub severity: Option<Severity>,
}

impl NcFields {
    /// Checks what was typed; each problem is reported.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        title: &str,
        source: &str,
        product_id: &str,
        lot_serial: &str,
        description: &str,
        detected_on: &str,
        severity: &str,
    ) -> Result<Self, Vec<super::user::FieldError>> {
        use super::user::FieldError;
        let mut errors = Vec::new();
        let title = title.trim();
        if title.is_empty() {
            errors.push(FieldError::new("title", "Enter a short title."));
        } else if title.chars().count() > MAX_TITLE {
            errors.push(FieldError::new(
                "title",
                format!("The title can have at most {MAX_TITLE} characters."),
            ));
        }
        let source = Source::parse(source.trim());
        if source.is_none() {
            errors.push(FieldError::new(
                "source",
                "Choose where the nonconformity was found.",
            ));
        }
        let product_id = match product_id.trim() {
            "" => None,
            p => match p.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.push(FieldError::new(
                        "product_id",
                        "Choose a product from the list.",
                    ));
                    None
                }
            },
        };
        if lot_serial.trim().chars().count() > MAX_LOT {
            errors.push(FieldError::new(
                "lot_serial",
                format!("The lot or serial number can have at most {MAX_LOT} characters."),
            ));
        }
        if description.chars().count() > MAX_TEXT {
            errors.push(FieldError::new(
                "description",
                format!("The description can have at most {MAX_TEXT} characters."),
            ));
        }
        let detected_on = match detected_on.trim() {
            "" => None,
            d => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(
                        "detected_on",
                        "The detection date must be a date like 2026-11-21.",
                    ));
                    None
                }
            },
        };
        let severity = match severity.trim() {
            "" => None,
            s => {
                let parsed = Severity::parse(s);
                if parsed.is_none() {
                    errors.push(FieldError::new(
                        "severity",
                        "Choose a severity: low, medium, high or critical.",
                    ));
                }
                parsed
            }
        };
        match source {
            Some(source) if errors.is_empty() => Ok(Self {
                title: title.to_string(),
                source,
                product_id,
                lot_serial: lot_serial.trim().to_string(),
                description: description.trim().to_string(),
                detected_on,
                severity,
            }),
            _ => Err(errors),
        }
    }
}

/// What a person submits with an action.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NcInput {
    pub disposition: Option<Disposition>,
    pub justification: Option<String>,
    pub closure_note: Option<String>,
}

pub struct NcWorkflow;

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn no_input(_: &mut Nc, _: &NcInput) {}

/// One CAPA per nonconformance: escalating again would open a second
/// investigation of the same nonconformity.
fn escalation_guard(nc: &Nc, out: &mut Checks) {
    out.require(
        nc.capa_id.is_none(),
        "No CAPA opened from it yet",
        Refusal::new(
            "nc.already_escalated",
            format!(
                "CAPA-{} was opened from this nonconformance already",
                nc.capa_id.unwrap_or_default()
            ),
            Some("ISO 13485 8.5.2"),
        )
        .at(At::Section("links")),
    );
}

fn no_signature(_: &Nc) -> Option<SignatureRule> {
    None
}

/// The report's facts are corrected in the Overview section.
const OVERVIEW: At = At::Section("overview");

fn review_guard(nc: &Nc, out: &mut Checks) {
    out.require(
        !blank(&nc.description),
        "Description written",
        Refusal::new(
            "nc.description_required",
            "A description of the nonconformity is required before review",
            Some("ISO 13485 8.3.1"),
        )
        .at(OVERVIEW),
    );
    out.require(
        nc.product_id.is_some(),
        "Affected product named",
        Refusal::new(
            "nc.product_required",
            "The affected product must be named before review",
            Some("ISO 13485 8.3.1"),
        )
        .at(OVERVIEW),
    );
    out.require(
        nc.severity.is_some(),
        "Severity set",
        Refusal::new(
            "nc.severity_required",
            "A severity must be set before review",
            Some("ISO 13485 8.3.1"),
        )
        .at(OVERVIEW),
    );
}

fn apply_disposition(nc: &mut Nc, input: &NcInput) {
    nc.disposition = input.disposition;
    nc.justification = input.justification.clone().unwrap_or_default();
}

/// A text a step's form asks for: written, and not too long.
fn text_rule(
    out: &mut Checks,
    text: &str,
    (label, field): (&str, &'static str),
    required: Refusal,
    (too_long, what): (&'static str, &str),
) {
    let refusal = if blank(text) {
        required
    } else {
        Refusal::new(
            too_long,
            format!("{what} can have at most {MAX_TEXT} characters"),
            None,
        )
    };
    out.require(
        !blank(text) && text.chars().count() <= MAX_TEXT,
        label,
        refusal.at(At::Input(field)),
    );
}

fn disposition_guard(nc: &Nc, out: &mut Checks) {
    out.require(
        nc.disposition.is_some(),
        "Disposition chosen",
        Refusal::new(
            "nc.disposition_required",
            "Choose a disposition: use as is, rework, scrap, return to supplier or concession",
            Some("ISO 13485 8.3.2"),
        )
        .at(At::Input("disposition")),
    );
    text_rule(
        out,
        &nc.justification,
        ("Justification given", "justification"),
        Refusal::new(
            "nc.justification_required",
            "A justification of the disposition is required",
            Some("ISO 13485 8.3.2"),
        ),
        ("nc.justification_too_long", "The justification"),
    );
}

fn disposition_signature(nc: &Nc) -> Option<SignatureRule> {
    nc.disposition
        .filter(|d| d.needs_signature())
        .map(|_| SignatureRule {
            meaning: "Approved",
            // Accepting nonconforming product is decided by someone other
            // than the person who found it (WORKFLOWS.md).
            sod: Some(SodRule::NotReporter),
        })
}

fn apply_close(nc: &mut Nc, input: &NcInput) {
    nc.closure_note = input.closure_note.clone().unwrap_or_default();
}

fn close_guard(nc: &Nc, out: &mut Checks) {
    text_rule(
        out,
        &nc.closure_note,
        ("How the disposition was carried out", "closure_note"),
        Refusal::new(
            "nc.disposition_note_required",
            "Record how the disposition was carried out before closing",
            Some("ISO 13485 8.3.2"),
        ),
        ("nc.note_too_long", "The note"),
    );
}

const QUALITY: &[Role] = &[Role::Quality];

static STATES: [StateDef<NcState>; 4] = [
    StateDef {
        state: NcState::Reported,
        name: NcState::Reported.as_str(),
        label: NcState::Reported.label(),
        terminal: false,
        main: true,
    },
    StateDef {
        state: NcState::UnderReview,
        name: NcState::UnderReview.as_str(),
        label: NcState::UnderReview.label(),
        terminal: false,
        main: true,
    },
    StateDef {
        state: NcState::Dispositioned,
        name: NcState::Dispositioned.as_str(),
        label: NcState::Dispositioned.label(),
        terminal: false,
        main: true,
    },
    StateDef {
        state: NcState::Closed,
        name: NcState::Closed.as_str(),
        label: NcState::Closed.label(),
        terminal: true,
        main: true,
    },
];

const DISPOSITIONS: &[(&str, &str)] = &[
    (Disposition::UseAsIs.as_str(), Disposition::UseAsIs.label()),
    (Disposition::Rework.as_str(), Disposition::Rework.label()),
    (Disposition::Scrap.as_str(), Disposition::Scrap.label()),
    (
        Disposition::ReturnToSupplier.as_str(),
        Disposition::ReturnToSupplier.label(),
    ),
    (
        Disposition::Concession.as_str(),
        Disposition::Concession.label(),
    ),
];

const DISPOSITION_FORM: StepForm = StepForm {
    inputs: &[
        InputDef {
            name: "disposition",
            label: "Disposition (ISO 13485 8.3.2)",
            kind: InputKind::Choice(DISPOSITIONS),
            hint: "required",
        },
        InputDef {
            name: "justification",
            label: "Justification",
            kind: InputKind::Text {
                max: MAX_TEXT,
                rows: 3,
            },
            hint: "required, at most 10,000 characters",
        },
    ],
    sign_note: "\"Use as is\" and \"Concession\" accept nonconforming product and need an electronic signature (Approved).",
    disclosure: None,
    together: None,
};

const CLOSE_FORM: StepForm = StepForm {
    inputs: &[InputDef {
        name: "closure_note",
        label: "How the disposition was carried out",
        kind: InputKind::Text {
            max: MAX_TEXT,
            rows: 3,
        },
        hint: "required, at most 10,000 characters",
    }],
    sign_note: "",
    disclosure: None,
    together: None,
};

static ACTIONS: [ActionDef<NcWorkflow>; 4] = [
    ActionDef {
        action: NcAction::StartReview,
        name: "start_review",
        label: "Start review",
        from: &[NcState::Reported],
        to: To::State(NcState::UnderReview),
        roles: QUALITY,
        owner: false,
        apply: no_input,
        guard: review_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: NcAction::Disposition,
        name: "disposition",
        label: "Disposition",
        from: &[NcState::UnderReview],
        to: To::State(NcState::Dispositioned),
        roles: QUALITY,
        owner: false,
        apply: apply_disposition,
        guard: disposition_guard,
        signature: disposition_signature,
        form: DISPOSITION_FORM,
    },
    ActionDef {
        action: NcAction::EscalateToCapa,
        name: "escalate_to_capa",
        label: "Escalate to CAPA",
        from: &[NcState::UnderReview, NcState::Dispositioned],
        to: To::Stays,
        roles: QUALITY,
        owner: false,
        apply: no_input,
        guard: escalation_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: NcAction::Close,
        name: "close",
        label: "Close",
        from: &[NcState::Dispositioned],
        to: To::State(NcState::Closed),
        roles: QUALITY,
        owner: false,
        apply: apply_close,
        guard: close_guard,
        signature: no_signature,
        form: CLOSE_FORM,
    },
];

impl Workflow for NcWorkflow {
    type State = NcState;
    type Action = NcAction;
    type Record = Nc;
    type Input = NcInput;
    const KIND: &'static str = "nonconformance";

    fn states() -> &'static [StateDef<NcState>] {
        &STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(record: &Nc) -> NcState {
        record.state
    }
    fn set_state(record: &mut Nc, state: NcState) {
        record.state = state;
    }
    fn sod_party(record: &Nc, rule: SodRule) -> Option<i64> {
        match rule {
            SodRule::NotReporter => Some(record.reported_by),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Roles;
    use crate::domain::workflow::{Refused, decide, diagram_svg};

    fn reported() -> Nc {
        let fields = NcFields::parse("Bent housing", "production", "", "", "", "", "");
        let fields = fields.unwrap_or_else(|e| panic!("{e:?}"));
        Nc::report(fields, 1, chrono::DateTime::UNIX_EPOCH)
    }

    fn quality() -> Roles {
        Roles::new([Role::Quality])
    }

    #[test]
    fn review_needs_description_product_and_severity_each_named() {
        let r = decide::<NcWorkflow>(&reported(), "start_review", &NcInput::default(), &quality());
        let Err(Refused::Guards(rules)) = r else {
            panic!("expected guard refusals");
        };
        let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "nc.description_required",
                "nc.product_required",
                "nc.severity_required"
            ]
        );
        assert!(rules[0].to_string().ends_with("(ISO 13485 8.3.1)"));
    }

    #[test]
    fn accepting_nonconforming_product_needs_an_approval_signature_scrap_does_not() {
        let mut nc = reported();
        nc.state = NcState::UnderReview;
        let input = |d| NcInput {
            disposition: Some(d),
            justification: Some("Within the tolerance agreed with the customer".into()),
            closure_note: None,
        };
        let use_as_is =
            decide::<NcWorkflow>(&nc, "disposition", &input(Disposition::UseAsIs), &quality());
        assert_eq!(
            use_as_is.ok().and_then(|d| d.signature).map(|s| s.meaning),
            Some("Approved")
        );
        let scrap =
            decide::<NcWorkflow>(&nc, "disposition", &input(Disposition::Scrap), &quality());
        assert!(
            scrap.is_ok_and(|d| d.signature.is_none() && d.record.state == NcState::Dispositioned)
        );
    }

    #[test]
    fn engineers_cannot_disposition_and_closed_records_are_frozen() {
        let mut nc = reported();
        nc.state = NcState::UnderReview;
        let r = decide::<NcWorkflow>(
            &nc,
            "disposition",
            &NcInput::default(),
            &Roles::new([Role::Engineer]),
        );
        assert!(matches!(r, Err(Refused::Role { .. })));
        nc.state = NcState::Closed;
        let r = decide::<NcWorkflow>(&nc, "close", &NcInput::default(), &quality());
        assert!(matches!(r, Err(Refused::Frozen { .. })));
        let r = decide::<NcWorkflow>(&nc, "delete", &NcInput::default(), &quality());
        assert!(matches!(r, Err(Refused::UnknownAction(_))));
    }

    /// Random walks over records, roles, actions and inputs: whenever the
    /// engine lets a record reach `dispositioned` or `closed`, the fields,
    /// the role and (where required) the signature requirement are there.
    #[test]
    fn no_sequence_of_actions_reaches_dispositioned_or_closed_without_what_they_need() {
        // The seeds' generator: the same walks on every run.
        use crate::seed::Dice as Rng;
        let mut r = Rng(0x1234_5678_9abc_def1);
        let texts = [
            "",
            "  \n",
            "Bent housing on 3 of 40 units",
            "Done: 3 units scrapped",
        ];
        let names = [
            "start_review",
            "disposition",
            "close",
            "escalate_to_capa",
            "reopen",
        ];
        let all_roles = [Role::Admin, Role::Quality, Role::Engineer, Role::Auditor];
        let (mut dispositioned, mut closed, mut escalated) = (0, 0, 0);
        for _ in 0..5_000 {
            let mut nc = reported();
            nc.description = texts[r.roll(4) as usize].into();
            nc.product_id = (r.roll(4) > 0).then_some(1);
            nc.severity = (r.roll(4) > 0).then_some(Severity::High);
            for _ in 0..40 {
                let roles = Roles::new(all_roles.iter().copied().filter(|_| r.roll(2) == 0));
                let input = NcInput {
                    disposition: (r.roll(3) > 0)
                        .then(|| Disposition::ALL[r.roll(Disposition::ALL.len() as u64) as usize]),
                    justification: Some(texts[r.roll(4) as usize].into()),
                    closure_note: Some(texts[r.roll(4) as usize].into()),
                };
                let name = names[r.roll(names.len() as u64) as usize];
                let Ok(d) = decide::<NcWorkflow>(&nc, name, &input, &roles) else {
                    continue;
                };
                assert!(
                    roles.contains(Role::Quality),
                    "{name} without the quality role"
                );
                if name == "escalate_to_capa" {
                    // Escalation keeps the state, once per record; the
                    // transition service records the CAPA it opened.
                    escalated += 1;
                    assert_eq!(d.record.state, d.from);
                    assert!(matches!(
                        d.from,
                        NcState::UnderReview | NcState::Dispositioned
                    ));
                    assert!(nc.capa_id.is_none(), "escalated twice");
                    nc = d.record;
                    nc.capa_id = Some(1);
                    continue;
                }
                match d.record.state {
                    NcState::Dispositioned => {
                        dispositioned += 1;
                        assert_eq!(d.from, NcState::UnderReview);
                        let disp = d.record.disposition.unwrap_or(Disposition::Scrap);
                        assert!(d.record.disposition.is_some() && !blank(&d.record.justification));
                        assert_eq!(d.signature.is_some(), disp.needs_signature());
                    }
                    NcState::Closed => {
                        closed += 1;
                        assert_eq!(d.from, NcState::Dispositioned);
                        assert!(!blank(&d.record.closure_note));
                        assert!(d.record.disposition.is_some());
                    }
                    NcState::UnderReview => {
                        assert!(!blank(&d.record.description));
                        assert!(d.record.product_id.is_some() && d.record.severity.is_some());
                    }
                    NcState::Reported => panic!("nothing leads back to reported"),
                }
                nc = d.record;
            }
        }
        assert!(
            dispositioned > 100 && closed > 20 && escalated > 20,
            "{dispositioned} / {closed} / {escalated}"
        );
    }

    #[test]
    fn the_diagram_shows_every_state_and_action_and_marks_the_current_state() {
        let svg = diagram_svg::<NcWorkflow>(Some(NcState::UnderReview), "NC-1 workflow");
        for s in NcState::ALL {
            assert!(
                svg.contains(&format!(">{}</text>", s.label())),
                "{}",
                s.label()
            );
        }
        for a in ["Start review", "Disposition", "Close"] {
            assert!(svg.contains(a));
        }
        // Escalation leaves the record where it is: a loop on each state
        // it may start from.
        assert_eq!(svg.matches(">Escalate to CAPA</text>").count(), 2);
        assert_eq!(svg.matches("class=\"state current\"").count(), 1);
        let current = svg
            .split("class=\"state current\">")
            .nth(1)
            .unwrap_or_default();
        assert!(
            current
                .split("</g>")
                .next()
                .unwrap_or_default()
                .contains(">Under review</text>")
        );
    }
}
