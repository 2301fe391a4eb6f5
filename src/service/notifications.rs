//! Notifications from domain events (issue 18): the notify job reads the
//! events not processed yet, finds who each tells (domain::notification),
//! writes one in-app notification per person and event (never to the
//! person whose action it was, never to an inactive account) and marks the
//! events processed, all in one transaction, so a notification is written
//! once however often the job runs and on however many instances.

use super::Ctx;
use super::error::RecordError;
use crate::db::repo::{events, notifications as repo, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::ids::UserId;
use crate::domain::notification::{Audience, anchor, audience, words};

/// Most events one run of the job takes.
const BATCH: i64 = 500;

/// Writes the notifications of the events not processed yet (at most a
/// batch); how many notifications it wrote.
pub fn process(conn: &mut DbConnection, ctx: &Ctx) -> Result<usize, RecordError> {
    write_tx(conn, |conn| {
        let batch = events::unprocessed(conn, BATCH)?;
        let mut written = 0;
        for e in &batch {
            let actor = e
                .actor_id
                .strip_prefix("u-")
                .and_then(|n| n.parse::<i64>().ok());
            let people: Vec<i64> = match audience(e.kind, &e.data) {
                Audience::Nobody => Vec::new(),
                Audience::Person(p) => match users::find(conn, UserId(p))? {
                    Some(a) if a.active => vec![p],
                    _ => Vec::new(),
                },
                Audience::Role { role, except } => users::active_with_role(conn, role, 1000)?
                    .into_iter()
                    .filter(|u| Some(*u) != except)
                    .collect(),
            };
            let line = words(e.kind, &e.record_key, &e.data);
            let href = crate::domain::record::kind(&e.record_type)
                .and_then(|k| k.page_of(k.number(&e.record_id)?))
                .map_or_else(|| "/".to_string(), |p| format!("{p}{}", anchor(e.kind)));
            for p in people.into_iter().filter(|p| Some(*p) != actor) {
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
                    },
                )?;
                if wrote {
                    written += 1;
                }
            }
        }
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        events::mark_processed(conn, &ids, ctx.now)?;
        Ok(written)
    })
}

/// The scheduler's job that turns events into notifications.
pub fn notify_job(log: String, every: std::time::Duration) -> crate::jobs::Job {
    super::system_job("notify", log, every, process, "notifications written")
}
