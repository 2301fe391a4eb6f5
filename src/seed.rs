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

/// What `attest seed trace` made.
pub struct TraceSeeded {
    pub product: String,
    pub requirements: u64,
    pub commits: u64,
    pub tests: u64,
    pub repository: String,
}

/// `attest seed trace`: a product (`prefix`) with `requirements`
/// requirements (a tenth system requirements, the rest software ones each
/// deriving from one), a GitHub repository whose `commits` commits arrive
/// as pushes of 100 naming them (`Implements: SRS-n`), and `tests` test
/// cases in one CI run, each verifying a requirement, about one in twenty
/// failing. Everything goes through the services, audited; on a database
/// without requirements only.
pub fn trace(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &crate::audit::key::LogKey,
    uploader: i64,
    prefix: &str,
    counts: (u64, u64, u64),
) -> anyhow::Result<TraceSeeded> {
    use crate::db::schema::requirements as rq;
    use crate::domain::product::ProductFields;
    use crate::domain::requirement::{ReqKind, RequirementFields};
    use crate::domain::trace::{Outcome, Provider};
    use crate::ingest::junit::Case;
    use crate::ingest::push::{Push, PushedCommit};
    let (n_req, n_commits, n_tests) = counts;
    let existing: i64 = rq::table.count().get_result(conn)?;
    if existing > 0 {
        bail!(
            "this database already holds {existing} requirements; seed only a fresh trial or measurement database"
        );
    }
    let fields =
        ProductFields::parse(&format!("{prefix} bench device"), prefix, "B", "").map_err(|e| {
            anyhow::anyhow!(
                "{}",
                e.iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        })?;
    let product =
        crate::service::products::create(conn, ctx, &fields).map_err(|e| anyhow::anyhow!("{e}"))?;
    let systems = (n_req / 10).max(1);
    let key_of = |i: u64| {
        if i < systems {
            format!("SYS-{:05}", i + 1)
        } else {
            format!("SRS-{:05}", i + 1)
        }
    };
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    for start in (0..n_req).step_by(1_000) {
        write_tx(conn, |conn| -> anyhow::Result<()> {
            for i in start..(start + 1_000).min(n_req) {
                let system = i < systems;
                let f = RequirementFields {
                    key: key_of(i),
                    title: format!("Seeded requirement {}", i + 1),
                    body: "The device shall do what this seeded requirement says.".into(),
                    kind: if system {
                        ReqKind::System
                    } else {
                        ReqKind::Software
                    },
                    safety_class: crate::domain::product::SafetyClass::B,
                };
                let parents = if system {
                    Vec::new()
                } else {
                    vec![key_of(dice.roll(systems))]
                };
                crate::service::requirements::create(conn, ctx, product.id, &f, &parents)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", f.key))?;
            }
            Ok(())
        })?;
    }
    let (repo, _) = crate::service::git::create(
        conn,
        ctx,
        &key.derived_key(crate::ingest::secret::PURPOSE),
        Provider::Github,
        &format!("bench/{}", prefix.to_lowercase()),
        product.id,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let software = n_req.saturating_sub(systems).max(1);
    let mut made = 0u64;
    while made < n_commits {
        let batch = (n_commits - made).min(100);
        let commits: Vec<PushedCommit> = (0..batch)
            .map(|k| {
                let n = made + k;
                PushedCommit {
                    sha: format!("{:040x}", u128::from(n) * 0x9e37_79b9 + 1),
                    message: format!(
                        "Seeded change {n}\n\nImplements: {}",
                        key_of(systems + dice.roll(software))
                    ),
                    at: ctx.now - Duration::minutes(i64::try_from(n_commits - n).unwrap_or(0)),
                    url: String::new(),
                    author_name: "Seeded Engineer".into(),
                    author_email: "seed@example.com".into(),
                }
            })
            .collect();
        let push = Push {
            repository: repo.name.clone(),
            git_ref: "refs/heads/main".into(),
            head: commits.last().map(|c| c.sha.clone()).unwrap_or_default(),
            commits,
        };
        crate::service::git::ingest(
            conn,
            ctx,
            key,
            &repo,
            &format!("seed-{made}"),
            "push",
            &push,
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        made += batch;
    }
    let cases: Vec<Case> = (0..n_tests)
        .map(|t| Case {
            key: format!("bench::tests::case_{t:05}"),
            name: format!("case_{t:05}"),
            outcome: if dice.roll(20) == 0 {
                Outcome::Failed
            } else {
                Outcome::Passed
            },
            duration_ms: i64::try_from(dice.roll(500)).unwrap_or(0),
            message: String::new(),
            requirements: vec![key_of(dice.roll(n_req.max(1)))],
        })
        .collect();
    let meta = crate::service::testruns::RunMeta {
        product_id: product.id,
        repository_id: Some(repo.id),
        commit: "0".repeat(40),
        branch: "main".into(),
        ci_url: String::new(),
        file_sha256: "seeded".into(),
    };
    crate::service::testruns::import(conn, ctx, uploader, &meta, &cases)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    write_tx(conn, |conn| {
        audit::append(
            conn,
            &ctx.entry("system.seeded").after(serde_json::json!({
                "product": prefix,
                "requirements": n_req,
                "commits": n_commits,
                "tests": n_tests,
            })),
        )
    })
    .context("cannot record the seeding in the audit log")?;
    Ok(TraceSeeded {
        product: product.name,
        requirements: n_req,
        commits: n_commits,
        tests: n_tests,
        repository: repo.name,
    })
}
