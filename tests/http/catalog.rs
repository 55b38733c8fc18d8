//! The catalogue: the demo nano-degree and the home roadmap.

use reqwest::StatusCode;
use scraper::Selector;
use sqlx::PgPool;
use weaverse::accounts::Role;
use weaverse::catalog::seed::{SeedOutcome, seed_nanodegree};

use crate::support::{TestApp, count};

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
        sqlx::query_as("SELECT title, price_won, access_months FROM curricula")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (title.as_str(), price, days),
        ("웹 개발 나노 디그리", 50_000, 24)
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
    // The call to action: a visitor's choice waits while they sign in.
    assert!(
        page.attr("a.buy-form", "href")
            .unwrap()
            .starts_with("/cart/want?curriculum_id=")
    );
    assert!(page.text("a.buy-form").unwrap().contains("50,000원"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn home_without_the_nanodegree_still_renders(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.attr("[data-roadmap-step]", "data-status").is_none());
}

// ---------- catalogue ----------

fn card_titles(page: &crate::support::Page) -> Vec<String> {
    page.html()
        .select(&Selector::parse("[data-course-title]").unwrap())
        .map(|e| e.value().attr("data-course-title").unwrap().to_string())
        .collect()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_catalogue_lists_the_nanodegree_in_learning_order(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let page = app.get("/courses").await;
    assert_eq!(page.status, StatusCode::OK);
    let titles = card_titles(&page);
    assert_eq!(titles.len(), 7);
    assert_eq!(titles[0], "웹의 이해와 HTML");
    assert_eq!(titles[6], "배포와 운영");
    for name in ["category", "skill_level", "price_level"] {
        assert!(
            page.attr(&format!(r#"select[name="{name}"]"#), "name")
                .is_some(),
            "{name} select"
        );
    }
    assert_eq!(
        page.attr("form.catalogue-filters", "hx-push-url")
            .as_deref(),
        Some("true")
    );
    assert!(page.attr("[data-course-id]", "data-course-id").is_some());
}

/// Publishes (or, for a tutor's course, asks to publish) the piece at
/// `path` (`/studio/{kind}/{id}/publish`).
async fn publish(app: &TestApp, path: &str) -> crate::support::Page {
    app.post_form(path, &[("state", "published")]).await
}

/// The titles the catalogue lists for the search `q`.
async fn search(app: &TestApp, q: &str) -> Vec<String> {
    let url = format!(
        "/courses?q={}",
        url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
    );
    card_titles(&app.get(&url).await)
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn korean_search_matches_titles_and_descriptions(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    assert_eq!(search(&app, "배포").await, ["배포와 운영"]);
    assert_eq!(
        search(&app, "데이터베이스").await,
        ["백엔드와 데이터베이스 기초"]
    );
    // From the description only: "풀 리퀘스트" is in the Git course's text.
    assert_eq!(search(&app, "풀 리퀘스트").await, ["Git과 협업"]);
    // Case does not matter; every word must match.
    let html = search(&app, "html").await;
    assert!(
        html.contains(&"웹의 이해와 HTML".to_string())
            && html.contains(&"JavaScript 심화와 DOM".to_string()),
        "{html:?}"
    );
    assert_eq!(search(&app, "html 비동기").await, ["JavaScript 심화와 DOM"]);
    assert!(search(&app, "없는검색어").await.is_empty());
    // LIKE metacharacters are matched literally.
    assert!(search(&app, "%").await.is_empty());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn search_finds_korean_and_english_names_initials_and_near_misses(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let javascript = ["JavaScript 기초", "JavaScript 심화와 DOM"];
    // Through the courses' keywords and aliases.
    assert_eq!(search(&app, "자바스크립트").await, javascript);
    assert_eq!(search(&app, "깃").await, ["Git과 협업"]);
    assert_eq!(search(&app, "깃허브").await, ["Git과 협업"]);
    // Hangul initial consonants, and a near miss.
    assert_eq!(search(&app, "ㅈㅂㅅㅋㄹㅌ").await, javascript);
    assert_eq!(search(&app, "자바스크랩트").await, javascript);
    assert!(search(&app, "파이썬").await.is_empty());

    // A tutor's (here an admin's) keywords are searched once saved,
    // normalised: trimmed, repeats dropped.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let id = course_id(&app, "배포와 운영").await;
    let editor = admin.get(&format!("/studio/courses/{id}")).await;
    let value = |name: &str| {
        editor
            .attr(&format!("#f-{name}"), "value")
            .unwrap_or_default()
    };
    let description = editor.text("#f-description").unwrap_or_default();
    let saved = admin
        .post_form(
            &format!("/studio/courses/{id}"),
            &[
                ("title", value("title").as_str()),
                ("summary", value("summary").as_str()),
                ("description", description.as_str()),
                ("category", "devops"),
                ("skill_level", "intermediate"),
                ("price_won", value("price_won").as_str()),
                ("keywords", " 쿠버네티스 , Kubernetes,쿠버네티스, , k8s "),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored: String = sqlx::query_scalar("SELECT keywords FROM courses WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "쿠버네티스, Kubernetes, k8s");
    assert_eq!(search(&app, "쿠버네티스").await, ["배포와 운영"]);
    assert_eq!(search(&app, "K8S").await, ["배포와 운영"]);
    assert_eq!(
        admin
            .get(&format!("/studio/courses/{id}"))
            .await
            .attr("#f-keywords", "value")
            .as_deref(),
        Some("쿠버네티스, Kubernetes, k8s")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn each_filter_and_their_combination_narrow_the_list(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    assert_eq!(
        card_titles(&app.get("/courses?category=frontend").await),
        [
            "CSS와 반응형 레이아웃",
            "JavaScript 기초",
            "JavaScript 심화와 DOM"
        ]
    );
    assert_eq!(
        card_titles(&app.get("/courses?skill_level=intermediate").await),
        [
            "JavaScript 심화와 DOM",
            "백엔드와 데이터베이스 기초",
            "배포와 운영"
        ]
    );
    assert_eq!(
        card_titles(&app.get("/courses?price_level=bundle").await).len(),
        7
    );
    assert_eq!(
        card_titles(
            &app.get("/courses?category=frontend&skill_level=intermediate")
                .await
        ),
        ["JavaScript 심화와 DOM"]
    );
    assert_eq!(
        card_titles(&app.get("/courses?q=%EC%84%9C%EB%B2%84&category=devops&skill_level=intermediate&price_level=bundle").await),
        ["배포와 운영"]
    );
    // Nothing matches: say so and offer to clear the filters.
    let page = app.get("/courses?price_level=free").await;
    assert!(card_titles(&page).is_empty());
    assert!(
        page.text(".empty-result")
            .unwrap()
            .contains("조건에 맞는 코스가 없습니다")
    );
    assert_eq!(
        page.attr(".empty-result a", "href").as_deref(),
        Some("/courses")
    );
    // The selects show what was chosen.
    let page = app.get("/courses?category=backend").await;
    assert_eq!(
        page.attr(r#"select[name="category"] option[selected]"#, "value")
            .as_deref(),
        Some("backend")
    );
    // Unknown values are ignored, not errors.
    let page = app.get("/courses?category=cooking&page=abc").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(card_titles(&page).len(), 7);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_catalogue_pages_by_twelve_and_keeps_filters_in_links(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    for i in 0..20 {
        sqlx::query(
            "INSERT INTO courses (slug, title, summary, category, skill_level, price_won, published_at) \
             VALUES ($1, $2, '추가 코스', 'frontend', 'beginner', 20000, now())",
        )
        .bind(format!("extra-{i}"))
        .bind(format!("추가 프론트엔드 코스 {i:02}"))
        .execute(&app.db)
        .await
        .unwrap();
    }
    let first = app.get("/courses").await;
    assert_eq!(
        first.attr("[data-total]", "data-total").as_deref(),
        Some("27")
    );
    assert_eq!(card_titles(&first).len(), 12);
    assert_eq!(card_titles(&app.get("/courses?page=3").await).len(), 3);
    assert!(card_titles(&app.get("/courses?page=9").await).is_empty());

    let filtered = app.get("/courses?category=frontend&price_level=low").await;
    assert_eq!(
        filtered.attr("[data-total]", "data-total").as_deref(),
        Some("20")
    );
    let next = filtered
        .attr(r#".pagination a[href*="page=2"]"#, "href")
        .unwrap();
    assert_eq!(next, "/courses?category=frontend&price_level=low&page=2");
    assert_eq!(card_titles(&app.get(&next).await).len(), 8);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn htmx_gets_just_the_list_and_a_browser_the_whole_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let fragment = app.get_htmx("/courses?category=tools").await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(!fragment.body.contains("<html"));
    assert!(!fragment.body.contains("<select"));
    assert_eq!(card_titles(&fragment), ["Git과 협업"]);
    let page = app.get("/courses?category=tools").await;
    assert!(page.body.contains("<html"));
    assert_eq!(card_titles(&page), ["Git과 협업"]);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn catalogue_and_course_pages_run_at_most_three_queries(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let course: String =
        sqlx::query_scalar("SELECT id::text FROM courses WHERE slug = 'javascript-dom'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    // Warm up (CSRF cookie, pool connections) without touching the catalogue
    // cache: every counted page below is a cache miss, so each does its SQL.
    app.get("/").await;
    let course_page = format!("/courses/{course}");
    for path in [
        "/courses",
        "/courses?q=html&category=frontend",
        course_page.as_str(),
    ] {
        let (page, queries) = app.get_counting_queries(path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            (1..=3).contains(&queries),
            "{path}: {queries} queries (anonymous)"
        );
    }
    // A repeat within five seconds comes from the cache.
    let (_, cached) = app.get_counting_queries("/courses").await;
    assert_eq!(cached, 0, "cached catalogue page");

    app.signed_up("counter@example.com").await;
    app.get("/").await;
    // Signed in, who the visitor is was resolved by `/` a moment ago (the
    // identity cache): only the page's own statements run.
    let (page, queries) = app.get_counting_queries("/courses?category=backend").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        (1..=2).contains(&queries),
        "catalogue: {queries} queries (signed in)"
    );
    // The course page's shared part is cached and the learner's grants were
    // read by `/` a moment ago: a signed-in course page costs nothing.
    let (page, queries) = app.get_counting_queries(&course_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(queries, 0, "course page: {queries} queries (signed in)");
    // In another browser (a session not seen yet), resolving who it is costs
    // exactly one statement.
    let other = app.another_browser();
    other
        .login("counter@example.com", crate::support::PASSWORD)
        .await;
    let (_, queries) = other.get_counting_queries(&course_page).await;
    assert_eq!(queries, 1, "a new session: {queries} queries");
}

// ---------- course page ----------

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_course_page_shows_its_lectures_topics_previews_and_the_buy_form(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let id: String = sqlx::query_scalar("SELECT id::text FROM courses WHERE slug = 'web-and-html'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let page = app.get(&format!("/courses/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.text("h1").as_deref(), Some("웹의 이해와 HTML"));
    assert!(page.body.contains("웹 개발 나노 디그리"));
    let lectures: Vec<String> = page
        .html()
        .select(&Selector::parse(".lecture h3").unwrap())
        .map(|e| e.text().collect::<String>())
        .collect();
    assert_eq!(
        lectures,
        [
            "1. 웹은 어떻게 동작할까",
            "2. HTML 문서의 뼈대",
            "3. 폼과 접근성"
        ]
    );
    let topics = page
        .html()
        .select(&Selector::parse("[data-topic-id]").unwrap())
        .count();
    assert_eq!(topics, 9);
    let previews = page
        .html()
        .select(&Selector::parse("[data-preview]").unwrap())
        .count();
    assert_eq!(previews, 3, "the first lecture's topics");
    let first_topic = page.attr("[data-topic-id] a", "href").unwrap();
    assert!(first_topic.starts_with("/learn/topics/"));
    assert!(
        page.attr("a.buy-form", "href")
            .unwrap()
            .starts_with("/cart/want?curriculum_id=")
    );
    assert!(page.text(".buy-box").unwrap().contains("50,000원"));
    assert!(page.body.contains("9분"), "durations shown");

    assert_eq!(
        app.get(&format!("/courses/{}", uuid::Uuid::new_v4()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/courses/not-a-uuid").await.status,
        StatusCode::NOT_FOUND
    );
}

// ---------- studio ----------

async fn course_id(app: &TestApp, slug_or_title: &str) -> String {
    sqlx::query_scalar("SELECT id::text FROM courses WHERE slug = $1 OR title = $1")
        .bind(slug_or_title)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_studio_refuses_learners_and_other_tutors(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    assert_eq!(app.get("/studio").await.status, StatusCode::SEE_OTHER);
    app.signed_up("learner@example.com").await;
    assert_eq!(app.get("/studio").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post_form("/studio/courses", &[("title", "몰래 만든 코스")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let owner = app.another_browser();
    owner
        .login_as("owner@example.com", weaverse::accounts::Role::Tutor)
        .await;
    let page = owner
        .post_form(
            "/studio/courses",
            &[
                ("title", "튜터의 코스"),
                ("category", "frontend"),
                ("skill_level", "beginner"),
                ("price_won", "15,000"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let id = course_id(&app, "튜터의 코스").await;

    let rival = app.another_browser();
    rival
        .login_as("rival@example.com", weaverse::accounts::Role::Tutor)
        .await;
    assert_eq!(
        rival.get(&format!("/studio/courses/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    let edit = rival
        .post_form(
            &format!("/studio/courses/{id}"),
            &[
                ("title", "빼앗은 코스"),
                ("category", "frontend"),
                ("skill_level", "beginner"),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN);
    assert_eq!(
        rival
            .post_form(&format!("/studio/courses/{id}/delete"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rival
            .post_form(
                &format!("/studio/courses/{id}/lectures"),
                &[("title", "끼워넣기")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Platform content (no author) is for admins.
    let seeded = course_id(&app, "web-and-html").await;
    assert_eq!(
        owner.get(&format!("/studio/courses/{seeded}")).await.status,
        StatusCode::FORBIDDEN
    );
    let admin = app.another_browser();
    admin.login_as_admin().await;
    assert_eq!(
        admin.get(&format!("/studio/courses/{seeded}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        admin.get(&format!("/studio/courses/{id}")).await.status,
        StatusCode::OK
    );
    let title: String = sqlx::query_scalar("SELECT title FROM courses WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "튜터의 코스");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_tutor_authors_a_course_with_lectures_and_topics(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as("tutor@example.com", weaverse::accounts::Role::Tutor)
        .await;
    let page = app
        .post_form(
            "/studio/courses",
            &[("title", ""), ("category", "x"), ("price_won", "-5")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text(r#"[data-error-for="title"]"#).as_deref(),
        Some("제목을 입력해 주세요.")
    );
    assert!(page.text(r#"[data-error-for="category"]"#).is_some());
    assert!(page.text(r#"[data-error-for="skill_level"]"#).is_some());
    assert!(page.text(r#"[data-error-for="price_won"]"#).is_some());

    let page = app
        .post_form(
            "/studio/courses",
            &[
                ("title", "타입스크립트 입문"),
                ("summary", "타입으로 안전하게"),
                ("category", "frontend"),
                ("skill_level", "intermediate"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let editor = page.header("location").to_string();
    let id = editor.rsplit('/').next().unwrap().to_string();
    for title in ["타입 기초", "제네릭"] {
        let page = app
            .post_form(
                &format!("/studio/courses/{id}/lectures"),
                &[("title", title)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    let lectures: Vec<(String, String)> = sqlx::query_as(
        "SELECT id::text, title FROM lectures WHERE course_id = $1::uuid ORDER BY position",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        lectures.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
        ["타입 기초", "제네릭"]
    );

    // htmx reorder answers with the outline fragment.
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url(&format!("/studio/lectures/{}/move", lectures[1].0)))
        .header("Origin", &app.base)
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(&[("direction", "up")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.unwrap();
    assert!(!body.contains("<html") && body.contains("data-lecture-id"));
    assert!(body.find("제네릭").unwrap() < body.find("타입 기초").unwrap());

    let lecture = &lectures[0].0;
    let bad = app
        .post_form(
            &format!("/studio/lectures/{lecture}/topics"),
            &[
                ("title", "타입 주석"),
                ("kind", "video"),
                ("duration_minutes", "9999"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text(r#"[data-error-for="duration_minutes"]"#).is_some());
    // htmx gets the outline back with the message beside that lecture's field.
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url(&format!("/studio/lectures/{lecture}/topics")))
        .header("Origin", &app.base)
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(&[("title", ""), ("kind", "video")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("<html") && body.contains(r#"data-error-for="title""#),
        "{body}"
    );
    assert!(body.contains(&format!(r#"id="new-topic-{lecture}""#)));
    for (title, kind) in [("타입 주석", "video"), ("타입 연습", "mission")] {
        let page = app
            .post_form(
                &format!("/studio/lectures/{lecture}/topics"),
                &[("title", title), ("kind", kind), ("duration_minutes", "12")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
    }
    let topic: String = sqlx::query_scalar("SELECT id::text FROM topics WHERE title = '타입 연습'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let page = app
        .post_form(
            &format!("/studio/topics/{topic}"),
            &[
                ("title", "타입 연습 미션"),
                ("kind", "mission"),
                ("duration_minutes", "20"),
                ("body", "함수에 타입을 붙이세요."),
                ("is_preview", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let (title, secs, preview): (String, i32, bool) =
        sqlx::query_as("SELECT title, duration_secs, is_preview FROM topics WHERE id = $1::uuid")
            .bind(&topic)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (title.as_str(), secs, preview),
        ("타입 연습 미션", 1200, true)
    );
    app.post_form(
        &format!("/studio/topics/{topic}/move"),
        &[("direction", "up")],
    )
    .await;

    let public = app.get(&format!("/courses/{id}")).await;
    assert_eq!(public.status, StatusCode::OK);
    let order: Vec<String> = public
        .html()
        .select(&Selector::parse("[data-topic-id] a").unwrap())
        .map(|a| a.text().collect())
        .collect();
    assert_eq!(order, ["타입 연습 미션", "타입 주석"]);
    assert!(
        public.text(".lectures").unwrap().find("제네릭").unwrap()
            < public.text(".lectures").unwrap().find("타입 기초").unwrap()
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn soft_delete_hides_a_course_from_learners_but_not_from_its_author(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as("author@example.com", weaverse::accounts::Role::Tutor)
        .await;
    let page = app
        .post_form(
            "/studio/courses",
            &[
                ("title", "사라질 코스"),
                ("category", "backend"),
                ("skill_level", "beginner"),
                ("price_won", "0"),
            ],
        )
        .await;
    let id = page
        .header("location")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    // Published (drafts have their own test): learners see it.
    sqlx::query("UPDATE courses SET published_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let learner = app.another_browser();
    assert_eq!(
        learner.get(&format!("/courses/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        card_titles(&learner.get("/courses?price_level=free").await),
        ["사라질 코스"]
    );

    assert_eq!(
        app.post_form(&format!("/studio/courses/{id}/delete"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        learner.get(&format!("/courses/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(card_titles(&learner.get("/courses?price_level=free").await).is_empty());
    let own = app.get(&format!("/courses/{id}")).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        own.attr("[data-course-deleted]", "data-course-deleted")
            .is_some()
    );
    let studio = app.get("/studio").await;
    assert_eq!(
        studio
            .attr(&format!(r#"[data-course-id="{id}"]"#), "data-deleted")
            .as_deref(),
        Some("true")
    );

    assert_eq!(
        app.post_form(&format!("/studio/courses/{id}/restore"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        learner.get(&format!("/courses/{id}")).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_admin_reorders_the_nanodegree_and_the_roadmap_follows(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let curriculum = app.nanodegree_id().await;
    let git = course_id(&app, "git-collaboration").await;
    let page = app
        .post_form(
            &format!("/studio/curricula/{curriculum}/courses"),
            &[("course_id", &git), ("action", "up")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let home = app.get("/").await;
    let steps: Vec<String> = home
        .html()
        .select(&Selector::parse("[data-roadmap-step] h3").unwrap())
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect();
    assert_eq!(steps[3], "Git과 협업");
    assert_eq!(steps[4], "JavaScript 심화와 DOM");

    let editor = app.get(&format!("/studio/curricula/{curriculum}")).await;
    assert_eq!(editor.status, StatusCode::OK);
    let bad = app
        .post_form(
            &format!("/studio/curricula/{curriculum}"),
            &[
                ("title", "웹 개발 나노 디그리"),
                ("category", "fullstack"),
                ("skill_level", "beginner"),
                ("price_won", "abc"),
                ("access_months", "24"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text(r#"[data-error-for="price_won"]"#).is_some());

    let tutor = app.another_browser();
    tutor
        .login_as("tutor@example.com", weaverse::accounts::Role::Tutor)
        .await;
    assert_eq!(
        tutor
            .get(&format!("/studio/curricula/{curriculum}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn adding_courses_to_a_curriculum_works_and_parallel_additions_keep_their_order(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let curriculum = app.nanodegree_id().await;
    // Three new courses, created through the studio form.
    let mut courses = Vec::new();
    for i in 0..3 {
        let page = app
            .post_form(
                "/studio/courses",
                &[
                    ("title", &format!("추가 코스 {i}")),
                    ("summary", "요약"),
                    ("description", ""),
                    ("category", "frontend"),
                    ("skill_level", "beginner"),
                    ("price_won", "10000"),
                    ("access_months", "12"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        courses.push(
            page.header("location")
                .trim_start_matches("/studio/courses/")
                .to_string(),
        );
    }
    let page = app
        .post_form(
            &format!("/studio/curricula/{curriculum}/courses"),
            &[("course_id", &courses[0]), ("action", "add")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Adding it again changes nothing.
    app.post_form(
        &format!("/studio/curricula/{curriculum}/courses"),
        &[("course_id", &courses[0]), ("action", "add")],
    )
    .await;
    let path = format!("/studio/curricula/{curriculum}/courses");
    let second = [("course_id", courses[1].as_str()), ("action", "add")];
    let third = [("course_id", courses[2].as_str()), ("action", "add")];
    let (a, b) = tokio::join!(
        app.in_parallel(&path, &second, 3),
        app.in_parallel(&path, &third, 3),
    );
    for status in a.into_iter().chain(b) {
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    let positions: Vec<i32> = sqlx::query_scalar(
        "SELECT position FROM curriculum_courses WHERE curriculum_id = $1::uuid ORDER BY position",
    )
    .bind(&curriculum)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        positions,
        (1..=10).collect::<Vec<i32>>(),
        "7 seeded + 3 added, no gaps"
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_anonymous_page_is_compressed_once_and_a_hit_sends_the_stored_bytes(db: PgPool) {
    use weaverse::web::shared::compressions;
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let fetch = |accept: &'static str| {
        let client = app.client.clone();
        let url = app.url("/courses?category=frontend");
        async move {
            let response = client
                .get(url)
                .header("Accept-Encoding", accept)
                .send()
                .await
                .unwrap();
            let coding = response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            (coding, response.bytes().await.unwrap())
        }
    };
    let before = compressions();
    let (coding, first) = fetch("gzip, deflate, br, zstd").await;
    assert_eq!(coding.as_deref(), Some("br"));
    assert_eq!(
        compressions(),
        before + 1,
        "compressed when the entry was filled"
    );
    for _ in 0..5 {
        let (_, again) = fetch("gzip, deflate, br, zstd").await;
        assert_eq!(again, first, "the same stored bytes");
    }
    let (coding, gzipped) = fetch("gzip").await;
    assert_eq!(coding.as_deref(), Some("gzip"));
    let (coding, plain) = fetch("identity").await;
    assert_eq!(coding, None);
    assert_eq!(compressions(), before + 1, "hits compress nothing");
    // What the three hold is one page, with no CSRF token in it.
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&gzipped[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped.as_bytes(), &plain[..]);
    assert!(!unzipped.contains("csrf-token"));

    // A studio write drops it: the next visitor gets the new page.
    app.login_as_admin().await;
    let page = app.get("/courses?category=frontend").await;
    assert!(
        page.body.contains("csrf-token"),
        "a signed-in page is the visitor's own"
    );
    let course = course_id(&app, "web-and-html").await;
    app.post_form(
        &format!("/studio/courses/{course}"),
        &[
            ("title", "웹의 이해와 HTML (개정)"),
            ("category", "frontend"),
            ("skill_level", "beginner"),
            ("price_won", ""),
        ],
    )
    .await;
    let anonymous = app.another_browser();
    let page = anonymous.get("/courses?category=frontend").await;
    assert!(page.body.contains("웹의 이해와 HTML (개정)"));
    assert_eq!(compressions(), before + 2);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_signed_in_page_is_compressed_for_the_browser_that_asks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.signed_up("compressed@example.com").await;
    // gzip where it is taken: far cheaper per request than brotli.
    for (accept, coding) in [
        ("gzip, deflate, br, zstd", Some("gzip")),
        ("br", Some("br")),
        ("gzip", Some("gzip")),
        ("identity", None),
    ] {
        let response = app
            .client
            .get(app.url("/courses"))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            coding,
            "{accept}"
        );
        assert_eq!(headers["cache-control"], "no-store");
        let bytes = response.bytes().await.unwrap();
        let mut html = String::new();
        match coding {
            Some("br") => {
                std::io::Read::read_to_string(
                    &mut brotli::Decompressor::new(&bytes[..], 4096),
                    &mut html,
                )
                .unwrap();
            }
            Some(_) => {
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&bytes[..]),
                    &mut html,
                )
                .unwrap();
            }
            None => html = String::from_utf8(bytes.to_vec()).unwrap(),
        }
        assert!(
            html.contains("data-user-nickname"),
            "{accept}: the visitor's own page"
        );
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_new_course_is_a_draft_until_it_is_complete_and_published(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as("drafter@example.com", weaverse::accounts::Role::Tutor)
        .await;
    let page = app
        .post_form(
            "/studio/courses",
            &[
                ("title", "초안 코스"),
                ("summary", "아직 만드는 중"),
                ("category", "frontend"),
                ("skill_level", "beginner"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let id = course_id(&app, "초안 코스").await;

    // Learners and visitors do not find it; its author sees a marked preview.
    let learner = app.another_browser();
    learner.signed_up("learner@example.com").await;
    assert!(!learner.get("/courses").await.body.contains("초안 코스"));
    assert!(
        !app.another_browser()
            .get("/courses?q=초안")
            .await
            .body
            .contains("초안 코스")
    );
    assert_eq!(
        learner.get(&format!("/courses/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let preview = app.get(&format!("/courses/{id}")).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview
            .text("[data-course-draft]")
            .unwrap()
            .contains("초안")
    );
    let editor = app.get(&format!("/studio/courses/{id}")).await;
    assert_eq!(
        editor.attr("[data-published]", "data-published").as_deref(),
        Some("false")
    );

    // Publishing an empty course says everything it lacks.
    let page = publish(&app, &format!("/studio/courses/{id}/publish")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = page.text("[data-error-for=publish]").unwrap();
    for words in ["설명", "가격", "공개된 토픽", "표지"] {
        assert!(missing.contains(words), "{missing}");
    }

    // A lecture with a topic, both drafts, then published one by one.
    app.post_form(
        &format!("/studio/courses/{id}/lectures"),
        &[("title", "첫 강의")],
    )
    .await;
    let lecture: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM lectures WHERE course_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    app.post_form(
        &format!("/studio/lectures/{lecture}/topics"),
        &[
            ("title", "첫 토픽"),
            ("kind", "reading"),
            ("duration_minutes", "5"),
        ],
    )
    .await;
    let topic: uuid::Uuid = sqlx::query_scalar("SELECT id FROM topics WHERE lecture_id = $1")
        .bind(lecture)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let page = publish(&app, &format!("/studio/courses/{id}/publish")).await;
    assert!(
        page.text("[data-error-for=publish]")
            .unwrap()
            .contains("공개된 토픽")
    );
    for path in [
        format!("/studio/lectures/{lecture}/publish"),
        format!("/studio/topics/{topic}/publish"),
    ] {
        let page = publish(&app, &path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
    }
    // A video topic waits for its video.
    app.post_form(
        &format!("/studio/lectures/{lecture}/topics"),
        &[("title", "영상 토픽"), ("kind", "video")],
    )
    .await;
    let video_topic: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM topics WHERE lecture_id = $1 AND kind = 'video'")
            .bind(lecture)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = publish(&app, &format!("/studio/topics/{video_topic}/publish")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text("[data-error-for=publish]")
            .unwrap()
            .contains("영상을 올리고")
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM topics WHERE kind = 'video' AND published_at IS NOT NULL AND title = '영상 토픽'"
        )
        .await,
        0
    );
    let page = app
        .post_form(
            &format!("/studio/courses/{id}"),
            &[
                ("title", "초안 코스"),
                ("summary", "아직 만드는 중"),
                ("description", "이제 다 만들었습니다."),
                ("category", "frontend"),
                ("skill_level", "beginner"),
                ("price_won", "10000"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let cover = app
        .upload_image(
            &format!("/studio/courses/{id}/cover"),
            crate::support::media::picture(image::ImageFormat::Jpeg, 1600, 900),
        )
        .await;
    assert_eq!(cover.status, StatusCode::SEE_OTHER, "{}", cover.body);
    app.run_jobs().await;
    // A tutor's publish asks for a review: learners do not see it yet.
    let page = publish(&app, &format!("/studio/courses/{id}/publish")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(!learner.get("/courses").await.body.contains("초안 코스"));
    let editor = app.get(&format!("/studio/courses/{id}")).await;
    assert_eq!(
        editor.attr("[data-review]", "data-review").as_deref(),
        Some("pending")
    );
    // An admin finds it in the queue, sends it back with a note (a note is
    // needed), the tutor reads it and asks again, and the admin publishes.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let queue = admin.get("/admin/reviews").await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(
        queue
            .attr(
                &format!("[data-review-course='{id}']"),
                "data-review-course"
            )
            .is_some(),
        "{}",
        queue.body
    );
    assert_eq!(
        app.get("/admin/reviews").await.status,
        StatusCode::FORBIDDEN,
        "a tutor does not review"
    );
    let blank = admin
        .post_form(&format!("/admin/reviews/{id}/return"), &[("note", "  ")])
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let back = admin
        .post_form(
            &format!("/admin/reviews/{id}/return"),
            &[("note", "설명에 배우는 내용을 더 적어 주세요.")],
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    let editor = app.get(&format!("/studio/courses/{id}")).await;
    assert!(
        editor
            .text("[data-review-note]")
            .unwrap()
            .contains("배우는 내용을")
    );
    publish(&app, &format!("/studio/courses/{id}/publish")).await;
    let approved = admin
        .post_form(&format!("/admin/reviews/{id}/approve"), &[])
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    assert!(
        admin
            .get("/admin/reviews")
            .await
            .text("[data-empty]")
            .is_some()
    );
    assert!(learner.get("/courses").await.body.contains("초안 코스"));
    let page = learner.get(&format!("/courses/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text(".lectures").unwrap().contains("첫 토픽"));

    // A topic taken back to a draft disappears for learners again.
    app.post_form(
        &format!("/studio/topics/{topic}/publish"),
        &[("state", "draft")],
    )
    .await;
    let page = learner.get(&format!("/courses/{id}")).await;
    assert!(
        !page
            .text(".lectures")
            .unwrap_or_default()
            .contains("첫 토픽")
    );
    assert_eq!(
        learner.get(&format!("/learn/topics/{topic}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Taking the course back to a draft hides it entirely.
    app.post_form(
        &format!("/studio/courses/{id}/publish"),
        &[("state", "draft")],
    )
    .await;
    assert_eq!(
        learner.get(&format!("/courses/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_new_curriculum_is_published_only_with_a_description_and_a_public_course(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let fields = |description: &'static str| {
        vec![
            ("title", "데이터 나노 디그리"),
            ("summary", "데이터 과정"),
            ("description", description),
            ("category", "backend"),
            ("skill_level", "beginner"),
            ("price_won", "30000"),
            ("access_months", "12"),
        ]
    };
    let page = app.post_form("/studio/curricula", &fields("")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id = page
        .header("location")
        .trim_start_matches("/studio/curricula/")
        .to_string();
    let editor = app.get(&format!("/studio/curricula/{id}")).await;
    assert_eq!(
        editor.attr("[data-published]", "data-published").as_deref(),
        Some("false")
    );
    let page = publish(&app, &format!("/studio/curricula/{id}/publish")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = page.text("[data-error-for=publish]").unwrap();
    assert!(
        missing.contains("설명") && missing.contains("공개된 코스"),
        "{missing}"
    );

    app.post_form(
        &format!("/studio/curricula/{id}"),
        &fields("데이터를 다루는 과정입니다."),
    )
    .await;
    let git = course_id(&app, "git-collaboration").await;
    app.post_form(
        &format!("/studio/curricula/{id}/courses"),
        &[("course_id", &git), ("action", "add")],
    )
    .await;
    let page = publish(&app, &format!("/studio/curricula/{id}/publish")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let editor = app.get(&format!("/studio/curricula/{id}")).await;
    assert_eq!(
        editor.attr("[data-published]", "data-published").as_deref(),
        Some("true")
    );
}

/// The refusal for `field`, if it stands beside that field: in the same
/// box as the input (at most two levels up from the message).
fn message_beside(page: &crate::support::Page, field: &str) -> Option<String> {
    let html = page.html();
    let message = Selector::parse(&format!(r#"[data-error-for="{field}"]"#)).unwrap();
    let input = Selector::parse(&format!(r#"[name="{field}"]"#)).unwrap();
    let found = html.select(&message).next()?;
    let boxes = found
        .ancestors()
        .filter_map(scraper::ElementRef::wrap)
        .take(2);
    for ancestor in boxes {
        if ancestor.select(&input).next().is_some() {
            return Some(found.text().collect::<String>().trim().to_string());
        }
    }
    None
}

type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str, &'a str);

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_studio_form_says_which_field_is_too_long_beside_that_field(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as("author@example.com", weaverse::accounts::Role::Tutor)
        .await;
    let long = |n: usize| "가".repeat(n);
    let listing = [
        ("title", "긴 입력 검사"),
        ("summary", "한 줄"),
        ("description", "설명"),
        ("category", "frontend"),
        ("skill_level", "beginner"),
        ("price_won", "30000"),
        ("access_months", "12"),
    ];
    let created = |page: crate::support::Page| page.header("location").to_string();
    let course = created(app.post_form("/studio/courses", &listing).await);
    let curriculum = created(app.post_form("/studio/curricula", &listing).await);
    let lectures = format!("{course}/lectures");
    app.post_form(&lectures, &[("title", "첫 강의")]).await;
    let lecture: String = sqlx::query_scalar(
        "SELECT l.id::text FROM lectures l JOIN courses c ON c.id = l.course_id WHERE c.title = '긴 입력 검사'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let topic_fields = [
        ("title", "첫 토픽"),
        ("kind", "reading"),
        ("duration_minutes", "5"),
        ("body", "본문"),
    ];
    let topics = format!("/studio/lectures/{lecture}/topics");
    app.post_form(&topics, &topic_fields).await;
    let topic: String = sqlx::query_scalar("SELECT id::text FROM topics WHERE title = '첫 토픽'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let lecture_edit = format!("/studio/lectures/{lecture}");
    let topic_edit = format!("/studio/topics/{topic}");

    let (title, summary, description, body) = (long(121), long(301), long(5001), long(20_001));
    let lecture_description = long(1001);
    let listing_cases = [
        ("title", title.as_str(), "120자"),
        ("summary", summary.as_str(), "300자"),
        ("description", description.as_str(), "5000자"),
        ("price_won", "100000001", "1억"),
    ];
    // (where, the form's other fields, the long field, its value, what the message says)
    let mut cases: Vec<Case> = Vec::new();
    for path in ["/studio/courses", course.as_str()] {
        for (field, value, says) in listing_cases {
            cases.push((path, &listing[..6], field, value, says));
        }
    }
    for path in ["/studio/curricula", curriculum.as_str()] {
        for (field, value, says) in listing_cases {
            cases.push((path, &listing, field, value, says));
        }
        cases.push((path, &listing, "access_months", "121", "120개월"));
    }
    let lecture_fields: &[(&str, &str)] = &[("title", "강의"), ("description", "")];
    cases.push((&lectures, lecture_fields, "title", &title, "120자"));
    cases.push((&lecture_edit, lecture_fields, "title", &title, "120자"));
    cases.push((
        &lecture_edit,
        lecture_fields,
        "description",
        &lecture_description,
        "1000자",
    ));
    for path in [topics.as_str(), topic_edit.as_str()] {
        cases.push((path, &topic_fields, "title", &title, "120자"));
        cases.push((path, &topic_fields, "duration_minutes", "601", "600분"));
    }
    cases.push((&topic_edit, &topic_fields, "body", &body, "20000자"));

    for (path, fields, field, value, says) in cases {
        let mut sent: Vec<(&str, &str)> = fields
            .iter()
            .filter(|(f, _)| *f != field)
            .copied()
            .collect();
        sent.push((field, value));
        let page = app.post_form(path, &sent).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} with a long {field}"
        );
        let message = message_beside(&page, field)
            .unwrap_or_else(|| panic!("{path}: no message beside {field}"));
        assert!(message.contains(says), "{path} {field}: {message}");
    }
    // Nothing refused was written.
    assert_eq!(
        crate::support::count(
            &app.db,
            "SELECT count(*) FROM courses WHERE author_id IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        crate::support::count(&app.db, "SELECT count(*) FROM lectures").await,
        1
    );
    assert_eq!(
        crate::support::count(&app.db, "SELECT count(*) FROM topics").await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_course_page_shows_who_teaches_and_the_learners_progress_per_topic(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    // The platform's own content is taught by its team.
    let html = course_id(&app, "web-and-html").await;
    let page = app.get(&format!("/courses/{html}")).await;
    assert_eq!(
        page.text("[data-tutor-name]").as_deref(),
        Some("Weaverse 교육팀")
    );
    assert!(
        page.text("[data-topic-state]").is_none(),
        "a visitor has no progress"
    );

    // A tutor's course shows the tutor, with the introduction they wrote.
    let tutor = app.another_browser();
    tutor.login_as("coach@example.com", Role::Tutor).await;
    let saved = tutor
        .post_form(
            "/me",
            &[
                ("nickname", "김코치"),
                ("introduction", "10년 차 웹 개발자입니다."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let git = course_id(&app, "Git과 협업").await;
    // Who authors a course is set by hand here, and like every catalogue
    // write it goes through the catalogue's transaction, whose commit drops
    // what pages keep (the tutor's sign-in already showed them the roadmap).
    app.state
        .catalog_cache
        .write(&app.db, async |tx| {
            sqlx::query(
                "UPDATE courses SET author_id = (SELECT id FROM users WHERE email = 'coach@example.com')
                  WHERE id = $1::uuid",
            )
            .bind(&git)
            .execute(&mut *tx)
            .await?;
            Ok(())
        })
        .await
        .unwrap();
    let page = app.get(&format!("/courses/{git}")).await;
    assert_eq!(page.text("[data-tutor-name]").as_deref(), Some("김코치"));
    assert_eq!(
        page.text(".tutor-intro").as_deref(),
        Some("10년 차 웹 개발자입니다.")
    );

    // A learner who bought sees, per lecture and topic, what they did; "학습
    // 계속하기" goes to the first topic not done.
    app.verified_learner("progress@example.com").await;
    app.buy_nanodegree().await;
    let topics: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT t.id FROM lectures l JOIN topics t ON t.lecture_id = l.id
          WHERE l.course_id = $1::uuid AND t.published_at IS NOT NULL
          ORDER BY l.position, t.position LIMIT 2",
    )
    .bind(&html)
    .fetch_all(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at, watched_secs, video_secs)
         SELECT id, $1, now(), 0, NULL FROM users WHERE email = 'progress@example.com'
         UNION ALL SELECT id, $2, NULL, 30, 100 FROM users WHERE email = 'progress@example.com'",
    )
    .bind(topics[0])
    .bind(topics[1])
    .execute(&app.db)
    .await
    .unwrap();
    // Written by hand, past the learner's writers: said as they say it.
    let learner: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'progress@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    weaverse::learning::mine::changed(weaverse::ids::UserId(learner));
    let page = app.get(&format!("/courses/{html}")).await;
    let state = |topic: uuid::Uuid| {
        page.attr(
            &format!("[data-topic-id='{topic}'] [data-topic-state]"),
            "data-topic-state",
        )
    };
    assert_eq!(state(topics[0]).as_deref(), Some("done"));
    assert_eq!(state(topics[1]).as_deref(), Some("started"));
    assert!(
        page.text(&format!("[data-topic-id='{}']", topics[1]))
            .unwrap()
            .contains("30% 시청")
    );
    assert!(
        page.attr("[data-lecture-done]", "data-lecture-done")
            .unwrap()
            .starts_with("1/")
    );
    assert_eq!(
        page.attr("a.continue-learning", "href"),
        Some(format!("/learn/topics/{}", topics[1]))
    );
}
