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

/// A PostgreSQL cluster of this test's own (so it can be restarted without
/// touching the other tests' server), stopped when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    port: u16,
}

impl Cluster {
    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let as_root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let mut command = if as_root {
            // PostgreSQL will not run as root.
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            std::process::Command::new(&program)
        };
        let out = command.args(args).output().expect(tool);
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Debian's PostgreSQL")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max()
            .expect("initdb");
        let dir = std::env::temp_dir().join(format!("weaverse-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { dir, bin, port };
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.pg_ctl("start");
        cluster
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                log.to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                action,
            ],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/weaverse", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = std::panic::catch_unwind(|| {
            self.run(
                "pg_ctl",
                &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
            )
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn while_postgresql_restarts_pages_answer_503_and_then_recover_by_themselves() {
    let cluster = std::sync::Arc::new(Cluster::start());
    let mut config =
        weaverse::config::Config::for_tests(&cluster.url(), "static".into(), "var".into()).unwrap();
    config.database_max_connections = 4;
    let pool = weaverse::infra::db::connect(&config).await.unwrap();
    weaverse::infra::db::migrate(&pool).await.unwrap();
    let app = TestApp::spawn(pool.clone()).await;
    app.seed().await;
    app.signed_up("learner@example.com").await;
    assert_eq!(app.get("/me/dashboard").await.status, StatusCode::OK);

    // Pages are asked for every 50 ms while the server restarts.
    let asking = {
        // The same browser, on a task of its own.
        let browser = TestApp {
            base: app.base.clone(),
            db: app.db.clone(),
            client: app.client.clone(),
            jar: app.jar.clone(),
            state: app.state.clone(),
            var_dir: app.var_dir.clone(),
        };
        tokio::spawn(async move {
            let started = Instant::now();
            let mut seen = Vec::new();
            while started.elapsed() < Duration::from_secs(15) {
                let status = browser.get("/me/dashboard").await.status;
                seen.push((started.elapsed(), status));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restart = Instant::now();
    let restarting = cluster.clone();
    tokio::task::spawn_blocking(move || restarting.pg_ctl("restart"))
        .await
        .unwrap();
    let restarted_after = restart.elapsed();
    let seen = asking.await.unwrap();
    let unavailable = seen
        .iter()
        .filter(|(_, s)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    let wrong: Vec<_> = seen
        .iter()
        .filter(|(_, s)| *s != StatusCode::OK && *s != StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(wrong.is_empty(), "neither a page nor a 503: {wrong:?}");
    // Back by itself: the last seconds are all pages.
    let last_503 = seen
        .iter()
        .rev()
        .find(|(_, s)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .map(|(at, _)| *at);
    let tail_ok = seen
        .iter()
        .filter(|(at, _)| *at > Duration::from_secs(12))
        .all(|(_, s)| *s == StatusCode::OK);
    assert!(tail_ok, "not recovered: {seen:?}");
    eprintln!(
        "restart took {restarted_after:?}; {} requests, {unavailable} answered 503, the last at {last_503:?}",
        seen.len()
    );
    drop(app);
    pool.close().await;
}
