//! Local folder storage: each key is a file under the root. A write goes to
//! a temporary file in the same folder and is renamed into place.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use async_trait::async_trait;

use super::{Delivery, Storage, checked};

#[derive(Debug)]
pub struct Local {
    root: PathBuf,
}

impl Local {
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
        Ok(Self {
            root: root.canonicalize()?,
        })
    }

    pub fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        Ok(self.root.join(checked(key)?))
    }

    /// A fresh temporary path next to where `key` will live.
    async fn staging(&self, key: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
        let target = self.path(key)?;
        let parent = target.parent().context("key without folder")?;
        tokio::fs::create_dir_all(parent).await?;
        let temp = parent.join(format!(
            ".{}.{}.part",
            target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("file"),
            uuid::Uuid::new_v4().simple()
        ));
        Ok((target, temp))
    }
}

impl Local {
    /// `write` fills a temporary file beside the key's place; it is synced
    /// and renamed into place, or removed when anything fails.
    async fn write_then_rename(
        &self,
        key: &str,
        write: impl AsyncFnOnce(&Path) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let (target, temp) = self.staging(key).await?;
        let result = async {
            write(&temp).await?;
            tokio::fs::File::open(&temp).await?.sync_all().await?;
            tokio::fs::rename(&temp, &target).await?;
            anyhow::Ok(())
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result.with_context(|| format!("storing {key}"))
    }
}

#[async_trait]
impl Storage for Local {
    async fn put_file(&self, key: &str, path: &Path, _content_type: &str) -> anyhow::Result<()> {
        self.write_then_rename(key, async |temp| {
            tokio::fs::copy(path, temp).await?;
            Ok(())
        })
        .await
    }

    async fn put_bytes(
        &self,
        key: &str,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> anyhow::Result<()> {
        self.write_then_rename(key, async |temp| Ok(tokio::fs::write(temp, &bytes).await?))
            .await
    }

    async fn get_bytes(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {key}")),
        }
    }

    async fn get_to_file(&self, key: &str, path: &Path) -> anyhow::Result<()> {
        tokio::fs::copy(self.path(key)?, path)
            .await
            .with_context(|| format!("copying {key}"))?;
        Ok(())
    }

    /// The folder is there (an unmounted disk leaves it missing).
    async fn ready(&self) -> anyhow::Result<()> {
        let meta = tokio::fs::metadata(&self.root)
            .await
            .with_context(|| format!("media folder {}", self.root.display()))?;
        anyhow::ensure!(meta.is_dir(), "{} is not a folder", self.root.display());
        Ok(())
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // Folders left empty go too (up to the root): keys, not folders,
        // are what is stored.
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != self.root && d.starts_with(&self.root)) {
            if tokio::fs::remove_dir(d).await.is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let prefix = prefix.trim_end_matches('/');
        let base = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.path(prefix)?
        };
        let mut keys = Vec::new();
        let mut pending = vec![base];
        while let Some(dir) = pending.pop() {
            let mut entries = match tokio::fs::read_dir(&dir).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                let kind = entry.file_type().await?;
                if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file()
                    && !entry.file_name().to_string_lossy().starts_with('.')
                    && let Ok(rel) = path.strip_prefix(&self.root)
                {
                    keys.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn deliver(&self, key: &str, _ttl: Duration) -> anyhow::Result<Delivery> {
        Ok(Delivery::File(self.path(key)?))
    }

    fn name(&self) -> &'static str {
        "local"
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }

    async fn adopt_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()> {
        let target = self.path(key)?;
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Same file system: a rename, so gigabytes are not copied.
        if tokio::fs::rename(path, &target).await.is_ok() {
            return Ok(());
        }
        self.put_file(key, path, content_type).await?;
        tokio::fs::remove_file(path).await?;
        Ok(())
    }
}
