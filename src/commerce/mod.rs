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
        .route("/cart", get(cart::cart))
        .route("/cart/items", post(cart::add))
        .route("/cart/items/{id}/delete", post(cart::remove))
        .route(
            "/me/addresses",
            get(checkout::addresses).post(checkout::create_address),
        )
        .route(
            "/me/addresses/{id}",
            get(checkout::edit_address).post(checkout::update_address),
        )
        .route("/me/addresses/{id}/delete", post(checkout::delete_address))
        .route(
            "/checkout",
            get(checkout::checkout).post(checkout::place_order),
        )
        .route("/payments/demo/{id}", get(returns::demo_page))
        .route("/payments/demo/{id}/approve", post(returns::demo_approve))
        .route("/payments/demo/{id}/fail", post(returns::demo_fail))
        .route("/payments/kakaopay/approve", get(returns::kakaopay_approve))
        .route("/payments/kakaopay/cancel", get(returns::kakaopay_cancel))
        .route("/payments/kakaopay/fail", get(returns::kakaopay_fail))
        .route("/payments/toss/success", get(returns::toss_success))
        .route("/payments/toss/fail", get(returns::toss_fail))
        .route("/payments/toss/{id}", get(returns::toss_page))
        .route("/orders", get(orders::orders))
        .route("/orders/{id}", get(orders::order))
        .route("/payments/{id}/receipt", get(orders::receipt))
        .route("/payments/{id}/refund", post(orders::refund))
        .route("/admin/payments", get(admin::payments))
        .route("/admin/payments/{id}", get(admin::payment))
}

/// The `payments.reconcile` job: `{"order": id}` or `{"refund": id}`.
pub async fn reconcile(state: &AppState, payload: serde_json::Value) -> anyhow::Result<()> {
    let what: Reconcile = serde_json::from_value(payload)?;
    payments::reconcile(&state.db, &state.gateways, what).await
}
