//! `Idempotency-Key` for the API's POSTs that move money: the same key
//! (from the same token) gets the same answer, however often it is sent.
//! The first request claims the key with one insert; a repeat of a finished
//! one gets its answer again (`Idempotent-Replayed: true`), a repeat while
//! the first is still working gets 409, and the key sent with another
//! request is refused (422). A refusal or failure gives the key back, so
//! the request may be sent again.

use axum::{
    body::Body,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::Response,
};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::{accounts::tokens::Caller, error::AppError};

pub const HEADER: &str = "idempotency-key";

/// How long a key's answer is kept.
pub const KEPT_HOURS: i32 = 24;

/// Runs `work` once per `Idempotency-Key` of `caller` for the request
/// `fingerprint` (its method, path and body); `work` answers a status and
/// a JSON body.
pub async fn once(
    db: &PgPool,
    caller: &Caller,
    request: &HeaderMap,
    fingerprint: &[u8],
    work: impl AsyncFnOnce() -> Result<(StatusCode, Vec<u8>), AppError>,
) -> Result<Response, AppError> {
    let key = request
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            AppError::BadRequest(
                "돈이 오가는 요청에는 Idempotency-Key 헤더(1~255자)가 필요합니다.".into(),
            )
        })?;
    let hash = Sha256::digest(fingerprint).to_vec();
    let claimed = sqlx::query_scalar!(
        "INSERT INTO api_idempotency (token_id, key, request_hash) VALUES ($1, $2, $3)
         ON CONFLICT (token_id, key) DO NOTHING RETURNING true",
        caller.token.0,
        key,
        hash
    )
    .fetch_optional(db)
    .await?
    .is_some();
    if !claimed {
        let first = sqlx::query!(
            "SELECT request_hash, status, body FROM api_idempotency
              WHERE token_id = $1 AND key = $2",
            caller.token.0,
            key
        )
        .fetch_optional(db)
        .await?
        .ok_or(AppError::Conflict(
            "같은 Idempotency-Key의 요청을 처리하는 중입니다. 잠시 뒤 다시 보내 주세요.".into(),
        ))?;
        if first.request_hash != hash {
            return Err(AppError::Unprocessable(
                "이 Idempotency-Key는 다른 요청에 이미 쓰였습니다. 새 요청에는 새 키를 쓰세요.",
            ));
        }
        return match (first.status, first.body) {
            (Some(status), Some(body)) => Ok(answer(status as u16, body, true)),
            _ => Err(AppError::Conflict(
                "같은 Idempotency-Key의 요청을 처리하는 중입니다. 잠시 뒤 다시 보내 주세요.".into(),
            )),
        };
    }
    match work().await {
        Ok((status, body)) => {
            sqlx::query!(
                "UPDATE api_idempotency SET status = $3, body = $4 WHERE token_id = $1 AND key = $2",
                caller.token.0,
                key,
                status.as_u16() as i16,
                body
            )
            .execute(db)
            .await?;
            Ok(answer(status.as_u16(), body, false))
        }
        Err(err) => {
            sqlx::query!(
                "DELETE FROM api_idempotency WHERE token_id = $1 AND key = $2",
                caller.token.0,
                key
            )
            .execute(db)
            .await?;
            Err(err)
        }
    }
}

fn answer(status: u16, body: Vec<u8>, replayed: bool) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        headers.insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// Forgets the keys older than [`KEPT_HOURS`] (the hourly housekeeping).
pub async fn prune(db: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "DELETE FROM api_idempotency WHERE created_at < now() - make_interval(hours => $1)",
        KEPT_HOURS
    )
    .execute(db)
    .await?
    .rows_affected())
}
