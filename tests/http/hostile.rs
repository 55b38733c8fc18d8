//! Hostile input (#14): every route of the router, as every role, with the
//! payload families a hostile-input pass uses; and one regression test per
//! hole that pass found. The walk reads the routes from the router itself
//! (`web::routes::listed`) and the field names from the templates, so a new
//! route or field is covered without editing this file.

use std::{collections::BTreeSet, time::Instant};

use reqwest::{StatusCode, header};
use sqlx::PgPool;
use weaverse::accounts::Role;

use crate::support::{PASSWORD, Page, TestApp, count, payment_id};

/// A script that must never come back unescaped.
const SCRIPT: &str = "<script>alert('weaverse')</script>\"><img src=x onerror=alert(1)>";

/// The payload families: a name and the raw (already percent-encoded)
/// value each field gets.
fn families() -> Vec<(&'static str, String)> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    vec![
        ("empty", String::new()),
        ("nul", enc("이름\0끝")),
        (
            "control",
            enc("관리자\u{202e}\u{200b}\u{1b}[31m\r\n둘째 줄"),
        ),
        ("lone-surrogate", "%ED%A0%80".into()),
        ("not-utf8", "%FF%FE%C3%28".into()),
        ("sql", enc("' OR 1=1; DROP TABLE users; --")),
        ("script", enc(SCRIPT)),
        ("numbers", enc("-99999999999999999999999")),
        ("huge-number", enc("9223372036854775807")),
        (
            "malformed-id",
            enc("00000000-0000-0000-0000-00000000000g/../../etc/passwd"),
        ),
        // 40,000 characters in every field: under the body limit, over
        // every field's own bound.
        ("long", "a".repeat(40_000)),
    ]
}

/// Every form field name the templates print, plus the query names pages read.
fn field_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut dirs = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("templates")];
    let patterns = [regex_lite_find("name=\""), regex_lite_find("m::input(\"")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for find in &patterns {
                names.extend(find(&text));
            }
        }
    }
    names.extend(
        [
            "page",
            "order",
            "pg_token",
            "paymentKey",
            "orderId",
            "amount",
            "code",
            "message",
            "state",
        ]
        .map(String::from),
    );
    for skip in ["csrf_token", "form_key", "viewport"] {
        names.remove(skip);
    }
    names
}

/// The identifiers that follow `prefix` in a text (`[a-z_A-Z]+` up to `"`).
fn regex_lite_find(prefix: &'static str) -> impl Fn(&str) -> Vec<String> {
    move |text: &str| {
        text.match_indices(prefix)
            .filter_map(|(at, _)| {
                let rest = &text[at + prefix.len()..];
                let end = rest.find('"')?;
                let name = &rest[..end];
                (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
                    .then(|| name.to_string())
            })
            .collect()
    }
}

/// The rows a request of this role must never change, as one digest per query.
async fn digest(db: &PgPool, queries: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for q in queries {
        let d: Option<String> = sqlx::query_scalar(&format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM ({q}) t"
        ))
        .fetch_one(db)
        .await
        .unwrap();
        out.push(d.unwrap_or_default());
    }
    out
}

struct Ids {
    course: String,
    lecture: String,
    topic: String,
    curriculum: String,
    order: String,
    payment: String,
    address: String,
    learner: String,
    mission: String,
}

impl Ids {
    /// The path with its `{…}` filled by a real id of the right kind where
    /// the prefix says which, a random one elsewhere.
    fn fill(&self, path: &str) -> String {
        let id = if path.starts_with("/courses/") || path.starts_with("/studio/courses/") {
            &self.course
        } else if path.starts_with("/studio/lectures/") {
            &self.lecture
        } else if path.starts_with("/studio/topics/") {
            &self.topic
        } else if path.starts_with("/studio/curricula/") {
            &self.curriculum
        } else if path.starts_with("/orders/")
            || path.starts_with("/payments/demo/")
            || path.starts_with("/payments/toss/")
        {
            &self.order
        } else if path.starts_with("/payments/") || path.starts_with("/admin/payments/") {
            &self.payment
        } else if path.starts_with("/me/addresses/") {
            &self.address
        } else if path.starts_with("/admin/users/") {
            &self.learner
        } else if path.starts_with("/missions/") && !path.starts_with("/missions/submissions/") {
            &self.mission
        } else {
            &uuid::Uuid::new_v4().to_string()
        };
        fill_each(path, |name| {
            if name == "{token}" {
                "hostile-token"
            } else {
                id
            }
        })
    }
}

/// The path with each `{…}` replaced by what `value` gives for it.
fn fill_each<'a>(path: &str, value: impl Fn(&str) -> &'a str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(&rest[..open]);
        out.push_str(value(&rest[open..=close]));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The path with every `{…}` replaced by `value`.
fn fill_all(path: &str, value: &str) -> String {
    fill_each(path, |_| value)
}

#[derive(Default)]
struct Tally {
    requests: usize,
    server_errors: Vec<String>,
    echoes: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: String, page: &Page) {
        self.requests += 1;
        if page.status.is_server_error() {
            self.server_errors.push(format!("{what}: {}", page.status));
        }
        if page.body.contains(SCRIPT) || page.body.contains("<script>alert('weaverse')") {
            self.echoes.push(what);
        }
    }
}

/// Sends every route, with every family, as `who`; panics on a 5xx, an
/// unescaped echo, or a change to `guarded` rows.
async fn walk(app: &TestApp, who: &str, ids: &Ids, guarded: &[String], tally: &mut Tally) {
    let before = digest(&app.db, guarded).await;
    let names = field_names();
    let token = app.csrf_token().await;
    let paths: Vec<&str> = weaverse::web::routes::listed()
        .into_iter()
        // Ending the walker's own session would walk the rest as anonymous.
        .filter(|p| *p != "/logout")
        .collect();
    for path in &paths {
        let url = ids.fill(path);
        for (family, value) in families() {
            let query = |value: &str| {
                names
                    .iter()
                    .map(|n| format!("{n}={value}"))
                    .collect::<Vec<_>>()
                    .join("&")
            };
            // A URL has its own bound: the long family is 500 characters a field there.
            let short = if family == "long" {
                "a".repeat(500)
            } else {
                value.clone()
            };
            let page = read(app.client.get(app.url(&format!("{url}?{}", query(&short))))).await;
            tally.check(format!("{who} GET {path} [{family}]"), &page);

            let body = format!("{}&form_key={}", query(&value), uuid::Uuid::new_v4());
            let page = post_as(app, &token, &url, FORM, body.into_bytes()).await;
            tally.check(format!("{who} POST {path} [{family}]"), &page);
        }
        // A wrong content type.
        let json = br#"{"title":"json"}"#.to_vec();
        let page = post_as(app, &token, &url, "application/json", json).await;
        tally.check(format!("{who} POST {path} [json]"), &page);
        // One megabyte in one field.
        let huge = format!("title={0}&email={0}&q={0}", "x".repeat(1 << 20));
        let page = post_as(app, &token, &url, FORM, huge.into_bytes()).await;
        tally.check(format!("{who} POST {path} [1MB]"), &page);
        // A NUL in every path segment (a code, an id, a file name).
        if path.contains('{') {
            for segment in ["WV-%00", "%00", "WV-AAAAA-%00.pdf"] {
                let nul = fill_all(path, segment);
                let page = read(app.client.get(app.url(&nul))).await;
                tally.check(format!("{who} GET {path} [nul segment {segment}]"), &page);
                let page = post_as(app, &token, &nul, FORM, b"reason=x".to_vec()).await;
                tally.check(format!("{who} POST {path} [nul segment {segment}]"), &page);
            }
        }
    }
    let after = digest(&app.db, guarded).await;
    for ((query, b), a) in guarded.iter().zip(&before).zip(&after) {
        assert_eq!(b, a, "{who} changed rows it must not touch: {query}");
    }
}

async fn read(request: reqwest::RequestBuilder) -> Page {
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => panic!(
            "request failed: {:?} {:?}",
            err.status(),
            err.url().map(|u| u.path().to_string())
        ),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Page {
        status,
        headers,
        body,
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_route_holds_under_hostile_input_as_every_role(db: PgPool) {
    let started = Instant::now();
    let app = TestApp::spawn(db.clone()).await;
    app.seed().await;

    // A learner who bought the nano-degree (order, payment, address).
    let learner = app.another_browser();
    learner.verified_learner("walker@example.com").await;
    let order = learner.buy_nanodegree().await;
    // Tutor A's course with a lecture and a topic.
    let tutor_a = app.another_browser();
    tutor_a.login_as("tutor-a@example.com", Role::Tutor).await;
    let page = tutor_a
        .post_form(
            "/studio/courses",
            &[
                ("title", "튜터 A의 코스"),
                ("category", "frontend"),
                ("skill_level", "beginner"),
                ("price_won", "15000"),
            ],
        )
        .await;
    let course = page
        .header("location")
        .trim_start_matches("/studio/courses/")
        .to_string();
    tutor_a
        .post_form(
            &format!("/studio/courses/{course}/lectures"),
            &[("title", "첫 강의")],
        )
        .await;
    let lecture: String =
        sqlx::query_scalar("SELECT id::text FROM lectures WHERE course_id = $1::uuid")
            .bind(&course)
            .fetch_one(&db)
            .await
            .unwrap();
    tutor_a
        .post_form(
            &format!("/studio/lectures/{lecture}/topics"),
            &[
                ("title", "첫 토픽"),
                ("kind", "video"),
                ("duration_minutes", "10"),
            ],
        )
        .await;
    let topic: String =
        sqlx::query_scalar("SELECT id::text FROM topics WHERE lecture_id = $1::uuid")
            .bind(&lecture)
            .fetch_one(&db)
            .await
            .unwrap();
    let one = |sql: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let ids = Ids {
        course: course.clone(),
        lecture,
        topic,
        curriculum: one("SELECT id::text FROM curricula LIMIT 1").await,
        order,
        payment: one("SELECT id::text FROM payments LIMIT 1").await,
        address: one("SELECT id::text FROM billing_addresses LIMIT 1").await,
        learner: one("SELECT id::text FROM users WHERE email = 'walker@example.com'").await,
        mission: one("SELECT id::text FROM missions LIMIT 1").await,
    };

    let catalogue: Vec<String> = [
        "courses",
        "lectures",
        "topics",
        "curricula",
        "curriculum_courses",
    ]
    .iter()
    .map(|t| format!("SELECT * FROM {t}"))
    .collect();
    let money: Vec<String> = [
        "orders",
        "order_items",
        "payments",
        "refunds",
        "enrolments",
        "billing_addresses",
    ]
    .iter()
    .map(|t| format!("SELECT * FROM {t}"))
    .collect();
    let mut tally = Tally::default();

    // Anonymous: nothing but its own session and limits may change.
    let mut guarded = catalogue.clone();
    guarded.extend(money.clone());
    guarded.push("SELECT id, email, nickname, role, deleted_at FROM users".into());
    walk(
        &app.another_browser(),
        "anonymous",
        &ids,
        &guarded,
        &mut tally,
    )
    .await;

    // A learner: never the catalogue, never anyone else's account.
    let mut guarded = catalogue.clone();
    guarded.push(format!(
        "SELECT id, email, nickname, role, deleted_at FROM users WHERE id <> '{}'::uuid",
        ids.learner
    ));
    walk(&learner, "learner", &ids, &guarded, &mut tally).await;

    // Tutor B: never tutor A's course, never a curriculum, never money.
    let tutor_b = app.another_browser();
    tutor_b.login_as("tutor-b@example.com", Role::Tutor).await;
    let mut guarded = vec![
        format!("SELECT * FROM courses WHERE id = '{course}'::uuid"),
        format!("SELECT * FROM lectures WHERE course_id = '{course}'::uuid"),
        format!("SELECT t.* FROM topics t JOIN lectures l ON l.id = t.lecture_id WHERE l.course_id = '{course}'::uuid"),
        "SELECT * FROM curricula".into(),
        "SELECT * FROM curriculum_courses".into(),
        "SELECT id, email, nickname, role, deleted_at FROM users WHERE email <> 'tutor-b@example.com'".into(),
    ];
    guarded.extend(money.clone());
    walk(&tutor_b, "tutor", &ids, &guarded, &mut tally).await;

    // An admin may change anything; it still gets no 5xx and no echo.
    let admin = app.another_browser();
    admin.login_as_admin().await;
    walk(&admin, "admin", &ids, &[], &mut tally).await;

    eprintln!(
        "hostile input: {} requests, {} routes, {} payload families (+ json, 1 MB), 4 roles, {:.1} s",
        tally.requests,
        weaverse::web::routes::listed().len(),
        families().len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        tally.server_errors.is_empty(),
        "{} server errors:\n{}",
        tally.server_errors.len(),
        tally.server_errors.join("\n")
    );
    assert!(
        tally.echoes.is_empty(),
        "unescaped echoes:\n{}",
        tally.echoes.join("\n")
    );
}

// ---------- one test per hole the hostile pass found ----------

const FORM: &str = "application/x-www-form-urlencoded";

/// Posts raw bytes from our own page (Origin and CSRF header set).
async fn post_as(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Page {
    read(
        app.client
            .post(app.url(path))
            .header("Origin", &app.base)
            .header("X-CSRF-Token", token)
            .header(header::CONTENT_TYPE, content_type)
            .body(body),
    )
    .await
}

/// Posts raw bytes as a form from our own page.
async fn post_bytes(app: &TestApp, path: &str, body: Vec<u8>) -> Page {
    post_as(app, &app.csrf_token().await, path, FORM, body).await
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_nul_byte_in_any_text_field_is_a_422_page_and_nothing_is_written(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("nul@example.com").await;
    let payment_order = app.buy_nanodegree().await;
    let payment = payment_id(&app.db).await;
    for (path, body) in [
        ("/me", "nickname=a&introduction=%00"),
        (
            &format!("/payments/{payment}/refund") as &str,
            "reason=%EB%A7%88%00",
        ),
        ("/login", "email=a%00@example.com&password=x"),
    ] {
        let page = post_bytes(&app, path, body.as_bytes().to_vec()).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("쓸 수 없는 문자"), "{path}");
    }
    // The refund did not happen, not even at the gateway.
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 0);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM gateway_calls WHERE operation = 'cancel'"
        )
        .await,
        0
    );
    let _ = payment_order;
    assert_eq!(
        app.get("/courses?q=%00").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let page = admin.get("/admin/users?q=%00").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tutor = app.another_browser();
    tutor.login_as("nul-tutor@example.com", Role::Tutor).await;
    let page = post_bytes(
        &tutor,
        "/studio/courses",
        b"title=%00&category=frontend&skill_level=beginner".to_vec(),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM courses WHERE author_id IS NOT NULL"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn parallel_default_addresses_leave_one_default_and_no_error(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.signed_up("addr@example.com").await;
    let statuses = app
        .in_parallel(
            "/me/addresses",
            &[
                ("postal_code", "04524"),
                ("main", "서울특별시 중구 세종대로 110"),
                ("country", "KR"),
                ("is_default", "on"),
            ],
            20,
        )
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM billing_addresses").await,
        20
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM billing_addresses WHERE is_default"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_megabyte_email_at_login_is_refused_not_a_500(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let huge = format!("{}@example.com", "a".repeat(1 << 20));
    let page = app.login(&huge, "whatever password").await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bounded before the database"
    );
    let long = format!("{}@example.com", "a".repeat(5_000));
    let page = app.login(&long, "whatever password").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.body.contains("이메일 또는 비밀번호"));
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM rate_events WHERE length(key) > 400"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_static_path_too_long_for_a_file_is_a_404(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get(&format!("/static/{}", "a".repeat(5_000))).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = app
        .get(&format!("/static/css/{}.css", "b".repeat(300)))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

async fn learner_with_cart(app: &TestApp, email: &str) -> String {
    app.verified_learner(email).await;
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    app.add_address().await
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn twenty_parallel_checkouts_leave_one_open_order_and_charge_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    let address = learner_with_cart(&app, "double@example.com").await;
    let statuses = app
        .in_parallel(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "demo"),
                ("agree_refund", "yes"),
            ],
            20,
        )
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM orders WHERE status = 'pending'"
        )
        .await,
        1
    );

    // Orders left open from before (as the old code made them): approving
    // two of them still charges once; the second is refused before any
    // money moves.
    sqlx::query("UPDATE orders SET status = 'pending', failure_reason = NULL")
        .execute(&app.db)
        .await
        .unwrap();
    let orders: Vec<String> =
        sqlx::query_scalar("SELECT id::text FROM orders ORDER BY created_at LIMIT 2")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        app.approve_demo(&orders[0], 50_000).await.status,
        StatusCode::SEE_OTHER
    );
    let second = app.approve_demo(&orders[1], 50_000).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    let next = app.get(second.header("location")).await;
    assert!(
        next.body.contains("이미 수강 중인 상품입니다"),
        "{}",
        next.body
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM orders WHERE status = 'failed'"
        )
        .await,
        1
    );
}

/// Sends one form (one fresh form key) 20 times at once: every answer a
/// redirect, and `made` counts exactly one row.
async fn once_only(browser: &TestApp, path: &str, fields: &[(&str, &str)], made: &str) {
    let key = uuid::Uuid::new_v4().to_string();
    let mut form = fields.to_vec();
    form.push(("form_key", &key));
    let statuses = browser.in_parallel(path, &form, 20).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{path}: {statuses:?}"
    );
    assert_eq!(count(&browser.db, made).await, 1, "{path}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_form_sent_twenty_times_at_once_is_done_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("once@example.com").await;
    app.buy_nanodegree().await;
    let payment = payment_id(&app.db).await;
    let admin = app.another_browser();
    admin.login_as_admin().await;

    // Admin refunds of 1 won, one form key: one refund.
    let key = uuid::Uuid::new_v4().to_string();
    let statuses = admin
        .in_parallel(
            &format!("/payments/{payment}/refund"),
            &[
                ("amount", "1"),
                ("reason", "중복 테스트"),
                ("form_key", &key),
            ],
            20,
        )
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 1);
    assert_eq!(count(&app.db, "SELECT refunded_won FROM payments").await, 1);
    // A new form (a new key) is a new refund.
    let key = uuid::Uuid::new_v4().to_string();
    admin
        .in_parallel(
            &format!("/payments/{payment}/refund"),
            &[("amount", "1"), ("form_key", &key)],
            1,
        )
        .await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 2);

    // Every other form that creates a row, sent 20 times with one key.
    let key = uuid::Uuid::new_v4().to_string();
    app.in_parallel(
        "/me/addresses",
        &[
            ("postal_code", "04524"),
            ("main", "서울특별시 중구 세종대로 110"),
            ("country", "KR"),
            ("form_key", &key),
        ],
        20,
    )
    .await;
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM billing_addresses").await,
        2,
        "the purchase's and one more"
    );

    once_only(
        &admin,
        "/studio/courses",
        &[
            ("title", "한 번만 만들 코스"),
            ("category", "frontend"),
            ("skill_level", "beginner"),
            ("price_won", "1000"),
        ],
        "SELECT count(*) FROM courses WHERE title = '한 번만 만들 코스'",
    )
    .await;
    let course: String =
        sqlx::query_scalar("SELECT id::text FROM courses WHERE title = '한 번만 만들 코스'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    once_only(
        &admin,
        &format!("/studio/courses/{course}/lectures"),
        &[("title", "한 번")],
        "SELECT count(*) FROM lectures WHERE title = '한 번'",
    )
    .await;
    let lecture: String = sqlx::query_scalar("SELECT id::text FROM lectures WHERE title = '한 번'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    once_only(
        &admin,
        &format!("/studio/lectures/{lecture}/topics"),
        &[
            ("title", "토픽 한 번"),
            ("kind", "video"),
            ("duration_minutes", "5"),
        ],
        "SELECT count(*) FROM topics WHERE title = '토픽 한 번'",
    )
    .await;
    once_only(
        &admin,
        "/studio/curricula",
        &[
            ("title", "한 번만 만들 과정"),
            ("category", "frontend"),
            ("skill_level", "beginner"),
            ("price_won", "1000"),
            ("access_months", "12"),
        ],
        "SELECT count(*) FROM curricula WHERE title = '한 번만 만들 과정'",
    )
    .await;
    once_only(
        &admin,
        "/admin/users",
        &[
            ("email", "staff@example.com"),
            ("nickname", "새튜터"),
            ("password", PASSWORD),
            ("role", "tutor"),
        ],
        "SELECT count(*) FROM users WHERE email = 'staff@example.com'",
    )
    .await;

    // Checkout: a learner with a new cart, 20 submits of one form.
    let buyer = app.another_browser();
    let address = learner_with_cart(&buyer, "buyer-once@example.com").await;
    let key = uuid::Uuid::new_v4().to_string();
    let statuses = buyer
        .in_parallel(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "demo"),
                ("agree_refund", "yes"),
                ("form_key", &key),
            ],
            20,
        )
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = 'buyer-once@example.com'").await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_sign_up_in_bytes_that_are_not_utf8_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let mut body = b"email=kim".to_vec();
    body.extend([0xff, 0xfe]);
    body.extend(b"@example.com&nickname=%EA%B9%80%EC%BD%94%EB%94%A9&password=");
    body.extend(
        url::form_urlencoded::byte_serialize(PASSWORD.as_bytes())
            .collect::<String>()
            .as_bytes(),
    );
    let page = post_bytes(&app, "/signup", body).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("UTF-8"));
    let page = post_bytes(
        &app,
        "/signup",
        b"email=kim%FF@example.com&nickname=x&password=y".to_vec(),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&app.db, "SELECT count(*) FROM users").await, 0);
    assert_eq!(count(&app.db, "SELECT count(*) FROM jobs").await, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn text_is_normalised_bounded_and_free_of_spoofing_characters(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app.verified_learner("text@example.com").await;
    // A nickname that reads as another (right-to-left override, zero width).
    for nickname in ["관리자\u{202e}", "관\u{200b}리자", "둘째\n줄"] {
        let page = app
            .post_form(
                "/me",
                &[
                    ("nickname", nickname),
                    ("introduction", ""),
                    ("phone_number", ""),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{nickname:?}"
        );
    }
    // Jamo typed one by one are stored as the syllable (NFC).
    let page = app
        .post_form(
            "/me",
            &[
                (
                    "nickname",
                    "\u{1112}\u{1161}\u{11ab}\u{1100}\u{1173}\u{11af}",
                ),
                ("introduction", ""),
                ("phone_number", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let stored: String =
        sqlx::query_scalar("SELECT nickname FROM users WHERE email = 'text@example.com'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, "한글");

    // A refund reason is bounded: refused with a message, nothing refunded.
    app.buy_nanodegree().await;
    let payment = payment_id(&app.db).await;
    let page = app
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("reason", &"가".repeat(501))],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(page.header("location"))
            .await
            .body
            .contains("환불 사유는 500자 이하")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 0);

    // Titles are one line.
    let tutor = app.another_browser();
    tutor.login_as("title@example.com", Role::Tutor).await;
    let page = tutor
        .post_form(
            "/studio/courses",
            &[
                ("title", "제목\r\n둘째 줄"),
                ("category", "frontend"),
                ("skill_level", "beginner"),
                ("price_won", "1000"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text(r#"[data-error-for="title"]"#)
            .unwrap()
            .contains("줄바꿈")
    );
    let _ = PASSWORD;
}
