//! Part 11 electronic signatures over HTTP (SIGNATURES.md): keys made only
//! under the user's own password, the signing form, manifestation and the
//! live "verified" mark, and every way a signature can be refused or broken.

use diesel::RunQueryDsl;

use crate::helpers::*;
use crate::nonconformances::{act, nc_id, product, report_fields, stored_version};
use attest::db::repo::signatures as keys;
use attest::domain::ids::UserId;
use attest::service::{signing, verification};

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
/// An NC reported by an engineer of its own (accepting it as is is signed
/// by someone other than its reporter) and put under review by `quality`.
async fn nc_under_review(app: &TestApp, quality: &Browser, prefix: &str) -> i64 {
    let admin = app.admin().await;
    let pid = product(&admin, app, prefix).await;
    let (reporter, _) = app
        .user_with_roles(
            &format!("rep-{}", prefix.to_lowercase()),
            &["engineer"],
            "reporter passphrase 1",
        )
        .await;
    let res = reporter
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

/// Opens the signing form of the use-as-is disposition, as the record page's
/// form does at the record's current version.
async fn open_form(app: &TestApp, b: &Browser, id: i64) -> SignForm {
    let res = act(app, b, id, "disposition", USE_AS_IS).await;
    assert_eq!(res.status(), 200, "the signing form");
    SignForm::of(&res.text().await.unwrap())
}

/// Opens the signing form and sends it back with the signature components.
async fn sign(
    app: &TestApp,
    b: &Browser,
    id: i64,
    username: Option<&str>,
    password: &str,
) -> reqwest::Response {
    open_form(app, b, id)
        .await
        .send(b, username, password)
        .await
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
    let report = verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.signatures, 2);
}

// SECURITY.md 8
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
                ("reason", "Seen again under the lamp"),
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
    let report = verification::verify_all(&mut app.conn()).unwrap();
    assert!(!report.ok);
    assert!(report.failures[0].contains("content changed"), "{report:?}");
    raw(
        &app,
        &format!("UPDATE nonconformances SET description = 'Cosmetic scratch' WHERE id = {id}"),
    )
    .unwrap();
    assert!(verification::verify_all(&mut app.conn()).unwrap().ok);

    // 2. The signature is moved to another record.
    drop_guard(&app, "signatures", "signatures_no_update");
    raw(
        &app,
        &format!("UPDATE signatures SET record_id = 'nc-{other}', record_key = 'X'"),
    )
    .unwrap();
    let html = quinn.get_html(&format!("/nonconformances/{other}")).await;
    assert!(html.contains("it was moved"), "{html}");
    let report = verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.failures[0].contains("it was moved"), "{report:?}");
    raw(
        &app,
        &format!("UPDATE signatures SET record_id = 'nc-{id}'"),
    )
    .unwrap();
    assert!(verification::verify_all(&mut app.conn()).unwrap().ok);

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
    let report = verification::verify_all(&mut app.conn()).unwrap();
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

// SECURITY.md 6
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

// SECURITY.md 4, 5
#[tokio::test]
async fn a_replayed_or_stale_signing_form_is_409_and_two_approvals_at_once_make_one() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ravi, _) = app.user_with_roles("ravi", &["quality"], RAVI_PW).await;
    let id = nc_under_review(&app, &quinn, "REP").await;
    let form = open_form(&app, &quinn, id).await;
    assert_eq!(
        form.send(&quinn, Some("quinn"), QUINN_PW).await.status(),
        303
    );
    // Replayed after success: the same form again (SECURITY.md 5).
    let res = form.send(&quinn, None, QUINN_PW).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("has changed since the form was shown") && html.contains("sent twice"),
        "{html}"
    );
    assert_eq!(signature_count(&app), 1);

    // Stale: the record moved on after the form was opened.
    let id2 = nc_under_review(&app, &quinn, "STA").await;
    let opened_at = stored_version(&app, id2);
    let stale = open_form(&app, &quinn, id2).await;
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
                ("reason", "Seen again under the lamp"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = stale.send(&quinn, None, QUINN_PW).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("Nothing was signed"));
    assert_eq!(signature_count(&app), 1);

    // Two quality users approve the same record at the same moment.
    let id3 = nc_under_review(&app, &quinn, "TWO").await;
    let (quinns, ravis) = (
        open_form(&app, &quinn, id3).await,
        open_form(&app, &ravi, id3).await,
    );
    // Ravi's first signature of the session needs his username.
    let (a, b) = tokio::join!(
        quinns.send(&quinn, None, QUINN_PW),
        ravis.send(&ravi, Some("ravi"), RAVI_PW),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 409]);
    let on_record =
        keys::for_record(&mut app.conn(), "nonconformance", &format!("nc-{id3}")).unwrap();
    assert_eq!(on_record.len(), 1, "exactly one signature");
    assert!(verification::verify_all(&mut app.conn()).unwrap().ok);
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
    let report = verification::verify_all(&mut app.conn()).unwrap();
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
    assert!(verification::verify_all(&mut app.conn()).unwrap().ok);

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
    let v3: i64 = stored_version(&app, id3).parse().unwrap();
    let (_, to_sign) =
        attest::service::workflow::preview::<attest::domain::nonconformance::NcWorkflow>(
            &mut app.conn(),
            &account.roles,
            id3,
            v3,
            "disposition",
            &input,
            None,
            chrono::Utc::now(),
        )
        .unwrap();
    let with = signing::SignWith {
        user: UserId(qid),
        key: opened,
        key_id: new_key.key_id.clone(),
        session: "none".into(),
        shown: to_sign.unwrap().shown,
    };
    let result = attest::service::workflow::transition::<attest::domain::nonconformance::NcWorkflow>(
        &mut app.conn(),
        &ctx,
        &account.roles,
        id3,
        v3,
        "disposition",
        &input,
        Some(&with),
    );
    assert!(
        matches!(
            result,
            Err(attest::service::workflow::RecordError::Signer(
                signing::SignerRefused::Disabled
            ))
        ),
        "{:?}",
        result.err()
    );
    assert_eq!(signature_count(&app), 2);
    // Their past signatures still verify.
    assert!(verification::verify_all(&mut app.conn()).unwrap().ok);
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
        out.contains("3 signer key(s) match the audit trail"),
        "the admin's, quinn's and the NC's reporter's: {out}"
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
        String::from_utf8_lossy(&bad.stderr).contains("signature verification FAILED: 1 of 4"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// The state of an NC as stored: its version and how many signatures it has.
fn nc_snapshot(app: &TestApp, id: i64) -> (String, usize) {
    let on_record =
        keys::for_record(&mut app.conn(), "nonconformance", &format!("nc-{id}")).unwrap();
    (stored_version(app, id), on_record.len())
}

#[tokio::test]
async fn a_signing_form_re_pointed_at_another_nc_signs_nothing_security_5() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let shown = nc_under_review(&app, &quinn, "RPA").await;
    let other = nc_under_review(&app, &quinn, "RPB").await;
    let form = open_form(&app, &quinn, shown).await;
    assert_eq!(
        form.get("signed_record_id"),
        Some(format!("nc-{shown}").as_str())
    );
    let (before_shown, before_other) = (nc_snapshot(&app, shown), nc_snapshot(&app, other));
    // Sent for NC-other, with that record's version so only the record differs.
    let crafted = form
        .to(&format!("/nonconformances/{other}/disposition"))
        .with("version", &stored_version(&app, other));
    let res = crafted.send(&quinn, Some("quinn"), QUINN_PW).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "the form showed NC-{shown} but was sent for NC-{other}"
        )),
        "{html}"
    );
    assert!(html.contains("Nothing was signed"), "{html}");
    assert_eq!(nc_snapshot(&app, shown), before_shown);
    assert_eq!(nc_snapshot(&app, other), before_other);
    assert_eq!(signature_count(&app), 0);
    assert!(
        app.audit_of("nonconformance.transition").len() == 2,
        "only the two reviews"
    );
    // The form as shown still signs what it showed.
    assert_eq!(
        form.send(&quinn, Some("quinn"), QUINN_PW).await.status(),
        303
    );
    assert_eq!(nc_snapshot(&app, shown).1, 1);
}

#[tokio::test]
async fn a_signing_form_sent_to_another_step_with_another_meaning_or_other_content_signs_nothing_security_5()
 {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let id = nc_under_review(&app, &quinn, "ALT").await;
    let form = open_form(&app, &quinn, id).await;
    let before = nc_snapshot(&app, id);
    let refused = |res: reqwest::Response, expected: &'static str| async move {
        assert_eq!(res.status(), 409);
        let html = res.text().await.unwrap();
        assert!(html.contains(expected), "{expected}: {html}");
        assert!(html.contains("Nothing was signed"), "{html}");
    };

    // Another step: escalation needs no signature, and is not taken either.
    refused(
        form.to(&format!("/nonconformances/{id}/escalate_to_capa"))
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await,
        "the step “escalate_to_capa” with these values needs no signature",
    )
    .await;
    assert!(
        app.audit_of("link.created").is_empty(),
        "no CAPA was opened"
    );

    // Another meaning than the step's.
    refused(
        form.with("signed_meaning", "Reviewed")
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await,
        "the form showed the meaning “Reviewed”; this step is signed with the meaning “Approved”",
    )
    .await;
    // Another step named in the form than the one it was sent to.
    refused(
        form.with("signed_action", "close")
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await,
        "the form was for the step “close” but was sent to “Disposition”",
    )
    .await;
    // Content changed after the form was shown: the justification edited...
    refused(
        form.with("justification", "Customer never complained")
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await,
        "the content that would be signed is not the content shown",
    )
    .await;
    // ...or a disposition that needs no signature put in its place.
    refused(
        form.with("disposition", "scrap")
            .send(&quinn, Some("quinn"), QUINN_PW)
            .await,
        "needs no signature",
    )
    .await;
    // A form that does not say what it showed (made by hand) signs nothing.
    let bare = SignForm {
        action: form.action.clone(),
        fields: form
            .fields
            .iter()
            .filter(|(k, _)| !k.starts_with("signed_"))
            .cloned()
            .collect(),
    };
    refused(
        bare.send(&quinn, Some("quinn"), QUINN_PW).await,
        "the form showed another record",
    )
    .await;
    assert_eq!(nc_snapshot(&app, id), before);
    assert_eq!(signature_count(&app), 0);
    assert!(
        app.audit_of("signature.refused").is_empty(),
        "the password was right"
    );

    // Content changed by someone else between the form and the post.
    let page = format!("/nonconformances/{id}");
    let res = quinn
        .submit(
            &page,
            &format!("{page}/edit"),
            &[
                ("version", &stored_version(&app, id)),
                ("title", "Scratch on housing, deeper than reported"),
                ("source", "production"),
                ("description", "Cosmetic scratch"),
                ("severity", "low"),
                ("reason", "Seen again under the lamp"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = form.send(&quinn, Some("quinn"), QUINN_PW).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("NC-{id} has changed since the form was shown")),
        "{html}"
    );
    assert_eq!(signature_count(&app), 0);
}

#[tokio::test]
async fn a_capa_cancellation_form_re_pointed_at_another_capa_signs_nothing_security_5() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    for title in ["Seal leaks at 2 bar", "Label smudges in autoclave"] {
        let open = [
            ("title", title),
            ("kind", "corrective"),
            ("source", "complaint"),
            ("problem", "Complaints"),
            ("priority", "medium"),
        ];
        assert_eq!(
            quinn.submit("/capas/new", "/capas", &open).await.status(),
            303
        );
    }
    let version = |id: i64| {
        attest::db::repo::capas::find(&mut app.conn(), id)
            .unwrap()
            .unwrap()
            .version
            .to_string()
    };
    let res = quinn
        .submit(
            "/capas/1",
            "/capas/1/cancel",
            &[
                ("version", &version(1)),
                ("justification", "Duplicate of another CAPA"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let form = SignForm::of(&res.text().await.unwrap());
    assert_eq!(form.get("signed_meaning"), Some("Approved: cancellation"));
    let res = form
        .to("/capas/2/cancel")
        .with("version", &version(2))
        .send(&quinn, Some("quinn"), QUINN_PW)
        .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("the form showed CAPA-1 but was sent for CAPA-2"),
        "{html}"
    );
    let capa = |id| {
        attest::db::repo::capas::find(&mut app.conn(), id)
            .unwrap()
            .unwrap()
    };
    assert_eq!(capa(2).state.as_str(), "open");
    assert_eq!(capa(1).state.as_str(), "open");
    assert_eq!(signature_count(&app), 0);
    // Replayed after it was used: refused, still one signature.
    assert_eq!(
        form.send(&quinn, Some("quinn"), QUINN_PW).await.status(),
        303
    );
    assert_eq!(capa(1).state.as_str(), "cancelled");
    let res = form.send(&quinn, None, QUINN_PW).await;
    assert_eq!(res.status(), 409);
    assert_eq!(signature_count(&app), 1);
}

// SECURITY.md 13, 30
#[tokio::test]
async fn after_the_first_signature_another_users_name_is_refused_and_passwords_are_checked_as_typed()
 {
    let app = spawn_app().await;
    // A password with an accented letter, set as one code point (NFC).
    let composed = "caf\u{e9} au lait passphrase 7";
    let decomposed = "cafe\u{301} au lait passphrase 7";
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], composed).await;
    app.user_with_roles("ravi", &["quality"], RAVI_PW).await;
    let first = nc_under_review(&app, &quinn, "FIR").await;
    // Typed decomposed (as another keyboard sends it): the same password (SECURITY.md 30).
    assert_eq!(
        sign(&app, &quinn, first, Some("quinn"), decomposed)
            .await
            .status(),
        303
    );
    let second = nc_under_review(&app, &quinn, "SEC").await;
    let form = open_form(&app, &quinn, second).await;
    // The form no longer asks for the username; one sent anyway must be the signer's.
    let res = form.send(&quinn, Some("ravi"), composed).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("That is not your username: you can sign only as yourself")
    );
    let refused = app.audit_of("signature.refused");
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0]["after"]["reason"],
        "username is not the signed-in user's"
    );
    // An over-long password is answered as such, without hashing it.
    let res = form.send(&quinn, None, &"x".repeat(300)).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("longer than any password can be (at most 256 characters)")
    );
    // White space only is no password.
    let res = form.send(&quinn, None, "              ").await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Enter your password to sign.")
    );
    assert_eq!(nc_snapshot(&app, second).1, 0);
    // Its own name, or none, signs.
    assert_eq!(
        form.send(&quinn, Some("quinn"), composed).await.status(),
        303
    );
    assert_eq!(nc_snapshot(&app, second).1, 1);
}

/// A signature without a workflow step, through the same ceremony: the
/// 21 CFR 11.100(c) certification on "My account".
#[tokio::test]
async fn a_person_certifies_their_electronic_signature_once_through_the_signing_ceremony() {
    let app = spawn_app().await;
    let pw = "certifying quality passphrase 1";
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], pw).await;
    assert!(
        quinn
            .get_html("/account")
            .await
            .contains("href=\"/account/certification\"")
    );
    let account = quinn.get_html("/account/certification").await;
    assert!(account.contains("legally binding equivalent of my traditional handwritten signature"));
    assert!(account.contains("Certify and sign…"));

    // The first post shows what is signed and asks for the password.
    let res = quinn
        .submit("/account/certification", "/account/certification", &[])
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Certify my electronic signature"), "{html}");
    assert!(html.contains("Certified: electronic signature"));
    assert!(html.contains("quinn Person (quinn)"));
    let form = SignForm::of(&html);
    assert_eq!(form.get("signed_action"), Some(""));
    assert_eq!(
        form.get("signed_record_id"),
        Some(format!("u-{quinn_id}").as_str())
    );

    // A wrong password: audited, counted, nothing signed.
    let res = form
        .send(&quinn, Some("quinn"), "not my password at all")
        .await;
    answers(res, 400, "The password is wrong. Nothing was signed.").await;
    assert_eq!(app.audit_of("signature.refused").len(), 1);
    assert_eq!(app.account("quinn").failures.count, 1);

    // A form that showed another meaning signs nothing.
    let res = form
        .with("signed_meaning", "Approved")
        .send(&quinn, Some("quinn"), pw)
        .await;
    assert_eq!(res.status(), 303);
    let page = quinn.get_html("/account/certification").await;
    assert!(page.contains("Nothing was signed"), "{page}");
    assert!(app.audit_of("user.signature_certified").is_empty());

    // As shown, with the password: signed, audited with the signature, verified.
    assert_eq!(form.send(&quinn, Some("quinn"), pw).await.status(), 303);
    let page = quinn.get_html("/account/certification").await;
    assert!(
        page.contains("Your electronic signature is certified"),
        "{page}"
    );
    assert!(
        page.contains("Certified: electronic signature</strong> by <strong>quinn Person</strong>")
    );
    assert!(page.contains("✓ verified"));
    assert!(!page.contains("Certify and sign…"));
    let entry = app.audit_of("user.signature_certified").pop().unwrap();
    assert_eq!(entry["entity"]["id"], format!("u-{quinn_id}"));
    assert_eq!(
        entry["signature"]["meaning"],
        "Certified: electronic signature"
    );
    let stored = attest::service::signing::certification_of(
        &mut app.conn(),
        attest::domain::ids::UserId(quinn_id),
    )
    .unwrap()
    .unwrap();
    let message = attest::signature::Message::parse(&stored.message).unwrap();
    assert_eq!(message.transition, None);
    assert_eq!(message.signer.name, "quinn Person");
    assert!(
        attest::service::verification::verify_all(&mut app.conn())
            .unwrap()
            .ok
    );

    // Given once: a second certification is refused; a replayed form too.
    assert_eq!(form.send(&quinn, None, pw).await.status(), 303);
    assert!(
        quinn
            .get_html("/account/certification")
            .await
            .contains("You certified your electronic signature already")
    );
    let res = quinn
        .submit("/account/certification", "/account/certification", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.audit_of("user.signature_certified").len(), 1);
}
