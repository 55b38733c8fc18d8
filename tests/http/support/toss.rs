//! A local Toss Payments core API following the documented contract:
//! Basic auth with `{secretKey}:`, `POST /v1/payments/confirm` with an
//! `Idempotency-Key`, `GET /v1/payments/orders/{orderId}`,
//! `POST /v1/payments/{paymentKey}/cancel`, Payment objects in camelCase and
//! non-2xx `{code, message}` errors.
#![allow(clippy::disallowed_types)] // a stand-in for Toss, not one of our pages

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "test_sk_weaverse000000000000";
pub const CLIENT_KEY: &str = "test_ck_weaverse000000000000";

#[derive(Clone, Debug)]
pub struct Payment {
    pub payment_key: String,
    pub order_id: String,
    pub amount: i64,
    pub status: String,
    pub balance: i64,
    pub requested_at: String,
    pub approved_at: Option<String>,
}

/// Now in Korea with its offset, as Toss writes `requestedAt`/`approvedAt`:
/// from the clock, so a payment made in a test is always made today.
fn kst_now() -> String {
    format!("{}+09:00", super::kakaopay::kst_now())
}

#[derive(Clone, Default)]
struct Shared {
    payments: Arc<Mutex<HashMap<String, Payment>>>,
    idempotent: Arc<Mutex<HashMap<String, (StatusCode, Value)>>>,
    confirms: Arc<Mutex<u32>>,
}

pub struct TossServer {
    pub base: String,
    shared: Shared,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    let expected = format!("Basic {}", STANDARD.encode(format!("{SECRET_KEY}:")));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn payment_json(p: &Payment) -> Value {
    json!({
        "mId": "tosspayments", "version": "2022-11-16", "paymentKey": p.payment_key,
        "orderId": p.order_id, "orderName": "웹 개발 나노 디그리", "status": p.status,
        "currency": "KRW", "method": "카드", "totalAmount": p.amount, "balanceAmount": p.balance,
        "requestedAt": p.requested_at, "approvedAt": p.approved_at,
        "receipt": { "url": "https://dashboard.tosspayments.com/receipt/test" },
    })
}

impl TossServer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = Shared::default();
        let app = Router::new()
            .route("/v1/payments/confirm", post(confirm))
            .route("/v1/payments/orders/{order_id}", get(by_order))
            .route("/v1/payments/{payment_key}/cancel", post(cancel))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, shared }
    }

    /// The learner pays in Toss's window: returns the `paymentKey` Toss puts
    /// on the success URL.
    pub fn pay(&self, order_id: &str, amount: i64) -> String {
        let key = format!("tgen_{}", uuid::Uuid::new_v4().simple());
        self.shared.payments.lock().unwrap().insert(
            key.clone(),
            Payment {
                payment_key: key.clone(),
                order_id: order_id.into(),
                amount,
                status: "IN_PROGRESS".into(),
                balance: amount,
                requested_at: kst_now(),
                approved_at: None,
            },
        );
        key
    }

    /// Toss approved it (as when our process died after confirming).
    pub fn mark_done(&self, payment_key: &str) {
        let mut payments = self.shared.payments.lock().unwrap();
        let p = payments.get_mut(payment_key).unwrap();
        p.status = "DONE".into();
        p.approved_at = Some(kst_now());
    }

    pub fn payment(&self, payment_key: &str) -> Payment {
        self.shared
            .payments
            .lock()
            .unwrap()
            .get(payment_key)
            .cloned()
            .unwrap()
    }

    pub fn confirms(&self) -> u32 {
        *self.shared.confirms.lock().unwrap()
    }
}

/// The reply to send at once: a stored one for a repeated Idempotency-Key,
/// or a refusal of a key that is too long.
fn replay(shared: &Shared, headers: &HeaderMap, scope: &str) -> Option<Response> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())?;
    if key.len() > 300 {
        return Some(error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Idempotency-Key is too long",
        ));
    }
    shared
        .idempotent
        .lock()
        .unwrap()
        .get(&format!("{scope}:{key}"))
        .map(|(s, v)| (*s, Json(v.clone())).into_response())
}

fn remember(shared: &Shared, headers: &HeaderMap, scope: &str, status: StatusCode, body: &Value) {
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        shared
            .idempotent
            .lock()
            .unwrap()
            .insert(format!("{scope}:{key}"), (status, body.clone()));
    }
}

async fn confirm(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED_KEY",
            "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        );
    }
    if let Some(response) = replay(&shared, &headers, "confirm") {
        return response;
    }
    let mut payments = shared.payments.lock().unwrap();
    let Some(p) = body["paymentKey"]
        .as_str()
        .and_then(|k| payments.get_mut(k))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 정보 입니다.",
        );
    };
    if body["orderId"].as_str() != Some(p.order_id.as_str())
        || body["amount"].as_i64() != Some(p.amount)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "잘못된 요청입니다.",
        );
    }
    if p.status != "IN_PROGRESS" {
        return error(
            StatusCode::BAD_REQUEST,
            "ALREADY_PROCESSED_PAYMENT",
            "이미 처리된 결제 입니다.",
        );
    }
    p.status = "DONE".into();
    p.approved_at = Some(kst_now());
    *shared.confirms.lock().unwrap() += 1;
    let reply = payment_json(p);
    remember(&shared, &headers, "confirm", StatusCode::OK, &reply);
    Json(reply).into_response()
}

async fn by_order(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(order_id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED_KEY",
            "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        );
    }
    let payments = shared.payments.lock().unwrap();
    match payments.values().find(|p| p.order_id == order_id) {
        Some(p) => Json(payment_json(p)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 정보 입니다.",
        ),
    }
}

async fn cancel(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED_KEY",
            "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        );
    }
    if let Some(response) = replay(&shared, &headers, "cancel") {
        return response;
    }
    let mut payments = shared.payments.lock().unwrap();
    let Some(p) = payments.get_mut(&key) else {
        return error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND_PAYMENT",
            "존재하지 않는 결제 정보 입니다.",
        );
    };
    if body["cancelReason"].as_str().is_none_or(str::is_empty) {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "cancelReason is required",
        );
    }
    let amount = body["cancelAmount"].as_i64().unwrap_or(p.balance);
    if amount <= 0 || amount > p.balance {
        return error(
            StatusCode::BAD_REQUEST,
            "NOT_CANCELABLE_AMOUNT",
            "취소 할 수 없는 금액 입니다.",
        );
    }
    p.balance -= amount;
    p.status = if p.balance == 0 {
        "CANCELED"
    } else {
        "PARTIAL_CANCELED"
    }
    .into();
    let reply = payment_json(p);
    remember(&shared, &headers, "cancel", StatusCode::OK, &reply);
    Json(reply).into_response()
}
