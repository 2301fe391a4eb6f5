//! Attachments on every record (issue 14, item 4), with the store in a
//! directory and in the database, on SQLite and on PostgreSQL: streamed to
//! disk with a size limit, kept by SHA-256 (the same file twice kept once),
//! served as a download, audited with name, SHA-256 and size, removed with
//! a reason but never deleted; SECURITY.md 19 and 27.

use attest::files::Store;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::helpers::*;

const QUINN_PW: &str = "violet sunrise passphrase 1";
const ELLEN_PW: &str = "granite orchard passphrase 3";
const RAVI_PW: &str = "amber harbour passphrase 2";

/// Posts a file as the browser's form does: multipart, the CSRF token
/// first, then `part`, then the file.
pub(crate) async fn attach(
    b: &Browser,
    (page, to): (&str, &str),
    part: &str,
    (name, content): (&str, &[u8]),
) -> reqwest::Response {
    let token = csrf_token(&b.get_html(page).await);
    let boundary = "----attest-test-boundary-attach-3kd8";
    let mut body = Vec::new();
    for (field, value) in [("csrf_token", token.as_str()), ("part", part)] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/html\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b.client
        .post(b.url(to))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

fn sha(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// The attachment ids a page lists, in order.
fn listed(html: &str) -> Vec<i64> {
    html.split("<tr id=\"attachment-")
        .skip(1)
        .filter_map(|r| r.split('"').next()?.parse().ok())
        .collect()
}

fn count(app: &TestApp, table: &str) -> i64 {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(&mut app.conn())
        .unwrap()
        .n
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn files_on_records_with(store: &str) {
    let app = spawn_app_with(|s| {
        s.max_upload_bytes = 64 * 1024;
        s.file_store = Some(match store {
            "database" => Store::Database,
            _ => Store::Directory(s.data_dir.join("kept-files")),
        });
    })
    .await;
    let admin = app.admin().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (ravi, _) = app.user_with_roles("ravi", &["engineer"], RAVI_PW).await;

    // A nonconformance: its reporter and quality attach; another engineer may not.
    let pid = crate::nonconformances::product(&admin, &app, "HNG").await;
    let res = ellen
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields("Cracked hinge", &pid, "high", "Cracks"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc = crate::nonconformances::nc_id(&app);
    let (page, to) = (
        format!("/nonconformances/{nc}"),
        format!("/attachments/nonconformance/nc-{nc}"),
    );
    let photo: Vec<u8> = (0..40_000u32).map(|i| (i % 253) as u8).collect();
    let res = attach(
        &ellen,
        (&page, &to),
        "",
        ("../../hinge <photo>.jpg", &photo),
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], format!("{page}#attachments"));
    let res = attach(&quinn, (&page, &to), "", ("same photo.jpg", &photo)).await;
    assert_eq!(res.status(), 303);
    let denied = app.audit_of("access.denied").len();
    let res = attach(&ravi, (&page, &to), "", ("mine.jpg", b"x")).await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.audit_of("access.denied").len(), denied + 1);

    // Stored once, by content; listed twice, named as shown (escaped, no path).
    assert_eq!(count(&app, "file_blobs"), 1);
    assert_eq!(count(&app, "attachments"), 2);
    let html = quinn.get_html(&page).await;
    let ids = listed(&html);
    assert_eq!(ids.len(), 2);
    assert!(
        html.contains("download>hinge &#60;photo&#62;.jpg</a>"),
        "{html}"
    );
    assert!(!html.contains("<photo>") && !html.contains("../"));
    let added = app.audit_of("attachment.added");
    assert_eq!(added.len(), 2);
    assert_eq!(added[0]["entity"]["id"], format!("nc-{nc}"));
    assert_eq!(added[0]["after"]["name"], "hinge <photo>.jpg");
    assert_eq!(added[0]["after"]["sha256"], sha(&photo));
    assert_eq!(added[0]["after"]["size"], photo.len());
    match store {
        "database" => assert_eq!(count(&app, "file_chunks"), 1),
        _ => {
            let kept = attest::files::path_in(&app.data_dir().join("kept-files"), &sha(&photo));
            assert_eq!(std::fs::read(kept).unwrap(), photo);
            assert_eq!(count(&app, "file_chunks"), 0);
        }
    }

    // Served back whole, as a download, never to be shown in the page.
    let res = ravi.get(&format!("/attachments/{}", ids[0])).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"hinge _photo_.jpg\"")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), photo.as_slice());

    // SECURITY.md 19 and 27: empty, too large, names that reorder text or hold NUL.
    let before = count(&app, "attachments");
    for (name, content, status) in [
        ("empty.txt", &b""[..], 400),
        ("big.bin", &vec![7u8; 70 * 1024][..], 413),
        ("report\u{202E}fdp.exe", &b"MZ"[..], 400),
        ("a\u{2066}b.pdf", &b"x"[..], 400),
    ] {
        let res = attach(&quinn, (&page, &to), "", (name, content)).await;
        assert_eq!(res.status().as_u16(), status, "{name:?}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains("id=\"attach-file-error\""),
            "{name:?}: {html}"
        );
    }
    assert_eq!(count(&app, "attachments"), before, "nothing recorded");
    let staging = match store {
        "database" => app.data_dir().join("incoming"),
        _ => app.data_dir().join("kept-files").join("incoming"),
    };
    assert_eq!(
        std::fs::read_dir(&staging).map_or(0, |d| d.count()),
        0,
        "no upload left behind"
    );

    // Removing needs a reason; the content stays and still downloads.
    let remove = format!("/attachments/{}/remove", ids[1]);
    let res = quinn.submit(&page, &remove, &[("reason", " ")]).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"remove-{}-reason-error\"", ids[1])),
        "{html}"
    );
    let res = quinn
        .submit(
            &page,
            &remove,
            &[("reason", "Duplicate of the first photo")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let removed = app.audit_of("attachment.removed");
    assert_eq!(removed[0]["reason"], "Duplicate of the first photo");
    assert_eq!(removed[0]["before"]["sha256"], sha(&photo));
    assert_eq!(count(&app, "attachments"), 2);
    assert_eq!(count(&app, "file_blobs"), 1);
    assert!(
        quinn
            .get_html(&page)
            .await
            .contains("Removed by quinn Person")
    );
    let res = quinn.get(&format!("/attachments/{}", ids[1])).await;
    assert_eq!(res.bytes().await.unwrap().as_ref(), photo.as_slice());

    // A CAPA: evidence on an action item by its owner, and the
    // effectiveness check's by quality; the item card lists its files.
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(ellen_id)).unwrap();
    let signing = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
    let mut signer = Signer::open(&mut conn, signing, QUINN_PW).unwrap();
    let c = crate::capas::walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        ellen_id,
        "Seal",
        CapaState::Action,
    );
    let (page, to) = (
        format!("/capas/{}", c.id),
        format!("/attachments/capa/capa-{}", c.id),
    );
    let item = format!("capa-item-{}", c.items[1].id);
    let res = attach(
        &ellen,
        (&page, &to),
        &item,
        ("WO-88 report.pdf", b"%PDF work order 88"),
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = attach(
        &quinn,
        (&page, &to),
        "effectiveness",
        ("trend.csv", b"month,cracks\n1,0"),
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = attach(&quinn, (&page, &to), "capa-item-999999", ("x.txt", b"x")).await;
    assert_eq!(res.status(), 404, "an item of no CAPA of this page");
    let html = quinn.get_html(&page).await;
    let card = html
        .split("id=\"item-2\"")
        .nth(1)
        .unwrap()
        .split("</article>")
        .next()
        .unwrap();
    assert!(card.contains("download>WO-88 report.pdf</a>"), "{card}");
    assert!(
        html.contains("<dt>Evidence files</dt><dd><a href="),
        "{html}"
    );

    // A closed record takes no new files.
    let closed = crate::capas::walked(
        &app,
        &mut conn,
        (&owner, &mut signer),
        ellen_id,
        "Done",
        CapaState::Closed,
    );
    let res = attach(
        &quinn,
        (
            &format!("/capas/{}", closed.id),
            &format!("/attachments/capa/capa-{}", closed.id),
        ),
        "",
        ("late.pdf", b"late"),
    )
    .await;
    assert_eq!(res.status(), 409);

    // A requirement: engineers attach.
    let res = crate::requirements::upload(
        &ellen,
        &pid,
        "reqs.csv",
        b"key,title,kind\nSRS-001,Locks,software\n",
    )
    .await;
    assert_eq!(res.status(), 303);
    let preview = res.headers()["location"].to_str().unwrap().to_string();
    let v = quinn.get_html(&preview).await;
    let v = v
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        quinn
            .submit(&preview, &format!("{preview}/apply"), &[("version", &v)])
            .await
            .status(),
        303
    );
    let r = app.audit_of("requirement.created")[0]["entity"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let n = r.trim_start_matches("req-");
    let res = attach(
        &ellen,
        (
            &format!("/requirements/{n}"),
            &format!("/attachments/requirement/{r}"),
        ),
        "",
        ("spec.md", b"# Lock"),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert!(
        ellen
            .get_html(&format!("/requirements/{n}"))
            .await
            .contains("download>spec.md</a>")
    );
}

// SECURITY.md 18, 19, 27
#[tokio::test]
async fn files_attach_to_records_with_the_store_in_a_directory() {
    files_on_records_with("directory").await;
}

// SECURITY.md 18, 19, 27
#[tokio::test]
async fn files_attach_to_records_with_the_store_in_the_database() {
    files_on_records_with("database").await;
}

/// Two instances on one database: a file uploaded through one is served
/// by the other, with the store in the database (the multi-instance
/// default on PostgreSQL).
#[tokio::test]
async fn a_file_stored_in_the_database_is_served_by_every_instance() {
    let app = spawn_app_with(|s| s.file_store = Some(Store::Database)).await;
    let admin = app.admin().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let pid = crate::nonconformances::product(&admin, &app, "HNG").await;
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &crate::nonconformances::report_fields("Cracked hinge", &pid, "high", "Cracks"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc = crate::nonconformances::nc_id(&app);
    let big: Vec<u8> = (0..(2 * 1024 * 1024 + 17))
        .map(|i: u32| (i % 241) as u8)
        .collect();
    let res = attach(
        &quinn,
        (
            &format!("/nonconformances/{nc}"),
            &format!("/attachments/nonconformance/nc-{nc}"),
        ),
        "",
        ("scan.tiff", &big),
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(count(&app, "file_chunks"), 3, "1 MiB a row");
    let other = second_instance_with(&app, |s| s.file_store = Some(Store::Database)).await;
    let b = other.browser();
    assert_eq!(b.login("quinn", QUINN_PW).await.status(), 303);
    let id = listed(&b.get_html(&format!("/nonconformances/{nc}")).await)[0];
    let res = b.get(&format!("/attachments/{id}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-length"],
        big.len().to_string().as_str()
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), big.as_slice());
}
