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

use crate::web::assets::choose;

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
