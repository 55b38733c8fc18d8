//! Who calls the API: a personal access token in `Authorization: Bearer`,
//! never a cookie (`/api` runs without the session layer, so a browser's
//! sign-in cannot act there). Every extractor here also takes a slot of the
//! caller's rate: per token, or per address without one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};

use crate::{
    accounts::tokens::{self, Caller},
    error::AppError,
    state::AppState,
    web::client::ClientInfo,
};

/// The API's own parts: its rate limiters.
pub struct Api {
    limiter: Limiter,
    /// Refused tokens per address: past the rate, an address's tokens are
    /// not looked up at all (guessing costs no statement).
    refused: Limiter,
}

impl Api {
    pub fn new(config: &crate::config::ApiConfig) -> Self {
        Self {
            limiter: Limiter::per_minute(config.per_minute),
            refused: Limiter::per_minute(config.per_minute),
        }
    }
}

/// Any caller, with or without a token, for what anyone may read (the
/// catalogue, a certificate's verification). A token that is sent must be
/// valid.
pub struct Anyone(pub Option<Caller>);

/// A caller with a live token of either scope.
pub struct Reader(pub Caller);

/// A caller with a live read-write token.
pub struct Writer(pub Caller);

impl<S> FromRequestParts<S> for Anyone
where
    S: Send + Sync,
    AppState: FromRef<S>,
    Arc<Api>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let api = Arc::<Api>::from_ref(state);
        let Ok(client) = ClientInfo::from_request_parts(parts, state).await;
        let address = format!("ip:{}", client.ip);
        if parts.headers.contains_key(header::AUTHORIZATION)
            && let Some(retry_after_secs) = api.refused.waiting(&address)
        {
            return Err(AppError::TooManyRequests { retry_after_secs });
        }
        let caller = match identify(parts, &AppState::from_ref(state)).await {
            Err(AppError::Unauthorized) => {
                // Counted after the refusal; the check above stops the next.
                let _ = api.refused.take(&address);
                return Err(AppError::Unauthorized);
            }
            other => other?,
        };
        let key = match &caller {
            Some(caller) => format!("token:{}", caller.token),
            None => address,
        };
        if let Err(retry_after_secs) = api.limiter.take(&key) {
            return Err(AppError::TooManyRequests { retry_after_secs });
        }
        Ok(Self(caller))
    }
}

impl<S> FromRequestParts<S> for Reader
where
    S: Send + Sync,
    AppState: FromRef<S>,
    Arc<Api>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match Anyone::from_request_parts(parts, state).await?.0 {
            Some(caller) => Ok(Self(caller)),
            None => Err(AppError::Unauthorized),
        }
    }
}

impl<S> FromRequestParts<S> for Writer
where
    S: Send + Sync,
    AppState: FromRef<S>,
    Arc<Api>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Reader(caller) = Reader::from_request_parts(parts, state).await?;
        if !caller.scope.can_write() {
            return Err(AppError::Forbidden(
                "이 토큰은 읽기 전용입니다. 바꾸려면 읽기와 쓰기 권한의 토큰을 쓰세요.".into(),
            ));
        }
        Ok(Self(caller))
    }
}

/// The token's owner, `None` without an `Authorization` header; a header
/// that is not a live token is refused (401).
async fn identify(parts: &Parts, state: &AppState) -> Result<Option<Caller>, AppError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(AppError::Unauthorized)?;
    match tokens::authenticate(&state.db, secret).await? {
        Some(caller) => Ok(Some(caller)),
        None => Err(AppError::Unauthorized),
    }
}

/// A rate per key (generic cell rate: each request pushes the key's
/// "theoretical arrival time" on by one interval; a request that would
/// push it more than a minute ahead waits). Kept in this process: with two
/// instances a token gets up to twice its rate.
struct Limiter {
    interval: Duration,
    burst: Duration,
    keys: Mutex<HashMap<String, Instant>>,
}

/// Beyond this many keys, those at rest are dropped.
const MAX_KEYS: usize = 100_000;

impl Limiter {
    fn per_minute(n: u32) -> Self {
        let burst = Duration::from_secs(60);
        Self {
            interval: burst / n.max(1),
            burst,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// In how many seconds `key` may go on, while it may not (no slot taken).
    fn waiting(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let ahead = keys.get(key).copied()?.checked_duration_since(now)?;
        (ahead + self.interval > self.burst).then(|| {
            (ahead + self.interval - self.burst)
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64
        })
    }

    /// Takes a slot for `key`, or says in how many seconds one frees.
    fn take(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= MAX_KEYS {
            keys.retain(|_, at| *at > now);
        }
        let at = keys.get(key).copied().unwrap_or(now).max(now) + self.interval;
        let ahead = at - now;
        if ahead > self.burst {
            return Err((ahead - self.burst).as_secs_f64().ceil().max(1.0) as u64);
        }
        keys.insert(key.to_owned(), at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_and_others_are_not_held_up() {
        let limiter = Limiter::per_minute(3);
        for _ in 0..3 {
            assert_eq!(limiter.take("a"), Ok(()));
        }
        assert!(limiter.waiting("a").is_some());
        let wait = limiter.take("a").unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(limiter.waiting("b"), None);
        assert_eq!(limiter.take("b"), Ok(()));
    }
}
