//! Toss Payments core API: the learner pays in Toss's payment window (opened
//! by Toss's browser SDK), comes back to `successUrl?paymentKey&orderId&amount`,
//! and we confirm with `POST /v1/payments/confirm` and an `Idempotency-Key`.
//! Inquiry by order id for reconciliation; cancel for refunds. HTTP Basic
//! auth with the secret key; errors are non-2xx `{code, message}`.

use std::time::Instant;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::commerce::gateway::{Called, GatewayCall, GatewayError, elapsed_ms};

#[derive(Clone)]
pub struct Toss {
    http: reqwest::Client,
    base: String,
    secret_key: String,
    pub client_key: String,
}

/// The part of Toss's Payment object we use.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_key: String,
    pub order_id: String,
    pub status: String,
    pub total_amount: i64,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub approved_at: Option<OffsetDateTime>,
}

impl Toss {
    pub fn new(http: reqwest::Client, base: &str, secret_key: String, client_key: String) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            secret_key,
            client_key,
        }
    }

    async fn call(
        &self,
        operation: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Called<Payment> {
        let started = Instant::now();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(
                "Authorization",
                format!("Basic {}", STANDARD.encode(format!("{}:", self.secret_key))),
            );
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let (status, reply) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (
                    Some(status),
                    response.json::<Value>().await.map_err(|e| e.to_string()),
                )
            }
            Err(err) => (None, Err(err.to_string())),
        };
        let result = match (status, &reply) {
            (Some(200..=299), Ok(value)) => serde_json::from_value::<Payment>(value.clone())
                .map_err(|e| GatewayError {
                    status: 200,
                    code: "parse".into(),
                    message: e.to_string(),
                }),
            (Some(s), Ok(value)) => Err(GatewayError {
                status: s,
                code: value
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                message: value
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_string(),
            }),
            (s, Err(err)) => Err(GatewayError {
                status: s.unwrap_or(0),
                code: "transport".into(),
                message: err.clone(),
            }),
            (None, Ok(_)) => Err(GatewayError {
                status: 0,
                code: "transport".into(),
                message: "no reply".into(),
            }),
        };
        let log = GatewayCall {
            order: None,
            gateway: "toss",
            operation,
            request: body.unwrap_or(Value::Null),
            response: reply.ok(),
            http_status: status.map(i32::from),
            duration_ms: elapsed_ms(started),
            error: result.as_ref().err().map(ToString::to_string),
        };
        Called { result, log }
    }

    pub async fn confirm(&self, payment_key: &str, order_id: &str, amount: i64) -> Called<Payment> {
        let body = json!({ "paymentKey": payment_key, "orderId": order_id, "amount": amount });
        let key = format!("confirm-{order_id}");
        self.call(
            "confirm",
            reqwest::Method::POST,
            "/v1/payments/confirm",
            Some(body),
            Some(&key),
        )
        .await
    }

    pub async fn by_order(&self, order_id: &str) -> Called<Payment> {
        self.call(
            "inquiry",
            reqwest::Method::GET,
            &format!("/v1/payments/orders/{order_id}"),
            None,
            None,
        )
        .await
    }

    pub async fn cancel(
        &self,
        payment_key: &str,
        amount: i64,
        reason: &str,
        idempotency_key: &str,
    ) -> Called<Payment> {
        let body = json!({ "cancelReason": reason, "cancelAmount": amount });
        self.call(
            "cancel",
            reqwest::Method::POST,
            &format!("/v1/payments/{payment_key}/cancel"),
            Some(body),
            Some(idempotency_key),
        )
        .await
    }
}
