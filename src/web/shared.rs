//! Pages that are the same for every anonymous visitor (the home roadmap,
//! the catalogue, course pages, with no flash message waiting): rendered
//! once per cache entry without a CSRF token (they hold no form that posts),
//! and compressed once then, brotli and gzip, so a cache hit sends stored
//! bytes and compresses nothing. They live in the catalogue cache, so a
//! catalogue write drops them with the data they show.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};

use sha2::{Digest, Sha256};

use crate::web::compress::{self, choose};

/// A weak `ETag` (`W/"…"`) naming `body`'s bytes: weak, as the same bytes
/// may leave compressed or not.
pub fn weak_etag(body: &[u8]) -> String {
    format!("W/\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// Whether the request's `If-None-Match` names `tag` (weakly) or is `*`.
pub fn names(request: &HeaderMap, tag: &str) -> bool {
    let opaque = tag.trim_start_matches("W/");
    request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == opaque || t == "*")
        })
}

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
    content_type: &'static str,
    /// The JSON answers' tag of their bytes (`If-None-Match` gets a 304).
    etag: Option<HeaderValue>,
}

impl SharedPage {
    pub fn new(html: String) -> Self {
        Self::of(html.into_bytes(), "text/html; charset=utf-8", None)
    }

    /// The same JSON for every caller (the API's catalogue), with its `ETag`.
    pub fn json(body: Vec<u8>) -> Self {
        let etag = HeaderValue::from_str(&weak_etag(&body)).ok();
        Self::of(body, "application/json", etag)
    }

    fn of(body: Vec<u8>, content_type: &'static str, etag: Option<HeaderValue>) -> Self {
        COMPRESSED.fetch_add(1, Ordering::Relaxed);
        Self {
            br: Bytes::from(compress::brotli(&body, BROTLI_QUALITY)),
            gzip: Bytes::from(compress::gzip(&body, GZIP_LEVEL)),
            html: Bytes::from(body),
            content_type,
            etag,
        }
    }

    /// The page in the best encoding the browser takes.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        if let Some(tag) = &self.etag
            && names(request, tag.to_str().unwrap_or_default())
        {
            let mut response = axum::http::StatusCode::NOT_MODIFIED.into_response();
            response.headers_mut().insert(header::ETAG, tag.clone());
            return response;
        }
        let (body, coding) = choose(request, &self.html, Some(&self.br), Some(&self.gzip));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if let Some(tag) = &self.etag {
            headers.insert(header::ETAG, tag.clone());
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        // The same for everyone: a browser may keep it, asking again first.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        (headers, body.clone()).into_response()
    }
}
