//! The worker loop: claim, run, record; wake on `NOTIFY jobs` or poll.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use serde_json::Value;
use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::Notify;
use tower_sessions::ExpiredDeletion;

use super::{
    EnqueueOptions, HOUSEKEEPING, HOUSEKEEPING_EVERY, JobId, JobStatus,
    queue::{self, Claimed},
};

type BoxFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(Value) -> BoxFuture + Send + Sync>;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// How long a claim holds; a job running longer is given up and retried.
    pub lease: Duration,
    /// Poll interval when no notification arrives.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 2,
            lease: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    db: PgPool,
    name: String,
    config: WorkerConfig,
    handlers: HashMap<&'static str, Handler>,
    periodic: HashMap<&'static str, Duration>,
}

impl Worker {
    /// A worker that knows the built-in housekeeping jobs.
    pub fn new(db: PgPool, config: WorkerConfig) -> Self {
        let name = format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut worker = Self {
            db: db.clone(),
            name,
            config,
            handlers: HashMap::new(),
            periodic: HashMap::new(),
        };
        worker.register(HOUSEKEEPING, move |_| {
            let db = db.clone();
            async move {
                crate::app::session_store(&db).delete_expired().await?;
                let mut conn = db.acquire().await?;
                crate::infra::ratelimit::prune(&mut conn).await?;
                crate::infra::once::prune(&mut conn).await?;
                Ok(())
            }
        });
        worker.every(HOUSEKEEPING, HOUSEKEEPING_EVERY);
        worker
    }

    /// Runs `handler` for jobs of `kind`.
    pub fn register<F, Fut>(&mut self, kind: &'static str, handler: F)
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.handlers
            .insert(kind, Arc::new(move |payload| Box::pin(handler(payload))));
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

    /// Claims and runs one due job, if any. Returns what happened to it.
    pub async fn run_once(&self) -> anyhow::Result<Option<(JobId, JobStatus)>> {
        let claimed = {
            let mut conn = self.db.acquire().await?;
            queue::claim(&mut conn, &self.name, self.config.lease).await?
        };
        let Some(job) = claimed else {
            return Ok(None);
        };
        let outcome = self.execute(&job).await;
        let mut conn = self.db.acquire().await?;
        let status = match outcome {
            Ok(()) => {
                queue::complete(&mut conn, job.id).await?;
                JobStatus::Done
            }
            Err(err) => {
                let status = queue::fail(&mut conn, &job, &format!("{err:#}")).await?;
                tracing::warn!(job = job.id.0, kind = %job.kind, attempt = job.attempts, ?status, error = %err, "job failed");
                status
            }
        };
        drop(conn);
        if matches!(status, JobStatus::Done | JobStatus::Failed)
            && let Some(every) = self.periodic.get(job.kind.as_str())
        {
            self.schedule_periodic(&job.kind, Some(*every)).await?;
        }
        Ok(Some((job.id, status)))
    }

    async fn execute(&self, job: &Claimed) -> anyhow::Result<()> {
        let Some(handler) = self.handlers.get(job.kind.as_str()) else {
            anyhow::bail!("no handler for job kind {:?}", job.kind);
        };
        let run = handler(job.payload.clone());
        match tokio::time::timeout(self.config.lease, tokio::spawn(run)).await {
            Ok(Ok(result)) => result,
            Ok(Err(join_err)) => anyhow::bail!("job task ended abnormally: {join_err}"),
            Err(_) => anyhow::bail!("job ran past its lease of {:?}", self.config.lease),
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
        for _ in 0..self.config.concurrency.max(1) {
            let worker = self.clone();
            let wake = wake.clone();
            let mut stop = stop_rx.clone();
            loops.push(tokio::spawn(async move {
                while !*stop.borrow() {
                    match worker.run_once().await {
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
        tracing::info!(worker = %self.name, concurrency = self.config.concurrency, "job worker started");
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

/// Wakes idle loops when a job is enqueued anywhere.
async fn listen(db: PgPool, wake: Arc<Notify>) {
    loop {
        let mut listener = match PgListener::connect_with(&db).await {
            Ok(l) => l,
            Err(err) => {
                tracing::warn!(error = %err, "job listener: connect failed; polling only");
                tokio::time::sleep(Duration::from_secs(10)).await;
                continue;
            }
        };
        if let Err(err) = listener.listen("jobs").await {
            tracing::warn!(error = %err, "job listener: LISTEN failed");
            tokio::time::sleep(Duration::from_secs(10)).await;
            continue;
        }
        while listener.recv().await.is_ok() {
            wake.notify_waiters();
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}
