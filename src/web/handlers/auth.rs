//! Sign-in and sign-out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{html_status, safe_next, see_other};
use crate::audit::Actor;
use crate::db::repo::{signatures, users};
use crate::domain::user::{Username, password_too_long, plausible_password};
use crate::service::accounts::{self, SignIn, SignInAttempt};
use crate::service::{Ctx, random_token, sha256_hex};
use crate::web::AppState;
use crate::web::csrf::{Form, anonymous_cookie};
use crate::web::error::AppError;
use crate::web::extract::{ClientIp, MaybeUser, OpId, SignedIn};
use crate::web::session::session_cookie;
use crate::web::views::{LoginPage, PageCtx};

/// One message for every refusal, so the page never tells an attacker
/// whether a username exists (SECURITY.md).
pub const SIGN_IN_REFUSED: &str =
    "The username or password is wrong, or the account is locked or disabled.";

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
    #[serde(default)]
    locked: Option<String>,
}

pub async fn login_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    MaybeUser(user): MaybeUser,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(&query.next);
    if user.is_some() {
        return Ok(see_other(&next));
    }
    let notice = match (&query.signed_out, &query.locked) {
        (_, Some(_)) => Some(
            "Too many wrong passwords: your account is locked for a while and you have been signed out. Nothing was signed.",
        ),
        (Some(_), None) => Some("You have signed out."),
        (None, None) => None,
    };
    login_page(
        &req,
        &state,
        String::new(),
        next,
        None,
        notice,
        StatusCode::OK,
    )
}

/// The sign-in page, with the double-submit CSRF cookie set if missing.
fn login_page(
    req: &HttpRequest,
    state: &AppState,
    username: String,
    next: String,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (token, fresh) = match req.cookie(state.cookies.csrf) {
        Some(c) if !c.value().is_empty() => (c.value().to_string(), false),
        _ => (random_token().map_err(AppError::internal)?, true),
    };
    let page = LoginPage {
        ctx: PageCtx::anonymous(token.clone()),
        username,
        next,
        error,
        notice,
    };
    let mut res = html_status(status, &page)?;
    if fresh {
        res.add_cookie(&anonymous_cookie(state, token))
            .map_err(AppError::internal)?;
    }
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    ClientIp(ip): ClientIp,
    OpId(op): OpId,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(&form.next);
    let typed = form
        .username
        .chars()
        .take(Username::MAX)
        .collect::<String>();
    let again = |error: &str, status| {
        login_page(
            &req,
            &state,
            typed.clone(),
            next.clone(),
            Some(error.to_string()),
            None,
            status,
        )
    };
    // Forget addresses whose allowance has refilled, so the table stays small.
    if state.login_limiter.len() > 10_000 {
        state.login_limiter.retain_recent();
    }
    if state.login_limiter.check_key(&ip).is_err() {
        let mut res = again(
            "Too many sign-in attempts from your network address. Wait a minute, then try again.",
            StatusCode::TOO_MANY_REQUESTS,
        )?;
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("60"),
        );
        return Ok(res);
    }
    // Absurd input is answered at once, without running argon2.
    if password_too_long(&form.password) {
        return again(
            "Passwords are at most 256 characters, so this one cannot be right.",
            StatusCode::BAD_REQUEST,
        );
    }
    if !plausible_password(&form.password) {
        // Empty, or white space only (which no password can be).
        return again("Enter your password.", StatusCode::BAD_REQUEST);
    }
    let username = form.username.trim().to_lowercase();
    let lookup = username.clone();
    let found = if username.len() <= Username::MAX {
        state
            .db(move |conn| {
                let Some((a, hash)) = users::find_for_sign_in(conn, &lookup)? else {
                    return Ok(None);
                };
                let has_key = signatures::active_key(conn, a.id)?.is_some();
                Ok(Some((hash, a.id, a.must_change_password, has_key)))
            })
            .await?
    } else {
        None
    };
    let stored = found.as_ref().map(|f| f.0.clone());
    let password = Zeroizing::new(form.password);
    let matched = state
        .passwords
        .verify(password.clone(), stored.clone())
        .await?;
    let matched_hash = if matched { stored } else { None };
    // A first signing key, made only under a password the user chose
    // themselves (none is due to change) — docs/signatures.md.
    let new_key = match found {
        Some((_, id, false, false)) if matched => Some(
            state
                .passwords
                .run(move || crate::signature::generate(id.0, &password))
                .await??,
        ),
        _ => None,
    };
    let presented = req
        .cookie(state.cookies.session)
        .map(|c| sha256_hex(c.value().as_bytes()));
    let user_agent: String = req
        .headers()
        .get("user-agent")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let ctx = Ctx {
        log: state.log_origin.clone(),
        actor: Actor::system(),
        now: state.clock.now(),
        op,
    };
    let (lockout, sessions) = (
        state.settings.lockout_policy(),
        state.settings.session_policy(),
    );
    let ip_text = ip.to_string();
    let outcome = state
        .db(move |conn| {
            let attempt = SignInAttempt {
                username: &username,
                matched_hash: matched_hash.as_deref(),
                ip: &ip_text,
                user_agent: &user_agent,
                presented_session: presented.as_deref(),
                lockout,
                sessions,
                new_key: new_key.as_ref(),
            };
            Ok(accounts::sign_in(conn, &ctx, &attempt)?)
        })
        .await?;
    match outcome {
        SignIn::Success { token, account } => {
            let to = if account.must_change_password {
                "/account/password".to_string()
            } else {
                next
            };
            let mut res = see_other(&to);
            res.add_cookie(&session_cookie(&state, token))
                .map_err(AppError::internal)?;
            Ok(res)
        }
        SignIn::Refused => again(SIGN_IN_REFUSED, StatusCode::UNAUTHORIZED),
    }
}

pub async fn logout(
    state: web::Data<AppState>,
    SignedIn(s): SignedIn,
    OpId(op): OpId,
) -> Result<HttpResponse, AppError> {
    let ctx = super::user_ctx(&state, &s, op);
    let (account, hash) = (s.account.clone(), s.id_hash.clone());
    state
        .db(move |conn| {
            Ok(accounts::end_session(
                conn,
                &ctx,
                &account,
                &hash,
                "auth.logout",
                "signed out",
            )?)
        })
        .await?;
    let mut res = see_other("/login?signed_out=1");
    res.add_removal_cookie(&session_cookie(&state, String::new()))
        .map_err(AppError::internal)?;
    Ok(res)
}
