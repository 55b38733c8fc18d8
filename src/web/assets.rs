//! Static assets, served from memory. At start-up every file under `static/`
//! is read once with its content hash; pages link `/static/{path}?v={hash}`,
//! cached by browsers for a year (unversioned URLs revalidate with the
//! `ETag`). `make assets` writes brotli and gzip copies beside each text file
//! (`scripts/copy-assets.mjs`); they are checked against the file and sent
//! as they are to browsers that accept them, so no request compresses or
//! touches the disk.

use std::{
    collections::HashMap,
    fs,
    io::Read,
    path::{Path as FsPath, PathBuf},
};

use anyhow::Context;
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::{
    state::AppState,
    web::{Path, compress::choose},
};

/// One file and its precompressed copies.
#[derive(Debug)]
pub struct Asset {
    body: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
    content_type: &'static str,
    hash: String,
}

#[derive(Debug, Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json" | "map") => "application/json",
        Some("vtt") => "text/vtt; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A precompressed copy beside `path`, if there is one and it still holds
/// exactly the file (an asset edited without `make assets` is sent as is).
fn variant(path: &FsPath, suffix: &str, raw: &[u8]) -> Option<Bytes> {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    let packed = fs::read(PathBuf::from(name)).ok()?;
    let mut unpacked = Vec::with_capacity(raw.len());
    let read = match suffix {
        ".br" => brotli::Decompressor::new(&packed[..], 64 * 1024).read_to_end(&mut unpacked),
        _ => flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked),
    };
    if read.is_ok() && unpacked == raw {
        Some(Bytes::from(packed))
    } else {
        tracing::warn!(path = %path.display(), suffix, "stale precompressed asset ignored: run `make assets`");
        None
    }
}

impl Assets {
    /// Reads every file under `dir` with its precompressed copies. Missing
    /// vendor files are a build step not run (`make assets`): say so instead
    /// of serving a page without CSS.
    pub fn scan(dir: &FsPath) -> anyhow::Result<Self> {
        let mut files = HashMap::new();
        let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
        while let Some(current) = stack.pop() {
            let entries = fs::read_dir(&current)
                .with_context(|| format!("reading static folder {}", current.display()))?;
            for entry in entries {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let rel = path
                    .strip_prefix(dir)
                    .context("static path")?
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel.ends_with(".br") || rel.ends_with(".gz") {
                    continue;
                }
                let raw = fs::read(&path)?;
                let asset = Asset {
                    br: variant(&path, ".br", &raw),
                    gzip: variant(&path, ".gz", &raw),
                    content_type: content_type(&rel),
                    hash: hex::encode(&Sha256::digest(&raw)[..6]),
                    body: Bytes::from(raw),
                };
                files.insert(rel, asset);
            }
        }
        for required in ["vendor/bootstrap.min.css", "vendor/htmx.min.js"] {
            if !files.contains_key(required) {
                anyhow::bail!(
                    "{}/{required} is missing: run `make assets` (npm ci + copy) first",
                    dir.display()
                );
            }
        }
        Ok(Self { files })
    }

    /// The URL to print in a page for `path` (relative to `static/`).
    pub fn url(&self, path: &str) -> String {
        match self.files.get(path) {
            Some(asset) => format!("/static/{path}?v={}", asset.hash),
            None => {
                tracing::warn!(path, "asset not found under static/");
                format!("/static/{path}")
            }
        }
    }

    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }
}

/// `GET /static/{*path}`: from memory, precompressed when the browser
/// takes it, with an `ETag` per variant; a year of caching for versioned
/// URLs, revalidation for the rest.
pub async fn serve(
    State(state): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let Some(asset) = state.assets.get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (body, coding) = choose(
        &headers,
        &asset.body,
        asset.br.as_ref(),
        asset.gzip.as_ref(),
    );
    let etag = format!(
        "\"{}{}\"",
        asset.hash,
        coding.map(|c| format!("-{c}")).unwrap_or_default()
    );
    let versioned = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("v=")));
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    if let Some(coding) = coding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    (out, body.clone()).into_response()
}
