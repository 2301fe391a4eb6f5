//! Operator probes: `/healthz` (the process answers) and `/readyz` (the
//! database answers and, for the embedded SQLite database, the disk under it
//! has room for writes).

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use crate::web::AppState;
use crate::web::error::Rendered;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// Below this much free space under an embedded database, the instance is
/// not ready: writes are about to fail (SECURITY.md 20).
pub const MIN_FREE_BYTES: u64 = 2 * 1024 * 1024;

/// Free bytes for unprivileged writers on the filesystem holding `path`.
fn free_bytes(path: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `st` is written by statvfs
    // before it is read; it is read only when the call succeeded.
    let st = unsafe {
        if libc::statvfs(c.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    // The field types differ between platforms (u32 on some).
    #[allow(clippy::useless_conversion)]
    Some(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = state
        .db(|conn| conn.batch_execute("SELECT 1").map_err(Into::into))
        .await;
    let full = match &state.settings.database {
        crate::db::DbTarget::Sqlite(path) => path
            .parent()
            .and_then(free_bytes)
            .filter(|free| *free < MIN_FREE_BYTES),
        crate::db::DbTarget::Postgres(_) => None,
    };
    let mut res = match (ready, full) {
        (Ok(()), None) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready\n"),
        (Ok(()), Some(free)) => {
            tracing::warn!(free, "not ready: the disk under the database is full");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body(format!(
                    "not ready: the disk under the database has {free} bytes free; writes would fail\n"
                ))
        }
        (Err(e), _) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .body("not ready: database unreachable\n")
        }
    };
    res.extensions_mut().insert(Rendered);
    res
}
