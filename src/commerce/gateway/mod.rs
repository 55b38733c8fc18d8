//! Payment gateways: the built-in demo gateway and KakaoPay (Toss Payments
//! plugs in the same way). Each has two steps: start (where to send the
//! learner) and approval (recorded once by `service::complete_payment`); a
//! refund calls the gateway's cancel.

pub mod kakaopay;
pub mod toss;

use std::time::Instant;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{commerce::repo, config::Config, error::AppResult};

/// A way to pay offered at checkout.
#[derive(Clone, Copy, Debug)]
pub struct GatewayOption {
    pub code: &'static str,
    pub label: &'static str,
    pub note: &'static str,
}

/// A gateway call's outcome, and what to write to the gateway log.
pub struct Called<T> {
    pub result: Result<T, GatewayError>,
    pub log: GatewayCall<'static>,
}

/// A refusal or failure reported by a gateway (non-2xx or no reply).
#[derive(Clone, Debug, thiserror::Error)]
#[error("HTTP {status}: {code} {message}")]
pub struct GatewayError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// The configured gateways.
#[derive(Clone)]
pub struct Gateways {
    pub demo: bool,
    pub kakaopay: Option<kakaopay::KakaoPay>,
    pub toss: Option<toss::Toss>,
    /// The refund policy in force (`REFUND_*` settings).
    pub refund_policy: crate::commerce::refund::RefundPolicy,
}

impl Gateways {
    pub fn from_config(config: &Config, http: &reqwest::Client) -> Self {
        let kakaopay = match (&config.kakaopay_secret_key, &config.kakaopay_cid) {
            (Some(key), Some(cid)) => Some(kakaopay::KakaoPay::new(
                http.clone(),
                &config.kakaopay_api_base,
                key.clone(),
                cid.clone(),
            )),
            _ => None,
        };
        let toss = match (&config.toss_secret_key, &config.toss_client_key) {
            (Some(secret), Some(client)) => Some(toss::Toss::new(
                http.clone(),
                &config.toss_api_base,
                secret.clone(),
                client.clone(),
            )),
            _ => None,
        };
        Self {
            demo: config.demo_payments,
            kakaopay,
            toss,
            refund_policy: crate::commerce::refund::RefundPolicy {
                full_days: config.refund_full_days,
                full_max_used_percent: config.refund_full_max_used_percent,
            },
        }
    }

    /// Origins a checkout form may end up at (for the CSP's form-action).
    pub fn form_origins(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.kakaopay.is_some() {
            out.push("https://online-pay.kakao.com");
        }
        out
    }

    /// Origins of Toss's browser SDK and payment window, when Toss is on.
    pub fn toss_origins(&self) -> Vec<&'static str> {
        if self.toss.is_some() {
            vec!["https://js.tosspayments.com", "https://*.tosspayments.com"]
        } else {
            Vec::new()
        }
    }
}

/// The gateways this installation offers.
pub fn available(gateways: &Gateways) -> Vec<GatewayOption> {
    let mut out = Vec::new();
    if gateways.toss.is_some() {
        out.push(GatewayOption {
            code: "toss",
            label: "토스페이먼츠 (카드·간편결제)",
            note: "토스페이먼츠 결제 창이 열립니다.",
        });
    }
    if gateways.kakaopay.is_some() {
        out.push(GatewayOption {
            code: "kakaopay",
            label: "카카오페이",
            note: "카카오페이 결제 창으로 이동합니다.",
        });
    }
    if gateways.demo {
        out.push(GatewayOption {
            code: "demo",
            label: "테스트 결제 (데모)",
            note: "실제 돈이 나가지 않는 시험용 결제입니다.",
        });
    }
    out
}

/// Where the learner goes to pay for `order` (the demo gateway's page).
pub fn start_url(order: Uuid) -> String {
    format!("/payments/demo/{order}")
}

pub use crate::commerce::repo::GatewayCall;

/// Milliseconds since `started`, for [`GatewayCall::duration_ms`].
pub fn elapsed_ms(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// Writes one gateway call to the log (request, reply, timing, error).
pub async fn record(conn: &mut PgConnection, call: &GatewayCall<'_>) -> AppResult<()> {
    repo::record_gateway_call(conn, call).await?;
    Ok(())
}
