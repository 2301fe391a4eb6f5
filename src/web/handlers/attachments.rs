//! Attachments (issue 14, item 4): `POST /attachments/{type}/{id}` takes a
//! file (multipart, streamed to disk as it arrives, cut off at the size
//! limit); `GET /attachments/{n}` serves it back as a download (never shown
//! inline); `POST /attachments/{n}/remove` removes it from its record with
//! a reason (the content stays). A refused upload or removal shows the
//! record page again with why, in its Attachments section.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use base64::Engine;
use futures_util::StreamExt;
use serde::Deserialize;

use super::{flash, see_other, user_ctx};
use crate::domain::capa::CapaWorkflow;
use crate::domain::nonconformance::NcWorkflow;
use crate::domain::workflow::Refused;
use crate::files::{CHUNK, StageError, Staging, Store};
use crate::service::attachments::{self as service, Source, Target};
use crate::service::error::RecordError;
use crate::web::AppState;
use crate::web::csrf::Typed;
use crate::web::error::AppError;
use crate::web::extract::{CurrentUser, OpId};
use crate::web::rejected::Rejected;
use crate::web::session::SessionCtx;
use crate::web::step::WebWorkflow;

/// The record page of `kind` number `n` again, with the attachment form
/// that was refused and why.
async fn record_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (kind, n): (&str, i64),
    rejected: Rejected,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    match kind {
        "capa" => CapaWorkflow::refused_page(state, s, n, rejected, status).await,
        "nonconformance" => NcWorkflow::refused_page(state, s, n, rejected, status).await,
        "requirement" => super::requirements::refused_page(state, s, n, rejected, status).await,
        "document_version" => {
            crate::domain::document::DocWorkflow::refused_page(state, s, n, rejected, status).await
        }
        _ => Err(AppError::NotFound),
    }
}

/// A refusal shown on the record page; a refusal of the person's role is
/// audited first (SECURITY.md 29).
async fn refused(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (op, path): (Option<String>, String),
    (kind, n): (&str, i64),
    rejected: Rejected,
    e: RecordError,
) -> Result<HttpResponse, AppError> {
    if let RecordError::Refused(r @ Refused::Role { .. }) = &e {
        super::deny(state, s, op, None, "POST", path, r.to_string()).await?;
        return Err(AppError::Forbidden(r.to_string()));
    }
    let (status, rejected) = super::refused_form(state, s, e, rejected, None).await?;
    record_page(state, s, (kind, n), rejected, status).await
}

/// The largest upload in people's words.
pub fn limit_text(bytes: usize) -> String {
    crate::web::views::attachments::size_text(bytes as i64)
}

/// Reads a small text field of a multipart form (at most 400 bytes).
async fn small_text(field: &mut actix_multipart::Field) -> Result<String, AppError> {
    let mut data = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk
            .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
        data.extend_from_slice(&chunk);
        if data.len() > 400 {
            return Err(AppError::BadRequest("A form field is too long".into()));
        }
    }
    Ok(String::from_utf8_lossy(&data).into_owned())
}

/// `POST /attachments/{type}/{id}` (multipart: `part`, then `file`).
pub async fn upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<(String, String)>,
    mut body: Multipart,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let (kind, id) = path.into_inner();
    let n = crate::domain::record::kind(&kind)
        .and_then(|k| k.number(&id))
        .ok_or(AppError::NotFound)?;
    let asked = (op.clone(), format!("/attachments/{kind}/{id}"));
    let page = (kind.as_str(), n);
    let store = state.settings.files();
    let limit = state.settings.max_upload_bytes as u64;
    let mut part = String::new();
    let mut rejected = Rejected::named("attach");
    while let Some(field) = body.next().await {
        let mut field = field
            .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
        match field.name().unwrap_or_default() {
            "csrf_token" => {
                small_text(&mut field).await?;
            }
            "part" => {
                part = small_text(&mut field).await?;
                rejected = rejected.typed("part", &part);
            }
            "file" => {
                let uploaded = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or_default()
                    .to_string();
                if uploaded.is_empty() {
                    let r = rejected.problem("file", "Choose the file to attach.");
                    return record_page(&state, s, page, r, StatusCode::BAD_REQUEST).await;
                }
                if let Some(problem) = crate::domain::text::upload_name_problem(&uploaded) {
                    let r = rejected.problem("file", problem);
                    return record_page(&state, s, page, r, StatusCode::BAD_REQUEST).await;
                }
                let target = Target {
                    kind: kind.clone(),
                    id: id.clone(),
                    part: part.trim().to_string(),
                };
                // Who may attach is asked before the file is read.
                let (t, who) = (target.clone(), s.account.clone());
                let may = state
                    .db(move |conn| Ok(service::may_attach(conn, &t, &who)))
                    .await?;
                if let Err(e) = may {
                    return refused(&state, s, asked, page, rejected, e).await;
                }
                let mut staging = Staging::new(&store.staging(&state.settings.data_dir), limit)
                    .await
                    .map_err(AppError::internal)?;
                while let Some(chunk) = field.next().await {
                    let chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => {
                            staging.abandon().await;
                            return Err(AppError::BadRequest(format!(
                                "The upload could not be read: {e}"
                            )));
                        }
                    };
                    match staging.write(&chunk).await {
                        Ok(()) => {}
                        Err(StageError::TooLarge { .. }) => {
                            let r = rejected.problem(
                                "file",
                                format!(
                                    "The file is larger than the {} allowed; nothing was attached.",
                                    limit_text(state.settings.max_upload_bytes)
                                ),
                            );
                            return record_page(&state, s, page, r, StatusCode::PAYLOAD_TOO_LARGE)
                                .await;
                        }
                        Err(StageError::Io(e)) => return Err(AppError::internal(e)),
                    }
                }
                let staged = staging.finish().await.map_err(AppError::internal)?;
                if staged.size == 0 {
                    let r = rejected.problem(
                        "file",
                        "The file is empty: choose the file with the evidence in it.",
                    );
                    return record_page(&state, s, page, r, StatusCode::BAD_REQUEST).await;
                }
                return attach(
                    &state,
                    s,
                    (asked, page),
                    (target, &uploaded, staged),
                    rejected,
                )
                .await;
            }
            other => {
                return Err(AppError::BadRequest(format!(
                    "The upload has an unexpected field {other:?}"
                )));
            }
        }
    }
    let r = rejected.problem("file", "Choose the file to attach.");
    record_page(&state, s, page, r, StatusCode::BAD_REQUEST).await
}

/// Keeps a whole upload and records it on its record.
async fn attach(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    (asked, page): ((Option<String>, String), (&str, i64)),
    (target, uploaded, staged): (Target, &str, crate::files::Staged),
    rejected: Rejected,
) -> Result<HttpResponse, AppError> {
    let store = state.settings.files();
    let name = service::shown_name(uploaded);
    let ctx = user_ctx(state, s, asked.0.clone());
    let who = s.account.clone();
    let added = state
        .db(move |conn| {
            // A directory store holds the content before the database
            // records it, so no record names a content that is not there.
            if let Store::Directory(dir) = &store {
                crate::files::keep_in_directory(dir, &staged).map_err(AppError::internal)?;
            }
            Ok(service::add(
                conn, &ctx, &store, &target, &name, &staged, &who,
            ))
        })
        .await?;
    match added {
        Ok(a) => {
            let text = format!("{} attached (SHA-256 {}…).", a.name, &a.sha256[..12]);
            flash(state, s, "ok", &text).await?;
            let to = crate::domain::record::href(&a.record_type, &a.record_id, &s.account.roles)
                .unwrap_or_else(|| "/".into());
            Ok(see_other(&format!("{to}#attachments")))
        }
        Err(e) => refused(state, s, asked, page, rejected, e).await,
    }
}

/// A `filename` for Content-Disposition: the name's ASCII letters, digits
/// and `.-_ ` (the rest `_`), with the whole name in `filename*` (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::web::error::urlencode(name).replace('/', "%2F")
    )
}

/// `GET /attachments/{n}`: the file, as a download, in pieces of 1 MiB.
pub async fn download(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let store = state.settings.files();
    let roles = user.0.account.roles.clone();
    let found = state
        .db(move |conn| Ok(service::for_reading(conn, id, &store, &roles)?))
        .await?;
    let Some((a, source)) = found else {
        return Err(AppError::NotFound);
    };
    let size = u64::try_from(a.size).unwrap_or(0);
    let pieces = size.div_ceil(CHUNK as u64);
    let (pool, sha) = (state.pool.clone(), a.sha256.clone());
    let source = std::sync::Arc::new(source);
    let stream = futures_util::stream::unfold(0u64, move |n| {
        let (pool, sha, source) = (pool.clone(), sha.clone(), source.clone());
        async move {
            if n >= pieces {
                return None;
            }
            let piece = web::block(move || -> Result<web::Bytes, AppError> {
                let bytes = match source.as_ref() {
                    Source::Directory(dir) => {
                        crate::files::read_piece(dir, &sha, n).map_err(AppError::internal)?
                    }
                    Source::Database => {
                        let mut conn = pool.get()?;
                        let n = i64::try_from(n).map_err(AppError::internal)?;
                        crate::db::repo::attachments::chunk(&mut conn, &sha, n)?
                            .ok_or_else(|| AppError::internal("a stored file lacks a piece"))?
                    }
                };
                Ok(web::Bytes::from(bytes))
            })
            .await;
            match piece {
                Ok(Ok(bytes)) => Some((Ok(bytes), n + 1)),
                Ok(Err(e)) => Some((Err(e), pieces)),
                Err(e) => Some((Err(AppError::from(e)), pieces)),
            }
        }
    });
    let digest = hex::decode(&a.sha256)
        .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
        .unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", disposition(&a.name)))
        .insert_header(("Repr-Digest", format!("sha-256=:{digest}:")))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header(("Cache-Control", "private, no-store"))
        .no_chunking(size)
        .streaming(stream))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveData {
    #[serde(default)]
    reason: String,
}

/// `POST /attachments/{n}/remove`: off its record, with a reason.
pub async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, typed): Typed<RemoveData>,
) -> Result<HttpResponse, AppError> {
    let s = &user.0;
    let id = path.into_inner();
    let a = state
        .db(move |conn| Ok(crate::db::repo::attachments::find(conn, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let n = crate::domain::record::kind(&a.record_type)
        .and_then(|k| k.number(&a.record_id))
        .ok_or(AppError::NotFound)?;
    let ctx = user_ctx(&state, s, op.clone());
    let who = s.account.clone();
    let done = state
        .db(move |conn| Ok(service::remove(conn, &ctx, id, &f.reason, &who)))
        .await?;
    match done {
        Ok(removed) => {
            flash(
                &state,
                s,
                "ok",
                &format!("{} removed; its content is kept.", removed.name),
            )
            .await?;
            let to = crate::domain::record::href(&a.record_type, &a.record_id, &s.account.roles)
                .unwrap_or_else(|| "/".into());
            Ok(see_other(&format!("{to}#attachments")))
        }
        Err(e) => {
            let rejected = Rejected::named(&format!("remove-{id}")).typed_all(&typed);
            let asked = (op, format!("/attachments/{id}/remove"));
            refused(&state, s, asked, (&a.record_type, n), rejected, e).await
        }
    }
}

/// The Attachments section of a record without parts (a nonconformance, a
/// requirement): `open` while files may be added and removed, `may_attach`
/// whether this reader may add them; removing takes quality or the person
/// who added the file.
pub fn simple_panel(
    state: &AppState,
    s: &SessionCtx,
    (kind, id): (&str, &str),
    list: &[crate::db::repo::attachments::Attachment],
    (open, may_attach): (bool, bool),
    names: &std::collections::HashMap<i64, String>,
) -> crate::web::views::attachments::AttachmentsPanel {
    use crate::web::views::attachments::{AttachmentView, AttachmentsPanel};
    let me = s.account.id.0;
    let quality = s.account.roles.contains(crate::domain::user::Role::Quality);
    let name_of = |n: i64| names.get(&n).cloned().unwrap_or_else(|| format!("u-{n}"));
    let what = crate::domain::record::kind(kind).map_or("record", |k| k.name);
    AttachmentsPanel {
        list: list
            .iter()
            .map(|a| {
                let can_remove = open && (quality || a.added_by == me);
                AttachmentView::new(
                    a,
                    format!("The {}", what.to_lowercase()),
                    &name_of,
                    can_remove,
                )
            })
            .collect(),
        post_to: (open && may_attach).then(|| format!("/attachments/{kind}/{id}")),
        parts: Vec::new(),
        limit: limit_text(state.settings.max_upload_bytes),
    }
}

/// The people a record's attachments name (who added, who removed).
pub fn people_of(list: &[crate::db::repo::attachments::Attachment]) -> Vec<i64> {
    list.iter()
        .flat_map(|a| [Some(a.added_by), a.removed.as_ref().map(|r| r.by)])
        .flatten()
        .collect()
}

/// `GET` on an attachment form's URL (a reload after a refused upload or
/// removal): back to the record's Attachments section.
pub async fn back(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let roles = &user.0.account.roles;
    let parts: Vec<&str> = req.path().trim_matches('/').split('/').collect();
    let record = match parts.as_slice() {
        ["attachments", n, "remove"] => {
            let id: i64 = n.parse().map_err(|_| AppError::NotFound)?;
            state
                .db(move |conn| Ok(crate::db::repo::attachments::find(conn, id)?))
                .await?
                .map(|a| (a.record_type, a.record_id))
        }
        ["attachments", kind, id] => Some((kind.to_string(), id.to_string())),
        _ => None,
    };
    let to = record
        .and_then(|(kind, id)| crate::domain::record::href(&kind, &id, roles))
        .ok_or(AppError::NotFound)?;
    Ok(see_other(&format!("{to}#attachments")))
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn a_download_is_named_safely_in_both_forms() {
        assert_eq!(
            disposition("Prüfbericht \"A\".pdf"),
            "attachment; filename=\"Pr_fbericht _A_.pdf\"; filename*=UTF-8''Pr%C3%BCfbericht%20%22A%22.pdf"
        );
    }
}
