//! Links between records, each creation and removal audited on the record
//! whose page shows it, in the caller's transaction.

use serde_json::json;

use super::{Ctx, actor_user};
use crate::audit::{self, AuditError, EntityRef};
use crate::db::DbConnection;
use crate::db::repo::links::{self as repo, End, Link};

fn end_json(end: End) -> serde_json::Value {
    json!({"type": end.0, "id": end.1})
}

/// Links `from -relation-> to` and appends `link.created` on `on`.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    from: End,
    relation: &str,
    to: End,
    on: EntityRef,
) -> Result<i64, AuditError> {
    let id = repo::insert(conn, from, relation, to, actor_user(ctx), ctx.now)?;
    audit::append(
        conn,
        &ctx.entry("link.created").entity(on).after(json!({
            "from": end_json(from),
            "relation": relation,
            "to": end_json(to),
        })),
    )?;
    Ok(id)
}

/// Removes a link (its row stays, marked removed) and appends
/// `link.removed` on `on`; false when it was removed already.
pub fn remove(
    conn: &mut DbConnection,
    ctx: &Ctx,
    link: &Link,
    on: EntityRef,
) -> Result<bool, AuditError> {
    if !repo::remove(conn, link.id, actor_user(ctx), ctx.now)? {
        return Ok(false);
    }
    audit::append(
        conn,
        &ctx.entry("link.removed").entity(on).before(json!({
            "from": end_json((&link.from_type, &link.from_id)),
            "relation": link.relation,
            "to": end_json((&link.to_type, &link.to_id)),
        })),
    )?;
    Ok(true)
}

/// The records linked to a record (either direction), as (type, id).
pub fn linked(
    conn: &mut DbConnection,
    kind: &str,
    id: &str,
) -> diesel::QueryResult<Vec<(String, String)>> {
    Ok(repo::of(conn, kind, id)?
        .into_iter()
        .map(|l| {
            if l.from_type == kind && l.from_id == id {
                (l.to_type, l.to_id)
            } else {
                (l.from_type, l.from_id)
            }
        })
        .collect())
}
