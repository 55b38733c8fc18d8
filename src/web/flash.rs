//! One-shot messages shown on the next page ("저장했습니다"), carried in a
//! signed cookie so that anonymous visitors need no session row.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponseParts, Response, ResponseParts},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::{
    state::AppState,
    web::{cookies, htmx, signing::Signer},
};

pub const COOKIE: &str = "weaverse_flash";
const PURPOSE: &str = "flash";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Success,
    Info,
    Warning,
    Danger,
}

impl Level {
    /// The Bootstrap alert modifier.
    pub fn css(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Danger => "danger",
        }
    }

    /// Read aloud before the text, so colour is never the only signal.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Success => "완료",
            Self::Info => "안내",
            Self::Warning => "주의",
            Self::Danger => "오류",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub level: Level,
    pub text: String,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            level: Level::Success,
            text: text.into(),
        }
    }
    pub fn info(text: impl Into<String>) -> Self {
        Self {
            level: Level::Info,
            text: text.into(),
        }
    }
    pub fn warning(text: impl Into<String>) -> Self {
        Self {
            level: Level::Warning,
            text: text.into(),
        }
    }
}

/// Messages that arrived with this request.
#[derive(Clone, Debug, Default)]
pub struct Flashes(pub Vec<Flash>);

pub fn encode(signer: &Signer, flashes: &[Flash]) -> String {
    let json = serde_json::to_vec(flashes).unwrap_or_default();
    let body = URL_SAFE_NO_PAD.encode(&json);
    let sig = signer.sign(PURPOSE, body.as_bytes());
    format!("{body}.{sig}")
}

pub fn decode(signer: &Signer, raw: &str) -> Option<Vec<Flash>> {
    let (body, sig) = raw.split_once('.')?;
    if !signer.verify(PURPOSE, body.as_bytes(), sig) {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()
}

/// A response part that leaves messages for the next page.
pub struct SetFlash(HeaderValue);

impl SetFlash {
    pub fn new(state: &AppState, flashes: &[Flash]) -> Self {
        Self(cookies::set(
            COOKIE,
            encode(&state.signer, flashes),
            Some(time::Duration::minutes(10)),
            state.config.secure_cookies(),
        ))
    }
}

impl IntoResponseParts for SetFlash {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().append(header::SET_COOKIE, self.0);
        Ok(res)
    }
}

/// Reads the flash cookie into [`Flashes`]; once a full HTML page has been
/// served with them, removes the cookie so they show once.
pub async fn carry(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let raw = cookies::get(req.headers(), COOKIE).map(str::to_owned);
    let is_htmx = htmx::is_htmx(req.headers());
    let flashes = raw
        .as_deref()
        .and_then(|r| decode(&state.signer, r))
        .unwrap_or_default();
    req.extensions_mut().insert(Flashes(flashes));
    let mut response = next.run(req).await;
    let served_page = response.status().is_success()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
    let replaced = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(COOKIE.as_bytes()));
    if raw.is_some() && served_page && !is_htmx && !replaced {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::remove(COOKIE, state.config.secure_cookies()),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flashes_round_trip_and_forgeries_are_dropped() {
        let signer = Signer::new(b"0123456789abcdef0123456789abcdef");
        let sent = vec![
            Flash::success("저장했습니다."),
            Flash::warning("확인해 주세요"),
        ];
        let raw = encode(&signer, &sent);
        assert_eq!(decode(&signer, &raw), Some(sent));
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"[{"level":"danger","text":"phish"}]"#),
            raw.split_once('.').map(|(_, s)| s).unwrap_or_default()
        );
        assert_eq!(decode(&signer, &forged), None);
    }
}
