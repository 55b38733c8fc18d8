//! The pages the learner meets at and back from a gateway: the demo window,
//! KakaoPay's returns, Toss's payment-window page and returns. Every return
//! confirms through `payments::confirm`, whichever the gateway.

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::request::Parts,
    response::Response,
};
use serde::Deserialize;

use crate::web::{Form, Query};
use crate::{
    accounts::CurrentUser,
    commerce::{
        gateway::Gateways,
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

/// What every payment return starts from: the state, the gateways, the
/// page and the signed-in learner whose order it is.
pub struct Buyer {
    state: AppState,
    gateways: Arc<Gateways>,
    ctx: PageCtx,
    user: CurrentUser,
}

impl<S> FromRequestParts<S> for Buyer
where
    S: Send + Sync,
    AppState: FromRef<S>,
    Arc<Gateways>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = PageCtx::from_request_parts(parts, state).await?;
        let user = CurrentUser::from_request_parts(parts, state).await?;
        Ok(Self {
            state: AppState::from_ref(state),
            gateways: Arc::from_ref(state),
            ctx,
            user,
        })
    }
}

impl Buyer {
    /// The gateway is on here (else the page does not exist).
    fn enabled(&self, gateway: GatewayKind) -> AppResult<()> {
        if self.gateways.is_enabled(gateway) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Confirms a return and lands on the order (paid) or `refused_to`.
    async fn confirm(
        &self,
        order: OrderId,
        ret: Return<'_>,
        refused_to: &str,
    ) -> AppResult<Response> {
        let confirmed =
            payments::confirm(&self.state.db, &self.gateways, &self.user, order, ret).await;
        outcome(&self.ctx, confirmed, refused_to, |order| {
            (format!("/orders/{order}"), Flash::success(PAID))
        })
    }

    /// The learner left the gateway's window without paying (`reason` for
    /// the records, `message` for them): the order ends unless it was paid
    /// after all.
    async fn left(
        &self,
        order: OrderId,
        status: OrderStatus,
        reason: &str,
        message: &'static str,
    ) -> AppResult<Response> {
        let left = payments::abandon(
            &self.state.db,
            &self.gateways,
            &self.user,
            order,
            status,
            reason,
        );
        let (to, flash) = match left.await? {
            Left::Paid => (format!("/orders/{order}"), Flash::success(PAID)),
            Left::Closed => ("/cart".to_string(), Flash::warning(message)),
        };
        Ok(self.ctx.redirect(&to, flash))
    }
}

// ---------- the demo gateway ----------

pub async fn demo_page(b: Buyer, Path(id): Path<OrderId>) -> AppResult<Response> {
    b.enabled(GatewayKind::Demo)?;
    let mut conn = b.state.db.acquire().await?;
    let order = service::own_order(&mut conn, &b.user, id).await?;
    web::render(&DemoGatewayPage { ctx: b.ctx, order })
}

#[derive(Deserialize)]
pub struct DemoApproveForm {
    /// What the (pretend) gateway charged; the server compares it with the order.
    amount: i64,
}

pub async fn demo_approve(
    b: Buyer,
    Path(id): Path<OrderId>,
    Form(form): Form<DemoApproveForm>,
) -> AppResult<Response> {
    b.enabled(GatewayKind::Demo)?;
    let ret = Return {
        gateway: GatewayKind::Demo,
        token: "",
        claimed: Some(Won(form.amount)),
    };
    b.confirm(id, ret, &format!("/orders/{id}")).await
}

pub async fn demo_fail(b: Buyer, Path(id): Path<OrderId>) -> AppResult<Response> {
    b.enabled(GatewayKind::Demo)?;
    b.left(
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

pub async fn kakaopay_approve(b: Buyer, Query(query): Query<KakaoReturn>) -> AppResult<Response> {
    let order = order_param(&query.order)?;
    let pg_token = query
        .pg_token
        .ok_or_else(|| AppError::BadRequest("카카오페이 승인 정보가 없습니다.".into()))?;
    let ret = Return {
        gateway: GatewayKind::KakaoPay,
        token: &pg_token,
        claimed: None,
    };
    b.confirm(order, ret, "/cart").await
}

#[derive(Deserialize)]
pub struct KakaoLeft {
    order: String,
}

/// `/payments/kakaopay/cancel` (`FAILED = false`: the learner closed the
/// window) and `/payments/kakaopay/fail`: the order ends, the cart stays.
pub async fn kakaopay_left<const FAILED: bool>(
    b: Buyer,
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
    b.left(order, status, message, message).await
}

// ---------- Toss Payments ----------

/// The page that opens Toss's payment window (its browser SDK does).
pub async fn toss_page(b: Buyer, Path(id): Path<OrderId>) -> AppResult<Response> {
    let client_key = b
        .gateways
        .toss_client_key()
        .ok_or(AppError::NotFound)?
        .to_string();
    let mut conn = b.state.db.acquire().await?;
    let order = service::own_order(&mut conn, &b.user, id).await?;
    if order.status != OrderStatus::Pending || order.gateway != GatewayKind::Toss {
        return Ok(b.ctx.redirect(
            &format!("/orders/{}", order.id),
            Flash::info("이미 처리된 주문입니다."),
        ));
    }
    let base = b.state.config.public_url.as_str().trim_end_matches('/');
    web::render(&TossPage {
        client_key,
        customer_key: b.user.id.to_string(),
        order_name: "웹 개발 나노 디그리".into(),
        success_url: format!("{base}/payments/toss/success"),
        fail_url: format!("{base}/payments/toss/fail"),
        ctx: b.ctx,
        order,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TossSuccess {
    payment_key: String,
    order_id: String,
    amount: String,
}

pub async fn toss_success(b: Buyer, Query(query): Query<TossSuccess>) -> AppResult<Response> {
    b.enabled(GatewayKind::Toss)?;
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
    b.confirm(order, ret, "/cart").await
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

pub async fn toss_fail(b: Buyer, Query(query): Query<TossFail>) -> AppResult<Response> {
    let message = "토스페이먼츠 결제가 완료되지 않았습니다. 장바구니는 그대로 남아 있습니다.";
    let Some(order) = query.order_id.as_deref().and_then(|o| o.parse().ok()) else {
        return Ok(b.ctx.redirect("/cart", Flash::warning(message)));
    };
    let status = if query.code == "PAY_PROCESS_CANCELED" {
        OrderStatus::Cancelled
    } else {
        OrderStatus::Failed
    };
    let reason = format!("toss {}: {}", query.code, query.message);
    b.left(order, status, &reason, message).await
}
