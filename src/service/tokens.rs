//! API tokens: made by a user for themselves, scoped, shown once, kept as
//! SHA-256 only, revocable, with a last-used time; each call made with one
//! is audited as its user's.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use zeroize::Zeroizing;

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::repo::{tokens as repo, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::domain::trace::Scope;
use crate::domain::user::{Account, FieldError, Role};

/// What every token starts with, so secret scanners can find a leaked one.
pub const TOKEN_PREFIX: &str = "attest_";
/// Longest name of a token.
pub const MAX_NAME: usize = 100;

/// Why a call's token is refused (401).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("send an API token: Authorization: Bearer attest_…")]
    Missing,
    #[error("the API token is not known")]
    Unknown,
    #[error("the API token was revoked")]
    Revoked,
    #[error("the API token has expired")]
    Expired,
    #[error("the token's user account is disabled")]
    Disabled,
}

pub fn entity(t: &repo::Token, user: &Account) -> EntityRef {
    EntityRef {
        kind: "api_token".into(),
        id: t.entity_id(),
        key: format!("{} ({})", t.name, user.username),
        version: t.version,
    }
}

fn hash(token: &str) -> String {
    super::sha256_hex(token.as_bytes())
}

/// Checks a new token's name, scopes and expiry, and the user's right to them.
fn check(
    user: &Account,
    name: &str,
    scopes: &[Scope],
    expires_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), RecordError> {
    let mut errors = Vec::new();
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        errors.push(FieldError::new(
            "name",
            format!(
                "Name the token (at most {MAX_NAME} characters), e.g. the CI job that uses it."
            ),
        ));
    }
    if scopes.is_empty() {
        errors.push(FieldError::new("scopes", "Choose at least one scope."));
    }
    if scopes.contains(&Scope::TestRunsWrite)
        && !user.roles.has_any(&[Role::Engineer, Role::Quality])
    {
        errors.push(FieldError::new(
            "scopes",
            "Uploading test results needs the engineer or quality role, which your account does not have.",
        ));
    }
    if let Some(d) = expires_on {
        if d <= today {
            errors.push(FieldError::new(
                "expires_on",
                "The expiry date must be in the future.",
            ));
        } else if (d - today).num_days() > 730 {
            errors.push(FieldError::new(
                "expires_on",
                "A token can be valid for at most two years.",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RecordError::Invalid(errors))
    }
}

/// Makes a token for `user`; returns it with the token itself (shown once).
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    user: &Account,
    name: &str,
    scopes: &[Scope],
    expires_on: Option<NaiveDate>,
) -> Result<(repo::Token, Zeroizing<String>), RecordError> {
    check(user, name, scopes, expires_on, ctx.now.date_naive())?;
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(&mut bytes[..]).map_err(RecordError::fault)?;
    let token = Zeroizing::new(format!(
        "{TOKEN_PREFIX}{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &bytes[..]
        )
    ));
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    // A token "expiring on D" works through the end of D in UTC, as the
    // form says: it stops at the midnight that ends D.
    let expires = expires_on
        .and_then(|d| d.succ_opt())
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    write_tx(conn, |conn| {
        let t = repo::insert(
            conn,
            user.id.0,
            name.trim(),
            scopes,
            &hash(&token),
            &prefix,
            expires,
            ctx.now,
        )?;
        let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
        audit::append(
            conn,
            &ctx.entry("api_token.created")
                .entity(entity(&t, user))
                .after(json!({
                    "name": t.name,
                    "scopes": scopes,
                    "prefix": t.prefix,
                    "expires_at": t.expires_at.map(audit::format_time),
                })),
        )?;
        Ok((t, token.clone()))
    })
}

/// Revokes one of `user`'s own tokens.
pub fn revoke(
    conn: &mut DbConnection,
    ctx: &Ctx,
    user: &Account,
    id: i64,
) -> Result<repo::Token, RecordError> {
    write_tx(conn, |conn| {
        let t = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        if t.user_id != user.id.0 {
            // Another user's token: as if there were none, and audited
            // (SECURITY.md 29) in a transaction that commits.
            let owner = users::find(conn, UserId(t.user_id))?.ok_or(RecordError::NotFound)?;
            super::access::denied_in(
                conn,
                ctx,
                Some(entity(&t, &owner)),
                &super::access::Denied {
                    method: "POST",
                    path: &format!("/account/tokens/{id}/revoke"),
                    why: "another user's API token",
                    extra: None,
                },
            )?;
            return Ok::<_, RecordError>(Err(RecordError::NotFound));
        }
        if repo::revoke(conn, id, ctx.now)? {
            audit::append(
                conn,
                &ctx.entry("api_token.revoked")
                    .entity(entity(&t, user))
                    .after(json!({"revoked_at": audit::format_time(ctx.now)})),
            )?;
        }
        Ok(repo::find(conn, id)?.ok_or(RecordError::NotFound))
    })?
}

/// The token and account behind `Authorization: Bearer …`, checked: known,
/// not revoked, not expired, its user active. The call is recorded as the
/// user's (`api.called`) with the token's last-used time, in one transaction.
pub fn authenticate(
    conn: &mut DbConnection,
    log: &str,
    op: Option<String>,
    presented: &str,
    call: (&str, &str),
    now: DateTime<Utc>,
) -> Result<Result<(repo::Token, Account), Refused>, RecordError> {
    if !presented.starts_with(TOKEN_PREFIX) || presented.len() > 200 {
        return Ok(Err(Refused::Unknown));
    }
    let Some(t) = repo::by_hash(conn, &hash(presented))? else {
        return Ok(Err(Refused::Unknown));
    };
    if t.revoked_at.is_some() {
        return Ok(Err(Refused::Revoked));
    }
    if !t.live(now) {
        return Ok(Err(Refused::Expired));
    }
    let Some(user) = users::find(conn, UserId(t.user_id))?.filter(|u| u.active) else {
        return Ok(Err(Refused::Disabled));
    };
    let ctx = Ctx {
        log: log.to_string(),
        actor: super::accounts::actor(&user),
        now,
        op,
    };
    write_tx(conn, |conn| {
        repo::touch(conn, t.id, now)?;
        audit::append(
            conn,
            &ctx.entry("api.called")
                .entity(entity(&t, &user))
                .after(json!({"method": call.0, "path": call.1})),
        )?;
        Ok::<_, RecordError>(())
    })?;
    Ok(Ok((t, user)))
}
