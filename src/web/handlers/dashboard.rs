//! The dashboard: "What needs me" first.

use actix_web::{HttpResponse, web};

use super::{html, page_ctx, when};
use crate::db::repo::{nonconformances, users};
use crate::domain::nonconformance::NcState;
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
    let is_quality = s.account.roles.contains(Role::Quality);
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
            if is_quality {
                // Every open nonconformance waits on quality for its next step.
                let waiting = [NcState::Reported, NcState::UnderReview, NcState::Dispositioned];
                for nc in nonconformances::waiting(conn, &waiting, 50)? {
                    let next = match nc.state {
                        NcState::Reported => "review it (description, product and severity first)",
                        NcState::UnderReview => "decide the disposition",
                        _ => "record how the disposition was carried out and close it",
                    };
                    needs.push(NeedItem {
                        href: format!("/nonconformances/{}", nc.id),
                        title: format!("{} {}", nc.key(), nc.title),
                        detail: format!("{}: {next}; reported {}", nc.state.label(), when(Some(nc.created_at))),
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
