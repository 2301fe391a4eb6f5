//! The append-only audit log (docs/audit.md, AUDIT-LOG.md).
//!
//! `append` writes the exact leaf bytes of one entry in the caller's
//! transaction, with `seq` taken from the tree head (`audit_tree`, whose size
//! the triggers keep equal to `audit_head`'s): on PostgreSQL the row is locked
//! `FOR UPDATE`, on SQLite the transaction already holds the one write lock
//! (`db::write_tx` begins IMMEDIATE). A rolled-back transaction
//! therefore never leaves a gap, and several app instances sharing one
//! database still produce one gap-free sequence.

pub mod actions;
pub mod browse;
pub mod canonical;
pub mod checkpoint;
pub mod key;
pub mod merkle;
pub mod note;
pub mod tree;
pub mod verify;

pub use merkle::leaf_hash;

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::db::schema::{audit_entries, audit_head};
use crate::db::{DbConnection, in_transaction, naive};

/// Largest leaf accepted (AUDIT-LOG.md section 1).
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// Member names that must never appear in an entry, at any depth.
const FORBIDDEN_NAMES: &[&str] = &[
    "password",
    "password_hash",
    "new_password",
    "current_password",
    "secret",
    "token",
    "csrf_token",
    "session",
    "private_key",
];

/// Who caused an event: a user (`u-7`) or the system itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            id: "system".into(),
            name: "system".into(),
        }
    }
}

/// The record an entry is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityRef {
    pub kind: String,
    pub id: String,
    pub key: String,
    pub version: i64,
}

/// The electronic signature an entry records, when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureRef {
    pub id: String,
    pub meaning: String,
}

/// One event to append. `at` is the server's UTC time of the change (the same
/// instant written to the changed record); `seq` is assigned by `append`.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub log: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: String,
    pub entity: Option<EntityRef>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
    pub signature: Option<SignatureRef>,
    pub op: Option<String>,
}

impl NewEntry {
    pub fn new(log: &str, at: DateTime<Utc>, actor: Actor, action: &str) -> Self {
        Self {
            log: log.to_string(),
            at,
            actor,
            action: action.to_string(),
            entity: None,
            before: None,
            after: None,
            reason: None,
            signature: None,
            op: None,
        }
    }

    pub fn entity(mut self, entity: EntityRef) -> Self {
        self.entity = Some(entity);
        self
    }

    pub fn before(mut self, before: Value) -> Self {
        self.before = Some(before);
        self
    }

    pub fn after(mut self, after: Value) -> Self {
        self.after = Some(after);
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn signature(mut self, signature: SignatureRef) -> Self {
        self.signature = Some(signature);
        self
    }

    pub fn op(mut self, op: Option<String>) -> Self {
        self.op = op;
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit entries must be appended inside the transaction of the change they record")]
    NotInTransaction,
    #[error("audit action {0:?} is not a dotted lower-case name")]
    BadAction(String),
    #[error("audit entry of {0} bytes is over the {MAX_ENTRY_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("audit entry would record the member {0:?}, which may hold a secret")]
    ForbiddenMember(String),
    #[error("audit entry cannot be encoded: {0}")]
    Encoding(#[from] canonical::CanonicalError),
    #[error(
        "the audit tree of {tree} entries is not consistent with the checkpoint signed at {signed}; nothing was signed"
    )]
    Inconsistent { signed: u64, tree: u64 },
    #[error("the stored Merkle tree is damaged: {0}")]
    CorruptTree(String),
    #[error("audit log storage failed: {0}")]
    Storage(#[from] diesel::result::Error),
}

/// Formats a time as the log writes it: UTC, microseconds, always 6 digits.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The exact leaf bytes of `entry` at index `seq` (AUDIT-LOG.md section 1).
pub fn leaf_bytes(seq: u64, entry: &NewEntry) -> Result<Vec<u8>, AuditError> {
    if !is_action_name(&entry.action) {
        return Err(AuditError::BadAction(entry.action.clone()));
    }
    for value in [&entry.before, &entry.after].into_iter().flatten() {
        if let Some(name) = forbidden_member(value) {
            return Err(AuditError::ForbiddenMember(name));
        }
    }
    let mut obj = Map::new();
    obj.insert("v".into(), json!(1));
    obj.insert("log".into(), json!(entry.log));
    obj.insert("seq".into(), json!(seq));
    obj.insert("at".into(), json!(format_time(entry.at)));
    obj.insert(
        "actor".into(),
        json!({"id": entry.actor.id, "name": entry.actor.name}),
    );
    obj.insert("action".into(), json!(entry.action));
    obj.insert(
        "entity".into(),
        match &entry.entity {
            Some(e) => json!({"type": e.kind, "id": e.id, "key": e.key, "version": e.version}),
            None => Value::Null,
        },
    );
    obj.insert("before".into(), entry.before.clone().unwrap_or(Value::Null));
    obj.insert("after".into(), entry.after.clone().unwrap_or(Value::Null));
    if let Some(reason) = &entry.reason {
        obj.insert("reason".into(), json!(reason));
    }
    if let Some(sig) = &entry.signature {
        obj.insert(
            "signature".into(),
            json!({"id": sig.id, "meaning": sig.meaning}),
        );
    }
    if let Some(op) = &entry.op {
        obj.insert("op".into(), json!(op));
    }
    let bytes = canonical::to_vec(&Value::Object(obj))?;
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(AuditError::TooLarge(bytes.len()));
    }
    Ok(bytes)
}

/// Appends `entry` in the caller's open write transaction and returns its seq.
pub fn append(conn: &mut DbConnection, entry: &NewEntry) -> Result<u64, AuditError> {
    if !in_transaction(conn) {
        return Err(AuditError::NotInTransaction);
    }
    // The data stamp first: a change's writes to record tables advance it by
    // trigger before its entry is appended, so on PostgreSQL every
    // transaction takes the stamp's row before the log's head, never after.
    if changes_records(&entry.action) {
        use crate::db::schema::data_stamp as ds;
        diesel::update(ds::table.filter(ds::id.eq(1)))
            .set(ds::changes.eq(ds::changes + 1))
            .execute(conn)?;
    }
    // The tree head's size is the log's: both grow in this transaction only,
    // and the triggers refuse an entry whose seq is not the head's size.
    let mut tree = tree::head_for_append(conn)?;
    let seq = tree.size;
    let size = i64::try_from(seq).map_err(|_| diesel::result::Error::NotFound)?;
    let leaf = leaf_bytes(seq, entry)?;
    let hash = leaf_hash(&leaf);
    diesel::insert_into(audit_entries::table)
        .values((
            audit_entries::seq.eq(size),
            audit_entries::leaf.eq(&leaf),
            audit_entries::leaf_hash.eq(&hash[..]),
            audit_entries::at.eq(naive(entry.at)),
            audit_entries::actor_id.eq(&entry.actor.id),
            audit_entries::action.eq(&entry.action),
            audit_entries::entity_type.eq(entry.entity.as_ref().map(|e| e.kind.as_str())),
            audit_entries::entity_id.eq(entry.entity.as_ref().map(|e| e.id.as_str())),
            audit_entries::entity_key.eq(entry.entity.as_ref().map(|e| e.key.as_str())),
        ))
        .execute(conn)?;
    tree::advance(conn, &mut tree, &hash)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::size.eq(size + 1))
        .execute(conn)?;
    Ok(seq)
}

/// Whether an entry of `action` records a change to records (anything but
/// sign-in and session events, API calls, refusals of access, refused
/// signatures and webhook pings or unused events, which change no record a
/// page computes from).
pub fn changes_records(action: &str) -> bool {
    !(action.starts_with("auth.")
        || matches!(
            action,
            "api.called"
                | "access.denied"
                | "signature.refused"
                | "repository.ping_received"
                | "repository.event_ignored"
                | "document_version.printed"
                | "training.record_printed"
                | "training.gate_refused"
        ))
}

/// How many changes to records there have been: a stamp for values
/// computed from the data (`service::KeptUntilDataChanges`).
pub fn data_stamp(conn: &mut DbConnection) -> Result<i64, diesel::result::Error> {
    use crate::db::schema::data_stamp as ds;
    ds::table
        .filter(ds::id.eq(1))
        .select(ds::changes)
        .get_result(conn)
}

/// Number of entries in the log.
pub fn size(conn: &mut DbConnection) -> Result<u64, diesel::result::Error> {
    let size: i64 = audit_head::table
        .filter(audit_head::id.eq(1))
        .select(audit_head::size)
        .first(conn)?;
    Ok(u64::try_from(size).unwrap_or(0))
}

/// A stored entry as the audit browser and tests read it.
#[derive(Clone, Debug, Queryable)]
pub struct StoredEntry {
    pub seq: i64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

impl StoredEntry {
    /// The leaf parsed as JSON (it was canonical JSON when written).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.leaf).unwrap_or(Value::Null)
    }
}

/// A stored entry with the columns derived from its leaf for queries
/// (AUDIT-LOG.md section 1): the live verification checks each against
/// the leaf, since History panels and filters read them.
#[derive(Clone, Debug, Queryable)]
pub struct StoredColumns {
    pub seq: i64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Vec<u8>,
    pub at: chrono::NaiveDateTime,
    pub actor_id: String,
    pub action: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub entity_key: Option<String>,
}

/// The entries `start..end` (u64 bounds, clamped to i64) in seq order.
macro_rules! seq_range {
    ($start:expr, $end:expr) => {
        audit_entries::table
            .filter(
                audit_entries::seq
                    .ge(i64::try_from($start).unwrap_or(i64::MAX))
                    .and(audit_entries::seq.lt(i64::try_from($end).unwrap_or(i64::MAX))),
            )
            .order(audit_entries::seq.asc())
    };
}

/// Entries `start..end` in seq order, with their derived columns.
pub fn entries_with_columns(
    conn: &mut DbConnection,
    start: u64,
    end: u64,
) -> Result<Vec<StoredColumns>, diesel::result::Error> {
    seq_range!(start, end)
        .select((
            audit_entries::seq,
            audit_entries::leaf,
            audit_entries::leaf_hash,
            audit_entries::at,
            audit_entries::actor_id,
            audit_entries::action,
            audit_entries::entity_type,
            audit_entries::entity_id,
            audit_entries::entity_key,
        ))
        .load(conn)
}

/// Entries `start..end` in seq order.
pub fn entries(
    conn: &mut DbConnection,
    start: u64,
    end: u64,
) -> Result<Vec<StoredEntry>, diesel::result::Error> {
    seq_range!(start, end)
        .select((
            audit_entries::seq,
            audit_entries::leaf,
            audit_entries::leaf_hash,
        ))
        .load(conn)
}

/// Every entry about one entity with `action`, in seq order (through the
/// entity index; for upgrades and tests, not request paths).
pub fn entity_entries(
    conn: &mut DbConnection,
    entity_type: &str,
    entity_id: &str,
    action: &str,
) -> Result<Vec<StoredEntry>, diesel::result::Error> {
    audit_entries::table
        .filter(audit_entries::entity_type.eq(entity_type))
        .filter(audit_entries::entity_id.eq(entity_id))
        .filter(audit_entries::action.eq(action))
        .order(audit_entries::seq.asc())
        .select((
            audit_entries::seq,
            audit_entries::leaf,
            audit_entries::leaf_hash,
        ))
        .load(conn)
}

fn is_action_name(action: &str) -> bool {
    !action.is_empty()
        && action.len() <= 64
        && action.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

fn forbidden_member(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if FORBIDDEN_NAMES.contains(&k.as_str()) {
                Some(k.clone())
            } else {
                forbidden_member(v)
            }
        }),
        Value::Array(items) => items.iter().find_map(forbidden_member),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry() -> NewEntry {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 21, 10, 42, 7)
            .single()
            .unwrap_or_default()
            + chrono::Duration::microseconds(123_456);
        NewEntry::new(
            "attest.example.com/audit",
            at,
            Actor {
                id: "u-7".into(),
                name: "Jane Doe".into(),
            },
            "capa.transition",
        )
        .entity(EntityRef {
            kind: "capa".into(),
            id: "12".into(),
            key: "CAPA-12".into(),
            version: 4,
        })
        .before(json!({"state": "investigation"}))
        .after(json!({"state": "action"}))
    }

    #[test]
    fn leaf_bytes_are_the_canonical_json_of_the_specified_shape() {
        let bytes = leaf_bytes(41, &entry().op(Some("op-1".into()))).unwrap_or_default();
        let expected = concat!(
            r#"{"action":"capa.transition","actor":{"id":"u-7","name":"Jane Doe"},"after":{"state":"action"},"#,
            r#""at":"2026-11-21T10:42:07.123456Z","before":{"state":"investigation"},"#,
            r#""entity":{"id":"12","key":"CAPA-12","type":"capa","version":4},"#,
            r#""log":"attest.example.com/audit","op":"op-1","seq":41,"v":1}"#
        );
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
        assert!(canonical::is_canonical(&bytes));
    }

    #[test]
    fn times_always_have_six_fractional_digits() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .unwrap_or_default();
        assert_eq!(format_time(at), "2026-01-02T03:04:05.000000Z");
    }

    #[test]
    fn secrets_oversized_entries_and_bad_action_names_are_refused() {
        let e = entry().after(json!({"user": {"password": "x"}}));
        assert!(
            matches!(leaf_bytes(0, &e), Err(AuditError::ForbiddenMember(m)) if m == "password")
        );
        let e = entry().reason("x".repeat(MAX_ENTRY_BYTES));
        assert!(matches!(leaf_bytes(0, &e), Err(AuditError::TooLarge(_))));
        let mut e = entry();
        e.action = "Capa Transition".into();
        assert!(matches!(leaf_bytes(0, &e), Err(AuditError::BadAction(_))));
    }

    #[test]
    fn leaf_hash_follows_rfc_9162() {
        // SHA-256 of the single byte 0x00 (the empty leaf).
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }
}
