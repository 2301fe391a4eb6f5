//! Matrix exports over HTTP: every format made, kept, audited and described
//! by a signed manifest that `attest verify-export` checks offline and that
//! any change to the file breaks; a tag push records a release snapshot.

use std::process::Command;

use serde_json::json;

use crate::helpers::*;
use crate::nonconformances::product;

const ELLEN_PW: &str = "granite orchard passphrase 3";

async fn export(b: &Browser, format: &str) -> i64 {
    let res = b
        .submit(
            "/traceability/exports?product=1",
            "/traceability/exports",
            &[("product_id", "1"), ("format", format)],
        )
        .await;
    assert_eq!(res.status(), 303, "{format}");
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/traceability/exports/"), "{to}");
    to.rsplit('/').next().unwrap().parse().unwrap()
}

async fn bytes(b: &Browser, path: &str) -> Vec<u8> {
    let res = b.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "{path}"
    );
    res.bytes().await.unwrap().to_vec()
}

// SECURITY.md 18
#[tokio::test]
async fn every_export_format_is_signed_kept_and_checked_offline_and_tampering_is_caught() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (audrey, _) = app
        .user_with_roles("audrey", &["auditor"], "slate meadow passphrase 5")
        .await;
    for (key, title, parents) in [
        ("SYS-1", "System", ""),
        ("SRS-1", "=HYPERLINK(\"http://evil\")", "SYS-1"),
        ("SRS-2", "<script>alert(1)</script>", "SYS-1"),
    ] {
        let f = [
            ("product_id", "1"),
            ("key", key),
            ("title", title),
            ("kind", "software"),
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
    let vkey = audrey.get("/audit/key").await.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "xlsx", "json", "html", "reqif"] {
        // An auditor, who changes nothing, may export.
        let id = export(&audrey, format).await;
        let page = audrey
            .get_html(&format!("/traceability/exports/{id}"))
            .await;
        assert!(page.contains("Download the signed manifest"), "{page}");
        let file = bytes(&audrey, &format!("/traceability/exports/{id}/file")).await;
        let manifest = bytes(&audrey, &format!("/traceability/exports/{id}/manifest")).await;
        let checked = attest::trace::manifest::verify(&file, &manifest, &vkey)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(checked.manifest.format, format);
        assert!(page.contains(&checked.manifest.sha256));
        // The same bytes again later: the export is kept as made.
        assert_eq!(
            bytes(&audrey, &format!("/traceability/exports/{id}/file")).await,
            file
        );

        // The real command line, offline, on files.
        let (f, m) = (
            dir.path().join(format!("export.{format}")),
            dir.path().join(format!("export.{format}.manifest.json")),
        );
        std::fs::write(&f, &file).unwrap();
        std::fs::write(&m, &manifest).unwrap();
        let run = |extra: &[&str]| {
            let mut args = vec!["verify-export", f.to_str().unwrap(), m.to_str().unwrap()];
            args.extend_from_slice(extra);
            Command::new(env!("CARGO_BIN_EXE_attest"))
                .args(&args)
                .env("ATTEST_LOG", "warn")
                .output()
                .unwrap()
        };
        let ok = run(&["--key", vkey.trim()]);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(String::from_utf8_lossy(&ok.stdout).starts_with("OK: "));
        let mut tampered = file.clone();
        let last = tampered.len() - 2;
        tampered[last] ^= 0x01;
        std::fs::write(&f, &tampered).unwrap();
        let bad = run(&["--key", vkey.trim()]);
        assert!(!bad.status.success(), "{format}: a changed file must fail");
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("is not the one exported"),
            "{}",
            String::from_utf8_lossy(&bad.stderr)
        );

        match format {
            "csv" => {
                let text = String::from_utf8(file).unwrap();
                assert!(
                    text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
                    "{text}"
                );
            }
            "html" => {
                let text = String::from_utf8(file).unwrap();
                assert!(!text.contains("<script>alert"), "escaped");
                assert!(text.contains("size: A4"));
            }
            "reqif" => {
                let text = String::from_utf8(file).unwrap();
                let objects = text.matches("<SPEC-OBJECT ").count();
                let relations = text.matches("<SPEC-RELATION ").count();
                assert_eq!(
                    (objects, relations),
                    (3, 2),
                    "three requirements, two parent links"
                );
            }
            "json" => {
                let v: serde_json::Value = serde_json::from_slice(&file).unwrap();
                assert_eq!(v["requirements"].as_array().map(Vec::len), Some(3));
            }
            _ => assert!(file.starts_with(b"PK")),
        }
    }
    let exported = app.audit_of("trace.exported");
    assert_eq!(exported.len(), 5);
    assert_eq!(exported[0]["actor"]["name"], "audrey Person");
    // A forged manifest (another key) fails.
    let other = attest::audit::key::LogKey::generate("elsewhere.example/audit").unwrap();
    let f = dir.path().join("export.json");
    let m = dir.path().join("export.json.manifest.json");
    let out = Command::new(env!("CARGO_BIN_EXE_attest"))
        .args([
            "verify-export",
            f.to_str().unwrap(),
            m.to_str().unwrap(),
            "--key",
            &other.vkey(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        audrey
            .get("/traceability/exports?product=1")
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn a_tag_push_records_a_release_with_the_matrix_as_it_stood() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let f = [
        ("product_id", "1"),
        ("key", "SRS-1"),
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
    let (_, token) = admin.register_repository("gitlab", "acme/pump").await;
    let tag = json!({"object_kind": "tag_push", "ref": "refs/tags/v1.0",
                     "checkout_sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                     "project": {"path_with_namespace": "acme/pump"}, "commits": []});
    let res = reqwest::Client::new()
        .post(format!("{}/hooks/gitlab", app.base))
        .header("x-gitlab-event", "Tag Push Hook")
        .header("x-gitlab-token", &token)
        .json(&tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let out: serde_json::Value = res.json().await.unwrap();
    let id = out["release_export"].as_i64().expect("a release snapshot");
    let page = ellen.get_html("/traceability/exports?product=1").await;
    assert!(page.contains("<code>v1.0</code>"), "{page}");
    let snapshot = ellen.get_html(&format!("/traceability/exports/{id}")).await;
    assert!(snapshot.contains("pump-release-v1.0-"), "{snapshot}");
    let file = ellen.get(&format!("/traceability/exports/{id}/file")).await;
    let v: serde_json::Value = file.json().await.unwrap();
    assert_eq!(v["requirements"][0]["key"], "SRS-1");
    let manifest = ellen
        .get(&format!("/traceability/exports/{id}/manifest"))
        .await
        .status();
    assert_eq!(manifest, 200, "the checkpoint was signed with the release");
}

/// Issue 14, item 9: the matrix page exports in one step; a print-ready
/// export opens in the browser, allowed nothing but its own stylesheet;
/// the old `/trace` addresses lead to `/traceability`.
#[tokio::test]
async fn the_matrix_exports_in_one_step_and_the_print_view_opens_in_the_browser() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (audrey, _) = app
        .user_with_roles("audrey", &["auditor"], "slate meadow passphrase 5")
        .await;
    let matrix = audrey.get_html("/traceability?product=1").await;
    assert!(matrix.contains(
        "<form method=\"post\" action=\"/traceability/exports\" class=\"filters export-now\">"
    ));
    assert!(matrix.contains("<input type=\"hidden\" name=\"product_id\" value=\"1\">"));
    let res = audrey
        .submit(
            "/traceability?product=1",
            "/traceability/exports",
            &[("product_id", "1"), ("format", "html")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let page = audrey.get_html(&to).await;
    assert!(page.contains(&format!("href=\"{to}/view\"")), "{page}");
    assert!(page.contains("Download the signed manifest"));
    let res = audrey.get(&format!("{to}/view")).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let body = res.text().await.unwrap();
    let css = body
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    let hash = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css))
    };
    assert_eq!(
        h["content-security-policy"],
        format!("default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'").as_str()
    );
    assert!(body.contains("<dt>By</dt><dd>audrey Person</dd>"), "{body}");
    // A CSV export opens no view.
    let csv = export(&audrey, "csv").await;
    assert_eq!(
        audrey
            .get(&format!("/traceability/exports/{csv}/view"))
            .await
            .status(),
        404
    );
    // The old address.
    let res = audrey.get("/trace?product=1").await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/traceability?product=1");
}
