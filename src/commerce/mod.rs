//! Cart, billing addresses, checkout, payments, orders and receipts, and the
//! access (enrolment) a payment grants.

pub mod flow;
pub mod gateway;
mod handlers;
pub mod refund;
mod repo;
pub mod service;
mod views;

use axum::{
    Router,
    routing::{get, post},
};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{
    app::AppState,
    ids::{CourseId, UserId},
};

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .route("/cart", get(cart))
        .route("/cart/items", post(add_to_cart))
        .route("/cart/items/{id}/delete", post(remove_from_cart))
        .route("/me/addresses", get(addresses).post(create_address))
        .route("/me/addresses/{id}", get(edit_address).post(update_address))
        .route("/me/addresses/{id}/delete", post(delete_address))
        .route("/checkout", get(checkout).post(place_order))
        .route("/payments/demo/{id}", get(demo_page))
        .route("/payments/demo/{id}/approve", post(demo_approve))
        .route("/payments/demo/{id}/fail", post(demo_fail))
        .route("/payments/kakaopay/approve", get(kakaopay_approve))
        .route("/payments/kakaopay/cancel", get(kakaopay_cancel))
        .route("/payments/kakaopay/fail", get(kakaopay_fail))
        .route("/payments/toss/success", get(toss_success))
        .route("/payments/toss/fail", get(toss_fail))
        .route("/payments/toss/{id}", get(toss_page))
        .route("/orders", get(orders))
        .route("/orders/{id}", get(order))
        .route("/payments/{id}/receipt", get(receipt))
        .route("/payments/{id}/refund", post(refund))
        .route("/admin/payments", get(admin_payments))
        .route("/admin/payments/{id}", get(admin_payment))
}

/// Where a learner stands with a course.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Can study until then.
    Active(OffsetDateTime),
    /// Had access; it ended (expired or refunded).
    Lapsed,
    None,
}

/// Access to a course, directly or through a curriculum that holds it.
pub async fn course_access(
    conn: &mut PgConnection,
    user: UserId,
    course: CourseId,
) -> sqlx::Result<Access> {
    let access = repo::course_access(conn, user, course).await?;
    Ok(match (access.active_until, access.lapsed) {
        (Some(until), _) => Access::Active(until),
        (None, true) => Access::Lapsed,
        (None, false) => Access::None,
    })
}

/// The curricula a user may study now (id, expiry).
pub async fn active_curricula(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(uuid::Uuid, OffsetDateTime)>> {
    repo::active_curricula(conn, user).await
}

pub use flow::RECONCILE_JOB;

/// The `payments.reconcile` job: `{"order": uuid}`.
pub async fn reconcile(state: &AppState, payload: serde_json::Value) -> anyhow::Result<()> {
    let order: uuid::Uuid = serde_json::from_value(payload["order"].clone())?;
    flow::reconcile(&state.db, &state.gateways, order).await?;
    Ok(())
}

/// What a learner has access to, for the dashboard.
pub struct Enrolment {
    pub title: String,
    /// Where to go: the home roadmap for a curriculum, the course page for a course.
    pub href: String,
    pub since: String,
    pub until: String,
    pub active: bool,
}

pub async fn enrolments(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Enrolment>> {
    Ok(repo::enrolments_of(conn, user)
        .await?
        .into_iter()
        .map(|e| Enrolment {
            title: e.title,
            href: match (e.curriculum_id, e.course_id) {
                (_, Some(course)) => format!("/courses/{course}"),
                _ => "/".into(),
            },
            since: crate::web::dates::date(&e.starts_at),
            until: crate::web::dates::date(&e.expires_at),
            active: e.active,
        })
        .collect())
}
