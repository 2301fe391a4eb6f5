//! The one place that reads the clock. Times are UTC, truncated to the
//! microsecond so what is stored, audited and shown is the same instant.

use chrono::{DateTime, Timelike, Utc};

pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}
