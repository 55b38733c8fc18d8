//! Buying for the token's owner: the cart, orders placed from it (an
//! `Idempotency-Key` each) with where the person goes to pay, and the
//! orders' state.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        Checks,
        auth::{Reader, Writer},
        cursor, idempotency, json, made, rfc3339,
    },
    catalog::model::Product,
    commerce::{
        gateway::Gateways,
        model::{GatewayKind, Order as OrderRow, OrderStatus},
        payments,
        service::{self, Billing},
    },
    error::{AppError, AppResult},
    ids::{AddressId, CartItemId, CourseId, CurriculumId, OrderId, PaymentId},
    infra::once::Once,
    money::Won,
    state::AppState,
    web::{Json, Path, Query},
};

#[derive(Serialize, ToSchema)]
pub struct Cart {
    pub items: Vec<CartItem>,
    /// KRW, of what is sold now.
    pub total_won: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CartItem {
    pub id: Uuid,
    pub product: ProductRef,
    pub title: String,
    /// KRW; absent when it is no longer sold on its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_won: Option<i64>,
    pub access_months: i32,
}

/// A course sold on its own, or a curriculum (the nano-degree).
#[derive(Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRef {
    pub kind: ProductKind,
    pub id: Uuid,
}

#[derive(Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    Course,
    Curriculum,
}

impl From<Product> for ProductRef {
    fn from(product: Product) -> Self {
        match product {
            Product::Course(id) => Self {
                kind: ProductKind::Course,
                id: id.0,
            },
            Product::Curriculum(id) => Self {
                kind: ProductKind::Curriculum,
                id: id.0,
            },
        }
    }
}

impl From<ProductRef> for Product {
    fn from(p: ProductRef) -> Self {
        match p.kind {
            ProductKind::Course => Product::Course(CourseId(p.id)),
            ProductKind::Curriculum => Product::Curriculum(CurriculumId(p.id)),
        }
    }
}

async fn cart_of(state: &AppState, caller: &crate::accounts::tokens::Caller) -> AppResult<Cart> {
    let mut conn = state.db.acquire().await?;
    let cart = service::cart(&mut conn, caller.user()).await?;
    Ok(Cart {
        total_won: cart.total().0,
        items: cart
            .lines
            .into_iter()
            .map(|l| CartItem {
                id: l.id.0,
                product: l.product.into(),
                title: l.title,
                price_won: l.price.map(|p| p.0),
                access_months: l.access_months,
            })
            .collect(),
    })
}

/// The owner's cart.
#[utoipa::path(
    get,
    path = "/api/v1/cart",
    tag = "commerce",
    summary = "장바구니",
    responses((status = 200, description = "장바구니", body = Cart))
)]
pub async fn cart(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
) -> AppResult<Response> {
    json(&headers, &cart_of(&state, &caller).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCartItem {
    pub product: ProductRef,
}

/// Put a product in the cart.
#[utoipa::path(
    post,
    path = "/api/v1/cart/items",
    tag = "commerce",
    summary = "장바구니에 담기",
    description = "따로 팔지 않거나 무료이거나 이미 담았거나 30일 넘게 남은 상품은 거절합니다.",
    request_body = NewCartItem,
    responses((status = 201, description = "담은 뒤의 장바구니", body = Cart))
)]
pub async fn add(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(item): Json<NewCartItem>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::add_to_cart(&mut conn, &caller.person, item.product.into()).await?;
    drop(conn);
    made(StatusCode::CREATED, &cart_of(&state, &caller).await?, None)
}

/// Take an item out of the cart.
#[utoipa::path(
    delete,
    path = "/api/v1/cart/items/{id}",
    tag = "commerce",
    summary = "장바구니에서 빼기",
    params(("id" = Uuid, Path, description = "장바구니 항목 id")),
    responses((status = 204, description = "뺐습니다"))
)]
pub async fn remove(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<CartItemId>,
) -> AppResult<StatusCode> {
    let mut conn = state.db.acquire().await?;
    service::remove_from_cart(&mut conn, caller.user(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Order {
    pub id: Uuid,
    /// What people read and say, e.g. `20261206-000123`.
    pub number: String,
    pub status: OrderStatus,
    pub gateway: GatewayKind,
    pub total_won: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, once paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    /// The order's page for people (receipt, refund).
    pub url: String,
}

impl From<OrderRow> for Order {
    fn from(o: OrderRow) -> Self {
        Self {
            id: o.id.0,
            url: format!("/orders/{}", o.id),
            number: o.number,
            status: o.status,
            gateway: o.gateway,
            total_won: o.total.0,
            created_at: rfc3339(o.created_at),
            paid_at: o.paid_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<Order>,
    /// Pass as `cursor` for the older orders; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrdersQuery {
    /// The `next` of the previous answer.
    cursor: Option<String>,
    /// 1 to 100 (20 when not given).
    limit: Option<i64>,
}

/// The owner's orders, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "commerce",
    summary = "주문 목록",
    params(OrdersQuery),
    responses((status = 200, description = "주문들", body = OrderList))
)]
pub async fn orders(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Query(query): Query<OrdersQuery>,
) -> AppResult<Response> {
    let mut checks = Checks::default();
    let limit = checks.limit(query.limit);
    let after = checks.cursor(query.cursor.as_deref(), cursor::decode_at::<Uuid>);
    checks.done()?;
    let mut conn = state.db.acquire().await?;
    // A person has a handful of orders: one read, the page cut here.
    // Only the orders: not what each one opened (the page's extra read).
    let mut rows = service::order_list(&mut conn, caller.user()).await?;
    drop(conn);
    rows.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.id.0)));
    let rows: Vec<OrderRow> = rows
        .into_iter()
        .filter(|o| after.is_none_or(|key| (o.created_at, o.id.0) < key))
        .take(limit as usize + 1)
        .collect();
    let more = rows.len() as i64 > limit;
    let rows: Vec<OrderRow> = rows.into_iter().take(limit as usize).collect();
    let next = more
        .then(|| {
            rows.last().map(|o| {
                cursor::encode(&[
                    o.created_at.unix_timestamp_nanos().to_string(),
                    o.id.to_string(),
                ])
            })
        })
        .flatten();
    let items = rows.into_iter().map(Order::from).collect();
    json(&headers, &OrderList { items, next })
}

/// An order with what it bought and its payment.
#[derive(Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: Order,
    pub items: Vec<OrderItem>,
    /// Once the gateway approved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderItem {
    pub product: ProductRef,
    pub title: String,
    pub price_won: i64,
    pub access_months: i32,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentInfo {
    /// For `/api/v1/payments/{id}` and its refunds.
    pub id: Uuid,
    /// How it was paid, as the gateway says (`card`, `money`, ...).
    pub method: String,
    pub amount_won: i64,
    /// What went back (settled refunds).
    pub refunded_won: i64,
    /// RFC 3339.
    pub approved_at: String,
    /// The receipt's page for people.
    pub receipt_url: String,
    /// What a refund asked by the buyer would return now (the refund
    /// policy's offer); 0 when the policy refuses one.
    pub refundable_won: i64,
}

/// One of the owner's orders: poll it to learn when it is paid.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "commerce",
    summary = "주문 하나",
    description = "무엇을 샀는지, 결제와 영수증 주소까지. 결제되었는지 알려면 이것을 다시 읽습니다.",
    params(("id" = Uuid, Path, description = "주문 id")),
    responses((status = 200, description = "주문과 그 상태", body = OrderDetail))
)]
pub async fn order(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Path(id): Path<OrderId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let detail = service::order_detail(
        &mut conn,
        &state.keys,
        &gateways.refund_policy,
        &caller.person,
        id,
    )
    .await?;
    json(&headers, &order_answer(detail))
}

fn order_answer(detail: service::OrderDetail) -> OrderDetail {
    let refundable = detail.refund_offer.as_ref().map_or(0, |o| o.amount().0);
    OrderDetail {
        order: detail.order.into(),
        items: detail
            .items
            .into_iter()
            .map(|i| OrderItem {
                product: i.product.into(),
                title: i.title,
                price_won: i.price.0,
                access_months: i.access_months,
            })
            .collect(),
        payment: detail.payment.map(|p| PaymentInfo {
            id: p.id.0,
            amount_won: p.amount.0,
            method: p.method,
            refunded_won: p.refunded.0,
            approved_at: rfc3339(p.approved_at),
            receipt_url: format!("/payments/{}/receipt", p.id),
            refundable_won: refundable,
        }),
    }
}

/// The order of a payment, as its buyer (or an admin) sees it.
async fn payment_detail(
    state: &AppState,
    gateways: &Gateways,
    caller: &crate::accounts::tokens::Caller,
    payment: PaymentId,
) -> AppResult<service::OrderDetail> {
    let mut conn = state.db.acquire().await?;
    let order = service::payment_order(&mut conn, &caller.person, payment).await?;
    Ok(service::order_detail(
        &mut conn,
        &state.keys,
        &gateways.refund_policy,
        &caller.person,
        order,
    )
    .await?)
}

/// A payment's order, as its buyer (or an admin) sees it.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}",
    tag = "commerce",
    summary = "결제 하나",
    description = "결제가 속한 주문과 그 상태. 구매자와 관리자의 토큰으로.",
    params(("id" = Uuid, Path, description = "결제 id")),
    responses((status = 200, description = "결제의 주문", body = OrderDetail))
)]
pub async fn payment(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Path(id): Path<PaymentId>,
) -> AppResult<Response> {
    let detail = payment_detail(&state, &gateways, &caller, id).await?;
    json(&headers, &order_answer(detail))
}

/// A refund asked for by a program.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// KRW; an admin's token only (absent: all that is left). A buyer
    /// gets what the refund policy offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_won: Option<i64>,
    /// Why, up to 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a refund answers: how much went back, and the payment's order now.
#[derive(Serialize, ToSchema)]
pub struct Refunded {
    pub refunded_won: i64,
    pub order: OrderDetail,
}

/// Refund a payment (an `Idempotency-Key` is needed).
#[utoipa::path(
    post,
    path = "/api/v1/payments/{id}/refunds",
    tag = "commerce",
    summary = "환불하기",
    description = "구매자는 환불 규정이 정한 금액을, 관리자는 정한 금액(없으면 남은 전부)을 돌려받게 합니다. 이 결제로 열린 수강은 끝납니다. 같은 Idempotency-Key는 같은 응답을 받습니다(환불은 한 번).",
    params(
        ("id" = Uuid, Path, description = "결제 id"),
        ("Idempotency-Key" = String, Header, description = "이 요청의 키 (1~255자)"),
    ),
    request_body = NewRefund,
    responses((status = 201, description = "환불한 금액과 주문", body = Refunded))
)]
pub async fn refund(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    Writer(caller): Writer,
    headers: HeaderMap,
    Path(id): Path<PaymentId>,
    Json(ask): Json<NewRefund>,
) -> AppResult<Response> {
    if ask.amount_won.is_some() && !caller.person.is_admin() {
        return Err(AppError::field(
            "amount_won",
            "환불 금액은 관리자만 정합니다. 빼고 보내면 환불 규정의 금액을 돌려받습니다.",
        ));
    }
    let fingerprint = serde_json::to_vec(&("POST /api/v1/payments/refunds", id.0, &ask))
        .map_err(|e| AppError::Internal(e.into()))?;
    idempotency::once(&state.db, &caller, &headers, &fingerprint, async || {
        let reason = match ask.reason.as_deref().map(str::trim) {
            Some(reason) if !reason.is_empty() => reason,
            _ if caller.person.is_admin() => "관리자 환불",
            _ => "수강생 환불 요청",
        };
        let refunded = payments::refund(
            &state.db,
            &gateways,
            &caller.person,
            id,
            ask.amount_won.map(Won),
            reason,
            None,
        )
        .await?;
        // No form key is sent: the Idempotency-Key above already decided.
        let Once::Done(refunded) = refunded else {
            return Err(AppError::Internal(anyhow::anyhow!(
                "a refund without a key repeated"
            )));
        };
        let detail = payment_detail(&state, &gateways, &caller, id).await?;
        let answer = Refunded {
            refunded_won: refunded.0,
            order: order_answer(detail),
        };
        let body = serde_json::to_vec(&answer).map_err(|e| AppError::Internal(e.into()))?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}

/// An order placed from the cart.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// One of the `GatewayKind` codes this platform takes.
    pub gateway: String,
    /// The refund policy and the withdrawal rules, agreed by the person.
    pub agree_refund: bool,
    /// A saved billing address (`/me/addresses`); absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_id: Option<Uuid>,
}

/// What placing an order answers: the order, and where the person pays.
#[derive(Serialize, ToSchema)]
pub struct Placed {
    pub order: Order,
    /// Open this in the person's browser to pay at the gateway.
    pub pay_url: String,
}

/// Place an order for the cart (an `Idempotency-Key` is needed).
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "commerce",
    summary = "주문하기",
    description = "장바구니를 주문하고 결제할 주소를 돌려줍니다. 같은 Idempotency-Key는 같은 응답을 받습니다(주문은 하나).",
    params(("Idempotency-Key" = String, Header, description = "이 요청의 키 (1~255자)")),
    request_body = NewOrder,
    responses((status = 201, description = "주문과 결제 주소", body = Placed))
)]
pub async fn place(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    Writer(caller): Writer,
    headers: HeaderMap,
    Json(new): Json<NewOrder>,
) -> AppResult<Response> {
    let fingerprint = serde_json::to_vec(&("POST /api/v1/orders", &new))
        .map_err(|e| AppError::Internal(e.into()))?;
    idempotency::once(&state.db, &caller, &headers, &fingerprint, async || {
        let gateway = GatewayKind::parse(&new.gateway).filter(|g| gateways.is_enabled(*g));
        let Some(gateway) = gateway else {
            return Err(crate::commerce::error::CommerceError::GatewayMissing.into());
        };
        let billing = match new.address_id {
            Some(id) => Billing::Saved(Some(AddressId(id))),
            None => Billing::None,
        };
        let mut tx = state.db.begin().await?;
        let order = service::create_order(
            &mut tx,
            &state.keys,
            &caller.person,
            billing,
            gateway,
            new.agree_refund,
        )
        .await?;
        tx.commit().await?;
        let pay_url = payments::start(
            &state.db,
            &gateways,
            state.config.public_url.as_str(),
            order,
            |first, more| format!("{first} 외 {more}건"),
        )
        .await?;
        let mut conn = state.db.acquire().await?;
        let row = service::own_order(&mut conn, &caller.person, order).await?;
        let placed = Placed {
            order: row.into(),
            pay_url,
        };
        let body = serde_json::to_vec(&placed).map_err(|e| AppError::Internal(e.into()))?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}
