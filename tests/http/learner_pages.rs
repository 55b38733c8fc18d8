//! The pages a paying learner lives in: what every learner shares (topics,
//! outlines, the roadmap, missions with their rendered questions, videos)
//! comes from caches; only the learner's own state is read per request, in
//! at most two statements. Nothing kept goes stale: what the learner or a
//! tutor changes shows on the very next load.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::TestApp;

/// A learner who bought the nano-degree.
async fn learner(db: PgPool) -> TestApp {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    app
}

async fn text(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// The first published topic of `kind`, in roadmap order.
async fn first_topic(app: &TestApp, kind: &str) -> String {
    sqlx::query_scalar(
        "SELECT t.id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id
           JOIN curriculum_courses cc ON cc.course_id = l.course_id
          WHERE t.kind = $1 AND t.published_at IS NOT NULL
          ORDER BY cc.position, l.position, t.position LIMIT 1",
    )
    .bind(kind)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn each_page_a_learner_uses_reads_at_most_two_statements(db: PgPool) {
    let app = learner(db).await;
    let course = text(
        &app,
        "SELECT course_id::text FROM curriculum_courses ORDER BY position LIMIT 1",
    )
    .await;
    let video = first_topic(&app, "video").await;
    let reading = first_topic(&app, "reading").await;
    let quiz = text(
        &app,
        "SELECT m.id::text FROM missions m JOIN topics t ON t.id = m.topic_id
          WHERE t.title = '웹 동작 원리 확인 퀴즈'",
    )
    .await;
    let code = text(
        &app,
        "SELECT m.id::text FROM missions m
          WHERE EXISTS (SELECT 1 FROM questions q WHERE q.mission_id = m.id AND q.kind = 'code')
          ORDER BY m.id LIMIT 1",
    )
    .await;
    // The learner's own state in place: a finished reading, a note, a graded
    // attempt.
    app.post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    app.post_form(
        &format!("/learn/topics/{video}/notes"),
        &[("body", "다시 볼 부분"), ("position", "12")],
    )
    .await;
    app.post_form(&format!("/missions/{quiz}/attempts"), &[])
        .await;
    let answers = crate::missions::answers(&app, &quiz, true).await;
    app.post_pairs(&format!("/missions/{quiz}/submissions"), &answers)
        .await;

    for path in [
        "/".to_string(),
        "/me/dashboard".into(),
        "/orders".into(),
        format!("/courses/{course}"),
        format!("/learn/topics/{video}"),
        format!("/learn/topics/{reading}"),
        format!("/missions/{quiz}"),
        format!("/missions/{code}"),
        // The AI tutor's panel under the lesson, as a page without scripts.
        format!("/learn/topics/{video}/tutor"),
    ] {
        // The first load fills what every learner shares; the next one is
        // what a learner costs.
        assert_eq!(app.get(&path).await.status, StatusCode::OK, "{path}");
        let (page, queries) = app.get_counting_queries(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(queries <= 2, "{path}: {queries} statements");
        // Once read, the learner's own progress, notes and study time are
        // kept until they change something: the roadmap, the course page
        // and a lesson ask nothing more (a lesson is read again once after
        // the first load, which marked it opened).
        let (page, again) = app.get_counting_queries(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        // So are their attempts, code, standings and conversation with
        // the tutor; their orders are read each time.
        if path != "/orders" {
            assert_eq!(again, 0, "{path}: {again} statements once kept");
        } else {
            assert!(again <= queries, "{path}: {again} statements");
        }
    }
}

/// Following the other instances (ADR 0028) costs a signed-in page
/// nothing. Reading a session into the cache used to announce it, so this
/// instance dropped the session it had just read and read it again on the
/// next request: a table read and a notification on about every other page.
/// A learner's own state, kept between loads, is read again after each of
/// their writes: a watch batch (the lesson's resume point and watched part,
/// the dashboard's study time), and an admin's correction of their events.
#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_learners_kept_state_is_read_again_after_each_of_their_writes(db: PgPool) {
    let (app, topic) = crate::learning::learner_with_video(db).await;
    let lesson = format!("/learn/topics/{topic}");
    // Opened (a write), then read and kept.
    app.get(&lesson).await;
    app.get(&lesson).await;
    let (page, statements) = app.get_counting_queries(&lesson).await;
    assert_eq!(statements, 0, "kept");
    assert_eq!(page.attr("#player", "data-resume-at").as_deref(), Some("0"));
    let study = |page: &crate::support::Page| page.attr("[data-study-total]", "data-study-total");
    app.get("/me/dashboard").await;
    let before = study(&app.get("/me/dashboard").await);

    let mut player = crate::learning::Player::open(&app, "learner@example.com", &topic).await;
    player.time_passes(45);
    let events = vec![
        player.ev("play", 0.0),
        player.ev("heartbeat", 20.0),
        player.ev("pause", 42.0),
    ];
    let (status, reply) = player.send(events).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let page = app.get(&lesson).await;
    assert_eq!(
        crate::learning::player_shows(&page),
        ("39".into(), "0.0-42.0".into())
    );
    let after = study(&app.get("/me/dashboard").await);
    assert_ne!(after, before, "study time after a batch");
    // The roadmap takes the topics touched from the dashboard's read.
    assert_eq!(
        app.get_counting_queries("/").await.1,
        0,
        "roadmap from the dashboard's read"
    );
    assert_eq!(app.get_counting_queries(&lesson).await.1, 0, "kept again");

    // An admin deletes the pause: progress folds again to 0-20.
    let pause: i64 = sqlx::query_scalar("SELECT id FROM watch_events WHERE kind = 'pause'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let deleted = admin
        .post_form(&format!("/admin/watch/events/{pause}/delete"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let page = app.get(&lesson).await;
    assert_eq!(
        page.attr("#player", "data-watched").as_deref(),
        Some("0.0-20.0")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn following_other_instances_adds_no_statement_to_a_page(db: PgPool) {
    use std::sync::atomic::Ordering;
    let app = learner(db).await;
    assert_eq!(app.get("/orders").await.status, StatusCode::OK);
    let (_, alone) = app.get_counting_queries("/orders").await;

    // Once the listener is in, it drops everything kept (what changed while
    // nobody listened is unknown); then fill again.
    app.follow_changes().await;
    assert_eq!(app.get("/orders").await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let counter = crate::support::query_counter();
    let before = counter.load(Ordering::SeqCst);
    for _ in 0..10 {
        assert_eq!(app.get("/orders").await.status, StatusCode::OK);
        // Time for an announcement to come back and be acted on.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let during = counter.load(Ordering::SeqCst) - before;
    assert_eq!(during, 10 * alone, "{alone} statements per page alone");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn what_the_learner_or_a_tutor_changes_shows_on_the_next_load(db: PgPool) {
    let app = learner(db).await;
    let reading = first_topic(&app, "reading").await;
    let video = first_topic(&app, "video").await;
    let course = text(
        &app,
        &format!("SELECT l.course_id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE t.id = '{reading}'"),
    )
    .await;
    let lesson = format!("/learn/topics/{reading}");
    let step_percent = format!(r#"[data-course-id="{course}"] [data-course-percent]"#);
    let done_mark = format!(r#"[data-outline-topic="{reading}"]"#);

    // Every page loaded once: what they share is kept from here.
    let page = app.get(&lesson).await;
    assert!(page.attr("[data-topic-complete]", "hidden").is_some());
    assert!(page.attr(&done_mark, "data-done").is_none());
    let home = app.get("/").await;
    assert_eq!(
        home.attr(&step_percent, "data-course-percent").as_deref(),
        Some("0")
    );
    app.get(&format!("/learn/topics/{video}")).await;
    let dashboard = app.get("/me/dashboard").await;
    assert_eq!(
        dashboard.attr("[data-continue]", "href"),
        Some(format!("/learn/topics/{video}")),
        "the topic opened last"
    );

    // A completed topic: the lesson, the roadmap, the dashboard and the
    // course page say so at once.
    let read = app.post_form(&format!("{lesson}/read"), &[]).await;
    assert_eq!(read.status, StatusCode::SEE_OTHER);
    let page = app.get(&lesson).await;
    assert!(page.attr("[data-topic-complete]", "hidden").is_none());
    assert!(page.attr(&done_mark, "data-done").is_some());
    let home = app.get("/").await;
    let percent: i64 = home
        .attr(&step_percent, "data-course-percent")
        .unwrap()
        .parse()
        .unwrap();
    assert!(percent > 0, "roadmap progress {percent}");
    let dashboard = app.get("/me/dashboard").await;
    let topics = crate::dashboards::roadmap_topics(&app).await;
    let after = &topics[topics.iter().position(|t| *t == reading).unwrap() + 1];
    assert_eq!(
        dashboard.attr("[data-continue]", "href"),
        Some(format!("/learn/topics/{after}")),
        "continue after the topic just finished"
    );
    assert_ne!(
        dashboard
            .attr("[data-progress-percent]", "data-progress-percent")
            .as_deref(),
        Some("0")
    );

    // A new note shows in the lesson it was written on.
    let video_lesson = format!("/learn/topics/{video}");
    assert!(app.get(&video_lesson).await.text("[data-note]").is_none());
    app.post_form(
        &format!("{video_lesson}/notes"),
        &[("body", "여기서 다시 보기"), ("position", "42")],
    )
    .await;
    let notes = app.get(&video_lesson).await.text("[data-notes]").unwrap();
    assert!(notes.contains("여기서 다시 보기"), "{notes}");

    // A graded attempt shows its score on the mission page.
    let quiz = text(
        &app,
        "SELECT m.id::text FROM missions m JOIN topics t ON t.id = m.topic_id
          WHERE t.title = '웹 동작 원리 확인 퀴즈'",
    )
    .await;
    let mission = format!("/missions/{quiz}");
    assert!(
        app.get(&mission)
            .await
            .attr("[data-attempt-score]", "data-attempt-score")
            .is_none()
    );
    app.post_form(&format!("{mission}/attempts"), &[]).await;
    let answers = crate::missions::answers(&app, &quiz, true).await;
    app.post_pairs(&format!("{mission}/submissions"), &answers)
        .await;
    let page = app.get(&mission).await;
    assert_eq!(
        page.attr("[data-attempt-score]", "data-attempt-score")
            .as_deref(),
        Some("100")
    );
    assert_eq!(
        page.attr("[data-best-score]", "data-passed").as_deref(),
        Some("true")
    );

    // A tutor's (here an admin's) edits to published work in the studio:
    // the topic's title and text, and a question's prompt.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let saved = admin
        .post_form(
            &format!("/studio/topics/{reading}"),
            &[
                ("title", "고쳐 쓴 읽기 자료"),
                ("kind", "reading"),
                ("body", "새로 쓴 본문입니다."),
                ("duration_minutes", "5"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.get(&lesson).await;
    assert_eq!(page.text("h1").as_deref(), Some("고쳐 쓴 읽기 자료"));
    assert!(page.body.contains("새로 쓴 본문입니다."));
    let course_page = app.get(&format!("/courses/{course}")).await;
    assert!(
        course_page.body.contains("고쳐 쓴 읽기 자료"),
        "the outline"
    );

    let question = text(
        &app,
        &format!(
            "SELECT id::text FROM questions WHERE mission_id = '{quiz}' ORDER BY position LIMIT 1"
        ),
    )
    .await;
    let saved = admin
        .post_form(
            &format!("/studio/questions/{question}"),
            &[
                ("prompt", "고쳐 쓴 **문제**"),
                ("points", "1"),
                ("explanation", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.get(&mission).await;
    assert!(
        page.body.contains("고쳐 쓴 <strong>문제</strong>"),
        "the prompt, rendered again"
    );

    // A mission's attempts changed in the studio: the dashboard's kept
    // standings follow (read again at once, not after their lifetime).
    let (types_topic, types): (String, String) = sqlx::query_as(
        "SELECT t.id::text, m.id::text FROM missions m JOIN topics t ON t.id = m.topic_id
          WHERE t.title = '값과 타입 퀴즈'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let line = format!(r#"[data-mission="{types}"]"#);
    app.get("/me/dashboard").await;
    let (page, statements) = app.get_counting_queries("/me/dashboard").await;
    assert_eq!(statements, 0, "kept");
    assert!(page.text(&line).unwrap().contains("기회 3번"));
    let saved = admin
        .post_form(
            &format!("/studio/topics/{types_topic}/mission"),
            &[
                ("kind", "midterm"),
                ("pass_percent", "60"),
                ("max_attempts", "5"),
                ("cooldown_minutes", "10"),
                ("time_limit_minutes", "15"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.get("/me/dashboard").await;
    assert!(
        page.text(&line).unwrap().contains("기회 5번"),
        "{:?}",
        page.text(&line)
    );
}
