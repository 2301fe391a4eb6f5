//! Extractors that get stricter: `MaybeUser` < `SignedIn` < `CurrentUser` <
//! `WithRole<R>`. Every handler states in its signature who may call it.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::{LocalBoxFuture, Ready, ready};
use serde_json::json;

use super::AppState;
use super::session::SessionCtx;
use crate::domain::user::Role;
use crate::service::access::{self, Denied};
use crate::service::accounts;
use crate::web::error::AppError;

fn session(req: &HttpRequest) -> Option<Arc<SessionCtx>> {
    req.extensions().get::<Arc<SessionCtx>>().cloned()
}

fn sign_in_required(req: &HttpRequest) -> AppError {
    let next = if req.method() == Method::GET {
        match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        }
    } else {
        "/".to_string()
    };
    AppError::SignInRequired { next }
}

/// The session, if there is one.
pub struct MaybeUser(pub Option<Arc<SessionCtx>>);

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(session(req))))
    }
}

/// Signed in, even if a password change is due (the password page itself).
pub struct SignedIn(pub Arc<SessionCtx>);

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(session(req).map(Self).ok_or_else(|| sign_in_required(req)))
    }
}

/// Signed in with no password change due: every ordinary page.
pub struct CurrentUser(pub Arc<SessionCtx>);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match session(req) {
            None => Err(sign_in_required(req)),
            Some(s) if s.account.must_change_password => {
                Err(AppError::Redirect("/account/password".into()))
            }
            Some(s) => Ok(Self(s)),
        })
    }
}

/// A set of roles allowed to call a handler.
pub trait RoleSet {
    const ROLES: &'static [Role];
}

/// Signed in and holding one of `R::ROLES`; a refusal is a 403 and is audited.
pub struct WithRole<R: RoleSet>(pub Arc<SessionCtx>, PhantomData<R>);

impl<R: RoleSet> WithRole<R> {
    pub fn session(&self) -> &SessionCtx {
        &self.0
    }
}

pub struct Admins;
impl RoleSet for Admins {
    const ROLES: &'static [Role] = &[Role::Admin];
}
pub type AdminUser = WithRole<Admins>;

/// Who manages products: quality and administrators.
pub struct ProductManagers;
impl RoleSet for ProductManagers {
    const ROLES: &'static [Role] = &[Role::Quality, Role::Admin];
}
pub type ProductManager = WithRole<ProductManagers>;

/// Who may read the whole audit trail: auditors, quality, and administrators
/// (who need its security events).
pub struct AuditReaders;
impl RoleSet for AuditReaders {
    const ROLES: &'static [Role] = &[Role::Auditor, Role::Quality, Role::Admin];
}
pub type AuditReader = WithRole<AuditReaders>;

impl<R: RoleSet + 'static> FromRequest for WithRole<R> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = CurrentUser::from_request(req, payload).into_inner();
        if let Ok(CurrentUser(s)) = &user
            && !s.account.roles.has_any(R::ROLES)
        {
            // Decided now, so the form extractor waits for this refusal.
            req.extensions_mut().insert(super::csrf::RoleRefused);
        }
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let (method, path) = (req.method().to_string(), req.path().to_string());
        let op = super::errors::operation_id_of(req);
        Box::pin(async move {
            let CurrentUser(s) = user?;
            if s.account.roles.has_any(R::ROLES) {
                return Ok(Self(s, PhantomData));
            }
            let required: Vec<&str> = R::ROLES.iter().map(|r| r.as_str()).collect();
            let names: Vec<String> = R::ROLES.iter().map(|r| r.label().to_lowercase()).collect();
            let why = format!(
                "This page needs the {} role, which your account does not have. Ask an administrator if you need it",
                names.join(" or ")
            );
            if let Some(state) = state {
                let log = state.log_origin.clone();
                let now = state.clock.now();
                let account = s.account.clone();
                let (required, why) = (json!(required), why.clone());
                state
                    .db(move |conn| {
                        let ctx = crate::service::Ctx {
                            log,
                            actor: accounts::actor(&account),
                            now,
                            op,
                        };
                        let denied = Denied {
                            method: &method,
                            path: &path,
                            why: &why,
                            extra: Some(json!({ "required_roles": required })),
                        };
                        Ok(access::denied(
                            conn,
                            &ctx,
                            Some(accounts::entity(&account)),
                            &denied,
                        )?)
                    })
                    .await?;
            }
            Err(AppError::Forbidden(why))
        })
    }
}

/// The client's address: the peer, or the right-most `X-Forwarded-For`
/// address not belonging to a configured trusted proxy.
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn of(req: &HttpRequest, trusted: &[IpAddr]) -> IpAddr {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if !trusted.contains(&peer) {
            return peer;
        }
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        forwarded
            .rsplit(',')
            .filter_map(|p| p.trim().parse::<IpAddr>().ok())
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer)
    }
}

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.trusted_proxies.clone())
            .unwrap_or_default();
        ready(Ok(Self(Self::of(req, &trusted))))
    }
}

/// The request's operation id (shown on error pages, recorded in audit entries).
pub struct OpId(pub Option<String>);

impl FromRequest for OpId {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(super::errors::operation_id_of(req))))
    }
}
