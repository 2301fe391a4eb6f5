//! HTTP: routes, middleware (operation id, headers, error pages, sessions,
//! CSRF), extractors, handlers and views.

pub mod assets;
pub mod csrf;
pub mod errors;
pub mod extract;
pub mod handlers;
pub mod headers;
pub mod routes;
pub mod session;
pub mod views;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::web;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::db::{DbConnection, DbPool};
use crate::error::AppError;
use crate::service::password::Passwords;

/// Shared by every worker.
pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    pub log_origin: String,
    /// The audit log's verifier key (`<origin>+<key id>+<public key>`).
    pub log_vkey: String,
    pub passwords: Passwords,
    pub login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    pub cookies: CookieNames,
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
        log_vkey: String,
        passwords: Passwords,
    ) -> Self {
        let per_minute = NonZeroU32::new(settings.login_rate_per_minute).unwrap_or(NonZeroU32::MIN);
        let cookies = CookieNames::new(settings.tls_enabled());
        Self {
            pool,
            log_origin,
            log_vkey,
            passwords,
            login_limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            cookies,
            settings,
        }
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
