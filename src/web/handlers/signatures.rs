//! Electronic signatures in the web app (SIGNATURES.md): the signing
//! ceremony every signed step uses, the manifestation on record pages, and
//! the auditors' pages of every signature and every signer key.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{html, html_status, page_ctx};
use crate::db::DbConnection;
use crate::db::repo::{sessions, signatures as repo};
use crate::domain::user::{Roles, password_too_long, plausible_password};
use crate::service::Ctx;
use crate::service::signing::{self, SignWith};
use crate::service::verification;
use crate::signature::{self, KeyError};
use crate::web::AppState;
use crate::web::csrf::SigningFields;
use crate::web::error::AppError;
use crate::web::extract::AuditReader;
use crate::web::session::SessionCtx;
use crate::web::views::audit::record_href;
use crate::web::views::signatures::{
    KeyListPage, KeyView, SignPage, SignRequest, SignatureListPage, SignatureView,
};

/// Shows a time as signatures are shown: UTC to the second.
fn utc_text(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(String::new, |t| {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    })
}

/// A checked signature as pages show it.
pub fn view(checked: &verification::Checked, roles: &Roles) -> SignatureView {
    let s = &checked.stored;
    let message = match &checked.outcome {
        Ok(m) => Some(m.clone()),
        Err(_) => signature::Message::parse(&s.message),
    };
    let (record_key, name, username, signed_at, meaning, transition) = match &message {
        Some(m) => (
            m.record.key.clone(),
            m.signer.name.clone(),
            m.signer.username.clone(),
            utc_text(m.signed_at()),
            m.meaning.clone(),
            // The step in people's words ("Close as effective").
            m.transition
                .as_deref()
                .map(|t| crate::domain::words::step_label(&s.record_type, t).unwrap_or(t))
                .unwrap_or_default()
                .to_string(),
        ),
        None => (
            s.record_id.clone(),
            "(unreadable)".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    SignatureView {
        id: format!("sig-{}", s.id),
        record_href: record_href(&s.record_type, &s.record_id, roles),
        record_key,
        name,
        username,
        signed_at,
        meaning,
        transition,
        key_id: s.key_id.clone(),
        verified: checked.outcome.is_ok(),
        problem: checked.outcome.as_ref().err().cloned().unwrap_or_default(),
    }
}

/// The signatures on one record, each verified now (the record page's panel).
pub fn panel(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
    roles: &Roles,
) -> Result<Vec<SignatureView>, AppError> {
    let stored = repo::for_record(conn, record_type, record_id)?;
    Ok(verification::check_all(conn, stored, None)?
        .iter()
        .map(|c| view(c, roles))
        .collect())
}

/// The signatures on a workflow record the caller has just read, each
/// checked against that record's content (read once for the page and its
/// signatures).
pub fn checked_of<W: crate::service::workflow::Stored>(
    conn: &mut DbConnection,
    record: &W::Record,
) -> Result<Vec<verification::Checked>, AppError> {
    let entity = W::entity(record);
    let stored = repo::for_record(conn, &entity.kind, &entity.id)?;
    let now = crate::signature::content_sha256(&W::signed_content(record)).ok();
    let known = verification::Known {
        record_type: &entity.kind,
        record_id: &entity.id,
        content: now,
    };
    Ok(verification::check_all(conn, stored, Some(known))?)
}

/// [`checked_of`], as the record page's panel shows it to this reader.
pub fn panel_of<W: crate::service::workflow::Stored>(
    conn: &mut DbConnection,
    record: &W::Record,
    roles: &Roles,
) -> Result<Vec<SignatureView>, AppError> {
    Ok(checked_of::<W>(conn, record)?
        .iter()
        .map(|c| view(c, roles))
        .collect())
}

/// Renders the signing form.
pub async fn sign_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    request: SignRequest,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let session = s.id_hash.clone();
    let signed_before = state
        .db(move |conn| Ok(sessions::has_signed(conn, &session)?))
        .await?;
    let page = SignPage {
        ctx: page_ctx(state, s, &request.back_to).await?,
        r: request,
        signer_name: s.account.full_name.clone(),
        signer_username: s.account.username.clone(),
        need_username: !signed_before,
        username,
        error,
    };
    html_status(status, &page)
}

/// Where the signing ceremony stands.
pub enum Ceremony {
    /// An answer for the person: the signing form (first, or again with why
    /// the typed components did not open the key), or the sign-in page after
    /// a lockout. Nothing was signed.
    Answer(HttpResponse),
    /// The signer's opened key: the caller signs with it in its transaction.
    Signer(Box<SignWith>),
}

/// The one signing ceremony (SIGNATURES.md; 21 CFR 11.200, 11.300), for a
/// workflow step or a signature without one (a certification, a training
/// acknowledgement, a periodic review): with no password typed yet, the
/// signing form showing `request`; with one, the checks of [`open_key`] (the
/// username on a session's first signature, the password every time, a
/// wrong one audited and counted towards lockout) and the opened key. What
/// the form showed travels in `typed.shown`, for the service to compare
/// with what it would sign.
pub async fn ceremony(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    ctx: &Ctx,
    request: SignRequest,
    typed: Option<SigningFields>,
) -> Result<Ceremony, AppError> {
    let Some(typed) = typed else {
        let page = sign_page(state, s, request, String::new(), None, StatusCode::OK).await?;
        return Ok(Ceremony::Answer(page));
    };
    let username = typed.username.clone().unwrap_or_default();
    let (key, meaning) = (request.record_key.clone(), request.meaning);
    Ok(match open_key(state, s, ctx, typed, &key, meaning).await? {
        Opened::Key(with) => Ceremony::Signer(with),
        Opened::Again(message, status) => {
            Ceremony::Answer(sign_page(state, s, request, username, Some(message), status).await?)
        }
        Opened::Locked => Ceremony::Answer(super::see_other("/login?locked=1")),
    })
}

/// What the typed components gave: the opened key, or why not (the form is
/// shown again with the message), or a locked account (signed out).
pub enum Opened {
    Key(Box<SignWith>),
    Again(String, StatusCode),
    Locked,
}

/// Checks the typed components and opens the signer's key: the username on
/// a session's first signature must be the signed-in user's own, and the
/// password must open their key. Failures are audited and count towards
/// lockout; nothing is signed.
async fn open_key(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    ctx: &Ctx,
    typed: SigningFields,
    record_key: &str,
    meaning: &str,
) -> Result<Opened, AppError> {
    let (user, session) = (s.account.id, s.id_hash.clone());
    let (signed_before, key) = state
        .db(move |conn| {
            Ok((
                sessions::has_signed(conn, &session)?,
                repo::active_key(conn, user)?,
            ))
        })
        .await?;
    let password = Zeroizing::new(typed.password);
    if password_too_long(&password) {
        return Ok(Opened::Again(
            "That is longer than any password can be (at most 256 characters). Nothing was signed."
                .into(),
            StatusCode::BAD_REQUEST,
        ));
    }
    if !plausible_password(&password) {
        return Ok(Opened::Again(
            "Enter your password to sign.".into(),
            StatusCode::BAD_REQUEST,
        ));
    }
    let refuse = |reason: &'static str| {
        let (state, ctx, policy) = (state.clone(), ctx.clone(), state.settings.lockout_policy());
        let after = json!({"reason": reason, "record": record_key, "meaning": meaning});
        async move {
            state
                .db(move |conn| Ok(signing::refused(conn, &ctx, user, &policy, after)?))
                .await
        }
    };
    let typed_name = typed.username.unwrap_or_default().trim().to_lowercase();
    // After a session's first signature the form asks for the password
    // only; a username sent anyway must still be the signer's own.
    if signed_before && !typed_name.is_empty() && typed_name != s.account.username {
        if refuse("username is not the signed-in user's").await? {
            return Ok(Opened::Locked);
        }
        return Ok(Opened::Again(
            "That is not your username: you can sign only as yourself. Nothing was signed.".into(),
            StatusCode::FORBIDDEN,
        ));
    }
    if !signed_before {
        if typed_name.is_empty() {
            return Ok(Opened::Again(
                "Enter your username as well: the first signature of a session needs both.".into(),
                StatusCode::BAD_REQUEST,
            ));
        }
        if typed_name != s.account.username {
            if refuse("username is not the signed-in user's").await? {
                return Ok(Opened::Locked);
            }
            return Ok(Opened::Again(
                "That is not your username: you can sign only as yourself. Nothing was signed."
                    .into(),
                StatusCode::FORBIDDEN,
            ));
        }
    }
    if s.account.failures.is_locked(ctx.now) {
        return Ok(Opened::Locked);
    }
    let Some(key) = key else {
        return Ok(Opened::Again(
            "You have no signing key yet. It is made when you set a password of your own: change your password (My account), then sign."
                .into(),
            StatusCode::CONFLICT,
        ));
    };
    let (Some(wrapped), Some(salt)) = (key.wrapped_key.clone(), key.kdf_salt.clone()) else {
        return Ok(Opened::Again(
            "Your signing key is retired. Change your password to get a new one.".into(),
            StatusCode::CONFLICT,
        ));
    };
    let key_id = key.key_id.clone();
    let opened = state
        .passwords
        .run(move || signature::unwrap(user.0, &key_id, &wrapped, &salt, &password))
        .await?;
    match opened {
        Ok(signing_key) => Ok(Opened::Key(Box::new(SignWith {
            user,
            key: signing_key,
            key_id: key.key_id,
            session: s.id_hash.clone(),
            shown: typed.shown,
        }))),
        Err(KeyError::WrongPassword) => {
            if refuse("wrong password").await? {
                return Ok(Opened::Locked);
            }
            Ok(Opened::Again(
                "The password is wrong. Nothing was signed.".into(),
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    page: Option<i64>,
}

const PER_PAGE: i64 = 50;

fn pager(base: &str, page: i64, total: i64) -> (Option<String>, Option<String>) {
    let newer = (page > 1).then(|| format!("{base}?page={}", page - 1));
    let older = (page * PER_PAGE < total).then(|| format!("{base}?page={}", page + 1));
    (newer, older)
}

/// `GET /signatures`: every signature, newest first, each verified now.
pub async fn list(
    state: web::Data<AppState>,
    reader: AuditReader,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let s = reader.session();
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let roles = s.account.roles.clone();
    let (rows, total) = state
        .db(move |conn| {
            let (stored, total) = repo::page(conn, (page - 1) * PER_PAGE, PER_PAGE)?;
            let mut rows = Vec::with_capacity(stored.len());
            for st in stored {
                rows.push(view(&verification::check(conn, st)?, &roles));
            }
            Ok((rows, total))
        })
        .await?;
    let (newer, older) = pager("/signatures", page, total);
    html(&SignatureListPage {
        ctx: page_ctx(&state, s, "/audit").await?,
        tab: "signatures",
        rows,
        total,
        newer,
        older,
    })
}

/// `GET /signatures/keys`: the key history of every user.
pub async fn keys(
    state: web::Data<AppState>,
    reader: AuditReader,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let s = reader.session();
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let (rows, total) = state
        .db(move |conn| Ok(repo::key_page(conn, (page - 1) * PER_PAGE, PER_PAGE)?))
        .await?;
    let rows = rows
        .into_iter()
        .map(|(k, username, owner)| KeyView {
            public_key: base64::engine::general_purpose::STANDARD.encode(&k.public_key),
            valid_from: utc_text(Some(k.valid_from)),
            valid_until: utc_text(k.valid_until),
            active: k.valid_until.is_none(),
            retired_reason: k.retired_reason.unwrap_or_default(),
            key_id: k.key_id,
            owner,
            username,
        })
        .collect();
    let (newer, older) = pager("/signatures/keys", page, total);
    html(&KeyListPage {
        ctx: page_ctx(&state, s, "/audit").await?,
        tab: "keys",
        rows,
        total,
        newer,
        older,
    })
}
