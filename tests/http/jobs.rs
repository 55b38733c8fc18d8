//! The PostgreSQL job queue: run once, retry, give up, dedupe, reclaim,
//! no double runs between workers, periodic housekeeping.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::json;
use sqlx::PgPool;
use weaverse::jobs::{self, EnqueueOptions, JobStatus, Lane, Lanes, Worker, WorkerConfig};

fn config() -> WorkerConfig {
    WorkerConfig {
        lanes: Lanes::single(1),
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(50),
        ..WorkerConfig::default()
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
async fn a_failure_that_would_repeat_fails_the_job_at_once(db: PgPool) {
    let mut worker = Worker::new(db.clone(), config());
    worker.register("test.permanent", |_| async {
        Err(jobs::Permanent(anyhow::anyhow!("the database refused the values")).into())
    });
    let id = enqueue(
        &db,
        "test.permanent",
        json!({}),
        EnqueueOptions {
            max_attempts: Some(3),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((id, JobStatus::Failed)),
        "no retry of what would fail the same way"
    );
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM jobs WHERE id = $1")
        .bind(id.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(attempts, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn workers_take_only_the_kinds_they_are_for(db: PgPool) {
    let id = enqueue(&db, "test.graded", json!({}), EnqueueOptions::default())
        .await
        .unwrap();
    // A worker for every kind but this one leaves it (and finds nothing).
    let general = Worker::new(
        db.clone(),
        WorkerConfig {
            lanes: Lanes::new(vec![
                Lane::new("general", 1, &[]),
                Lane::new("grading", 0, &["test.graded"]),
            ]),
            ..config()
        },
    );
    while let Some((ran, _)) = general.run_once().await.unwrap() {
        assert_ne!(ran, id);
    }
    // A worker for it alone takes it.
    let mut only = Worker::new(
        db.clone(),
        WorkerConfig {
            lanes: Lanes::new(vec![Lane::new("grading", 1, &["test.graded"])]),
            ..config()
        },
    );
    only.register("test.graded", |_| async { Ok(()) });
    assert_eq!(only.run_once().await.unwrap(), Some((id, JobStatus::Done)));
    assert!(only.run_once().await.unwrap().is_none());
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
    // The application's worker: the plumbing's housekeeping, with the
    // expired cookie sessions `app.rs` adds to it.
    let app = crate::support::TestApp::spawn(db.clone()).await;
    let worker = weaverse::app::worker(&app.state, config()).unwrap();
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

fn short_lease() -> WorkerConfig {
    WorkerConfig {
        lanes: Lanes::single(1),
        lease: Duration::from_millis(300),
        poll: Duration::from_millis(50),
        default_limit: Duration::from_secs(30),
    }
}

async fn status_of(db: &PgPool, id: jobs::JobId) -> (String, Option<i16>, Option<String>) {
    sqlx::query_as("SELECT status, progress, last_error FROM jobs WHERE id = $1")
        .bind(id.0)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_job_past_its_kinds_time_limit_fails_and_its_owner_hears_of_it(db: PgPool) {
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut worker = Worker::new(db.clone(), short_lease());
    worker.register_with("test.slow", Duration::from_millis(200), |_, _| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(())
    });
    let sink = heard.clone();
    worker.on_give_up("test.slow", move |payload, why| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().push(format!("{}:{why}", payload["n"]));
            Ok(())
        }
    });
    let id = enqueue(
        &db,
        "test.slow",
        json!({ "n": 7 }),
        EnqueueOptions {
            max_attempts: Some(1),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((id, JobStatus::Failed))
    );
    let (status, _, error) = status_of(&db, id).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("time limit"));
    assert_eq!(heard.lock().unwrap().len(), 1);
    assert!(heard.lock().unwrap()[0].starts_with("7:"));

    // The admin's retry puts it back with fresh attempts.
    let mut conn = db.acquire().await.unwrap();
    assert!(jobs::retry(&mut conn, id).await.unwrap());
    assert!(!jobs::retry(&mut conn, id).await.unwrap(), "already queued");
    assert_eq!(status_of(&db, id).await.0, "pending");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_long_job_keeps_its_claim_by_heartbeat_and_reports_progress(db: PgPool) {
    let mut worker = Worker::new(db.clone(), short_lease());
    worker.register_with("test.long", Duration::from_secs(30), |_, ctx| async move {
        for p in [25u8, 50, 75] {
            ctx.progress(p).await?;
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        Ok(())
    });
    let id = enqueue(&db, "test.long", json!({}), EnqueueOptions::default())
        .await
        .unwrap();
    let first = worker.clone();
    let running = tokio::spawn(async move { first.run_once().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Past two leases: a second worker finds nothing to take over.
    let mut other = Worker::new(db.clone(), short_lease());
    other.register_with("test.long", Duration::from_secs(30), |_, _| async {
        anyhow::bail!("must not run twice")
    });
    assert!(other.run_once().await.unwrap().is_none());
    let (status, progress, _) = status_of(&db, id).await;
    assert_eq!(status, "running");
    assert!(progress.unwrap() >= 25);
    assert_eq!(running.await.unwrap(), Some((id, JobStatus::Done)));
    assert_eq!(status_of(&db, id).await.1, Some(100));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn cancelling_stops_a_running_job_and_a_queued_one_never_runs(db: PgPool) {
    let heard = Arc::new(Mutex::new(0));
    let mut worker = Worker::new(db.clone(), short_lease());
    worker.register_with(
        "test.long",
        Duration::from_secs(30),
        |payload, _| async move {
            if payload["wait"].as_bool() == Some(true) {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            anyhow::bail!("a cancelled job must not reach its end")
        },
    );
    let sink = heard.clone();
    worker.on_give_up("test.long", move |_, why| {
        let sink = sink.clone();
        async move {
            assert_eq!(why, "cancelled");
            *sink.lock().unwrap() += 1;
            Ok(())
        }
    });
    let running = enqueue(
        &db,
        "test.long",
        json!({ "wait": true }),
        EnqueueOptions::default(),
    )
    .await
    .unwrap();
    let first = worker.clone();
    let handle = tokio::spawn(async move { first.run_once().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let queued = enqueue(
        &db,
        "test.long",
        json!({}),
        EnqueueOptions {
            delay: Some(Duration::from_secs(3600)),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();
    let mut conn = db.acquire().await.unwrap();
    assert!(jobs::request_cancel(&mut conn, running).await.unwrap());
    assert!(jobs::request_cancel(&mut conn, queued).await.unwrap());
    assert_eq!(handle.await.unwrap(), Some((running, JobStatus::Cancelled)));
    // The queued one became due at once, to be recorded, not run.
    assert_eq!(
        worker.run_once().await.unwrap(),
        Some((queued, JobStatus::Cancelled))
    );
    assert_eq!(*heard.lock().unwrap(), 2);
    let listed = jobs::unfinished(&mut conn, 50).await.unwrap();
    assert!(listed.iter().all(|j| j.status == JobStatus::Cancelled));
    assert!(
        !jobs::request_cancel(&mut conn, running).await.unwrap(),
        "already over"
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admins_see_unfinished_jobs_and_retry_or_cancel_them(db: PgPool) {
    use crate::support::TestApp;
    use reqwest::StatusCode;
    let app = TestApp::spawn(db.clone()).await;
    let failed = enqueue(&db, "media.transcode", json!({}), EnqueueOptions::default())
        .await
        .unwrap();
    sqlx::query("UPDATE jobs SET status = 'failed', attempts = 3, last_error = 'ffmpeg could not transcode' WHERE id = $1")
        .bind(failed.0)
        .execute(&db)
        .await
        .unwrap();
    let queued = enqueue(
        &db,
        "mail.send",
        json!({}),
        EnqueueOptions {
            delay: Some(Duration::from_secs(600)),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();

    let learner = app.another_browser();
    learner.signed_up("learner@example.com").await;
    assert_eq!(
        learner.get("/admin/jobs").await.status,
        StatusCode::FORBIDDEN
    );

    app.login_as_admin().await;
    let page = app.get("/admin/jobs").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = page.text(&format!("[data-job='{}']", failed.0)).unwrap();
    assert!(
        row.contains("실패") && row.contains("ffmpeg could not transcode"),
        "{row}"
    );
    assert!(
        page.text(&format!("[data-job='{}']", queued.0))
            .unwrap()
            .contains("대기")
    );

    let page = app
        .post_form(&format!("/admin/jobs/{}/retry", failed.0), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&db, failed).await.0, "pending");
    let page = app
        .post_form(&format!("/admin/jobs/{}/cancel", queued.0), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let asked: bool = sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = $1")
        .bind(queued.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(asked);
    // Retrying what is not failed changes nothing and says so.
    let page = app
        .post_form(&format!("/admin/jobs/{}/retry", queued.0), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/admin/jobs")
            .await
            .body
            .contains("실패하거나 취소된 작업만")
    );
}
