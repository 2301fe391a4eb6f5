//! The one transition service (ARCHITECTURE.md rule 3): in one transaction,
//! load the record at the version the person saw, let the workflow engine
//! decide, save with `WHERE version = old`, and append the audit entry with
//! the fields before and after. No other code changes a record's state.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::audit::{self, AuditError, EntityRef};
use crate::db::{DbConnection, write_tx};
use crate::domain::user::Roles;
use crate::domain::workflow::{Refused, Workflow, decide};

/// A workflow whose records are stored.
pub trait Stored: Workflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Self::Record>>;
    /// Writes the record as its next version; false if the stored version moved.
    fn save(conn: &mut DbConnection, record: &Self::Record) -> diesel::QueryResult<bool>;
    fn version(record: &Self::Record) -> i64;
    /// Moves the record on one version at `now`.
    fn bump(record: &mut Self::Record, now: chrono::DateTime<chrono::Utc>);
    fn entity(record: &Self::Record) -> EntityRef;
    /// The record's fields as a flat JSON object, as audit entries show them.
    fn audit_fields(record: &Self::Record) -> Value;
}

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("no such record")]
    NotFound,
    #[error(
        "this record was changed by someone else after you opened the page (or the form was sent twice); reload it and try again"
    )]
    Stale,
    #[error("{0}")]
    Refused(Refused),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{action} needs an electronic signature with the meaning {meaning:?}; electronic signing is not available yet, so this step cannot be taken"
    )]
    SignatureRequired {
        action: &'static str,
        meaning: &'static str,
    },
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("database error: {0}")]
    Storage(#[from] diesel::result::Error),
}

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

/// Applies the action `name` to record `id` as seen at `version`.
pub fn transition<W: Stored>(
    conn: &mut DbConnection,
    ctx: &Ctx,
    roles: &Roles,
    id: i64,
    version: i64,
    name: &str,
    input: &W::Input,
) -> Result<W::Record, TransitionError> {
    write_tx(conn, |conn| {
        let record = W::load(conn, id)?.ok_or(TransitionError::NotFound)?;
        if W::version(&record) != version {
            return Err(TransitionError::Stale);
        }
        let decision =
            decide::<W>(&record, name, input, roles).map_err(TransitionError::Refused)?;
        if let Some(sig) = decision.signature {
            return Err(TransitionError::SignatureRequired {
                action: decision.action.label,
                meaning: sig.meaning,
            });
        }
        let mut next = decision.record;
        W::bump(&mut next, ctx.now);
        if !W::save(conn, &next)? {
            return Err(TransitionError::Stale);
        }
        let (mut was, mut now) = changed(&W::audit_fields(&record), &W::audit_fields(&next));
        was.insert("transition".into(), Value::Null);
        now.insert("transition".into(), json!(decision.action.name));
        audit::append(
            conn,
            &ctx.entry(&format!("{}.transition", W::KIND))
                .entity(W::entity(&next))
                .before(Value::Object(was))
                .after(Value::Object(now)),
        )?;
        Ok(next)
    })
}
