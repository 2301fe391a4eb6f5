//! Storage: diesel over SQLite or PostgreSQL. Handlers never import `schema`;
//! they call `repo::*` functions that take `&mut DbConnection`.

pub mod connection;
pub mod repo;
pub mod schema;
pub mod strict;

pub use connection::{
    DbConnection, DbPool, DbTarget, PooledConn, StorageFault, build_pool, in_transaction,
    last_insert_id, revert_last_migration, run_first_migrations, run_migrations, storage_fault,
    unique_violation, with_job_lock, with_startup_lock, write_tx,
};

/// Storage timestamps are UTC `NaiveDateTime`s with microsecond precision.
pub fn naive(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    t.naive_utc()
}

/// Reads a stored UTC timestamp back.
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}
