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
use crate::error::AppError;
use crate::ingest::junit;
use crate::service::tokens::{self, Refused};
use crate::service::{Ctx, testruns};

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
            now: crate::clock::now(),
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
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let call = (req.method().to_string(), req.path().to_string());
        let op = super::errors::operation_id_of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let Some(presented) = presented else {
                return Err(AppError::Unauthorized(capital(&Refused::Missing)));
            };
            let log = state.log_origin.clone();
            let op2 = op.clone();
            let checked = state
                .db(move |conn| {
                    Ok(tokens::authenticate(
                        conn,
                        &log,
                        op2,
                        &presented,
                        (&call.0, &call.1),
                        crate::clock::now(),
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
    crate::error::capitalise(&r.to_string())
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
            testruns::import(conn, &ctx, by, &meta, &cases).map_err(|e| match e {
                testruns::RunError::Storage(e) => e.into(),
                testruns::RunError::Audit(e) => e.into(),
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(summary))
}
