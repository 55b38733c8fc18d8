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
        model::OrderStatus,
        service,
        views::{AdminPaymentPage, AdminPaymentsPage},
    },
    error::AppResult,
    ids::OrderId,
    state::AppState,
    web::{self, PageCtx, Path},
};

#[derive(Deserialize, Default)]
pub struct AdminPaymentsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn parse_date(raw: &str) -> Option<time::Date> {
    time::Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

pub async fn payments(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<AdminPaymentsQuery>,
) -> AppResult<Response> {
    let status = OrderStatus::parse(&query.status);
    let mut conn = state.db.acquire().await?;
    let orders = service::admin_orders(
        &mut conn,
        status,
        parse_date(&query.from),
        parse_date(&query.to),
    )
    .await?;
    Ok(web::render(&AdminPaymentsPage {
        ctx,
        orders,
        status,
        from: query.from,
        to: query.to,
    })?
    .into_response())
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
    Ok(web::render(&AdminPaymentPage { ctx, detail })?.into_response())
}
