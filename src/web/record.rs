//! The record page every workflow shares (STYLE.md, "Record pages"): its
//! header (key, title, state, owner, due date, overdue), the stepper of the
//! main path, the full state diagram in a "Workflow" disclosure, the menu of
//! its sections, and "Next steps": the steps this reader can take now, each
//! with its readiness checklist, and whom the others wait on. A workflow's
//! page builds these from its declaration with [`stepper`] and
//! [`next_steps`] and includes `partials/record_head.html` and
//! `partials/next_steps.html`.

use crate::domain::svg::Svg;
use crate::domain::workflow::{
    At, InputDef, Offer, Who, Workflow, diagram_svg, offer, readiness, state_def,
};

/// One fact of the header ("Owner: Owen Owner").
pub struct Fact {
    pub label: &'static str,
    pub value: String,
    pub href: Option<String>,
    /// Marked overdue (a due date passed on an open record).
    pub overdue: bool,
}

impl Fact {
    pub fn new(label: &'static str, value: impl Into<String>) -> Self {
        Self {
            label,
            value: value.into(),
            href: None,
            overdue: false,
        }
    }

    pub fn link(mut self, href: Option<String>) -> Self {
        self.href = href;
        self
    }

    pub fn overdue(mut self, overdue: bool) -> Self {
        self.overdue = overdue;
        self
    }
}

/// One state of the stepper: `done`, `current` or `ahead`.
pub struct StepperStep {
    pub label: &'static str,
    pub status: &'static str,
}

/// A section of the record page, for the in-page menu.
pub struct Section {
    pub anchor: &'static str,
    pub label: &'static str,
}

/// The sections every record page has after its workflow's own.
pub const COMMON_SECTIONS: [Section; 4] = [
    Section {
        anchor: "signatures",
        label: "Signatures",
    },
    Section {
        anchor: "attachments",
        label: "Attachments",
    },
    Section {
        anchor: "links",
        label: "Links",
    },
    Section {
        anchor: "history",
        label: "History",
    },
];

/// The top of a record page.
pub struct RecordHead {
    /// The list it belongs to (`/capas`, "CAPAs").
    pub back: (&'static str, &'static str),
    pub key: String,
    pub title: String,
    pub state: &'static str,
    pub state_name: &'static str,
    pub overdue: bool,
    pub facts: Vec<Fact>,
    /// Related records shown beside the state ("CAPA-3 opened").
    pub badges: Vec<(String, String)>,
    pub stepper: Vec<StepperStep>,
    /// The state's label when the record left the main path (cancelled).
    pub off_path: Option<&'static str>,
    pub diagram: Svg,
    pub sections: Vec<Section>,
}

impl RecordHead {
    /// The head of a `W` record in `state`, with its sections (the
    /// workflow's own, then signatures, attachments, links and history)
    /// and its state diagram ([`diagram`], which a page may keep).
    pub fn new<W: Workflow>(
        back: (&'static str, &'static str),
        (key, title): (String, String),
        state: W::State,
        own_sections: &[Section],
        diagram: Svg,
    ) -> Self {
        let def = state_def::<W>(state);
        let (stepper, off_path) = stepper::<W>(state);
        Self {
            back,
            key,
            title,
            state: def.map_or("", |d| d.label),
            state_name: def.map_or("", |d| d.name),
            overdue: false,
            facts: Vec::new(),
            badges: Vec::new(),
            stepper,
            off_path,
            diagram,
            sections: own_sections
                .iter()
                .chain(COMMON_SECTIONS.iter())
                .map(|s| Section {
                    anchor: s.anchor,
                    label: s.label,
                })
                .collect(),
        }
    }
}

/// The state diagram of a `W` record with key `key` in `state`.
pub fn diagram<W: Workflow>(key: &str, state: W::State) -> Svg {
    let label = state_def::<W>(state).map_or("", |d| d.label);
    diagram_svg::<W>(Some(state), &format!("{key} workflow, now {label}"))
}

/// The main path's states with the current one marked; for a record that
/// left the path (cancelled), every state ahead and the side state's label.
pub fn stepper<W: Workflow>(state: W::State) -> (Vec<StepperStep>, Option<&'static str>) {
    let main: Vec<_> = W::states().iter().filter(|s| s.main).collect();
    let at = main.iter().position(|s| s.state == state);
    let steps = main
        .iter()
        .enumerate()
        .map(|(i, s)| StepperStep {
            label: s.label,
            status: match at {
                Some(a) if i < a => "done",
                Some(a) if i == a => "current",
                _ => "ahead",
            },
        })
        .collect();
    let off = match at {
        Some(_) => None,
        None => state_def::<W>(state).map(|d| d.label),
    };
    (steps, off)
}

/// One line of a step's readiness checklist.
pub struct CheckView {
    pub ok: bool,
    pub label: String,
    pub clause: Option<&'static str>,
    /// Where it is put right (`#investigation`), for a rule not yet met.
    pub href: Option<String>,
}

/// A button of a step form: the step, and the fixed value it carries.
pub struct StepButton {
    pub name: &'static str,
    pub label: &'static str,
    pub fixed: Option<(&'static str, &'static str)>,
    /// What it says about signing, when several steps share the form.
    pub sign_note: &'static str,
}

/// One form of "Next steps": a step, or steps declared together (their
/// shared fields once, a button each).
pub struct StepBlock {
    /// The form's id and its fields' id prefix (`step-close_effective`).
    pub form: String,
    /// Where it posts (the first step's URL).
    pub action: String,
    pub heading: &'static str,
    pub disclosure: Option<&'static str>,
    pub inputs: &'static [InputDef],
    pub buttons: Vec<StepButton>,
    pub checks: Vec<CheckView>,
    /// Every check holds: the step can be taken as the record stands.
    pub ready: bool,
    /// The open requests asking someone by name to sign one of its steps.
    pub requests: Vec<RequestView>,
}

impl StepBlock {
    /// How many checks are not met yet.
    pub fn open_checks(&self) -> usize {
        self.checks.iter().filter(|c| !c.ok).count()
    }
}

/// An open signature request, as "Next steps" shows it.
pub struct RequestView {
    pub asked_of: String,
    /// The reader is the person asked.
    pub of_you: bool,
    pub asked_by: String,
    pub on: String,
    pub note: String,
    /// Where the reader withdraws it, when they may (who asked, quality).
    pub withdraw: Option<String>,
    /// The withdraw form's id (`withdraw-4`).
    pub form: String,
}

/// A step someone else takes, and whom it waits on.
pub struct Waiting {
    /// The step (`close_effective`) and its words ("Close as effective").
    pub action: &'static str,
    pub label: &'static str,
    /// Whom it waits on ("Waiting on a quality signature that is not the
    /// owner's (Approved: effective)").
    pub whom: String,
    /// The open requests asking someone by name to sign it.
    pub requests: Vec<RequestView>,
    /// Whom the reader may ask to sign it, as (user id, name): empty when
    /// it needs no signature, the reader may not ask, or no one could.
    pub candidates: Vec<(String, String)>,
    /// The ask form's id (`ask-close_effective`).
    pub form: String,
}

/// The "Next steps" panel.
pub struct NextSteps {
    /// Where step forms post (`/capas/4`), with `/<action>` after it.
    pub step_base: String,
    pub version: i64,
    pub blocks: Vec<StepBlock>,
    /// Steps someone else takes, and whom they wait on.
    pub waiting: Vec<Waiting>,
    /// The record is in a terminal state: nothing more happens to it.
    pub finished: bool,
}

impl NextSteps {
    /// Every open signature request the panel shows.
    pub fn requests(&self) -> Vec<&RequestView> {
        self.blocks
            .iter()
            .flat_map(|b| b.requests.iter())
            .chain(self.waiting.iter().flat_map(|w| w.requests.iter()))
            .collect()
    }

    /// The ids of every form the panel shows: each step's, each ask and
    /// withdraw form (so a refused one that is no longer shown has its
    /// problems at the top of the page).
    pub fn forms(&self) -> Vec<String> {
        let mut forms: Vec<String> = self.blocks.iter().map(|b| b.form.clone()).collect();
        for w in &self.waiting {
            if !w.candidates.is_empty() {
                forms.push(w.form.clone());
            }
        }
        forms.extend(
            self.requests()
                .into_iter()
                .filter(|r| r.withdraw.is_some())
                .map(|r| r.form.clone()),
        );
        forms
    }
}

/// "Next steps" of `record` for `who`: each step they may take now as a
/// form with its checklist (steps declared together in one form), and each
/// step from this state that waits on someone else, saying on whom.
pub fn next_steps<W: Workflow>(
    record: &W::Record,
    who: Who<'_>,
    step_base: String,
    version: i64,
) -> NextSteps {
    let mut blocks: Vec<StepBlock> = Vec::new();
    let mut waiting = Vec::new();
    for a in W::actions() {
        match offer::<W>(record, a, who) {
            Offer::Hidden => continue,
            Offer::Waiting(whom) => {
                waiting.push(Waiting {
                    action: a.name,
                    label: a.label,
                    whom,
                    requests: Vec::new(),
                    candidates: Vec::new(),
                    form: format!("ask-{}", a.name),
                });
                continue;
            }
            Offer::Take => {}
        }
        let checks: Vec<CheckView> = readiness::<W>(record, a)
            .into_iter()
            .map(|c| CheckView {
                ok: c.ok,
                clause: c.refusal.clause,
                href: match c.refusal.at {
                    At::Section(s) if !c.ok => Some(format!("#{s}")),
                    _ => None,
                },
                label: c.label,
            })
            .collect();
        let button = StepButton {
            name: a.name,
            label: a.label,
            fixed: a
                .form
                .inputs
                .iter()
                .find_map(|i| i.fixed().map(|v| (i.name, v))),
            sign_note: a.form.sign_note,
        };
        if let Some(heading) = a.form.together
            && let Some(b) = blocks.iter_mut().find(|b| b.heading == heading)
        {
            for c in checks {
                if !b.checks.iter().any(|x| x.label == c.label) {
                    b.ready &= c.ok;
                    b.checks.push(c);
                }
            }
            b.buttons.push(button);
            continue;
        }
        let form = step_form_of::<W>(a.name);
        blocks.push(StepBlock {
            action: format!("{step_base}/{}", a.name),
            heading: a.form.together.unwrap_or(a.label),
            disclosure: a.form.disclosure,
            inputs: a.form.inputs,
            ready: checks.iter().all(|c| c.ok),
            checks,
            buttons: vec![button],
            form,
            requests: Vec::new(),
        });
    }
    let finished = W::states()
        .iter()
        .any(|s| s.terminal && s.state == W::state_of(record));
    NextSteps {
        step_base,
        version,
        blocks,
        waiting,
        finished,
    }
}

/// The form of "Next steps" that takes `action` (its own, or the one it
/// shares with the steps declared together with it).
pub fn step_form_of<W: Workflow>(action: &str) -> String {
    let def = crate::domain::workflow::action_def::<W>(action);
    let first = def
        .and_then(|d| d.form.together)
        .and_then(|heading| {
            W::actions()
                .iter()
                .find(|a| a.form.together == Some(heading))
        })
        .or(def)
        .map_or(action, |a| a.name);
    format!("step-{first}")
}
