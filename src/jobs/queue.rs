//! The queue's SQL.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgConnection;

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(transparent)]
pub struct JobId(pub i64);

#[derive(Clone, Debug, Default)]
pub struct EnqueueOptions {
    /// Run no earlier than this far from now.
    pub delay: Option<Duration>,
    /// Skip the enqueue when a pending or running job has this key.
    pub dedupe_key: Option<String>,
    pub max_attempts: Option<i32>,
}

/// Adds a job; returns `None` when `dedupe_key` matched a live job.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    payload: Value,
    options: EnqueueOptions,
) -> sqlx::Result<Option<JobId>> {
    let delay_ms = options
        .delay
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let id = sqlx::query_scalar!(
        r#"
        INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000), $5)
        ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running')
        DO NOTHING
        RETURNING id
        "#,
        kind,
        payload,
        options.dedupe_key,
        delay_ms as f64,
        options.max_attempts.unwrap_or(5),
    )
    .fetch_optional(&mut *conn)
    .await?;
    if id.is_some() {
        sqlx::query!("SELECT pg_notify('jobs', $1)", kind)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id.map(JobId))
}

/// A job a worker holds until `locked_until`.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Takes the next due job (or one whose worker's claim has expired).
pub async fn claim(
    conn: &mut PgConnection,
    worker: &str,
    lease: Duration,
) -> sqlx::Result<Option<Claimed>> {
    let lease_secs = lease.as_secs_f64();
    let row = sqlx::query!(
        r#"
        UPDATE jobs
           SET status = 'running', attempts = attempts + 1, locked_by = $1,
               locked_until = now() + make_interval(secs => $2)
         WHERE id = (
               SELECT id FROM jobs
                WHERE (status = 'pending' AND run_at <= now())
                   OR (status = 'running' AND locked_until < now())
                ORDER BY run_at
                FOR UPDATE SKIP LOCKED
                LIMIT 1)
        RETURNING id, kind, payload, attempts, max_attempts
        "#,
        worker,
        lease_secs,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Claimed {
        id: JobId(r.id),
        kind: r.kind,
        payload: r.payload,
        attempts: r.attempts,
        max_attempts: r.max_attempts,
    }))
}

pub async fn complete(conn: &mut PgConnection, id: JobId) -> sqlx::Result<()> {
    sqlx::query!(
        // A finished job keeps no payload: some carry secrets (mailed links).
        "UPDATE jobs SET status = 'done', finished_at = now(), payload = 'null'::jsonb, locked_by = NULL, locked_until = NULL, last_error = NULL WHERE id = $1",
        id.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failure: back to pending after a backoff, or failed for good.
pub async fn fail(conn: &mut PgConnection, job: &Claimed, error: &str) -> sqlx::Result<JobStatus> {
    let give_up = job.attempts >= job.max_attempts;
    let backoff = backoff(job.attempts).as_secs_f64();
    let status = sqlx::query_scalar!(
        r#"
        UPDATE jobs
           SET status = CASE WHEN $2 THEN 'failed' ELSE 'pending' END,
               run_at = CASE WHEN $2 THEN run_at ELSE now() + make_interval(secs => $3) END,
               finished_at = CASE WHEN $2 THEN now() END,
               last_error = left($4, 4000), locked_by = NULL, locked_until = NULL
         WHERE id = $1
        RETURNING status
        "#,
        job.id.0,
        give_up,
        backoff,
        error,
    )
    .fetch_one(conn)
    .await?;
    Ok(JobStatus::parse(&status))
}

/// 2^attempts seconds, capped at an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 12)).unwrap_or(12);
    Duration::from_secs(2u64.pow(exp).min(3600))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    fn parse(raw: &str) -> Self {
        match raw {
            "running" => Self::Running,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(50), Duration::from_secs(3600));
    }
}
