//! In-app notifications from domain events (issue 18, item 1): the notify
//! job writes one per person an event names, never to the person who acted,
//! once however often it runs; the bell counts the unread ones on every
//! page; opening one marks it read and goes to its place.

use crate::helpers::*;
use crate::nonconformances::{act as nc_act, nc_id, product, report_fields};

const QUINN_PW: &str = "violet sunrise passphrase 1";
const QUINCY_PW: &str = "amber harbour passphrase 2";
const ELLEN_PW: &str = "granite orchard passphrase 3";

/// Runs the notify job now (the scheduler also runs it every 5 s: when it
/// is running there, waits and runs it again).
fn notify(app: &TestApp) {
    for _ in 0..100 {
        match app.scheduler.run_named("notify") {
            Some(attest::jobs::Outcome::Ran(_)) => return,
            Some(attest::jobs::Outcome::Busy) => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            other => panic!("the notify job did not run: {other:?}"),
        }
    }
    panic!("the notify job stayed busy");
}

/// How many notifications `user` has (read or not).
fn count(app: &TestApp, user: i64) -> i64 {
    attest::db::repo::notifications::list(&mut app.conn(), user, false, (0, 100))
        .unwrap()
        .1
}

fn bell(html: &str) -> String {
    html.split("class=\"bell")
        .nth(1)
        .and_then(|s| s.split("aria-label=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn events_become_notifications_for_the_people_they_name_once_and_never_for_the_actor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let pid = product(&admin, &app, "PUMP").await;
    let (quinn, quinn_id) = app.user_with_roles("quinn", &["quality"], QUINN_PW).await;
    let (quincy, _) = app.user_with_roles("quincy", &["quality"], QUINCY_PW).await;
    let (ellen, ellen_id) = app.user_with_roles("ellen", &["engineer"], ELLEN_PW).await;
    assert!(app.scheduler.jobs().any(|j| j.name == "notify"));
    notify(&app);
    let empty = ellen.get_html("/notifications").await;
    assert!(empty.contains("No notifications yet"), "{empty}");
    assert_eq!(bell(&empty), "Notifications: none unread");

    // quinn opens a CAPA owned by ellen: ellen is told, quinn is not.
    let owner = ellen_id.to_string();
    let f = [
        ("title", "Seal leaks"),
        ("kind", "corrective"),
        ("source", "complaint"),
        ("priority", "high"),
        ("owner_id", owner.as_str()),
    ];
    assert_eq!(quinn.submit("/capas/new", "/capas", &f).await.status(), 303);
    notify(&app);
    // Once: the events are processed.
    notify(&app);
    assert_eq!(count(&app, ellen_id), 1);
    let page = ellen.get_html("/").await;
    assert_eq!(bell(&page), "Notifications: 1 unread");
    let list = ellen.get_html("/notifications").await;
    assert!(
        list.contains("CAPA-1 is assigned to you (as owner)"),
        "{list}"
    );
    assert_eq!(
        bell(&quinn.get_html("/").await),
        "Notifications: none unread",
        "not told of one's own action"
    );
    assert_eq!(count(&app, quinn_id), 0);

    // Escalating a nonconformance on a product asks quality for a risk
    // review decision: quincy is told, quinn (who escalated) is not.
    let res = quinn
        .submit(
            "/nonconformances/new",
            "/nonconformances",
            &report_fields("Housing too hot", &pid, "high", "48 °C"),
        )
        .await;
    assert_eq!(res.status(), 303);
    let nc = nc_id(&app);
    for step in ["start_review", "escalate_to_capa"] {
        assert_eq!(nc_act(&app, &quinn, nc, step, &[]).await.status(), 303);
    }
    notify(&app);
    let list = quincy.get_html("/notifications?unread=1").await;
    assert!(
        list.contains(&format!(
            "NC-{nc}: a risk review decision is needed (ISO 14971 10)"
        )),
        "{list}"
    );
    assert_eq!(
        bell(&quinn.get_html("/").await),
        "Notifications: none unread"
    );

    // Opening one marks it read and goes to its place; someone else's is
    // not found.
    let id: i64 = list
        .split("id=\"notification-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let res = ellen
        .submit("/notifications", &format!("/notifications/{id}/open"), &[])
        .await;
    assert_eq!(res.status(), 404, "not ellen's");
    let res = quincy
        .submit("/notifications", &format!("/notifications/{id}/open"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/nonconformances/{nc}#risk-review").as_str()
    );
    let list = quincy.get_html("/notifications?unread=1").await;
    assert!(list.contains("Nothing unread."), "{list}");
    let all = quincy.get_html("/notifications").await;
    assert!(all.contains("class=\"read\""), "{all}");

    // Mark all read.
    assert_eq!(bell(&ellen.get_html("/").await), "Notifications: 1 unread");
    let res = ellen
        .submit("/notifications", "/notifications/read-all", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        bell(&ellen.get_html("/").await),
        "Notifications: none unread"
    );
    assert_eq!(ellen.get("/notifications?unread=maybe").await.status(), 400);
}
