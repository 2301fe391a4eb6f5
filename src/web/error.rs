//! `AppError`: what a request can fail with, mapped to a status and a message
//! a user can act on. The page itself (with the operation id) is rendered by
//! `web::errors`, which sees every 4xx/5xx response; details go to the log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::audit::AuditError;
use crate::service::error::RecordError;
use crate::service::password::PasswordError;

/// The message an error page shows; attached to the response.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub message: String,
}

/// Marks a response whose body is already a complete page (a form shown
/// again with its errors), so the error-page layer leaves it alone.
#[derive(Clone, Copy, Debug)]
pub struct Rendered;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign-in required")]
    SignInRequired { next: String },
    /// A machine caller (webhook, API token) that did not prove who it is.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the page or record does not exist, or you cannot see it")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("redirect to {0}")]
    Redirect(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::SignInRequired { .. } | Self::Redirect(_) => StatusCode::SEE_OTHER,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Redirect(to) => HttpResponse::SeeOther()
                .insert_header(("Location", to.as_str()))
                .finish(),
            Self::SignInRequired { next } => {
                let to = format!("/login?next={}", urlencode(next));
                HttpResponse::SeeOther()
                    .insert_header(("Location", to))
                    .finish()
            }
            other => {
                let message = match other {
                    Self::Internal(detail) => {
                        tracing::error!(error = %detail, "request failed");
                        "Something went wrong on our side. Nothing was saved. Quote the operation id below if you report it.".to_string()
                    }
                    Self::Unavailable(detail) => {
                        tracing::warn!(error = %detail, "service unavailable");
                        format!("{detail} Nothing was saved; try again in a moment.")
                    }
                    e => capitalise(&e.to_string()),
                };
                let mut res = HttpResponse::build(other.status_code()).finish();
                res.extensions_mut().insert(ErrorInfo { message });
                res
            }
        }
    }
}

/// First letter upper-case, ending with a full stop: how messages are shown.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(c.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Percent-encodes a value for a query string.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::Error;
        // Faults of the storage, not of the request: a clear 503, by kind.
        if let Some(fault) = crate::db::storage_fault(&e) {
            // The database's own words go to the log, not to the person.
            tracing::warn!(error = %e, ?fault, "the database cannot take changes");
            return Self::Unavailable("The database cannot take changes right now.".into());
        }
        if let Some(column) = crate::db::unique_violation(&e) {
            return Self::Conflict(format!(
                "Another record already has this {}; nothing was saved",
                column.replace('_', " ")
            ));
        }
        match e {
            Error::NotFound => Self::NotFound,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection");
        Self::Unavailable("The database is not reachable right now.".into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

impl From<AuditError> for AppError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Storage(db) => db.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => {
                Self::Unavailable("The server is busy checking other passwords.".into())
            }
            PasswordError::Hash(detail) => Self::Internal(detail),
        }
    }
}

impl From<RecordError> for AppError {
    fn from(e: RecordError) -> Self {
        use crate::domain::workflow::Refused;
        use RecordError as E;
        match e {
            E::NotFound => Self::NotFound,
            E::Refused(Refused::Role { .. }) | E::Signer(_) => Self::Forbidden(e.to_string()),
            E::Fault(detail) => Self::Internal(detail),
            E::Audit(a) => a.into(),
            E::Storage(db) => db.into(),
            other => match refusal_status(&other) {
                Some(StatusCode::CONFLICT) => Self::Conflict(capitalise(&other.to_string())),
                _ => Self::BadRequest(capitalise(&other.to_string())),
            },
        }
    }
}

/// The status of a refusal the person can act on from the form they sent
/// (a form shown again with the message): 400 for what they typed, 409 for
/// what the record's state or someone else's change makes impossible;
/// `None` for a missing record, a refused role or a fault.
pub fn refusal_status(e: &RecordError) -> Option<StatusCode> {
    use crate::domain::workflow::Refused;
    use RecordError as E;
    match e {
        E::Invalid(_) | E::NoReason => Some(StatusCode::BAD_REQUEST),
        E::Refused(Refused::Role { .. }) => None,
        E::Refused(Refused::Frozen { .. } | Refused::WrongState { .. }) => {
            Some(StatusCode::CONFLICT)
        }
        E::Refused(_) => Some(StatusCode::BAD_REQUEST),
        E::Stale
        | E::Taken { .. }
        | E::Conflict(_)
        | E::SignatureRequired { .. }
        | E::NotAsShown(_) => Some(StatusCode::CONFLICT),
        E::NotFound | E::Signer(_) | E::Fault(_) | E::Audit(_) | E::Storage(_) => None,
    }
}

impl From<crate::signature::KeyError> for AppError {
    fn from(e: crate::signature::KeyError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// What a refused form shows at its top: each field's message for what
/// was typed, else the refusal's sentence.
pub fn refusal_messages(e: &RecordError) -> Vec<String> {
    match e.field_messages() {
        m if m.is_empty() => vec![capitalise(&e.to_string())],
        m => m,
    }
}
