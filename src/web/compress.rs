//! Compression done in one go on whole bodies: the brotli and gzip encoders
//! every compressed response goes through (static copies aside, made by
//! `make assets`), and the middleware that compresses pages made for one
//! visitor. Pages every visitor shares are compressed once (`web::shared`).

use std::io::Write;

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Whether `Accept-Encoding` takes `coding` (a `q=0` refuses it).
pub fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused =
                parts.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
            (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
        })
}

/// The body to send for these request headers: brotli, gzip or as is.
pub fn choose<'a>(
    headers: &HeaderMap,
    plain: &'a Bytes,
    br: Option<&'a Bytes>,
    gzip: Option<&'a Bytes>,
) -> (&'a Bytes, Option<&'static str>) {
    match (br, gzip) {
        (Some(br), _) if accepts(headers, "br") => (br, Some("br")),
        (_, Some(gzip)) if accepts(headers, "gzip") => (gzip, Some("gzip")),
        _ => (plain, None),
    }
}

/// Brotli with a 256 KB window: pages are far smaller, and a small window
/// keeps the encoder's set-up cheap.
const BROTLI_WINDOW: u32 = 18;

pub fn brotli(bytes: &[u8], quality: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, BROTLI_WINDOW);
        // Writing to a Vec cannot fail.
        let _ = writer.write_all(bytes);
    }
    out
}

pub fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::new(level),
    );
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// Pages made per request go out as gzip 1 wherever gzip is taken (every
/// browser), brotli 1 only to a client that takes brotli alone (ADR 0013):
/// on the 5-22 KB learner pages gzip 1 costs 20-48 µs where brotli 1 cost
/// 30-160 µs (its encoder zeroes some 600 KB of tables per call), for
/// 5-10% more bytes.
const PAGE_BROTLI_QUALITY: u32 = 1;
const PAGE_GZIP_LEVEL: u32 = 1;
/// Smaller bodies are sent as they are.
const MIN_BYTES: usize = 1024;
/// A page larger than this is a bug; it is sent as it is.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Compresses an HTML page made for this request. Responses already
/// encoded (shared pages) and anything not HTML pass untouched.
pub async fn pages(req: Request, next: Next) -> Response {
    let coding = if accepts(req.headers(), "gzip") {
        "gzip"
    } else if accepts(req.headers(), "br") {
        "br"
    } else {
        return next.run(req).await;
    };
    let response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !is_html || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BYTES).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if bytes.len() < MIN_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let packed = match coding {
        "br" => brotli(&bytes, PAGE_BROTLI_QUALITY),
        _ => gzip(&bytes, PAGE_GZIP_LEVEL),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(packed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn the_best_encoding_the_browser_takes_is_chosen() {
        let (plain, br, gz) = (Bytes::from("p"), Bytes::from("b"), Bytes::from("g"));
        let pick = |h: &HeaderMap| choose(h, &plain, Some(&br), Some(&gz)).1;
        assert_eq!(pick(&with("gzip, deflate, br, zstd")), Some("br"));
        assert_eq!(pick(&with("gzip")), Some("gzip"));
        assert_eq!(pick(&with("br;q=0, gzip")), Some("gzip"));
        assert_eq!(pick(&with("identity")), None);
        assert_eq!(pick(&HeaderMap::new()), None);
        assert_eq!(choose(&with("br"), &plain, None, Some(&gz)).1, None);
    }
}
