//! Payment gateways. The built-in demo gateway is the only one wired so far;
//! KakaoPay and Toss Payments plug in here behind the same two steps: start
//! (where to send the learner) and approval (recorded by
//! `service::complete_payment`).

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

/// The gateways this installation offers.
pub fn available(config: &Config) -> Vec<GatewayOption> {
    let mut out = Vec::new();
    if config.demo_payments {
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
