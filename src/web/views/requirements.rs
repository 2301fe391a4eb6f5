//! Requirement pages: the list, a requirement with its versions, parents
//! and children, the forms, and CSV imports with their preview.

use askama::Template;

use crate::web::rejected::{Rejected, Sent};

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};

/// A row of the requirement list.
pub struct RequirementRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub product: String,
    pub kind: &'static str,
    pub safety_class: &'static str,
    pub text_version: i64,
    pub retired: bool,
}

#[derive(Template)]
#[template(path = "requirements/list.html")]
pub struct RequirementListPage {
    pub ctx: PageCtx,
    pub rows: Vec<RequirementRow>,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub products: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub classes: Vec<Choice>,
    pub q: String,
    pub filtered: bool,
    /// Show the product column (no product chosen).
    pub many_products: bool,
    pub can_edit: bool,
    /// The product chosen in the filter, for "New" and "Import" links.
    pub product_query: String,
    pub pages: Vec<PageLink>,
}

/// The fields of the create and edit forms, as typed.
pub struct RequirementForm {
    pub products: Vec<Choice>,
    pub key: String,
    pub title: String,
    pub text: String,
    pub kinds: Vec<Choice>,
    pub classes: Vec<Choice>,
    pub parents: String,
    /// The form as refused, or not sent (its element ids' prefix either way).
    pub problems: Rejected,
}

#[derive(Template)]
#[template(path = "requirements/new.html")]
pub struct NewRequirementPage {
    pub ctx: PageCtx,
    pub form: RequirementForm,
}

/// Another requirement named on a requirement's page (a parent or child).
pub struct RelatedView {
    pub link_id: i64,
    pub id: i64,
    pub key: String,
    pub title: String,
    pub retired: bool,
}

/// A test that verifies the requirement, with its latest result.
pub struct LinkedTestView {
    pub link_id: i64,
    pub key: String,
    pub outcome: &'static str,
}

/// One version of the statement.
pub struct TextVersionView {
    pub text_version: i64,
    pub title: String,
    pub text: String,
    pub by: String,
    pub at: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "requirements/show.html")]
pub struct RequirementPage {
    pub ctx: PageCtx,
    pub id: i64,
    pub version: i64,
    pub key: String,
    pub title: String,
    pub text: String,
    pub product_id: i64,
    pub product: String,
    pub kind: &'static str,
    pub safety_class: &'static str,
    pub text_version: i64,
    pub retired: bool,
    pub created: String,
    pub updated: String,
    /// The risks whose controls it implements (key, page).
    pub risks: Vec<(String, String)>,
    pub parents: Vec<RelatedView>,
    pub children: Vec<RelatedView>,
    pub versions: Vec<TextVersionView>,
    pub commits: Vec<super::CommitView>,
    pub commits_of: String,
    pub commits_hint: String,
    /// Where a commit's link is removed (`…/links/{id}/remove`), when the reader may.
    pub commits_unlink: Option<String>,
    pub tests: Vec<LinkedTestView>,
    pub can_edit: bool,
    pub form: RequirementForm,
    /// The form that was refused, as typed (the change form keeps its own).
    pub sent: Sent,
    pub attachments: super::attachments::AttachmentsPanel,
    pub history: std::sync::Arc<HistoryPanel>,
}

#[derive(Template)]
#[template(path = "requirements/import.html")]
pub struct ImportFormPage {
    pub ctx: PageCtx,
    pub products: Vec<Choice>,
    pub problems: Rejected,
    pub max_kib: usize,
    pub max_rows: usize,
}

/// A row of an import's preview.
pub struct PlannedView {
    pub line: u64,
    pub key: String,
    pub title: String,
    /// new, changed, unchanged or invalid (a CSS class).
    pub class: &'static str,
    pub outcome: String,
    pub errors: Vec<String>,
    /// The existing requirement, when there is one.
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "requirements/import_show.html")]
pub struct ImportPage {
    pub ctx: PageCtx,
    pub id: i64,
    pub version: i64,
    pub product: String,
    pub product_id: i64,
    pub file_name: String,
    pub sha256: String,
    pub uploaded: String,
    pub uploaded_by: String,
    pub applied: Option<String>,
    pub file_error: Option<String>,
    pub rows: Vec<PlannedView>,
    pub new_rows: usize,
    pub changed_rows: usize,
    pub unchanged_rows: usize,
    pub invalid_rows: usize,
    pub can_apply: bool,
    pub can_edit: bool,
    /// The apply form, when it was refused.
    pub problems: Rejected,
}
