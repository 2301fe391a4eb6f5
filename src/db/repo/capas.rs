//! CAPAs, their action items, and the generic links between records. Rows
//! are never deleted; saves are version-checked (`WHERE version = old`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{capa_items as it, capa_stays as st, capas as t};
use crate::db::{DbConnection, naive, utc};
use crate::domain::capa::{
    Capa, CapaSource, CapaState, Cause, Effectiveness, Item, ItemKind, Kind, Priority, RcaMethod,
    Why,
};

#[derive(Queryable)]
struct Row {
    id: i64,
    title: String,
    kind: String,
    source: String,
    source_ref: String,
    product_id: Option<i64>,
    problem: String,
    priority: Option<String>,
    owner_id: Option<i64>,
    due_on: Option<String>,
    containment: String,
    rca_method: Option<String>,
    whys: String,
    causes: String,
    root_cause: String,
    action_required: Option<bool>,
    action_rationale: String,
    no_adverse_effect: String,
    effectiveness_criteria: String,
    effectiveness_due: Option<String>,
    effectiveness_result: Option<String>,
    effectiveness_evidence: String,
    cancel_justification: String,
    state: String,
    created_by: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn record(r: Row) -> QueryResult<Capa> {
    let c = crate::db::strict::Cols::new("capas", r.id);
    Ok(Capa {
        id: r.id,
        title: r.title,
        kind: c.one_of("kind", &r.kind, Kind::parse)?,
        source: c.one_of("source", &r.source, CapaSource::parse)?,
        source_ref: r.source_ref,
        product_id: r.product_id,
        problem: r.problem,
        priority: c.opt_one_of("priority", r.priority.as_deref(), Priority::parse)?,
        owner_id: r.owner_id,
        due_on: c.opt_date("due_on", r.due_on.as_deref())?,
        containment: r.containment,
        rca_method: c.opt_one_of("rca_method", r.rca_method.as_deref(), RcaMethod::parse)?,
        whys: c.json::<Vec<Why>>("whys", &r.whys)?,
        causes: c.json::<Vec<Cause>>("causes", &r.causes)?,
        root_cause: r.root_cause,
        action_required: r.action_required,
        action_rationale: r.action_rationale,
        no_adverse_effect: r.no_adverse_effect,
        effectiveness_criteria: r.effectiveness_criteria,
        effectiveness_due: c.opt_date("effectiveness_due", r.effectiveness_due.as_deref())?,
        effectiveness_result: c.opt_one_of(
            "effectiveness_result",
            r.effectiveness_result.as_deref(),
            Effectiveness::parse,
        )?,
        effectiveness_evidence: r.effectiveness_evidence,
        cancel_justification: r.cancel_justification,
        items: Vec::new(),
        state: c.one_of("state", &r.state, CapaState::parse)?,
        created_by: r.created_by,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

/// A stored action item row, read by column name.
#[derive(Queryable, Selectable)]
#[diesel(table_name = it)]
struct ItemRow {
    id: i64,
    capa_id: i64,
    text: String,
    kind: String,
    owner_id: i64,
    due_on: String,
    done_on: Option<String>,
    evidence: String,
    version: i64,
}

/// An action item with its bookkeeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredItem {
    pub capa_id: i64,
    pub item: Item,
    pub version: i64,
}

fn item(r: ItemRow) -> QueryResult<StoredItem> {
    let c = crate::db::strict::Cols::new("capa_items", r.id);
    Ok(StoredItem {
        capa_id: r.capa_id,
        item: Item {
            id: r.id,
            text: r.text,
            kind: c.one_of("kind", &r.kind, ItemKind::parse)?,
            owner_id: r.owner_id,
            due_on: c.date("due_on", &r.due_on)?,
            done_on: c.opt_date("done_on", r.done_on.as_deref())?,
            evidence: r.evidence,
        },
        version: r.version,
    })
}

/// The items of a CAPA, in the order they were added.
pub fn items_of(conn: &mut DbConnection, capa: i64) -> QueryResult<Vec<StoredItem>> {
    it::table
        .filter(it::capa_id.eq(capa))
        .order(it::id.asc())
        .select(ItemRow::as_select())
        .load(conn)
        .and_then(|rows| rows.into_iter().map(item).collect())
}

pub fn find_item(conn: &mut DbConnection, id: i64) -> QueryResult<Option<StoredItem>> {
    it::table
        .find(id)
        .select(ItemRow::as_select())
        .first(conn)
        .optional()
        .and_then(|r| r.map(item).transpose())
}

/// A CAPA with its action items.
pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Capa>> {
    let Some(row) = t::table.find(id).first::<Row>(conn).optional()? else {
        return Ok(None);
    };
    let mut capa = record(row)?;
    capa.items = items_of(conn, id)?.into_iter().map(|s| s.item).collect();
    Ok(Some(capa))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Stores a new CAPA and returns it with its number.
pub fn insert(conn: &mut DbConnection, c: &Capa) -> QueryResult<Capa> {
    diesel::insert_into(t::table)
        .values((
            t::title.eq(&c.title),
            t::kind.eq(c.kind.as_str()),
            t::source.eq(c.source.as_str()),
            t::source_ref.eq(&c.source_ref),
            t::product_id.eq(c.product_id),
            t::problem.eq(&c.problem),
            t::priority.eq(c.priority.map(Priority::as_str)),
            t::owner_id.eq(c.owner_id),
            t::due_on.eq(c.due_on.map(|d| d.to_string())),
            t::containment.eq(&c.containment),
            t::state.eq(c.state.as_str()),
            t::created_by.eq(c.created_by),
            t::created_at.eq(naive(c.created_at)),
            t::updated_at.eq(naive(c.updated_at)),
            t::version.eq(1),
        ))
        .execute(conn)?;
    let id = crate::db::last_insert_id(conn)?;
    find(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

/// Saves a workflow step: the fields and the new state, as version
/// `c.version`. Only the transition service calls it (through
/// `service::workflow::Stored::save`); a test checks there is no other caller.
pub(crate) fn save_step(conn: &mut DbConnection, c: &Capa) -> QueryResult<bool> {
    if !save(conn, c)? {
        return Ok(false);
    }
    let n = diesel::update(t::table.filter(t::id.eq(c.id).and(t::version.eq(c.version))))
        .set(t::state.eq(c.state.as_str()))
        .execute(conn)?;
    Ok(n == 1)
}

/// Writes `c`'s fields (never its state) as version `c.version` if the
/// stored one is `c.version - 1`.
pub fn save(conn: &mut DbConnection, c: &Capa) -> QueryResult<bool> {
    let n = diesel::update(t::table.filter(t::id.eq(c.id).and(t::version.eq(c.version - 1))))
        .set((
            (
                t::title.eq(&c.title),
                t::kind.eq(c.kind.as_str()),
                t::source.eq(c.source.as_str()),
                t::source_ref.eq(&c.source_ref),
                t::product_id.eq(c.product_id),
                t::problem.eq(&c.problem),
                t::priority.eq(c.priority.map(Priority::as_str)),
                t::owner_id.eq(c.owner_id),
                t::due_on.eq(c.due_on.map(|d| d.to_string())),
                t::containment.eq(&c.containment),
                t::rca_method.eq(c.rca_method.map(RcaMethod::as_str)),
                t::whys.eq(json(&c.whys)),
                t::causes.eq(json(&c.causes)),
                t::root_cause.eq(&c.root_cause),
            ),
            (
                t::action_required.eq(c.action_required),
                t::action_rationale.eq(&c.action_rationale),
                t::no_adverse_effect.eq(&c.no_adverse_effect),
                t::effectiveness_criteria.eq(&c.effectiveness_criteria),
                t::effectiveness_due.eq(c.effectiveness_due.map(|d| d.to_string())),
                t::effectiveness_result.eq(c.effectiveness_result.map(Effectiveness::as_str)),
                t::effectiveness_evidence.eq(&c.effectiveness_evidence),
                t::cancel_justification.eq(&c.cancel_justification),
                t::updated_at.eq(naive(c.updated_at)),
                t::version.eq(c.version),
            ),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Stores a new action item and returns its id.
pub fn insert_item(
    conn: &mut DbConnection,
    capa: i64,
    i: &Item,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(it::table)
        .values((
            it::capa_id.eq(capa),
            it::text.eq(&i.text),
            it::kind.eq(i.kind.as_str()),
            it::owner_id.eq(i.owner_id),
            it::due_on.eq(i.due_on.to_string()),
            it::done_on.eq(i.done_on.map(|d| d.to_string())),
            it::evidence.eq(&i.evidence),
            it::created_at.eq(naive(now)),
            it::updated_at.eq(naive(now)),
            it::version.eq(1),
        ))
        .execute(conn)?;
    crate::db::last_insert_id(conn)
}

/// Writes an item as `version` if the stored one is `version - 1`.
pub fn save_item(
    conn: &mut DbConnection,
    i: &Item,
    version: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(it::table.filter(it::id.eq(i.id).and(it::version.eq(version - 1))))
        .set((
            it::text.eq(&i.text),
            it::kind.eq(i.kind.as_str()),
            it::owner_id.eq(i.owner_id),
            it::due_on.eq(i.due_on.to_string()),
            it::done_on.eq(i.done_on.map(|d| d.to_string())),
            it::evidence.eq(&i.evidence),
            it::updated_at.eq(naive(now)),
            it::version.eq(version),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Filters of the CAPA list; every one optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// One state, or "open" for every state that is not closed or cancelled.
    pub state: Option<String>,
    pub kind: Option<Kind>,
    pub source: Option<CapaSource>,
    pub priority: Option<Priority>,
    pub owner_id: Option<i64>,
    pub product_id: Option<i64>,
    /// Due before this day and not closed or cancelled.
    pub overdue_on: Option<NaiveDate>,
    pub text: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Due,
    Priority,
}

const TERMINAL: [&str; 2] = ["closed", "cancelled"];

/// A CAPA as the list and its CSV show it: only the columns they need
/// (reading a row costs time per column read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub id: i64,
    pub title: String,
    pub kind: Kind,
    pub source: CapaSource,
    pub source_ref: String,
    pub product_id: Option<i64>,
    pub priority: Option<Priority>,
    pub owner_id: Option<i64>,
    pub due_on: Option<NaiveDate>,
    pub state: CapaState,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Summary {
    pub fn key(&self) -> String {
        format!("CAPA-{}", self.id)
    }

    /// As `Capa::overdue`: due before `today` and not closed or cancelled.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        !self.state.terminal() && self.due_on.is_some_and(|d| d < today)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct SummaryRow {
    id: i64,
    title: String,
    kind: String,
    source: String,
    source_ref: String,
    product_id: Option<i64>,
    priority: Option<String>,
    owner_id: Option<i64>,
    due_on: Option<String>,
    state: String,
    created_at: NaiveDateTime,
}

fn summary(r: SummaryRow) -> QueryResult<Summary> {
    let c = crate::db::strict::Cols::new("capas", r.id);
    Ok(Summary {
        id: r.id,
        title: r.title,
        kind: c.one_of("kind", &r.kind, Kind::parse)?,
        source: c.one_of("source", &r.source, CapaSource::parse)?,
        source_ref: r.source_ref,
        product_id: r.product_id,
        priority: c.opt_one_of("priority", r.priority.as_deref(), Priority::parse)?,
        owner_id: r.owner_id,
        due_on: c.opt_date("due_on", r.due_on.as_deref())?,
        state: c.one_of("state", &r.state, CapaState::parse)?,
        created_at: utc(r.created_at),
    })
}

/// One page of CAPAs and the number that match.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    sort: Sort,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Summary>, i64)> {
    let build = || {
        let mut q = t::table.into_boxed();
        match f.state.as_deref() {
            Some("open") => q = q.filter(t::state.ne_all(TERMINAL)),
            Some(s) => q = q.filter(t::state.eq(s.to_string())),
            None => {}
        }
        if let Some(k) = f.kind {
            q = q.filter(t::kind.eq(k.as_str()));
        }
        if let Some(src) = f.source {
            q = q.filter(t::source.eq(src.as_str()));
        }
        if let Some(p) = f.priority {
            q = q.filter(t::priority.eq(p.as_str()));
        }
        if let Some(o) = f.owner_id {
            q = q.filter(t::owner_id.eq(o));
        }
        if let Some(p) = f.product_id {
            q = q.filter(t::product_id.eq(p));
        }
        if let Some(day) = f.overdue_on {
            q = q.filter(t::due_on.lt(day.to_string()).and(t::state.ne_all(TERMINAL)));
        }
        if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!("%{}%", super::escape_like(&text.to_lowercase()));
            q = q.filter(
                super::lower(t::title)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(super::lower(t::problem).like(pattern).escape('\\')),
            );
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let q = build();
    let q = match sort {
        Sort::Newest => q.order(t::id.desc()),
        Sort::Due => q.order((t::due_on.is_null(), t::due_on.asc(), t::id.asc())),
        // Stored names sort alphabetically; map them to their weight. Both
        // computed orders are indexed as written here (migration 8).
        Sort::Priority => q.order((
            diesel::dsl::sql::<diesel::sql_types::Integer>(
                "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END",
            ),
            t::id.desc(),
        )),
    };
    let rows = q
        .select(SummaryRow::as_select())
        .offset(offset)
        .limit(limit)
        .load::<SummaryRow>(conn)?;
    Ok((
        rows.into_iter().map(summary).collect::<QueryResult<_>>()?,
        total,
    ))
}

/// When the CAPA last left a state (the start of its current one), if ever.
pub fn last_left(
    conn: &mut DbConnection,
    capa: i64,
) -> QueryResult<Option<chrono::DateTime<chrono::Utc>>> {
    st::table
        .filter(st::capa_id.eq(capa))
        .order(st::id.desc())
        .select(st::left_at)
        .first::<NaiveDateTime>(conn)
        .optional()
        .map(|t| t.map(utc))
}

pub fn insert_stay(
    conn: &mut DbConnection,
    capa: i64,
    state: &str,
    entered: chrono::DateTime<chrono::Utc>,
    left: chrono::DateTime<chrono::Utc>,
) -> QueryResult<()> {
    diesel::insert_into(st::table)
        .values((
            st::capa_id.eq(capa),
            st::state.eq(state),
            st::entered_at.eq(naive(entered)),
            st::left_at.eq(naive(left)),
            st::seconds.eq((left - entered).num_seconds().max(0)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Dashboard figures, each one indexed query, never a whole table loaded.
pub mod stats {
    use super::*;

    /// CAPAs in each state.
    pub fn by_state(conn: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
        t::table
            .group_by(t::state)
            .select((t::state, diesel::dsl::count_star()))
            .load(conn)
    }

    /// The ageing buckets and the overdue trend in one pass over the
    /// covering index `capas_by_created`: for each `(from, to)` in `ageing`,
    /// the CAPAs not closed or cancelled and opened in `[from, to)`; for each
    /// day in `overdue_days`, the CAPAs overdue as that day began: opened
    /// before it, due before it, and not closed or cancelled before it (a
    /// closed CAPA's last change is its closure: terminal records never
    /// change again). At most 16 figures.
    pub fn ageing_and_overdue(
        conn: &mut DbConnection,
        ageing: &[(Option<NaiveDateTime>, Option<NaiveDateTime>)],
        overdue_days: &[NaiveDate],
    ) -> QueryResult<Vec<i64>> {
        use diesel::dsl::sql;
        use diesel::sql_types::BigInt;
        // The bounds are dates and times formatted here, never typed text.
        let ts = |t: NaiveDateTime| format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"));
        let terminal = "state NOT IN ('closed', 'cancelled')";
        let mut sums: Vec<String> = Vec::new();
        for (from, to) in ageing {
            let mut cond = vec![terminal.to_string()];
            if let Some(f) = from {
                cond.push(format!("created_at >= {}", ts(*f)));
            }
            if let Some(t) = to {
                cond.push(format!("created_at < {}", ts(*t)));
            }
            sums.push(cond.join(" AND "));
        }
        for day in overdue_days {
            let start = ts(day.and_time(chrono::NaiveTime::MIN));
            sums.push(format!(
                "due_on < '{day}' AND created_at < {start} AND ({terminal} OR updated_at >= {start})"
            ));
        }
        if sums.len() > 16 {
            return Err(diesel::result::Error::QueryBuilderError(
                "at most 16 figures in one pass".into(),
            ));
        }
        let sum = |i: usize| {
            sql::<BigInt>(&sums.get(i).map_or_else(
                || "0".to_string(),
                |c| format!("COALESCE(SUM(CASE WHEN {c} THEN 1 ELSE 0 END), 0)"),
            ))
        };
        type Eight = (i64, i64, i64, i64, i64, i64, i64, i64);
        let row: (Eight, Eight) = t::table
            .select((
                (
                    sum(0),
                    sum(1),
                    sum(2),
                    sum(3),
                    sum(4),
                    sum(5),
                    sum(6),
                    sum(7),
                ),
                (
                    sum(8),
                    sum(9),
                    sum(10),
                    sum(11),
                    sum(12),
                    sum(13),
                    sum(14),
                    sum(15),
                ),
            ))
            .first(conn)?;
        let (a, b) = row;
        let all = [
            a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7, b.0, b.1, b.2, b.3, b.4, b.5, b.6, b.7,
        ];
        Ok(all[..sums.len()].to_vec())
    }

    /// The median stay in `state`, in seconds, and how many stays.
    pub fn median_stay(conn: &mut DbConnection, state: &str) -> QueryResult<(Option<i64>, i64)> {
        let n: i64 = st::table
            .filter(st::state.eq(state))
            .count()
            .get_result(conn)?;
        if n == 0 {
            return Ok((None, 0));
        }
        let mut mid = |k: i64| {
            st::table
                .filter(st::state.eq(state))
                .order(st::seconds.asc())
                .offset(k)
                .select(st::seconds)
                .first::<i64>(conn)
        };
        let median = if n % 2 == 1 {
            mid(n / 2)?
        } else {
            let (a, b) = (mid(n / 2 - 1)?, mid(n / 2)?);
            (a + b) / 2
        };
        Ok((Some(median), n))
    }
}

/// Open action items owned by `owner` on CAPAs that are not closed or
/// cancelled, soonest due first, with their CAPA's id, key and title.
pub fn open_items_of(
    conn: &mut DbConnection,
    owner: i64,
    limit: i64,
) -> QueryResult<Vec<(Item, i64, String)>> {
    open_items(conn, OpenItems::OwnedBy(owner), limit)
}

/// Open action items due before `today` on CAPAs that are not closed or
/// cancelled, oldest due first, with their CAPA's number and title: the
/// team's overdue work (read through `capa_items_open_by_due`).
pub fn overdue_items(
    conn: &mut DbConnection,
    today: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<(Item, i64, String)>> {
    open_items(conn, OpenItems::DueBefore(today), limit)
}

/// Which open action items a list takes.
enum OpenItems {
    OwnedBy(i64),
    DueBefore(NaiveDate),
}

/// Open action items of CAPAs not closed or cancelled, soonest due first.
fn open_items(
    conn: &mut DbConnection,
    which: OpenItems,
    limit: i64,
) -> QueryResult<Vec<(Item, i64, String)>> {
    let mut q = it::table
        .inner_join(t::table.on(t::id.eq(it::capa_id)))
        .filter(it::done_on.is_null())
        .filter(t::state.ne_all(TERMINAL))
        .into_boxed();
    q = match which {
        OpenItems::OwnedBy(owner) => q.filter(it::owner_id.eq(owner)),
        OpenItems::DueBefore(day) => q.filter(it::due_on.lt(day.to_string())),
    };
    q.order((it::due_on.asc(), it::id.asc()))
        .limit(limit)
        .select((ItemRow::as_select(), t::title))
        .load::<(ItemRow, String)>(conn)
        .and_then(|rows| {
            rows.into_iter()
                .map(|(r, title)| item(r).map(|s| (s.item, s.capa_id, title)))
                .collect()
        })
}

/// Each action item of `capas` by its number on its CAPA (1 for the first
/// added): the `#item-n` its record page shows it under. One indexed read.
pub fn item_numbers(
    conn: &mut DbConnection,
    capas: &[i64],
) -> QueryResult<std::collections::HashMap<i64, usize>> {
    let rows: Vec<(i64, i64)> = it::table
        .filter(it::capa_id.eq_any(capas.to_vec()))
        .order((it::capa_id.asc(), it::id.asc()))
        .select((it::capa_id, it::id))
        .load(conn)?;
    let mut out = std::collections::HashMap::new();
    let mut at = (0, 0);
    for (capa, id) in rows {
        at = if at.0 == capa {
            (capa, at.1 + 1)
        } else {
            (capa, 1)
        };
        out.insert(id, at.1);
    }
    Ok(out)
}

/// CAPAs in `states`, owned (or not owned) by `owner`, oldest first.
pub fn in_states(
    conn: &mut DbConnection,
    states: &[&str],
    owner: Option<i64>,
    not_owner: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Summary>> {
    let mut q = t::table
        .filter(t::state.eq_any(states.to_vec()))
        .into_boxed();
    if let Some(o) = owner {
        q = q.filter(t::owner_id.eq(o));
    }
    if let Some(o) = not_owner {
        q = q.filter(t::owner_id.ne(o).or(t::owner_id.is_null()));
    }
    q.order(t::id.asc())
        .limit(limit)
        .select(SummaryRow::as_select())
        .load::<SummaryRow>(conn)
        .and_then(|rows| rows.into_iter().map(summary).collect())
}
