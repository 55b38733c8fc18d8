//! KakaoPay online single payment (open-api.kakaopay.com, `/online/v1/payment`):
//! ready -> the learner pays on KakaoPay -> approve with `pg_token`; order
//! inquiry for reconciliation; cancel for refunds. JSON bodies and
//! `Authorization: SECRET_KEY {key}`. Every non-2xx reply is a failure with
//! its `error_code`/`error_message` kept.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::commerce::gateway::{Called, GatewayCall, GatewayError, elapsed_ms};

#[derive(Clone)]
pub struct KakaoPay {
    http: reqwest::Client,
    base: String,
    secret_key: String,
    pub cid: String,
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

#[derive(Debug, Deserialize)]
pub struct Cancelled {
    pub status: String,
}

#[derive(Serialize)]
pub struct ReadyRequest<'a> {
    pub partner_order_id: &'a str,
    pub partner_user_id: &'a str,
    pub item_name: &'a str,
    pub total_amount: i64,
    pub approval_url: &'a str,
    pub cancel_url: &'a str,
    pub fail_url: &'a str,
}

impl KakaoPay {
    pub fn new(http: reqwest::Client, base: &str, secret_key: String, cid: String) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            secret_key,
            cid,
        }
    }

    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        operation: &'static str,
        path: &str,
        body: Value,
    ) -> Called<T> {
        let started = Instant::now();
        let sent = self
            .http
            .post(format!("{}/online/v1/payment/{path}", self.base))
            .header("Authorization", format!("SECRET_KEY {}", self.secret_key))
            .json(&body)
            .send()
            .await;
        let (status, reply): (Option<u16>, Result<Value, String>) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                (
                    Some(status),
                    response.json::<Value>().await.map_err(|e| e.to_string()),
                )
            }
            Err(err) => (None, Err(err.to_string())),
        };
        let result = match (&status, &reply) {
            (Some(200..=299), Ok(value)) => {
                serde_json::from_value::<T>(value.clone()).map_err(|e| GatewayError {
                    status: 200,
                    code: "parse".into(),
                    message: e.to_string(),
                })
            }
            (Some(s), Ok(value)) => Err(GatewayError {
                status: *s,
                code: value
                    .get("error_code")
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                message: value
                    .get("error_message")
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
            gateway: "kakaopay",
            operation,
            request: body,
            response: reply.ok(),
            http_status: status.map(i32::from),
            duration_ms: elapsed_ms(started),
            error: result.as_ref().err().map(ToString::to_string),
        };
        Called { result, log }
    }

    pub async fn ready(&self, request: &ReadyRequest<'_>) -> Called<Ready> {
        let mut body = serde_json::to_value(request).unwrap_or_default();
        body["cid"] = json!(self.cid);
        body["quantity"] = json!(1);
        body["tax_free_amount"] = json!(0);
        self.post("ready", "ready", body).await
    }

    /// Must repeat the ready call's `partner_order_id` and `partner_user_id`.
    pub async fn approve(
        &self,
        tid: &str,
        partner_order_id: &str,
        partner_user_id: &str,
        pg_token: &str,
    ) -> Called<Approved> {
        let body = json!({
            "cid": self.cid, "tid": tid, "partner_order_id": partner_order_id,
            "partner_user_id": partner_user_id, "pg_token": pg_token,
        });
        self.post("approve", "approve", body).await
    }

    pub async fn order(&self, tid: &str) -> Called<OrderStatus> {
        self.post("inquiry", "order", json!({ "cid": self.cid, "tid": tid }))
            .await
    }

    pub async fn cancel(&self, tid: &str, amount: i64) -> Called<Cancelled> {
        let body = json!({
            "cid": self.cid, "tid": tid, "cancel_amount": amount, "cancel_tax_free_amount": 0,
        });
        self.post("cancel", "cancel", body).await
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
