//! The notifications page.

use askama::Template;

use super::PageCtx;
use super::admin::PageLink;

pub struct NotificationRow {
    pub id: i64,
    pub words: String,
    pub at: String,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub ctx: PageCtx,
    pub rows: Vec<NotificationRow>,
    pub total: i64,
    pub unread_only: bool,
    pub unread: i64,
    pub pages: Vec<PageLink>,
}

/// A category's row on the mail settings form.
pub struct CategoryRow {
    pub field: &'static str,
    pub label: &'static str,
    /// The choice shown (as typed on a refused form, else as kept).
    pub chosen: &'static str,
    pub can_be_off: bool,
}

#[derive(Template)]
#[template(path = "notifications_settings.html")]
pub struct MailSettingsPage {
    pub ctx: PageCtx,
    pub email: String,
    pub mail_on: bool,
    pub version: i64,
    pub digest: &'static str,
    pub rows: Vec<CategoryRow>,
    pub problems: crate::web::rejected::Rejected,
}
