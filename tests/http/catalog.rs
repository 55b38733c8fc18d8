//! The catalogue: the demo nano-degree and the home roadmap.

use reqwest::StatusCode;
use scraper::Selector;
use sqlx::PgPool;
use weaverse::catalog::seed::{SeedOutcome, seed_nanodegree};

use crate::support::TestApp;

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn seeding_loads_the_nanodegree_once(db: PgPool) {
    let mut tx = db.begin().await.unwrap();
    let first = seed_nanodegree(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(first, SeedOutcome::Created(_)));

    let counts = || async {
        sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT (SELECT count(*) FROM curricula), (SELECT count(*) FROM courses), \
                    (SELECT count(*) FROM lectures), (SELECT count(*) FROM topics)",
        )
        .fetch_one(&db)
        .await
        .unwrap()
    };
    let before = counts().await;
    let mut tx = db.begin().await.unwrap();
    let second = seed_nanodegree(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(second, SeedOutcome::AlreadyThere(_)));
    assert_eq!(counts().await, before);
    assert_eq!((before.0, before.1), (1, 7));

    let (title, price, days): (String, i64, i32) =
        sqlx::query_as("SELECT title, price_won, access_days FROM curricula")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (title.as_str(), price, days),
        ("웹 개발 나노 디그리", 50_000, 730)
    );

    // Every course: at least 3 lectures of 2-4 topics, the first lecture free to watch.
    let shapes: Vec<(String, i64, i64, i64, bool)> = sqlx::query_as(
        "SELECT c.title, count(DISTINCT l.id), min(tc.n), max(tc.n), \
                bool_and(l.position <> 1 OR tc.all_preview) \
           FROM courses c JOIN lectures l ON l.course_id = c.id \
           JOIN LATERAL (SELECT count(*) AS n, bool_and(t.is_preview) AS all_preview \
                           FROM topics t WHERE t.lecture_id = l.id) tc ON true \
          GROUP BY c.id, c.title",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(shapes.len(), 7);
    for (title, lectures, min_topics, max_topics, first_is_preview) in shapes {
        assert!(lectures >= 3, "{title}");
        assert!((2..=4).contains(&min_topics) && max_topics <= 4, "{title}");
        assert!(first_is_preview, "{title}: first lecture is preview");
    }
    let paid_previews: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE l.position > 1 AND t.is_preview",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(paid_previews, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn home_shows_the_seven_step_roadmap_in_learning_order(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let steps: Vec<(String, String, String)> = html
        .select(&Selector::parse("[data-roadmap-step]").unwrap())
        .map(|e| {
            let v = e.value();
            let title = e
                .select(&Selector::parse("h3").unwrap())
                .next()
                .map(|h| h.text().collect::<String>().trim().to_string())
                .unwrap_or_default();
            (
                v.attr("data-roadmap-step").unwrap_or("").to_string(),
                v.attr("data-status").unwrap_or("").to_string(),
                title,
            )
        })
        .collect();
    let positions: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(positions, ["1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(steps[0].2, "웹의 이해와 HTML");
    assert_eq!(steps[6].2, "배포와 운영");
    assert!(steps.iter().all(|s| s.1 == "not-purchased"), "{steps:?}");
    // Status is said in text too, not by colour alone.
    assert!(page.body.contains("구매 전"));
    // The call to action posts to the cart.
    assert_eq!(
        page.attr("form.buy-form", "action").as_deref(),
        Some("/cart/items")
    );
    assert!(
        page.text("form.buy-form button")
            .unwrap()
            .contains("50,000원")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn home_without_the_nanodegree_still_renders(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.attr("[data-roadmap-step]", "data-status").is_none());
}
