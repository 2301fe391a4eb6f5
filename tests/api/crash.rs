//! The crash test (SECURITY.md 21): the real binary serves several writers
//! making records through the HTTP forms, is killed with SIGKILL at random
//! moments and started again; at the end every write that was answered
//! 2xx/3xx is there with its audit entry, and `attest verify --database`
//! passes. The suite runs 20 cycles; `scripts/crash-test.sh` runs a long
//! one (ATTEST_CRASH_CYCLES) and prints its figures.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Mutex;

use crate::helpers::*;

const PASSWORD: &str = "crash test admin passphrase 1";
const WRITERS: usize = 4;
/// The quality user the writers sign in as.
const WRITER: &str = "qa";

/// A small random source (xorshift), seeded from the OS, printed so a run
/// can be told apart in the output.
struct Rng(u64);
impl Rng {
    fn new() -> Self {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        Self(u64::from_le_bytes(b) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Server {
    dir: tempfile::TempDir,
    database_url: String,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match std::env::var("ATTEST_TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => fresh_postgres_database(&u),
            _ => format!("sqlite://{}", dir.path().join("attest.db").display()),
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            dir,
            database_url,
            port,
            child: None,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_attest"));
        cmd.args(args)
            .env("ATTEST_DATA_DIR", self.dir.path())
            .env("DATABASE_URL", &self.database_url)
            .env("ATTEST_BIND", format!("127.0.0.1:{}", self.port))
            .env("ATTEST_ADMIN_PASSWORD", PASSWORD)
            .env("ATTEST_LOGIN_RATE_PER_MINUTE", "100000")
            .env("ATTEST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    /// Starts the server and waits until it answers /readyz.
    async fn start(&mut self) {
        self.child = Some(self.command(&["serve"]).spawn().unwrap());
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("http://127.0.0.1:{}/readyz", self.port))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the server exited at start-up: {status}");
            }
            assert!(Instant::now() < deadline, "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGTERM: in-flight requests finish, a last checkpoint is signed.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let ok = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status()
                .unwrap();
            assert!(ok.success());
            let status = c.wait().unwrap();
            assert!(status.success(), "graceful stop: {status}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What one writer was told was done.
#[derive(Default)]
struct Acknowledged {
    /// Titles of NCs whose report was answered 303.
    reported: Vec<String>,
    /// Titles of NCs whose review start was answered 303.
    reviewed: Vec<String>,
    refused: u64,
    failed: u64,
}

/// A signed-in browser session of the administrator, with the product id,
/// the CSRF token of the session, and the NCs it reported (title -> id).
struct Writer {
    b: Browser,
    token: String,
    product: String,
    mine: HashMap<String, i64>,
}

/// A page's text, or none if the server did not answer (it may be down).
async fn body(b: &Browser, path: &str) -> Option<String> {
    b.client
        .get(b.url(path))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()
}

async fn sign_in(base: &str, product: &str) -> Option<Writer> {
    sign_in_as(base, product, WRITER, PASSWORD).await
}

async fn sign_in_as(base: &str, product: &str, username: &str, password: &str) -> Option<Writer> {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let b = Browser {
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        jar,
        base: base.to_string(),
    };
    let page = body(&b, "/login").await?;
    let res = b
        .client
        .post(b.url("/login"))
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", &csrf_token(&page)),
        ])
        .send()
        .await
        .ok()?;
    if res.status() != 303 {
        return None;
    }
    // The password page has the session's token even when a change is due.
    let home = body(&b, "/account/password").await?;
    if !home.contains("name=\"csrf_token\"") {
        return None;
    }
    Some(Writer {
        token: csrf_token(&home),
        b,
        product: product.to_string(),
        mine: HashMap::new(),
    })
}

/// One write through the forms: a report, or (every third) the review of
/// the writer's last report. Returns what the server answered, if it did.
async fn write(w: &mut Writer, n: u64, who: usize, acked: &mut Acknowledged) -> Option<u16> {
    let title = format!("crash w{who} n{n}");
    let last = w
        .mine
        .iter()
        .max_by_key(|(_, id)| **id)
        .map(|(t, id)| (t.clone(), *id));
    if n % 3 == 2
        && let Some((t, id)) = last
    {
        let res =
            w.b.client
                .post(w.b.url(&format!("/nonconformances/{id}/start_review")))
                .form(&[("version", "1"), ("csrf_token", w.token.as_str())])
                .send()
                .await
                .ok()?;
        let status = res.status().as_u16();
        w.mine.remove(&t);
        if status == 303 {
            acked.reviewed.push(t);
        }
        return Some(status);
    }
    let fields = [
        ("title", title.as_str()),
        ("source", "production"),
        ("product_id", w.product.as_str()),
        ("lot_serial", "LOT-1"),
        ("description", "Written by the crash test"),
        ("detected_on", "2026-11-20"),
        ("severity", "low"),
        ("csrf_token", w.token.as_str()),
    ];
    let res =
        w.b.client
            .post(w.b.url("/nonconformances"))
            .form(&fields)
            .send()
            .await
            .ok()?;
    let status = res.status().as_u16();
    if status == 303 {
        let to = res.headers().get("location")?.to_str().ok()?;
        if let Some(id) = to
            .strip_prefix("/nonconformances/")
            .and_then(|i| i.parse().ok())
        {
            w.mine.insert(title.clone(), id);
            acked.reported.push(title);
        }
    }
    Some(status)
}

/// Figures of a run.
pub struct Figures {
    pub cycles: u64,
    pub reported: usize,
    pub reviewed: usize,
    pub lost: usize,
    pub seconds: f64,
}

/// Runs `cycles` SIGKILL cycles and checks the result; panics on any loss.
pub async fn run(cycles: u64) -> Figures {
    let started = Instant::now();
    let mut server = Server::new();
    let init = server
        .command(&["init"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(init.status.success(), "attest init");
    let vkey = String::from_utf8_lossy(&init.stdout)
        .split("Audit-log verifier key: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let add = server
        .command(&[
            "user",
            "add",
            "--username",
            WRITER,
            "--name",
            "Q A",
            "--email",
            "qa@example.com",
            "--role",
            "quality",
        ])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(add.status.success(), "attest user add");
    let otp = String::from_utf8_lossy(&add.stdout)
        .split("(shown once): ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    server.start().await;
    let base = format!("http://127.0.0.1:{}", server.port);
    // The writer's own password, set once through the form.
    let q = sign_in_as(&base, "", WRITER, &otp).await.unwrap();
    let res =
        q.b.post_form(
            "/account/password",
            &[
                ("current_password", otp.as_str()),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
                ("csrf_token", &q.token),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "password change");

    // A product for the reports, made once through the form.
    let w = sign_in_as(&base, "", "admin", PASSWORD).await.unwrap();
    let res =
        w.b.client
            .post(w.b.url("/products"))
            .form(&[
                ("name", "Crash device"),
                ("key_prefix", "CRS"),
                ("safety_class", "B"),
                ("description", ""),
                ("csrf_token", w.token.as_str()),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 303);
    let product = res.headers()["location"].to_str().unwrap()["/products/".len()..].to_string();

    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = Vec::new();
    for who in 0..WRITERS {
        let (running, base, product) = (running.clone(), base.clone(), product.clone());
        tasks.push(tokio::spawn(async move {
            let mut acked = Acknowledged::default();
            let mut writer: Option<Writer> = None;
            let mut n = 0u64;
            while running.load(Ordering::Relaxed) {
                let Some(w) = writer.as_mut() else {
                    writer = sign_in(&base, &product).await;
                    if writer.is_none() {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    continue;
                };
                n += 1;
                match write(w, n, who, &mut acked).await {
                    Some(303) => {}
                    // Signed out (the session was being made when killed): sign in again.
                    Some(s) if s == 403 || s == 400 => {
                        acked.refused += 1;
                        writer = None;
                    }
                    Some(_) => acked.refused += 1,
                    None => {
                        acked.failed += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            acked
        }));
    }
    let killer = Arc::new(Mutex::new(Rng::new()));
    for _ in 0..cycles {
        let pause = killer.lock().await.below(400) + 50;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill();
        server.start().await;
    }
    // Let the writers make a few more writes on the last start, then stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.store(false, Ordering::Relaxed);
    let mut all = Acknowledged::default();
    for t in tasks {
        let a = t.await.unwrap();
        all.reported.extend(a.reported);
        all.reviewed.extend(a.reviewed);
        all.refused += a.refused;
        all.failed += a.failed;
    }
    // A graceful stop signs a last checkpoint covering the whole log.
    server.stop();

    let pool = attest::db::build_pool(
        &attest::db::DbTarget::parse(&server.database_url).unwrap(),
        2,
    )
    .unwrap();
    let mut conn = pool.get().unwrap();
    let size = attest::audit::size(&mut conn).unwrap();
    let entries: Vec<Value> = attest::audit::entries(&mut conn, 0, size)
        .unwrap()
        .iter()
        .map(|e| e.json())
        .collect();
    let file = std::fs::read_to_string(server.dir.path().join("checkpoint")).unwrap();
    assert_eq!(
        file.lines().nth(1),
        Some(size.to_string().as_str()),
        "the checkpoint signed at shutdown covers the whole log (SECURITY.md 21)"
    );
    let created: HashMap<String, &Value> = entries
        .iter()
        .filter(|e| e["action"] == "nonconformance.created")
        .map(|e| {
            (
                e["entity"]["id"].as_str().unwrap_or_default().to_string(),
                e,
            )
        })
        .collect();
    let reviewed: std::collections::HashSet<String> = entries
        .iter()
        .filter(|e| {
            e["action"] == "nonconformance.transition" && e["after"]["transition"] == "start_review"
        })
        .map(|e| e["entity"]["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let (list, _) = attest::db::repo::nonconformances::list(
        &mut conn,
        &attest::db::repo::nonconformances::Filter::default(),
        attest::db::repo::nonconformances::Sort::Oldest,
        0,
        1_000_000,
    )
    .unwrap();
    let by_title: HashMap<&str, &attest::domain::nonconformance::Nc> =
        list.iter().map(|nc| (nc.title.as_str(), nc)).collect();
    let mut lost = Vec::new();
    for t in &all.reported {
        match by_title.get(t.as_str()) {
            Some(nc) if created.contains_key(&format!("nc-{}", nc.id)) => {}
            _ => lost.push(format!("report {t:?}")),
        }
    }
    for t in &all.reviewed {
        match by_title.get(t.as_str()) {
            Some(nc)
                if nc.state.as_str() != "reported"
                    && reviewed.contains(&format!("nc-{}", nc.id)) => {}
            _ => lost.push(format!("review of {t:?}")),
        }
    }
    // Nothing is in the tables without its audit entry either.
    for nc in &list {
        assert!(
            created.contains_key(&format!("nc-{}", nc.id)),
            "NC-{} has no audit entry",
            nc.id
        );
    }
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(!all.reported.is_empty(), "no write was acknowledged");
    let verify = server
        .command(&["verify", "--database", &server.database_url, "--key", &vkey])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "attest verify --database: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let figures = Figures {
        cycles,
        reported: all.reported.len(),
        reviewed: all.reviewed.len(),
        lost: lost.len(),
        seconds: started.elapsed().as_secs_f64(),
    };
    println!(
        "crash test: {} SIGKILL cycles, {} writers, {} reports and {} reviews acknowledged, {} refused, {} unanswered, {} lost, {} audit entries verified, {:.1} s",
        figures.cycles,
        WRITERS,
        figures.reported,
        figures.reviewed,
        all.refused,
        all.failed,
        figures.lost,
        size,
        figures.seconds
    );
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_over_sigkill_cycles_and_the_log_verifies_security_21() {
    let cycles = std::env::var("ATTEST_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    let f = run(cycles).await;
    assert_eq!(f.lost, 0);
}
