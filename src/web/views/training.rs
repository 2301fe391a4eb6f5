//! Training pages: the matrix, "My training", an assignment's record page,
//! a person's training record, curricula, the quiz editor and the settings.

use askama::Template;

use crate::web::record::{NextSteps, RecordHead};
use crate::web::rejected::{Rejected, Sent};

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};
use super::signatures::SignatureView;

/// A cell as the matrix shows it.
pub struct CellView {
    /// `current`, `due`, … (its class), empty for none.
    pub state: &'static str,
    /// "v3", a due date, "v2→v3", "n/r" (the legend says which is which).
    pub label: String,
    pub href: String,
}

pub struct MatrixRowView {
    pub name: String,
    pub username: String,
    pub roles: String,
    pub record_href: String,
    pub cells: Vec<CellView>,
}

pub struct MatrixGroup {
    pub label: String,
    pub rows: Vec<MatrixRowView>,
}

pub struct ColumnView {
    pub key: String,
    pub title: String,
    pub in_force: String,
    pub href: String,
}

/// A count of cells in a state, linking the filter.
pub struct CountView {
    pub state: &'static str,
    pub label: &'static str,
    pub n: usize,
    pub href: String,
}

#[derive(Template)]
#[template(path = "training/matrix.html")]
pub struct MatrixPage {
    pub ctx: PageCtx,
    pub columns: Vec<ColumnView>,
    pub groups: Vec<MatrixGroup>,
    pub counts: Vec<CountView>,
    pub roles: Vec<Choice>,
    pub people: Vec<Choice>,
    pub documents: Vec<Choice>,
    pub states: Vec<Choice>,
    pub filtered: bool,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub pages: Vec<PageLink>,
    pub kept: Vec<(&'static str, String)>,
    pub can_manage: bool,
    pub can_export: bool,
}

/// One assignment in a list (My training, a person's record).
pub struct AssignmentRow {
    pub id: i64,
    pub key: String,
    pub document: String,
    pub document_href: String,
    pub title: String,
    pub version: i64,
    pub state: &'static str,
    pub standing: String,
    pub due_on: String,
    pub overdue: bool,
    pub acknowledged_at: String,
    pub because: String,
    pub quiz_score: String,
    /// The signature's manifestation, when signed.
    pub signature: Option<SignatureView>,
}

#[derive(Template)]
#[template(path = "training/mine.html")]
pub struct MinePage {
    pub ctx: PageCtx,
    pub to_do: Vec<AssignmentRow>,
    pub done: Vec<AssignmentRow>,
    pub record_href: String,
}

#[derive(Template)]
#[template(path = "training/person.html")]
pub struct PersonPage {
    pub ctx: PageCtx,
    pub name: String,
    pub username: String,
    pub roles: String,
    pub rows: Vec<AssignmentRow>,
    pub print: bool,
    pub printed_at: String,
    pub print_href: String,
}

/// A question as the trainee answers it.
pub struct QuestionView {
    pub id: i64,
    pub n: u32,
    pub text: String,
    /// (choice number from 0, words, chosen in the form as sent).
    pub choices: Vec<(usize, String, bool)>,
}

pub struct AttemptView {
    pub at: String,
    pub score: String,
    pub passed: bool,
}

#[derive(Template)]
#[template(path = "training/show.html")]
pub struct AssignmentPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    pub sent: Sent,
    pub id: i64,
    pub version_href: String,
    pub version_key: String,
    pub content_sha256: String,
    pub body_html: String,
    pub body_empty: bool,
    pub files: Vec<(String, String, String)>,
    pub because: String,
    pub is_trainee: bool,
    pub questions: Vec<QuestionView>,
    pub pass_mark: u32,
    pub quiz_passed: String,
    pub quiz_open: bool,
    pub quiz: Rejected,
    pub attempts: Vec<AttemptView>,
    pub signatures: Vec<SignatureView>,
    pub history: std::sync::Arc<HistoryPanel>,
}

/// A document's curriculum in the list.
pub struct CurriculumRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub roles: String,
    pub people: String,
    pub due_days: String,
}

#[derive(Template)]
#[template(path = "training/curricula.html")]
pub struct CurriculaPage {
    pub ctx: PageCtx,
    pub rows: Vec<CurriculumRow>,
    pub documents: Vec<Choice>,
    pub can_edit: bool,
}

#[derive(Template)]
#[template(path = "training/curriculum.html")]
pub struct CurriculumPage {
    pub ctx: PageCtx,
    pub doc_id: i64,
    pub key: String,
    pub title: String,
    pub in_force: String,
    pub roles: Vec<Choice>,
    pub people: Vec<Choice>,
    pub due_days: String,
    pub default_days: u32,
    pub problems: Rejected,
}

/// One step a document may govern, on the settings page.
pub struct GovernedStep {
    pub field: String,
    pub label: &'static str,
    pub documents: Vec<Choice>,
}

pub struct GateView {
    pub kind: &'static str,
    pub name: &'static str,
    pub field: String,
    pub block: bool,
    pub steps: Vec<GovernedStep>,
}

#[derive(Template)]
#[template(path = "training/settings.html")]
pub struct SettingsPage {
    pub ctx: PageCtx,
    pub due_days: String,
    pub gates: Vec<GateView>,
    pub problems: Rejected,
}

/// A question row of the quiz editor, as typed.
pub struct QuestionEdit {
    pub n: usize,
    pub text: String,
    pub choices: String,
    pub correct: String,
}

#[derive(Template)]
#[template(path = "training/quiz_edit.html")]
pub struct QuizEditPage {
    pub ctx: PageCtx,
    pub version_id: i64,
    pub key: String,
    pub title: String,
    pub back: String,
    pub pass_mark: String,
    pub rows: Vec<QuestionEdit>,
    pub fixed: bool,
    pub problems: Rejected,
}
