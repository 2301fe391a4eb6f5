//! Reminders of due dates (issue 18, item 4), through the application's
//! clock: due soon (by priority), overdue every day until done, escalated
//! to quality once; each once, however often the job runs and on however
//! many instances; each becomes a notification and a mail like any event.

use attest::db::repo::{notifications, reminders};

use crate::helpers::*;
use crate::mail::run_job;

const QUINN_PW: &str = "violet sunrise passphrase 1";
const QUINCY_PW: &str = "amber harbour passphrase 2";
const ELLEN_PW: &str = "granite orchard passphrase 3";

fn kept(app: &TestApp) -> i64 {
    reminders::count(&mut app.conn()).unwrap()
}

fn words_of(app: &TestApp, user: i64) -> Vec<String> {
    notifications::list(&mut app.conn(), user, false, (0, 100))
        .unwrap()
        .0
        .into_iter()
        .map(|n| n.words)
        .collect()
}

fn day(app: &TestApp, days: i64) -> String {
    (app.clock.today() + chrono::Duration::days(days)).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_date_is_reminded_before_then_daily_when_overdue_then_escalated_once() {
    let app = spawn_app().await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (_, quincy_id) = app.user_with_roles("quincy", &["quality"], QUINCY_PW).await;
    let (_, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    let due = day(&app, 10);
    let owner = ellen_id.to_string();
    let f = [
        ("title", "Seal leaks"),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("priority", "high"),
        ("owner_id", owner.as_str()),
        ("due_on", due.as_str()),
    ];
    assert_eq!(quinn.submit("/capas/new", "/capas", &f).await.status(), 303);
    run_job(&app, "reminders");
    assert_eq!(
        kept(&app),
        0,
        "10 days ahead: a high-priority CAPA is reminded 5 days ahead"
    );

    app.clock.advance(chrono::Duration::days(5));
    run_job(&app, "reminders");
    run_job(&app, "reminders");
    assert_eq!(kept(&app), 1, "due soon, once");
    run_job(&app, "notify");
    let ellen = words_of(&app, ellen_id);
    assert!(
        ellen.contains(&format!("CAPA-1: the CAPA is due in 5 days ({due})")),
        "{ellen:?}"
    );

    app.clock.advance(chrono::Duration::days(6));
    run_job(&app, "reminders");
    run_job(&app, "reminders");
    assert_eq!(kept(&app), 2, "overdue, once that day");
    app.clock.advance(chrono::Duration::days(1));
    run_job(&app, "reminders");
    assert_eq!(kept(&app), 3, "and again the next day");
    run_job(&app, "notify");
    let ellen = words_of(&app, ellen_id);
    assert!(
        ellen.contains(&format!(
            "CAPA-1: the CAPA is overdue by 2 days (due {due})"
        )),
        "{ellen:?}"
    );
    assert!(
        words_of(&app, quinn_id)
            .iter()
            .all(|w| !w.contains("overdue"))
    );

    // Seven days overdue: quality is told, once, on two instances at once.
    app.clock.advance(chrono::Duration::days(5));
    let second = second_instance(&app).await;
    second.clock.advance(app.clock.offset());
    let (a, b) = (app.scheduler.clone(), second.scheduler.clone());
    let runs: Vec<_> = [a, b]
        .into_iter()
        .map(|s| {
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let _ = s.run_named("reminders");
                }
            })
        })
        .collect();
    for r in runs {
        r.join().unwrap();
    }
    run_job(&app, "reminders");
    assert_eq!(
        kept(&app),
        5,
        "that day's overdue and the escalation, each once"
    );
    run_job(&app, "notify");
    for q in [quinn_id, quincy_id] {
        let words = words_of(&app, q);
        let escalated: Vec<_> = words.iter().filter(|w| w.contains("escalated")).collect();
        assert_eq!(
            escalated,
            [&format!(
                "CAPA-1: the CAPA is 7 days overdue (due {due}): escalated to quality"
            )],
            "{words:?}"
        );
    }
    // The escalation's mail went out to quality with the rest (files here).
    let mails = attest::db::repo::outbox::list(&mut app.conn(), None, "escalated", (0, 10))
        .unwrap()
        .0;
    let mut to: Vec<_> = mails.iter().map(|m| m.letter.to.as_str()).collect();
    to.sort();
    assert_eq!(to, ["quincy@example.com", "quinn@example.com"]);
}
