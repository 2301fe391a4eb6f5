//! Refusals of access, audited (ARCHITECTURE.md rule 11, SECURITY.md 29):
//! a route's role check, a workflow step refused for role or ownership, an
//! owner-only action, another user's record or token. Each appends
//! `access.denied` naming who (the actor), what (the record, when there is
//! one, and the request) and why.

use serde_json::json;

use super::Ctx;
use crate::audit::{self, AuditError, EntityRef};
use crate::db::{DbConnection, write_tx};

/// What was asked for and refused.
pub struct Denied<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Why, in the words the person was given.
    pub why: &'a str,
    /// Anything more an auditor needs (the roles a route asks for).
    pub extra: Option<serde_json::Value>,
}

/// Appends the refusal in the caller's open write transaction.
pub fn denied_in(
    conn: &mut DbConnection,
    ctx: &Ctx,
    entity: Option<EntityRef>,
    d: &Denied<'_>,
) -> Result<u64, AuditError> {
    let mut after = json!({"method": d.method, "path": d.path, "why": d.why});
    if let (Some(extra), Some(obj)) = (&d.extra, after.as_object_mut())
        && let Some(more) = extra.as_object()
    {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    let mut entry = ctx.entry("access.denied").after(after);
    if let Some(e) = entity {
        entry = entry.entity(e);
    }
    audit::append(conn, &entry)
}

/// Appends the refusal in a transaction of its own: the refused request
/// changes nothing else.
pub fn denied(
    conn: &mut DbConnection,
    ctx: &Ctx,
    entity: Option<EntityRef>,
    d: &Denied<'_>,
) -> Result<u64, AuditError> {
    write_tx(conn, |conn| denied_in(conn, ctx, entity, d))
}
