//! Administrators' user pages, role checks, guards and mass assignment.

use crate::helpers::*;

#[tokio::test]
async fn an_admin_creates_a_user_whose_one_time_password_is_shown_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let otp = admin
        .create_user("JSmith", "Jane Smith", &["quality", "engineer"])
        .await;
    assert_eq!(otp.len(), 19);
    let a = app.account("jsmith");
    assert_eq!(a.full_name, "Jane Smith");
    assert!(a.must_change_password);
    // The page of the user never shows the password again.
    let page = admin.get_html(&format!("/admin/users/{}", a.id.0)).await;
    assert!(!page.contains(&otp));
    assert!(page.contains("must be changed at next sign-in"));

    let created = app.audit_of("user.created");
    let e = created
        .iter()
        .find(|e| e["entity"]["key"] == "jsmith")
        .unwrap();
    assert_eq!(e["actor"]["name"], "Administrator");
    assert_eq!(
        e["after"]["roles"],
        serde_json::json!(["quality", "engineer"])
    );
    assert_eq!(e["after"]["email"], "JSmith@example.com");
    assert_eq!(e["after"]["must_change_password"], true);
    assert!(e["before"].is_null());
    let text = serde_json::to_string(e).unwrap();
    assert!(
        !text.contains(&otp) && !text.contains("argon2"),
        "no password or hash in the log"
    );
}

// SECURITY.md 18
#[tokio::test]
async fn the_create_form_explains_every_mistake_and_keeps_the_input() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("username", "x y"),
                ("full_name", "<script>alert(1)</script>"),
                ("email", "not-an-address"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("Usernames use only letters"));
    assert!(body.contains("Enter an e-mail address"));
    assert!(body.contains("Choose at least one role."));
    assert!(
        body.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "input kept, escaped"
    );
    assert!(!body.contains("<script>alert(1)"));
    assert!(
        app.audit_of("user.created").len() == 1,
        "only the first administrator"
    );

    admin.create_user("taken", "Taken", &["auditor"]).await;
    let res = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("username", "Taken"),
                ("full_name", "Again"),
                ("email", "a@example.com"),
                ("role_auditor", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("already taken"));
}

#[tokio::test]
async fn the_user_list_filters_by_text_role_and_status_and_pages() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin
        .create_user("alice", "Alice Auditor", &["auditor"])
        .await;
    admin.create_user("bob", "Bob Builder", &["engineer"]).await;
    let all = admin.get_html("/admin/users").await;
    assert!(all.contains("alice") && all.contains("bob") && all.contains("Showing 1–3 of 3"));
    let auditors = admin.get_html("/admin/users?role=auditor").await;
    assert!(auditors.contains("alice") && !auditors.contains(">bob<"));
    let text = admin.get_html("/admin/users?q=BUILD").await;
    assert!(text.contains(">bob<") && !text.contains(">alice<"));
    let none = admin.get_html("/admin/users?q=zzz").await;
    assert!(none.contains("No user matches these filters."));
    let disabled = admin.get_html("/admin/users?status=disabled").await;
    assert!(disabled.contains("No user matches"));
    assert_eq!(admin.get("/admin/users?role=superuser").await.status(), 400);
    // Wildcards are literal text.
    assert!(
        admin
            .get_html("/admin/users?q=%25")
            .await
            .contains("No user matches")
    );
}

#[tokio::test]
async fn non_admins_are_refused_every_admin_page_and_the_refusal_is_audited_security_29() {
    let app = spawn_app().await;
    let (quality, _) = app
        .user_with_roles(
            "qa",
            &["quality", "engineer", "auditor"],
            "quality passphrase!",
        )
        .await;
    let admin_id = app.user_id("admin");
    for path in [
        "/admin/users",
        "/admin/users/new",
        &format!("/admin/users/{admin_id}"),
    ] {
        let res = quality.get(path).await;
        assert_eq!(res.status(), 403, "{path}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("needs the administrator role")
        );
    }
    let token = csrf_token(&quality.get_html("/").await);
    let res = quality
        .post_form(
            &format!("/admin/users/{admin_id}/roles"),
            &[
                ("version", "1"),
                ("role_quality", "on"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        app.account("admin")
            .roles
            .contains(attest::domain::user::Role::Admin)
    );
    // Without a version (or with any other malformed field) the refusal of
    // the role is still what is answered: 403, audited, not a 400.
    let res = quality
        .post_form(
            &format!("/admin/users/{admin_id}/roles"),
            &[("role_quality", "on"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("needs the administrator role")
    );
    let denied = app.audit_of("access.denied");
    assert_eq!(denied.len(), 5);
    let denied = &denied[..4];
    assert_eq!(denied[3]["after"]["method"], "POST");
    assert_eq!(
        denied[3]["after"]["required_roles"],
        serde_json::json!(["admin"])
    );
    assert_eq!(denied[3]["actor"]["id"], format!("u-{}", app.user_id("qa")));
    // Not signed in at all: sent to the sign-in page, which comes back here.
    let res = app.browser().get("/admin/users?role=auditor").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/login?next=/admin/users%3Frole%3Dauditor"
    );
}

// SECURITY.md 3, 9 (a client-supplied created_at or state is refused outright, stricter than ignored)
#[tokio::test]
async fn extra_form_fields_are_refused_and_nothing_is_set() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin
        .create_user("target", "Target User", &["engineer"])
        .await;
    let a = app.account("target");
    let page = format!("/admin/users/{}", a.id.0);
    let v = a.version.to_string();
    for extra in [
        ("active", "false"),
        ("roles", "admin"),
        ("version_override", "9"),
        ("created_at", "2020-01-01"),
        ("state", "closed"),
    ] {
        let res = admin
            .submit(
                &page,
                &format!("{page}/profile"),
                &[
                    ("version", &v),
                    ("full_name", "Renamed"),
                    ("email", "t@example.com"),
                    extra,
                ],
            )
            .await;
        assert_eq!(res.status(), 400, "{extra:?}");
        assert!(res.text().await.unwrap().contains("unknown field"));
    }
    let after = app.account("target");
    assert_eq!(
        (after.full_name.as_str(), after.version),
        ("Target User", a.version)
    );
    assert!(app.audit_of("user.updated").is_empty());
    let res = admin
        .submit(
            &page,
            &format!("{page}/profile"),
            &[
                ("version", &v),
                ("full_name", "Renamed"),
                ("email", "t@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let updated = app.audit_of("user.updated");
    assert_eq!(
        updated[0]["before"],
        serde_json::json!({"full_name": "Target User", "email": "target@example.com"})
    );
    assert_eq!(
        updated[0]["after"],
        serde_json::json!({"full_name": "Renamed", "email": "t@example.com"})
    );
}

#[tokio::test]
async fn roles_change_with_before_and_after_and_a_stale_form_is_a_conflict() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin.create_user("rolly", "Rolly", &["engineer"]).await;
    let a = app.account("rolly");
    let page = format!("/admin/users/{}", a.id.0);
    let v = a.version.to_string();
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[
                ("version", &v),
                ("role_quality", "on"),
                ("role_auditor", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(admin.get_html(&page).await.contains("Roles saved."));
    let changed = app.audit_of("user.roles_changed");
    assert_eq!(
        changed[0]["before"]["roles"],
        serde_json::json!(["engineer"])
    );
    assert_eq!(
        changed[0]["after"]["roles"],
        serde_json::json!(["quality", "auditor"])
    );
    assert_eq!(changed[0]["entity"]["version"], a.version + 1);

    // The same (now stale) form again: refused, nothing lost.
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[("version", &v), ("role_engineer", "on")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Someone else saved this record after you opened the page")
    );
    assert_eq!(app.account("rolly").roles.to_stored(), "quality,auditor");
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[("version", &(a.version + 1).to_string())],
        )
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn the_last_administrator_cannot_be_removed_and_nobody_disables_themselves() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = app.account("admin");
    let page = format!("/admin/users/{}", me.id.0);
    let v = me.version.to_string();
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[("version", &v), ("role_quality", "on")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("At least one active administrator must remain")
    );
    let res = admin
        .submit(
            &page,
            &format!("{page}/disable"),
            &[("version", &v), ("reason", "testing")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("cannot disable your own account")
    );
    assert!(app.account("admin").active);

    // With a second administrator the first may drop the role.
    admin
        .create_user("admin2", "Second Admin", &["admin"])
        .await;
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[
                ("version", &v),
                ("role_admin", "on"),
                ("role_quality", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_password_reset_issues_a_new_one_time_password_and_ends_sessions() {
    let app = spawn_app().await;
    let (user, id) = app
        .user_with_roles("forgetful", &["engineer"], "forgotten passphrase")
        .await;
    let admin = app.admin().await;
    let page = format!("/admin/users/{id}");
    let res = admin
        .submit(&page, &format!("{page}/reset-password"), &[("reason", "")])
        .await;
    assert_eq!(res.status(), 400);
    let res = admin
        .submit(
            &page,
            &format!("{page}/reset-password"),
            &[("reason", "user forgot it")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let start = html.find("<p class=\"secret\"><code>").unwrap() + 24;
    let otp = html[start..].split('<').next().unwrap().to_string();
    assert_eq!(user.get("/").await.status(), 303, "signed out everywhere");
    assert_eq!(
        app.browser()
            .login("forgetful", "forgotten passphrase")
            .await
            .status(),
        401
    );
    let b = app.browser();
    let res = b.login("forgetful", &otp).await;
    assert_eq!(res.headers()["location"], "/account/password");
    let reset = app.audit_of("user.password_reset");
    assert_eq!(reset[0]["reason"], "user forgot it");
    assert_eq!(reset[0]["after"]["sessions_ended"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_administrators_creating_the_same_username_at_once_get_one_account() {
    use attest::domain::user::{Role, Roles};
    use attest::service::accounts::{self, NewUserInput};
    use attest::service::error::RecordError;
    let app = spawn_app().await;
    let mut handles = Vec::new();
    for i in 0..4 {
        let pool = app.pool.clone();
        let log = app.log_origin.clone();
        handles.push(std::thread::spawn(move || {
            let input = NewUserInput {
                username: "twin".into(),
                full_name: format!("Twin {i}"),
                email: "twin@example.com".into(),
                roles: Roles::new([Role::Engineer]),
            };
            let valid = accounts::validate_new_user(&input).unwrap();
            let ctx = attest::service::Ctx {
                log,
                actor: attest::audit::Actor::system(),
                now: attest::clock::now(),
                op: None,
            };
            accounts::create_user(
                &mut pool.get().unwrap(),
                &ctx,
                &valid,
                "not-a-real-hash",
                true,
            )
        }));
    }
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(
        r,
        Err(RecordError::Taken {
            field: "username",
            ..
        })
    )));
    assert_eq!(
        app.audit_of("user.created")
            .iter()
            .filter(|e| e["entity"]["key"] == "twin")
            .count(),
        1
    );
}
