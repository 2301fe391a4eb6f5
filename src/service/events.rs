//! Writes a change's domain events beside its audit entry, in the same
//! transaction (ARCHITECTURE.md rule 10).

use super::Ctx;
use crate::audit::EntityRef;
use crate::db::DbConnection;
use crate::db::repo::events::{self as repo, NewEvent};
use crate::domain::event::DomainEvent;

/// Stores `events` of the record `entity`, caused by `ctx`'s actor now.
pub fn append(
    conn: &mut DbConnection,
    ctx: &Ctx,
    entity: &EntityRef,
    events: &[DomainEvent],
) -> diesel::QueryResult<()> {
    for e in events {
        repo::insert(
            conn,
            &NewEvent {
                kind: e.kind,
                record_type: &entity.kind,
                record_id: &entity.id,
                record_key: &entity.key,
                actor_id: &ctx.actor.id,
                data: &e.data,
                at: ctx.now,
            },
        )?;
    }
    Ok(())
}
