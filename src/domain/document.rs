//! Controlled documents, key DOC-n, each with versions v1, v2, ...
//! (ISO 13485 4.2.4, 4.2.5; 21 CFR 11.10, 11.70; WORKFLOWS.md "Document").
//!
//! The workflow record is a version: its body and files, the people named
//! to review and approve it, and where it stands. A version is drafted,
//! reviewed in parallel (each reviewer signs *Reviewed*), approved by a
//! quality approver who is not its author (*Approved*), made effective on
//! its date (the version effective before it superseded in the same
//! transaction), and in the end retired (*Approved: retirement*). From
//! approval on its content never changes; the next version starts from it.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::user::{FieldError, Role};
use super::workflow::{
    ActionDef, At, BUTTON_ONLY, Checks, InputDef, InputKind, Refusal, SignatureRule, SodRule,
    StateDef, StepForm, To, Who, Workflow,
};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest body, in bytes of Markdown (stated on the form).
pub const MAX_BODY: usize = 200_000;
/// Longest change reason, summary, comment or reason, in characters.
pub const MAX_TEXT: usize = 10_000;
/// Most reviewers of one version.
pub const MAX_REVIEWERS: usize = 20;
/// Longest periodic-review interval, in months.
pub const MAX_REVIEW_MONTHS: u32 = 120;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocType {
    Sop,
    WorkInstruction,
    Form,
    Plan,
    Specification,
    Report,
    Record,
    Policy,
    Manual,
}

named!(DocType {
    Sop => ("sop", "SOP"),
    WorkInstruction => ("work_instruction", "Work instruction"),
    Form => ("form", "Form"),
    Plan => ("plan", "Plan"),
    Specification => ("specification", "Specification"),
    Report => ("report", "Report"),
    Record => ("record", "Record"),
    Policy => ("policy", "Policy"),
    Manual => ("manual", "Manual"),
});

impl DocType {
    /// The periodic-review interval a new document of this type starts
    /// with, in months; 0 for reports and records, which report what
    /// happened and are not reviewed for currency.
    pub const fn default_review_months(self) -> u32 {
        match self {
            Self::Sop | Self::WorkInstruction | Self::Policy | Self::Manual => 24,
            Self::Form | Self::Specification => 36,
            Self::Plan => 12,
            Self::Report | Self::Record => 0,
        }
    }

    /// Whether people are trained on a new version of this type unless the
    /// author says otherwise (procedures and instructions are; the rest not).
    pub const fn default_training(self) -> bool {
        matches!(self, Self::Sop | Self::WorkInstruction | Self::Policy)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionState {
    Draft,
    InReview,
    Approved,
    Effective,
    Superseded,
    Obsolete,
    Withdrawn,
}

named!(VersionState {
    Draft => ("draft", "Draft"),
    InReview => ("in_review", "In review"),
    Approved => ("approved", "Approved"),
    Effective => ("effective", "Effective"),
    Superseded => ("superseded", "Superseded"),
    Obsolete => ("obsolete", "Obsolete"),
    Withdrawn => ("withdrawn", "Withdrawn"),
});

impl VersionState {
    /// Still being written, reviewed or waiting for its date: a document has
    /// at most one such version.
    pub const fn open(self) -> bool {
        matches!(self, Self::Draft | Self::InReview | Self::Approved)
    }
    /// From approval on the content is fixed (WORKFLOWS.md).
    pub const fn content_fixed(self) -> bool {
        !matches!(self, Self::Draft)
    }
    /// The mark a page and a printed copy carry for a version that is not
    /// (or not yet, or no longer) the one in force.
    pub const fn mark(self) -> Option<&'static str> {
        match self {
            Self::Draft | Self::InReview | Self::Approved => Some("DRAFT - NOT FOR USE"),
            Self::Effective => None,
            Self::Superseded => Some("SUPERSEDED"),
            Self::Obsolete => Some("OBSOLETE"),
            Self::Withdrawn => Some("WITHDRAWN - NEVER IN FORCE"),
        }
    }
}

/// A controlled document: what stays the same from version to version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// n of DOC-n.
    pub id: i64,
    /// The title of its newest version (lists show it).
    pub title: String,
    pub doc_type: DocType,
    pub owner_id: i64,
    pub product_id: Option<i64>,
    /// Months between periodic reviews; 0 when it is not reviewed.
    pub review_months: u32,
    /// When its effective version is next due for periodic review.
    pub next_review_on: Option<NaiveDate>,
    pub created_by: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl Document {
    pub fn key(&self) -> String {
        format!("DOC-{}", self.id)
    }

    /// The fields as audit entries record them.
    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "type": self.doc_type.as_str(),
            "owner_id": self.owner_id,
            "product_id": self.product_id,
            "review_months": self.review_months,
            "next_review_on": self.next_review_on.map(|d| d.to_string()),
        })
    }

    /// Whether the periodic review is due on `today` (or overdue).
    pub fn review_due(&self, today: NaiveDate) -> bool {
        self.next_review_on.is_some_and(|d| d <= today)
    }
}

/// The day `months` after `from` (the last day of a shorter month); `None`
/// when the document is not reviewed periodically.
pub fn next_review(from: NaiveDate, months: u32) -> Option<NaiveDate> {
    if months == 0 {
        return None;
    }
    from.checked_add_months(chrono::Months::new(months))
}

/// Longest word kept for text search, in characters.
pub const MAX_WORD: usize = 40;

/// The words of `text` as text search keeps them: lower case, letters and
/// digits, 2 to 40 characters, each once.
pub fn words(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| (2..=MAX_WORD).contains(&w.chars().count()))
        .map(str::to_lowercase)
        .collect()
}

/// A file of a version: part of what its signatures bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionFile {
    pub name: String,
    pub sha256: String,
    pub size: i64,
}

/// One version of a document: the workflow's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocVersion {
    /// The row's number (its audited id is `docv-<id>`).
    pub id: i64,
    pub document_id: i64,
    /// N of vN.
    pub number: i64,
    /// The document's facts the workflow reads (not saved with the version).
    pub doc_type: DocType,
    pub doc_owner: i64,
    pub review_months: u32,
    pub product_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub change_reason: String,
    pub change_summary: String,
    pub author_id: i64,
    pub reviewers: Vec<i64>,
    /// Reviewers who signed *Reviewed* in this round.
    pub reviewed: Vec<i64>,
    /// Review rounds started (each submission for review starts one).
    pub round: i64,
    pub approver_id: Option<i64>,
    /// `None`: effective on approval.
    pub effective_on: Option<NaiveDate>,
    pub training_required: bool,
    /// The last request for changes.
    pub comment: String,
    /// Why it was withdrawn or retired.
    pub reason: String,
    /// The day it took effect (its planned date, or the day of approval
    /// when none was planned). Not signed: the signatures bind the plan.
    pub effective_from: Option<NaiveDate>,
    /// The last periodic review that found it still valid.
    pub reviewed_on: Option<NaiveDate>,
    /// The files attached to it (read with it; never written with it).
    pub files: Vec<VersionFile>,
    pub state: VersionState,
    /// The day a step is decided on (`Workflow::as_of`); never stored.
    pub today: Option<NaiveDate>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

impl DocVersion {
    /// `DOC-4 v3`.
    pub fn key(&self) -> String {
        format!("DOC-{} v{}", self.document_id, self.number)
    }

    /// A first or next draft by `author`, from `from`'s content when revising.
    pub fn draft(
        doc: &Document,
        number: i64,
        author: i64,
        from: Option<&DocVersion>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            id: 0,
            document_id: doc.id,
            number,
            doc_type: doc.doc_type,
            doc_owner: doc.owner_id,
            review_months: doc.review_months,
            product_id: doc.product_id,
            title: from.map_or_else(|| doc.title.clone(), |v| v.title.clone()),
            body: from.map(|v| v.body.clone()).unwrap_or_default(),
            change_reason: String::new(),
            change_summary: String::new(),
            author_id: author,
            reviewers: from.map(|v| v.reviewers.clone()).unwrap_or_default(),
            reviewed: Vec::new(),
            round: 0,
            approver_id: from.and_then(|v| v.approver_id),
            effective_on: None,
            training_required: from
                .map_or(doc.doc_type.default_training(), |v| v.training_required),
            comment: String::new(),
            reason: String::new(),
            effective_from: None,
            reviewed_on: None,
            files: Vec::new(),
            state: VersionState::Draft,
            today: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// What every signature on the version binds (11.70): its content and
    /// the metadata signed: who wrote, reviews and approves it, when it is
    /// to take effect and whether people are trained on it. Not its state,
    /// the round's progress or the periodic reviews, which move on after.
    pub fn signed_content(&self) -> serde_json::Value {
        let mut files: Vec<_> = self
            .files
            .iter()
            .map(|f| serde_json::json!({"name": f.name, "sha256": f.sha256, "size": f.size}))
            .collect();
        files.sort_by_key(|f| f.to_string());
        serde_json::json!({
            "key": format!("DOC-{}", self.document_id),
            "version": self.number,
            "type": self.doc_type.as_str(),
            "title": self.title,
            "body": self.body,
            "files": files,
            "change_reason": self.change_reason,
            "change_summary": self.change_summary,
            "author": format!("u-{}", self.author_id),
            "reviewers": self.reviewers.iter().map(|r| format!("u-{r}")).collect::<Vec<_>>(),
            "approver": self.approver_id.map(|a| format!("u-{a}")),
            "effective_on": self.effective_on.map(|d| d.to_string()),
            "training_required": self.training_required,
        })
    }

    /// The fields as audit entries record them.
    pub fn audit_fields(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.title,
            "body": self.body,
            "change_reason": self.change_reason,
            "change_summary": self.change_summary,
            "reviewers": self.reviewers,
            "reviewed": self.reviewed,
            "round": self.round,
            "approver_id": self.approver_id,
            "effective_on": self.effective_on.map(|d| d.to_string()),
            "training_required": self.training_required,
            "comment": self.comment,
            "reason": self.reason,
            "effective_from": self.effective_from.map(|d| d.to_string()),
            "reviewed_on": self.reviewed_on.map(|d| d.to_string()),
            "state": self.state.as_str(),
        })
    }

    /// Reviewers who have not signed in this round.
    pub fn awaiting_review(&self) -> Vec<i64> {
        self.reviewers
            .iter()
            .copied()
            .filter(|r| !self.reviewed.contains(r))
            .collect()
    }

    fn has_content(&self) -> bool {
        !self.body.trim().is_empty() || !self.files.is_empty()
    }
}

/// What an author types into a draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftFields {
    pub title: String,
    pub body: String,
    pub change_reason: String,
    pub change_summary: String,
    pub reviewers: Vec<i64>,
    pub approver_id: Option<i64>,
    pub effective_on: Option<NaiveDate>,
    pub training_required: bool,
}

/// A list of user numbers from a form (`u-3`, `3`; one per choice).
fn people(values: &[String]) -> Result<Vec<i64>, ()> {
    let mut out = Vec::new();
    for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let n: i64 = v.trim_start_matches("u-").parse().map_err(|_| ())?;
        if n <= 0 {
            return Err(());
        }
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// A date like 2026-12-06, or blank (`Ok(None)`); `Err` holds what was typed.
pub fn parse_date(s: &str) -> Result<Option<NaiveDate>, String> {
    match s.trim() {
        "" => Ok(None),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| d.to_string()),
    }
}

impl DraftFields {
    /// Checks what was typed into a draft of version `number` on `today`;
    /// every problem is reported, each at its field.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        number: i64,
        author: i64,
        (title, body): (&str, &str),
        (change_reason, change_summary): (&str, &str),
        (reviewers, approver): (&[String], &str),
        (effective_on, training): (&str, &str),
        today: NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = title.trim();
        if title.is_empty() {
            errors.push(FieldError::new("title", "Enter the document's title."));
        } else if title.chars().count() > MAX_TITLE {
            errors.push(FieldError::new(
                "title",
                format!("The title can have at most {MAX_TITLE} characters."),
            ));
        }
        if body.len() > MAX_BODY {
            errors.push(FieldError::new(
                "body",
                format!(
                    "The body can have at most {} KB of text ({} KB were sent); attach longer content as a file.",
                    MAX_BODY / 1000,
                    body.len().div_ceil(1000)
                ),
            ));
        }
        let change_reason = change_reason.trim();
        if number >= 2 && change_reason.is_empty() {
            errors.push(FieldError::new(
                "change_reason",
                format!("Say why v{number} changes the document: a revision needs a change reason (ISO 13485 4.2.4 e)."),
            ));
        }
        for (field, text, what) in [
            ("change_reason", change_reason, "The change reason"),
            ("change_summary", change_summary.trim(), "The summary"),
        ] {
            if text.chars().count() > MAX_TEXT {
                errors.push(FieldError::new(
                    field,
                    format!("{what} can have at most {MAX_TEXT} characters."),
                ));
            }
        }
        let reviewers = people(reviewers).unwrap_or_else(|()| {
            errors.push(FieldError::new(
                "reviewers",
                "Choose reviewers from the list.",
            ));
            Vec::new()
        });
        if reviewers.len() > MAX_REVIEWERS {
            errors.push(FieldError::new(
                "reviewers",
                format!("A version can have at most {MAX_REVIEWERS} reviewers."),
            ));
        }
        let approver_id = match people(&[approver.to_string()]) {
            Ok(a) => a.first().copied(),
            Err(()) => {
                errors.push(FieldError::new(
                    "approver",
                    "Choose the approver from the list.",
                ));
                None
            }
        };
        if reviewers.contains(&author) {
            errors.push(FieldError::new(
                "reviewers",
                "The author cannot review their own version: choose other reviewers.",
            ));
        }
        if let Some(a) = approver_id {
            if a == author {
                errors.push(FieldError::new(
                    "approver",
                    "The approver cannot be the author: someone else approves what the author wrote (21 CFR 11.10(g)).",
                ));
            }
            if reviewers.contains(&a) {
                errors.push(FieldError::new(
                    "reviewers",
                    "The approver cannot also be a reviewer: take them off the reviewers or choose another approver.",
                ));
            }
        }
        let effective_on = match parse_date(effective_on) {
            Ok(Some(d)) if d < today => {
                errors.push(FieldError::new(
                    "effective_on",
                    format!("The effective date cannot be in the past (today is {today}, UTC); leave it blank to make the version effective when it is approved."),
                ));
                None
            }
            Ok(d) => d,
            Err(_) => {
                errors.push(FieldError::new(
                    "effective_on",
                    "The effective date must be a date like 2026-12-31, or blank.",
                ));
                None
            }
        };
        let training_required = match training.trim() {
            "yes" => true,
            "no" => false,
            _ => {
                errors.push(FieldError::new(
                    "training_required",
                    "Say whether people must be trained on this version.",
                ));
                false
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            title: title.to_string(),
            body: body.to_string(),
            change_reason: change_reason.to_string(),
            change_summary: change_summary.trim().to_string(),
            reviewers,
            approver_id,
            effective_on,
            training_required,
        })
    }

    /// Writes the fields onto a draft.
    pub fn apply(self, v: &mut DocVersion) {
        v.title = self.title;
        v.body = self.body;
        v.change_reason = self.change_reason;
        v.change_summary = self.change_summary;
        v.reviewers = self.reviewers;
        v.approver_id = self.approver_id;
        v.effective_on = self.effective_on;
        v.training_required = self.training_required;
    }
}

/// The facts of a document a person types in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocFields {
    pub title: String,
    pub doc_type: DocType,
    pub owner_id: i64,
    pub product_id: Option<i64>,
    pub review_months: u32,
}

impl DocFields {
    /// Checks a new document's (or a correction's) fields; a blank interval
    /// takes the type's default.
    pub fn parse(
        title: &str,
        doc_type: &str,
        owner: &str,
        product: &str,
        review_months: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = title.trim();
        if title.is_empty() {
            errors.push(FieldError::new("title", "Enter the document's title."));
        } else if title.chars().count() > MAX_TITLE {
            errors.push(FieldError::new(
                "title",
                format!("The title can have at most {MAX_TITLE} characters."),
            ));
        }
        let doc_type = DocType::parse(doc_type.trim());
        if doc_type.is_none() {
            errors.push(FieldError::new(
                "doc_type",
                "Choose the type of document: SOP, work instruction, form, plan, specification, report, record, policy or manual.",
            ));
        }
        let owner_id = match people(&[owner.to_string()])
            .ok()
            .and_then(|o| o.first().copied())
        {
            Some(o) => o,
            None => {
                errors.push(FieldError::new("owner", "Choose the document's owner."));
                0
            }
        };
        let product_id = match product.trim() {
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
        let review_months = match (review_months.trim(), doc_type) {
            ("", Some(t)) => t.default_review_months(),
            ("", None) => 0,
            (m, _) => match m.parse::<u32>() {
                Ok(n) if n <= MAX_REVIEW_MONTHS => n,
                _ => {
                    errors.push(FieldError::new(
                        "review_months",
                        format!("The review interval is a number of months from 0 (never) to {MAX_REVIEW_MONTHS}."),
                    ));
                    0
                }
            },
        };
        match doc_type {
            Some(doc_type) if errors.is_empty() => Ok(Self {
                title: title.to_string(),
                doc_type,
                owner_id,
                product_id,
                review_months,
            }),
            _ => Err(errors),
        }
    }
}

/// What a person submits with a step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocInput {
    /// What to change (a request for changes).
    pub comment: Option<String>,
    /// Why (withdrawal, retirement).
    pub reason: Option<String>,
}

pub struct DocWorkflow;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocAction {
    SubmitReview,
    Review,
    RequestChanges,
    Approve,
    MakeEffective,
    Supersede,
    PeriodicReview,
    Retire,
    Withdraw,
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn no_input(_: &mut DocVersion, _: &DocInput) {}
fn no_guard(_: &DocVersion, _: &mut Checks) {}
fn no_signature(_: &DocVersion) -> Option<SignatureRule> {
    None
}

const CONTENT: At = At::Section("content");
const PEOPLE: At = At::Section("people");

fn submit_guard(v: &DocVersion, out: &mut Checks) {
    out.require(
        v.has_content(),
        "Content written or attached",
        Refusal::new(
            "document.content_required",
            "Write the body or attach the document's file before review",
            Some("ISO 13485 4.2.4"),
        )
        .at(CONTENT),
    );
    if v.number >= 2 {
        out.require(
            !blank(&v.change_reason),
            "Change reason given",
            Refusal::new(
                "document.change_reason_required",
                format!("Say why v{} changes the document before review", v.number),
                Some("ISO 13485 4.2.4 e"),
            )
            .at(CONTENT),
        );
    }
    out.require(
        !v.reviewers.is_empty(),
        "At least one reviewer named",
        Refusal::new(
            "document.reviewer_required",
            "Name at least one reviewer",
            Some("ISO 13485 4.2.4 a"),
        )
        .at(PEOPLE),
    );
    out.require(
        !v.reviewers.contains(&v.author_id),
        "The author is not among the reviewers",
        Refusal::new(
            "document.author_is_reviewer",
            "The author cannot review their own version",
            Some("ISO 13485 4.2.4 a"),
        )
        .at(PEOPLE),
    );
    out.require(
        v.approver_id.is_some(),
        "Approver named",
        Refusal::new(
            "document.approver_required",
            "Name the approver (someone with the quality role)",
            Some("ISO 13485 4.2.4 a"),
        )
        .at(PEOPLE),
    );
    out.require(
        v.approver_id != Some(v.author_id),
        "Approver is not the author",
        Refusal::new(
            "document.approver_is_author",
            "The approver cannot be the author",
            Some("21 CFR 11.10(g)"),
        )
        .at(PEOPLE),
    );
    out.require(
        v.approver_id.is_none_or(|a| !v.reviewers.contains(&a)),
        "Approver is not also a reviewer",
        Refusal::new(
            "document.approver_is_reviewer",
            "The approver cannot also be a reviewer",
            Some("ISO 13485 4.2.4 a"),
        )
        .at(PEOPLE),
    );
    date_not_passed(v, out);
}

/// A planned effective date must not have passed when a step is decided.
fn date_not_passed(v: &DocVersion, out: &mut Checks) {
    let passed = matches!((v.effective_on, v.today), (Some(d), Some(t)) if d < t);
    out.require(
        !passed,
        "Effective date not passed",
        Refusal::new(
            "document.effective_date_passed",
            format!(
                "The planned effective date {} has passed: return the version to draft and set a new date",
                v.effective_on.map(|d| d.to_string()).unwrap_or_default()
            ),
            Some("ISO 13485 4.2.4"),
        )
        .at(CONTENT),
    );
}

/// Each submission starts a new round: signatures of earlier rounds are
/// kept in history but count for nothing now.
fn start_round(v: &mut DocVersion, _: &DocInput) {
    v.round += 1;
    v.reviewed.clear();
    v.comment.clear();
}

fn apply_request_changes(v: &mut DocVersion, input: &DocInput) {
    v.comment = input.comment.clone().unwrap_or_default();
    v.reviewed.clear();
}

fn text_rule(
    out: &mut Checks,
    text: &str,
    (label, field): (&str, &'static str),
    required: Refusal,
) {
    let refusal = if blank(text) {
        required
    } else {
        Refusal::new(
            "document.text_too_long",
            format!("At most {MAX_TEXT} characters"),
            None,
        )
    };
    out.require(
        !blank(text) && text.chars().count() <= MAX_TEXT,
        label,
        refusal.at(At::Input(field)),
    );
}

fn comment_guard(v: &DocVersion, out: &mut Checks) {
    text_rule(
        out,
        &v.comment,
        ("What should change", "comment"),
        Refusal::new(
            "document.comment_required",
            "Say what should change: the author reads it on the returned draft",
            Some("ISO 13485 4.2.4 a"),
        ),
    );
}

fn review_signature(_: &DocVersion) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Reviewed",
        sod: None,
    })
}

fn approve_guard(v: &DocVersion, out: &mut Checks) {
    let waiting = v.awaiting_review().len();
    out.require(
        waiting == 0,
        "Every reviewer signed Reviewed in this round",
        Refusal::new(
            "document.reviews_missing",
            format!(
                "{waiting} of {} reviewers {} not signed Reviewed in this round",
                v.reviewers.len(),
                if waiting == 1 { "has" } else { "have" }
            ),
            Some("ISO 13485 4.2.4 a"),
        )
        .at(PEOPLE),
    );
    date_not_passed(v, out);
}

fn approve_signature(_: &DocVersion) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Approved",
        sod: Some(SodRule::NotAuthor),
    })
}

fn effective_guard(v: &DocVersion, out: &mut Checks) {
    let reached = match (v.effective_on, v.today) {
        (None, _) => true,
        (Some(d), Some(t)) => d <= t,
        (Some(_), None) => false,
    };
    out.require(
        reached,
        format!(
            "Effective date reached{}",
            v.effective_on
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ),
        Refusal::new(
            "document.effective_date_not_reached",
            format!(
                "The version takes effect on {}, not before",
                v.effective_on.map(|d| d.to_string()).unwrap_or_default()
            ),
            Some("ISO 13485 4.2.4"),
        ),
    );
}

fn apply_effective(v: &mut DocVersion, _: &DocInput) {
    // The day it took effect, as the step is decided (`as_of`).
    v.effective_from = v.today;
}

fn periodic_guard(v: &DocVersion, out: &mut Checks) {
    out.require(
        v.review_months > 0,
        "The document is reviewed periodically",
        Refusal::new(
            "document.not_reviewed_periodically",
            "This document has no periodic-review interval: set one on the document first",
            Some("ISO 13485 4.2.4"),
        ),
    );
}

fn apply_periodic(v: &mut DocVersion, _: &DocInput) {
    v.reviewed_on = v.today;
}

fn periodic_signature(_: &DocVersion) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Reviewed: still valid",
        sod: None,
    })
}

fn apply_reason(v: &mut DocVersion, input: &DocInput) {
    v.reason = input.reason.clone().unwrap_or_default();
}

fn reason_guard(v: &DocVersion, out: &mut Checks) {
    text_rule(
        out,
        &v.reason,
        ("Reason given", "reason"),
        Refusal::new(
            "document.reason_required",
            "Give the reason",
            Some("ISO 13485 4.2.4"),
        ),
    );
}

fn retire_signature(_: &DocVersion) -> Option<SignatureRule> {
    Some(SignatureRule {
        meaning: "Approved: retirement",
        sod: None,
    })
}

const QUALITY: &[Role] = &[Role::Quality];
const NOBODY: &[Role] = &[];

macro_rules! state {
    ($s:ident, $terminal:expr, $main:expr) => {
        StateDef {
            state: VersionState::$s,
            name: VersionState::$s.as_str(),
            label: VersionState::$s.label(),
            terminal: $terminal,
            main: $main,
        }
    };
}

static STATES: [StateDef<VersionState>; 7] = [
    state!(Draft, false, true),
    state!(InReview, false, true),
    state!(Approved, false, true),
    state!(Effective, false, true),
    state!(Obsolete, true, true),
    state!(Superseded, true, false),
    state!(Withdrawn, true, false),
];

const COMMENT_FORM: StepForm = StepForm {
    inputs: &[InputDef {
        name: "comment",
        label: "What should change",
        kind: InputKind::Text {
            max: MAX_TEXT,
            rows: 3,
        },
        hint: "required; the draft returns to its author",
    }],
    sign_note: "",
    disclosure: Some("Request changes…"),
    together: None,
};

const REVIEW_FORM: StepForm = StepForm {
    inputs: &[],
    sign_note: "Each named reviewer signs Reviewed with their password; the approver can approve once every reviewer has.",
    disclosure: None,
    together: None,
};

const APPROVE_FORM: StepForm = StepForm {
    inputs: &[],
    sign_note: "Needs the approver's electronic signature (Approved); the author may not approve. It binds the content, the effective date and the training decision shown.",
    disclosure: None,
    together: None,
};

const PERIODIC_FORM: StepForm = StepForm {
    inputs: &[],
    sign_note: "Signed Reviewed: still valid; the next review date moves on by the document's interval.",
    disclosure: None,
    together: None,
};

const RETIRE_FORM: StepForm = StepForm {
    inputs: &[InputDef {
        name: "reason",
        label: "Why retire the document",
        kind: InputKind::Text {
            max: MAX_TEXT,
            rows: 3,
        },
        hint: "required",
    }],
    sign_note: "Needs an electronic signature (Approved: retirement). No version of the document is effective afterwards.",
    disclosure: Some("Retire this document…"),
    together: None,
};

const WITHDRAW_FORM: StepForm = StepForm {
    inputs: &[InputDef {
        name: "reason",
        label: "Why withdraw this version",
        kind: InputKind::Text {
            max: MAX_TEXT,
            rows: 3,
        },
        hint: "required; the version is kept, marked withdrawn",
    }],
    sign_note: "",
    disclosure: Some("Withdraw this version…"),
    together: None,
};

static ACTIONS: [ActionDef<DocWorkflow>; 9] = [
    ActionDef {
        action: DocAction::SubmitReview,
        name: "submit_review",
        label: "Send for review",
        from: &[VersionState::Draft],
        to: To::State(VersionState::InReview),
        roles: QUALITY,
        owner: true,
        apply: start_round,
        guard: submit_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: DocAction::Review,
        name: "review",
        label: "Sign as reviewed",
        from: &[VersionState::InReview],
        to: To::Stays,
        roles: NOBODY,
        owner: false,
        apply: no_input,
        guard: no_guard,
        signature: review_signature,
        form: REVIEW_FORM,
    },
    ActionDef {
        action: DocAction::RequestChanges,
        name: "request_changes",
        label: "Request changes",
        from: &[VersionState::InReview],
        to: To::State(VersionState::Draft),
        roles: NOBODY,
        owner: false,
        apply: apply_request_changes,
        guard: comment_guard,
        signature: no_signature,
        form: COMMENT_FORM,
    },
    ActionDef {
        action: DocAction::Approve,
        name: "approve",
        label: "Approve",
        from: &[VersionState::InReview],
        to: To::State(VersionState::Approved),
        roles: NOBODY,
        owner: false,
        apply: no_input,
        guard: approve_guard,
        signature: approve_signature,
        form: APPROVE_FORM,
    },
    ActionDef {
        action: DocAction::MakeEffective,
        name: "make_effective",
        label: "Make effective",
        from: &[VersionState::Approved],
        to: To::State(VersionState::Effective),
        roles: QUALITY,
        owner: false,
        apply: apply_effective,
        guard: effective_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: DocAction::Supersede,
        name: "supersede",
        label: "Supersede",
        from: &[VersionState::Effective],
        to: To::State(VersionState::Superseded),
        roles: NOBODY,
        owner: false,
        apply: no_input,
        guard: no_guard,
        signature: no_signature,
        form: BUTTON_ONLY,
    },
    ActionDef {
        action: DocAction::PeriodicReview,
        name: "periodic_review",
        label: "Reviewed: still valid",
        from: &[VersionState::Effective],
        to: To::Stays,
        roles: QUALITY,
        owner: false,
        apply: apply_periodic,
        guard: periodic_guard,
        signature: periodic_signature,
        form: PERIODIC_FORM,
    },
    ActionDef {
        action: DocAction::Retire,
        name: "retire",
        label: "Retire",
        from: &[VersionState::Effective],
        to: To::State(VersionState::Obsolete),
        roles: QUALITY,
        owner: false,
        apply: apply_reason,
        guard: reason_guard,
        signature: retire_signature,
        form: RETIRE_FORM,
    },
    ActionDef {
        action: DocAction::Withdraw,
        name: "withdraw",
        label: "Withdraw",
        from: &[VersionState::Draft, VersionState::InReview],
        to: To::State(VersionState::Withdrawn),
        roles: QUALITY,
        owner: true,
        apply: apply_reason,
        guard: reason_guard,
        signature: no_signature,
        form: WITHDRAW_FORM,
    },
];

impl Workflow for DocWorkflow {
    type State = VersionState;
    type Action = DocAction;
    type Record = DocVersion;
    type Input = DocInput;
    const KIND: &'static str = "document_version";

    fn states() -> &'static [StateDef<VersionState>] {
        &STATES
    }
    fn actions() -> &'static [ActionDef<Self>] {
        &ACTIONS
    }
    fn state_of(v: &DocVersion) -> VersionState {
        v.state
    }
    fn set_state(v: &mut DocVersion, state: VersionState) {
        v.state = state;
    }
    /// The author sends their draft for review and may withdraw it.
    fn owner(v: &DocVersion) -> Option<i64> {
        Some(v.author_id)
    }
    fn sod_party(v: &DocVersion, rule: SodRule) -> Option<i64> {
        match rule {
            SodRule::NotAuthor => Some(v.author_id),
            _ => None,
        }
    }
    fn named_for(v: &DocVersion, action: DocAction, who: Who<'_>) -> bool {
        let Some(me) = who.user else { return false };
        match action {
            DocAction::Review => v.reviewers.contains(&me) && !v.reviewed.contains(&me),
            DocAction::RequestChanges => v.reviewers.contains(&me) || v.approver_id == Some(me),
            // The named approver, while they hold the quality role.
            DocAction::Approve => v.approver_id == Some(me) && who.roles.contains(Role::Quality),
            DocAction::PeriodicReview => v.doc_owner == me,
            _ => false,
        }
    }
    fn named(v: &DocVersion, action: DocAction) -> Vec<i64> {
        match action {
            DocAction::Review => v
                .reviewers
                .iter()
                .copied()
                .filter(|r| !v.reviewed.contains(r))
                .collect(),
            DocAction::Approve => v.approver_id.into_iter().collect(),
            DocAction::PeriodicReview => vec![v.doc_owner],
            _ => Vec::new(),
        }
    }
    fn named_words(action: DocAction) -> Option<&'static str> {
        match action {
            DocAction::Review => Some("the named reviewers who have not signed in this round"),
            DocAction::RequestChanges => Some("the named reviewers and approver"),
            DocAction::Approve => Some("the named approver (with the quality role)"),
            DocAction::PeriodicReview => Some("the document's owner"),
            _ => None,
        }
    }
    fn by_system(action: DocAction) -> bool {
        action == DocAction::Supersede
    }
    fn taken_by(v: &mut DocVersion, action: DocAction, user: Option<i64>) {
        if let (DocAction::Review, Some(u)) = (action, user)
            && v.reviewers.contains(&u)
            && !v.reviewed.contains(&u)
        {
            v.reviewed.push(u);
        }
    }
    fn as_of(v: &mut DocVersion, now: chrono::DateTime<chrono::Utc>) {
        v.today = Some(now.date_naive());
    }
}

/// The reviewers' names that a page shows beside who has signed.
pub fn review_progress(v: &DocVersion, names: &BTreeMap<i64, String>) -> Vec<(String, bool)> {
    v.reviewers
        .iter()
        .map(|r| {
            (
                names.get(r).cloned().unwrap_or_else(|| format!("u-{r}")),
                v.reviewed.contains(r),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests;
