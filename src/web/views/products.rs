//! Product pages.

use askama::Template;

use crate::web::rejected::{Rejected, Sent};

use super::PageCtx;
use super::admin::PageLink;
use super::audit::HistoryPanel;

/// A row of the product list.
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub safety_class: &'static str,
    pub active: bool,
}

/// A safety-class radio button.
pub struct ClassChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "products/list.html")]
pub struct ProductListPage {
    pub ctx: PageCtx,
    pub rows: Vec<ProductRow>,
    pub total: i64,
    pub archived: bool,
    pub can_manage: bool,
    pub pages: Vec<PageLink>,
}

/// The fields of the create and edit forms, as typed.
pub struct ProductForm {
    pub name: String,
    pub key_prefix: String,
    pub classes: Vec<ClassChoice>,
    pub description: String,
    /// The form as refused, or not sent (its element ids' prefix either way).
    pub problems: Rejected,
}

#[derive(Template)]
#[template(path = "products/new.html")]
pub struct NewProductPage {
    pub ctx: PageCtx,
    pub form: ProductForm,
}

#[derive(Template)]
#[template(path = "products/show.html")]
pub struct ProductPage {
    pub ctx: PageCtx,
    pub id: i64,
    pub version: i64,
    pub name: String,
    pub key_prefix: String,
    pub safety_class: String,
    pub description: String,
    pub active: bool,
    pub created: String,
    pub updated: String,
    pub can_manage: bool,
    pub form: ProductForm,
    /// The archive or restore form, when it was refused.
    pub sent: Sent,
    pub history: std::sync::Arc<HistoryPanel>,
}
