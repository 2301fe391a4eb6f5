//! Controlled-document pages: the master list, a new document, a version's
//! record page, the redline and the controlled copy.

use askama::Template;

use crate::web::record::{NextSteps, RecordHead};
use crate::web::rejected::{Rejected, Sent};

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};

/// A row of the master list.
pub struct DocRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub doc_type: &'static str,
    /// "v3, since 2026-12-06", or empty.
    pub effective: String,
    /// "v4 in review", or empty.
    pub open: String,
    pub open_state: &'static str,
    /// "Obsolete" for a retired document.
    pub retired: bool,
    pub owner: String,
    pub product: String,
    pub next_review: String,
    pub review_overdue: bool,
}

#[derive(Template)]
#[template(path = "documents/list.html")]
pub struct DocListPage {
    pub ctx: PageCtx,
    pub rows: Vec<DocRow>,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub types: Vec<Choice>,
    pub states: Vec<Choice>,
    pub owners: Vec<Choice>,
    pub products: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub due: bool,
    pub q: String,
    pub filtered: bool,
    pub can_create: bool,
    pub pages: Vec<PageLink>,
    /// The list's filters as they were given, for the export form.
    pub kept: Vec<(&'static str, String)>,
}

/// The new-document and correction form as typed.
pub struct DocForm {
    pub title: String,
    pub types: Vec<Choice>,
    pub owners: Vec<Choice>,
    pub products: Vec<Choice>,
    pub review_months: String,
    pub reason: String,
    pub problems: Rejected,
}

#[derive(Template)]
#[template(path = "documents/new.html")]
pub struct NewDocPage {
    pub ctx: PageCtx,
    pub form: DocForm,
}

/// The draft form as typed.
pub struct DraftForm {
    pub title: String,
    pub body: String,
    pub change_reason: String,
    pub change_summary: String,
    pub reviewers: Vec<Choice>,
    pub approvers: Vec<Choice>,
    pub effective_on: String,
    pub training_yes: bool,
    pub training_no: bool,
    pub problems: Rejected,
}

/// A version in the document's list of versions.
pub struct VersionRow {
    pub number: i64,
    pub href: String,
    pub state: &'static str,
    pub state_name: &'static str,
    pub effective_from: String,
    pub change_reason: String,
    pub author: String,
    pub approver: String,
    pub current: bool,
}

/// One of a version's files.
pub struct FileRow {
    pub name: String,
    pub sha256: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "documents/show.html")]
pub struct DocPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    pub sent: Sent,
    pub doc_id: i64,
    pub version_id: i64,
    pub number: i64,
    /// "DRAFT - NOT FOR USE", "SUPERSEDED", ...
    pub mark: Option<&'static str>,
    /// Another version worth knowing of: (words, link).
    pub other: Option<(String, String)>,
    /// The rendered, sanitised body (web::markdown).
    pub body_html: String,
    pub body_empty: bool,
    pub files: Vec<FileRow>,
    pub change_reason: String,
    pub change_summary: String,
    pub comment: String,
    pub reason: String,
    pub author: String,
    pub approver: String,
    pub reviewers: Vec<(String, bool)>,
    pub round: i64,
    pub effective_on: String,
    pub effective_from: String,
    pub training: &'static str,
    /// "4 assigned, 3 signed" of this version.
    pub trained: String,
    /// "3 questions, pass mark 80 %", or empty.
    pub quiz: String,
    pub can_set_quiz: bool,
    pub next_review: String,
    pub review_overdue: bool,
    pub review_months: u32,
    pub doc_type: &'static str,
    pub owner: String,
    pub product: String,
    pub product_href: Option<String>,
    pub can_edit: bool,
    pub draft: DraftForm,
    pub can_correct: bool,
    pub doc_version: i64,
    /// The correction form of the document's facts.
    pub form: DocForm,
    pub can_revise: bool,
    pub versions: Vec<VersionRow>,
    /// Where the redline against the effective version is, when there is one.
    pub redline_href: Option<String>,
    pub history: std::sync::Arc<HistoryPanel>,
    pub doc_history_href: String,
    pub signatures: Vec<super::signatures::SignatureView>,
    pub commits: Vec<super::CommitView>,
    pub commits_of: String,
    pub commits_hint: String,
    pub commits_unlink: Option<String>,
    pub attachments: super::attachments::AttachmentsPanel,
    /// CAPAs, nonconformances and requirements linked to the document.
    pub linked: Vec<LinkedView>,
    /// Whether this reader may link and unlink.
    pub can_link: bool,
    /// Open action items of linked CAPAs this version may be named for.
    pub carry_items: Vec<Choice>,
    /// The action items this version is named as carrying out.
    pub carried: Vec<(String, String)>,
}

/// A record linked to the document.
pub struct LinkedView {
    pub link_id: i64,
    pub label: String,
    pub href: Option<String>,
    pub relation: &'static str,
    pub about: String,
}

/// One run of a redline, as a page marks it.
pub struct RunView {
    /// `same`, `del` or `ins`.
    pub mark: &'static str,
    pub text: String,
}

/// One line of the side-by-side redline.
pub struct SideView {
    pub old: Vec<RunView>,
    pub new: Vec<RunView>,
    pub changed: bool,
}

#[derive(Template)]
#[template(path = "documents/redline.html")]
pub struct RedlinePage {
    pub ctx: PageCtx,
    pub key: String,
    pub doc_id: i64,
    pub title: String,
    pub from: i64,
    pub to: i64,
    pub from_state: &'static str,
    pub to_state: &'static str,
    pub numbers: Vec<i64>,
    pub side: bool,
    pub summary: String,
    pub meta: Vec<(&'static str, String, String)>,
    pub inline: Vec<RunView>,
    pub lines: Vec<SideView>,
}

/// A signature on the controlled copy's signatures page.
pub struct PrintedSignature {
    pub name: String,
    pub at: String,
    pub meaning: String,
    pub verified: bool,
    pub why: String,
}

#[derive(Template)]
#[template(path = "documents/print.html")]
pub struct PrintPage {
    pub ctx: PageCtx,
    pub doc_id: i64,
    pub key: String,
    pub number: i64,
    pub title: String,
    pub doc_type: &'static str,
    pub state: &'static str,
    pub effective: String,
    pub owner: String,
    pub mark: Option<&'static str>,
    pub printed_on: String,
    pub printed_by: String,
    pub body_html: String,
    pub files: Vec<FileRow>,
    pub signatures: Vec<PrintedSignature>,
    pub history: Vec<(i64, String, String, String, &'static str)>,
    pub content_sha256: String,
}

/// An export of the master list.
pub struct ExportView {
    pub id: i64,
    pub file_name: String,
    pub format: String,
    pub filters: String,
    pub rows: i64,
    pub sha256: String,
    pub bytes: String,
    pub by: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "documents/exports.html")]
pub struct ExportsPage {
    pub ctx: PageCtx,
    /// What the exports are of ("the master list"), the list's page and
    /// name, and where their files are served (`/documents/exports`).
    pub of: &'static str,
    pub back: (&'static str, &'static str),
    pub base: &'static str,
    pub rows: Vec<ExportView>,
    pub verify: String,
    pub pages: Vec<PageLink>,
}
