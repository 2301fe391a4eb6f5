//! The one workflow engine (ARCHITECTURE.md rules 1–3, WORKFLOWS.md).
//!
//! A workflow declares its states and its actions once: where each action
//! may start, where it ends, who may take it, what must hold of the record
//! (guards, each refusal naming its rule and clause in plain words), and
//! whether it needs an electronic signature with which meaning and which
//! segregation-of-duties rule. `decide` applies an action to a record purely
//! (time and actor are arguments) and the same declaration draws the state
//! diagram. Nothing else decides whether a state may change.

use std::fmt::{self, Write as _};

use super::event::DomainEvent;
use super::svg::{Svg, escape};
use super::user::{Role, Roles};

/// One state of a workflow.
pub struct StateDef<S: 'static> {
    pub state: S,
    /// The stored and audited name (`under_review`).
    pub name: &'static str,
    /// The words people read ("Under review").
    pub label: &'static str,
    /// A terminal state freezes the record: every edit is refused.
    pub terminal: bool,
}

/// A rule that failed, in words a QA manager understands, with the clause
/// of the standard it comes from when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// A stable id of the rule (`capa.root_cause_required`): tests and API
    /// clients match it; the words may be reworded.
    pub id: &'static str,
    pub rule: String,
    pub clause: Option<&'static str>,
}

impl Refusal {
    pub fn new(id: &'static str, rule: impl Into<String>, clause: Option<&'static str>) -> Self {
        Self {
            id,
            rule: rule.into(),
            clause,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.clause {
            Some(c) => write!(f, "{} ({c})", self.rule),
            None => f.write_str(&self.rule),
        }
    }
}

/// Who may not sign a transition (segregation of duties).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SodRule {
    /// Not the record's owner.
    NotOwner,
    /// Not the record's author.
    NotAuthor,
    /// Not the person who analysed the risk.
    NotAnalyst,
    /// Not the person who reported the record (a nonconformance).
    NotReporter,
}

impl SodRule {
    /// The refusal's stable id.
    pub fn id(self) -> &'static str {
        match self {
            Self::NotOwner => "sod.not_owner",
            Self::NotAuthor => "sod.not_author",
            Self::NotAnalyst => "sod.not_analyst",
            Self::NotReporter => "sod.not_reporter",
        }
    }

    /// Who the rule bars, as a page names them ("the owner").
    pub fn barred(self) -> &'static str {
        match self {
            Self::NotOwner => "the owner",
            Self::NotAuthor => "the author",
            Self::NotAnalyst => "the analyst",
            Self::NotReporter => "the reporter",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Self::NotOwner => "the owner may not sign this",
            Self::NotAuthor => "the author may not sign this",
            Self::NotAnalyst => "the analyst may not sign this",
            Self::NotReporter => "the reporter may not sign this",
        }
    }
}

/// The electronic signature a transition needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureRule {
    /// The meaning signed (21 CFR 11.50(a)(3)), e.g. "Approved".
    pub meaning: &'static str,
    pub sod: Option<SodRule>,
}

/// A workflow's declaration. `Record` is what the guards look at; `Input`
/// is what a person submits with an action (a disposition, a note).
pub trait Workflow: Sized + 'static {
    type State: Copy + Eq + fmt::Debug + 'static;
    type Action: Copy + Eq + fmt::Debug + 'static;
    type Record: Clone;
    type Input;

    /// The record kind as audited (`nonconformance`).
    const KIND: &'static str;

    fn states() -> &'static [StateDef<Self::State>];
    fn actions() -> &'static [ActionDef<Self>];
    fn state_of(record: &Self::Record) -> Self::State;
    fn set_state(record: &mut Self::Record, state: Self::State);
    /// The record's owner, for actions the owner may take whatever their roles.
    fn owner(_record: &Self::Record) -> Option<i64> {
        None
    }
    /// The user a segregation-of-duties rule keeps from signing the record,
    /// if any (the owner for `NotOwner`, ...).
    fn sod_party(_record: &Self::Record, _rule: SodRule) -> Option<i64> {
        None
    }
    /// What a step changed that someone may need to be told of, beyond the
    /// step itself and the signatures it makes due (an owner assigned).
    fn events(_before: &Self::Record, _after: &Self::Record) -> Vec<DomainEvent> {
        Vec::new()
    }
}

/// Who wants to take an action: their roles and, when known, their user id
/// (an action may be open to the record's owner).
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub user: Option<i64>,
    pub roles: &'a Roles,
}

impl<'a> From<&'a Roles> for Who<'a> {
    fn from(roles: &'a Roles) -> Self {
        Self { user: None, roles }
    }
}

/// A value a person gives with an action: one field of its form.
pub struct InputDef {
    /// The form field's name (`justification`).
    pub name: &'static str,
    /// The words beside it ("Why cancel").
    pub label: &'static str,
    pub kind: InputKind,
    /// What the form says about it, in brackets after the label.
    pub hint: &'static str,
}

impl InputDef {
    /// The value a `Fixed` input always sends.
    pub fn fixed(&self) -> Option<&'static str> {
        match self.kind {
            InputKind::Fixed(v) => Some(v),
            _ => None,
        }
    }
    /// The (value, label) choices of a `Choice` input.
    pub fn choices(&self) -> Option<&'static [(&'static str, &'static str)]> {
        match self.kind {
            InputKind::Choice(c) => Some(c),
            _ => None,
        }
    }
    /// The most characters and the rows of a `Text` input.
    pub fn text(&self) -> Option<(usize, u8)> {
        match self.kind {
            InputKind::Text { max, rows } => Some((max, rows)),
            _ => None,
        }
    }
}

/// How a value is given.
pub enum InputKind {
    /// Text of at most `max` characters, in a box of `rows` lines.
    Text { max: usize, rows: u8 },
    /// One of these (value, label) pairs.
    Choice(&'static [(&'static str, &'static str)]),
    /// A value the action always sends (the result its button stands for).
    Fixed(&'static str),
}

/// How an action's form reads: its fields, what it says about signing, and
/// whether it sits behind a disclosure (a step that ends the record early).
pub struct StepForm {
    pub inputs: &'static [InputDef],
    /// Who signs and when, in people's words; empty when it never signs.
    pub sign_note: &'static str,
    /// The disclosure's summary ("Cancel this CAPA…"), if any.
    pub disclosure: Option<&'static str>,
    /// Steps naming the same heading here are one form on the record page:
    /// their shared fields once, a button for each step (carrying the
    /// step's fixed value). Alternative outcomes of one check ("Close as
    /// effective", "Not effective: reopen") are asked for in one place.
    pub together: Option<&'static str>,
}

/// A step taken with a button alone.
pub const BUTTON_ONLY: StepForm = StepForm {
    inputs: &[],
    sign_note: "",
    disclosure: None,
    together: None,
};

/// Where an action leaves the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum To<S> {
    /// In this state.
    State(S),
    /// In the state it was in: a step that records something without moving
    /// the record on (escalating a nonconformance to a CAPA).
    Stays,
}

impl<S: Copy> To<S> {
    /// The state the action leaves a record in that is now in `from`.
    pub fn from(self, from: S) -> S {
        match self {
            Self::State(s) => s,
            Self::Stays => from,
        }
    }
}

/// One action of a workflow.
pub struct ActionDef<W: Workflow> {
    pub action: W::Action,
    /// The stored and audited name (`start_review`).
    pub name: &'static str,
    /// The button's words ("Start review").
    pub label: &'static str,
    pub from: &'static [W::State],
    pub to: To<W::State>,
    /// Roles that may take the action (any one of them).
    pub roles: &'static [Role],
    /// Whether the record's owner may take it too, whatever their roles.
    pub owner: bool,
    /// Writes the submitted input onto the record (before the guards run).
    pub apply: fn(&mut W::Record, &W::Input),
    /// What must hold of the record after `apply`; every failing rule.
    pub guard: fn(&W::Record) -> Vec<Refusal>,
    /// The signature the action needs for this record, if any.
    pub signature: fn(&W::Record) -> Option<SignatureRule>,
    /// Its form, rendered by one partial on every record page.
    pub form: StepForm,
}

/// Why an action cannot be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    UnknownAction(String),
    Frozen {
        state: &'static str,
    },
    WrongState {
        action: &'static str,
        state: &'static str,
    },
    Role {
        action: &'static str,
        roles: &'static [Role],
        owner: bool,
    },
    Guards(Vec<Refusal>),
}

impl Refused {
    /// Stable ids of why: each failed rule's (`capa.root_cause_required`,
    /// `sod.not_owner`), or the kind of refusal (`workflow.wrong_state`).
    pub fn rule_ids(&self) -> Vec<&'static str> {
        match self {
            Self::UnknownAction(_) => vec!["workflow.unknown_action"],
            Self::Frozen { .. } => vec!["workflow.frozen"],
            Self::WrongState { .. } => vec!["workflow.wrong_state"],
            Self::Role { .. } => vec!["workflow.role"],
            Self::Guards(rules) => rules.iter().map(|r| r.id).collect(),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownAction(a) => write!(f, "There is no action {a:?} in this workflow"),
            Self::Frozen { state } => write!(
                f,
                "The record is {}: a closed record cannot be changed",
                state.to_lowercase()
            ),
            Self::WrongState { action, state } => write!(
                f,
                "{action} is not possible while the record is {}",
                state.to_lowercase()
            ),
            Self::Role {
                action,
                roles,
                owner,
            } => {
                let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
                match (names.is_empty(), owner) {
                    (true, _) => write!(f, "{action} is for the record's owner"),
                    (false, true) => write!(
                        f,
                        "{action} needs the role {} or the record's owner",
                        names.join(" or ")
                    ),
                    (false, false) => write!(f, "{action} needs the role {}", names.join(" or ")),
                }
            }
            Self::Guards(rules) => {
                let words: Vec<String> = rules.iter().map(ToString::to_string).collect();
                f.write_str(&words.join("; "))
            }
        }
    }
}

/// What `decide` allows: the record after the action, and the signature the
/// transition service must verify before saving it.
pub struct Decision<W: Workflow> {
    pub action: &'static ActionDef<W>,
    pub from: W::State,
    pub record: W::Record,
    pub signature: Option<SignatureRule>,
    /// Who may not sign this step (segregation of duties), decided here so
    /// the signer is told before being asked for a password.
    pub barred_signer: Option<i64>,
    /// What the step makes happen for others: the step taken, every step
    /// from the new state that needs a signature, the workflow's own.
    pub events: Vec<DomainEvent>,
}

/// The refusal of `user` as signer when a segregation-of-duties rule bars
/// them (`barred_signer` of a decision).
pub fn sod_refusal(
    signature: Option<SignatureRule>,
    barred_signer: Option<i64>,
    user: i64,
) -> Option<Refused> {
    let rule = signature?.sod?;
    (barred_signer == Some(user)).then(|| {
        Refused::Guards(vec![Refusal::new(
            rule.id(),
            format!("{} (segregation of duties)", capitalised(rule.words())),
            Some("21 CFR 11.10(g)"),
        )])
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The declaration of `state`.
pub fn state_def<W: Workflow>(state: W::State) -> Option<&'static StateDef<W::State>> {
    W::states().iter().find(|s| s.state == state)
}

fn state_label<W: Workflow>(state: W::State) -> &'static str {
    state_def::<W>(state).map_or("in an unknown state", |s| s.label)
}

/// The action named `name`, if the workflow has it.
pub fn action_def<W: Workflow>(name: &str) -> Option<&'static ActionDef<W>> {
    W::actions().iter().find(|a| a.name == name)
}

/// Whether `action` may be taken now by `who`, before any input: the state
/// and role checks, not the guards.
pub fn may_start<'a, W: Workflow>(
    record: &W::Record,
    action: &ActionDef<W>,
    who: impl Into<Who<'a>>,
) -> Result<(), Refused> {
    let who = who.into();
    let state = W::state_of(record);
    if state_def::<W>(state).is_some_and(|s| s.terminal) {
        return Err(Refused::Frozen {
            state: state_label::<W>(state),
        });
    }
    if !action.from.contains(&state) {
        return Err(Refused::WrongState {
            action: action.label,
            state: state_label::<W>(state),
        });
    }
    let is_owner = action.owner && who.user.is_some() && W::owner(record) == who.user;
    if !who.roles.has_any(action.roles) && !is_owner {
        return Err(Refused::Role {
            action: action.label,
            roles: action.roles,
            owner: action.owner,
        });
    }
    Ok(())
}

/// Whether a record page offers `action` to `who` now: they may start it
/// and, when its signature (as the record stands) bars a signer, they are
/// not that person, so no one is offered a step only to be refused at the
/// signing form. Otherwise why not, in the reader's words, saying who the
/// step waits on ("Waiting on a signature (Approved: effective) by someone
/// other than the owner").
pub fn offered<'a, W: Workflow>(
    record: &W::Record,
    action: &ActionDef<W>,
    who: impl Into<Who<'a>>,
) -> Result<(), String> {
    let who = who.into();
    may_start::<W>(record, action, who).map_err(|e| e.to_string())?;
    let rule = (action.signature)(record);
    if let (Some(rule), Some(me)) = (rule, who.user)
        && let Some(sod) = rule.sod
        && W::sod_party(record, sod) == Some(me)
    {
        return Err(format!(
            "Waiting on a signature ({}) by someone other than {}: {} (segregation of duties)",
            rule.meaning,
            sod.barred(),
            sod.words()
        ));
    }
    Ok(())
}

/// Applies the action named `name` with `input` to `record` for `who`.
/// Pure: no clock, no database.
pub fn decide<'a, W: Workflow>(
    record: &W::Record,
    name: &str,
    input: &W::Input,
    who: impl Into<Who<'a>>,
) -> Result<Decision<W>, Refused> {
    let action = action_def::<W>(name).ok_or_else(|| Refused::UnknownAction(name.into()))?;
    may_start::<W>(record, action, who)?;
    let from = W::state_of(record);
    let mut next = record.clone();
    (action.apply)(&mut next, input);
    let failed = (action.guard)(&next);
    if !failed.is_empty() {
        return Err(Refused::Guards(failed));
    }
    let signature = (action.signature)(&next);
    let barred_signer = signature
        .and_then(|r| r.sod)
        .and_then(|rule| W::sod_party(&next, rule));
    let to = action.to.from(from);
    W::set_state(&mut next, to);
    let mut events = vec![DomainEvent::step_taken(
        action.name,
        state_name::<W>(from),
        state_name::<W>(to),
    )];
    events.extend(W::events(record, &next));
    events.extend(signatures_due::<W>(&next));
    Ok(Decision {
        action,
        from,
        record: next,
        signature,
        barred_signer,
        events,
    })
}

fn state_name<W: Workflow>(state: W::State) -> &'static str {
    state_def::<W>(state).map_or("", |s| s.name)
}

/// The steps open from `record`'s state that need a signature as the
/// record stands, each as a `signature_needed` event naming who may not
/// give it.
pub fn signatures_due<W: Workflow>(record: &W::Record) -> Vec<DomainEvent> {
    let state = W::state_of(record);
    W::actions()
        .iter()
        .filter(|a| a.from.contains(&state))
        .filter_map(|a| {
            let rule = (a.signature)(record)?;
            let barred = rule.sod.and_then(|r| W::sod_party(record, r));
            Some(DomainEvent::signature_needed(
                a.name,
                a.label,
                rule.meaning,
                barred,
            ))
        })
        .collect()
}

/// The state diagram as SVG: states left to right in declaration order, the
/// current one marked, every action an arrow labelled with its name (and
/// "signature" when it may need one). Forward steps to the next state are
/// straight; other arrows arc above (forward) or below (backward).
pub fn diagram_svg<W: Workflow>(current: Option<W::State>, title: &str) -> Svg {
    const W_BOX: i32 = 132;
    const H_BOX: i32 = 40;
    const GAP: i32 = 100;
    let states = W::states();
    let n = states.len() as i32;
    let index = |s: W::State| states.iter().position(|d| d.state == s).unwrap_or(0) as i32;
    let x_of = |s: W::State| -> i32 { 8 + index(s) * (W_BOX + GAP) };
    // Room above for forward arcs and below for backward ones, only if any.
    let edges = || {
        W::actions().iter().flat_map(|a| {
            a.from
                .iter()
                .map(move |f| (index(*f), index(a.to.from(*f))))
        })
    };
    let arcs_above = edges().any(|(f, t)| t > f + 1 || t == f);
    let arcs_below = edges().any(|(f, t)| t < f);
    let top: i32 = if arcs_above { 96 } else { 28 };
    let width = n * W_BOX + (n - 1) * GAP + 16;
    let height = top + H_BOX + if arcs_below { 96 } else { 12 };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="diagram-title"><title id="diagram-title">{}</title>"#,
        escape(title)
    );
    svg.push_str(r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>"#);
    let mut above = 0;
    let mut below = 0;
    for a in W::actions() {
        for &from in a.from {
            let (x1, x2) = (x_of(from), x_of(a.to.from(from)));
            let label = escape(a.label);
            if x2 == x1 {
                // A step that leaves the record where it is: a loop above
                // its state, labelled over the loop.
                let (sx, ex) = (x1 + W_BOX / 2 - 22, x1 + W_BOX / 2 + 22);
                let _ = write!(
                    svg,
                    r#"<path class="edge" d="M{sx},{top} C{sx},{c} {ex},{c} {ex},{top}" fill="none" marker-end="url(#arrow)"/><text class="edge-label" x="{}" y="{}" text-anchor="middle">{label}</text>"#,
                    x1 + W_BOX / 2,
                    top - 40,
                    c = top - 34,
                );
            } else if x2 == x1 + W_BOX + GAP {
                let y = top + H_BOX / 2;
                let _ = write!(
                    svg,
                    r#"<line class="edge" x1="{}" y1="{y}" x2="{}" y2="{y}" marker-end="url(#arrow)"/><text class="edge-label" x="{}" y="{}" text-anchor="middle">{label}</text>"#,
                    x1 + W_BOX,
                    x2 - 2,
                    x1 + W_BOX + GAP / 2,
                    y - 8
                );
            } else if x2 > x1 {
                above += 1;
                let lift = 18 + 14 * (above % 4);
                let (sx, ex) = (x1 + W_BOX / 2 + 10, x2 + W_BOX / 2 - 10);
                let _ = write!(
                    svg,
                    r#"<path class="edge" d="M{sx},{top} C{sx},{c} {ex},{c} {ex},{top}" fill="none" marker-end="url(#arrow)"/><text class="edge-label" x="{}" y="{}" text-anchor="middle">{label}</text>"#,
                    (sx + ex) / 2,
                    top - lift - 4,
                    c = top - lift * 4 / 3,
                );
            } else {
                below += 1;
                let drop = 18 + 14 * (below % 4);
                let (sx, ex) = (x1 + W_BOX / 2 - 10, x2 + W_BOX / 2 + 10);
                let base = top + H_BOX;
                let _ = write!(
                    svg,
                    r#"<path class="edge" d="M{sx},{base} C{sx},{c} {ex},{c} {ex},{base}" fill="none" marker-end="url(#arrow)"/><text class="edge-label" x="{}" y="{}" text-anchor="middle">{label}</text>"#,
                    (sx + ex) / 2,
                    base + drop + 12,
                    c = base + drop * 4 / 3,
                );
            }
        }
    }
    for s in states {
        let x = x_of(s.state);
        let mut class = String::from("state");
        if s.terminal {
            class.push_str(" terminal");
        }
        if current == Some(s.state) {
            class.push_str(" current");
        }
        let _ = write!(
            svg,
            r#"<g class="{class}"><rect x="{x}" y="{top}" width="{W_BOX}" height="{H_BOX}" rx="8"/><text x="{}" y="{}" text-anchor="middle">{}</text></g>"#,
            x + W_BOX / 2,
            top + H_BOX / 2 + 5,
            escape(s.label)
        );
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small workflow with a skip forward and a step back, as CAPAs have.
    struct Loop;
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum S {
        A,
        B,
        C,
    }
    fn none(_: &mut S, _: &()) {}
    fn ok(_: &S) -> Vec<Refusal> {
        Vec::new()
    }
    fn unsigned(_: &S) -> Option<SignatureRule> {
        None
    }
    static STATES: [StateDef<S>; 3] = [
        StateDef {
            state: S::A,
            name: "a",
            label: "A",
            terminal: false,
        },
        StateDef {
            state: S::B,
            name: "b",
            label: "B",
            terminal: false,
        },
        StateDef {
            state: S::C,
            name: "c",
            label: "C <end>",
            terminal: true,
        },
    ];
    static ACTIONS: [ActionDef<Loop>; 3] = [
        ActionDef {
            action: 0,
            name: "next",
            label: "Next",
            from: &[S::A],
            to: To::State(S::B),
            roles: &[Role::Engineer],
            owner: false,
            apply: none,
            guard: ok,
            signature: unsigned,
            form: BUTTON_ONLY,
        },
        ActionDef {
            action: 1,
            name: "back",
            label: "Back",
            from: &[S::B],
            to: To::State(S::A),
            roles: &[Role::Engineer],
            owner: false,
            apply: none,
            guard: ok,
            signature: unsigned,
            form: BUTTON_ONLY,
        },
        ActionDef {
            action: 2,
            name: "finish",
            label: "Finish",
            from: &[S::A, S::B],
            to: To::State(S::C),
            roles: &[Role::Quality],
            owner: false,
            apply: none,
            guard: ok,
            signature: unsigned,
            form: BUTTON_ONLY,
        },
    ];
    impl Workflow for Loop {
        type State = S;
        type Action = u8;
        type Record = S;
        type Input = ();
        const KIND: &'static str = "loop";
        fn states() -> &'static [StateDef<S>] {
            &STATES
        }
        fn actions() -> &'static [ActionDef<Self>] {
            &ACTIONS
        }
        fn state_of(r: &S) -> S {
            *r
        }
        fn set_state(r: &mut S, s: S) {
            *r = s;
        }
    }

    #[test]
    fn the_diagram_draws_skips_above_and_steps_back_below_and_escapes_labels() {
        let svg = diagram_svg::<Loop>(Some(S::A), "Loop & co");
        assert_eq!(svg.matches("<line class=\"edge\"").count(), 2, "A→B, B→C");
        assert_eq!(
            svg.matches("<path class=\"edge\"").count(),
            2,
            "A→C above, B→A below"
        );
        assert!(svg.contains("<title id=\"diagram-title\">Loop &amp; co</title>"));
        assert!(svg.contains("C &lt;end&gt;"));
    }

    #[test]
    fn refusals_say_which_rule_failed() {
        let quality = Roles::new([Role::Quality]);
        let r = decide::<Loop>(&S::A, "next", &(), &quality);
        assert_eq!(
            r.err().map(|e| e.to_string()),
            Some("Next needs the role Engineer".into())
        );
        let r = decide::<Loop>(&S::C, "back", &(), &quality);
        assert!(
            r.err()
                .is_some_and(|e| e.to_string().contains("cannot be changed"))
        );
        let r = decide::<Loop>(&S::A, "back", &(), &Roles::new([Role::Engineer]));
        assert_eq!(
            r.err().map(|e| e.to_string()),
            Some("Back is not possible while the record is a".into())
        );
        let d = decide::<Loop>(&S::B, "finish", &(), &quality);
        assert!(d.is_ok_and(|d| d.record == S::C && d.from == S::B));
    }
}
