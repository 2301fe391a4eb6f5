//! Application services: each operation runs in one write transaction and
//! appends its audit entry in that same transaction.

pub mod access;
pub mod accounts;
pub mod attachments;
pub mod capas;
pub mod digests;
pub mod documents;
pub mod edit;
pub mod error;
pub mod events;
pub mod exports;
pub mod gate;
pub mod git;
pub mod keys;
pub mod links;
pub mod mail;
pub mod mail_prefs;
pub mod nonconformances;
pub mod notifications;
pub mod password;
pub mod people;
pub mod products;
pub mod reminders;
pub mod requirements;
pub mod risk_reports;
pub mod risks;
pub mod signature_requests;
pub mod signing;
pub mod testruns;
pub mod tokens;
pub mod trace;
pub mod training;
pub mod verification;
pub mod workflow;

use chrono::{DateTime, Utc};

use crate::audit::{Actor, NewEntry};

/// Who is acting, when, and under which request: everything an audit entry
/// needs besides what changed.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub log: String,
    pub actor: Actor,
    pub now: DateTime<Utc>,
    pub op: Option<String>,
}

impl Ctx {
    pub fn entry(&self, action: &str) -> NewEntry {
        NewEntry::new(&self.log, self.now, self.actor.clone(), action).op(self.op.clone())
    }
}

/// A scheduler job that runs `run` as Attest itself at the clock's now
/// (`log` names the log), reporting "`n` `what`".
pub fn system_job(
    name: &'static str,
    log: String,
    every: std::time::Duration,
    run: impl Fn(&mut crate::db::DbConnection, &Ctx) -> Result<usize, error::RecordError>
    + Send
    + Sync
    + 'static,
    what: &'static str,
) -> crate::jobs::Job {
    crate::jobs::Job {
        name,
        every,
        run: std::sync::Arc::new(move |conn, clock| {
            let ctx = Ctx {
                log: log.clone(),
                actor: crate::audit::Actor::system(),
                now: clock.now(),
                op: None,
            };
            run(conn, &ctx)
                .map(|n| format!("{n} {what}"))
                .map_err(|e| e.to_string())
        }),
    }
}

/// The user number of the acting user, if a user (not the system) acts.
pub fn actor_user(ctx: &Ctx) -> Option<i64> {
    ctx.actor
        .id
        .parse::<crate::domain::ids::UserId>()
        .ok()
        .filter(|_| ctx.actor.id.starts_with("u-"))
        .map(|u| u.0)
}

/// 32 random bytes, URL-safe base64: session ids, CSRF tokens.
pub fn random_token() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// Hex SHA-256, used to store session tokens without storing the token.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Values computed from the database and kept until a record changes.
/// Every change appends its audit entry in the same transaction, and the
/// append advances the data stamp for every entry that changes a record
/// (`audit::changes_records`), so the stamp dates the data a value was
/// computed from on every instance sharing the database; sign-ins, API
/// reads and refusals leave it alone. Used for the dashboard's figures and
/// for each product's traceability matrix.
///
/// One value is computed at a time for a key: a request that finds it being
/// computed waits for it (at most [`WAIT_FOR_KEPT`]) instead of computing it
/// again, so a page many people open at once after a change costs one
/// computation, not one each.
pub struct KeptUntilDataChanges<K, V> {
    state: std::sync::Mutex<Kept<K, V>>,
    done: std::sync::Condvar,
}

struct Kept<K, V> {
    values: std::collections::HashMap<K, (i64, std::sync::Arc<V>)>,
    /// Keys being computed now.
    busy: std::collections::HashSet<K>,
}

impl<K, V> Default for KeptUntilDataChanges<K, V> {
    fn default() -> Self {
        Self {
            state: std::sync::Mutex::new(Kept {
                values: std::collections::HashMap::new(),
                busy: std::collections::HashSet::new(),
            }),
            done: std::sync::Condvar::new(),
        }
    }
}

/// How many values one cache keeps for the same data; past that it starts
/// again, so varied queries between two changes cannot grow it without end.
pub const MAX_KEPT: usize = 512;

/// The longest a request waits for a value another is computing before it
/// computes it itself.
pub const WAIT_FOR_KEPT: std::time::Duration = std::time::Duration::from_secs(10);

impl<K: Eq + std::hash::Hash + Clone, V> KeptUntilDataChanges<K, V> {
    /// The value for `key`, from `compute` when none is kept for the data
    /// as it is now.
    pub fn get<E: From<diesel::result::Error>>(
        &self,
        conn: &mut crate::db::DbConnection,
        key: K,
        compute: impl FnOnce(&mut crate::db::DbConnection) -> Result<V, E>,
    ) -> Result<std::sync::Arc<V>, E> {
        // The stamp is read first: a change landing meanwhile leaves an older
        // stamp on a newer value, so it is only ever computed again.
        let size = crate::audit::data_stamp(conn)?;
        self.get_at(conn, size, key, compute)
    }

    /// As [`get`](Self::get), against a stamp the caller read first: the
    /// audit log's size for values computed from the log itself (a record's
    /// History panel, which also shows refusals and sign-ins).
    pub fn get_at<E>(
        &self,
        conn: &mut crate::db::DbConnection,
        size: i64,
        key: K,
        compute: impl FnOnce(&mut crate::db::DbConnection) -> Result<V, E>,
    ) -> Result<std::sync::Arc<V>, E> {
        let mut claimed = false;
        if let Ok(mut kept) = self.state.lock() {
            let deadline = std::time::Instant::now() + WAIT_FOR_KEPT;
            loop {
                if let Some((at, value)) = kept.values.get(&key)
                    && *at >= size
                {
                    return Ok(value.clone());
                }
                if !kept.busy.contains(&key) {
                    kept.busy.insert(key.clone());
                    claimed = true;
                    break;
                }
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                match self.done.wait_timeout(kept, left) {
                    Ok((guard, _)) => kept = guard,
                    Err(_) => return compute(conn).map(std::sync::Arc::new),
                }
            }
        }
        let fresh = compute(conn).map(std::sync::Arc::new);
        if let Ok(mut kept) = self.state.lock() {
            if claimed {
                kept.busy.remove(&key);
            }
            if let Ok(value) = &fresh {
                // Values of older data are stale for good.
                kept.values.retain(|_, (at, _)| *at >= size);
                if kept.values.len() >= MAX_KEPT {
                    kept.values.clear();
                }
                kept.values.insert(key, (size, value.clone()));
            }
        }
        self.done.notify_all();
        fresh
    }
}
