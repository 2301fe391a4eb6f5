//! The one place that reads the clock. Times are UTC, truncated to the
//! microsecond so what is stored, audited and shown is the same instant.
//!
//! A running application reads its time from the [`Clock`] in its state:
//! every request, every scheduled job and every check of a session's age
//! or a due date asks it. A test moves the application's time forward
//! through that clock (a CAPA becomes overdue, a session times out), never
//! by editing timestamps in the database. The command line and start-up,
//! which have no application state, read the machine's time with [`now`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};

/// The machine's time now.
pub fn now() -> DateTime<Utc> {
    truncated(Utc::now())
}

fn truncated(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// An application's clock: the machine's time plus an offset that only
/// ever grows (it starts at zero; [`Clock::advance`] adds to it), so time
/// as the application sees it never runs backwards. Clones share the offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_us: Arc<AtomicI64>,
}

impl Clock {
    /// The machine's time.
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        let offset = Duration::microseconds(self.offset_us.load(Ordering::Relaxed));
        truncated(Utc::now() + offset)
    }

    /// Today's date (UTC).
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Moves this clock (and every clone of it) forward by `by`; a negative
    /// or zero duration changes nothing.
    pub fn advance(&self, by: Duration) {
        if let Some(us) = by.num_microseconds().filter(|us| *us > 0) {
            self.offset_us.fetch_add(us, Ordering::Relaxed);
        }
    }

    /// How far this clock is ahead of the machine's.
    pub fn offset(&self) -> Duration {
        Duration::microseconds(self.offset_us.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_is_ahead_for_every_clone_and_never_goes_back() {
        let clock = Clock::system();
        let other = clock.clone();
        let before = clock.now();
        clock.advance(Duration::days(20));
        assert!(other.now() - before >= Duration::days(20));
        assert!(other.today() >= before.date_naive() + Duration::days(20));
        clock.advance(Duration::days(-30));
        assert_eq!(other.offset(), Duration::days(20));
    }

    #[test]
    fn times_are_whole_microseconds() {
        assert_eq!(Clock::system().now().nanosecond() % 1_000, 0);
        assert_eq!(now().nanosecond() % 1_000, 0);
    }
}
