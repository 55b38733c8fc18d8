//! Cart, billing addresses, checkout, payments through gateways, orders,
//! receipts and refunds. Access bought is granted through `learning::access`.

pub mod error;
pub mod figures;
pub mod gateway;
pub mod handlers;
pub mod model;
pub mod payments;
pub mod refund;
mod repo;
pub mod service;
mod views;

pub use error::CommerceError;
pub use payments::{RECONCILE_JOB, Reconcile};

/// The `payments.reconcile` job: `{"order": id}` or `{"refund": id}`.
pub async fn reconcile(
    db: &sqlx::PgPool,
    gateways: &gateway::Gateways,
    payload: serde_json::Value,
) -> anyhow::Result<()> {
    let what: Reconcile = serde_json::from_value(payload)?;
    payments::reconcile(db, gateways, what).await
}
