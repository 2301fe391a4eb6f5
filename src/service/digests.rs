//! Digests (issue 18): for each person who sends a category of mail to the
//! digest, at 07:00 UTC daily or on Mondays, one mail with the
//! notifications held for it, their overdue duties and those due in the
//! next 7 days; the held notifications are marked told and the time kept,
//! in one transaction with the mail queued (its key names the person and
//! the digest's time, so it goes once).

use std::collections::HashMap;

use super::Ctx;
use super::error::RecordError;
use super::mail::{self, Mailer};
use crate::db::repo::reminders::Dated;
use crate::db::repo::{mail_prefs, notifications, reminders, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::notify::compose::{self, Digest, Item};

fn item(d: &Dated, base: &str) -> Item {
    let page = crate::domain::record::kind(d.record.0)
        .and_then(|k| k.page_of(k.number(&d.record.1)?))
        .unwrap_or_else(|| "/".into());
    Item {
        line: format!("{}: {} (due {})", d.record.2, d.duty.what(), d.due_on),
        link: format!("{base}{page}"),
    }
}

/// Queues the digests due now; how many.
pub fn run(conn: &mut DbConnection, ctx: &Ctx, mailer: &Mailer) -> Result<usize, RecordError> {
    if !mailer.enabled() {
        return Ok(0);
    }
    let today = ctx.now.date_naive();
    // Those who send something to the digest, and those who stopped but
    // still have notifications held for it (they get them in a last one).
    let mut due = Vec::new();
    for p in mail_prefs::all(conn)? {
        let at = p.digest.due_at(ctx.now);
        if p.last_digest_at.is_some_and(|t| t >= at) {
            continue;
        }
        if p.uses_digest() || !notifications::held_for(conn, p.user_id, 1)?.is_empty() {
            due.push(p);
        }
    }
    if due.is_empty() {
        return Ok(0);
    }
    let mut duties: HashMap<i64, Vec<Dated>> = HashMap::new();
    for d in reminders::dated(conn, today + chrono::Duration::days(7))? {
        duties.entry(d.person).or_default().push(d);
    }
    let mut queued = 0;
    for prefs in due {
        let at = prefs.digest.due_at(ctx.now);
        let theirs = duties.remove(&prefs.user_id).unwrap_or_default();
        let sent = write_tx(conn, |conn| -> Result<bool, RecordError> {
            mail_prefs::set_last_digest(conn, prefs.user_id, ctx.now)?;
            let Some(person) = users::find(conn, UserId(prefs.user_id))?
                .filter(|a| a.active && !a.email.trim().is_empty())
            else {
                return Ok(false);
            };
            let held = notifications::held_for(conn, prefs.user_id, 200)?;
            let base = mailer.base_url.as_str();
            let (overdue, soon): (Vec<&Dated>, Vec<&Dated>) =
                theirs.iter().partition(|d| d.due_on < today);
            if held.is_empty() && theirs.is_empty() {
                return Ok(false);
            }
            let letter = compose::digest(
                &Digest {
                    to: &person.email,
                    name: &person.full_name,
                    every: prefs.digest.as_str(),
                    new: held
                        .iter()
                        .map(|n| Item {
                            line: n.words.clone(),
                            link: format!("{base}{}", n.href),
                        })
                        .collect(),
                    overdue: overdue.into_iter().map(|d| item(d, base)).collect(),
                    soon: soon.into_iter().map(|d| item(d, base)).collect(),
                },
                base,
            )
            .map_err(|e| RecordError::Fault(format!("a digest could not be written: {e}")))?;
            let key = format!("digest-u-{}-{}", prefs.user_id, at.format("%Y%m%dT%H%M"));
            mail::enqueue(conn, &key, Some(prefs.user_id), &letter, ctx.now)?;
            let ids: Vec<i64> = held.iter().map(|n| n.id).collect();
            notifications::mark_digested(conn, &ids, ctx.now)?;
            Ok(true)
        })?;
        if sent {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The scheduler's job that queues digests.
pub fn digests_job(
    log: String,
    every: std::time::Duration,
    mailer: std::sync::Arc<Mailer>,
) -> crate::jobs::Job {
    super::system_job(
        "digests",
        log,
        every,
        move |conn, ctx| run(conn, ctx, &mailer),
        "digests queued",
    )
}
