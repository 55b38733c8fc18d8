//! Operations through HTTP: liveness and readiness, `/metrics` and who may
//! read it, request ids in JSON logs, and the lanes on `/admin/jobs`.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::TestApp;

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn healthz_says_alive_and_readyz_follows_the_database_and_migrations(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    assert_eq!(app.get("/healthz").await.body, "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);

    // A migration this build does not know of yet: the database is ahead.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99991231000000, 'from a newer build', true, '\\x00', 0)",
    )
    .execute(&db)
    .await
    .unwrap();
    let ahead = app.get("/readyz").await;
    assert_eq!(ahead.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ahead.body.contains("migrations"), "{}", ahead.body);
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 99991231000000")
        .execute(&db)
        .await
        .unwrap();

    db.close().await;
    let page = app.get("/readyz").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("database"), "{}", page.body);
    // Alive all the same: nothing to restart.
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn readyz_fails_while_the_media_storage_cannot_be_reached(db: PgPool) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    // The media disk goes away (unmounted): not ready until it is back.
    let media = app.var_dir.join("media");
    let away = app.var_dir.join("media-away");
    std::fs::rename(&media, &away).unwrap();
    let page = app.get("/readyz").await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert!(page.body.contains("storage"), "{}", page.body);
    std::fs::rename(&away, &media).unwrap();
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn metrics_count_requests_by_route_and_read_jobs_learners_and_orders(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    for _ in 0..3 {
        assert_eq!(app.get("/courses").await.status, StatusCode::OK);
    }
    assert_eq!(app.get("/no-such-page").await.status, StatusCode::NOT_FOUND);
    let mut conn = app.db.acquire().await.unwrap();
    weaverse::jobs::enqueue(
        &mut conn,
        weaverse::media::TRANSCODE_JOB,
        serde_json::json!({}),
        weaverse::jobs::EnqueueOptions {
            delay: Some(Duration::from_secs(3600)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    drop(conn);

    let page = app.another_browser().get("/metrics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/plain"));
    let line = |prefix: &str| {
        page.body
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{}", page.body))
            .to_owned()
    };
    let courses =
        line("weaverse_http_requests_total{method=\"GET\",route=\"/courses\",status=\"200\"}");
    assert!(courses.ends_with(" 3"), "{courses}");
    line("weaverse_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}");
    line(
        "weaverse_http_request_duration_seconds_bucket{method=\"GET\",route=\"/courses\",le=\"0.05\"}",
    );
    line("weaverse_jobs{lane=\"video\",kind=\"media.transcode\",state=\"pending\"} 1");
    line("weaverse_job_wait_seconds{lane=\"quick\"}");
    line("weaverse_learners_online 1");
    line("weaverse_orders{state=\"paid\"} 1");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn metrics_are_refused_through_the_proxy_without_the_token(db: PgPool) {
    const TOKEN: &str = "metrics-token-0123456789";
    let app = TestApp::spawn_with(db, |c| c.metrics_token = Some(TOKEN.into())).await;
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::NOT_FOUND);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .bearer_auth("metrics-token-guessed-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    let with_token = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.7")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    assert!(with_token.text().await.unwrap().contains("weaverse_jobs"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn json_logs_carry_the_request_id(db: PgPool) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let var_dir = std::env::temp_dir().join(format!("weaverse-logs-{}", uuid::Uuid::new_v4()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .arg("serve")
        .env("APP_ENV", "test")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", crate::cli::database_url(&db))
        .env("VAR_DIR", &var_dir)
        .env("JOB_WORKERS", "0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,tower_http=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn weaverse");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/no-such-page");
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(response) = client
            .get(&url)
            .header("x-request-id", "req-7f3a-test")
            .send()
            .await
        {
            answered = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let response = answered.expect("the server answers");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()["x-request-id"], "req-7f3a-test");
    // A request without an id gets one, and says it.
    let fresh = client.get(&url).send().await.unwrap();
    assert!(!fresh.headers()["x-request-id"].is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    let _ = child.wait();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<serde_json::Value> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    let ours = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "req-7f3a-test")
        .unwrap_or_else(|| panic!("no log line with the request id in {lines:?}"));
    assert_eq!(ours["span"]["path"], "/no-such-page");
    let _ = std::fs::remove_dir_all(var_dir);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_jobs_page_shows_each_lanes_queue(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as_admin().await;
    let mut conn = app.db.acquire().await.unwrap();
    for kind in [
        weaverse::media::TRANSCODE_JOB,
        weaverse::media::TRANSCODE_JOB,
        weaverse::infra::mail::SEND_JOB,
    ] {
        weaverse::jobs::enqueue(&mut conn, kind, serde_json::json!({}), Default::default())
            .await
            .unwrap();
    }
    drop(conn);
    let page = app.get("/admin/jobs").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.attr("[data-lane=video]", "data-due").as_deref(),
        Some("2")
    );
    assert_eq!(
        page.attr("[data-lane=quick]", "data-due").as_deref(),
        Some("1")
    );
    assert_eq!(
        page.attr("[data-lane=grading]", "data-due").as_deref(),
        Some("0")
    );
    assert!(
        page.text("[data-lane=batch]")
            .unwrap()
            .contains("dashboards.rollup")
    );
}
