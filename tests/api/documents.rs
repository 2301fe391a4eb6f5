//! Controlled documents over HTTP (issue 15): drafting, parallel review,
//! signed approval, effective dates (at once and by the scheduler), the
//! version before superseded in the same transaction, immutability from
//! approval, the refusals the issue names, redlines, the controlled copy.

use crate::helpers::*;

pub(crate) const AUTHOR_PW: &str = "author passphrase 1";
pub(crate) const REVIEW_PW: &str = "reviewer passphrase 1";
pub(crate) const QA_PW: &str = "approver passphrase 1";

/// The people of a document's life: an engineer who writes, two reviewers,
/// a quality approver.
pub(crate) struct People {
    pub(crate) author: Browser,
    pub(crate) r1: Browser,
    pub(crate) r2: Browser,
    pub(crate) qa: Browser,
    pub(crate) ids: [i64; 4],
}

pub(crate) async fn people(app: &TestApp) -> People {
    let (author, a) = app.user_with_roles("erin", &["engineer"], AUTHOR_PW).await;
    let (r1, b) = app.user_with_roles("rita", &["engineer"], REVIEW_PW).await;
    let (r2, c) = app.user_with_roles("ravi", &["engineer"], REVIEW_PW).await;
    let (qa, d) = app.user_with_roles("quinn", &["quality"], QA_PW).await;
    People {
        author,
        r1,
        r2,
        qa,
        ids: [a, b, c, d],
    }
}

/// The stored row version and row id of DOC-`doc` v`n`.
pub(crate) fn version_of(app: &TestApp, doc: i64, n: i64) -> (i64, i64) {
    let mut conn = app.conn();
    let id = attest::db::repo::documents::version_id(&mut conn, doc, n)
        .unwrap()
        .unwrap();
    let v = attest::db::repo::documents::find_version(&mut conn, id)
        .unwrap()
        .unwrap();
    (id, v.version)
}

pub(crate) fn state_of(app: &TestApp, doc: i64, n: i64) -> String {
    let (id, _) = version_of(app, doc, n);
    attest::db::repo::documents::find_version(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .state
        .as_str()
        .to_string()
}

/// Creates a document as `b`; returns its number.
pub(crate) async fn create(b: &Browser, title: &str, doc_type: &str, owner: i64) -> i64 {
    let res = b
        .submit(
            "/documents/new",
            "/documents",
            &[
                ("title", title),
                ("doc_type", doc_type),
                ("owner", &owner.to_string()),
                ("product_id", ""),
                ("review_months", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let to = res.headers()["location"].to_str().unwrap().to_string();
    to.trim_start_matches("/documents/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Saves the draft v`n` of DOC-`doc` as `b` with `fields` (and the stored version).
pub(crate) async fn save_draft(
    app: &TestApp,
    b: &Browser,
    (doc, n): (i64, i64),
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (id, version) = version_of(app, doc, n);
    let v = version.to_string();
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    b.submit(
        &format!("/documents/{doc}/v/{n}"),
        &format!("/document-versions/{id}/draft"),
        &all,
    )
    .await
}

pub(crate) fn draft_fields<'a>(
    body: &'a str,
    reviewers: &'a [String],
    approver: &'a str,
    effective_on: &'a str,
    reason: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("title", "Cleaning of the moulding line"),
        ("body", body),
        ("approver", approver),
        ("effective_on", effective_on),
        ("training_required", "yes"),
        ("change_reason", reason),
        ("change_summary", ""),
    ];
    for r in reviewers {
        f.push(("reviewers", r.as_str()));
    }
    f
}

/// Takes step `action` on DOC-`doc` v`n` as `b`; signs it with `password`
/// when the step answers with the signing form.
pub(crate) async fn step(
    app: &TestApp,
    b: &Browser,
    (doc, n): (i64, i64),
    action: &str,
    fields: &[(&str, &str)],
    sign: Option<(&str, &str)>,
) -> reqwest::Response {
    let (id, version) = version_of(app, doc, n);
    let v = version.to_string();
    let mut all = vec![("version", v.as_str())];
    all.extend_from_slice(fields);
    let res = b
        .submit(
            &format!("/documents/{doc}/v/{n}"),
            &format!("/document-versions/{id}/{action}"),
            &all,
        )
        .await;
    match sign {
        Some((user, pw)) if res.status() == 200 => {
            let html = res.text().await.unwrap();
            SignForm::of(&html).send(b, Some(user), pw).await
        }
        _ => res,
    }
}

/// `b` (rita or ravi) signs v`n` of `doc` as reviewed.
async fn review_as(app: &TestApp, b: &Browser, user: &str, at: (i64, i64)) -> reqwest::Response {
    step(app, b, at, "review", &[], Some((user, REVIEW_PW))).await
}

/// quinn approves v`n` of `doc` (signed).
async fn approve_as_quinn(app: &TestApp, p: &People, at: (i64, i64)) -> reqwest::Response {
    step(app, &p.qa, at, "approve", &[], Some(("quinn", QA_PW))).await
}

/// Drafts v`n` of `doc` with both reviewers and quinn as approver and
/// sends it for review.
pub(crate) async fn send_for_review(
    app: &TestApp,
    p: &People,
    at: (i64, i64),
    body: &str,
    effective_on: &str,
    reason: &str,
) {
    send_for_review_with(app, p, at, (body, effective_on, reason), "yes").await;
}

/// [`send_for_review`] with "training required" `training` (`yes` or `no`).
async fn send_for_review_with(
    app: &TestApp,
    p: &People,
    (doc, n): (i64, i64),
    (body, effective_on, reason): (&str, &str, &str),
    training: &str,
) {
    let reviewers = [p.ids[1].to_string(), p.ids[2].to_string()];
    let approver = p.ids[3].to_string();
    let mut f = draft_fields(body, &reviewers, &approver, effective_on, reason);
    for x in f.iter_mut() {
        if x.0 == "training_required" {
            x.1 = training;
        }
    }
    let res = save_draft(app, &p.author, (doc, n), &f).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let res = step(app, &p.author, (doc, n), "submit_review", &[], None).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

/// Drafts v`n` of `doc` with both reviewers and quinn, reviews and approves it.
pub(crate) async fn approve(
    app: &TestApp,
    p: &People,
    at: (i64, i64),
    body: &str,
    effective_on: &str,
    reason: &str,
) {
    approve_with(app, p, at, (body, effective_on, reason), "yes").await;
}

/// [`approve`] with "training required" `training` (`yes` or `no`).
pub(crate) async fn approve_with(
    app: &TestApp,
    p: &People,
    (doc, n): (i64, i64),
    texts: (&str, &str, &str),
    training: &str,
) {
    send_for_review_with(app, p, (doc, n), texts, training).await;
    for (b, user) in [(&p.r1, "rita"), (&p.r2, "ravi")] {
        let res = step(app, b, (doc, n), "review", &[], Some((user, REVIEW_PW))).await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
    let res = step(app, &p.qa, (doc, n), "approve", &[], Some(("quinn", QA_PW))).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn a_document_is_reviewed_in_parallel_approved_and_its_next_version_supersedes_it_on_its_day()
{
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Cleaning of the moulding line", "sop", p.ids[0]).await;
    assert_eq!(state_of(&app, doc, 1), "draft");

    // The approver cannot approve before both reviewers signed.
    let reviewers = [p.ids[1].to_string(), p.ids[2].to_string()];
    let approver = p.ids[3].to_string();
    let f = draft_fields(
        "# Purpose\nDry for 10 minutes.\n",
        &reviewers,
        &approver,
        "",
        "",
    );
    assert_eq!(
        save_draft(&app, &p.author, (doc, 1), &f).await.status(),
        303
    );
    let res = step(&app, &p.author, (doc, 1), "submit_review", &[], None).await;
    assert_eq!(res.status(), 303);
    let res = review_as(&app, &p.r1, "rita", (doc, 1)).await;
    assert_eq!(res.status(), 303);
    let res = approve_as_quinn(&app, &p, (doc, 1)).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.reviews_missing"
    );
    // A reviewer who signed cannot sign again; the author cannot review.
    let res = review_as(&app, &p.r1, "rita", (doc, 1)).await;
    assert_eq!(res.status(), 403);
    let res = review_as(&app, &p.r2, "ravi", (doc, 1)).await;
    assert_eq!(res.status(), 303);
    let res = approve_as_quinn(&app, &p, (doc, 1)).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // No effective date: effective on approval, in the same transaction.
    assert_eq!(state_of(&app, doc, 1), "effective");
    let page = p.author.get_html(&format!("/documents/{doc}")).await;
    assert!(page.contains("DOC-1 v1"), "{page}");
    assert!(page.contains("<h1>Purpose</h1>"), "the body is rendered");
    assert_eq!(
        page.matches("sig-ok").count(),
        3,
        "two reviews and the approval, verified"
    );

    // v2: a revision needs a change reason; it waits for its date.
    let res = p
        .author
        .submit(
            &format!("/documents/{doc}"),
            &format!("/documents/{doc}/revise"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(state_of(&app, doc, 2), "draft");
    let in_3_days = (app.clock.now().date_naive() + chrono::Days::new(3)).to_string();
    let f = draft_fields(
        "# Purpose\nDry for 15 minutes.\n",
        &reviewers,
        &approver,
        &in_3_days,
        "",
    );
    let res = save_draft(&app, &p.author, (doc, 2), &f).await;
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("a revision needs a change reason"), "{body}");
    assert!(
        body.contains("Dry for 15 minutes."),
        "the typed body is kept"
    );
    approve(
        &app,
        &p,
        (doc, 2),
        "# Purpose\nDry for 15 minutes.\n",
        &in_3_days,
        "The drying time was too short (CAPA-1)",
    )
    .await;
    assert_eq!(state_of(&app, doc, 2), "approved");
    assert_eq!(state_of(&app, doc, 1), "effective", "v1 stays in force");

    // An approved version's content is fixed.
    // SECURITY.md 8
    let f = draft_fields("changed", &reviewers, &approver, "", "x");
    let res = save_draft(&app, &p.author, (doc, 2), &f).await;
    assert_eq!(res.status(), 409, "{}", res.text().await.unwrap());

    // The scheduler does nothing before the day, then makes v2 effective and
    // supersedes v1 in the same transaction.
    app.scheduler.run_named("document_effective_dates").unwrap();
    assert_eq!(state_of(&app, doc, 2), "approved");
    app.clock.advance(chrono::Duration::days(3));
    let ran = app.scheduler.run_named("document_effective_dates").unwrap();
    assert_eq!(
        ran,
        attest::jobs::Outcome::Ran("1 document versions made effective".into())
    );
    assert_eq!(state_of(&app, doc, 2), "effective");
    assert_eq!(state_of(&app, doc, 1), "superseded");
    let entries = app.audit_of("document_version.transition");
    let last_two: Vec<&str> = entries[entries.len() - 2..]
        .iter()
        .map(|e| e["after"]["transition"].as_str().unwrap())
        .collect();
    assert_eq!(last_two, ["supersede", "make_effective"]);
    assert_eq!(entries.last().unwrap()["actor"]["id"], "system");

    // The superseded version stays readable, marked so; its print says so.
    // (Three days on, rita signs in again.)
    assert_eq!(p.r1.login("rita", REVIEW_PW).await.status(), 303);
    let old = p.r1.get_html(&format!("/documents/{doc}/v/1")).await;
    assert!(old.contains("SUPERSEDED"), "{old}");
    let res = p.r1.get(&format!("/documents/{doc}/v/1/print")).await;
    let print = res.text().await.unwrap();
    for words in [
        "SUPERSEDED",
        "Revision history",
        "uncontrolled after that day",
        "Approved",
    ] {
        assert!(print.contains(words), "{words}: {print}");
    }
    // Every signature still verifies.
    let report = attest::service::verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.ok, "{:?}", report.failures);
    assert_eq!(report.signatures, 6);

    // The redline of v1 to v2.
    let red =
        p.r1.get_html(&format!("/documents/{doc}/redline?from=1&to=2"))
            .await;
    assert!(red.contains("<del>10</del><ins>15</ins>"), "{red}");
    assert!(red.contains("1 word added, 1 removed"), "{red}");
    let side =
        p.r1.get_html(&format!("/documents/{doc}/redline?from=1&to=2&view=side"))
            .await;
    assert!(side.contains("<del>10</del>") && side.contains("<ins>15</ins>"));

    // The master list shows v2 effective; review due filters work.
    let list = p.r1.get_html("/documents?type=sop").await;
    assert!(
        list.contains("DOC-1") && list.contains("v2, since"),
        "{list}"
    );
    let none = p.r1.get_html("/documents?review=due").await;
    assert!(none.contains("No document matches"), "{none}");
}

#[tokio::test]
async fn the_draft_form_refuses_bad_input_keeps_it_and_saves_nothing() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(
        &p.author,
        "Incoming inspection",
        "work_instruction",
        p.ids[0],
    )
    .await;
    let (_, before) = version_of(&app, doc, 1);
    let r1 = [p.ids[1].to_string()];
    let cases: Vec<(Vec<String>, String, &str, String, &str)> = vec![
        // A reviewer who is the approver.
        (
            vec![p.ids[3].to_string()],
            p.ids[3].to_string(),
            "",
            "Body text kept".into(),
            "The approver cannot also be a reviewer",
        ),
        // An approver without the quality role.
        (
            r1.to_vec(),
            p.ids[2].to_string(),
            "",
            "Body text kept".into(),
            "The approver must hold the quality role",
        ),
        // An effective date in the past.
        (
            r1.to_vec(),
            p.ids[3].to_string(),
            "2020-01-01",
            "Body text kept".into(),
            "The effective date cannot be in the past",
        ),
        // A body over the limit.
        (
            r1.to_vec(),
            p.ids[3].to_string(),
            "",
            format!("Body text kept {}", "x".repeat(200_001)),
            "The body can have at most 200 KB",
        ),
        // The author as a reviewer.
        (
            vec![p.ids[0].to_string()],
            p.ids[3].to_string(),
            "",
            "Body text kept".into(),
            "The author cannot review their own version",
        ),
        // The author as approver.
        (
            r1.to_vec(),
            p.ids[0].to_string(),
            "",
            "Body text kept".into(),
            "The approver cannot be the author",
        ),
    ];
    for (reviewers, approver, date, body, words) in cases {
        let f = draft_fields(&body, &reviewers, &approver, date, "");
        let res = save_draft(&app, &p.author, (doc, 1), &f).await;
        assert_eq!(res.status(), 400, "{words}");
        let html = res.text().await.unwrap();
        assert!(html.contains(words), "{words}: {html}");
        assert!(html.contains("Body text kept"), "the typed body comes back");
        assert!(
            html.contains("id=\"draft-problems\""),
            "a summary at the top"
        );
        assert_eq!(version_of(&app, doc, 1).1, before, "nothing saved: {words}");
    }
    // A reviewer who is not an engineer of ours cannot approve, and an
    // engineer cannot correct the document's facts.
    let res =
        p.r1.submit(
            &format!("/documents/{doc}"),
            &format!("/documents/{doc}/edit"),
            &[
                ("owner", "1"),
                ("review_months", "12"),
                ("reason", "x"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(!app.audit_of("access.denied").is_empty());
}

#[tokio::test]
async fn a_request_for_changes_voids_the_round_and_its_signatures_still_verify() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Labelling", "sop", p.ids[0]).await;
    send_for_review(&app, &p, (doc, 1), "Label every box.", "", "").await;
    let res = review_as(&app, &p.r1, "rita", (doc, 1)).await;
    assert_eq!(res.status(), 303);
    // A request for changes needs a comment.
    let res = step(
        &app,
        &p.r2,
        (doc, 1),
        "request_changes",
        &[("comment", " ")],
        None,
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.comment_required"
    );
    let res = step(
        &app,
        &p.r2,
        (doc, 1),
        "request_changes",
        &[("comment", "Say which label printer")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(state_of(&app, doc, 1), "draft");
    let page = p.author.get_html(&format!("/documents/{doc}/v/1")).await;
    assert!(
        page.contains("Say which label printer"),
        "the author reads why"
    );
    // The draft changes; rita's signature of round 1 binds what she read.
    send_for_review(&app, &p, (doc, 1), "Label every box on printer L2.", "", "").await;
    // Round 2 needs both again.
    let res = approve_as_quinn(&app, &p, (doc, 1)).await;
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.reviews_missing"
    );
    let report = attest::service::verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.ok, "{:?}", report.failures);
    // A round's kept content cannot be changed behind Attest's back.
    use diesel::RunQueryDsl;
    let changed =
        diesel::sql_query("UPDATE document_rounds SET content = '{}'").execute(&mut app.conn());
    assert!(changed.is_err(), "a round's content is kept as sent");
}

#[tokio::test]
async fn never_two_effective_versions_and_two_approvals_at_once_make_one() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Sterilisation", "sop", p.ids[0]).await;
    approve(&app, &p, (doc, 1), "v1", "", "").await;
    assert_eq!(state_of(&app, doc, 1), "effective");
    // v2 in review, reviewed; then two approvals of it sent at once.
    let res = p
        .author
        .submit(
            &format!("/documents/{doc}"),
            &format!("/documents/{doc}/revise"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A second open version is refused while v2 is open.
    let res = p
        .author
        .submit(
            &format!("/documents/{doc}"),
            &format!("/documents/{doc}/revise"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        version_of_opt(&app, doc, 3).is_none(),
        "no v3 while v2 is open"
    );
    send_for_review(&app, &p, (doc, 2), "v2", "", "Clarified").await;
    // A reviewer opens on what changed against the version in force.
    let review_page = p.r1.get_html(&format!("/documents/{doc}/v/2")).await;
    assert!(
        review_page.contains("read what changed against the effective version")
            && review_page.contains("redline?from=1&#38;to=2"),
        "{review_page}"
    );
    for (b, user) in [(&p.r1, "rita"), (&p.r2, "ravi")] {
        let res = step(&app, b, (doc, 2), "review", &[], Some((user, REVIEW_PW))).await;
        assert_eq!(res.status(), 303);
    }
    let (id, version) = version_of(&app, doc, 2);
    let v = version.to_string();
    let page = format!("/documents/{doc}/v/2");
    let action = format!("/document-versions/{id}/approve");
    let first = p.qa.submit(&page, &action, &[("version", &v)]).await;
    let form = SignForm::of(&first.text().await.unwrap());
    let (a, b) = tokio::join!(
        form.send(&p.qa, Some("quinn"), QA_PW),
        form.send(&p.qa, Some("quinn"), QA_PW)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 303, "{statuses:?}");
    assert_ne!(statuses[1], 303, "the second is refused: {statuses:?}");
    assert_eq!(state_of(&app, doc, 2), "effective");
    assert_eq!(state_of(&app, doc, 1), "superseded");
    // The database itself holds one effective version per document.
    use diesel::RunQueryDsl;
    let forced = diesel::sql_query(format!(
        "UPDATE document_versions SET state = 'effective' WHERE document_id = {doc} AND number = 1"
    ))
    .execute(&mut app.conn());
    assert!(forced.is_err(), "a second effective version is refused");
}

fn version_of_opt(app: &TestApp, doc: i64, n: i64) -> Option<i64> {
    attest::db::repo::documents::version_id(&mut app.conn(), doc, n).unwrap()
}

#[tokio::test]
async fn a_body_cannot_carry_script_into_the_page_security_26() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Hostile", "form", p.ids[0]).await;
    let body = "Hello <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)> <svg onload=alert(4)>";
    let reviewers = [p.ids[1].to_string()];
    let approver = p.ids[3].to_string();
    let f = draft_fields(body, &reviewers, &approver, "", "");
    assert_eq!(
        save_draft(&app, &p.author, (doc, 1), &f).await.status(),
        303
    );
    let page = p.r1.get_html(&format!("/documents/{doc}/v/1")).await;
    let article = page
        .split("<article class=\"doc-body\">")
        .nth(1)
        .unwrap()
        .split("</article>")
        .next()
        .unwrap();
    // Inside the markup (between < and >) none of it survives; as text it is inert.
    let tags: Vec<&str> = article
        .split('<')
        .skip(1)
        .filter_map(|t| t.split('>').next())
        .collect();
    for bad in ["script", "javascript:", "img", "onerror", "svg", "onload"] {
        assert!(tags.iter().all(|t| !t.contains(bad)), "{bad} in {tags:?}");
    }
    assert!(
        article.contains("&lt;script&gt;"),
        "shown as text: {article}"
    );
}

/// A version's files are part of what its signatures bind; the API reads
/// the master list and a document with its signatures; the master list
/// exports; what needs whom is on their dashboard; the owner's periodic
/// review moves the clock; retiring ends the document's life.
#[tokio::test]
async fn files_api_exports_dashboards_periodic_review_and_retirement() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Device history record form", "form", p.ids[0]).await;
    let (id, _) = version_of(&app, doc, 1);
    let page = format!("/documents/{doc}/v/1");
    let to = format!("/attachments/document_version/docv-{id}");
    let res =
        crate::attachments::attach(&p.author, (&page, &to), "", ("dhr.pdf", b"%PDF-1.4 form"))
            .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // A reviewer may not attach to someone else's draft.
    let res = crate::attachments::attach(&p.r1, (&page, &to), "", ("x.txt", b"x")).await;
    assert_eq!(res.status(), 403);

    // Dashboards: the reviewers see their review, the approver waits.
    send_for_review(&app, &p, (doc, 1), "", "", "").await;
    let rita = p.r1.get_html("/").await;
    assert!(
        rita.contains("DOC-1 v1") && rita.contains("sign Reviewed"),
        "{rita}"
    );
    let quinn = p.qa.get_html("/").await;
    assert!(
        quinn.contains("Yours to approve once 2 more reviewer(s) sign"),
        "{quinn}"
    );
    // From review on, the files are fixed with the content.
    let res = crate::attachments::attach(&p.author, (&page, &to), "", ("late.pdf", b"late")).await;
    assert_eq!(res.status(), 409, "{}", res.text().await.unwrap());
    // The signing form shows the file with its SHA-256.
    let (vid, version) = version_of(&app, doc, 1);
    let signing =
        p.r1.submit(
            &page,
            &format!("/document-versions/{vid}/review"),
            &[("version", &version.to_string())],
        )
        .await
        .text()
        .await
        .unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"%PDF-1.4 form"));
    assert!(signing.contains(&sha), "the signer sees the file's digest");
    let res = SignForm::of(&signing)
        .send(&p.r1, Some("rita"), REVIEW_PW)
        .await;
    assert_eq!(res.status(), 303);
    let res = review_as(&app, &p.r2, "ravi", (doc, 1)).await;
    assert_eq!(res.status(), 303);
    let res = approve_as_quinn(&app, &p, (doc, 1)).await;
    assert_eq!(res.status(), 303);

    // The read API.
    let token = p.qa.api_token("docs", &["read"]).await;
    let (status, list) = app.api_get("/api/v1/documents?type=form", &token).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["key"], "DOC-1");
    assert_eq!(list["items"][0]["effective_version"], 1);
    let (status, one) = app.api_get("/api/v1/documents/DOC-1", &token).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["versions"][0]["state"], "effective");
    assert_eq!(one["versions"][0]["files"][0]["sha256"], sha.as_str());
    let sigs = one["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3);
    assert!(sigs.iter().all(|s| s["verified"] == true), "{sigs:?}");
    let (status, _) = app.api_get("/api/v1/documents/CAPA-1", &token).await;
    assert_eq!(status, 400);
    let (status, _) = app.api_get("/api/v1/documents/DOC-99", &token).await;
    assert_eq!(status, 404);
    let (status, _) = app.api_get("/api/v1/documents?review=soon", &token).await;
    assert_eq!(status, 400);

    // The master list exports, kept with a signed manifest, audited.
    let res =
        p.r1.submit(
            "/documents?type=form",
            "/documents/exports",
            &[("type", "form"), ("format", "csv")],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let listed = p.r1.get_html("/documents/exports").await;
    assert!(
        listed.contains("type=form") && listed.contains("/documents/exports/1/file"),
        "{listed}"
    );
    let csv =
        p.r1.get("/documents/exports/1/file")
            .await
            .bytes()
            .await
            .unwrap();
    let text = String::from_utf8_lossy(&csv).to_string();
    assert!(
        text.starts_with("number,title,type,effective_version"),
        "{text}"
    );
    assert!(
        text.contains("DOC-1,Cleaning of the moulding line,Form,v1"),
        "{text}"
    );
    let manifest = p.r1.get("/documents/exports/1/manifest").await;
    assert_eq!(manifest.status(), 200);
    let manifest = manifest.bytes().await.unwrap();
    let vkey = p.r1.get("/audit/key").await.text().await.unwrap();
    let checked = attest::trace::manifest::verify(&csv, &manifest, vkey.trim()).unwrap();
    assert_eq!(checked.manifest.format, "csv");
    let entry = app.audit_of("document.exported").pop().unwrap();
    assert_eq!(entry["after"]["rows"], 1);
    assert_eq!(entry["after"]["sha256"], checked.manifest.sha256.as_str());
    // A changed byte no longer verifies.
    let mut changed = csv.to_vec();
    changed[0] ^= 1;
    assert!(attest::trace::manifest::verify(&changed, &manifest, vkey.trim()).is_err());
    let res =
        p.r1.submit("/documents", "/documents/exports", &[("format", "xlsx")])
            .await;
    assert_eq!(res.status(), 303);
    let xlsx = p.r1.get("/documents/exports/2/file").await;
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let res =
        p.r1.submit("/documents", "/documents/exports", &[("format", "pdf")])
            .await;
    assert_eq!(res.status(), 400);

    // Periodic review: a form is reviewed every 36 months from today.
    let today = app.clock.now().date_naive();
    let doc_row = attest::db::repo::documents::find_document(&mut app.conn(), doc)
        .unwrap()
        .unwrap();
    assert_eq!(
        doc_row.next_review_on,
        attest::domain::document::next_review(today, 36)
    );
    app.clock.advance(chrono::Duration::days(36 * 31));
    assert_eq!(p.author.login("erin", AUTHOR_PW).await.status(), 303);
    let erin = p.author.get_html("/").await;
    assert!(
        erin.contains("Periodic review due") && erin.contains("overdue"),
        "{erin}"
    );
    let due = p.author.get_html("/documents?review=due").await;
    assert!(due.contains("DOC-1"), "{due}");
    // Quality sees every document past its review, whoever owns it.
    assert_eq!(p.qa.login("quinn", QA_PW).await.status(), 303);
    let team = p.qa.get_html("/").await;
    assert!(
        team.contains("Documents past their periodic review: 1 owned by others"),
        "{team}"
    );
    // erin owns it: she signs Reviewed: still valid.
    let res = step(
        &app,
        &p.author,
        (doc, 1),
        "periodic_review",
        &[],
        Some(("erin", AUTHOR_PW)),
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let later = app.clock.now().date_naive();
    let doc_row = attest::db::repo::documents::find_document(&mut app.conn(), doc)
        .unwrap()
        .unwrap();
    assert_eq!(
        doc_row.next_review_on,
        attest::domain::document::next_review(later, 36)
    );
    // Retirement: quality, with a reason and a signature; nothing effective after.
    let res = step(
        &app,
        &p.qa,
        (doc, 1),
        "retire",
        &[("reason", "")],
        Some(("quinn", QA_PW)),
    )
    .await;
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.reason_required"
    );
    let res = step(
        &app,
        &p.qa,
        (doc, 1),
        "retire",
        &[("reason", "Replaced by the electronic DHR")],
        Some(("quinn", QA_PW)),
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert_eq!(state_of(&app, doc, 1), "obsolete");
    let page = p.qa.get_html(&format!("/documents/{doc}")).await;
    assert!(page.contains("OBSOLETE"), "{page}");
    assert!(
        !page.contains("Start a new version"),
        "a retired document takes no new version"
    );
    let report = attest::service::verification::verify_all(&mut app.conn()).unwrap();
    assert!(report.ok, "{:?}", report.failures);
}

/// Item 9: a CAPA's impact names the documents to revise, an action item
/// names the revision that carries it out, and the CAPA shows where that
/// revision stands; a nonconformance lists the documents it concerns. The
/// master list finds documents by the beginnings of words in any version.
#[tokio::test]
async fn documents_link_to_capas_and_their_items_and_are_found_by_their_words() {
    use attest::domain::capa::CapaState;
    use attest::seed::walk::{self, Signer};
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Moulding line cleaning", "sop", p.ids[0]).await;
    let quinn_id = p.ids[3];
    let capa = {
        let mut conn = app.conn();
        let owner = walk::account(&mut conn, attest::domain::ids::UserId(quinn_id)).unwrap();
        let mut signer = Signer::open(&mut conn, owner.clone(), QA_PW).unwrap();
        crate::capas::walked(
            &app,
            &mut conn,
            (&owner, &mut signer),
            quinn_id,
            "Flash on housings",
            CapaState::Action,
        )
    };
    let page = format!("/documents/{doc}");
    // A key that names nothing is refused on the form, the key kept.
    let res = p
        .author
        .submit(
            &page,
            &format!("/documents/{doc}/links"),
            &[("key", "CAPA-77")],
        )
        .await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("There is no CAPA-77") && html.contains("value=\"CAPA-77\""),
        "{html}"
    );
    let res = p
        .author
        .submit(
            &page,
            &format!("/documents/{doc}/links"),
            &[("key", &capa.key().to_lowercase())],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let res = p
        .author
        .submit(
            &page,
            &format!("/documents/{doc}/links"),
            &[("key", &capa.key())],
        )
        .await;
    assert_eq!(res.status(), 400, "linked already");
    // v1 carries out the CAPA's first action item.
    let (vid, _) = version_of(&app, doc, 1);
    let item = capa.items[0].id.to_string();
    let res =
        p.qa.submit(
            &page,
            &format!("/document-versions/{vid}/carries-out"),
            &[("item", &item)],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // An engineer who owns neither the CAPA nor the item may not.
    let res =
        p.r1.submit(
            &page,
            &format!("/document-versions/{vid}/carries-out"),
            &[("item", &item)],
        )
        .await;
    assert_eq!(res.status(), 403);
    let capa_page = p.qa.get_html(&format!("/capas/{}", capa.id)).await;
    assert!(
        capa_page.contains("DOC-1")
            && capa_page.contains("v1 draft")
            && capa_page.contains("(to revise)"),
        "{capa_page}"
    );
    assert!(capa_page.contains("Carried out by"), "{capa_page}");
    approve(&app, &p, (doc, 1), "Scrape the mould, then dry it.", "", "").await;
    let capa_page = p.qa.get_html(&format!("/capas/{}", capa.id)).await;
    assert!(
        capa_page.contains("v1 effective"),
        "the CAPA sees the revision in force"
    );
    let doc_page = p.qa.get_html(&page).await;
    assert!(
        doc_page.contains(&format!("{} item 1", capa.key())),
        "{doc_page}"
    );

    // Found by the beginnings of its words, in the title or any version's body.
    for (q, found) in [
        ("scrap", true),
        ("MOULD dry", true),
        ("cleaning", true),
        ("dryer", false),
        ("zzz", false),
    ] {
        let list =
            p.r1.get_html(&format!("/documents?q={}", q.replace(' ', "+")))
                .await;
        assert_eq!(list.contains("DOC-1"), found, "{q}: {list}");
    }
    // Unlinking keeps the link in the History.
    let link_id = attest::db::repo::links::of(&mut app.conn(), "document", "doc-1")
        .unwrap()
        .into_iter()
        .find(|l| l.from_type == "capa")
        .unwrap()
        .id;
    let res = p
        .author
        .submit(
            &page,
            &format!("/documents/{doc}/links/{link_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.audit_of("link.removed").len(), 1);
}

/// Every guard of the document workflow refuses over HTTP with its rule's
/// id and changes nothing; withdrawing needs a reason.
#[tokio::test]
async fn every_guard_refuses_over_http_and_changes_nothing() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let doc = create(&p.author, "Supplier audits", "plan", p.ids[0]).await;
    // Nothing written, no reviewer, no approver.
    let before = version_of(&app, doc, 1);
    let res = step(&app, &p.author, (doc, 1), "submit_review", &[], None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.content_required document.reviewer_required document.approver_required"
    );
    assert_eq!(version_of(&app, doc, 1), before, "nothing saved");
    // Someone else's draft: not theirs to send.
    let res = step(&app, &p.r1, (doc, 1), "submit_review", &[], None).await;
    assert_eq!(res.status(), 403);
    // A planned date, passed by the time of the approval.
    let tomorrow = (app.clock.now().date_naive() + chrono::Days::new(1)).to_string();
    send_for_review(
        &app,
        &p,
        (doc, 1),
        "Audit every supplier yearly.",
        &tomorrow,
        "",
    )
    .await;
    for (b, user) in [(&p.r1, "rita"), (&p.r2, "ravi")] {
        assert_eq!(review_as(&app, b, user, (doc, 1)).await.status(), 303);
    }
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(p.qa.login("quinn", QA_PW).await.status(), 303);
    let res = approve_as_quinn(&app, &p, (doc, 1)).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.effective_date_passed"
    );
    // Back to draft with a new date; approved for a day to come, quality
    // cannot make it effective early.
    let res = step(
        &app,
        &p.qa,
        (doc, 1),
        "request_changes",
        &[("comment", "New date")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(p.author.login("erin", AUTHOR_PW).await.status(), 303);
    assert_eq!(p.r1.login("rita", REVIEW_PW).await.status(), 303);
    assert_eq!(p.r2.login("ravi", REVIEW_PW).await.status(), 303);
    let in_5 = (app.clock.now().date_naive() + chrono::Days::new(5)).to_string();
    send_for_review(
        &app,
        &p,
        (doc, 1),
        "Audit every supplier yearly.",
        &in_5,
        "",
    )
    .await;
    for (b, user) in [(&p.r1, "rita"), (&p.r2, "ravi")] {
        assert_eq!(review_as(&app, b, user, (doc, 1)).await.status(), 303);
    }
    assert_eq!(approve_as_quinn(&app, &p, (doc, 1)).await.status(), 303);
    assert_eq!(state_of(&app, doc, 1), "approved");
    let res = step(&app, &p.qa, (doc, 1), "make_effective", &[], None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.effective_date_not_reached"
    );
    // Nobody supersedes by hand.
    let res = step(&app, &p.qa, (doc, 1), "supersede", &[], None).await;
    assert_ne!(res.status(), 303);
    assert_eq!(state_of(&app, doc, 1), "approved");
    // A withdrawal needs its reason.
    let doc2 = create(&p.author, "Withdrawn idea", "policy", p.ids[0]).await;
    let res = step(
        &app,
        &p.author,
        (doc2, 1),
        "withdraw",
        &[("reason", "")],
        None,
    )
    .await;
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "document.reason_required"
    );
    let res = step(
        &app,
        &p.author,
        (doc2, 1),
        "withdraw",
        &[("reason", "Covered by the quality manual")],
        None,
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(state_of(&app, doc2, 1), "withdrawn");
    let page = p.author.get_html(&format!("/documents/{doc2}")).await;
    assert!(page.contains("WITHDRAWN - NEVER IN FORCE"), "{page}");
}
