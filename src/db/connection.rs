//! The one connection type (SQLite or PostgreSQL, chosen from the URL), the
//! pool, the per-connection SQLite settings, migrations and write transactions.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either backend. Repositories take `&mut DbConnection`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

pub type DbPool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where the data lives, parsed once from `DATABASE_URL` (or the default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbTarget {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://...` or `postgresql://...`.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() {
                return Err(
                    "a sqlite: URL needs a file path, e.g. sqlite://./attest-data/attest.db".into(),
                );
            }
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(format!(
            "unsupported scheme {scheme:?}: use sqlite://PATH or postgres://USER@HOST/DB"
        ))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    /// The target with any password removed, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Postgres(url) => redact_password(url),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// SQLite settings applied to every new connection (docs/architecture.md).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 10000;";

/// r2d2 manager that opens the backend named by our own parsed target (the
/// derive's `establish` would try each backend in turn on an ambiguous URL).
#[derive(Debug)]
pub struct Manager {
    target: DbTarget,
}

impl Manager {
    pub fn new(target: DbTarget) -> Self {
        Self { target }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.target {
            DbTarget::Sqlite(path) => {
                let url = path.to_string_lossy();
                let mut conn = diesel::SqliteConnection::establish(&url)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            DbTarget::Postgres(url) => diesel::PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// The id the last INSERT on this connection gave its row: SQLite's
/// `last_insert_rowid()`, PostgreSQL's `lastval()` (the serial's value in
/// this session). Both are per connection, so they are right under any
/// concurrency; reading back "the newest row" instead can, on PostgreSQL,
/// return another transaction's row committed meanwhile.
pub fn last_insert_id(conn: &mut DbConnection) -> QueryResult<i64> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    match conn {
        DbConnection::Sqlite(c) => {
            diesel::select(sql::<BigInt>("last_insert_rowid()")).get_result(c)
        }
        DbConnection::Postgres(c) => diesel::select(sql::<BigInt>("lastval()")).get_result(c),
    }
}

/// A fault of the storage, not of the request: the person is told to try
/// again later (503), never that they may not do it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageFault {
    /// Another writer holds the database longer than the busy timeout.
    Busy,
    /// The database, its file or its transaction is read-only.
    ReadOnly,
    /// The disk is full.
    Full,
    /// The disk failed to read or write.
    Io,
    /// The connection to the server is gone.
    Closed,
}

/// The kind of storage fault `e` is, if it is one. PostgreSQL's come by
/// diesel's error kind; SQLite's by their result code, which diesel passes
/// on only as `sqlite3_errmsg`'s text for the code (SQLITE_BUSY "database is
/// locked", SQLITE_READONLY "attempt to write a readonly database",
/// SQLITE_FULL "database or disk is full", SQLITE_IOERR "disk I/O error"),
/// so those fixed texts are read here, once.
pub fn storage_fault(e: &diesel::result::Error) -> Option<StorageFault> {
    use diesel::result::{DatabaseErrorKind as K, Error};
    let Error::DatabaseError(kind, info) = e else {
        return None;
    };
    match kind {
        K::ClosedConnection | K::UnableToSendCommand => return Some(StorageFault::Closed),
        K::ReadOnlyTransaction => return Some(StorageFault::ReadOnly),
        _ => {}
    }
    let m = info.message();
    if m.starts_with("database is locked") || m.starts_with("database table is locked") {
        Some(StorageFault::Busy)
    } else if m.starts_with("attempt to write a readonly database") {
        Some(StorageFault::ReadOnly)
    } else if m.starts_with("database or disk is full") {
        Some(StorageFault::Full)
    } else if m.starts_with("disk I/O error") {
        Some(StorageFault::Io)
    } else {
        None
    }
}

/// The column a unique constraint refused a duplicate of, when `e` is such
/// a refusal: from PostgreSQL's constraint name (`products_key_prefix_key`,
/// `requirements_key`) or SQLite's message (`UNIQUE constraint failed:
/// products.key_prefix`). Two people saving the same key at once get this
/// from the database, not from the check before the write.
pub fn unique_violation(e: &diesel::result::Error) -> Option<String> {
    use diesel::result::{DatabaseErrorKind, Error};
    let Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = e else {
        return None;
    };
    if let Some(constraint) = info.constraint_name() {
        let rest = match info.table_name() {
            Some(table) => constraint
                .strip_prefix(table)
                .and_then(|r| r.strip_prefix('_'))
                .unwrap_or(constraint),
            None => constraint,
        };
        return Some(rest.strip_suffix("_key").unwrap_or(rest).to_string());
    }
    let columns = info.message().split(": ").nth(1)?;
    let last = columns.rsplit(", ").next()?;
    Some(last.rsplit('.').next().unwrap_or(last).to_string())
}

/// Builds the pool. Fails if the database cannot be reached within the timeout.
pub fn build_pool(target: &DbTarget, max_size: u32) -> Result<DbPool, String> {
    r2d2::Pool::builder()
        .max_size(max_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(Manager::new(target.clone()))
        .map_err(|e| {
            format!(
                "cannot open the {} database {}: {e}",
                target.backend_name(),
                target.redacted()
            )
        })
}

/// Runs the embedded migrations for the connection's backend; returns the
/// names of the migrations applied now.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| format!("database migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Applies only the first `count` pending migrations: for upgrade tests and
/// staged upgrades. Returns the names applied.
pub fn run_first_migrations(conn: &mut DbConnection, count: usize) -> Result<Vec<String>, String> {
    let mut applied = Vec::new();
    for _ in 0..count {
        let version = match conn {
            DbConnection::Sqlite(c) => c.run_next_migration(SQLITE_MIGRATIONS),
            DbConnection::Postgres(c) => c.run_next_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| format!("database migration failed: {e}"))?;
        applied.push(version.to_string());
    }
    Ok(applied)
}

/// Reverts the last applied migration: for upgrade tests, which take a
/// database back one release to write data as that release did. Returns
/// the name reverted.
pub fn revert_last_migration(conn: &mut DbConnection) -> Result<String, String> {
    match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
    }
    .map(|v| v.to_string())
    .map_err(|e| format!("reverting the last migration failed: {e}"))
}

/// Runs `f` in a write transaction. On SQLite the transaction starts with
/// `BEGIN IMMEDIATE`, taking the single write lock up front, so a transaction
/// that reads before it writes can never fail half-way with SQLITE_BUSY; on
/// PostgreSQL audit appends serialize on the `audit_head` row instead.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Inside another write transaction this one is a savepoint of it.
    let nested = in_transaction(conn);
    match conn {
        DbConnection::Sqlite(c) if !nested => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as TransactionManager<DbConnection>>::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            match <DbConnection as TransactionManager<DbConnection>>::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(err),
                Err(rollback) => Err(rollback.into()),
            }
        }
    }
}

/// True while `conn` is inside a transaction (audit appends require one).
pub fn in_transaction(conn: &mut DbConnection) -> bool {
    matches!(
        <DbConnection as TransactionManager<DbConnection>>::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(Some(_))
    )
}

/// Holds a PostgreSQL session-level advisory lock while start-up work runs,
/// so several instances starting together migrate and initialise once.
pub fn with_startup_lock<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, String>,
) -> Result<T, String> {
    const KEY: i64 = 0x4154_5445_5354; // "ATTEST"
    let is_pg = matches!(conn, DbConnection::Postgres(_));
    if is_pg {
        diesel::sql_query(format!("SELECT pg_advisory_lock({KEY})"))
            .execute(conn)
            .map_err(|e| format!("cannot take the start-up lock: {e}"))?;
    }
    let result = f(conn);
    if is_pg {
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({KEY})")).execute(conn);
    }
    result
}

/// Runs `f` only if no other instance (and no other run in this one) is
/// running the scheduled job `name`: on PostgreSQL under a session-level
/// advisory lock taken without waiting, on SQLite under an exclusive lock
/// on a file beside the database (`attest.db.job-<name>.lock`), so two
/// processes serving one database never run a job at the same time.
/// `Ok(None)` when the job is running elsewhere.
pub fn with_job_lock<T>(
    conn: &mut DbConnection,
    target: &DbTarget,
    name: &str,
    f: impl FnOnce(&mut DbConnection) -> T,
) -> Result<Option<T>, String> {
    use diesel::dsl::sql;
    use diesel::sql_types::Bool;
    match target {
        DbTarget::Sqlite(path) => {
            let mut lock_path = path.clone().into_os_string();
            lock_path.push(format!(".job-{name}.lock"));
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| format!("cannot open the job lock {}: {e}", lock_path.display()))?;
            match file.try_lock() {
                Ok(()) => Ok(Some(f(conn))),
                Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                Err(std::fs::TryLockError::Error(e)) => Err(format!(
                    "cannot lock the job lock {}: {e}",
                    std::path::Path::new(&lock_path).display()
                )),
            }
        }
        DbTarget::Postgres(_) => {
            let digest =
                <sha2::Sha256 as sha2::Digest>::digest(format!("attest.job.{name}").as_bytes());
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            let key = i64::from_be_bytes(first);
            let DbConnection::Postgres(pg) = conn else {
                return Err("the job lock needs a PostgreSQL connection".into());
            };
            let locked = diesel::select(sql::<Bool>(&format!("pg_try_advisory_lock({key})")))
                .get_result::<bool>(pg)
                .map_err(|e| format!("cannot take the job lock: {e}"))?;
            if !locked {
                return Ok(None);
            }
            let out = f(conn);
            if let DbConnection::Postgres(pg) = conn {
                diesel::select(sql::<Bool>(&format!("pg_advisory_unlock({key})")))
                    .get_result::<bool>(pg)
                    .map_err(|e| format!("cannot release the job lock: {e}"))?;
            }
            Ok(Some(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_faults_are_told_apart_from_the_requests_own_errors() {
        use diesel::result::{DatabaseErrorKind as K, Error};
        let sqlite = |m: &str| Error::DatabaseError(K::Unknown, Box::new(m.to_string()));
        assert_eq!(
            storage_fault(&sqlite("database is locked")),
            Some(StorageFault::Busy)
        );
        assert_eq!(
            storage_fault(&sqlite("attempt to write a readonly database")),
            Some(StorageFault::ReadOnly)
        );
        assert_eq!(
            storage_fault(&sqlite("database or disk is full")),
            Some(StorageFault::Full)
        );
        assert_eq!(
            storage_fault(&sqlite("disk I/O error")),
            Some(StorageFault::Io)
        );
        assert_eq!(
            storage_fault(&Error::DatabaseError(
                K::ClosedConnection,
                Box::new("server closed the connection".to_string())
            )),
            Some(StorageFault::Closed)
        );
        // A title that mentions a disk, a duplicate, a missing row: the request's.
        assert_eq!(storage_fault(&sqlite("no such column: disk_full")), None);
        assert_eq!(
            storage_fault(&Error::DatabaseError(
                K::UniqueViolation,
                Box::new("UNIQUE constraint failed: products.key_prefix".to_string())
            )),
            None
        );
        assert_eq!(storage_fault(&Error::NotFound), None);
    }

    #[test]
    fn database_urls_pick_the_backend_or_name_the_bad_scheme() {
        assert_eq!(
            DbTarget::parse("sqlite://./x/attest.db"),
            Ok(DbTarget::Sqlite(PathBuf::from("./x/attest.db")))
        );
        assert!(matches!(
            DbTarget::parse("postgresql://u@h/db"),
            Ok(DbTarget::Postgres(_))
        ));
        let err = DbTarget::parse("mysql://u@h/db").err().unwrap_or_default();
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(DbTarget::parse("sqlite://").is_err());
    }

    #[test]
    fn redaction_hides_the_postgres_password() {
        let t = DbTarget::Postgres("postgres://app:s3cret@db:5432/attest".into());
        assert_eq!(t.redacted(), "postgres://app:***@db:5432/attest");
    }
}
