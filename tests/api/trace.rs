//! The traceability matrix and gap report over HTTP, on a graph built the
//! way users build it: requirements written, commits pushed, CI results
//! uploaded, a requirement reworded.

use serde_json::json;

use crate::helpers::*;
use crate::nonconformances::product;

const ELLEN_PW: &str = "granite orchard passphrase 3";

fn sign(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

/// The coverage badge of `key`'s row on the matrix page.
fn coverage_of<'a>(page: &'a str, key: &str) -> &'a str {
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&format!("<code>{key}</code></a>")))
        .unwrap_or_else(|| panic!("{key} is on the page"));
    row.split("class=\"badge cov-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_matrix_shows_each_coverage_status_and_the_gap_report_lists_every_gap() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    for (key, kind, parents) in [
        ("SYS-1", "system", ""),
        ("SRS-1", "software", "SYS-1"),
        ("SRS-2", "software", ""),
        ("SRS-3", "software", ""),
        ("SRS-4", "software", ""),
    ] {
        let f = [
            ("product_id", "1"),
            ("key", key),
            ("title", key),
            ("text", "as first written"),
            ("kind", kind),
            ("parents", parents),
        ];
        assert_eq!(
            ellen
                .submit("/requirements/new", "/requirements", &f)
                .await
                .status(),
            303
        );
    }
    // Commits, pushed.
    let (_, secret) = admin.register_repository("github", "acme/pump-fw").await;
    let commit = |sha: &str, message: &str| {
        json!({"id": sha, "message": message, "timestamp": "2026-11-30T10:00:00Z",
               "url": "https://github.com/acme/pump-fw/commit/x", "author": {"name": "E", "email": "e@example.com"}})
    };
    let body = serde_json::to_vec(&json!({
        "ref": "refs/heads/main",
        "after": "3333333333333333333333333333333333333333",
        "repository": {"full_name": "acme/pump-fw"},
        "commits": [
            commit("1111111111111111111111111111111111111111", "Rate check\n\nImplements: SRS-1"),
            commit("2222222222222222222222222222222222222222", "Alarms\n\nImplements: SRS-2, SRS-4"),
            commit("3333333333333333333333333333333333333333", "Later\n\nImplements: SRS-77"),
        ],
    }))
    .unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/hooks/github", app.base))
        .header("x-github-event", "push")
        .header("x-hub-signature-256", sign(&secret, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // CI results, uploaded.
    let token = ellen.api_token("CI", &["test-runs:write"]).await;
    let junit = r#"<testsuites><testsuite name="pump">
        <testcase classname="pump" name="test_srs_1_rate"/>
        <testcase classname="pump" name="test_srs_2_alarm"><failure message="no alarm"/></testcase>
        <testcase classname="pump" name="test_sys_1_rate"/>
        <testcase classname="pump" name="test_srs_4_alarm"/>
        <testcase classname="pump" name="test_orphan"/>
    </testsuite></testsuites>"#;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/test-runs?repo=acme/pump-fw", app.base))
        .bearer_auth(&token)
        .body(junit)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let page = ellen.get_html("/traceability?product=1").await;
    assert_eq!(
        coverage_of(&page, "SYS-1"),
        "verified",
        "a system requirement needs no code"
    );
    assert_eq!(coverage_of(&page, "SRS-1"), "verified");
    assert_eq!(coverage_of(&page, "SRS-2"), "failing");
    assert_eq!(coverage_of(&page, "SRS-3"), "no_code");
    assert_eq!(coverage_of(&page, "SRS-4"), "verified");
    assert!(
        page.contains("<td>Verified</td><td>3</td>"),
        "the chart's numbers: {page}"
    );
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\""));

    // Rewording SRS-4 and SYS-1 after their tests passed makes them, and
    // SRS-1 (a child of SYS-1), suspect until the tests pass again.
    let req = |key: &str| {
        attest::db::repo::requirements::by_keys(&mut app.conn(), 1, &[key.to_string()])
            .unwrap()
            .pop()
            .unwrap()
    };
    for key in ["SRS-4", "SYS-1"] {
        let r = req(key);
        let page = format!("/requirements/{}", r.id);
        let v = r.version.to_string();
        let f = [
            ("version", v.as_str()),
            ("title", key),
            ("text", "reworded"),
            ("kind", r.kind.as_str()),
            ("safety_class", "B"),
        ];
        assert_eq!(ellen.submit(&page, &page, &f).await.status(), 303);
    }
    let page = ellen.get_html("/traceability?product=1").await;
    assert_eq!(coverage_of(&page, "SRS-4"), "suspect");
    assert_eq!(coverage_of(&page, "SYS-1"), "suspect");
    assert_eq!(coverage_of(&page, "SRS-1"), "suspect", "its parent changed");
    let failing = ellen
        .get_html("/traceability?product=1&coverage=failing")
        .await;
    assert!(failing.contains("SRS-2") && !failing.contains("<code>SRS-1</code>"));
    assert_eq!(
        ellen
            .get("/traceability?product=1&coverage=fine")
            .await
            .status(),
        400
    );
    assert_eq!(ellen.get("/traceability?product=99").await.status(), 404);

    let gaps = ellen.get_html("/traceability/gaps?product=1").await;
    assert!(
        gaps.contains("0 of 5 active requirements are verified."),
        "{gaps}"
    );
    assert!(gaps.contains("<td>No code, Untested</td>"), "{gaps}");
    assert!(
        gaps.contains("<code>pump::test_orphan</code>"),
        "the orphan test"
    );
    assert!(gaps.contains("<code>SRS-77</code>"), "the dangling key");

    // The same through the JSON API, with a read token.
    let read = ellen.api_token("script", &["read"]).await;
    let (status, m) = app.api_get("/api/v1/matrix?product=PUMP", &read).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["total"], 5);
    let srs2 = m["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "SRS-2")
        .unwrap();
    assert_eq!(srs2["coverage"], "failing");
    assert_eq!(srs2["tests"][0]["latest"], "failed");
    let (_, r) = app
        .api_get("/api/v1/requirements?product=pump&per_page=2", &read)
        .await;
    assert_eq!(
        (r["total"].as_i64(), r["items"].as_array().map(Vec::len)),
        (Some(5), Some(2))
    );
    assert_eq!(r["items"][0]["text"], "as first written");
    let (_, t) = app.api_get("/api/v1/test-cases?product=1", &read).await;
    assert_eq!(t["total"], 5);
    assert!(
        t["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["latest_result"] == "failed")
    );
    assert_eq!(app.api_get("/api/v1/capas", &read).await.0, 200);
    assert_eq!(
        app.api_get("/api/v1/nonconformances?state=reported", &read)
            .await
            .0,
        200
    );
    assert_eq!(
        app.api_get("/api/v1/requirements", &read).await.0,
        400,
        "no product named"
    );
    assert_eq!(
        app.api_get("/api/v1/matrix?product=PUMP", &token).await.0,
        403,
        "an upload-only token"
    );

    // Links made and removed by hand, each audited on the requirement.
    let srs3 = req("SRS-3");
    let page = format!("/requirements/{}", srs3.id);
    let (status, html) = {
        let res = ellen
            .submit(
                &page,
                &format!("{page}/tests"),
                &[("test_key", "pump::nope")],
            )
            .await;
        (res.status().as_u16(), res.text().await.unwrap())
    };
    assert_eq!(status, 400);
    assert!(html.contains("There is no test case"), "{html}");
    let res = ellen
        .submit(
            &page,
            &format!("{page}/tests"),
            &[("test_key", "pump::test_orphan")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = ellen
        .submit(&page, &format!("{page}/commits"), &[("sha", "1111111")])
        .await;
    assert_eq!(res.status(), 303);
    let res = ellen
        .submit(&page, &format!("{page}/commits"), &[("sha", "abc")])
        .await;
    assert_eq!(res.status(), 400);
    let matrix = ellen.get_html("/traceability?product=1").await;
    assert_eq!(
        coverage_of(&matrix, "SRS-3"),
        "verified",
        "a passing test and a commit, by hand"
    );
    let html = ellen.get_html(&page).await;
    let unlink = html
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.contains("/links/") && a.ends_with("/remove"))
        .unwrap()
        .to_string();
    assert_eq!(ellen.submit(&page, &unlink, &[]).await.status(), 303);
    let matrix = ellen.get_html("/traceability?product=1").await;
    assert_ne!(coverage_of(&matrix, "SRS-3"), "verified");
    let on_srs3: Vec<_> = app
        .audit_of("link.created")
        .into_iter()
        .filter(|e| e["entity"]["key"] == "SRS-3")
        .collect();
    assert_eq!(on_srs3.len(), 2);
    assert_eq!(app.audit_of("link.removed").len(), 1);
}

#[tokio::test]
async fn sign_ins_api_reads_and_refusals_leave_the_data_stamp_and_changes_advance_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let stamp = || attest::audit::data_stamp(&mut app.conn()).unwrap();
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let token = ellen.api_token("reader", &["read"]).await;
    crate::nonconformances::product(&admin, &app, "PUMP").await;
    let before = stamp();
    // A sign-in, API reads, a refused page: the matrix and the dashboard's
    // figures computed before stay good.
    let again = app.browser();
    assert_eq!(again.login("ellen", ELLEN_PW).await.status(), 303);
    for _ in 0..3 {
        let res = reqwest::Client::new()
            .get(format!("{}/api/v1/requirements?product=PUMP", app.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(ellen.get("/admin/users").await.status(), 403);
    assert_eq!(stamp(), before, "no record changed");
    assert!(!app.audit_of("api.called").is_empty());
    // A change to a record moves it on.
    crate::nonconformances::product(&admin, &app, "STA").await;
    assert!(stamp() > before);
}
