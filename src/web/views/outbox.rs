//! The administrators' mail outbox pages.

use askama::Template;

use super::PageCtx;
use super::admin::PageLink;
use crate::web::rejected::Rejected;

/// A mail in the outbox list.
pub struct MailRow {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub status: &'static str,
    pub attempts: i32,
    /// When it was sent, or when it is tried next, or when it failed.
    pub when: String,
    pub last_error: String,
    pub failed: bool,
}

/// A status filter with its count.
pub struct StatusLink {
    pub label: &'static str,
    pub href: String,
    pub count: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
pub struct OutboxPage {
    pub ctx: PageCtx,
    /// Where mail goes ("SMTP smtp.example.com:587 (STARTTLS)").
    pub transport: String,
    pub enabled: bool,
    pub from: String,
    /// All mail, keeping the search.
    pub all_href: String,
    pub statuses: Vec<StatusLink>,
    pub status: String,
    pub q: String,
    pub filtered: bool,
    pub rows: Vec<MailRow>,
    pub total: i64,
    pub first: i64,
    pub last: i64,
    pub pages: Vec<PageLink>,
    /// The test mail form: its address as typed (or the administrator's
    /// own) and why it was refused.
    pub test_to: String,
    pub problems: Rejected,
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
pub struct MailPage {
    pub ctx: PageCtx,
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub status: &'static str,
    pub failed: bool,
    pub attempts: i32,
    pub created: String,
    pub next_attempt: String,
    pub sent: String,
    pub last_error: String,
    pub text: String,
    pub html_chars: usize,
    pub idem_key: String,
}
