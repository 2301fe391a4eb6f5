//! Server-side sessions (SECURITY.md): the cookie holds a random token; the
//! database holds its SHA-256, the user, the CSRF token and the timestamps.
//! This middleware loads the session once per request and ends it when it
//! timed out (idle 30 min / absolute 12 h) or its account was disabled.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use chrono::Duration;

use super::AppState;
use crate::audit::Actor;
use crate::db::repo::sessions;
use crate::domain::user::{Account, SessionState, session_state};
use crate::service::{Ctx, accounts, sha256_hex};
use crate::web::error::AppError;

/// The signed-in session, as handlers see it (a request extension).
#[derive(Clone, Debug)]
pub struct SessionCtx {
    pub id_hash: String,
    pub csrf_token: String,
    pub account: Account,
    pub flash: Option<String>,
    /// How many of the person's notifications are unread (the bell).
    pub unread: i64,
}

/// Request extension telling the response to drop a dead session cookie.
struct ClearSessionCookie;

/// How often `last_seen_at` is written: idle time is measured to the minute,
/// so a page view needs no database write.
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let path = req.path();
    if path.starts_with("/static/") || path == "/healthz" || path == "/readyz" {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if let Some(cookie) = req.cookie(state.cookies.session) {
        let hash = sha256_hex(cookie.value().as_bytes());
        let op = super::errors::operation_id(&req);
        let loaded = {
            let state = state.clone();
            state
                .clone()
                .db(move |conn| load(conn, &state, &hash, op))
                .await
        };
        match loaded {
            Ok(Some(ctx)) => {
                req.extensions_mut().insert(Arc::new(ctx));
            }
            Ok(None) => {
                req.extensions_mut().insert(ClearSessionCookie);
            }
            Err(e) => return Ok(req.error_response(e).map_into_right_body()),
        }
    }
    let clear = req.extensions().get::<ClearSessionCookie>().is_some();
    let mut res = next.call(req).await?;
    if clear {
        let _ = res
            .response_mut()
            .add_removal_cookie(&session_cookie(&state, String::new()));
    }
    Ok(res.map_into_left_body())
}

fn load(
    conn: &mut crate::db::DbConnection,
    state: &AppState,
    hash: &str,
    op: Option<String>,
) -> Result<Option<SessionCtx>, AppError> {
    let now = state.clock.now();
    let Some((session, account)) = sessions::find_with_user(conn, hash)? else {
        return Ok(None);
    };
    if session.ended_at.is_some() {
        return Ok(None);
    }
    let ctx = Ctx {
        log: state.log_origin.clone(),
        actor: Actor::system(),
        now,
        op,
    };
    if !account.active {
        accounts::end_session(
            conn,
            &ctx,
            &account,
            hash,
            "auth.session_ended",
            "account disabled",
        )?;
        return Ok(None);
    }
    let policy = state.settings.session_policy();
    let expired = match session_state(session.last_seen_at, session.expires_at, now, &policy) {
        SessionState::Live => None,
        SessionState::IdleTimeout => Some("idle timeout"),
        SessionState::AbsoluteTimeout => Some("absolute timeout"),
    };
    if let Some(reason) = expired {
        accounts::end_session(conn, &ctx, &account, hash, "auth.session_expired", reason)?;
        return Ok(None);
    }
    // A read must not fail because the database cannot take a write (disk
    // full, read-only): the page is served, and idle time is counted from
    // the last touch that was written (SECURITY.md 20).
    if now - session.last_seen_at >= TOUCH_EVERY
        && let Err(e) = sessions::touch(conn, hash, now)
    {
        tracing::warn!(error = %e, "the session's last-seen time could not be written");
    }
    let unread = crate::db::repo::notifications::unread(conn, account.id.0)?;
    Ok(Some(SessionCtx {
        id_hash: session.id_hash,
        csrf_token: session.csrf_token,
        account,
        flash: session.flash,
        unread,
    }))
}

/// The session cookie with the attributes SECURITY.md requires.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let mut c = Cookie::new(state.cookies.session, token);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_secure(state.cookies.secure);
    c
}
