//! The pages the learner meets at and back from a gateway: the demo window,
//! KakaoPay's returns, Toss's payment-window page and returns. Every return
//! confirms through `payments::confirm`, whichever the gateway.

use crate::commerce::gateway::Gateways;
use std::sync::Arc;

use crate::web::{Form, Query};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    accounts::CurrentUser,
    commerce::{
        handlers::errors::outcome,
        model::{GatewayKind, OrderStatus},
        payments::{self, Left, Return},
        service,
        views::{DemoGatewayPage, TossPage},
    },
    error::{AppError, AppResult},
    ids::OrderId,
    money::Won,
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash},
};

const PAID: &str = "결제가 완료되었습니다. 지금 바로 학습을 시작할 수 있습니다.";

/// Confirms a return and lands on the order (paid) or the cart (refused).
async fn confirm_return(
    state: &AppState,
    gateways: &Gateways,
    ctx: &PageCtx,
    user: &CurrentUser,
    order: OrderId,
    ret: Return<'_>,
    refused_to: &str,
) -> AppResult<Response> {
    let confirmed = payments::confirm(&state.db, gateways, user, order, ret).await;
    outcome(state, ctx, confirmed, refused_to, |order| {
        (format!("/orders/{order}"), Flash::success(PAID))
    })
}

/// The learner left the gateway's window without paying.
#[allow(clippy::too_many_arguments)]
async fn left(
    state: &AppState,
    gateways: &Gateways,
    ctx: &PageCtx,
    user: &CurrentUser,
    order: OrderId,
    status: OrderStatus,
    reason: &str,
    message: &'static str,
) -> AppResult<Response> {
    match payments::abandon(&state.db, gateways, user, order, status, reason).await? {
        Left::Paid => Ok(web::redirect_with(
            state,
            ctx,
            &format!("/orders/{order}"),
            Flash::success(PAID),
        )),
        Left::Closed => Ok(web::redirect_with(
            state,
            ctx,
            "/cart",
            Flash::warning(message),
        )),
    }
}

fn enabled(gateways: &Gateways, gateway: GatewayKind) -> AppResult<()> {
    if gateways.is_enabled(gateway) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

// ---------- the demo gateway ----------

pub async fn demo_page(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<OrderId>,
) -> AppResult<Response> {
    enabled(&gateways, GatewayKind::Demo)?;
    let mut conn = state.db.acquire().await?;
    let order = service::own_order(&mut conn, &user, id).await?;
    Ok(web::render(&DemoGatewayPage { ctx, order })?.into_response())
}

#[derive(Deserialize)]
pub struct DemoApproveForm {
    /// What the (pretend) gateway charged; the server compares it with the order.
    amount: i64,
}

pub async fn demo_approve(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<OrderId>,
    Form(form): Form<DemoApproveForm>,
) -> AppResult<Response> {
    enabled(&gateways, GatewayKind::Demo)?;
    let ret = Return {
        gateway: GatewayKind::Demo,
        token: "",
        claimed: Some(Won(form.amount)),
    };
    confirm_return(
        &state,
        &gateways,
        &ctx,
        &user,
        id,
        ret,
        &format!("/orders/{id}"),
    )
    .await
}

pub async fn demo_fail(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<OrderId>,
) -> AppResult<Response> {
    enabled(&gateways, GatewayKind::Demo)?;
    left(
        &state,
        &gateways,
        &ctx,
        &user,
        id,
        OrderStatus::Failed,
        "the learner chose to fail the test payment",
        "결제가 완료되지 않았습니다. 장바구니는 그대로 남아 있습니다.",
    )
    .await
}

// ---------- KakaoPay ----------

#[derive(Deserialize)]
pub struct KakaoReturn {
    order: String,
    pg_token: Option<String>,
}

fn order_param(raw: &str) -> AppResult<OrderId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

pub async fn kakaopay_approve(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<KakaoReturn>,
) -> AppResult<Response> {
    let order = order_param(&query.order)?;
    let pg_token = query
        .pg_token
        .ok_or_else(|| AppError::BadRequest("카카오페이 승인 정보가 없습니다.".into()))?;
    let ret = Return {
        gateway: GatewayKind::KakaoPay,
        token: &pg_token,
        claimed: None,
    };
    confirm_return(&state, &gateways, &ctx, &user, order, ret, "/cart").await
}

#[derive(Deserialize)]
pub struct KakaoLeft {
    order: String,
}

/// `/payments/kakaopay/cancel` (`FAILED = false`: the learner closed the
/// window) and `/payments/kakaopay/fail`: the order ends, the cart stays.
pub async fn kakaopay_left<const FAILED: bool>(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<KakaoLeft>,
) -> AppResult<Response> {
    let (status, message) = if FAILED {
        (
            OrderStatus::Failed,
            "카카오페이 결제에 실패했습니다. 다시 시도해 주세요.",
        )
    } else {
        (
            OrderStatus::Cancelled,
            "카카오페이 결제를 취소했습니다. 장바구니는 그대로 남아 있습니다.",
        )
    };
    let order = order_param(&query.order)?;
    left(
        &state, &gateways, &ctx, &user, order, status, message, message,
    )
    .await
}

// ---------- Toss Payments ----------

/// The page that opens Toss's payment window (its browser SDK does).
pub async fn toss_page(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<OrderId>,
) -> AppResult<Response> {
    let client_key = gateways
        .toss_client_key()
        .ok_or(AppError::NotFound)?
        .to_string();
    let mut conn = state.db.acquire().await?;
    let order = service::own_order(&mut conn, &user, id).await?;
    if order.status != OrderStatus::Pending || order.gateway != GatewayKind::Toss {
        return Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/orders/{}", order.id),
            Flash::info("이미 처리된 주문입니다."),
        ));
    }
    let base = state.config.public_url.as_str().trim_end_matches('/');
    Ok(web::render(&TossPage {
        client_key,
        customer_key: user.id.to_string(),
        order_name: "웹 개발 나노 디그리".into(),
        success_url: format!("{base}/payments/toss/success"),
        fail_url: format!("{base}/payments/toss/fail"),
        ctx,
        order,
    })?
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TossSuccess {
    payment_key: String,
    order_id: String,
    amount: String,
}

pub async fn toss_success(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<TossSuccess>,
) -> AppResult<Response> {
    enabled(&gateways, GatewayKind::Toss)?;
    let order = order_param(&query.order_id)?;
    let amount = query
        .amount
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("결제 금액이 올바르지 않습니다.".into()))?;
    let ret = Return {
        gateway: GatewayKind::Toss,
        token: &query.payment_key,
        claimed: Some(Won(amount)),
    };
    confirm_return(&state, &gateways, &ctx, &user, order, ret, "/cart").await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TossFail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    order_id: Option<String>,
}

pub async fn toss_fail(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<TossFail>,
) -> AppResult<Response> {
    let message = "토스페이먼츠 결제가 완료되지 않았습니다. 장바구니는 그대로 남아 있습니다.";
    let Some(order) = query.order_id.as_deref().and_then(|o| o.parse().ok()) else {
        return Ok(web::redirect_with(
            &state,
            &ctx,
            "/cart",
            Flash::warning(message),
        ));
    };
    let status = if query.code == "PAY_PROCESS_CANCELED" {
        OrderStatus::Cancelled
    } else {
        OrderStatus::Failed
    };
    let reason = format!("toss {}: {}", query.code, query.message);
    left(
        &state, &gateways, &ctx, &user, order, status, &reason, message,
    )
    .await
}
