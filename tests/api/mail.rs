//! Mail (issue 18): notifications go out by e-mail from the outbox after
//! the change commits, over a real SMTP conversation on TCP with the test
//! server in smtp.rs (STARTTLS or implicit TLS, AUTH PLAIN); a server that
//! is down, slow or refusing never holds up or fails a change; 4xx is
//! tried again with backoff, 5xx fails with the server's answer; a line
//! break in an address or subject never reaches a header; two instances
//! send each mail once.

use std::time::Duration;

use attest::db::repo::outbox::{self, Mail, Status};
use attest::notify::{Letter, MailKind, SmtpUrl};

use crate::helpers::*;
use crate::smtp::{Mode, SmtpServer};

const QUINN_PW: &str = "violet sunrise passphrase 1";
const ELLEN_PW: &str = "granite orchard passphrase 3";

/// Runs the job `name` now (the scheduler runs it every few seconds too:
/// while it runs there, waits for it and runs it again).
pub fn run_job(app: &TestApp, name: &str) -> String {
    for _ in 0..600 {
        match app.scheduler.run_named(name) {
            Some(attest::jobs::Outcome::Ran(done)) => return done,
            Some(attest::jobs::Outcome::Busy) => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("the {name} job did not run: {other:?}"),
        }
    }
    panic!("the {name} job stayed busy");
}

/// The outbox, newest first.
fn mails(app: &TestApp) -> Vec<Mail> {
    outbox::list(&mut app.conn(), None, "", (0, 500)).unwrap().0
}

fn mail_to(app: &TestApp, to: &str) -> Mail {
    mails(app)
        .into_iter()
        .find(|m| m.letter.to == to)
        .unwrap_or_else(|| panic!("no mail to {to} in the outbox"))
}

/// An application that sends mail to `server`, trusting its CA.
async fn mail_app(server: &SmtpServer) -> TestApp {
    let url = server.url();
    spawn_app_with(|s| {
        let ca = server.ca_file(&s.data_dir);
        s.mail.kind = Some(MailKind::Smtp);
        s.mail.smtp = Some(SmtpUrl::parse(&url).unwrap());
        s.mail.smtp_ca_file = Some(ca);
        s.mail.smtp_timeout_seconds = 5;
        s.mail.from = "Attest QMS <qms@example.com>".into();
    })
    .await
}

/// `by` opens a high-priority CAPA owned by `owner` (the owner is told),
/// due on `due_on` or by its priority's default.
pub async fn open_capa_due(by: &Browser, owner: i64, title: &str, due_on: Option<&str>) {
    let owner = owner.to_string();
    let mut f = vec![
        ("title", title),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("priority", "high"),
        ("owner_id", owner.as_str()),
    ];
    if let Some(d) = due_on {
        f.push(("due_on", d));
    }
    assert_eq!(by.submit("/capas/new", "/capas", &f).await.status(), 303);
}

async fn open_capa(by: &Browser, owner: i64, title: &str) {
    open_capa_due(by, owner, title, None).await;
}

#[tokio::test]
async fn a_notification_reaches_the_smtp_server_over_starttls_with_a_link_to_its_place() {
    let server = SmtpServer::start(Mode::StartTls);
    let app = mail_app(&server).await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    open_capa(&quinn, ellen_id, "Seal leaks").await;
    run_job(&app, "notify");
    // Once: running the notify job again queues nothing more.
    run_job(&app, "notify");
    let queued = mails(&app);
    assert_eq!(
        queued.len(),
        1,
        "one mail, to ellen, none to quinn who acted"
    );
    assert_eq!(queued[0].letter.to, "ellen@example.com");
    run_job(&app, "mail");
    let got = server.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert!(m.tls, "STARTTLS was used before the mail was sent");
    assert_eq!(
        m.user.as_deref(),
        Some("attest"),
        "AUTH PLAIN with the URL's user"
    );
    assert_eq!(m.to, ["ellen@example.com"]);
    assert_eq!(m.from, "<qms@example.com>");
    assert!(
        m.data
            .contains("Subject: CAPA-1 is assigned to you (as owner)"),
        "{}",
        m.data
    );
    assert!(
        m.data.contains(&format!("{}/capas/1", app.base)),
        "{}",
        m.data
    );
    assert!(m.data.contains("multipart/alternative"), "{}", m.data);
    assert!(
        !m.data.contains("Seal leaks"),
        "nothing beyond the key and what is needed"
    );
    let sent = mail_to(&app, "ellen@example.com");
    assert_eq!((sent.status, sent.attempts), (Status::Sent, 1));
    // The outbox page lists it as sent.
    let admin = app.admin().await;
    let page = admin.get_html("/admin/outbox?status=sent").await;
    assert!(page.contains("ellen@example.com"), "{page}");
    assert!(page.contains("Sent (1)"), "{page}");
    assert!(page.contains("STARTTLS"), "{page}");
    // Sending again sends nothing more.
    run_job(&app, "mail");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn an_administrator_sends_a_test_mail_over_implicit_tls_and_it_is_audited() {
    let server = SmtpServer::start(Mode::Implicit);
    let app = mail_app(&server).await;
    let admin = app.admin().await;
    let page = admin.get_html("/admin/outbox").await;
    assert!(page.contains("No mail yet"), "{page}");
    assert!(page.contains("implicit TLS"), "{page}");
    let res = admin
        .submit(
            "/admin/outbox",
            "/admin/outbox/test",
            &[("email", "ops@example.org")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.audit_of("mail.test_queued").len(), 1);
    run_job(&app, "mail");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls);
    assert!(
        got[0].data.contains("Subject: A test mail from Attest"),
        "{}",
        got[0].data
    );
    // Other roles cannot see or use the outbox; the refusal is audited.
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    assert_eq!(quinn.get("/admin/outbox").await.status(), 403);
    assert!(!app.audit_of("access.denied").is_empty());
}

// SECURITY.md 23
#[tokio::test]
async fn with_the_smtp_server_down_the_change_commits_and_the_retry_delivers_once_it_is_up() {
    let server = SmtpServer::down(Mode::StartTls);
    let app = mail_app(&server).await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    open_capa(&quinn, ellen_id, "Seal leaks").await;
    assert_eq!(
        app.audit_of("capa.created").len(),
        1,
        "the change committed"
    );
    run_job(&app, "notify");
    run_job(&app, "mail");
    let m = mail_to(&app, "ellen@example.com");
    assert_eq!((m.status, m.attempts), (Status::Queued, 1));
    let wait = m.next_attempt_at - app.clock.now();
    assert!(
        wait > chrono::Duration::seconds(30) && wait <= chrono::Duration::minutes(1),
        "the first retry is a minute later: {wait}"
    );
    assert!(
        m.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("onnect"),
        "{m:?}"
    );

    let server = server.up();
    run_job(&app, "mail");
    assert!(
        server.received().is_empty(),
        "not tried again before its time"
    );
    app.clock.advance(chrono::Duration::seconds(61));
    run_job(&app, "mail");
    assert_eq!(server.received().len(), 1);
    let m = mail_to(&app, "ellen@example.com");
    assert_eq!((m.status, m.attempts), (Status::Sent, 2));
}

#[tokio::test]
async fn a_refusal_fails_the_mail_with_the_servers_answer_and_a_4xx_is_retried_for_two_days() {
    let server = SmtpServer::start(Mode::StartTls);
    server.reply_to("bounce@example.com", "550 5.1.1 no such mailbox here");
    server.reply_to("busy@example.com", "451 4.3.0 mailbox busy, try later");
    let app = mail_app(&server).await;
    let admin = app.admin().await;
    for to in ["bounce@example.com", "busy@example.com"] {
        let res = admin
            .submit("/admin/outbox", "/admin/outbox/test", &[("email", to)])
            .await;
        assert_eq!(res.status(), 303);
    }
    run_job(&app, "mail");
    let bounce = mail_to(&app, "bounce@example.com");
    assert_eq!(bounce.status, Status::Failed, "a 5xx is not tried again");
    let answer = bounce.last_error.clone().unwrap_or_default();
    assert!(
        answer.contains("550") && answer.contains("no such mailbox here"),
        "{answer}"
    );
    let busy = mail_to(&app, "busy@example.com");
    assert_eq!(
        (busy.status, busy.attempts),
        (Status::Queued, 1),
        "a 4xx is"
    );
    assert!(busy.last_error.unwrap_or_default().contains("451"));

    // The failed filter shows it with its answer and a Retry button.
    let page = admin.get_html("/admin/outbox?status=failed").await;
    assert!(page.contains("<td>bounce@example.com</td>"), "{page}");
    assert!(!page.contains("<td>busy@example.com</td>"), "{page}");
    assert!(
        page.contains("no such mailbox here") && page.contains("Retry"),
        "{page}"
    );
    let detail = admin
        .get_html(&format!("/admin/outbox/{}", bounce.id))
        .await;
    assert!(detail.contains("A test mail from Attest") && detail.contains("Queue it again"));
    let res = admin
        .submit(
            "/admin/outbox?status=failed",
            &format!("/admin/outbox/{}/retry", bounce.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(mail_to(&app, "bounce@example.com").status, Status::Queued);
    assert_eq!(app.audit_of("mail.retried").len(), 1);
    // A mail that is not failed is not queued again.
    let res = admin
        .submit(
            "/admin/outbox",
            &format!("/admin/outbox/{}/retry", busy.id),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let shown = admin.get_html(&format!("/admin/outbox/{}", busy.id)).await;
    assert!(
        shown.contains("only a failed mail is queued again"),
        "{shown}"
    );
    assert_eq!(app.audit_of("mail.retried").len(), 1);

    // Two days on, the busy mailbox has had its last try.
    app.clock
        .advance(chrono::Duration::days(2) + chrono::Duration::minutes(1));
    run_job(&app, "mail");
    let busy = mail_to(&app, "busy@example.com");
    assert_eq!(busy.status, Status::Failed);
    assert!(
        busy.last_error
            .unwrap_or_default()
            .contains("not sent in 2 days")
    );
    assert_eq!(mail_to(&app, "bounce@example.com").status, Status::Failed);
    assert!(server.received().is_empty());
}

// SECURITY.md 23
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_does_not_hold_up_changes() {
    let server = SmtpServer::start(Mode::StartTls);
    server.hold(true);
    let app = mail_app(&server).await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    open_capa(&quinn, ellen_id, "Seal leaks").await;
    // The scheduler's own runs pick the mail up; wait until it is stuck.
    let mut waited = 0;
    while server.holding() == 0 {
        assert!(waited < 400, "the mail job never reached the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    // Changes go on while the mail job waits on the server.
    for title in ["Cap cracks", "Label fades"] {
        let change =
            tokio::time::timeout(Duration::from_secs(10), open_capa(&quinn, ellen_id, title));
        change
            .await
            .expect("a change is not held up by the mail server");
    }
    assert_eq!(app.audit_of("capa.created").len(), 3);
    assert_eq!(server.holding(), 1, "the first mail is still at the server");
    server.hold(false);
    let mut waited = 0;
    while mails(&app).iter().any(|m| m.status != Status::Sent) || mails(&app).len() < 3 {
        assert!(
            waited < 600,
            "the mails were not all sent: {:?}",
            mails(&app)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(server.received().len(), 3);
}

// SECURITY.md 24
#[tokio::test]
async fn a_line_break_in_an_address_or_subject_never_reaches_a_mail_header() {
    let server = SmtpServer::start(Mode::StartTls);
    let app = mail_app(&server).await;
    let admin = app.admin().await;
    let typed = "ops@example.org\r\nBcc: everyone@example.org";
    let res = admin
        .submit("/admin/outbox", "/admin/outbox/test", &[("email", typed)])
        .await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(page.contains("Enter an e-mail address"), "{page}");
    assert!(
        page.contains("ops@example.org"),
        "the typed address comes back: {page}"
    );
    assert!(mails(&app).is_empty(), "nothing queued");
    assert!(app.audit_of("mail.test_queued").is_empty());

    // A subject with a line break (say from a record's words) is kept as
    // failed with the reason, never sent.
    let letter = Letter {
        to: "jane@example.com".into(),
        subject: "CAPA-1 is assigned to you\r\nBcc: everyone@example.org".into(),
        text: "x".into(),
        html: "<p>x</p>".into(),
    };
    attest::service::mail::enqueue(
        &mut app.conn(),
        "test-injection",
        None,
        &letter,
        app.clock.now(),
    )
    .unwrap();
    run_job(&app, "mail");
    let m = mail_to(&app, "jane@example.com");
    assert_eq!((m.status, m.attempts), (Status::Failed, 0));
    assert!(
        m.last_error
            .unwrap_or_default()
            .contains("line break in the subject")
    );
    assert!(server.received().is_empty());
    assert_eq!(server.connections(), 0, "the server was never even called");
}

#[tokio::test]
async fn by_default_mail_is_written_as_eml_files_and_a_person_without_an_address_is_told_in_the_app()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (quinn, _) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    open_capa(&quinn, ellen_id, "Seal leaks").await;
    run_job(&app, "notify");
    run_job(&app, "mail");
    let file = app
        .data_dir()
        .join("mail")
        .join(format!("{:08}.eml", mail_to(&app, "ellen@example.com").id));
    let eml = std::fs::read_to_string(&file).unwrap();
    assert!(
        eml.contains("Subject: CAPA-1 is assigned to you (as owner)"),
        "{eml}"
    );
    assert!(eml.contains("To: ellen@example.com"), "{eml}");

    // ellen's address is taken away: the next notification is in the app only.
    let account = app.account("ellen");
    let version = account.version.to_string();
    let res = admin
        .submit(
            &format!("/admin/users/{ellen_id}"),
            &format!("/admin/users/{ellen_id}/profile"),
            &[
                ("version", &version),
                ("full_name", "Ellen Person"),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    open_capa(&quinn, ellen_id, "Cap cracks").await;
    run_job(&app, "notify");
    assert_eq!(mails(&app).len(), 1, "no mail without an address");
    let n = attest::db::repo::notifications::list(&mut app.conn(), ellen_id, true, (0, 10))
        .unwrap()
        .1;
    assert_eq!(n, 2, "both notifications are in the app");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_send_each_mail_once() {
    let server = SmtpServer::start(Mode::StartTls);
    let first = mail_app(&server).await;
    let url = server.url();
    let second = second_instance_with(&first, |s| {
        let ca = server.ca_file(&s.data_dir);
        s.mail.kind = Some(MailKind::Smtp);
        s.mail.smtp = Some(SmtpUrl::parse(&url).unwrap());
        s.mail.smtp_ca_file = Some(ca);
    })
    .await;
    {
        let mut conn = first.conn();
        for i in 0..30 {
            let letter = Letter {
                to: format!("person{i}@example.com"),
                subject: format!("Mail {i}"),
                text: "x".into(),
                html: "<p>x</p>".into(),
            };
            attest::service::mail::enqueue(
                &mut conn,
                &format!("test-{i}"),
                None,
                &letter,
                first.clock.now(),
            )
            .unwrap();
        }
    }
    let (a, b) = (first.scheduler.clone(), second.scheduler.clone());
    let runs: Vec<_> = [a, b]
        .into_iter()
        .map(|s| {
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let _ = s.run_named("mail");
                }
            })
        })
        .collect();
    for r in runs {
        r.join().unwrap();
    }
    run_job(&first, "mail");
    let got = server.received();
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!((got.len(), to.len()), (30, 30), "each mail once");
    assert!(
        mails(&first)
            .iter()
            .all(|m| m.status == Status::Sent && m.attempts == 1)
    );
}
