//! Cart, addresses, checkout with the demo gateway, payment integrity,
//! access, orders and receipts.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{TestApp, count, payment_id};

async fn seeded(db: PgPool) -> TestApp {
    let app = TestApp::spawn(db).await;
    app.seed().await;
    app
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_visitor_who_clicks_buy_is_sent_to_log_in(db: PgPool) {
    let app = seeded(db).await;
    let curriculum = app.nanodegree_id().await;
    let page = app
        .post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/login?next=%2Fcart");
    assert_eq!(app.get("/cart").await.status, StatusCode::SEE_OTHER);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn the_cart_takes_each_product_once_at_the_database_price(db: PgPool) {
    let app = seeded(db).await;
    app.signed_up("cart@example.com").await;
    let curriculum = app.nanodegree_id().await;
    // A price in the form is ignored: there is no such field to trust.
    let page = app
        .post_form(
            "/cart/items",
            &[("curriculum_id", &curriculum), ("price_won", "1")],
        )
        .await;
    assert_eq!(page.header("location"), "/cart");
    let again = app
        .post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    assert_eq!(again.header("location"), "/cart");
    let cart = app.get("/cart").await;
    assert!(
        cart.body.contains("이미 장바구니에 담긴 상품입니다"),
        "refused with a message"
    );
    assert_eq!(
        cart.attr("[data-cart-total]", "data-cart-total").as_deref(),
        Some("50000")
    );
    assert_eq!(cart.text("[data-cart-total]").as_deref(), Some("50,000원"));
    assert_eq!(count(&app.db, "SELECT count(*) FROM cart_items").await, 1);

    // A course sold only inside the nano-degree cannot be bought alone.
    let course: String = sqlx::query_scalar("SELECT id::text FROM courses LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    app.post_form("/cart/items", &[("course_id", &course)])
        .await;
    assert!(
        app.get("/cart")
            .await
            .body
            .contains("단독으로 구매할 수 없습니다")
    );
    // Unknown products do not exist.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        app.post_form("/cart/items", &[("curriculum_id", &unknown)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let item = cart.attr("[data-cart-item]", "data-cart-item").unwrap();
    let page = app
        .post_form(&format!("/cart/items/{item}/delete"), &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app.db, "SELECT count(*) FROM cart_items").await, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn billing_addresses_are_validated_encrypted_and_private(db: PgPool) {
    let app = seeded(db).await;
    app.signed_up("addr@example.com").await;
    let page = app
        .post_form(
            "/me/addresses",
            &[("postal_code", "123"), ("main", ""), ("country", "KR")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text(r#"[data-error-for="postal_code"]"#)
            .unwrap()
            .contains("우편번호")
    );
    assert!(page.text(r#"[data-error-for="main"]"#).is_some());

    let first = app.add_address().await;
    let page = app
        .post_form(
            "/me/addresses",
            &[
                ("postal_code", "48058"),
                ("main", "부산광역시 해운대구 센텀중앙로 55"),
                ("detail", ""),
                ("is_default", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let defaults = count(
        &app.db,
        "SELECT count(*) FROM billing_addresses WHERE is_default",
    )
    .await;
    assert_eq!(defaults, 1, "one default at a time");
    let blob: Vec<u8> = sqlx::query_scalar("SELECT address_enc FROM billing_addresses LIMIT 1")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&blob).contains("세종대로"));
    assert!(!String::from_utf8_lossy(&blob).contains("04524"));

    let page = app
        .post_form(
            &format!("/me/addresses/{first}"),
            &[
                ("postal_code", "04525"),
                ("main", "서울특별시 중구 세종대로 111"),
                ("detail", "4층"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(app.get("/me/addresses").await.body.contains("세종대로 111"));

    let stranger = app.another_browser();
    stranger.signed_up("stranger@example.com").await;
    assert_eq!(
        stranger.get(&format!("/me/addresses/{first}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger
            .post_form(&format!("/me/addresses/{first}/delete"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        app.post_form(&format!("/me/addresses/{first}/delete"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(!app.get("/me/addresses").await.body.contains("세종대로 111"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn checkout_needs_a_verified_email_an_address_and_a_gateway(db: PgPool) {
    let app = seeded(db).await;
    app.signed_up("unverified@example.com").await;
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    let address = app.add_address().await;
    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "demo"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body
            .contains("이메일 인증을 마친 뒤 결제할 수 있습니다")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM orders").await, 0);

    let link = app
        .last_mail_to("unverified@example.com")
        .await
        .link("/verify-email/");
    app.get(&link).await;
    let page = app
        .post_form("/checkout", &[("gateway", "demo"), ("agree_refund", "yes")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text(r#"[data-error-for="address_id"]"#).is_some());
    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "bitcoin"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text(r#"[data-error-for="gateway"]"#).is_some());
    assert_eq!(count(&app.db, "SELECT count(*) FROM orders").await, 0);
}

/// The fields of an address typed at checkout.
const NEW_ADDRESS: [(&str, &str); 5] = [
    ("address_id", "new"),
    ("postal_code", "04524"),
    ("main", "서울특별시 중구 세종대로 110"),
    ("detail", "3층 학습실"),
    ("country", "KR"),
];

async fn verified_with_cart(db: PgPool, email: &str) -> TestApp {
    let app = seeded(db).await;
    app.verified_learner(email).await;
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    app
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_first_time_buyer_types_the_address_at_checkout_in_one_submit(db: PgPool) {
    let app = verified_with_cart(db, "first@example.com").await;
    let page = app.get("/checkout").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("저장된 주소가 없습니다"));
    assert_eq!(page.attr("#f-postal_code", "value").as_deref(), Some(""));
    // No address is the default; "new" opens the typed one.
    assert!(page.attr("#addr-none", "checked").is_some());
    assert!(page.attr("#addr-new", "value").is_some());
    assert!(
        page.attr("#f-save_address", "checked").is_some(),
        "saved by default"
    );

    let mut form = NEW_ADDRESS.to_vec();
    form.extend([
        ("save_address", "on"),
        ("gateway", "demo"),
        ("agree_refund", "yes"),
    ]);
    let page = app.post_form("/checkout", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = page
        .header("location")
        .trim_start_matches("/payments/demo/")
        .to_string();
    assert_eq!(
        app.approve_demo(&order, 50_000).await.status,
        StatusCode::SEE_OTHER
    );
    let detail = app.get(&format!("/orders/{order}")).await;
    assert!(
        detail.body.contains("세종대로 110"),
        "the order keeps the address"
    );

    // Saved for next time, as the default.
    let saved = app.get("/me/addresses").await;
    assert!(saved.body.contains("세종대로 110"));
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM billing_addresses WHERE is_default"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM orders WHERE billing_address_id IS NOT NULL"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn an_address_typed_at_checkout_is_kept_only_on_the_order_when_not_saved(db: PgPool) {
    let app = verified_with_cart(db, "nosave@example.com").await;
    let mut form = NEW_ADDRESS.to_vec();
    form.extend([("gateway", "demo"), ("agree_refund", "yes")]);
    let page = app.post_form("/checkout", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = page
        .header("location")
        .trim_start_matches("/payments/demo/")
        .to_string();
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM billing_addresses").await,
        0
    );
    assert!(
        app.get(&format!("/orders/{order}"))
            .await
            .body
            .contains("세종대로 110")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_bad_address_at_checkout_is_answered_beside_its_fields_and_nothing_is_written(
    db: PgPool,
) {
    let app = verified_with_cart(db, "typo@example.com").await;
    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", "new"),
                ("postal_code", "12"),
                ("main", "   "),
                ("detail", "3층"),
                ("country", "KR"),
                ("save_address", "on"),
                ("gateway", "demo"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text(r#"[data-error-for="main"]"#).as_deref(),
        Some("주소를 입력해 주세요.")
    );
    assert!(page.text(r#"[data-error-for="postal_code"]"#).is_some());
    // What was typed stays, and the choices made.
    assert_eq!(page.attr("#f-detail", "value").as_deref(), Some("3층"));
    assert!(page.attr("#f-save_address", "checked").is_some());
    assert!(page.attr("#gw-demo", "checked").is_some());
    assert_eq!(count(&app.db, "SELECT count(*) FROM orders").await, 0);
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM billing_addresses").await,
        0
    );

    // A learner with a saved address may still type a new one.
    let saved = app.add_address().await;
    let page = app.get("/checkout").await;
    assert!(
        page.attr(&format!("#addr-{saved}"), "checked").is_some(),
        "the default is chosen"
    );
    assert!(page.attr("#addr-new", "checked").is_none());
    let mut form = NEW_ADDRESS.to_vec();
    form[2] = ("main", "부산광역시 해운대구 센텀로 1");
    form.extend([("gateway", "demo"), ("agree_refund", "yes")]);
    let page = app.post_form("/checkout", &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = page
        .header("location")
        .trim_start_matches("/payments/demo/")
        .to_string();
    assert!(
        app.get(&format!("/orders/{order}"))
            .await
            .body
            .contains("센텀로 1")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn buying_the_nanodegree_grants_two_years_and_turns_the_roadmap_purchased(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("buyer@example.com").await;
    let before = app.get("/").await;
    assert_eq!(
        before.attr("[data-roadmap-step]", "data-status").as_deref(),
        Some("not-purchased")
    );

    let order = app.order_nanodegree().await;
    let gateway = app.get(&format!("/payments/demo/{order}")).await;
    assert!(gateway.body.contains("테스트 결제"));
    assert!(gateway.attr("form[action*=approve]", "action").is_some());
    let page = app.approve_demo(&order, 50_000).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), format!("/orders/{order}"));

    let home = app.get("/").await;
    let statuses: Vec<String> = home
        .html()
        .select(&scraper::Selector::parse("[data-roadmap-step]").unwrap())
        .map(|e| e.value().attr("data-status").unwrap().to_string())
        .collect();
    assert_eq!(statuses, vec!["purchased"; 7]);

    // 24 calendar months (730 or 731 days, leap day or not).
    let (off_by_secs, ended): (f64, bool) = sqlx::query_as(
        "SELECT abs(extract(epoch FROM expires_at - (now() + interval '24 months')))::float8, ended_at IS NOT NULL FROM enrolments",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(off_by_secs < 120.0, "{off_by_secs}");
    assert!(!ended);
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM cart_items").await,
        0,
        "cart emptied"
    );

    let course: String =
        sqlx::query_scalar("SELECT id::text FROM courses WHERE slug = 'css-responsive'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let course_page = app.get(&format!("/courses/{course}")).await;
    assert_eq!(
        course_page.attr("[data-access]", "data-access").as_deref(),
        Some("active")
    );
    assert!(
        course_page
            .attr("a.continue-learning", "href")
            .unwrap()
            .starts_with("/learn/topics/")
    );
    assert!(
        course_page.attr("form.buy-form", "action").is_none(),
        "no second purchase offered"
    );

    let orders = app.get("/orders").await;
    assert!(
        orders
            .attr("[data-access-until]", "data-access-until")
            .unwrap()
            .ends_with("일"),
        "expiry on /orders"
    );
    let dashboard = app.get("/me/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert_eq!(
        dashboard
            .attr("[data-enrolment]", "data-enrolment")
            .as_deref(),
        Some("active")
    );
    assert_eq!(
        dashboard.attr("[data-access-until]", "data-access-until"),
        orders.attr("[data-access-until]", "data-access-until"),
        "the same expiry on the dashboard"
    );
    assert_eq!(
        orders
            .attr(&format!(r#"[data-order-id="{order}"]"#), "data-status")
            .as_deref(),
        Some("paid")
    );
    let detail = app.get(&format!("/orders/{order}")).await;
    let receipt_url = detail.attr(r#"a[href$="/receipt"]"#, "href").unwrap();
    let receipt = app.get(&receipt_url).await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert_eq!(
        receipt.text("[data-receipt-total]").as_deref(),
        Some("50,000원")
    );
    assert!(
        receipt
            .text("[data-gateway-tx]")
            .unwrap()
            .starts_with("demo-")
    );
    assert!(
        receipt.body.contains("세종대로 110"),
        "billing address on the receipt"
    );
    // People read words, not codes: the country by name, the gateway's
    // transaction id folded away for when someone asks.
    assert!(receipt.body.contains("대한민국"), "country by name");
    assert!(!receipt.body.contains(" KR<"));
    assert!(
        receipt
            .text("details summary")
            .unwrap()
            .contains("거래 번호")
    );
    assert!(receipt.text("dl").unwrap().contains("테스트 결제"));
    assert!(receipt.body.contains("buyer@example.com"));
    let calls = count(
        &app.db,
        "SELECT count(*) FROM gateway_calls WHERE operation = 'approve' AND error IS NULL",
    )
    .await;
    assert_eq!(calls, 1, "the gateway call is recorded");

    // Already owned for two years: buying again is refused.
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    assert!(
        app.get("/cart")
            .await
            .body
            .contains("이미 수강 중인 상품입니다")
    );

    // Other people cannot see the order or its receipt.
    let stranger = app.another_browser();
    stranger.signed_up("nosy@example.com").await;
    assert_eq!(
        stranger.get(&format!("/orders/{order}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger.get(&receipt_url).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger.approve_demo(&order, 50_000).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_tampered_amount_leaves_the_order_unpaid(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("tamper@example.com").await;
    let order = app.order_nanodegree().await;
    let page = app.approve_demo(&order, 1).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let status: String = sqlx::query_scalar("SELECT status FROM orders")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "failed");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 0);
    assert_eq!(count(&app.db, "SELECT count(*) FROM enrolments").await, 0);
    assert!(
        app.get(&format!("/orders/{order}"))
            .await
            .body
            .contains("결제 금액이 주문 금액과 달라")
    );
    // The right amount afterwards does not revive a failed order.
    app.approve_demo(&order, 50_000).await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_double_click_and_concurrent_approvals_pay_once(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("racer@example.com").await;
    let order = app.order_nanodegree().await;
    let token = app.csrf_token().await;
    let mut requests = Vec::new();
    for _ in 0..12 {
        let request = app
            .client
            .post(app.url(&format!("/payments/demo/{order}/approve")))
            .header("Origin", &app.base)
            .form(&[("amount", "50000"), ("csrf_token", token.as_str())]);
        requests.push(request);
    }
    for response in futures_join(requests).await {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()["location"],
            format!("/orders/{order}").as_str()
        );
    }
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(count(&app.db, "SELECT count(*) FROM enrolments").await, 1);
    let (days,): (f64,) = sqlx::query_as(
        "SELECT extract(epoch FROM expires_at - now())::float8 / 86400 FROM enrolments",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(days < 732.0, "granted once, not twelve times: {days}");
    // And once more, a repeated return after the fact.
    assert_eq!(
        app.approve_demo(&order, 50_000).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
}

/// Sends every request at once and waits for all the answers.
async fn futures_join(requests: Vec<reqwest::RequestBuilder>) -> Vec<reqwest::Response> {
    let mut set = tokio::task::JoinSet::new();
    for request in requests {
        set.spawn(request.send());
    }
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        out.push(done.unwrap().unwrap());
    }
    out
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn renewal_extends_from_the_later_of_now_and_the_current_expiry(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("renew@example.com").await;
    app.buy_nanodegree().await;
    sqlx::query("UPDATE enrolments SET expires_at = now() + interval '10 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let second = app.order_nanodegree().await;
    assert_eq!(
        app.approve_demo(&second, 50_000).await.status,
        StatusCode::SEE_OTHER
    );
    // The renewal is a second grant that starts where the first ends.
    let (off_by_secs, grants): (f64, i64) = sqlx::query_as(
        "SELECT abs(extract(epoch FROM max(expires_at) - (now() + interval '10 days' + interval '24 months')))::float8, count(*)
           FROM enrolments",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(grants, 2);
    assert!(
        off_by_secs < 86_400.0 + 120.0,
        "10 days left + 24 months: {off_by_secs}"
    );

    // After expiry the course page offers renewal, and renewal counts from now.
    sqlx::query("UPDATE enrolments SET expires_at = now() - interval '3 days', starts_at = now() - interval '800 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let course: String =
        sqlx::query_scalar("SELECT id::text FROM courses WHERE slug = 'git-collaboration'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let page = app.get(&format!("/courses/{course}")).await;
    assert_eq!(
        page.attr("[data-access]", "data-access").as_deref(),
        Some("lapsed")
    );
    assert!(page.text("form.buy-form button").unwrap().contains("연장"));
    let dashboard = app.get("/me/dashboard").await;
    assert_eq!(
        dashboard
            .attr("[data-enrolment]", "data-enrolment")
            .as_deref(),
        Some("lapsed")
    );
    assert_eq!(
        app.another_browser().get("/me/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    let third = app.order_nanodegree().await;
    app.approve_demo(&third, 50_000).await;
    let (off_by_secs,): (f64,) = sqlx::query_as(
        "SELECT abs(extract(epoch FROM max(expires_at) - (now() + interval '24 months')))::float8 FROM enrolments",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(off_by_secs < 86_400.0 + 120.0, "from now: {off_by_secs}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_failed_test_payment_keeps_the_cart(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("fail@example.com").await;
    let order = app.order_nanodegree().await;
    let page = app
        .post_form(&format!("/payments/demo/{order}/fail"), &[])
        .await;
    assert_eq!(page.header("location"), "/cart");
    let status: String = sqlx::query_scalar("SELECT status FROM orders")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "failed");
    assert_eq!(count(&app.db, "SELECT count(*) FROM cart_items").await, 1);
    assert_eq!(
        app.get("/")
            .await
            .attr("[data-roadmap-step]", "data-status")
            .as_deref(),
        Some("not-purchased")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn without_demo_payments_there_is_no_demo_gateway(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.demo_payments = false).await;
    app.seed().await;
    app.verified_learner("nodemo@example.com").await;
    let order_page = app
        .get(&format!("/payments/demo/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(order_page.status, StatusCode::NOT_FOUND);
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    let address = app.add_address().await;
    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "demo"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
}

// ---------- refunds ----------

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_full_refund_within_seven_days_ends_access_at_once(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("refund@example.com").await;
    let order = app.buy_nanodegree().await;
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr("[data-refund-offer]", "data-refund-offer")
            .as_deref(),
        Some("50000")
    );
    assert!(page.text(".refund-box").unwrap().contains("전액 환불"));
    // Nothing studied yet: the page says so.
    assert_eq!(
        page.attr("[data-content-used]", "data-content-used")
            .as_deref(),
        Some("0")
    );

    let payment = payment_id(&app.db).await;
    let stranger = app.another_browser();
    stranger.signed_up("thief@example.com").await;
    assert_eq!(
        stranger
            .post_form(&format!("/payments/{payment}/refund"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let page = app
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("reason", "일정이 바뀌었어요")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let (status, refunded): (String, i64) = sqlx::query_as(
        "SELECT o.status, p.refunded_won FROM orders o JOIN payments p ON p.order_id = o.id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((status.as_str(), refunded), ("refunded", 50_000));
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM enrolments WHERE ended_at IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        app.get("/")
            .await
            .attr("[data-roadmap-step]", "data-status")
            .as_deref(),
        Some("not-purchased")
    );

    // Again: nothing left to refund.
    app.post_form(&format!("/payments/{payment}/refund"), &[])
        .await;
    assert_eq!(
        count(&app.db, "SELECT refunded_won FROM payments").await,
        50_000
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn later_refunds_are_pro_rata_and_refused_after_half_the_period(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("prorata@example.com").await;
    let order = app.buy_nanodegree().await;
    let payment = payment_id(&app.db).await;

    sqlx::query("UPDATE payments SET approved_at = now() - interval '400 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let page = app.get(&format!("/orders/{order}")).await;
    assert!(
        page.text("[data-refund-refused]")
            .unwrap()
            .contains("절반이 지나")
    );
    app.post_form(&format!("/payments/{payment}/refund"), &[])
        .await;
    assert_eq!(count(&app.db, "SELECT refunded_won FROM payments").await, 0);

    sqlx::query("UPDATE payments SET approved_at = now() - interval '73 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr("[data-refund-offer]", "data-refund-offer")
            .as_deref(),
        Some("45000")
    );
    app.post_form(&format!("/payments/{payment}/refund"), &[])
        .await;
    let (status, refunded): (String, i64) = sqlx::query_as(
        "SELECT o.status, p.refunded_won FROM orders o JOIN payments p ON p.order_id = o.id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((status.as_str(), refunded), ("partially_refunded", 45_000));
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM enrolments WHERE ended_at IS NULL"
        )
        .await,
        0
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admin_refunds_never_exceed_what_was_paid_even_at_once(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("paid@example.com").await;
    let order = app.buy_nanodegree().await;
    let payment = payment_id(&app.db).await;
    let admin = app.another_browser();
    admin.login_as_admin().await;

    let page = admin
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("amount", "20,000"), ("reason", "부분 환불")],
        )
        .await;
    assert_eq!(page.header("location"), format!("/admin/payments/{order}"));
    assert_eq!(
        count(&app.db, "SELECT refunded_won FROM payments").await,
        20_000
    );

    // Five admins press "refund 20,000" at the same moment: only 30,000 is left.
    let token = admin.csrf_token().await;
    let mut requests = Vec::new();
    for _ in 0..5 {
        requests.push(
            admin
                .client
                .post(admin.url(&format!("/payments/{payment}/refund")))
                .header("Origin", &admin.base)
                .form(&[("amount", "20000"), ("csrf_token", token.as_str())]),
        );
    }
    for response in futures_join(requests).await {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(
        count(&app.db, "SELECT refunded_won FROM payments").await,
        40_000
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 2);
    let too_much = admin
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("amount", "10001")],
        )
        .await;
    assert_eq!(too_much.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(&app.db, "SELECT refunded_won FROM payments").await,
        40_000
    );
    admin
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("amount", "10000")],
        )
        .await;
    let status: String = sqlx::query_scalar("SELECT status FROM orders")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(status, "refunded");

    let detail = admin.get(&format!("/admin/payments/{order}")).await;
    assert_eq!(
        detail
            .html()
            .select(&scraper::Selector::parse("[data-refund]").unwrap())
            .count(),
        3
    );
    assert!(detail.body.contains(r#"data-gateway-call="approve""#));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn admins_list_payments_by_state_and_date(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("list@example.com").await;
    app.buy_nanodegree().await;
    let other = app.another_browser();
    other.verified_learner("other@example.com").await;
    let failed = other.order_nanodegree().await;
    other
        .post_form(&format!("/payments/demo/{failed}/fail"), &[])
        .await;

    assert_eq!(
        app.get("/admin/payments").await.status,
        StatusCode::FORBIDDEN
    );
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let total = |p: &crate::support::Page| p.attr("[data-total]", "data-total").unwrap();
    assert_eq!(total(&admin.get("/admin/payments").await), "2");
    let paid = admin.get("/admin/payments?status=paid").await;
    assert_eq!(total(&paid), "1");
    assert_eq!(
        paid.attr("[data-order-id]", "data-status").as_deref(),
        Some("paid")
    );
    assert_eq!(
        total(&admin.get("/admin/payments?status=failed").await),
        "1"
    );
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
        .date();
    let yesterday = today.previous_day().unwrap();
    assert_eq!(
        total(
            &admin
                .get(&format!("/admin/payments?from={today}&to={today}"))
                .await
        ),
        "2"
    );
    assert_eq!(
        total(&admin.get(&format!("/admin/payments?to={yesterday}")).await),
        "0"
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn course_access_follows_purchase_and_refund(db: PgPool) {
    use weaverse::{
        ids::{CourseId, UserId},
        learning::access::{Access, course_access},
    };
    let app = seeded(db).await;
    app.verified_learner("access@example.com").await;
    let ids = || async {
        let (user, course): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
            "SELECT (SELECT id FROM users WHERE email = 'access@example.com'), \
                    (SELECT id FROM courses WHERE slug = 'git-collaboration')",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        (UserId(user), CourseId(course))
    };
    let (user, course) = ids().await;
    let access = || async {
        let mut conn = app.db.acquire().await.unwrap();
        course_access(&mut conn, user, course).await.unwrap()
    };
    assert_eq!(access().await, Access::None);
    app.buy_nanodegree().await;
    assert!(
        matches!(access().await, Access::Active(_)),
        "through the curriculum"
    );
    let payment = payment_id(&app.db).await;
    app.post_form(&format!("/payments/{payment}/refund"), &[])
        .await;
    assert_eq!(access().await, Access::Lapsed);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn buying_twice_and_refunding_one_order_leaves_exactly_the_other(db: PgPool) {
    let app = seeded(db).await;
    for (n, refund_first) in [(1, true), (2, false)] {
        let learner = app.another_browser();
        let email = format!("twice{n}@example.com");
        learner.verified_learner(&email).await;
        let first = learner.order_nanodegree().await;
        learner.approve_demo(&first, 50_000).await;
        // Ten days before the first grant ends, the learner renews: a
        // second order, paid, whose grant starts where the first ends.
        let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(&email)
            .fetch_one(&app.db)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE enrolments SET starts_at = now() - interval '700 days',
                    expires_at = now() + interval '10 days' WHERE order_id = $1::uuid",
        )
        .bind(&first)
        .execute(&app.db)
        .await
        .unwrap();
        weaverse::learning::access::forget(weaverse::ids::UserId(user));
        let second = learner.order_nanodegree().await;
        assert_ne!(first, second);
        let page = learner.approve_demo(&second, 50_000).await;
        assert!(
            page.header("location").starts_with("/orders/"),
            "{}",
            page.header("location")
        );
        let grants = |months: i32, days: i32| {
            let db = app.db.clone();
            let email = email.clone();
            async move {
                let (live, off_by_secs): (i64, f64) = sqlx::query_as(
                    "SELECT count(*) FILTER (WHERE e.ended_at IS NULL),
                            abs(extract(epoch FROM max(e.expires_at) FILTER (WHERE e.ended_at IS NULL)
                                - (now() + make_interval(months => $2, days => $3))))::float8
                       FROM enrolments e JOIN users u ON u.id = e.user_id WHERE u.email = $1",
                )
                .bind(&email)
                .bind(months)
                .bind(days)
                .fetch_one(&db)
                .await
                .unwrap();
                (live, off_by_secs)
            }
        };
        // Paid twice: two grants, one after the other.
        let (live, off_by_secs) = grants(24, 10).await;
        assert_eq!(live, 2);
        assert!(off_by_secs < 2.0 * 86_400.0, "{off_by_secs}");

        let refunded = if refund_first { &first } else { &second };
        let payment: String =
            sqlx::query_scalar("SELECT id::text FROM payments WHERE order_id = $1::uuid")
                .bind(refunded)
                .fetch_one(&app.db)
                .await
                .unwrap();
        let page = learner
            .post_form(&format!("/payments/{payment}/refund"), &[])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        // Exactly the other order's time is left: the renewal's 24 months
        // from now, or the first order's last 10 days.
        let (live, off_by_secs) = if refund_first {
            grants(24, 0).await
        } else {
            grants(0, 10).await
        };
        assert_eq!(live, 1, "refund_first = {refund_first}");
        assert!(off_by_secs < 2.0 * 86_400.0, "{off_by_secs}");
        assert_eq!(
            learner
                .get("/")
                .await
                .attr("[data-roadmap-step]", "data-status")
                .as_deref(),
            Some("purchased")
        );
    }
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn orders_carry_a_short_number_people_can_read(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("number@example.com").await;
    let order = app.buy_nanodegree().await;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
        .date();
    let prefix = format!(
        "{:04}{:02}{:02}-",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let number = app
        .get("/orders")
        .await
        .text("[data-order-number]")
        .unwrap();
    assert!(number.starts_with(&prefix), "{number}");
    assert_eq!(number.len(), prefix.len() + 6, "{number}");
    assert!(number[prefix.len()..].chars().all(|c| c.is_ascii_digit()));
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.text("[data-order-number]").as_deref(),
        Some(number.as_str())
    );
    assert!(
        !page.text("p.text-secondary").unwrap().contains(&order),
        "the UUID stays out of sight"
    );
    let payment = payment_id(&app.db).await;
    let receipt = app.get(&format!("/payments/{payment}/receipt")).await;
    assert_eq!(
        receipt.text("[data-order-number]").as_deref(),
        Some(number.as_str())
    );
    // The next order gets the next number.
    let next: String = sqlx::query_scalar("INSERT INTO orders (user_id, gateway, total_won) SELECT user_id, 'demo', 1 FROM orders LIMIT 1 RETURNING number")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let n = |s: &str| s[prefix.len()..].parse::<u64>().unwrap();
    assert_eq!(n(&next), n(&number) + 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_refund_shows_what_it_returns_and_waits_for_a_confirmation(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("confirm@example.com").await;
    let order = app.buy_nanodegree().await;
    let payment = payment_id(&app.db).await;
    // The order page leads to the confirmation; nothing happens on the way.
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr(".refund-box a", "href").as_deref(),
        Some(format!("/payments/{payment}/refund").as_str())
    );
    let confirm = app.get(&format!("/payments/{payment}/refund")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert_eq!(
        confirm
            .attr("[data-refund-amount]", "data-refund-amount")
            .as_deref(),
        Some("50000")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 0);
    // The confirmation's own form does it, once.
    let key = confirm.attr(r#"input[name="form_key"]"#, "value").unwrap();
    let fields = [
        ("form_key", key.as_str()),
        ("reason", "마음이 바뀌었습니다"),
    ];
    let done = app
        .post_form(&format!("/payments/{payment}/refund"), &fields)
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    app.post_form(&format!("/payments/{payment}/refund"), &fields)
        .await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM refunds").await, 1);

    // An admin names an amount, sees it, then confirms it.
    let learner = app.another_browser();
    learner.verified_learner("confirm2@example.com").await;
    learner.buy_nanodegree().await;
    let second: String = sqlx::query_scalar(
        "SELECT p.id::text FROM payments p JOIN orders o ON o.id = p.order_id
           JOIN users u ON u.id = o.user_id WHERE u.email = 'confirm2@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let admin = app.another_browser();
    admin.login_as_admin().await;
    let confirm = admin
        .get(&format!("/payments/{second}/refund?amount=1%2C000"))
        .await;
    assert_eq!(
        confirm
            .attr("[data-refund-amount]", "data-refund-amount")
            .as_deref(),
        Some("1000")
    );
    let too_much = admin
        .get(&format!("/payments/{second}/refund?amount=60000"))
        .await;
    assert_eq!(too_much.status, StatusCode::SEE_OTHER);
    let key = confirm.attr(r#"input[name="form_key"]"#, "value").unwrap();
    admin
        .post_form(
            &format!("/payments/{second}/refund"),
            &[("form_key", &key), ("amount", "1000")],
        )
        .await;
    assert_eq!(
        count(
            &app.db,
            "SELECT count(*) FROM refunds WHERE amount_won = 1000"
        )
        .await,
        1
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_product_chosen_before_signing_in_is_in_the_cart_after_login_or_sign_up(db: PgPool) {
    let app = seeded(db).await;
    app.signed_up("returning@example.com").await;
    app.logout().await;
    let buy = app.get("/").await.attr("a.buy-form", "href").unwrap();

    // Logging in.
    let visitor = app.another_browser();
    let page = visitor.get(&buy).await;
    assert_eq!(page.header("location"), "/signup?next=%2Fcart");
    // Sign-up's "already have an account?" link leads to a login that
    // sends the visitor on to the cart.
    let signup = visitor.get("/signup?next=%2Fcart").await;
    let login_link = signup.attr("main a[href^='/login']", "href").unwrap();
    let login = visitor.get(&login_link).await;
    let next = login.attr(r#"input[name="next"]"#, "value").unwrap();
    let page = visitor
        .post_form(
            "/login",
            &[
                ("email", "returning@example.com"),
                ("password", crate::support::PASSWORD),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(page.header("location"), "/cart");
    // The cart asks about the wish (a GET adds nothing), once.
    let page = visitor.get("/cart").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.attr("[data-want]", "data-want").is_some());
    assert!(
        page.text("[data-want-title]")
            .unwrap()
            .contains("나노 디그리")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM cart_items").await, 0);
    let curriculum = page
        .attr(r#"input[name="curriculum_id"]"#, "value")
        .unwrap();
    let added = visitor
        .post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    assert_eq!(added.header("location"), "/cart");
    let cart = visitor.get("/cart").await;
    assert_eq!(cart.text("[data-cart-total]").as_deref(), Some("50,000원"));
    assert!(cart.attr("[data-want]", "data-want").is_none());

    // Signed in, a link to /cart/want (from another site, say) only asks.
    let signed_in = app.another_browser();
    signed_in.verified_learner("linked@example.com").await;
    let page = signed_in.get(&buy).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.attr("[data-want]", "data-want").is_some());
    assert_eq!(
        count(&app.db, "SELECT count(*) FROM cart_items ci JOIN users u ON u.id = ci.user_id WHERE u.email = 'linked@example.com'").await,
        0
    );

    // Signing up: the mailed link, opened in the same browser, leads to the cart.
    let newcomer = app.another_browser();
    newcomer.get(&buy).await;
    newcomer
        .signup("newcomer@example.com", "새손님", crate::support::PASSWORD)
        .await;
    let link = newcomer
        .last_mail_to("newcomer@example.com")
        .await
        .link("/verify-email/");
    let page = newcomer.get(&link).await;
    assert_eq!(page.header("location"), "/cart");
    let page = newcomer.get("/cart").await;
    assert!(page.attr("[data-want]", "data-want").is_some());
    newcomer
        .post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    let cart = newcomer.get("/cart").await;
    assert_eq!(cart.text("[data-cart-total]").as_deref(), Some("50,000원"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn addresses_take_a_country_from_the_list_and_show_its_name(db: PgPool) {
    let app = seeded(db).await;
    app.verified_learner("country@example.com").await;
    let page = app.get("/me/addresses").await;
    assert_eq!(
        page.attr("#f-country option[selected]", "value").as_deref(),
        Some("KR"),
        "대한민국 is chosen to begin with"
    );
    assert_eq!(
        page.text("#f-country option[value=JP]").as_deref(),
        Some("일본")
    );
    let fields = |country: &'static str| {
        vec![
            ("country", country),
            ("postal_code", "04524"),
            ("main", "서울특별시 중구 세종대로 110"),
            ("detail", ""),
        ]
    };
    let page = app.post_form("/me/addresses", &fields("XX")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text("[data-error-for=country]").as_deref(),
        Some("목록에서 국가를 골라 주세요.")
    );
    let page = app.post_form("/me/addresses", &fields("")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let list = app.get("/me/addresses").await;
    assert!(list.text(".addresses-page").unwrap().contains("대한민국"));
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn checkout_needs_no_address_but_the_refund_policy_agreed_and_starts_at_the_first_unfinished_topic(
    db: PgPool,
) {
    let app = verified_with_cart(db, "agree@example.com").await;
    let page = app.get("/checkout").await;
    assert!(
        page.attr("#addr-none", "checked").is_some(),
        "no address by default"
    );
    assert!(
        page.text("[data-refund-policy]")
            .unwrap()
            .contains("7일 안에")
    );

    let page = app
        .post_form("/checkout", &[("address_id", "none"), ("gateway", "demo")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        page.text(r#"[data-error-for="agree_refund"]"#).as_deref(),
        Some("환불 규정과 청약 철회 안내에 동의해야 결제할 수 있습니다.")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM orders").await, 0);

    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", "none"),
                ("gateway", "demo"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let order = page
        .header("location")
        .trim_start_matches("/payments/demo/")
        .to_string();
    let (kind, version, for_order, snapshot): (String, String, uuid::Uuid, Option<Vec<u8>>) =
        sqlx::query_as(
            "SELECT c.kind, c.version, c.order_id, o.billing_snapshot_enc
               FROM consents c JOIN orders o ON o.id = c.order_id WHERE c.kind = 'refund_policy'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(kind, "refund_policy");
    assert_eq!(
        version,
        weaverse::accounts::consent::ConsentKind::RefundPolicy.current_version()
    );
    assert_eq!(for_order.to_string(), order);
    assert!(snapshot.is_none(), "no address on the order");

    // Paid: "학습 시작하기" opens the first topic not yet finished.
    assert_eq!(
        app.approve_demo(&order, 50_000).await.status,
        StatusCode::SEE_OTHER
    );
    let topics: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT t.id FROM curriculum_courses cc
           JOIN lectures l ON l.course_id = cc.course_id AND l.published_at IS NOT NULL AND l.deleted_at IS NULL
           JOIN topics t ON t.lecture_id = l.id AND t.published_at IS NOT NULL AND t.deleted_at IS NULL
          ORDER BY cc.position, l.position, t.position LIMIT 2",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr("[data-start]", "href"),
        Some(format!("/learn/topics/{}", topics[0]))
    );
    assert!(
        page.attr(".refund-box a", "class")
            .is_some_and(|c| !c.contains("btn"))
    );
    sqlx::query(
        "INSERT INTO topic_progress (user_id, topic_id, completed_at)
         SELECT id, $1, now() FROM users WHERE email = 'agree@example.com'",
    )
    .bind(topics[0])
    .execute(&app.db)
    .await
    .unwrap();
    let page = app.get(&format!("/orders/{order}")).await;
    assert_eq!(
        page.attr("[data-start]", "href"),
        Some(format!("/learn/topics/{}", topics[1]))
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_visitor_who_chooses_to_buy_is_sent_to_sign_up(db: PgPool) {
    let app = seeded(db).await;
    let curriculum = app.nanodegree_id().await;
    let page = app
        .get(&format!("/cart/want?curriculum_id={curriculum}"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/signup?next=%2Fcart");
    let signup = app.get("/signup?next=%2Fcart").await;
    let login = signup.attr("main a[href^='/login']", "href").unwrap();
    assert!(login.ends_with("cart"), "{login}");
    // The home page's first screen carries the one call to action.
    let home = app.get("/").await;
    assert!(home.attr(".hero a.buy-form", "href").is_some());
}
