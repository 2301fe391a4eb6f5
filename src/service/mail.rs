//! The outbox (issue 18): mail is written to `mail_outbox` in the
//! transaction that decides it is needed and delivered by the mail job
//! after that transaction commits, so a change never waits on a mail
//! server and a server that is down or slow loses nothing (SECURITY.md 23).
//! A failed attempt is tried again after 1 minute, doubling to at most 6
//! hours; a refusal (5xx) or 2 days of trying marks the mail failed with
//! the server's answer, and an administrator can queue it again from the
//! outbox page. The job runs on one instance at a time (`jobs`), so a mail
//! is sent by one sender; a crash between sending and recording a mail
//! sends it again with the same Message-ID.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use crate::audit::{self, EntityRef};
use crate::db::repo::outbox::{self as repo, Mail, Status};
use crate::db::{DbConnection, write_tx};
use crate::notify::{Letter, Transport};

/// How this instance sends mail, and what its links start with.
pub struct Mailer {
    pub transport: Transport,
    /// The sender of every mail.
    pub from: String,
    /// The site's address (`https://qms.example.com`), for links in mail.
    pub base_url: String,
    /// Mails sent at once, each on its own connection (ATTEST_SMTP_CONNECTIONS).
    pub connections: usize,
}

impl Mailer {
    /// Whether mail is sent at all (ATTEST_MAIL is not off).
    pub fn enabled(&self) -> bool {
        !self.transport.is_off()
    }
}

/// A mail waiting on a server is tried again this long after its first
/// failed attempt, twice as long after each next one...
pub const FIRST_RETRY: Duration = Duration::minutes(1);
/// ...but never longer than this between attempts.
pub const LONGEST_WAIT: Duration = Duration::hours(6);
/// A mail not sent this long after it was queued is failed.
pub const GIVE_UP_AFTER: Duration = Duration::days(2);

/// How long to wait after the `attempts`-th failed attempt.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let wait = FIRST_RETRY * 2_i32.saturating_pow(doublings);
    wait.min(LONGEST_WAIT)
}

/// Queues a mail under `key` (once: a key already used queues nothing);
/// a letter the mail builder refuses (a line break in its subject or
/// address) is kept as failed with the reason and never sent. The new
/// mail's id.
pub fn enqueue(
    conn: &mut DbConnection,
    key: &str,
    user_id: Option<i64>,
    letter: &Letter,
    at: DateTime<Utc>,
) -> diesel::QueryResult<Option<i64>> {
    let refused = letter.check().err().map(|e| e.to_string());
    repo::insert(conn, key, user_id, letter, refused.as_deref(), at)
}

/// Queues a mail under a key known to be new (see `repo::insert_new`).
pub fn enqueue_new(
    conn: &mut DbConnection,
    key: &str,
    user_id: Option<i64>,
    letter: &Letter,
    at: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    let refused = letter.check().err().map(|e| e.to_string());
    repo::insert_new(conn, key, user_id, letter, refused.as_deref(), at)
}

/// How one attempt went.
enum Attempt {
    Sent,
    Again(DateTime<Utc>, String),
    Failed(String),
}

fn attempt(mailer: &Mailer, m: &Mail, now: DateTime<Utc>) -> (Attempt, bool) {
    let attempts = m.attempts.saturating_add(1);
    let failure = match m.letter.message(&mailer.from, m.id) {
        Err(refused) => crate::notify::Failure::permanent(refused.to_string()),
        Ok(message) => match mailer.transport.send(m.id, &message) {
            Ok(()) => return (Attempt::Sent, false),
            Err(f) => f,
        },
    };
    let unreachable = failure.unreachable;
    // The last attempt is made when the 2 days are up.
    let next = (now + backoff(attempts)).min(m.created_at + GIVE_UP_AFTER);
    let outcome = if failure.permanent {
        Attempt::Failed(failure.answer)
    } else if now - m.created_at >= GIVE_UP_AFTER {
        Attempt::Failed(format!(
            "not sent in {} days of trying; last error: {}",
            GIVE_UP_AFTER.num_days(),
            failure.answer
        ))
    } else {
        Attempt::Again(next, failure.answer)
    };
    (outcome, unreachable)
}

/// Tries the mails of `due` on `mailer.connections` connections at once
/// (a conversation waits on the server's replies far more than it works,
/// so one connection leaves both sides idle); stops taking more once the
/// server cannot be reached or the run has gone on long enough. Each mail
/// tried with how it went, and whether the run should stop.
fn attempt_all<'a>(
    mailer: &Mailer,
    due: &'a [Mail],
    clock: &crate::clock::Clock,
    started: std::time::Instant,
) -> (Vec<(&'a Mail, Attempt)>, bool) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = mailer.connections.clamp(1, due.len().max(1));
    let outcomes = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let Some(m) = due.get(next.fetch_add(1, Ordering::SeqCst)) else {
                            break;
                        };
                        let (outcome, unreachable) = attempt(mailer, m, clock.now());
                        mine.push((m, outcome));
                        if unreachable || started.elapsed() > RUN_FOR {
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect::<Vec<_>>()
    });
    (outcomes, stop.load(Ordering::SeqCst))
}

/// Mails one run takes at a time; the results of each batch are recorded
/// in one transaction.
const BATCH: i64 = 100;
/// A run stops taking batches after this long and leaves the rest to the
/// next run.
const RUN_FOR: std::time::Duration = std::time::Duration::from_secs(20);

/// Sends the queued mails that are due, recording each outcome; how many
/// were sent. A server that cannot be reached ends the run (the rest wait
/// for the next one rather than each waiting for its timeout).
pub fn deliver(
    conn: &mut DbConnection,
    mailer: &Mailer,
    clock: &crate::clock::Clock,
) -> Result<usize, RecordError> {
    if !mailer.enabled() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let mut sent = 0;
    loop {
        let now = clock.now();
        let due = repo::due(conn, now, BATCH)?;
        if due.is_empty() {
            break;
        }
        let (outcomes, stop) = attempt_all(mailer, &due, clock, started);
        let at = clock.now();
        write_tx(conn, |conn| -> Result<(), RecordError> {
            for (m, outcome) in &outcomes {
                let attempts = m.attempts.saturating_add(1);
                match outcome {
                    Attempt::Sent => {
                        repo::mark_sent(conn, m.id, attempts, at)?;
                    }
                    Attempt::Again(next, error) => {
                        repo::mark_attempt_failed(conn, m.id, attempts, error, Some(*next))?;
                    }
                    Attempt::Failed(error) => {
                        repo::mark_attempt_failed(conn, m.id, attempts, error, None)?;
                    }
                }
            }
            Ok(())
        })?;
        sent += outcomes
            .iter()
            .filter(|(_, o)| matches!(o, Attempt::Sent))
            .count();
        if stop || started.elapsed() > RUN_FOR {
            break;
        }
    }
    Ok(sent)
}

/// The scheduler's job that delivers the outbox.
pub fn mail_job(mailer: Arc<Mailer>, every: std::time::Duration) -> crate::jobs::Job {
    crate::jobs::Job {
        name: "mail",
        every,
        run: Arc::new(move |conn, clock| {
            deliver(conn, &mailer, clock)
                .map(|n| format!("{n} mails sent"))
                .map_err(|e| e.to_string())
        }),
    }
}

fn entity(m: &Mail) -> EntityRef {
    EntityRef {
        kind: "mail".into(),
        id: m.entity_id(),
        key: format!("Mail {} to {}", m.id, m.letter.to),
        version: i64::from(m.attempts),
    }
}

/// Queues a failed mail again, to be tried now (an administrator, from the
/// outbox page); audited.
pub fn retry(conn: &mut DbConnection, ctx: &Ctx, id: i64) -> Result<Mail, RecordError> {
    write_tx(conn, |conn| {
        let m = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        if m.status != Status::Failed {
            return Err(RecordError::Conflict(format!(
                "mail {id} is {}, not failed: only a failed mail is queued again",
                m.status.as_str()
            )));
        }
        repo::requeue(conn, id, ctx.now)?;
        audit::append(
            conn,
            &ctx.entry("mail.retried")
                .entity(entity(&m))
                .before(json!({"status": "failed", "last_error": m.last_error}))
                .after(json!({"status": "queued", "next_attempt_at": audit::format_time(ctx.now)})),
        )?;
        repo::find(conn, id)?.ok_or(RecordError::NotFound)
    })
}

/// Queues a test mail to `to` (an administrator, from the outbox page);
/// audited. The address is checked as an account's is (no line break can
/// reach a header).
pub fn queue_test(
    conn: &mut DbConnection,
    ctx: &Ctx,
    mailer: &Mailer,
    to: &str,
    by: &str,
) -> Result<Mail, RecordError> {
    let to = crate::domain::user::Email::parse(to).map_err(|e| RecordError::Invalid(vec![e]))?;
    if !mailer.enabled() {
        return Err(RecordError::Conflict(
            "mail is off (ATTEST_MAIL=off): set ATTEST_MAIL to file or smtp to send mail".into(),
        ));
    }
    let letter = crate::notify::compose::test(to.as_str(), by, &mailer.base_url)
        .map_err(|e| RecordError::Fault(format!("the test mail could not be written: {e}")))?;
    let key = format!(
        "test-{}",
        super::random_token().map_err(|e| RecordError::Fault(format!("no random bytes: {e}")))?
    );
    write_tx(conn, |conn| {
        let id = enqueue(conn, &key, None, &letter, ctx.now)?
            .ok_or_else(|| RecordError::Fault("a test mail's key was used twice".into()))?;
        let m = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        audit::append(
            conn,
            &ctx.entry("mail.test_queued")
                .entity(entity(&m))
                .after(json!({"to": m.letter.to, "subject": m.letter.subject})),
        )?;
        Ok(m)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_one_minute_doubling_to_six_hours() {
        let minutes: Vec<i64> = (1..=11).map(|n| backoff(n).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]);
        assert_eq!(backoff(i32::MAX), LONGEST_WAIT);
        assert_eq!(backoff(0), FIRST_RETRY);
    }
}
