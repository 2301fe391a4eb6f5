//! Notifications from domain events (issue 18): the notify job reads the
//! events not processed yet, finds who each tells (domain::notification),
//! writes one in-app notification per person and event (never to the
//! person whose action it was, never to an inactive account), queues its
//! mail in the outbox for a person with an e-mail address (`service::mail`
//! delivers it after this transaction commits), and marks the events
//! processed, all in one transaction, so a notification and its mail are
//! written once however often the job runs and on however many instances.

use std::collections::hash_map::Entry;

use super::Ctx;
use super::error::RecordError;
use super::mail::{self, Mailer};
use crate::db::repo::{events, mail_prefs, notifications as repo, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::domain::notification::{Audience, Delivery, anchor, audience, category, subject, words};
use crate::domain::user::Account;
use crate::notify::compose::{self, NotificationMail};

/// Most events one run of the job takes.
const BATCH: i64 = 500;

/// Writes the notifications of the events not processed yet (at most a
/// batch), with their mails when `mailer` sends mail; how many
/// notifications it wrote.
pub fn process(
    conn: &mut DbConnection,
    ctx: &Ctx,
    mailer: Option<&Mailer>,
) -> Result<usize, RecordError> {
    let mailer = mailer.filter(|m| m.enabled());
    write_tx(conn, |conn| {
        let batch = events::unprocessed(conn, BATCH)?;
        let mut written = 0;
        // Each person's mail preferences, read once a run.
        let mut prefs = std::collections::HashMap::new();
        for e in &batch {
            let actor = e
                .actor_id
                .strip_prefix("u-")
                .and_then(|n| n.parse::<i64>().ok());
            let ids: Vec<i64> = match audience(e.kind, &e.data) {
                Audience::Nobody => Vec::new(),
                Audience::Person(p) => vec![p],
                Audience::People(people) => people,
                Audience::Role { role, except } => users::active_with_role(conn, role, 1000)?
                    .into_iter()
                    .filter(|u| Some(*u) != except)
                    .collect(),
            };
            let line = words(e.kind, &e.record_key, &e.data);
            let href = crate::domain::record::kind(&e.record_type)
                .and_then(|k| k.page_of(k.number(&e.record_id)?))
                .map_or_else(
                    || "/".to_string(),
                    |p| format!("{p}{}", anchor(e.kind, &e.data)),
                );
            let category = category(e.kind, &e.data);
            for p in ids.into_iter().filter(|p| Some(*p) != actor) {
                let Some(person) = users::find(conn, UserId(p))?.filter(|a| a.active) else {
                    continue;
                };
                let delivery = match mailer {
                    Some(_) if !person.email.trim().is_empty() => {
                        let theirs = match prefs.entry(p) {
                            Entry::Occupied(o) => o.into_mut(),
                            Entry::Vacant(v) => v.insert(mail_prefs::find(conn, p)?),
                        };
                        theirs.delivery(category)
                    }
                    _ => Delivery::Off,
                };
                let wrote = repo::insert(
                    conn,
                    &repo::NewNotification {
                        user_id: p,
                        event_id: e.id,
                        kind: e.kind.as_str(),
                        record: (&e.record_type, &e.record_id, &e.record_key),
                        words: &line,
                        href: &href,
                        at: ctx.now,
                        held: delivery == Delivery::Digest,
                    },
                )?;
                if !wrote {
                    continue;
                }
                written += 1;
                if let Some(mailer) = mailer.filter(|_| delivery == Delivery::Immediately) {
                    let what = subject(e.kind, &e.record_key, &e.data);
                    queue_mail(conn, ctx, mailer, &person, (e.id, &what, &line, &href))?;
                }
            }
        }
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        events::mark_processed(conn, &ids, ctx.now)?;
        Ok(written)
    })
}

/// Queues the mail of event `event`'s notification to `person` (who has
/// an e-mail address: without one, delivery is off and the app alone tells
/// them).
fn queue_mail(
    conn: &mut DbConnection,
    ctx: &Ctx,
    mailer: &Mailer,
    person: &Account,
    (event, subject, line, href): (i64, &str, &str, &str),
) -> Result<(), RecordError> {
    let letter = compose::notification(
        &NotificationMail {
            to: &person.email,
            name: &person.full_name,
            subject,
            line,
            href,
        },
        &mailer.base_url,
    )
    .map_err(|e| RecordError::Fault(format!("a notification mail could not be written: {e}")))?;
    // New: the notification of this event and person was written just now.
    let key = format!("event-{event}-u-{}", person.id.0);
    mail::enqueue_new(conn, &key, Some(person.id.0), &letter, ctx.now)?;
    Ok(())
}

/// The scheduler's job that turns events into notifications and mails.
pub fn notify_job(
    log: String,
    every: std::time::Duration,
    mailer: std::sync::Arc<Mailer>,
) -> crate::jobs::Job {
    super::system_job(
        "notify",
        log,
        every,
        move |conn, ctx| process(conn, ctx, Some(&mailer)),
        "notifications written",
    )
}
