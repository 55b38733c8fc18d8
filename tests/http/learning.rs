//! The lesson page, watch events, progress, resume, notes and the admins'
//! watch history, through HTTP against the real app and database. Videos
//! here are rows made ready directly (their segments are not fetched);
//! media.rs covers real transcoding, the browser test real playback.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use time::OffsetDateTime;
use weaverse::{
    ids::{TopicId, UserId},
    learning::session::{self, WatchSession},
};

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
pub(crate) async fn learner_with_video(db: PgPool) -> (TestApp, String) {
    let app = seeded(db).await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let topic = app.video_topic(false).await;
    ready_video(&app, &topic, 100).await;
    (app, topic)
}

/// A bare event (no number, no claim), for refused batches.
fn ev(kind: &str, position: f64) -> Value {
    json!({ "type": kind, "position": position, "duration": 100.0 })
}

/// One lesson page's player, as `player.js` behaves: events numbered in the
/// page's watch session, each claiming the stretch played since the
/// previous one. The session is signed here with the app's key, so the test
/// controls its clock: [`Player::time_passes`] moves the page's start back.
/// Where the lesson page's player resumes and the part it shows watched.
pub(crate) fn player_shows(page: &crate::support::Page) -> (String, String) {
    let at = |attr| page.attr("#player", attr).unwrap_or_default();
    (at("data-resume-at"), at("data-watched"))
}

pub(crate) struct Player<'a> {
    app: &'a TestApp,
    topic: String,
    user: UserId,
    session: WatchSession,
    seq: u32,
    since: Option<f64>,
}

impl<'a> Player<'a> {
    /// The page for `email`'s learner on `topic`, handed out just now.
    pub(crate) async fn open(app: &'a TestApp, email: &str, topic: &str) -> Self {
        let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&app.db)
            .await
            .unwrap();
        Self {
            app,
            topic: topic.to_owned(),
            user: UserId(user),
            session: WatchSession {
                page: uuid::Uuid::new_v4(),
                issued_at: OffsetDateTime::now_utc(),
            },
            seq: 0,
            since: None,
        }
    }

    pub(crate) fn token(&self) -> String {
        let topic = TopicId(self.topic.parse().unwrap());
        session::token(&self.app.state.app.signer, self.user, topic, self.session)
    }

    /// `secs` of real time pass while the page is open.
    pub(crate) fn time_passes(&mut self, secs: i64) {
        self.session.issued_at -= time::Duration::seconds(secs);
    }

    /// The next event: `kind` at `position`, claiming what played since the
    /// last one while playing.
    pub(crate) fn ev(&mut self, kind: &str, position: f64) -> Value {
        self.seq += 1;
        let mut event =
            json!({ "type": kind, "position": position, "duration": 100.0, "seq": self.seq });
        if let (Some(since), true) = (self.since, kind != "play") {
            event["since"] = json!(since);
        }
        self.since = (!matches!(kind, "pause" | "ended")).then_some(position);
        event
    }

    /// A seek from `from` to `to`; playback stops (a `play` starts it).
    fn seek(&mut self, from: f64, to: f64) -> Value {
        let mut event = self.ev("seek", to);
        event["from"] = json!(from);
        self.since = None;
        event
    }

    pub(crate) async fn send(&self, events: Vec<Value>) -> (StatusCode, Value) {
        self.app
            .send_batch(
                &self.topic,
                json!({ "session": self.token(), "events": events }),
            )
            .await
    }
}

impl TestApp {
    /// Posts a batch as the player does (JSON, CSRF header, our Origin).
    async fn send_batch(&self, topic: &str, batch: Value) -> (StatusCode, Value) {
        let token = self.csrf_token().await;
        let response = self
            .client
            .post(self.url(&format!("/learn/topics/{topic}/events")))
            .header("origin", &self.base)
            .header("x-csrf-token", token)
            .json(&batch)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Posts bare events without a watch session (refused before anything).
    async fn send_events(&self, topic: &str, events: Vec<Value>) -> (StatusCode, Value) {
        self.send_batch(topic, json!({ "events": events })).await
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
    // The page's own watch session is taken (a play claims nothing).
    let handed_out = page.attr("#player", "data-watch-session").unwrap();
    let (status, reply) = app
        .send_batch(
            &topic,
            json!({ "session": handed_out, "events": [{ "type": "play", "position": 0.0, "duration": 100.0, "seq": 1 }] }),
        )
        .await;
    assert_eq!(
        (status, reply["stored"].clone()),
        (StatusCode::OK, json!(1))
    );

    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    player.time_passes(45);
    let events = vec![
        player.ev("play", 0.0),
        player.ev("heartbeat", 10.0),
        player.ev("heartbeat", 20.0),
        player.ev("heartbeat", 30.0),
        player.ev("pause", 42.0),
    ];
    let (status, reply) = player.send(events).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["stored"], 5);
    assert_eq!(reply["watched_secs"], 42.0);
    assert_eq!(reply["completed"], false);

    // Reload: resume a few seconds before where it stopped, with the
    // watched part on the seek bar.
    let page = app.get(&lesson).await;
    assert_eq!(player_shows(&page), ("39".into(), "0.0-42.0".into()));

    // Watching 20-60 again adds only 42-60; the rest to the end completes it.
    player.time_passes(60);
    let events = vec![
        player.seek(42.0, 20.0),
        player.ev("play", 20.0),
        player.ev("heartbeat", 40.0),
        player.ev("heartbeat", 60.0),
    ];
    let (_, reply) = player.send(events).await;
    assert_eq!(reply["watched_secs"], 60.0);
    player.time_passes(60);
    let events = vec![player.ev("heartbeat", 75.0), player.ev("heartbeat", 89.0)];
    let (_, reply) = player.send(events).await;
    assert_eq!(reply["watched_secs"], 89.0);
    assert_eq!(reply["completed"], false, "89% is not 90%");
    player.time_passes(60);
    let end = player.ev("ended", 100.0);
    let (_, reply) = player.send(vec![end]).await;
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
    // The video is done (ninety percent watched): continue with the topic
    // after it.
    let topics = crate::dashboards::roadmap_topics(&app).await;
    let next = format!(
        "/learn/topics/{}",
        topics[topics.iter().position(|t| *t == topic).unwrap() + 1]
    );
    assert_eq!(
        dashboard.attr("[data-continue]", "href"),
        Some(next.clone())
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
    assert_eq!(home.attr("[data-continue]", "href"), Some(next));
    assert_eq!(
        home.attr(&format!(r#"[data-course-id="{course}"]"#), "data-status")
            .as_deref(),
        Some("in-progress")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn seeking_to_the_end_or_replaying_heartbeats_does_not_complete_a_video(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    // Skip to the end at once, a second after the page was handed out.
    player.time_passes(1);
    let events = vec![
        player.ev("play", 0.0),
        player.seek(1.0, 99.0),
        player.ev("play", 99.0),
        player.ev("ended", 100.0),
    ];
    let (status, reply) = player.send(events).await;
    assert_eq!(status, StatusCode::OK);
    assert!(reply["watched_secs"].as_f64().unwrap() <= 2.1, "{reply}");
    // A script reporting the whole video right away earns nothing more: no
    // time has passed since.
    let mut fake = vec![player.ev("play", 0.0)];
    fake.extend((1..=10).map(|i| player.ev("heartbeat", f64::from(i) * 10.0)));
    let (_, reply) = player.send(fake).await;
    assert_eq!(reply["completed"], false);
    assert!(reply["watched_secs"].as_f64().unwrap() < 3.0, "{reply}");
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
    let player = Player::open(&app, "learner@example.com", &topic).await;
    for (events, case) in cases {
        let (status, reply) = player.send(events).await;
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
    // No watch session, another topic's, or events without their numbers:
    // the page is asked to reload.
    let (status, reply) = app.send_events(&topic, vec![ev("play", 0.0)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(reply["error"].as_str().unwrap().contains("새로 고쳐"));
    let other = Player::open(&app, "learner@example.com", &reading).await;
    let (status, _) = app
        .send_batch(
            &topic,
            json!({ "session": other.token(), "events": [ev("play", 0.0)] }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = player.send(vec![ev("play", 0.0)]).await;
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
    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    for _ in 0..3 {
        let beat = player.ev("heartbeat", 1.0);
        let (status, _) = player.send(vec![beat]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let token = app.csrf_token().await;
    let beat = player.ev("heartbeat", 1.0);
    let response = app
        .client
        .post(app.url(&format!("/learn/topics/{topic}/events")))
        .header("origin", &app.base)
        .header("x-csrf-token", token)
        .json(&json!({ "session": player.token(), "events": [beat] }))
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
    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    player.time_passes(10);
    let events = vec![player.ev("play", 0.0), player.ev("pause", 8.0)];
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
        .body(json!({ "session": player.token(), "events": events }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(count(&app.db, "SELECT count(*) FROM watch_events").await, 2);
    let watched: f64 = sqlx::query_scalar("SELECT watched_secs FROM topic_progress")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(watched, 8.0);
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
        // Ten tabs, open for the last 100 s, each watched 8 s.
        let start = f64::from(i) * 10.0;
        let mut tab = Player::open(&app, "learner@example.com", &topic).await;
        tab.time_passes(100);
        let events = vec![tab.ev("play", start), tab.ev("pause", start + 8.0)];
        let request = app
            .client
            .post(&url)
            .header("origin", &app.base)
            .header("x-csrf-token", &token)
            .json(&json!({ "session": tab.token(), "events": events }));
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
async fn readings_complete_when_marked_read_and_progress_feeds_the_refund_policy(db: PgPool) {
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
    assert!(page.attr("[data-topic-complete]", "hidden").is_some());
    assert!(page.attr("#player", "data-hls-src").is_none());
    let done = "SELECT count(*) FROM topic_progress WHERE completed_at IS NOT NULL";
    assert_eq!(count(&app.db, done).await, 0, "opening completes nothing");
    let read = app
        .post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    assert_eq!(read.status, StatusCode::SEE_OTHER, "{}", read.body);
    let page = app.get(&format!("/learn/topics/{reading}")).await;
    assert!(page.attr("[data-topic-complete]", "hidden").is_none());
    assert_eq!(count(&app.db, done).await, 1);

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

/// The learner's study time on their dashboard, and the sum of their
/// events' study seconds (rounded): the dashboard reads the per-day totals
/// the database keeps as events change, so the two must agree.
async fn study_shown_and_logged(app: &TestApp) -> (String, String) {
    let shown = app
        .get("/me/dashboard")
        .await
        .attr("[data-study-total]", "data-study-total")
        .unwrap();
    let logged: String = sqlx::query_scalar(
        "SELECT round(coalesce(sum(study_secs), 0))::bigint::text FROM watch_events",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    (shown, logged)
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admins_filter_edit_and_delete_watch_events_and_progress_follows(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    player.time_passes(120);
    let events = vec![
        player.ev("play", 0.0),
        player.ev("heartbeat", 30.0),
        player.ev("heartbeat", 60.0),
        player.ev("heartbeat", 91.0),
        player.ev("pause", 95.0),
    ];
    let (_, reply) = player.send(events).await;
    assert_eq!(reply["completed"], true, "{reply}");
    let (shown, logged) = study_shown_and_logged(&app).await;
    assert_eq!(shown, logged);
    let studied: f64 = shown.parse().unwrap();
    assert!(studied > 90.0, "{studied}");
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
    // Names and titles, not ids.
    let (email, title): (String, String) = sqlx::query_as(
        "SELECT u.email, t.title FROM users u, topics t WHERE u.id = $1::uuid AND t.id = $2::uuid",
    )
    .bind(learner.to_string())
    .bind(topic.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    let who = events.text("[data-who]").unwrap();
    assert!(who.contains(&email) && who.contains(&title), "{who}");
    // The same events, filtered the same way, as a CSV download.
    let csv = admin.get(&events.attr("[data-csv]", "href").unwrap()).await;
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 1 + 3, "{}", csv.body);
    let cell = |s: &str| match s.contains(',') {
        true => format!("\"{s}\""),
        false => s.to_owned(),
    };
    assert!(
        lines[1].starts_with(&format!("{},{},", cell(&email), cell(&title))),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",재생 중,"), "{}", lines[1]);
    let last_beat: i64 = sqlx::query_scalar(
        "SELECT id FROM watch_events WHERE kind = 'heartbeat' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let page = admin.get(&format!("/admin/watch/events/{last_beat}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text("[data-who]").unwrap().contains(&email));

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
    let (shown, logged) = study_shown_and_logged(&app).await;
    assert_eq!(
        shown, logged,
        "the correction's study seconds leave the dashboard too"
    );
    let corrected: f64 = shown.parse().unwrap();
    assert!(corrected < studied, "{corrected} < {studied}");

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
        watched, 34.0,
        "each event proves its own stretch: 0-30 went with it"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM watch_events").await, 4);
    let (shown, logged) = study_shown_and_logged(&app).await;
    assert_eq!(
        shown, logged,
        "a deleted event's study seconds leave the dashboard"
    );
    assert!(shown.parse::<f64>().unwrap() < corrected);

    // Learners cannot reach any of it.
    assert_eq!(app.get("/admin/watch").await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn forged_batches_credit_nothing_faster_than_the_clock(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let study = || async {
        sqlx::query_scalar::<_, f64>("SELECT coalesce(sum(study_secs), 0) FROM watch_events")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    // The review's first batch, sent as the page arrives: [play@0,
    // heartbeat@20, ended@20] completed a 20 s video at once.
    let short: String = sqlx::query_scalar(
        "SELECT id::text FROM topics WHERE kind = 'video' AND id <> $1::uuid LIMIT 1",
    )
    .bind(&topic)
    .fetch_one(&app.db)
    .await
    .unwrap();
    ready_video(&app, &short, 20).await;
    let mut player = Player::open(&app, "learner@example.com", &short).await;
    let mut events = vec![player.ev("play", 0.0), player.ev("heartbeat", 20.0)];
    events.push(
        json!({ "type": "ended", "position": 20.0, "duration": 20.0, "seq": 3, "since": 0.0 }),
    );
    for e in &mut events {
        e["duration"] = json!(20.0);
    }
    let (status, reply) = player.send(events).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["completed"], false, "{reply}");
    assert!(reply["watched_secs"].as_f64().unwrap() < 1.0, "{reply}");

    // Four topics at once, each page open for 60 s, each claiming 60 s:
    // one clock for the learner, so 60 s of study in all.
    let topics: Vec<String> = sqlx::query_scalar(
        "SELECT id::text FROM topics WHERE kind = 'video' AND id <> $1::uuid ORDER BY id LIMIT 4",
    )
    .bind(&short)
    .fetch_all(&app.db)
    .await
    .unwrap();
    for t in topics.iter().filter(|t| **t != topic) {
        ready_video(&app, t, 100).await;
    }
    let before = study().await;
    for t in &topics {
        let mut tab = Player::open(&app, "learner@example.com", t).await;
        tab.time_passes(60);
        let mut events = vec![tab.ev("play", 0.0)];
        events.extend((1..=6).map(|i| tab.ev("heartbeat", f64::from(i) * 10.0)));
        let (status, _) = tab.send(events).await;
        assert_eq!(status, StatusCode::OK);
    }
    let spent = study().await - before;
    assert!(spent <= 61.0, "{spent} s of study in 60 s");
    assert!(
        spent >= 59.0,
        "the honest first page keeps its minute: {spent}"
    );

    // Half speed: claiming a minute of video 30 s after the page opened
    // (which would be 120 s of study at 0.5x) adds at most 30 s.
    let last = topics.last().unwrap();
    let mut slow = Player::open(&app, "learner@example.com", last).await;
    slow.time_passes(30);
    let mut events = vec![slow.ev("play", 0.0)];
    events.extend((1..=6).map(|i| slow.ev("heartbeat", f64::from(i) * 10.0)));
    for e in &mut events {
        e["rate"] = json!(0.5);
    }
    let before = study().await;
    slow.send(events).await;
    let spent = study().await - before;
    assert!(spent <= 30.5, "{spent}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn one_sessions_batches_fold_the_same_in_every_order_and_repeated(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.limits.watch_batches_per_learner = 10_000).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let topic = app.video_topic(false).await;
    ready_video(&app, &topic, 100).await;
    // An honest session, 200 s after the page was handed out: two fetches,
    // a seek back, and the beacon of a closed tab.
    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    player.time_passes(200);
    let first = vec![
        player.ev("play", 0.0),
        player.ev("heartbeat", 10.0),
        player.ev("heartbeat", 20.0),
        player.ev("heartbeat", 30.0),
    ];
    let second = vec![
        player.ev("heartbeat", 40.0),
        player.seek(45.0, 15.0),
        player.ev("play", 15.0),
        player.ev("heartbeat", 25.0),
    ];
    let third = vec![
        player.seek(25.0, 50.0),
        player.ev("play", 50.0),
        player.ev("heartbeat", 70.0),
    ];
    let beacon = vec![player.ev("pause", 75.0)];
    let batches = [first, second, third, beacon];
    let state = || async {
        let (watched, position, resume): (f64, f64, String) =
            sqlx::query_as("SELECT watched_secs, position, watched::text FROM topic_progress")
                .fetch_one(&app.db)
                .await
                .unwrap();
        let study: f64 = sqlx::query_scalar("SELECT sum(study_secs) FROM watch_events")
            .fetch_one(&app.db)
            .await
            .unwrap();
        (watched, position, resume, (study * 1000.0).round())
    };
    let mut expected = None;
    let orders = permutations(4);
    assert_eq!(orders.len(), 24);
    for order in orders {
        sqlx::query("DELETE FROM watch_events")
            .execute(&app.db)
            .await
            .unwrap();
        sqlx::query("DELETE FROM topic_progress")
            .execute(&app.db)
            .await
            .unwrap();
        for &i in &order {
            let (status, reply) = player.send(batches[i].clone()).await;
            assert_eq!(status, StatusCode::OK, "{order:?}: {reply}");
        }
        // A batch sent again (a retried fetch) changes nothing.
        player.send(batches[order[0]].clone()).await;
        let got = state().await;
        match &expected {
            None => {
                // 0-45 and 50-75: 70 s of the video, resumed at the pause.
                assert_eq!((got.0, got.1), (70.0, 75.0), "{got:?}");
                assert_eq!(got.3, 80_000.0, "45 + 10 + 25 s of study");
                expected = Some(got);
            }
            Some(first) => assert_eq!(&got, first, "order {order:?}"),
        }
    }
}

/// Every order of `0..n`.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for rest in permutations(n - 1) {
        for at in 0..=rest.len() {
            let mut order = rest.clone();
            order.insert(at, n - 1);
            out.push(order);
        }
    }
    out
}
