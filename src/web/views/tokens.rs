//! My account → API tokens.

use askama::Template;

use super::PageCtx;

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub status: &'static str,
    pub live: bool,
}

pub struct ScopeChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "account/tokens.html")]
pub struct TokensPage {
    pub ctx: PageCtx,
    pub rows: Vec<TokenRow>,
    pub scopes: Vec<ScopeChoice>,
    pub name: String,
    pub expires_on: String,
    /// A token just made: shown this once.
    pub shown: Option<String>,
    /// The new-token form as refused (or a refused revocation).
    pub problems: crate::web::rejected::Rejected,
}
