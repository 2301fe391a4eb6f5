//! Time-driven jobs and domain events: a job runs on one instance at a time
//! across two instances serving one database (PostgreSQL advisory lock, or
//! the lock file beside a SQLite database); the audit checkpoint is signed
//! by a scheduled job; events are kept as written.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use attest::jobs::{Job, Outcome};

use crate::helpers::*;

/// A job that holds its lock for a while and counts how many copies of it
/// run at once.
fn holding_job(running: Arc<AtomicUsize>, most: Arc<AtomicUsize>, runs: Arc<AtomicUsize>) -> Job {
    Job {
        name: "test.hold",
        every: Duration::from_secs(3600),
        run: Arc::new(move |_conn, _clock| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            runs.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(400));
            running.fetch_sub(1, Ordering::SeqCst);
            Ok("held".into())
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_runs_on_one_of_two_instances_at_a_time() {
    let first = spawn_app().await;
    let second = second_instance(&first).await;

    let (running, most, runs) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let job = holding_job(running.clone(), most.clone(), runs.clone());
    let mut both = Vec::new();
    for s in [first.scheduler.clone(), second.scheduler.clone()] {
        for _ in 0..3 {
            let (s, job) = (s.clone(), job.clone());
            both.push(tokio::task::spawn_blocking(move || s.run(&job)));
        }
    }
    let mut outcomes = Vec::new();
    for h in both {
        outcomes.push(h.await.unwrap());
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "{outcomes:?}");
    let ran = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Ran(_)))
        .count();
    let busy = outcomes.iter().filter(|o| **o == Outcome::Busy).count();
    assert!(ran >= 1 && busy >= 1, "{outcomes:?}");
    assert_eq!(ran, runs.load(Ordering::SeqCst));
    assert_eq!(ran + busy, 6);
    // Once it has finished, either instance may run it again.
    assert_eq!(second.scheduler.run(&job), Outcome::Ran("held".into()));
    assert_eq!(first.scheduler.run(&job), Outcome::Ran("held".into()));
}

#[tokio::test]
async fn the_audit_checkpoint_is_signed_by_the_scheduled_job_at_the_applications_time() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    admin
        .create_user("cora", "Cora Quality", &["quality"])
        .await;
    app.clock.advance(chrono::Duration::days(3));
    let sched = app.scheduler.clone();
    let outcome = tokio::task::spawn_blocking(move || sched.run_named("sign_checkpoint"))
        .await
        .unwrap();
    let size = attest::audit::size(&mut app.conn()).unwrap();
    assert_eq!(
        outcome,
        Some(Outcome::Ran(format!("checkpoint at {size} entries")))
    );
    let latest = attest::audit::checkpoint::latest(&mut app.conn())
        .unwrap()
        .unwrap();
    assert_eq!(latest.size, size);
    let file = std::fs::read_to_string(app.data_dir().join("checkpoint")).unwrap();
    assert_eq!(file, latest.note);
    assert!(app.scheduler.jobs().any(|j| j.name == "sign_checkpoint"));
    assert_eq!(app.scheduler.run_named("no.such.job"), None);
}

#[tokio::test]
async fn events_are_kept_as_written_and_processed_once() {
    use diesel::RunQueryDsl;
    let app = spawn_app_with(|s| s.lockout_threshold = 5).await;
    let admin = app.admin().await;
    // Five wrong passwords lock the account: an event for its administrators.
    admin.create_user("lee", "Lee Locked", &["engineer"]).await;
    for _ in 0..5 {
        app.browser().login("lee", "not the password at all").await;
    }
    let lee = app.user_id("lee");
    let mut conn = app.conn();
    let events =
        attest::db::repo::events::of_record(&mut conn, "user", &format!("u-{lee}"), 10).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind.as_str(), "account_locked");
    assert!(events[0].data["until"].is_string());
    let pending = attest::db::repo::events::unprocessed(&mut conn, 100).unwrap();
    assert!(pending.iter().any(|e| e.id == events[0].id));

    for sql in [
        "UPDATE events SET data = '{}'",
        "UPDATE events SET kind = 'assigned'",
        "DELETE FROM events",
    ] {
        assert!(
            diesel::sql_query(sql).execute(&mut conn).is_err(),
            "{sql} was allowed"
        );
    }
    let id = events[0].id;
    let now = app.clock.now();
    assert_eq!(
        attest::db::repo::events::mark_processed(&mut conn, &[id], now).unwrap(),
        1
    );
    assert_eq!(
        attest::db::repo::events::mark_processed(&mut conn, &[id], now).unwrap(),
        0,
        "processed once"
    );
    assert!(
        diesel::sql_query("UPDATE events SET processed_at = NULL")
            .execute(&mut conn)
            .is_err()
    );
    assert!(
        !attest::db::repo::events::unprocessed(&mut conn, 100)
            .unwrap()
            .iter()
            .any(|e| e.id == id)
    );
}
