//! Template structs. Every page carries a `PageCtx` for the layout.

pub mod admin;
pub mod attachments;
pub mod audit;
pub mod capas;
pub mod charts;
pub mod documents;
pub mod help;
pub mod nonconformances;
pub mod notifications;
pub mod outbox;
pub mod pages;
pub mod products;
pub mod repositories;
pub mod requirements;
pub mod risks;
pub mod signatures;
pub mod tokens;
pub mod trace;
pub mod training;

pub use pages::*;

use super::session::SessionCtx;
use crate::domain::user::{Account, Role};

/// What the layout needs on every page.
pub struct PageCtx {
    pub user: Option<UserView>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub css: &'static str,
    pub version: &'static str,
}

/// The signed-in user as the layout shows them.
pub struct UserView {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub roles_label: String,
    /// Unread notifications (the bell).
    pub unread: i64,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// A one-time message shown after a redirect.
pub struct Flash {
    pub kind: &'static str,
    pub text: String,
}

impl Flash {
    /// Flashes are stored on the session as `kind:text`.
    pub fn parse(stored: &str) -> Self {
        match stored.split_once(':') {
            Some(("error", text)) => Self {
                kind: "error",
                text: text.to_string(),
            },
            Some((_, text)) => Self {
                kind: "ok",
                text: text.to_string(),
            },
            None => Self {
                kind: "ok",
                text: stored.to_string(),
            },
        }
    }
}

pub fn roles_label(a: &Account) -> String {
    a.roles
        .iter()
        .map(Role::label)
        .collect::<Vec<_>>()
        .join(", ")
}

impl PageCtx {
    pub fn anonymous(csrf: String) -> Self {
        Self {
            user: None,
            nav: Vec::new(),
            csrf,
            flash: None,
            css: super::assets::css_url(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// The layout for a signed-in user; `current` is the nav entry to mark.
    pub fn signed_in(s: &SessionCtx, current: &str) -> Self {
        let a = &s.account;
        let mut nav = vec![NavItem {
            href: "/",
            label: "Dashboard",
            current: current == "/",
        }];
        nav.push(NavItem {
            href: "/capas",
            label: "CAPAs",
            current: current == "/capas",
        });
        nav.push(NavItem {
            href: "/nonconformances",
            label: "Nonconformances",
            current: current == "/nonconformances",
        });
        nav.push(NavItem {
            href: "/documents",
            label: "Documents",
            current: current == "/documents",
        });
        // Quality, auditors and administrators read the matrix; everyone
        // their own training.
        let training = if a
            .roles
            .has_any(&[Role::Quality, Role::Auditor, Role::Admin])
        {
            "/training"
        } else {
            "/training/mine"
        };
        nav.push(NavItem {
            href: training,
            label: "Training",
            current: current == training,
        });
        nav.push(NavItem {
            href: "/requirements",
            label: "Requirements",
            current: current == "/requirements",
        });
        nav.push(NavItem {
            href: "/traceability",
            label: "Traceability",
            current: current == "/traceability",
        });
        nav.push(NavItem {
            href: "/products",
            label: "Products",
            current: current == "/products",
        });
        if a.roles.contains(Role::Admin) {
            nav.push(NavItem {
                href: "/admin/users",
                label: "Users",
                current: current == "/admin/users",
            });
            nav.push(NavItem {
                href: "/admin/repositories",
                label: "Repositories",
                current: current == "/admin/repositories",
            });
            nav.push(NavItem {
                href: "/admin/outbox",
                label: "Mail",
                current: current == "/admin/outbox",
            });
        }
        if a.roles
            .has_any(&[Role::Auditor, Role::Quality, Role::Admin])
        {
            nav.push(NavItem {
                href: "/audit",
                label: "Audit log",
                current: current == "/audit",
            });
        }
        nav.push(NavItem {
            href: "/account",
            label: "My account",
            current: current == "/account",
        });
        nav.push(NavItem {
            href: "/help",
            label: "Help",
            current: current == "/help",
        });
        Self {
            user: Some(UserView {
                id: a.id.to_string(),
                username: a.username.clone(),
                full_name: a.full_name.clone(),
                roles_label: roles_label(a),
                unread: s.unread,
            }),
            nav,
            csrf: s.csrf_token.clone(),
            flash: s.flash.as_deref().map(Flash::parse),
            css: super::assets::css_url(),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// A commit linked to a record, as `partials/commits.html` lists it.
pub struct CommitView {
    pub link_id: i64,
    pub short: String,
    /// The commit on its host, only when it is an http(s) address.
    pub url: String,
    pub repository: String,
    pub subject: String,
    pub relation: String,
    pub author: String,
    pub at: String,
}

impl CommitView {
    pub fn new(c: &crate::service::git::LinkedCommit) -> Self {
        let url = if c.commit.url.starts_with("https://") || c.commit.url.starts_with("http://") {
            c.commit.url.clone()
        } else {
            String::new()
        };
        Self {
            link_id: c.link_id,
            short: c.commit.sha.chars().take(12).collect(),
            url,
            repository: c.repository.clone(),
            subject: c.commit.subject().chars().take(200).collect(),
            relation: c.relation.clone(),
            author: c.commit.author_name.clone(),
            at: c.commit.committed_at.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// The crate's drawings render as markup by their type: every text in them
/// went through `domain::svg::escape` (no template marks a string `|safe`).
impl askama::filters::HtmlSafe for crate::domain::svg::Svg {}
