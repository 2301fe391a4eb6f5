//! Storage faults (SECURITY.md 20): with the disk under the embedded
//! database full, pages that only read are still served, `/readyz` says
//! not ready, a change is a clear 503 that leaves nothing half-written, and
//! everything works again once there is room.

use std::io::Write;
use std::process::Command;

use crate::helpers::*;

/// A small tmpfs of our own to fill (needs root, as CI has).
struct SmallDisk {
    dir: Option<tempfile::TempDir>,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir: Some(dir) })
    }
    fn path(&self) -> &std::path::Path {
        self.dir.as_ref().unwrap().path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let _ = Command::new("umount").arg("-l").arg(d.path()).status();
        }
    }
}

/// Writes zeros into `path` until the filesystem has no room left.
fn fill(path: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let mut chunk = 1 << 20;
    while chunk > 0 {
        if f.write_all(&vec![0u8; chunk])
            .and_then(|_| f.sync_all())
            .is_err()
        {
            chunk /= 2;
        }
    }
}

// SECURITY.md 20
#[tokio::test]
async fn with_the_disk_full_reads_still_work_readyz_is_not_ready_and_a_change_is_a_clear_503() {
    let Some(disk) = SmallDisk::mount(24) else {
        assert!(
            std::env::var("CI").is_err(),
            "CI must be able to mount a tmpfs for the disk-full test"
        );
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let data = disk.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data);
    // This test is about the embedded database's disk.
    settings.database = attest::db::DbTarget::Sqlite(data.join("attest.db"));
    let app = start(settings, dir).await;
    let admin = app.admin().await;
    assert_eq!(admin.get("/readyz").await.status(), 200);
    let products = || {
        attest::db::repo::products::list(&mut app.conn(), true, 0, 100)
            .unwrap()
            .1
    };
    let before = products();
    let size = attest::audit::size(&mut app.conn()).unwrap();

    // The session's touch is due, a message waits to be shown, the WAL is
    // emptied (so any write must grow a file), then the disk fills up.
    let id_hash = attest::service::sha256_hex(admin.cookie("attest_session").unwrap().as_bytes());
    let mut conn = app.conn();
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE sessions SET last_seen_at = datetime('now', '-5 minutes') WHERE id_hash = '{id_hash}'"
        )),
        &mut conn,
    )
    .unwrap();
    attest::db::repo::sessions::set_flash(
        &mut conn,
        &id_hash,
        Some("ok:Saved before the disk filled."),
    )
    .unwrap();
    diesel::RunQueryDsl::execute(
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)"),
        &mut conn,
    )
    .unwrap();
    drop(conn);
    fill(&disk.path().join("filler"));

    // Reads are served.
    let home = admin.get("/").await;
    assert_eq!(home.status(), 200);
    assert_eq!(admin.get("/products").await.status(), 200);
    // Not ready, and says why.
    let ready = admin.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(
        ready
            .text()
            .await
            .unwrap()
            .contains("the disk under the database")
    );
    // A change: a clear 503, nothing written.
    let res = admin
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", "Written on a full disk"),
                ("key_prefix", "FUL"),
                ("safety_class", "B"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 503);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The database cannot take changes right now"),
    );
    assert_eq!(products(), before);
    assert_eq!(attest::audit::size(&mut app.conn()).unwrap(), size);

    // Room again: ready, and the same change goes through.
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    assert_eq!(admin.get("/readyz").await.status(), 200);
    let res = admin
        .submit(
            "/products/new",
            "/products",
            &[
                ("name", "Written after"),
                ("key_prefix", "AFT"),
                ("safety_class", "B"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(products(), before + 1);
    let vkey = admin.get("/audit/key").await.text().await.unwrap();
    let report = attest::audit::verify::verify_database(&mut app.conn(), vkey.trim_end());
    assert!(report.ok, "{:?}", report.failures);
}

/// Reports a nonconformance through the form with the session's token.
async fn report(b: &Browser, token: &str, product: &str, title: &str) -> reqwest::Response {
    b.post_form(
        "/nonconformances",
        &[
            ("title", title),
            ("source", "production"),
            ("product_id", product),
            ("lot_serial", ""),
            ("description", "Written by one of several writers at once"),
            ("detected_on", "2026-11-20"),
            ("severity", "low"),
            ("csrf_token", token),
        ],
    )
    .await
}

// SECURITY.md 22
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_writers_each_get_their_answer_and_nothing_is_lost() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = crate::nonconformances::product(&admin, &app, "CON").await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "violet sunrise passphrase 1")
        .await;
    let token = csrf_token(&quinn.get_html("/nonconformances/new").await);
    let quinn = std::sync::Arc::new(quinn);
    let mut tasks = Vec::new();
    for w in 0..50 {
        let (b, token, pid) = (quinn.clone(), token.clone(), pid.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..4 {
                let title = format!("concurrent w{w} n{n}");
                let res = report(&b, &token, &pid, &title).await;
                let to = res
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                statuses.push((res.status().as_u16(), title, to));
            }
            statuses
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap());
    }
    assert!(answers.iter().all(|a| a.0 == 303), "{answers:?}");
    // Each was sent to its own record, and each record's creation entry
    // names that record (the same user reporting 50 at once).
    let created = app.audit_of("nonconformance.created");
    assert_eq!(created.len(), 200);
    for (_, title, to) in &answers {
        let id: i64 = to.trim_start_matches("/nonconformances/").parse().unwrap();
        let nc = attest::db::repo::nonconformances::find(&mut app.conn(), id)
            .unwrap()
            .unwrap();
        assert_eq!(&nc.title, title, "sent to another report than theirs");
        let entries: Vec<_> = created
            .iter()
            .filter(|e| e["entity"]["id"] == format!("nc-{id}"))
            .collect();
        assert_eq!(entries.len(), 1, "NC-{id}: {entries:?}");
        assert_eq!(entries[0]["after"]["title"], title.as_str());
    }
    let (_, total) = attest::db::repo::nonconformances::list(
        &mut app.conn(),
        &attest::db::repo::nonconformances::Filter::default(),
        attest::db::repo::nonconformances::Sort::Newest,
        0,
        1,
    )
    .unwrap();
    assert_eq!(total, 200);
}

/// A PostgreSQL cluster of this test's own, to restart under load.
struct OwnCluster {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnCluster {
    fn pg_ctl(&self, args: &[&str]) -> bool {
        let data = self.dir.path().join("data");
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start(&self) {
        let log = self.dir.path().join("server.log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        assert!(
            self.pg_ctl(&["-w", "-l", &log.to_string_lossy(), "-o", &opts, "start"]),
            "the test's PostgreSQL cluster did not start"
        );
    }

    fn new() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries (the suite runs on PostgreSQL)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        assert!(
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ok = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "initdb");
        let c = Self { bin, dir, port };
        c.start();
        c
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.pg_ctl(&["-m", "immediate", "stop"]);
    }
}

// SECURITY.md 22
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_load_gives_no_500_and_the_pool_recovers_by_itself() {
    if !on_postgres() {
        eprintln!("PostgreSQL only: runs in the suite's PostgreSQL pass");
        return;
    }
    let cluster = OwnCluster::new();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.database = attest::db::DbTarget::Postgres(cluster.url());
    let app = start(settings, tempfile::tempdir().unwrap()).await;
    drop(dir);
    let admin = app.admin().await;
    let pid = crate::nonconformances::product(&admin, &app, "RST").await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "violet sunrise passphrase 1")
        .await;
    let token = csrf_token(&quinn.get_html("/nonconformances/new").await);
    let quinn = std::sync::Arc::new(quinn);
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (b, token, pid, running) = (quinn.clone(), token.clone(), pid.clone(), running.clone());
        tasks.push(tokio::spawn(async move {
            let mut answers: Vec<(std::time::Instant, u16, String)> = Vec::new();
            let mut n = 0;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let title = format!("restart w{w} n{n}");
                let res = report(&b, &token, &pid, &title).await;
                answers.push((std::time::Instant::now(), res.status().as_u16(), title));
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            answers
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(cluster.pg_ctl(&["-m", "immediate", "stop"]));
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    cluster.start();
    let back = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap());
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.1).collect();
    assert!(
        !statuses.contains(&500),
        "a 500 during the restart: {statuses:?}"
    );
    assert!(statuses.contains(&503), "the outage was seen: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 503),
        "{statuses:?}"
    );
    // Recovered by itself: within a second of the database being back,
    // every write is answered 303 again.
    let late: Vec<u16> = answers
        .iter()
        .filter(|a| a.0 > back + std::time::Duration::from_secs(1))
        .map(|a| a.1)
        .collect();
    assert!(!late.is_empty());
    assert!(late.iter().all(|s| *s == 303), "{late:?}");
    // Every acknowledged write is there.
    let (list, _) = attest::db::repo::nonconformances::list(
        &mut app.conn(),
        &attest::db::repo::nonconformances::Filter::default(),
        attest::db::repo::nonconformances::Sort::Oldest,
        0,
        100_000,
    )
    .unwrap();
    let titles: std::collections::HashSet<&str> = list.iter().map(|n| n.title.as_str()).collect();
    for (_, s, title) in &answers {
        if *s == 303 {
            assert!(titles.contains(title.as_str()), "{title} was acknowledged");
        }
    }
}

// ARCHITECTURE.md rule 9: rows are read strictly.
#[tokio::test]
async fn a_stored_value_that_is_not_its_type_is_an_error_naming_table_row_and_column() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = crate::nonconformances::product(&admin, &app, "STR").await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "violet sunrise passphrase 1")
        .await;
    let token = csrf_token(&quinn.get_html("/nonconformances/new").await);
    assert_eq!(
        report(&quinn, &token, &pid, "Strictly read").await.status(),
        303
    );
    let id = crate::nonconformances::nc_id(&app);
    let page = format!("/nonconformances/{id}");
    assert_eq!(quinn.get(&page).await.status(), 200);
    // Written behind the application's back, by someone who also took the
    // database's own check off: a state no workflow has.
    let unguard = if on_postgres() {
        "ALTER TABLE nonconformances DROP CONSTRAINT nonconformances_state_valid"
    } else {
        "DROP TRIGGER nonconformances_state_valid_update"
    };
    diesel::sql_query(unguard).execute(&mut app.conn()).unwrap();
    diesel::sql_query(format!(
        "UPDATE nonconformances SET state = 'archived' WHERE id = {id}"
    ))
    .execute(&mut app.conn())
    .unwrap();
    let err = attest::db::repo::nonconformances::find(&mut app.conn(), id)
        .expect_err("not read as some default state");
    assert_eq!(
        err.to_string(),
        format!(
            "nonconformances row {id}: column state holds \"archived\", which is not one of its allowed values"
        )
    );
    // The page and the list fail with the operation id, never show a default.
    for path in [page.as_str(), "/nonconformances"] {
        let res = quinn.get(path).await;
        assert_eq!(res.status(), 500, "{path}");
        assert!(res.headers().contains_key("x-operation-id"));
        assert!(res.text().await.unwrap().contains("operation id"), "{path}");
    }
    // Unreadable JSON in a CAPA's investigation.
    let open = [
        ("title", "Strict CAPA"),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("problem", "Anything"),
        ("priority", "low"),
    ];
    assert_eq!(
        quinn.submit("/capas/new", "/capas", &open).await.status(),
        303
    );
    diesel::sql_query("UPDATE capas SET whys = '[{\"question\": 1' WHERE id = 1")
        .execute(&mut app.conn())
        .unwrap();
    let err = attest::db::repo::capas::find(&mut app.conn(), 1)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("capas row 1: column whys holds"),
        "{err}"
    );
}
