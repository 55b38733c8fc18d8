//! Cart, billing addresses, checkout, payments through gateways, orders,
//! receipts and refunds. Access bought is granted through `learning::access`.

pub mod error;
pub mod gateway;
mod handlers;
pub mod model;
pub mod payments;
pub mod refund;
mod repo;
pub mod service;
mod views;

use crate::web::routes::At;
use axum::{
    Router,
    routing::{get, post},
};

use crate::app::AppState;

pub use error::CommerceError;
pub use payments::{RECONCILE_JOB, Reconcile};

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .at("/cart", get(cart::cart))
        .at("/cart/items", post(cart::add))
        .at("/cart/want", get(cart::want))
        .at("/cart/items/{id}/delete", post(cart::remove))
        .at(
            "/me/addresses",
            get(checkout::addresses).post(checkout::create_address),
        )
        .at(
            "/me/addresses/{id}",
            get(checkout::edit_address).post(checkout::update_address),
        )
        .at("/me/addresses/{id}/delete", post(checkout::delete_address))
        .at(
            "/checkout",
            get(checkout::checkout).post(checkout::place_order),
        )
        .at("/payments/demo/{id}", get(returns::demo_page))
        .at("/payments/demo/{id}/approve", post(returns::demo_approve))
        .at("/payments/demo/{id}/fail", post(returns::demo_fail))
        .at("/payments/kakaopay/approve", get(returns::kakaopay_approve))
        .at("/payments/kakaopay/cancel", get(returns::kakaopay_cancel))
        .at("/payments/kakaopay/fail", get(returns::kakaopay_fail))
        .at("/payments/toss/success", get(returns::toss_success))
        .at("/payments/toss/fail", get(returns::toss_fail))
        .at("/payments/toss/{id}", get(returns::toss_page))
        .at("/orders", get(orders::orders))
        .at("/orders/{id}", get(orders::order))
        .at("/payments/{id}/receipt", get(orders::receipt))
        .at(
            "/payments/{id}/refund",
            get(orders::refund_page).post(orders::refund),
        )
        .at("/admin/payments", get(admin::payments))
        .at("/admin/payments/{id}", get(admin::payment))
}

/// The `payments.reconcile` job: `{"order": id}` or `{"refund": id}`.
pub async fn reconcile(state: &AppState, payload: serde_json::Value) -> anyhow::Result<()> {
    let what: Reconcile = serde_json::from_value(payload)?;
    payments::reconcile(&state.db, &state.gateways, what).await
}
