//! Administrators' user pages: list, create (one-time password shown once),
//! name and e-mail, roles, disable/enable, password reset, unlock.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::{flash, html, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::repo::{sessions, users};
use crate::domain::ids::UserId;
use crate::domain::user::{Account, Role, Roles};
use crate::service::accounts::{self, NewUserInput};
use crate::service::error::RecordError;
use crate::service::password::one_time_password;
use crate::web::AppState;
use crate::web::csrf::{Form, Typed};
use crate::web::error::AppError;
use crate::web::extract::{AdminUser, OpId};
use crate::web::rejected::{Rejected, Sent};
use crate::web::session::SessionCtx;
use crate::web::views::admin::*;
use crate::web::views::{PageCtx, roles_label};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<i64>,
}

fn status_class(status: &str) -> &'static str {
    match status {
        "disabled" => "disabled",
        "locked" => "locked",
        "password change due" => "password-change-due",
        _ => "active",
    }
}

fn role_choices(roles: &Roles) -> Vec<RoleChoice> {
    Role::ALL
        .into_iter()
        .map(|r| RoleChoice {
            name: r.as_str(),
            label: r.label(),
            description: r.description(),
            checked: roles.contains(r),
        })
        .collect()
}

pub async fn list(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let text = q.q.trim().chars().take(100).collect::<String>();
    let role = Role::parse(&q.role);
    let status = match q.status.as_str() {
        "active" => Some(users::StatusFilter::Active),
        "disabled" => Some(users::StatusFilter::Disabled),
        "locked" => Some(users::StatusFilter::Locked),
        "" => None,
        other => {
            return Err(AppError::BadRequest(format!(
                "Unknown status filter {other:?}: use active, locked or disabled"
            )));
        }
    };
    if role.is_none() && !q.role.is_empty() {
        return Err(AppError::BadRequest(format!(
            "Unknown role filter {:?}",
            q.role
        )));
    }
    let page = q.page.unwrap_or(1).max(1);
    let filter = users::ListFilter {
        text: Some(text.clone()),
        role,
        status,
    };
    let now = state.clock.now();
    let (accounts, total) = state
        .db(move |conn| {
            Ok(users::list(
                conn,
                &filter,
                now,
                (page - 1) * PAGE_SIZE,
                PAGE_SIZE,
            )?)
        })
        .await?;
    let rows = accounts
        .iter()
        .map(|a| {
            let status = a.status(now);
            UserRow {
                id: a.id.to_string(),
                number: a.id.0,
                username: a.username.clone(),
                full_name: a.full_name.clone(),
                email: a.email.clone(),
                roles: roles_label(a),
                status,
                status_class: status_class(status),
                last_login: when(a.last_login_at),
            }
        })
        .collect::<Vec<_>>();
    let base = format!(
        "/admin/users?q={}&role={}&status={}",
        crate::web::error::urlencode(&text),
        role.map(Role::as_str).unwrap_or_default(),
        status.map_or("", |s| match s {
            users::StatusFilter::Active => "active",
            users::StatusFilter::Disabled => "disabled",
            users::StatusFilter::Locked => "locked",
        })
    );
    let pages = PageLink::window(page, total, PAGE_SIZE, |n| format!("{base}&page={n}"));
    let first = if rows.is_empty() {
        0
    } else {
        (page - 1) * PAGE_SIZE + 1
    };
    let last = (page - 1) * PAGE_SIZE + i64::try_from(rows.len()).unwrap_or(0);
    html(&UserListPage {
        ctx: page_ctx(&state, admin.session(), "/admin/users").await?,
        rows,
        total,
        filtered: !text.is_empty() || role.is_some() || status.is_some(),
        q: text,
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        status: q.status,
        roles: role_choices(&role.map(|r| Roles::new([r])).unwrap_or_default()),
        pages,
        first,
        last,
    })
}

pub async fn new_form(
    state: web::Data<AppState>,
    admin: AdminUser,
) -> Result<HttpResponse, AppError> {
    html(&NewUserPage {
        ctx: page_ctx(&state, admin.session(), "/admin/users").await?,
        username: String::new(),
        full_name: String::new(),
        email: String::new(),
        roles: role_choices(&Roles::default()),
        problems: Rejected::new("new", ""),
    })
}

/// The checkboxes of the role picker, as submitted.
struct RoleBoxes {
    role_admin: Option<String>,
    role_quality: Option<String>,
    role_engineer: Option<String>,
    role_auditor: Option<String>,
}

impl RoleBoxes {
    fn roles(&self) -> Roles {
        let on = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        Roles::new(
            [
                (Role::Admin, &self.role_admin),
                (Role::Quality, &self.role_quality),
                (Role::Engineer, &self.role_engineer),
                (Role::Auditor, &self.role_auditor),
            ]
            .into_iter()
            .filter(|(_, v)| on(v))
            .map(|(r, _)| r),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserForm {
    username: String,
    full_name: String,
    email: String,
    #[serde(default)]
    role_admin: Option<String>,
    #[serde(default)]
    role_quality: Option<String>,
    #[serde(default)]
    role_engineer: Option<String>,
    #[serde(default)]
    role_auditor: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    Form(f): Form<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    let roles = RoleBoxes {
        role_admin: f.role_admin,
        role_quality: f.role_quality,
        role_engineer: f.role_engineer,
        role_auditor: f.role_auditor,
    }
    .roles();
    let input = NewUserInput {
        username: f.username,
        full_name: f.full_name,
        email: f.email,
        roles,
    };
    let s = admin.session();
    let again = |problems: Rejected, status: StatusCode| {
        html_status(
            status,
            &NewUserPage {
                ctx: PageCtx::signed_in(s, "/admin/users"),
                username: input.username.clone(),
                full_name: input.full_name.clone(),
                email: input.email.clone(),
                roles: role_choices(&input.roles),
                problems,
            },
        )
    };
    let problems = Rejected::new("new", "");
    let valid = match accounts::validate_new_user(&input) {
        Ok(v) => v,
        Err(e @ (RecordError::Invalid(_) | RecordError::Taken { .. })) => {
            return again(problems.refused(&e), StatusCode::BAD_REQUEST);
        }
        Err(e) => return Err(e.into()),
    };
    let password = Zeroizing::new(one_time_password()?);
    let hash = state.passwords.hash(password.clone()).await?;
    let ctx = user_ctx(&state, s, op);
    let created = state
        .db(move |conn| {
            Ok(crate::service::people::create_user(
                conn, &ctx, &valid, &hash, true,
            ))
        })
        .await?;
    let account = match created {
        Ok(a) => a,
        Err(e) => {
            let (status, problems) = super::refused_form(&state, s, e, problems, None).await?;
            return again(problems, status);
        }
    };
    html(&OneTimePasswordPage {
        ctx: page_ctx(&state, s, "/admin/users").await?,
        heading: "User created",
        user_href: format!("/admin/users/{}", account.id.0),
        username: account.username,
        full_name: account.full_name,
        password: password.to_string(),
    })
}

async fn user_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    id: UserId,
    sent: Sent,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let roles = s.account.roles.clone();
    let histories = state.histories.clone();
    let (account, live, history) = state
        .db(move |conn| {
            let account = users::find(conn, id)?.ok_or(AppError::NotFound)?;
            let live = sessions::live_count(conn, id)?;
            let history =
                super::audit::history_panel(conn, &histories, "user", &id.to_string(), &roles)?;
            Ok((account, live, history))
        })
        .await?;
    let now = state.clock.now();
    let status_text = account.status(now);
    let locked = account.failures.locked_until.filter(|t| *t > now);
    let is_self = account.id == s.account.id;
    let mut forms: Vec<String> = ["profile", "roles", "reset"].map(String::from).to_vec();
    if locked.is_some() {
        forms.push("unlock".into());
    }
    match (account.active, is_self) {
        (true, false) => forms.push("disable".into()),
        (false, _) => forms.push("enable".into()),
        (true, true) => {}
    }
    let mut sent = sent;
    sent.place(&forms);
    // The roles as ticked on a refused roles form, else as stored.
    let roles_shown = match sent.rejected() {
        Some(r) if r.form == "roles" => Roles::new(
            Role::ALL
                .iter()
                .copied()
                .filter(|role| r.value(&format!("role_{}", role.as_str())).is_some()),
        ),
        _ => account.roles.clone(),
    };

    let page = UserPage {
        ctx: page_ctx(state, s, "/admin/users").await?,
        id: account.id.to_string(),
        number: account.id.0,
        version: account.version,
        username: account.username.clone(),
        full_name: account.full_name.clone(),
        email: account.email.clone(),
        roles: role_choices(&roles_shown),
        status: status_text,
        status_class: status_class(status_text),
        active: account.active,
        locked_until: locked.map(|t| when(Some(t))),
        must_change_password: account.must_change_password,
        last_login: when(account.last_login_at),
        created: when(Some(account.created_at)),
        live_sessions: live,
        is_self,
        sent,
        history,
    };
    html_status(status, &page)
}

pub async fn show(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    user_page(
        &state,
        admin.session(),
        UserId(path.into_inner()),
        Sent::none(),
        StatusCode::OK,
    )
    .await
}

/// Runs an account change; on a refusal shows the user page again with the
/// form as typed and why (a stale form, what changed since `version`),
/// otherwise redirects with a notice.
async fn apply(
    state: web::Data<AppState>,
    s: &SessionCtx,
    (id, version): (UserId, Option<i64>),
    rejected: Rejected,
    notice: &str,
    change: impl FnOnce(&mut crate::db::DbConnection) -> Result<Account, RecordError> + Send + 'static,
) -> Result<HttpResponse, AppError> {
    match state.db(move |conn| Ok(change(conn))).await? {
        Ok(_) => {
            flash(&state, s, "ok", notice).await?;
            Ok(see_other(&format!("/admin/users/{}", id.0)))
        }
        Err(e) => {
            let record = version.map(|v| ("user", id.0, v));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            user_page(&state, s, id, Sent::of(rejected), status).await
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileForm {
    version: i64,
    full_name: String,
    email: String,
}

pub async fn update_profile(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, typed): Typed<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let id = UserId(path.into_inner());
    let ctx = user_ctx(&state, admin.session(), op);
    apply(
        state,
        admin.session(),
        (id, Some(f.version)),
        Rejected::named("profile").typed_all(&typed),
        "Name and e-mail saved.",
        move |conn| accounts::update_profile(conn, &ctx, id, f.version, &f.full_name, &f.email),
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesForm {
    version: i64,
    #[serde(default)]
    role_admin: Option<String>,
    #[serde(default)]
    role_quality: Option<String>,
    #[serde(default)]
    role_engineer: Option<String>,
    #[serde(default)]
    role_auditor: Option<String>,
}

pub async fn update_roles(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Typed(f, typed): Typed<RolesForm>,
) -> Result<HttpResponse, AppError> {
    let id = UserId(path.into_inner());
    let roles = RoleBoxes {
        role_admin: f.role_admin,
        role_quality: f.role_quality,
        role_engineer: f.role_engineer,
        role_auditor: f.role_auditor,
    }
    .roles();
    let ctx = user_ctx(&state, admin.session(), op);
    apply(
        state,
        admin.session(),
        (id, Some(f.version)),
        Rejected::named("roles").typed_all(&typed),
        "Roles saved.",
        move |conn| crate::service::people::set_roles(conn, &ctx, id, f.version, roles),
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonForm {
    #[serde(default)]
    version: Option<i64>,
    reason: String,
}

pub async fn disable(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    set_active(state, admin, op, UserId(path.into_inner()), f, false).await
}

pub async fn enable(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    set_active(state, admin, op, UserId(path.into_inner()), f, true).await
}

async fn set_active(
    state: web::Data<AppState>,
    admin: AdminUser,
    op: Option<String>,
    id: UserId,
    f: ReasonForm,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let ctx = user_ctx(&state, admin.session(), op);
    let me = admin.session().account.id;
    let (notice, form) = if active {
        ("Account enabled.", "enable")
    } else {
        ("Account disabled; its sessions have ended.", "disable")
    };
    let rejected = Rejected::named(form).typed("reason", &f.reason);
    apply(
        state,
        admin.session(),
        (id, f.version),
        rejected,
        notice,
        move |conn| {
            crate::service::people::set_active(
                conn,
                &ctx,
                id,
                f.version,
                active,
                &f.reason,
                Some(me),
            )
        },
    )
    .await
}

pub async fn unlock(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let id = UserId(path.into_inner());
    let ctx = user_ctx(&state, admin.session(), op);
    let rejected = Rejected::named("unlock").typed("reason", &f.reason);
    apply(
        state,
        admin.session(),
        (id, None),
        rejected,
        "Account unlocked.",
        move |conn| accounts::unlock(conn, &ctx, id, &f.reason),
    )
    .await
}

pub async fn reset_password(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let id = UserId(path.into_inner());
    let s = admin.session();
    let rejected = Rejected::named("reset").typed("reason", &f.reason);
    // Checked before hashing, so a mistake costs no argon2 run.
    if let Err(e) = accounts::required_reason(&f.reason) {
        let (status, rejected) = super::refused_form(&state, s, e, rejected, None).await?;
        return user_page(&state, s, id, Sent::of(rejected), status).await;
    }
    let password = Zeroizing::new(one_time_password()?);
    let hash = state.passwords.hash(password.clone()).await?;
    let ctx = user_ctx(&state, s, op);
    let version = f.version;
    let result = state
        .db(move |conn| {
            Ok(accounts::reset_password(
                conn, &ctx, id, f.version, &hash, &f.reason,
            ))
        })
        .await?;
    let account = match result {
        Ok(a) => a,
        Err(e) => {
            let record = version.map(|v| ("user", id.0, v));
            let (status, rejected) = super::refused_form(&state, s, e, rejected, record).await?;
            return user_page(&state, s, id, Sent::of(rejected), status).await;
        }
    };
    html(&OneTimePasswordPage {
        ctx: page_ctx(&state, s, "/admin/users").await?,
        heading: "Password reset",
        user_href: format!("/admin/users/{}", account.id.0),
        username: account.username,
        full_name: account.full_name,
        password: password.to_string(),
    })
}
