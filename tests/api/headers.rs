//! Security headers, error pages with operation ids, assets, probes.

use crate::helpers::*;

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    assert_eq!(
        h["content-security-policy"],
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        "{what}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain http ({what})"
    );
    assert!(
        h.get("x-operation-id").is_some_and(|v| !v.is_empty()),
        "{what}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let b = app.browser();
    for path in [
        "/login",
        "/static/app.css",
        "/no-such-page",
        "/healthz",
        "/readyz",
        "/",
    ] {
        let res = b.get(path).await;
        assert_security_headers(&res, path);
    }
    let admin = app.admin().await;
    for path in ["/", "/admin/users", "/admin/users/999999"] {
        assert_security_headers(&admin.get(path).await, path);
    }
    let refused = b.post_form("/login", &[]).await;
    assert_security_headers(&refused, "refused POST");
    // Pages are not cached; they hold personal data.
    assert_eq!(admin.get("/").await.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn error_pages_say_what_happened_and_show_the_operation_id() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = admin.get("/admin/users/424242").await;
    assert_eq!(res.status(), 404);
    let op = res.headers()["x-operation-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body = res.text().await.unwrap();
    assert!(body.contains("Not found"));
    assert!(body.contains(&op), "the page shows the operation id {op}");
    assert!(body.contains("Sign out"), "the signed-in layout is kept");

    let res = app.browser().get("/nothing/here").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Operation id:"));

    let res = admin.get("/admin/users?status=sideways").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Unknown status filter"));
}

#[tokio::test]
async fn static_assets_are_embedded_with_an_etag_and_a_long_cache() {
    let app = spawn_app().await;
    let b = app.browser();
    let page = b.get_html("/login").await;
    let start = page.find("/static/app.css?v=").unwrap();
    let href = page[start..].split('"').next().unwrap().to_string();
    let res = b.get(&href).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let again = b
        .client
        .get(b.url(&href))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(b.get("/static/../Cargo.toml").await.status(), 404);
    // No inline script anywhere: the CSP would block it, and none is needed.
    assert!(!page.contains("<script"));
}

#[tokio::test]
async fn health_and_readiness_probes_answer() {
    let app = spawn_app().await;
    let b = app.browser();
    let res = b.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok\n");
    let res = b.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ready\n");
}

/// A GET on a URL under a record that only takes POST (reloading the
/// address a refused form was sent to) leads back to the record, for a
/// signed-in person; signed out, to the sign-in page as any page does.
#[tokio::test]
async fn a_get_on_a_records_post_only_url_leads_back_to_the_record() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (url, record) in [
        ("/capas/7/start_investigation", "/capas/7"),
        ("/capas/7/items/3/done", "/capas/7"),
        ("/nonconformances/4/edit", "/nonconformances/4"),
        ("/requirements/2/parents/9/remove", "/requirements/2"),
        ("/products/3/archive", "/products/3"),
        ("/admin/users/5/unlock", "/admin/users/5"),
        ("/admin/repositories/1/rotate", "/admin/repositories/1"),
    ] {
        let res = admin.get(url).await;
        assert_eq!(res.status(), 303, "{url}");
        assert_eq!(res.headers()["location"], record, "{url}");
    }
    // Not a record number: still not found.
    assert_eq!(admin.get("/capas/seven/close").await.status(), 404);
    let res = app.browser().get("/capas/7/start_investigation").await;
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

/// Issue 14, item 11: the docs the pages point to are readable inside the
/// app, their links kept inside /help, for anyone signed in.
#[tokio::test]
async fn the_docs_are_readable_inside_the_app() {
    let app = spawn_app().await;
    let anonymous = app.browser();
    assert_eq!(anonymous.get("/help/using").await.status(), 303);
    let admin = app.admin().await;
    let index = admin.get_html("/help").await;
    for page in [
        "using",
        "workflows",
        "audit",
        "traceability",
        "api",
        "security",
    ] {
        assert!(
            index.contains(&format!("href=\"/help/{page}\"")),
            "{page}: {index}"
        );
    }
    let using = admin.get_html("/help/using").await;
    assert!(
        using.contains("<h1 id=\"using-attest-day-to-day\">Using Attest day to day</h1>"),
        "{using}"
    );
    assert!(using.contains("href=\"/help/workflows\""));
    let workflows = admin.get_html("/help/workflows").await;
    assert!(
        workflows.contains("src=\"/help/capa-workflow.svg\""),
        "{workflows}"
    );
    let svg = admin.get("/help/capa-workflow.svg").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(admin.get("/help/nothing-here").await.status(), 404);
    let tokens = admin.get_html("/account/tokens").await;
    assert!(tokens.contains("href=\"/help/api\""));
}
