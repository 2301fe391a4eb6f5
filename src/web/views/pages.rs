//! Sign-in, dashboard, account and error pages.

use askama::Template;

use super::PageCtx;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub ctx: PageCtx,
    pub status: u16,
    pub title: &'a str,
    pub message: &'a str,
    pub op: &'a str,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub ctx: PageCtx,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

/// One line of "What needs me".
pub struct NeedItem {
    pub href: String,
    pub title: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageCtx,
    pub needs: Vec<NeedItem>,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "account/show.html")]
pub struct AccountPage {
    pub ctx: PageCtx,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: String,
    pub last_login: String,
    pub password_changed: String,
}

#[derive(Template)]
#[template(path = "account/password.html")]
pub struct PasswordPage {
    pub ctx: PageCtx,
    pub forced: bool,
    pub errors: Vec<String>,
}
