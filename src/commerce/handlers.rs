//! Cart, addresses, checkout, the demo gateway, orders and receipts.

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    accounts::CurrentUser,
    app::AppState,
    commerce::{
        flow, gateway,
        service::{self, AddressForm, Approval, Product},
        views::*,
    },
    error::{AppError, AppResult},
    web::{self, PageCtx, auth::MaybeUser, flash::Flash, form::FormErrors, htmx},
};

// ---------- cart ----------

#[derive(Deserialize)]
pub struct AddForm {
    curriculum_id: Option<String>,
    course_id: Option<String>,
}

pub async fn add_to_cart(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    Form(form): Form<AddForm>,
) -> AppResult<Response> {
    let Some(user) = user else {
        return Ok(web::redirect_with(
            &state,
            &ctx,
            "/login?next=%2Fcart",
            Flash::info("로그인하거나 가입하면 장바구니에 담을 수 있습니다."),
        ));
    };
    let product = Product::from_form(form.curriculum_id.as_deref(), form.course_id.as_deref())?;
    let mut conn = state.db.acquire().await?;
    match service::add_to_cart(&mut conn, &user, product).await {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/cart",
            Flash::success("장바구니에 담았습니다."),
        )),
        Err(AppError::Conflict(message)) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/cart",
            Flash::warning(message),
        )),
        Err(other) => Err(other),
    }
}

pub async fn cart(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let cart = service::cart(&mut conn, user.id).await?;
    Ok(web::render(&CartPage { ctx, cart })?.into_response())
}

pub async fn remove_from_cart(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::remove_from_cart(&mut conn, user.id, web::path_id::<Uuid>(&id)?).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/cart",
        Flash::info("장바구니에서 뺐습니다."),
    ))
}

// ---------- addresses ----------

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
    Ok(web::render(&page)?.into_response())
}

pub async fn create_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<AddressForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match service::save_address(&mut tx, &state.keys, user.id, None, &form).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                "/me/addresses",
                Flash::success("청구지 주소를 저장했습니다."),
            ))
        }
        Err(AppError::Validation(errors)) => {
            drop(tx);
            let page = addresses_page(&state, ctx, &user, form, errors.into()).await?;
            web::invalid(&page)
        }
        Err(other) => Err(other),
    }
}

pub async fn edit_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let address =
        service::address(&mut conn, &state.keys, user.id, web::path_id::<Uuid>(&id)?).await?;
    let form = AddressForm {
        country: address.country.clone(),
        main: address.fields.main.clone(),
        detail: address.fields.detail.clone(),
        postal_code: address.fields.postal_code.clone(),
        is_default: address.is_default.then(|| "on".to_string()),
    };
    Ok(web::render(&AddressEditPage {
        ctx,
        id: address.id,
        form,
        errors: FormErrors::new(),
    })?
    .into_response())
}

pub async fn update_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<AddressForm>,
) -> AppResult<Response> {
    let id = web::path_id::<Uuid>(&id)?;
    let mut tx = state.db.begin().await?;
    match service::save_address(&mut tx, &state.keys, user.id, Some(id), &form).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                "/me/addresses",
                Flash::success("청구지 주소를 고쳤습니다."),
            ))
        }
        Err(AppError::Validation(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            web::render(&AddressEditPage {
                ctx,
                id,
                form,
                errors: errors.into(),
            })?,
        )
            .into_response()),
        Err(other) => Err(other),
    }
}

pub async fn delete_address(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::delete_address(&mut conn, user.id, web::path_id::<Uuid>(&id)?).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/me/addresses",
        Flash::info("청구지 주소를 지웠습니다."),
    ))
}

// ---------- checkout ----------

async fn checkout_page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    errors: FormErrors,
) -> AppResult<CheckoutPage> {
    let mut conn = state.db.acquire().await?;
    let cart = service::cart(&mut conn, user.id).await?;
    let addresses = service::addresses(&mut conn, &state.keys, user.id).await?;
    Ok(CheckoutPage {
        ctx,
        cart,
        addresses,
        gateways: gateway::available(&state.gateways),
        verified: user.verified,
        errors,
    })
}

pub async fn checkout(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    Ok(web::render(&checkout_page(&state, ctx, &user, FormErrors::new()).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct CheckoutForm {
    address_id: Option<String>,
    #[serde(default)]
    gateway: String,
}

pub async fn place_order(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<CheckoutForm>,
) -> AppResult<Response> {
    let Some(gateway) = gateway::available(&state.gateways)
        .into_iter()
        .find(|g| g.code == form.gateway)
    else {
        let mut errors = FormErrors::new();
        errors.add("gateway", "결제 수단을 선택해 주세요.");
        let page = checkout_page(&state, ctx, &user, errors).await?;
        return web::invalid(&page);
    };
    let address = form
        .address_id
        .as_deref()
        .and_then(|a| a.parse::<Uuid>().ok());
    let mut tx = state.db.begin().await?;
    match service::create_order(&mut tx, &state.keys, &user, address, gateway.code).await {
        Ok(order) => {
            tx.commit().await?;
            let to = match gateway.code {
                "kakaopay" => {
                    match flow::start_kakaopay(&state.db, &state.gateways, &state.config, order)
                        .await
                    {
                        Ok(url) => url,
                        Err(AppError::Conflict(message)) => {
                            return Ok(web::redirect_with(
                                &state,
                                &ctx,
                                "/cart",
                                Flash::warning(message),
                            ));
                        }
                        Err(other) => return Err(other),
                    }
                }
                "toss" => format!("/payments/toss/{order}"),
                _ => gateway::start_url(order),
            };
            // htmx would fetch the gateway page itself: make the browser go.
            Ok(htmx::redirect(ctx.htmx, &to))
        }
        Err(AppError::Validation(errors)) => {
            drop(tx);
            let page = checkout_page(&state, ctx, &user, errors.into()).await?;
            web::invalid(&page)
        }
        Err(AppError::Conflict(message)) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/cart",
            Flash::warning(message),
        )),
        Err(other) => Err(other),
    }
}

// ---------- the demo gateway ----------

fn demo_enabled(state: &AppState) -> AppResult<()> {
    if state.gateways.demo {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn demo_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    demo_enabled(&state)?;
    let mut conn = state.db.acquire().await?;
    let order = service::own_order(&mut conn, &user, web::path_id::<Uuid>(&id)?).await?;
    Ok(web::render(&DemoGatewayPage { ctx, order })?.into_response())
}

#[derive(Deserialize)]
pub struct DemoApproveForm {
    /// What the (pretend) gateway charged; the server compares it with the order.
    amount: i64,
}

pub async fn demo_approve(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<DemoApproveForm>,
) -> AppResult<Response> {
    demo_enabled(&state)?;
    let order_id = web::path_id::<Uuid>(&id)?;
    let mut tx = state.db.begin().await?;
    service::own_order(&mut tx, &user, order_id).await?;
    let tx_id = format!("demo-{}", order_id.simple());
    let started = std::time::Instant::now();
    let result = service::complete_payment(
        &mut tx,
        order_id,
        Approval {
            gateway: "demo",
            tx_id: &tx_id,
            method: "테스트 결제",
            amount_won: form.amount,
            approved_at: time::OffsetDateTime::now_utc(),
        },
    )
    .await;
    gateway::record(
        &mut tx,
        &gateway::GatewayCall {
            order: Some(order_id),
            gateway: "demo",
            operation: "approve",
            request: serde_json::json!({ "amount": form.amount }),
            response: result
                .as_ref()
                .ok()
                .map(|p| serde_json::json!({ "tx_id": p.gateway_tx_id })),
            http_status: None,
            duration_ms: gateway::elapsed_ms(started),
            error: result.as_ref().err().map(|e| e.to_string()),
        },
    )
    .await?;
    match result {
        Ok(payment) => {
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                &format!("/orders/{}", payment.order_id),
                Flash::success("결제가 완료되었습니다. 지금 바로 학습을 시작할 수 있습니다."),
            ))
        }
        Err(AppError::Conflict(message)) => {
            // The failed state and the call log are kept.
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                &format!("/orders/{order_id}"),
                Flash::warning(message),
            ))
        }
        Err(other) => Err(other),
    }
}

pub async fn demo_fail(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    demo_enabled(&state)?;
    let order_id = web::path_id::<Uuid>(&id)?;
    let mut tx = state.db.begin().await?;
    service::own_order(&mut tx, &user, order_id).await?;
    service::fail_order(
        &mut tx,
        order_id,
        "the learner chose to fail the test payment",
    )
    .await?;
    tx.commit().await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/cart",
        Flash::warning("결제가 완료되지 않았습니다. 장바구니는 그대로 남아 있습니다."),
    ))
}

// ---------- orders and receipts ----------

pub async fn orders(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let orders = service::orders(&mut conn, user.id).await?;
    Ok(web::render(&OrdersPage { ctx, orders })?.into_response())
}

pub async fn order(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let detail =
        service::order_detail(&mut conn, &state.keys, &user, web::path_id::<Uuid>(&id)?).await?;
    let refund_offer = match &detail.payment {
        Some(payment) if matches!(detail.order.status.as_str(), "paid" | "partially_refunded") => {
            Some(
                service::refund_offer(
                    &mut conn,
                    &state.gateways.refund_policy,
                    payment,
                    &detail.order,
                )
                .await?,
            )
        }
        _ => None,
    };
    Ok(web::render(&OrderPage {
        ctx,
        detail,
        refund_offer,
    })?
    .into_response())
}

pub async fn receipt(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let order = service::payment_order(&mut conn, &user, web::path_id::<Uuid>(&id)?).await?;
    let detail = service::order_detail(&mut conn, &state.keys, &user, order).await?;
    Ok(web::render(&ReceiptPage {
        ctx,
        detail,
        buyer: user.nickname.clone(),
        buyer_email: user.email.clone(),
    })?
    .into_response())
}

// ---------- refunds ----------

#[derive(Deserialize)]
pub struct RefundForm {
    amount: Option<String>,
    #[serde(default)]
    reason: String,
}

pub async fn refund(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<RefundForm>,
) -> AppResult<Response> {
    let payment: Uuid = web::path_id(&id)?;
    let admin_amount = match form
        .amount
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(raw) => Some(
            raw.replace(',', "")
                .parse::<i64>()
                .map_err(|_| AppError::field("amount", "환불 금액을 숫자로 입력해 주세요."))?,
        ),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let order = service::payment_order(&mut tx, &user, payment).await?;
    let back = if user.is_admin() {
        format!("/admin/payments/{order}")
    } else {
        format!("/orders/{order}")
    };
    match service::refund(
        &mut tx,
        &state.gateways,
        &user,
        payment,
        admin_amount,
        &form.reason,
    )
    .await
    {
        Ok(amount) => {
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                &back,
                Flash::success(format!(
                    "{}을 환불했습니다. 이 결제로 열린 수강은 종료되었습니다.",
                    crate::catalog::model::Won(amount).display()
                )),
            ))
        }
        Err(AppError::Conflict(message)) => Ok(web::redirect_with(
            &state,
            &ctx,
            &back,
            Flash::warning(message),
        )),
        Err(AppError::Validation(errors)) => {
            let message = errors
                .values()
                .flatten()
                .next()
                .cloned()
                .unwrap_or_default();
            Ok(web::redirect_with(
                &state,
                &ctx,
                &back,
                Flash::warning(message),
            ))
        }
        Err(other) => Err(other),
    }
}

// ---------- admin ----------

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

pub async fn admin_payments(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: crate::web::auth::Admin,
    axum::extract::Query(query): axum::extract::Query<AdminPaymentsQuery>,
) -> AppResult<Response> {
    let status = Some(query.status.as_str()).filter(|s| service::status_label(s) != "알 수 없음");
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
        status: status.unwrap_or_default().to_string(),
        from: query.from,
        to: query.to,
    })?
    .into_response())
}

pub async fn admin_payment(
    State(state): State<AppState>,
    ctx: PageCtx,
    crate::web::auth::Admin(admin): crate::web::auth::Admin,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let detail = service::admin_order(&mut conn, &state.keys, &admin, web::path_id(&id)?).await?;
    Ok(web::render(&AdminPaymentPage { ctx, detail })?.into_response())
}

// ---------- KakaoPay returns ----------

#[derive(Deserialize)]
pub struct KakaoReturn {
    order: String,
    pg_token: Option<String>,
}

pub async fn kakaopay_approve(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<KakaoReturn>,
) -> AppResult<Response> {
    let order: Uuid = web::path_id(&query.order)?;
    {
        let mut conn = state.db.acquire().await?;
        service::own_order(&mut conn, &user, order).await?;
    }
    let pg_token = query
        .pg_token
        .ok_or_else(|| AppError::BadRequest("카카오페이 승인 정보가 없습니다.".into()))?;
    match flow::kakaopay_return(&state.db, &state.gateways, order, &pg_token).await {
        Ok(order) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/orders/{order}"),
            Flash::success("결제가 완료되었습니다. 지금 바로 학습을 시작할 수 있습니다."),
        )),
        Err(AppError::Conflict(message)) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/cart",
            Flash::warning(message),
        )),
        Err(other) => Err(other),
    }
}

async fn kakaopay_left(
    state: AppState,
    ctx: PageCtx,
    user: CurrentUser,
    order: &str,
    status: &str,
    message: &str,
) -> AppResult<Response> {
    let order: Uuid = web::path_id(order)?;
    {
        let mut conn = state.db.acquire().await?;
        service::own_order(&mut conn, &user, order).await?;
    }
    flow::abandoned(&state.db, order, message, status).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/cart",
        Flash::warning(message),
    ))
}

#[derive(Deserialize)]
pub struct KakaoLeft {
    order: String,
}

pub async fn kakaopay_cancel(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<KakaoLeft>,
) -> AppResult<Response> {
    kakaopay_left(
        state,
        ctx,
        user,
        &query.order,
        "cancelled",
        "카카오페이 결제를 취소했습니다. 장바구니는 그대로 남아 있습니다.",
    )
    .await
}

pub async fn kakaopay_fail(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<KakaoLeft>,
) -> AppResult<Response> {
    kakaopay_left(
        state,
        ctx,
        user,
        &query.order,
        "failed",
        "카카오페이 결제에 실패했습니다. 다시 시도해 주세요.",
    )
    .await
}

// ---------- Toss Payments ----------

/// The page that opens Toss's payment window (its browser SDK does).
pub async fn toss_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let toss = state.gateways.toss.as_ref().ok_or(AppError::NotFound)?;
    let mut conn = state.db.acquire().await?;
    let order = service::own_order(&mut conn, &user, web::path_id(&id)?).await?;
    if order.status != "pending" || order.gateway != "toss" {
        return Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/orders/{}", order.id),
            Flash::info("이미 처리된 주문입니다."),
        ));
    }
    let base = state
        .config
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_string();
    Ok(web::render(&TossPage {
        ctx,
        client_key: toss.client_key.clone(),
        customer_key: user.id.to_string(),
        order_name: "웹 개발 나노 디그리".into(),
        success_url: format!("{base}/payments/toss/success"),
        fail_url: format!("{base}/payments/toss/fail"),
        order,
    })?
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TossSuccess {
    payment_key: String,
    order_id: String,
    amount: String,
}

pub async fn toss_success(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<TossSuccess>,
) -> AppResult<Response> {
    let order: Uuid = web::path_id(&query.order_id)?;
    {
        let mut conn = state.db.acquire().await?;
        service::own_order(&mut conn, &user, order).await?;
    }
    let amount = query
        .amount
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("결제 금액이 올바르지 않습니다.".into()))?;
    match flow::toss_success(
        &state.db,
        &state.gateways,
        order,
        &query.payment_key,
        amount,
    )
    .await
    {
        Ok(order) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/orders/{order}"),
            Flash::success("결제가 완료되었습니다. 지금 바로 학습을 시작할 수 있습니다."),
        )),
        Err(AppError::Conflict(message)) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/cart",
            Flash::warning(message),
        )),
        Err(other) => Err(other),
    }
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

pub async fn toss_fail(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    axum::extract::Query(query): axum::extract::Query<TossFail>,
) -> AppResult<Response> {
    if let Some(order) = query
        .order_id
        .as_deref()
        .and_then(|o| o.parse::<Uuid>().ok())
    {
        let mut conn = state.db.acquire().await?;
        service::own_order(&mut conn, &user, order).await?;
        drop(conn);
        let status = if query.code == "PAY_PROCESS_CANCELED" {
            "cancelled"
        } else {
            "failed"
        };
        flow::abandoned(
            &state.db,
            order,
            &format!("toss {}: {}", query.code, query.message),
            status,
        )
        .await?;
    }
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/cart",
        Flash::warning("토스페이먼츠 결제가 완료되지 않았습니다. 장바구니는 그대로 남아 있습니다."),
    ))
}
