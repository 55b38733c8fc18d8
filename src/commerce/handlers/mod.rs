//! Commerce pages, by area. Each handler: extract, authorise, one service
//! call, then a page or a redirect; refusals become a flash on the page the
//! learner goes back to (`errors::outcome`).

use axum::extract::FromRef;

pub mod admin;
pub mod cart;
pub mod checkout;
mod errors;

pub mod orders;
pub mod returns;

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    std::sync::Arc<crate::commerce::gateway::Gateways>: FromRef<S>,
    std::sync::Arc<crate::catalog::CatalogCache>: FromRef<S>,
{
    use crate::web::routes::prelude::*;
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
        .at(
            "/payments/kakaopay/cancel",
            get(returns::kakaopay_left::<false>),
        )
        .at(
            "/payments/kakaopay/fail",
            get(returns::kakaopay_left::<true>),
        )
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
