//! Nonconformance pages.

use askama::Template;

use crate::web::record::{NextSteps, RecordHead};
use crate::web::rejected::{Rejected, Sent};

use super::PageCtx;
use super::admin::PageLink;
use super::audit::{Choice, HistoryPanel};

/// A row of the list.
pub struct NcRow {
    pub id: i64,
    pub key: String,
    pub title: String,
    pub state: &'static str,
    pub state_name: &'static str,
    pub severity: &'static str,
    pub product: String,
    pub source: &'static str,
    pub reported: String,
}

#[derive(Template)]
#[template(path = "nonconformances/list.html")]
pub struct NcListPage {
    pub ctx: PageCtx,
    pub rows: Vec<NcRow>,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub states: Vec<Choice>,
    pub products: Vec<Choice>,
    pub severities: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub sorts: Vec<Choice>,
    pub q: String,
    pub filtered: bool,
    pub can_report: bool,
    pub pages: Vec<PageLink>,
}

/// The report / correction form as typed.
pub struct NcForm {
    pub title: String,
    pub sources: Vec<Choice>,
    pub products: Vec<Choice>,
    pub lot_serial: String,
    pub description: String,
    pub detected_on: String,
    pub severities: Vec<Choice>,
    /// Why the report is corrected (the correction form only).
    pub reason: String,
    /// The form as refused, or not sent (its element ids' prefix either way).
    pub problems: Rejected,
}

#[derive(Template)]
#[template(path = "nonconformances/new.html")]
pub struct NewNcPage {
    pub ctx: PageCtx,
    pub form: NcForm,
}

#[derive(Template)]
#[template(path = "nonconformances/show.html")]
pub struct NcPage {
    pub ctx: PageCtx,
    pub head: RecordHead,
    pub next: NextSteps,
    /// The form that was refused, as typed.
    pub sent: Sent,
    pub id: i64,
    pub source: &'static str,
    pub product: String,
    pub product_href: Option<String>,
    pub lot_serial: String,
    pub description: String,
    pub detected_on: String,
    pub severity: &'static str,
    pub reported_by: String,
    pub reported: String,
    pub updated: String,
    pub disposition: &'static str,
    pub justification: String,
    pub closure_note: String,
    pub can_edit: bool,
    pub form: NcForm,
    pub history: std::sync::Arc<HistoryPanel>,
    pub signatures: Vec<super::signatures::SignatureView>,
    /// Linked CAPAs: key and page.
    pub capas: Vec<(String, String)>,
    /// Linked documents: key, page, where they stand.
    pub documents: Vec<(String, String, String)>,
    /// Commits whose messages name the NC (`Refs: NC-1`).
    pub commits: Vec<super::CommitView>,
    pub commits_of: String,
    pub commits_hint: String,
    pub commits_unlink: Option<String>,
    pub attachments: super::attachments::AttachmentsPanel,
    pub risk_review: super::risks::RiskReviewPanel,
}
