//! Where media files live: a local folder (the default, `var/media`) or an
//! S3 bucket. Keys are `/`-separated relative paths made by the application
//! (never by a person), e.g. `videos/{id}/hls/{run}/720p/seg_003.ts`.
//!
//! Writes are whole files: `put_file` makes a key appear complete or not at
//! all, so a reader never sees half an object.

pub mod cdn;
mod local;
mod s3;

use std::{path::Path, sync::Arc, time::Duration};

use async_trait::async_trait;

pub use local::Local;
pub use s3::{S3, S3Settings};

/// How a stored file reaches a browser.
#[derive(Debug)]
pub enum Delivery {
    /// A file on this machine (served by the app, ranges included).
    File(std::path::PathBuf),
    /// A short-lived signed address to redirect to.
    Redirect(String),
}

#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Stores the file at `path` under `key` (replacing any earlier one).
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()>;
    /// Stores small contents under `key`.
    async fn put_bytes(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()>;
    /// Reads a whole (small) object; `None` when there is none.
    async fn get_bytes(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>>;
    /// Copies an object into a local file (for ffmpeg).
    async fn get_to_file(&self, key: &str, path: &Path) -> anyhow::Result<()>;
    /// Size in bytes, or `None` when the key holds nothing.
    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>>;
    /// Removes one object (nothing when it is not there).
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Every key under `prefix` (which ends in `/`; empty: every key).
    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>>;
    /// How to hand `key` to a browser that is allowed to see it.
    async fn deliver(&self, key: &str, ttl: Duration) -> anyhow::Result<Delivery>;
    /// Which implementation, for logs and the README's checks.
    fn name(&self) -> &'static str;
    /// Whether the storage answers (`/readyz`): a missing key is an answer.
    async fn ready(&self) -> anyhow::Result<()> {
        self.size("readyz-probe").await.map(|_| ())
    }
    /// Where `key` is on this machine, when storage is a local folder.
    fn local_path(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }
    /// Moves a finished local file in under `key` (the file is gone after).
    async fn adopt_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()> {
        self.put_file(key, path, content_type).await?;
        tokio::fs::remove_file(path).await?;
        Ok(())
    }
}

/// The storage the configuration asks for.
pub fn from_settings(
    local_dir: &Path,
    s3: Option<&S3Settings>,
) -> anyhow::Result<Arc<dyn Storage>> {
    Ok(match s3 {
        Some(settings) => Arc::new(S3::new(settings)),
        None => Arc::new(Local::new(local_dir)?),
    })
}

/// A key is ours when every segment is plain: no `..`, no empty segment,
/// no leading `/`, only `[A-Za-z0-9._-]`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

fn checked(key: &str) -> anyhow::Result<&str> {
    anyhow::ensure!(valid_key(key), "invalid storage key {key:?}");
    Ok(key)
}

/// The content type of a media file, by the extensions we write.
pub fn content_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or_default() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "ts" => "video/mp2t",
        "m4s" => "video/iso.segment",
        "mp4" => "video/mp4",
        "vtt" => "text/vtt; charset=utf-8",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_out_or_carry_odd_bytes() {
        assert!(valid_key("videos/abc/hls/1/720p/seg_001.ts"));
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "a/./b",
            "a/b/",
            "a\\b",
            "a b",
            "ä",
            "a/%2e%2e",
        ] {
            assert!(!valid_key(bad), "{bad:?}");
        }
    }
}
