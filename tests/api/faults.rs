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
