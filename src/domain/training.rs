//! Training records (ISO 13485 6.2; WORKFLOWS.md "Training"): one person's
//! training on one version of a controlled document, its workflow on the
//! one engine, a person's standing on a document as the matrix shows it,
//! the quiz a version may carry, and the training gate of a signed step.
//! Pure: every rule that compares dates takes the day it is decided on.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::user::{FieldError, Role};
use super::workflow::{
    ActionDef, At, BUTTON_ONLY, Checks, Refusal, SignatureRule, StateDef, StepForm, To, Who,
    Workflow,
};

/// An assignment's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssignmentState {
    /// To be read and signed for.
    Assigned,
    /// Signed *Read and understood* (or carried forward from the version
    /// before, when this one needed no training).
    Acknowledged,
    /// The person's role or place in the curriculum no longer asks for it,
    /// or the document was retired. Kept, never deleted.
    NotRequired,
    /// A newer version of the document was assigned to the person.
    Superseded,
}

impl AssignmentState {
    pub const ALL: [AssignmentState; 4] = [
        Self::Assigned,
        Self::Acknowledged,
        Self::NotRequired,
        Self::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Acknowledged => "acknowledged",
            Self::NotRequired => "not_required",
            Self::Superseded => "superseded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Assigned => "Assigned",
            Self::Acknowledged => "Acknowledged",
            Self::NotRequired => "Not required",
            Self::Superseded => "Superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The question set of a version, as an assignment's guard reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuizFacts {
    pub questions: u32,
    pub pass_mark: u32,
}

/// One person's training on one version of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The row's number (`trn-<id>`, key `TRN-<id>`).
    pub id: i64,
    pub user_id: i64,
    /// The trainee's sign-in name and printed name (read with it).
    pub username: String,
    pub trainee: String,
    pub document_id: i64,
    pub version_id: i64,
    /// N of vN.
    pub version_number: i64,
    /// The version's title (read with it).
    pub title: String,
    /// The SHA-256 the version's own signatures bind: what the trainee
    /// signs to have read.
    pub content_sha256: String,
    pub state: AssignmentState,
    pub due_on: NaiveDate,
    /// Why the person has it, or why it stopped being required, in words.
    pub because: String,
    /// The version the person was last trained on, when older.
    pub trained_before: Option<i64>,
    /// The assignment whose acknowledgement this one carries forward (a
    /// version approved as needing no training).
    pub carried_from: Option<i64>,
    pub opened_at: Option<DateTime<Utc>>,
    pub quiz_passed_at: Option<DateTime<Utc>>,
    /// "4 of 5 right (pass mark 80 %)" of the passing attempt.
    pub quiz_score: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The version's quiz, if it has one (read with it).
    pub quiz: Option<QuizFacts>,
    pub overdue_noted: bool,
    /// The moment a step is decided at (`Workflow::as_of`); never stored.
    pub now: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Assignment {
    pub fn key(&self) -> String {
        format!("TRN-{}", self.id)
    }

    /// The document's key (`DOC-4`).
    pub fn doc_key(&self) -> String {
        format!("DOC-{}", self.document_id)
    }

    /// "DOC-4 v2".
    pub fn version_key(&self) -> String {
        format!("DOC-{} v{}", self.document_id, self.version_number)
    }

    /// The person's standing on the document by this assignment on `today`.
    pub fn cell(&self, today: NaiveDate) -> Option<Cell> {
        cell(self.state, self.due_on, self.trained_before, today)
    }

    /// The fields audit entries show.
    pub fn audit_fields(&self) -> Value {
        json!({
            "user_id": self.user_id,
            "document": self.doc_key(),
            "version": self.version_number,
            "content_sha256": self.content_sha256,
            "state": self.state.as_str(),
            "due_on": self.due_on.to_string(),
            "because": self.because,
            "trained_before": self.trained_before,
            "carried_from": self.carried_from.map(|c| format!("trn-{c}")),
            "opened_at": self.opened_at.map(crate::audit::format_time),
            "quiz_passed_at": self.quiz_passed_at.map(crate::audit::format_time),
            "quiz_score": self.quiz_score,
            "acknowledged_at": self.acknowledged_at.map(crate::audit::format_time),
        })
    }

    /// What a *Read and understood* signature binds (21 CFR 11.70): who,
    /// which version of which document, that version's own content hash,
    /// and the quiz passed. Nothing here changes after the signature.
    pub fn signed_content(&self) -> Value {
        json!({
            "assignment": self.key(),
            "trainee": {"id": format!("u-{}", self.user_id), "username": self.username, "name": self.trainee},
            "document": self.doc_key(),
            "version": self.version_number,
            "title": self.title,
            "version_content_sha256": self.content_sha256,
            "quiz": self.quiz.map(|q| json!({
                "questions": q.questions,
                "pass_mark": q.pass_mark,
                "score": self.quiz_score,
            })),
        })
    }
}

/// A person's standing on a document, as a cell of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cell {
    /// Trained on the version in force.
    Current,
    /// Assigned, not yet trained, not yet due.
    Due,
    /// Assigned and its due date has passed.
    Overdue,
    /// Trained on an older version; the one in force is assigned and not
    /// yet overdue.
    Superseded,
    NotRequired,
}

impl Cell {
    pub const ALL: [Cell; 5] = [
        Self::Current,
        Self::Due,
        Self::Overdue,
        Self::Superseded,
        Self::NotRequired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Due => "due",
            Self::Overdue => "overdue",
            Self::Superseded => "superseded",
            Self::NotRequired => "not_required",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Current => "Current",
            Self::Due => "Due",
            Self::Overdue => "Overdue",
            Self::Superseded => "Superseded",
            Self::NotRequired => "Not required",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The standing an assignment in `state`, due on `due_on`, gives on `today`;
/// none for a superseded one (a newer assignment stands instead).
pub fn cell(
    state: AssignmentState,
    due_on: NaiveDate,
    trained_before: Option<i64>,
    today: NaiveDate,
) -> Option<Cell> {
    match state {
        AssignmentState::Acknowledged => Some(Cell::Current),
        AssignmentState::NotRequired => Some(Cell::NotRequired),
        AssignmentState::Superseded => None,
        AssignmentState::Assigned if due_on < today => Some(Cell::Overdue),
        AssignmentState::Assigned if trained_before.is_some() => Some(Cell::Superseded),
        AssignmentState::Assigned => Some(Cell::Due),
    }
}

/// The steps of an assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainingAction {
    Acknowledge,
    NotRequired,
    RequiredAgain,
    RequiredAgainTrained,
    Supersede,
}

/// What Attest gives a step it takes itself: why, and a new due date.
#[derive(Clone, Debug, Default)]
pub struct TrainingInput {
    pub because: Option<String>,
    pub due_on: Option<NaiveDate>,
}

pub struct TrainingWorkflow;

static STATES: [StateDef<AssignmentState>; 4] = [
    StateDef {
        state: AssignmentState::Assigned,
        name: "assigned",
        label: "Assigned",
        terminal: false,
        main: true,
    },
    StateDef {
        state: AssignmentState::Acknowledged,
        name: "acknowledged",
        label: "Acknowledged",
        terminal: false,
        main: true,
    },
    StateDef {
        state: AssignmentState::NotRequired,
        name: "not_required",
        label: "Not required",
        terminal: false,
        main: false,
    },
    StateDef {
        state: AssignmentState::Superseded,
        name: "superseded",
        label: "Superseded",
        terminal: true,
        main: false,
    },
];

const NOBODY: &[Role] = &[];

/// The meaning a trainee signs.
pub const READ_AND_UNDERSTOOD: &str = "Read and understood";

const ACKNOWLEDGE_FORM: StepForm = StepForm {
    inputs: &[],
    sign_note: "Your electronic signature (Read and understood) binds this version's content SHA-256 and your quiz result; only you can sign your own training.",
    disclosure: None,
    together: None,
};

fn acknowledge(a: &mut Assignment, _: &TrainingInput) {
    a.acknowledged_at = a.now;
}

fn acknowledge_guard(a: &Assignment, out: &mut Checks) {
    out.require(
        a.opened_at.is_some(),
        "The version has been opened and read",
        Refusal::new(
            "training.not_opened",
            "Open and read the version before signing that you have read it",
            Some("ISO 13485 6.2"),
        )
        .at(At::Section("content")),
    );
    if a.quiz.is_some() {
        out.require(
            a.quiz_passed_at.is_some(),
            "The quiz is passed",
            Refusal::new(
                "training.quiz_not_passed",
                "Pass the version's quiz before signing that you have read and understood it",
                Some("ISO 13485 6.2(d)"),
            )
            .at(At::Section("quiz")),
        );
    }
}

fn read_signature(_: &Assignment) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: READ_AND_UNDERSTOOD,
        sod: None,
    })
}

fn no_signature(_: &Assignment) -> Option<SignatureRule> {
    None
}

fn no_guard(_: &Assignment, _: &mut Checks) {}

fn note_because(a: &mut Assignment, i: &TrainingInput) {
    if let Some(b) = &i.because {
        a.because = b.clone();
    }
}

fn assign_again(a: &mut Assignment, i: &TrainingInput) {
    note_because(a, i);
    if let Some(d) = i.due_on {
        a.due_on = d;
    }
}

fn never_trained(a: &Assignment, out: &mut Checks) {
    out.require(
        a.acknowledged_at.is_none(),
        "Not trained on this version",
        Refusal::new(
            "training.already_trained",
            "The person has already signed for this version",
            None,
        ),
    );
}

fn once_trained(a: &Assignment, out: &mut Checks) {
    out.require(
        a.acknowledged_at.is_some(),
        "Trained on this version",
        Refusal::new(
            "training.not_trained",
            "The person has not signed for this version",
            None,
        ),
    );
}

static ACTIONS: [ActionDef<TrainingWorkflow>; 5] = [
    ActionDef {
        action: TrainingAction::Acknowledge,
        name: "acknowledge",
        label: "Confirm read and understood",
        from: &[AssignmentState::Assigned],
        to: To::State(AssignmentState::Acknowledged),
        roles: NOBODY,
        owner: false,
        apply: acknowledge,
        guard: acknowledge_guard,
        signature: read_signature,
        form: ACKNOWLEDGE_FORM,
    },
    ActionDef {
        action: TrainingAction::NotRequired,
        name: "not_required",
        label: "No longer required",
        from: &[AssignmentState::Assigned, AssignmentState::Acknowledged],
        to: To::State(AssignmentState::NotRequired),
        roles: NOBODY,
        owner: false,
        apply: note_because,
        guard: no_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: TrainingAction::RequiredAgain,
        name: "required_again",
        label: "Required again",
        from: &[AssignmentState::NotRequired],
        to: To::State(AssignmentState::Assigned),
        roles: NOBODY,
        owner: false,
        apply: assign_again,
        guard: never_trained,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: TrainingAction::RequiredAgainTrained,
        name: "required_again_trained",
        label: "Required again (already trained)",
        from: &[AssignmentState::NotRequired],
        to: To::State(AssignmentState::Acknowledged),
        roles: NOBODY,
        owner: false,
        apply: note_because,
        guard: once_trained,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: TrainingAction::Supersede,
        name: "supersede",
        label: "Superseded by a newer version",
        from: &[
            AssignmentState::Assigned,
            AssignmentState::Acknowledged,
            AssignmentState::NotRequired,
        ],
        to: To::State(AssignmentState::Superseded),
        roles: NOBODY,
        owner: false,
        apply: note_because,
        guard: no_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
];

impl Workflow for TrainingWorkflow {
    type State = AssignmentState;
    type Action = TrainingAction;
    type Record = Assignment;
    type Input = TrainingInput;
    const KIND: &'static str = "training_assignment";

    fn states() -> &'static [StateDef<AssignmentState>] {
        &STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(a: &Assignment) -> AssignmentState {
        a.state
    }
    fn set_state(a: &mut Assignment, state: AssignmentState) {
        a.state = state;
    }
    /// Only the trainee signs for their own training: nobody else, whatever
    /// their roles.
    fn named_for(a: &Assignment, action: TrainingAction, who: Who<'_>) -> bool {
        action == TrainingAction::Acknowledge && who.user == Some(a.user_id)
    }
    fn named_words(action: TrainingAction) -> Option<&'static str> {
        (action == TrainingAction::Acknowledge).then_some("the trainee it is assigned to")
    }
    fn by_system(action: TrainingAction) -> bool {
        action != TrainingAction::Acknowledge
    }
    fn as_of(a: &mut Assignment, now: DateTime<Utc>) {
        a.now = Some(now);
    }
}

/// Most questions a version's quiz holds.
pub const MAX_QUESTIONS: usize = 10;
/// Fewest and most choices of a question.
pub const MIN_CHOICES: usize = 2;
pub const MAX_CHOICES: usize = 6;
pub const MAX_QUESTION: usize = 500;
pub const MAX_CHOICE: usize = 200;

/// One multiple-choice question of a quiz.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The stored row's number (0 before it is stored).
    pub id: i64,
    /// Its place, 1 to 10.
    pub n: u32,
    pub text: String,
    pub choices: Vec<String>,
    /// The right choice, counted from 0.
    pub correct: usize,
}

/// A version's quiz.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quiz {
    /// Per cent of questions to answer right.
    pub pass_mark: u32,
    pub questions: Vec<Question>,
}

impl Quiz {
    pub fn facts(&self) -> QuizFacts {
        QuizFacts {
            questions: u32::try_from(self.questions.len()).unwrap_or(u32::MAX),
            pass_mark: self.pass_mark,
        }
    }
}

/// One question as typed on the quiz form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuestionInput {
    pub text: String,
    /// One choice a line.
    pub choices: String,
    /// The right choice's number, from 1.
    pub correct: String,
}

/// Reads a quiz form: the rows with a question (blank rows are skipped),
/// each with 2 to 6 choices and the right one named, and a pass mark of 1
/// to 100 per cent. No questions at all is a quiz removed (`Ok(None)`).
pub fn parse_quiz(
    pass_mark: &str,
    rows: &[QuestionInput],
) -> Result<Option<Quiz>, Vec<FieldError>> {
    const FIELDS: [&str; MAX_QUESTIONS] =
        ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10"];
    let mut errors = Vec::new();
    if rows.len() > MAX_QUESTIONS {
        errors.push(FieldError::new(
            "questions",
            format!("A quiz holds at most {MAX_QUESTIONS} questions."),
        ));
        return Err(errors);
    }
    let mut questions = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let field = FIELDS[i];
        let text = row.text.trim();
        let choices: Vec<String> = row
            .choices
            .lines()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if text.is_empty() {
            if !choices.is_empty() || !row.correct.trim().is_empty() {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "Question {}: write the question, or clear its choices.",
                        i + 1
                    ),
                ));
            }
            continue;
        }
        if text.chars().count() > MAX_QUESTION {
            errors.push(FieldError::new(
                field,
                format!("Question {}: at most {MAX_QUESTION} characters.", i + 1),
            ));
        }
        if choices.len() < MIN_CHOICES || choices.len() > MAX_CHOICES {
            errors.push(FieldError::new(
                field,
                format!(
                    "Question {}: give {MIN_CHOICES} to {MAX_CHOICES} choices, one a line ({} given).",
                    i + 1,
                    choices.len()
                ),
            ));
        }
        if choices.iter().any(|c| c.chars().count() > MAX_CHOICE) {
            errors.push(FieldError::new(
                field,
                format!(
                    "Question {}: a choice is at most {MAX_CHOICE} characters.",
                    i + 1
                ),
            ));
        }
        let correct = match row.correct.trim().parse::<usize>() {
            Ok(n) if n >= 1 && n <= choices.len() => n - 1,
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "Question {}: name the right choice by its number, 1 to {}.",
                        i + 1,
                        choices.len().max(1)
                    ),
                ));
                0
            }
        };
        questions.push(Question {
            id: 0,
            n: u32::try_from(questions.len() + 1).unwrap_or(u32::MAX),
            text: text.to_string(),
            choices,
            correct,
        });
    }
    let mark = match pass_mark.trim().parse::<u32>() {
        Ok(m) if (1..=100).contains(&m) => m,
        _ if questions.is_empty() => 100,
        _ => {
            errors.push(FieldError::new(
                "pass_mark",
                "The pass mark is a whole per cent from 1 to 100.",
            ));
            100
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((!questions.is_empty()).then_some(Quiz {
        pass_mark: mark,
        questions,
    }))
}

/// How an attempt went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    pub correct: u32,
    pub questions: u32,
    pub passed: bool,
}

impl Score {
    pub fn words(&self, pass_mark: u32) -> String {
        format!(
            "{} of {} right (pass mark {pass_mark} %)",
            self.correct, self.questions
        )
    }
}

/// Why answers cannot be scored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// An answer names a question that is not one of this quiz's.
    NotThisQuiz(i64),
    /// A question was left unanswered.
    Unanswered(u32),
    /// An answer is not one of its question's choices.
    NoSuchChoice(u32),
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotThisQuiz(id) => write!(
                f,
                "The answers name question {id}, which is not a question of this version's quiz"
            ),
            Self::Unanswered(n) => write!(f, "Answer question {n}"),
            Self::NoSuchChoice(n) => write!(f, "Question {n}'s answer is not one of its choices"),
        }
    }
}

/// Scores `answers` (question id → choice, from 0) against `quiz`: every
/// question answered, no question of another quiz named.
pub fn score(quiz: &Quiz, answers: &BTreeMap<i64, usize>) -> Result<Score, AnswerError> {
    if let Some(id) = answers
        .keys()
        .find(|id| !quiz.questions.iter().any(|q| q.id == **id))
    {
        return Err(AnswerError::NotThisQuiz(*id));
    }
    let mut correct = 0u32;
    for q in &quiz.questions {
        let Some(a) = answers.get(&q.id) else {
            return Err(AnswerError::Unanswered(q.n));
        };
        if *a >= q.choices.len() {
            return Err(AnswerError::NoSuchChoice(q.n));
        }
        if *a == q.correct {
            correct += 1;
        }
    }
    let questions = u32::try_from(quiz.questions.len()).unwrap_or(u32::MAX);
    Ok(Score {
        correct,
        questions,
        passed: u64::from(correct) * 100 >= u64::from(quiz.pass_mark) * u64::from(questions),
    })
}

/// What the training gate of a workflow does when a signer's training on
/// the document governing the step is overdue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GateMode {
    /// The signing form says so; the signature is taken and the warning audited.
    #[default]
    Warn,
    /// The step is refused, and the refusal audited.
    Block,
}

impl GateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "warn" => Some(Self::Warn),
            "block" => Some(Self::Block),
            _ => None,
        }
    }
}

/// The refusal id of a step refused by the training gate.
pub const GATE_RULE: &str = "training.gate_overdue";

/// The days to train in when a document names none.
pub const DEFAULT_DUE_DAYS: u32 = 14;
pub const MAX_DUE_DAYS: u32 = 365;

/// Reads a number of days to train in (1 to 365); blank is none.
pub fn parse_due_days(s: &str, field: &'static str) -> Result<Option<u32>, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_DUE_DAYS).contains(&n) => Ok(Some(n)),
        _ => Err(FieldError::new(
            field,
            format!("Days to train in are a whole number from 1 to {MAX_DUE_DAYS}."),
        )),
    }
}

#[cfg(test)]
mod tests;
