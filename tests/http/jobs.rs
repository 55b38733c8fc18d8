//! The PostgreSQL job queue: run once, retry, give up, dedupe, reclaim,
//! no double runs between workers, periodic housekeeping.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::json;
use sqlx::PgPool;
use weaverse::jobs::{self, EnqueueOptions, JobStatus, Worker, WorkerConfig};

fn config() -> WorkerConfig {
    WorkerConfig {
        concurrency: 1,
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(50),
    }
}

async fn enqueue(
    db: &PgPool,
    kind: &str,
    payload: serde_json::Value,
    options: EnqueueOptions,
) -> Option<jobs::JobId> {
    let mut conn = db.acquire().await.unwrap();
    jobs::enqueue(&mut conn, kind, payload, options)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_enqueued_job_runs_once_with_its_payload(db: PgPool) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut worker = Worker::new(db.clone(), config());
    let sink = seen.clone();
    worker.register("test.echo", move |payload| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push(payload);
            Ok(())
        }
    });
    let id = enqueue(&db, "test.echo", json!({"n": 1}), EnqueueOptions::default())
        .await
        .unwrap();
    // The housekeeping job may come first; run until ours is done.
    let mut ours = None;
    while let Some((ran, status)) = worker.run_once().await.unwrap() {
        if ran == id {
            ours = Some(status);
        }
    }
    assert_eq!(ours, Some(JobStatus::Done));
    assert_eq!(*seen.lock().unwrap(), vec![json!({"n": 1})]);
    assert!(worker.run_once().await.unwrap().is_none());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_failing_job_is_retried_after_a_backoff_then_given_up(db: PgPool) {
    let mut worker = Worker::new(db.clone(), config());
    worker.register("test.fail", |_| async { anyhow::bail!("boom") });
    let id = enqueue(
        &db,
        "test.fail",
        json!({}),
        EnqueueOptions {
            max_attempts: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((id, JobStatus::Pending))
    );
    let (error, waits): (String, bool) =
        sqlx::query_as("SELECT last_error, run_at > now() FROM jobs WHERE id = $1")
            .bind(id.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(error, "boom");
    assert!(waits, "the retry waits for its backoff");
    assert!(worker.run_once().await.unwrap().is_none(), "not due yet");

    sqlx::query("UPDATE jobs SET run_at = now() WHERE id = $1")
        .bind(id.0)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((id, JobStatus::Failed))
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_job_without_a_handler_fails_instead_of_vanishing(db: PgPool) {
    let worker = Worker::new(db.clone(), config());
    let id = enqueue(
        &db,
        "test.unknown",
        json!({}),
        EnqueueOptions {
            max_attempts: Some(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((id, JobStatus::Failed))
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_dedupe_key_allows_one_live_job(db: PgPool) {
    let options = || EnqueueOptions {
        dedupe_key: Some("course-7".into()),
        ..Default::default()
    };
    assert!(
        enqueue(&db, "test.echo", json!({}), options())
            .await
            .is_some()
    );
    assert!(
        enqueue(&db, "test.echo", json!({}), options())
            .await
            .is_none()
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_crashed_workers_claim_expires_and_the_job_runs_again(db: PgPool) {
    let mut worker = Worker::new(db.clone(), config());
    worker.register("test.echo", |_| async { Ok(()) });
    let id = enqueue(&db, "test.echo", json!({}), EnqueueOptions::default())
        .await
        .unwrap();
    // Another worker claimed it and died: its lease ran out a minute ago.
    sqlx::query(
        "UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'dead', \
         locked_until = now() - interval '1 minute' WHERE id = $1",
    )
    .bind(id.0)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query("DELETE FROM jobs WHERE id <> $1")
        .bind(id.0)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((id, JobStatus::Done))
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn concurrent_workers_never_run_a_job_twice(db: PgPool) {
    let runs = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let mut worker = Worker::new(db.clone(), config());
        let runs = runs.clone();
        worker.register("test.count", move |payload| {
            let runs = runs.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                runs.lock()
                    .unwrap()
                    .push(payload["n"].as_i64().unwrap_or(-1));
                Ok(())
            }
        });
        workers.push(worker);
    }
    for n in 0..40 {
        enqueue(
            &db,
            "test.count",
            json!({ "n": n }),
            EnqueueOptions::default(),
        )
        .await;
    }
    let mut handles = Vec::new();
    for worker in workers {
        handles.push(tokio::spawn(async move {
            while worker.run_once().await.unwrap().is_some() {}
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let mut runs = runs.lock().unwrap().clone();
    runs.sort_unstable();
    assert_eq!(runs, (0..40).collect::<Vec<_>>());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn housekeeping_deletes_expired_sessions_and_comes_back(db: PgPool) {
    sqlx::query(
        "INSERT INTO tower_sessions.session (id, data, expiry_date) VALUES \
         ('old', '\\x00', now() - interval '1 day'), ('live', '\\x00', now() + interval '1 day')",
    )
    .execute(&db)
    .await
    .unwrap();
    let worker = Worker::new(db.clone(), config());
    let shutdown = tokio::time::sleep(Duration::from_secs(2));
    worker.run(shutdown).await.unwrap();

    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM tower_sessions.session")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(ids, vec!["live".to_string()]);
    let (done, next_in_future): (i64, bool) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'done'), \
                bool_or(status = 'pending' AND run_at > now() + interval '50 minutes') \
           FROM jobs WHERE kind = $1",
    )
    .bind(jobs::HOUSEKEEPING)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(done, 1);
    assert!(next_in_future, "the next run is scheduled an hour later");
}
