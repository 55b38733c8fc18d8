//! A local KakaoPay online-payment server following the documented contract:
//! `/online/v1/payment/{ready,approve,order,cancel}`, JSON bodies,
//! `Authorization: SECRET_KEY ...`, `tid`s of 20 characters, `pg_token` on
//! the return URL, Korea-time timestamps without offset, and non-2xx JSON
//! errors with `error_code` / `error_message`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "DEVTESTSECRETKEY0000";
pub const CID: &str = "TC0ONETIME";

#[derive(Clone, Debug)]
pub struct Payment {
    pub ready: Value,
    pub status: String,
    pub pg_token: Option<String>,
    pub approved_at: Option<String>,
    pub canceled: i64,
}

#[derive(Clone, Default)]
struct Shared {
    payments: Arc<Mutex<HashMap<String, Payment>>>,
    approvals: Arc<Mutex<u32>>,
}

pub struct KakaoPayServer {
    pub base: String,
    shared: Shared,
}

/// Now in Korea, as the gateways' twins write times (no offset, as KakaoPay does).
pub fn kst_now() -> String {
    let now =
        time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(json!({ "error_code": code, "error_message": message, "extras": {} })),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("SECRET_KEY {SECRET_KEY}"))
}

impl KakaoPayServer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = Shared::default();
        let app = Router::new()
            .route("/online/v1/payment/ready", post(ready))
            .route("/online/v1/payment/approve", post(approve))
            .route("/online/v1/payment/order", post(order))
            .route("/online/v1/payment/cancel", post(cancel))
            .with_state((shared.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, shared }
    }

    /// The learner pays on KakaoPay's page: returns where KakaoPay sends the
    /// browser back (the approval URL with `pg_token`).
    pub fn pay(&self, tid: &str) -> String {
        let mut payments = self.shared.payments.lock().unwrap();
        let payment = payments.get_mut(tid).expect("known tid");
        let token = format!("pg{}", &uuid::Uuid::new_v4().simple().to_string()[..18]);
        payment.pg_token = Some(token.clone());
        let approval = payment.ready["approval_url"].as_str().unwrap().to_string();
        let sep = if approval.contains('?') { '&' } else { '?' };
        format!("{approval}{sep}pg_token={token}")
    }

    pub fn payment(&self, tid: &str) -> Option<Payment> {
        self.shared.payments.lock().unwrap().get(tid).cloned()
    }

    pub fn approvals(&self) -> u32 {
        *self.shared.approvals.lock().unwrap()
    }
}

type Ctx = (Shared, String);

async fn ready(
    State((shared, base)): State<Ctx>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, -401, "invalid secret key");
    }
    let required = [
        "cid",
        "partner_order_id",
        "partner_user_id",
        "item_name",
        "quantity",
        "total_amount",
        "tax_free_amount",
        "approval_url",
        "cancel_url",
        "fail_url",
    ];
    if let Some(missing) = required
        .iter()
        .find(|k| body.get(**k).is_none_or(Value::is_null))
    {
        return error(
            StatusCode::BAD_REQUEST,
            -2,
            &format!("{missing} is required"),
        );
    }
    if body["cid"] != CID {
        return error(StatusCode::BAD_REQUEST, -3, "invalid cid");
    }
    if body["total_amount"].as_i64().unwrap_or(0) <= 0 {
        return error(StatusCode::BAD_REQUEST, -2, "total_amount must be positive");
    }
    let tid = format!("T{}", &uuid::Uuid::new_v4().simple().to_string()[..19]);
    shared.payments.lock().unwrap().insert(
        tid.clone(),
        Payment {
            ready: body,
            status: "READY".into(),
            pg_token: None,
            approved_at: None,
            canceled: 0,
        },
    );
    Json(json!({
        "tid": tid,
        "next_redirect_app_url": format!("{base}/app/{tid}"),
        "next_redirect_mobile_url": format!("{base}/mobile/{tid}"),
        "next_redirect_pc_url": format!("{base}/pc/{tid}"),
        "android_app_scheme": "kakaotalk://kakaopay/pg?url=...",
        "ios_app_scheme": "kakaotalk://kakaopay/pg?url=...",
        "created_at": kst_now(),
    }))
    .into_response()
}

async fn approve(
    State((shared, _)): State<Ctx>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, -401, "invalid secret key");
    }
    let mut payments = shared.payments.lock().unwrap();
    let Some(payment) = body["tid"].as_str().and_then(|t| payments.get_mut(t)) else {
        return error(
            StatusCode::BAD_REQUEST,
            -780,
            "approval failure! (unknown tid)",
        );
    };
    if payment.status == "SUCCESS_PAYMENT" {
        return error(StatusCode::BAD_REQUEST, -702, "payment is already done!");
    }
    let same = |k: &str| body[k] == payment.ready[k];
    if body["cid"] != CID || !same("partner_order_id") || !same("partner_user_id") {
        return error(
            StatusCode::BAD_REQUEST,
            -780,
            "approval failure! (partner ids differ from ready)",
        );
    }
    if payment.pg_token.is_none() || body["pg_token"].as_str() != payment.pg_token.as_deref() {
        return error(
            StatusCode::BAD_REQUEST,
            -780,
            "approval failure! (invalid pg_token)",
        );
    }
    payment.status = "SUCCESS_PAYMENT".into();
    payment.approved_at = Some(kst_now());
    *shared.approvals.lock().unwrap() += 1;
    let total = payment.ready["total_amount"].as_i64().unwrap_or(0);
    Json(json!({
        "aid": format!("A{}", &uuid::Uuid::new_v4().simple().to_string()[..19]),
        "tid": body["tid"], "cid": CID,
        "partner_order_id": payment.ready["partner_order_id"],
        "partner_user_id": payment.ready["partner_user_id"],
        "payment_method_type": "MONEY",
        "item_name": payment.ready["item_name"], "quantity": 1,
        "amount": { "total": total, "tax_free": 0, "vat": total / 11, "point": 0, "discount": 0 },
        "created_at": kst_now(), "approved_at": payment.approved_at,
    }))
    .into_response()
}

async fn order(
    State((shared, _)): State<Ctx>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, -401, "invalid secret key");
    }
    let payments = shared.payments.lock().unwrap();
    let Some(payment) = body["tid"].as_str().and_then(|t| payments.get(t)) else {
        return error(StatusCode::BAD_REQUEST, -3, "invalid tid");
    };
    let total = payment.ready["total_amount"].as_i64().unwrap_or(0);
    Json(json!({
        "tid": body["tid"], "cid": CID, "status": payment.status,
        "partner_order_id": payment.ready["partner_order_id"],
        "partner_user_id": payment.ready["partner_user_id"],
        "payment_method_type": "MONEY",
        "amount": { "total": total, "tax_free": 0, "vat": total / 11 },
        "canceled_amount": { "total": payment.canceled },
        "cancel_available_amount": { "total": total - payment.canceled },
        "item_name": payment.ready["item_name"], "quantity": 1,
        "created_at": kst_now(), "approved_at": payment.approved_at,
    }))
    .into_response()
}

async fn cancel(
    State((shared, _)): State<Ctx>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(StatusCode::UNAUTHORIZED, -401, "invalid secret key");
    }
    let mut payments = shared.payments.lock().unwrap();
    let Some(payment) = body["tid"].as_str().and_then(|t| payments.get_mut(t)) else {
        return error(StatusCode::BAD_REQUEST, -3, "invalid tid");
    };
    if body.get("cancel_tax_free_amount").is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            -2,
            "cancel_tax_free_amount is required",
        );
    }
    let total = payment.ready["total_amount"].as_i64().unwrap_or(0);
    let amount = body["cancel_amount"].as_i64().unwrap_or(0);
    if payment.status != "SUCCESS_PAYMENT" && payment.status != "PART_CANCEL_PAYMENT" {
        return error(StatusCode::BAD_REQUEST, -721, "payment is not approved");
    }
    if amount <= 0 || amount > total - payment.canceled {
        return error(
            StatusCode::BAD_REQUEST,
            -721,
            "cancel amount exceeds the cancelable amount",
        );
    }
    payment.canceled += amount;
    payment.status = if payment.canceled == total {
        "CANCEL_PAYMENT"
    } else {
        "PART_CANCEL_PAYMENT"
    }
    .into();
    Json(json!({
        "tid": body["tid"], "cid": CID, "status": payment.status,
        "amount": { "total": total }, "canceled_amount": { "total": payment.canceled },
        "cancel_available_amount": { "total": total - payment.canceled },
        "canceled_at": kst_now(),
    }))
    .into_response()
}
