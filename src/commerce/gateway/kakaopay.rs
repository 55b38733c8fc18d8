//! KakaoPay online single payment (open-api.kakaopay.com, `/online/v1/payment`):
//! ready -> the learner pays on KakaoPay -> approve with `pg_token`; order
//! inquiry for reconciliation; cancel for refunds. JSON bodies and
//! `Authorization: SECRET_KEY {key}`. Every non-2xx reply is a failure with
//! its `error_code`/`error_message` kept.

use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{
    commerce::{
        gateway::{
            Approval, CallLog, CancelRequest, Checkout, Confirmation, ErrorFields, GatewayError,
            Inquiry, PaymentGateway, Started, parse,
        },
        model::GatewayKind,
    },
    ids::OrderId,
    money::Won,
};

pub struct KakaoPay {
    base: String,
    secret_key: String,
    cid: String,
}

#[derive(Debug, Deserialize)]
pub struct Ready {
    pub tid: String,
    pub next_redirect_pc_url: String,
    #[serde(default)]
    pub next_redirect_mobile_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Amount {
    pub total: i64,
}

#[derive(Debug, Deserialize)]
pub struct Approved {
    pub aid: String,
    pub tid: String,
    pub amount: Amount,
    #[serde(default)]
    pub payment_method_type: String,
    #[serde(deserialize_with = "kst_time", default)]
    pub approved_at: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
pub struct OrderStatus {
    pub tid: String,
    pub status: String,
    pub amount: Option<Amount>,
    #[serde(default)]
    pub canceled_amount: Option<Amount>,
    #[serde(default)]
    pub payment_method_type: Option<String>,
    #[serde(deserialize_with = "kst_time", default)]
    pub approved_at: Option<OffsetDateTime>,
}

/// KakaoPay writes times as `2026-11-26T13:05:09`, Korea time, no offset.
fn kst_time<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let raw: Option<String> = Option::deserialize(de)?;
    let Some(raw) = raw else { return Ok(None) };
    if let Ok(t) = OffsetDateTime::parse(&raw, &time::format_description::well_known::Rfc3339) {
        return Ok(Some(t));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(&raw, format)
        .map(|t| Some(t.assume_offset(crate::web::dates::KST)))
        .map_err(serde::de::Error::custom)
}

const ERRORS: ErrorFields = ErrorFields {
    code: "error_code",
    message: "error_message",
};

/// The stored payment method: `kakaopay:` and KakaoPay's own method type
/// (`CARD`, `MONEY`); `labels::payment_method` puts it into words.
fn method_label(kind: &str) -> String {
    if kind.is_empty() {
        "kakaopay".into()
    } else {
        format!("kakaopay:{kind}")
    }
}

impl KakaoPay {
    pub fn new(base: &str, secret_key: String, cid: String) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            secret_key,
            cid,
        }
    }

    async fn post<T: DeserializeOwned>(
        &self,
        log: &CallLog,
        order: OrderId,
        operation: &'static str,
        path: &str,
        body: Value,
    ) -> Result<T, GatewayError> {
        let request = log
            .http()
            .post(format!("{}/online/v1/payment/{path}", self.base))
            .header("Authorization", format!("SECRET_KEY {}", self.secret_key));
        let reply = log
            .send(
                order,
                GatewayKind::KakaoPay,
                operation,
                request,
                Some(body),
                &ERRORS,
            )
            .await?;
        parse(reply)
    }
}

#[async_trait::async_trait]
impl PaymentGateway for KakaoPay {
    fn kind(&self) -> GatewayKind {
        GatewayKind::KakaoPay
    }

    async fn start(&self, log: &CallLog, checkout: &Checkout<'_>) -> Result<Started, GatewayError> {
        let (base, order) = (checkout.base_url, checkout.order);
        let body = json!({
            "cid": self.cid,
            "partner_order_id": order.to_string(),
            "partner_user_id": checkout.user.to_string(),
            "item_name": checkout.item_name,
            "quantity": 1,
            "total_amount": checkout.total,
            "tax_free_amount": 0,
            "approval_url": format!("{base}/payments/kakaopay/approve?order={order}"),
            "cancel_url": format!("{base}/payments/kakaopay/cancel?order={order}"),
            "fail_url": format!("{base}/payments/kakaopay/fail?order={order}"),
        });
        let ready: Ready = self.post(log, order, "ready", "ready", body).await?;
        Ok(Started {
            redirect: ready.next_redirect_pc_url,
            gateway_ref: Some(ready.tid),
        })
    }

    /// Must repeat the ready call's `partner_order_id` and `partner_user_id`.
    async fn confirm(
        &self,
        log: &CallLog,
        confirmation: &Confirmation<'_>,
    ) -> Result<Approval, GatewayError> {
        let tid = confirmation
            .gateway_ref
            .ok_or_else(|| GatewayError::transport("no tid for this order"))?;
        let body = json!({
            "cid": self.cid, "tid": tid,
            "partner_order_id": confirmation.order.to_string(),
            "partner_user_id": confirmation.user.to_string(),
            "pg_token": confirmation.token,
        });
        let approved: Approved = self
            .post(log, confirmation.order, "approve", "approve", body)
            .await?;
        Ok(Approval {
            tx_id: approved.tid,
            method: method_label(&approved.payment_method_type),
            amount: Won(approved.amount.total),
            approved_at: approved.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
        })
    }

    async fn inquire(
        &self,
        log: &CallLog,
        order: OrderId,
        gateway_ref: Option<&str>,
    ) -> Result<Inquiry, GatewayError> {
        let Some(tid) = gateway_ref else {
            return Ok(Inquiry::Closed("never reached KakaoPay".into()));
        };
        let status: OrderStatus = self
            .post(
                log,
                order,
                "inquiry",
                "order",
                json!({ "cid": self.cid, "tid": tid }),
            )
            .await?;
        Ok(match status.status.as_str() {
            "SUCCESS_PAYMENT" | "PART_CANCEL_PAYMENT" | "CANCEL_PAYMENT"
                if status.approved_at.is_some() =>
            {
                Inquiry::Paid {
                    approval: Approval {
                        tx_id: status.tid,
                        method: method_label(status.payment_method_type.as_deref().unwrap_or("")),
                        amount: Won(status.amount.map_or(0, |a| a.total)),
                        approved_at: status.approved_at.unwrap_or_else(OffsetDateTime::now_utc),
                    },
                    refunded: Won(status.canceled_amount.map_or(0, |a| a.total)),
                }
            }
            "CANCEL_PAYMENT" | "FAIL_PAYMENT" | "FAIL_AUTH_PASSWORD" | "QUIT_PAYMENT" => {
                Inquiry::Closed(format!("kakaopay status {}", status.status))
            }
            other => Inquiry::Open(format!("kakaopay status {other}")),
        })
    }

    async fn cancel(&self, log: &CallLog, request: &CancelRequest<'_>) -> Result<(), GatewayError> {
        let body = json!({
            "cid": self.cid, "tid": request.tx_id,
            "cancel_amount": request.amount, "cancel_tax_free_amount": 0,
        });
        let _: Value = self
            .post(log, request.order, "cancel", "cancel", body)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kakaopay_times_are_korea_time() {
        let approved: Approved = serde_json::from_value(json!({
            "aid": "A1", "tid": "T1", "amount": { "total": 50000 },
            "payment_method_type": "MONEY", "approved_at": "2026-11-26T13:05:09"
        }))
        .expect("parse");
        let t = approved.approved_at.expect("time");
        assert_eq!((t.hour(), t.offset().whole_hours()), (13, 9));
        assert_eq!(t.to_offset(time::UtcOffset::UTC).hour(), 4);
    }
}
