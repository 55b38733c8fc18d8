//! Payment gateways: the built-in demo gateway and KakaoPay (Toss Payments
//! plugs in the same way). Each has two steps: start (where to send the
//! learner) and approval (recorded once by `service::complete_payment`); a
//! refund calls the gateway's cancel.

pub mod kakaopay;

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

/// The configured gateways.
#[derive(Clone)]
pub struct Gateways {
    pub demo: bool,
    pub kakaopay: Option<kakaopay::KakaoPay>,
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
        Self {
            demo: config.demo_payments,
            kakaopay,
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
}

/// The gateways this installation offers.
pub fn available(gateways: &Gateways) -> Vec<GatewayOption> {
    let mut out = Vec::new();
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
