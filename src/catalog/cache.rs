//! A short-lived in-process cache for what anonymous and signed-in visitors
//! see alike: catalogue pages and the roadmap's course list. Studio writes
//! invalidate it at once in this process; other instances see a change
//! within the TTL.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::catalog::service::{CatalogPage, Roadmap};

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
}

impl CatalogCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: Cache::new(ttl),
            roadmap: Cache::new(ttl),
        }
    }

    /// Every studio write calls this after its commit.
    pub fn invalidate(&self) {
        self.pages.invalidate();
        self.roadmap.invalidate();
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
