//! Start-up: prepare the installation (data directory, database, migrations,
//! log origin and key, first administrator), then build the bound server.
//! Tests call `Application::build` with port 0 and speak real HTTP to it.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use serde_json::json;
use tracing_actix_web::TracingLogger;

use crate::audit::key::LogKey;
use crate::audit::{self, Actor};
use crate::config::{Settings, TlsFiles};
use crate::db::repo::{meta, users};
use crate::db::{self, DbConnection, DbPool, DbTarget, write_tx};
use crate::domain::user::{Role, Roles, check_password_length};
use crate::service::accounts::{self, NewUserInput};
use crate::service::password::{self, Passwords};
use crate::service::{Ctx, error::RecordError};
use crate::web::{AppState, csrf, errors, headers, routes, session};

/// The first administrator, when this start created it.
#[derive(Debug)]
pub struct CreatedAdmin {
    pub username: String,
    /// Set when the password was generated (and must be changed at first sign-in).
    pub one_time_password: Option<String>,
}

/// A ready installation.
pub struct Prepared {
    pub pool: DbPool,
    pub log_origin: String,
    pub log_key: Arc<LogKey>,
    pub migrations_applied: Vec<String>,
    pub created_admin: Option<CreatedAdmin>,
}

/// Creates the data directory (0700) if it is missing.
fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict the data directory {}", dir.display()))?;
    }
    Ok(())
}

/// Opens the pool and runs the migrations only (`attest migrate`).
pub fn migrate(settings: &Settings) -> anyhow::Result<(DbPool, Vec<String>)> {
    ensure_data_dir(&settings.data_dir)?;
    if let DbTarget::Sqlite(path) = &settings.database
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        ensure_data_dir(parent)?;
    }
    let pool =
        db::build_pool(&settings.database, settings.db_pool_size).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let applied = db::with_startup_lock(&mut conn, |conn| {
        let applied = db::run_migrations(conn)?;
        // Entries written before the Merkle tree was kept get their nodes now.
        let added = crate::audit::tree::catch_up(conn)
            .map_err(|e| format!("building the audit Merkle tree failed: {e}"))?;
        if added > 0 {
            tracing::info!(
                entries = added,
                "built the audit Merkle tree for existing entries"
            );
        }
        Ok(applied)
    })
    .map_err(anyhow::Error::msg)?;
    drop(conn);
    Ok((pool, applied))
}

/// Everything a first start does; later starts only check it (`attest init`).
pub fn prepare(settings: &Settings) -> anyhow::Result<Prepared> {
    let (pool, migrations_applied) = migrate(settings)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let (log_origin, log_key, created_admin) = db::with_startup_lock(&mut conn, |conn| {
        init_installation(conn, settings).map_err(|e| format!("{e:#}"))
    })
    .map_err(anyhow::Error::msg)?;
    drop(conn);
    Ok(Prepared {
        pool,
        log_origin,
        log_key: Arc::new(log_key),
        migrations_applied,
        created_admin,
    })
}

fn system_ctx(log: &str, op: &str) -> Ctx {
    Ctx {
        log: log.to_string(),
        actor: Actor::system(),
        now: crate::clock::now(),
        op: Some(op.to_string()),
    }
}

/// Refuses to go on when the database's audit log is behind, or not
/// consistent with, the last checkpoint written outside it (AUDIT-LOG.md 3).
fn check_against_checkpoint_file(
    conn: &mut DbConnection,
    settings: &Settings,
    key: &LogKey,
) -> anyhow::Result<()> {
    use crate::audit::checkpoint::{FileCheck, check_file};
    let path = settings.checkpoint_file();
    let how = match check_file(conn, key, &path).map_err(anyhow::Error::msg)? {
        FileCheck::Consistent => return Ok(()),
        FileCheck::Behind { signed, tree } => format!(
            "the database's audit log has {tree} entries, but a checkpoint of {signed} entries was signed (in {}); \
             this looks like a restored or truncated database",
            path.display()
        ),
        FileCheck::Forked { signed } => format!(
            "the database's audit log differs from the one signed at {signed} entries (in {}); \
             this is not the log that was signed",
            path.display()
        ),
    };
    tracing::error!("{how}");
    bail!(
        "{how}. Attest will not add to this log. If restoring this database was intended, run \
         `attest audit acknowledge-restore --reason \"...\"`, which records the acknowledgement in the audit log"
    )
}

fn init_installation(
    conn: &mut DbConnection,
    settings: &Settings,
) -> anyhow::Result<(String, LogKey, Option<CreatedAdmin>)> {
    let stored_origin = meta::get(conn, meta::LOG_ORIGIN)?;
    if let (Some(stored), Some(configured)) = (&stored_origin, &settings.log_origin)
        && stored != configured
    {
        bail!(
            "ATTEST_LOG_ORIGIN is {configured:?}, but this installation's audit log was created with origin {stored:?}; the origin of a log can never change"
        );
    }
    let origin = stored_origin
        .clone()
        .unwrap_or_else(|| settings.default_log_origin());
    let stored_vkey = meta::get(conn, meta::LOG_VKEY)?;
    let key = load_or_create_key(&settings.log_key_path(), &origin, stored_vkey.as_deref())?;
    check_against_checkpoint_file(conn, settings, &key)?;
    if stored_origin.is_none() || stored_vkey.is_none() {
        let ctx = system_ctx(&origin, "init");
        let fresh = stored_origin.is_none();
        write_tx(conn, |conn| -> anyhow::Result<()> {
            if fresh {
                meta::insert(conn, meta::LOG_ORIGIN, &origin)?;
                meta::insert(conn, meta::INSTALLED_AT, &audit::format_time(ctx.now))?;
            }
            meta::insert(conn, meta::LOG_VKEY, &key.vkey())?;
            let action = if fresh {
                "system.initialized"
            } else {
                "system.log_key_registered"
            };
            let entry = ctx.entry(action).after(json!({
                "log_origin": origin,
                "verifier_key": key.vkey(),
                "database": settings.database.backend_name(),
                "attest_version": env!("CARGO_PKG_VERSION"),
            }));
            audit::append(conn, &entry)?;
            Ok(())
        })?;
    }
    let created_admin = ensure_admin(conn, settings, &origin)?;
    let restored =
        crate::service::nonconformances::audit_restorations(conn, &system_ctx(&origin, "upgrade"))
            .map_err(|e| anyhow::anyhow!("auditing the nonconformances moved back failed: {e}"))?;
    if restored > 0 {
        tracing::info!(
            records = restored,
            "audited the escalated nonconformances moved back to the state they were escalated from"
        );
    }
    Ok((origin, key, created_admin))
}

/// Loads the log key, or makes it on first start. A database that already
/// has a key registered never gets a new one silently.
fn load_or_create_key(
    path: &Path,
    origin: &str,
    stored_vkey: Option<&str>,
) -> anyhow::Result<LogKey> {
    if path.exists() {
        let key = LogKey::load(path)?;
        if key.name() != origin {
            bail!(
                "the log key {} is named {:?} but this installation's log origin is {origin:?}",
                path.display(),
                key.name()
            );
        }
        if let Some(stored) = stored_vkey
            && stored != key.vkey()
        {
            bail!(
                "the log key {} does not match the verifier key this database was created with ({stored}); restore the right key file",
                path.display()
            );
        }
        return Ok(key);
    }
    if let Some(stored) = stored_vkey {
        bail!(
            "the log key file {} is missing, but this database's log is signed by {stored}; restore the key file from backup",
            path.display()
        );
    }
    let key = LogKey::generate(origin)?;
    key.save_new(path)?;
    tracing::info!(path = %path.display(), vkey = %key.vkey(), "created the audit-log signing key");
    Ok(key)
}

fn ensure_admin(
    conn: &mut DbConnection,
    settings: &Settings,
    origin: &str,
) -> anyhow::Result<Option<CreatedAdmin>> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let (password, must_change) = match &settings.admin_password {
        Some(p) => {
            let p = secrecy::ExposeSecret::expose_secret(p).to_string();
            if let Err(e) = check_password_length(&p) {
                bail!("ATTEST_ADMIN_PASSWORD: {}", e.message);
            }
            (p, false)
        }
        None => (password::one_time_password()?, true),
    };
    let hash = password::hash_blocking(&password)?;
    let input = NewUserInput {
        username: "admin".into(),
        full_name: "Administrator".into(),
        email: "admin@example.com".into(),
        roles: Roles::new([Role::Admin]),
    };
    let valid = accounts::validate_new_user(&input)?;
    match crate::service::people::create_user(
        conn,
        &system_ctx(origin, "init"),
        &valid,
        &hash,
        must_change,
    ) {
        Ok(_) => Ok(Some(CreatedAdmin {
            username: "admin".into(),
            one_time_password: must_change.then_some(password),
        })),
        // Another instance created it first.
        Err(RecordError::Taken { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `attest audit acknowledge-restore`: accepts a database whose audit log is
/// behind or not consistent with the checkpoint file, records that in the
/// log (with both tree states and the reason), and sets the file aside.
pub fn acknowledge_restore(settings: &Settings, reason: &str) -> anyhow::Result<String> {
    use crate::audit::checkpoint::{FileCheck, check_file};
    let reason = accounts::required_reason(reason)?.to_string();
    let (pool, _) = migrate(settings)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    db::with_startup_lock(&mut conn, |conn| {
        let origin = meta::get(conn, meta::LOG_ORIGIN).map_err(|e| e.to_string())?.ok_or("this database has no audit log yet")?;
        let key = LogKey::load(&settings.log_key_path()).map_err(|e| e.to_string())?;
        let path = settings.checkpoint_file();
        let found = check_file(conn, &key, &path)?;
        if found == FileCheck::Consistent {
            return Ok("The database's audit log is consistent with the checkpoint file; there is nothing to acknowledge.".to_string());
        }
        let tree = crate::audit::tree::head(conn).map_err(|e| e.to_string())?;
        let ctx = system_ctx(&origin, "cli");
        let moved = path.with_file_name(format!("checkpoint.superseded-{}", ctx.now.format("%Y%m%dT%H%M%SZ")));
        let (signed, kind) = match found {
            FileCheck::Behind { signed, .. } => (signed, "behind"),
            FileCheck::Forked { signed } => (signed, "forked"),
            FileCheck::Consistent => (0, "consistent"),
        };
        let entry = ctx.entry("audit.restore_acknowledged").reason(reason.clone()).after(json!({
            "signed_checkpoint_size": signed,
            "database_tree_size": tree.size,
            "database_root": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tree.root),
            "finding": kind,
            "superseded_file": moved.file_name().map(|n| n.to_string_lossy().into_owned()),
        }));
        write_tx(conn, |conn| audit::append(conn, &entry)).map_err(|e| e.to_string())?;
        std::fs::rename(&path, &moved).map_err(|e| format!("cannot set aside {}: {e}", path.display()))?;
        Ok(format!(
            "Recorded in the audit log: the database ({} entries) was accepted although {signed} entries had been signed. \
             The old checkpoint file is kept as {}.",
            tree.size,
            moved.display()
        ))
    })
    .map_err(anyhow::Error::msg)
}

fn tls_config(files: &TlsFiles) -> anyhow::Result<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("ATTEST_TLS_CERT {}: {e}", files.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| anyhow::anyhow!("ATTEST_TLS_KEY {}: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            anyhow::anyhow!("ATTEST_TLS_CERT / ATTEST_TLS_KEY do not form a usable pair: {e}")
        })
}

/// How this instance sends mail: the transport the settings name, the
/// sender, and the address links in mail start with (ATTEST_BASE_URL, or
/// this server's own address).
fn mailer(settings: &Settings, port: u16) -> anyhow::Result<crate::service::mail::Mailer> {
    let transport = crate::notify::Transport::new(&settings.mail, &settings.data_dir)
        .map_err(anyhow::Error::msg)?;
    let base_url = settings.base_url.clone().unwrap_or_else(|| {
        let scheme = if settings.tls_enabled() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}:{port}", settings.bind.ip())
    });
    tracing::info!(mail = %transport.describe(), "mail");
    Ok(crate::service::mail::Mailer {
        transport,
        from: settings.mail.from.clone(),
        base_url,
        connections: usize::try_from(settings.mail.smtp_connections).unwrap_or(1),
    })
}

/// The bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    pub prepared_admin: Option<CreatedAdmin>,
    pub log_origin: String,
    pub pool: DbPool,
    /// The database this instance serves.
    pub database: DbTarget,
    state: web::Data<AppState>,
    scheduler: Arc<crate::jobs::Scheduler>,
}

impl Application {
    /// Prepares the installation and binds `settings.bind` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let settings = Arc::new(settings);
        let prep_settings = settings.clone();
        let prepared = tokio::task::spawn_blocking(move || prepare(&prep_settings)).await??;
        let passwords = {
            let n = settings.argon2_concurrency;
            tokio::task::spawn_blocking(move || Passwords::new(n)).await??
        };
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("ATTEST_BIND: cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let mailer = Arc::new(mailer(&settings, port)?);
        let state = web::Data::new(AppState::new(
            prepared.pool.clone(),
            settings.clone(),
            prepared.log_origin.clone(),
            prepared.log_key.clone(),
            passwords,
            mailer.clone(),
        ));
        let scheduler = Arc::new(crate::jobs::Scheduler::new(
            prepared.pool.clone(),
            settings.database.clone(),
            state.clock.clone(),
            vec![
                crate::jobs::checkpoint_job(
                    prepared.log_key.clone(),
                    settings.checkpoint_file(),
                    std::time::Duration::from_secs(settings.checkpoint_interval_seconds),
                ),
                // Approved document versions take effect on their day.
                crate::service::documents::effective_dates_job(
                    prepared.log_origin.clone(),
                    std::time::Duration::from_secs(60),
                ),
                // Training passing its due date is told once.
                crate::service::training::overdue_job(
                    prepared.log_origin.clone(),
                    std::time::Duration::from_secs(300),
                ),
                // What the domain events tell people, in the app.
                crate::service::notifications::notify_job(
                    prepared.log_origin.clone(),
                    std::time::Duration::from_secs(5),
                    mailer.clone(),
                ),
                // Due soon, overdue and escalated reminders, once each.
                crate::service::reminders::reminders_job(
                    prepared.log_origin.clone(),
                    std::time::Duration::from_secs(900),
                    i64::from(settings.reminder_escalate_days),
                ),
                // Daily and weekly digests, for those who chose them.
                crate::service::digests::digests_job(
                    prepared.log_origin.clone(),
                    std::time::Duration::from_secs(300),
                    mailer.clone(),
                ),
                // The outbox, delivered after the transactions that queue it.
                crate::service::mail::mail_job(mailer.clone(), std::time::Duration::from_secs(5)),
            ],
        ));
        scheduler.start();
        let tls = settings.tls_enabled();
        let app_state = state.clone();
        let mut http = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .configure(routes::configure)
                .wrap(from_fn(csrf::layer))
                .wrap(from_fn(session::layer))
                .wrap(from_fn(errors::layer))
                .wrap(headers::security_headers(tls))
                .wrap(TracingLogger::default())
        });
        if let Some(w) = settings.workers {
            http = http.workers(w);
        }
        let server = match &settings.tls {
            Some(files) => http.listen_rustls_0_23(listener, tls_config(files)?)?.run(),
            None => http.listen(listener)?.run(),
        };
        Ok(Self {
            port,
            server,
            prepared_admin: prepared.created_admin,
            log_origin: prepared.log_origin,
            pool: prepared.pool,
            database: settings.database.clone(),
            state,
            scheduler,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// This instance's scheduled jobs.
    pub fn scheduler(&self) -> Arc<crate::jobs::Scheduler> {
        self.scheduler.clone()
    }

    /// The clock this instance reads (tests move it forward).
    pub fn clock(&self) -> crate::clock::Clock {
        self.state.clock.clone()
    }

    /// Serves until the server is stopped (SIGTERM or SIGINT: in-flight
    /// requests finish first), then signs a last checkpoint, so the log's
    /// latest state is signed and in the checkpoint file when the process
    /// ends.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        match self.state.checkpoint().await {
            Ok(cp) => tracing::info!(size = cp.size, "audit checkpoint signed at shutdown"),
            Err(e) => {
                tracing::error!(error = %e, "signing the audit checkpoint at shutdown failed")
            }
        }
        served
    }
}
