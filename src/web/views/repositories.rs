//! Repository pages (administrators): the list with the form to register
//! one, a repository's page with its webhook address and recent deliveries,
//! and the secret, shown once.

use askama::Template;

use super::PageCtx;
use super::audit::{Choice, HistoryPanel};

pub struct RepositoryRow {
    pub id: i64,
    pub provider: &'static str,
    pub name: String,
    pub product: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "repositories/list.html")]
pub struct RepositoryListPage {
    pub ctx: PageCtx,
    pub rows: Vec<RepositoryRow>,
    pub providers: Vec<Choice>,
    pub products: Vec<Choice>,
    pub name: String,
    /// The registration form as refused, or not sent.
    pub problems: crate::web::rejected::Rejected,
}

pub struct DeliveryView {
    pub at: String,
    pub event: String,
    pub delivery: String,
    pub commits: i64,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "repositories/show.html")]
pub struct RepositoryPage {
    pub ctx: PageCtx,
    pub id: i64,
    pub version: i64,
    pub provider: &'static str,
    pub github: bool,
    pub name: String,
    pub product: String,
    pub product_id: i64,
    pub active: bool,
    pub created: String,
    pub webhook_url: String,
    /// The secret, on the one page that shows it (after creating or rotating).
    pub secret: Option<String>,
    pub deliveries: Vec<DeliveryView>,
    /// The form that was refused, as typed.
    pub sent: crate::web::rejected::Sent,
    pub history: std::sync::Arc<HistoryPanel>,
}
