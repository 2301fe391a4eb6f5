//! Training records over HTTP (issue 16): curricula, assignments when a
//! version takes effect (and on revisions with and without training, new
//! people and role changes, never twice), "Read and understood" through the
//! signing ceremony bound to the version, the quiz gate, overdue with the
//! moved clock, the matrix's numbers, its export, the read API and the
//! training gate of a signed step in both settings.

use crate::documents::{
    AUTHOR_PW, People, QA_PW, REVIEW_PW, approve_with, create, draft_fields, people, save_draft,
    step, version_of,
};
use crate::helpers::*;
use attest::db::repo::training as repo;
use attest::domain::training::AssignmentState;

const TESS_PW: &str = "trainee passphrase 1";

/// Drafts v`n` of `doc`, has it reviewed and approved (quinn), with
/// "training required" `training` (`yes` or `no`); effective at once.
pub(crate) async fn effective(app: &TestApp, p: &People, (doc, n): (i64, i64), training: &str) {
    let reason = if n > 1 { "Revised procedure" } else { "" };
    let body = format!("# Procedure v{n}\n\nClean the line, then record it.\n");
    approve_with(app, p, (doc, n), (&body, "", reason), training).await;
}

/// Starts v`n` of `doc` (a copy of the effective one).
async fn revise(p: &People, doc: i64) {
    let res = p
        .author
        .submit(
            &format!("/documents/{doc}"),
            &format!("/documents/{doc}/revise"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
}

/// Sets DOC-`doc`'s curriculum as quinn.
pub(crate) async fn curriculum(p: &People, doc: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    p.qa.submit(
        &format!("/training/curricula/edit?document={doc}"),
        &format!("/training/curricula/{doc}"),
        fields,
    )
    .await
}

/// `user`'s standing assignment on `doc`, if any.
fn standing(app: &TestApp, user: i64, doc: i64) -> Option<attest::domain::training::Assignment> {
    let mut conn = app.conn();
    let id = repo::standing_of(&mut conn, user, doc).unwrap()?;
    repo::find(&mut conn, id).unwrap()
}

/// Every assignment of `user`, newest first within each document.
fn all_of(app: &TestApp, user: i64) -> Vec<attest::domain::training::Assignment> {
    repo::of_person(&mut app.conn(), user).unwrap()
}

/// Signs "Read and understood" for assignment `id` as `b` (`user`), having
/// opened it (`open`) or not.
async fn acknowledge(
    app: &TestApp,
    b: &Browser,
    (user, pw): (&str, &str),
    id: i64,
    open: bool,
) -> reqwest::Response {
    let page = if open {
        format!("/training/{id}")
    } else {
        "/training/mine".to_string()
    };
    // The trainee's first visit records the opening (a new version of it).
    b.get_html(&page).await;
    let a = repo::find(&mut app.conn(), id).unwrap().unwrap();
    let v = a.version.to_string();
    let res = b
        .submit(
            &page,
            &format!("/training/{id}/acknowledge"),
            &[("version", &v)],
        )
        .await;
    if res.status() != 200 {
        return res;
    }
    let html = res.text().await.unwrap();
    SignForm::of(&html).send(b, Some(user), pw).await
}

/// A new SOP with v1 reviewed by rita and ravi, waiting on quinn's approval.
async fn in_review(app: &TestApp, p: &People, title: &str) -> i64 {
    let [erin, rita, ravi, quinn] = p.ids;
    let doc = create(&p.author, title, "sop", erin).await;
    let reviewers = [rita.to_string(), ravi.to_string()];
    let approver = quinn.to_string();
    let f = draft_fields("Inspect.", &reviewers, &approver, "", "");
    assert_eq!(save_draft(app, &p.author, (doc, 1), &f).await.status(), 303);
    let res = step(app, &p.author, (doc, 1), "submit_review", &[], None).await;
    assert_eq!(res.status(), 303);
    for user in ["rita", "ravi"] {
        // Signed in afresh: the clock may have moved past their sessions.
        let b = app.browser();
        assert_eq!(b.login(user, REVIEW_PW).await.status(), 303);
        let res = step(app, &b, (doc, 1), "review", &[], Some((user, REVIEW_PW))).await;
        assert_eq!(res.status(), 303);
    }
    doc
}

#[tokio::test]
async fn training_follows_versions_curricula_people_and_roles_and_is_never_assigned_twice() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let (tess, tess_id) = app.user_with_roles("tess", &["engineer"], TESS_PW).await;
    let [erin, rita, ravi, quinn] = p.ids;
    let doc = create(&p.author, "Cleaning of the moulding line", "sop", erin).await;

    // Engineers must be trained on DOC-1; nothing is in force yet.
    let res = curriculum(&p, doc, &[("roles", "engineer"), ("due_days", "")]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    assert!(standing(&app, tess_id, doc).is_none());
    let changed = app.audit_of("training.curriculum_changed");
    assert_eq!(
        changed[0]["after"]["roles"],
        serde_json::json!(["engineer"])
    );

    // v1 takes effect with training required: every engineer is assigned,
    // due in 14 days; quality is not in the curriculum.
    effective(&app, &p, (doc, 1), "yes").await;
    let today = app.clock.today();
    for u in [erin, rita, ravi, tess_id] {
        let a = standing(&app, u, doc).expect("assigned");
        assert_eq!((a.version_number, a.state), (1, AssignmentState::Assigned));
        assert_eq!(a.due_on, today + chrono::Duration::days(14));
    }
    assert!(standing(&app, quinn, doc).is_none());
    assert_eq!(app.audit_of("training_assignment.created").len(), 4);
    // Saving the same curriculum again assigns nothing more.
    let res = curriculum(&p, doc, &[("roles", "engineer")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.audit_of("training_assignment.created").len(), 4);

    // Tess reads v1 (opening it is recorded) and signs for it.
    let v1 = standing(&app, tess_id, doc).unwrap();
    let res = acknowledge(&app, &tess, ("tess", TESS_PW), v1.id, true).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let v1 = standing(&app, tess_id, doc).unwrap();
    assert_eq!(v1.state, AssignmentState::Acknowledged);
    assert!(v1.opened_at.is_some() && v1.acknowledged_at.is_some());
    assert_eq!(app.audit_of("training_assignment.opened").len(), 1);
    let page = tess.get_html(&format!("/training/{}", v1.id)).await;
    assert!(page.contains("Read and understood"), "{page}");
    assert_eq!(page.matches("sig-ok").count(), 1, "the signature verifies");

    // v2 needs training: a signature on v1 does not count for it.
    revise(&p, doc).await;
    effective(&app, &p, (doc, 2), "yes").await;
    let v2 = standing(&app, tess_id, doc).unwrap();
    assert_eq!(
        (v2.version_number, v2.state),
        (2, AssignmentState::Assigned)
    );
    assert_eq!(v2.trained_before, Some(1), "trained on an older version");
    assert_eq!(
        v2.cell(app.clock.today()),
        Some(attest::domain::training::Cell::Superseded)
    );
    let old = repo::find(&mut app.conn(), v1.id).unwrap().unwrap();
    assert_eq!(old.state, AssignmentState::Superseded);
    let res = acknowledge(&app, &tess, ("tess", TESS_PW), v2.id, true).await;
    assert_eq!(res.status(), 303);
    // Rita leaves v2 open.
    let rita_v2 = standing(&app, rita, doc).unwrap();
    assert_eq!(rita_v2.state, AssignmentState::Assigned);

    // v3 needs no training: tess's training is carried forward (recorded,
    // no signature); rita's open training moves to v3 with its due date.
    revise(&p, doc).await;
    effective(&app, &p, (doc, 3), "no").await;
    let v3 = standing(&app, tess_id, doc).unwrap();
    assert_eq!(
        (v3.version_number, v3.state),
        (3, AssignmentState::Acknowledged)
    );
    assert_eq!(v3.carried_from, Some(v2.id));
    assert!(v3.because.contains("carried forward"), "{}", v3.because);
    let rita_v3 = standing(&app, rita, doc).unwrap();
    assert_eq!(
        (rita_v3.version_number, rita_v3.state, rita_v3.due_on),
        (3, AssignmentState::Assigned, rita_v2.due_on)
    );
    // Tess's record lists all three versions; only her two signatures.
    let record = tess.get_html(&format!("/training/people/{tess_id}")).await;
    assert_eq!(record.matches("sig-verified").count(), 2, "{record}");
    assert!(record.contains("carried forward, no signature"));
    // Printed for an auditor (audited); not for another engineer.
    let printed = tess
        .get_html(&format!("/training/people/{tess_id}/print"))
        .await;
    assert!(printed.contains("Printed on"));
    assert_eq!(app.audit_of("training.record_printed").len(), 1);
    let res = p.r1.get(&format!("/training/people/{tess_id}")).await;
    assert_eq!(res.status(), 403);
    let denied = app.audit_of("access.denied");
    assert!(
        denied
            .iter()
            .any(|e| e["entity"]["id"] == format!("u-{tess_id}"))
    );

    // A new engineer is assigned the version in force at once.
    let (_nina, nina) = app.user_with_roles("nina", &["engineer"], TESS_PW).await;
    let a = standing(&app, nina, doc).unwrap();
    assert_eq!((a.version_number, a.state), (3, AssignmentState::Assigned));

    // Tess becomes quality only: her training is no longer required
    // (kept); back to engineer, her training stands again.
    let admin = app.admin().await;
    let page = format!("/admin/users/{tess_id}");
    let v = app.account("tess").version.to_string();
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[("version", &v), ("role_quality", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let a = standing(&app, tess_id, doc).unwrap();
    assert_eq!(a.state, AssignmentState::NotRequired);
    assert!(a.acknowledged_at.is_some(), "the evidence is kept");
    let v = app.account("tess").version.to_string();
    let res = admin
        .submit(
            &page,
            &format!("{page}/roles"),
            &[("version", &v), ("role_engineer", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let a = standing(&app, tess_id, doc).unwrap();
    assert_eq!(a.state, AssignmentState::Acknowledged);
    // Never two standing assignments, never a version assigned twice.
    let all = all_of(&app, tess_id);
    assert_eq!(all.len(), 3, "v1, v2, v3 once each");
    assert_eq!(
        all.iter()
            .filter(|a| a.state != AssignmentState::Superseded)
            .count(),
        1
    );

    // A superseded version cannot be signed for (409, audited).
    let res = acknowledge(&app, &tess, ("tess", TESS_PW), v1.id, true).await;
    assert_eq!(res.status(), 409);
    let e = app.audit_of("training_assignment.transition");
    assert!(e.iter().any(|x| x["after"]["transition"] == "not_required"));
}

#[tokio::test]
async fn the_trainee_alone_signs_after_reading_and_passing_the_quiz_and_bad_answers_record_nothing()
{
    let app = spawn_app().await;
    let p = people(&app).await;
    let (tess, tess_id) = app.user_with_roles("tess", &["engineer"], TESS_PW).await;
    let erin = p.ids[0];
    let doc = create(&p.author, "Torque settings", "work_instruction", erin).await;
    let other = create(&p.author, "Labelling", "work_instruction", erin).await;
    let (v1_id, _) = version_of(&app, doc, 1);
    let (other_v1, _) = version_of(&app, other, 1);

    // The owner sets a quiz; a bad one comes back as typed, nothing saved.
    let quiz_page = format!("/document-versions/{v1_id}/quiz");
    let res = p
        .author
        .submit(
            &quiz_page,
            &quiz_page,
            &[
                ("pass_mark", "50"),
                ("q1_text", "What torque for M4?"),
                ("q1_choices", "2 Nm"),
                ("q1_correct", "1"),
            ],
        )
        .await;
    let html = answers(res, 400, "give 2 to 6 choices").await;
    assert!(html.contains("What torque for M4?"), "typed input kept");
    assert!(repo::quiz(&mut app.conn(), v1_id).unwrap().is_none());
    let res = p
        .author
        .submit(
            &quiz_page,
            &quiz_page,
            &[
                ("pass_mark", "100"),
                ("q1_text", "What torque for M4?"),
                ("q1_choices", "2 Nm\n3 Nm\n"),
                ("q1_correct", "2"),
                ("q2_text", "Who checks it?"),
                ("q2_choices", "The operator\nQuality"),
                ("q2_correct", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // Someone who neither owns the document nor holds quality may neither
    // read the quiz's answers nor set it (each refusal audited).
    assert_eq!(tess.get(&quiz_page).await.status(), 403);
    let res = tess
        .submit("/training/mine", &quiz_page, &[("pass_mark", "50")])
        .await;
    assert_eq!(res.status(), 403);
    let denied = app.audit_of("access.denied");
    assert!(denied.len() >= 2, "{denied:?}");
    // A quiz on the other document, to name its questions by mistake.
    let other_page = format!("/document-versions/{other_v1}/quiz");
    let res = p
        .author
        .submit(
            &other_page,
            &other_page,
            &[
                ("pass_mark", "50"),
                ("q1_text", "Where does the label go?"),
                ("q1_choices", "Lid\nBase"),
                ("q1_correct", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    let res = curriculum(&p, doc, &[("roles", "engineer")]).await;
    assert_eq!(res.status(), 303);
    effective(&app, &p, (doc, 1), "yes").await;
    let a = standing(&app, tess_id, doc).unwrap();

    // Signing before opening the version: refused, audited, nothing recorded.
    let denied = app.audit_of("access.denied").len();
    let res = acknowledge(&app, &tess, ("tess", TESS_PW), a.id, false).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.headers()["attest-refused-rules"]
            .to_str()
            .unwrap()
            .contains("training.not_opened")
    );
    // Opened (the page), but the quiz is not passed: refused, audited.
    let res = acknowledge(&app, &tess, ("tess", TESS_PW), a.id, true).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "training.quiz_not_passed"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Pass the version"), "{html}");
    assert_eq!(app.audit_of("access.denied").len(), denied + 2);
    assert_eq!(
        standing(&app, tess_id, doc).unwrap().state,
        AssignmentState::Assigned
    );

    let quiz = repo::quiz(&mut app.conn(), v1_id).unwrap().unwrap().0;
    let (q1, q2) = (quiz.questions[0].id, quiz.questions[1].id);
    let other_q = repo::quiz(&mut app.conn(), other_v1)
        .unwrap()
        .unwrap()
        .0
        .questions[0]
        .id;
    let page = format!("/training/{}", a.id);
    let action = format!("/training/{}/quiz", a.id);
    // Answers naming a question of another version: refused, no attempt.
    let (f1, f2, fo) = (format!("q{q1}"), format!("q{q2}"), format!("q{other_q}"));
    let res = tess
        .submit(&page, &action, &[(&f1, "1"), (&f2, "0"), (&fo, "0")])
        .await;
    answers(res, 400, "not a question of this version").await;
    assert!(repo::attempts(&mut app.conn(), a.id).unwrap().is_empty());
    // Someone else's quiz and signature: 403, audited.
    let denied = app.audit_of("access.denied").len();
    let res =
        p.r1.submit("/training/mine", &action, &[(&f1, "1"), (&f2, "0")])
            .await;
    assert_eq!(res.status(), 403);
    let res =
        p.r1.submit(
            "/training/mine",
            &format!("/training/{}/acknowledge", a.id),
            &[("version", &a.version.to_string())],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(app.audit_of("access.denied").len() >= denied + 2);
    // A wrong answer: recorded as an attempt, not passed.
    let res = tess.submit(&page, &action, &[(&f1, "0"), (&f2, "0")]).await;
    assert_eq!(res.status(), 303);
    let tried = repo::attempts(&mut app.conn(), a.id).unwrap();
    assert_eq!((tried.len(), tried[0].passed), (1, false));
    // The quiz is fixed once tried.
    let res = p
        .author
        .submit(&quiz_page, &quiz_page, &[("pass_mark", "50")])
        .await;
    answers(res, 409, "the quiz is fixed").await;
    // Right answers pass; then the signature is taken.
    let res = tess.submit(&page, &action, &[(&f1, "1"), (&f2, "0")]).await;
    assert_eq!(res.status(), 303);
    let res = acknowledge(&app, &tess, ("tess", TESS_PW), a.id, true).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let done = standing(&app, tess_id, doc).unwrap();
    assert_eq!(done.state, AssignmentState::Acknowledged);
    assert_eq!(done.quiz_score, "2 of 2 right (pass mark 100 %)");
    let signed: Vec<_> = app
        .audit_of("training_assignment.transition")
        .into_iter()
        .filter(|e| e["entity"]["id"] == format!("trn-{}", a.id))
        .collect();
    assert_eq!(signed.len(), 1);
    assert_eq!(signed[0]["signature"]["meaning"], "Read and understood");
    let mut conn = app.conn();
    let report = attest::service::verification::verify_all(&mut conn).unwrap();
    assert!(report.ok, "{:?}", report.failures);
}

#[tokio::test]
async fn overdue_training_shows_everywhere_and_the_gate_warns_or_refuses_the_signer() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let (tess, tess_id) = app.user_with_roles("tess", &["engineer"], TESS_PW).await;
    let erin = p.ids[0];
    let capa_proc = create(&p.author, "Document control procedure", "sop", erin).await;
    let res = curriculum(
        &p,
        capa_proc,
        &[
            ("roles", "quality"),
            ("people", &tess_id.to_string()),
            ("due_days", "7"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    effective(&app, &p, (capa_proc, 1), "yes").await;
    let wi = create(&p.author, "Packing", "work_instruction", erin).await;
    let res = curriculum(&p, wi, &[("roles", "engineer")]).await;
    assert_eq!(res.status(), 303);
    effective(&app, &p, (wi, 1), "yes").await;
    // Tess signs the work instruction.
    let a = standing(&app, tess_id, wi).unwrap();
    assert_eq!(
        acknowledge(&app, &tess, ("tess", TESS_PW), a.id, true)
            .await
            .status(),
        303
    );

    // A known data set: DOC-1 (quality + tess, due in 7 days), DOC-2
    // (engineers erin, rita, ravi, tess, due in 14). Tess trained on DOC-2.
    let token = p.qa.api_token("matrix", &["read"]).await;
    let (status, m) = app.api_get("/api/v1/training", &token).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["counts"]["current"], 1);
    assert_eq!(m["counts"]["due"], 5);
    assert_eq!(m["counts"]["overdue"], 0);
    assert_eq!(m["total"], 6, "every active person, the administrator too");

    // Eight days on: the two DOC-1 cells are overdue, DOC-2's still due.
    app.clock.advance(chrono::Duration::days(8));
    for (b, user, pw) in [
        (&p.qa, "quinn", QA_PW),
        (&tess, "tess", TESS_PW),
        (&p.author, "erin", AUTHOR_PW),
    ] {
        assert_eq!(b.login(user, pw).await.status(), 303);
    }
    let (_, m) = app.api_get("/api/v1/training", &token).await;
    assert_eq!(m["counts"]["overdue"], 2, "{m}");
    assert_eq!(m["counts"]["due"], 3);
    let (_, only) = app
        .api_get("/api/v1/training?state=overdue&role=quality", &token)
        .await;
    assert_eq!(only["total"], 1);
    assert_eq!(only["items"][0]["username"], "quinn");
    let page = p.qa.get_html("/training?state=overdue").await;
    assert!(page.contains("data-count=\"overdue\">2<"), "{page}");
    // What needs me, and quality's dashboard counts.
    let dash = tess.get_html("/").await;
    assert!(dash.contains("Training overdue since"), "{dash}");
    let dash = p.qa.get_html("/").await;
    assert!(
        dash.contains("data-count=\"training-overdue\">2<"),
        "{dash}"
    );
    // The scheduler's job tells of each once, as events.
    let ctx = attest::service::Ctx {
        log: "test".into(),
        actor: attest::audit::Actor::system(),
        now: app.clock.now(),
        op: None,
    };
    let n = attest::service::training::tell_overdue(&mut app.conn(), &ctx).unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        attest::service::training::tell_overdue(&mut app.conn(), &ctx).unwrap(),
        0
    );
    // An engineer's token may not read the matrix.
    let eng = tess.api_token("mine", &["read"]).await;
    let (status, _) = app.api_get("/api/v1/training", &eng).await;
    assert_eq!(status, 403);
    let res = tess.get("/training").await;
    assert_eq!(res.status(), 403);

    // Settings without the days to train in, or with a bad number: the
    // form comes back as typed, nothing saved.
    let res =
        p.qa.submit(
            "/training/settings",
            "/training/settings",
            &[("due_days", "0"), ("gate.capa", "block")],
        )
        .await;
    let html = answers(
        res,
        400,
        "Days to train in are a whole number from 1 to 365",
    )
    .await;
    assert!(html.contains("value=\"0\""), "typed value kept");
    assert!(app.audit_of("training.settings_changed").is_empty());
    // The gate: document control governs approving a version; warn first.
    let fields = [
        ("due_days", "14"),
        ("gate.document_version", "warn"),
        ("gate.capa", "warn"),
        ("gate.nonconformance", "warn"),
        ("governs.document_version.approve", &capa_proc.to_string()),
    ];
    let res =
        p.qa.submit("/training/settings", "/training/settings", &fields)
            .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let doc3 = in_review(&app, &p, "Receiving inspection").await;
    let res = step(&app, &p.qa, (doc3, 1), "approve", &[], None).await;
    let form = answers(res, 200, "Training overdue.").await;
    assert!(form.contains(&format!("DOC-{capa_proc} v1")), "{form}");
    let res = SignForm::of(&form).send(&p.qa, Some("quinn"), QA_PW).await;
    assert_eq!(res.status(), 303);
    let warned = app.audit_of("training.gate_warned");
    assert_eq!(warned.len(), 1);
    assert_eq!(warned[0]["after"]["document"], format!("DOC-{capa_proc}"));

    // Refuse: the step is refused before any password, and audited.
    let fields = [
        ("due_days", "14"),
        ("gate.document_version", "block"),
        ("governs.document_version.approve", &capa_proc.to_string()),
    ];
    let res =
        p.qa.submit("/training/settings", "/training/settings", &fields)
            .await;
    assert_eq!(res.status(), 303);
    let doc4 = in_review(&app, &p, "Shipping").await;
    let res = step(&app, &p.qa, (doc4, 1), "approve", &[], None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.headers()["attest-refused-rules"],
        "training.gate_overdue"
    );
    assert!(res.text().await.unwrap().contains("has been overdue since"));
    assert_eq!(app.audit_of("training.gate_refused").len(), 1);
    assert_eq!(crate::documents::state_of(&app, doc4, 1), "in_review");

    // The matrix exported as CSV, kept with a signed manifest.
    let res =
        p.qa.submit(
            "/training?state=overdue",
            "/training/exports",
            &[("state", "overdue"), ("format", "csv")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let list = p.qa.get_html("/training/exports").await;
    let id: i64 = list
        .split("id=\"export-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let csv =
        p.qa.get(&format!("/training/exports/{id}/file"))
            .await
            .text()
            .await
            .unwrap();
    assert_eq!(
        csv.lines().count(),
        3,
        "a header and two overdue cells: {csv}"
    );
    assert!(csv.contains(",overdue,"));
    let manifest = p.qa.get(&format!("/training/exports/{id}/manifest")).await;
    assert_eq!(manifest.status(), 200);
    // The file is not served as a document export.
    assert_eq!(
        p.qa.get(&format!("/documents/exports/{id}/file"))
            .await
            .status(),
        404
    );
}
