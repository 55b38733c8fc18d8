//! Money moving: send the learner to the gateway, confirm when they come
//! back, refund, and reconcile when a process died between a gateway's
//! answer and our commit. Gateways are reached only through the
//! [`PaymentGateway`](crate::commerce::gateway::PaymentGateway) trait, and no
//! row lock is ever held across a gateway call: each step is its own short
//! transaction, and the reconciliation job finishes whatever a crash cut.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::{
    accounts::CurrentUser,
    commerce::{
        error::{CommerceError, CommerceResult},
        gateway::{Approval, CancelRequest, Checkout, Confirmation, Failure, Gateways, Inquiry},
        model::{GatewayKind, Order, OrderStatus, Payment, RefundState},
        refund::{Offer, RefundRefusal},
        repo::{self, NewPayment, NewRefund},
        service,
    },
    ids::{OrderId, PaymentId, RefundId},
    infra::once::{self, Once},
    jobs::{self, EnqueueOptions},
    learning::access,
    money::Won,
};

/// The job that settles an order or a refund by asking the gateway.
pub const RECONCILE_JOB: &str = "payments.reconcile";

/// How long after a gateway call the reconciliation runs (a normal flow
/// finishes well before; then the job finds nothing to do).
const RECONCILE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Failed or cancelled orders younger than this are checked against the
/// gateway by reconciliation before the failure is taken as final.
const RECHECK_CLOSED_HOURS: i64 = 24;

/// Orders still waiting at the gateway after this long are abandoned.
const ABANDONED_AFTER_MINUTES: i64 = 60;

/// What a reconciliation job settles.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Reconcile {
    Order { order: OrderId },
    Refund { refund: RefundId },
}

async fn schedule(conn: &mut PgConnection, what: Reconcile) -> CommerceResult<()> {
    let key = match what {
        Reconcile::Order { order } => format!("reconcile:{order}"),
        Reconcile::Refund { refund } => format!("reconcile-refund:{refund}"),
    };
    jobs::enqueue(
        conn,
        RECONCILE_JOB,
        serde_json::to_value(what).map_err(anyhow::Error::from)?,
        EnqueueOptions {
            delay: Some(RECONCILE_AFTER),
            dedupe_key: Some(key),
            max_attempts: Some(12),
        },
    )
    .await?;
    Ok(())
}

// ---------- paying ----------

/// Starts paying for a new order at its gateway: where the learner goes next.
pub async fn start(
    db: &PgPool,
    gateways: &Gateways,
    base_url: &str,
    order: OrderId,
    // The order's name at the gateway from its first item's title and how
    // many more there are (the handler's words).
    name: impl Fn(&str, usize) -> String,
) -> CommerceResult<String> {
    let (row, items) = {
        let mut conn = db.acquire().await?;
        let row = repo::order(&mut conn, order)
            .await?
            .ok_or(CommerceError::NotFound)?;
        (row, repo::order_items(&mut conn, order).await?)
    };
    let gateway = gateways.get(row.gateway).ok_or(CommerceError::NotFound)?;
    let item_name = match items.as_slice() {
        [one] => one.title.clone(),
        [first, rest @ ..] => name(&first.title, rest.len()),
        [] => "Weaverse".into(),
    };
    let started = gateway
        .start(
            &gateways.log,
            &Checkout {
                order,
                user: row.user_id,
                item_name: &item_name,
                total: row.total,
                base_url: base_url.trim_end_matches('/'),
            },
        )
        .await;
    let mut conn = db.acquire().await?;
    match started {
        Ok(started) => {
            if let Some(gateway_ref) = &started.gateway_ref {
                repo::set_gateway_ref(&mut conn, order, gateway_ref).await?;
            }
            Ok(started.redirect)
        }
        Err(err) => {
            repo::set_order_status(
                &mut conn,
                order,
                OrderStatus::Failed,
                Some(&err.to_string()),
            )
            .await?;
            Err(CommerceError::StartFailed(err.message))
        }
    }
}

/// What a gateway's return carried.
pub struct Return<'a> {
    /// The gateway the return came through (its URL says).
    pub gateway: GatewayKind,
    /// KakaoPay `pg_token`, Toss `paymentKey`, empty for the demo window.
    pub token: &'a str,
    /// What the return says was charged, when it says (not to be trusted).
    pub claimed: Option<Won>,
}

/// The learner came back from the gateway: confirm there, then record the
/// payment once. A repeated return (refresh, double click, concurrent
/// requests) is harmless: the order is paid once.
pub async fn confirm(
    db: &PgPool,
    gateways: &Gateways,
    user: &CurrentUser,
    order_id: OrderId,
    ret: Return<'_>,
) -> CommerceResult<OrderId> {
    let order = {
        let mut conn = db.acquire().await?;
        service::own_order(&mut conn, user, order_id).await?
    };
    if order.gateway != ret.gateway {
        return Err(CommerceError::WrongGateway);
    }
    if order.status.is_paid() {
        return Ok(order_id);
    }
    if order.status != OrderStatus::Pending {
        return Err(CommerceError::OrderClosed);
    }
    let gateway = gateways.get(order.gateway).ok_or(CommerceError::NotFound)?;
    // Before any money moves: what this order buys must not be held already
    // (another order paid meanwhile), or the learner pays twice.
    let owned = {
        let mut conn = db.acquire().await?;
        let items = repo::order_items(&mut conn, order_id).await?;
        let products: Vec<_> = items.iter().map(|i| i.product).collect();
        service::refuse_if_owned(&mut conn, order.user_id, &products).await
    };
    if let Err(err) = owned {
        fail(db, order_id, "what the order buys is already held").await?;
        return Err(err);
    }
    if let Some(claimed) = ret.claimed
        && claimed != order.total
    {
        fail(
            db,
            order_id,
            &format!("returned amount {} differs from the order total", claimed.0),
        )
        .await?;
        return Err(CommerceError::AmountMismatch { claimed });
    }
    // Toss names its payment by the key the return carries; KakaoPay's
    // `tid` came from the start.
    let gateway_ref = order.gateway_ref.clone().or_else(|| {
        (gateway.return_token_is_ref() && !ret.token.is_empty()).then(|| ret.token.to_string())
    });
    {
        let mut conn = db.acquire().await?;
        if let (None, Some(new_ref)) = (&order.gateway_ref, &gateway_ref) {
            repo::set_gateway_ref(&mut conn, order_id, new_ref).await?;
        }
        if order.gateway != GatewayKind::Demo {
            schedule(&mut conn, Reconcile::Order { order: order_id }).await?;
        }
    }
    let confirmed = gateway
        .confirm(
            &gateways.log,
            &Confirmation {
                order: order_id,
                user: order.user_id,
                gateway_ref: gateway_ref.as_deref(),
                token: ret.token,
                total: order.total,
                claimed: ret.claimed,
            },
        )
        .await;
    crate::infra::crash_point("after-gateway-approve");
    match confirmed {
        Ok(approval) => record(db, &order, &approval).await,
        // The gateway accepted but has not finished: reconciliation settles it.
        Err(err) if err.failure == Failure::Incomplete => {
            Err(CommerceError::PaymentIncomplete(err.code))
        }
        // A refusal does not decide the order by itself: a double click's
        // other request may just have been approved. Ask the gateway.
        Err(err) => match gateway
            .inquire(&gateways.log, order_id, gateway_ref.as_deref())
            .await
        {
            Ok(Inquiry::Paid { approval, .. }) => record(db, &order, &approval).await,
            Ok(Inquiry::Open(_) | Inquiry::Closed(_)) => {
                fail(db, order_id, &err.to_string()).await?;
                Err(CommerceError::PaymentRefused {
                    gateway: order.gateway,
                    message: err.message,
                })
            }
            // The gateway cannot say now: reconciliation settles the order.
            Err(_) => Err(CommerceError::PaymentIncomplete(err.code)),
        },
    }
}

/// Records an approval in its own transaction (kept even when refused, so a
/// mismatched amount leaves the order failed).
async fn record(db: &PgPool, order: &Order, approval: &Approval) -> CommerceResult<OrderId> {
    let mut tx = db.begin().await?;
    let result = complete_payment(&mut tx, order.id, order.gateway, approval).await;
    tx.commit().await?;
    access::forget(order.user_id);
    result.map(|_| order.id)
}

/// Records an approved payment exactly once, under the order's row lock: a
/// double click, a repeated return URL or concurrent approvals all end in one
/// payment and one grant per product. An amount that is not the order's
/// total leaves the order failed.
pub async fn complete_payment(
    conn: &mut PgConnection,
    order_id: OrderId,
    gateway: GatewayKind,
    approval: &Approval,
) -> CommerceResult<Payment> {
    let order = repo::lock_order(conn, order_id)
        .await?
        .ok_or(CommerceError::NotFound)?;
    if let Some(existing) = repo::payment_of_order(conn, order_id).await? {
        return Ok(existing);
    }
    // A gateway's approval is money taken: it is recorded even on an order
    // we had marked failed or cancelled (a refusal raced it, or the learner
    // left the window after paying).
    if !matches!(
        order.status,
        OrderStatus::Pending | OrderStatus::Failed | OrderStatus::Cancelled
    ) {
        return Err(CommerceError::OrderClosed);
    }
    if order.gateway != gateway {
        return Err(CommerceError::WrongGateway);
    }
    if approval.amount != order.total {
        repo::set_order_status(
            conn,
            order_id,
            OrderStatus::Failed,
            Some("approved amount differs from the order total"),
        )
        .await?;
        return Err(CommerceError::AmountMismatch {
            claimed: approval.amount,
        });
    }
    repo::insert_payment(
        conn,
        &NewPayment {
            order: order_id,
            gateway,
            tx_id: &approval.tx_id,
            method: &approval.method,
            amount: approval.amount,
            approved_at: approval.approved_at,
        },
    )
    .await?;
    repo::set_order_status(conn, order_id, OrderStatus::Paid, None).await?;
    for item in repo::order_items(conn, order_id).await? {
        let months = u32::try_from(item.access_months.max(1)).unwrap_or(24);
        access::grant(conn, order.user_id, order_id, item.product, months).await?;
    }
    repo::clear_bought_from_cart(conn, order.user_id, order_id).await?;
    repo::payment_of_order(conn, order_id)
        .await?
        .ok_or(CommerceError::NotFound)
}

/// A pending order fails (its own transaction).
async fn fail(db: &PgPool, order: OrderId, reason: &str) -> CommerceResult<()> {
    let mut tx = db.begin().await?;
    close(&mut tx, order, OrderStatus::Failed, reason).await?;
    tx.commit().await?;
    Ok(())
}

/// A pending order ends as `status` (failed or cancelled); others stay.
async fn close(
    conn: &mut PgConnection,
    order: OrderId,
    status: OrderStatus,
    reason: &str,
) -> CommerceResult<()> {
    let row = repo::lock_order(conn, order)
        .await?
        .ok_or(CommerceError::NotFound)?;
    if row.status == OrderStatus::Pending {
        repo::set_order_status(conn, order, status, Some(reason)).await?;
    }
    Ok(())
}

/// What became of an order the learner left at the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// Failed or cancelled, as the return said.
    Closed,
    /// The gateway had in fact taken the money: recorded as paid.
    Paid,
}

/// The learner cancelled in the gateway's window, it failed there, or the
/// learner failed the demo payment. A return URL alone never decides: the
/// gateway is asked first, and a payment it approved is recorded instead.
pub async fn abandon(
    db: &PgPool,
    gateways: &Gateways,
    user: &CurrentUser,
    order_id: OrderId,
    status: OrderStatus,
    reason: &str,
) -> CommerceResult<Left> {
    let order = {
        let mut conn = db.acquire().await?;
        service::own_order(&mut conn, user, order_id).await?
    };
    if order.status != OrderStatus::Pending {
        return Ok(if order.status.is_paid() {
            Left::Paid
        } else {
            Left::Closed
        });
    }
    if let Some(gateway) = gateways.get(order.gateway)
        && order.gateway != GatewayKind::Demo
        && let Ok(Inquiry::Paid { approval, .. }) = gateway
            .inquire(&gateways.log, order_id, order.gateway_ref.as_deref())
            .await
    {
        record(db, &order, &approval).await?;
        return Ok(Left::Paid);
    }
    let mut tx = db.begin().await?;
    close(&mut tx, order_id, status, reason).await?;
    if order.gateway != GatewayKind::Demo {
        // Checked once more against the gateway a minute later.
        schedule(&mut tx, Reconcile::Order { order: order_id }).await?;
    }
    tx.commit().await?;
    Ok(Left::Closed)
}

// ---------- refunds ----------

/// The longest refund reason kept.
pub const REFUND_REASON_MAX_CHARS: usize = 500;

/// Refunds a payment: the learner under the policy, an admin any amount up
/// to what is left. The refund is first recorded as requested under the
/// order's lock (so concurrent refunds never claim more than was paid), the
/// gateway is called with no lock held, and the outcome recorded; a crash in
/// between is settled by reconciliation. The access the order bought ends.
pub async fn refund(
    db: &PgPool,
    gateways: &Gateways,
    actor: &CurrentUser,
    payment_id: PaymentId,
    admin_amount: Option<Won>,
    // Why, as the person gave it (the handler words a default).
    reason: &str,
    form_key: Option<uuid::Uuid>,
) -> CommerceResult<Once<Won>> {
    let reason = reason.trim();
    if reason.chars().count() > REFUND_REASON_MAX_CHARS {
        return Err(CommerceError::RefundReasonTooLong {
            max: REFUND_REASON_MAX_CHARS,
        });
    }
    let mut tx = db.begin().await?;
    // A double click or a replay of the same form refunds once: the repeat
    // waits here for the first to commit its refund, then stops.
    if let Some(key) = form_key
        && let once::Claim::Used(first) = once::claim(&mut tx, key).await?
    {
        return Ok(Once::Repeat(first));
    }
    let payment = repo::payment(&mut tx, payment_id)
        .await?
        .ok_or(CommerceError::NotFound)?;
    let order = repo::lock_order(&mut tx, payment.order_id)
        .await?
        .ok_or(CommerceError::NotFound)?;
    if order.user_id != actor.id && !actor.is_admin() {
        return Err(CommerceError::NotFound);
    }
    // Under the lock: what earlier refunds (settled or in flight) claimed.
    let claimed = repo::refunds_claimed(&mut tx, payment_id).await?;
    let left = payment.amount.saturating_sub(claimed);
    let amount = match admin_amount.filter(|_| actor.is_admin()) {
        Some(amount) if amount.is_positive() && amount <= left => amount,
        Some(_) => return Err(CommerceError::RefundAmountOutOfRange { max: left }),
        None => {
            let items = repo::order_items(&mut tx, order.id).await?;
            let used = service::content_used(&mut tx, order.user_id, &items).await?;
            let as_claimed = Payment {
                refunded: claimed,
                ..payment.clone()
            };
            match service::refund_offer(&gateways.refund_policy, &as_claimed, &items, used) {
                Offer::Refused(why) => return Err(CommerceError::RefundRefused(why)),
                offer => offer.amount(),
            }
        }
    };
    if !amount.is_positive() {
        return Err(CommerceError::RefundRefused(RefundRefusal::AlreadyRefunded));
    }
    let gateway = gateways
        .get(payment.gateway)
        .ok_or(CommerceError::NotFound)?;
    let refund_id = RefundId(uuid::Uuid::new_v4());
    let key = format!("refund-{}", refund_id.0.simple());
    repo::insert_refund(
        &mut tx,
        &NewRefund {
            id: refund_id,
            payment: payment_id,
            amount,
            reason,
            requested_by: actor.id,
            by_admin: actor.is_admin(),
            idempotency_key: &key,
        },
    )
    .await?;
    schedule(&mut tx, Reconcile::Refund { refund: refund_id }).await?;
    tx.commit().await?;

    let sent = gateway
        .cancel(
            &gateways.log,
            &CancelRequest {
                order: order.id,
                tx_id: &payment.gateway_tx_id,
                amount,
                reason,
                idempotency_key: &key,
            },
        )
        .await;
    crate::infra::crash_point("after-gateway-cancel");
    match sent {
        Ok(()) => {
            settle_refund(db, refund_id, RefundState::Succeeded, None).await?;
            Ok(Once::Done(amount))
        }
        Err(err) => {
            settle_refund(db, refund_id, RefundState::Failed, Some(&err.to_string())).await?;
            Err(CommerceError::RefundFailed(err.message))
        }
    }
}

/// Records a refund's outcome once; a success updates the payment, the
/// order's state, and ends the access the order bought.
async fn settle_refund(
    db: &PgPool,
    refund_id: RefundId,
    state: RefundState,
    failure: Option<&str>,
) -> CommerceResult<()> {
    let mut tx = db.begin().await?;
    let Some(refund) = repo::lock_refund(&mut tx, refund_id).await? else {
        return Err(CommerceError::NotFound);
    };
    if refund.state != RefundState::Requested {
        return Ok(());
    }
    let payment = repo::payment(&mut tx, refund.payment)
        .await?
        .ok_or(CommerceError::NotFound)?;
    let buyer = repo::lock_order(&mut tx, payment.order_id)
        .await?
        .map(|o| o.user_id);
    repo::settle_refund(&mut tx, &refund, state, failure).await?;
    if state == RefundState::Succeeded {
        let refunded = payment.refunded + refund.amount;
        let status = if refunded >= payment.amount {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        };
        repo::set_order_status(&mut tx, payment.order_id, status, None).await?;
        access::end_order(&mut tx, payment.order_id).await?;
    }
    tx.commit().await?;
    if let Some(buyer) = buyer {
        access::forget(buyer);
    }
    Ok(())
}

// ---------- reconciliation ----------

/// The `payments.reconcile` job: settles a pending order or a refund left
/// requested from the gateway's own record. Idempotent.
pub async fn reconcile(db: &PgPool, gateways: &Gateways, what: Reconcile) -> anyhow::Result<()> {
    match what {
        Reconcile::Order { order } => reconcile_order(db, gateways, order).await,
        Reconcile::Refund { refund } => reconcile_refund(db, gateways, refund).await,
    }
}

async fn reconcile_order(db: &PgPool, gateways: &Gateways, order: OrderId) -> anyhow::Result<()> {
    let row = {
        let mut conn = db.acquire().await?;
        let Some(row) = repo::order(&mut conn, order).await? else {
            return Ok(());
        };
        row
    };
    // Pending orders, and failed or cancelled ones of the last day: the
    // gateway's record is checked before a failure is taken as final.
    let recently_closed = matches!(row.status, OrderStatus::Failed | OrderStatus::Cancelled)
        && (OffsetDateTime::now_utc() - row.created_at).whole_hours() < RECHECK_CLOSED_HOURS;
    if row.status != OrderStatus::Pending && !recently_closed {
        return Ok(());
    }
    let Some(gateway) = gateways.get(row.gateway) else {
        return Ok(());
    };
    if recently_closed {
        if let Ok(Inquiry::Paid { approval, .. }) = gateway
            .inquire(&gateways.log, order, row.gateway_ref.as_deref())
            .await
        {
            record(db, &row, &approval).await?;
            tracing::warn!(%order, "recorded a payment the gateway approved after the order failed");
        }
        return Ok(());
    }
    let abandoned =
        (OffsetDateTime::now_utc() - row.created_at).whole_minutes() > ABANDONED_AFTER_MINUTES;
    match gateway
        .inquire(&gateways.log, order, row.gateway_ref.as_deref())
        .await
    {
        Ok(Inquiry::Paid { approval, .. }) => {
            record(db, &row, &approval).await?;
            tracing::info!(%order, gateway = %row.gateway, "reconciled a payment approved at the gateway");
        }
        Ok(Inquiry::Closed(status)) => fail(db, order, &status).await?,
        _ if abandoned => fail(db, order, "abandoned at the gateway").await?,
        Ok(Inquiry::Open(status)) => anyhow::bail!("order {order} still {status}"),
        Err(err) => anyhow::bail!("inquiry for {order}: {err}"),
    }
    Ok(())
}

async fn reconcile_refund(
    db: &PgPool,
    gateways: &Gateways,
    refund_id: RefundId,
) -> anyhow::Result<()> {
    let (refund, payment) = {
        let mut conn = db.acquire().await?;
        let Some(refund) = repo::lock_refund(&mut conn, refund_id).await? else {
            return Ok(());
        };
        let Some(payment) = repo::payment(&mut conn, refund.payment).await? else {
            return Ok(());
        };
        (refund, payment)
    };
    if refund.state != RefundState::Requested {
        return Ok(());
    }
    let Some(gateway) = gateways.get(payment.gateway) else {
        return Ok(());
    };
    let order = {
        let mut conn = db.acquire().await?;
        repo::order(&mut conn, payment.order_id).await?
    };
    let gateway_ref = order.and_then(|o| o.gateway_ref);
    let outcome = gateway
        .inquire(&gateways.log, payment.order_id, gateway_ref.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("inquiry for refund {refund_id}: {e}"))?;
    // The gateway refunded more than we have recorded: this one went through.
    let went_through = matches!(
        outcome,
        Inquiry::Paid { refunded, .. } if refunded >= payment.refunded + refund.amount
    );
    let (state, failure) = if went_through {
        (RefundState::Succeeded, None)
    } else {
        (
            RefundState::Failed,
            Some("the gateway has no record of this refund"),
        )
    };
    settle_refund(db, refund_id, state, failure).await?;
    tracing::info!(%refund_id, ?state, "reconciled a refund");
    Ok(())
}
