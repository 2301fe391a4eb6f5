//! The `attest` command line: serve (the default), init, migrate, user.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use zeroize::Zeroizing;

use crate::audit::Actor;
use crate::config::Settings;
use crate::db::repo::users;
use crate::domain::user::{Account, Role, Roles};
use crate::service::accounts::{self, NewUserInput};
use crate::service::{Ctx, password};
use crate::startup::{self, Application, CreatedAdmin};

#[derive(Parser)]
#[command(
    name = "attest",
    version,
    about = "Attest: CAPA / QMS workflow engine with a tamper-evident audit log",
    long_about = "Attest serves a web app for nonconformances, CAPAs, documents and risks, with Part 11 \
electronic signatures and an append-only, verifiable audit log.\n\nSettings come from ATTEST_* \
environment variables and <data dir>/attest.toml; see README.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default when no command is given)
    Serve,
    /// Create the data directory, database, audit-log key and first administrator, then exit
    Init,
    /// Apply pending database migrations, then exit
    Migrate,
    /// Verify an exported audit log offline against its signed checkpoint
    Verify(VerifyArgs),
    /// Check an exported traceability matrix against its signed manifest, offline
    VerifyExport {
        /// The exported file
        file: std::path::PathBuf,
        /// Its manifest (FILE.manifest.json)
        manifest: std::path::PathBuf,
        /// The audit log's verifier key you trust (<origin>+<key id>+<key>), or a
        /// file holding it; without it the key inside the manifest is used, which
        /// proves the file unchanged but not who signed it
        #[arg(long)]
        key: Option<String>,
    },
    /// Audit-log operations
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The audit log's signing key
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage user accounts (accounts are never deleted: disable them)
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a workflow's state diagram as SVG (for docs): nonconformance, capa, document
    Diagram {
        /// The workflow: nonconformance, capa, document, training, risk, risk-plan or
        /// risk-report
        workflow: String,
    },
    /// Fill a trial or measurement database with demonstration data (never real records)
    Seed {
        #[command(subcommand)]
        command: SeedCommand,
    },
    /// Measure performance on a throw-away database (docs/benchmarks.md)
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum SeedCommand {
    /// A product with requirements, pushed commits and a CI test run (traceability)
    Trace {
        /// The new product's key prefix
        #[arg(long, default_value = "BENCH")]
        product: String,
        #[arg(long, default_value_t = 10_000)]
        requirements: u64,
        #[arg(long, default_value_t = 50_000)]
        commits: u64,
        #[arg(long, default_value_t = 20_000)]
        tests: u64,
        /// Who uploads the test run: an active engineering or quality user
        #[arg(long)]
        uploader: String,
    },
    /// Documents with three versions each (v3 effective), on a database without documents
    Documents {
        /// How many documents
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// Who writes and owns them: an active quality or engineering user
        #[arg(long)]
        author: String,
    },
    /// A risk file of --count risks with three controls each, on a new product RISKB
    Risks {
        #[arg(long, default_value_t = 2_000)]
        count: u64,
        /// Who writes the risks: an active quality or engineering user
        #[arg(long)]
        author: String,
    },
    /// A training matrix: documents (v3 in force), people in a mix of roles,
    /// curricula assigning them, and about 70 % signed by the first signers
    Training {
        #[arg(long, default_value_t = 500)]
        people: u64,
        #[arg(long, default_value_t = 300)]
        documents: u64,
        /// How many of the people sign for their training (each opens a key)
        #[arg(long, default_value_t = 50)]
        signers: u64,
        /// Who writes and owns the documents: an active quality or engineering user
        #[arg(long)]
        author: String,
    },
    /// CAPAs in every state over the last year, on a database without CAPAs
    Capas {
        /// How many CAPAs
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// Who owns them: an active quality or engineering user
        #[arg(long)]
        owner: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Audit appends vs plain inserts on SQLite, offline verification, proof latency
    Audit {
        /// Appends (and as many plain inserts) to time
        #[arg(long, default_value_t = 5_000)]
        appends: u64,
        /// Entries in the generated log that is verified offline
        #[arg(long, default_value_t = 1_000_000)]
        verify_entries: u64,
        /// Size of the stored tree proofs are taken from
        #[arg(long, default_value_t = 100_000)]
        proof_entries: u64,
        /// Directory for the throw-away files (removed afterwards)
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
        /// Keep the generated log and its checkpoint in --dir and print the
        /// `attest verify` command that checks them
        #[arg(long)]
        keep: bool,
    },
    /// A redline of two document versions of --kib KiB each (a word in 40 changed)
    Redline {
        #[arg(long, default_value_t = 100)]
        kib: usize,
        #[arg(long, default_value_t = 20)]
        runs: u32,
    },
    /// The training matrix computed afresh (no page kept) on the configured
    /// database, e.g. one made by `attest seed training`
    Training {
        #[arg(long, default_value_t = 50)]
        runs: u32,
    },
    /// The risk file page's reads afresh on the configured database, e.g.
    /// one made by `attest seed risks`
    Risks {
        #[arg(long, default_value_t = 50)]
        runs: u32,
    },
    /// What mail costs: queuing per notification against a change's time,
    /// and delivery of --count mails to the SMTP server at --smtp-url
    /// (scripts/bench-mail.sh starts one)
    Mail {
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        #[arg(long, default_value = "smtp://127.0.0.1:2525?tls=none")]
        smtp_url: String,
        /// Directory for the throw-away database (removed afterwards)
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
    /// Workflow steps through the transition service, unsigned and signed, on SQLite
    Transitions {
        /// CAPAs to take through each step
        #[arg(long, default_value_t = 2_000)]
        count: u64,
        /// Directory for the throw-away database (removed afterwards)
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
}

#[derive(Args)]
struct VerifyArgs {
    /// The exported entries (JSON lines, as GET /audit/export gives them)
    #[arg(long, requires = "checkpoint", conflicts_with = "database")]
    entries: Option<std::path::PathBuf>,
    /// The signed checkpoint the export was cut at
    #[arg(long, requires = "entries")]
    checkpoint: Option<std::path::PathBuf>,
    /// Verify the log in a live database instead (sqlite://PATH or postgres://...)
    #[arg(long)]
    database: Option<String>,
    /// The verifier key (<origin>+<key id>+<key>), or a file holding it
    #[arg(long, required_unless_present = "signatures")]
    key: Option<String>,
    /// Verify every electronic signature and signer key in the database
    /// (--database, or the configured one): Ed25519, the key valid at signing
    /// and recorded in the audit trail, and each record's current content
    #[arg(long, conflicts_with = "entries")]
    signatures: bool,
    /// Earlier signed checkpoints, each checked to be a prefix of this log
    #[arg(long)]
    previous: Vec<std::path::PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Accept a database whose audit log is behind (or differs from) the last
    /// signed checkpoint, e.g. after restoring a backup; recorded in the log
    AcknowledgeRestore {
        /// Why: kept in the audit trail
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Print the verifier key auditors use to check checkpoints and exports
    Show,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; prints its one-time password once
    Add {
        /// Sign-in name: 2-64 of a-z 0-9 . _ -
        #[arg(long)]
        username: String,
        /// Printed name, shown with the user's electronic signatures
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Role (repeat for several): admin, quality, engineer, auditor
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
    },
    /// List accounts
    List,
    /// Disable an account and end its sessions
    Disable(ReasonArgs),
    /// Enable a disabled account
    Enable(ReasonArgs),
    /// Issue a new one-time password (printed once) and end the user's sessions
    ResetPassword(ReasonArgs),
    /// Lift a lockout after repeated wrong passwords
    Unlock(ReasonArgs),
}

#[derive(Args)]
struct ReasonArgs {
    /// The account's username
    username: String,
    /// Why: kept in the audit trail
    #[arg(long)]
    reason: String,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| format!("unknown role {s:?}: use admin, quality, engineer or auditor"))
}

/// Entry point of the `attest` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATTEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Offline verification needs no settings, database or data directory.
    if let Some(Command::Verify(args)) = &cli.command {
        return verify(args);
    }
    if let Some(Command::Diagram { workflow }) = &cli.command {
        use crate::domain::workflow::diagram_svg;
        let svg = match workflow.as_str() {
            "nonconformance" | "nc" => diagram_svg::<crate::domain::nonconformance::NcWorkflow>(
                None,
                "Nonconformance workflow",
            ),
            "capa" => diagram_svg::<crate::domain::capa::CapaWorkflow>(None, "CAPA workflow"),
            "document" => diagram_svg::<crate::domain::document::DocWorkflow>(
                None,
                "Document version workflow",
            ),
            "training" => diagram_svg::<crate::domain::training::TrainingWorkflow>(
                None,
                "Training assignment workflow",
            ),
            "risk" => {
                diagram_svg::<crate::domain::risk::workflow::RiskWorkflow>(None, "Risk workflow")
            }
            "risk-plan" => diagram_svg::<crate::domain::risk::plan::PlanWorkflow>(
                None,
                "Risk management plan workflow",
            ),
            "risk-report" => diagram_svg::<crate::domain::risk::report::ReportWorkflow>(
                None,
                "Overall residual risk evaluation and risk management report workflow",
            ),
            other => bail!(
                "there is no workflow {other:?}; try: nonconformance, capa, document, training, risk, risk-plan, risk-report"
            ),
        };
        println!("{svg}");
        return Ok(());
    }
    if let Some(Command::VerifyExport {
        file,
        manifest,
        key,
    }) = &cli.command
    {
        return verify_export(file, manifest, key.as_deref());
    }
    if let Some(Command::Bench {
        command: BenchCommand::Redline { kib, runs },
    }) = &cli.command
    {
        print!("{}", crate::bench::redline(*kib, *runs));
        return Ok(());
    }
    if let Some(Command::Bench {
        command: BenchCommand::Training { runs },
    }) = &cli.command
    {
        let prepared = startup::prepare(&Settings::load()?)?;
        let mut conn = prepared
            .pool
            .get()
            .context("cannot get a database connection")?;
        print!("{}", crate::bench::training(&mut conn, *runs)?);
        return Ok(());
    }
    if let Some(Command::Bench {
        command: BenchCommand::Risks { runs },
    }) = &cli.command
    {
        let prepared = startup::prepare(&Settings::load()?)?;
        let mut conn = prepared
            .pool
            .get()
            .context("cannot get a database connection")?;
        print!("{}", crate::bench::risks(&mut conn, *runs)?);
        return Ok(());
    }
    if let Some(Command::Bench {
        command:
            BenchCommand::Mail {
                count,
                smtp_url,
                dir,
            },
    }) = &cli.command
    {
        print!("{}", crate::bench::mail(*count, smtp_url, dir)?);
        return Ok(());
    }
    if let Some(Command::Bench {
        command: BenchCommand::Transitions { count, dir },
    }) = &cli.command
    {
        print!("{}", crate::bench::transitions(*count, dir)?);
        return Ok(());
    }
    if let Some(Command::Bench { command }) = &cli.command {
        let BenchCommand::Audit {
            appends,
            verify_entries,
            proof_entries,
            dir,
            keep,
        } = command
        else {
            return Ok(());
        };
        let report = crate::bench::audit(&crate::bench::AuditBench {
            appends: *appends,
            verify_entries: *verify_entries,
            proof_entries: *proof_entries,
            dir: dir.clone(),
            keep: *keep,
        })?;
        print!("{report}");
        return Ok(());
    }
    let settings = Settings::load()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Verify(args) => verify(&args),
        Command::Bench { .. } | Command::Diagram { .. } | Command::VerifyExport { .. } => Ok(()),
        Command::Seed {
            command:
                SeedCommand::Trace {
                    product,
                    requirements,
                    commits,
                    tests,
                    uploader,
                },
        } => {
            let prepared = startup::prepare(&settings)?;
            let mut conn = prepared
                .pool
                .get()
                .context("cannot get a database connection")?;
            let who = find(&mut conn, &uploader)?;
            let started = std::time::Instant::now();
            let made = crate::seed::trace(
                &mut conn,
                &cli_ctx(prepared.log_origin.as_str()),
                &prepared.log_key,
                who.id.0,
                &product.to_ascii_uppercase(),
                (requirements, commits, tests),
            )?;
            println!(
                "Seeded {}: {} requirements, {} commits pushed to {}, {} tests in one run, in {:.1} s.",
                made.product,
                made.requirements,
                made.commits,
                made.repository,
                made.tests,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Seed {
            command: SeedCommand::Documents { count, author },
        } => {
            let (prepared, mut conn, author) = seeding(&settings, &author)?;
            let started = std::time::Instant::now();
            let made = crate::seed::documents::documents(
                &mut conn,
                &cli_ctx(prepared.log_origin.as_str()),
                author.id.0,
                count,
            )?;
            println!(
                "Seeded {made} documents ({} versions) written by {} in {:.1} s.",
                made * 3,
                author.username,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Seed {
            command:
                SeedCommand::Training {
                    people,
                    documents,
                    signers,
                    author,
                },
        } => {
            let (prepared, mut conn, author) = seeding(&settings, &author)?;
            let started = std::time::Instant::now();
            let made = crate::seed::training::training(
                &mut conn,
                &cli_ctx(prepared.log_origin.as_str()),
                author.id.0,
                (people, documents, signers.min(people)),
            )?;
            println!(
                "Seeded {} people and {documents} documents: {} training assignments, {} signed, in {:.1} s.",
                made.people,
                made.assignments,
                made.signed,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Seed {
            command: SeedCommand::Risks { count, author },
        } => {
            let (prepared, mut conn, author) = seeding(&settings, &author)?;
            let started = std::time::Instant::now();
            let made = crate::seed::risks::risks(
                &mut conn,
                &cli_ctx(prepared.log_origin.as_str()),
                author.id.0,
                count,
            )?;
            println!(
                "Seeded the risk file of product {}: {} risks with {} controls, in {:.1} s.",
                made.product,
                made.risks,
                made.controls,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Seed {
            command: SeedCommand::Capas { count, owner },
        } => {
            let (prepared, mut conn, owner) = seeding(&settings, &owner)?;
            let started = std::time::Instant::now();
            let made = crate::seed::capas(
                &mut conn,
                &cli_ctx(prepared.log_origin.as_str()),
                owner.id.0,
                count,
            )?;
            println!(
                "Seeded {made} CAPAs owned by {} in {:.1} s.",
                owner.username,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Init => {
            let prepared = startup::prepare(&settings)?;
            print_admin(&prepared.created_admin, &settings);
            println!(
                "Attest is initialised in {} ({}).",
                settings.data_dir.display(),
                settings.database.redacted()
            );
            println!("Audit-log verifier key: {}", prepared.log_key.vkey());
            Ok(())
        }
        Command::Migrate => {
            let (_, applied) = startup::migrate(&settings)?;
            if applied.is_empty() {
                println!("The database is up to date.");
            } else {
                for m in applied {
                    println!("applied {m}");
                }
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::AcknowledgeRestore { reason },
        } => {
            println!("{}", startup::acknowledge_restore(&settings, &reason)?);
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Show,
        } => {
            // Only the key file is read: the public half is derived from it.
            let key = crate::audit::key::LogKey::load(&settings.log_key_path())?;
            println!("{}", key.vkey());
            Ok(())
        }
        Command::User { command } => user(settings, command),
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    if args.signatures {
        verify_signatures(args)?;
        if args.key.is_none() {
            return Ok(());
        }
    }
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let key = args.key.as_deref().unwrap_or_default();
    let key = match std::path::Path::new(key) {
        p if p.is_file() => read(p)?.trim().to_string(),
        _ => key.trim().to_string(),
    };
    let report = match (&args.database, &args.entries, &args.checkpoint) {
        (Some(url), _, _) => {
            let target =
                crate::db::DbTarget::parse(url).map_err(|m| anyhow::anyhow!("--database: {m}"))?;
            let pool = crate::db::build_pool(&target, 1).map_err(anyhow::Error::msg)?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            crate::audit::verify::verify_database(&mut conn, &key)
        }
        (None, Some(entries), Some(checkpoint)) => {
            let checkpoint = read(checkpoint)?;
            let previous = args
                .previous
                .iter()
                .map(|p| read(p))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let file = std::fs::File::open(entries)
                .with_context(|| format!("cannot open {}", entries.display()))?;
            crate::audit::verify::verify(
                std::io::BufReader::new(file),
                &checkpoint,
                &key,
                &previous,
            )
        }
        _ => bail!("give --entries and --checkpoint, or --database"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.ok {
        println!(
            "OK: {} entries verify against the signed checkpoint of size {} (root {}), and {} checkpoint(s) in all are consistent with them.",
            report.entries,
            report.checkpoint_size.unwrap_or(0),
            report.checkpoint_root.as_deref().unwrap_or(""),
            report.checkpoints_checked
        );
    }
    match report.failures.first() {
        None => Ok(()),
        Some(f) => match f.entry {
            Some(e) => bail!("verification FAILED at entry {e}: {}", f.error),
            None => bail!("verification FAILED: {}", f.error),
        },
    }
}

/// `attest verify --signatures`: every signature and signer key.
fn verify_export(
    file: &std::path::Path,
    manifest: &std::path::Path,
    key: Option<&str>,
) -> anyhow::Result<()> {
    let export = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let m =
        std::fs::read(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let vkey = match key {
        Some(k) if std::path::Path::new(k).is_file() => std::fs::read_to_string(k)
            .with_context(|| format!("cannot read {k}"))?
            .trim()
            .to_string(),
        Some(k) => k.trim().to_string(),
        None => {
            eprintln!(
                "warning: no --key given; using the key inside the manifest, which shows the file is unchanged but not who signed it"
            );
            serde_json::from_slice::<serde_json::Value>(&m)
                .ok()
                .and_then(|v| v["verifier_key"].as_str().map(str::to_string))
                .ok_or_else(|| anyhow::anyhow!("the manifest names no verifier key; give --key"))?
        }
    };
    match crate::trace::manifest::verify(&export, &m, &vkey) {
        Ok(v) => {
            println!(
                "OK: {} ({}, {} bytes, SHA-256 {}) is the export of {} made {} by {}, audit entry {}, held by the signed checkpoint of {} entries.",
                file.display(),
                v.manifest.format,
                v.manifest.bytes,
                v.manifest.sha256,
                v.manifest.product,
                v.manifest.created,
                v.manifest.by,
                v.manifest.audit_entry,
                v.checkpoint_size
            );
            Ok(())
        }
        Err(e) => bail!("verification FAILED: {e}"),
    }
}

fn verify_signatures(args: &VerifyArgs) -> anyhow::Result<()> {
    let target = match &args.database {
        Some(url) => {
            crate::db::DbTarget::parse(url).map_err(|m| anyhow::anyhow!("--database: {m}"))?
        }
        None => Settings::load()?.database,
    };
    let pool = crate::db::build_pool(&target, 1).map_err(anyhow::Error::msg)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    let report = crate::service::verification::verify_all(&mut conn)
        .context("cannot read the signatures")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for f in &report.failures {
            println!("FAILED {f}");
        }
        if report.ok {
            println!(
                "OK: {} signature(s) verify against their signers' keys and their records' current content; {} signer key(s) match the audit trail.",
                report.signatures, report.keys
            );
        }
    }
    if !report.ok {
        bail!(
            "signature verification FAILED: {} of {} signature(s) and key(s) do not verify",
            report.failures.len(),
            report.signatures + report.keys
        );
    }
    Ok(())
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let scheme = if settings.tls_enabled() {
            "https"
        } else {
            "http"
        };
        let base = settings
            .base_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", settings.bind));
        let app = Application::build(settings.clone()).await?;
        print_admin(&app.prepared_admin, &settings);
        tracing::info!(url = %base, database = %settings.database.redacted(), "Attest is serving");
        println!("Attest is serving on {base}");
        app.run_until_stopped()
            .await
            .context("the server stopped with an error")
    })
}

fn print_admin(admin: &Option<CreatedAdmin>, settings: &Settings) {
    let Some(admin) = admin else { return };
    let url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.bind));
    let rule = "=".repeat(72);
    match &admin.one_time_password {
        Some(p) => println!(
            "{rule}\n Attest created the administrator account \"{}\".\n One-time password:  {p}\n It is shown only now. Sign in at {url}/login and choose your own password.\n{rule}",
            admin.username
        ),
        None => println!(
            "Attest created the administrator account \"{}\" with the password from ATTEST_ADMIN_PASSWORD.",
            admin.username
        ),
    }
}

/// The database of a seeding command, a connection to it, and the user
/// named `username` who owns what is seeded.
fn seeding(
    settings: &Settings,
    username: &str,
) -> anyhow::Result<(startup::Prepared, crate::db::PooledConn, Account)> {
    let prepared = startup::prepare(settings)?;
    let mut conn = prepared
        .pool
        .get()
        .context("cannot get a database connection")?;
    let who = find(&mut conn, username)?;
    Ok((prepared, conn, who))
}

fn cli_ctx(log: &str) -> Ctx {
    Ctx {
        log: log.to_string(),
        actor: Actor::system(),
        now: crate::clock::now(),
        op: Some("cli".into()),
    }
}

fn find(conn: &mut crate::db::DbConnection, username: &str) -> anyhow::Result<Account> {
    users::find_by_username(conn, &username.trim().to_lowercase())?
        .with_context(|| format!("no user named {username:?}"))
}

fn user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let prepared = startup::prepare(&settings)?;
    print_admin(&prepared.created_admin, &settings);
    let mut conn = prepared
        .pool
        .get()
        .context("cannot get a database connection")?;
    let conn = &mut *conn;
    let log = prepared.log_origin.as_str();
    match command {
        UserCommand::Add {
            username,
            name,
            email,
            roles,
        } => {
            let input = NewUserInput {
                username,
                full_name: name,
                email,
                roles: Roles::new(roles),
            };
            let valid = accounts::validate_new_user(&input)?;
            let otp = Zeroizing::new(password::one_time_password()?);
            let hash = password::hash_blocking(&otp)?;
            let a = crate::service::people::create_user(conn, &cli_ctx(log), &valid, &hash, true)?;
            println!(
                "Created {} ({}, {}). One-time password (shown once): {}",
                a.username,
                a.id,
                a.full_name,
                otp.as_str()
            );
        }
        UserCommand::List => {
            let now = crate::clock::now();
            let (list, total) = users::list(conn, &users::ListFilter::default(), now, 0, i64::MAX)?;
            println!(
                "{:<8} {:<24} {:<28} {:<28} {:<20} status",
                "id", "username", "name", "roles", "last sign-in"
            );
            for a in list {
                let last = a
                    .last_login_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<8} {:<24} {:<28} {:<28} {:<20} {}",
                    a.id.to_string(),
                    a.username,
                    a.full_name,
                    a.roles.to_stored(),
                    last,
                    a.status(now)
                );
            }
            println!("{total} account(s)");
        }
        UserCommand::Disable(args) | UserCommand::Enable(args) if args.reason.trim().is_empty() => {
            bail!("--reason must not be empty: it is kept in the audit trail")
        }
        UserCommand::Disable(args) => {
            let a = find(conn, &args.username)?;
            crate::service::people::set_active(
                conn,
                &cli_ctx(log),
                a.id,
                None,
                false,
                &args.reason,
                None,
            )?;
            println!("Disabled {} and ended its sessions.", a.username);
        }
        UserCommand::Enable(args) => {
            let a = find(conn, &args.username)?;
            crate::service::people::set_active(
                conn,
                &cli_ctx(log),
                a.id,
                None,
                true,
                &args.reason,
                None,
            )?;
            println!("Enabled {}.", a.username);
        }
        UserCommand::ResetPassword(args) => {
            let a = find(conn, &args.username)?;
            let otp = Zeroizing::new(password::one_time_password()?);
            let hash = password::hash_blocking(&otp)?;
            accounts::reset_password(conn, &cli_ctx(log), a.id, None, &hash, &args.reason)?;
            println!(
                "New one-time password for {} (shown once): {}",
                a.username,
                otp.as_str()
            );
        }
        UserCommand::Unlock(args) => {
            let a = find(conn, &args.username)?;
            accounts::unlock(conn, &cli_ctx(log), a.id, &args.reason)?;
            println!("Unlocked {}.", a.username);
        }
    }
    Ok(())
}
