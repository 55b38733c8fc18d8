//! Toss Payments against a local server that follows its contract: the
//! window's return, confirm with an Idempotency-Key, a tampered URL amount,
//! refused confirms, cancels for refunds, and reconciliation by order id.

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{
    TestApp, count, payment_id,
    toss::{CLIENT_KEY, SECRET_KEY, TossServer},
};

async fn app_with_toss(db: PgPool) -> (TestApp, TossServer) {
    let server = TossServer::start().await;
    let base = server.base.clone();
    let app = TestApp::spawn_with(db, |c| {
        c.toss_secret_key = Some(SECRET_KEY.into());
        c.toss_client_key = Some(CLIENT_KEY.into());
        c.toss_api_base = base;
    })
    .await;
    app.seed().await;
    (app, server)
}

async fn checkout_toss(app: &TestApp) -> String {
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    let address = app.add_address().await;
    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "toss"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.header("location").to_string();
    assert!(location.starts_with("/payments/toss/"), "{location}");
    location.trim_start_matches("/payments/toss/").to_string()
}

async fn status(db: &PgPool) -> String {
    sqlx::query_scalar("SELECT status FROM orders ORDER BY created_at DESC LIMIT 1")
        .fetch_one(db)
        .await
        .unwrap()
}

fn success(order: &str, key: &str, amount: i64) -> String {
    format!("/payments/toss/success?paymentKey={key}&orderId={order}&amount={amount}")
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn paying_with_toss_confirms_once(db: PgPool) {
    let (app, server) = app_with_toss(db).await;
    app.verified_learner("toss@example.com").await;
    let order = checkout_toss(&app).await;
    let window = app.get(&format!("/payments/toss/{order}")).await;
    assert_eq!(window.status, StatusCode::OK);
    assert_eq!(
        window.attr("#toss-checkout", "data-client-key").as_deref(),
        Some(CLIENT_KEY)
    );
    assert_eq!(
        window.attr("#toss-checkout", "data-amount").as_deref(),
        Some("50000")
    );
    assert!(
        window
            .attr(
                r#"script[src="https://js.tosspayments.com/v2/standard"]"#,
                "src"
            )
            .is_some()
    );
    let csp = window.header("content-security-policy");
    assert!(
        csp.contains("script-src 'self' https://js.tosspayments.com"),
        "{csp}"
    );

    let key = server.pay(&order, 50_000);
    let page = app.get(&success(&order, &key, 50_000)).await;
    assert_eq!(page.header("location"), format!("/orders/{order}"));
    assert_eq!(status(&app.db).await, "paid");
    let tx: String = sqlx::query_scalar("SELECT gateway_tx_id FROM payments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tx, key);
    // A reload of the success URL: still one payment, one confirm.
    app.get(&success(&order, &key, 50_000)).await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(server.confirms(), 1);
    assert_eq!(
        app.get("/")
            .await
            .attr("[data-roadmap-step]", "data-status")
            .as_deref(),
        Some("purchased")
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_tampered_amount_in_the_return_url_is_never_confirmed(db: PgPool) {
    let (app, server) = app_with_toss(db).await;
    app.verified_learner("cheat@example.com").await;
    let order = checkout_toss(&app).await;
    let key = server.pay(&order, 100);
    let page = app.get(&success(&order, &key, 100)).await;
    assert_eq!(page.header("location"), "/cart");
    assert!(
        app.get("/cart")
            .await
            .body
            .contains("결제 금액이 주문 금액과 달라")
    );
    assert_eq!(status(&app.db).await, "failed");
    assert_eq!(server.confirms(), 0, "Toss was not asked to confirm");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 0);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_refused_confirm_leaves_the_order_unpaid(db: PgPool) {
    let (app, _server) = app_with_toss(db).await;
    app.verified_learner("nokey@example.com").await;
    let order = checkout_toss(&app).await;
    let page = app.get(&success(&order, "tgen_unknown", 50_000)).await;
    assert_eq!(page.header("location"), "/cart");
    assert_eq!(status(&app.db).await, "failed");
    let error: String =
        sqlx::query_scalar("SELECT error FROM gateway_calls WHERE operation = 'confirm'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(error.contains("NOT_FOUND_PAYMENT"), "{error}");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn leaving_the_toss_window_cancels_the_order(db: PgPool) {
    let (app, _server) = app_with_toss(db).await;
    app.verified_learner("leave@example.com").await;
    let order = checkout_toss(&app).await;
    let page = app
        .get(&format!("/payments/toss/fail?code=PAY_PROCESS_CANCELED&message=%EC%B7%A8%EC%86%8C&orderId={order}"))
        .await;
    assert_eq!(page.header("location"), "/cart");
    assert_eq!(status(&app.db).await, "cancelled");
    assert_eq!(count(&app.db, "SELECT count(*) FROM cart_items").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_toss_fail_return_after_paying_records_the_payment(db: PgPool) {
    let (app, server) = app_with_toss(db).await;
    app.verified_learner("failpaid@example.com").await;
    let order = checkout_toss(&app).await;
    let key = server.pay(&order, 50_000);
    // Toss took the money, yet the browser lands on the fail URL (a forged
    // or replayed link, a window closed at the wrong moment).
    server.mark_done(&key);
    let page = app
        .get(&format!(
            "/payments/toss/fail?code=PAY_PROCESS_CANCELED&message=x&orderId={order}"
        ))
        .await;
    assert_eq!(page.header("location"), format!("/orders/{order}"));
    assert_eq!(status(&app.db).await, "paid");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
    // The same link again changes nothing.
    app.get(&format!(
        "/payments/toss/fail?code=PAY_PROCESS_CANCELED&message=x&orderId={order}"
    ))
    .await;
    assert_eq!(status(&app.db).await, "paid");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn refunds_cancel_at_toss_with_an_idempotency_key(db: PgPool) {
    let (app, server) = app_with_toss(db).await;
    app.verified_learner("tossrefund@example.com").await;
    let order = checkout_toss(&app).await;
    let key = server.pay(&order, 50_000);
    app.get(&success(&order, &key, 50_000)).await;
    let payment = payment_id(&app.db).await;
    // The learner, within seven days: the full amount.
    app.post_form(&format!("/payments/{payment}/refund"), &[])
        .await;
    let at_toss = server.payment(&key);
    assert_eq!((at_toss.status.as_str(), at_toss.balance), ("CANCELED", 0));
    assert_eq!(status(&app.db).await, "refunded");
    let cancels = count(
        &app.db,
        "SELECT count(*) FROM gateway_calls WHERE operation = 'cancel' AND http_status = 200",
    )
    .await;
    assert_eq!(cancels, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn reconciliation_finds_a_payment_confirmed_at_toss(db: PgPool) {
    let (app, server) = app_with_toss(db).await;
    app.verified_learner("recon@example.com").await;
    let order = checkout_toss(&app).await;
    let key = server.pay(&order, 50_000);
    // Confirmed at Toss, but our process never recorded it.
    server.mark_done(&key);
    {
        let mut conn = app.db.acquire().await.unwrap();
        weaverse::jobs::enqueue(
            &mut conn,
            weaverse::commerce::RECONCILE_JOB,
            serde_json::json!({ "order": order }),
            weaverse::jobs::EnqueueOptions::default(),
        )
        .await
        .unwrap();
    }
    app.run_jobs().await;
    assert_eq!(status(&app.db).await, "paid");
    let tx: String = sqlx::query_scalar("SELECT gateway_tx_id FROM payments")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tx, key);
    assert_eq!(count(&app.db, "SELECT count(*) FROM enrolments").await, 1);
}
