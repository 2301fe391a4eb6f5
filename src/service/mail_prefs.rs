//! A person's mail preferences, changed by that person (issue 18): per
//! category immediately, in the digest or off (never off for signature
//! requests and overdue items), the digest daily or weekly. Audited.

use std::collections::BTreeMap;

use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use crate::audit;
use crate::db::repo::mail_prefs::{self as repo, Prefs};
use crate::db::repo::users;
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::domain::notification::{Category, Delivery, DigestEvery};
use crate::domain::user::FieldError;

/// The settings form as typed: the version it was opened at, the digest,
/// and each category's choice by its field name.
pub struct PrefsInput {
    pub version: i64,
    pub digest: String,
    pub choices: BTreeMap<String, String>,
}

/// The preferences `input` makes, or every problem with it.
pub fn check(user: i64, input: &PrefsInput) -> Result<Prefs, RecordError> {
    let mut errors = Vec::new();
    let digest = DigestEvery::parse(&input.digest).unwrap_or_else(|| {
        errors.push(FieldError::new(
            "digest",
            "Choose a daily or a weekly digest.",
        ));
        DigestEvery::Daily
    });
    let mut categories = BTreeMap::new();
    for c in Category::ALL {
        let typed = input
            .choices
            .get(c.field())
            .map_or("immediately", String::as_str);
        match Delivery::parse(typed) {
            None => errors.push(FieldError::new(
                c.field(),
                format!("{}: choose immediately, in the digest or off.", c.label()),
            )),
            Some(Delivery::Off) if !c.can_be_off() => errors.push(FieldError::new(
                c.field(),
                format!(
                    "{} cannot be turned off: choose immediately or in the digest.",
                    c.label()
                ),
            )),
            Some(Delivery::Immediately) => {}
            Some(d) => {
                categories.insert(c.as_str().to_string(), d.as_str().to_string());
            }
        }
    }
    if !errors.is_empty() {
        return Err(RecordError::Invalid(errors));
    }
    Ok(Prefs {
        user_id: user,
        digest,
        categories,
        last_digest_at: None,
        version: input.version,
    })
}

/// Saves `user`'s preferences from `input`; a form opened before the last
/// change is stale. A first digest goes at the next digest time after this.
pub fn save(
    conn: &mut DbConnection,
    ctx: &Ctx,
    user: i64,
    input: &PrefsInput,
) -> Result<Prefs, RecordError> {
    let wanted = check(user, input)?;
    write_tx(conn, |conn| {
        let account = users::find(conn, UserId(user))?.ok_or(RecordError::NotFound)?;
        let before = repo::find(conn, user)?;
        if before.version != input.version {
            return Err(RecordError::Stale);
        }
        let after = Prefs {
            last_digest_at: before.last_digest_at.or(Some(ctx.now)),
            ..wanted
        };
        if !repo::save(conn, &after, ctx.now)? {
            return Err(RecordError::Stale);
        }
        let shown = |p: &Prefs| {
            json!({
                "digest": p.digest.as_str(),
                "mail": Category::ALL
                    .into_iter()
                    .map(|c| (c.as_str().to_string(), json!(p.delivery(c).as_str())))
                    .collect::<serde_json::Map<_, _>>(),
            })
        };
        audit::append(
            conn,
            &ctx.entry("user.mail_preferences_changed")
                .entity(super::accounts::entity(&account))
                .before(shown(&before))
                .after(shown(&after)),
        )?;
        Ok(repo::find(conn, user)?)
    })
}
