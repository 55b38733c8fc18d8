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

use crate::web::compress::{self, choose};

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
        Self {
            br: Bytes::from(compress::brotli(html.as_bytes(), BROTLI_QUALITY)),
            gzip: Bytes::from(compress::gzip(html.as_bytes(), GZIP_LEVEL)),
            html: Bytes::from(html),
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
