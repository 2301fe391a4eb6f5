//! Requirements over HTTP: writing, versions of the statement, parents
//! without cycles, retiring, the list's filters, and CSV imports that are
//! previewed and then applied whole or not at all.

use crate::helpers::*;
use crate::nonconformances::product;

const ELLEN_PW: &str = "granite orchard passphrase 3";

fn requirement(app: &TestApp, key: &str) -> attest::domain::requirement::Requirement {
    let mut conn = app.conn();
    attest::db::repo::requirements::by_keys(&mut conn, 1, &[key.to_string()])
        .unwrap()
        .pop()
        .unwrap_or_else(|| panic!("{key} exists"))
}

async fn text_of(res: reqwest::Response) -> (u16, String) {
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn create(b: &Browser, key: &str, title: &str, kind: &str, parents: &str) -> (u16, String) {
    let f = [
        ("product_id", "1"),
        ("key", key),
        ("title", title),
        ("text", "The statement"),
        ("kind", kind),
        ("safety_class", ""),
        ("parents", parents),
    ];
    text_of(b.submit("/requirements/new", "/requirements", &f).await).await
}

async fn edit(
    b: &Browser,
    id: i64,
    version: i64,
    title: &str,
    text: &str,
    class: &str,
) -> (u16, String) {
    let v = version.to_string();
    let f = [
        ("version", v.as_str()),
        ("title", title),
        ("text", text),
        ("kind", "software"),
        ("safety_class", class),
    ];
    let page = format!("/requirements/{id}");
    text_of(b.submit(&page, &page, &f).await).await
}

/// Uploads a file as the browser's form does: multipart, the CSRF token first.
pub(crate) async fn upload(
    b: &Browser,
    product: &str,
    name: &str,
    content: &[u8],
) -> reqwest::Response {
    let token = csrf_token(&b.get_html("/requirements/import").await);
    let boundary = "----attest-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (field, value) in [("csrf_token", token.as_str()), ("product_id", product)] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b.client
        .post(b.url("/requirements/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn requirements_are_written_versioned_linked_without_cycles_and_retired() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (auditor, _) = app
        .user_with_roles("audrey", &["auditor"], "slate meadow passphrase 5")
        .await;

    assert_eq!(
        create(&ellen, "sys-001", "Delivers the set rate", "system", "")
            .await
            .0,
        303
    );
    let (status, _) = create(
        &ellen,
        "SRS-012",
        "Locks after failures",
        "software",
        "SYS-001",
    )
    .await;
    assert_eq!(status, 303);
    let srs = requirement(&app, "SRS-012");
    assert_eq!(
        srs.safety_class.as_str(),
        "B",
        "the product's class when none is chosen"
    );
    assert_eq!(srs.text_version, 1);
    assert_eq!(
        app.audit_of("link.created")[0]["after"]["relation"],
        "derives_from"
    );

    // Bad input: a clear message, the input kept, nothing saved.
    let (status, html) = create(&ellen, "CAPA-1", "x", "software", "").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Requirement keys cannot start with CAPA-"),
        "{html}"
    );
    let (status, html) = create(&ellen, "SRS-012", "Again", "software", "").await;
    assert_eq!(status, 409);
    assert!(
        html.contains("SRS-012 already exists in this product"),
        "{html}"
    );
    let (status, html) = create(&ellen, "SRS-013", "", "firmware", "SRS-999").await;
    assert_eq!(status, 400);
    assert!(html.contains("Enter a title.") && html.contains("Choose the kind"));
    assert!(html.contains("value=\"SRS-013\""), "input kept");
    let (status, html) = create(&ellen, "SRS-013", "Alarm", "software", "SRS-999").await;
    assert_eq!(status, 400);
    assert!(html.contains("There is no requirement SRS-999 in this product."));
    assert_eq!(app.audit_of("requirement.created").len(), 2);

    // A new text is a new version; the old one stays readable.
    let id = srs.id;
    let (status, _) = edit(
        &ellen,
        id,
        1,
        "Locks after failures",
        "Lock after 3 wrong PINs",
        "B",
    )
    .await;
    assert_eq!(status, 303);
    let page = ellen.get_html(&format!("/requirements/{id}")).await;
    assert!(page.contains("saved as version 2"), "{page}");
    assert!(page.contains("The statement") && page.contains("Lock after 3 wrong PINs"));
    let e = app.audit_of("requirement.updated").pop().unwrap();
    assert_eq!(e["before"]["text"], "The statement");
    assert_eq!(e["after"]["text_version"], 2);
    // Another class is no new version; a form opened before it is stale.
    assert_eq!(
        edit(
            &ellen,
            id,
            2,
            "Locks after failures",
            "Lock after 3 wrong PINs",
            "C"
        )
        .await
        .0,
        303
    );
    let r = requirement(&app, "SRS-012");
    assert_eq!((r.text_version, r.safety_class.as_str()), (2, "C"));
    let (status, html) = edit(&ellen, id, 2, "Changed twice", "", "C").await;
    assert_eq!(status, 409);
    assert!(html.contains("Someone else saved this record after you opened the page"));
    let page = format!("/requirements/{id}");
    let sneaky = [
        ("version", "3"),
        ("title", "x"),
        ("kind", "software"),
        ("status", "retired"),
    ];
    assert_eq!(ellen.submit(&page, &page, &sneaky).await.status(), 400);

    // Parents may not form a cycle.
    let sys = requirement(&app, "SYS-001");
    let sys_page = format!("/requirements/{}", sys.id);
    let res = ellen
        .submit(
            &sys_page,
            &format!("{sys_page}/parents"),
            &[("parent_key", "srs-012")],
        )
        .await;
    let (status, html) = text_of(res).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("SYS-001 cannot derive from SRS-012: SRS-012 already derives from SYS-001"),
        "{html}"
    );
    // Unlinking keeps the link's row and is audited.
    let link = app.audit_of("link.created").len();
    let html = ellen.get_html(&page).await;
    let remove = html
        .split("action=\"")
        .find_map(|s| s.split('"').next().filter(|a| a.ends_with("/remove")))
        .unwrap()
        .to_string();
    assert_eq!(ellen.submit(&page, &remove, &[]).await.status(), 303);
    assert_eq!(app.audit_of("link.removed").len(), 1);
    assert_eq!(app.audit_of("link.created").len(), link);
    assert!(
        ellen
            .get_html(&page)
            .await
            .contains("No parent: this requirement derives from no other.")
    );

    // Retired: kept and readable, closed to changes, restorable.
    let reason_page = |v: &str| vec![("version", v.to_string()), ("reason", String::new())];
    let f = reason_page("3");
    let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, html) = text_of(ellen.submit(&page, &format!("{page}/retire"), &refs).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Give a reason: it is kept in the audit trail."),
        "{html}"
    );
    assert!(
        html.contains("id=\"status-reason-error\""),
        "beside the field: {html}"
    );
    let retire = [("version", "3"), ("reason", "Replaced by SRS-020")];
    assert_eq!(
        auditor
            .submit(&page, &format!("{page}/retire"), &retire)
            .await
            .status(),
        403
    );
    assert_eq!(
        ellen
            .submit(&page, &format!("{page}/retire"), &retire)
            .await
            .status(),
        303
    );
    let (status, html) = edit(&ellen, id, 4, "Reworded", "", "C").await;
    assert_eq!(status, 400);
    assert!(html.contains("SRS-012 is retired: restore it before changing it."));
    assert!(auditor.get_html(&page).await.contains("retired"));

    // The list filters by status, kind and text.
    let list = auditor.get_html("/requirements?status=retired").await;
    assert!(list.contains("SRS-012") && !list.contains("SYS-001"));
    let list = auditor
        .get_html("/requirements?kind=system&product=1")
        .await;
    assert!(list.contains("SYS-001") && !list.contains("SRS-012"));
    let list = auditor.get_html("/requirements?q=set%20rate").await;
    assert!(list.contains("SYS-001"));
    assert!(
        auditor
            .get_html("/requirements?q=nothing-like-it")
            .await
            .contains("No requirement matches these filters.")
    );
    assert_eq!(
        auditor.get("/requirements?kind=firmware").await.status(),
        400
    );
    // The history names the record for an auditor.
    let trail = auditor.get_html("/audit?type=requirement").await;
    assert!(trail.contains("Requirement retired"), "{trail}");
}

// SECURITY.md 18, 19, 27
#[tokio::test]
async fn a_csv_import_is_previewed_refused_whole_on_any_error_and_applied_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&admin, &app, "PUMP").await;
    let (ellen, _) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    assert_eq!(
        create(&ellen, "SYS-001", "Delivers the set rate", "system", "")
            .await
            .0,
        303
    );

    // A file with errors: every row's problem is shown; nothing can be imported.
    let bad = "key,title,text,kind,safety_class,parents\r\n\
        SYS-001,Delivers the set rate,The statement,system,,\r\n\
        SRS-001,\"<script>alert(1)</script>\",,software,C,SYS-001\r\n\
        SRS-002,Alarm,,software,C,SRS-404\r\n\
        SRS-003,Cycle a,,software,,SRS-004\r\n\
        SRS-004,Cycle b,,software,,SRS-003\r\n";
    let res = upload(&ellen, "1", "../../spec.csv", bad.as_bytes()).await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let html = ellen.get_html(&to).await;
    assert!(
        html.contains("Import of spec.csv"),
        "the name without its path: {html}"
    );
    assert!(
        html.contains("alert(1)") && !html.contains("<script>alert"),
        "escaped: {html}"
    );
    assert!(html.contains("The parent SRS-404 is neither in this file nor in the product."));
    assert!(html.contains("SRS-003&#39;s parents would form a cycle."));
    assert!(html.contains("SRS-004&#39;s parents would form a cycle."));
    assert!(html.contains("<strong>3</strong> with errors"), "{html}");
    assert!(html.contains("a file is imported whole or not at all"));
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let apply = format!("/requirements/imports/{id}/apply");
    let (status, html) = text_of(ellen.submit(&to, &apply, &[("version", "1")]).await).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Nothing was imported: 3 rows have errors"),
        "{html}"
    );
    assert_eq!(app.audit_of("requirement.created").len(), 1);

    // A good file: previewed, then applied once.
    let good = "\u{feff}Key,Title,Text,Kind,Safety_class,Parents\n\
        SYS-001,Delivers the set rate,\"Rate 0.1-999 ml/h, within 5 %\",system,C,\n\
        SRS-001,Rate check,,software,C,SYS-001\n\
        SRS-002,Occlusion alarm,,software,,SYS-001;SRS-001\n";
    let to = upload(&ellen, "1", "spec-v2.csv", good.as_bytes())
        .await
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let html = ellen.get_html(&to).await;
    assert!(
        html.contains("<strong>2</strong> new, <strong>1</strong> changed"),
        "{html}"
    );
    assert!(
        html.contains("Changes its statement, safety class (a new version)"),
        "{html}"
    );
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let apply = format!("/requirements/imports/{id}/apply");
    assert_eq!(
        ellen
            .submit(&to, &apply, &[("version", "1")])
            .await
            .status(),
        303
    );
    assert!(
        ellen
            .get_html(&to)
            .await
            .contains("Imported: 2 created, 1 changed, 0 unchanged.")
    );
    let sys = requirement(&app, "SYS-001");
    assert_eq!(
        (sys.text_version, sys.body.as_str()),
        (2, "Rate 0.1-999 ml/h, within 5 %")
    );
    let srs2 = requirement(&app, "SRS-002");
    assert_eq!(srs2.safety_class.as_str(), "B", "the product's class");
    let page = ellen.get_html(&format!("/requirements/{}", srs2.id)).await;
    assert!(page.contains("SRS-001</code></a> Rate check") && page.contains("SYS-001</code></a>"));
    let imported = app.audit_of("requirement.imported");
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0]["after"]["created"], 2);
    let created = app.audit_of("requirement.created");
    assert!(
        created[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("imported from spec-v2.csv (")
    );
    // Applied once: a second try changes nothing.
    let (status, html) = text_of(ellen.submit(&to, &apply, &[("version", "2")]).await).await;
    assert_eq!(status, 400);
    assert!(html.contains("This file was imported already"), "{html}");
    assert_eq!(app.audit_of("requirement.created").len(), 3);

    // Files that are not requirement CSV are refused with the reason.
    let html = ellen
        .get_html(&upload_to(&ellen, "key,title,colour\nA-1,x,red\n").await)
        .await;
    assert!(
        html.contains("Unknown column &#34;colour&#34;: the columns are key, title, text"),
        "{html}"
    );
    let res = upload(
        &ellen,
        "1",
        "latin1.csv",
        b"key,title,kind\nA-1,Gr\xfc\xdfe,system\n",
    )
    .await;
    let (status, html) = text_of(res).await;
    assert_eq!(status, 400);
    assert!(html.contains("The file is not UTF-8 text"), "{html}");
    let (status, html) = text_of(upload(&ellen, "1", "empty.csv", b"").await).await;
    assert_eq!(status, 400);
    assert!(html.contains("The file is empty."));
    // Names that reorder text, or carry NUL, are refused (SECURITY.md 27),
    // with the form shown again and nothing stored.
    let imports = app.audit_of("requirement.import_uploaded").len();
    for name in ["spec\u{202E}vsc.exe", "a\u{2066}b.csv", "nul\u{0}.csv"] {
        let (status, html) =
            text_of(upload(&ellen, "1", name, b"key,title,kind\nA-9,x,system\n").await).await;
        assert_eq!(status, 400, "{name:?}");
        // A NUL may already stop the multipart reader; either way, refused.
        assert!(
            html.contains("rename the file and upload it again") || name.contains('\0'),
            "{name:?}: {html}"
        );
        assert!(!html.contains('\u{202E}') && !html.contains('\u{2066}'));
    }
    assert_eq!(app.audit_of("requirement.import_uploaded").len(), imports);
    // An upload without the token is refused before anything is read.
    let res = ellen
        .client
        .post(ellen.url("/requirements/import"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"product_id\"\r\n\r\n1\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

async fn upload_to(b: &Browser, content: &str) -> String {
    let res = upload(b, "1", "odd.csv", content.as_bytes()).await;
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_string()
}
