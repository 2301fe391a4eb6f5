//! Signer keys and electronic signatures. Keys are retired, never deleted;
//! signatures are append-only (triggers refuse the rest).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{audit_entries, signatures as sig, signing_keys as keys, users};
use crate::db::{DbConnection, naive, utc};
use crate::domain::ids::UserId;
use crate::signature::{self, KeyOnFile, NewKey, Stored};

/// A signing key row.
#[derive(Clone, Debug)]
pub struct KeyRow {
    pub id: i64,
    pub key_id: String,
    pub user_id: i64,
    pub public_key: Vec<u8>,
    pub wrapped_key: Option<Vec<u8>>,
    pub kdf_salt: Option<Vec<u8>>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub retired_reason: Option<String>,
}

/// A stored signing-key row, read by column name.
#[derive(Queryable, Selectable)]
#[diesel(table_name = keys)]
struct KeyCols {
    id: i64,
    key_id: String,
    user_id: i64,
    public_key: Vec<u8>,
    wrapped_key: Option<Vec<u8>>,
    kdf_salt: Option<Vec<u8>>,
    valid_from: NaiveDateTime,
    valid_until: Option<NaiveDateTime>,
    retired_reason: Option<String>,
}

fn key_row(r: KeyCols) -> KeyRow {
    KeyRow {
        id: r.id,
        key_id: r.key_id,
        user_id: r.user_id,
        public_key: r.public_key,
        wrapped_key: r.wrapped_key,
        kdf_salt: r.kdf_salt,
        valid_from: utc(r.valid_from),
        valid_until: r.valid_until.map(utc),
        retired_reason: r.retired_reason,
    }
}

/// The user's active key, if they have one.
pub fn active_key(conn: &mut DbConnection, user: UserId) -> QueryResult<Option<KeyRow>> {
    keys::table
        .filter(keys::user_id.eq(user.0).and(keys::valid_until.is_null()))
        .select(KeyCols::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(key_row))
}

pub fn find_key(conn: &mut DbConnection, key_id: &str) -> QueryResult<Option<KeyRow>> {
    keys::table
        .filter(keys::key_id.eq(key_id))
        .select(KeyCols::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(key_row))
}

/// Every key a user has had, newest first.
pub fn keys_of(conn: &mut DbConnection, user: UserId) -> QueryResult<Vec<KeyRow>> {
    keys::table
        .filter(keys::user_id.eq(user.0))
        .order(keys::id.desc())
        .select(KeyCols::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(key_row).collect())
}

/// A key with its owner's username and printed name.
pub type OwnedKey = (KeyRow, String, String);

/// One page of the key history of every user, newest first, and the total.
pub fn key_page(
    conn: &mut DbConnection,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<OwnedKey>, i64)> {
    let total = keys::table.count().get_result(conn)?;
    let rows = keys::table
        .inner_join(users::table.on(users::id.eq(keys::user_id)))
        .order(keys::id.desc())
        .offset(offset)
        .limit(limit)
        .select((KeyCols::as_select(), users::username, users::full_name))
        .load::<(KeyCols, String, String)>(conn)?;
    Ok((
        rows.into_iter()
            .map(|(k, u, n)| (key_row(k), u, n))
            .collect(),
        total,
    ))
}

pub fn insert_key(
    conn: &mut DbConnection,
    user: UserId,
    key: &NewKey,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(keys::table)
        .values((
            keys::key_id.eq(&key.key_id),
            keys::user_id.eq(user.0),
            keys::public_key.eq(key.public_key.as_slice()),
            keys::wrapped_key.eq(Some(key.wrapped.as_slice())),
            keys::kdf_salt.eq(Some(key.salt.as_slice())),
            keys::valid_from.eq(naive(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Replaces the wrapped private key if it is still `old` (password change);
/// false if it changed or the key was retired meanwhile.
pub fn rewrap(
    conn: &mut DbConnection,
    key_id: &str,
    old: &[u8],
    wrapped: &[u8],
    salt: &[u8],
) -> QueryResult<bool> {
    diesel::update(
        keys::table.filter(
            keys::key_id
                .eq(key_id)
                .and(keys::valid_until.is_null())
                .and(keys::wrapped_key.eq(old)),
        ),
    )
    .set((keys::wrapped_key.eq(wrapped), keys::kdf_salt.eq(salt)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Retires the user's active key: valid until `now`, its wrapped private
/// half destroyed. Returns the key retired, if there was one.
pub fn retire_active(
    conn: &mut DbConnection,
    user: UserId,
    now: DateTime<Utc>,
    reason: &str,
) -> QueryResult<Option<KeyRow>> {
    let Some(active) = active_key(conn, user)? else {
        return Ok(None);
    };
    diesel::update(keys::table.filter(keys::id.eq(active.id)))
        .set((
            keys::valid_until.eq(Some(naive(now))),
            keys::wrapped_key.eq(None::<Vec<u8>>),
            keys::kdf_salt.eq(None::<Vec<u8>>),
            keys::retired_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
    Ok(Some(active))
}

/// The public key the audit trail recorded when `key_id` was issued to the
/// user (`signature.key_issued`), read from the entry's exact bytes.
pub fn issued_in_log(
    conn: &mut DbConnection,
    user_id: i64,
    key_id: &str,
) -> QueryResult<Option<Vec<u8>>> {
    use base64::Engine;
    let leaves: Vec<Vec<u8>> = audit_entries::table
        .filter(
            audit_entries::entity_type
                .eq("user")
                .and(audit_entries::entity_id.eq(UserId(user_id).to_string()))
                .and(audit_entries::action.eq("signature.key_issued")),
        )
        .order(audit_entries::seq.asc())
        .select(audit_entries::leaf)
        .load(conn)?;
    Ok(leaves.iter().find_map(|leaf| {
        let v: serde_json::Value = serde_json::from_slice(leaf).ok()?;
        let after = v.get("after")?;
        if after.get("key_id")?.as_str()? != key_id {
            return None;
        }
        base64::engine::general_purpose::STANDARD
            .decode(after.get("public_key")?.as_str()?)
            .ok()
    }))
}

/// The key as verification needs it, with the audit trail's copy.
pub fn key_on_file(conn: &mut DbConnection, key_id: &str) -> QueryResult<Option<KeyOnFile>> {
    let Some(k) = find_key(conn, key_id)? else {
        return Ok(None);
    };
    let issued_in_log = issued_in_log(conn, k.user_id, &k.key_id)?;
    Ok(Some(KeyOnFile {
        key_id: k.key_id,
        user_id: k.user_id,
        public_key: k.public_key,
        valid_from: k.valid_from,
        valid_until: k.valid_until,
        issued_in_log,
    }))
}

/// A signature to store; the other columns are copied from its message.
pub struct NewSignature<'a> {
    pub message: &'a signature::Message,
    pub bytes: &'a [u8],
    pub signature: &'a [u8],
    pub signer: UserId,
    pub signed_at: DateTime<Utc>,
}

/// Stores a signature and returns its id.
pub fn insert(conn: &mut DbConnection, s: &NewSignature<'_>) -> QueryResult<i64> {
    let m = s.message;
    diesel::insert_into(sig::table)
        .values((
            sig::record_type.eq(&m.record.kind),
            sig::record_id.eq(&m.record.id),
            sig::record_key.eq(&m.record.key),
            sig::transition.eq(m.transition.as_deref()),
            sig::meaning.eq(&m.meaning),
            sig::signer_id.eq(s.signer.0),
            sig::key_id.eq(&m.key_id),
            sig::message.eq(s.bytes),
            sig::signature.eq(s.signature),
            sig::signed_at.eq(naive(s.signed_at)),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

/// The columns verification reads, by name.
#[derive(Queryable, Selectable)]
#[diesel(table_name = sig)]
struct SigCols {
    id: i64,
    record_type: String,
    record_id: String,
    key_id: String,
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn stored(r: SigCols) -> Stored {
    Stored {
        id: r.id,
        record_type: r.record_type,
        record_id: r.record_id,
        key_id: r.key_id,
        message: r.message,
        signature: r.signature,
    }
}

/// The signatures on one record, oldest first.
pub fn for_record(
    conn: &mut DbConnection,
    record_type: &str,
    record_id: &str,
) -> QueryResult<Vec<Stored>> {
    sig::table
        .filter(
            sig::record_type
                .eq(record_type)
                .and(sig::record_id.eq(record_id)),
        )
        .order(sig::id.asc())
        .select(SigCols::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(stored).collect())
}

/// The signatures on records of one type, oldest first.
pub fn for_records(
    conn: &mut DbConnection,
    record_type: &str,
    record_ids: &[String],
) -> QueryResult<Vec<Stored>> {
    let mut out = Vec::new();
    for chunk in record_ids.chunks(500) {
        let rows: Vec<SigCols> = sig::table
            .filter(
                sig::record_type
                    .eq(record_type)
                    .and(sig::record_id.eq_any(chunk)),
            )
            .order(sig::id.asc())
            .select(SigCols::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().map(stored));
    }
    out.sort_by_key(|s| s.id);
    Ok(out)
}

/// Signatures with id above `after`, oldest first (verification walks them all).
pub fn after(conn: &mut DbConnection, after: i64, limit: i64) -> QueryResult<Vec<Stored>> {
    sig::table
        .filter(sig::id.gt(after))
        .order(sig::id.asc())
        .limit(limit)
        .select(SigCols::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(stored).collect())
}

/// One page of every signature, newest first, and the total.
pub fn page(conn: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<(Vec<Stored>, i64)> {
    let total = sig::table.count().get_result(conn)?;
    let rows = sig::table
        .order(sig::id.desc())
        .offset(offset)
        .limit(limit)
        .select(SigCols::as_select())
        .load(conn)?;
    Ok((rows.into_iter().map(stored).collect(), total))
}
