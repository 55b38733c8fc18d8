//! The page shell: home page, assets, security headers, error pages, CSRF,
//! sessions, health.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::TestApp;

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn home_page_is_korean_and_links_fingerprinted_assets(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.attr("html", "lang").as_deref(), Some("ko"));
    assert_eq!(page.text("h1").as_deref(), Some("웹 개발 나노 디그리"));

    let css = page
        .attr(r#"link[rel="stylesheet"]"#, "href")
        .expect("stylesheet link");
    assert!(
        css.starts_with("/static/vendor/bootstrap.min.css?v="),
        "{css}"
    );
    let asset = app.get(&css).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(asset.header("content-type").starts_with("text/css"));
    assert_eq!(
        asset.header("cache-control"),
        "public, max-age=31536000, immutable"
    );

    let htmx = page.attr(r#"script[src*="htmx"]"#, "src").expect("htmx");
    assert_eq!(app.get(&htmx).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn unversioned_asset_urls_must_revalidate(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let asset = app.get("/static/css/app.css").await;
    assert_eq!(asset.status, StatusCode::OK);
    assert_eq!(asset.header("cache-control"), "no-cache");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn every_response_carries_the_security_headers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for path in ["/", "/no-such-page", "/static/css/app.css", "/healthz"] {
        let page = app.get(path).await;
        let csp = page.header("content-security-policy");
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp:?}"));
        assert_eq!(script_src, "script-src 'self'", "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(page.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            page.header("referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(
            !page.header("x-request-id").is_empty(),
            "{path}: request id"
        );
        // Served over http in tests: no HSTS.
        assert_eq!(page.header("strict-transport-security"), "", "{path}");
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn pages_have_no_inline_scripts_or_styles(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for path in ["/", "/no-such-page"] {
        let page = app.get(path).await;
        let html = page.html();
        for script in html.select(&scraper::Selector::parse("script").unwrap()) {
            assert!(
                script.value().attr("src").is_some(),
                "{path}: inline script"
            );
        }
        assert_eq!(
            html.select(&scraper::Selector::parse("style, [style]").unwrap())
                .count(),
            0,
            "{path}"
        );
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn unknown_path_gets_a_korean_html_404_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(
        page.text("h1").as_deref(),
        Some("페이지를 찾을 수 없습니다")
    );
    // A full page: the layout's navigation is there.
    assert!(page.text("nav").is_some());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn htmx_request_for_an_unknown_path_gets_a_fragment(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get_htmx("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("<html"), "fragment only: {}", page.body);
    assert!(page.body.contains("페이지를 찾을 수 없습니다"));
    assert_eq!(page.header("hx-retarget"), "#page-alerts");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn missing_static_file_gets_the_404_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/static/nothing-here.css").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn post_without_csrf_token_is_refused_with_a_403_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.get("/").await; // receive the CSRF cookie
    let page = app.post_raw("/", &[("x", "1")], Some(&app.base)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.text("h1").as_deref(), Some("보안 확인에 실패했습니다"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn post_with_a_forged_token_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.get("/").await;
    let page = app
        .post_raw("/", &[("csrf_token", "AAAAforgedAAAA")], Some(&app.base))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn post_from_a_foreign_origin_is_refused_even_with_a_valid_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.csrf_token().await;
    let page = app
        .post_raw("/", &[("csrf_token", &token)], Some("https://evil.example"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = app.post_raw("/", &[("csrf_token", &token)], None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "no Origin, no Referer");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_token_from_another_visitor_does_not_pass(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let other = TestApp::spawn(db).await;
    let foreign_token = other.csrf_token().await;
    app.get("/").await;
    let page = app
        .post_raw("/", &[("csrf_token", &foreign_token)], Some(&app.base))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn valid_token_and_origin_pass_the_csrf_check(db: PgPool) {
    let app = TestApp::spawn(db).await;
    // `/` takes no POST: getting past CSRF shows as 405, not 403.
    let page = app.post_form("/", &[]).await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.text("h1").as_deref(), Some("허용되지 않는 요청입니다"));

    // htmx sends the token in a header instead of the form.
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url("/"))
        .header("Origin", &app.base)
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn anonymous_page_views_write_no_session_rows(db: PgPool) {
    let app = TestApp::spawn(db).await;
    for path in ["/", "/no-such-page", "/", "/healthz"] {
        app.get(path).await;
    }
    let _ = app.post_form("/", &[]).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn csrf_cookie_is_http_only_and_lax(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/").await;
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("weaverse_csrf="))
        .expect("csrf cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    // The second view reuses it.
    let again = app.get("/").await;
    assert!(again.header("set-cookie").is_empty());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn oversized_bodies_get_a_413_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.csrf_token().await;
    let big = "가".repeat(1024 * 1024);
    let page = app
        .post_raw(
            "/",
            &[("csrf_token", &token), ("text", &big)],
            Some(&app.base),
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("보낸 내용이 너무 큽니다"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn responses_are_compressed_when_the_client_accepts_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = app
        .client
        .get(app.url("/static/vendor/bootstrap.min.css"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn production_adds_hsts_and_secure_cookies(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| {
        c.app_env = weaverse::config::AppEnv::Production;
        c.public_url = "https://weaverse.example".parse().unwrap();
    })
    .await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("strict-transport-security")
            .starts_with("max-age=")
    );
    let cookie = page.header("set-cookie");
    assert!(
        cookie.starts_with("weaverse_csrf=") && cookie.contains("Secure"),
        "{cookie}"
    );
}

/// Every route that takes an id, with a malformed one: the Korean 404 page
/// (never axum's plain-text 400), for GET and for a valid POST alike.
#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_malformed_id_in_any_path_is_the_404_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as_admin().await;
    let gets = [
        "/courses/x",
        "/studio/courses/x",
        "/studio/topics/x",
        "/studio/curricula/x",
        "/me/addresses/x",
        "/payments/demo/x",
        "/orders/x",
        "/orders/123",
        "/payments/x/receipt",
        "/admin/payments/x",
        "/admin/users/x",
    ];
    for path in gets {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {path}");
        assert!(
            page.body.contains("페이지를 찾을 수 없습니다"),
            "GET {path}"
        );
    }
    let posts = [
        "/cart/items/x/delete",
        "/me/addresses/x",
        "/me/addresses/x/delete",
        "/payments/demo/x/approve",
        "/payments/demo/x/fail",
        "/payments/x/refund",
        "/studio/courses/x",
        "/studio/courses/x/delete",
        "/studio/courses/x/restore",
        "/studio/courses/x/lectures",
        "/studio/lectures/x",
        "/studio/lectures/x/move",
        "/studio/lectures/x/delete",
        "/studio/lectures/x/restore",
        "/studio/lectures/x/topics",
        "/studio/topics/x",
        "/studio/topics/x/move",
        "/studio/topics/x/delete",
        "/studio/topics/x/restore",
        "/studio/curricula/x",
        "/studio/curricula/x/delete",
        "/studio/curricula/x/restore",
        "/studio/curricula/x/courses",
        "/me/sessions/x/end",
        "/admin/users/x",
        "/admin/users/x/delete",
        "/admin/users/x/restore",
    ];
    for path in posts {
        let page = app.post_form(path, &[("amount", "1")]).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "POST {path}");
        assert!(
            page.body.contains("페이지를 찾을 수 없습니다"),
            "POST {path}"
        );
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn huge_page_numbers_answer_a_page_not_a_500(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.login_as_admin().await;
    for path in [
        "/courses?page=9223372036854775807",
        "/courses?page=-9223372036854775808",
        "/courses?page=99999999999999999999",
        "/admin/users?page=9223372036854775807",
        "/admin/users?page=-1",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn static_files_are_sent_precompressed_for_each_encoding_a_browser_asks_for(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static/vendor");
    let file =
        |suffix: &str| std::fs::read(dir.join(format!("bootstrap.min.css{suffix}"))).unwrap();
    let mut etags = Vec::new();
    for (accept, coding, suffix) in [
        ("gzip, deflate, br, zstd", Some("br"), ".br"),
        ("gzip, deflate", Some("gzip"), ".gz"),
        ("identity", None, ""),
    ] {
        let response = app
            .client
            .get(app.url("/static/vendor/bootstrap.min.css?v=1"))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            coding,
            "{accept}"
        );
        assert_eq!(headers["vary"], "accept-encoding");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        let etag = headers["etag"].to_str().unwrap().to_string();
        // The bytes made by `make assets`, as they are: nothing compressed here.
        assert_eq!(
            response.bytes().await.unwrap().to_vec(),
            file(suffix),
            "{accept}"
        );

        let again = app
            .client
            .get(app.url("/static/vendor/bootstrap.min.css?v=1"))
            .header("Accept-Encoding", accept)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{accept}");
        etags.push(etag);
    }
    etags.dedup();
    assert_eq!(etags.len(), 3, "one ETag per variant");
}
