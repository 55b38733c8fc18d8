//! Toss Payments core API: the learner pays in Toss's payment window (opened
//! by Toss's browser SDK), comes back to `successUrl?paymentKey&orderId&amount`,
//! and we confirm with `POST /v1/payments/confirm` and an `Idempotency-Key`.
//! Inquiry by order id for reconciliation; cancel for refunds. HTTP Basic
//! auth with the secret key; errors are non-2xx `{code, message}`.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{
    commerce::{
        gateway::{
            Approval, CallLog, CancelRequest, Checkout, Confirmation, ErrorFields, Failure,
            GatewayError, Inquiry, PaymentGateway, Started, parse,
        },
        model::GatewayKind,
    },
    ids::OrderId,
    money::Won,
};

pub struct Toss {
    base: String,
    secret_key: String,
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
    pub balance_amount: Option<i64>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub approved_at: Option<OffsetDateTime>,
}

impl Payment {
    fn approval(&self) -> Approval {
        Approval {
            tx_id: self.payment_key.clone(),
            // `toss:` and the method as Toss names it (`카드`, `간편결제`);
            // `labels::payment_method` puts it into words.
            method: match self.method.as_deref() {
                Some(method) => format!("toss:{method}"),
                None => "toss".into(),
            },
            amount: Won(self.total_amount),
            approved_at: self.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
        }
    }
}

const ERRORS: ErrorFields = ErrorFields {
    code: "code",
    message: "message",
};

impl Toss {
    pub fn new(base: &str, secret_key: String) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            secret_key,
        }
    }

    async fn call(
        &self,
        log: &CallLog,
        order: OrderId,
        operation: &'static str,
        (method, path): (reqwest::Method, &str),
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Payment, GatewayError> {
        let mut request = log
            .http()
            .request(method, format!("{}{path}", self.base))
            .header(
                "Authorization",
                format!("Basic {}", STANDARD.encode(format!("{}:", self.secret_key))),
            );
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let reply = log
            .send(order, GatewayKind::Toss, operation, request, body, &ERRORS)
            .await?;
        parse(reply)
    }
}

#[async_trait::async_trait]
impl PaymentGateway for Toss {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Toss
    }

    fn return_token_is_ref(&self) -> bool {
        true
    }

    /// Toss's window is opened by its browser SDK on our page.
    async fn start(&self, _: &CallLog, checkout: &Checkout<'_>) -> Result<Started, GatewayError> {
        Ok(Started::own_window(GatewayKind::Toss, checkout.order))
    }

    async fn confirm(
        &self,
        log: &CallLog,
        confirmation: &Confirmation<'_>,
    ) -> Result<Approval, GatewayError> {
        let order = confirmation.order;
        let body = json!({
            "paymentKey": confirmation.token, "orderId": order.to_string(),
            "amount": confirmation.total,
        });
        let key = format!("confirm-{order}");
        let payment = self
            .call(
                log,
                order,
                "confirm",
                (reqwest::Method::POST, "/v1/payments/confirm"),
                Some(body),
                Some(&key),
            )
            .await?;
        if payment.status != "DONE" {
            return Err(GatewayError {
                failure: Failure::Incomplete,
                status: 200,
                code: payment.status.clone(),
                message: format!("payment status {}", payment.status),
            });
        }
        Ok(payment.approval())
    }

    async fn inquire(
        &self,
        log: &CallLog,
        order: OrderId,
        _: Option<&str>,
    ) -> Result<Inquiry, GatewayError> {
        let found = self
            .call(
                log,
                order,
                "inquiry",
                (
                    reqwest::Method::GET,
                    &format!("/v1/payments/orders/{order}"),
                ),
                None,
                None,
            )
            .await;
        let payment = match found {
            Ok(payment) => payment,
            // Toss has no payment for this order (yet): nothing was charged.
            Err(err) if err.status == 404 => return Ok(Inquiry::Open(err.code)),
            Err(err) => return Err(err),
        };
        Ok(match payment.status.as_str() {
            "DONE" | "PARTIAL_CANCELED" | "CANCELED" if payment.approved_at.is_some() => {
                Inquiry::Paid {
                    approval: payment.approval(),
                    refunded: Won(payment.total_amount
                        - payment.balance_amount.unwrap_or(payment.total_amount)),
                }
            }
            "CANCELED" | "ABORTED" | "EXPIRED" => {
                Inquiry::Closed(format!("toss status {}", payment.status))
            }
            other => Inquiry::Open(format!("toss status {other}")),
        })
    }

    async fn cancel(&self, log: &CallLog, request: &CancelRequest<'_>) -> Result<(), GatewayError> {
        let body = json!({ "cancelReason": request.reason, "cancelAmount": request.amount });
        self.call(
            log,
            request.order,
            "cancel",
            (
                reqwest::Method::POST,
                &format!("/v1/payments/{}/cancel", request.tx_id),
            ),
            Some(body),
            Some(request.idempotency_key),
        )
        .await?;
        Ok(())
    }
}
