//! The `attest` binary itself: help, version, init, users, and settings errors.

use std::process::{Command, Output};

use crate::helpers::*;

/// A data directory, and on PostgreSQL a database of its own, for one test.
struct Install {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

fn install() -> Install {
    let database_url = std::env::var("ATTEST_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| fresh_postgres_database(&u));
    Install {
        dir: tempfile::tempdir().unwrap(),
        database_url,
    }
}

fn attest(i: &Install, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_attest"));
    cmd.args(args)
        .env("ATTEST_DATA_DIR", i.dir.path())
        .env("ATTEST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("ATTEST_ADMIN_PASSWORD");
    if let Some(url) = &i.database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn help_and_version_are_there_for_every_command() {
    let i = install();
    let v = attest(&i, &["--version"]);
    assert!(stdout(&v).starts_with("attest "));
    for args in [
        &["--help"][..],
        &["user", "--help"],
        &["user", "add", "--help"],
        &["serve", "--help"],
        &["init", "--help"],
        &["migrate", "--help"],
    ] {
        let o = attest(&i, args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("Usage:"), "{args:?}");
    }
    assert!(
        !i.dir.path().join("attest.db").exists(),
        "help touches nothing"
    );
}

#[test]
fn init_then_user_commands_manage_accounts_with_audit_entries() {
    let i = install();
    let init = attest(&i, &["init"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = stdout(&init);
    assert!(out.contains("One-time password:"), "{out}");
    assert!(out.contains("Audit-log verifier key: "));
    let printed = out
        .split("Audit-log verifier key: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let shown = attest(&i, &["key", "show"]);
    assert!(shown.status.success());
    assert_eq!(
        stdout(&shown).trim(),
        printed,
        "attest key show prints the same verifier key"
    );

    let add = attest(
        &i,
        &[
            "user",
            "add",
            "--username",
            "qa1",
            "--name",
            "Quinn Assure",
            "--email",
            "q@example.com",
            "--role",
            "quality",
            "--role",
            "auditor",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert!(stdout(&add).contains("One-time password (shown once):"));
    let list = stdout(&attest(&i, &["user", "list"]));
    assert!(
        list.contains("qa1") && list.contains("quality,auditor") && list.contains("2 account(s)"),
        "{list}"
    );

    let no_reason = attest(&i, &["user", "disable", "qa1"]);
    assert!(!no_reason.status.success());
    assert!(
        attest(&i, &["user", "disable", "qa1", "--reason", "on leave"])
            .status
            .success()
    );
    assert!(stdout(&attest(&i, &["user", "list"])).contains("disabled"));
    assert!(
        attest(&i, &["user", "enable", "qa1", "--reason", "back"])
            .status
            .success()
    );
    let reset = attest(&i, &["user", "reset-password", "qa1", "--reason", "forgot"]);
    assert!(
        stdout(&reset).contains("New one-time password for qa1"),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(
        attest(&i, &["user", "unlock", "qa1", "--reason", "check"])
            .status
            .success()
    );
    let unknown = attest(&i, &["user", "disable", "ghost", "--reason", "x"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named \"ghost\""));
    let bad_role = attest(
        &i,
        &[
            "user",
            "add",
            "--username",
            "x1",
            "--name",
            "X",
            "--email",
            "x@example.com",
            "--role",
            "boss",
        ],
    );
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));
}

#[test]
fn seeding_fills_only_a_database_without_capas_and_the_log_still_verifies() {
    let i = install();
    let init = attest(&i, &["init"]);
    assert!(init.status.success());
    let vkey = stdout(&init)
        .split("Audit-log verifier key: ")
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    let add = [
        "user",
        "add",
        "--username",
        "qa1",
        "--name",
        "Q A",
        "--email",
        "q@example.com",
        "--role",
        "quality",
    ];
    assert!(attest(&i, &add).status.success());
    let seed = attest(&i, &["seed", "capas", "--count", "40", "--owner", "qa1"]);
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    assert!(stdout(&seed).starts_with("Seeded 40 CAPAs owned by qa1"));
    let again = attest(&i, &["seed", "capas", "--count", "5", "--owner", "qa1"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds 40 CAPAs"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let trace = attest(
        &i,
        &[
            "seed",
            "trace",
            "--requirements",
            "30",
            "--commits",
            "150",
            "--tests",
            "40",
            "--uploader",
            "qa1",
        ],
    );
    assert!(
        trace.status.success(),
        "{}",
        String::from_utf8_lossy(&trace.stderr)
    );
    assert!(
        stdout(&trace).contains("30 requirements, 150 commits pushed to bench/bench, 40 tests"),
        "{}",
        stdout(&trace)
    );
    let url = i
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", i.dir.path().join("attest.db").display()));
    let verify = attest(&i, &["verify", "--database", &url, "--key", &vkey]);
    assert!(
        verify.status.success(),
        "{}{}",
        stdout(&verify),
        String::from_utf8_lossy(&verify.stderr)
    );
    // Every seeded state was reached through the workflow: each CAPA's
    // state is where its audited transitions lead, and the closing and
    // cancelling signatures (by the seeded quality signer) verify.
    let signatures = attest(&i, &["verify", "--signatures", "--database", &url]);
    assert!(
        signatures.status.success(),
        "{}{}",
        stdout(&signatures),
        String::from_utf8_lossy(&signatures.stderr)
    );
    let pool = attest::db::build_pool(&attest::db::DbTarget::parse(&url).unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let entries = attest::audit::entries(&mut conn, 0, 100_000).unwrap();
    let mut last_state: std::collections::HashMap<String, String> = Default::default();
    for e in &entries {
        let v = e.json();
        if v["action"] == "capa.transition" {
            let to = v["after"]["state"].as_str().unwrap_or_default().to_string();
            last_state.insert(v["entity"]["id"].as_str().unwrap().to_string(), to);
        }
    }
    let mut closed_or_cancelled = 0;
    for id in 1..=40 {
        let c = attest::db::repo::capas::find(&mut conn, id)
            .unwrap()
            .unwrap();
        let audited = last_state
            .get(&format!("capa-{id}"))
            .map_or("open", String::as_str);
        assert_eq!(audited, c.state.as_str(), "CAPA-{id}");
        if c.state.terminal() {
            closed_or_cancelled += 1;
        }
    }
    assert!(closed_or_cancelled > 0, "the seed reaches terminal states");
}

#[test]
fn a_wrong_setting_stops_the_binary_with_a_message_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_attest"))
        .arg("init")
        .env("ATTEST_DATA_DIR", dir.path())
        .env("DATABASE_URL", "mysql://db/attest")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("DATABASE_URL") && err.contains("mysql"),
        "{err}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_attest"))
        .arg("init")
        .env("ATTEST_DATA_DIR", dir.path())
        .env("ATTEST_BIND", "everywhere")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("ATTEST_BIND"));
}

#[tokio::test]
async fn attest_verify_checks_a_real_export_offline_and_names_the_first_bad_entry() {
    use base64::Engine;
    let app = spawn_app().await;
    let admin = app.admin().await;
    let first_cp = admin.get("/audit/checkpoint?download=1").await;
    assert_eq!(first_cp.status(), 200);
    let first_cp = first_cp.text().await.unwrap();
    admin
        .create_user("exported", "Exported User", &["auditor"])
        .await;
    let res = admin.get("/audit/export").await;
    let note = base64::engine::general_purpose::STANDARD
        .decode(res.headers()["attest-checkpoint"].to_str().unwrap())
        .unwrap();
    let body = res.bytes().await.unwrap();
    let vkey = admin.get("/audit/key").await.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (log, cp, prev, key) = (
        dir.path().join("log.jsonl"),
        dir.path().join("cp.txt"),
        dir.path().join("cp-old.txt"),
        dir.path().join("vkey"),
    );
    std::fs::write(&log, &body).unwrap();
    std::fs::write(&cp, &note).unwrap();
    std::fs::write(&prev, &first_cp).unwrap();
    std::fs::write(&key, &vkey).unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            "--entries",
            log.to_str().unwrap(),
            "--checkpoint",
            cp.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--previous",
            prev.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_attest"))
            .args(&args)
            .env_remove("ATTEST_DATA_DIR")
            .output()
            .unwrap()
    };
    let ok = verify(&[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout(&ok).starts_with("OK: "), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("checkpoint(s) in all"));

    // One byte of the third entry changed.
    let mut tampered = body.to_vec();
    let third = tampered
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1)
        .unwrap()
        .0
        + 1;
    let colon = third + tampered[third..].iter().position(|b| *b == b':').unwrap();
    tampered.insert(colon, b' ');
    std::fs::write(&log, &tampered).unwrap();
    let bad = verify(&[]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("verification FAILED at entry 2"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&verify(&["--json"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["failures"][0]["entry"], 2);
}
