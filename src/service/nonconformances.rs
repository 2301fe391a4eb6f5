//! Nonconformances: reporting and correcting the fields; every state change
//! goes through `service::workflow::transition`.

use serde_json::Value;

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::{nonconformances as repo, products};
use crate::db::{DbConnection, write_tx};
use crate::domain::nonconformance::{Nc, NcFields, NcWorkflow};

impl Stored for NcWorkflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Nc>> {
        repo::find(conn, id)
    }
    fn save(conn: &mut DbConnection, record: &Nc) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &Nc) -> i64 {
        record.version
    }
    fn bump(record: &mut Nc, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
    }
    fn entity(record: &Nc) -> EntityRef {
        EntityRef {
            kind: "nonconformance".into(),
            id: format!("nc-{}", record.id),
            key: record.key(),
            version: record.version,
        }
    }
    fn audit_fields(record: &Nc) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &Nc) -> Value {
        record.signed_content()
    }
    fn after_step(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        _from: crate::domain::nonconformance::NcState,
        record: &Nc,
    ) -> Result<(), RecordError> {
        match action {
            "escalate_to_capa" => super::capas::escalated(conn, ctx, record),
            _ => Ok(()),
        }
    }
}

/// Refuses a product that does not exist or is archived.
fn check_product(conn: &mut DbConnection, fields: &NcFields) -> Result<(), RecordError> {
    if let Some(id) = fields.product_id {
        match products::find(conn, id)? {
            Some(p) if p.active => {}
            _ => {
                return Err(RecordError::invalid(
                    "Choose an active product from the list.",
                ));
            }
        }
    }
    Ok(())
}

/// Records a new nonconformance, in state `reported`.
pub fn report(
    conn: &mut DbConnection,
    ctx: &Ctx,
    reporter: i64,
    fields: NcFields,
) -> Result<Nc, RecordError> {
    write_tx(conn, |conn| {
        check_product(conn, &fields)?;
        let nc = repo::insert(conn, &Nc::report(fields, reporter, ctx.now))?;
        audit::append(
            conn,
            &ctx.entry("nonconformance.created")
                .entity(NcWorkflow::entity(&nc))
                .after(nc.audit_fields()),
        )?;
        Ok(nc)
    })
}

/// Corrects the reported fields of a record not yet dispositioned.
pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    fields: NcFields,
) -> Result<Nc, RecordError> {
    write_tx(conn, |conn| {
        let before = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        if before.version != version {
            return Err(RecordError::Stale);
        }
        if before.frozen() {
            return Err(RecordError::invalid(format!(
                "{} is closed: a closed record cannot be changed",
                before.key()
            )));
        }
        if !before.correctable() {
            return Err(RecordError::invalid(format!(
                "{} is {}: the disposition (and any signature on it) rests on the facts as reported, so they can no longer be corrected",
                before.key(),
                before.state.label().to_lowercase()
            )));
        }
        // A product archived after the report may stay; a new choice must be active.
        if fields.product_id != before.product_id {
            check_product(conn, &fields)?;
        }
        let after = Nc {
            title: fields.title,
            source: fields.source,
            product_id: fields.product_id,
            lot_serial: fields.lot_serial,
            description: fields.description,
            detected_on: fields.detected_on,
            severity: fields.severity,
            ..before.clone()
        };
        super::edit::edit(
            conn,
            ctx,
            "nonconformance.updated",
            &before,
            after,
            None,
            |conn, nc| Ok::<_, RecordError>(repo::save(conn, nc)?),
        )
    })
}

crate::versioned!(Nc => <NcWorkflow as Stored>::entity);
