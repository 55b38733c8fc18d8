//! Fingerprinted static assets: every file under `static/` gets a content hash
//! at start-up; pages link `/static/{path}?v={hash}`, and those URLs are cached
//! by browsers for a year. Unversioned URLs must revalidate.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
};

use anyhow::Context;
use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::IntoResponse,
    response::Response,
};
use sha2::{Digest, Sha256};

#[derive(Debug, Default)]
pub struct Assets {
    hashes: HashMap<String, String>,
}

impl Assets {
    /// Hashes every file under `dir`. Missing vendor files are a build step
    /// not run (`make assets`): say so instead of serving a page without CSS.
    pub fn scan(dir: &Path) -> anyhow::Result<Self> {
        let mut hashes = HashMap::new();
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
                let bytes = fs::read(&path)?;
                let hash = hex::encode(&Sha256::digest(&bytes)[..6]);
                let rel = path
                    .strip_prefix(dir)
                    .context("static path")?
                    .to_string_lossy()
                    .replace('\\', "/");
                hashes.insert(rel, hash);
            }
        }
        for required in ["vendor/bootstrap.min.css", "vendor/htmx.min.js"] {
            if !hashes.contains_key(required) {
                anyhow::bail!(
                    "{}/{required} is missing: run `make assets` (npm ci + copy) first",
                    dir.display()
                );
            }
        }
        Ok(Self { hashes })
    }

    /// The URL to print in a page for `path` (relative to `static/`).
    pub fn url(&self, path: &str) -> String {
        match self.hashes.get(path) {
            Some(hash) => format!("/static/{path}?v={hash}"),
            None => {
                tracing::warn!(path, "asset not found under static/");
                format!("/static/{path}")
            }
        }
    }
}

/// Long cache for versioned URLs, revalidation for the rest. A path no file
/// could have (a segment past the file-system's 255-byte name limit) is a
/// 404 before it reaches the disk.
pub async fn cache_headers(req: Request, next: Next) -> Response {
    if req
        .uri()
        .path()
        .split('/')
        .any(|segment| segment.len() > 255)
    {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let versioned = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("v=")));
    let mut response = next.run(req).await;
    if response.status().is_success() {
        let value = if versioned {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}
