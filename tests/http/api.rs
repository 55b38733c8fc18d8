//! The JSON API: tokens made on `/me/tokens`, their scopes, expiry and
//! revocation, no cookies, problem documents, the catalogue with cursors,
//! filters and ETags, the owner's account and progress, certificate
//! checks, rate limits, CORS and the documentation. Every `/api` answer is
//! checked against the OpenAPI document (`support::api`).

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::support::{TestApp, api::ApiClient, count};

/// Makes a token on `/me/tokens` in the signed-in browser and returns the
/// secret the page shows.
pub(crate) async fn token(app: &TestApp, name: &str, scope: &str) -> String {
    let page = app
        .post_form(
            "/me/tokens",
            &[("name", name), ("scope", scope), ("days", "30")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let secret = page
        .attr("[data-token-secret]", "value")
        .expect("the secret is shown");
    assert!(secret.starts_with("wvs_"), "{secret}");
    secret
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_token_is_shown_once_acts_as_its_owner_and_stops_when_revoked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("program@example.com").await;
    let page = app.get("/me/tokens").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text("[data-no-tokens]").is_some());
    assert!(app.get("/me").await.body.contains("href=\"/me/tokens\""));

    let secret = token(&app, "인사 시스템", "read").await;
    // Once: the list shows the token, never the secret again.
    let page = app.get("/me/tokens").await;
    assert!(page.attr("[data-token-secret]", "value").is_none());
    assert!(!page.body.contains(&secret));
    assert_eq!(
        page.attr("[data-token-id]", "data-live").as_deref(),
        Some("true")
    );
    assert!(page.body.contains("인사 시스템") && page.body.contains("읽기 전용"));

    let api = ApiClient::new(&app).await.with_token(&secret);
    let me = api.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["email"], "program@example.com");
    assert_eq!(me.body["role"], "student");
    assert!(
        page.body.contains("최근 사용") || app.get("/me/tokens").await.body.contains("최근 사용")
    );

    let id = app
        .get("/me/tokens")
        .await
        .attr("[data-token-id]", "data-token-id")
        .unwrap();
    let page = app.post_form(&format!("/me/tokens/{id}/revoke"), &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let refused = api.get("/api/v1/me").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.header("www-authenticate"),
        "Bearer realm=\"weaverse\""
    );
    assert_eq!(refused.body["type"], "/api/docs#problem-unauthorized");
    assert_eq!(refused.body["instance"], "/api/v1/me");
    let page = app.get("/me/tokens").await;
    assert_eq!(
        page.attr("[data-token-id]", "data-live").as_deref(),
        Some("false")
    );
    assert!(page.body.contains("폐기됨"));

    // Someone else cannot revoke a token that is not theirs.
    let other = app.another_browser();
    other.signed_up("other@example.com").await;
    let page = other
        .post_form(&format!("/me/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_token_form_says_what_is_wrong_beside_each_field_and_makes_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("form@example.com").await;
    let long = "가".repeat(41);
    for (fields, field) in [
        (
            vec![("name", ""), ("scope", "read"), ("days", "30")],
            "name",
        ),
        (
            vec![("name", long.as_str()), ("scope", "read"), ("days", "30")],
            "name",
        ),
        (vec![("name", "앱"), ("days", "30")], "scope"),
        (
            vec![("name", "앱"), ("scope", "root"), ("days", "30")],
            "scope",
        ),
        (
            vec![("name", "앱"), ("scope", "read"), ("days", "3650")],
            "days",
        ),
    ] {
        let page = app.post_form("/me/tokens", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(
            page.text(&format!("[data-error-for={field}]")).is_some(),
            "{fields:?}: {}",
            page.body
        );
        assert!(page.attr("[data-token-secret]", "value").is_none());
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM api_tokens").await, 0);
    // A visitor is sent to sign in.
    let visitor = app.another_browser();
    assert_eq!(
        visitor.get("/me/tokens").await.status,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_read_token_cannot_write_and_a_read_write_token_changes_only_what_it_sends(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("writer@example.com").await;
    let api = ApiClient::new(&app).await;
    let reader = api.with_token(&token(&app, "읽기", "read").await);
    let writer = api.with_token(&token(&app, "쓰기", "read_write").await);

    let refused = reader
        .patch("/api/v1/me", json!({ "nickname": "새이름" }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["type"], "/api/docs#problem-forbidden");

    let changed = writer
        .patch(
            "/api/v1/me",
            json!({ "nickname": " 새이름 ", "introduction": "API로 바꿈" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["nickname"], "새이름");
    let kept = writer
        .patch("/api/v1/me", json!({ "phone_number": "01012345678" }))
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.body["nickname"], "새이름");
    assert_eq!(kept.body["introduction"], "API로 바꿈");
    assert_eq!(kept.body["phone_number"], "010-1234-5678");
    assert!(app.get("/me").await.body.contains("새이름"));

    // Refused fields are pointed at; nothing is half-written.
    let invalid = writer
        .patch(
            "/api/v1/me",
            json!({ "nickname": "x", "introduction": "a".repeat(501) }),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["type"], "/api/docs#problem-validation");
    let mut pointers = invalid.pointers();
    pointers.sort();
    assert_eq!(pointers, ["#/introduction", "#/nickname"]);
    assert_eq!(reader.get("/api/v1/me").await.body["nickname"], "새이름");
    // Not JSON, the wrong shape, an unknown field, a control character.
    for (headers, body, status) in [
        (
            vec![("content-type", "text/plain")],
            json!("nickname=x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            vec![("content-type", "application/json")],
            json!("{"),
            StatusCode::BAD_REQUEST,
        ),
        (vec![], json!({ "nickname": 7 }), StatusCode::BAD_REQUEST),
        (vec![], json!({ "role": "admin" }), StatusCode::BAD_REQUEST),
        (
            vec![],
            json!({ "nickname": "a\u{0}b" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let answer = writer
            .send(Method::PATCH, "/api/v1/me", &headers, Some(body.clone()))
            .await;
        assert_eq!(answer.status, status, "{body}: {:?}", answer.body);
    }
    assert_eq!(reader.get("/api/v1/me").await.body["role"], "student");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn no_cookie_acts_on_the_api_and_an_expired_token_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("cookie@example.com").await;
    let secret = token(&app, "곧 만료", "read_write").await;
    let api = ApiClient::new(&app).await;
    // The browser's own session cookie, sent to the API: nobody.
    let session = app.cookie("weaverse_session").expect("signed in");
    let cookie = format!("weaverse_session={session}");
    let answer = api
        .send(Method::GET, "/api/v1/me", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Nor does a POST need (or get) a CSRF token: the token is the proof.
    let answer = api
        .with_token(&secret)
        .send(
            Method::PATCH,
            "/api/v1/me",
            &[("cookie", &cookie)],
            Some(json!({})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.headers.get("set-cookie").is_none());

    for bad in ["Bearer", "Bearer wvs_nothing", "Basic dXNlcjpwYXNz"] {
        let answer = api
            .send(
                Method::GET,
                "/api/v1/courses",
                &[("authorization", bad)],
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{bad}");
    }

    sqlx::query(
        "UPDATE api_tokens SET created_at = now() - interval '31 days',
                expires_at = now() - interval '1 second'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    // A lookup kept a few seconds holds the token's real end and checks it
    // on each use; this test moves the end instead of the clock, so it
    // drops what was kept.
    weaverse::accounts::forget_identities();
    let expired = api.with_token(&secret).get("/api/v1/me").await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/me/tokens")
            .await
            .attr("[data-token-id]", "data-live")
            .as_deref(),
        Some("false")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_catalogue_comes_in_cursor_pages_with_filters_and_etags(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let api = ApiClient::new(&app).await;
    let live = count(
        &app.db,
        "SELECT count(*) FROM courses WHERE deleted_at IS NULL AND published_at IS NOT NULL",
    )
    .await;
    assert!(live >= 7);

    // Anyone may read the catalogue; pages of 3 cover it once, in order.
    let mut seen: Vec<String> = Vec::new();
    let mut path = "/api/v1/courses?limit=3".to_string();
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page.body["next"].as_str() {
            Some(next) => path = format!("/api/v1/courses?limit=3&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, live);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no course twice");
    let all = api.get("/api/v1/courses?limit=100").await;
    let in_one: Vec<&str> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(in_one, seen, "the cursor keeps the catalogue's order");
    assert!(all.body.get("next").is_none());

    // The page's filters.
    let frontend = api.get("/api/v1/courses?category=frontend&limit=100").await;
    let items = frontend.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|c| c["category"] == "frontend"));
    let found = api.get("/api/v1/courses?q=git").await;
    assert!(found.body["items"].as_array().unwrap().len() < seen.len());
    for (query, field) in [
        ("category=nope", "#/category"),
        ("skill_level=expert", "#/skill_level"),
        ("limit=0", "#/limit"),
        ("limit=101", "#/limit"),
        ("cursor=bm90LWEtY3Vyc29y", "#/cursor"),
    ] {
        let refused = api.get(&format!("/api/v1/courses?{query}")).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(refused.pointers(), [field], "{query}");
    }

    // ETag: the same list again is a 304 without a body.
    let tag = all.header("etag").to_owned();
    assert!(tag.starts_with("W/\""), "{tag}");
    let again = api
        .send(
            Method::GET,
            "/api/v1/courses?limit=100",
            &[("if-none-match", &tag)],
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_null());
    assert_eq!(again.header("etag"), tag);
    let other = api
        .send(
            Method::GET,
            "/api/v1/courses?limit=3",
            &[("if-none-match", &tag)],
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);

    // One course with its outline; missing ones are 404 problems.
    let course = api.get(&format!("/api/v1/courses/{}", seen[0])).await;
    assert_eq!(course.status, StatusCode::OK);
    assert!(!course.body["lectures"].as_array().unwrap().is_empty());
    assert_eq!(course.body["url"], format!("/courses/{}", seen[0]));
    for missing in [
        format!("/api/v1/courses/{}", uuid::Uuid::new_v4()),
        "/api/v1/courses/not-a-uuid".to_string(),
        "/api/v1/nothing-here".to_string(),
        "/api/v2/courses".to_string(),
    ] {
        let answer = api.get(&missing).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(
            answer.body["type"], "/api/docs#problem-not-found",
            "{missing}"
        );
    }
    let wrong = api.send(Method::DELETE, "/api/v1/courses", &[], None).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("content-type"), "application/problem+json");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_contract_check_refuses_what_the_document_does_not_describe(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("contract@example.com").await;
    let api = ApiClient::new(&app)
        .await
        .with_token(&token(&app, "계약", "read").await);
    let mut me = api.get("/api/v1/me").await;
    assert!(api.fits(&Method::GET, "/api/v1/me", &me).is_ok());
    // A field missing, a field of the wrong type, an undocumented status,
    // a body where the document says none, a path it does not have.
    let email = me.body.as_object_mut().unwrap().remove("email").unwrap();
    assert!(api.fits(&Method::GET, "/api/v1/me", &me).is_err());
    me.body["email"] = json!(7);
    assert!(api.fits(&Method::GET, "/api/v1/me", &me).is_err());
    me.body["email"] = email;
    me.status = StatusCode::CREATED;
    let err = api.fits(&Method::GET, "/api/v1/me", &me).unwrap_err();
    assert!(err.contains("application/json"), "{err}");
    me.status = StatusCode::NOT_MODIFIED;
    assert!(api.fits(&Method::GET, "/api/v1/courses", &me).is_err());
    me.status = StatusCode::OK;
    assert!(api.fits(&Method::GET, "/api/v1/teachers", &me).is_err());
    assert!(api.fits(&Method::PUT, "/api/v1/me", &me).is_err());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_owner_reads_their_progress_and_anyone_checks_a_certificate(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("learner@example.com").await;
    let secret = token(&app, "진도", "read").await;
    let api = ApiClient::new(&app).await;
    let owner = api.with_token(&secret);

    let before = owner.get("/api/v1/me/progress").await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    assert!(before.body["holdings"].as_array().unwrap().is_empty());
    assert_eq!(before.body["courses"].as_array().unwrap().len(), 7);
    assert!(api.get("/api/v1/me/progress").await.status == StatusCode::UNAUTHORIZED);

    app.buy_nanodegree().await;
    sqlx::query("UPDATE users SET legal_name = '김위버' WHERE email = 'learner@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    let (user, git): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "SELECT (SELECT id FROM users WHERE email = 'learner@example.com'),
                (SELECT id FROM courses WHERE slug = 'git-collaboration')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at)
         SELECT $1, t.id, now() FROM topics t JOIN lectures l ON l.id = t.lecture_id
          WHERE l.course_id = $2",
    )
    .bind(user)
    .bind(git)
    .execute(&app.db)
    .await
    .unwrap();
    // Written by hand, past the learner's writers: said as they say it.
    weaverse::learning::mine::changed(weaverse::ids::UserId(user));
    let code = {
        let mut conn = app.db.acquire().await.unwrap();
        weaverse::certificates::check(
            &mut conn,
            weaverse::ids::UserId(user),
            weaverse::ids::CourseId(git),
        )
        .await
        .unwrap()
        .pop()
        .expect("issued")
    };

    let after = owner.get("/api/v1/me/progress").await;
    let holdings = after.body["holdings"].as_array().unwrap();
    assert_eq!(holdings.len(), 1);
    assert_eq!(holdings[0]["product_kind"], "curriculum");
    assert_eq!(holdings[0]["active"], true);
    let git_row = after.body["courses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["course_id"] == git.to_string())
        .expect("the git course");
    assert_eq!(git_row["percent"], 100);
    assert_eq!(git_row["topics_done"], git_row["topics"]);

    // Missions: each of the nano-degree's, not started, until a result.
    let missions = owner.get("/api/v1/me/missions").await;
    assert_eq!(missions.status, StatusCode::OK, "{:?}", missions.body);
    let items = missions.body["items"].as_array().unwrap();
    let all = count(&app.db, "SELECT count(*) FROM missions").await;
    assert_eq!(items.len() as i64, all);
    assert!(
        items
            .iter()
            .all(|m| m["state"] == "not_started" && m["attempts_used"] == 0)
    );
    let first = items[0]["mission_id"].as_str().unwrap().to_owned();
    sqlx::query(
        "INSERT INTO mission_results (mission_id, user_id, best_score, passed_at)
         VALUES ($1::uuid, $2, 85, now())",
    )
    .bind(&first)
    .bind(user)
    .execute(&app.db)
    .await
    .unwrap();
    weaverse::learning::mine::changed(weaverse::ids::UserId(user));
    let missions = owner.get("/api/v1/me/missions").await;
    let passed = &missions.body["items"][0];
    assert_eq!(
        (passed["state"].as_str(), passed["best_score"].as_i64()),
        (Some("passed"), Some(85))
    );

    // Anyone (no token) checks the certificate by its number.
    let cert = api.get(&format!("/api/v1/certificates/{code}")).await;
    assert_eq!(cert.status, StatusCode::OK, "{:?}", cert.body);
    assert_eq!(cert.body["status"], "valid");
    assert_eq!(cert.body["name"], "김위버");
    assert_eq!(cert.body["kind"], "course");
    let lower = api
        .get(&format!("/api/v1/certificates/{}", code.to_lowercase()))
        .await;
    assert_eq!(lower.body["code"], code);
    for missing in ["WV-AAAAA-AAAAA-AAAAA-AAAAA", "not-a-code"] {
        let answer = api.get(&format!("/api/v1/certificates/{missing}")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn each_token_has_its_own_rate_and_is_told_when_to_come_back(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.api.per_minute = 3).await;
    app.signed_up("busy@example.com").await;
    let api = ApiClient::new(&app).await;
    let busy = api.with_token(&token(&app, "바쁜 앱", "read").await);
    let calm = api.with_token(&token(&app, "조용한 앱", "read").await);
    for _ in 0..3 {
        assert_eq!(busy.get("/api/v1/me").await.status, StatusCode::OK);
    }
    let refused = busy.get("/api/v1/me").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.body["type"], "/api/docs#problem-rate-limited");
    let wait: u64 = refused.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(calm.get("/api/v1/me").await.status, StatusCode::OK);

    // Guessing: past the rate of refused tokens, an address's tokens are
    // not looked up until its wait is over.
    let guesser = api.with_token("wvs_guess");
    for _ in 0..3 {
        assert_eq!(
            guesser.get("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let stopped = guesser.get("/api/v1/me").await;
    assert_eq!(stopped.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(stopped.header("retry-after").parse::<u64>().unwrap() >= 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn browsers_may_call_from_configured_origins_only_and_the_docs_work_under_the_csp(
    db: PgPool,
) {
    let app = TestApp::spawn(db).await;
    let api = ApiClient::new(&app).await;
    let preflight = |origin: &'static str| {
        let api = &api;
        async move {
            api.send(
                Method::OPTIONS,
                "/api/v1/me",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "PATCH"),
                    (
                        "access-control-request-headers",
                        "authorization, content-type",
                    ),
                ],
                None,
            )
            .await
        }
    };
    let allowed = preflight("https://hr.example.com").await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "https://hr.example.com"
    );
    assert!(
        allowed
            .header("access-control-allow-methods")
            .contains("PATCH")
    );
    assert!(
        allowed
            .headers
            .get("access-control-allow-credentials")
            .is_none()
    );
    let refused = preflight("https://evil.example.com").await;
    assert!(refused.headers.get("access-control-allow-origin").is_none());
    let read = api
        .send(
            Method::GET,
            "/api/v1/courses",
            &[("origin", "https://hr.example.com")],
            None,
        )
        .await;
    assert_eq!(
        read.header("access-control-allow-origin"),
        "https://hr.example.com"
    );
    assert!(
        read.header("access-control-expose-headers")
            .to_lowercase()
            .contains("etag")
    );

    let docs = app.get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    let csp = docs.header("content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let script = docs
        .attr("script[src*=swagger-ui-bundle]", "src")
        .expect("Swagger UI from our own static files");
    assert_eq!(app.get(&script).await.status, StatusCode::OK);
    assert_eq!(
        docs.attr("#swagger-ui", "data-spec").as_deref(),
        Some("/api/openapi.json")
    );
    assert!(
        docs.html()
            .select(&scraper::Selector::parse("script:not([src])").unwrap())
            .next()
            .is_none()
    );
    assert!(docs.text("#problem-validation").is_some());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_admins_token_lists_people_in_cursor_pages_and_nobody_elses_does(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for i in 0..4 {
        app.another_browser()
            .signed_up(&format!("learner{i}@example.com"))
            .await;
    }
    let learner = app.another_browser();
    learner.signed_up("nosy@example.com").await;
    app.login_as_admin().await;
    let api = ApiClient::new(&app).await;
    let admin = api.with_token(&token(&app, "관리 스크립트", "read").await);
    let nosy = api.with_token(&token(&learner, "엿보기", "read_write").await);

    let refused = nosy.get("/api/v1/users").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get("/api/v1/users").await.status,
        StatusCode::UNAUTHORIZED
    );

    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_string();
    loop {
        let page = admin.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        match page.body["next"].as_str() {
            Some(next) => path = format!("/api/v1/users?limit=2&cursor={next}"),
            None => break,
        }
    }
    let people = count(
        &app.db,
        "SELECT count(*) FROM users WHERE deleted_at IS NULL",
    )
    .await;
    assert_eq!(seen.len() as i64, people);
    assert_eq!(seen[0], "admin@weaverse.kr", "newest first");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len());

    let students = admin
        .get("/api/v1/users?role=student&q=learner&limit=100")
        .await;
    let items = students.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items.iter().all(|u| u["role"] == "student"));
    let one = admin
        .get(&format!(
            "/api/v1/users/{}",
            items[0]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["email"], items[0]["email"]);
    let missing = admin
        .get(&format!("/api/v1/users/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let invalid = admin.get("/api/v1/users?role=root").await;
    assert_eq!(invalid.pointers(), ["#/role"]);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_tutors_program_writes_its_own_courses_and_nobody_elses(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as("tutor@weaverse.kr", weaverse::accounts::Role::Tutor)
        .await;
    let other = app.another_browser();
    other
        .login_as("other-tutor@weaverse.kr", weaverse::accounts::Role::Tutor)
        .await;
    let learner = app.another_browser();
    learner.signed_up("learner@example.com").await;
    let api = ApiClient::new(&app).await;
    let tutor = api.with_token(&token(&app, "강의 동기화", "read_write").await);
    let tutor_reader = api.with_token(&token(&app, "읽기", "read").await);
    let rival = api.with_token(&token(&other, "남의 강의", "read_write").await);
    let student = api.with_token(&token(&learner, "학생", "read_write").await);

    let fields = json!({
        "title": "API로 만든 강의",
        "summary": "프로그램이 만든 초안",
        "description": "## 소개",
        "category": "backend",
        "skill_level": "beginner",
        "price_won": 30000,
    });
    assert_eq!(
        student
            .send(Method::POST, "/api/v1/courses", &[], Some(fields.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tutor_reader
            .send(Method::POST, "/api/v1/courses", &[], Some(fields.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let missing = tutor
        .send(Method::POST, "/api/v1/courses", &[], Some(json!({})))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["#/title", "#/category", "#/skill_level"] {
        assert!(
            missing.pointers().iter().any(|p| p == field),
            "{:?}",
            missing.pointers()
        );
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM courses").await, 0);

    let made = tutor
        .send(Method::POST, "/api/v1/courses", &[], Some(fields))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["published"], false);
    let id = made.body["id"].as_str().unwrap().to_owned();
    assert_eq!(made.header("location"), format!("/api/v1/courses/{id}"));
    let path = format!("/api/v1/courses/{id}");
    // A draft: its author sees it, nobody else.
    assert_eq!(tutor_reader.get(&path).await.status, StatusCode::OK);
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(rival.get(&path).await.status, StatusCode::NOT_FOUND);

    let changed = tutor.patch(&path, json!({ "title": "고친 제목" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["title"], "고친 제목");
    assert_eq!(changed.body["summary"], "프로그램이 만든 초안");
    assert_eq!(changed.body["price_won"], 30000);
    assert!(
        app.get(&format!("/studio/courses/{id}"))
            .await
            .body
            .contains("고친 제목")
    );
    let invalid = tutor.patch(&path, json!({ "category": "cooking" })).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.pointers(), ["#/category"]);
    let refused = rival.patch(&path, json!({ "title": "가로채기" })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        rival.send(Method::DELETE, &path, &[], None).await.status,
        StatusCode::FORBIDDEN
    );

    let deleted = tutor.send(Method::DELETE, &path, &[], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(tutor.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM courses WHERE deleted_at IS NOT NULL"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_program_orders_once_per_idempotency_key_and_the_person_pays(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("buyer@example.com").await;
    let address = app.add_address().await;
    let api = ApiClient::new(&app).await;
    let buyer = api.with_token(&token(&app, "구매 앱", "read_write").await);
    let reader = api.with_token(&token(&app, "조회 앱", "read").await);
    let curriculum = app.nanodegree_id().await;
    let product = json!({ "product": { "kind": "curriculum", "id": curriculum } });

    assert_eq!(
        reader
            .send(
                Method::POST,
                "/api/v1/cart/items",
                &[],
                Some(product.clone())
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let added = buyer
        .send(
            Method::POST,
            "/api/v1/cart/items",
            &[],
            Some(product.clone()),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["total_won"], 50_000);
    let again = buyer
        .send(Method::POST, "/api/v1/cart/items", &[], Some(product))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let unknown = json!({ "product": { "kind": "course", "id": uuid::Uuid::new_v4() } });
    let refused = buyer
        .send(Method::POST, "/api/v1/cart/items", &[], Some(unknown))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reader.get("/api/v1/cart").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let order = json!({ "gateway": "demo", "agree_refund": true, "address_id": address });
    let no_key = buyer
        .send(Method::POST, "/api/v1/orders", &[], Some(order.clone()))
        .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    let unagreed = buyer
        .send(
            Method::POST,
            "/api/v1/orders",
            &[("idempotency-key", "k-unagreed")],
            Some(json!({ "gateway": "demo", "agree_refund": false, "address_id": address })),
        )
        .await;
    assert_eq!(unagreed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unagreed.pointers(), ["#/agree_refund"]);
    assert_eq!(count(&app.db, "SELECT count(*) FROM orders").await, 0);

    // The same key, sent at once and again: one order, the same answer.
    let key = [("idempotency-key", "order-2026-12-06-1")];
    let (first, second) = tokio::join!(
        buyer.send(Method::POST, "/api/v1/orders", &key, Some(order.clone())),
        buyer.send(Method::POST, "/api/v1/orders", &key, Some(order.clone())),
    );
    let placed = [&first, &second]
        .into_iter()
        .find(|a| a.status == StatusCode::CREATED)
        .expect("one of them placed the order");
    for other in [&first, &second] {
        assert!(
            other.status == StatusCode::CREATED || other.status == StatusCode::CONFLICT,
            "{:?}",
            other.body
        );
    }
    let replay = buyer
        .send(Method::POST, "/api/v1/orders", &key, Some(order.clone()))
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.header("idempotent-replayed"), "true");
    assert_eq!(replay.body, placed.body);
    assert_eq!(count(&app.db, "SELECT count(*) FROM orders").await, 1);
    let changed = buyer
        .send(
            Method::POST,
            "/api/v1/orders",
            &key,
            Some(json!({ "gateway": "demo", "agree_refund": true })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The person pays where the answer says; the program sees it paid.
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(placed.body["order"]["status"], "pending");
    assert_eq!(placed.body["pay_url"], format!("/payments/demo/{id}"));
    assert_eq!(
        app.get(placed.body["pay_url"].as_str().unwrap())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.approve_demo(&id, 50_000).await.status,
        StatusCode::SEE_OTHER
    );
    let pending = &placed.body["order"];
    assert_eq!(pending["total_won"], 50_000);
    let paid = reader.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(paid.body["status"], "paid");
    assert_eq!(paid.body["total_won"], 50_000);
    assert_eq!(paid.body["items"][0]["product"]["id"], curriculum);
    assert_eq!(paid.body["payment"]["amount_won"], 50_000);
    let receipt = paid.body["payment"]["receipt_url"].as_str().unwrap();
    assert_eq!(app.get(receipt).await.status, StatusCode::OK);
    assert_eq!(
        reader.get("/api/v1/orders").await.body["items"][0]["id"],
        id
    );
    let holdings = reader.get("/api/v1/me/progress").await;
    assert_eq!(holdings.body["holdings"][0]["active"], true);

    // Someone else's order does not exist for them.
    let other = app.another_browser();
    other.signed_up("other@example.com").await;
    let stranger = api.with_token(&token(&other, "남", "read").await);
    assert_eq!(
        stranger.get(&format!("/api/v1/orders/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_owner_keeps_billing_addresses_and_may_close_the_account(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("closing@example.com").await;
    let api = ApiClient::new(&app).await;
    let owner = api.with_token(&token(&app, "주소록", "read_write").await);
    let reader = api.with_token(&token(&app, "조회", "read").await);

    let refused = owner
        .send(
            Method::POST,
            "/api/v1/me/addresses",
            &[],
            Some(json!({ "country": "KR", "postal_code": "1", "main": "" })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers = refused.pointers();
    pointers.sort();
    assert_eq!(pointers, ["#/main", "#/postal_code"]);
    let saved = owner
        .send(
            Method::POST,
            "/api/v1/me/addresses",
            &[],
            Some(json!({
                "country": "KR", "postal_code": "04524",
                "main": "서울특별시 중구 세종대로 110", "detail": "3층", "is_default": true,
            })),
        )
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{:?}", saved.body);
    assert_eq!(saved.body["postal_code"], "04524");
    for n in 1..=2 {
        let more = owner
            .send(
                Method::POST,
                "/api/v1/me/addresses",
                &[],
                Some(json!({ "country": "KR", "postal_code": "04524", "main": format!("부산광역시 {n}") })),
            )
            .await;
        assert_eq!(more.status, StatusCode::CREATED);
    }
    let first = reader.get("/api/v1/me/addresses?limit=2").await;
    assert_eq!(first.body["items"][0]["id"], saved.body["id"]);
    let next = first.body["next"].as_str().unwrap();
    let rest = reader
        .get(&format!("/api/v1/me/addresses?limit=2&cursor={next}"))
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert!(rest.body.get("next").is_none());
    let extra = first.body["items"][1]["id"].as_str().unwrap();
    assert_eq!(
        owner
            .send(
                Method::DELETE,
                &format!("/api/v1/me/addresses/{extra}"),
                &[],
                None
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let stale = reader
        .get(&format!("/api/v1/me/addresses?limit=2&cursor={next}"))
        .await;
    assert_eq!(stale.pointers(), ["#/cursor"]);
    let last = rest.body["items"][0]["id"].as_str().unwrap();
    owner
        .send(
            Method::DELETE,
            &format!("/api/v1/me/addresses/{last}"),
            &[],
            None,
        )
        .await;
    let listed = reader.get("/api/v1/me/addresses").await;
    assert_eq!(
        listed.body["items"][0]["main"],
        "서울특별시 중구 세종대로 110"
    );
    assert!(app.get("/me/addresses").await.body.contains("세종대로 110"));
    let path = format!(
        "/api/v1/me/addresses/{}",
        saved.body["id"].as_str().unwrap()
    );
    assert_eq!(
        reader.send(Method::DELETE, &path, &[], None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        owner.send(Method::DELETE, &path, &[], None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        owner.send(Method::DELETE, &path, &[], None).await.status,
        StatusCode::NOT_FOUND
    );

    // Closing asks for the password, as the page does.
    let wrong = owner
        .send(
            Method::DELETE,
            "/api/v1/me",
            &[],
            Some(json!({ "confirmation": "아닌 비밀번호" })),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.pointers(), ["#/confirmation"]);
    let closed = owner
        .send(
            Method::DELETE,
            "/api/v1/me",
            &[],
            Some(json!({ "confirmation": crate::support::PASSWORD })),
        )
        .await;
    assert_eq!(closed.status, StatusCode::NO_CONTENT, "{:?}", closed.body);
    assert_eq!(
        reader.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/me").await.status, StatusCode::SEE_OTHER);
}
