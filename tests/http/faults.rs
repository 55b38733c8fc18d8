//! Faults: a process killed (SIGKILL) in the middle of its work, started
//! again, leaves nothing lost and nothing done twice. (Killed during a
//! transcode: `media.rs`; during a payment approval: `kakaopay.rs`.)

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::{
    missions::{code_question, mission},
    support::{TestApp, count},
};

/// `weaverse grade` on its own, with a short lease so a dead one's job is
/// taken over quickly.
fn grader(db: &PgPool) -> tokio::process::Child {
    let sandbox = std::env::temp_dir().join(format!("weaverse-grader-{}", uuid::Uuid::new_v4()));
    tokio::process::Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .args(["grade", "--concurrency", "1"])
        .env("DATABASE_URL", crate::cli::database_url(db))
        .env("SANDBOX_DIR", &sandbox)
        .env("JOB_LEASE_SECS", "3")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("weaverse grade starts")
}

async fn job_state(db: &PgPool) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM jobs WHERE kind = 'assessments.grade'")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_grader_killed_mid_run_is_replaced_and_the_submission_is_graded_once(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), |c| c.grades_here = false).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let sum = mission(&app, "배열 합계 함수 작성하기").await;
    let question = code_question(&app, &sum).await;
    // Right, but slow: each test waits a second and a half.
    let code = "function sum(numbers) {\n  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);\n  return numbers.reduce((a, b) => a + b, 0);\n}\n";
    let page = app.submit_code(&sum, &question, code).await;
    assert_eq!(page.status, StatusCode::ACCEPTED, "{}", page.body);

    let mut first = grader(&db);
    let started = Instant::now();
    while job_state(&db).await.0 != "running" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no grader took it"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // In the middle of the run.
    tokio::time::sleep(Duration::from_millis(800)).await;
    first.kill().await.unwrap();
    let _ = first.wait().await;
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM code_submissions WHERE verdict = 'pending'"
        )
        .await,
        1,
        "a killed run decides nothing"
    );

    // Another grader takes the job once the dead one's claim runs out.
    let _second = grader(&db);
    let started = Instant::now();
    loop {
        let verdict: String = sqlx::query_scalar("SELECT verdict FROM code_submissions")
            .fetch_one(&db)
            .await
            .unwrap();
        if verdict != "pending" {
            assert_eq!(verdict, "accepted");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never graded again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, attempts) = job_state(&db).await;
    assert_eq!((status.as_str(), attempts), ("done", 2));
    // Graded once.
    assert_eq!(count(&db, "SELECT count(*) FROM code_submissions").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM code_submissions WHERE graded_at IS NOT NULL"
        )
        .await,
        1
    );
}
