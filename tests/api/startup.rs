//! First start, restart, configuration mistakes, TLS, migrations.

use std::process::Command;

use attest::config::TlsFiles;
use attest::startup::Application;

use crate::helpers::*;

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (sqlite, postgres) = (names("migrations/sqlite"), names("migrations/postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
    for m in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for f in ["up.sql", "down.sql"] {
                assert!(
                    std::path::Path::new(&format!("migrations/{backend}/{m}/{f}")).is_file(),
                    "{backend}/{m}/{f}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_first_start_creates_key_and_admin_and_a_restart_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut settings = test_settings(&data);
    settings.admin_password = None;
    let app = Application::build(settings.clone()).await.unwrap();
    let admin = app.prepared_admin.as_ref().expect("admin created");
    let otp = admin
        .one_time_password
        .clone()
        .expect("a one-time password when none is configured");
    let key_path = data.join("log-key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert!(key.starts_with("PRIVATE+KEY+test.attest.local/audit+"));
    drop(app);

    // Second start on the same data: nothing new is created.
    let again = Application::build(settings.clone()).await.unwrap();
    assert!(again.prepared_admin.is_none());
    assert_eq!(std::fs::read_to_string(&key_path).unwrap(), key);
    let app = run(again, dir);
    let b = app.browser();
    assert_eq!(
        b.login("admin", &otp).await.headers()["location"],
        "/account/password"
    );
    assert_eq!(app.audit_of("system.initialized").len(), 1);
}

#[tokio::test]
async fn a_changed_log_origin_or_a_lost_key_stops_start_up_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path());
    drop(Application::build(settings.clone()).await.unwrap());

    let mut other = settings.clone();
    other.log_origin = Some("other.example/audit".into());
    let err = Application::build(other).await.err().unwrap().to_string();
    assert!(
        err.contains("ATTEST_LOG_ORIGIN") && err.contains("can never change"),
        "{err}"
    );

    std::fs::rename(dir.path().join("log-key"), dir.path().join("log-key.moved")).unwrap();
    let err = Application::build(settings.clone())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("log key file") && err.contains("missing"),
        "{err}"
    );

    let mut wrong_key = settings.clone();
    let stranger = dir.path().join("stranger-key");
    attest::audit::key::LogKey::generate("test.attest.local/audit")
        .unwrap()
        .save_new(&stranger)
        .unwrap();
    wrong_key.log_key_file = Some(stranger);
    let err = Application::build(wrong_key)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not match"), "{err}");
}

#[tokio::test]
async fn a_short_admin_password_from_the_environment_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.admin_password = Some(secrecy::SecretString::from("short"));
    let err = Application::build(settings)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("ATTEST_ADMIN_PASSWORD"), "{err}");
}

/// Serves over TLS with a throw-away self-signed certificate and checks the
/// HTTPS-only promises with curl: HSTS and the `__Host-` Secure cookie.
#[tokio::test]
async fn over_tls_responses_carry_hsts_and_the_session_cookie_is_host_prefixed() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is needed to make a test certificate");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut settings = test_settings(dir.path());
    settings.tls = Some(TlsFiles { cert, key });
    let app = start(settings, dir).await;
    let url = format!("https://127.0.0.1:{}/login", app.port);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sk", "-D", "-", "-o", "/dev/null", &url])
            .output()
            .expect("curl is needed for the TLS test")
    })
    .await
    .unwrap();
    let headers = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(headers.starts_with("http/"), "{headers}");
    assert!(
        headers.contains("strict-transport-security: max-age=31536000; includesubdomains"),
        "{headers}"
    );
    assert!(
        headers.contains("set-cookie: __host-attest-csrf="),
        "{headers}"
    );
    assert!(headers.contains("; secure"), "{headers}");
}

/// Each table's columns (name, kind of value, nullable) and the names of
/// its own indexes.
type Schema = std::collections::BTreeMap<String, (Vec<(String, &'static str, bool)>, Vec<String>)>;

/// The schema a backend's migrations produce.
fn schema_of(conn: &mut attest::db::DbConnection) -> Schema {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = BigInt)]
        nullable: i64,
    }
    // The kinds of value both backends store alike (ARCHITECTURE.md, Databases).
    let kind = |t: &str| -> &'static str {
        match t.to_ascii_lowercase().as_str() {
            "integer" | "bigint" | "smallint" => "integer",
            "text" | "character varying" => "text",
            "blob" | "bytea" => "binary",
            "boolean" => "bool",
            "timestamp" | "timestamp without time zone" => "timestamp",
            other => panic!("a column type neither backend should have: {other}"),
        }
    };
    let postgres = matches!(conn, attest::db::DbConnection::Postgres(_));
    let tables: Vec<Name> = diesel::sql_query(if postgres {
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('__diesel_schema_migrations', 'sqlite_sequence') ORDER BY 1"
    })
    .load(conn)
    .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for t in tables {
        let columns: Vec<Column> = diesel::sql_query(if postgres {
            format!("SELECT column_name AS name, data_type AS kind, CAST(CASE WHEN is_nullable = 'YES' THEN 1 ELSE 0 END AS BIGINT) AS nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{}' ORDER BY column_name", t.name)
        } else {
            // A primary key column is never null, whatever SQLite reports.
            format!("SELECT name, type AS kind, CAST(CASE WHEN \"notnull\" = 1 OR pk > 0 THEN 0 ELSE 1 END AS BIGINT) AS nullable FROM pragma_table_info('{}') ORDER BY name", t.name)
        })
        .load(conn)
        .unwrap();
        let indexes: Vec<Name> = diesel::sql_query(if postgres {
            // Indexes made by CREATE INDEX (not those of PRIMARY KEY / UNIQUE columns).
            format!("SELECT CAST(i.relname AS TEXT) AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = '{}' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1", t.name)
        } else {
            format!("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{}' AND sql IS NOT NULL ORDER BY 1", t.name)
        })
        .load(conn)
        .unwrap();
        out.insert(
            t.name,
            (
                columns
                    .into_iter()
                    .map(|c| (c.name, kind(&c.kind), c.nullable == 1))
                    .collect(),
                indexes.into_iter().map(|i| i.name).collect(),
            ),
        );
    }
    out
}

#[test]
fn both_backends_build_the_same_schema_tables_columns_nullability_and_indexes() {
    if !on_postgres() {
        eprintln!("compares with PostgreSQL: runs in the suite's PostgreSQL pass");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sqlite = attest::db::DbTarget::Sqlite(dir.path().join("schema.db"));
    let postgres = attest::db::DbTarget::Postgres(fresh_postgres_database(
        &std::env::var("ATTEST_TEST_DATABASE_URL").unwrap(),
    ));
    let mut schemas = Vec::new();
    for target in [sqlite, postgres] {
        let pool = attest::db::build_pool(&target, 1).unwrap();
        let mut conn = pool.get().unwrap();
        attest::db::run_migrations(&mut conn).unwrap();
        schemas.push(schema_of(&mut conn));
    }
    let (s, p) = (&schemas[0], &schemas[1]);
    assert_eq!(
        s.keys().collect::<Vec<_>>(),
        p.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, (columns, indexes)) in s {
        let (pc, pi) = &p[table];
        assert_eq!(
            columns, pc,
            "columns of {table} (SQLite left, PostgreSQL right)"
        );
        assert_eq!(
            indexes, pi,
            "indexes of {table} (SQLite left, PostgreSQL right)"
        );
    }
}

#[test]
fn no_domain_service_storage_or_audit_module_depends_on_actix_or_the_web_layer() {
    fn check(dir: &std::path::Path, bad: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                check(&p, bad);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("//") {
                        continue;
                    }
                    if l.contains("actix") || l.contains("crate::web") {
                        bad.push(format!("{}:{}: {l}", p.display(), n + 1));
                    }
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bad = Vec::new();
    for layer in ["domain", "service", "db", "audit", "trace", "ingest"] {
        check(&root.join(layer), &mut bad);
    }
    assert!(
        bad.is_empty(),
        "layers below the web depend on it:\n{}",
        bad.join("\n")
    );
}

/// ARCHITECTURE.md rule 3: a state is written only by the transition service.
#[test]
fn only_the_transition_service_saves_a_step() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut uses: Vec<(String, String)> = Vec::new();
    fn scan(dir: &std::path::Path, root: &std::path::Path, uses: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                scan(&p, root, uses);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                for line in std::fs::read_to_string(&p).unwrap().lines() {
                    let l = line.trim();
                    if !l.starts_with("//") && (l.contains("save_step(") || l.contains("W::save("))
                    {
                        uses.push((rel.clone(), l.to_string()));
                    }
                }
            }
        }
    }
    scan(&root, &root, &mut uses);
    for (file, line) in &uses {
        let allowed = match file.as_str() {
            // The definitions, and each workflow's Stored::save.
            "db/repo/nonconformances.rs"
            | "db/repo/capas.rs"
            | "db/repo/documents.rs"
            | "db/repo/training.rs"
            | "db/repo/risks.rs"
            | "db/repo/risk_reports.rs" => line.contains("fn save_step("),
            "service/nonconformances.rs"
            | "service/capas.rs"
            | "service/documents.rs"
            | "service/training.rs" => line == "repo::save_step(conn, record)",
            // A risk, and a risk management plan.
            "service/risks.rs" => {
                line == "repo::save_step(conn, record)"
                    || line == "repo::plans::save_step(conn, record)"
            }
            // An overall residual risk evaluation or risk management report.
            "service/risk_reports.rs" => line == "repo::save_step(conn, record)",
            // The transition service itself.
            "service/workflow.rs" => line.contains("W::save(conn, &next)"),
            _ => false,
        };
        assert!(
            allowed,
            "a step saved outside the transition service: {file}: {line}"
        );
    }
    assert!(uses.len() >= 7, "{uses:?}");
}

#[tokio::test]
async fn a_records_ordinary_save_never_writes_its_state() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = crate::nonconformances::product(&admin, &app, "SAV").await;
    let (quinn, _) = app
        .user_with_roles("quinn", &["quality"], "violet sunrise passphrase 1")
        .await;
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields("Saved", &pid, "low", "Fields only"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = crate::nonconformances::nc_id(&app);
    let mut conn = app.conn();
    let mut nc = attest::db::repo::nonconformances::find(&mut conn, id)
        .unwrap()
        .unwrap();
    nc.state = attest::domain::nonconformance::NcState::Closed;
    nc.title = "Saved, title changed".into();
    nc.version += 1;
    assert!(attest::db::repo::nonconformances::save(&mut conn, &nc).unwrap());
    let stored = attest::db::repo::nonconformances::find(&mut conn, id)
        .unwrap()
        .unwrap();
    assert_eq!(stored.title, "Saved, title changed");
    assert_eq!(
        stored.state.as_str(),
        "reported",
        "the state is the transition service's"
    );
}

/// The quoted values of the SQL list that follows `opening` in `text`.
fn quoted_list(text: &str, opening: &str) -> Vec<String> {
    let list = text
        .split(opening)
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    list.split(", ")
        .map(|v| v.trim_matches('\'').to_string())
        .collect()
}

/// The values each enum column accepts (migration `enum_checks`) are the
/// domain's stored names, on both backends.
#[test]
fn enum_columns_accept_exactly_their_types_stored_names() {
    use attest::domain::{capa, nonconformance as nc, requirement as req, trace};
    fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|x| name(*x).to_string()).collect()
    }
    let classes = vec!["A".to_string(), "B".into(), "C".into()];
    let expected: std::collections::BTreeMap<&str, Vec<String>> = [
        (
            "nonconformances.source",
            names(nc::Source::ALL, nc::Source::as_str),
        ),
        (
            "nonconformances.severity",
            names(nc::Severity::ALL, nc::Severity::as_str),
        ),
        (
            "nonconformances.state",
            names(nc::NcState::ALL, nc::NcState::as_str),
        ),
        (
            "nonconformances.disposition",
            names(nc::Disposition::ALL, nc::Disposition::as_str),
        ),
        ("capas.kind", names(capa::Kind::ALL, capa::Kind::as_str)),
        (
            "capas.source",
            names(capa::CapaSource::ALL, capa::CapaSource::as_str),
        ),
        (
            "capas.priority",
            names(capa::Priority::ALL, capa::Priority::as_str),
        ),
        (
            "capas.rca_method",
            names(capa::RcaMethod::ALL, capa::RcaMethod::as_str),
        ),
        (
            "capas.effectiveness_result",
            names(capa::Effectiveness::ALL, capa::Effectiveness::as_str),
        ),
        (
            "capas.state",
            names(capa::CapaState::ALL, capa::CapaState::as_str),
        ),
        (
            "capa_items.kind",
            names(capa::ItemKind::ALL, capa::ItemKind::as_str),
        ),
        (
            "capa_stays.state",
            names(capa::CapaState::ALL, capa::CapaState::as_str),
        ),
        ("products.safety_class", classes.clone()),
        (
            "requirements.kind",
            names(req::ReqKind::ALL, req::ReqKind::as_str),
        ),
        ("requirements.safety_class", classes),
        (
            "requirements.status",
            names(req::ReqStatus::ALL, req::ReqStatus::as_str),
        ),
        (
            "repositories.provider",
            names(trace::Provider::ALL, trace::Provider::as_str),
        ),
        (
            "test_results.outcome",
            names(trace::Outcome::ALL, trace::Outcome::as_str),
        ),
    ]
    .into_iter()
    .collect();
    for backend in ["postgres", "sqlite"] {
        let mut found: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        // Migration 18 redefines the NC state check without "capa_opened".
        for migration in [
            "2026-12-02-000015_enum_checks",
            "2026-12-02-000018_nc_escalation_keeps_state",
        ] {
            let sql = std::fs::read_to_string(format!("migrations/{backend}/{migration}/up.sql"))
                .unwrap();
            let mut here: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for line in sql.lines().filter(|l| l.contains(" IN (")) {
                let (table, column) = if backend == "postgres" {
                    let t = line.split_whitespace().nth(2).unwrap();
                    let c = line
                        .split("CHECK (")
                        .nth(1)
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap();
                    (t.to_string(), c.to_string())
                } else {
                    let t = line
                        .split(" ON ")
                        .nth(1)
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap();
                    let c = line
                        .split("NEW.")
                        .last()
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap();
                    (t.to_string(), c.to_string())
                };
                let values = quoted_list(line, " IN (");
                let key = format!("{table}.{column}");
                if let Some(before) = here.get(&key) {
                    assert_eq!(before, &values, "{backend}: {key} insert and update differ");
                }
                here.insert(key, values);
            }
            found.extend(here);
        }
        let found: std::collections::BTreeMap<&str, Vec<String>> =
            found.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert_eq!(found, expected, "{backend}");
        // Tables made later carry their CHECK in CREATE TABLE; the events'
        // kinds were widened for training, for risk review decisions and
        // for reminders (on SQLite by building the table again, on
        // PostgreSQL by replacing the constraint): the last widening names
        // them all.
        let events = std::fs::read_to_string(format!(
            "migrations/{backend}/2026-12-12-000029_reminders/up.sql"
        ))
        .unwrap();
        let from = events.find("kind IN ('step_taken'").unwrap_or_default();
        assert_eq!(
            quoted_list(&events[from..], "kind IN ("),
            names(
                &attest::domain::event::EventKind::ALL,
                attest::domain::event::EventKind::as_str
            ),
            "{backend}: events.kind"
        );
    }
}

#[tokio::test]
async fn the_database_refuses_a_value_no_type_has() {
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let admin = app.admin().await;
    crate::nonconformances::product(&admin, &app, "CHK").await;
    for sql in [
        "UPDATE products SET safety_class = 'D'",
        "UPDATE products SET safety_class = 'b'",
    ] {
        let refused = diesel::sql_query(sql).execute(&mut app.conn());
        assert!(refused.is_err(), "{sql} was written");
    }
    assert!(
        diesel::sql_query("UPDATE products SET safety_class = 'C'")
            .execute(&mut app.conn())
            .is_ok()
    );
}

/// Every request, job and check reads the application's clock, so a test
/// that moves it moves time for everything: the machine's clock is read
/// only where there is no application (start-up, the command line, the
/// benchmarks).
#[test]
fn only_start_up_and_the_command_line_read_the_machine_clock() {
    fn scan(dir: &std::path::Path, root: &std::path::Path, bad: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                scan(&p, root, bad);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if ["clock.rs", "cli.rs", "startup.rs", "bench.rs"].contains(&rel.as_str()) {
                    continue;
                }
                for (n, line) in std::fs::read_to_string(&p).unwrap().lines().enumerate() {
                    let l = line.trim();
                    if !l.starts_with("//")
                        && (l.contains("clock::now()") || l.contains("Utc::now()"))
                    {
                        bad.push(format!("{rel}:{}: {l}", n + 1));
                    }
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bad = Vec::new();
    scan(&root, &root, &mut bad);
    assert!(
        bad.is_empty(),
        "the machine clock read outside start-up and the CLI:\n{}",
        bad.join("\n")
    );
}

/// ARCHITECTURE.md's layering: services call one another one way only, so
/// each can be read (and changed) knowing only the ones below it.
#[test]
fn no_two_services_depend_on_each_other() {
    use std::collections::{BTreeMap, BTreeSet};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/service");
    let mut texts = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.extension().is_some_and(|x| x == "rs") && name != "mod" {
            texts.insert(name, std::fs::read_to_string(&p).unwrap());
        }
    }
    assert!(texts.len() >= 15, "{:?}", texts.keys());
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, text) in &texts {
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut used = BTreeSet::new();
        for other in texts.keys().filter(|o| *o != name) {
            let named = |prefix: &str| {
                code.match_indices(&format!("{prefix}{other}"))
                    .any(|(i, m)| {
                        let next = code[i + m.len()..].chars().next();
                        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    })
            };
            if named("super::") || named("crate::service::") || named("super::{") {
                used.insert(other.clone());
            }
        }
        // `use super::{a, b}` lists.
        for (i, _) in code.match_indices("use super::{") {
            let list = &code[i + 12..i + 12 + code[i + 12..].find('}').unwrap_or(0)];
            for item in list.split(',') {
                let head = item.trim().split("::").next().unwrap_or("").trim();
                if texts.contains_key(head) && head != name {
                    used.insert(head.to_string());
                }
            }
        }
        uses.insert(name.clone(), used);
    }
    // A depth-first walk finds any cycle and names it.
    fn walk(
        at: &str,
        uses: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == at) {
            let mut cycle = path[i..].to_vec();
            cycle.push(at.to_string());
            return Some(cycle);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_string());
        for next in uses.get(at).into_iter().flatten() {
            if let Some(c) = walk(next, uses, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for name in uses.keys() {
        if let Some(cycle) = walk(name, &uses, &mut Vec::new(), &mut done) {
            panic!("services depend on each other: {}", cycle.join(" -> "));
        }
    }
    // The walk sees real dependencies (it would find a cycle if there were one).
    assert!(uses["workflow"].contains("signing"), "{uses:?}");
    assert!(uses["signing"].contains("accounts"), "{uses:?}");
    assert!(uses["accounts"].contains("keys"), "{uses:?}");
    assert!(uses["requirements"].contains("git"), "{uses:?}");
}

/// Training follows people (issue 16): creating an account, changing its
/// roles and disabling or enabling it go through `service::people`, which
/// brings the person's training in line in the same transaction.
#[test]
fn accounts_change_roles_and_activity_only_through_people() {
    fn scan(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                scan(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if rel == "service/people.rs" || rel == "service/accounts.rs" {
                    continue;
                }
                for line in std::fs::read_to_string(&p).unwrap().lines() {
                    let l = line.trim();
                    let direct = ["create_user(", "set_roles(", "set_active("]
                        .iter()
                        .any(|f| l.contains(&format!("accounts::{f}")));
                    if direct && !l.starts_with("//") {
                        out.push(format!("{rel}: {l}"));
                    }
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    scan(&root, &root, &mut found);
    assert!(
        found.is_empty(),
        "accounts changed around service::people:\n{}",
        found.join("\n")
    );
}
