//! Nonconformances: reporting and correcting the fields; every state change
//! goes through `service::workflow::transition`.

use serde_json::Value;

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::{nonconformances as repo, products};
use crate::db::{DbConnection, write_tx};
use crate::domain::nonconformance::{Nc, NcFields, NcWorkflow};

impl Stored for NcWorkflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Nc>> {
        repo::find(conn, id)
    }
    fn save(conn: &mut DbConnection, record: &Nc) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &Nc) -> i64 {
        record.version
    }
    fn bump(record: &mut Nc, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
    }
    fn entity(record: &Nc) -> EntityRef {
        EntityRef {
            kind: "nonconformance".into(),
            id: format!("nc-{}", record.id),
            key: record.key(),
            version: record.version,
        }
    }
    fn audit_fields(record: &Nc) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &Nc) -> Value {
        record.signed_content()
    }
    fn after_step(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        _from: crate::domain::nonconformance::NcState,
        record: &Nc,
    ) -> Result<(), RecordError> {
        match action {
            "escalate_to_capa" => {
                super::capas::escalated(conn, ctx, record)?;
                // ISO 14971 10: what the nonconformity teaches about the
                // product's risks is decided by quality, and recorded here.
                if let Some(product) = record.product_id {
                    super::risk_reports::ask(
                        conn,
                        ctx,
                        product,
                        (&Self::entity(record), record.id),
                        (
                            action,
                            crate::domain::workflow::action_def::<NcWorkflow>(action)
                                .map_or(action, |a| a.label),
                        ),
                    )?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Refuses a product that does not exist or is archived.
fn check_product(conn: &mut DbConnection, fields: &NcFields) -> Result<(), RecordError> {
    if let Some(id) = fields.product_id {
        match products::find(conn, id)? {
            Some(p) if p.active => {}
            _ => {
                return Err(RecordError::invalid(
                    "Choose an active product from the list.",
                ));
            }
        }
    }
    Ok(())
}

/// A nonconformity is found on a day that has come (WORKFLOWS.md): the
/// detected-on date is never after today, by the application's clock in UTC.
fn check_detected_on(ctx: &Ctx, fields: &NcFields) -> Result<(), RecordError> {
    let today = ctx.now.date_naive();
    match fields.detected_on {
        Some(d) if d > today => Err(RecordError::field(
            "detected_on",
            format!("The detected-on date cannot be in the future (today is {today}, UTC)"),
        )),
        _ => Ok(()),
    }
}

/// Records a new nonconformance, in state `reported`.
pub fn report(
    conn: &mut DbConnection,
    ctx: &Ctx,
    reporter: i64,
    fields: NcFields,
) -> Result<Nc, RecordError> {
    check_detected_on(ctx, &fields)?;
    write_tx(conn, |conn| {
        check_product(conn, &fields)?;
        let nc = repo::insert(conn, &Nc::report(fields, reporter, ctx.now))?;
        audit::append(
            conn,
            &ctx.entry("nonconformance.created")
                .entity(NcWorkflow::entity(&nc))
                .after(nc.audit_fields()),
        )?;
        Ok(nc)
    })
}

/// Corrects the reported fields of a record not yet dispositioned, for the
/// reason given (kept on the audit entry).
pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    fields: NcFields,
    reason: &str,
) -> Result<Nc, RecordError> {
    let reason = reason.trim();
    write_tx(conn, |conn| {
        let before = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
        if before.version != version {
            return Err(RecordError::Stale);
        }
        if before.frozen() {
            return Err(RecordError::invalid(format!(
                "{} is closed: a closed record cannot be changed",
                before.key()
            )));
        }
        if !before.correctable() {
            return Err(RecordError::invalid(format!(
                "{} is {}: the disposition (and any signature on it) rests on the facts as reported, so they can no longer be corrected",
                before.key(),
                before.state.label().to_lowercase()
            )));
        }
        let mut problems = Vec::new();
        if reason.is_empty() {
            problems.push(crate::domain::user::FieldError::new(
                "reason",
                "Say why the report is corrected: a correction needs a reason",
            ));
        } else if reason.chars().count() > crate::domain::nonconformance::MAX_TEXT {
            problems.push(crate::domain::user::FieldError::new(
                "reason",
                "The reason can have at most 10,000 characters",
            ));
        }
        if let Err(RecordError::Invalid(mut e)) = check_detected_on(ctx, &fields) {
            problems.append(&mut e);
        }
        if !problems.is_empty() {
            return Err(RecordError::Invalid(problems));
        }
        // A product archived after the report may stay; a new choice must be active.
        if fields.product_id != before.product_id {
            check_product(conn, &fields)?;
        }
        let after = Nc {
            title: fields.title,
            source: fields.source,
            product_id: fields.product_id,
            lot_serial: fields.lot_serial,
            description: fields.description,
            detected_on: fields.detected_on,
            severity: fields.severity,
            ..before.clone()
        };
        super::edit::edit(
            conn,
            ctx,
            "nonconformance.updated",
            &before,
            after,
            Some(reason),
            |conn, nc| Ok::<_, RecordError>(repo::save(conn, nc)?),
        )
    })
}

crate::versioned!(Nc => <NcWorkflow as Stored>::entity);

/// Escalating a nonconformance to a CAPA used to move it to a state of its
/// own, `capa_opened`, which nothing led out of: the record was never
/// dispositioned or closed and left the "open" list. Escalation now keeps
/// the state (WORKFLOWS.md). Migration 18 moved each record still in that
/// state back to the state it was escalated from; SQL cannot sign the log,
/// so this step, run at every start after the migrations, appends one audit
/// entry per move not yet recorded, each in its own transaction with the
/// mark that it is recorded. Returns how many it recorded.
pub fn audit_restorations(conn: &mut DbConnection, ctx: &Ctx) -> Result<usize, RecordError> {
    let mut recorded = 0;
    for r in repo::unaudited_restorations(conn)? {
        let done = write_tx(conn, |conn| -> Result<bool, RecordError> {
            let nc = repo::find(conn, r.nc_id)?.ok_or(RecordError::NotFound)?;
            let entity = EntityRef {
                version: r.version,
                ..NcWorkflow::entity(&nc)
            };
            let seq = audit::append(
                conn,
                &ctx.entry("nonconformance.state_restored")
                    .entity(entity)
                    .before(serde_json::json!({ "state": r.from_state }))
                    .after(serde_json::json!({ "state": r.to_state }))
                    .reason(format!(
                        "Escalation to a CAPA no longer changes a nonconformance's state: the upgrade of {} moved {} back to the state it was escalated from, to be dispositioned and closed",
                        audit::format_time(r.restored_at),
                        nc.key()
                    )),
            )?;
            if !repo::restoration_audited(conn, r.nc_id, seq)? {
                // Another instance recorded it first: append nothing.
                return Err(RecordError::Stale);
            }
            Ok(true)
        });
        match done {
            Ok(_) => recorded += 1,
            Err(RecordError::Stale) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(recorded)
}

/// The dashboard's nonconformance figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NcStats {
    /// Every state with its count, in the workflow's order.
    pub by_state: Vec<(crate::domain::nonconformance::NcState, i64)>,
    /// Open ones by severity (label), "Not assessed yet" last.
    pub by_severity: Vec<(&'static str, i64)>,
    /// The last 12 months (first day of each), each with its reports by
    /// source in `Source::ALL` order.
    pub months: Vec<(chrono::NaiveDate, Vec<i64>)>,
}

/// The first day of the month `back` months before `day`'s.
fn month_start(day: chrono::NaiveDate, back: u32) -> chrono::NaiveDate {
    use chrono::Datelike;
    let months = day.year() * 12 + day.month0() as i32 - back as i32;
    chrono::NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(day)
}

/// The dashboard's figures: NCs by state, open ones by severity, and the
/// last 12 months' reports by source (14 indexed queries at most).
pub fn stats(conn: &mut DbConnection, today: chrono::NaiveDate) -> diesel::QueryResult<NcStats> {
    use crate::db::repo::nonconformances::stats as q;
    use crate::domain::nonconformance::{NcState, Severity, Source};
    let counts = q::by_state(conn)?;
    let by_state = NcState::ALL
        .iter()
        .map(|s| {
            let n = counts
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |c| c.1);
            (*s, n)
        })
        .collect();
    let severities = q::open_by_severity(conn)?;
    let count_of = |name: Option<&str>| {
        severities
            .iter()
            .find(|(s, _)| s.as_deref() == name)
            .map_or(0, |c| c.1)
    };
    let mut by_severity: Vec<(&'static str, i64)> = Severity::ALL
        .iter()
        .rev()
        .map(|s| (s.label(), count_of(Some(s.as_str()))))
        .collect();
    by_severity.push(("Not assessed yet", count_of(None)));
    let mut months = Vec::new();
    for back in (0..12).rev() {
        let from = month_start(today, back);
        let to = from + chrono::Months::new(1);
        let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN);
        let rows = q::reported_by_source(conn, midnight(from), midnight(to))?;
        let per_source = Source::ALL
            .iter()
            .map(|s| {
                rows.iter()
                    .find(|(n, _)| n == s.as_str())
                    .map_or(0, |r| r.1)
            })
            .collect();
        months.push((from, per_source));
    }
    Ok(NcStats {
        by_state,
        by_severity,
        months,
    })
}
