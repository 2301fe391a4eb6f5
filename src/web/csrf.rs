//! CSRF defence on every state-changing request (SECURITY.md): an Origin /
//! Sec-Fetch-Site check, then a synchronizer token from the session (or, on
//! the sign-in form only, a double-submit cookie) compared in constant time.
//! Also `Form<T>`: strict form parsing that refuses unknown fields.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::AppState;
use super::session::SessionCtx;
use crate::web::error::AppError;

pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";

const REFUSED: &str = "This form could not be accepted: it has expired or it came from another site. Go back, reload the page and submit it again";

pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Token-authenticated machine endpoints carry no cookies.
    let exempt = req.path().starts_with("/api/") || req.path().starts_with("/hooks/");
    if safe || exempt {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    match check(req).await {
        Ok(req) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
        Err((req, e)) => Ok(req.error_response(e).map_into_right_body()),
    }
}

async fn check(req: ServiceRequest) -> Result<ServiceRequest, (ServiceRequest, AppError)> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err((req, AppError::internal("application state missing")));
    };
    if let Err(why) = same_site(&req, &state) {
        tracing::warn!(why, path = req.path(), "cross-site request refused");
        return Err((req, AppError::Forbidden(REFUSED.into())));
    }
    let expected: Vec<String> = {
        let mut v = Vec::new();
        if let Some(s) = req.extensions().get::<std::sync::Arc<SessionCtx>>() {
            v.push(s.csrf_token.clone());
        }
        if req.path() == "/login"
            && let Some(c) = req.cookie(state.cookies.csrf)
        {
            v.push(c.value().to_string());
        }
        v
    };
    let header = req
        .headers()
        .get(HEADER)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let multipart = req.content_type() == "multipart/form-data";
    let (req, provided) = match header {
        Some(h) => (req, Some(h)),
        None if multipart => multipart_token(req).await?,
        None => match form_token(req, state.settings.max_form_bytes).await {
            Ok(pair) => pair,
            Err(pair) => return Err(pair),
        },
    };
    let ok = provided.as_deref().is_some_and(|p| {
        expected
            .iter()
            .any(|e| !e.is_empty() && bool::from(e.as_bytes().ct_eq(p.as_bytes())))
    });
    if ok {
        Ok(req)
    } else {
        tracing::warn!(
            path = req.path(),
            token_present = provided.is_some(),
            "CSRF token refused"
        );
        Err((req, AppError::Forbidden(REFUSED.into())))
    }
}

/// Fetch-metadata and Origin checks; browsers send at least one of them.
fn same_site(req: &ServiceRequest, state: &AppState) -> Result<(), &'static str> {
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|h| h.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return Err("Sec-Fetch-Site is not same-origin");
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|h| h.to_str().unwrap_or("\u{0}"))
    };
    if let Some(origin) = header("origin") {
        if !same_origin(req, state, origin) {
            return Err("Origin is another site");
        }
    } else if let Some(referer) = header("referer") {
        // No Origin (older browsers, some privacy settings): the Referer,
        // cut to its scheme and host, must be this site.
        let origin = referer
            .split_once("://")
            .map(|(scheme, rest)| {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                format!("{scheme}://{host}")
            })
            .unwrap_or_default();
        if !same_origin(req, state, &origin) {
            return Err("Referer is another site");
        }
    }
    Ok(())
}

/// True if `origin` (`scheme://host[:port]`) is this site.
fn same_origin(req: &ServiceRequest, state: &AppState, origin: &str) -> bool {
    match &state.settings.base_url {
        Some(base) => origin.eq_ignore_ascii_case(base.trim_end_matches('/')),
        None => {
            let host = req.connection_info().host().to_ascii_lowercase();
            origin
                .split_once("://")
                .is_some_and(|(_, h)| h.eq_ignore_ascii_case(&host))
        }
    }
}

/// Buffers a urlencoded body (up to the limit), reads its token, and puts
/// the body back for the handler.
async fn form_token(
    req: ServiceRequest,
    limit: usize,
) -> Result<(ServiceRequest, Option<String>), (ServiceRequest, AppError)> {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return Ok((req, None));
    }
    let (http, mut payload) = req.into_parts();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let req = ServiceRequest::from_parts(http, Payload::None);
                return Err((
                    req,
                    AppError::BadRequest(format!("The form could not be read: {e}")),
                ));
            }
        };
        if body.len() + chunk.len() > limit {
            let req = ServiceRequest::from_parts(http, Payload::None);
            return Err((
                req,
                AppError::PayloadTooLarge(format!(
                    "The form is larger than the {} KiB allowed",
                    limit / 1024
                )),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let token = form_urlencoded::parse(&body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    let req = ServiceRequest::from_parts(http, Payload::from(body));
    Ok((req, token))
}

/// How far into a multipart body the token must have been seen.
const MULTIPART_HEAD: usize = 8 * 1024;

/// Reads the token of a multipart form (an upload), which must be its first
/// part, as our forms put it; only the first few KiB are read, and the body
/// is handed on to the handler whole, streaming.
async fn multipart_token(
    req: ServiceRequest,
) -> Result<(ServiceRequest, Option<String>), (ServiceRequest, AppError)> {
    let boundary = req
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .and_then(|ct| {
            ct.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix("boundary="))
                .map(|b| b.trim_matches('"').to_string())
        });
    let (http, mut payload) = req.into_parts();
    let mut head = web::BytesMut::new();
    let mut token = None;
    while head.len() < MULTIPART_HEAD {
        match payload.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => {
                let req = ServiceRequest::from_parts(http, Payload::None);
                return Err((
                    req,
                    AppError::BadRequest(format!("The upload could not be read: {e}")),
                ));
            }
            None => break,
        }
        token = boundary.as_deref().and_then(|b| first_part_token(&head, b));
        if token.is_some() {
            break;
        }
    }
    let head = head.freeze();
    type Stream = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>,
    >;
    let rest: Stream = Box::pin(futures_util::stream::once(async move { Ok(head) }).chain(payload));
    let req = ServiceRequest::from_parts(http, Payload::from(rest));
    Ok((req, token))
}

/// The value of the first part of a multipart body when that part is the
/// CSRF token field.
fn first_part_token(body: &[u8], boundary: &str) -> Option<String> {
    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }
    let delimiter = format!("--{boundary}");
    let rest = body
        .strip_prefix(delimiter.as_bytes())?
        .strip_prefix(b"\r\n")?;
    let end = find(rest, b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(rest.get(..end)?).to_ascii_lowercase();
    let named = headers
        .lines()
        .any(|h| h.starts_with("content-disposition:") && h.contains(&format!("name=\"{FIELD}\"")));
    if !named {
        return None;
    }
    let value = rest.get(end + 4..)?;
    let len = find(value, format!("\r\n{delimiter}").as_bytes())?;
    String::from_utf8(value.get(..len)?.to_vec()).ok()
}

/// The anonymous double-submit cookie used by the sign-in form.
pub fn anonymous_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let mut c = Cookie::new(state.cookies.csrf, token);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    c.set_secure(state.cookies.secure);
    c
}

/// A urlencoded form parsed strictly into `T` (which should use
/// `#[serde(deny_unknown_fields)]`): the CSRF token is removed first, and
/// any other unexpected field, such as `state` or `created_at`, is a 400.
pub struct Form<T>(pub T);

/// A form parsed like [`Form`], with its fields as sent (without the CSRF
/// token), so a refused form can be shown again with what was typed.
pub struct Typed<T>(pub T, pub Vec<(String, String)>);

/// A workflow step's form: the step's own fields parsed strictly into `T`,
/// and the signing ceremony's fields (the typed username and password, and
/// what the signing form showed), kept apart so every step form carries
/// them the same way.
pub struct StepForm<T> {
    pub fields: T,
    /// The step's own fields as sent, which a signing form carries back.
    pub sent: Vec<(String, String)>,
    /// Present when the signing form was sent (a password was typed).
    pub signing: Option<SigningFields>,
}

/// What the signing form sends back besides the step's own fields.
pub struct SigningFields {
    pub username: Option<String>,
    pub password: String,
    pub shown: crate::service::signing::Shown,
}

/// Marks a request already refused by a role check (`WithRole`), so a body
/// extractor does not answer first with a parse error: the refusal (403,
/// audited) is what the person gets.
#[derive(Clone, Copy)]
pub struct RoleRefused;

type Pairs = Vec<(String, String)>;

/// Reads a urlencoded body up to the form limit, without the CSRF token.
fn read_pairs(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Pairs, AppError>> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(64 * 1024, |s| s.settings.max_form_bytes);
    let is_form = req.content_type() == "application/x-www-form-urlencoded";
    let refused = req.extensions().contains::<RoleRefused>();
    let mut payload = payload.take();
    Box::pin(async move {
        if refused {
            // The role check's own future answers (and audits) the request.
            return futures_util::future::pending().await;
        }
        if !is_form {
            return Err(AppError::BadRequest(
                "Expected a form (application/x-www-form-urlencoded)".into(),
            ));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
            if body.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge(format!(
                    "The form is larger than the {} KiB allowed",
                    limit / 1024
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(form_urlencoded::parse(&body)
            .filter(|(k, _)| k != FIELD)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect())
    })
}

fn parse_pairs<T: DeserializeOwned>(pairs: &Pairs) -> Result<T, AppError> {
    let encoded =
        serde_urlencoded::to_string(pairs).map_err(|e| AppError::BadRequest(e.to_string()))?;
    serde_urlencoded::from_str::<T>(&encoded)
        .map_err(|e| AppError::BadRequest(format!("The form could not be accepted: {e}")))
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let pairs = read_pairs(req, payload);
        Box::pin(async move { parse_pairs(&pairs.await?).map(Form) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Typed<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let pairs = read_pairs(req, payload);
        Box::pin(async move {
            let pairs = pairs.await?;
            Ok(Typed(parse_pairs(&pairs)?, pairs))
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for StepForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use crate::service::signing::Shown;
        let pairs = read_pairs(req, payload);
        Box::pin(async move {
            let (ceremony, own): (Pairs, Pairs) = pairs.await?.into_iter().partition(|(k, _)| {
                k == "signature_username"
                    || k == "signature_password"
                    || Shown::FIELDS.contains(&k.as_str())
            });
            let get = |name: &str| {
                ceremony
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let signing = get("signature_password").map(|password| SigningFields {
                username: get("signature_username").map(str::to_string),
                password: password.to_string(),
                shown: Shown::from_fields(get),
            });
            Ok(Self {
                fields: parse_pairs(&own)?,
                sent: own,
                signing,
            })
        })
    }
}
