//! KakaoPay against a local server that follows its contract: the whole
//! payment, refused approvals, cancels, refunds through KakaoPay's cancel,
//! and a crash between KakaoPay's approval and our commit, finished by the
//! reconciliation job.

use std::process::{Command, Stdio};

use reqwest::StatusCode;
use sqlx::PgPool;

use crate::support::{
    TestApp, count,
    kakaopay::{CID, KakaoPayServer, SECRET_KEY},
    payment_id,
};

async fn app_with_kakaopay(db: PgPool) -> (TestApp, KakaoPayServer) {
    let server = KakaoPayServer::start().await;
    let base = server.base.clone();
    let app = TestApp::spawn_with(db, |c| {
        c.kakaopay_secret_key = Some(SECRET_KEY.into());
        c.kakaopay_cid = Some(CID.into());
        c.kakaopay_api_base = base;
    })
    .await;
    app.seed().await;
    (app, server)
}

/// Cart + address + checkout with KakaoPay; returns (order id, tid).
async fn checkout_kakaopay(app: &TestApp, server: &KakaoPayServer) -> (String, String) {
    let curriculum = app.nanodegree_id().await;
    app.post_form("/cart/items", &[("curriculum_id", &curriculum)])
        .await;
    let address = app.add_address().await;
    assert!(
        app.get("/checkout")
            .await
            .body
            .contains(r#"value="kakaopay""#)
    );
    let page = app
        .post_form(
            "/checkout",
            &[
                ("address_id", &address),
                ("gateway", "kakaopay"),
                ("agree_refund", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.header("location").to_string();
    assert!(
        location.starts_with(&format!("{}/pc/T", server.base)),
        "{location}"
    );
    let tid = location.rsplit('/').next().unwrap().to_string();
    assert_eq!(tid.len(), 20);
    let order: String = sqlx::query_scalar("SELECT id::text FROM orders WHERE gateway_ref = $1")
        .bind(&tid)
        .fetch_one(&app.db)
        .await
        .unwrap();
    (order, tid)
}

async fn order_status(db: &PgPool) -> String {
    sqlx::query_scalar("SELECT status FROM orders ORDER BY created_at DESC LIMIT 1")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn paying_with_kakaopay_ready_approve_and_a_repeated_return(db: PgPool) {
    let (app, server) = app_with_kakaopay(db).await;
    app.verified_learner("kakao@example.com").await;
    let checkout = app.get("/checkout").await;
    let csp = checkout.header("content-security-policy");
    assert!(
        csp.contains("form-action 'self' https://online-pay.kakao.com"),
        "{csp}"
    );

    let (order, tid) = checkout_kakaopay(&app, &server).await;
    let ready = server.payment(&tid).unwrap().ready;
    assert_eq!(ready["partner_order_id"], order.as_str());
    assert_eq!(ready["total_amount"], 50_000);
    assert_eq!(ready["tax_free_amount"], 0);
    assert!(
        ready["approval_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/payments/kakaopay/approve", app.base))
    );

    let back = server.pay(&tid);
    let page = app.get(&back).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), format!("/orders/{order}"));
    assert_eq!(order_status(&app.db).await, "paid");
    let (tx, amount, method): (String, i64, String) =
        sqlx::query_as("SELECT gateway_tx_id, amount_won, method FROM payments")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((tx.as_str(), amount), (tid.as_str(), 50_000));
    // The database keeps a code; the order page says it in words.
    assert!(method.starts_with("kakaopay"), "{method}");
    let shown = app.get(&format!("/orders/{order}")).await;
    assert!(
        shown.body.contains("결제 수단 카카오페이"),
        "{}",
        shown.body
    );
    assert_eq!(
        app.get("/")
            .await
            .attr("[data-roadmap-step]", "data-status")
            .as_deref(),
        Some("purchased")
    );

    // The same return URL again (a reload): one payment, one approval at KakaoPay.
    assert_eq!(
        app.get(&back).await.header("location"),
        format!("/orders/{order}")
    );
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(server.approvals(), 1);
    // Every call is logged with its HTTP status.
    let calls: Vec<(String, Option<i32>)> =
        sqlx::query_as("SELECT operation, http_status FROM gateway_calls ORDER BY id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        calls,
        [
            ("ready".to_string(), Some(200)),
            ("approve".to_string(), Some(200))
        ]
    );
    // The reconciliation queued at the return finds nothing left to do.
    sqlx::query("UPDATE jobs SET run_at = now()")
        .execute(&app.db)
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_refused_approval_leaves_the_order_unpaid_with_the_reason(db: PgPool) {
    let (app, server) = app_with_kakaopay(db).await;
    app.verified_learner("refused@example.com").await;
    let (order, tid) = checkout_kakaopay(&app, &server).await;
    server.pay(&tid);
    // A forged pg_token.
    let page = app
        .get(&format!(
            "/payments/kakaopay/approve?order={order}&pg_token=forged"
        ))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), "/cart");
    assert!(
        app.get("/cart")
            .await
            .body
            .contains("카카오페이 결제가 승인되지 않았습니다")
    );
    assert_eq!(order_status(&app.db).await, "failed");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 0);
    let error: String =
        sqlx::query_scalar("SELECT error FROM gateway_calls WHERE operation = 'approve'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(error.contains("-780"), "{error}");
    // Someone else's order cannot be approved from another account.
    let other = app.another_browser();
    other.verified_learner("other@example.com").await;
    assert_eq!(
        other
            .get(&format!(
                "/payments/kakaopay/approve?order={order}&pg_token=x"
            ))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn cancelling_on_kakaopay_keeps_the_cart(db: PgPool) {
    let (app, server) = app_with_kakaopay(db).await;
    app.verified_learner("cancel@example.com").await;
    let (order, _) = checkout_kakaopay(&app, &server).await;
    let page = app
        .get(&format!("/payments/kakaopay/cancel?order={order}"))
        .await;
    assert_eq!(page.header("location"), "/cart");
    assert_eq!(order_status(&app.db).await, "cancelled");
    assert_eq!(count(&app.db, "SELECT count(*) FROM cart_items").await, 1);
    let (order, _) = checkout_kakaopay(&app, &server).await;
    app.get(&format!("/payments/kakaopay/fail?order={order}"))
        .await;
    assert_eq!(order_status(&app.db).await, "failed");
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn refunds_go_through_kakaopay_cancel_and_never_exceed_the_payment(db: PgPool) {
    let (app, server) = app_with_kakaopay(db).await;
    app.verified_learner("refundk@example.com").await;
    let (order, tid) = checkout_kakaopay(&app, &server).await;
    app.get(&server.pay(&tid)).await;
    let payment = payment_id(&app.db).await;
    let admin = app.another_browser();
    admin.login_as_admin().await;
    admin
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("amount", "20000")],
        )
        .await;
    let at_kakao = server.payment(&tid).unwrap();
    assert_eq!(
        (at_kakao.status.as_str(), at_kakao.canceled),
        ("PART_CANCEL_PAYMENT", 20_000)
    );
    admin
        .post_form(
            &format!("/payments/{payment}/refund"),
            &[("amount", "30000")],
        )
        .await;
    let at_kakao = server.payment(&tid).unwrap();
    assert_eq!(
        (at_kakao.status.as_str(), at_kakao.canceled),
        ("CANCEL_PAYMENT", 50_000)
    );
    assert_eq!(order_status(&app.db).await, "refunded");
    let page = admin
        .post_form(&format!("/payments/{payment}/refund"), &[("amount", "1")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(server.payment(&tid).unwrap().canceled, 50_000);
    assert_eq!(
        count(&app.db, "SELECT refunded_won FROM payments").await,
        50_000
    );
    let cancels = count(
        &app.db,
        "SELECT count(*) FROM gateway_calls WHERE operation = 'cancel' AND http_status = 200",
    )
    .await;
    assert_eq!(cancels, 2);
    let _ = order;
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_crash_after_kakaopay_approves_is_finished_by_reconciliation(db: PgPool) {
    let (app, server) = app_with_kakaopay(db.clone()).await;
    // A verified account to buy with.
    {
        let mut conn = db.acquire().await.unwrap();
        weaverse::accounts::create_or_promote_admin(
            &mut conn,
            "crash@example.com",
            crate::support::PASSWORD,
            "관리자",
        )
        .await
        .unwrap();
    }
    // The real binary, told to die right after KakaoPay approves.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let var_dir = std::env::temp_dir().join(format!("weaverse-crash-{}", uuid::Uuid::new_v4()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_weaverse"))
        .arg("serve")
        .env("APP_ENV", "test")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", &public)
        .env("DATABASE_URL", crate::cli::database_url(&db))
        .env("VAR_DIR", &var_dir)
        .env("JOB_WORKERS", "0")
        .env("RUST_LOG", "error")
        .env("KAKAOPAY_SECRET_KEY", SECRET_KEY)
        .env("KAKAOPAY_CID", CID)
        .env("KAKAOPAY_API_BASE", &server.base)
        .env("WEAVERSE_CRASH_AT", "after-gateway-approve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn weaverse");
    let mut browser = app.another_browser();
    browser.base = public.clone();
    for _ in 0..100 {
        if browser
            .client
            .get(browser.url("/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        browser
            .login("crash@example.com", crate::support::PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let (_order, tid) = checkout_kakaopay(&browser, &server).await;
    let back = server.pay(&tid);
    let died = browser.client.get(&back).send().await;
    assert!(died.is_err(), "the process dies mid-request");
    let status = child.wait().expect("exit");
    assert!(!status.success(), "aborted");

    // KakaoPay took the money; we have not recorded it.
    assert_eq!(server.payment(&tid).unwrap().status, "SUCCESS_PAYMENT");
    assert_eq!(order_status(&db).await, "pending");
    assert_eq!(count(&db, "SELECT count(*) FROM payments").await, 0);

    // Another process runs the reconciliation job (brought forward in time).
    sqlx::query("UPDATE jobs SET run_at = now() WHERE kind = 'payments.reconcile'")
        .execute(&db)
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(order_status(&db).await, "paid");
    assert_eq!(count(&db, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM enrolments WHERE ended_at IS NULL"
        )
        .await,
        1
    );
    let inquiry = count(
        &db,
        "SELECT count(*) FROM gateway_calls WHERE operation = 'inquiry' AND http_status = 200",
    )
    .await;
    assert_eq!(inquiry, 1);
    std::fs::remove_dir_all(var_dir).ok();
}

/// The other request of a double click: approves at KakaoPay directly, as our
/// first request would have, before this one's return is handled.
async fn approve_at_kakaopay(server: &KakaoPayServer, tid: &str, return_url: &str) {
    let payment = server.payment(tid).unwrap();
    let pg_token = return_url.rsplit("pg_token=").next().unwrap();
    let reply = reqwest::Client::new()
        .post(format!("{}/online/v1/payment/approve", server.base))
        .header("Authorization", format!("SECRET_KEY {SECRET_KEY}"))
        .json(&serde_json::json!({
            "cid": CID, "tid": tid, "pg_token": pg_token,
            "partner_order_id": payment.ready["partner_order_id"],
            "partner_user_id": payment.ready["partner_user_id"],
        }))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success());
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_refused_duplicate_approve_still_records_the_charge(db: PgPool) {
    let (app, server) = app_with_kakaopay(db).await;
    app.verified_learner("double@example.com").await;
    let (order, tid) = checkout_kakaopay(&app, &server).await;
    let back = server.pay(&tid);
    approve_at_kakaopay(&server, &tid, &back).await;
    // KakaoPay refuses this approve ("already done"): the money was taken,
    // so the order is paid, not failed.
    let path = back
        .split_once("/payments/")
        .map(|(_, p)| format!("/payments/{p}"))
        .unwrap();
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), format!("/orders/{order}"));
    assert_eq!(order_status(&app.db).await, "paid");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
    assert_eq!(count(&app.db, "SELECT count(*) FROM enrolments").await, 1);
}

#[sqlx::test(migrator = "weaverse::infra::db::MIGRATOR")]
async fn a_cancel_return_after_paying_records_the_payment(db: PgPool) {
    let (app, server) = app_with_kakaopay(db).await;
    app.verified_learner("leaver@example.com").await;
    let (order, tid) = checkout_kakaopay(&app, &server).await;
    let back = server.pay(&tid);
    approve_at_kakaopay(&server, &tid, &back).await;
    // The cancel URL alone does not decide: KakaoPay says it was paid.
    let page = app
        .get(&format!("/payments/kakaopay/cancel?order={order}"))
        .await;
    assert_eq!(page.header("location"), format!("/orders/{order}"));
    assert_eq!(order_status(&app.db).await, "paid");
    assert_eq!(count(&app.db, "SELECT count(*) FROM payments").await, 1);
}
