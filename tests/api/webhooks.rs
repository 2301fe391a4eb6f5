//! Git webhooks over real HTTP: a registered repository's pushes link
//! commits to requirements and CAPAs, once per delivery; and the bad inputs
//! of SECURITY.md 14-17 are refused without a panic or a 500.

use std::io::Write;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::nonconformances::product;

const SHA1: &str = "9fceb02d0ae598e95dc970b74767f19372d61af8";
const SHA2: &str = "1b2c3d4e5f60718293a4b5c6d7e8f90123456789";
const SHA3: &str = "c0ffee0123456789abcdef0123456789abcdef01";
const ELLEN_PW: &str = "granite orchard passphrase 3";

fn sign(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

fn push_body(repo: &str, commits: &[(&str, &str)]) -> Vec<u8> {
    let commits: Vec<Value> = commits
        .iter()
        .map(|(sha, message)| {
            json!({
                "id": sha,
                "message": message,
                "timestamp": "2026-11-30T10:00:00+01:00",
                "url": format!("https://github.com/{repo}/commit/{sha}"),
                "author": {"name": "Ellen Engineer", "email": "ellen@example.com"},
            })
        })
        .collect();
    let after = commits
        .last()
        .and_then(|c| c["id"].as_str())
        .unwrap_or(SHA1)
        .to_string();
    serde_json::to_vec_pretty(&json!({
        "ref": "refs/heads/main",
        "after": after,
        "repository": {"full_name": repo},
        "commits": commits,
    }))
    .unwrap()
}

async fn github(
    app: &TestApp,
    query: &str,
    event: &str,
    delivery: &str,
    signature: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/hooks/github{query}", app.base))
        .header("content-type", "application/json")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery);
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    let res = req.body(body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

// SECURITY.md 15
#[tokio::test]
async fn a_push_links_commits_to_requirements_and_capas_once_per_delivery() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app
        .user_with_roles("ellen", &["engineer", "quality"], ELLEN_PW)
        .await;
    let f = [
        ("product_id", "1"),
        ("key", "SRS-012"),
        ("title", "Locks after failures"),
        ("kind", "software"),
    ];
    assert_eq!(
        ellen
            .submit("/requirements/new", "/requirements", &f)
            .await
            .status(),
        303
    );
    let capa = [
        ("title", "Keypad lock too late"),
        ("kind", "corrective"),
        ("source", "complaint"),
    ];
    assert_eq!(
        ellen.submit("/capas/new", "/capas", &capa).await.status(),
        303
    );
    let (id, secret) = admin.register_repository("github", "acme/pump-fw").await;
    let page = admin.get_html(&format!("/admin/repositories/{id}")).await;
    assert!(!page.contains(&secret), "the secret is shown once only");

    let body = push_body(
        "acme/pump-fw",
        &[
            (
                SHA1,
                "Lock the keypad after 3 PINs\n\nImplements: SRS-012\nFixes: CAPA-1",
            ),
            (SHA2, "Occlusion alarm\n\nimplements: srs-404"),
        ],
    );
    let q = format!("?repository={id}");
    let (status, out) = github(
        &app,
        &q,
        "push",
        "d-1",
        Some(&sign(&secret, &body)),
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["status"], "processed");
    assert_eq!(
        (out["commits"].as_i64(), out["links"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(out["dangling_keys"], json!(["SRS-404"]));
    let entries = app.audit_of("repository.push_received");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"]["id"], "system");
    assert_eq!(
        entries[0]["after"]["linked"][0],
        "9fceb02d0ae5 implements SRS-012"
    );

    // A redelivery changes nothing; the same commits in another delivery link nothing again.
    let (status, out) = github(
        &app,
        &q,
        "push",
        "d-1",
        Some(&sign(&secret, &body)),
        body.clone(),
    )
    .await;
    assert_eq!((status, out["status"].as_str()), (200, Some("duplicate")));
    assert_eq!(app.audit_of("repository.push_received").len(), 1);
    let (status, out) = github(&app, "", "push", "d-2", Some(&sign(&secret, &body)), body).await;
    assert_eq!(
        status, 200,
        "found by its secret without ?repository: {out}"
    );
    assert_eq!(
        (out["new_commits"].as_i64(), out["links"].as_i64()),
        (Some(0), Some(0))
    );

    // Each record lists its commits.
    let req_page = ellen.get_html("/requirements/1").await;
    assert!(req_page.contains("9fceb02d0ae5") && req_page.contains("Lock the keypad after 3 PINs"));
    assert!(req_page.contains("<td>implements</td>"));
    let capa_page = ellen.get_html("/capas/1").await;
    assert!(
        capa_page.contains("9fceb02d0ae5") && capa_page.contains("<td>fixes</td>"),
        "{capa_page}"
    );
    // A requirement written after the commit that named it links to it then.
    let f = [
        ("product_id", "1"),
        ("key", "SRS-404"),
        ("title", "Occlusion alarm"),
        ("kind", "software"),
    ];
    assert_eq!(
        ellen
            .submit("/requirements/new", "/requirements", &f)
            .await
            .status(),
        303
    );
    assert!(
        ellen
            .get_html("/requirements/2")
            .await
            .contains("1b2c3d4e5f60")
    );

    // ping and events Attest does not use.
    let ping = b"{\"zen\":\"Keep it logically awesome.\"}".to_vec();
    let (status, out) = github(
        &app,
        &q,
        "ping",
        "d-3",
        Some(&sign(&secret, &ping)),
        ping.clone(),
    )
    .await;
    assert_eq!((status, out["status"].as_str()), (200, Some("ok")));
    let (status, out) = github(
        &app,
        &q,
        "issues",
        "d-4",
        Some(&sign(&secret, &ping)),
        ping.clone(),
    )
    .await;
    assert_eq!((status, out["status"].as_str()), (202, Some("ignored")));
    // Both are under the repository's recent deliveries, once each, audited.
    let (status, _) = github(&app, &q, "ping", "d-3", Some(&sign(&secret, &ping)), ping).await;
    assert_eq!(status, 200);
    let repo_page = admin.get_html(&format!("/admin/repositories/{id}")).await;
    assert!(
        repo_page.contains("<td>ping</td><td><code>d-3</code></td><td>0</td><td>ok</td>"),
        "{repo_page}"
    );
    assert!(
        repo_page.contains("<td>issues</td><td><code>d-4</code></td><td>0</td><td>ignored</td>")
    );
    assert_eq!(repo_page.matches("<code>d-3</code>").count(), 1);
    assert_eq!(app.audit_of("repository.ping_received").len(), 1);
    assert_eq!(app.audit_of("repository.event_ignored").len(), 1);

    // A nonconformance lists the commits that name it (`Refs: NC-1`).
    let pid = product(&admin, &app, "NCP").await;
    assert_eq!(
        ellen
            .submit(
                "/nonconformances/new",
                "/nonconformances",
                &crate::nonconformances::report_fields("Burr on housing", &pid, "low", "Seen"),
            )
            .await
            .status(),
        303
    );
    let body = push_body(
        "acme/pump-fw",
        &[(SHA3, "Deburr the housing mould\n\nRefs: NC-1")],
    );
    let (status, out) = github(&app, &q, "push", "d-5", Some(&sign(&secret, &body)), body).await;
    assert_eq!((status, out["links"].as_i64()), (200, Some(1)), "{out}");
    let nc_page = ellen.get_html("/nonconformances/1").await;
    assert!(
        nc_page.contains("Deburr the housing mould") && nc_page.contains("<td>refs</td>"),
        "{nc_page}"
    );

    // So does a controlled document (`Refs: DOC-1`).
    let me = app.user_id("ellen").to_string();
    let res = ellen
        .submit(
            "/documents/new",
            "/documents",
            &[
                ("title", "Deburring instruction"),
                ("doc_type", "work_instruction"),
                ("owner", &me),
                ("product_id", ""),
                ("review_months", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let body = push_body(
        "acme/pump-fw",
        &[(
            "d0c0ffee0123456789abcdef0123456789abcdef",
            "Deburring steps as in the instruction\n\nRefs: DOC-1",
        )],
    );
    let (status, out) = github(&app, &q, "push", "d-6", Some(&sign(&secret, &body)), body).await;
    assert_eq!((status, out["links"].as_i64()), (200, Some(1)), "{out}");
    let doc_page = ellen.get_html("/documents/1").await;
    assert!(
        doc_page.contains("Deburring steps as in the instruction"),
        "{doc_page}"
    );
}

// SECURITY.md 14, 16, 17, 18
#[tokio::test]
async fn webhook_bad_inputs_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (id, secret) = admin.register_repository("github", "acme/pump-fw").await;
    let q = format!("?repository={id}");
    let body = push_body("acme/pump-fw", &[(SHA1, "Implements: SRS-1")]);
    let good = sign(&secret, &body);

    // 14: missing, sha1=, truncated, wrong case, over re-serialized JSON -> 401.
    let reserialized = {
        let v: Value = serde_json::from_slice(&body).unwrap();
        sign(&secret, &serde_json::to_vec(&v).unwrap())
    };
    for sig in [
        None,
        Some("sha1=0123456789abcdef0123456789abcdef01234567".to_string()),
        Some(good[..good.len() - 4].to_string()),
        Some(good.to_uppercase()),
        Some(reserialized),
        Some(sign("not the secret", &body)),
    ] {
        let (status, out) = github(&app, &q, "push", "x", sig.as_deref(), body.clone()).await;
        assert_eq!(status, 401, "{sig:?}: {out}");
        assert_eq!(out["status"], 401, "a problem document: {out}");
    }
    // 17: malformed and deeply nested JSON -> 400; a push for another repository -> 400.
    for bad in [b"{not json".to_vec(), "[".repeat(100_000).into_bytes()] {
        let (status, out) = github(&app, &q, "push", "y", Some(&sign(&secret, &bad)), bad).await;
        assert_eq!(status, 400, "{out}");
    }
    let other = push_body("acme/other", &[(SHA1, "x")]);
    let (status, out) = github(&app, &q, "push", "z", Some(&sign(&secret, &other)), other).await;
    assert_eq!(status, 400);
    assert!(
        out["detail"]
            .as_str()
            .unwrap()
            .contains("is for \"acme/other\""),
        "{out}"
    );
    assert!(app.audit_of("repository.push_received").is_empty());

    // 16: over 25 MB by Content-Length, as an endless chunked body, and as a gzip bomb -> 413.
    let big = vec![b' '; 26 * 1024 * 1024];
    let (status, _) = github(&app, &q, "push", "b", Some(&good), big).await;
    assert_eq!(status, 413);
    assert_eq!(
        chunked_forever(&app, &format!("/hooks/github{q}")).await,
        413
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..30 {
        gz.write_all(&vec![b' '; 1024 * 1024]).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000, "{} bytes on the wire", bomb.len());
    let res = reqwest::Client::new()
        .post(format!("{}/hooks/github{q}", app.base))
        .header("x-github-event", "push")
        .header("x-hub-signature-256", &good)
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);

    // A deactivated repository's webhooks are refused.
    let page = format!("/admin/repositories/{id}");
    let off = [("version", "1"), ("reason", "moved to GitLab")];
    assert_eq!(
        admin
            .submit(&page, &format!("{page}/deactivate"), &off)
            .await
            .status(),
        303
    );
    let (status, _) = github(&app, &q, "push", "w", Some(&good), body).await;
    assert_eq!(status, 401);
    // The server is still well.
    assert_eq!(
        reqwest::get(format!("{}/readyz", app.base))
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Sends a chunked body that never ends (1 MB chunks) and returns the
/// status the server answers with once it has had enough.
async fn chunked_forever(app: &TestApp, path: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\nX-Hub-Signature-256: sha256={}\r\nTransfer-Encoding: chunked\r\n\r\n",
        "0".repeat(64)
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 1024 * 1024, " ".repeat(1024 * 1024));
    for _ in 0..200 {
        if s.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut answer = vec![0u8; 64];
    let n = s.read(&mut answer).await.unwrap_or(0);
    String::from_utf8_lossy(&answer[..n])
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn gitlab_pushes_and_tag_pushes_are_taken_with_the_repositorys_token() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (_, token) = admin.register_repository("gitlab", "acme/pump").await;
    let send = |event: &'static str, token: String, body: Value| {
        let url = format!("{}/hooks/gitlab", app.base);
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .header("x-gitlab-event", event)
                .header("x-gitlab-token", token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let push = json!({
        "object_kind": "push", "ref": "refs/heads/main", "checkout_sha": SHA1,
        "project": {"path_with_namespace": "acme/pump"},
        "commits": [{"id": SHA1, "message": "Refs: NC-9", "timestamp": "2026-11-30T09:00:00Z",
                     "url": "https://gitlab.example.com/acme/pump/-/commit/x", "author": {"name": "E", "email": "e@example.com"}}],
    });
    let (status, out) = send("Push Hook", token.clone(), push.clone()).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["dangling_keys"], json!(["NC-9"]));
    let tag = json!({"object_kind": "tag_push", "ref": "refs/tags/v1.0", "checkout_sha": SHA1,
                     "project": {"path_with_namespace": "acme/pump"}, "commits": []});
    assert_eq!(send("Tag Push Hook", token.clone(), tag).await.0, 200);
    assert_eq!(send("Issue Hook", token.clone(), json!({})).await.0, 202);
    assert_eq!(
        send("Push Hook", format!("{token}x"), push.clone()).await.0,
        401
    );
    assert_eq!(send("Push Hook", String::new(), push).await.0, 401);
}
