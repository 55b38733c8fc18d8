//! The lesson page, watch events, progress, resume, notes and the admins'
//! watch history, through HTTP against the real app and database. Videos
//! here are rows made ready directly (their segments are not fetched);
//! media.rs covers real transcoding, the browser test real playback.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::{TestApp, count};

async fn seeded(db: PgPool) -> TestApp {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app
}

/// Gives `topic` a ready video `secs` long.
async fn ready_video(app: &TestApp, topic: &str, secs: i32) {
    sqlx::query(
        "INSERT INTO videos (topic_id, state, source_key, source_bytes, duration_ms, width, height, hls_prefix)
         VALUES ($1::uuid, 'ready', 'videos/x/source', 1000, $2, 1280, 720, 'videos/x/run')",
    )
    .bind(topic)
    .bind(secs * 1000)
    .execute(&app.db)
    .await
    .unwrap();
}

/// A learner who bought the nano-degree, and a video topic of it with a
/// ready 100-second video.
async fn learner_with_video(db: PgPool) -> (TestApp, String) {
    let app = seeded(db).await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let topic = app.video_topic(false).await;
    ready_video(&app, &topic, 100).await;
    (app, topic)
}

fn ev(kind: &str, position: f64) -> Value {
    json!({ "type": kind, "position": position, "duration": 100.0 })
}

impl TestApp {
    /// Posts watch events as the player does (JSON, CSRF header, our Origin).
    async fn send_events(&self, topic: &str, events: Vec<Value>) -> (StatusCode, Value) {
        let token = self.csrf_token().await;
        let response = self
            .client
            .post(self.url(&format!("/learn/topics/{topic}/events")))
            .header("origin", &self.base)
            .header("x-csrf-token", token)
            .json(&json!({ "events": events }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Lets `secs` of real time pass for the learner's progress on `topic`
    /// (what the next batch may credit depends on it).
    async fn let_time_pass(&self, topic: &str, secs: i32) {
        sqlx::query(
            "UPDATE topic_progress SET last_batch_at = last_batch_at - make_interval(secs => $2)
              WHERE topic_id = $1::uuid",
        )
        .bind(topic)
        .bind(secs)
        .execute(&self.db)
        .await
        .unwrap();
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn watching_records_merged_seconds_resumes_there_and_completes_at_ninety_percent(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let lesson = format!("/learn/topics/{topic}");

    // First visit: the player starts at 0 and reports to the events URL.
    let page = app.get(&lesson).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.attr("#player", "data-resume-at").as_deref(), Some("0"));
    assert_eq!(
        page.attr("#player", "data-events-url"),
        Some(format!("/learn/topics/{topic}/events"))
    );
    assert!(
        page.attr("#player", "data-hls-src")
            .unwrap()
            .ends_with("/master.m3u8")
    );
    assert!(page.attr("[data-topic-complete]", "hidden").is_some());

    let (status, reply) = app
        .send_events(
            &topic,
            vec![
                ev("play", 0.0),
                ev("heartbeat", 10.0),
                ev("heartbeat", 20.0),
                ev("heartbeat", 30.0),
                ev("pause", 42.0),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["stored"], 5);
    assert_eq!(reply["watched_secs"], 42.0);
    assert_eq!(reply["completed"], false);

    // Reload: resume a few seconds before where it stopped, with the
    // watched part on the seek bar.
    let page = app.get(&lesson).await;
    assert_eq!(
        page.attr("#player", "data-resume-at").as_deref(),
        Some("39")
    );
    assert_eq!(
        page.attr("#player", "data-watched").as_deref(),
        Some("0.0-42.0")
    );

    // Watching 20-60 again adds only 42-60; the rest to the end completes it.
    app.let_time_pass(&topic, 60).await;
    let back = json!({ "type": "seek", "position": 20.0, "duration": 100.0, "from": 42.0 });
    let (_, reply) = app
        .send_events(
            &topic,
            vec![
                back,
                ev("play", 20.0),
                ev("heartbeat", 40.0),
                ev("heartbeat", 60.0),
            ],
        )
        .await;
    assert_eq!(reply["watched_secs"], 60.0);
    app.let_time_pass(&topic, 60).await;
    let (_, reply) = app
        .send_events(&topic, vec![ev("heartbeat", 75.0), ev("heartbeat", 89.0)])
        .await;
    assert_eq!(reply["watched_secs"], 89.0);
    assert_eq!(reply["completed"], false, "89% is not 90%");
    app.let_time_pass(&topic, 60).await;
    let (_, reply) = app.send_events(&topic, vec![ev("ended", 100.0)]).await;
    assert_eq!(reply["completed"], true);
    assert_eq!(reply["percent"], 100.0);

    // Finished: the next visit starts from the beginning, marked complete.
    let page = app.get(&lesson).await;
    assert_eq!(page.attr("#player", "data-resume-at").as_deref(), Some("0"));
    assert!(page.attr("[data-topic-complete]", "hidden").is_none());
    assert!(
        page.attr(&format!(r#"[data-outline-topic="{topic}"]"#), "data-done")
            .is_some()
    );

    // Study time counts real watching: 42 + 40 + 29 + 11 seconds.
    let study: f64 = sqlx::query_scalar("SELECT sum(study_secs) FROM watch_events")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!((study - 122.0).abs() < 0.01, "{study}");
    let dashboard = app.get("/me/dashboard").await;
    assert_eq!(
        dashboard
            .attr("[data-study-total]", "data-study-total")
            .as_deref(),
        Some("122")
    );
    assert_eq!(
        dashboard.attr("[data-continue]", "href"),
        Some(lesson.clone())
    );
    // The home page continues there too and shows the course in progress.
    let course: String = sqlx::query_scalar(
        "SELECT l.course_id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE t.id = $1::uuid",
    )
    .bind(&topic)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let home = app.get("/").await;
    assert_eq!(home.attr("[data-continue]", "href"), Some(lesson.clone()));
    assert_eq!(
        home.attr(&format!(r#"[data-course-id="{course}"]"#), "data-status")
            .as_deref(),
        Some("in-progress")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn seeking_to_the_end_or_replaying_heartbeats_does_not_complete_a_video(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    // Skip to the end at once.
    let skip = json!({ "type": "seek", "position": 99.0, "duration": 100.0, "from": 1.0 });
    let (status, reply) = app
        .send_events(&topic, vec![ev("play", 0.0), skip, ev("ended", 100.0)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["watched_secs"], 2.0);
    // A script reporting the whole video right away earns what two seconds
    // of real time allow at double speed, not the video.
    let fake: Vec<Value> = std::iter::once(ev("play", 0.0))
        .chain((1..=10).map(|i| ev("heartbeat", f64::from(i) * 10.0)))
        .collect();
    let (_, reply) = app.send_events(&topic, fake).await;
    assert_eq!(reply["completed"], false);
    assert!(reply["watched_secs"].as_f64().unwrap() < 10.0, "{reply}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn refused_watch_batches_are_four_hundreds_and_store_nothing(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (vec![], "no events"),
        (vec![ev("rewind", 1.0)], "unknown type"),
        (vec![ev("play", -1.0)], "negative position"),
        (vec![ev("heartbeat", 103.0)], "past the end"),
        (
            vec![json!({ "type": "play", "position": 1.0, "duration": 900.0 })],
            "another video's length",
        ),
        (
            vec![json!({ "type": "ratechange", "position": 1.0, "duration": 100.0, "rate": 16 })],
            "rate",
        ),
        (vec![ev("heartbeat", 1.0); 61], "too many"),
    ];
    for (events, case) in cases {
        let (status, reply) = app.send_events(&topic, events).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {reply}");
        assert!(
            reply["error"].as_str().unwrap().contains("시청 기록"),
            "{case}"
        );
    }
    // Not JSON; no CSRF token; a stranger; a visitor.
    let token = app.csrf_token().await;
    let url = app.url(&format!("/learn/topics/{topic}/events"));
    let bad = app
        .client
        .post(&url)
        .header("origin", &app.base)
        .header("x-csrf-token", &token)
        .body("events=1")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let no_token = app
        .client
        .post(&url)
        .header("origin", &app.base)
        .json(&json!({ "events": [ev("play", 0.0)] }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let stranger = app.another_browser();
    stranger.verified_learner("stranger@example.com").await;
    let (status, _) = stranger.send_events(&topic, vec![ev("play", 0.0)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let visitor = app.another_browser();
    let (status, _) = visitor.send_events(&topic, vec![ev("play", 0.0)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A topic whose video is not ready.
    let reading: String =
        sqlx::query_scalar("SELECT id::text FROM topics WHERE kind = 'reading' LIMIT 1")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let (status, _) = app.send_events(&reading, vec![ev("play", 0.0)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(count(&app.db, "SELECT count(*) FROM watch_events").await, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_learner_sending_too_often_gets_429_with_retry_after(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.limits.watch_batches_per_learner = 3).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let topic = app.video_topic(false).await;
    ready_video(&app, &topic, 100).await;
    for _ in 0..3 {
        let (status, _) = app.send_events(&topic, vec![ev("heartbeat", 1.0)]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url(&format!("/learn/topics/{topic}/events")))
        .header("origin", &app.base)
        .header("x-csrf-token", token)
        .json(&json!({ "events": [ev("heartbeat", 1.0)] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(count(&app.db, "SELECT count(*) FROM watch_events").await, 3);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_beacon_carries_its_token_in_the_query_and_is_recorded(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let token = app.csrf_token().await;
    // What navigator.sendBeacon sends: text/plain, no custom header.
    let response = app
        .client
        .post(app.url(&format!(
            "/learn/topics/{topic}/events?csrf_token={}",
            urlencoding(&token)
        )))
        .header("origin", &app.base)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(json!({ "events": [ev("play", 0.0), ev("pause", 8.0)] }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(count(&app.db, "SELECT count(*) FROM watch_events").await, 2);
}

fn urlencoding(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn parallel_batches_from_two_tabs_each_fold_once(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let token = app.csrf_token().await;
    let url = app.url(&format!("/learn/topics/{topic}/events"));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..10 {
        let start = f64::from(i) * 10.0;
        let request = app
            .client
            .post(&url)
            .header("origin", &app.base)
            .header("x-csrf-token", &token)
            .json(&json!({ "events": [ev("play", start), ev("pause", start + 8.0)] }));
        set.spawn(request.send());
    }
    while let Some(done) = set.join_next().await {
        assert_eq!(done.unwrap().unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM watch_events").await,
        20
    );
    // Every credited second is in the merged intervals exactly once.
    let (credited, watched): (f64, f64) = sqlx::query_as(
        "SELECT (SELECT sum(credited) FROM watch_events), (SELECT watched_secs FROM topic_progress)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!((credited - watched).abs() < 1e-6, "{credited} vs {watched}");
    assert!(watched <= 80.0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn readings_complete_on_opening_and_progress_feeds_the_refund_policy(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("learner@example.com").await;
    let order = app.buy_nanodegree().await;
    let reading: String = sqlx::query_scalar(
        "SELECT t.id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id
          WHERE t.kind = 'reading' ORDER BY l.position, t.position LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = app.get(&format!("/learn/topics/{reading}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.attr("[data-topic-complete]", "hidden").is_none());
    assert!(page.attr("#player", "data-hls-src").is_none());
    let done = count(
        &app.db,
        "SELECT count(*) FROM topic_progress WHERE completed_at IS NOT NULL",
    )
    .await;
    assert_eq!(done, 1);

    // Little used: a full refund. Most of it used: pro rata.
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr("[data-refund-offer]", "data-refund-offer")
            .as_deref(),
        Some("50000")
    );
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at)
         SELECT u.id, t.id, now() FROM users u, topics t
          WHERE u.email = 'learner@example.com' AND t.published_at IS NOT NULL
         ON CONFLICT DO NOTHING",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr("[data-content-used]", "data-content-used")
            .as_deref(),
        Some("100")
    );
    let refund = page.text(".refund-box").unwrap();
    assert!(
        !refund.contains("전액 환불") && refund.contains("남은 수강 기간"),
        "pro rata once the content was used: {refund}"
    );
    let home = app.get("/").await;
    assert_eq!(
        home.attr(r#"[data-roadmap-step="1"]"#, "data-status")
            .as_deref(),
        Some("completed")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn who_sees_the_player_and_who_gets_the_reason_with_the_way_in(db: PgPool) {
    let app = seeded(db).await;
    let preview = app.video_topic(true).await;
    ready_video(&app, &preview, 100).await;
    let locked = app.video_topic(false).await;
    ready_video(&app, &locked, 100).await;

    // A visitor plays a preview, but nothing is recorded for them.
    let page = app.get(&format!("/learn/topics/{preview}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.attr("#player", "data-hls-src").is_some());
    assert!(page.attr("#player", "data-events-url").is_none());
    assert!(page.attr("[data-notes]", "id").is_none());

    // A learner without access sees why and the way to buy, never a player.
    app.verified_learner("learner@example.com").await;
    let page = app.get(&format!("/learn/topics/{locked}")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.attr("#player", "data-hls-src").is_none());
    assert_eq!(
        page.attr("[data-access]", "data-access").as_deref(),
        Some("locked")
    );
    assert!(
        page.text("[data-access]")
            .unwrap()
            .contains("수강권 구매하기")
    );
    // The outline is there to see what the course holds.
    assert!(
        page.attr(
            &format!(r#"[data-outline-topic="{locked}"]"#),
            "data-outline-topic"
        )
        .is_some()
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn notes_and_bookmarks_are_the_learners_own(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let path = format!("/learn/topics/{topic}/notes");
    let page = app
        .post_form(
            &path,
            &[("position", "75.44"), ("body", "  여기서 클로저 설명  ")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = app
        .post_form(&path, &[("position", "12"), ("body", "")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let lesson = app.get(&format!("/learn/topics/{topic}")).await;
    let notes: Vec<String> = lesson
        .html()
        .select(&scraper::Selector::parse("[data-note]").unwrap())
        .map(|n| n.text().collect::<String>())
        .collect();
    assert_eq!(notes.len(), 2);
    assert!(
        notes[0].contains("0:12") && notes[0].contains("북마크"),
        "{notes:?}"
    );
    assert!(notes[1].contains("1:15") && notes[1].contains("여기서 클로저 설명"));
    assert_eq!(
        lesson.attr("[data-seek-to]", "data-seek-to").as_deref(),
        Some("12")
    );

    // Refused: a position outside any video, text too long (htmx gets the
    // list back with the message, 422).
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url(&path))
        .header("origin", &app.base)
        .header("hx-request", "true")
        .form(&[
            ("csrf_token", token.as_str()),
            ("position", "5"),
            ("body", &"가".repeat(1001)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("1,000자"));
    let page = app
        .post_form(&path, &[("position", "-3"), ("body", "x")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app.db, "SELECT count(*) FROM notes").await, 2);

    // Another learner with access sees none of them and cannot delete them.
    let other = app.another_browser();
    other.verified_learner("other@example.com").await;
    other.buy_nanodegree().await;
    let theirs = other.get(&format!("/learn/topics/{topic}")).await;
    assert!(theirs.attr("[data-note]", "data-note").is_none());
    let note = lesson.attr("[data-note]", "data-note").unwrap();
    let page = other
        .post_form(&format!("/learn/notes/{note}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = app
        .post_form(&format!("/learn/notes/{note}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app.db, "SELECT count(*) FROM notes").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admins_filter_edit_and_delete_watch_events_and_progress_follows(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let (_, reply) = app
        .send_events(
            &topic,
            vec![
                ev("play", 0.0),
                ev("heartbeat", 30.0),
                ev("heartbeat", 60.0),
                ev("heartbeat", 91.0),
                ev("pause", 95.0),
            ],
        )
        .await;
    assert_eq!(reply["completed"], true, "{reply}");
    let learner: String =
        sqlx::query_scalar("SELECT id::text FROM users WHERE email = 'learner@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();

    let admin = app.another_browser();
    admin.login_as_admin().await;
    let list = admin.get("/admin/watch?email=learner%40example").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.attr("[data-watch-row]", "data-email").as_deref(),
        Some("learner@example.com")
    );
    assert_eq!(
        list.attr("[data-percent]", "data-percent").as_deref(),
        Some("95")
    );
    let none = admin.get("/admin/watch?email=nobody").await;
    assert!(none.attr("[data-empty]", "data-empty").is_some());

    let events = admin
        .get(&format!("/admin/watch/{learner}/{topic}?kind=heartbeat"))
        .await;
    assert_eq!(events.status, StatusCode::OK);
    let kinds: Vec<String> = events
        .html()
        .select(&scraper::Selector::parse("[data-event]").unwrap())
        .map(|e| e.value().attr("data-kind").unwrap().to_string())
        .collect();
    assert_eq!(kinds, vec!["heartbeat"; 3]);
    let last_beat: i64 = sqlx::query_scalar(
        "SELECT id FROM watch_events WHERE kind = 'heartbeat' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = admin.get(&format!("/admin/watch/events/{last_beat}")).await;
    assert_eq!(page.status, StatusCode::OK);

    // A position past the video is refused in the form.
    let edit = format!("/admin/watch/events/{last_beat}");
    let page = admin
        .post_form(
            &edit,
            &[
                ("kind", "heartbeat"),
                ("position", "500"),
                ("duration", "100"),
                ("rate", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text(r#"[data-error-for="position"]"#).is_some());

    // Turning the last heartbeat into a seek takes its 31 seconds back, and
    // with them the completion.
    let page = admin
        .post_form(
            &edit,
            &[
                ("kind", "seek"),
                ("position", "91"),
                ("duration", "100"),
                ("rate", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let (watched, completed): (f64, bool) =
        sqlx::query_as("SELECT watched_secs, completed_at IS NOT NULL FROM topic_progress")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((watched, completed), (64.0, false));

    // Deleting the first heartbeat: 0-30 is no longer proven.
    let first_beat: i64 = sqlx::query_scalar(
        "SELECT id FROM watch_events WHERE kind = 'heartbeat' ORDER BY id LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = admin
        .post_form(&format!("/admin/watch/events/{first_beat}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let watched: f64 = sqlx::query_scalar("SELECT watched_secs FROM topic_progress")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        watched, 64.0,
        "0-60 is one step from play to the next heartbeat"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM watch_events").await, 4);

    // Learners cannot reach any of it.
    assert_eq!(app.get("/admin/watch").await.status, StatusCode::FORBIDDEN);
}
