//! The worker loop: claim, run, record; wake on `NOTIFY jobs` or poll.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::Notify;

use super::{
    EnqueueOptions, HOUSEKEEPING, HOUSEKEEPING_EVERY, JobId, JobStatus, Lanes,
    queue::{self, Claimed},
};

type BoxFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(Value, JobCtx) -> BoxFuture + Send + Sync>;
type GiveUp = Arc<dyn Fn(Value, String) -> BoxFuture + Send + Sync>;

/// What a running job may use besides its payload.
#[derive(Clone)]
pub struct JobCtx {
    pub id: JobId,
    db: PgPool,
}

impl JobCtx {
    /// Saves how far the job is (0-100) where pages can read it.
    pub async fn progress(&self, percent: u8) -> anyhow::Result<()> {
        let mut conn = self.db.acquire().await?;
        queue::set_progress(&mut conn, self.id, percent).await?;
        Ok(())
    }
}

#[derive(Clone)]
struct Registered {
    handler: Handler,
    /// The most time one run may take before it counts as failed.
    limit: Duration,
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The lanes this process runs, each with its own loops.
    pub lanes: Lanes,
    /// How long a claim holds without a heartbeat: a worker that dies loses
    /// its jobs to others after this. Running jobs renew it every third.
    pub lease: Duration,
    /// Time limit of a job kind registered without its own.
    pub default_limit: Duration,
    /// Poll interval when no notification arrives.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            lanes: Lanes::single(2),
            lease: Duration::from_secs(60),
            default_limit: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    db: PgPool,
    name: String,
    config: WorkerConfig,
    handlers: HashMap<&'static str, Registered>,
    give_up: HashMap<&'static str, GiveUp>,
    periodic: HashMap<&'static str, Duration>,
}

impl Worker {
    /// A worker for the jobs its caller registers, in `config`'s lanes.
    pub fn new(db: PgPool, config: WorkerConfig) -> Self {
        let name = format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Self {
            db,
            name,
            config,
            handlers: HashMap::new(),
            give_up: HashMap::new(),
            periodic: HashMap::new(),
        }
    }

    /// Runs the plumbing's housekeeping (rate-limit windows, spent one-time
    /// keys) every `HOUSEKEEPING_EVERY`, and `more` with it: what the
    /// caller keeps in tables of its own (expired cookie sessions).
    pub fn housekeeping<F, Fut>(&mut self, more: F)
    where
        F: Fn(PgPool) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let db = self.db.clone();
        let more = Arc::new(more);
        self.register(HOUSEKEEPING, move |_| {
            let (db, more) = (db.clone(), more.clone());
            async move {
                more(db.clone()).await?;
                let mut conn = db.acquire().await?;
                crate::infra::ratelimit::prune(&mut conn).await?;
                crate::infra::once::prune(&mut conn).await?;
                Ok(())
            }
        });
        self.every(HOUSEKEEPING, HOUSEKEEPING_EVERY);
    }

    /// Runs `handler` for jobs of `kind`, within the default time limit.
    pub fn register<F, Fut>(&mut self, kind: &'static str, handler: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let limit = self.config.default_limit;
        self.register_with(kind, limit, move |payload, _| handler(payload));
    }

    /// Runs `handler` for jobs of `kind`; a run longer than `limit` fails.
    pub fn register_with<F, Fut>(&mut self, kind: &'static str, limit: Duration, handler: F)
    where
        F: Fn(Value, JobCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.handlers.insert(
            kind,
            Registered {
                handler: Arc::new(move |payload, ctx| Box::pin(handler(payload, ctx))),
                limit,
            },
        );
    }

    /// Runs `step` with a job's payload and reason once a job of `kind` has
    /// failed for good or been cancelled, so its owner can record that.
    pub fn on_give_up<F, Fut>(&mut self, kind: &'static str, step: F)
    where
        F: Fn(Value, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.give_up.insert(
            kind,
            Arc::new(move |payload, why| Box::pin(step(payload, why))),
        );
    }

    /// Makes `kind` come back `every` after each run (one live job at a time).
    pub fn every(&mut self, kind: &'static str, every: Duration) {
        self.periodic.insert(kind, every);
    }

    async fn schedule_periodic(&self, kind: &str, delay: Option<Duration>) -> anyhow::Result<()> {
        let mut conn = self.db.acquire().await?;
        queue::enqueue(
            &mut conn,
            kind,
            Value::Null,
            EnqueueOptions {
                delay,
                dedupe_key: Some(kind.to_string()),
                ..EnqueueOptions::default()
            },
        )
        .await?;
        Ok(())
    }

    /// Claims and runs one due job of any lane here, if any. Returns what
    /// happened to it.
    pub async fn run_once(&self) -> anyhow::Result<Option<(JobId, JobStatus)>> {
        self.run_one_of(&self.config.lanes.here()).await
    }

    /// Claims and runs one due job of `kinds`.
    async fn run_one_of(&self, kinds: &queue::Kinds) -> anyhow::Result<Option<(JobId, JobStatus)>> {
        let claimed = {
            let mut conn = self.db.acquire().await?;
            queue::claim(&mut conn, &self.name, self.config.lease, kinds).await?
        };
        let Some(job) = claimed else {
            return Ok(None);
        };
        let outcome = if job.cancel_requested {
            Outcome::Cancelled
        } else {
            self.execute(&job).await
        };
        let mut conn = self.db.acquire().await?;
        let (status, reason) = match outcome {
            Outcome::Done => {
                queue::complete(&mut conn, job.id, &self.name).await?;
                (Some(JobStatus::Done), String::new())
            }
            Outcome::Cancelled => {
                queue::cancelled(&mut conn, job.id, &self.name).await?;
                tracing::info!(job = job.id.0, kind = %job.kind, "job cancelled");
                (Some(JobStatus::Cancelled), "cancelled".to_string())
            }
            Outcome::Lost => {
                tracing::warn!(job = job.id.0, kind = %job.kind, "job claim lost to another worker");
                (None, String::new())
            }
            Outcome::Failed(err) => {
                let reason = format!("{err:#}");
                let permanent = err.downcast_ref::<super::Permanent>().is_some();
                let status = queue::fail(&mut conn, &job, &self.name, &reason, permanent).await?;
                tracing::warn!(job = job.id.0, kind = %job.kind, attempt = job.attempts, ?status, error = %reason, "job failed");
                (status, reason)
            }
        };
        drop(conn);
        let outcome = status.map_or("lost", |s| match s {
            JobStatus::Pending => "retrying",
            s => s.as_str(),
        });
        metrics::counter!("weaverse_jobs_finished_total", "kind" => job.kind.clone(), "outcome" => outcome)
            .increment(1);
        let Some(status) = status else {
            return Ok(Some((job.id, JobStatus::Running)));
        };
        if status.gave_up()
            && let Some(step) = self.give_up.get(job.kind.as_str())
            && let Err(err) = step(job.payload.clone(), reason).await
        {
            tracing::error!(job = job.id.0, kind = %job.kind, error = %err, "give-up step failed");
        }
        if matches!(status, JobStatus::Done | JobStatus::Failed)
            && let Some(every) = self.periodic.get(job.kind.as_str())
        {
            self.schedule_periodic(&job.kind, Some(*every)).await?;
        }
        Ok(Some((job.id, status)))
    }

    /// Runs the job's handler in its own task, renewing the claim every
    /// third of the lease; stops it when cancelled, when the claim is lost or
    /// when its kind's time limit passes. Dropping the task kills what it
    /// started (child processes are spawned with `kill_on_drop`).
    async fn execute(&self, job: &Claimed) -> Outcome {
        let Some(registered) = self.handlers.get(job.kind.as_str()) else {
            return Outcome::Failed(anyhow::anyhow!("no handler for job kind {:?}", job.kind));
        };
        let ctx = JobCtx {
            id: job.id,
            db: self.db.clone(),
        };
        let mut task = tokio::spawn((registered.handler)(job.payload.clone(), ctx));
        let deadline = tokio::time::sleep(registered.limit);
        tokio::pin!(deadline);
        let mut beat = tokio::time::interval(self.config.lease / 3);
        beat.tick().await;
        loop {
            tokio::select! {
                joined = &mut task => {
                    return match joined {
                        Ok(Ok(())) => Outcome::Done,
                        Ok(Err(err)) => Outcome::Failed(err),
                        Err(join_err) => Outcome::Failed(anyhow::anyhow!("job task ended abnormally: {join_err}")),
                    };
                }
                () = &mut deadline => {
                    task.abort();
                    return Outcome::Failed(anyhow::anyhow!("stopped after the time limit of {} s", registered.limit.as_secs()));
                }
                _ = beat.tick() => {
                    let renewed = match self.db.acquire().await {
                        Ok(mut conn) => queue::heartbeat(&mut conn, job.id, &self.name, self.config.lease).await,
                        Err(err) => Err(err),
                    };
                    match renewed {
                        Ok(Some(false)) => {}
                        Ok(Some(true)) => {
                            task.abort();
                            return Outcome::Cancelled;
                        }
                        Ok(None) => {
                            task.abort();
                            return Outcome::Lost;
                        }
                        // The database is away: keep working, try again next beat.
                        Err(err) => tracing::warn!(job = job.id.0, error = %err, "job heartbeat failed"),
                    }
                }
            }
        }
    }

    /// Runs until `shutdown` resolves; jobs in flight finish first.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        for kind in self.periodic.keys() {
            self.schedule_periodic(kind, None).await?;
        }
        let wake = Arc::new(Notify::new());
        let listener = tokio::spawn(listen(self.db.clone(), wake.clone()));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut loops = Vec::new();
        for lane in self.config.lanes.iter() {
            let kinds = self.config.lanes.kinds_of(lane);
            for _ in 0..lane.workers {
                let worker = self.clone();
                let wake = wake.clone();
                let mut stop = stop_rx.clone();
                let kinds = kinds.clone();
                loops.push(tokio::spawn(async move {
                    while !*stop.borrow() {
                        match worker.run_one_of(&kinds).await {
                            Ok(Some(_)) => continue,
                            Ok(None) => {}
                            Err(err) => tracing::error!(error = %err, "job queue error"),
                        }
                        tokio::select! {
                            () = wake.notified() => {}
                            () = tokio::time::sleep(worker.config.poll) => {}
                            _ = stop.changed() => {}
                        }
                    }
                }));
            }
        }
        let lanes: Vec<String> = self
            .config
            .lanes
            .iter()
            .map(|l| format!("{}={}", l.name, l.workers))
            .collect();
        tracing::info!(worker = %self.name, lanes = %lanes.join(","), "job worker started");
        shutdown.await;
        let _ = stop_tx.send(true);
        for handle in loops {
            let _ = handle.await;
        }
        listener.abort();
        tracing::info!(worker = %self.name, "job worker stopped");
        Ok(())
    }
}

enum Outcome {
    Done,
    Failed(anyhow::Error),
    Cancelled,
    /// Another worker took the job over (this one missed its heartbeats).
    Lost,
}

/// Wakes idle loops when a job is enqueued anywhere, and after the listener
/// (re)connects (jobs enqueued while it was away).
async fn listen(db: PgPool, wake: Arc<Notify>) {
    crate::infra::changes::follow(db, "jobs", Duration::from_secs(10), move |_| {
        wake.notify_waiters();
    })
    .await;
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}
