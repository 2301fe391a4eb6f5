//! Repository functions: `&mut DbConnection` in, domain types out.

pub mod attachments;
pub mod capas;
pub mod documents;
pub mod events;
pub mod exports;
pub mod git;
pub mod links;
pub mod mail_prefs;
pub mod meta;
pub mod nonconformances;
pub mod notifications;
pub mod outbox;
pub mod products;
pub mod reminders;
pub mod requirements;
pub mod risk_reports;
pub mod risks;
pub mod sessions;
pub mod signature_requests;
pub mod signatures;
pub mod tests;
pub mod tokens;
pub mod training;
pub mod users;

/// `s` with LIKE's wildcards escaped (use with `.escape('\\')`).
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends (PostgreSQL's LIKE is case-sensitive).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Runs `load` on slices of at most 500 of `items`, so no statement carries
/// more parameters than a database takes, and joins what they return.
pub fn chunked<I, T>(
    items: &[I],
    mut load: impl FnMut(&[I]) -> diesel::QueryResult<Vec<T>>,
) -> diesel::QueryResult<Vec<T>> {
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(500) {
        out.extend(load(chunk)?);
    }
    Ok(out)
}

/// A multi-row INSERT on the connection's own backend (the connection enum
/// cannot batch): one statement a batch instead of one a row.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            crate::db::DbConnection::Sqlite(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
            crate::db::DbConnection::Postgres(c) => {
                diesel::insert_into($table).values($rows).execute(c)
            }
        }
    };
}
pub(crate) use batch_insert;

/// Which of `ids` are rows of the numbered record kind `kind` (the kinds a
/// key like `CAPA-7` can name); none for a kind without numbered keys.
pub fn existing(
    conn: &mut crate::db::DbConnection,
    kind: &crate::domain::record::RecordKind,
    ids: &[i64],
) -> diesel::QueryResult<Vec<i64>> {
    use crate::db::schema::{capas, documents, nonconformances};
    use crate::domain::record;
    use diesel::prelude::*;
    chunked(ids, |chunk| {
        if *kind == record::CAPA {
            capas::table
                .filter(capas::id.eq_any(chunk))
                .select(capas::id)
                .load(conn)
        } else if *kind == record::NONCONFORMANCE {
            nonconformances::table
                .filter(nonconformances::id.eq_any(chunk))
                .select(nonconformances::id)
                .load(conn)
        } else if *kind == record::DOCUMENT {
            documents::table
                .filter(documents::id.eq_any(chunk))
                .select(documents::id)
                .load(conn)
        } else {
            Ok(Vec::new())
        }
    })
}
