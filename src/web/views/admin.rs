//! The administrators' user pages.

use askama::Template;

use super::PageCtx;

/// A row of the user list.
pub struct UserRow {
    pub id: String,
    pub number: i64,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub last_login: String,
}

/// A role checkbox.
pub struct RoleChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub checked: bool,
}

/// A link of the pager.
pub struct PageLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UserListPage {
    pub ctx: PageCtx,
    pub rows: Vec<UserRow>,
    pub total: i64,
    pub q: String,
    pub role: String,
    pub status: String,
    pub roles: Vec<RoleChoice>,
    pub pages: Vec<PageLink>,
    pub first: i64,
    pub last: i64,
    pub filtered: bool,
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
pub struct NewUserPage {
    pub ctx: PageCtx,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: Vec<RoleChoice>,
    pub errors: Vec<String>,
}

/// Shown once, right after an account is created or its password reset.
#[derive(Template)]
#[template(path = "admin/one_time_password.html")]
pub struct OneTimePasswordPage {
    pub ctx: PageCtx,
    pub heading: &'static str,
    pub user_href: String,
    pub username: String,
    pub full_name: String,
    pub password: String,
}

#[derive(Template)]
#[template(path = "admin/user_show.html")]
pub struct UserPage {
    pub ctx: PageCtx,
    pub id: String,
    pub number: i64,
    pub version: i64,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: Vec<RoleChoice>,
    pub status: &'static str,
    pub status_class: &'static str,
    pub active: bool,
    pub locked_until: Option<String>,
    pub must_change_password: bool,
    pub last_login: String,
    pub created: String,
    pub live_sessions: i64,
    pub is_self: bool,
    pub errors: Vec<String>,
    pub history: super::audit::HistoryPanel,
}
