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

/// gzip's fixed header: deflate, no name or time, "unknown" system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

thread_local! {
    /// Each worker thread's deflate state, reset between bodies: setting one
    /// up allocates and clears some 300 KB, which cost more than
    /// compressing a 14 KB page (ADR 0013).
    static DEFLATE: std::cell::RefCell<Option<(u32, flate2::Compress)>> =
        const { std::cell::RefCell::new(None) };
}

pub fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 3 + GZIP_HEADER.len() + 8);
    out.extend_from_slice(&GZIP_HEADER);
    let packed = DEFLATE.with_borrow_mut(|kept| {
        let deflate = match kept {
            Some((kept_level, deflate)) if *kept_level == level => {
                deflate.reset();
                deflate
            }
            _ => {
                let fresh = flate2::Compress::new(flate2::Compression::new(level), false);
                &mut kept.insert((level, fresh)).1
            }
        };
        let start = deflate.total_in();
        loop {
            let done = (deflate.total_in() - start) as usize;
            out.reserve(bytes.len() - done + 64);
            match deflate.compress_vec(&bytes[done..], &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => return true,
                Ok(_) => continue,
                // Only a misuse of the stream fails; start afresh.
                Err(_) => {
                    *kept = None;
                    return false;
                }
            }
        }
    });
    if !packed {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        let _ = gz.write_all(bytes);
        return gz.finish().unwrap_or_default();
    }
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
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

/// Compresses an HTML page (or the API's JSON) made for this request.
/// Responses already encoded (shared pages) and anything else pass
/// untouched.
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
        .is_some_and(|ct| {
            ct.starts_with("text/html")
                || ct.starts_with("application/json")
                || ct.starts_with("application/problem+json")
        });
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

    #[test]
    fn gzip_reuses_its_state_and_every_body_unpacks_whole() {
        use std::io::Read;
        let page = "<li>강의 <b>{n}</b></li>\n".repeat(2_000);
        let other: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        // Twice at each level, switching levels, so reset and fresh states
        // both run; an empty body too.
        for (body, level) in [
            (page.as_bytes(), 1),
            (&other[..], 1),
            (page.as_bytes(), 9),
            (b"".as_slice(), 9),
            (page.as_bytes(), 1),
        ] {
            let packed = gzip(body, level);
            assert_eq!(&packed[..2], &[0x1f, 0x8b]);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&packed[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, body);
            if body.len() == page.len() {
                assert!(packed.len() < body.len() / 10, "{}", packed.len());
            }
        }
    }
}
