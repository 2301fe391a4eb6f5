//! `attest seed capas --count N`: demonstration and benchmark data on a
//! database that has no CAPAs yet. Each CAPA is opened through the CAPA
//! service (so each has its `capa.created` audit entry) and the ones left in
//! action get two action items through the same service; their states, dates
//! and recorded stays are then spread over the last year directly, and one
//! `system.seeded` entry says so. The seeded states were not reached through
//! the workflow, so this is for trial and measurement databases only, never
//! for records that matter.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;

use crate::audit;
use crate::db::repo::capas as repo;
use crate::db::schema::capas as t;
use crate::db::{DbConnection, naive, write_tx};
use crate::domain::capa::{CapaFields, CapaSource, CapaState, Item, ItemKind, Kind, Priority};
use crate::service::Ctx;

/// CAPAs opened in one transaction.
const BATCH: u64 = 500;

/// A small deterministic generator, so two seeded databases hold the same data.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Opens `count` CAPAs owned by user `owner` and returns how many it made.
/// Refuses a database that already holds CAPAs.
pub fn capas(conn: &mut DbConnection, ctx: &Ctx, owner: i64, count: u64) -> anyhow::Result<u64> {
    let existing: i64 = t::table.count().get_result(conn)?;
    if existing > 0 {
        bail!(
            "this database already holds {existing} CAPAs; seed only a fresh trial or measurement database"
        );
    }
    let mut dice = Dice(0x2545_f491_4f6c_dd1d);
    let mut made = 0;
    while made < count {
        let batch = (count - made).min(BATCH);
        write_tx(conn, |conn| -> anyhow::Result<()> {
            for _ in 0..batch {
                made += 1;
                one(conn, ctx, owner, made, &mut dice)?;
            }
            Ok(())
        })?;
    }
    write_tx(conn, |conn| {
        audit::append(
            conn,
            &ctx.entry("system.seeded").after(serde_json::json!({
                "capas": made,
                "note": "states, dates and stays set directly for measurement, not through the workflow",
            })),
        )
    })
    .context("cannot record the seeding in the audit log")?;
    Ok(made)
}

/// Opens CAPA number `n` and moves it to a random state and age.
fn one(
    conn: &mut DbConnection,
    ctx: &Ctx,
    owner: i64,
    n: u64,
    dice: &mut Dice,
) -> anyhow::Result<()> {
    let fields = CapaFields {
        title: format!("Seeded CAPA {n}"),
        kind: if dice.roll(5) == 0 {
            Kind::Preventive
        } else {
            Kind::Corrective
        },
        source: CapaSource::ALL[dice.roll(CapaSource::ALL.len() as u64) as usize],
        source_ref: String::new(),
        product_id: None,
        problem: "Seeded for measurement".into(),
        priority: Some(Priority::ALL[dice.roll(4) as usize]),
        owner_id: Some(owner),
        due_on: None,
        containment: String::new(),
    };
    let c = crate::service::capas::open(conn, ctx, owner, fields)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = ctx.now;
    let opened =
        now - Duration::days(dice.roll(365) as i64) - Duration::minutes(dice.roll(1440) as i64);
    let state = CapaState::ALL[dice.roll(6) as usize];
    let due = (opened + Duration::days([180, 90, 30, 7][dice.roll(4) as usize])).date_naive();
    let path: &[CapaState] = match state {
        CapaState::Open => &[],
        CapaState::Investigation => &[CapaState::Open],
        CapaState::Action => &[CapaState::Open, CapaState::Investigation],
        _ => &[CapaState::Open, CapaState::Investigation, CapaState::Action],
    };
    let mut entered = opened;
    for s in path {
        let left = (entered + Duration::hours(1 + dice.roll(24 * 30) as i64)).min(now);
        repo::insert_stay(conn, c.id, s.as_str(), entered, left)?;
        entered = left;
    }
    backdate(conn, c.id, state, due, opened, entered)?;
    if state == CapaState::Action {
        let mut version = c.version;
        for k in 0..2 {
            let item = Item {
                id: 0,
                text: format!("Seeded action {} of CAPA-{}", k + 1, c.id),
                kind: ItemKind::Corrective,
                owner_id: owner,
                due_on: now.date_naive() + Duration::days(dice.roll(60) as i64 - 20),
                done_on: None,
                evidence: String::new(),
            };
            version = crate::service::capas::add_item(conn, ctx, c.id, version, item)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .version;
        }
    }
    Ok(())
}

/// Sets a seeded CAPA's state and dates directly (never done outside seeding).
fn backdate(
    conn: &mut DbConnection,
    id: i64,
    state: CapaState,
    due: NaiveDate,
    opened: DateTime<Utc>,
    changed: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(t::table.filter(t::id.eq(id)))
        .set((
            t::state.eq(state.as_str()),
            t::due_on.eq(due.to_string()),
            t::created_at.eq(naive(opened)),
            t::updated_at.eq(naive(changed)),
        ))
        .execute(conn)
        .map(|_| ())
}
