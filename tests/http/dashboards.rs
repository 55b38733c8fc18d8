//! The dashboards through HTTP, each figure checked against data built in
//! the test. The learner's: each course of the nano-degree with its
//! progress, where to continue, study time over eight weeks as a chart
//! (with its table), and access ending soon.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{TestApp, count};

/// The published topics of the nano-degree in roadmap order.
pub(crate) async fn roadmap_topics(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT t.id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id
           JOIN curriculum_courses cc ON cc.course_id = l.course_id
          WHERE t.published_at IS NOT NULL AND l.published_at IS NOT NULL
          ORDER BY cc.position, l.position, t.position",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_learner_dashboard_shows_each_course_what_is_next_eight_weeks_of_study_and_access_ending(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    // Access ends in ten days (set before any page reads the learner's grants).
    sqlx::query("UPDATE enrolments SET expires_at = now() + interval '10 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let topics = roadmap_topics(&app).await;
    let reading: String = sqlx::query_scalar(
        "SELECT t.id::text FROM topics t WHERE t.kind = 'reading' AND t.id = ANY($1::uuid[])",
    )
    .bind(&topics)
    .fetch_all(&app.db)
    .await
    .unwrap()
    .into_iter()
    .min_by_key(|id: &String| topics.iter().position(|t| t == id))
    .unwrap();
    app.get(&format!("/learn/topics/{reading}")).await;
    let read = app
        .post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    assert_eq!(read.status, StatusCode::SEE_OTHER);
    // Study time: ten minutes now, thirty two weeks ago, and some ten weeks
    // ago (before the chart, still in the total).
    sqlx::query(
        "INSERT INTO watch_events (user_id, topic_id, kind, position, duration, received_at, study_secs)
         SELECT u.id, $1::uuid, 'heartbeat', 0, 100, now() - d.ago, d.secs
           FROM users u, (VALUES (interval '0 days', 600.0), (interval '14 days', 1800.0),
                                 (interval '70 days', 999.0)) AS d (ago, secs)
          WHERE u.email = 'learner@example.com'",
    )
    .bind(&reading)
    .execute(&app.db)
    .await
    .unwrap();

    let page = app.get("/me/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    // Every course of the nano-degree, in order, with the one topic done.
    let courses: Vec<String> =
        sqlx::query_scalar("SELECT course_id::text FROM curriculum_courses ORDER BY position")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let html = page.html();
    let rows: Vec<String> = html
        .select(&scraper::Selector::parse("[data-course-row]").unwrap())
        .filter_map(|r| r.value().attr("data-course-row").map(str::to_owned))
        .collect();
    assert_eq!(rows, courses);
    let reading_course: String = sqlx::query_scalar(
        "SELECT l.course_id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE t.id = $1::uuid",
    )
    .bind(&reading)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let row = page
        .text(&format!(r#"[data-course-row="{reading_course}"]"#))
        .unwrap();
    assert!(row.contains("1/"), "{row}");
    assert_ne!(
        page.attr(
            &format!(r#"[data-course-row="{reading_course}"] [data-percent]"#),
            "data-percent"
        )
        .as_deref(),
        Some("0")
    );
    // The reading is done: continue with the topic after it.
    let after = &topics[topics.iter().position(|t| *t == reading).unwrap() + 1];
    assert_eq!(
        page.attr("[data-continue]", "href"),
        Some(format!("/learn/topics/{after}"))
    );
    // Eight weeks as bars, the same figures in a table: this week ten
    // minutes, two weeks back thirty, the rest nothing.
    let html = page.html();
    let cells: Vec<String> = html
        .select(&scraper::Selector::parse("[data-chart-table=study-weeks] tbody td").unwrap())
        .map(|c| c.text().collect())
        .collect();
    assert_eq!(
        cells,
        ["0분", "0분", "0분", "0분", "0분", "30분", "0분", "10분"]
    );
    assert_eq!(
        html.select(
            &scraper::Selector::parse("[data-chart=study-weeks] svg rect[data-bar]").unwrap()
        )
        .count(),
        8
    );
    assert_eq!(
        page.attr("[data-study-total]", "data-study-total")
            .as_deref(),
        Some("3399")
    );
    assert_eq!(
        page.attr("[data-study-week]", "data-study-week").as_deref(),
        Some("600")
    );
    // Access ends within thirty days: said, with the way to renew.
    let days = page.attr("[data-ends-soon]", "data-ends-soon").unwrap();
    assert!(days == "9" || days == "10", "{days}");
    assert!(page.text("[data-ends-soon]").unwrap().contains("연장하기"));
}

/// The state shown for the mission `id` on the dashboard, with its best
/// score and attempts left.
fn mission_state(
    page: &crate::support::Page,
    id: &str,
) -> (String, Option<String>, Option<String>) {
    let at = format!(r#"[data-mission="{id}"]"#);
    (
        page.attr(&at, "data-mission-state")
            .expect("the mission is listed"),
        page.attr(&format!("{at} [data-best]"), "data-best"),
        page.attr(&format!("{at} [data-left]"), "data-left"),
    )
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_learner_dashboard_shows_each_mission_not_started_tried_used_up_or_passed(db: PgPool) {
    use crate::missions::{answers, mission};
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    app.buy_nanodegree().await;
    let quiz = mission(&app, "웹 동작 원리 확인 퀴즈").await;
    let layout = mission(&app, "레이아웃 퀴즈").await;
    let types = mission(&app, "값과 타입 퀴즈").await;
    // One attempt is all the layout quiz allows.
    sqlx::query("UPDATE missions SET max_attempts = 1 WHERE id = $1::uuid")
        .bind(&layout)
        .execute(&app.db)
        .await
        .unwrap();
    weaverse::assessments::service::missions_changed();

    let page = app.get("/me/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    // Every mission of the nano-degree is listed, none started.
    let listed = page
        .html()
        .select(&scraper::Selector::parse("[data-mission-state=not_started]").unwrap())
        .count();
    assert_eq!(listed, 16, "{}", page.body);
    assert_eq!(
        mission_state(&page, &quiz),
        ("not_started".into(), None, None)
    );

    // A wrong attempt on the quiz and on the layout quiz.
    for id in [&quiz, &layout] {
        let path = format!("/missions/{id}");
        let started = app.post_form(&format!("{path}/attempts"), &[]).await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let sent = app
            .post_pairs(
                &format!("{path}/submissions"),
                &answers(&app, id, false).await,
            )
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    }
    let page = app.get("/me/dashboard").await;
    assert_eq!(
        mission_state(&page, &quiz),
        ("trying".into(), Some("0".into()), Some("2".into()))
    );
    assert!(
        page.text(&format!(r#"[data-mission="{quiz}"]"#))
            .unwrap()
            .contains("남은 기회 2번")
    );
    assert_eq!(
        mission_state(&page, &layout),
        ("used_up".into(), Some("0".into()), None)
    );
    assert!(
        page.text(&format!(r#"[data-mission="{layout}"]"#))
            .unwrap()
            .contains("기회 모두 사용")
    );

    // Past the cooldown the quiz is passed; an attempt is left open on
    // another (it counts as one used).
    crate::support::attempts_ended_ago(&app.db, 11).await;
    let path = format!("/missions/{quiz}");
    app.post_form(&format!("{path}/attempts"), &[]).await;
    let sent = app
        .post_pairs(
            &format!("{path}/submissions"),
            &answers(&app, &quiz, true).await,
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let opened = app
        .post_form(&format!("/missions/{types}/attempts"), &[])
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let page = app.get("/me/dashboard").await;
    assert_eq!(
        mission_state(&page, &quiz),
        ("passed".into(), Some("100".into()), None)
    );
    assert!(
        page.text(&format!(r#"[data-mission="{quiz}"]"#))
            .unwrap()
            .contains("통과")
    );
    assert_eq!(
        mission_state(&page, &types),
        ("trying".into(), None, Some("2".into()))
    );
}

/// The first course of the nano-degree and its published topics in order.
async fn first_course(app: &TestApp) -> (String, Vec<(String, String)>) {
    let course: String = sqlx::query_scalar(
        "SELECT course_id::text FROM curriculum_courses ORDER BY position LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let topics: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.id::text, t.kind FROM topics t JOIN lectures l ON l.id = t.lecture_id
          WHERE l.course_id = $1::uuid AND t.published_at IS NOT NULL AND l.published_at IS NOT NULL
          ORDER BY l.position, t.position",
    )
    .bind(&course)
    .fetch_all(&app.db)
    .await
    .unwrap();
    (course, topics)
}

/// A learner in their own browser who bought the nano-degree.
async fn buyer(app: &TestApp, email: &str) -> TestApp {
    let browser = app.another_browser();
    browser.verified_learner(email).await;
    browser.buy_nanodegree().await;
    browser
}

/// Counts the rolled-up figures again, as the job does.
async fn roll_up(app: &TestApp) {
    weaverse::dashboards::rollup::roll_up(&app.db, &app.state.catalog_cache)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_admin_dashboard_counts_now_a_date_range_and_each_courses_learning_with_the_lists_behind(
    db: PgPool,
) {
    use crate::missions::{answers, mission};
    let app = TestApp::spawn(db).await;
    app.seed().await;
    // Three learners sign up; two buy, one of them is refunded; one who
    // bought studies one topic and fails a quiz, then stalls.
    let stays = buyer(&app, "stays@example.com").await;
    let refunded = buyer(&app, "refunded@example.com").await;
    app.another_browser()
        .verified_learner("browser@example.com")
        .await;
    let payment: String = sqlx::query_scalar(
        "SELECT p.id::text FROM payments p JOIN orders o ON o.id = p.order_id
           JOIN users u ON u.id = o.user_id WHERE u.email = 'refunded@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let refund = refunded
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("reason", "마음이 바뀌었어요")],
        )
        .await;
    assert_eq!(refund.status, StatusCode::SEE_OTHER, "{}", refund.body);
    let (course, topics) = first_course(&app).await;
    let reading = &topics.iter().find(|(_, kind)| kind == "reading").unwrap().0;
    stays.get(&format!("/learn/topics/{reading}")).await;
    let read = stays
        .post_form(&format!("/learn/topics/{reading}/read"), &[])
        .await;
    assert_eq!(read.status, StatusCode::SEE_OTHER);
    let quiz = mission(&app, "웹 동작 원리 확인 퀴즈").await;
    stays
        .post_form(&format!("/missions/{quiz}/attempts"), &[])
        .await;
    let sent = stays
        .post_pairs(
            &format!("/missions/{quiz}/submissions"),
            &answers(&app, &quiz, false).await,
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    // Only one of them is online: the refunded learner left ten minutes ago.
    sqlx::query(
        "UPDATE auth_sessions SET last_seen_at = now() - interval '10 minutes'
          WHERE user_id IN (SELECT id FROM users WHERE email <> 'stays@example.com')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    // The queue: one transcode waiting, one job failed.
    sqlx::query(
        "INSERT INTO jobs (kind, status, run_at) VALUES
             ('media.transcode', 'pending', now() + interval '1 day'),
             ('mail.send', 'failed', now())",
    )
    .execute(&app.db)
    .await
    .unwrap();
    app.login_as_admin().await;
    // A certificate issued by hand today.
    let product = format!("course:{course}");
    let issued = app
        .post_form(
            "/admin/certificates",
            &[
                ("email", "stays@example.com"),
                ("product", product.as_str()),
                ("reason", "오프라인 과정 이수"),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    roll_up(&app).await;

    let page = app.get("/admin").await;
    assert_eq!(page.status, StatusCode::OK);
    let live = |key: &str| page.attr(&format!("[data-live={key}]"), "data-value");
    assert_eq!(live("online").as_deref(), Some("1"));
    assert_eq!(live("peak").as_deref(), Some("1"));
    // The page reads the peak; only the sample job writes it.
    assert_eq!(count(&app.db, "SELECT count(*) FROM online_peaks").await, 0);
    assert_eq!(live("transcodes-waiting").as_deref(), Some("1"));
    assert_eq!(live("transcoding").as_deref(), Some("0"));
    assert_eq!(live("failed").as_deref(), Some("1"));
    assert_eq!(live("grading").as_deref(), Some("0"));
    assert!(live("sandbox").is_some());
    // The same figures alone, for htmx every 10 s.
    let fragment = app.get_htmx("/admin/live").await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(fragment.body.contains(r#"hx-trigger="every 10s""#));
    assert!(!fragment.body.contains("<html"));

    // The last 7 days: three sign-ups, two payments and a refund.
    let figure = |key: &str| page.attr(&format!("[data-figure={key}]"), "data-value");
    assert_eq!(figure("signups").as_deref(), Some("3"));
    assert_eq!(figure("payments").as_deref(), Some("2"));
    assert_eq!(figure("refunds").as_deref(), Some("1"));
    assert_eq!(figure("refunded").as_deref(), Some("50000"));
    assert_eq!(figure("net").as_deref(), Some("50000"));
    assert_eq!(figure("enrolments").as_deref(), Some("2"));
    assert_eq!(figure("certificates").as_deref(), Some("1"));
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    assert_eq!(
        page.attr(&format!(r#"[data-day="{today}"] [data-net]"#), "data-net")
            .as_deref(),
        Some("50000")
    );
    assert_eq!(
        page.html()
            .select(&scraper::Selector::parse("[data-chart=signups] rect[data-bar]").unwrap())
            .count(),
        7
    );
    // Each figure opens the list behind it, filtered the same way.
    let total = |p: &crate::support::Page| p.attr("[data-total]", "data-total");
    let link = |key: &str| page.attr(&format!("[data-figure={key}]"), "href").unwrap();
    assert_eq!(
        total(&app.get(&link("signups")).await).as_deref(),
        Some("3")
    );
    assert_eq!(
        total(&app.get(&link("payments")).await).as_deref(),
        Some("2")
    );
    assert_eq!(
        total(&app.get(&link("refunds")).await).as_deref(),
        Some("1")
    );
    let online = page.attr("[data-live=online]", "href").unwrap();
    let online = app.get(&online).await;
    assert_eq!(total(&online).as_deref(), Some("1"));
    assert!(online.body.contains("stays@example.com"));
    let certificates = app.get(&link("certificates")).await;
    assert_eq!(
        certificates
            .html()
            .select(&scraper::Selector::parse("[data-certificate-row]").unwrap())
            .count(),
        1
    );
    let failed = app
        .get(&page.attr("[data-live=failed]", "href").unwrap())
        .await;
    assert_eq!(
        failed
            .html()
            .select(&scraper::Selector::parse("[data-job]").unwrap())
            .count(),
        1
    );

    // Learning, as rolled up: of the two who hold the first course (the
    // refunded grant ended), one started; the quiz was tried once, failed.
    let row = format!(r#"[data-funnel="{course}"]"#);
    assert_eq!(
        page.attr(&format!("{row} [data-enrolled]"), "data-enrolled")
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        page.attr(&format!("{row} [data-started]"), "data-started")
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        page.attr(&format!("{row} [data-half]"), "data-half")
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        page.attr(&format!("{row} [data-completed]"), "data-completed")
            .as_deref(),
        Some("0")
    );
    let average = format!("{:.0}", 100.0 / topics.len() as f64);
    assert_eq!(
        page.attr(&format!("{row} [data-average]"), "data-average"),
        Some(average)
    );
    // The step's count opens the learners behind it, the stalled first.
    let started = app
        .get(
            &page
                .attr(&format!("{row} [data-started] a"), "href")
                .unwrap(),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK);
    assert_eq!(total(&started).as_deref(), Some("1"));
    assert!(
        started
            .text("[data-learners]")
            .unwrap()
            .contains("stays@example.com")
    );
    assert_eq!(
        started.attr("[data-done]", "data-done").as_deref(),
        Some("1")
    );
    let half = app
        .get(&page.attr(&format!("{row} [data-half] a"), "href").unwrap())
        .await;
    assert_eq!(total(&half).as_deref(), Some("0"));
    let rate = format!(r#"[data-mission-rate="{quiz}"]"#);
    assert_eq!(
        page.attr(&format!("{rate} [data-attempts]"), "data-attempts")
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        page.attr(&format!("{rate} [data-learners]"), "data-learners")
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        page.attr(&format!("{rate} [data-pass]"), "data-pass")
            .as_deref(),
        Some("0")
    );
    assert!(
        page.text("[data-rolled-up]")
            .unwrap()
            .contains("분 전 집계")
    );
    // Behind the rate: who has a score (the one who failed), who passed.
    let tried = app
        .get(
            &page
                .attr(&format!("{rate} [data-learners] a"), "href")
                .unwrap(),
        )
        .await;
    assert_eq!(tried.status, StatusCode::OK);
    assert_eq!(total(&tried).as_deref(), Some("1"));
    assert_eq!(tried.attr("[data-best]", "data-best").as_deref(), Some("0"));
    assert!(
        tried
            .text("[data-results]")
            .unwrap()
            .contains("stays@example.com")
    );
    let passed = app
        .get(&page.attr(&format!("{rate} [data-pass] a"), "href").unwrap())
        .await;
    assert_eq!(total(&passed).as_deref(), Some("0"));
    // A mission of another course is not found under this one.
    let other = mission(&app, "레이아웃 퀴즈").await;
    assert_eq!(
        app.get(&format!("/studio/insights/{course}/missions/{other}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_admin_list_downloads_as_csv_that_excel_reads_and_a_bad_range_says_why(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let buyer = buyer(&app, "csv@example.com").await;
    drop(buyer);
    app.login_as_admin().await;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date();
    let week_ago = today - time::Duration::days(6);
    for (path, header) in [
        (
            format!("/admin?range=custom&from={week_ago}&to={today}&format=csv"),
            "날짜,가입,",
        ),
        ("/admin/users?format=csv".to_owned(), "이메일,닉네임,"),
        ("/admin/payments?format=csv".to_owned(), "주문 번호,"),
        ("/admin/certificates?format=csv".to_owned(), "번호,이름,"),
        ("/admin/jobs?format=csv".to_owned(), "번호,종류,"),
        ("/admin/watch?format=csv".to_owned(), "수강생,코스,토픽,"),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/csv; charset=utf-8",
            "{path}"
        );
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;"),
            "{path}"
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "{path}: UTF-8 with a BOM");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.starts_with(header), "{path}: {text}");
        if path.starts_with("/admin?") {
            let last = text.lines().last().unwrap();
            assert!(last.starts_with("합계,1,1,50000,0,0,50000,1,0"), "{last}");
        }
        if path.starts_with("/admin/users") {
            assert!(text.contains("csv@example.com"));
        }
    }
    // A range that cannot be read: said in the page, the last 7 days shown.
    let page = app
        .get("/admin?range=custom&from=2026-12-05&to=2026-12-01")
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.text("[data-range-error]")
            .unwrap()
            .contains("시작일이 종료일보다")
    );
    assert_eq!(
        page.attr("[data-range]", "data-range"),
        Some(format!("{week_ago}..{today}"))
    );
    // A learner is not let in.
    let learner = app.another_browser();
    learner.verified_learner("nosy@example.com").await;
    assert_eq!(learner.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        learner.get("/admin/live").await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_tutor_sees_the_retention_curve_of_their_own_course_from_the_watched_intervals(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let (course, topics) = first_course(&app).await;
    let video = topics
        .iter()
        .find(|(_, kind)| kind == "video")
        .unwrap()
        .0
        .clone();
    let duration: i32 = sqlx::query_scalar("SELECT duration_secs FROM topics WHERE id = $1::uuid")
        .bind(&video)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(duration >= 8, "{duration}");
    let d = f64::from(duration);
    // Four viewers: one to the end, two to the middle, one a quarter.
    for (i, end) in [d, d / 2.0, d / 2.0, d / 4.0].into_iter().enumerate() {
        sqlx::query(
            "WITH u AS (INSERT INTO users (email, nickname) VALUES ($1, '시청자') RETURNING id)
             INSERT INTO topic_progress (user_id, topic_id, watched, watched_secs, video_secs)
             SELECT u.id, $2::uuid, jsonb_build_array(jsonb_build_array(0, $3::float8)), $3, $4 FROM u",
        )
        .bind(format!("viewer{i}@example.com"))
        .bind(&video)
        .bind(end)
        .bind(d)
        .execute(&app.db)
        .await
        .unwrap();
    }
    // Three seeks back over the third quarter: watched again three times.
    sqlx::query(
        "INSERT INTO watch_events (user_id, topic_id, kind, position, duration, seek_from)
         SELECT u.id, $1::uuid, 'seek', $2, $3, $4
           FROM users u, generate_series(1, 3) WHERE u.email = 'viewer0@example.com'",
    )
    .bind(&video)
    .bind(d / 2.0)
    .bind(d)
    .bind(d * 0.75)
    .execute(&app.db)
    .await
    .unwrap();
    app.login_as("tutor@example.com", weaverse::accounts::Role::Tutor)
        .await;
    sqlx::query(
        "UPDATE courses SET author_id = (SELECT id FROM users WHERE email = 'tutor@example.com')
          WHERE id = $1::uuid",
    )
    .bind(&course)
    .execute(&app.db)
    .await
    .unwrap();
    roll_up(&app).await;

    // The tutor's list holds their course only.
    let index = app.get("/studio/insights").await;
    assert_eq!(index.status, StatusCode::OK);
    let listed: Vec<String> = index
        .html()
        .select(&scraper::Selector::parse("[data-funnel]").unwrap())
        .filter_map(|r| r.value().attr("data-funnel").map(str::to_owned))
        .collect();
    assert_eq!(listed, std::slice::from_ref(&course));

    let page = app.get(&format!("/studio/insights/{course}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let card = format!(r#"[data-retention="{video}"]"#);
    assert_eq!(page.attr(&card, "data-viewers").as_deref(), Some("4"));
    let cells: Vec<String> = page
        .html()
        .select(&scraper::Selector::parse(&format!("{card} [data-chart-table] tbody td")).unwrap())
        .map(|c| c.text().collect())
        .collect();
    assert_eq!(cells.len(), 41);
    assert_eq!(cells[0], "100%");
    // A little past a quarter three are left, past the middle one.
    assert_eq!(cells[12], "75%", "{cells:?}");
    assert_eq!(cells[24], "25%", "{cells:?}");
    assert_eq!(
        page.attr(&format!("{card} [data-at-end]"), "data-at-end")
            .as_deref(),
        Some("25")
    );
    assert!(page.body.contains("<polyline"));
    let replayed = format!("{}-{}", (d / 2.0).round(), (d * 0.75).round());
    assert_eq!(
        page.attr(&format!("{card} [data-replayed]"), "data-replayed"),
        Some(replayed)
    );
    assert_eq!(
        page.attr(&format!("{card} [data-replays]"), "data-replays")
            .as_deref(),
        Some("3")
    );
    // Behind a step of the funnel: nobody holds the course yet.
    let learners = app
        .get(&format!(
            "/studio/insights/{course}/learners?stage=enrolled"
        ))
        .await;
    assert_eq!(learners.status, StatusCode::OK);
    assert_eq!(
        learners.attr("[data-total]", "data-total").as_deref(),
        Some("0")
    );

    // Another course is not theirs.
    let other: String = sqlx::query_scalar(
        "SELECT course_id::text FROM curriculum_courses ORDER BY position OFFSET 1 LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        app.get(&format!("/studio/insights/{other}")).await.status,
        StatusCode::FORBIDDEN
    );
    // An admin sees every course.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let all = admin.get("/studio/insights").await;
    assert!(
        all.html()
            .select(&scraper::Selector::parse("[data-funnel]").unwrap())
            .count()
            >= 7
    );
    assert_eq!(
        admin.get(&format!("/studio/insights/{other}")).await.status,
        StatusCode::OK
    );
    // A learner is not let in.
    let learner = app.another_browser();
    learner.verified_learner("curious@example.com").await;
    assert_eq!(
        learner.get("/studio/insights").await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_sample_job_keeps_the_days_peak_of_learners_online(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let _one = buyer(&app, "one@example.com").await;
    let _two = buyer(&app, "two@example.com").await;
    let peak = || async {
        sqlx::query_scalar::<_, i32>("SELECT peak FROM online_peaks")
            .fetch_all(&app.db)
            .await
            .unwrap()
    };
    weaverse::dashboards::rollup::sample(&app.db).await.unwrap();
    assert_eq!(peak().await, [2]);
    // One leaves: the day's peak stays where it was.
    sqlx::query(
        "UPDATE auth_sessions SET last_seen_at = now() - interval '10 minutes'
          WHERE user_id = (SELECT id FROM users WHERE email = 'two@example.com')",
    )
    .execute(&app.db)
    .await
    .unwrap();
    weaverse::dashboards::rollup::sample(&app.db).await.unwrap();
    assert_eq!(peak().await, [2]);
    app.login_as_admin().await;
    let page = app.get("/admin").await;
    assert_eq!(
        page.attr("[data-live=online]", "data-value").as_deref(),
        Some("1")
    );
    assert_eq!(
        page.attr("[data-live=peak]", "data-value").as_deref(),
        Some("2")
    );
}
