//! The built-in demo gateway: a page of ours plays the payment window and
//! says what it "charged"; nothing leaves the machine. Off in production.

use serde_json::json;
use time::OffsetDateTime;

use crate::{
    commerce::{
        gateway::{
            Approval, CallLog, CancelRequest, Checkout, Confirmation, GatewayError, Inquiry,
            PaymentGateway, Started,
        },
        model::GatewayKind,
    },
    ids::OrderId,
};

pub struct Demo;

#[async_trait::async_trait]
impl PaymentGateway for Demo {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Demo
    }

    async fn start(&self, _: &CallLog, checkout: &Checkout<'_>) -> Result<Started, GatewayError> {
        Ok(Started::own_window(GatewayKind::Demo, checkout.order))
    }

    /// Approves what the demo window says it charged (the caller compares
    /// it with the order).
    async fn confirm(
        &self,
        log: &CallLog,
        confirmation: &Confirmation<'_>,
    ) -> Result<Approval, GatewayError> {
        let amount = confirmation.claimed.unwrap_or(confirmation.total);
        let tx_id = format!("demo-{}", confirmation.order.0.simple());
        log.local(
            confirmation.order,
            GatewayKind::Demo,
            "approve",
            json!({ "amount": amount }),
            Ok(json!({ "tx_id": tx_id })),
        )
        .await;
        Ok(Approval {
            tx_id,
            method: "demo".into(),
            amount,
            approved_at: OffsetDateTime::now_utc(),
        })
    }

    /// The demo gateway keeps no records: an order is paid only by its return.
    async fn inquire(
        &self,
        _: &CallLog,
        _: OrderId,
        _: Option<&str>,
    ) -> Result<Inquiry, GatewayError> {
        Ok(Inquiry::Closed(
            "demo payments are recorded on return only".into(),
        ))
    }

    async fn cancel(&self, log: &CallLog, request: &CancelRequest<'_>) -> Result<(), GatewayError> {
        log.local(
            request.order,
            GatewayKind::Demo,
            "cancel",
            json!({ "amount": request.amount }),
            Ok(json!({ "status": "CANCELLED" })),
        )
        .await;
        Ok(())
    }
}
