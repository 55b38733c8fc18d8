//! Payment gateways behind one trait: the built-in demo gateway, KakaoPay and
//! Toss Payments. [`Gateways`] is built once from the configuration and is
//! the only place that picks a gateway by kind. Every call, HTTP or not, is
//! written to the `gateway_calls` log by [`CallLog`]; HTTP gateways send
//! through [`CallLog::send`], the one shared request/reply/log routine.

pub mod demo;
pub mod kakaopay;
pub mod toss;

use std::{sync::Arc, time::Instant};

use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::{
    commerce::{model::GatewayKind, refund::RefundPolicy, repo},
    config::Config,
    ids::{OrderId, UserId},
    money::Won,
};

/// How a gateway call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The gateway answered no (non-2xx with its error code).
    Refused,
    /// No answer: connection, timeout.
    Transport,
    /// An answer we could not read.
    Unreadable,
    /// The gateway accepted but has not finished (Toss `IN_PROGRESS`).
    Incomplete,
}

/// A refusal or failure reported by a gateway.
#[derive(Clone, Debug, thiserror::Error)]
#[error("HTTP {status}: {code} {message}")]
pub struct GatewayError {
    pub failure: Failure,
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl GatewayError {
    fn transport(message: impl Into<String>) -> Self {
        Self {
            failure: Failure::Transport,
            status: 0,
            code: "transport".into(),
            message: message.into(),
        }
    }
}

/// Reads a 2xx reply into the type a gateway expects.
pub fn parse<T: serde::de::DeserializeOwned>(reply: Value) -> Result<T, GatewayError> {
    serde_json::from_value(reply).map_err(|e| GatewayError {
        failure: Failure::Unreadable,
        status: 200,
        code: "parse".into(),
        message: e.to_string(),
    })
}

/// What a payment is for, when it starts.
pub struct Checkout<'a> {
    pub order: OrderId,
    pub user: UserId,
    pub item_name: &'a str,
    pub total: Won,
    /// Our public base URL, for the gateway's return addresses.
    pub base_url: &'a str,
}

/// Where the learner goes to pay, and the gateway's id for the payment.
pub struct Started {
    pub redirect: String,
    pub gateway_ref: Option<String>,
}

impl Started {
    /// Our own page for the gateway's payment window,
    /// `/payments/{gateway}/{order}`; the gateway has no id for it yet.
    pub fn own_window(gateway: GatewayKind, order: OrderId) -> Self {
        Started {
            redirect: format!("/payments/{}/{order}", gateway.as_str()),
            gateway_ref: None,
        }
    }
}

/// The learner came back: what to confirm.
pub struct Confirmation<'a> {
    pub order: OrderId,
    pub user: UserId,
    /// The gateway's id from [`Started`] (KakaoPay `tid`).
    pub gateway_ref: Option<&'a str>,
    /// What the return carried: KakaoPay `pg_token`, Toss `paymentKey`.
    pub token: &'a str,
    /// Our order's total (what we ask the gateway to approve).
    pub total: Won,
    /// What the return said was charged (demo form, Toss URL), if it says.
    pub claimed: Option<Won>,
}

/// What a gateway says it charged.
#[derive(Clone, Debug)]
pub struct Approval {
    pub tx_id: String,
    /// How it was paid, as a code (`demo`, `kakaopay:CARD`, `toss:카드`).
    pub method: String,
    pub amount: Won,
    pub approved_at: OffsetDateTime,
}

/// The gateway's own record of a payment (reconciliation).
#[derive(Clone, Debug)]
pub enum Inquiry {
    /// Charged; `refunded` of it already went back.
    Paid { approval: Approval, refunded: Won },
    /// Cancelled, failed or abandoned at the gateway (its status).
    Closed(String),
    /// Still in progress (its status).
    Open(String),
}

/// A refund to send.
pub struct CancelRequest<'a> {
    pub order: OrderId,
    pub tx_id: &'a str,
    pub amount: Won,
    pub reason: &'a str,
    pub idempotency_key: &'a str,
}

#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync {
    fn kind(&self) -> GatewayKind;

    /// Whether the token a return carries is the gateway's id for the
    /// payment (Toss's `paymentKey`), to keep for inquiries and refunds.
    fn return_token_is_ref(&self) -> bool {
        false
    }

    /// Prepares the payment: where the learner goes next.
    async fn start(&self, log: &CallLog, checkout: &Checkout<'_>) -> Result<Started, GatewayError>;

    /// Approves the payment the learner made.
    async fn confirm(
        &self,
        log: &CallLog,
        confirmation: &Confirmation<'_>,
    ) -> Result<Approval, GatewayError>;

    /// The gateway's record of an order's payment.
    async fn inquire(
        &self,
        log: &CallLog,
        order: OrderId,
        gateway_ref: Option<&str>,
    ) -> Result<Inquiry, GatewayError>;

    /// Refunds part or all of a payment.
    async fn cancel(&self, log: &CallLog, request: &CancelRequest<'_>) -> Result<(), GatewayError>;
}

/// Writes every gateway call to `gateway_calls`, on its own connection (never
/// inside a caller's transaction, so no lock is held across the call).
#[derive(Clone)]
pub struct CallLog {
    db: PgPool,
    http: reqwest::Client,
}

/// How a gateway's error body names its code and message.
pub struct ErrorFields {
    pub code: &'static str,
    pub message: &'static str,
}

impl CallLog {
    pub fn new(db: PgPool, http: reqwest::Client) -> Self {
        Self { db, http }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one request, reads the JSON reply, logs the call, and turns a
    /// non-2xx or unreadable reply into a [`GatewayError`].
    pub async fn send(
        &self,
        order: OrderId,
        gateway: GatewayKind,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        body: Option<Value>,
        errors: &ErrorFields,
    ) -> Result<Value, GatewayError> {
        let started = Instant::now();
        let request = match &body {
            Some(body) => request.json(body),
            None => request,
        };
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
            (Some(200..=299), Ok(value)) => Ok(value.clone()),
            (Some(status), Ok(value)) => Err(GatewayError {
                failure: Failure::Refused,
                status,
                code: match value.get(errors.code) {
                    Some(Value::String(code)) => code.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                message: value
                    .get(errors.message)
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_string(),
            }),
            (None, Err(err)) => Err(GatewayError::transport(err.clone())),
            (Some(status), Err(err)) => Err(GatewayError {
                failure: Failure::Unreadable,
                status,
                ..GatewayError::transport(err.clone())
            }),
            (None, Ok(_)) => Err(GatewayError::transport("no reply")),
        };
        self.record(
            order,
            gateway,
            operation,
            body.unwrap_or(Value::Null),
            reply.ok(),
            status,
            started,
            result.as_ref().err(),
        )
        .await;
        result
    }

    /// Logs a call that needed no HTTP (the demo gateway).
    pub async fn local(
        &self,
        order: OrderId,
        gateway: GatewayKind,
        operation: &'static str,
        request: Value,
        response: Result<Value, &GatewayError>,
    ) {
        let started = Instant::now();
        let (reply, error) = match response {
            Ok(value) => (Some(value), None),
            Err(err) => (None, Some(err)),
        };
        self.record(
            order, gateway, operation, request, reply, None, started, error,
        )
        .await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        order: OrderId,
        gateway: GatewayKind,
        operation: &'static str,
        request: Value,
        response: Option<Value>,
        status: Option<u16>,
        started: Instant,
        error: Option<&GatewayError>,
    ) {
        let call = repo::GatewayCall {
            order,
            gateway,
            operation,
            request,
            response,
            http_status: status.map(i32::from),
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            error: error.map(ToString::to_string),
        };
        // The log must never turn a payment into an error page: a failed
        // write is reported and the call's own outcome stands.
        let written = match self.db.acquire().await {
            Ok(mut conn) => repo::record_gateway_call(&mut conn, &call).await,
            Err(err) => Err(err),
        };
        if let Err(err) = written {
            tracing::error!(error = ?err, %order, operation, "could not log a gateway call");
        }
    }
}

/// The gateways this installation offers, built once from the configuration.
#[derive(Clone)]
pub struct Gateways {
    enabled: Vec<Arc<dyn PaymentGateway>>,
    pub log: CallLog,
    /// The refund policy in force (`REFUND_*` settings).
    pub refund_policy: RefundPolicy,
    toss_client_key: Option<String>,
}

impl Gateways {
    pub fn from_config(config: &Config, db: PgPool, http: &reqwest::Client) -> Self {
        let mut enabled: Vec<Arc<dyn PaymentGateway>> = Vec::new();
        let mut toss_client_key = None;
        if let (Some(secret), Some(client)) = (&config.toss_secret_key, &config.toss_client_key) {
            enabled.push(Arc::new(toss::Toss::new(
                &config.toss_api_base,
                secret.clone(),
            )));
            toss_client_key = Some(client.clone());
        }
        if let (Some(key), Some(cid)) = (&config.kakaopay_secret_key, &config.kakaopay_cid) {
            enabled.push(Arc::new(kakaopay::KakaoPay::new(
                &config.kakaopay_api_base,
                key.clone(),
                cid.clone(),
            )));
        }
        if config.demo_payments {
            enabled.push(Arc::new(demo::Demo));
        }
        Self {
            enabled,
            log: CallLog::new(db, http.clone()),
            refund_policy: RefundPolicy {
                full_days: config.refund_full_days,
                full_max_used_percent: config.refund_full_max_used_percent,
            },
            toss_client_key,
        }
    }

    /// The gateway of this kind, if it is enabled.
    pub fn get(&self, kind: GatewayKind) -> Option<&dyn PaymentGateway> {
        self.enabled
            .iter()
            .find(|g| g.kind() == kind)
            .map(|g| g.as_ref())
    }

    pub fn is_enabled(&self, kind: GatewayKind) -> bool {
        self.get(kind).is_some()
    }

    /// The ways to pay, in the order checkout lists them.
    /// The ways to pay checkout offers, in order.
    pub fn options(&self) -> Vec<GatewayKind> {
        self.enabled.iter().map(|g| g.kind()).collect()
    }

    /// Toss's browser SDK key, when Toss is on.
    pub fn toss_client_key(&self) -> Option<&str> {
        self.toss_client_key.as_deref()
    }

    /// Origins a checkout form may end up at (for the CSP's form-action).
    pub fn form_origins(&self) -> Vec<&'static str> {
        if self.is_enabled(GatewayKind::KakaoPay) {
            vec!["https://online-pay.kakao.com"]
        } else {
            Vec::new()
        }
    }

    /// Origins of Toss's browser SDK and payment window, when Toss is on.
    pub fn toss_origins(&self) -> Vec<&'static str> {
        if self.is_enabled(GatewayKind::Toss) {
            vec!["https://js.tosspayments.com", "https://*.tosspayments.com"]
        } else {
            Vec::new()
        }
    }
}
