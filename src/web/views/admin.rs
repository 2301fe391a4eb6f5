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
    /// Empty for the "…" between the window and the first or last page.
    pub href: String,
    pub current: bool,
}

impl PageLink {
    /// The pager of a list: the first and last pages, the two either side of
    /// the current one, and "…" for the gaps, so a list of 10,000 rows shows
    /// at most nine links. `href(n)` is the address of page n. None when
    /// everything fits on one page.
    pub fn window(page: i64, total: i64, per_page: i64, href: impl Fn(i64) -> String) -> Vec<Self> {
        let count = (total + per_page - 1) / per_page.max(1);
        if count <= 1 {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut last_shown = 0;
        for n in 1..=count {
            if n == 1 || n == count || (n - page).abs() <= 2 {
                if n > last_shown + 1 {
                    out.push(Self {
                        label: "…".into(),
                        href: String::new(),
                        current: false,
                    });
                }
                out.push(Self {
                    label: n.to_string(),
                    href: href(n),
                    current: n == page,
                });
                last_shown = n;
            }
        }
        out
    }
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
    /// The form as refused, or not sent.
    pub problems: crate::web::rejected::Rejected,
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
    /// The form that was refused, as typed.
    pub sent: crate::web::rejected::Sent,
    pub history: std::sync::Arc<super::audit::HistoryPanel>,
}

#[cfg(test)]
mod tests {
    use super::PageLink;

    fn labels(page: i64, total: i64) -> String {
        PageLink::window(page, total, 50, |n| format!("?page={n}"))
            .iter()
            .map(|p| {
                if p.current {
                    format!("[{}]", p.label)
                } else {
                    p.label.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_long_list_shows_the_ends_and_the_pages_around_the_current_one() {
        assert_eq!(labels(1, 50), "", "one page needs no pager");
        assert_eq!(labels(2, 120), "1 [2] 3");
        assert_eq!(labels(1, 10_000), "[1] 2 3 … 200");
        assert_eq!(labels(100, 10_000), "1 … 98 99 [100] 101 102 … 200");
        assert_eq!(labels(200, 10_000), "1 … 198 199 [200]");
        assert_eq!(labels(4, 10_000), "1 2 3 [4] 5 6 … 200");
    }
}
