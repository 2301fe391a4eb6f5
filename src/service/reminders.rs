//! Reminders of due dates (issue 18): the reminders job reads the duties
//! that fall due within the longest lead (CAPAs, action items,
//! effectiveness checks, periodic reviews, training), asks
//! `domain::reminder` which reminders each needs today, and for each not
//! yet kept writes its key and a domain event in one transaction. The
//! notify job turns the events into notifications and mails like any
//! other, so a reminder reaches its person once: the key is unique, the job
//! runs on one instance at a time, and a second run the same day finds
//! every key taken.

use super::Ctx;
use super::error::RecordError;
use crate::audit::EntityRef;
use crate::db::repo::reminders::{self as repo, NewReminder};
use crate::db::{DbConnection, write_tx};
use crate::domain::event::DomainEvent;
use crate::domain::reminder::{self, Duty};

/// The longest lead of any duty: duties due later need nothing yet.
const HORIZON_DAYS: i64 = 30;

/// Writes today's reminders not sent yet; how many. `escalate_after`: days
/// overdue before quality is told.
pub fn run(conn: &mut DbConnection, ctx: &Ctx, escalate_after: i64) -> Result<usize, RecordError> {
    let today = ctx.now.date_naive();
    write_tx(conn, |conn| {
        let dated = repo::dated(conn, today + chrono::Duration::days(HORIZON_DAYS))?;
        let mut written = 0;
        for d in &dated {
            for r in reminder::due_today(d.duty, &d.key_id, d.due_on, today, escalate_after) {
                let escalated = r.stage == reminder::Stage::Escalated;
                let kept = repo::insert(
                    conn,
                    &NewReminder {
                        key: &r.key,
                        duty: d.duty,
                        stage: r.stage.as_str(),
                        record: (d.record.0, &d.record.1),
                        user_id: (!escalated).then_some(d.person),
                        due_on: d.due_on,
                        at: ctx.now,
                    },
                )?;
                if !kept {
                    continue;
                }
                let anchor = match d.duty {
                    Duty::ActionItem => "#actions",
                    _ => "",
                };
                let entity = EntityRef {
                    kind: d.record.0.to_string(),
                    id: d.record.1.clone(),
                    key: d.record.2.clone(),
                    version: 0,
                };
                super::events::append(
                    conn,
                    ctx,
                    &entity,
                    &[DomainEvent::reminder(
                        d.person, d.duty, &r, d.due_on, anchor,
                    )],
                )?;
                written += 1;
            }
        }
        Ok(written)
    })
}

/// The scheduler's job that writes reminders.
pub fn reminders_job(
    log: String,
    every: std::time::Duration,
    escalate_after: i64,
) -> crate::jobs::Job {
    super::system_job(
        "reminders",
        log,
        every,
        move |conn, ctx| run(conn, ctx, escalate_after),
        "reminders written",
    )
}
