//! `attest bench audit`: the audit log's figures for docs/benchmarks.md,
//! measured on a throw-away SQLite database with the app's own connection
//! settings (WAL, synchronous=FULL).
//!
//! - appends per second through `audit::append`, one transaction each, in
//!   the same run as plain single-row inserts of the same bytes, alternating
//!   in rounds so that both see the same disk;
//! - full offline verification (`attest verify`'s code) of a generated,
//!   signed log of N entries;
//! - inclusion and consistency proof latency from the stored tree.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

use crate::audit::key::LogKey;
use crate::audit::merkle::{self, MemoryTree};
use crate::audit::note::{self, Checkpoint};
use crate::audit::{self, Actor, EntityRef, NewEntry, verify};
use crate::db::{DbConnection, DbTarget, build_pool, run_migrations, write_tx};

const ORIGIN: &str = "bench.attest.invalid/audit";

/// What to measure.
pub struct AuditBench {
    pub appends: u64,
    pub verify_entries: u64,
    pub proof_entries: u64,
    /// Where the throw-away database and files go (removed afterwards).
    pub dir: PathBuf,
    /// Keep the generated log, checkpoint and key in `dir` (to time
    /// `attest verify` on them).
    pub keep: bool,
}

/// A typical entry: a field edit of a record with before and after values.
fn sample(at: chrono::DateTime<Utc>, i: u64) -> NewEntry {
    NewEntry::new(
        ORIGIN,
        at,
        Actor {
            id: "u-7".into(),
            name: "Jane Doe".into(),
        },
        "user.updated",
    )
    .entity(EntityRef {
        kind: "user".into(),
        id: format!("u-{}", i % 500 + 1),
        key: format!("user{}", i % 500 + 1),
        version: i64::try_from(i % 40).unwrap_or(0) + 1,
    })
    .before(json!({"full_name": "Jane Doe", "email": "jane.doe@example.com"}))
    .after(json!({"full_name": "Jane Q. Doe", "email": "jane.q.doe@example.com"}))
    .op(Some(format!(
        "{:032x}",
        u128::from(i) * 0x9e37_79b9_7f4a_7c15
    )))
}

fn open(path: &Path) -> anyhow::Result<crate::db::PooledConn> {
    let pool = build_pool(&DbTarget::Sqlite(path.to_path_buf()), 1).map_err(|e| anyhow!(e))?;
    let mut conn = pool.get()?;
    run_migrations(&mut conn).map_err(|e| anyhow!(e))?;
    Ok(conn)
}

fn per_second(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// Percentile of sorted durations, in microseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

/// A small deterministic generator for proof indexes.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below.max(1)
    }
}

fn appends(conn: &mut DbConnection, n: u64, out: &mut String) -> anyhow::Result<()> {
    // The plain table, and one with audit_entries' columns and query indexes
    // (no tree, no triggers): what the indexes alone cost.
    conn.batch_execute(
        "CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, body BLOB NOT NULL);
         CREATE TABLE bench_indexed (seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL,
           leaf_hash BLOB NOT NULL, at TIMESTAMP NOT NULL, actor_id TEXT NOT NULL,
           action TEXT NOT NULL, entity_type TEXT, entity_id TEXT, entity_key TEXT);
         CREATE INDEX bench_i1 ON bench_indexed (entity_type, entity_id, seq);
         CREATE INDEX bench_i2 ON bench_indexed (actor_id, seq);
         CREATE INDEX bench_i3 ON bench_indexed (action, seq);
         CREATE INDEX bench_i4 ON bench_indexed (at);
         CREATE INDEX bench_i5 ON bench_indexed (entity_key, seq);",
    )?;
    let rounds = 5;
    let per_round = (n / rounds).max(1);
    let (mut audit_time, mut plain_time, mut indexed_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut bytes = 0usize;
    let mut done = 0u64;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..per_round {
            let entry = sample(Utc::now(), done);
            write_tx(conn, |c| audit::append(c, &entry))?;
            done += 1;
        }
        audit_time += start.elapsed();
        let start = Instant::now();
        for i in 0..per_round {
            let leaf = audit::leaf_bytes(done - per_round + i, &sample(Utc::now(), i))?;
            bytes = leaf.len();
            write_tx(conn, |c| {
                diesel::sql_query("INSERT INTO bench_plain (body) VALUES (?)")
                    .bind::<diesel::sql_types::Binary, _>(&leaf)
                    .execute(c)
            })?;
        }
        plain_time += start.elapsed();
        let start = Instant::now();
        for i in 0..per_round {
            let seq = done - per_round + i;
            let e = sample(Utc::now(), seq);
            let leaf = audit::leaf_bytes(seq, &e)?;
            let hash = merkle::leaf_hash(&leaf);
            let entity = e.entity.as_ref();
            write_tx(conn, |c| {
                diesel::sql_query(
                    "INSERT INTO bench_indexed (seq, leaf, leaf_hash, at, actor_id, action, \
                     entity_type, entity_id, entity_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind::<diesel::sql_types::BigInt, _>(i64::try_from(seq).unwrap_or(0))
                .bind::<diesel::sql_types::Binary, _>(&leaf)
                .bind::<diesel::sql_types::Binary, _>(&hash[..])
                .bind::<diesel::sql_types::Timestamp, _>(e.at.naive_utc())
                .bind::<diesel::sql_types::Text, _>(&e.actor.id)
                .bind::<diesel::sql_types::Text, _>(&e.action)
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(
                    entity.map(|x| x.kind.as_str()),
                )
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(
                    entity.map(|x| x.id.as_str()),
                )
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(
                    entity.map(|x| x.key.as_str()),
                )
                .execute(c)
            })?;
        }
        indexed_time += start.elapsed();
    }
    let (a, p) = (per_second(done, audit_time), per_second(done, plain_time));
    let x = per_second(done, indexed_time);
    out.push_str(&format!(
        "appends: {done} through audit::append, one transaction each: {a:.0}/s\n\
         plain:   {done} single-row inserts of the same {bytes} bytes, one transaction each: {p:.0}/s\n\
         indexed: {done} inserts of the entry row alone, with the five query indexes: {x:.0}/s\n\
         ratio:   {:.2} (audit::append / plain insert); {:.2} (indexed row alone / plain insert)\n",
        a / p,
        x / p
    ));
    Ok(())
}

fn verification(dir: &Path, n: u64, keep: Option<&Path>, out: &mut String) -> anyhow::Result<()> {
    let key = LogKey::generate(ORIGIN)?;
    let path = dir.join("log.jsonl");
    let mut file = BufWriter::new(std::fs::File::create(&path)?);
    let mut tree = MemoryTree::new();
    let at = Utc::now();
    let mut total = 0usize;
    for seq in 0..n {
        let leaf = audit::leaf_bytes(seq, &sample(at, seq))?;
        total += leaf.len() + 1;
        tree.push(merkle::leaf_hash(&leaf));
        file.write_all(&leaf)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    drop(file);
    let root = merkle::root(&mut tree, n).map_err(|e| anyhow!("{e:?}"))?;
    drop(tree);
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: n,
        root,
    };
    let signed = note::sign(&key, &cp.body())?;
    let start = Instant::now();
    let report = verify::verify(
        BufReader::with_capacity(1 << 20, std::fs::File::open(&path)?),
        &signed,
        &key.vkey(),
        &[],
    );
    let took = start.elapsed();
    if !report.ok {
        return Err(anyhow!(
            "the generated log did not verify: {:?}",
            report.failures
        ));
    }
    out.push_str(&format!(
        "verify:  {n} entries ({:.0} MB) checked offline in {:.2} s ({:.0} entries/s)\n",
        total as f64 / 1e6,
        took.as_secs_f64(),
        per_second(n, took)
    ));
    if let Some(keep) = keep {
        let (entries, checkpoint) = (
            keep.join(format!("bench-log-{n}.jsonl")),
            keep.join(format!("bench-checkpoint-{n}.txt")),
        );
        std::fs::rename(&path, &entries)?;
        std::fs::write(&checkpoint, &signed)?;
        out.push_str(&format!(
            "kept:    attest verify --entries {} --checkpoint {} --key {}\n",
            entries.display(),
            checkpoint.display(),
            key.vkey()
        ));
    }
    Ok(())
}

fn proofs(conn: &mut DbConnection, n: u64, out: &mut String) -> anyhow::Result<()> {
    let mut size = audit::size(conn)?;
    let at = Utc::now();
    while size < n {
        let step = (n - size).min(1_000);
        write_tx(conn, |c| -> anyhow::Result<()> {
            for i in 0..step {
                audit::append(c, &sample(at, size + i))?;
            }
            Ok(())
        })?;
        size += step;
    }
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let samples = 2_000;
    let mut inclusion = Vec::with_capacity(samples);
    let mut consistency = Vec::with_capacity(samples);
    for _ in 0..samples {
        let index = rng.next(size);
        let start = Instant::now();
        let proof = crate::audit::tree::inclusion_proof(conn, index, size)
            .map_err(|e| anyhow!("inclusion proof: {e}"))?;
        inclusion.push(start.elapsed());
        std::hint::black_box(proof);
        let from = rng.next(size - 1) + 1;
        let start = Instant::now();
        let proof = crate::audit::tree::consistency_proof(conn, from, size)
            .map_err(|e| anyhow!("consistency proof: {e}"))?;
        consistency.push(start.elapsed());
        std::hint::black_box(proof);
    }
    inclusion.sort();
    consistency.sort();
    out.push_str(&format!(
        "proofs:  tree of {size} entries, {samples} random proofs each, from the database:\n\
         \x20        inclusion   p50 {:.0} us, p99 {:.0} us\n\
         \x20        consistency p50 {:.0} us, p99 {:.0} us\n",
        pct(&inclusion, 0.5),
        pct(&inclusion, 0.99),
        pct(&consistency, 0.5),
        pct(&consistency, 0.99)
    ));
    Ok(())
}

/// Runs the audit benchmarks and returns the report.
pub fn audit(args: &AuditBench) -> anyhow::Result<String> {
    let dir = args
        .dir
        .join(format!("attest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = (|| -> anyhow::Result<String> {
        let mut out = format!(
            "attest bench audit: SQLite (WAL, synchronous=FULL) in {}\n",
            args.dir.display()
        );
        let mut conn = open(&dir.join("bench.db"))?;
        if args.appends > 0 {
            appends(&mut conn, args.appends, &mut out)?;
        }
        if args.proof_entries > 0 {
            proofs(&mut conn, args.proof_entries, &mut out)?;
        }
        if args.verify_entries > 0 {
            let keep = args.keep.then_some(args.dir.as_path());
            verification(&dir, args.verify_entries, keep, &mut out)?;
        }
        Ok(out)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `attest bench transitions`: workflow steps through the transition
/// service on a throw-away SQLite database (the app's connection settings),
/// one transaction each with its audit entry, events and stay: `count`
/// CAPAs each taken from open to investigation (no signature), then each
/// cancelled with an Ed25519 signature by a quality signer whose key is
/// opened once (the preview a signing form needs included).
/// The `n`-th CAPA a benchmark opens, owned by `owner`.
fn bench_capa(n: u64, owner: i64) -> crate::domain::capa::CapaFields {
    use crate::domain::capa::{CapaFields, CapaSource, Kind, Priority};
    CapaFields {
        title: format!("Bench CAPA {n}"),
        kind: Kind::Corrective,
        source: CapaSource::Other,
        source_ref: String::new(),
        product_id: None,
        problem: "Measured".into(),
        priority: Some(Priority::High),
        owner_id: Some(owner),
        due_on: None,
        containment: String::new(),
    }
}

pub fn transitions(count: u64, dir: &Path) -> anyhow::Result<String> {
    use crate::domain::capa::CapaInput;
    use crate::domain::user::{Role, Roles};
    use crate::seed::walk;
    use crate::service::{Ctx, accounts};
    let dir = dir.join(format!("attest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = (|| -> anyhow::Result<String> {
        let mut conn = open(&dir.join("bench.db"))?;
        let system = Ctx {
            log: ORIGIN.into(),
            actor: Actor::system(),
            now: crate::clock::now(),
            op: None,
        };
        let hash = crate::service::password::hash_blocking("bench owner password")?;
        let valid = accounts::validate_new_user(&accounts::NewUserInput {
            username: "bench-owner".into(),
            full_name: "Bench Owner".into(),
            email: "owner@example.com".into(),
            roles: Roles::new([Role::Quality]),
        })?;
        let owner = crate::service::people::create_user(&mut conn, &system, &valid, &hash, false)?;
        let mut signer = walk::Signer::seeded(&mut conn, &system, "bench-signer")?;
        let as_owner = || Ctx {
            actor: accounts::actor(&owner),
            now: crate::clock::now(),
            ..system.clone()
        };
        let mut ids = Vec::new();
        for n in 0..count {
            let fields = bench_capa(n, owner.id.0);
            ids.push(crate::service::capas::open(&mut conn, &as_owner(), owner.id.0, fields)?.id);
        }
        let mut out = format!(
            "attest bench transitions: SQLite (WAL, synchronous=FULL) in {}, {count} CAPAs\n",
            dir.display()
        );
        let mut run = |what: &str,
                       name: &str,
                       input: &CapaInput,
                       signer: &mut Option<&mut walk::Signer>|
         -> anyhow::Result<()> {
            let mut lat = Vec::with_capacity(ids.len());
            let t0 = Instant::now();
            for id in &ids {
                let t = Instant::now();
                let ctx = match signer.as_deref() {
                    Some(s) => Ctx {
                        actor: accounts::actor(&s.account),
                        ..as_owner()
                    },
                    None => as_owner(),
                };
                walk::step(
                    &mut conn,
                    &ctx,
                    &owner,
                    *id,
                    name,
                    input,
                    signer.as_deref_mut(),
                )
                .map_err(|e| anyhow!("{e}"))?;
                lat.push(t.elapsed());
            }
            let total = t0.elapsed();
            lat.sort();
            out.push_str(&format!(
                "{what}: {:.0}/s, p50 {:.0} µs, p99 {:.0} µs\n",
                per_second(ids.len() as u64, total),
                pct(&lat, 0.5),
                pct(&lat, 0.99)
            ));
            Ok(())
        };
        run(
            "unsigned step (start_investigation) with audit entry, events, stay",
            "start_investigation",
            &CapaInput::default(),
            &mut None,
        )?;
        let cancel = CapaInput {
            justification: Some("Measured".into()),
            ..CapaInput::default()
        };
        run(
            "signed step (cancel, Ed25519, preview included) with audit entry, events, stay",
            "cancel",
            &cancel,
            &mut Some(&mut signer),
        )?;
        Ok(out)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `attest bench mail`: what mail costs, on a throw-away SQLite database.
///
/// - a CAPA opened for another person (a change that tells someone: its
///   audit entry and domain event in one transaction), `count` times;
/// - the notify job's work per event, in the app only and then with the
///   mail rendered and queued, the difference being what queuing a mail
///   costs, set against the change's own time (the change itself queues
///   nothing: the job does, after it commits);
/// - the mail job delivering the `count` queued mails to the SMTP server
///   at `smtp_url` (with `scripts/bench-mail.sh`, a local aiosmtpd).
pub fn mail(count: u64, smtp_url: &str, dir: &Path) -> anyhow::Result<String> {
    use crate::domain::user::{Role, Roles};
    use crate::notify::{MailKind, MailSettings, SmtpUrl, Transport};
    use crate::service::mail::{Mailer, deliver};
    use crate::service::{Ctx, accounts, notifications};
    let url = SmtpUrl::parse(smtp_url).map_err(|e| anyhow!("--smtp-url: {e}"))?;
    let settings = MailSettings {
        kind: Some(MailKind::Smtp),
        smtp: Some(url),
        ..MailSettings::default()
    };
    let dir = dir.join(format!("attest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = (|| -> anyhow::Result<String> {
        let mailer = Mailer {
            transport: Transport::new(&settings, &dir).map_err(|e| anyhow!(e))?,
            from: "Attest <qms@example.com>".into(),
            base_url: "https://qms.example.com".into(),
            connections: usize::try_from(settings.smtp_connections).unwrap_or(1),
        };
        let mut conn = open(&dir.join("bench.db"))?;
        let system = Ctx {
            log: ORIGIN.into(),
            actor: Actor::system(),
            now: crate::clock::now(),
            op: None,
        };
        let hash = crate::service::password::hash_blocking("bench owner password")?;
        let mut people = Vec::new();
        for (name, email) in [
            ("bench-owner", "owner@example.com"),
            ("bench-opener", "opener@example.com"),
        ] {
            let valid = accounts::validate_new_user(&accounts::NewUserInput {
                username: name.into(),
                full_name: format!("Bench {name}"),
                email: email.into(),
                roles: Roles::new([Role::Quality]),
            })?;
            people.push(crate::service::people::create_user(
                &mut conn, &system, &valid, &hash, false,
            )?);
        }
        let (owner, opener) = (people[0].clone(), people[1].clone());
        let as_opener = || Ctx {
            actor: accounts::actor(&opener),
            now: crate::clock::now(),
            ..system.clone()
        };
        let open_capas = |conn: &mut DbConnection| -> anyhow::Result<Duration> {
            let t0 = Instant::now();
            for n in 0..count {
                crate::service::capas::open(
                    conn,
                    &as_opener(),
                    opener.id.0,
                    bench_capa(n, owner.id.0),
                )?;
            }
            Ok(t0.elapsed())
        };
        let notify = |conn: &mut DbConnection, with_mail: bool| -> anyhow::Result<Duration> {
            let t0 = Instant::now();
            loop {
                let ctx = Ctx {
                    now: crate::clock::now(),
                    ..system.clone()
                };
                let m = with_mail.then_some(&mailer);
                if notifications::process(conn, &ctx, m).map_err(|e| anyhow!("{e}"))? == 0 {
                    break;
                }
            }
            Ok(t0.elapsed())
        };
        let us = |d: Duration| d.as_secs_f64() * 1e6 / count.max(1) as f64;
        let opened = open_capas(&mut conn)?;
        let in_app = notify(&mut conn, false)?;
        let opened_again = open_capas(&mut conn)?;
        let with_mail = notify(&mut conn, true)?;
        let change = (us(opened) + us(opened_again)) / 2.0;
        let queue = (us(with_mail) - us(in_app)).max(0.0);
        let mut out = format!(
            "attest bench mail: SQLite (WAL, synchronous=FULL) in {}, {count} notifications\n",
            dir.display()
        );
        out.push_str(&format!(
            "a change that tells someone (CAPA opened for another owner, audit entry, event): {change:.0} µs each\n\
             notify job per event, in the app only: {:.0} µs; with the mail rendered and queued: {:.0} µs\n\
             queuing a mail: {queue:.0} µs, {:.1} % of the change's time (and outside its transaction)\n",
            us(in_app),
            us(with_mail),
            100.0 * queue / change.max(1e-9)
        ));
        let clock = crate::clock::Clock::system();
        let t0 = Instant::now();
        let mut sent = 0;
        loop {
            let n = deliver(&mut conn, &mailer, &clock).map_err(|e| anyhow!("{e}"))?;
            sent += n;
            if n == 0 {
                break;
            }
        }
        let took = t0.elapsed();
        out.push_str(&format!(
            "mail job: {sent} mails to {} in {:.2} s, {:.0} mails/s\n",
            mailer.transport.describe(),
            took.as_secs_f64(),
            per_second(sent as u64, took)
        ));
        if (sent as u64) < count {
            return Err(anyhow!(
                "only {sent} of {count} mails were sent: is the SMTP server at {smtp_url} up?\n{out}"
            ));
        }
        Ok(out)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The redline page's work for two versions of `kib` KiB each, a word in
/// 40 changed: the word diff (inline and side by side) and the marked-up
/// HTML both views write, `runs` times; median and slowest.
pub fn redline(kib: usize, runs: u32) -> String {
    let mut seed = 0x5eed_u64;
    let old = crate::seed::documents::body(&mut seed, kib * 1024);
    let new: String = old
        .split(' ')
        .enumerate()
        .map(|(i, w)| if i % 40 == 7 { "changed" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let r = crate::domain::redline::compare(&old, &new);
        let mut html = String::with_capacity(old.len() * 2);
        for run in r
            .inline
            .iter()
            .chain(r.side.iter().flat_map(|l| l.old.iter().chain(&l.new)))
        {
            let (open, close) = match run.mark {
                crate::domain::redline::Mark::Same => ("", ""),
                crate::domain::redline::Mark::Removed => ("<del>", "</del>"),
                crate::domain::redline::Mark::Added => ("<ins>", "</ins>"),
            };
            html.push_str(open);
            html.push_str(&crate::domain::svg::escape(&run.text));
            html.push_str(close);
        }
        size = html.len();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(&r.summary);
    }
    times.sort_by(f64::total_cmp);
    format!(
        "redline of two {} KiB versions ({} and {} bytes, a word in 40 changed), {} runs: median {:.1} ms, slowest {:.1} ms; {} KiB of marked-up HTML\n",
        kib,
        old.len(),
        new.len(),
        times.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        size / 1024
    )
}

/// The training matrix computed afresh `runs` times for each of a few
/// filters (as `/training` computes it when the data has changed), on the
/// database given; median and slowest in ms.
pub fn training(conn: &mut crate::db::DbConnection, runs: u32) -> anyhow::Result<String> {
    use crate::domain::training::Cell;
    use crate::domain::user::Role;
    use crate::service::training::{MatrixFilter, matrix};
    let today = crate::clock::now().date_naive();
    let mut out = String::new();
    let filters = [
        ("every role", MatrixFilter::default()),
        (
            "role=engineer",
            MatrixFilter {
                role: Some(Role::Engineer),
                ..MatrixFilter::default()
            },
        ),
        (
            "state=due",
            MatrixFilter {
                cell: Some(Cell::Due),
                ..MatrixFilter::default()
            },
        ),
    ];
    for (name, f) in filters {
        let mut times = Vec::new();
        let mut shape = (0, 0, 0);
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            // The first page of 25 people, as `/training` shows it.
            let m = matrix(conn, &f, today, Some((0, 25)))?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            shape = (m.total, m.documents.len(), m.counts.values().sum::<usize>());
        }
        times.sort_by(f64::total_cmp);
        let p99 = times[((times.len() * 99).div_ceil(100)).saturating_sub(1)];
        out.push_str(&format!(
            "matrix {name}: {} people x {} documents, {} cells; {} runs: median {:.1} ms, p99 {:.1} ms, slowest {:.1} ms\n",
            shape.0,
            shape.1,
            shape.2,
            times.len(),
            times[times.len() / 2],
            p99,
            times[times.len() - 1],
        ));
    }
    Ok(out)
}

/// The risk file page's reads (a page of 50 risks with their controls,
/// counts by state, both heat maps' cells, the hazard list, the plans) on
/// the configured database's product RISKB, computed afresh `runs` times
/// for each of a few filters; the median and p99 in milliseconds.
pub fn risks(conn: &mut crate::db::DbConnection, runs: u32) -> anyhow::Result<String> {
    use crate::db::repo::risks::Filter;
    use crate::domain::risk::Acceptability;
    use crate::domain::risk::workflow::RiskState;
    let product = crate::db::repo::products::list(conn, true, 0, 500)?
        .0
        .into_iter()
        .find(|p| p.key_prefix == "RISKB")
        .ok_or_else(|| anyhow::anyhow!("there is no product RISKB: run attest seed risks first"))?
        .id;
    let filters = [
        ("every risk", Filter::default(), 0),
        ("page 20", Filter::default(), 950),
        (
            "state=controlled",
            Filter {
                state: Some(RiskState::Controlled),
                ..Filter::default()
            },
            0,
        ),
        (
            "verdict=unacceptable",
            Filter {
                verdict: Some(Some(Acceptability::Unacceptable)),
                ..Filter::default()
            },
            0,
        ),
        (
            "q=situation 1",
            Filter {
                text: Some("situation 1".into()),
                ..Filter::default()
            },
            0,
        ),
    ];
    let mut out = String::new();
    for (name, f, offset) in filters {
        let mut times = Vec::new();
        let mut shape = (0, 0, 0);
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            let file = crate::service::risks::file(conn, product, &f, (offset, 50))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("no risk file"))?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            shape = (
                file.total,
                file.rows.len(),
                file.rows.iter().map(|r| r.controls.len()).sum::<usize>(),
            );
        }
        times.sort_by(f64::total_cmp);
        let p99 = times[((times.len() * 99).div_ceil(100)).saturating_sub(1)];
        out.push_str(&format!(
            "risk file {name}: {} risks match, {} shown with {} controls; {} runs: median {:.1} ms, p99 {:.1} ms, slowest {:.1} ms\n",
            shape.0,
            shape.1,
            shape.2,
            times.len(),
            times[times.len() / 2],
            p99,
            times[times.len() - 1],
        ));
    }
    // The completeness checks the risk file and a draft report list (each
    // an indexed count over the product's risks).
    let mut times = Vec::new();
    let mut failing = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let (checks, _) = crate::service::risk_reports::live(
            conn,
            product,
            crate::domain::risk::report::ReportKind::Report,
        )?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        failing = checks.iter().filter(|c| !c.passed).count();
    }
    times.sort_by(f64::total_cmp);
    let p99 = times[((times.len() * 99).div_ceil(100)).saturating_sub(1)];
    out.push_str(&format!(
        "completeness checks (9, {failing} failing): {} runs: median {:.1} ms, p99 {:.1} ms, slowest {:.1} ms\n",
        times.len(),
        times[times.len() / 2],
        p99,
        times[times.len() - 1],
    ));
    Ok(out)
}
