//! The audit log's public endpoints (AUDIT-LOG.md section 4). Any signed-in
//! user may use them; auditors need nothing else.

use actix_web::{HttpResponse, web};

use crate::web::AppState;
use crate::web::extract::CurrentUser;

/// `GET /audit/key`: the verifier key, in the signed-note vkey format.
pub async fn key(state: web::Data<AppState>, _user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.log_vkey))
}
