//! A small in-process TTL cache with generations: a value loaded before an
//! invalidation is never stored after it. Shared by the catalogue (pages) and
//! learning (a learner's grants).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Past this many entries the cache starts afresh.
const MAX_ENTRIES: usize = 100_000;

/// When it expires, at which generation it was stored, and the value.
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
            .filter(|(expires, g, _)| *g == generation && Instant::now() < *expires)
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
            // Each entry lives 80-100% of the TTL, so entries loaded together
            // (a warm-up, a burst) do not all expire and reload at once.
            let ttl = self.ttl.mul_f64(rand::random_range(0.8..=1.0));
            entries.insert(key, (Instant::now() + ttl, generation, value));
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

    /// Drops one entry (and any load of it in flight).
    pub fn forget(&self, key: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
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
