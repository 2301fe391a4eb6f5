//! Part 11 electronic signatures over HTTP (SIGNATURES.md): keys made only
//! under the user's own password, the signing form, manifestation and the
//! live "verified" mark, and every way a signature can be refused or broken.

use diesel::RunQueryDsl;

use crate::helpers::*;
use crate::nonconformances::{act, nc_id, product, report_fields, stored_version};
use attest::db::repo::signatures as keys;
use attest::domain::ids::UserId;
use attest::service::signing;

const QUINN_PW: &str = "violet sunrise passphrase 1";
const RAVI_PW: &str = "amber harbour passphrase 2";

fn raw(app: &TestApp, sql: &str) -> Result<usize, diesel::result::Error> {
    diesel::sql_query(sql).execute(&mut app.conn())
}

/// Lets the test act as someone with the database owner's rights.
fn drop_guard(app: &TestApp, table: &str, sqlite_trigger: &str) {
    if on_postgres() {
        raw(app, &format!("ALTER TABLE {table} DISABLE TRIGGER USER")).unwrap();
    } else {
        raw(app, &format!("DROP TRIGGER {sqlite_trigger}")).unwrap();
    }
}

/// A reported NC under review, ready for its disposition; returns its id.
async fn nc_under_review(app: &TestApp, quality: &Browser, prefix: &str) -> i64 {
    let admin = app.admin().await;
    let pid = product(&admin, app, prefix).await;
    let res = quality
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Scratch on housing", &pid, "low", "Cosmetic scratch"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = nc_id(app);
    assert_eq!(
        act(app, quality, id, "start_review", &[]).await.status(),
        303
    );
    id
}

const USE_AS_IS: &[(&str, &str)] = &[
    ("disposition", "use_as_is"),
    ("justification", "Cosmetic only; customer accepts"),
];

/// Sends the signing form back as the browser would: the carried fields at
/// `version`, and the signature components.
async fn sign_at(
    b: &Browser,
    id: i64,
    version: &str,
    username: Option<&str>,
    password: &str,
) -> reqwest::Response {
    let page = format!("/nonconformances/{id}");
    let mut fields = vec![("version", version), ("signature_password", password)];
    fields.extend_from_slice(USE_AS_IS);
    if let Some(u) = username {
        fields.push(("signature_username", u));
    }
    b.submit(&page, &format!("{page}/disposition"), &fields)
        .await
}

async fn sign(
    app: &TestApp,
    b: &Browser,
    id: i64,
    username: Option<&str>,
    password: &str,
) -> reqwest::Response {
    sign_at(b, id, &stored_version(app, id), username, password).await
}

fn signature_count(app: &TestApp) -> usize {
    keys::after(&mut app.conn(), 0, 1000).unwrap().len()
}

#[tokio::test]
async fn a_key_is_made_only_under_the_users_own_password_and_a_signature_is_shown_verified() {
    let app = spawn_app().await;
    let (quinn, qid) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    // The sign-in with the one-time password made no key; the user's own password did.
    let issued = app.audit_of("signature.key_issued");
    let mine: Vec<_> = issued
        .iter()
        .filter(|e| e["entity"]["id"] == format!("u-{qid}"))
        .collect();
    assert_eq!(mine.len(), 1, "{issued:?}");
    let changed = app.audit_of("user.password_changed");
    assert!(changed.last().unwrap()["seq"].as_u64() < mine[0]["seq"].as_u64());
    let key = keys::active_key(&mut app.conn(), UserId(qid))
        .unwrap()
        .unwrap();
    assert_eq!(mine[0]["after"]["key_id"], key.key_id.as_str());
    assert!(mine[0].to_string().find("wrapped").is_none());

    let id = nc_under_review(&app, &quinn, "SIG").await;
    // The step shows what is signed, and asks for the username on the first signature.
    let form = act(&app, &quinn, id, "disposition", USE_AS_IS)
        .await
        .text()
        .await
        .unwrap();
    for expected in [
        "Sign: Disposition of NC-",
        "Cosmetic only; customer accepts",
        "Use as is",
        "Content SHA-256",
        "name=\"signature_username\"",
        "quinn Person",
    ] {
        assert!(form.contains(expected), "{expected}");
    }
    let res = sign(&app, &quinn, id, Some("quinn"), QUINN_PW).await;
    assert_eq!(res.status(), 303);

    // Manifestation (11.50): printed name, UTC time, meaning, and the live mark.
    let page = quinn.get_html(&format!("/nonconformances/{id}")).await;
    assert!(page.contains("Dispositioned"));
    assert!(
        page.contains(
            "<strong class=\"meaning\">Approved</strong> by <strong>quinn Person</strong> (quinn)"
        ),
        "{page}"
    );
    assert!(page.contains(" UTC"));
    assert!(page.contains("✓ verified"));

    // One audit entry names the signature; the message is the spec's, canonical.
    let entry = app.audit_of("nonconformance.transition").pop().unwrap();
    assert_eq!(entry["signature"]["meaning"], "Approved");
    assert_eq!(entry["signature"]["id"], "sig-1");
    let stored = keys::for_record(&mut app.conn(), "nonconformance", &format!("nc-{id}")).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].signature.len(), 64);
    let text = String::from_utf8(stored[0].message.clone()).unwrap();
    let message: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(message["v"], 1);
    assert_eq!(message["transition"], "disposition");
    assert_eq!(message["meaning"], "Approved");
    assert_eq!(message["signer"]["id"], format!("u-{qid}"));
    assert_eq!(message["signer"]["username"], "quinn");
    assert_eq!(message["record"]["id"], format!("nc-{id}"));
    assert_eq!(message["record"]["version"], 3);
    assert_eq!(message["key_id"], key.key_id.as_str());
    assert_eq!(message["signed_at"], entry["at"]);
    assert!(attest::audit::canonical::is_canonical(text.as_bytes()));

    // Later signatures in the session ask for the password only.
    let id2 = nc_under_review(&app, &quinn, "SIH").await;
    let form = act(&app, &quinn, id2, "disposition", USE_AS_IS)
        .await
        .text()
        .await
        .unwrap();
    assert!(!form.contains("name=\"signature_username\""));
    assert_eq!(sign(&app, &quinn, id2, None, QUINN_PW).await.status(), 303);

    // Auditors see every signature and every key, verified.
    let admin = app.admin().await;
    let list = admin.get_html("/signatures").await;
    assert!(list.contains("2 electronic signatures"));
    assert_eq!(list.matches("✓ verified").count(), 2);
    let keys_page = admin.get_html("/signatures/keys").await;
    assert!(keys_page.contains(&key.key_id));
    let report = signing::verify_all(&mut app.conn()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.signatures, 2);
}

#[tokio::test]
async fn changed_content_a_moved_signature_and_a_swapped_key_each_fail_with_their_reason() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let id = nc_under_review(&app, &quinn, "TAM").await;
    let other = nc_under_review(&app, &quinn, "TAN").await;
    assert_eq!(
        sign(&app, &quinn, id, Some("quinn"), QUINN_PW)
            .await
            .status(),
        303
    );
    let page = format!("/nonconformances/{id}");

    // The signed facts cannot be corrected through the app any more.
    let res = quinn
        .submit(
            &page,
            &format!("{page}/edit"),
            &[
                ("version", &stored_version(&app, id)),
                ("title", "Scratch on housing"),
                ("source", "production"),
                ("description", "Deep gouge"),
                ("severity", "low"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("can no longer be corrected")
    );

    // The database refuses to change or delete a signature.
    for sql in [
        "UPDATE signatures SET meaning = 'Reviewed'",
        "DELETE FROM signatures",
        "DELETE FROM signing_keys",
    ] {
        let err = raw(&app, sql).expect_err(sql).to_string();
        assert!(
            err.contains("append-only") || err.contains("never deleted"),
            "{sql}: {err}"
        );
    }

    // 1. The record's content is changed behind the app's back.
    raw(
        &app,
        &format!("UPDATE nonconformances SET description = 'Deep gouge' WHERE id = {id}"),
    )
    .unwrap();
    let html = quinn.get_html(&page).await;
    assert!(
        html.contains("does not verify: the record&#39;s content changed after it was signed")
            || html
                .contains("does not verify: the record&#x27;s content changed after it was signed"),
        "{html}"
    );
    let report = signing::verify_all(&mut app.conn()).unwrap();
    assert!(!report.ok);
    assert!(report.failures[0].contains("content changed"), "{report:?}");
    raw(
        &app,
        &format!("UPDATE nonconformances SET description = 'Cosmetic scratch' WHERE id = {id}"),
    )
    .unwrap();
    assert!(signing::verify_all(&mut app.conn()).unwrap().ok);

    // 2. The signature is moved to another record.
    drop_guard(&app, "signatures", "signatures_no_update");
    raw(
        &app,
        &format!("UPDATE signatures SET record_id = 'nc-{other}', record_key = 'X'"),
    )
    .unwrap();
    let html = quinn.get_html(&format!("/nonconformances/{other}")).await;
    assert!(html.contains("it was moved"), "{html}");
    let report = signing::verify_all(&mut app.conn()).unwrap();
    assert!(report.failures[0].contains("it was moved"), "{report:?}");
    raw(
        &app,
        &format!("UPDATE signatures SET record_id = 'nc-{id}'"),
    )
    .unwrap();
    assert!(signing::verify_all(&mut app.conn()).unwrap().ok);

    // 3. The signer's public key is swapped for another user's.
    let (_, _) = app.user_with_roles("ravi", &["quality"], RAVI_PW).await;
    drop_guard(&app, "signing_keys", "signing_keys_identity_fixed");
    let ravi_key = keys::active_key(&mut app.conn(), UserId(app.user_id("ravi")))
        .unwrap()
        .unwrap();
    let quinn_key = keys::active_key(&mut app.conn(), UserId(app.user_id("quinn")))
        .unwrap()
        .unwrap();
    let hex_key = hex::encode(&ravi_key.public_key);
    let literal = if on_postgres() {
        format!("decode('{hex_key}', 'hex')")
    } else {
        format!("X'{hex_key}'")
    };
    raw(
        &app,
        &format!(
            "UPDATE signing_keys SET public_key = {literal} WHERE key_id = '{}'",
            quinn_key.key_id
        ),
    )
    .unwrap();
    let html = quinn.get_html(&page).await;
    assert!(html.contains("the key was replaced"), "{html}");
    let report = signing::verify_all(&mut app.conn()).unwrap();
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.starts_with("sig-1:") && f.contains("was replaced")),
        "{report:?}"
    );
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.starts_with(&format!("key {}", quinn_key.key_id))),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_audited_and_counts_towards_lockout() {
    let app = spawn_app_with(|s| s.lockout_threshold = 3).await;
    let (quinn, qid) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let id = nc_under_review(&app, &quinn, "PWD").await;
    let version = stored_version(&app, id);

    // The username is needed on the first signature.
    let res = sign(&app, &quinn, id, None, QUINN_PW).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter your username as well")
    );

    for attempt in 1..=2 {
        let res = sign(&app, &quinn, id, Some("quinn"), "not my passphrase at all").await;
        assert_eq!(res.status(), 400, "attempt {attempt}");
        let html = res.text().await.unwrap();
        assert!(html.contains("The password is wrong. Nothing was signed."));
        // The form keeps what was typed, bar the password.
        assert!(html.contains("Cosmetic only; customer accepts"));
    }
    let refused = app.audit_of("signature.refused");
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[1]["entity"]["id"], format!("u-{qid}"));
    assert_eq!(refused[1]["after"]["reason"], "wrong password");
    assert_eq!(refused[1]["after"]["failures_this_hour"], 2);
    assert!(
        refused[1]["after"]["record"]
            .as_str()
            .unwrap()
            .starts_with("NC-")
    );
    assert_eq!(stored_version(&app, id), version, "nothing saved");
    assert_eq!(signature_count(&app), 0);

    // The third locks the account and signs the user out everywhere.
    let res = sign(&app, &quinn, id, Some("quinn"), "not my passphrase at all").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?locked=1");
    let notice = quinn.get_html("/login?locked=1").await;
    assert!(notice.contains("your account is locked for a while"));
    assert_eq!(app.audit_of("user.locked").len(), 1);
    assert_eq!(quinn.get("/").await.status(), 303, "signed out");
    assert_eq!(signature_count(&app), 0);
    assert_eq!(app.audit_of("nonconformance.transition").len(), 1);
}

#[tokio::test]
async fn a_replayed_or_stale_signing_form_is_409_and_two_approvals_at_once_make_one() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ravi, _) = app.user_with_roles("ravi", &["quality"], RAVI_PW).await;
    let id = nc_under_review(&app, &quinn, "REP").await;
    let version = stored_version(&app, id);
    assert_eq!(
        sign_at(&quinn, id, &version, Some("quinn"), QUINN_PW)
            .await
            .status(),
        303
    );
    // Replayed: the same form again.
    let res = sign_at(&quinn, id, &version, None, QUINN_PW).await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("changed by someone else")
    );
    assert_eq!(signature_count(&app), 1);

    // Stale: the record moved on after the form was opened.
    let id2 = nc_under_review(&app, &quinn, "STA").await;
    let opened_at = stored_version(&app, id2);
    let page = format!("/nonconformances/{id2}");
    let res = quinn
        .submit(
            &page,
            &format!("{page}/edit"),
            &[
                ("version", &opened_at),
                ("title", "Scratch on housing, left side"),
                ("source", "production"),
                ("description", "Cosmetic scratch"),
                ("severity", "low"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = sign_at(&quinn, id2, &opened_at, None, QUINN_PW).await;
    assert_eq!(res.status(), 409);
    assert_eq!(signature_count(&app), 1);

    // Two quality users approve the same record at the same moment.
    let id3 = nc_under_review(&app, &quinn, "TWO").await;
    let v3 = stored_version(&app, id3);
    // Ravi's first signature of the session needs his username.
    let (a, b) = tokio::join!(
        sign_at(&quinn, id3, &v3, None, QUINN_PW),
        sign_at(&ravi, id3, &v3, Some("ravi"), RAVI_PW),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409]);
    let on_record =
        keys::for_record(&mut app.conn(), "nonconformance", &format!("nc-{id3}")).unwrap();
    assert_eq!(on_record.len(), 1, "exactly one signature");
    assert!(signing::verify_all(&mut app.conn()).unwrap().ok);
}

#[tokio::test]
async fn disabled_users_and_other_users_names_cannot_sign_and_old_signatures_survive_a_reset() {
    let app = spawn_app().await;
    let (quinn, qid) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    // An administrator who also holds the quality role.
    let (ada, _) = app
        .user_with_roles("ada", &["admin", "quality"], "copper lantern passphrase 3")
        .await;
    let id = nc_under_review(&app, &quinn, "OLD").await;
    assert_eq!(
        sign(&app, &quinn, id, Some("quinn"), QUINN_PW)
            .await
            .status(),
        303
    );
    let old_key = keys::active_key(&mut app.conn(), UserId(qid))
        .unwrap()
        .unwrap();

    // Ada cannot sign as Quinn, even knowing Quinn's password.
    let id2 = nc_under_review(&app, &quinn, "ADA").await;
    let res = sign(&app, &ada, id2, Some("quinn"), QUINN_PW).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("you can sign only as yourself")
    );
    let refused = app.audit_of("signature.refused");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["actor"]["name"], "ada Person");
    assert_eq!(signature_count(&app), 1);

    // An administrator's reset retires Quinn's key: nothing the administrator
    // holds (the one-time password) opens a key.
    let admin = app.admin().await;
    let page = format!("/admin/users/{qid}");
    let res = admin
        .submit(
            &page,
            &format!("{page}/reset-password"),
            &[("reason", "forgot password")],
        )
        .await;
    assert!(res.status().is_success() || res.status() == 303);
    assert!(
        keys::active_key(&mut app.conn(), UserId(qid))
            .unwrap()
            .is_none()
    );
    let retired = app.audit_of("signature.key_retired");
    assert_eq!(retired[0]["after"]["key_id"], old_key.key_id.as_str());
    let history = keys::keys_of(&mut app.conn(), UserId(qid)).unwrap();
    assert!(history[0].valid_until.is_some() && history[0].wrapped_key.is_none());
    // The old signature still verifies with the retired public key.
    let report = signing::verify_all(&mut app.conn()).unwrap();
    assert!(report.ok, "{report:?}");

    // Quinn's next own password makes a new key; both stay in the history.
    let otp = {
        // The reset page shows the one-time password once; read it from the
        // response of a second reset, as the administrator would.
        let res = admin
            .submit(
                &page,
                &format!("{page}/reset-password"),
                &[("reason", "second reset to read the password")],
            )
            .await;
        let html = res.text().await.unwrap();
        let start = html.find("<p class=\"secret\"><code>").unwrap() + 24;
        html[start..].split('<').next().unwrap().to_string()
    };
    let q2 = app.browser();
    assert_eq!(q2.login("quinn", &otp).await.status(), 303);
    assert!(
        keys::active_key(&mut app.conn(), UserId(qid))
            .unwrap()
            .is_none()
    );
    let res = q2
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", &otp),
                ("new_password", "indigo meadow passphrase 4"),
                ("confirm_password", "indigo meadow passphrase 4"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let new_key = keys::active_key(&mut app.conn(), UserId(qid))
        .unwrap()
        .unwrap();
    assert_ne!(new_key.key_id, old_key.key_id);
    let keys_page = admin.get_html("/signatures/keys").await;
    assert!(keys_page.contains(&old_key.key_id) && keys_page.contains(&new_key.key_id));
    assert_eq!(
        sign(&app, &q2, id2, Some("quinn"), "indigo meadow passphrase 4")
            .await
            .status(),
        303
    );
    assert!(signing::verify_all(&mut app.conn()).unwrap().ok);

    // A disabled user cannot sign: their session ends, and the transition
    // service refuses their key even if it were presented.
    let id3 = nc_under_review(&app, &q2, "DIS").await;
    let opened = attest::signature::unwrap(
        qid,
        &new_key.key_id,
        new_key.wrapped_key.as_deref().unwrap(),
        new_key.kdf_salt.as_deref().unwrap(),
        "indigo meadow passphrase 4",
    )
    .unwrap();
    let nc_page = format!("/nonconformances/{id3}");
    let token = csrf_token(&q2.get_html(&nc_page).await);
    let v3 = stored_version(&app, id3);
    let res = admin
        .submit(
            &page,
            &format!("{page}/disable"),
            &[("reason", "left the company")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mut fields = vec![
        ("version", v3.as_str()),
        ("signature_password", "indigo meadow passphrase 4"),
        ("csrf_token", token.as_str()),
    ];
    fields.extend_from_slice(USE_AS_IS);
    let res = q2
        .post_form(&format!("{nc_page}/disposition"), &fields)
        .await;
    assert!(
        res.status() == 303 || res.status() == 403,
        "{}",
        res.status()
    );
    assert_eq!(signature_count(&app), 2);
    let account = app.account("quinn");
    let ctx = attest::service::Ctx {
        log: "test".into(),
        actor: attest::service::accounts::actor(&account),
        now: attest::clock::now(),
        op: None,
    };
    let input = attest::domain::nonconformance::NcInput {
        disposition: Some(attest::domain::nonconformance::Disposition::UseAsIs),
        justification: Some("Cosmetic".into()),
        closure_note: None,
    };
    let with = signing::SignWith {
        user: UserId(qid),
        key: opened,
        key_id: new_key.key_id.clone(),
        session: "none".into(),
    };
    let result = attest::service::workflow::transition::<attest::domain::nonconformance::NcWorkflow>(
        &mut app.conn(),
        &ctx,
        &account.roles,
        id3,
        stored_version(&app, id3).parse().unwrap(),
        "disposition",
        &input,
        Some(&with),
    );
    assert!(
        matches!(
            result,
            Err(attest::service::workflow::TransitionError::Signer(
                signing::SignerRefused::Disabled
            ))
        ),
        "{:?}",
        result.err()
    );
    assert_eq!(signature_count(&app), 2);
    // Their past signatures still verify.
    assert!(signing::verify_all(&mut app.conn()).unwrap().ok);
}

#[tokio::test]
async fn a_password_change_rewraps_the_same_key() {
    let app = spawn_app().await;
    let (quinn, qid) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let before = keys::active_key(&mut app.conn(), UserId(qid))
        .unwrap()
        .unwrap();
    let res = quinn
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", QUINN_PW),
                ("new_password", "indigo meadow passphrase 4"),
                ("confirm_password", "indigo meadow passphrase 4"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let after = keys::active_key(&mut app.conn(), UserId(qid))
        .unwrap()
        .unwrap();
    assert_eq!(after.key_id, before.key_id, "the same key");
    assert_ne!(after.wrapped_key, before.wrapped_key);
    assert_ne!(after.kdf_salt, before.kdf_salt);
    let changed = app.audit_of("user.password_changed").pop().unwrap();
    assert_eq!(changed["after"]["signing_key"], before.key_id.as_str());
    let id = nc_under_review(&app, &quinn, "REW").await;
    let res = sign(&app, &quinn, id, Some("quinn"), QUINN_PW).await;
    assert_eq!(res.status(), 400, "the old password no longer signs");
    let res = sign(
        &app,
        &quinn,
        id,
        Some("quinn"),
        "indigo meadow passphrase 4",
    )
    .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn attest_verify_signatures_checks_the_database_and_names_the_broken_signature() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let id = nc_under_review(&app, &quinn, "CLI").await;
    assert_eq!(
        sign(&app, &quinn, id, Some("quinn"), QUINN_PW)
            .await
            .status(),
        303
    );
    let url = match first_database(&app) {
        attest::db::DbTarget::Sqlite(p) => format!("sqlite://{}", p.display()),
        attest::db::DbTarget::Postgres(u) => u,
    };
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_attest"))
            .args(["verify", "--signatures", "--database", &url])
            .env_remove("ATTEST_DATA_DIR")
            .output()
            .unwrap()
    };
    let ok = run();
    let out = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(
        ok.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.starts_with("OK: 1 signature(s) verify"), "{out}");
    assert!(
        out.contains("2 signer key(s) match the audit trail"),
        "{out}"
    );

    raw(
        &app,
        &format!("UPDATE nonconformances SET justification = 'Changed later' WHERE id = {id}"),
    )
    .unwrap();
    let bad = run();
    let out = String::from_utf8_lossy(&bad.stdout).to_string();
    assert!(!bad.status.success());
    assert!(
        out.starts_with("FAILED sig-1: the record's content changed after it was signed"),
        "{out}"
    );
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("signature verification FAILED: 1 of 3"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
