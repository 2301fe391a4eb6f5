//! The dated duties reminders are about, read in one query per kind with
//! the due date bounded (only what falls due by `until`), and the kept
//! reminders (one per key).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::schema::{
    capa_items, capas, document_versions, documents, reminders, training_assignments,
};
use crate::db::{DbConnection, naive};
use crate::domain::capa::Priority;
use crate::domain::reminder::Duty;

/// A duty with a due date and the person it falls to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dated {
    pub duty: Duty,
    /// The record the reminder is on (and whose page it opens).
    pub record: (&'static str, String, String),
    /// What the key names: the record, or the action item.
    pub key_id: String,
    pub person: i64,
    pub due_on: NaiveDate,
}

/// A CAPA's id, priority, owner and due date.
type CapaRow = (i64, Option<String>, Option<i64>, Option<String>);

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn capa(id: i64) -> (&'static str, String, String) {
    ("capa", format!("capa-{id}"), format!("CAPA-{id}"))
}

/// The duties due by `until` that are still to be done: open CAPAs'
/// due dates, their open action items, effectiveness checks in
/// verification, periodic reviews of documents in force, training not yet
/// signed for.
pub fn dated(conn: &mut DbConnection, until: NaiveDate) -> QueryResult<Vec<Dated>> {
    let until = until.format("%Y-%m-%d").to_string();
    let open = ["closed", "cancelled"];
    let mut out = Vec::new();
    let rows: Vec<CapaRow> = capas::table
        .filter(capas::state.ne_all(open))
        .filter(capas::due_on.le(&until))
        .select((capas::id, capas::priority, capas::owner_id, capas::due_on))
        .load(conn)?;
    for (id, priority, owner, due) in rows {
        if let (Some(owner), Some(due)) = (owner, due.as_deref().and_then(date)) {
            let priority = priority.as_deref().and_then(Priority::parse);
            out.push(Dated {
                duty: Duty::Capa(priority),
                record: capa(id),
                key_id: format!("capa-{id}"),
                person: owner,
                due_on: due,
            });
        }
    }
    let rows: Vec<(i64, i64, i64, String)> = capa_items::table
        .inner_join(capas::table.on(capas::id.eq(capa_items::capa_id)))
        .filter(capa_items::done_on.is_null())
        .filter(capa_items::due_on.le(&until))
        .filter(capas::state.ne_all(open))
        .select((
            capa_items::id,
            capa_items::capa_id,
            capa_items::owner_id,
            capa_items::due_on,
        ))
        .load(conn)?;
    for (item, id, owner, due) in rows {
        if let Some(due) = date(&due) {
            out.push(Dated {
                duty: Duty::ActionItem,
                record: capa(id),
                key_id: format!("item-{item}"),
                person: owner,
                due_on: due,
            });
        }
    }
    let rows: Vec<(i64, Option<i64>, Option<String>)> = capas::table
        .filter(capas::state.eq("verification"))
        .filter(capas::effectiveness_due.le(&until))
        .select((capas::id, capas::owner_id, capas::effectiveness_due))
        .load(conn)?;
    for (id, owner, due) in rows {
        if let (Some(owner), Some(due)) = (owner, due.as_deref().and_then(date)) {
            out.push(Dated {
                duty: Duty::Effectiveness,
                record: capa(id),
                key_id: format!("capa-{id}"),
                person: owner,
                due_on: due,
            });
        }
    }
    let in_force = document_versions::table
        .filter(document_versions::state.eq("effective"))
        .select(document_versions::document_id);
    let rows: Vec<(i64, i64, Option<String>)> = documents::table
        .filter(documents::next_review_on.le(&until))
        .filter(documents::id.eq_any(in_force))
        .select((
            documents::id,
            documents::owner_id,
            documents::next_review_on,
        ))
        .load(conn)?;
    for (id, owner, due) in rows {
        if let Some(due) = due.as_deref().and_then(date) {
            out.push(Dated {
                duty: Duty::DocumentReview,
                record: ("document", format!("doc-{id}"), format!("DOC-{id}")),
                key_id: format!("doc-{id}"),
                person: owner,
                due_on: due,
            });
        }
    }
    let rows: Vec<(i64, i64, String)> = training_assignments::table
        .filter(training_assignments::state.eq("assigned"))
        .filter(training_assignments::due_on.le(&until))
        .select((
            training_assignments::id,
            training_assignments::user_id,
            training_assignments::due_on,
        ))
        .load(conn)?;
    for (id, person, due) in rows {
        if let Some(due) = date(&due) {
            out.push(Dated {
                duty: Duty::Training,
                record: (
                    "training_assignment",
                    format!("trn-{id}"),
                    format!("TRN-{id}"),
                ),
                key_id: format!("trn-{id}"),
                person,
                due_on: due,
            });
        }
    }
    Ok(out)
}

/// A reminder to keep.
pub struct NewReminder<'a> {
    pub key: &'a str,
    pub duty: Duty,
    pub stage: &'a str,
    pub record: (&'a str, &'a str),
    pub user_id: Option<i64>,
    pub due_on: NaiveDate,
    pub at: DateTime<Utc>,
}

/// Keeps a reminder unless one of its key is kept; whether it is new.
pub fn insert(conn: &mut DbConnection, r: &NewReminder<'_>) -> QueryResult<bool> {
    let there: i64 = reminders::table
        .filter(reminders::idem_key.eq(r.key))
        .count()
        .get_result(conn)?;
    if there > 0 {
        return Ok(false);
    }
    diesel::insert_into(reminders::table)
        .values((
            reminders::idem_key.eq(r.key),
            reminders::duty.eq(r.duty.as_str()),
            reminders::stage.eq(r.stage),
            reminders::record_type.eq(r.record.0),
            reminders::record_id.eq(r.record.1),
            reminders::user_id.eq(r.user_id),
            reminders::due_on.eq(r.due_on.format("%Y-%m-%d").to_string()),
            reminders::created_at.eq(naive(r.at)),
        ))
        .execute(conn)?;
    Ok(true)
}

/// How many reminders are kept (for tests and the benchmark).
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    reminders::table.count().get_result(conn)
}
