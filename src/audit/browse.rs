//! Reading the log for people: filtered, newest first, a page at a time by
//! seq (keyset pagination, so page 1,000 costs what page 1 costs). Every
//! filter is served by an index of `audit_entries`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::StoredEntry;
use crate::db::DbConnection;
use crate::db::schema::audit_entries as e;

/// What to show. Empty fields do not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// The entity types the reader may see; `None` for every entry
    /// (including those about no record). Set from the reader's roles.
    pub visible_types: Option<Vec<String>>,
    pub entity_type: Option<String>,
    /// A record's id (`u-7`) or key (`CAPA-12`, a username).
    pub record: Option<String>,
    pub actor_id: Option<String>,
    pub actions: Option<Vec<String>>,
    /// Inclusive lower bound, UTC.
    pub from: Option<NaiveDateTime>,
    /// Exclusive upper bound, UTC.
    pub until: Option<NaiveDateTime>,
}

/// Which page: the newest, the one older than a seq, or the one newer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    Newest,
    Before(i64),
    After(i64),
}

/// One page, newest first, and whether there is more on either side.
#[derive(Debug)]
pub struct Page {
    pub entries: Vec<StoredEntry>,
    pub has_older: bool,
    pub has_newer: bool,
}

type Boxed<'a> = e::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>;

fn filtered(f: &Filter) -> Boxed<'_> {
    let mut q = e::table.into_boxed();
    match (&f.record, &f.entity_type) {
        // One record's history (every record page): found through the
        // (type, id) and key indexes, one each side of the OR; the type is
        // then checked as an expression, so the planner does not walk all
        // of the type's entries instead (it did: 250 ms per CAPA page on a
        // log of 50,000 entries).
        (Some(r), Some(t)) => {
            q = q
                .filter(
                    e::entity_type
                        .eq(t.clone())
                        .and(e::entity_id.eq(r.clone()))
                        .or(e::entity_key.eq(r.clone())),
                )
                .filter(e::entity_type.concat("").eq(t.clone()));
        }
        (Some(r), None) => {
            q = q.filter(e::entity_id.eq(r.clone()).or(e::entity_key.eq(r.clone())));
        }
        (None, Some(t)) => q = q.filter(e::entity_type.eq(t.clone())),
        (None, None) => {}
    }
    if let Some(types) = &f.visible_types {
        q = match f.record {
            Some(_) => q.filter(e::entity_type.concat("").eq_any(types.clone())),
            None => q.filter(e::entity_type.eq_any(types.clone())),
        };
    }
    if let Some(a) = &f.actor_id {
        q = q.filter(e::actor_id.eq(a.clone()));
    }
    if let Some(actions) = &f.actions {
        q = q.filter(e::action.eq_any(actions.clone()));
    }
    if let Some(from) = f.from {
        q = q.filter(e::at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(e::at.lt(until));
    }
    q
}

/// Whether any entry matches `f` on the given side of `seq`.
fn any(
    conn: &mut DbConnection,
    f: &Filter,
    older_than: Option<i64>,
    newer_than: Option<i64>,
) -> QueryResult<bool> {
    let mut q = filtered(f);
    if let Some(s) = older_than {
        q = q.filter(e::seq.lt(s));
    }
    if let Some(s) = newer_than {
        q = q.filter(e::seq.gt(s));
    }
    Ok(!q.select(e::seq).limit(1).load::<i64>(conn)?.is_empty())
}

/// A page of at most `limit` entries matching `f`.
pub fn page(conn: &mut DbConnection, f: &Filter, cursor: Cursor, limit: i64) -> QueryResult<Page> {
    let columns = (e::seq, e::leaf, e::leaf_hash);
    // Going older, one entry more than the page says whether there are older.
    let mut entries: Vec<StoredEntry> = match cursor {
        Cursor::Newest => filtered(f)
            .order(e::seq.desc())
            .limit(limit + 1)
            .select(columns)
            .load(conn)?,
        Cursor::Before(seq) => filtered(f)
            .filter(e::seq.lt(seq))
            .order(e::seq.desc())
            .limit(limit + 1)
            .select(columns)
            .load(conn)?,
        Cursor::After(seq) => {
            let mut rows: Vec<StoredEntry> = filtered(f)
                .filter(e::seq.gt(seq))
                .order(e::seq.asc())
                .limit(limit)
                .select(columns)
                .load(conn)?;
            rows.reverse();
            rows
        }
    };
    let older_read = entries.len() as i64 > limit && !matches!(cursor, Cursor::After(_));
    entries.truncate(limit.max(0) as usize);
    // A newer page that came back short is the newest page: show it full.
    if matches!(cursor, Cursor::After(_)) && (entries.len() as i64) < limit {
        return page(conn, f, Cursor::Newest, limit);
    }
    let (has_older, has_newer) = match (entries.first(), entries.last()) {
        (Some(newest), Some(oldest)) => (
            match cursor {
                Cursor::After(_) => any(conn, f, Some(oldest.seq), None)?,
                _ => older_read,
            },
            cursor != Cursor::Newest && any(conn, f, None, Some(newest.seq))?,
        ),
        _ => (false, cursor != Cursor::Newest && any(conn, f, None, None)?),
    };
    Ok(Page {
        entries,
        has_older,
        has_newer,
    })
}

/// One entry by seq, if the filter's visibility allows it.
pub fn one(
    conn: &mut DbConnection,
    visible_types: Option<Vec<String>>,
    seq: i64,
) -> QueryResult<Option<StoredEntry>> {
    let f = Filter {
        visible_types,
        ..Filter::default()
    };
    filtered(&f)
        .filter(e::seq.eq(seq))
        .select((e::seq, e::leaf, e::leaf_hash))
        .first(conn)
        .optional()
}
