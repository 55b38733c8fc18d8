//! Several instances, proven here: Debian's nginx on loopback with the
//! repo's `deploy/nginx.conf` in front of two `weaverse serve` processes
//! and one `weaverse worker`, all on one database and one media folder.
//! The main journey runs through nginx; then a logout, a password change
//! and a published course on one instance reach the other within 1 s.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::{
    learning::Player,
    missions::{RIGHT_SUM, code_question, mission},
    support::{PASSWORD, SentMail, TestApp, media::clip},
};

/// The processes of the test, killed when it ends however it ends.
pub(crate) struct Fleet(pub(crate) Vec<Child>);

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The settings every instance shares (the same keys: a cookie signed by
/// one verifies on the other).
pub(crate) fn weaverse(
    role: &str,
    db: &PgPool,
    var_dir: &Path,
    media: &Path,
    public: &str,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weaverse"));
    command
        .arg(role)
        .env("APP_ENV", "test")
        .env("DATABASE_URL", crate::cli::database_url(db))
        .env("VAR_DIR", var_dir)
        .env("MEDIA_DIR", media)
        .env(
            "STATIC_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("static"),
        )
        .env("PUBLIC_URL", public)
        .env("SESSION_KEY", hex::encode([7u8; 32]))
        .env("DATA_KEYS", format!("test1:{}", hex::encode([9u8; 32])))
        .env("BADGE_SIGNING_KEY", hex::encode([5u8; 32]))
        .env("TRUST_PROXY", "true")
        .env("MEDIA_ACCEL_PREFIX", "/_media")
        .env("JOB_WORKERS", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// The repo's nginx config with only the addresses of this machine: the
/// upstream's servers, the port it listens on, the media folder.
fn nginx_config(dir: &Path, port: u16, apps: &[u16], media: &Path) -> PathBuf {
    let repo =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .unwrap();
    let servers: String = apps
        .iter()
        .map(|p| format!("server 127.0.0.1:{p};\n    "))
        .collect();
    for needed in ["server app:8000;", "listen 80;", "alias /app/var/media/;"] {
        assert!(repo.contains(needed), "deploy/nginx.conf changed: {needed}");
    }
    let site = repo
        .replace("server app:8000;", servers.trim_end())
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
        .replace(
            "alias /app/var/media/;",
            &format!("alias {}/;", media.display()),
        );
    let d = dir.display();
    let conf = format!(
        "daemon off;\nworker_processes 1;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n  access_log off;\n\
           client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
           uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{site}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

pub(crate) async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never became ready");
}

/// The same browser (cookies) talking to another address.
pub(crate) fn at(browser: &TestApp, base: &str) -> TestApp {
    TestApp {
        base: base.to_owned(),
        db: browser.db.clone(),
        client: browser.client.clone(),
        jar: browser.jar.clone(),
        state: browser.state.clone(),
        var_dir: browser.var_dir.clone(),
    }
}

/// The newest mail to `to` the worker wrote, waiting for it.
async fn mail_to(worker_var: &Path, to: &str) -> SentMail {
    let started = Instant::now();
    loop {
        let mut found: Vec<(std::time::SystemTime, SentMail)> =
            std::fs::read_dir(worker_var.join("mail"))
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter_map(|e| {
                            let mail = SentMail::parse(&std::fs::read(e.path()).ok()?);
                            let at = e.metadata().ok()?.modified().ok()?;
                            mail.to.contains(to).then_some((at, mail))
                        })
                        .collect()
                })
                .unwrap_or_default();
        found.sort_by_key(|(at, _)| *at);
        if let Some((_, mail)) = found.pop() {
            return mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no mail to {to}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` until it holds; how long that took (at most `limit`).
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn signed_in(browser: &TestApp) -> bool {
    browser.get("/me/dashboard").await.status == StatusCode::OK
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn two_instances_behind_nginx_serve_the_journey_and_agree_within_a_second(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    app.seed().await;
    let root = std::env::temp_dir().join(format!("weaverse-fleet-{}", uuid::Uuid::new_v4()));
    let media = root.join("media");
    std::fs::create_dir_all(&media).unwrap();
    let (front, a_port, b_port) = (free_port(), free_port(), free_port());
    let public = format!("http://127.0.0.1:{front}");
    let (a, b) = (
        format!("http://127.0.0.1:{a_port}"),
        format!("http://127.0.0.1:{b_port}"),
    );
    let worker_var = root.join("worker");
    let mut fleet = Fleet(Vec::new());
    for (name, port) in [("a", a_port), ("b", b_port)] {
        let child = weaverse("serve", &db, &root.join(name), &media, &public)
            .env("PORT", port.to_string())
            .spawn()
            .unwrap();
        fleet.0.push(child);
    }
    fleet.0.push(
        weaverse("worker", &db, &worker_var, &media, &public)
            .spawn()
            .unwrap(),
    );
    let nginx_dir = root.join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let conf = nginx_config(&nginx_dir, front, &[a_port, b_port], &media);
    fleet.0.push(
        Command::new("nginx")
            .args(["-p"])
            .arg(&nginx_dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(nginx_dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx (scripts/system-deps.sh test installs it)"),
    );
    for base in [&a, &b, &public] {
        wait_ready(base).await;
    }

    // The journey, every request through nginx.
    let learner = at(&app.another_browser(), &public);
    learner.signed_up("learner@example.com").await;
    let link = mail_to(&worker_var, "learner@example.com")
        .await
        .link("/verify-email/");
    assert!(link.starts_with(&public), "{link}");
    assert_eq!(learner.get(&link).await.status, StatusCode::SEE_OTHER);
    let page = learner
        .post_form(
            "/me/legal-name",
            &[("legal_name", "홍길동"), ("next", "/me/dashboard")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    learner.buy_nanodegree().await;

    let admin = at(&app.another_browser(), &public);
    admin.login_as_admin().await;
    let topic = admin.video_topic(false).await;
    let bytes = std::fs::read(clip(4, 720, true).await).unwrap();
    let page = admin.upload_video(&topic, "lesson.mp4", bytes).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    within(Duration::from_secs(90), "the worker transcodes", || async {
        admin.video_of(&topic).await.is_some_and(|v| v.1 == "ready")
    })
    .await;

    let lesson = learner.get(&format!("/learn/topics/{topic}")).await;
    assert_eq!(lesson.status, StatusCode::OK);
    let master = lesson.attr("#player", "data-hls-src").unwrap();
    let response = learner.first_segment(&master).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("x-accel-redirect").is_none(),
        "nginx sent the file"
    );
    assert!(response.bytes().await.unwrap().len() > 1000);

    let duration: i32 = sqlx::query_scalar(
        "SELECT duration_ms FROM videos WHERE topic_id = $1::uuid AND deleted_at IS NULL",
    )
    .bind(&topic)
    .fetch_one(&db)
    .await
    .unwrap();
    let mut player = Player::open(&learner, "learner@example.com", &topic).await;
    player.time_passes(4);
    let mut events = vec![player.ev("play", 0.0), player.ev("pause", 3.0)];
    for event in &mut events {
        event["duration"] = serde_json::json!(f64::from(duration) / 1000.0);
    }
    let (status, reply) = player.send(events).await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    let sum = mission(&learner, "배열 합계 함수 작성하기").await;
    let question = code_question(&learner, &sum).await;
    let page = learner.submit_code(&sum, &question, RIGHT_SUM).await;
    assert_eq!(page.status, StatusCode::ACCEPTED, "{}", page.body);
    let submission = page.attr("[data-submission]", "data-submission").unwrap();
    let (verdict, _) = learner
        .verdict_within(&submission, Duration::from_secs(30))
        .await;
    assert_eq!(verdict, "accepted");

    // The last reading of a course (the rest done already) certifies it.
    let reading: String =
        sqlx::query_scalar("SELECT id::text FROM topics WHERE title = '풀 리퀘스트와 코드 리뷰'")
            .fetch_one(&db)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at)
         SELECT u.id, t.id, now() FROM users u, topics t JOIN lectures l ON l.id = t.lecture_id
           JOIN courses c ON c.id = l.course_id
          WHERE u.email = 'learner@example.com' AND c.slug = 'git-collaboration' AND t.id <> $1::uuid
         ON CONFLICT (user_id, topic_id) DO UPDATE SET completed_at = now()",
    )
    .bind(&reading)
    .execute(&db)
    .await
    .unwrap();
    let done = learner
        .post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let code: String = sqlx::query_scalar("SELECT code FROM certificates")
        .fetch_one(&db)
        .await
        .unwrap();
    let (status, pdf) = learner
        .get_bytes(&format!("/certificates/{code}.pdf"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));

    // A logout on a ends that session on b within a second, though b had
    // just seen it.
    let on_a = at(&app.another_browser(), &a);
    assert_eq!(
        on_a.login("learner@example.com", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let cookie = on_a.cookie("weaverse_session").unwrap();
    let on_b = at(&app.another_browser(), &b);
    on_b.set_cookie("weaverse_session", &cookie);
    assert!(signed_in(&on_b).await);
    assert!(signed_in(&on_b).await);

    // A note written on a shows in the lesson on b, which had kept the
    // learner's state (two loads: the first marks the lesson opened).
    let lesson = format!("/learn/topics/{topic}");
    on_b.get(&lesson).await;
    assert!(on_b.get(&lesson).await.text("[data-note]").is_none());
    let noted = on_a
        .post_form(
            &format!("{lesson}/notes"),
            &[("body", "다른 인스턴스에서 쓴 메모"), ("position", "5")],
        )
        .await;
    assert!(noted.status.is_success() || noted.status.is_redirection());
    let note = within(
        Duration::from_secs(1),
        "a note written on a reaches b's kept lesson",
        || async { on_b.get(&lesson).await.text("[data-note]").is_some() },
    )
    .await;
    assert_eq!(on_a.logout().await.status, StatusCode::SEE_OTHER);
    let logout = within(
        Duration::from_secs(1),
        "a logout on a reaches b",
        || async { !signed_in(&on_b).await },
    )
    .await;

    // A password change on a ends the other sessions on b within a second.
    let elsewhere = at(&app.another_browser(), &b);
    assert_eq!(
        elsewhere
            .login("learner@example.com", PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(signed_in(&elsewhere).await);
    let changer = at(&app.another_browser(), &a);
    changer.login("learner@example.com", PASSWORD).await;
    let page = changer
        .post_form(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "새 비밀번호 바다 2027"),
            ],
        )
        .await;
    assert!(page.status.is_redirection(), "{}", page.body);
    let password = within(
        Duration::from_secs(1),
        "a password change on a reaches b",
        || async { !signed_in(&elsewhere).await },
    )
    .await;

    // A course unpublished, then published, in the studio on a shows in
    // b's catalogue within a second each time.
    let (course, title): (String, String) =
        sqlx::query_as("SELECT id::text, title FROM courses WHERE slug = 'git-collaboration'")
            .fetch_one(&db)
            .await
            .unwrap();
    // Published courses need a cover: one, made by the worker.
    admin.give_cover(&course).await;
    within(Duration::from_secs(20), "the worker sizes the cover", || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM jobs WHERE kind = 'media.image' AND status IN ('pending', 'running')",
        )
        .fetch_one(&db)
        .await
        .unwrap()
            == 0
    })
    .await;
    let visitor_b = at(&app.another_browser(), &b);
    let listed = || async { visitor_b.get("/courses").await.body.contains(&title) };
    assert!(listed().await);
    let studio_a = at(&admin, &a);
    let set_state = |state: &'static str| {
        let (studio_a, course) = (&studio_a, &course);
        async move {
            let page = studio_a
                .post_form(
                    &format!("/studio/courses/{course}/publish"),
                    &[("state", state)],
                )
                .await;
            assert!(page.status.is_redirection(), "{}", page.body);
        }
    };
    set_state("draft").await;
    let hidden = within(
        Duration::from_secs(1),
        "an unpublished course leaves b",
        || async { !listed().await },
    )
    .await;
    set_state("published").await;
    let shown = within(
        Duration::from_secs(1),
        "a published course reaches b",
        || async { listed().await },
    )
    .await;
    eprintln!(
        "across instances: note {note:?}, logout {logout:?}, password change {password:?}, unpublish {hidden:?}, publish {shown:?}"
    );
    drop(fleet);
    let _ = std::fs::remove_dir_all(root);
}
