//! A short-lived in-process cache for what anonymous and signed-in visitors
//! see alike: catalogue pages, course pages and the roadmap. Every catalogue
//! write goes through [`CatalogCache::write`] (one transaction; its commit
//! drops the cache in this process, for a handler, a job or an API alike);
//! other instances see a change within the TTL. Hand-written rather than moka: the generation check that
//! keeps a load started before a write from being stored is the one thing it
//! must do, and it is a few lines here (ADR 0009).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::catalog::service::{CatalogPage, CourseView, Roadmap};

const MAX_ENTRIES: usize = 2_000;

/// When it was stored, at which generation, and the value.
type Entry<T> = (Instant, u64, Arc<T>);

pub struct Cache<T> {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry<T>>>,
}

impl<T> Cache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The generation to pass to [`Cache::put`]: read it before loading.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, g, _)| *g == generation && at.elapsed() < self.ttl)
            .map(|(_, _, value)| value.clone())
    }

    /// Stores a value loaded at `generation`, unless a write came since.
    pub fn put(&self, key: String, generation: u64, value: Arc<T>) {
        if generation != self.generation() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), generation, value));
        }
    }

    /// The cached value, or `load`'s, stored unless a write came meanwhile.
    pub async fn get_or_load<E, F>(&self, key: &str, load: F) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        let generation = self.generation();
        let value = Arc::new(load.await?);
        self.put(key.to_string(), generation, value.clone());
        Ok(value)
    }

    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

pub struct CatalogCache {
    pub pages: Cache<CatalogPage>,
    pub roadmap: Cache<Option<Roadmap>>,
    pub courses: Cache<CourseView>,
}

impl CatalogCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: Cache::new(ttl),
            roadmap: Cache::new(ttl),
            courses: Cache::new(ttl),
        }
    }

    /// Called by [`CatalogWrite::commit`]; nothing else needs to.
    fn invalidate(&self) {
        self.pages.invalidate();
        self.roadmap.invalidate();
        self.courses.invalidate();
    }

    /// Runs `write` in one catalogue transaction: committed (and the cache
    /// dropped) when it succeeds, rolled back when it fails.
    pub async fn write<T>(
        self: &Arc<Self>,
        db: &PgPool,
        write: impl AsyncFnOnce(&mut PgConnection) -> crate::catalog::error::CatalogResult<T>,
    ) -> crate::catalog::error::CatalogResult<T> {
        let mut tx = self.begin_write(db).await?;
        let value = write(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Starts a catalogue write: a transaction whose commit drops the cache.
    async fn begin_write(self: &Arc<Self>, db: &PgPool) -> sqlx::Result<CatalogWrite> {
        Ok(CatalogWrite {
            tx: db.begin().await?,
            cache: self.clone(),
        })
    }
}

/// A transaction that changes the catalogue; its commit drops the cached
/// pages, so a write never leaves stale pages behind.
pub struct CatalogWrite {
    tx: Transaction<'static, Postgres>,
    cache: Arc<CatalogCache>,
}

impl CatalogWrite {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await?;
        self.cache.invalidate();
        Ok(())
    }
}

impl std::ops::Deref for CatalogWrite {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for CatalogWrite {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_expire_and_writes_invalidate() {
        let cache = Cache::new(Duration::from_secs(60));
        let g = cache.generation();
        cache.put("a".into(), g, Arc::new(1));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        cache.invalidate();
        assert_eq!(cache.get("a"), None);

        // A load that started before a write is not stored.
        let stale = cache.generation();
        cache.invalidate();
        cache.put("a".into(), stale, Arc::new(2));
        assert_eq!(cache.get("a"), None);

        let short = Cache::new(Duration::ZERO);
        short.put("b".into(), short.generation(), Arc::new(3));
        assert_eq!(short.get("b"), None);
    }
}
