//! Sign-in, lockout, sessions, sign-out, forced password change.

use crate::helpers::*;

const REFUSED: &str = "The username or password is wrong, or the account is locked or disabled.";

#[tokio::test]
async fn signing_in_opens_a_session_and_records_auth_login() {
    let app = spawn_app().await;
    let b = app.browser();
    let res = b.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("attest_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(b.get_html("/").await.contains("What needs me"));

    let login = app.audit_of("auth.login");
    assert_eq!(login.len(), 1);
    assert_eq!(
        login[0]["actor"]["id"],
        format!("u-{}", app.user_id("admin"))
    );
    assert_eq!(login[0]["actor"]["name"], "Administrator");
    assert_eq!(login[0]["entity"]["type"], "user");
    assert_eq!(login[0]["entity"]["key"], "admin");
    assert_eq!(login[0]["after"]["ip"], "127.0.0.1");
    assert!(login[0]["op"].as_str().is_some_and(|op| !op.is_empty()));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer_and_are_audited() {
    let app = spawn_app().await;
    let b = app.browser();
    let wrong = b.login("admin", "not the right password").await;
    assert_eq!(wrong.status(), 401);
    let wrong_body = wrong.text().await.unwrap();
    let unknown = b.login("nobody-here", "not the right password").await;
    assert_eq!(unknown.status(), 401);
    let unknown_body = unknown.text().await.unwrap();
    assert!(wrong_body.contains(REFUSED) && unknown_body.contains(REFUSED));
    assert!(
        b.get("/").await.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    let failed = app.audit_of("auth.login_failed");
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["after"]["reason"], "wrong password");
    assert_eq!(failed[0]["after"]["failures_this_hour"], 1);
    assert_eq!(failed[0]["entity"]["key"], "admin");
    assert_eq!(failed[0]["actor"]["id"], "system");
    assert_eq!(failed[1]["after"]["reason"], "unknown username");
    assert!(failed[1]["entity"].is_null());
    // What was typed as a username is never recorded (people type passwords there).
    assert!(
        !serde_json::to_string(&failed[1])
            .unwrap()
            .contains("nobody-here")
    );
}

// SECURITY.md 6
#[tokio::test]
async fn the_hundredth_failure_in_an_hour_locks_the_account_until_an_admin_unlocks_it() {
    let app = spawn_app().await;
    let (_, id) = app
        .user_with_roles("jdoe", &["quality"], "my own long passphrase")
        .await;
    let attacker = app.browser();
    for _ in 0..100 {
        assert_eq!(
            attacker
                .login("jdoe", "guessing the password")
                .await
                .status(),
            401
        );
    }
    let locked = app.audit_of("user.locked");
    assert_eq!(locked.len(), 1);
    assert!(locked[0]["after"]["locked_until"].as_str().is_some());
    assert_eq!(
        app.audit_of("auth.login_failed").last().unwrap()["after"]["failures_this_hour"],
        100
    );

    // Now even the right password is refused, with the same message.
    let res = app.browser().login("jdoe", "my own long passphrase").await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains(REFUSED));
    assert_eq!(
        app.audit_of("auth.login_failed").last().unwrap()["after"]["reason"],
        "account locked"
    );

    // The administrators see it in "What needs me" and unlock it.
    let admin = app.admin().await;
    assert!(
        admin
            .get_html("/")
            .await
            .contains("Locked account: jdoe Person")
    );
    assert!(
        admin
            .get_html("/admin/users?status=locked")
            .await
            .contains("jdoe")
    );
    let res = admin
        .submit(
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}/unlock"),
            &[("reason", "verified by phone")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.audit_of("user.unlocked")[0]["reason"],
        "verified by phone"
    );
    assert_eq!(
        app.browser()
            .login("jdoe", "my own long passphrase")
            .await
            .status(),
        303
    );
}

// SECURITY.md 11
#[tokio::test]
async fn signing_in_gives_a_new_session_id_and_the_planted_one_dies() {
    let app = spawn_app().await;
    let b = app.admin().await;
    let first = b.cookie("attest_session").unwrap();
    // Sign in again in the same browser (as after a planted cookie).
    let token = csrf_token(&b.get_html("/").await);
    let res = b
        .post_form(
            "/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let second = b.cookie("attest_session").unwrap();
    assert_ne!(first, second);

    let replay = app.browser();
    replay.set_cookie("attest_session", &first);
    let res = replay.get("/").await;
    assert_eq!(res.status(), 303, "the old session id no longer works");
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    assert_eq!(b.get("/").await.status(), 200, "the new one does");

    // A made-up cookie is simply not a session.
    let forged = app.browser();
    forged.set_cookie(
        "attest_session",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    assert_eq!(forged.get("/").await.status(), 303);
}

// SECURITY.md 12
#[tokio::test]
async fn signing_out_ends_the_session_at_once() {
    let app = spawn_app().await;
    let b = app.admin().await;
    let cookie = b.cookie("attest_session").unwrap();
    let res = b.submit("/", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?signed_out=1");
    assert!(
        b.get_html("/login?signed_out=1")
            .await
            .contains("You have signed out.")
    );

    let reuse = app.browser();
    reuse.set_cookie("attest_session", &cookie);
    assert_eq!(reuse.get("/").await.status(), 303);
    let logout = app.audit_of("auth.logout");
    assert_eq!(logout.len(), 1);
    assert_eq!(logout[0]["after"]["reason"], "signed out");
}

// SECURITY.md 12
#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_it_cannot_sign_in() {
    let app = spawn_app().await;
    let (user, id) = app
        .user_with_roles("eng1", &["engineer"], "engineer passphrase one")
        .await;
    assert_eq!(user.get("/").await.status(), 200);

    let admin = app.admin().await;
    let res = admin
        .submit(
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}/disable"),
            &[
                ("version", &app.account("eng1").version.to_string()),
                ("reason", "left the company"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    let res = user.get("/").await;
    assert_eq!(res.status(), 303, "the open session is gone");
    assert_eq!(
        app.browser()
            .login("eng1", "engineer passphrase one")
            .await
            .status(),
        401
    );
    let disabled = app.audit_of("user.disabled");
    assert_eq!(disabled[0]["before"]["active"], true);
    assert_eq!(disabled[0]["after"]["active"], false);
    assert_eq!(disabled[0]["after"]["sessions_ended"], 1);
    assert_eq!(disabled[0]["reason"], "left the company");
    assert_eq!(
        app.audit_of("auth.login_failed").last().unwrap()["after"]["reason"],
        "account disabled"
    );
    // The account is still there, never deleted.
    assert!(!app.account("eng1").active);
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let otp = admin.create_user("newbie", "New Bie", &["engineer"]).await;
    let b = app.browser();
    let res = b.login("newbie", &otp).await;
    assert_eq!(res.headers()["location"], "/account/password");
    for path in ["/", "/account"] {
        let res = b.get(path).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/account/password", "{path}");
    }
    assert!(
        b.get_html("/account/password")
            .await
            .contains("one-time password")
    );

    // Rules are checked and explained; nothing changes.
    let res = b
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", &otp),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at least 12 characters"));
    let res = b
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", "wrong one-time pw"),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The current password is wrong.")
    );
    assert_eq!(
        app.audit_of("auth.password_check_failed")[0]["after"]["reason"],
        "password change"
    );
    assert!(app.account("newbie").must_change_password);

    let res = b
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", &otp),
                ("new_password", "a brand new passphrase"),
                ("confirm_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(b.get("/").await.status(), 200);
    assert!(!app.account("newbie").must_change_password);
    let changed = app.audit_of("user.password_changed");
    assert_eq!(changed[0]["before"]["must_change_password"], true);
    assert_eq!(changed[0]["after"]["must_change_password"], false);
    // The one-time password no longer works; the new one does.
    assert_eq!(app.browser().login("newbie", &otp).await.status(), 401);
    assert_eq!(
        app.browser()
            .login("newbie", "a brand new passphrase")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn absurd_passwords_are_refused_before_any_hashing_security_13_30() {
    let app = spawn_app().await;
    let b = app.browser();
    let huge = "x".repeat(1_000_000);
    let res = b.login("admin", &huge).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at most 256 characters"));
    let res = b.login("admin", "").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Enter your password."));
    // Neither reached the sign-in check: no attempt was recorded or counted.
    assert!(app.audit_of("auth.login_failed").is_empty());
    assert_eq!(app.account("admin").failures.count, 0);

    // A 1 MB new password is refused with the rule.
    let admin = app.admin().await;
    let res = admin
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", &huge),
                ("confirm_password", &huge),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("at most 256 characters"));

    // White space only is no password (SECURITY.md 30): refused as a new
    // one, and at sign-in without running argon2.
    let spaces = " ".repeat(16);
    let res = admin
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", &spaces),
                ("confirm_password", &spaces),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("A password cannot be only spaces or other white space.")
    );
    let res = app.browser().login("admin", "\t  \u{3000}      ").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Enter your password."));
    assert!(app.audit_of("auth.login_failed").is_empty());
}

#[tokio::test]
async fn unicode_passwords_work_are_measured_in_characters_and_compared_in_nfc_security_13_30() {
    let app = spawn_app().await;
    let (_, _) = app
        .user_with_roles("unicode", &["auditor"], "пароль-über-名前-🔒🔒")
        .await;
    assert_eq!(
        app.browser()
            .login("unicode", "пароль-über-名前-🔒🔒")
            .await
            .status(),
        303
    );
    assert_eq!(
        app.browser()
            .login("unicode", "пароль-uber-名前-🔒🔒")
            .await
            .status(),
        401
    );
    // Set with "ü" as one code point, typed as "u" and a combining
    // diaeresis (as some keyboards send it): the same password (NFC).
    assert_eq!(
        app.browser()
            .login("unicode", "пароль-u\u{308}ber-名前-🔒🔒")
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn too_many_sign_in_attempts_from_one_address_are_slowed_down() {
    let app = spawn_app_with(|s| s.login_rate_per_minute = 3).await;
    let b = app.browser();
    for _ in 0..3 {
        assert_eq!(b.login("admin", "wrong wrong wrong").await.status(), 401);
    }
    let res = b.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "60");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );
}

#[tokio::test]
async fn usernames_are_not_case_sensitive() {
    let app = spawn_app().await;
    assert_eq!(
        app.browser().login("ADMIN", ADMIN_PASSWORD).await.status(),
        303
    );
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes() {
    let app = spawn_app().await;
    let b = app.admin().await;
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(
        b.get("/").await.status(),
        200,
        "29 idle minutes: still signed in"
    );
    app.clock.advance(chrono::Duration::minutes(31));
    let res = b.get("/admin/users").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/admin/users");
    let expired = app.audit_of("auth.session_expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["after"]["reason"], "idle timeout");
    assert_eq!(b.get("/").await.status(), 303, "and it stays ended");
}

#[tokio::test]
async fn a_session_ends_12_hours_after_sign_in_however_active() {
    let app = spawn_app().await;
    let b = app.admin().await;
    // Active every 25 minutes, so never idle for 30: still signed in for
    // 11 h 40 min, then the 12 hours are up.
    for _ in 0..28 {
        app.clock.advance(chrono::Duration::minutes(25));
        assert_eq!(b.get("/").await.status(), 200);
    }
    app.clock.advance(chrono::Duration::minutes(25));
    assert_eq!(b.get("/").await.status(), 303);
    assert_eq!(
        app.audit_of("auth.session_expired")[0]["after"]["reason"],
        "absolute timeout"
    );
}
