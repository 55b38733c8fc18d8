//! The project's `Form` and `Query` extractors. Every value passes
//! `text::clean` (NFC, bounded, no NUL or control characters) and a body or
//! query that is not UTF-8 is refused, so a handler only ever sees text we
//! can store. Refusals are Korean 4xx pages. `axum::Form` and
//! `axum::extract::Query` are banned in `clippy.toml`.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{
    error::AppError,
    text::{self, Refused},
};

pub struct Form<T>(pub T);
pub struct Query<T>(pub T);
/// A JSON body (the API's), every string in it, keys too, cleaned.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_of(req, state, is_form).await?;
        decode(&bytes).map(Self)
    }
}

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        decode(parts.uri.query().unwrap_or_default().as_bytes()).map(Self)
    }
}

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_of(req, state, is_json).await?;
        decode_json(&bytes).map(Self)
    }
}

/// The body of a request whose headers pass `kind` (else 415).
async fn body_of<S: Send + Sync>(
    req: Request,
    state: &S,
    kind: fn(&HeaderMap) -> bool,
) -> Result<Bytes, AppError> {
    if !kind(req.headers()) {
        return Err(AppError::UnsupportedMediaType);
    }
    Bytes::from_request(req, state)
        .await
        .map_err(|_| AppError::BadRequest("요청 본문이 너무 크거나 읽을 수 없습니다.".into()))
}

/// Whether a request says its body is JSON (`application/json`, `…+json`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| {
            let ct = ct.trim();
            ct == "application/json" || ct.ends_with("+json")
        })
}

/// JSON bytes to `T`: not UTF-8 or control characters in a string is 422,
/// not JSON or not of `T`'s shape is 400 (saying what did not fit).
fn decode_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    let text = std::str::from_utf8(raw).map_err(|_| refused(Refused::Encoding))?;
    let mut value: serde_json::Value = serde_json::from_str(text)
        .map_err(|err| AppError::BadRequest(format!("JSON 형식이 올바르지 않습니다: {err}")))?;
    clean_json(&mut value)?;
    serde_json::from_value(value)
        .map_err(|err| AppError::BadRequest(format!("요청 본문의 모양이 맞지 않습니다: {err}")))
}

fn clean_json(value: &mut serde_json::Value) -> Result<(), AppError> {
    use serde_json::Value;
    match value {
        Value::String(s) => *s = text::clean(s).map_err(refused)?,
        Value::Array(items) => {
            for item in items {
                clean_json(item)?;
            }
        }
        Value::Object(fields) => {
            let taken = std::mem::take(fields);
            for (key, mut item) in taken {
                clean_json(&mut item)?;
                fields.insert(text::clean(&key).map_err(refused)?, item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// Whether a request says its body is an HTML form.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// `application/x-www-form-urlencoded` bytes to `T`, every key and value
/// cleaned on the way.
fn decode<T: DeserializeOwned>(raw: &[u8]) -> Result<T, AppError> {
    let mut clean = url::form_urlencoded::Serializer::new(String::with_capacity(raw.len()));
    for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        clean.append_pair(&field(key)?, &field(value)?);
    }
    serde_urlencoded::from_str(&clean.finish()).map_err(|err| {
        tracing::debug!(%err, "form or query does not fit");
        AppError::BadRequest(
            "입력 형식이 올바르지 않습니다. 페이지를 새로고침한 뒤 다시 시도해 주세요.".into(),
        )
    })
}

fn field(raw: &[u8]) -> Result<String, AppError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    let text = String::from_utf8(bytes).map_err(|_| refused(Refused::Encoding))?;
    text::clean(&text).map_err(refused)
}

fn refused(why: Refused) -> AppError {
    tracing::debug!(%why, "input refused");
    AppError::Unprocessable(match why {
        Refused::Encoding => "보낸 내용의 문자 인코딩이 올바르지 않습니다 (UTF-8만 받습니다).",
        Refused::Control => {
            "입력한 내용에 쓸 수 없는 문자(제어 문자나 보이지 않는 서식 문자)가 있습니다. 지우고 다시 입력해 주세요."
        }
        Refused::TooLong => "입력한 내용이 너무 깁니다.",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Sample {
        name: String,
        #[serde(default)]
        note: String,
    }

    #[test]
    fn fields_are_decoded_and_cleaned() {
        let s: Sample = decode(b"name=%ED%95%9C+%EA%B8%80&note=a%0D%0Ab").unwrap();
        assert_eq!((s.name.as_str(), s.note.as_str()), ("한 글", "a\nb"));
    }

    #[test]
    fn bad_bytes_and_control_characters_are_refused() {
        for raw in [
            &b"name=%00"[..],
            b"name=%ff%fe",
            b"name=\xff",
            b"name=%ED%A0%80",
            b"na%00me=x",
        ] {
            let err = decode::<Sample>(raw).unwrap_err();
            assert_eq!(
                err.status(),
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "{raw:?}"
            );
        }
        let err = decode::<Sample>(b"note=x").unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
    }

    #[test]
    fn json_strings_are_cleaned_and_bad_ones_refused() {
        let s: Sample = decode_json(br#"{"name":"\u1112\u1161\u11ab","note":"a\r\nb"}"#).unwrap();
        assert_eq!((s.name.as_str(), s.note.as_str()), ("한", "a\nb"));
        let status = |raw: &[u8]| decode_json::<Sample>(raw).unwrap_err().status();
        use axum::http::StatusCode;
        assert_eq!(
            status(br#"{"name":"a\u0000"}"#),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(status(br#"{"name":["x"]}"#), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"{"), StatusCode::BAD_REQUEST);
        assert_eq!(status(b"\xff"), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
