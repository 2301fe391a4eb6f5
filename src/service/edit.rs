//! The one versioned, audited edit (ARCHITECTURE.md rule 3's sibling for
//! fields): the caller loads the record at the version the person saw and
//! applies the change; [`edit`] skips a change that changes nothing, moves
//! the record on one version, saves it `WHERE version = old` and appends
//! the audit entry with the fields before and after, in the caller's
//! transaction. Products, requirements, repositories, nonconformances,
//! CAPAs and accounts' profiles and roles are edited through it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::DbConnection;

/// The fields that differ between two flat objects, old and new.
pub fn changed(before: &Value, after: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let (mut was, mut now) = (Map::new(), Map::new());
    if let (Value::Object(old), Value::Object(new)) = (before, after) {
        for (k, v) in new {
            if old.get(k) != Some(v) {
                was.insert(k.clone(), old.get(k).cloned().unwrap_or(Value::Null));
                now.insert(k.clone(), v.clone());
            }
        }
    }
    (was, now)
}

/// A record kept in versions.
pub trait Versioned: Clone {
    /// Moves the record on one version at `now`.
    fn bump(&mut self, now: DateTime<Utc>);
    fn entity(&self) -> EntityRef;
    /// Its fields as its audit entries show them (a flat JSON object).
    fn audit_fields(&self) -> Value;
}

/// Saves `after` (the edited `before`) as the next version and appends
/// `action` with what changed, unless nothing did (then `before` is
/// returned and nothing is written). `save` writes the row `WHERE version =
/// old` and says whether it did.
pub fn edit<R: Versioned>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    action: &str,
    before: &R,
    after: R,
    reason: Option<&str>,
    save: impl FnOnce(&mut DbConnection, &R) -> Result<bool, RecordError>,
) -> Result<R, RecordError> {
    let (_, now) = changed(&before.audit_fields(), &after.audit_fields());
    if now.is_empty() {
        return Ok(before.clone());
    }
    save_version(conn, ctx, action, before, after, reason, save)
}

/// As [`edit`], but always saves: for a change the audit entry records
/// without its value (a repository's new secret).
pub fn save_version<R: Versioned>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    action: &str,
    before: &R,
    mut after: R,
    reason: Option<&str>,
    save: impl FnOnce(&mut DbConnection, &R) -> Result<bool, RecordError>,
) -> Result<R, RecordError> {
    after.bump(ctx.now);
    if !save(conn, &after)? {
        return Err(RecordError::Stale);
    }
    let (was, now) = changed(&before.audit_fields(), &after.audit_fields());
    let mut entry = ctx
        .entry(action)
        .entity(after.entity())
        .before(Value::Object(was))
        .after(Value::Object(now));
    if let Some(r) = reason {
        entry = entry.reason(r);
    }
    audit::append(conn, &entry)?;
    Ok(after)
}

/// Implements [`Versioned`] for a record whose version moves with its
/// `updated_at`, whose entity is `$entity` and whose audit fields are its
/// own `audit_fields`; each service declares its records with it.
#[macro_export]
macro_rules! versioned {
    ($($t:ty => $entity:expr),* $(,)?) => {
        $(impl $crate::service::edit::Versioned for $t {
            fn bump(&mut self, now: chrono::DateTime<chrono::Utc>) {
                self.version += 1;
                self.updated_at = now;
            }
            fn entity(&self) -> $crate::audit::EntityRef {
                $entity(self)
            }
            fn audit_fields(&self) -> serde_json::Value {
                <$t>::audit_fields(self)
            }
        })*
    };
}
