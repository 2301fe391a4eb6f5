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
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Nc>> {
    t::table
        .find(id)
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(record)
        .transpose()
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
            q = q.filter(t::state.ne_all([NcState::Closed.as_str(), NcState::CapaOpened.as_str()]));
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
