//! Signature requests (issue 18, item 6): from a step that needs someone
//! else's signature, a person asks a named colleague who may give it; the
//! colleague is told (in the app and by mail) and finds it in "What needs
//! me"; the record says whom it waits on; the request is withdrawn by who
//! asked or quality, and ends when the step is taken or the record moves
//! on. Every request and withdrawal is audited; a refusal for role too.

use crate::capas::walked;
use crate::helpers::*;
use crate::mail::run_job;
use attest::db::repo::signature_requests::{self as repo, Ended, Request};
use attest::domain::capa::CapaState;

const QUINN_PW: &str = "violet sunrise passphrase 1";
const QUINCY_PW: &str = "amber harbour passphrase 2";
const ELLEN_PW: &str = "granite orchard passphrase 3";
const EDDIE_PW: &str = "copper lantern passphrase 4";
const ANNA_PW: &str = "silver meadow passphrase 5";

/// A CAPA owned by `owner_id`, walked through the workflow to
/// verification (its closing signature now waits on quality).
fn capa_in_verification(app: &TestApp, owner_id: i64, signer: (&str, &str)) -> i64 {
    use attest::seed::walk::{self, Signer};
    let mut conn = app.conn();
    let owner = walk::account(&mut conn, attest::domain::ids::UserId(owner_id)).unwrap();
    let signing = walk::account(
        &mut conn,
        attest::domain::ids::UserId(app.user_id(signer.0)),
    )
    .unwrap();
    let mut signer = Signer::open(&mut conn, signing, signer.1).unwrap();
    let c = walked(
        app,
        &mut conn,
        (&owner, &mut signer),
        owner_id,
        "Cracked hinge",
        CapaState::Verification,
    );
    c.id
}

fn capa_version(app: &TestApp, id: i64) -> String {
    attest::db::repo::capas::find(&mut app.conn(), id)
        .unwrap()
        .unwrap()
        .version
        .to_string()
}

/// The requests on CAPA `id`, open or not, oldest first.
fn requests_on(app: &TestApp, id: i64) -> Vec<Request> {
    let mut conn = app.conn();
    let mut out = Vec::new();
    for n in 1..=50 {
        match repo::find(&mut conn, n).unwrap() {
            Some(r) if r.record_id == format!("capa-{id}") => out.push(r),
            Some(_) => {}
            None => break,
        }
    }
    out
}

/// `b` asks `asked_of` (a user number, or "" for no one) to sign step
/// `action` of CAPA `id`, with `note`.
async fn ask(b: &Browser, id: i64, action: &str, asked_of: &str, note: &str) -> reqwest::Response {
    b.submit(
        &format!("/capas/{id}"),
        &format!("/capas/{id}/signature-requests"),
        &[("action", action), ("asked_of", asked_of), ("note", note)],
    )
    .await
}

async fn withdraw(b: &Browser, id: i64, request: i64) -> reqwest::Response {
    b.submit(
        &format!("/capas/{id}"),
        &format!("/capas/{id}/signature-requests/{request}/withdraw"),
        &[],
    )
    .await
}

/// The options of the ask form `form` on a page: (value, name).
fn choices(page: &str, form: &str) -> Vec<(String, String)> {
    let Some(select) = page
        .split(&format!("id=\"{form}-asked_of\""))
        .nth(1)
        .and_then(|s| s.split("</select>").next())
    else {
        return Vec::new();
    };
    select
        .split("<option value=\"")
        .skip(2)
        .map(|o| {
            let value = o.split('"').next().unwrap().to_string();
            let name = o.split('>').nth(1).unwrap().split('<').next().unwrap();
            (value, name.to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_owner_asks_a_quality_colleague_by_name_who_is_told_finds_it_and_signs() {
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, quincy_id) = app.user_with_roles("quincy", &["quality"], QUINCY_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (_, _) = app.user_with_roles("eddie", &["engineer"], EDDIE_PW).await;
    let (anna, _) = app.user_with_roles("anna", &["auditor"], ANNA_PW).await;
    let id = capa_in_verification(&app, ellen_id, ("quinn", QUINN_PW));
    run_job(&app, "notify");

    // The owner may not sign the closure: the page says whom it waits on
    // and offers to ask one of the people who could sign it, never herself
    // nor an engineer.
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    assert!(
        page.contains(
            "Waiting on a quality signature that is not the owner&#39;s (Approved: effective)"
        ),
        "{page}"
    );
    assert!(
        page.contains("<summary>Ask someone to sign…</summary>"),
        "{page}"
    );
    let offered = choices(&page, "ask-close_effective");
    assert_eq!(
        offered,
        [
            (quincy_id.to_string(), "quincy Person".to_string()),
            (quinn_id.to_string(), "quinn Person".to_string()),
        ]
    );
    // Quality, who may sign, is not offered the form; nor a read-only
    // auditor.
    let theirs = quinn.get_html(&format!("/capas/{id}")).await;
    assert!(!theirs.contains("Ask someone to sign"), "{theirs}");
    let auditors = anna.get_html(&format!("/capas/{id}")).await;
    assert!(!auditors.contains("Ask someone to sign"));

    // An auditor asking anyway is refused and the refusal audited.
    let denied = app.audit_of("access.denied").len();
    let res = ask(&anna, id, "close_effective", &quinn_id.to_string(), "").await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.audit_of("access.denied").len(), denied + 1);

    // No one chosen: the form comes back as typed with the error at its top.
    let res = ask(&ellen, id, "close_effective", "", "Evidence in WO-88").await;
    let body = answers(res, 400, "Choose who is to sign.").await;
    assert!(body.contains(">Evidence in WO-88</textarea>"), "{body}");
    assert!(
        body.contains("id=\"ask-close_effective-problems\""),
        "{body}"
    );
    assert!(body.contains("<details class=\"step ask\" open>"), "{body}");
    // Someone who could not sign it (an engineer, herself) is refused.
    let eddie = app.user_id("eddie").to_string();
    for who in [eddie.as_str(), &ellen_id.to_string()] {
        let res = ask(&ellen, id, "close_effective", who, "").await;
        answers(res, 400, "that person cannot").await;
    }
    // A step that does not wait on someone else's signature is refused.
    let res = ask(&ellen, id, "submit_verification", &quinn_id.to_string(), "").await;
    answers(res, 400, "does not wait on someone else").await;
    assert!(requests_on(&app, id).is_empty(), "nothing was kept");
    assert!(app.audit_of("signature.requested").is_empty());

    // Asked: kept, audited on the CAPA, and an event for quinn alone.
    let note = "The 3 lots are in; evidence attached";
    let res = ask(&ellen, id, "close_effective", &quinn_id.to_string(), note).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/capas/{id}#next").as_str()
    );
    let kept = requests_on(&app, id);
    assert_eq!(kept.len(), 1);
    let r = &kept[0];
    assert_eq!(
        (r.asked_of, r.asked_by, r.action.as_str(), r.state.as_str()),
        (quinn_id, ellen_id, "close_effective", "verification")
    );
    assert_eq!(
        (r.meaning.as_str(), r.note.as_str()),
        ("Approved: effective", note)
    );
    assert_eq!(r.ended, None);
    let entry = app.audit_of("signature.requested").pop().unwrap();
    assert_eq!(entry["entity"]["id"], format!("capa-{id}").as_str());
    assert_eq!(entry["actor"]["id"], format!("u-{ellen_id}").as_str());
    assert_eq!(entry["after"]["asked_of"], format!("u-{quinn_id}").as_str());
    assert_eq!(entry["after"]["meaning"], "Approved: effective");

    // The record says whom it waits on; quinn is not offered twice.
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    assert!(
        page.contains(&format!(
            "Waiting on <strong>quinn Person</strong>: asked by ellen Person on {}: “{note}”",
            r.created_at.format("%Y-%m-%d")
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "quinn Person is asked to sign “Close as effective” on CAPA-{id}."
        )),
        "the flash says so"
    );
    assert_eq!(
        choices(&page, "ask-close_effective"),
        [(quincy_id.to_string(), "quincy Person".to_string())]
    );
    // Asking her again is refused, saying when she was asked.
    let res = ask(&ellen, id, "close_effective", &quinn_id.to_string(), "").await;
    answers(res, 400, "quinn Person was asked to sign this on").await;

    // quinn is told (in the app, and by mail: the file transport), quincy
    // is not told of ellen's request.
    run_job(&app, "notify");
    let told = |user: i64| {
        attest::db::repo::notifications::list(&mut app.conn(), user, false, (0, 100))
            .unwrap()
            .0
            .into_iter()
            .map(|n| n.words)
            .collect::<Vec<_>>()
    };
    let asked_words = format!(
        "CAPA-{id}: your signature is asked for “Close as effective” (Approved: effective)"
    );
    assert!(
        told(quinn_id).contains(&asked_words),
        "{:?}",
        told(quinn_id)
    );
    assert!(!told(quincy_id).contains(&asked_words));
    let mails = attest::db::repo::outbox::list(&mut app.conn(), None, "", (0, 100))
        .unwrap()
        .0;
    let mail = mails
        .iter()
        .find(|m| m.letter.to == "quinn@example.com" && m.letter.text.contains(&asked_words))
        .expect("a mail to quinn");
    assert_eq!(
        mail.letter.subject,
        format!("CAPA-{id}: your signature is requested (Approved: effective)")
    );
    assert!(
        !mail.letter.text.contains(note),
        "the note stays in the app"
    );

    // In quinn's "What needs me", and on the page above her form.
    let dash = quinn.get_html("/").await;
    assert!(
        dash.contains(&format!("CAPA-{id}: ellen Person asks for your signature")),
        "{dash}"
    );
    assert!(
        dash.contains(&format!(
            "“Close as effective” (Approved: effective); asked on {}: “{note}”",
            r.created_at.format("%Y-%m-%d")
        )),
        "{dash}"
    );
    let theirs = quinn.get_html(&format!("/capas/{id}")).await;
    assert!(
        theirs.contains("<strong>ellen Person asked you to sign this</strong>"),
        "{theirs}"
    );

    // quinn signs: the request ends as taken, in the step's transaction.
    let v = capa_version(&app, id);
    let res = quinn
        .submit(
            &format!("/capas/{id}"),
            &format!("/capas/{id}/close_effective"),
            &[
                ("version", &v),
                ("effectiveness_result", "effective"),
                ("effectiveness_evidence", "3 lots, 0 cracks"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let res = SignForm::of(&html)
        .send(&quinn, Some("quinn"), QUINN_PW)
        .await;
    assert_eq!(res.status(), 303);
    let r = &requests_on(&app, id)[0];
    assert_eq!((r.ended, r.ended_by), (Some(Ended::Taken), Some(quinn_id)));
    let dash = quinn.get_html("/").await;
    assert!(!dash.contains("asks for your signature"), "{dash}");
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    assert!(!page.contains("Waiting on <strong>"), "{page}");
    assert!(
        attest::service::verification::verify_all(&mut app.conn())
            .unwrap()
            .ok
    );
}

#[tokio::test]
async fn a_request_is_withdrawn_by_who_asked_and_ends_when_the_record_moves_on() {
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (quincy, quincy_id) = app.user_with_roles("quincy", &["quality"], QUINCY_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let (eddie, _) = app.user_with_roles("eddie", &["engineer"], EDDIE_PW).await;
    let id = capa_in_verification(&app, ellen_id, ("quinn", QUINN_PW));
    let res = ask(&ellen, id, "close_effective", &quinn_id.to_string(), "").await;
    assert_eq!(res.status(), 303);
    let request = requests_on(&app, id)[0].id;
    let dash = quinn.get_html("/").await;
    assert!(dash.contains("ellen Person asks for your signature"));

    // Only who asked, or quality, withdraws it: another engineer is
    // refused, and the refusal audited.
    let page = eddie.get_html(&format!("/capas/{id}")).await;
    assert!(page.contains("Waiting on <strong>quinn Person</strong>"));
    assert!(!page.contains("Withdraw the request"), "{page}");
    let denied = app.audit_of("access.denied").len();
    assert_eq!(withdraw(&eddie, id, request).await.status(), 403);
    assert_eq!(app.audit_of("access.denied").len(), denied + 1);
    assert_eq!(requests_on(&app, id)[0].ended, None);

    // ellen withdraws it: audited, gone from quinn's "What needs me".
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    assert!(page.contains(&format!(
        "<form method=\"post\" action=\"/capas/{id}/signature-requests/{request}/withdraw\" class=\"inline\" id=\"withdraw-{request}\">"
    )), "{page}");
    let res = withdraw(&ellen, id, request).await;
    assert_eq!(res.status(), 303);
    let r = &requests_on(&app, id)[0];
    assert_eq!(
        (r.ended, r.ended_by),
        (Some(Ended::Withdrawn), Some(ellen_id))
    );
    let entry = app.audit_of("signature.request_withdrawn").pop().unwrap();
    assert_eq!(entry["entity"]["id"], format!("capa-{id}").as_str());
    assert_eq!(entry["before"]["request"], request);
    assert_eq!(entry["after"]["ended"], "withdrawn");
    let dash = quinn.get_html("/").await;
    assert!(!dash.contains("asks for your signature"), "{dash}");
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    assert!(!page.contains("Waiting on <strong>"));
    // Twice: refused, saying why, at the top of the page.
    let res = withdraw(&ellen, id, request).await;
    answers(res, 409, "no longer open: it was withdrawn already").await;
    assert_eq!(app.audit_of("signature.request_withdrawn").len(), 1);
    // Another record's request is not found through this one.
    let res = ellen
        .submit(
            &format!("/capas/{id}"),
            &format!("/capas/{}/signature-requests/{request}/withdraw", id + 100),
            &[],
        )
        .await;
    assert_eq!(res.status(), 404);

    // Who could sign is as of now: eddie made quality is offered at once
    // (the page keeps its requests and signers until the data changes).
    let offered = |page: &str| choices(page, "ask-close_effective");
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    let eddie_id = app.user_id("eddie");
    assert!(
        !offered(&page)
            .iter()
            .any(|(v, _)| *v == eddie_id.to_string())
    );
    let admin = app.admin().await;
    let eddies = format!("/admin/users/{eddie_id}");
    let v = app.account("eddie").version.to_string();
    let res = admin
        .submit(
            &eddies,
            &format!("{eddies}/roles"),
            &[
                ("version", &v),
                ("role_engineer", "on"),
                ("role_quality", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = ellen.get_html(&format!("/capas/{id}")).await;
    assert!(
        offered(&page)
            .iter()
            .any(|(v, _)| *v == eddie_id.to_string()),
        "{:?}",
        offered(&page)
    );

    // Asked again, of quincy: the check finds the CAPA not effective and
    // reopens its actions, so the request ends as the record moves on.
    let res = ask(&ellen, id, "close_effective", &quincy_id.to_string(), "").await;
    assert_eq!(res.status(), 303);
    let dash = quincy.get_html("/").await;
    assert!(dash.contains("ellen Person asks for your signature"));
    let v = capa_version(&app, id);
    let res = quinn
        .submit(
            &format!("/capas/{id}"),
            &format!("/capas/{id}/reopen_actions"),
            &[
                ("version", &v),
                ("effectiveness_result", "not_effective"),
                ("effectiveness_evidence", "Lot 2 had 4 cracks"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let all = requests_on(&app, id);
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[1].ended, all[1].ended_by),
        (Some(Ended::MovedOn), Some(quinn_id))
    );
    let dash = quincy.get_html("/").await;
    assert!(!dash.contains("asks for your signature"), "{dash}");
}

/// One form and one pair of handlers serve every workflow: an engineer who
/// analysed a risk asks quality to accept it (the analyst may not).
#[tokio::test]
async fn a_risk_analyst_asks_quality_to_accept_the_risk() {
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    {
        let mut conn = app.conn();
        let ctx = attest::service::Ctx {
            log: app.log_origin.clone(),
            actor: attest::audit::Actor::system(),
            now: app.clock.now(),
            op: None,
        };
        attest::seed::risks::risks(&mut conn, &ctx, ellen_id, 6).unwrap();
    }
    // A risk whose acceptance waits on quality's signature.
    let mut found = None;
    for n in 1..=6 {
        let page = ellen.get_html(&format!("/risks/{n}")).await;
        if page.contains("id=\"ask-") {
            found = Some((n, page));
            break;
        }
    }
    let (n, page) = found.expect("a risk whose acceptance ellen may ask for");
    assert!(
        page.contains("that is not the analyst&#39;s (Accepted)"),
        "{page}"
    );
    let form = page
        .split("id=\"ask-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let offered = choices(&page, &format!("ask-{form}"));
    assert!(
        offered.iter().any(|(v, _)| *v == quinn_id.to_string()),
        "{offered:?}"
    );
    assert!(!offered.iter().any(|(v, _)| *v == ellen_id.to_string()));
    let res = ellen
        .submit(
            &format!("/risks/{n}"),
            &format!("/risks/{n}/signature-requests"),
            &[
                ("action", &form),
                ("asked_of", &quinn_id.to_string()),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/risks/{n}#next").as_str()
    );
    let entry = app.audit_of("signature.requested").pop().unwrap();
    assert_eq!(entry["entity"]["type"], "risk");
    let dash = quinn.get_html("/").await;
    assert!(
        dash.contains("ellen Person asks for your signature"),
        "{dash}"
    );
    assert!(
        dash.contains(&format!("href=\"/risks/{n}#next\"")),
        "{dash}"
    );
    let page = quinn.get_html(&format!("/risks/{n}")).await;
    assert!(
        page.contains("<strong>ellen Person asked you to sign this</strong>"),
        "{page}"
    );
}

/// A document's review and approval wait on the people it names: they are
/// told by name when it is sent for review (not every quality user), once,
/// and its author can ask one of them by name.
#[tokio::test]
async fn the_people_a_document_names_are_told_and_can_be_asked_by_name() {
    use crate::documents::{REVIEW_PW, create, people, send_for_review, step, version_of};
    let app = spawn_app().await;
    let p = people(&app).await;
    let (_, quincy_id) = app.user_with_roles("quincy", &["quality"], QUINCY_PW).await;
    let [erin, rita, ravi, quinn] = p.ids;
    let doc = create(&p.author, "Cleaning of the moulding line", "sop", erin).await;
    run_job(&app, "notify");
    send_for_review(&app, &p, (doc, 1), "# Cleaning\n\nWipe.", "", "First issue").await;
    run_job(&app, "notify");
    let told = |user: i64| {
        attest::db::repo::notifications::list(&mut app.conn(), user, false, (0, 100))
            .unwrap()
            .0
            .into_iter()
            .map(|n| n.words)
            .filter(|w| w.contains("a signature is needed"))
            .collect::<Vec<_>>()
    };
    let key = format!("DOC-{doc} v1");
    for reviewer in [rita, ravi] {
        assert_eq!(
            told(reviewer),
            [format!(
                "{key}: a signature is needed (Reviewed) for “Sign as reviewed”"
            )],
            "a named reviewer (an engineer) is told"
        );
    }
    assert_eq!(
        told(quinn).len(),
        1,
        "the named approver: {:?}",
        told(quinn)
    );
    assert!(told(quincy_id).is_empty(), "quality not named is not told");
    assert!(told(erin).is_empty(), "never the author");

    // The author asks ravi by name (the people it names are offered).
    let (id, _) = version_of(&app, doc, 1);
    let page = p.author.get_html(&format!("/documents/{doc}/v/1")).await;
    let offered: Vec<String> = choices(&page, "ask-review")
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(offered.len(), 2, "{page}");
    assert!(offered.contains(&rita.to_string()) && offered.contains(&ravi.to_string()));
    let res = p
        .author
        .submit(
            &format!("/documents/{doc}/v/1"),
            &format!("/document-versions/{id}/signature-requests"),
            &[
                ("action", "review"),
                ("asked_of", &ravi.to_string()),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    // rita signs: the round goes on, and no one is told again.
    let res = step(
        &app,
        &p.r1,
        (doc, 1),
        "review",
        &[],
        Some(("rita", REVIEW_PW)),
    )
    .await;
    assert_eq!(res.status(), 303);
    run_job(&app, "notify");
    assert_eq!(told(ravi).len(), 1, "{:?}", told(ravi));
    assert!(
        p.r2.get_html("/")
            .await
            .contains("erin Person asks for your signature"),
        "ravi's request stays open"
    );
}
