//! The admin's payments: a list by state and date, and each order with its
//! refunds and gateway call log.

use crate::commerce::gateway::Gateways;
use std::sync::Arc;

use crate::accounts::Admin;
use crate::web::Query;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    commerce::{
        model::{OrderDates, OrderStatus},
        service,
        views::{AdminPaymentPage, AdminPaymentsPage},
    },
    error::AppResult,
    ids::OrderId,
    labels::Label,
    state::AppState,
    web::{self, PageCtx, Path, csv::Csv, dates::DaysQuery},
};

#[derive(Deserialize, Default)]
pub struct AdminPaymentsQuery {
    #[serde(default)]
    status: String,
    /// Which date `from` and `to` read: `ordered` (default), `paid`,
    /// `refunded`.
    #[serde(default)]
    dates: String,
    #[serde(flatten)]
    days: DaysQuery,
    #[serde(default)]
    format: String,
}

/// `/admin/payments?status=&dates=&from=&to=&format=csv`.
pub async fn payments(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<AdminPaymentsQuery>,
) -> AppResult<Response> {
    let status = OrderStatus::parse(&query.status);
    let dates = OrderDates::parse(&query.dates).unwrap_or(OrderDates::Ordered);
    let csv = query.format == "csv";
    let mut conn = state.db.acquire().await?;
    let orders = service::admin_orders(
        &mut conn,
        status,
        dates,
        query.days.first(),
        query.days.last(),
        if csv { 100_000 } else { 200 },
    )
    .await?;
    if csv {
        let mut csv = Csv::new(
            "payments",
            &[
                "주문 번호",
                "주문 시각",
                "결제 시각",
                "구매자",
                "금액(원)",
                "환불(원)",
                "결제 수단",
                "상태",
            ],
        );
        for o in &orders {
            csv.row([
                o.number.clone(),
                web::dates::sheet(&o.created_at),
                o.paid_at
                    .as_ref()
                    .map(web::dates::sheet)
                    .unwrap_or_default(),
                o.buyer_email.clone(),
                o.total.0.to_string(),
                o.refunded.map(|r| r.0.to_string()).unwrap_or_default(),
                o.gateway.label().to_owned(),
                o.status.label().to_owned(),
            ]);
        }
        return Ok(csv.into_response());
    }
    web::render(&AdminPaymentsPage {
        ctx,
        orders,
        status,
        dates,
        from: query.days.from,
        to: query.days.to,
    })
}

pub async fn payment(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    Admin(admin): Admin,
    Path(id): Path<OrderId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let detail =
        service::admin_order(&mut conn, &state.keys, &gateways.refund_policy, &admin, id).await?;
    web::render(&AdminPaymentPage { ctx, detail })
}
