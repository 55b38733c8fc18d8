//! The dashboards through HTTP, each figure checked against data built in
//! the test. The learner's: each course of the nano-degree with its
//! progress, where to continue, study time over eight weeks as a chart
//! (with its table), and access ending soon.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::TestApp;

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
