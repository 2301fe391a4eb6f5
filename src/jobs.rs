//! Time-driven work (ARCHITECTURE.md rule 10): a job is a name, how often
//! it runs, and a function of a database connection and the application's
//! clock. The scheduler runs each job on its interval off the request
//! workers; a job runs on one instance at a time (PostgreSQL advisory lock,
//! or a lock file beside a SQLite database: `db::with_job_lock`), so two
//! instances serving one database never both run it. Signing the audit
//! checkpoint is a job, and so are document effective dates, training due
//! dates and turning domain events into notifications; reminders and
//! digests will be.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::db::{DbConnection, DbPool, DbTarget, with_job_lock};

/// What a job does: given a connection and the clock, a line saying what it
/// did, or why it failed.
pub type JobFn = Arc<dyn Fn(&mut DbConnection, &Clock) -> Result<String, String> + Send + Sync>;

/// A time-driven job.
#[derive(Clone)]
pub struct Job {
    /// Stable and unique (`sign_checkpoint`): it names the lock.
    pub name: &'static str,
    pub every: Duration,
    pub run: JobFn,
}

/// How one run of a job went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ran(String),
    /// Another instance (or another run here) is running it now.
    Busy,
    Failed(String),
}

/// The jobs of one application instance.
pub struct Scheduler {
    pool: DbPool,
    target: DbTarget,
    clock: Clock,
    jobs: Vec<Job>,
}

impl Scheduler {
    pub fn new(pool: DbPool, target: DbTarget, clock: Clock, jobs: Vec<Job>) -> Self {
        Self {
            pool,
            target,
            clock,
            jobs,
        }
    }

    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.iter()
    }

    /// Runs `job` now on this thread (blocking), unless it runs elsewhere.
    pub fn run(&self, job: &Job) -> Outcome {
        let mut conn = match self.pool.get() {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(format!("no database connection: {e}")),
        };
        match with_job_lock(&mut conn, &self.target, job.name, |conn| {
            (job.run)(conn, &self.clock)
        }) {
            Ok(Some(Ok(done))) => Outcome::Ran(done),
            Ok(Some(Err(e))) | Err(e) => Outcome::Failed(e),
            Ok(None) => Outcome::Busy,
        }
    }

    /// Runs the job named `name` now (blocking); `None` if there is none.
    pub fn run_named(&self, name: &str) -> Option<Outcome> {
        let job = self.jobs.iter().find(|j| j.name == name)?.clone();
        Some(self.run(&job))
    }

    /// Runs every job now and then every `job.every`, each off the async
    /// workers; a run that fails is logged and the job tried again next time.
    pub fn start(self: &Arc<Self>) {
        for job in self.jobs.clone() {
            let me = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(job.every.max(Duration::from_secs(1)));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tick.tick().await;
                    let (me, j) = (me.clone(), job.clone());
                    match tokio::task::spawn_blocking(move || me.run(&j)).await {
                        Ok(Outcome::Ran(done)) => tracing::debug!(job = job.name, "{done}"),
                        Ok(Outcome::Busy) => {
                            tracing::debug!(job = job.name, "running on another instance")
                        }
                        Ok(Outcome::Failed(e)) => {
                            tracing::error!(job = job.name, error = %e, "scheduled job failed")
                        }
                        Err(e) => {
                            tracing::error!(job = job.name, error = %e, "scheduled job stopped")
                        }
                    }
                }
            });
        }
    }
}

/// Signs the audit checkpoint when the log grew and writes the checkpoint
/// file (AUDIT-LOG.md section 3: at least every 60 s).
pub fn checkpoint_job(
    key: Arc<crate::audit::key::LogKey>,
    file: std::path::PathBuf,
    every: Duration,
) -> Job {
    Job {
        name: "sign_checkpoint",
        every,
        run: Arc::new(move |conn, clock| {
            crate::audit::checkpoint::sign_and_write(conn, &key, &file, clock.now())
                .map(|cp| format!("checkpoint at {} entries", cp.size))
                .map_err(|e| e.to_string())
        }),
    }
}
