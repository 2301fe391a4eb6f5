//! The audit log's public endpoints (AUDIT-LOG.md section 4). Any signed-in
//! user may use them; auditors need nothing else.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;

use crate::audit::merkle::{self, ProofError};
use crate::audit::tree::{self, DbNodes};
use crate::audit::{self, AuditError};
use crate::error::AppError;
use crate::web::AppState;
use crate::web::extract::{AuditReader, CurrentUser};

/// Most entries one `GET /audit/entries` returns.
pub const MAX_ENTRIES_PER_PAGE: u64 = 10_000;

/// `GET /audit/key`: the verifier key, in the signed-note vkey format.
pub async fn key(state: web::Data<AppState>, _user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.log_vkey))
}

/// `GET /audit/checkpoint`: the latest signed checkpoint (signed now if the
/// log grew since the last one), as the C2SP signed note; `?download=1`
/// offers it as a file to keep beside an export.
pub async fn checkpoint(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let cp = state.checkpoint().await?;
    let mut res = HttpResponse::Ok();
    res.content_type("text/plain; charset=utf-8");
    if query.get("download").is_some_and(|v| v == "1") {
        res.insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit-checkpoint-{}.txt\"", cp.size),
        ));
    }
    Ok(res.body(cp.note))
}

/// Entries read per step of the streamed export.
const EXPORT_STEP: u64 = 1_000;

/// `GET /audit/export`: the whole log as JSON lines, streamed, cut at a
/// checkpoint signed for it, which travels base64-encoded in the
/// `Attest-Checkpoint` header (and is at `/audit/checkpoint?download=1`).
pub async fn export(
    state: web::Data<AppState>,
    _user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let cp = state.checkpoint().await?;
    let size = cp.size;
    let pool = state.pool.clone();
    let stream = futures_util::stream::unfold(0u64, move |start| {
        let pool = pool.clone();
        async move {
            if start >= size {
                return None;
            }
            let end = (start + EXPORT_STEP).min(size);
            let chunk = web::block(move || -> Result<web::Bytes, AppError> {
                let mut conn = pool.get()?;
                let mut out = Vec::new();
                for e in audit::entries(&mut conn, start, end)? {
                    out.extend_from_slice(&e.leaf);
                    out.push(b'\n');
                }
                Ok(web::Bytes::from(out))
            })
            .await;
            match chunk {
                Ok(Ok(bytes)) => Some((Ok(bytes), end)),
                // Stop after an error: the download ends short, and the
                // checkpoint's size tells the auditor it is incomplete.
                Ok(Err(e)) => Some((Err(e), size)),
                Err(e) => Some((Err(AppError::from(e)), size)),
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .insert_header(("Attest-Checkpoint", B64.encode(cp.note.as_bytes())))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit-log-{size}.jsonl\""),
        ))
        .streaming(stream))
}

/// A whole-number query parameter, or a 400 that names it.
fn number(query: &HashMap<String, String>, name: &str) -> Result<u64, AppError> {
    let raw = query
        .get(name)
        .ok_or_else(|| AppError::BadRequest(format!("The parameter {name} is required")))?;
    raw.parse::<u64>()
        .ok()
        .filter(|n| *n < (1 << 62))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "The parameter {name} must be a whole number, not {raw:?}"
            ))
        })
}

fn proof_error(e: ProofError<AuditError>) -> AppError {
    match e {
        ProofError::Source(inner) => inner.into(),
        other => AppError::BadRequest(crate::error::capitalise(&other.to_string())),
    }
}

fn b64_all(hashes: &[merkle::Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h)).collect()
}

/// `GET /audit/proof/inclusion?index=I&size=N` (RFC 9162 2.1.3), for any
/// tree size up to the current one.
pub async fn inclusion(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (index, size) = (number(&query, "index")?, number(&query, "size")?);
    let body = state
        .db(move |conn| {
            let current = tree::head(conn)?.size;
            if size == 0 || size > current {
                return Err(AppError::BadRequest(format!("size must be between 1 and the tree size {current}")));
            }
            if index >= size {
                return Err(AppError::BadRequest(format!("index must be below size ({index} is not below {size})")));
            }
            let mut nodes = DbNodes(conn);
            let hashes = merkle::inclusion_proof(&mut nodes, index, size).map_err(proof_error)?;
            let leaf = merkle::NodeSource::node(&mut nodes, 0, index)?;
            Ok(json!({"index": index, "tree_size": size, "leaf_hash": B64.encode(leaf), "hashes": b64_all(&hashes)}))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string()))
}

/// `GET /audit/proof/consistency?from=M&to=N` (RFC 9162 2.1.4).
pub async fn consistency(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (from, to) = (number(&query, "from")?, number(&query, "to")?);
    let body = state
        .db(move |conn| {
            let current = tree::head(conn)?.size;
            if from == 0 || from > to {
                return Err(AppError::BadRequest(format!(
                    "from must be at least 1 and at most to ({from} > {to} or 0)"
                )));
            }
            if to > current {
                return Err(AppError::BadRequest(format!(
                    "to must be at most the tree size {current}"
                )));
            }
            let hashes =
                merkle::consistency_proof(&mut DbNodes(conn), from, to).map_err(proof_error)?;
            Ok(json!({"from": from, "to": to, "hashes": b64_all(&hashes)}))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string()))
}

/// `GET /audit/entries?start=S&end=E`: the leaf bytes of entries S..E-1, one
/// per line, byte-exact; at most 10,000, and never past the end of the log.
pub async fn entries(
    state: web::Data<AppState>,
    _user: CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (start, end) = (number(&query, "start")?, number(&query, "end")?);
    if start >= end {
        return Err(AppError::BadRequest(format!(
            "start must be below end ({start} is not below {end})"
        )));
    }
    let body = state
        .db(move |conn| {
            let size = audit::size(conn)?;
            if start >= size {
                return Err(AppError::BadRequest(format!(
                    "start must be below the log size {size}"
                )));
            }
            let end = end.min(size).min(start + MAX_ENTRIES_PER_PAGE);
            let mut body = Vec::new();
            for e in audit::entries(conn, start, end)? {
                body.extend_from_slice(&e.leaf);
                body.push(b'\n');
            }
            Ok(body)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jsonl")
        .body(body))
}

/// `GET /audit/verify`: the "Verify now" page. Re-reads and re-hashes every
/// entry, compares the stored tree, and checks every stored checkpoint.
pub async fn verify_now(
    state: web::Data<AppState>,
    reader: AuditReader,
) -> Result<HttpResponse, AppError> {
    let vkey = state.log_vkey.clone();
    let started = std::time::Instant::now();
    let report = state
        .db(move |conn| Ok(crate::audit::verify::verify_database(conn, &vkey)))
        .await?;
    let page = crate::web::views::VerifyPage {
        ctx: super::page_ctx(&state, reader.session(), "/audit").await?,
        ok: report.ok,
        origin: state.log_origin.clone(),
        vkey: state.log_vkey.clone(),
        entries: report.entries,
        checkpoints_checked: report.checkpoints_checked,
        checkpoint_size: report.checkpoint_size,
        checkpoint_root: report.checkpoint_root.clone().unwrap_or_default(),
        failures: report.failures,
        elapsed_ms: started.elapsed().as_millis(),
    };
    super::html(&page)
}
