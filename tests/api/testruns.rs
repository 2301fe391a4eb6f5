//! API tokens and CI test results over real HTTP: tokens made on My account
//! (shown once), scoped, revocable, expiring; JUnit uploads that create test
//! cases, store results and link tests to requirements; bad tokens and bad
//! XML refused with a clear answer.

use serde_json::Value;

use crate::helpers::*;
use crate::nonconformances::product;

const ELLEN_PW: &str = "granite orchard passphrase 3";

async fn upload(app: &TestApp, token: Option<&str>, query: &str, xml: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/test-runs{query}", app.base))
        .header("content-type", "application/xml")
        .body(xml.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

const NEXTEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="1" errors="0">
    <testsuite name="pump" tests="3" disabled="0" errors="0" failures="1">
        <testcase name="keypad::srs_012_locks_after_three" classname="pump" time="0.250"/>
        <testcase name="alarm::occlusion" classname="pump" time="0.010">
            <properties><property name="requirement" value="SRS-020, SRS-999"/></properties>
            <failure type="test failure">assertion failed: alarm raised</failure>
        </testcase>
        <testcase name="misc::plain" classname="pump" time="0.001"/>
    </testsuite>
</testsuites>"#;

#[tokio::test]
async fn ci_uploads_junit_with_a_scoped_token_and_tests_link_to_requirements() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    for (key, title) in [
        ("SRS-012", "Locks after failures"),
        ("SRS-020", "Occlusion alarm"),
    ] {
        let f = [
            ("product_id", "1"),
            ("key", key),
            ("title", title),
            ("kind", "software"),
        ];
        assert_eq!(
            ellen
                .submit("/requirements/new", "/requirements", &f)
                .await
                .status(),
            303
        );
    }
    let write = ellen.api_token("CI pump-fw", &["test-runs:write"]).await;
    assert!(write.starts_with("attest_") && write.len() > 40, "{write}");
    let page = ellen.get_html("/account/tokens").await;
    assert!(!page.contains(&write), "shown once only");
    assert!(page.contains(&format!("{}…", &write[..13])), "{page}");

    let q = "?product=PUMP&commit=9fceb02d0ae598e95dc970b74767f19372d61af8&branch=main&ci_url=https://ci.example.com/1";
    let (status, out) = upload(&app, Some(&write), q, NEXTEST).await;
    assert_eq!(status, 201, "{out}");
    assert_eq!(out["tests"], 3);
    assert_eq!(
        (out["passed"].as_i64(), out["failed"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(out["new_test_cases"], 3);
    assert_eq!(out["links_added"], 2);
    assert_eq!(
        out["requirements_touched"],
        serde_json::json!(["SRS-012", "SRS-020"])
    );
    assert_eq!(out["unknown_keys"], serde_json::json!(["SRS-999"]));
    // The same file again: a second run, no new test cases or links.
    let (status, out) = upload(&app, Some(&write), q, NEXTEST).await;
    assert_eq!(
        (
            status,
            out["new_test_cases"].as_i64(),
            out["links_added"].as_i64()
        ),
        (201, Some(0), Some(0))
    );
    let imported = app.audit_of("test_run.imported");
    assert_eq!(imported.len(), 2);
    assert_eq!(imported[0]["actor"]["name"], "ellen Person");
    assert_eq!(imported[0]["after"]["ci_url"], "https://ci.example.com/1");
    let calls = app.audit_of("api.called");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["after"]["path"], "/api/v1/test-runs");
    assert!(
        !ellen
            .get_html("/account/tokens")
            .await
            .contains("<td>never</td><td><span"),
        "last used is shown"
    );

    // Bad XML: 400 with where; an entity-expanding file is refused.
    let (status, out) = upload(
        &app,
        Some(&write),
        q,
        "<testsuites>\n<testsuite>\n<testcase name=\"a\">\n</testsuites>",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        out["detail"].as_str().unwrap().contains("line 4, column"),
        "{out}"
    );
    let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>\n<testsuites>&b;</testsuites>";
    let (status, out) = upload(&app, Some(&write), q, bomb).await;
    assert_eq!(status, 400);
    assert!(
        out["detail"]
            .as_str()
            .unwrap()
            .contains("a DTD is not accepted"),
        "{out}"
    );
    let (status, out) = upload(&app, Some(&write), "?repo=acme/unknown", NEXTEST).await;
    assert_eq!(status, 400);
    assert!(
        out["detail"]
            .as_str()
            .unwrap()
            .contains("No repository \"acme/unknown\" is registered")
    );
    assert_eq!(
        app.audit_of("test_run.imported").len(),
        2,
        "nothing stored by a refused upload"
    );
}

#[tokio::test]
async fn tokens_without_the_scope_revoked_expired_or_of_a_disabled_user_are_refused_security_25() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (audrey, _) = app
        .user_with_roles("audrey", &["auditor"], "slate meadow passphrase 5")
        .await;
    let q = "?product=PUMP";

    let (status, out) = upload(&app, None, q, NEXTEST).await;
    assert_eq!(status, 401);
    assert!(
        out["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer")
    );
    assert_eq!(
        upload(&app, Some("attest_not-a-token"), q, NEXTEST).await.0,
        401
    );
    let read = ellen.api_token("reader", &["read"]).await;
    let (status, out) = upload(&app, Some(&read), q, NEXTEST).await;
    assert_eq!(status, 403);
    assert!(
        out["detail"].as_str().unwrap().contains("test-runs:write"),
        "{out}"
    );

    // An auditor may not make an upload token.
    let res = audrey
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[("name", "x"), ("scope", "test-runs:write")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("needs the engineer or quality role")
    );

    // Revoked.
    let write = ellen.api_token("CI", &["test-runs:write"]).await;
    assert_eq!(upload(&app, Some(&write), q, NEXTEST).await.0, 201);
    // The scheme's name in any case (RFC 9110 11.1).
    for scheme in ["bearer", "BEARER"] {
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/test-runs{q}", app.base))
            .header("content-type", "application/xml")
            .header("authorization", format!("{scheme} {write}"))
            .body(NEXTEST)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{scheme}");
    }
    let page = ellen.get_html("/account/tokens").await;
    let revoke = page
        .split("action=\"")
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/revoke"))
        .unwrap()
        .to_string();
    let res = ellen.submit("/account/tokens", &revoke, &[]).await;
    assert_eq!(res.status(), 303);
    let (status, out) = upload(&app, Some(&write), q, NEXTEST).await;
    assert_eq!(status, 401);
    assert!(out["detail"].as_str().unwrap().contains("revoked"));
    assert_eq!(app.audit_of("api_token.revoked").len(), 1);

    // Expired (the clock moved past its date), and a disabled user's.
    let write = ellen.api_token("CI 2", &["test-runs:write"]).await;
    diesel::RunQueryDsl::execute(
        diesel::sql_query(
            "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00' WHERE name = 'CI 2'",
        ),
        &mut app.conn(),
    )
    .unwrap();
    let (status, out) = upload(&app, Some(&write), q, NEXTEST).await;
    assert_eq!(status, 401);
    assert!(out["detail"].as_str().unwrap().contains("expired"));
    let write = ellen.api_token("CI 3", &["test-runs:write"]).await;
    let user = format!("/admin/users/{ellen_id}");
    let v = attest::db::repo::users::find(&mut app.conn(), attest::domain::ids::UserId(ellen_id))
        .unwrap()
        .unwrap()
        .version
        .to_string();
    let res = admin
        .submit(
            &user,
            &format!("{user}/disable"),
            &[("version", &v), ("reason", "left")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, out) = upload(&app, Some(&write), q, NEXTEST).await;
    assert_eq!(status, 401);
    assert!(out["detail"].as_str().unwrap().contains("disabled"));
}

#[tokio::test]
async fn pytest_surefire_jest_and_go_files_are_taken() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let f = [
        ("product_id", "1"),
        ("key", "SRS-012"),
        ("title", "Lockout"),
        ("kind", "software"),
    ];
    assert_eq!(
        ellen
            .submit("/requirements/new", "/requirements", &f)
            .await
            .status(),
        303
    );
    let t = ellen.api_token("CI", &["test-runs:write"]).await;
    let files = [
        r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0" skipped="1" tests="2"><testcase classname="tests.test_keypad" name="test_srs_012_lockout" time="0.001"/><testcase classname="tests.test_keypad" name="test_rig" time="0"><skipped type="pytest.skip" message="no rig"/></testcase></testsuite></testsuites>"#,
        r#"<?xml version="1.0" encoding="UTF-8"?><testsuite name="com.acme.KeypadTest" tests="1" errors="0" skipped="0" failures="0"><properties><property name="java.version" value="17"/></properties><testcase name="locksAfterThree" classname="com.acme.KeypadTest" time="0.011"><properties><property name="requirement" value="SRS-012"/></properties></testcase></testsuite>"#,
        r#"<testsuites name="jest tests" tests="1" failures="0"><testsuite name="Keypad" tests="1"><testcase classname="Keypad SRS-012 locks" name="Keypad SRS-012 locks" time="0.003"></testcase></testsuite></testsuites>"#,
        r#"<testsuites tests="1" failures="1"><testsuite name="acme/pump" tests="1" failures="1" errors="0"><testcase name="TestSRS_012_Lockout" classname="acme/pump" time="0.000"><failure message="Failed" type="">pump_test.go:12: got 5</failure></testcase></testsuite></testsuites>"#,
    ];
    for (i, xml) in files.iter().enumerate() {
        let (status, out) = upload(&app, Some(&t), "?product=PUMP", xml).await;
        assert_eq!(status, 201, "file {i}: {out}");
        assert_eq!(
            out["requirements_touched"],
            serde_json::json!(["SRS-012"]),
            "file {i}: {out}"
        );
    }
}

#[tokio::test]
async fn a_token_expiring_on_a_day_works_through_the_end_of_that_day_in_utc() {
    let app = spawn_app().await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let day = attest::clock::now().date_naive() + chrono::Duration::days(3);
    let res = ellen
        .submit(
            "/account/tokens",
            "/account/tokens",
            &[
                ("name", "short"),
                ("scope", "read"),
                ("expires_on", &day.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let t = attest::db::repo::tokens::of_user(&mut app.conn(), ellen_id)
        .unwrap()
        .pop()
        .unwrap();
    let last_moment = day
        .and_hms_micro_opt(23, 59, 59, 999_999)
        .unwrap()
        .and_utc();
    assert!(t.live(last_moment), "works until the end of {day}");
    assert!(!t.live(last_moment + chrono::Duration::microseconds(1)));
    let page = ellen.get_html("/account/tokens").await;
    assert!(page.contains(&format!("end of {day} (UTC)")), "{page}");
    assert!(page.contains("works through the end of that day, UTC"));
}
