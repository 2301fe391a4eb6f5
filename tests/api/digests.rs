//! Mail preferences and digests (issue 18, item 5): a person sends a
//! category of mail to a daily digest; it holds those mails (the app still
//! shows them) and at 07:00 UTC one mail lists what was held, what is
//! overdue and what falls due within 7 days, once; signature requests and
//! overdue items cannot be turned off.

use attest::db::repo::outbox;

use crate::helpers::*;
use crate::mail::{open_capa_due as open_capa, run_job};

const QUINN_PW: &str = "violet sunrise passphrase 1";
const ELLEN_PW: &str = "granite orchard passphrase 3";

fn mails_to(app: &TestApp, to: &str) -> Vec<outbox::Mail> {
    outbox::list(&mut app.conn(), None, to, (0, 100)).unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_digest_lists_what_was_held_and_what_falls_due_once() {
    let app = spawn_app().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let page = ellen.get_html("/notifications/settings").await;
    assert!(
        page.contains("ellen@example.com") && page.contains("always sent"),
        "{page}"
    );

    // Signature requests cannot be turned off: the form comes back as typed.
    let res = ellen
        .submit(
            "/notifications/settings",
            "/notifications/settings",
            &[
                ("version", "0"),
                ("digest", "weekly"),
                ("cat_signatures", "off"),
                ("cat_assignments", "digest"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(page.contains("cannot be turned off"), "{page}");
    assert!(
        page.contains(r#"name="cat_assignments" value="digest" aria-label="Records and action items assigned to you: In the digest" checked"#),
        "the choices come back as typed: {page}"
    );
    assert!(
        page.contains(r#"<option value="weekly" selected>"#),
        "{page}"
    );
    assert!(app.audit_of("user.mail_preferences_changed").is_empty());

    let res = ellen
        .submit(
            "/notifications/settings",
            "/notifications/settings",
            &[
                ("version", "0"),
                ("digest", "daily"),
                ("cat_assignments", "digest"),
                ("cat_due_soon", "digest"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.audit_of("user.mail_preferences_changed").len(), 1);

    // Two CAPAs for ellen, one due in 3 days: told in the app, not by mail.
    let soon = (app.clock.today() + chrono::Duration::days(3)).to_string();
    open_capa(&quinn, ellen_id, "Seal leaks", Some(&soon)).await;
    open_capa(&quinn, ellen_id, "Cap cracks", None).await;
    run_job(&app, "notify");
    assert!(
        mails_to(&app, "ellen@example.com").is_empty(),
        "held for the digest"
    );
    let n = attest::db::repo::notifications::list(&mut app.conn(), ellen_id, true, (0, 10))
        .unwrap()
        .1;
    assert_eq!(n, 2, "the app shows them at once");
    run_job(&app, "digests");
    assert!(
        mails_to(&app, "ellen@example.com").is_empty(),
        "not before 07:00 next"
    );

    // The next 07:00 UTC: the due-soon reminder is held too, then the digest.
    let now = app.clock.now();
    let next = attest::domain::notification::DigestEvery::Daily.due_at(now)
        + chrono::Duration::days(1)
        + chrono::Duration::minutes(1);
    app.clock.advance(next - now);
    run_job(&app, "reminders");
    run_job(&app, "notify");
    assert!(mails_to(&app, "ellen@example.com").is_empty());
    run_job(&app, "digests");
    run_job(&app, "digests");
    let mails = mails_to(&app, "ellen@example.com");
    assert_eq!(mails.len(), 1, "one digest: {mails:?}");
    let d = &mails[0].letter;
    assert_eq!(
        d.subject,
        "Your Attest digest: 3 new, 0 overdue, 1 due soon"
    );
    for line in [
        "Your daily digest from Attest.",
        "New for you (3):",
        "- CAPA-1 is assigned to you (as owner)",
        "- CAPA-2 is assigned to you (as owner)",
        "- CAPA-1: the CAPA is due in",
        "Due in the next 7 days (1):",
        &format!("- CAPA-1: the CAPA (due {soon})"),
        &format!("  {}/capas/1", app.base),
    ] {
        assert!(d.text.contains(line), "{line:?} in\n{}", d.text);
    }
    assert!(!d.text.contains("Overdue ("), "{}", d.text);
    // quinn kept every category immediately: no digest.
    assert!(
        mails_to(&app, "quinn@example.com")
            .iter()
            .all(|m| !m.letter.subject.contains("digest"))
    );
}
