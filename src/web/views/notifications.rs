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
