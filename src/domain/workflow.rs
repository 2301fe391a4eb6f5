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
    /// On the main path the record page's stepper shows; a side state
    /// (cancelled) is reached from it and listed, not stepped through.
    pub main: bool,
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
    /// Where the person puts it right.
    pub at: At,
}

/// Where a rule is put right: one of the step's own fields (the message
/// goes beside it), a section of the record page (the checklist links
/// there), or the record as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Record,
    /// A field of the step's form (`justification`).
    Input(&'static str),
    /// A section of the record page (`investigation`).
    Section(&'static str),
}

impl Refusal {
    pub fn new(id: &'static str, rule: impl Into<String>, clause: Option<&'static str>) -> Self {
        Self {
            id,
            rule: rule.into(),
            clause,
            at: At::Record,
        }
    }

    /// The same refusal, put right at `at`.
    pub fn at(mut self, at: At) -> Self {
        self.at = at;
        self
    }
}

/// One rule of a step's guard as the record stands: what it asks for in a
/// checklist's words ("Root cause recorded"), whether it holds, and the
/// refusal it gives when it does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub label: String,
    pub ok: bool,
    pub refusal: Refusal,
}

/// The rules a guard checked, held or not. A guard states every rule, so
/// the same declaration refuses a step and draws its readiness checklist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checks(Vec<Check>);

impl Checks {
    /// A rule that holds when `ok`, labelled `label` in the checklist.
    pub fn require(&mut self, ok: bool, label: impl Into<String>, refusal: Refusal) {
        self.0.push(Check {
            label: label.into(),
            ok,
            refusal,
        });
    }

    /// Every rule checked, in the guard's order.
    pub fn all(&self) -> &[Check] {
        &self.0
    }

    /// The refusals of the rules that do not hold.
    pub fn failed(self) -> Vec<Refusal> {
        self.0
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| c.refusal)
            .collect()
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
    /// Whether `who` may take `action` because the record names them for
    /// it (a document's reviewers, its approver), whatever their roles.
    fn named_for(_record: &Self::Record, _action: Self::Action, _who: Who<'_>) -> bool {
        false
    }
    /// The people the record names for `action` who may still take it
    /// (a document's reviewers who have not signed in this round, its
    /// approver): whom a signature it needs waits on, by name.
    fn named(_record: &Self::Record, _action: Self::Action) -> Vec<i64> {
        Vec::new()
    }
    /// Whom a step the record names people for is for, in a refusal's
    /// words ("the named reviewers who have not signed in this round").
    fn named_words(_action: Self::Action) -> Option<&'static str> {
        None
    }
    /// Whether only Attest itself takes `action` (a document version
    /// superseded when the next one becomes effective): never offered to a
    /// person, refused to anyone who is one.
    fn by_system(_action: Self::Action) -> bool {
        false
    }
    /// Notes on the record who takes `action`, before its input is applied
    /// and its guard runs (a reviewer's signature counted in this round).
    fn taken_by(_record: &mut Self::Record, _action: Self::Action, _user: Option<i64>) {}
    /// Notes on the record the moment a step is decided at, for guards that
    /// compare dates (an effective date reached). Never stored.
    fn as_of(_record: &mut Self::Record, _now: chrono::DateTime<chrono::Utc>) {}
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
    /// What must hold of the record after `apply`: every rule, held or
    /// not (a step is refused by those that fail; the record page lists
    /// them all as the step's readiness checklist).
    pub guard: fn(&W::Record, &mut Checks),
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
        /// Whom the record names for it, when it names someone.
        named: Option<&'static str>,
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
                named,
            } => {
                let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
                if let Some(named) = named {
                    return match names.is_empty() {
                        true => write!(f, "{action} is for {named}"),
                        false => write!(
                            f,
                            "{action} is for {named} or the role {}",
                            names.join(" or ")
                        ),
                    };
                }
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
    if W::by_system(action.action) {
        return match who.user {
            None => Ok(()),
            Some(_) => Err(Refused::Role {
                action: action.label,
                roles: &[],
                owner: false,
                named: Some("Attest itself, never a person"),
            }),
        };
    }
    let is_owner = action.owner && who.user.is_some() && W::owner(record) == who.user;
    let is_named = W::named_for(record, action.action, who);
    if !who.roles.has_any(action.roles) && !is_owner && !is_named {
        return Err(Refused::Role {
            action: action.label,
            roles: action.roles,
            owner: action.owner,
            named: W::named_words(action.action),
        });
    }
    Ok(())
}

/// How a record page shows `action` to someone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    /// They may take it now (its checklist says whether it is ready).
    Take,
    /// It can be taken from the record's state, but by someone else: whom
    /// it waits on, in the reader's words ("Waiting on a quality signature
    /// that is not the owner's (Approved: effective)").
    Waiting(String),
    /// Not from this state, or the record is closed: not shown.
    Hidden,
}

/// Whether a record page offers `action` to `who` now: they may start it
/// and, when its signature (as the record stands) bars a signer, they are
/// not that person, so no one is offered a step only to be refused at the
/// signing form. A step someone else must take says on whom it waits.
pub fn offer<'a, W: Workflow>(
    record: &W::Record,
    action: &ActionDef<W>,
    who: impl Into<Who<'a>>,
) -> Offer {
    let who = who.into();
    if W::by_system(action.action) {
        return Offer::Hidden;
    }
    let rule = (action.signature)(record);
    match may_start::<W>(record, action, who) {
        Ok(()) => {}
        Err(Refused::Role { .. }) => return Offer::Waiting(waiting_words(action, rule)),
        Err(_) => return Offer::Hidden,
    }
    if let (Some(rule), Some(me)) = (rule, who.user)
        && let Some(sod) = rule.sod
        && W::sod_party(record, sod) == Some(me)
    {
        return Offer::Waiting(waiting_words(action, Some(rule)));
    }
    Offer::Take
}

/// Whom a step waits on: its roles (or the owner), and for a signed step
/// the signature with who may not give it.
fn waiting_words<W: Workflow>(action: &ActionDef<W>, rule: Option<SignatureRule>) -> String {
    let mut whom: Vec<String> = W::named_words(action.action)
        .into_iter()
        .map(str::to_string)
        .collect();
    whom.extend(action.roles.iter().map(|r| r.label().to_lowercase()));
    if action.owner {
        whom.push("the owner".into());
    }
    let whom = match whom.len() {
        0 => "someone with another role".to_string(),
        _ => whom.join(" or "),
    };
    match rule {
        Some(SignatureRule {
            meaning,
            sod: Some(sod),
        }) => format!(
            "Waiting on a {whom} signature that is not {}'s ({meaning})",
            sod.barred()
        ),
        Some(SignatureRule { meaning, sod: None }) => {
            format!("Waiting on a {whom} signature ({meaning})")
        }
        None => format!("Waiting on {whom}"),
    }
}

/// The readiness checklist of `action` on `record` as it stands: every
/// rule of its guard that the record must meet, held or not (the rules
/// the step's own form answers are its fields, not checklist lines).
pub fn readiness<W: Workflow>(record: &W::Record, action: &ActionDef<W>) -> Vec<Check> {
    let mut checks = Checks::default();
    (action.guard)(record, &mut checks);
    checks
        .0
        .into_iter()
        .filter(|c| !matches!(c.refusal.at, At::Input(_)))
        .collect()
}

/// [`decide`] at the moment `now` (passed in, never read from a clock):
/// the record notes it first, for guards that compare dates.
pub fn decide_at<'a, W: Workflow>(
    record: &W::Record,
    name: &str,
    input: &W::Input,
    who: impl Into<Who<'a>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Decision<W>, Refused> {
    let mut at = record.clone();
    W::as_of(&mut at, now);
    decide::<W>(&at, name, input, who)
}

/// Applies the action named `name` with `input` to `record` for `who`.
/// Pure: no clock, no database.
pub fn decide<'a, W: Workflow>(
    record: &W::Record,
    name: &str,
    input: &W::Input,
    who: impl Into<Who<'a>>,
) -> Result<Decision<W>, Refused> {
    let who = who.into();
    let action = action_def::<W>(name).ok_or_else(|| Refused::UnknownAction(name.into()))?;
    may_start::<W>(record, action, who)?;
    let from = W::state_of(record);
    let mut next = record.clone();
    W::taken_by(&mut next, action.action, who.user);
    (action.apply)(&mut next, input);
    let mut checks = Checks::default();
    (action.guard)(&next, &mut checks);
    let failed = checks.failed();
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
    // The signatures the new state waits on, told once as the record
    // enters it (a step that leaves it where it was tells no one again).
    if to != from {
        events.extend(signatures_due::<W>(&next));
    }
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
/// give it and, when the record names people for the step, whom it waits
/// on.
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
                &W::named(record, a.action),
            ))
        })
        .collect()
}

/// What an edge label is drawn with, so the picture reads the same in a
/// page (where the stylesheet also styles it) and on its own (the docs): a
/// white halo keeps it clear of the lines it crosses.
const LABEL: &str = r##" fill="#5b6676" font-size="12" paint-order="stroke" stroke="#fff" stroke-width="4" stroke-linejoin="round""##;

/// How wide `text` is drawn at `px` pixels (a generous average letter, so
/// a label is never clipped by the space left for it).
fn text_width(text: &str, px: f32) -> i32 {
    (text.chars().count() as f32 * px * 0.6).ceil() as i32
}

/// A straight step's label in at most two lines, split at the space
/// nearest its middle when it is long, so the gap between two states stays
/// narrow.
fn label_lines(label: &str) -> Vec<&str> {
    if label.chars().count() <= 14 {
        return vec![label];
    }
    let middle = label.len() / 2;
    let split = label
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(middle));
    match split {
        Some(i) => vec![&label[..i], &label[i + 1..]],
        None => vec![label],
    }
}

/// The steps that lead off the main path or back onto it (to a side state
/// such as cancelled), in words: "Cancel → Cancelled, from Open,
/// Investigation, Action or Verification". The diagram lists them under
/// the main path instead of arcing them across it.
pub fn side_paths<W: Workflow>() -> Vec<String> {
    let main = |s: W::State| state_def::<W>(s).is_some_and(|d| d.main);
    W::actions()
        .iter()
        .filter_map(|a| {
            let from: Vec<&str> = a
                .from
                .iter()
                .filter(|f| !main(**f) || !main(a.to.from(**f)))
                .map(|f| state_label::<W>(*f))
                .collect();
            if from.is_empty() {
                return None;
            }
            let to = a
                .from
                .first()
                .map_or("", |f| state_label::<W>(a.to.from(*f)));
            let from = match from.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    format!("{} or {last}", rest.join(", "))
                }
                _ => from.join(""),
            };
            Some(format!("{} → {to}, from {from}", a.label))
        })
        .collect()
}

/// The state diagram as SVG: the main path's states left to right in
/// declaration order (the current one marked), each step between them an
/// arrow labelled with its name. Steps to the next state are straight, with
/// room for their labels; skips forward and steps that stay arc above, steps
/// back arc below, each arc at its own height so no two labels meet; steps
/// to a side state (cancel) are listed under the picture. Every label fits
/// inside the picture.
pub fn diagram_svg<W: Workflow>(current: Option<W::State>, title: &str) -> Svg {
    const H_BOX: i32 = 40;
    const LEVEL: i32 = 24;
    const LINE: i32 = 20;
    let main: Vec<&StateDef<W::State>> = W::states().iter().filter(|s| s.main).collect();
    let index = |s: W::State| main.iter().position(|d| d.state == s);
    let w_box = main
        .iter()
        .map(|s| text_width(s.label, 13.0) + 28)
        .max()
        .unwrap_or(0)
        .max(120);
    // Every step between two main states, as (from, to, label).
    let edges: Vec<(usize, usize, &str)> = W::actions()
        .iter()
        .flat_map(|a| {
            a.from.iter().filter_map(move |f| {
                let (i, j) = (index(*f)?, index(a.to.from(*f))?);
                Some((i, j, a.label))
            })
        })
        .collect();
    // The gap after each state fits the labels of the straight steps across it.
    let gaps: Vec<i32> = (0..main.len())
        .map(|i| {
            edges
                .iter()
                .filter(|(f, t, _)| *f == i && *t == i + 1)
                .flat_map(|(_, _, l)| label_lines(l))
                .map(|line| text_width(line, 12.0) + 24)
                .max()
                .unwrap_or(0)
                .max(72)
        })
        .collect();
    let mut xs = Vec::with_capacity(main.len());
    let mut x = 0;
    for gap in &gaps {
        xs.push(x);
        x += w_box + gap;
    }
    let right = xs.last().map_or(0, |x| x + w_box);
    let arcs_above: Vec<&(usize, usize, &str)> = edges
        .iter()
        .filter(|(f, t, _)| t > &(f + 1) || t == f)
        .collect();
    let arcs_below: Vec<&(usize, usize, &str)> = edges.iter().filter(|(f, t, _)| t < f).collect();
    // Room above the boxes for two-line labels of straight steps too.
    let has_loops = edges.iter().any(|(f, t, _)| f == t);
    let skips = edges.iter().filter(|(f, t, _)| t > &(f + 1)).count() as i32;
    let levels = skips + i32::from(has_loops);
    let top = 30 + LEVEL * levels + if levels == 0 { 8 } else { 16 };
    let base = top + H_BOX;
    let below = base
        + if arcs_below.is_empty() {
            8
        } else {
            16 + LEVEL * arcs_below.len() as i32
        };
    let side = side_paths::<W>();
    let height = below
        + if side.is_empty() {
            8
        } else {
            12 + LINE * side.len() as i32
        };
    let (mut min_x, mut max_x) = (-2, right + 2);
    let mut widen = |centre: i32, w: i32| {
        min_x = min_x.min(centre - w / 2 - 6);
        max_x = max_x.max(centre + w / 2 + 6);
    };
    let mut body = String::new();
    let centre = |i: usize| xs.get(i).copied().unwrap_or(0) + w_box / 2;
    // Straight steps, their labels above the line (in two lines when
    // long); several across one gap are stacked.
    let mut stacked = vec![0; main.len()];
    for (f, t, label) in edges.iter().filter(|(f, t, _)| *t == *f + 1) {
        let (x1, x2) = (xs[*f] + w_box, xs[*t]);
        let y = top + H_BOX / 2;
        let lines = label_lines(label);
        let n = stacked[*f];
        stacked[*f] += lines.len() as i32;
        let cx = (x1 + x2) / 2;
        for line in &lines {
            widen(cx, text_width(line, 12.0));
        }
        let first = y - 8 - (n + lines.len() as i32 - 1) * 14;
        let spans: String = lines
            .iter()
            .enumerate()
            .map(|(k, line)| {
                format!(
                    r##"<tspan x="{cx}" y="{}">{}</tspan>"##,
                    first + k as i32 * 14,
                    escape(line)
                )
            })
            .collect();
        let _ = write!(
            body,
            r##"<line class="edge" x1="{x1}" y1="{y}" x2="{}" y2="{y}" stroke="#5b6676" marker-end="url(#arrow)"/><text class="edge-label" x="{cx}" y="{first}" text-anchor="middle"{LABEL}>{spans}</text>"##,
            x2 - 2,
        );
    }
    // Loops stay low over their own state; each skip forward has its own height.
    let mut level = 0;
    for (f, t, label) in &arcs_above {
        let lift = if f == t {
            24
        } else {
            level += 1;
            24 + LEVEL * (level - 1 + i32::from(has_loops))
        };
        let (sx, ex) = if f == t {
            (centre(*f) - 24, centre(*t) + 24)
        } else {
            (centre(*f) + 12, centre(*t) - 12)
        };
        let (cx, w) = ((sx + ex) / 2, text_width(label, 12.0));
        widen(cx, w);
        let _ = write!(
            body,
            r##"<path class="edge" d="M{sx},{top} C{sx},{c} {ex},{c} {ex},{top}" fill="none" stroke="#5b6676" marker-end="url(#arrow)"/><text class="edge-label" x="{cx}" y="{}" text-anchor="middle"{LABEL}>{}</text>"##,
            top - lift - 4,
            escape(label),
            c = top - lift * 4 / 3,
        );
    }
    for (level, (f, t, label)) in arcs_below.iter().enumerate() {
        let drop = 24 + LEVEL * level as i32;
        let (sx, ex) = (centre(*f) - 12, centre(*t) + 12);
        let (cx, w) = ((sx + ex) / 2, text_width(label, 12.0));
        widen(cx, w);
        let _ = write!(
            body,
            r##"<path class="edge" d="M{sx},{base} C{sx},{c} {ex},{c} {ex},{base}" fill="none" stroke="#5b6676" marker-end="url(#arrow)"/><text class="edge-label" x="{cx}" y="{}" text-anchor="middle"{LABEL}>{}</text>"##,
            base + drop + 14,
            escape(label),
            c = base + drop * 4 / 3,
        );
    }
    for (i, s) in main.iter().enumerate() {
        let mut class = String::from("state");
        if s.terminal {
            class.push_str(" terminal");
        }
        if current == Some(s.state) {
            class.push_str(" current");
        }
        let (fill, ink) = if current == Some(s.state) {
            ("#1f4e79", "#fff")
        } else {
            ("#fff", "#1b2330")
        };
        let _ = write!(
            body,
            r##"<g class="{class}"><rect x="{}" y="{top}" width="{w_box}" height="{H_BOX}" rx="8" fill="{fill}" stroke="{}" stroke-width="{}"/><text x="{}" y="{}" text-anchor="middle" fill="{ink}">{}</text></g>"##,
            xs[i],
            if current == Some(s.state) {
                "#1f4e79"
            } else {
                "#8d98a7"
            },
            if s.terminal { 3 } else { 1 },
            centre(i),
            top + H_BOX / 2 + 5,
            escape(s.label)
        );
    }
    for (n, line) in side.iter().enumerate() {
        let w = text_width(line, 12.0);
        max_x = max_x.max(w + 6);
        let _ = write!(
            body,
            r##"<text class="side-path" x="0" y="{}" fill="#1b2330" font-size="12">{}</text>"##,
            below + 12 + LINE * n as i32,
            escape(line)
        );
    }
    let width = max_x - min_x;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="{min_x} 0 {width} {height}" width="{width}" height="{height}" font-family="system-ui, sans-serif" font-size="13" role="img" aria-labelledby="diagram-title"><title id="diagram-title">{}</title>"##,
        escape(title)
    );
    svg.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead" fill="#5b6676"/></marker></defs>"##);
    svg.push_str(&body);
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
    fn ok(_: &S, _: &mut Checks) {}
    fn unsigned(_: &S) -> Option<SignatureRule> {
        None
    }
    static STATES: [StateDef<S>; 3] = [
        StateDef {
            state: S::A,
            name: "a",
            label: "A",
            terminal: false,
            main: true,
        },
        StateDef {
            state: S::B,
            name: "b",
            label: "B",
            terminal: false,
            main: true,
        },
        StateDef {
            state: S::C,
            name: "c",
            label: "C <end>",
            terminal: true,
            main: true,
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
