//! Faults: a process killed (SIGKILL) in the middle of its work, started
//! again, leaves nothing lost and nothing done twice: a grader mid-run, the
//! server mid-upload; PostgreSQL restarted under load; a full media disk.
//! (Killed during a transcode: `media.rs`; during a payment approval:
//! `kakaopay.rs`; during a backup: `backup.rs`.)

use std::{
    process::Command,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::{
    instances::{Fleet, free_port, wait_ready, weaverse},
    missions::{code_question, mission},
    support::{
        TestApp, count,
        media::{clip, listing},
    },
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

const VIDEOS: &str = "SELECT count(*) FROM videos";
const TRANSCODES: &str = "SELECT count(*) FROM jobs WHERE kind = 'media.transcode'";
const INTENTS: &str = "SELECT count(*) FROM storage_intents";

/// The demo with a studio admin (`studio@example.com`) for a server the test
/// starts itself, a video topic, and the port and address it will use.
async fn studio_on_a_port(db: &PgPool) -> (TestApp, String, u16, String) {
    let app = TestApp::spawn(db.clone()).await;
    app.seed().await;
    let mut conn = db.acquire().await.unwrap();
    weaverse::accounts::create_or_promote_admin(
        &mut conn,
        "studio@example.com",
        crate::support::PASSWORD,
        "관리자",
    )
    .await
    .unwrap();
    let topic = app.video_topic(false).await;
    let port = free_port();
    (app, topic, port, format!("http://127.0.0.1:{port}"))
}

/// The tutor uploads a short real clip: back to the studio, one video more.
async fn a_clip_is_taken(browser: &TestApp, topic: &str, videos_before: i64) {
    let clip = clip(2, 240, true).await;
    let page = browser
        .upload_video(topic, "lecture.mp4", std::fs::read(clip).unwrap())
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(count(&browser.db, VIDEOS).await, videos_before + 1);
}

/// The same browser at `base`, signed in there as `email`.
async fn signed_in_at(app: &TestApp, base: &str, email: &str) -> TestApp {
    let browser = crate::instances::at(&app.another_browser(), base);
    let page = browser.login(email, crate::support::PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser
}

/// Starts sending a video upload of `declared` bytes by hand, as a browser
/// does, and returns the open connection after `sent` of them.
async fn start_upload(
    browser: &TestApp,
    topic: &str,
    declared: usize,
    sent: usize,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let token = browser.csrf_token().await;
    let url: reqwest::Url = browser.base.parse().unwrap();
    let cookies = {
        use reqwest::cookie::CookieStore;
        browser
            .jar
            .cookies(&url)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let head = "--cut\r\nContent-Disposition: form-data; name=\"video\"; filename=\"lecture.mp4\"\r\nContent-Type: video/mp4\r\n\r\n";
    let tail = "\r\n--cut--\r\n";
    let request = format!(
        "POST /studio/topics/{topic}/video HTTP/1.1\r\nHost: {}\r\nCookie: {cookies}\r\nOrigin: {}\r\n\
         X-CSRF-Token: {token}\r\nContent-Type: multipart/form-data; boundary=cut\r\nContent-Length: {}\r\n\r\n{head}",
        url.authority(),
        browser.base,
        head.len() + declared + tail.len(),
    );
    let mut stream = tokio::net::TcpStream::connect(url.authority())
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 0;
    while written < sent {
        let n = chunk.len().min(sent - written);
        stream.write_all(&chunk[..n]).await.unwrap();
        written += n;
    }
    stream
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_server_killed_during_an_upload_keeps_nothing_of_it_and_takes_it_again(db: PgPool) {
    let (app, topic, port, base) = studio_on_a_port(&db).await;
    let root = std::env::temp_dir().join(format!("weaverse-upload-kill-{}", uuid::Uuid::new_v4()));
    let (var, media) = (root.join("var"), root.join("media"));
    std::fs::create_dir_all(&media).unwrap();
    let serve = || {
        weaverse("serve", &db, &var, &media, &base)
            .env("PORT", port.to_string())
            .env_remove("MEDIA_ACCEL_PREFIX")
            .spawn()
            .unwrap()
    };
    let mut fleet = Fleet(vec![serve()]);
    wait_ready(&base).await;
    let browser = signed_in_at(&app, &base, "studio@example.com").await;
    let (videos, transcodes) = (count(&db, VIDEOS).await, count(&db, TRANSCODES).await);

    // 8 MB of a 64 MB upload are in when the server dies.
    let _connection = start_upload(&browser, &topic, 64 << 20, 8 << 20).await;
    let work = var.join("tmp/media");
    let started = Instant::now();
    let part = loop {
        let found = listing(&work)
            .into_iter()
            .find(|f| f.ends_with(".part"))
            .map(|f| work.join(f))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() >= 1 << 20));
        if let Some(part) = found {
            break part;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the upload never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut killed = fleet.0.pop().unwrap();
    killed.kill().unwrap();
    killed.wait().unwrap();

    // Half a file in the work folder; nothing in storage, no video, no job.
    assert!(part.exists());
    assert_eq!(listing(&media), Vec::<String>::new());
    assert_eq!(count(&db, VIDEOS).await, videos);
    assert_eq!(count(&db, TRANSCODES).await, transcodes);

    // An hour and more later (the file's clock moved back) the server starts
    // again and clears what the dead one left.
    std::fs::File::options()
        .write(true)
        .open(&part)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(2 * 3600))
        .unwrap();
    fleet.0.push(serve());
    wait_ready(&base).await;
    assert!(!part.exists(), "the half-received upload was removed");
    assert_eq!(listing(&work), Vec::<String>::new());

    // The tutor uploads again: one video, one transcoding job.
    a_clip_is_taken(&browser, &topic, videos).await;
    assert_eq!(count(&db, TRANSCODES).await, transcodes + 1);
    assert_eq!(
        count(&db, INTENTS).await,
        0,
        "a recorded file leaves no intent"
    );
    assert_eq!(listing(&media).len(), 1, "the source, once");
    drop(fleet);
    std::fs::remove_dir_all(root).ok();
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_file_stored_by_a_server_killed_before_recording_it_is_removed_by_housekeeping(
    db: PgPool,
) {
    let (app, topic, port, base) = studio_on_a_port(&db).await;
    let root = std::env::temp_dir().join(format!("weaverse-store-kill-{}", uuid::Uuid::new_v4()));
    let (var, media) = (root.join("var"), root.join("media"));
    std::fs::create_dir_all(&media).unwrap();
    let mut fleet = Fleet(vec![
        weaverse("serve", &db, &var, &media, &base)
            .env("PORT", port.to_string())
            .env("WEAVERSE_CRASH_AT", "media-stored")
            .spawn()
            .unwrap(),
    ]);
    wait_ready(&base).await;
    let browser = signed_in_at(&app, &base, "studio@example.com").await;
    let videos = count(&db, VIDEOS).await;

    // The server dies right after the upload is in storage, before its row.
    let token = browser.csrf_token().await;
    let bytes = std::fs::read(clip(2, 240, true).await).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "video",
        reqwest::multipart::Part::bytes(bytes).file_name("lecture.mp4"),
    );
    let died = browser
        .client
        .post(browser.url(&format!("/studio/topics/{topic}/video")))
        .header("origin", &browser.base)
        .header("x-csrf-token", token)
        .multipart(form)
        .send()
        .await;
    assert!(died.is_err(), "the server died mid-request");
    assert!(!fleet.0[0].wait().unwrap().success());
    let stored = listing(&media);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].starts_with("videos/") && stored[0].ends_with("/source.mp4"));
    assert_eq!(count(&db, VIDEOS).await, videos, "no row points at it");
    assert_eq!(count(&db, INTENTS).await, 1);

    // Housekeeping leaves a young intent alone (the upload may still be on
    // its way) and removes the file once the intent is old.
    let storage = weaverse::infra::storage::Local::new(&media).unwrap();
    let after = weaverse::media::ABANDONED_AFTER;
    assert_eq!(
        weaverse::media::forget_abandoned(&db, &storage, after)
            .await
            .unwrap(),
        0
    );
    assert_eq!(listing(&media).len(), 1);
    sqlx::query("UPDATE storage_intents SET created_at = now() - interval '7 hours'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        weaverse::media::forget_abandoned(&db, &storage, after)
            .await
            .unwrap(),
        1
    );
    assert_eq!(listing(&media), Vec::<String>::new());
    assert_eq!(count(&db, INTENTS).await, 0);
    drop(fleet);
    std::fs::remove_dir_all(root).ok();
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_full_media_disk_refuses_an_upload_clearly_and_keeps_nothing_of_it(db: PgPool) {
    let (app, topic, port, base) = studio_on_a_port(&db).await;
    // The server's folders (uploads being received, media) on a 16 MB disk
    // of their own: a tmpfs that only the server's mount namespace sees.
    let var = std::env::temp_dir().join(format!("weaverse-full-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&var).unwrap();
    let server = weaverse("serve", &db, &var, &var.join("media"), &base);
    let mut bwrap = Command::new("bwrap");
    bwrap
        .args(["--die-with-parent", "--dev-bind", "/", "/", "--size"])
        .arg((16u32 << 20).to_string())
        .arg("--tmpfs")
        .arg(&var)
        .arg(server.get_program());
    bwrap.args(server.get_args());
    for (key, value) in server.get_envs() {
        match value {
            Some(value) => bwrap.env(key, value),
            None => bwrap.env_remove(key),
        };
    }
    let child = bwrap
        .env("PORT", port.to_string())
        .env_remove("MEDIA_ACCEL_PREFIX")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("bwrap (scripts/system-deps.sh installs bubblewrap)");
    let bwrap_pid = child.id();
    let _fleet = Fleet(vec![child]);
    wait_ready(&base).await;
    // The server's view of its disk.
    let server_pid =
        std::fs::read_to_string(format!("/proc/{bwrap_pid}/task/{bwrap_pid}/children"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
    let seen = std::path::PathBuf::from(format!("/proc/{server_pid}/root"))
        .join(var.strip_prefix("/").unwrap());
    assert!(
        seen.join("tmp/media").is_dir(),
        "the server's tmpfs is visible at {}",
        seen.display()
    );
    let browser = signed_in_at(&app, &base, "studio@example.com").await;
    let videos = count(&db, VIDEOS).await;

    // 24 MB do not fit: a page that says so, in Korean, with 507.
    let page = browser
        .upload_video(&topic, "lecture.mp4", vec![7u8; 24 << 20])
        .await;
    assert_eq!(
        page.status,
        StatusCode::INSUFFICIENT_STORAGE,
        "{}",
        page.body
    );
    assert!(page.body.contains("저장 공간이 가득 차서"), "{}", page.body);
    assert_eq!(listing(&seen.join("tmp/media")), Vec::<String>::new());
    assert_eq!(listing(&seen.join("media")), Vec::<String>::new());
    assert_eq!(count(&db, VIDEOS).await, videos);

    // The room was given back: a video that fits is taken.
    a_clip_is_taken(&browser, &topic, videos).await;
    assert_eq!(listing(&seen.join("media")).len(), 1);
}
