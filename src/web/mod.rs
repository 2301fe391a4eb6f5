//! HTTP: routes, middleware (operation id, headers, error pages, sessions,
//! CSRF), extractors, handlers and views.

pub mod api;
pub mod ask;
pub mod assets;
pub mod csrf;
pub mod error;
pub mod errors;
pub mod extract;
pub mod handlers;
pub mod headers;
pub mod list;
pub mod markdown;
pub mod record;
pub mod rejected;
pub mod routes;
pub mod session;
pub mod step;
pub mod views;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::web;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::db::{DbConnection, DbPool};
use crate::service::password::Passwords;
use crate::web::error::AppError;

/// Shared by every worker.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub log_origin: String,
    /// The audit log's verifier key (`<origin>+<key id>+<public key>`).
    pub log_vkey: String,
    /// The log's signing key, for checkpoints.
    pub log_key: Arc<crate::audit::key::LogKey>,
    pub passwords: Passwords,
    /// The time every request and job reads (tests move it forward).
    pub clock: crate::clock::Clock,
    pub login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    pub cookies: CookieNames,
    /// The dashboard's figures (CAPAs, nonconformances, coverage), taken
    /// and drawn again when the data changes or the day does.
    pub figures: Arc<crate::service::KeptUntilDataChanges<chrono::NaiveDate, views::Figures>>,
    /// Each product's traceability matrix, computed again when the data changes.
    pub matrices: Arc<crate::service::trace::MatrixCache>,
    /// Pages of the CAPA and NC lists, read again when the data changes.
    pub capa_lists: Arc<crate::web::handlers::capas::ListCache>,
    pub nc_lists: Arc<crate::web::handlers::nonconformances::ListCache>,
    pub doc_lists: Arc<crate::web::handlers::documents::ListCache>,
    /// The training matrix by filters and day, kept until the data changes.
    pub training: Arc<crate::web::handlers::training::MatrixCache>,
    /// Who a CAPA or an action item can be given to.
    pub people: Arc<crate::web::handlers::capas::PeopleCache>,
    /// Records' open signature requests and who could sign their steps.
    pub signature_requests: Arc<crate::web::ask::RequestsCache>,
    /// CAPA pages' data and checked signatures, kept until the data changes.
    pub capa_pages: Arc<crate::web::handlers::capas::PageCache>,
    /// Records' History panels, kept until the log grows.
    pub histories: Arc<crate::web::handlers::audit::HistoryCache>,
    /// How mail is sent, for the outbox page's test mail.
    pub mailer: Arc<crate::service::mail::Mailer>,
}

/// Cookie names: `__Host-` prefixed and Secure over TLS, plain on http://localhost.
#[derive(Clone, Debug)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub secure: bool,
}

impl CookieNames {
    pub fn new(tls: bool) -> Self {
        if tls {
            Self {
                session: "__Host-attest",
                csrf: "__Host-attest-csrf",
                secure: true,
            }
        } else {
            Self {
                session: "attest_session",
                csrf: "attest_csrf",
                secure: false,
            }
        }
    }
}

impl AppState {
    pub fn new(
        pool: DbPool,
        settings: Arc<Settings>,
        log_origin: String,
        log_key: Arc<crate::audit::key::LogKey>,
        passwords: Passwords,
        mailer: Arc<crate::service::mail::Mailer>,
    ) -> Self {
        let per_minute = NonZeroU32::new(settings.login_rate_per_minute).unwrap_or(NonZeroU32::MIN);
        let cookies = CookieNames::new(settings.tls_enabled());
        Self {
            pool,
            log_origin,
            mailer,
            log_vkey: log_key.vkey(),
            log_key,
            passwords,
            clock: crate::clock::Clock::system(),
            login_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            cookies,
            settings,
            figures: Arc::default(),
            matrices: Arc::default(),
            capa_lists: Arc::default(),
            nc_lists: Arc::default(),
            doc_lists: Arc::default(),
            training: Arc::default(),
            people: Arc::default(),
            signature_requests: Arc::default(),
            histories: Arc::default(),
            capa_pages: Arc::default(),
        }
    }

    /// Signs a checkpoint if the log grew since the last one, writes it to the
    /// checkpoint file, and returns the latest.
    pub async fn checkpoint(&self) -> Result<crate::audit::checkpoint::Stored, AppError> {
        let key = self.log_key.clone();
        let now = self.clock.now();
        let file = self.settings.checkpoint_file();
        self.db(move |conn| {
            use crate::audit::checkpoint::{SignError, sign_and_write};
            sign_and_write(conn, &key, &file, now).map_err(|e| match e {
                SignError::Audit(e) => e.into(),
                SignError::File { .. } => AppError::Unavailable(error::capitalise(&e.to_string())),
            })
        })
        .await
    }

    /// Runs a page's blocking reads off the actix workers in one read
    /// transaction: the page's statements see one snapshot, and SQLite takes
    /// its read lock once instead of once a statement.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        use diesel::Connection;
        self.db(move |conn| conn.transaction(f)).await
    }

    /// Runs blocking database work off the actix workers.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }
}
