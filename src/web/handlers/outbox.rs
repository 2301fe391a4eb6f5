//! The mail outbox for administrators (issue 18): every mail with its
//! status (queued, sent, failed), attempts and last error, filtered by
//! status and searched by address or subject; a failed mail queued again
//! by hand; a test mail to any address. Both changes are audited.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{flash, html, html_status, page_ctx, see_other, user_ctx, when};
use crate::db::repo::outbox::{self as repo, Mail, Status};
use crate::service::error::RecordError;
use crate::service::mail;
use crate::web::AppState;
use crate::web::csrf::Typed;
use crate::web::error::{AppError, urlencode};
use crate::web::extract::{AdminUser, OpId};
use crate::web::rejected::Rejected;
use crate::web::session::SessionCtx;
use crate::web::views::admin::PageLink;
use crate::web::views::outbox::{MailPage, MailRow, OutboxPage, StatusLink};

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

fn row(m: &Mail) -> MailRow {
    MailRow {
        id: m.id,
        to: m.letter.to.clone(),
        subject: m.letter.subject.clone(),
        status: m.status.as_str(),
        attempts: m.attempts,
        when: match m.status {
            Status::Sent => format!("sent {}", when(m.sent_at)),
            Status::Queued => format!("next try {}", when(Some(m.next_attempt_at))),
            Status::Failed => format!("queued {}", when(Some(m.created_at))),
        },
        last_error: m.last_error.clone().unwrap_or_default(),
        failed: m.status == Status::Failed,
    }
}

/// The outbox page: `test_to` and `problems` are the test mail form's.
async fn outbox_page(
    state: &web::Data<AppState>,
    s: &SessionCtx,
    q: ListQuery,
    (test_to, problems): (String, Rejected),
    status_code: StatusCode,
) -> Result<HttpResponse, AppError> {
    let status = match q.status.as_str() {
        "" => None,
        other => Some(Status::parse(other).ok_or_else(|| {
            AppError::BadRequest(format!(
                "Unknown status filter {other:?}: use queued, sent or failed"
            ))
        })?),
    };
    let text: String = q.q.trim().chars().take(100).collect();
    let page = q.page.unwrap_or(1).max(1);
    let search = text.clone();
    let (mails, total, counts) = state
        .db(move |conn| {
            let (mails, total) =
                repo::list(conn, status, &search, ((page - 1) * PAGE_SIZE, PAGE_SIZE))?;
            Ok((mails, total, repo::counts(conn)?))
        })
        .await?;
    let with_q = |base: String| match text.as_str() {
        "" => base,
        t => format!(
            "{base}{}q={}",
            if base.contains('?') { "&" } else { "?" },
            urlencode(t)
        ),
    };
    let statuses = Status::ALL
        .into_iter()
        .zip(counts)
        .map(|(st, count)| StatusLink {
            label: match st {
                Status::Queued => "Queued",
                Status::Sent => "Sent",
                Status::Failed => "Failed",
            },
            href: with_q(format!("/admin/outbox?status={}", st.as_str())),
            count,
            current: Some(st) == status,
        })
        .collect();
    let base = with_q(format!(
        "/admin/outbox?status={}",
        status.map_or("", Status::as_str)
    ));
    let pages = PageLink::window(page, total, PAGE_SIZE, |n| format!("{base}&page={n}"));
    let rows: Vec<MailRow> = mails.iter().map(row).collect();
    let first = if rows.is_empty() {
        0
    } else {
        (page - 1) * PAGE_SIZE + 1
    };
    let last = (page - 1) * PAGE_SIZE + i64::try_from(rows.len()).unwrap_or(0);
    html_status(
        status_code,
        &OutboxPage {
            ctx: page_ctx(state, s, "/admin/outbox").await?,
            transport: state.mailer.transport.describe(),
            enabled: state.mailer.enabled(),
            from: state.mailer.from.clone(),
            all_href: with_q("/admin/outbox".to_string()),
            statuses,
            status: status.map_or("", Status::as_str).to_string(),
            filtered: !text.is_empty() || status.is_some(),
            q: text,
            rows,
            total,
            first,
            last,
            pages,
            test_to,
            problems,
        },
    )
}

pub async fn list(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let s = admin.session();
    let own = s.account.email.clone();
    outbox_page(
        &state,
        s,
        query.into_inner(),
        (own, Rejected::new("test", "")),
        StatusCode::OK,
    )
    .await
}

pub async fn show(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let m = state
        .db(move |conn| repo::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    html(&MailPage {
        ctx: page_ctx(&state, admin.session(), "/admin/outbox").await?,
        id: m.id,
        to: m.letter.to.clone(),
        subject: m.letter.subject.clone(),
        status: m.status.as_str(),
        failed: m.status == Status::Failed,
        attempts: m.attempts,
        created: when(Some(m.created_at)),
        next_attempt: when(Some(m.next_attempt_at)),
        sent: when(m.sent_at),
        last_error: m.last_error.clone().unwrap_or_default(),
        html_chars: m.letter.html.chars().count(),
        text: m.letter.text,
        idem_key: m.idem_key,
    })
}

pub async fn retry(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let s = admin.session();
    let ctx = user_ctx(&state, s, op);
    match state
        .db(move |conn| Ok(mail::retry(conn, &ctx, id)))
        .await?
    {
        Ok(m) => {
            let text = format!(
                "Mail {} to {} is queued again; it is sent within a few seconds.",
                m.id, m.letter.to
            );
            flash(&state, s, "ok", &text).await?;
            Ok(see_other("/admin/outbox?status=queued"))
        }
        Err(RecordError::Conflict(why)) => {
            flash(&state, s, "error", &why).await?;
            Ok(see_other(&format!("/admin/outbox/{id}")))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestForm {
    email: String,
}

pub async fn test(
    state: web::Data<AppState>,
    admin: AdminUser,
    OpId(op): OpId,
    Typed(f, typed): Typed<TestForm>,
) -> Result<HttpResponse, AppError> {
    let s = admin.session();
    let ctx = user_ctx(&state, s, op);
    let mailer = state.mailer.clone();
    let by = format!("{} ({})", s.account.full_name, s.account.username);
    let to = f.email.clone();
    match state
        .db(move |conn| Ok(mail::queue_test(conn, &ctx, &mailer, &to, &by)))
        .await?
    {
        Ok(m) => {
            let text = format!(
                "A test mail to {} is queued as mail {}; its row shows whether the server took it.",
                m.letter.to, m.id
            );
            flash(&state, s, "ok", &text).await?;
            Ok(see_other("/admin/outbox"))
        }
        Err(e @ (RecordError::Invalid(_) | RecordError::Conflict(_))) => {
            let problems = Rejected::new("test", "").typed_all(&typed).refused(&e);
            let q = ListQuery {
                status: String::new(),
                q: String::new(),
                page: None,
            };
            outbox_page(&state, s, q, (f.email, problems), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e.into()),
    }
}
