//! Cross-site request forgery (SECURITY.md bad input 10).

use crate::helpers::*;

const REFUSED: &str = "This form could not be accepted";

async fn assert_refused(res: reqwest::Response) {
    assert_eq!(res.status(), 403);
    let body = res.text().await.unwrap();
    assert!(body.contains(REFUSED), "{body}");
    assert!(body.contains("Operation id:"));
}

fn new_user_fields<'a>(token: &'a str, username: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", username),
        ("full_name", "Mallory"),
        ("email", "m@example.com"),
        ("role_admin", "on"),
        ("csrf_token", token),
    ]
}

// SECURITY.md 10
#[tokio::test]
async fn a_post_without_a_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let b = app.browser();
    assert_refused(
        b.post_form(
            "/login",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        )
        .await,
    )
    .await;
    assert!(app.audit_of("auth.login").is_empty());

    let admin = app.admin().await;
    assert_refused(
        admin
            .post_form("/admin/users", &new_user_fields("", "mallory")[..4])
            .await,
    )
    .await;
    assert_refused(admin.post_form("/logout", &[]).await).await;
    assert!(
        app.audit_of("user.created")
            .iter()
            .all(|e| e["entity"]["key"] != "mallory")
    );
    assert_eq!(admin.get("/").await.status(), 200, "still signed in");
}

// SECURITY.md 10
#[tokio::test]
async fn a_wrong_token_or_another_sessions_token_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let other = app.admin().await;
    let other_token = csrf_token(&other.get_html("/").await);
    let mine = csrf_token(&admin.get_html("/").await);
    assert_ne!(mine, other_token, "each session has its own token");
    assert_refused(
        admin
            .post_form("/admin/users", &new_user_fields(&other_token, "mallory"))
            .await,
    )
    .await;
    assert_refused(
        admin
            .post_form("/admin/users", &new_user_fields("forged-token", "mallory"))
            .await,
    )
    .await;
    // The anonymous sign-in cookie's token is only good for the sign-in form.
    let anon = app.browser();
    let login_token = csrf_token(&anon.get_html("/login").await);
    assert_refused(
        admin
            .post_form("/admin/users", &new_user_fields(&login_token, "mallory"))
            .await,
    )
    .await;
    assert!(
        attest::db::repo::users::find_by_username(&mut app.conn(), "mallory")
            .unwrap()
            .is_none()
    );
    // The right token works.
    assert_eq!(
        admin
            .post_form("/admin/users", &new_user_fields(&mine, "mallory"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_cross_site_request_is_refused_even_with_a_valid_token_security_10() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = csrf_token(&admin.get_html("/").await);
    let fields = new_user_fields(&token, "mallory");
    let cross = admin
        .client
        .post(admin.url("/admin/users"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_refused(cross).await;
    let same_site = admin
        .client
        .post(admin.url("/admin/users"))
        .header("Sec-Fetch-Site", "same-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_refused(same_site).await;
    let foreign = admin
        .client
        .post(admin.url("/admin/users"))
        .header("Origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_refused(foreign).await;
    let null = admin
        .client
        .post(admin.url("/admin/users"))
        .header("Origin", "null")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_refused(null).await;
    // No Origin: the Referer decides (SECURITY.md 10).
    for referer in [
        "https://evil.example/admin/users".to_string(),
        format!(
            "http://127.0.0.1.evil.example/x?from=http://127.0.0.1:{}/",
            app.port
        ),
        format!("http://127.0.0.1:{}@evil.example/", app.port),
    ] {
        let res = admin
            .client
            .post(admin.url("/admin/users"))
            .header("Referer", referer)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_refused(res).await;
    }
    assert!(
        attest::db::repo::users::find_by_username(&mut app.conn(), "mallory")
            .unwrap()
            .is_none()
    );

    // What a browser sends for a same-origin form is accepted.
    let ok = admin
        .client
        .post(admin.url("/admin/users"))
        .header("Sec-Fetch-Site", "same-origin")
        .header("Origin", format!("http://127.0.0.1:{}", app.port))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // A same-site Referer without Origin is accepted too.
    let token = csrf_token(&admin.get_html("/").await);
    let ok = admin
        .client
        .post(admin.url("/admin/users"))
        .header(
            "Referer",
            format!("http://127.0.0.1:{}/admin/users/new", app.port),
        )
        .form(&new_user_fields(&token, "trudy"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}
