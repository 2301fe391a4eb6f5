//! Products: created and changed by quality and administrators, each change
//! audited in its transaction with the fields before and after.

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::repo::products as repo;
use crate::db::{DbConnection, write_tx};
use crate::domain::product::{Product, ProductFields};

/// Another product holds `field` (`name` or `key_prefix`) already.
fn taken(field: &'static str) -> RecordError {
    let what = if field == "name" {
        "name"
    } else {
        "key prefix"
    };
    RecordError::taken(
        field,
        format!("another product already has this {what}; names and key prefixes are never reused"),
    )
}

/// A duplicate the database itself refused (two saves at once): the same
/// answer as the check before the write gives.
fn taken_by_database(e: diesel::result::Error) -> RecordError {
    match crate::db::unique_violation(&e).as_deref() {
        Some("name") => taken("name"),
        Some("key_prefix") => taken("key_prefix"),
        _ => RecordError::Storage(e),
    }
}

pub fn entity(p: &Product) -> EntityRef {
    EntityRef {
        kind: "product".into(),
        id: format!("p-{}", p.id),
        key: p.key_prefix.clone(),
        version: p.version,
    }
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    fields: &ProductFields,
) -> Result<Product, RecordError> {
    write_tx(conn, |conn| {
        if let Some(what) = repo::clash(conn, fields, None)? {
            return Err(taken(what));
        }
        let p = repo::insert(conn, fields, ctx.now).map_err(taken_by_database)?;
        audit::append(
            conn,
            &ctx.entry("product.created")
                .entity(entity(&p))
                .after(p.audit_fields()),
        )?;
        Ok(p)
    })
}

fn load(conn: &mut DbConnection, id: i64, version: i64) -> Result<Product, RecordError> {
    let p = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
    if p.version != version {
        return Err(RecordError::Stale);
    }
    Ok(p)
}

/// Saves `after` (one version on from `before`) and audits the fields that
/// changed; nothing is written when nothing changed.
fn save(
    conn: &mut DbConnection,
    ctx: &Ctx,
    action: &str,
    before: &Product,
    after: Product,
    reason: Option<&str>,
) -> Result<Product, RecordError> {
    super::edit::edit(conn, ctx, action, before, after, reason, |conn, p| {
        repo::save(conn, p).map_err(taken_by_database)
    })
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    fields: &ProductFields,
) -> Result<Product, RecordError> {
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        if let Some(what) = repo::clash(conn, fields, Some(id))? {
            return Err(taken(what));
        }
        let after = Product {
            name: fields.name.clone(),
            key_prefix: fields.key_prefix.clone(),
            safety_class: fields.safety_class,
            description: fields.description.clone(),
            ..before.clone()
        };
        save(conn, ctx, "product.updated", &before, after, None)
    })
}

/// Archives (no new records may name it) or restores a product.
pub fn set_active(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    active: bool,
    reason: &str,
) -> Result<Product, RecordError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RecordError::NoReason);
    }
    write_tx(conn, |conn| {
        let before = load(conn, id, version)?;
        let after = Product {
            active,
            ..before.clone()
        };
        let action = if active {
            "product.restored"
        } else {
            "product.archived"
        };
        save(conn, ctx, action, &before, after, Some(reason))
    })
}

crate::versioned!(Product => entity);
