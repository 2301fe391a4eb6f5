//! Nonconformances. Rows are never deleted; `save` writes with an optimistic
//! version check (`WHERE version = old`), so a stale or double submit changes
//! nothing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::nonconformances as t;
use crate::db::{DbConnection, naive, utc};
use crate::domain::nonconformance::{Disposition, Nc, NcState, Severity, Source};

/// A stored row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    id: i64,
    title: String,
    source: String,
    product_id: Option<i64>,
    lot_serial: String,
    description: String,
    detected_on: Option<String>,
    reported_by: i64,
    severity: Option<String>,
    state: String,
    disposition: Option<String>,
    justification: String,
    closure_note: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn record(r: Row) -> QueryResult<Nc> {
    let c = crate::db::strict::Cols::new("nonconformances", r.id);
    Ok(Nc {
        id: r.id,
        title: r.title,
        source: c.one_of("source", &r.source, Source::parse)?,
        product_id: r.product_id,
        lot_serial: r.lot_serial,
        description: r.description,
        detected_on: c.opt_date("detected_on", r.detected_on.as_deref())?,
        reported_by: r.reported_by,
        severity: c.opt_one_of("severity", r.severity.as_deref(), Severity::parse)?,
        state: c.one_of("state", &r.state, NcState::parse)?,
        disposition: c.opt_one_of("disposition", r.disposition.as_deref(), Disposition::parse)?,
        justification: r.justification,
        closure_note: r.closure_note,
        capa_id: None,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

/// The record with the CAPA opened from it, if it was escalated.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Nc>> {
    let Some(mut nc) = t::table
        .find(id)
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(record)
        .transpose()?
    else {
        return Ok(None);
    };
    nc.capa_id = escalated_to(conn, id)?;
    Ok(Some(nc))
}

/// n of the CAPA-n the record's `escalated_to` link names, if any.
fn escalated_to(conn: &mut DbConnection, id: i64) -> QueryResult<Option<i64>> {
    use crate::db::schema::links as l;
    let to: Option<String> = l::table
        .filter(l::from_type.eq("nonconformance"))
        .filter(l::from_id.eq(format!("nc-{id}")))
        .filter(l::relation.eq("escalated_to"))
        .filter(l::to_type.eq("capa"))
        .filter(l::removed_at.is_null())
        .order(l::id.asc())
        .select(l::to_id)
        .first(conn)
        .optional()?;
    Ok(to.and_then(|s| s.strip_prefix("capa-")?.parse().ok()))
}

/// Stores a new report and returns it with its number.
pub fn insert(conn: &mut DbConnection, nc: &Nc) -> QueryResult<Nc> {
    diesel::insert_into(t::table)
        .values((
            t::title.eq(&nc.title),
            t::source.eq(nc.source.as_str()),
            t::product_id.eq(nc.product_id),
            t::lot_serial.eq(&nc.lot_serial),
            t::description.eq(&nc.description),
            t::detected_on.eq(nc.detected_on.map(|d| d.to_string())),
            t::reported_by.eq(nc.reported_by),
            t::severity.eq(nc.severity.map(Severity::as_str)),
            t::state.eq(nc.state.as_str()),
            t::created_at.eq(naive(nc.created_at)),
            t::updated_at.eq(naive(nc.updated_at)),
            t::version.eq(1),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    t::table
        .find(id)
        .select(Row::as_select())
        .first::<Row>(conn)
        .and_then(record)
}

/// Writes `nc`'s fields (never its state) as version `nc.version` if the
/// stored one is `nc.version - 1`.
pub fn save(conn: &mut DbConnection, nc: &Nc) -> QueryResult<bool> {
    let n = diesel::update(t::table.filter(t::id.eq(nc.id).and(t::version.eq(nc.version - 1))))
        .set((
            t::title.eq(&nc.title),
            t::source.eq(nc.source.as_str()),
            t::product_id.eq(nc.product_id),
            t::lot_serial.eq(&nc.lot_serial),
            t::description.eq(&nc.description),
            t::detected_on.eq(nc.detected_on.map(|d| d.to_string())),
            t::severity.eq(nc.severity.map(Severity::as_str)),
            t::disposition.eq(nc.disposition.map(Disposition::as_str)),
            t::justification.eq(&nc.justification),
            t::closure_note.eq(&nc.closure_note),
            t::updated_at.eq(naive(nc.updated_at)),
            t::version.eq(nc.version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Saves a workflow step: the fields and the new state, as version
/// `nc.version`. Only the transition service calls it (through
/// `service::workflow::Stored::save`); a test checks there is no other caller.
pub(crate) fn save_step(conn: &mut DbConnection, nc: &Nc) -> QueryResult<bool> {
    if !save(conn, nc)? {
        return Ok(false);
    }
    let n = diesel::update(t::table.filter(t::id.eq(nc.id).and(t::version.eq(nc.version))))
        .set(t::state.eq(nc.state.as_str()))
        .execute(conn)?;
    Ok(n == 1)
}

/// The list's filters; empty ones do not filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub state: Option<NcState>,
    pub product_id: Option<i64>,
    pub severity: Option<Severity>,
    pub source: Option<Source>,
    pub text: Option<String>,
    /// Only those not closed.
    pub open: bool,
}

/// How the list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Newest,
    Oldest,
    RecentlyChanged,
}

/// A page of nonconformances and how many match in all.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    sort: Sort,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Nc>, i64)> {
    let build = || {
        let mut q = t::table.into_boxed();
        if let Some(s) = f.state {
            q = q.filter(t::state.eq(s.as_str()));
        } else if f.open {
            q = q.filter(t::state.ne(NcState::Closed.as_str()));
        }
        if let Some(p) = f.product_id {
            q = q.filter(t::product_id.eq(p));
        }
        if let Some(s) = f.severity {
            q = q.filter(t::severity.eq(s.as_str()));
        }
        if let Some(s) = f.source {
            q = q.filter(t::source.eq(s.as_str()));
        }
        if let Some(text) = f.text.as_deref().filter(|x| !x.is_empty()) {
            let pattern = format!("%{}%", super::escape_like(text));
            q = q.filter(
                t::title
                    .like(pattern.clone())
                    .escape('\\')
                    .or(t::description.like(pattern.clone()).escape('\\'))
                    .or(t::lot_serial.like(pattern).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let q = build();
    let q = match sort {
        Sort::Newest => q.order(t::id.desc()),
        Sort::Oldest => q.order(t::id.asc()),
        Sort::RecentlyChanged => q.order((t::updated_at.desc(), t::id.desc())),
    };
    let rows = q
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)?;
    Ok((
        rows.into_iter().map(record).collect::<QueryResult<_>>()?,
        total,
    ))
}

/// Open nonconformances in the given states, oldest first: the work waiting
/// on quality.
pub fn waiting(conn: &mut DbConnection, states: &[NcState], limit: i64) -> QueryResult<Vec<Nc>> {
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    t::table
        .filter(t::state.eq_any(names))
        .order(t::id.asc())
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)
        .and_then(|rows| rows.into_iter().map(record).collect())
}

/// A move out of the retired `capa_opened` state made by migration 18,
/// whose audit entry is not yet appended.
pub struct Restoration {
    pub nc_id: i64,
    pub from_state: String,
    pub to_state: String,
    pub version: i64,
    pub restored_at: chrono::DateTime<chrono::Utc>,
}

/// The moves migration 18 made that no audit entry records yet, oldest first.
pub fn unaudited_restorations(conn: &mut DbConnection) -> QueryResult<Vec<Restoration>> {
    use crate::db::schema::nc_state_restorations as r;
    let rows: Vec<(i64, String, String, i64, NaiveDateTime)> = r::table
        .filter(r::audit_seq.is_null())
        .order(r::nc_id.asc())
        .select((
            r::nc_id,
            r::from_state,
            r::to_state,
            r::version,
            r::restored_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(nc_id, from_state, to_state, version, at)| Restoration {
            nc_id,
            from_state,
            to_state,
            version,
            restored_at: utc(at),
        })
        .collect())
}

/// Marks a move as recorded by the audit entry `seq`; false if another
/// instance recorded it first.
pub fn restoration_audited(conn: &mut DbConnection, nc_id: i64, seq: u64) -> QueryResult<bool> {
    use crate::db::schema::nc_state_restorations as r;
    let seq = i64::try_from(seq).map_err(|_| diesel::result::Error::NotFound)?;
    let n = diesel::update(r::table.filter(r::nc_id.eq(nc_id).and(r::audit_seq.is_null())))
        .set(r::audit_seq.eq(seq))
        .execute(conn)?;
    Ok(n == 1)
}

/// The dashboard's figures of nonconformances (read through indexes).
pub mod stats {
    use super::*;

    /// Nonconformances in each state (stored names).
    pub fn by_state(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
        t::table
            .group_by(t::state)
            .select((t::state, diesel::dsl::count_star()))
            .load(conn)
    }

    /// Open (not closed) nonconformances by severity; `None` is not assessed yet.
    pub fn open_by_severity(conn: &mut DbConnection) -> QueryResult<Vec<(Option<String>, i64)>> {
        t::table
            .filter(t::state.ne(NcState::Closed.as_str()))
            .group_by(t::severity)
            .select((t::severity, diesel::dsl::count_star()))
            .load(conn)
    }

    /// Nonconformances reported in `[from, to)` by source.
    pub fn reported_by_source(
        conn: &mut DbConnection,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> QueryResult<Vec<(String, i64)>> {
        t::table
            .filter(t::created_at.ge(from))
            .filter(t::created_at.lt(to))
            .group_by(t::source)
            .select((t::source, diesel::dsl::count_star()))
            .load(conn)
    }
}
