//! The dashboard: "What needs me" first.

use actix_web::{HttpResponse, web};

use super::{html, page_ctx, when};
use crate::db::repo::users;
use crate::domain::user::Role;
use crate::error::AppError;
use crate::web::AppState;
use crate::web::extract::CurrentUser;
use crate::web::views::{DashboardPage, NeedItem};

pub async fn index(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
) -> Result<HttpResponse, AppError> {
    let is_admin = s.account.roles.contains(Role::Admin);
    let needs = state
        .db(move |conn| {
            let mut needs = Vec::new();
            if is_admin {
                let now = crate::clock::now();
                for a in users::locked(conn, now, 20)? {
                    needs.push(NeedItem {
                        href: format!("/admin/users/{}", a.id.0),
                        title: format!("Locked account: {} ({})", a.full_name, a.username),
                        detail: format!("locked until {} after repeated wrong passwords; review and unlock if appropriate", when(a.failures.locked_until)),
                    });
                }
            }
            Ok(needs)
        })
        .await?;
    html(&DashboardPage {
        ctx: page_ctx(&state, &s, "/").await?,
        needs,
        last_login: when(s.account.last_login_at),
    })
}
