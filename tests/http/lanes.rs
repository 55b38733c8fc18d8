//! Job lanes: quick work (mail, grading) is never behind slow work
//! (transcoding), and another learner's sleeping program does not hold back
//! an honest verdict.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sqlx::PgPool;
use weaverse::jobs::{self, WorkerConfig};

use crate::{
    missions::{RIGHT_SUM, code_question, mission},
    support::{TestApp, media::clip},
};

/// Mail files written to the app's `var/mail` for `to`.
fn mails_to(app: &TestApp, to: &str) -> usize {
    std::fs::read_dir(app.var_dir.join("mail"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_to_string(e.path())
                        .is_ok_and(|m| m.contains(&format!("To: {to}")))
                })
                .count()
        })
        .unwrap_or(0)
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn mail_and_a_verdict_come_quickly_while_thirty_transcodes_and_anothers_sleepers_run(
    db: PgPool,
) {
    let admin = TestApp::spawn_with(db, |c| c.limits.code_submissions_per_learner = 100).await;
    admin.seed().await;
    // Two paying learners: one whose programs sleep, one honest.
    let sleeper = admin.another_browser();
    sleeper.verified_learner("sleeper@example.com").await;
    sleeper.buy_nanodegree().await;
    let honest = admin.another_browser();
    honest.verified_learner("honest@example.com").await;
    honest.buy_nanodegree().await;
    admin.login_as_admin().await;

    // The application's worker, in its lanes, in the background.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = weaverse::app::worker(
        &admin.state,
        WorkerConfig {
            lease: Duration::from_secs(3),
            poll: Duration::from_millis(100),
            ..WorkerConfig::default()
        },
    )
    .unwrap();
    let running = tokio::spawn(worker.run(async {
        let _ = stop_rx.await;
    }));

    // Thirty long lectures: one transcoding, the rest queued behind it.
    let bytes = std::fs::read(clip(60, 180, true).await).unwrap();
    let topics: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM topics WHERE kind = 'video' ORDER BY id LIMIT 30")
            .fetch_all(&admin.db)
            .await
            .unwrap();
    assert_eq!(topics.len(), 30);
    for topic in &topics {
        let page = admin
            .upload_video(topic, "lecture.mp4", bytes.clone())
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let transcoding = || async {
        crate::support::count(
            &admin.db,
            "SELECT count(*) FROM jobs WHERE kind = 'media.transcode' AND status IN ('pending', 'running')",
        )
        .await
    };
    let wait = Instant::now();
    while crate::support::count(
        &admin.db,
        "SELECT count(*) FROM jobs WHERE kind = 'media.transcode' AND status = 'running'",
    )
    .await
        == 0
    {
        assert!(wait.elapsed() < Duration::from_secs(10), "no transcode ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(transcoding().await >= 29);

    // Another learner's program that sleeps until the wall clock stops it
    // (a learner has one submission in grading at a time).
    let (sleepy_mission, sleepy_question): (String, String) = sqlx::query_as(
        "SELECT mission_id::text, id::text FROM questions
          WHERE kind = 'code' AND language = 'javascript' AND mode = 'program'
          ORDER BY id LIMIT 1",
    )
    .fetch_one(&admin.db)
    .await
    .unwrap();
    let page = sleeper
        .submit_code(
            &sleepy_mission,
            &sleepy_question,
            "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600000);\n",
        )
        .await;
    assert_eq!(page.status, StatusCode::ACCEPTED, "{}", page.body);
    let sleeping = page.attr("[data-submission]", "data-submission").unwrap();
    let wait = Instant::now();
    while crate::support::count(
        &admin.db,
        "SELECT count(*) FROM jobs WHERE kind = 'assessments.grade' AND status = 'running'",
    )
    .await
        == 0
    {
        assert!(
            wait.elapsed() < Duration::from_secs(5),
            "the sleeper was not taken"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A sign-up's mail is written within 2 s.
    let signup = Instant::now();
    let newcomer = admin.another_browser();
    let page = newcomer
        .signup("newcomer@example.com", "새내기", crate::support::PASSWORD)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    while mails_to(&admin, "newcomer@example.com") == 0 {
        assert!(
            signup.elapsed() < Duration::from_secs(2),
            "the sign-up mail waited {:?}",
            signup.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mail_took = signup.elapsed();

    // An honest submission's verdict comes within its time limit plus 2 s,
    // and before the first of the sleeping ones is stopped.
    let sum = mission(&honest, "배열 합계 함수 작성하기").await;
    let question = code_question(&honest, &sum).await;
    let page = honest.submit_code(&sum, &question, RIGHT_SUM).await;
    assert_eq!(page.status, StatusCode::ACCEPTED, "{}", page.body);
    let submission = page.attr("[data-submission]", "data-submission").unwrap();
    let wall = weaverse::assessments::sandbox::Limits::default_for(
        weaverse::assessments::sandbox::Language::JavaScript,
    )
    .wall;
    let (verdict, took) = honest
        .verdict_within(&submission, wall + Duration::from_secs(2))
        .await;
    assert_eq!(verdict, "accepted");
    let (sleeper_verdict, _) = sleeper
        .verdict_within(&sleeping, wall * 2 + Duration::from_secs(5))
        .await;
    assert_eq!(sleeper_verdict, "time_limit");
    let (honest_at, sleeper_at): (time::OffsetDateTime, time::OffsetDateTime) = sqlx::query_as(
        "SELECT (SELECT graded_at FROM code_submissions WHERE id = $1::uuid),
                (SELECT graded_at FROM code_submissions WHERE id = $2::uuid)",
    )
    .bind(&submission)
    .bind(&sleeping)
    .fetch_one(&admin.db)
    .await
    .unwrap();
    assert!(
        honest_at < sleeper_at,
        "the honest verdict waited for the sleeper"
    );
    let left = transcoding().await;
    assert!(left >= 25, "the transcodes were still there: {left}");
    eprintln!(
        "sign-up mail after {mail_took:?}, honest verdict after {took:?}, {left} transcodes left"
    );

    // Stop the transcodes (a running ffmpeg dies with its job) and the worker.
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM jobs WHERE status IN ('pending', 'running')")
            .fetch_all(&admin.db)
            .await
            .unwrap();
    for id in ids {
        jobs::request_cancel(&mut admin.db.acquire().await.unwrap(), jobs::JobId(id))
            .await
            .unwrap();
    }
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the worker stops")
        .unwrap()
        .unwrap();
}
