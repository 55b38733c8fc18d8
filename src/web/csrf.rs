//! CSRF protection without a session row: a signed double-submit token.
//!
//! `mint` gives every visitor a random nonce in an HttpOnly cookie and puts
//! `HMAC(key, nonce)` in the request as [`CsrfToken`]; pages print it in a
//! hidden `csrf_token` field and in `<meta name="csrf-token">` (htmx sends it
//! back as `X-CSRF-Token`). `verify` refuses every state-changing request whose
//! Origin is foreign or whose token does not match the cookie. A forged page
//! can neither read the cookie nor compute the HMAC without the server key.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

use crate::{error::AppError, state::AppState, web::cookies};

pub const COOKIE: &str = "weaverse_csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
const PURPOSE: &str = "csrf";
const NONCE_BYTES: usize = 32;

/// The token to print in forms for this request.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

fn valid_nonce(raw: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(raw)
        .is_ok_and(|bytes| bytes.len() == NONCE_BYTES)
}

fn new_nonce() -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Makes sure the visitor has a nonce cookie and exposes the matching token.
pub async fn mint(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookies::get(req.headers(), COOKIE)
        .filter(|n| valid_nonce(n))
        .map(str::to_owned);
    let fresh = existing.is_none();
    let nonce = existing.unwrap_or_else(new_nonce);
    let token = state.signer.sign(PURPOSE, nonce.as_bytes());
    req.extensions_mut().insert(CsrfToken(token));
    req.extensions_mut().insert(Nonce(nonce.clone()));
    let mut response = next.run(req).await;
    if fresh {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(
                COOKIE,
                nonce,
                Some(time::Duration::days(30)),
                state.config.secure_cookies(),
            ),
        );
    }
    response
}

/// The nonce the request came with (or was just given).
#[derive(Clone)]
struct Nonce(String);

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Refuses state-changing requests without a same-origin Origin and a valid token.
/// POSTs that change nothing and that other programs send without a
/// session: checking a badge someone handed over.
const CHANGES_NOTHING: &[&str] = &["/certificates/verify"];

pub async fn verify(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) || CHANGES_NOTHING.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(err) => err.into_response(),
    }
}

async fn check(state: &AppState, req: Request) -> Result<Request, AppError> {
    check_origin(req.headers(), &state.config.public_origin())?;
    // A cookie that was missing has just been minted; it cannot match anything.
    let had_cookie = cookies::get(req.headers(), COOKIE).is_some_and(valid_nonce);
    let Some(Nonce(nonce)) = req.extensions().get::<Nonce>().cloned() else {
        return Err(AppError::Csrf("no nonce"));
    };
    if !had_cookie {
        return Err(AppError::Csrf("no csrf cookie"));
    }
    let matches = |token: &str| state.signer.verify(PURPOSE, nonce.as_bytes(), token);

    if let Some(token) = req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        return if matches(token) {
            Ok(req)
        } else {
            Err(AppError::Csrf("bad header token"))
        };
    }
    // Multipart uploads carry the token in the form's action URL.
    if let Some(token) = query_token(req.uri().query()) {
        return if matches(&token) {
            Ok(req)
        } else {
            Err(AppError::Csrf("bad query token"))
        };
    }
    if !crate::web::input::is_form(req.headers()) {
        return Err(AppError::Csrf("no token"));
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| AppError::BadRequest("요청 본문이 너무 크거나 읽을 수 없습니다.".into()))?;
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned());
    match token {
        Some(token) if matches(&token) => Ok(Request::from_parts(parts, Body::from(bytes))),
        Some(_) => Err(AppError::Csrf("bad form token")),
        None => Err(AppError::Csrf("no form token")),
    }
}

fn query_token(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v.into_owned())
}

/// The request must come from our own pages: `Origin` (or, when a browser
/// leaves it out, `Referer`) names the public origin or the Host it was sent to.
fn check_origin(headers: &HeaderMap, public_origin: &str) -> Result<(), AppError> {
    let claimed = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization())
        })
        .ok_or(AppError::Csrf("no origin"))?;
    if claimed == public_origin {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let claimed_authority = url::Url::parse(&claimed).ok().and_then(|u| {
        let host = u.host_str()?.to_owned();
        Some(match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    });
    match (host, claimed_authority) {
        (Some(host), Some(authority)) if host.eq_ignore_ascii_case(&authority) => Ok(()),
        _ => Err(AppError::Csrf("foreign origin")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn origin_must_be_ours_or_the_host_it_was_sent_to() {
        let public = "https://weaverse.example";
        assert!(
            check_origin(
                &headers(&[(header::ORIGIN, "https://weaverse.example")]),
                public
            )
            .is_ok()
        );
        assert!(
            check_origin(
                &headers(&[
                    (header::ORIGIN, "http://127.0.0.1:8000"),
                    (header::HOST, "127.0.0.1:8000")
                ]),
                public
            )
            .is_ok()
        );
        assert!(
            check_origin(
                &headers(&[
                    (header::ORIGIN, "https://evil.example"),
                    (header::HOST, "weaverse.example")
                ]),
                public
            )
            .is_err()
        );
        assert!(check_origin(&headers(&[(header::ORIGIN, "null")]), public).is_err());
        assert!(check_origin(&headers(&[]), public).is_err());
        assert!(
            check_origin(
                &headers(&[(header::REFERER, "https://weaverse.example/courses")]),
                public
            )
            .is_ok()
        );
    }

    #[test]
    fn nonces_are_32_random_bytes() {
        let a = new_nonce();
        assert!(valid_nonce(&a));
        assert_ne!(a, new_nonce());
        assert!(!valid_nonce("short"));
    }
}
