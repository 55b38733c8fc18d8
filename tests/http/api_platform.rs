//! The rest of the platform through the JSON API: curricula, payments and
//! refunds (with `Idempotency-Key`), watching from a program's player and
//! an admin's corrections, and a course's videos and covers. Every answer
//! is checked against the OpenAPI document (`support::api`).

use image::ImageFormat;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    api::token,
    learning::{Player, learner_with_video},
    support::{TestApp, api::ApiClient, count, media::clip, media::picture},
};

/// Every operation of the document: a revoked or an expired token is 401
/// (even where no token is needed, a token that is sent must be good), and
/// a read token may not do what writes.
#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_operation_refuses_a_dead_token_and_a_read_token_never_writes(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as_admin().await;
    let api = ApiClient::new(&app).await;
    let revoked = api.with_token(&token(&app, "회수됨", "read_write").await);
    let expired = api.with_token(&token(&app, "만료됨", "read_write").await);
    let reader = api.with_token(&token(&app, "읽기만", "read").await);
    sqlx::raw_sql(
        "UPDATE api_tokens SET revoked_at = now() WHERE name = '회수됨';
         UPDATE api_tokens SET created_at = now() - interval '2 days',
                expires_at = now() - interval '1 day' WHERE name = '만료됨'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let operations = api.operations();
    assert!(operations.len() >= 39, "{}", operations.len());
    let mut writes = 0;
    for (method, template) in operations {
        if !template.starts_with("/api/v1/") {
            continue;
        }
        let path = template
            .replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{code}", "WV-NOPE");
        let body = (method != Method::GET).then(|| json!({}));
        for dead in [&revoked, &expired] {
            let answer = dead.send(method.clone(), &path, &[], body.clone()).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{method} {template}"
            );
            assert!(answer.header("www-authenticate").starts_with("Bearer"));
        }
        if method != Method::GET {
            writes += 1;
            let answer = reader.send(method.clone(), &path, &[], body).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {template}");
        }
    }
    assert!(writes >= 20, "{writes}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn curricula_are_found_by_anyone_and_written_by_their_tutor_only(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as("tutor@weaverse.kr", weaverse::accounts::Role::Tutor)
        .await;
    let other = app.another_browser();
    other
        .login_as("rival@weaverse.kr", weaverse::accounts::Role::Tutor)
        .await;
    let learner = app.another_browser();
    learner.signed_up("learner@example.com").await;
    let api = ApiClient::new(&app).await;
    let tutor = api.with_token(&token(&app, "커리큘럼", "read_write").await);
    let rival = api.with_token(&token(&other, "남의 것", "read_write").await);
    let student = api.with_token(&token(&learner, "학생", "read_write").await);
    let nanodegree = app.nanodegree_id().await;

    // Anyone finds the published nano-degree, with the catalogue's filters.
    let all = api.get("/api/v1/curricula").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body["items"][0]["id"], nanodegree.as_str());
    assert_eq!(all.body["items"][0]["price_won"], 50_000);
    assert!(all.body.get("next").is_none());
    let found = api
        .get("/api/v1/curricula?category=fullstack&price_level=mid&q=%EC%9B%B9")
        .await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    let none = api.get("/api/v1/curricula?price_level=free").await;
    assert!(none.body["items"].as_array().unwrap().is_empty());
    let bad = api
        .get("/api/v1/curricula?skill_level=wizard&limit=0")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(pointers, ["#/limit", "#/skill_level"]);
    let one = api.get(&format!("/api/v1/curricula/{nanodegree}")).await;
    assert_eq!(one.status, StatusCode::OK);
    let courses = one.body["courses"].as_array().unwrap();
    assert_eq!(courses.len(), 7);
    let positions: Vec<i64> = courses
        .iter()
        .map(|c| c["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let tag = one.header("etag").to_owned();
    let same = api
        .send(
            Method::GET,
            &format!("/api/v1/curricula/{nanodegree}"),
            &[("if-none-match", &tag)],
            None,
        )
        .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);

    // Writing: tutors and admins only; a curriculum needs its price.
    let fields = json!({
        "title": "데이터 나노 디그리",
        "summary": "SQL부터 분석까지",
        "category": "backend",
        "skill_level": "beginner",
        "price_won": 90000,
    });
    assert_eq!(
        student
            .send(Method::POST, "/api/v1/curricula", &[], Some(fields.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let priceless = tutor
        .send(
            Method::POST,
            "/api/v1/curricula",
            &[],
            Some(json!({ "title": "가격 없음", "category": "backend", "skill_level": "beginner" })),
        )
        .await;
    assert_eq!(priceless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(priceless.pointers(), ["#/price_won"]);
    let made = tutor
        .send(Method::POST, "/api/v1/curricula", &[], Some(fields))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["published"], false);
    assert_eq!(made.body["access_months"], 24);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/curricula/{id}");
    assert_eq!(made.header("location"), path);
    // A draft: its author reads it, nobody else, and no list shows it.
    assert_eq!(tutor.get(&path).await.status, StatusCode::OK);
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(rival.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.get("/api/v1/curricula").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let changed = tutor
        .patch(
            &path,
            json!({ "title": "데이터 분석 나노 디그리", "access_months": 12 }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["title"], "데이터 분석 나노 디그리");
    assert_eq!(changed.body["price_won"], 90000);
    assert_eq!(changed.body["access_months"], 12);
    let out_of_range = tutor.patch(&path, json!({ "access_months": 500 })).await;
    assert_eq!(out_of_range.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(out_of_range.pointers(), ["#/access_months"]);
    let too_long = tutor
        .patch(&path, json!({ "description": "가".repeat(5001) }))
        .await;
    assert_eq!(too_long.pointers(), ["#/description"]);
    assert_eq!(
        rival
            .patch(&path, json!({ "title": "가로채기" }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Published, it is listed after the nano-degree's page of one.
    sqlx::query("UPDATE curricula SET published_at = now() WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let first = api.get("/api/v1/curricula?limit=1").await;
    assert_eq!(first.body["items"][0]["id"], id.as_str());
    let next = first.body["next"].as_str().expect("a next page");
    let second = api
        .get(&format!("/api/v1/curricula?limit=1&cursor={next}"))
        .await;
    assert_eq!(second.body["items"][0]["id"], nanodegree.as_str());
    assert!(second.body.get("next").is_none());
    let garbage = api.get("/api/v1/curricula?cursor=%21%21").await;
    assert_eq!(garbage.pointers(), ["#/cursor"]);

    assert_eq!(
        rival.send(Method::DELETE, &path, &[], None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        tutor.send(Method::DELETE, &path, &[], None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM curricula WHERE deleted_at IS NOT NULL"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_buyer_refunds_once_per_key_and_an_admin_names_the_amount(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("buyer@example.com").await;
    let order = app.buy_nanodegree().await;
    let api = ApiClient::new(&app).await;
    let buyer = api.with_token(&token(&app, "환불 앱", "read_write").await);
    let reader = api.with_token(&token(&app, "조회", "read").await);

    let paid = reader.get(&format!("/api/v1/orders/{order}")).await;
    assert_eq!(paid.body["status"], "paid");
    // Nothing used yet: the policy offers everything back.
    assert_eq!(paid.body["payment"]["refundable_won"], 50_000);
    let payment = paid.body["payment"]["id"].as_str().unwrap().to_owned();
    let by_payment = reader.get(&format!("/api/v1/payments/{payment}")).await;
    assert_eq!(by_payment.body["id"], order.as_str());
    let refunds = format!("/api/v1/payments/{payment}/refunds");

    assert_eq!(
        reader
            .send(
                Method::POST,
                &refunds,
                &[("idempotency-key", "r1")],
                Some(json!({}))
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let no_key = buyer
        .send(Method::POST, &refunds, &[], Some(json!({})))
        .await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    let named = buyer
        .send(
            Method::POST,
            &refunds,
            &[("idempotency-key", "r0")],
            Some(json!({ "amount_won": 60000 })),
        )
        .await;
    assert_eq!(named.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(named.pointers(), ["#/amount_won"]);
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 0);

    // Two at once with one key, then again: one refund, one answer.
    let key = [("idempotency-key", "refund-2026-12-06")];
    let ask = json!({ "reason": "일정이 맞지 않습니다" });
    let (a, b) = tokio::join!(
        buyer.send(Method::POST, &refunds, &key, Some(ask.clone())),
        buyer.send(Method::POST, &refunds, &key, Some(ask.clone())),
    );
    let done = [&a, &b]
        .into_iter()
        .find(|x| x.status == StatusCode::CREATED)
        .expect("one refunded");
    assert_eq!(done.body["refunded_won"], 50_000);
    assert_eq!(done.body["order"]["status"], "refunded");
    let replay = buyer
        .send(Method::POST, &refunds, &key, Some(ask.clone()))
        .await;
    assert_eq!(replay.header("idempotent-replayed"), "true");
    assert_eq!(replay.body, done.body);
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 1);
    // Another key: nothing is left to refund.
    let again = buyer
        .send(
            Method::POST,
            &refunds,
            &[("idempotency-key", "refund-2")],
            Some(ask),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 1);
    let after = reader.get(&format!("/api/v1/payments/{payment}")).await;
    assert_eq!(after.body["payment"]["refunded_won"], 50_000);
    assert_eq!(
        reader.get("/api/v1/me/progress").await.body["holdings"][0]["active"],
        false
    );

    // An admin names a part of another buyer's payment.
    let second = app.another_browser();
    second.verified_learner("second@example.com").await;
    let second_order = second.buy_nanodegree().await;
    let admin_browser = app.another_browser();
    admin_browser.login_as_admin().await;
    let admin = api.with_token(&token(&admin_browser, "운영", "read_write").await);
    let seen = admin.get(&format!("/api/v1/orders/{second_order}")).await;
    let second_payment = seen.body["payment"]["id"].as_str().unwrap().to_owned();
    let stranger = buyer
        .get(&format!("/api/v1/payments/{second_payment}"))
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let part = admin
        .send(
            Method::POST,
            &format!("/api/v1/payments/{second_payment}/refunds"),
            &[("idempotency-key", "admin-part")],
            Some(json!({ "amount_won": 10000 })),
        )
        .await;
    assert_eq!(part.status, StatusCode::CREATED, "{:?}", part.body);
    assert_eq!(part.body["refunded_won"], 10_000);
    assert_eq!(part.body["order"]["payment"]["refunded_won"], 10_000);
    let too_much = admin
        .send(
            Method::POST,
            &format!("/api/v1/payments/{second_payment}/refunds"),
            &[("idempotency-key", "admin-more")],
            Some(json!({ "amount_won": 45000 })),
        )
        .await;
    // More than is left is refused as the admin page refuses it.
    assert_eq!(too_much.status, StatusCode::CONFLICT);
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 2);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_programs_player_records_watching_and_an_admin_corrects_it(db: PgPool) {
    let (app, topic) = learner_with_video(db).await;
    let api = ApiClient::new(&app).await;
    let learner = api.with_token(&token(&app, "모바일 앱", "read_write").await);
    let reader = api.with_token(&token(&app, "읽기", "read").await);
    let opens = format!("/api/v1/topics/{topic}/watch-sessions");
    let sends = format!("/api/v1/topics/{topic}/watch-events");

    assert_eq!(
        reader.send(Method::POST, &opens, &[], None).await.status,
        StatusCode::FORBIDDEN
    );
    let opened = learner.send(Method::POST, &opens, &[], None).await;
    assert_eq!(opened.status, StatusCode::CREATED, "{:?}", opened.body);
    assert_eq!(opened.body["video_secs"], 100.0);
    assert_eq!(opened.body["resume_at_secs"], 0);
    assert_eq!(opened.body["completed"], false);
    // Just opened: claiming a stretch credits nothing yet (the clock).
    let early = learner
        .send(
            Method::POST,
            &sends,
            &[],
            Some(json!({
                "session": opened.body["session"],
                "events": [
                    { "type": "play", "position": 0.0, "duration": 100.0, "seq": 1 },
                    { "type": "heartbeat", "position": 60.0, "duration": 100.0, "seq": 2, "since": 0.0 },
                ],
            })),
        )
        .await;
    assert_eq!(early.status, StatusCode::OK, "{:?}", early.body);
    assert!(early.body["watched_secs"].as_f64().unwrap() < 5.0);

    // A player whose session began a minute ago.
    let mut player = Player::open(&app, "learner@example.com", &topic).await;
    player.time_passes(60);
    let events = vec![player.ev("play", 0.0), player.ev("heartbeat", 30.0)];
    let recorded = learner
        .send(
            Method::POST,
            &sends,
            &[],
            Some(json!({ "session": player.token(), "events": events })),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::OK, "{:?}", recorded.body);
    assert_eq!(recorded.body["watched_secs"], 30.0);
    assert_eq!(recorded.body["percent"], 30.0);
    let reopened = learner.send(Method::POST, &opens, &[], None).await;
    // Where the learner left off (a few seconds back, as the page does).
    let resume = reopened.body["resume_at_secs"].as_u64().unwrap();
    assert!((20..=30).contains(&resume), "{resume}");

    // Refusals name what is wrong; nothing is stored.
    let before = count(&app.db, "SELECT count(*) FROM watch_events").await;
    let outside = learner
        .send(
            Method::POST,
            &sends,
            &[],
            Some(json!({
                "session": player.token(),
                "events": [{ "type": "heartbeat", "position": 500.0, "duration": 100.0 }],
            })),
        )
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(outside.pointers(), ["#/events"]);
    let forged = learner
        .send(
            Method::POST,
            &sends,
            &[],
            Some(json!({
                "session": "forged.123.abc",
                "events": [{ "type": "play", "position": 0.0, "duration": 100.0 }],
            })),
        )
        .await;
    assert_eq!(forged.status, StatusCode::CONFLICT);
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM watch_events").await,
        before
    );
    // Someone who did not buy may not watch.
    let other = app.another_browser();
    other.signed_up("visitor@example.com").await;
    let stranger = api.with_token(&token(&other, "남", "read_write").await);
    assert_eq!(
        stranger.send(Method::POST, &opens, &[], None).await.status,
        StatusCode::FORBIDDEN
    );

    // An admin reads the history, corrects an event and deletes one.
    let user: String = sqlx::query_scalar("SELECT id::text FROM users WHERE email = $1")
        .bind("learner@example.com")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let history = format!("/api/v1/watch-events?user={user}&topic={topic}");
    assert_eq!(learner.get(&history).await.status, StatusCode::FORBIDDEN);
    let admin_browser = app.another_browser();
    admin_browser.login_as_admin().await;
    let admin = api.with_token(&token(&admin_browser, "운영", "read_write").await);
    let listed = admin.get(&history).await;
    assert_eq!(listed.status, StatusCode::OK);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len() as i64, before);
    // One at a time, the cursor walks them all once, in order.
    let mut walked = Vec::new();
    let mut page = admin.get(&format!("{history}&limit=1")).await;
    loop {
        walked.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        let Some(next) = page.body["next"].as_str() else {
            break;
        };
        page = admin.get(&format!("{history}&limit=1&cursor={next}")).await;
    }
    let all: Vec<_> = items.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(walked, all);
    let heartbeats = admin.get(&format!("{history}&type=heartbeat")).await;
    let heartbeat = heartbeats.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["position"] == 30.0)
        .expect("the heartbeat at 30 s")
        .clone();
    assert_eq!(
        admin
            .get(&format!("{history}&type=rewind"))
            .await
            .pointers(),
        ["#/type"]
    );
    let event = format!("/api/v1/watch-events/{}", heartbeat["id"]);
    let wrong = admin.patch(&event, json!({ "rate": 9.0 })).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.pointers(), ["#/rate"]);
    let fixed = admin.patch(&event, json!({ "position": 20.0 })).await;
    assert_eq!(fixed.status, StatusCode::OK, "{:?}", fixed.body);
    assert_eq!(fixed.body["position"], 20.0);
    assert!(fixed.body["edited_at"].is_string());
    let progress: f64 =
        sqlx::query_scalar("SELECT watched_secs FROM topic_progress WHERE topic_id = $1::uuid")
            .bind(&topic)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(progress, 20.0);
    assert_eq!(
        learner.send(Method::DELETE, &event, &[], None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.send(Method::DELETE, &event, &[], None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.send(Method::DELETE, &event, &[], None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get(&history).await.body["items"]
            .as_array()
            .unwrap()
            .len() as i64,
        before - 1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_courses_editor_uploads_and_lists_its_videos_and_covers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.login_as_admin().await;
    let learner = app.another_browser();
    learner.signed_up("learner@example.com").await;
    let api = ApiClient::new(&app).await;
    let admin = api.with_token(&token(&app, "업로드", "read_write").await);
    let reader = api.with_token(&token(&app, "읽기", "read").await);
    let student = api.with_token(&token(&learner, "학생", "read_write").await);
    let topic = app.video_topic(false).await;
    let course: String = sqlx::query_scalar(
        "SELECT l.course_id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE t.id = $1::uuid",
    )
    .bind(&topic)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let videos = format!("/api/v1/courses/{course}/videos");
    let images = format!("/api/v1/courses/{course}/images");
    let upload = format!("/api/v1/topics/{topic}/video?name=lesson.mp4");
    let clip = std::fs::read(clip(4, 360, true).await).unwrap();

    assert_eq!(student.get(&videos).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        student
            .upload(&upload, "video/mp4", clip.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        reader
            .upload(&upload, "video/mp4", clip.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The studio's checks: a file that is not a video says so.
    let text = admin
        .upload(&upload, "video/mp4", b"not a video at all".repeat(100))
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(text.body["detail"].as_str().unwrap().contains("MP4"));
    let reading: String = sqlx::query_scalar(
        "SELECT t.id::text FROM topics t JOIN lectures l ON l.id = t.lecture_id
          WHERE t.kind = 'reading' AND l.course_id = $1::uuid LIMIT 1",
    )
    .bind(&course)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let not_video = admin
        .upload(
            &format!("/api/v1/topics/{reading}/video"),
            "video/mp4",
            clip.clone(),
        )
        .await;
    assert_eq!(not_video.status, StatusCode::CONFLICT);
    let empty = admin.upload(&upload, "video/mp4", Vec::new()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app.db, "SELECT count(*) FROM videos").await, 0);

    let accepted = admin.upload(&upload, "video/mp4", clip).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{:?}", accepted.body);
    let listed = reader.get(&videos).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["topic_id"], topic.as_str());
    assert_eq!(listed.body["items"][0]["id"], accepted.body["id"]);
    assert_eq!(listed.body["items"][0]["original_name"], "lesson.mp4");
    app.run_jobs().await;
    let ready = reader.get(&videos).await;
    assert_eq!(ready.body["items"][0]["state"], "ready");
    assert_eq!(ready.body["items"][0]["duration_secs"], 4.0);

    let cover = format!("/api/v1/courses/{course}/cover");
    let not_image = admin
        .upload(&cover, "image/png", b"plain text".to_vec())
        .await;
    assert_eq!(not_image.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let taken = admin
        .upload(&cover, "image/png", picture(ImageFormat::Png, 1200, 675))
        .await;
    assert_eq!(taken.status, StatusCode::ACCEPTED, "{:?}", taken.body);
    app.run_jobs().await;
    let covers = reader.get(&images).await;
    assert_eq!(covers.body["items"][0]["id"], taken.body["id"]);
    assert_eq!(covers.body["items"][0]["state"], "ready");
    assert_eq!(covers.body["items"][0]["current"], true);
    let url = covers.body["items"][0]["url"].as_str().unwrap();
    assert_eq!(app.get(url).await.status, StatusCode::OK);
    assert_eq!(student.get(&images).await.status, StatusCode::FORBIDDEN);

    // Anyone's own profile picture, through the profile page's checks.
    let bomb_free = student
        .upload(
            "/api/v1/me/avatar",
            "image/jpeg",
            picture(ImageFormat::Jpeg, 8, 8),
        )
        .await;
    assert_eq!(bomb_free.status, StatusCode::UNPROCESSABLE_ENTITY);
    let avatar = student
        .upload(
            "/api/v1/me/avatar",
            "image/jpeg",
            picture(ImageFormat::Jpeg, 400, 400),
        )
        .await;
    assert_eq!(avatar.status, StatusCode::ACCEPTED, "{:?}", avatar.body);
    app.run_jobs().await;
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM users WHERE email = 'learner@example.com' AND avatar_image_id IS NOT NULL"
        )
        .await,
        1
    );
}
