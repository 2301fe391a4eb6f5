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
