//! The JSON API under `/api/v1`, for machines with an API token
//! (`Authorization: Bearer attest_…`): no session, no CSRF token, answers
//! and errors in JSON (RFC 9457 problem documents). Every call is audited
//! as the token's user.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;

use super::AppState;
use super::handlers::query_text;
use crate::db::repo::tokens::Token;
use crate::db::repo::{git, products};
use crate::domain::trace::{Provider, Scope};
use crate::domain::user::Account;
use crate::ingest::junit;
use crate::service::tokens::{self, Refused};
use crate::service::{Ctx, testruns};
use crate::web::error::AppError;
use crate::web::list::{ListQuery, PerPage};

/// A caller that showed a live token; its account and scopes.
pub struct ApiUser {
    pub token: Token,
    pub account: Account,
    pub op: Option<String>,
}

impl ApiUser {
    /// 403 unless the token has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AppError> {
        if self.token.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "This token does not have the {:?} scope",
                scope.as_str()
            )))
        }
    }

    pub fn ctx(&self, state: &AppState) -> Ctx {
        Ctx {
            log: state.log_origin.clone(),
            actor: crate::service::accounts::actor(&self.account),
            now: state.clock.now(),
            op: self.op.clone(),
        }
    }
}

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_string);
        let call = (req.method().to_string(), req.path().to_string());
        let op = super::errors::operation_id_of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let Some(presented) = presented else {
                return Err(AppError::Unauthorized(capital(&Refused::Missing)));
            };
            let log = state.log_origin.clone();
            let op2 = op.clone();
            let now = state.clock.now();
            let checked = state
                .db(move |conn| {
                    Ok(tokens::authenticate(
                        conn,
                        &log,
                        op2,
                        &presented,
                        (&call.0, &call.1),
                        now,
                    ))
                })
                .await?
                .map_err(AppError::internal)?;
            match checked {
                Ok((token, account)) => Ok(Self { token, account, op }),
                Err(refused) => Err(AppError::Unauthorized(capital(&refused))),
            }
        })
    }
}

fn capital(r: &Refused) -> String {
    crate::web::error::capitalise(&r.to_string())
}

/// The product a run belongs to: from `repo` (a registered repository,
/// `owner/name` or `github:owner/name`) or `product` (a key prefix).
fn run_target(
    conn: &mut crate::db::DbConnection,
    repo: &str,
    product: &str,
) -> Result<(i64, Option<i64>), AppError> {
    if !repo.is_empty() {
        let (provider, name) =
            match repo.split_once(':') {
                Some((p, n)) => (
                    Some(Provider::parse(p).ok_or_else(|| {
                        AppError::BadRequest(format!("There is no provider {p:?}"))
                    })?),
                    n,
                ),
                None => (None, repo),
            };
        let found: Vec<_> = git::all(conn)?
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(name))
            .filter(|r| provider.is_none_or(|p| r.provider == p))
            .collect();
        return match found.as_slice() {
            [r] => Ok((r.product_id, Some(r.id))),
            [] => Err(AppError::BadRequest(format!(
                "No repository {repo:?} is registered; an administrator registers it under Repositories"
            ))),
            _ => Err(AppError::BadRequest(format!(
                "{repo:?} is registered on both GitHub and GitLab: send github:{name} or gitlab:{name}"
            ))),
        };
    }
    if !product.is_empty() {
        let all = products::list(conn, true, 0, 500)?.0;
        return all
            .into_iter()
            .find(|p| p.key_prefix.eq_ignore_ascii_case(product))
            .map(|p| (p.id, None))
            .ok_or_else(|| AppError::BadRequest(format!("There is no product {product:?}")));
    }
    Err(AppError::BadRequest(
        "Say whose tests these are: ?repo=owner/name (a registered repository) or ?product=KEY"
            .into(),
    ))
}

/// `POST /api/v1/test-runs?repo=…&commit=…&branch=…&ci_url=…` with a JUnit
/// XML body: the run is stored and summarised.
pub async fn post_test_run(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    user.require(Scope::TestRunsWrite)?;
    let get = |k| query_text(&query, k);
    let (repo, product, commit, branch, ci_url) = (
        get("repo"),
        get("product"),
        get("commit"),
        get("branch"),
        get("ci_url"),
    );
    let sha_like =
        (7..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit());
    if !commit.is_empty() && !sha_like {
        return Err(AppError::BadRequest(format!(
            "{commit:?} is not a commit id"
        )));
    }
    for (name, value) in [("branch", &branch), ("ci_url", &ci_url)] {
        if value.len() > 2_000 {
            return Err(AppError::BadRequest(format!("{name} is too long")));
        }
    }
    let limit = state.settings.max_upload_bytes;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("The body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge(format!(
                "The file is larger than the {} KiB allowed",
                limit / 1024
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).map_err(|e| {
        AppError::BadRequest(format!(
            "The body is not UTF-8 (byte {} is not)",
            e.utf8_error().valid_up_to() + 1
        ))
    })?;
    let file_sha256 = crate::service::sha256_hex(text.as_bytes());
    // Parse off the async workers: a large file takes a while.
    let cases = web::block(move || junit::parse(&text))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::BadRequest(format!("The body is not JUnit XML: {e}")))?;
    let ctx = user.ctx(&state);
    let by = user.account.id.0;
    let summary = state
        .db(move |conn| {
            let (product_id, repository_id) = run_target(conn, &repo, &product)?;
            let meta = testruns::RunMeta {
                product_id,
                repository_id,
                commit: commit.to_ascii_lowercase(),
                branch,
                ci_url,
                file_sha256,
            };
            testruns::import(conn, &ctx, by, &meta, &cases).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Created().json(summary))
}

/// `page` (from 1) and `per_page` (1-500, default 100) of a list call.
/// An API list's page size: `per_page` 1 to 500, 100 when absent.
const API_PAGE: PerPage = PerPage::Asked {
    default: 100,
    max: 500,
};

fn paging(query: &HashMap<String, String>) -> Result<(i64, i64), AppError> {
    let q = ListQuery::read(query, &[], API_PAGE)?;
    Ok((q.page, q.per_page))
}

/// Page `page` of `all`, `per_page` long.
fn page_of<T>(all: &[T], page: i64, per_page: i64) -> &[T] {
    let from = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let len = usize::try_from(per_page).unwrap_or(100);
    all.get(from..)
        .map_or(&[], |rest| &rest[..len.min(rest.len())])
}

fn listing<T: serde::Serialize>(items: T, page: i64, per_page: i64, total: i64) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
    }))
}

/// The product a read call names: `product` as a key prefix or a number.
fn named_product(conn: &mut crate::db::DbConnection, v: &str) -> Result<i64, AppError> {
    if v.is_empty() {
        return Err(AppError::BadRequest(
            "Name the product: ?product=KEY (its key prefix) or its number".into(),
        ));
    }
    products::list(conn, true, 0, 500)?
        .0
        .into_iter()
        .find(|p| p.key_prefix.eq_ignore_ascii_case(v) || p.id.to_string() == v)
        .map(|p| p.id)
        .ok_or_else(|| AppError::BadRequest(format!("There is no product {v:?}")))
}

/// `GET /api/v1/requirements?product=…[&status=active|retired][&page=&per_page=]`
pub async fn get_requirements(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::requirements as repo;
    user.require(Scope::Read)?;
    // The list's filters, but the product named by its key prefix or number.
    let params: Vec<&str> = super::handlers::requirements::PARAMS
        .iter()
        .copied()
        .filter(|p| *p != "product")
        .collect();
    let q = ListQuery::read(&query, &params, API_PAGE)?;
    let (page, per_page, offset) = (q.page, q.per_page, q.offset());
    let mut f = super::handlers::requirements::filter_of(&q)?;
    let product = query_text(&query, "product");
    let (rows, total) = state
        .db(move |conn| {
            f.product_id = Some(named_product(conn, &product)?);
            Ok(repo::list(conn, &f, offset, per_page)?)
        })
        .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut v = r.audit_fields();
            if let Some(o) = v.as_object_mut() {
                o.insert("id".into(), r.id.into());
                o.insert(
                    "updated_at".into(),
                    crate::audit::format_time(r.updated_at).into(),
                );
            }
            v
        })
        .collect();
    Ok(listing(items, page, per_page, total))
}

/// `GET /api/v1/test-cases?product=…`
pub async fn get_test_cases(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    user.require(Scope::Read)?;
    let (page, per_page) = paging(&query)?;
    let product = query_text(&query, "product");
    let (items, total) = state
        .db(move |conn| {
            let pid = named_product(conn, &product)?;
            let all = crate::db::repo::tests::cases_of_product(conn, pid)?;
            let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
            let shown = page_of(&all, page, per_page);
            let ids: Vec<i64> = shown.iter().map(|c| c.id).collect();
            let latest: HashMap<i64, crate::db::repo::tests::LatestResult> =
                crate::db::repo::tests::latest_results(conn, &ids)?
                    .into_iter()
                    .map(|r| (r.test_case_id, r))
                    .collect();
            let items: Vec<serde_json::Value> = shown
                .iter()
                .map(|c| {
                    let l = latest.get(&c.id);
                    serde_json::json!({
                        "id": c.id,
                        "key": c.key,
                        "title": c.title,
                        "latest_result": l.map(|l| l.outcome.as_str()),
                        "latest_run": l.map(|l| l.run_id),
                    })
                })
                .collect();
            Ok((items, total))
        })
        .await?;
    Ok(listing(items, page, per_page, total))
}

/// `GET /api/v1/matrix?product=…`: every row with its coverage.
pub async fn get_matrix(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    user.require(Scope::Read)?;
    let (page, per_page) = paging(&query)?;
    let product = query_text(&query, "product");
    let cache = state.matrices.clone();
    let rows = state
        .db(move |conn| {
            let pid = named_product(conn, &product)?;
            Ok(cache.get(conn, pid, |c| crate::service::trace::rows(c, pid))?)
        })
        .await?;
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    Ok(listing(
        page_of(&rows, page, per_page),
        page,
        per_page,
        total,
    ))
}

/// `GET /api/v1/capas[?state=…]`
pub async fn get_capas(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::capas as repo;
    user.require(Scope::Read)?;
    let q = ListQuery::read(&query, super::handlers::capas::PARAMS, API_PAGE)?;
    let today = state.clock.today();
    let (f, order) = super::handlers::capas::filter_of(&q, today)?;
    let (page, per_page, offset) = (q.page, q.per_page, q.offset());
    let (rows, total) = state
        .db(move |conn| Ok(repo::list(conn, &f, order, offset, per_page)?))
        .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|c| {
            serde_json::json!({
                "id": c.id,
                "key": c.key(),
                "title": c.title,
                "type": c.kind.as_str(),
                "state": c.state.as_str(),
                "priority": c.priority.map(|p| p.as_str()),
                "owner_id": c.owner_id,
                "product_id": c.product_id,
                "source": c.source.as_str(),
                "source_ref": c.source_ref,
                "due_on": c.due_on.map(|d| d.to_string()),
                "overdue": c.overdue(today),
                "opened_at": crate::audit::format_time(c.created_at),
            })
        })
        .collect();
    Ok(listing(items, page, per_page, total))
}

/// `GET /api/v1/nonconformances[?state=…]`
pub async fn get_nonconformances(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::nonconformances as repo;
    user.require(Scope::Read)?;
    let q = ListQuery::read(&query, super::handlers::nonconformances::PARAMS, API_PAGE)?;
    let (f, order) = super::handlers::nonconformances::filter_of(&q)?;
    let (page, per_page, offset) = (q.page, q.per_page, q.offset());
    let (rows, total) = state
        .db(move |conn| Ok(repo::list(conn, &f, order, offset, per_page)?))
        .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|n| {
            let mut v = n.audit_fields();
            if let Some(o) = v.as_object_mut() {
                o.insert("id".into(), n.id.into());
                o.insert("key".into(), n.key().into());
                o.insert(
                    "reported_at".into(),
                    crate::audit::format_time(n.created_at).into(),
                );
            }
            v
        })
        .collect();
    Ok(listing(items, page, per_page, total))
}

/// A version as the API shows it.
fn version_json(v: &crate::domain::document::DocVersion) -> serde_json::Value {
    serde_json::json!({
        "version": v.number,
        "key": v.key(),
        "state": v.state.as_str(),
        "title": v.title,
        "author_id": v.author_id,
        "reviewers": v.reviewers,
        "reviewed_this_round": v.reviewed,
        "approver_id": v.approver_id,
        "effective_on": v.effective_on.map(|d| d.to_string()),
        "effective_from": v.effective_from.map(|d| d.to_string()),
        "training_required": v.training_required,
        "change_reason": v.change_reason,
        "change_summary": v.change_summary,
        "files": v.files.iter().map(|f| serde_json::json!({"name": f.name, "sha256": f.sha256, "size": f.size})).collect::<Vec<_>>(),
        "content_sha256": crate::service::workflow::content_hash::<crate::domain::document::DocWorkflow>(v).ok(),
    })
}

/// `GET /api/v1/documents[?type=…&state=…&owner=…&product=…&review=due&q=…]`:
/// the master list, paged.
pub async fn get_documents(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::documents as repo;
    user.require(Scope::Read)?;
    let q = ListQuery::read(&query, super::handlers::documents::PARAMS, API_PAGE)?;
    let today = state.clock.today();
    let (f, order) = super::handlers::documents::filter_of(&q, today)?;
    let (page, per_page, offset) = (q.page, q.per_page, q.offset());
    let (rows, total) = state
        .db(move |conn| Ok(repo::list(conn, &f, order, offset, per_page)?))
        .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.doc.id,
                "key": r.doc.key(),
                "title": r.doc.title,
                "type": r.doc.doc_type.as_str(),
                "owner_id": r.doc.owner_id,
                "product_id": r.doc.product_id,
                "review_months": r.doc.review_months,
                "next_review_on": r.doc.next_review_on.map(|d| d.to_string()),
                "review_due": r.doc.review_due(today),
                "effective_version": r.effective.map(|(n, _)| n),
                "effective_from": r.effective.and_then(|(_, d)| d).map(|d| d.to_string()),
                "open_version": r.open.map(|(n, s)| serde_json::json!({"version": n, "state": s.as_str()})),
                "latest_version": r.latest.map(|(n, s)| serde_json::json!({"version": n, "state": s.as_str()})),
            })
        })
        .collect();
    Ok(listing(items, page, per_page, total))
}

/// `GET /api/v1/documents/{key}` (`DOC-4`): the document, every version
/// with its state, and every signature with whether it verifies now.
pub async fn get_document(
    state: web::Data<AppState>,
    user: ApiUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::documents as repo;
    user.require(Scope::Read)?;
    let key = path.into_inner();
    let n = match crate::domain::record::by_key(&key) {
        Some((k, n)) if *k == crate::domain::record::DOCUMENT => n,
        _ => {
            return Err(AppError::BadRequest(format!(
                "{key:?} is not a document number like DOC-4"
            )));
        }
    };
    let (doc, versions, signatures) = state
        .db(move |conn| {
            let doc = repo::find_document(conn, n)?.ok_or(AppError::NotFound)?;
            let versions = repo::versions_of(conn, &doc)?;
            let mut signatures = Vec::new();
            for v in &versions {
                for c in crate::web::handlers::signatures::checked_of::<
                    crate::domain::document::DocWorkflow,
                >(conn, v)?
                {
                    signatures.push((v.number, c));
                }
            }
            Ok::<_, AppError>((doc, versions, signatures))
        })
        .await?;
    let today = state.clock.today();
    let sigs: Vec<serde_json::Value> = signatures
        .iter()
        .map(|(n, c)| {
            let message = crate::signature::Message::parse(&c.stored.message);
            serde_json::json!({
                "id": format!("sig-{}", c.stored.id),
                "version": n,
                "meaning": message.as_ref().map(|m| m.meaning.clone()),
                "transition": message.as_ref().and_then(|m| m.transition.clone()),
                "signer": message.as_ref().map(|m| serde_json::json!({"id": m.signer.id, "username": m.signer.username, "name": m.signer.name})),
                "signed_at": message.as_ref().map(|m| m.signed_at.clone()),
                "verified": c.outcome.is_ok(),
                "problem": c.outcome.as_ref().err(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": doc.id,
        "key": doc.key(),
        "title": doc.title,
        "type": doc.doc_type.as_str(),
        "owner_id": doc.owner_id,
        "product_id": doc.product_id,
        "review_months": doc.review_months,
        "next_review_on": doc.next_review_on.map(|d| d.to_string()),
        "review_due": doc.review_due(today),
        "versions": versions.iter().map(version_json).collect::<Vec<_>>(),
        "signatures": sigs,
    })))
}

/// The token of an `Authorization` header's `Bearer` credentials; the scheme
/// name is case-insensitive (RFC 9110 11.1), so `bearer` and `BEARER` work.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// `GET /api/v1/training[?role=…&person=…&document=…&state=…&page=…]`: the
/// training matrix as the page shows it (its filters; people paged), for a
/// token of someone with the quality, auditor or administrator role.
pub async fn get_training(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use super::handlers::training::{self as page, TrainingReaders};
    use crate::web::extract::RoleSet;
    user.require(Scope::Read)?;
    if !user.account.roles.has_any(TrainingReaders::ROLES) {
        let why = "the training matrix is for quality, auditors and administrators".to_string();
        let ctx = user.ctx(&state);
        let denied_why = why.clone();
        state
            .db(move |conn| {
                let denied = crate::service::access::Denied {
                    method: "GET",
                    path: "/api/v1/training",
                    why: &denied_why,
                    extra: None,
                };
                Ok(crate::service::access::denied(conn, &ctx, None, &denied)?)
            })
            .await?;
        return Err(AppError::Forbidden(why));
    }
    let q = ListQuery::read(&query, page::PARAMS, API_PAGE)?;
    let filter = page::filter_of(&q)?;
    let today = state.clock.today();
    let (page_no, per_page, offset) = (q.page, q.per_page, q.offset());
    let m = state
        .db(move |conn| {
            let page = (
                usize::try_from(offset).unwrap_or(0),
                usize::try_from(per_page).unwrap_or(0),
            );
            Ok(crate::service::training::matrix(
                conn,
                &filter,
                today,
                Some(page),
            )?)
        })
        .await?;
    let total = i64::try_from(m.total).unwrap_or(i64::MAX);
    let documents: Vec<serde_json::Value> = m
        .documents
        .iter()
        .map(|d| {
            serde_json::json!({
                "key": format!("DOC-{}", d.id),
                "title": d.title,
                "version_in_force": d.in_force,
            })
        })
        .collect();
    let people: Vec<serde_json::Value> = m
        .rows
        .iter()
        .map(|r| {
            let cells: Vec<serde_json::Value> = m
                .documents
                .iter()
                .zip(&r.cells)
                .filter_map(|(d, c)| {
                    let c = c.as_ref()?;
                    Some(serde_json::json!({
                        "document": format!("DOC-{}", d.id),
                        "assignment": format!("TRN-{}", c.assignment),
                        "standing": c.cell.as_str(),
                        "version": c.version,
                        "due_on": c.due_on.to_string(),
                        "acknowledged_at": c.acknowledged_at.map(crate::audit::format_time),
                        "trained_before": c.trained_before,
                    }))
                })
                .collect();
            serde_json::json!({
                "id": format!("u-{}", r.user_id),
                "username": r.username,
                "name": r.name,
                "roles": r.roles.to_json(),
                "group": r.group.map(|g| g.as_str()),
                "cells": cells,
            })
        })
        .collect();
    let counts: serde_json::Map<String, serde_json::Value> = crate::domain::training::Cell::ALL
        .into_iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                serde_json::json!(m.counts.get(&c).copied().unwrap_or(0)),
            )
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "as_of": today.to_string(),
        "documents": documents,
        "counts": counts,
        "items": people,
        "page": page_no,
        "per_page": per_page,
        "total": total,
    })))
}

/// `GET /api/v1/risks?product=…[&state=…&verdict=…&hazard=…&q=…]`: a
/// product's risk file, each risk with its hazard, estimates and their
/// evaluations, and its controls with their requirements.
pub async fn get_risks(
    state: web::Data<AppState>,
    user: ApiUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::risks as repo;
    use crate::domain::risk::workflow::estimate_json;
    user.require(Scope::Read)?;
    let mut rest = query.clone();
    let product = rest.remove("product").unwrap_or_default();
    let q = ListQuery::read(&rest, super::handlers::risks::PARAMS, API_PAGE)?;
    let f = super::handlers::risks::filter_of(&q)?;
    let (page, per_page, offset) = (q.page, q.per_page, q.offset());
    let (rows, total, keys, plan) = state
        .db(move |conn| {
            let pid = named_product(conn, &product)?;
            let (rows, total) = repo::list(conn, pid, &f, offset, per_page)?;
            let reqs: Vec<i64> = rows
                .iter()
                .flat_map(|r| r.controls.iter().filter_map(|c| c.requirement))
                .collect();
            let keys: HashMap<i64, String> = crate::db::repo::requirements::by_ids(conn, &reqs)?
                .into_iter()
                .map(|r| (r.id, r.key))
                .collect();
            let plan = crate::service::risks::approved_plan(conn, pid)?.map(|p| p.key());
            Ok((rows, total, keys, plan))
        })
        .await?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "key": r.key(),
                "state": r.state.as_str(),
                "plan": plan,
                "hazard": r.hazard,
                "sequence": r.sequence,
                "situation": r.situation,
                "harm": r.harm,
                "initial": estimate_json(r.initial, r.initial_eval),
                "residual": estimate_json(r.residual, r.residual_eval),
                "benefit_risk": r.benefit_risk,
                "introduced_by": r.introduced_by.map(|n| format!("RISK-{n}")),
                "needs_review": r.needs_review.lines().collect::<Vec<_>>(),
                "controls": r.controls.iter().map(|c| serde_json::json!({
                    "option": c.option.as_str(),
                    "description": c.description,
                    "requirement": c.requirement.and_then(|id| keys.get(&id).cloned()),
                    "effectiveness": c.effectiveness,
                })).collect::<Vec<_>>(),
                "updated_at": crate::audit::format_time(r.updated_at),
            })
        })
        .collect();
    Ok(listing(items, page, per_page, total))
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_security_25() {
        for h in ["Bearer attest_x", "bearer attest_x", "BEARER  attest_x "] {
            assert_eq!(bearer_token(h), Some("attest_x"), "{h}");
        }
        assert_eq!(bearer_token("Basic attest_x"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearerattest_x"), None);
    }
}
