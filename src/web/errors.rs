//! Every 4xx/5xx response passes through here and becomes a page (or, under
//! /api/, an RFC 9457 problem document) that says what happened and shows the
//! request's operation id, which is also in the server log.

use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};
use tracing_actix_web::RequestId;

use super::session::SessionCtx;
use super::views::{ErrorPage, PageCtx};
use crate::web::error::{ErrorInfo, Rendered};

pub fn operation_id(req: &ServiceRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.to_string())
}

pub fn operation_id_of(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.to_string())
}

pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let op = operation_id(&req).unwrap_or_default();
    let mut res = next.call(req).await?;
    if let Ok(v) = HeaderValue::from_str(&op) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-operation-id"), v);
    }
    let status = res.status();
    // A redirect to sign in (or to the password form) is not an error:
    // hand it on without the error, so the request log does not call it one.
    if status.is_redirection() && res.response().error().is_some() {
        let (req, old) = res.into_parts();
        let mut plain = HttpResponse::build(status);
        for (name, value) in old.headers() {
            plain.append_header((name.clone(), value.clone()));
        }
        return Ok(ServiceResponse::new(req, plain.finish()).map_into_right_body());
    }
    if !(status.is_client_error() || status.is_server_error())
        || res.response().extensions().get::<Rendered>().is_some()
    {
        return Ok(res.map_into_left_body());
    }
    let message = res
        .response()
        .extensions()
        .get::<ErrorInfo>()
        .map(|i| i.message.clone())
        .unwrap_or_else(|| default_message(status).to_string());
    let (req, old) = res.into_parts();
    let mut page = if req.path().starts_with("/api/") || req.path().starts_with("/hooks/") {
        problem(status, &message, &op)
    } else {
        let session = req.extensions().get::<Arc<SessionCtx>>().cloned();
        html_page(status, &message, &op, session.as_deref())
    };
    for (name, value) in old.headers() {
        if name == header::SET_COOKIE
            || name == header::RETRY_AFTER
            || name.as_str() == "x-operation-id"
        {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, page).map_into_right_body())
}

pub fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request could not be accepted",
        401 => "Not authenticated",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Not allowed here",
        409 => "Conflict",
        413 => "Too large",
        415 => "Unsupported content",
        429 => "Too many requests",
        503 => "Temporarily unavailable",
        s if s >= 500 => "Something went wrong",
        _ => "The request could not be completed",
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "The page or record does not exist, or you cannot see it.",
        405 => "This address does not accept that kind of request.",
        413 => "What you sent is larger than allowed.",
        s if s >= 500 => "Something went wrong on our side. Nothing was saved.",
        _ => "The request could not be completed as sent.",
    }
}

fn html_page(
    status: StatusCode,
    message: &str,
    op: &str,
    session: Option<&SessionCtx>,
) -> HttpResponse<BoxBody> {
    let ctx = match session {
        Some(s) => PageCtx::signed_in(s, ""),
        None => PageCtx::anonymous(String::new()),
    };
    let page = ErrorPage {
        ctx,
        status: status.as_u16(),
        title: title(status),
        message,
        op,
    };
    let body = askama::Template::render(&page)
        .unwrap_or_else(|_| format!("{} {message} Operation id: {op}", status.as_u16()));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn problem(status: StatusCode, message: &str, op: &str) -> HttpResponse<BoxBody> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": title(status),
        "status": status.as_u16(),
        "detail": message,
        "operation_id": op,
    });
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(body.to_string())
}
