//! The signed-in user's own account: details and password change.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{flash, html, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::repo::signatures;
use crate::domain::user::{check_new_password, plausible_password};
use crate::service::{accounts, keys, signing};
use crate::web::AppState;
use crate::web::csrf::{Form, StepForm};
use crate::web::error::{AppError, capitalise};
use crate::web::extract::{CurrentUser, OpId, SignedIn};
use crate::web::rejected::Rejected;
use crate::web::views::{AccountPage, CertificationPage, PasswordPage, roles_label};

pub async fn show(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
) -> Result<HttpResponse, AppError> {
    let a = &s.account;
    let id = a.id;
    let signing_key = state
        .db(move |conn| Ok(signatures::active_key(conn, id)?))
        .await?
        .map(|k| format!("{}, since {}", k.key_id, when(Some(k.valid_from))));
    html(&AccountPage {
        ctx: page_ctx(&state, &s, "/account").await?,
        username: a.username.clone(),
        full_name: a.full_name.clone(),
        email: a.email.clone(),
        roles: roles_label(a),
        last_login: when(a.last_login_at),
        password_changed: when(Some(a.password_changed_at)),
        signing_key,
    })
}

/// `GET /account/certification`: the 21 CFR 11.100(c) statement, and the
/// person's signature on it (with its verified mark) once given.
pub async fn certification(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (id, roles) = (s.account.id, s.account.roles.clone());
    let signatures = state
        .db(move |conn| super::signatures::panel(conn, "user", &id.to_string(), &roles))
        .await?;
    html(&CertificationPage {
        ctx: page_ctx(&state, &s, "/account").await?,
        statement: signing::CERTIFICATION,
        signatures,
    })
}

/// The certification form has no fields of its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// `POST /account/certification`: the person certifies, by an electronic
/// signature without a workflow step, that their electronic signature is
/// the legally binding equivalent of their handwritten one (21 CFR
/// 11.100(c)). The first post shows the signing form; the second, with the
/// password, signs through the same ceremony as every signed step.
pub async fn certify(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    OpId(op): OpId,
    StepForm { signing: typed, .. }: StepForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    use crate::web::handlers::signatures::{Ceremony, ceremony};
    use crate::web::views::signatures::{SignRequest, SignedField};
    let account = s.account.clone();
    let subject = state
        .db(move |conn| Ok(signing::certification(conn, &account)))
        .await?;
    let subject = match subject {
        Ok(subject) => subject,
        Err(e) => {
            flash(&state, &s, "error", &e.to_string()).await?;
            return Ok(see_other("/account/certification"));
        }
    };
    let request = SignRequest {
        record_key: subject.record.key.clone(),
        record_title: "Electronic signature certification".into(),
        back_to: "/account/certification".into(),
        post_to: "/account/certification".into(),
        action_label: "Certify my electronic signature",
        warning: None,
        meaning: signing::CERTIFIED,
        fields: vec![
            SignedField {
                label: "Statement",
                value: signing::CERTIFICATION.into(),
            },
            SignedField {
                label: "Signer",
                value: format!("{} ({})", s.account.full_name, s.account.username),
            },
        ],
        content_sha256: subject.content_sha256.clone(),
        carried: Vec::new(),
        shown: subject.shown(),
    };
    let ctx = user_ctx(&state, &s, op);
    let with = match ceremony(&state, &s, &ctx, request, typed).await? {
        Ceremony::Answer(page) => return Ok(page),
        Ceremony::Signer(with) => with,
    };
    let signed = state
        .db(move |conn| {
            Ok(signing::sign_alone(conn, &ctx, &with, |conn, account| {
                signing::certification(conn, account)
            }))
        })
        .await?;
    match signed {
        Ok(sig) => {
            let text = format!(
                "Your electronic signature is certified ({}, 21 CFR 11.100(c)).",
                sig.id
            );
            flash(&state, &s, "ok", &text).await?;
        }
        Err(e) => flash(&state, &s, "error", &capitalise(&e.to_string())).await?,
    }
    Ok(see_other("/account/certification"))
}

pub async fn password_form(
    state: web::Data<AppState>,
    SignedIn(s): SignedIn,
) -> Result<HttpResponse, AppError> {
    let forced = s.account.must_change_password;
    html(&PasswordPage {
        ctx: page_ctx(&state, &s, "/account").await?,
        forced,
        problems: Rejected::new("password", ""),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn change_password(
    state: web::Data<AppState>,
    SignedIn(s): SignedIn,
    OpId(op): OpId,
    Form(f): Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let forced = s.account.must_change_password;
    // Passwords are never sent back: the form comes back empty, with why.
    let again = |problems: Rejected, status| {
        html_status(
            status,
            &PasswordPage {
                ctx: crate::web::views::PageCtx::signed_in(&s, "/account"),
                forced,
                problems,
            },
        )
    };
    // Every rule that needs no hashing is checked first.
    let mut problems = Rejected::new("password", "");
    if !plausible_password(&f.current_password) {
        problems = problems.problem("current_password", "Enter your current password.");
    }
    if let Err(e) = check_new_password(
        &f.new_password,
        &f.confirm_password,
        &s.account.username,
        Some(&f.current_password),
    ) {
        problems = problems.fields(vec![e]);
    }
    if problems.any() {
        return again(problems, StatusCode::BAD_REQUEST);
    }
    let me = s.account.id;
    let verified_hash = state
        .db(move |conn| Ok(crate::db::repo::users::password_hash(conn, me)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let ok = state
        .passwords
        .verify(
            Zeroizing::new(f.current_password.clone()),
            Some(verified_hash.clone()),
        )
        .await?;
    let ctx = user_ctx(&state, &s, op);
    if !ok {
        let (id, policy) = (s.account.id, state.settings.lockout_policy());
        let ctx = ctx.clone();
        state
            .db(move |conn| {
                Ok(accounts::wrong_password_while_signed_in(
                    conn,
                    &ctx,
                    id,
                    &policy,
                    "password change",
                )?)
            })
            .await?;
        let problems = Rejected::new("password", "")
            .problem("current_password", "The current password is wrong.");
        return again(problems, StatusCode::BAD_REQUEST);
    }
    let (id, keep) = (s.account.id, s.id_hash.clone());
    // The signing key follows the password: re-wrapped under the new one, or
    // (first own password, or after a reset) a new key made under it.
    let active = state
        .db(move |conn| Ok(signatures::active_key(conn, id)?))
        .await?;
    let (current, new) = (
        Zeroizing::new(f.current_password),
        Zeroizing::new(f.new_password),
    );
    let new_for_key = new.clone();
    let plan = state
        .passwords
        .run(move || keys::plan_for_password_change(id, active.as_ref(), &current, &new_for_key))
        .await??;
    let new_hash = state.passwords.hash(new).await?;
    state
        .db(move |conn| {
            Ok(accounts::change_own_password(
                conn,
                &ctx,
                id,
                &verified_hash,
                &new_hash,
                &keep,
                &plan,
            )?)
        })
        .await?;
    flash(
        &state,
        &s,
        "ok",
        "Your password has been changed. Any other sessions were signed out.",
    )
    .await?;
    Ok(see_other("/"))
}
