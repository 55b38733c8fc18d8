//! Orders, receipts and refunds.

use crate::commerce::gateway::Gateways;
use std::sync::Arc;

use crate::web::{Form, Query};
use axum::{extract::State, response::Response};
use serde::Deserialize;

use crate::{
    accounts::CurrentUser,
    commerce::{
        handlers::errors::outcome,
        model::OrderStatus,
        payments, service,
        views::{OrderPage, OrdersPage, ReceiptPage, RefundConfirmPage},
    },
    error::{AppError, AppResult},
    ids::{OrderId, PaymentId},
    infra::once::Once,
    learning,
    money::Won,
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash},
};

pub async fn orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let orders = service::orders(&mut conn, user.id).await?;
    web::render(&OrdersPage { ctx, orders })
}

pub async fn order(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<OrderId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let detail =
        service::order_detail(&mut conn, &state.keys, &gateways.refund_policy, &user, id).await?;
    let start = match detail.order.status == OrderStatus::Paid && detail.order.user_id == user.id {
        true => {
            let products: Vec<_> = detail.items.iter().map(|i| i.product).collect();
            learning::progress::next_topic(&mut conn, user.id, &products).await?
        }
        false => None,
    };
    web::render(&OrderPage { ctx, detail, start })
}

/// The order a payment belongs to, as its buyer (or an admin) sees it.
async fn payment_detail(
    state: &AppState,
    gateways: &Gateways,
    user: &CurrentUser,
    payment: PaymentId,
) -> AppResult<service::OrderDetail> {
    let mut conn = state.db.acquire().await?;
    let order = service::payment_order(&mut conn, user, payment).await?;
    Ok(service::order_detail(&mut conn, &state.keys, &gateways.refund_policy, user, order).await?)
}

/// Where a refund's pages lead back to: the admin payment page or the order.
fn refund_back(user: &CurrentUser, order: OrderId) -> String {
    if user.is_admin() {
        format!("/admin/payments/{order}")
    } else {
        format!("/orders/{order}")
    }
}

pub async fn receipt(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<PaymentId>,
) -> AppResult<Response> {
    let detail = payment_detail(&state, &gateways, &user, id).await?;
    web::render(&ReceiptPage {
        ctx,
        detail,
        buyer: user.nickname.clone(),
        buyer_email: user.email.clone(),
    })
}

#[derive(Deserialize, Default)]
pub struct RefundAsk {
    amount: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `GET /payments/{id}/refund`: what a refund would return, and the one
/// button that does it. The order page and the admin payment page lead
/// here, so no refund happens in one click.
pub async fn refund_page(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(payment): Path<PaymentId>,
    Query(ask): Query<RefundAsk>,
) -> AppResult<Response> {
    let detail = payment_detail(&state, &gateways, &user, payment).await?;
    let back = refund_back(&user, detail.order.id);
    let left = detail
        .payment
        .as_ref()
        .map(|p| p.left())
        .unwrap_or(Won::ZERO);
    // An admin names the amount; a learner gets what the policy offers.
    let amount = match user.is_admin() {
        true => typed_amount(ask.amount.as_deref())?.unwrap_or(left),
        false => detail
            .refund_offer
            .as_ref()
            .map(|o| o.amount())
            .unwrap_or(Won::ZERO),
    };
    if !amount.is_positive() || amount > left {
        return Ok(ctx.redirect(
            &back,
            Flash::warning(format!("환불할 수 있는 금액은 {left} 이하입니다.")),
        ));
    }
    web::render(&RefundConfirmPage {
        ctx,
        detail,
        payment,
        amount,
        admin: user.is_admin(),
        reason: ask
            .reason
            .chars()
            .take(payments::REFUND_REASON_MAX_CHARS)
            .collect(),
        back,
    })
}

#[derive(Deserialize)]
pub struct RefundForm {
    amount: Option<String>,
    #[serde(default)]
    reason: String,
    form_key: Option<uuid::Uuid>,
}

/// The amount an admin typed (`50,000` is fine); none when left blank.
fn typed_amount(raw: Option<&str>) -> AppResult<Option<Won>> {
    match raw.map(str::trim).filter(|a| !a.is_empty()) {
        Some(raw) => raw
            .replace(',', "")
            .parse::<i64>()
            .map(|a| Some(Won(a)))
            .map_err(|_| AppError::field("amount", "환불 금액을 숫자로 입력해 주세요.")),
        None => Ok(None),
    }
}

pub async fn refund(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(payment): Path<PaymentId>,
    Form(form): Form<RefundForm>,
) -> AppResult<Response> {
    let amount = typed_amount(form.amount.as_deref())?;
    let order = {
        let mut conn = state.db.acquire().await?;
        service::payment_order(&mut conn, &user, payment).await?
    };
    let back = refund_back(&user, order);
    let refunded = payments::refund(
        &state.db,
        &gateways,
        &user,
        payment,
        amount,
        match form.reason.trim() {
            "" if user.is_admin() => "관리자 환불",
            "" => "수강생 환불 요청",
            reason => reason,
        },
        form.form_key,
    )
    .await;
    let refunded = match refunded {
        Ok(Once::Repeat(_)) => return Ok(ctx.repeated(None, &back)),
        Ok(Once::Done(amount)) => Ok(amount),
        Err(err) => Err(err),
    };
    outcome(&ctx, refunded, &back, |amount| {
        (
            back.clone(),
            Flash::success(format!(
                "{amount}을 환불했습니다. 이 결제로 열린 수강은 종료되었습니다."
            )),
        )
    })
}
