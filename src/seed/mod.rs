//! `attest seed capas --count N`: demonstration and benchmark data on a
//! database that has no CAPAs yet. Each CAPA is opened through the CAPA
//! service and taken to its state through the workflow ([`walk`]): every
//! step a transition with its audit entry, events and stay, every signed
//! step signed by a seeded quality user whose key is opened once. Times are
//! spread over the last year (the steps' audit entries carry those times),
//! and one `system.seeded` entry says so: for trial and measurement
//! databases only, never for records that matter.

use anyhow::{Context, bail};
use chrono::Duration;
use diesel::prelude::*;

use crate::audit;
use crate::db::schema::capas as t;
use crate::db::{DbConnection, write_tx};
use crate::domain::capa::{CapaFields, CapaSource, CapaState, Kind, Priority};
use crate::domain::user::Account;
use crate::service::Ctx;

pub mod documents;
pub mod risks;
pub mod training;
pub mod walk;

/// CAPAs opened in one transaction.
const BATCH: u64 = 500;

/// A small deterministic generator, so two seeded databases hold the same data.
pub(crate) struct Dice(pub(crate) u64);

impl Dice {
    pub(crate) fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Opens `count` CAPAs owned by user `owner` and takes each through the
/// workflow to a random state, at times spread over the last year, and
/// returns how many it made. Signed steps are signed by a seeded quality
/// user (`seed-quality`, made here, its key opened once). Refuses a
/// database that already holds CAPAs.
pub fn capas(conn: &mut DbConnection, ctx: &Ctx, owner: i64, count: u64) -> anyhow::Result<u64> {
    let existing: i64 = t::table.count().get_result(conn)?;
    if existing > 0 {
        bail!(
            "this database already holds {existing} CAPAs; seed only a fresh trial or measurement database"
        );
    }
    let owner = walk::account(conn, crate::domain::ids::UserId(owner))?;
    // The signer's key is valid from before the first seeded step.
    let year_ago = Ctx {
        now: ctx.now - Duration::days(367),
        ..ctx.clone()
    };
    let mut signer = walk::Signer::seeded(conn, &year_ago, "seed-quality")?;
    let mut dice = Dice(0x2545_f491_4f6c_dd1d);
    let mut made = 0;
    while made < count {
        let batch = (count - made).min(BATCH);
        write_tx(conn, |conn| -> anyhow::Result<()> {
            for _ in 0..batch {
                made += 1;
                one(conn, ctx, &owner, &mut signer, made, &mut dice)?;
            }
            Ok(())
        })?;
    }
    write_tx(conn, |conn| {
        audit::append(
            conn,
            &ctx.entry("system.seeded").after(serde_json::json!({
                "capas": made,
                "signer": signer.account.username,
                "note": "every state reached through the workflow, at times spread over the last year, for trial and measurement",
            })),
        )
    })
    .context("cannot record the seeding in the audit log")?;
    Ok(made)
}

/// Opens CAPA number `n` and takes it to a random state, opened a random
/// time ago, each step a random time after the last.
fn one(
    conn: &mut DbConnection,
    ctx: &Ctx,
    owner: &Account,
    signer: &mut walk::Signer,
    n: u64,
    dice: &mut Dice,
) -> anyhow::Result<()> {
    let now = ctx.now;
    let opened =
        now - Duration::days(dice.roll(365) as i64) - Duration::minutes(dice.roll(1440) as i64);
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
        owner_id: Some(owner.id.0),
        due_on: Some(
            (opened + Duration::days([180, 90, 30, 7][dice.roll(4) as usize])).date_naive(),
        ),
        containment: String::new(),
    };
    let target = CapaState::ALL[dice.roll(6) as usize];
    let hours: Vec<i64> = (0..16).map(|_| 1 + dice.roll(24 * 12) as i64).collect();
    let mut k = 0;
    let mut times = walk::Times::new(
        opened,
        now,
        Box::new(move || {
            k = (k + 1) % hours.len();
            Duration::hours(hours[k])
        }),
    );
    walk::capa_to(conn, ctx, owner, signer, fields, target, &mut times)?;
    Ok(())
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
