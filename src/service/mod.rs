//! Application services: each operation runs in one write transaction and
//! appends its audit entry in that same transaction.

pub mod accounts;
pub mod capas;
pub mod exports;
pub mod git;
pub mod links;
pub mod nonconformances;
pub mod password;
pub mod products;
pub mod requirements;
pub mod signing;
pub mod testruns;
pub mod tokens;
pub mod trace;
pub mod workflow;

use chrono::{DateTime, Utc};

use crate::audit::{Actor, NewEntry};

/// Who is acting, when, and under which request: everything an audit entry
/// needs besides what changed.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub log: String,
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub op: Option<String>,
}

impl Ctx {
    pub fn entry(&self, action: &str) -> NewEntry {
        NewEntry::new(&self.log, self.now, self.actor.clone(), action).op(self.op.clone())
    }
}

/// The user number of the acting user, if a user (not the system) acts.
pub fn actor_user(ctx: &Ctx) -> Option<i64> {
    ctx.actor
        .id
        .parse::<crate::domain::ids::UserId>()
        .ok()
        .filter(|_| ctx.actor.id.starts_with("u-"))
        .map(|u| u.0)
}

/// 32 random bytes, URL-safe base64: session ids, CSRF tokens.
pub fn random_token() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// Hex SHA-256, used to store session tokens without storing the token.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
