//! `POST /hooks/github` and `POST /hooks/gitlab`: engineers link commits by
//! pushing (TRACEABILITY.md). The body is read up to 25 MB (413 beyond, and
//! no more is read), its signature or token checked in constant time against
//! the repository's secret before any JSON is parsed, and a push ingested
//! within the request. A delivery seen before answers 200 and changes
//! nothing; events Attest does not use answer 202.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;

use super::query_text;
use crate::audit::Actor;
use crate::domain::trace::{Provider, Repository};
use crate::ingest::{push, secret};
use crate::service::Ctx;
use crate::service::error::RecordError;
use crate::service::git::{self, Ingested};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::extract::OpId;

/// Largest webhook body (GitHub's own limit).
pub const MAX_BODY: usize = 25 * 1024 * 1024;

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads the body, decoding any content encoding, and stops at `MAX_BODY`
/// bytes (a gzip bomb or an endless chunked body is cut off there).
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<Vec<u8>, AppError> {
    let too_large = || {
        AppError::PayloadTooLarge(format!(
            "The body is larger than the {} MB a webhook may send",
            MAX_BODY / (1024 * 1024)
        ))
    };
    if header(req, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY)
    {
        return Err(too_large());
    }
    let mut stream = actix_web::dev::Decompress::from_headers(payload.into_inner(), req.headers());
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("The body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn named_repository(query: &HashMap<String, String>) -> Result<Option<i64>, AppError> {
    super::filter_value(&query_text(query, "repository"), "repository", |v| {
        v.parse().ok()
    })
}

fn refused() -> AppError {
    AppError::Unauthorized(
        "Unknown repository, or the signature or token does not match its secret".into(),
    )
}

fn system_ctx(state: &AppState, op: Option<String>) -> Ctx {
    Ctx {
        log: state.log_origin.clone(),
        actor: Actor::system(),
        now: state.clock.now(),
        op,
    }
}

/// Parses and ingests a push to `r`; the answer says what happened.
async fn ingest(
    state: &web::Data<AppState>,
    op: Option<String>,
    r: Repository,
    event: String,
    delivery: Option<String>,
    parsed: Result<push::Push, String>,
) -> Result<HttpResponse, AppError> {
    let p = parsed.map_err(|e| AppError::BadRequest(crate::web::error::capitalise(&e)))?;
    if !p.repository.eq_ignore_ascii_case(&r.name) {
        return Err(AppError::BadRequest(format!(
            "The push is for {:?}, but the secret is {}'s",
            p.repository,
            r.binding()
        )));
    }
    // Without a delivery id, the push itself identifies the delivery.
    let delivery = delivery
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .unwrap_or_else(|| format!("{}@{}", p.git_ref, p.head));
    let ctx = system_ctx(state, op);
    let key = state.log_key.clone();
    let outcome = state
        .db(move |conn| Ok(git::ingest(conn, &ctx, &key, &r, &delivery, &event, &p)))
        .await?;
    if matches!(
        outcome,
        Ok(Ingested::Done {
            release: Some(_),
            ..
        })
    ) {
        // The release's manifest needs a checkpoint that holds its entry.
        state.checkpoint().await?;
    }
    Ok(match outcome {
        Ok(Ingested::Duplicate) => HttpResponse::Ok().json(json!({
            "status": "duplicate",
            "detail": "this delivery was processed before; nothing changed",
        })),
        Ok(Ingested::Done {
            release,
            commits,
            new_commits,
            links,
            dangling,
        }) => HttpResponse::Ok().json(json!({
            "status": "processed",
            "release_export": release,
            "commits": commits,
            "new_commits": new_commits,
            "links": links,
            "dangling_keys": dangling,
        })),
        Err(e @ (RecordError::Storage(_) | RecordError::Audit(_))) => return Err(e.into()),
        Err(e) => return Err(AppError::BadRequest(e.to_string())),
    })
}

/// Answers a ping or an event Attest does not use, recorded under the
/// repository's recent deliveries (a delivery without an id gets one from
/// the time it came).
async fn noted(
    state: &web::Data<AppState>,
    op: Option<String>,
    r: Repository,
    event: String,
    delivery: Option<String>,
) -> Result<HttpResponse, AppError> {
    let ctx = system_ctx(state, op);
    let event: String = event.chars().take(100).collect();
    let delivery = delivery
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .unwrap_or_else(|| format!("{event}@{}", ctx.now.to_rfc3339()));
    let ping = event == "ping";
    let outcome = if ping { "ok" } else { "ignored" };
    let binding = r.binding();
    let (e, d) = (event.clone(), delivery);
    state
        .db(move |conn| Ok(git::note_delivery(conn, &ctx, &r, &d, &e, outcome)?))
        .await?;
    Ok(if ping {
        HttpResponse::Ok().json(json!({"status": "ok", "repository": binding}))
    } else {
        HttpResponse::Accepted().json(json!({
            "status": "ignored",
            "detail": format!("Attest does not use {event:?} events"),
        }))
    })
}

/// `POST /hooks/github[?repository=N]`
pub async fn github(
    state: web::Data<AppState>,
    req: HttpRequest,
    OpId(op): OpId,
    query: web::Query<HashMap<String, String>>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let event = header(&req, "x-github-event")
        .ok_or_else(|| AppError::BadRequest("The X-GitHub-Event header is missing".into()))?
        .to_string();
    let signature = header(&req, "x-hub-signature-256")
        .ok_or_else(refused)?
        .to_string();
    let named = named_repository(&query)?;
    let delivery = header(&req, "x-github-delivery").map(str::to_string);
    let body = read_body(&req, payload).await?;
    let key = state.log_key.derived_key(secret::PURPOSE);
    let (r, body) = state
        .db(move |conn| {
            let r = git::authenticate(conn, &key, Provider::Github, named, |s| {
                secret::github_signature_ok(s, &body, &signature)
            })?;
            Ok((r, body))
        })
        .await?;
    let r = r.ok_or_else(refused)?;
    match event.as_str() {
        "push" => ingest(&state, op, r, event, delivery, push::github(&body)).await,
        _ => noted(&state, op, r, event, delivery).await,
    }
}

/// `POST /hooks/gitlab[?repository=N]`
pub async fn gitlab(
    state: web::Data<AppState>,
    req: HttpRequest,
    OpId(op): OpId,
    query: web::Query<HashMap<String, String>>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let event = header(&req, "x-gitlab-event")
        .ok_or_else(|| AppError::BadRequest("The X-Gitlab-Event header is missing".into()))?
        .to_string();
    let token = header(&req, "x-gitlab-token")
        .ok_or_else(refused)?
        .to_string();
    let named = named_repository(&query)?;
    let delivery = header(&req, "idempotency-key")
        .or_else(|| header(&req, "x-gitlab-event-uuid"))
        .map(str::to_string);
    let body = read_body(&req, payload).await?;
    let key = state.log_key.derived_key(secret::PURPOSE);
    let r = state
        .db(move |conn| {
            Ok(git::authenticate(
                conn,
                &key,
                Provider::Gitlab,
                named,
                |s| secret::gitlab_token_ok(s, &token),
            )?)
        })
        .await?
        .ok_or_else(refused)?;
    match event.as_str() {
        "Push Hook" | "Tag Push Hook" => {
            ingest(&state, op, r, event, delivery, push::gitlab(&body)).await
        }
        _ => noted(&state, op, r, event, delivery).await,
    }
}
