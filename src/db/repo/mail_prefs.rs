//! Each person's mail preferences: per category immediately, in the
//! digest, or off; the digest daily or weekly; when the last digest went.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::mail_preferences as p;
use crate::db::{DbConnection, naive, utc};
use crate::domain::notification::{Category, Delivery, DigestEvery};

/// A person's preferences (every category immediately when none are kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefs {
    pub user_id: i64,
    pub digest: DigestEvery,
    /// Categories not sent immediately, by name.
    pub categories: BTreeMap<String, String>,
    pub last_digest_at: Option<DateTime<Utc>>,
    /// 0 when none are kept yet.
    pub version: i64,
}

impl Prefs {
    pub fn default_for(user_id: i64) -> Self {
        Self {
            user_id,
            digest: DigestEvery::Daily,
            categories: BTreeMap::new(),
            last_digest_at: None,
            version: 0,
        }
    }

    /// How mail of `c` goes; a category that cannot be off never is.
    pub fn delivery(&self, c: Category) -> Delivery {
        let d = self
            .categories
            .get(c.as_str())
            .and_then(|d| Delivery::parse(d))
            .unwrap_or_default();
        if d == Delivery::Off && !c.can_be_off() {
            Delivery::Immediately
        } else {
            d
        }
    }

    /// Whether any category goes to the digest.
    pub fn uses_digest(&self) -> bool {
        Category::ALL
            .into_iter()
            .any(|c| self.delivery(c) == Delivery::Digest)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = p)]
struct Row {
    user_id: i64,
    digest: String,
    categories: String,
    last_digest_at: Option<NaiveDateTime>,
    version: i64,
}

fn of(r: Row) -> Prefs {
    Prefs {
        user_id: r.user_id,
        digest: DigestEvery::parse(&r.digest).unwrap_or_default(),
        categories: serde_json::from_str(&r.categories).unwrap_or_default(),
        last_digest_at: r.last_digest_at.map(utc),
        version: r.version,
    }
}

/// `user`'s preferences, the defaults when none are kept.
pub fn find(conn: &mut DbConnection, user: i64) -> QueryResult<Prefs> {
    p::table
        .filter(p::user_id.eq(user))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map_or_else(|| Prefs::default_for(user), of))
}

/// Everyone's kept preferences (the people who changed theirs).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<Prefs>> {
    p::table
        .order(p::user_id.asc())
        .select(Row::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(of).collect())
}

/// Saves `prefs` if they are still at `prefs.version`; whether they were.
pub fn save(conn: &mut DbConnection, prefs: &Prefs, at: DateTime<Utc>) -> QueryResult<bool> {
    let categories = serde_json::to_string(&prefs.categories).unwrap_or_else(|_| "{}".into());
    if prefs.version == 0 {
        let there: i64 = p::table
            .filter(p::user_id.eq(prefs.user_id))
            .count()
            .get_result(conn)?;
        if there > 0 {
            return Ok(false);
        }
        diesel::insert_into(p::table)
            .values((
                p::user_id.eq(prefs.user_id),
                p::digest.eq(prefs.digest.as_str()),
                p::categories.eq(&categories),
                p::last_digest_at.eq(prefs.last_digest_at.map(naive)),
                p::updated_at.eq(naive(at)),
                p::version.eq(1),
            ))
            .execute(conn)?;
        return Ok(true);
    }
    diesel::update(
        p::table
            .filter(p::user_id.eq(prefs.user_id))
            .filter(p::version.eq(prefs.version)),
    )
    .set((
        p::digest.eq(prefs.digest.as_str()),
        p::categories.eq(&categories),
        p::updated_at.eq(naive(at)),
        p::version.eq(prefs.version + 1),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records that `user`'s digest went (or was due and had nothing) at `at`.
pub fn set_last_digest(
    conn: &mut DbConnection,
    user: i64,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(p::table.filter(p::user_id.eq(user)))
        .set(p::last_digest_at.eq(Some(naive(at))))
        .execute(conn)
}
