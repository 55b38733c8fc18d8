//! The queue's SQL.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgConnection;

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize, serde::Deserialize)]
#[sqlx(transparent)]
#[serde(transparent)]
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
        wake(conn, kind).await?;
    }
    Ok(id.map(JobId))
}

/// Wakes idle workers (on commit): something is due.
async fn wake(conn: &mut PgConnection, why: &str) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_notify('jobs', $1)", why)
        .execute(conn)
        .await?;
    Ok(())
}

/// A job a worker holds until `locked_until`.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Someone asked to cancel it: the worker records that instead of running it.
    pub cancel_requested: bool,
}

/// Which kinds of job a worker takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Kinds {
    /// Every kind.
    #[default]
    All,
    /// Every kind but these (done by workers elsewhere).
    AllBut(Vec<String>),
    /// Only these.
    Only(Vec<String>),
}

/// Takes the next due job of `kinds` (or one whose worker's claim has
/// expired).
pub async fn claim(
    conn: &mut PgConnection,
    worker: &str,
    lease: Duration,
    kinds: &Kinds,
) -> sqlx::Result<Option<Claimed>> {
    let lease_secs = lease.as_secs_f64();
    let (only, except): (Option<&[String]>, &[String]) = match kinds {
        Kinds::All => (None, &[]),
        Kinds::AllBut(except) => (None, except),
        Kinds::Only(only) => (Some(only), &[]),
    };
    let row = sqlx::query!(
        r#"
        UPDATE jobs
           SET status = 'running', attempts = attempts + 1, locked_by = $1,
               locked_until = now() + make_interval(secs => $2)
         WHERE id = (
               SELECT id FROM jobs
                WHERE ((status = 'pending' AND run_at <= now())
                       OR (status = 'running' AND locked_until < now()))
                  AND ($3::text[] IS NULL OR kind = ANY($3))
                  AND kind <> ALL($4::text[])
                ORDER BY run_at
                FOR UPDATE SKIP LOCKED
                LIMIT 1)
        RETURNING id, kind, payload, attempts, max_attempts, cancel_requested
        "#,
        worker,
        lease_secs,
        only as Option<&[String]>,
        except,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Claimed {
        id: JobId(r.id),
        kind: r.kind,
        payload: r.payload,
        attempts: r.attempts,
        max_attempts: r.max_attempts,
        cancel_requested: r.cancel_requested,
    }))
}

/// Records success, when `worker` still holds the claim.
pub async fn complete(conn: &mut PgConnection, id: JobId, worker: &str) -> sqlx::Result<()> {
    sqlx::query!(
        // A finished job keeps no payload: some carry secrets (mailed links).
        "UPDATE jobs SET status = 'done', finished_at = now(), payload = 'null'::jsonb, progress = 100, locked_by = NULL, locked_until = NULL, last_error = NULL WHERE id = $1 AND locked_by = $2",
        id.0,
        worker,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that a job was cancelled (it will not run again unless retried).
pub async fn cancelled(conn: &mut PgConnection, id: JobId, worker: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE jobs SET status = 'cancelled', finished_at = now(), locked_by = NULL, locked_until = NULL, last_error = 'cancelled' WHERE id = $1 AND locked_by = $2",
        id.0,
        worker,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Extends `worker`'s claim; `None` when it no longer holds the job, else
/// whether someone asked to cancel it.
pub async fn heartbeat(
    conn: &mut PgConnection,
    id: JobId,
    worker: &str,
    lease: Duration,
) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar!(
        "UPDATE jobs SET locked_until = now() + make_interval(secs => $3) WHERE id = $1 AND locked_by = $2 AND status = 'running' RETURNING cancel_requested",
        id.0,
        worker,
        lease.as_secs_f64(),
    )
    .fetch_optional(conn)
    .await
}

/// Saves how far a running job is (0-100), for pages to show.
pub async fn set_progress(conn: &mut PgConnection, id: JobId, percent: u8) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE jobs SET progress = $2 WHERE id = $1 AND status = 'running'",
        id.0,
        i16::from(percent.min(100)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failure: back to pending after a backoff, or failed for good
/// (out of attempts, or `permanent`: it would fail the same way again).
pub async fn fail(
    conn: &mut PgConnection,
    job: &Claimed,
    worker: &str,
    error: &str,
    permanent: bool,
) -> sqlx::Result<Option<JobStatus>> {
    let give_up = permanent || job.attempts >= job.max_attempts;
    let backoff = backoff(job.attempts).as_secs_f64();
    let status = sqlx::query_scalar!(
        r#"
        UPDATE jobs
           SET status = CASE WHEN $2 THEN 'failed' ELSE 'pending' END,
               run_at = CASE WHEN $2 THEN run_at ELSE now() + make_interval(secs => $3) END,
               finished_at = CASE WHEN $2 THEN now() END,
               last_error = left($4, 4000), locked_by = NULL, locked_until = NULL
         WHERE id = $1 AND locked_by = $5
        RETURNING status AS "status: JobStatus"
        "#,
        job.id.0,
        give_up,
        backoff,
        error,
        worker,
    )
    .fetch_optional(conn)
    .await?;
    Ok(status)
}

/// 2^attempts seconds, capped at an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 12)).unwrap_or(12);
    Duration::from_secs(2u64.pow(exp).min(3600))
}

crate::text_enum!(
    /// Where a job is.
    JobStatus {
        Pending => "pending",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl JobStatus {
    /// Finished without success: nothing will run it again unless retried.
    pub fn gave_up(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled)
    }
}

/// A job as the admin page lists it.
#[derive(Clone, Debug)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub progress: Option<i16>,
    pub cancel_requested: bool,
    pub last_error: Option<String>,
    pub created_at: time::OffsetDateTime,
    pub run_at: time::OffsetDateTime,
}

/// Jobs not done: queued, running, failed or cancelled, newest first.
pub async fn unfinished(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<JobRow>> {
    unfinished_of(conn, None, None, limit).await
}

/// Jobs not done, of one kind and in one state when given.
pub async fn unfinished_of(
    conn: &mut PgConnection,
    kind: Option<&str>,
    status: Option<JobStatus>,
    limit: i64,
) -> sqlx::Result<Vec<JobRow>> {
    let rows = sqlx::query!(
        r#"
        SELECT id, kind, status AS "status: JobStatus", attempts, max_attempts, progress,
               cancel_requested,
               last_error, created_at, run_at
          FROM jobs
         WHERE status IN ('pending', 'running', 'failed', 'cancelled')
           AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR status = $3)
         ORDER BY created_at DESC, id DESC
         LIMIT $1
        "#,
        limit,
        kind,
        status.as_ref().map(JobStatus::as_str),
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| JobRow {
            id: JobId(r.id),
            kind: r.kind,
            status: r.status,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            progress: r.progress,
            cancel_requested: r.cancel_requested,
            last_error: r.last_error,
            created_at: r.created_at,
            run_at: r.run_at,
        })
        .collect())
}

/// How many jobs not done there are of each kind and state.
pub async fn waiting(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, JobStatus, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT kind, status AS "status: JobStatus", count(*) AS "n!"
             FROM jobs WHERE status IN ('pending', 'running', 'failed')
            GROUP BY kind, status"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.kind, r.status, r.n)).collect())
}

/// One kind's queue now: due and waiting, running, and how long the oldest
/// due one has waited.
#[derive(Clone, Debug)]
pub struct KindQueue {
    pub kind: String,
    pub due: i64,
    pub running: i64,
    pub oldest_wait_secs: Option<f64>,
}

/// Every kind with due or running jobs.
pub async fn queues(conn: &mut PgConnection) -> sqlx::Result<Vec<KindQueue>> {
    let rows = sqlx::query!(
        r#"SELECT kind,
                  count(*) FILTER (WHERE status = 'pending') AS "due!",
                  count(*) FILTER (WHERE status = 'running') AS "running!",
                  extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'pending'))::float8 AS oldest
             FROM jobs
            WHERE (status = 'pending' AND run_at <= now()) OR status = 'running'
            GROUP BY kind ORDER BY kind"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| KindQueue {
            kind: r.kind,
            due: r.due,
            running: r.running,
            oldest_wait_secs: r.oldest,
        })
        .collect())
}

/// Puts a failed or cancelled job back in the queue with fresh attempts.
/// `false` when it is not in such a state (already retried, running, done).
pub async fn retry(conn: &mut PgConnection, id: JobId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"
        UPDATE jobs
           SET status = 'pending', attempts = 0, run_at = now(), finished_at = NULL,
               cancel_requested = false, progress = NULL, last_error = NULL
         WHERE id = $1 AND status IN ('failed', 'cancelled')
        "#,
        id.0,
    )
    .execute(&mut *conn)
    .await?;
    woken_if_changed(conn, done, "retry").await
}

/// `true` when the statement changed the job; the workers are then woken.
async fn woken_if_changed(
    conn: &mut PgConnection,
    done: sqlx::postgres::PgQueryResult,
    why: &str,
) -> sqlx::Result<bool> {
    let changed = done.rows_affected() == 1;
    if changed {
        wake(conn, why).await?;
    }
    Ok(changed)
}

/// Asks for a queued or running job to stop. A queued one becomes due at
/// once so a worker records the cancellation (and runs the kind's give-up
/// step); a running one is stopped at its worker's next heartbeat.
pub async fn request_cancel(conn: &mut PgConnection, id: JobId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"
        UPDATE jobs
           SET cancel_requested = true,
               run_at = CASE WHEN status = 'pending' THEN now() ELSE run_at END
         WHERE id = $1 AND status IN ('pending', 'running')
        "#,
        id.0,
    )
    .execute(&mut *conn)
    .await?;
    woken_if_changed(conn, done, "cancel").await
}

/// How far a job is: its status and percentage.
pub async fn progress_of(
    conn: &mut PgConnection,
    id: JobId,
) -> sqlx::Result<Option<(JobStatus, Option<i16>)>> {
    Ok(sqlx::query!(
        r#"SELECT status AS "status: JobStatus", progress FROM jobs WHERE id = $1"#,
        id.0
    )
    .fetch_optional(conn)
    .await?
    .map(|r| (r.status, r.progress)))
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
