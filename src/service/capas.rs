//! CAPAs: opening (directly or by escalating a nonconformance), the edits
//! each state allows (details, investigation, plan, action items), and links.
//! Every state change goes through `service::workflow::transition`; every
//! edit here bumps the CAPA's version, so a form opened before it is stale.

use serde_json::{Value, json};

use super::Ctx;
use super::error::RecordError;
use super::workflow::Stored;
use crate::audit::{self, EntityRef};
use crate::db::repo::{capas as repo, products, users};
use crate::db::{DbConnection, write_tx};
use crate::domain::capa::{
    Capa, CapaFields, CapaSource, CapaState, CapaWorkflow, Investigation, Item, Kind,
};
use crate::domain::ids::UserId;
use crate::domain::nonconformance::Nc;
use crate::domain::user::Role;

impl Stored for CapaWorkflow {
    fn load(conn: &mut DbConnection, id: i64) -> diesel::QueryResult<Option<Capa>> {
        repo::find(conn, id)
    }
    fn save(conn: &mut DbConnection, record: &Capa) -> diesel::QueryResult<bool> {
        repo::save_step(conn, record)
    }
    fn version(record: &Capa) -> i64 {
        record.version
    }
    fn bump(record: &mut Capa, now: chrono::DateTime<chrono::Utc>) {
        super::edit::Versioned::bump(record, now);
    }
    fn entity(record: &Capa) -> EntityRef {
        entity(record)
    }
    fn audit_fields(record: &Capa) -> Value {
        record.audit_fields()
    }
    fn signed_content(record: &Capa) -> Value {
        record.signed_content()
    }
    /// Records how long the CAPA stayed in the state it left (the dashboard's
    /// median days in each state); a CAPA closed on a product asks for a
    /// risk review decision.
    fn after_step(
        conn: &mut DbConnection,
        ctx: &Ctx,
        action: &str,
        from: CapaState,
        record: &Capa,
    ) -> Result<(), RecordError> {
        let entered = repo::last_left(conn, record.id)?.unwrap_or(record.created_at);
        repo::insert_stay(conn, record.id, from.as_str(), entered, ctx.now)?;
        // ISO 14971 10: a CAPA closed on a product asks quality what it
        // means for the product's risk file.
        if record.state == CapaState::Closed
            && let Some(product) = record.product_id
        {
            let label = crate::domain::workflow::action_def::<CapaWorkflow>(action)
                .map_or(action, |a| a.label);
            super::risk_reports::ask(
                conn,
                ctx,
                product,
                (&entity(record), record.id),
                (action, label),
            )?;
        }
        Ok(())
    }
}

/// Escalation (`escalate_to_capa` on a nonconformance) opens the linked
/// CAPA; called by the NC workflow's `after_step`, inside the transition.
pub fn escalated(conn: &mut DbConnection, ctx: &Ctx, nc: &Nc) -> Result<(), RecordError> {
    let by = super::actor_user(ctx)
        .ok_or_else(|| RecordError::invalid("escalation needs a signed-in user"))?;
    let fields = CapaFields {
        title: nc.title.clone(),
        kind: Kind::Corrective,
        source: CapaSource::Nonconformance,
        source_ref: nc.key(),
        product_id: nc.product_id,
        problem: nc.description.clone(),
        priority: None,
        owner_id: None,
        due_on: None,
        containment: String::new(),
    };
    let capa = insert(conn, ctx, by, &fields)?;
    link(
        conn,
        ctx,
        ("nonconformance", &format!("nc-{}", nc.id)),
        "escalated_to",
        &capa,
    )
}

pub fn entity(c: &Capa) -> EntityRef {
    EntityRef {
        kind: "capa".into(),
        id: format!("capa-{}", c.id),
        key: c.key(),
        version: c.version,
    }
}

/// Refuses a product that does not exist or is archived, and an owner who
/// is not an active quality or engineering user.
fn check_refs(
    conn: &mut DbConnection,
    fields: &CapaFields,
    before: Option<&Capa>,
) -> Result<(), RecordError> {
    if let Some(id) = fields.product_id
        && before.is_none_or(|b| b.product_id != Some(id))
    {
        match products::find(conn, id)? {
            Some(p) if p.active => {}
            _ => {
                return Err(RecordError::invalid(
                    "Choose an active product from the list.",
                ));
            }
        }
    }
    if let Some(owner) = fields.owner_id {
        check_owner(conn, owner, "The owner")?;
    }
    Ok(())
}

/// An owner (of a CAPA or an action item) must be an active user who can
/// do the work: quality or engineering.
pub fn check_owner(conn: &mut DbConnection, id: i64, who: &str) -> Result<(), RecordError> {
    match users::find(conn, UserId(id))? {
        Some(a) if a.active && a.roles.has_any(&[Role::Quality, Role::Engineer]) => Ok(()),
        Some(a) if a.active => Err(RecordError::invalid(format!(
            "{who} must hold the quality or engineer role; {} does not.",
            a.full_name
        ))),
        _ => Err(RecordError::invalid(format!(
            "{who} must be an active user: choose one from the list."
        ))),
    }
}

fn insert(
    conn: &mut DbConnection,
    ctx: &Ctx,
    by: i64,
    fields: &CapaFields,
) -> Result<Capa, RecordError> {
    let capa = repo::insert(conn, &Capa::open(fields.clone(), by, ctx.now))?;
    audit::append(
        conn,
        &ctx.entry("capa.created")
            .entity(entity(&capa))
            .after(capa.audit_fields()),
    )?;
    super::events::append(
        conn,
        ctx,
        &entity(&capa),
        &crate::domain::event::owner_change(None, capa.owner_id),
    )?;
    Ok(capa)
}

/// Links a record to a CAPA, audited on the CAPA.
fn link(
    conn: &mut DbConnection,
    ctx: &Ctx,
    from: (&str, &str),
    relation: &str,
    capa: &Capa,
) -> Result<(), RecordError> {
    let to = format!("capa-{}", capa.id);
    super::links::create(conn, ctx, from, relation, ("capa", &to), entity(capa))?;
    Ok(())
}

/// Opens a CAPA, in state `open`.
pub fn open(
    conn: &mut DbConnection,
    ctx: &Ctx,
    by: i64,
    fields: CapaFields,
) -> Result<Capa, RecordError> {
    write_tx(conn, |conn| {
        check_refs(conn, &fields, None)?;
        insert(conn, ctx, by, &fields)
    })
}

/// Loads a CAPA at the version the person saw, for an edit `allowed` in its state.
fn load_for_edit(
    conn: &mut DbConnection,
    id: i64,
    version: i64,
    allowed: fn(&Capa) -> bool,
    what: &str,
) -> Result<Capa, RecordError> {
    let before = repo::find(conn, id)?.ok_or(RecordError::NotFound)?;
    if before.version != version {
        return Err(RecordError::Stale);
    }
    if !allowed(&before) {
        return Err(RecordError::invalid(format!(
            "{} is {}: {what} cannot be changed now",
            before.key(),
            before.state.label().to_lowercase()
        )));
    }
    Ok(before)
}

/// Saves an edited CAPA and appends `action` with the changed fields.
fn save_edit(
    conn: &mut DbConnection,
    ctx: &Ctx,
    before: &Capa,
    after: Capa,
    action: &str,
) -> Result<Capa, RecordError> {
    let after = super::edit::edit(conn, ctx, action, before, after, None, |conn, c| {
        Ok::<_, RecordError>(repo::save(conn, c)?)
    })?;
    super::events::append(
        conn,
        ctx,
        &entity(&after),
        &<CapaWorkflow as crate::domain::workflow::Workflow>::events(before, &after),
    )?;
    Ok(after)
}

/// Corrects the details while open or in investigation.
pub fn update_details(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    fields: CapaFields,
) -> Result<Capa, RecordError> {
    write_tx(conn, |conn| {
        let before = load_for_edit(conn, id, version, Capa::details_editable, "its details")?;
        check_refs(conn, &fields, Some(&before))?;
        let after = Capa {
            title: fields.title,
            kind: fields.kind,
            source: fields.source,
            source_ref: fields.source_ref,
            product_id: fields.product_id,
            problem: fields.problem,
            priority: fields.priority,
            owner_id: fields.owner_id,
            due_on: fields.due_on,
            containment: fields.containment,
            ..before.clone()
        };
        save_edit(conn, ctx, &before, after, "capa.updated")
    })
}

/// Records the investigation (method, five whys, fishbone, root cause, need
/// for action) while in investigation.
pub fn update_investigation(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    inv: Investigation,
) -> Result<Capa, RecordError> {
    write_tx(conn, |conn| {
        let before = load_for_edit(
            conn,
            id,
            version,
            Capa::investigation_editable,
            "the investigation",
        )?;
        let after = Capa {
            rca_method: inv.rca_method,
            whys: inv.whys,
            causes: inv.causes,
            root_cause: inv.root_cause,
            action_required: inv.action_required,
            action_rationale: inv.action_rationale,
            ..before.clone()
        };
        save_edit(conn, ctx, &before, after, "capa.investigation_updated")
    })
}

/// The verification plan: the no-adverse-effect statement (8.5.2 e) and
/// the effectiveness criteria and due date (8.5.2 f).
pub struct Plan {
    pub no_adverse_effect: String,
    pub effectiveness_criteria: String,
    pub effectiveness_due: Option<chrono::NaiveDate>,
}

pub fn update_plan(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: i64,
    version: i64,
    plan: Plan,
) -> Result<Capa, RecordError> {
    write_tx(conn, |conn| {
        let before = load_for_edit(conn, id, version, Capa::plan_editable, "the plan")?;
        let after = Capa {
            no_adverse_effect: plan.no_adverse_effect,
            effectiveness_criteria: plan.effectiveness_criteria,
            effectiveness_due: plan.effectiveness_due,
            ..before.clone()
        };
        save_edit(conn, ctx, &before, after, "capa.plan_updated")
    })
}

fn item_json(i: &Item) -> Value {
    json!({
        "id": format!("capa-item-{}", i.id),
        "text": i.text,
        "kind": i.kind.as_str(),
        "owner_id": i.owner_id,
        "due_on": i.due_on.to_string(),
        "done_on": i.done_on.map(|d| d.to_string()),
        "evidence": i.evidence,
    })
}

/// Bumps the CAPA's version for a change of its items.
fn touch(conn: &mut DbConnection, ctx: &Ctx, before: &Capa) -> Result<Capa, RecordError> {
    let mut after = before.clone();
    CapaWorkflow::bump(&mut after, ctx.now);
    if !repo::save(conn, &after)? {
        return Err(RecordError::Stale);
    }
    Ok(after)
}

/// Adds an action item (in investigation or action).
pub fn add_item(
    conn: &mut DbConnection,
    ctx: &Ctx,
    capa_id: i64,
    version: i64,
    item: Item,
) -> Result<Capa, RecordError> {
    write_tx(conn, |conn| {
        let before = load_for_edit(conn, capa_id, version, Capa::items_addable, "action items")?;
        check_owner(conn, item.owner_id, "The action's owner")?;
        let id = repo::insert_item(conn, capa_id, &item, ctx.now)?;
        let after = touch(conn, ctx, &before)?;
        audit::append(
            conn,
            &ctx.entry("capa.item_added")
                .entity(entity(&after))
                .after(json!({"item": item_json(&Item { id, ..item.clone() })})),
        )?;
        super::events::append(
            conn,
            ctx,
            &entity(&after),
            &[crate::domain::event::DomainEvent::item_assigned(
                id,
                item.owner_id,
                Some(item.due_on),
            )],
        )?;
        repo::find(conn, capa_id)?.ok_or(RecordError::NotFound)
    })
}

/// What a change to an open action item says: its text, owner and due date.
pub struct ItemChange {
    pub text: String,
    pub owner_id: i64,
    pub due_on: chrono::NaiveDate,
}

/// Changes an action item that is not done yet (in investigation or
/// action): reassigned, its text edited, its due date moved. A new due date
/// needs a reason and is not in the past; the reason, when given, is kept on
/// the audit entry. A change that changes nothing saves nothing.
pub fn change_item(
    conn: &mut DbConnection,
    ctx: &Ctx,
    capa_id: i64,
    version: i64,
    item_id: i64,
    change: ItemChange,
    reason: &str,
) -> Result<Capa, RecordError> {
    let reason = reason.trim();
    write_tx(conn, |conn| {
        let before = load_for_edit(conn, capa_id, version, Capa::items_addable, "action items")?;
        let stored = repo::find_item(conn, item_id)?
            .filter(|s| s.capa_id == capa_id)
            .ok_or(RecordError::NotFound)?;
        if stored.item.done_on.is_some() {
            return Err(RecordError::invalid(
                "This action item is done: what was done, by whom and when stays as recorded",
            ));
        }
        let mut item = stored.item.clone();
        item.text = change.text;
        item.owner_id = change.owner_id;
        item.due_on = change.due_on;
        if item == stored.item {
            return Ok(before);
        }
        let mut problems = Vec::new();
        if item.due_on != stored.item.due_on {
            if item.due_on < ctx.now.date_naive() {
                problems.push(crate::domain::user::FieldError::new(
                    "due_on",
                    "The new due date cannot be in the past",
                ));
            }
            if reason.is_empty() {
                problems.push(crate::domain::user::FieldError::new(
                    "reason",
                    "Say why the due date moves: a new due date needs a reason",
                ));
            }
        }
        if reason.chars().count() > crate::domain::capa::MAX_TEXT {
            problems.push(crate::domain::user::FieldError::new(
                "reason",
                "The reason can have at most 10,000 characters",
            ));
        }
        if !problems.is_empty() {
            return Err(RecordError::Invalid(problems));
        }
        if item.owner_id != stored.item.owner_id {
            check_owner(conn, item.owner_id, "The action's owner")?;
        }
        if !repo::save_item(conn, &item, stored.version + 1, ctx.now)? {
            return Err(RecordError::Stale);
        }
        let after = touch(conn, ctx, &before)?;
        let mut entry = ctx
            .entry("capa.item_changed")
            .entity(entity(&after))
            .before(json!({"item": item_json(&stored.item)}))
            .after(json!({"item": item_json(&item)}));
        if !reason.is_empty() {
            entry = entry.reason(reason);
        }
        audit::append(conn, &entry)?;
        if item.owner_id != stored.item.owner_id {
            super::events::append(
                conn,
                ctx,
                &entity(&after),
                &[crate::domain::event::DomainEvent::item_assigned(
                    item.id,
                    item.owner_id,
                    Some(item.due_on),
                )],
            )?;
        }
        repo::find(conn, capa_id)?.ok_or(RecordError::NotFound)
    })
}

/// Marks an action item done with its evidence (in action). Its owner or
/// quality may do it.
pub fn complete_item(
    conn: &mut DbConnection,
    ctx: &Ctx,
    capa_id: i64,
    version: i64,
    item_id: i64,
    done_on: chrono::NaiveDate,
    evidence: String,
) -> Result<Capa, RecordError> {
    write_tx(conn, |conn| {
        let before = load_for_edit(
            conn,
            capa_id,
            version,
            Capa::items_completable,
            "action items",
        )?;
        let stored = repo::find_item(conn, item_id)?
            .filter(|s| s.capa_id == capa_id)
            .ok_or(RecordError::NotFound)?;
        let mut item = stored.item.clone();
        item.done_on = Some(done_on);
        item.evidence = evidence.clone();
        if !repo::save_item(conn, &item, stored.version + 1, ctx.now)? {
            return Err(RecordError::Stale);
        }
        let after = touch(conn, ctx, &before)?;
        audit::append(
            conn,
            &ctx.entry("capa.item_done")
                .entity(entity(&after))
                .before(json!({"item": item_json(&stored.item)}))
                .after(json!({"item": item_json(&item)})),
        )?;
        repo::find(conn, capa_id)?.ok_or(RecordError::NotFound)
    })
}

/// Whether a CAPA is in a state where `state` filters show it as waiting.
pub fn waiting(state: CapaState) -> bool {
    !state.terminal()
}

/// The CAPA dashboard's figures (WORKFLOWS.md, issue 5): counts by state,
/// ageing of open CAPAs, the overdue count at the start of each of the last
/// 12 weeks, and the median days spent in each state.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub by_state: Vec<(CapaState, i64)>,
    pub ageing: Vec<(&'static str, i64)>,
    pub overdue_trend: Vec<(chrono::NaiveDate, i64)>,
    /// State, median days (one decimal), and how many stays it is taken over.
    pub median_days: Vec<(CapaState, Option<f64>, i64)>,
}

/// The dashboard's figures, read from the database now.
pub fn stats(conn: &mut DbConnection, today: chrono::NaiveDate) -> diesel::QueryResult<Stats> {
    use repo::stats as q;
    let counts = q::by_state(conn)?;
    let by_state = CapaState::ALL
        .iter()
        .map(|s| {
            let n = counts
                .iter()
                .find(|(name, _)| name == s.as_str())
                .map_or(0, |c| c.1);
            (*s, n)
        })
        .collect();
    let day_start =
        |days_ago: i64| (today - chrono::Duration::days(days_ago)).and_time(chrono::NaiveTime::MIN);
    // Age in whole days since the day opened: 0–30, 31–60, 61–90, over 90.
    const AGEING: [&str; 4] = ["0–30 days", "31–60 days", "61–90 days", "over 90 days"];
    let bounds = [
        (Some(day_start(30)), None),
        (Some(day_start(60)), Some(day_start(30))),
        (Some(day_start(90)), Some(day_start(60))),
        (None, Some(day_start(90))),
    ];
    let weeks: Vec<chrono::NaiveDate> = (0..12)
        .rev()
        .map(|w| today - chrono::Duration::weeks(w))
        .collect();
    let figures = q::ageing_and_overdue(conn, &bounds, &weeks)?;
    let ageing = AGEING
        .iter()
        .copied()
        .zip(figures.iter().copied())
        .collect();
    let overdue_trend = weeks
        .iter()
        .copied()
        .zip(figures[AGEING.len()..].iter().copied())
        .collect();
    let mut median_days = Vec::new();
    for s in CapaState::ALL.iter().filter(|s| !s.terminal()) {
        let (median, n) = q::median_stay(conn, s.as_str())?;
        median_days.push((
            *s,
            median.map(|secs| (secs as f64 / 86_400.0 * 10.0).round() / 10.0),
            n,
        ));
    }
    Ok(Stats {
        by_state,
        ageing,
        overdue_trend,
        median_days,
    })
}

/// The CAPA list filtered by `filter` in `order` as CSV, its rows read a
/// thousand at a time inside the transaction that appends `capa.exported`
/// (with the filters as `described` and the row count), so the audited
/// count is the count of the rows in the file.
pub fn export_csv(
    conn: &mut DbConnection,
    ctx: &Ctx,
    filter: &repo::Filter,
    order: repo::Sort,
    today: chrono::NaiveDate,
    described: &[String],
) -> Result<String, RecordError> {
    use crate::csv::line;
    write_tx(conn, |conn| {
        let mut out = line(&[
            "key",
            "title",
            "type",
            "state",
            "priority",
            "owner",
            "product",
            "due",
            "overdue",
            "source",
            "source_ref",
            "opened_utc",
        ]);
        let mut product_names: std::collections::HashMap<i64, String> = Default::default();
        let (mut offset, mut n) = (0, 0u64);
        loop {
            let (page, _) = repo::list(conn, filter, order, offset, 1000)?;
            if page.is_empty() {
                break;
            }
            offset += page.len() as i64;
            let ids: Vec<i64> = page.iter().filter_map(|c| c.owner_id).collect();
            let names = users::names(conn, &ids)?;
            for c in page {
                n += 1;
                let product = match c.product_id {
                    Some(p) => match product_names.get(&p) {
                        Some(name) => name.clone(),
                        None => {
                            let name = products::find(conn, p)?.map(|p| p.name).unwrap_or_default();
                            product_names.insert(p, name.clone());
                            name
                        }
                    },
                    None => String::new(),
                };
                out.push_str(&line(&[
                    c.key(),
                    c.title.clone(),
                    c.kind.as_str().into(),
                    c.state.as_str().into(),
                    c.priority
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default(),
                    c.owner_id
                        .and_then(|o| names.get(&o).cloned())
                        .unwrap_or_default(),
                    product,
                    c.due_on.map(|d| d.to_string()).unwrap_or_default(),
                    if c.overdue(today) { "yes" } else { "no" }.into(),
                    c.source.as_str().into(),
                    c.source_ref.clone(),
                    audit::format_time(c.created_at),
                ]));
            }
        }
        audit::append(
            conn,
            &ctx.entry("capa.exported")
                .after(json!({"format": "csv", "filters": described, "rows": n})),
        )?;
        Ok(out)
    })
}

crate::versioned!(Capa => entity);
