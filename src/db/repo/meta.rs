//! Installation facts kept in `app_meta` (log origin, verifier key, ...).

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::app_meta;

pub const LOG_ORIGIN: &str = "log_origin";
pub const LOG_VKEY: &str = "log_vkey";
pub const INSTALLED_AT: &str = "installed_at";

pub fn get(conn: &mut DbConnection, name: &str) -> QueryResult<Option<String>> {
    app_meta::table
        .filter(app_meta::name.eq(name))
        .select(app_meta::value)
        .first(conn)
        .optional()
}

/// Records a fact once; these facts never change after installation.
pub fn insert(conn: &mut DbConnection, name: &str, value: &str) -> QueryResult<()> {
    diesel::insert_into(app_meta::table)
        .values((app_meta::name.eq(name), app_meta::value.eq(value)))
        .execute(conn)
        .map(|_| ())
}
