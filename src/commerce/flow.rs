//! The gateway flows around an order: send the learner to KakaoPay or Toss,
//! approve when they come back, and reconcile when a process died between
//! the gateway's approval and our commit.

use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    commerce::{
        gateway::{
            Called, GatewayCall, Gateways,
            kakaopay::{KakaoPay, ReadyRequest},
            toss::Toss,
        },
        repo,
        service::{self, Approval},
    },
    config::Config,
    error::{AppError, AppResult},
    jobs::{self, EnqueueOptions},
};

/// The job that settles a pending gateway order by asking the gateway.
pub const RECONCILE_JOB: &str = "payments.reconcile";

/// How long after a learner returns the reconciliation runs (a normal
/// approval finishes well before; then the job finds nothing to do).
const RECONCILE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Orders still waiting at the gateway after this long are abandoned.
const ABANDONED_AFTER_MINUTES: i64 = 60;

fn toss(gateways: &Gateways) -> AppResult<&Toss> {
    gateways.toss.as_ref().ok_or(AppError::NotFound)
}

fn kakaopay(gateways: &Gateways) -> AppResult<&KakaoPay> {
    gateways.kakaopay.as_ref().ok_or(AppError::NotFound)
}

async fn log<T>(db: &PgPool, order: Uuid, called: &Called<T>) -> AppResult<()> {
    let mut call = called.log.clone();
    call.order = Some(order);
    let mut conn = db.acquire().await?;
    repo::record_gateway_call(&mut conn, &call).await?;
    Ok(())
}

fn base(config: &Config) -> String {
    config.public_url.as_str().trim_end_matches('/').to_string()
}

/// Asks KakaoPay to prepare the payment; returns the page to send the learner to.
pub async fn start_kakaopay(
    db: &PgPool,
    gateways: &Gateways,
    config: &Config,
    order: Uuid,
) -> AppResult<String> {
    let client = kakaopay(gateways)?;
    let (row, items) = {
        let mut conn = db.acquire().await?;
        let row = repo::order(&mut conn, order)
            .await?
            .ok_or(AppError::NotFound)?;
        (row, repo::order_items(&mut conn, order).await?)
    };
    let item_name = match items.as_slice() {
        [one] => one.title.clone(),
        [first, rest @ ..] => format!("{} 외 {}건", first.title, rest.len()),
        [] => "Weaverse".into(),
    };
    let base = base(config);
    let (order_id, user_id) = (order.to_string(), row.user_id.to_string());
    let approval_url = format!("{base}/payments/kakaopay/approve?order={order}");
    let cancel_url = format!("{base}/payments/kakaopay/cancel?order={order}");
    let fail_url = format!("{base}/payments/kakaopay/fail?order={order}");
    let called = client
        .ready(&ReadyRequest {
            partner_order_id: &order_id,
            partner_user_id: &user_id,
            item_name: &item_name,
            total_amount: row.total_won,
            approval_url: &approval_url,
            cancel_url: &cancel_url,
            fail_url: &fail_url,
        })
        .await;
    log(db, order, &called).await?;
    let mut conn = db.acquire().await?;
    match called.result {
        Ok(ready) => {
            repo::set_gateway_ref(&mut conn, order, &ready.tid).await?;
            Ok(ready.next_redirect_pc_url)
        }
        Err(err) => {
            repo::set_order_status(&mut conn, order, "failed", Some(&err.to_string())).await?;
            Err(AppError::Conflict(
                "카카오페이 결제를 시작하지 못했습니다. 잠시 후 다시 시도해 주세요.".into(),
            ))
        }
    }
}

/// The learner came back from KakaoPay with `pg_token`: approve and record.
/// A repeated return is harmless: the order is paid once.
pub async fn kakaopay_return(
    db: &PgPool,
    gateways: &Gateways,
    order: Uuid,
    pg_token: &str,
) -> AppResult<Uuid> {
    let client = kakaopay(gateways)?;
    let Some(row) = pending_order(db, order).await? else {
        return Ok(order);
    };
    let tid = row
        .gateway_ref
        .clone()
        .ok_or_else(|| AppError::Conflict("결제 준비 정보가 없습니다.".into()))?;
    schedule_reconciliation(db, order).await?;
    let called = client
        .approve(&tid, &order.to_string(), &row.user_id.to_string(), pg_token)
        .await;
    log(db, order, &called).await?;
    crash_point("after-gateway-approve");
    let approved = match called.result {
        Ok(approved) => approved,
        Err(err) => {
            let mut tx = db.begin().await?;
            service::fail_order(&mut tx, order, &err.to_string()).await?;
            tx.commit().await?;
            return Err(AppError::Conflict(format!(
                "카카오페이 결제가 승인되지 않았습니다: {}",
                err.message
            )));
        }
    };
    let mut tx = db.begin().await?;
    let result = service::complete_payment(
        &mut tx,
        order,
        Approval {
            gateway: "kakaopay",
            tx_id: &approved.tid,
            method: &method_label(&approved.payment_method_type),
            amount_won: approved.amount.total,
            approved_at: approved.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
        },
    )
    .await;
    tx.commit().await?;
    result.map(|_| order)
}

/// If this process dies after the gateway approves but before we commit,
/// this job finds the payment at the gateway and finishes the order.
async fn schedule_reconciliation(db: &PgPool, order: Uuid) -> AppResult<()> {
    let mut conn = db.acquire().await?;
    jobs::enqueue(
        &mut conn,
        RECONCILE_JOB,
        json!({ "order": order }),
        EnqueueOptions {
            delay: Some(RECONCILE_AFTER),
            dedupe_key: Some(format!("reconcile:{order}")),
            max_attempts: Some(12),
        },
    )
    .await?;
    Ok(())
}

/// An order of the gateway that is still to be paid; `Ok(None)` when it is
/// already paid (a repeated return).
async fn pending_order(db: &PgPool, order: Uuid) -> AppResult<Option<repo::OrderRow>> {
    let mut conn = db.acquire().await?;
    let row = repo::order(&mut conn, order)
        .await?
        .ok_or(AppError::NotFound)?;
    match row.status.as_str() {
        "pending" => Ok(Some(row)),
        "paid" | "partially_refunded" | "refunded" => Ok(None),
        _ => Err(AppError::Conflict(
            "이미 끝난 주문입니다. 다시 결제해 주세요.".into(),
        )),
    }
}

/// The learner came back from Toss's window. The amount in the URL is only
/// compared with our order; a different one leaves the order unpaid and
/// Toss is never asked to confirm it.
pub async fn toss_success(
    db: &PgPool,
    gateways: &Gateways,
    order: Uuid,
    payment_key: &str,
    url_amount: i64,
) -> AppResult<Uuid> {
    let client = toss(gateways)?;
    let Some(row) = pending_order(db, order).await? else {
        return Ok(order);
    };
    if row.gateway != "toss" {
        return Err(AppError::Conflict("주문한 결제 수단과 다릅니다.".into()));
    }
    if url_amount != row.total_won {
        let mut tx = db.begin().await?;
        service::fail_order(
            &mut tx,
            order,
            &format!("return URL amount {url_amount} differs from the order total"),
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::Conflict(
            "결제 금액이 주문 금액과 달라 결제를 완료하지 않았습니다.".into(),
        ));
    }
    {
        let mut conn = db.acquire().await?;
        repo::set_gateway_ref(&mut conn, order, payment_key).await?;
    }
    schedule_reconciliation(db, order).await?;
    let called = client
        .confirm(payment_key, &order.to_string(), row.total_won)
        .await;
    log(db, order, &called).await?;
    crash_point("after-gateway-approve");
    let payment = match called.result {
        Ok(payment) if payment.status == "DONE" => payment,
        Ok(payment) => {
            return Err(AppError::Conflict(format!(
                "토스페이먼츠 결제가 완료되지 않았습니다 ({}).",
                payment.status
            )));
        }
        Err(err) => {
            let mut tx = db.begin().await?;
            service::fail_order(&mut tx, order, &err.to_string()).await?;
            tx.commit().await?;
            return Err(AppError::Conflict(format!(
                "토스페이먼츠 결제가 승인되지 않았습니다: {}",
                err.message
            )));
        }
    };
    let mut tx = db.begin().await?;
    let result = service::complete_payment(
        &mut tx,
        order,
        Approval {
            gateway: "toss",
            tx_id: &payment.payment_key,
            method: &format!(
                "토스페이먼츠 ({})",
                payment.method.as_deref().unwrap_or("결제")
            ),
            amount_won: payment.total_amount,
            approved_at: payment.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
        },
    )
    .await;
    tx.commit().await?;
    result.map(|_| order)
}

fn method_label(kind: &str) -> String {
    match kind {
        "CARD" => "카카오페이 (카드)".into(),
        "MONEY" => "카카오페이 (머니)".into(),
        _ => "카카오페이".into(),
    }
}

/// Test hook: with `WEAVERSE_CRASH_AT={name}` outside production the process
/// dies here, as a power cut would (the kill-at-the-worst-moment test).
fn crash_point(name: &str) {
    if std::env::var("APP_ENV").as_deref() != Ok("production")
        && std::env::var("WEAVERSE_CRASH_AT").as_deref() == Ok(name)
    {
        tracing::error!(point = name, "crash point reached: aborting");
        std::process::abort();
    }
}

/// The learner cancelled in the gateway's window, or it failed there.
pub async fn abandoned(db: &PgPool, order: Uuid, reason: &str, status: &str) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let row = repo::lock_order(&mut tx, order)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.status == "pending" {
        repo::set_order_status(&mut tx, order, status, Some(reason)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Settles a pending order from the gateway's own record. Idempotent.
pub async fn reconcile(db: &PgPool, gateways: &Gateways, order: Uuid) -> anyhow::Result<()> {
    let row = {
        let mut conn = db.acquire().await?;
        let Some(row) = repo::order(&mut conn, order).await? else {
            return Ok(());
        };
        row
    };
    let tid = row.gateway_ref.clone();
    if row.status != "pending" {
        return Ok(());
    }
    if row.gateway == "toss" {
        return reconcile_toss(db, gateways, &row).await;
    }
    let (Some(client), Some(tid), "kakaopay") =
        (gateways.kakaopay.as_ref(), tid, row.gateway.as_str())
    else {
        return Ok(());
    };
    let called = client.order(&tid).await;
    log(db, order, &called)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let status = called.result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db.begin().await?;
    match status.status.as_str() {
        "SUCCESS_PAYMENT" | "PART_CANCEL_PAYMENT" => {
            let amount = status.amount.map(|a| a.total).unwrap_or(0);
            let done = service::complete_payment(
                &mut tx,
                order,
                Approval {
                    gateway: "kakaopay",
                    tx_id: &status.tid,
                    method: &method_label(status.payment_method_type.as_deref().unwrap_or("")),
                    amount_won: amount,
                    approved_at: status.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
                },
            )
            .await;
            tx.commit().await?;
            done.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(%order, "reconciled a payment approved at KakaoPay");
        }
        "CANCEL_PAYMENT" | "FAIL_PAYMENT" | "FAIL_AUTH_PASSWORD" | "QUIT_PAYMENT" => {
            service::fail_order(
                &mut tx,
                order,
                &format!("kakaopay status {}", status.status),
            )
            .await?;
            tx.commit().await?;
        }
        _ if (OffsetDateTime::now_utc() - row.created_at).whole_minutes()
            > ABANDONED_AFTER_MINUTES =>
        {
            service::fail_order(&mut tx, order, "abandoned at the gateway").await?;
            tx.commit().await?;
        }
        // Still in progress at KakaoPay: try again later.
        other => anyhow::bail!("kakaopay order {order} still {other}"),
    }
    Ok(())
}

async fn reconcile_toss(
    db: &PgPool,
    gateways: &Gateways,
    row: &repo::OrderRow,
) -> anyhow::Result<()> {
    let Some(client) = gateways.toss.as_ref() else {
        return Ok(());
    };
    let order = row.id;
    let called = client.by_order(&order.to_string()).await;
    log(db, order, &called)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let abandoned =
        (OffsetDateTime::now_utc() - row.created_at).whole_minutes() > ABANDONED_AFTER_MINUTES;
    let mut tx = db.begin().await?;
    match called.result {
        Ok(payment) if payment.status == "DONE" || payment.status == "PARTIAL_CANCELED" => {
            let done = service::complete_payment(
                &mut tx,
                order,
                Approval {
                    gateway: "toss",
                    tx_id: &payment.payment_key,
                    method: &format!(
                        "토스페이먼츠 ({})",
                        payment.method.as_deref().unwrap_or("결제")
                    ),
                    amount_won: payment.total_amount,
                    approved_at: payment.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
                },
            )
            .await;
            tx.commit().await?;
            done.map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(%order, "reconciled a payment confirmed at Toss");
        }
        Ok(payment) if matches!(payment.status.as_str(), "CANCELED" | "ABORTED" | "EXPIRED") => {
            service::fail_order(&mut tx, order, &format!("toss status {}", payment.status)).await?;
            tx.commit().await?;
        }
        _ if abandoned => {
            service::fail_order(&mut tx, order, "abandoned at the gateway").await?;
            tx.commit().await?;
        }
        Ok(payment) => anyhow::bail!("toss order {order} still {}", payment.status),
        Err(err) => anyhow::bail!("toss inquiry for {order}: {err}"),
    }
    Ok(())
}

/// Cancels (refunds) `amount` of a gateway payment.
pub async fn cancel_at_gateway(
    conn: &mut sqlx::PgConnection,
    gateways: &Gateways,
    order: Uuid,
    gateway: &str,
    gateway_tx_id: &str,
    amount: i64,
    idempotency_key: &str,
) -> AppResult<()> {
    match gateway {
        "toss" => {
            let client = toss(gateways)?;
            let called = client
                .cancel(gateway_tx_id, amount, "환불", idempotency_key)
                .await;
            let mut call = called.log;
            call.order = Some(order);
            repo::record_gateway_call(conn, &call).await?;
            called.result.map(|_| ()).map_err(|e| {
                AppError::Conflict(format!(
                    "토스페이먼츠에서 환불을 처리하지 못했습니다: {}",
                    e.message
                ))
            })
        }
        "kakaopay" => {
            let client = kakaopay(gateways)?;
            let called = client.cancel(gateway_tx_id, amount).await;
            let mut call = called.log;
            call.order = Some(order);
            repo::record_gateway_call(conn, &call).await?;
            called.result.map(|_| ()).map_err(|e| {
                AppError::Conflict(format!(
                    "카카오페이에서 환불을 처리하지 못했습니다: {}",
                    e.message
                ))
            })
        }
        _ => {
            repo::record_gateway_call(
                conn,
                &GatewayCall {
                    order: Some(order),
                    gateway: "demo",
                    operation: "cancel",
                    request: json!({ "amount": amount }),
                    response: Some(json!({ "status": "CANCELLED" })),
                    http_status: None,
                    duration_ms: 0,
                    error: None,
                },
            )
            .await?;
            Ok(())
        }
    }
}
