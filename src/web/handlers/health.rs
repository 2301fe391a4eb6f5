//! Operator probes: `/healthz` (the process answers) and `/readyz` (the
//! database answers).

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use crate::error::Rendered;
use crate::web::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = state
        .db(|conn| conn.batch_execute("SELECT 1").map_err(Into::into))
        .await;
    let mut res = match ready {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready\n"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body("database unreachable\n")
        }
    };
    res.extensions_mut().insert(Rendered);
    res
}
