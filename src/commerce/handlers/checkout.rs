//! Billing addresses and checkout.

use crate::commerce::gateway::Gateways;
use std::sync::Arc;

use crate::web::Form;
use axum::{extract::State, response::Response};
use serde::Deserialize;

use crate::{
    accounts::CurrentUser,
    commerce::{
        CommerceError,
        handlers::errors::{form_errors, refused},
        model::GatewayKind,
        payments,
        service::{self, AddressForm, Billing},
        views::{AddressEditPage, AddressesPage, CheckoutPage},
    },
    error::AppResult,
    ids::AddressId,
    infra::once::{self, Once},
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash, form::FormErrors, htmx},
};

async fn addresses_page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    form: AddressForm,
    errors: FormErrors,
) -> AppResult<AddressesPage> {
    let mut conn = state.db.acquire().await?;
    let addresses = service::addresses(&mut conn, &state.keys, user.id).await?;
    Ok(AddressesPage {
        ctx,
        addresses,
        form,
        errors,
    })
}

pub async fn addresses(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let page = addresses_page(
        &state,
        ctx,
        &user,
        AddressForm::default(),
        FormErrors::new(),
    )
    .await?;
    web::render(&page)
}

/// Saves an address; a refused form comes back with its messages (422).
async fn save_address(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: Option<AddressId>,
    form_key: Option<uuid::Uuid>,
    form: AddressForm,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let saved = once::run(
        &mut tx,
        form_key,
        async |tx| service::save_address(tx, &state.keys, user.id, id, &form).await,
        |_| "/me/addresses".to_string(),
    )
    .await;
    match saved {
        Ok(Once::Repeat(first)) => Ok(ctx.repeated(first.as_deref(), "/me/addresses")),
        Ok(Once::Done(_)) => {
            tx.commit().await?;
            let message = if id.is_some() {
                "청구지 주소를 수정했습니다."
            } else {
                "청구지 주소를 저장했습니다."
            };
            Ok(ctx.redirect("/me/addresses", Flash::success(message)))
        }
        Err(err) => {
            drop(tx);
            let Some(errors) = form_errors(&err) else {
                return Err(err.into());
            };
            match id {
                Some(id) => web::invalid(&AddressEditPage {
                    ctx,
                    id,
                    form,
                    errors: errors.into(),
                }),
                None => web::invalid(&addresses_page(state, ctx, user, form, errors.into()).await?),
            }
        }
    }
}

/// A new address, with the form's one-time key.
#[derive(Deserialize)]
pub struct NewAddressForm {
    form_key: Option<uuid::Uuid>,
    #[serde(flatten)]
    address: AddressForm,
}

pub async fn create_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<NewAddressForm>,
) -> AppResult<Response> {
    save_address(&state, ctx, &user, None, form.form_key, form.address).await
}

pub async fn edit_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<AddressId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let address = service::address(&mut conn, &state.keys, user.id, id).await?;
    web::render(&AddressEditPage {
        ctx,
        id: address.id,
        form: AddressForm::from(&address),
        errors: FormErrors::new(),
    })
}

pub async fn update_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<AddressId>,
    Form(form): Form<AddressForm>,
) -> AppResult<Response> {
    save_address(&state, ctx, &user, Some(id), None, form).await
}

pub async fn delete_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<AddressId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::delete_address(&mut conn, user.id, id).await?;
    Ok(ctx.redirect("/me/addresses", Flash::info("청구지 주소를 삭제했습니다.")))
}

/// What the checkout form held, to show it again with its messages.
#[derive(Default)]
struct Typed {
    chosen: Option<String>,
    form: AddressForm,
    save_address: bool,
    gateway: String,
    agree_refund: bool,
}

async fn checkout_page(
    state: &AppState,
    gateways: &Gateways,
    ctx: PageCtx,
    user: &CurrentUser,
    typed: Typed,
    errors: FormErrors,
) -> AppResult<CheckoutPage> {
    let mut conn = state.db.acquire().await?;
    let cart = service::cart(&mut conn, user.id).await?;
    let addresses = service::addresses(&mut conn, &state.keys, user.id).await?;
    // The default address when there is one; otherwise no address (a
    // digital course's receipt needs none).
    let chosen = typed.chosen.unwrap_or_else(|| {
        addresses
            .iter()
            .find(|a| a.is_default)
            .or(addresses.first())
            .map_or_else(|| NO_ADDRESS.to_string(), |a| a.id.to_string())
    });
    let policy = gateways.refund_policy;
    let gateways = gateways.options();
    let gateway = match gateways.iter().any(|g| g.as_str() == typed.gateway) {
        true => typed.gateway,
        false => gateways
            .first()
            .map(|g| g.as_str().to_string())
            .unwrap_or_default(),
    };
    Ok(CheckoutPage {
        ctx,
        cart,
        addresses,
        chosen,
        form: typed.form,
        save_address: typed.save_address,
        gateway,
        gateways,
        verified: user.verified,
        policy,
        agree_refund: typed.agree_refund,
        errors,
    })
}

/// The `address_id` of the "type a new address" choice.
const NEW_ADDRESS: &str = "new";
/// The `address_id` of the "no address" choice.
const NO_ADDRESS: &str = "none";

pub async fn checkout(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let typed = Typed {
        save_address: true,
        ..Typed::default()
    };
    let page = checkout_page(&state, &gateways, ctx, &user, typed, FormErrors::new()).await?;
    web::render(&page)
}

#[derive(Deserialize)]
pub struct CheckoutForm {
    address_id: Option<String>,
    #[serde(default)]
    gateway: String,
    /// "Save this address for next time", for a new address.
    save_address: Option<String>,
    form_key: Option<uuid::Uuid>,
    /// The refund policy and withdrawal rules, agreed.
    agree_refund: Option<String>,
    #[serde(flatten)]
    address: AddressForm,
}

/// Places the order (with a new address saved in the same transaction when
/// asked), then sends the learner to the gateway.
pub async fn place_order(
    State(state): State<AppState>,
    State(gateways): State<Arc<Gateways>>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<CheckoutForm>,
) -> AppResult<Response> {
    let billing = match form.address_id.as_deref() {
        Some(NO_ADDRESS) => Billing::None,
        Some(NEW_ADDRESS) => Billing::New {
            form: &form.address,
            save: form.save_address.is_some(),
        },
        other => Billing::Saved(other.and_then(|a| a.parse().ok()).map(AddressId)),
    };
    let gateway = GatewayKind::parse(&form.gateway).filter(|g| gateways.is_enabled(*g));
    let placed = match gateway {
        Some(gateway) => {
            let mut tx = state.db.begin().await?;
            let placed = once::run(
                &mut tx,
                form.form_key,
                async |tx| {
                    let agreed = form.agree_refund.is_some();
                    service::create_order(tx, &state.keys, &user, billing, gateway, agreed).await
                },
                |order| format!("/orders/{order}"),
            )
            .await;
            if placed.is_ok() {
                tx.commit().await?;
            }
            placed
        }
        None => Err(CommerceError::GatewayMissing),
    };
    let order = match placed {
        Ok(Once::Done(order)) => order,
        Ok(Once::Repeat(first)) => {
            return Ok(ctx.repeated(first.as_deref(), "/orders"));
        }
        Err(err) => {
            return match form_errors(&err) {
                Some(errors) => {
                    let typed = Typed {
                        chosen: form.address_id,
                        form: form.address,
                        save_address: form.save_address.is_some(),
                        gateway: form.gateway,
                        agree_refund: form.agree_refund.is_some(),
                    };
                    web::invalid(
                        &checkout_page(&state, &gateways, ctx, &user, typed, errors.into()).await?,
                    )
                }
                None => refused(&ctx, err, "/cart"),
            };
        }
    };
    let started = payments::start(
        &state.db,
        &gateways,
        state.config.public_url.as_str(),
        order,
        |first, more| format!("{first} 외 {more}건"),
    )
    .await;
    match started {
        // htmx would fetch the gateway page itself: make the browser go.
        Ok(to) => Ok(htmx::redirect(ctx.htmx, &to)),
        Err(err) => refused(&ctx, err, "/cart"),
    }
}
