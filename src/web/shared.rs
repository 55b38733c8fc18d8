//! Pages that are the same for every anonymous visitor (the home roadmap,
//! the catalogue, course pages, with no flash message waiting): rendered
//! once per cache entry without a CSRF token (they hold no form that posts),
//! and compressed once then, brotli and gzip, so a cache hit sends stored
//! bytes and compresses nothing. They live in the catalogue cache, so a
//! catalogue write drops them with the data they show.

use std::{
    io::Write,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::web::assets::{accepts, choose};

/// How many pages were compressed here since start (a test reads it).
static COMPRESSED: AtomicU64 = AtomicU64::new(0);

pub fn compressions() -> u64 {
    COMPRESSED.load(Ordering::Relaxed)
}

/// Brotli quality and gzip level for a page compressed once per cache entry
/// (ADR 0013: brotli 5 is 5-8% larger than 9 but 25 times cheaper, about
/// 0.2 ms for a catalogue page, so a miss, or a flood of distinct searches,
/// costs little).
const BROTLI_QUALITY: u32 = 5;
const GZIP_LEVEL: u32 = 6;

pub struct SharedPage {
    html: Bytes,
    br: Bytes,
    gzip: Bytes,
}

impl SharedPage {
    pub fn new(html: String) -> Self {
        COMPRESSED.fetch_add(1, Ordering::Relaxed);
        let mut br = Vec::with_capacity(html.len() / 4);
        {
            let mut writer = brotli::CompressorWriter::new(&mut br, 16 * 1024, BROTLI_QUALITY, 22);
            // Writing to a Vec cannot fail.
            let _ = writer.write_all(html.as_bytes());
        }
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(html.len() / 3),
            flate2::Compression::new(GZIP_LEVEL),
        );
        let _ = gz.write_all(html.as_bytes());
        let gzip = gz.finish().unwrap_or_default();
        Self {
            html: Bytes::from(html),
            br: Bytes::from(br),
            gzip: Bytes::from(gzip),
        }
    }

    /// The page in the best encoding the browser takes.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let (body, coding) = choose(request, &self.html, Some(&self.br), Some(&self.gzip));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        // The same for everyone: a browser may keep it, asking again first.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        (headers, body.clone()).into_response()
    }
}

/// Brotli quality, window and gzip level for pages made per request
/// (ADR 0013): a one-shot compression of the whole page with a small window
/// costs a fraction of a streaming encoder's set-up.
const PAGE_BROTLI_QUALITY: u32 = 1;
const PAGE_BROTLI_WINDOW: u32 = 18;
const PAGE_GZIP_LEVEL: u32 = 1;
/// Smaller pages are sent as they are.
const PAGE_MIN_BYTES: usize = 1024;

/// Compresses an HTML page made for this request, in one go. Pages already
/// encoded (the shared ones) and anything not HTML pass untouched.
pub async fn compress_pages(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let accept = req.headers().clone();
    let response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    if !is_html || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let br = accepts(&accept, "br");
    let gzip = !br && accepts(&accept, "gzip");
    if !br && !gzip {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if bytes.len() < PAGE_MIN_BYTES {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let (packed, coding) = if br {
        let mut out = Vec::with_capacity(bytes.len() / 3);
        {
            let mut writer = brotli::CompressorWriter::new(
                &mut out,
                4096,
                PAGE_BROTLI_QUALITY,
                PAGE_BROTLI_WINDOW,
            );
            let _ = writer.write_all(&bytes);
        }
        (out, "br")
    } else {
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(bytes.len() / 3),
            flate2::Compression::new(PAGE_GZIP_LEVEL),
        );
        let _ = gz.write_all(&bytes);
        (gz.finish().unwrap_or_default(), "gzip")
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, axum::body::Body::from(packed))
}
