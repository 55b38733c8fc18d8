//! A small in-process TTL cache with generations: a value loaded before an
//! invalidation is never stored after it. Shared by the catalogue (pages),
//! accounts (who a session is) and learning (a learner's grants).
//!
//! No stampede: when an entry expires, one caller loads it again while the
//! others keep getting the expired value (it is from the same generation, so
//! no write came since); with no value at all, they wait for that one load.

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
    max_entries: usize,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry<T>>>,
    /// One load per key at a time.
    loads: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl<T> Cache<T> {
    pub fn new(ttl: Duration) -> Self {
        Self::bounded(ttl, MAX_ENTRIES)
    }

    /// A cache that starts afresh past `max_entries` (for large values).
    pub fn bounded(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
            loads: Mutex::new(HashMap::new()),
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
            if entries.len() >= self.max_entries {
                entries.clear();
            }
            // Each entry lives 80-100% of the TTL, so entries loaded together
            // (a warm-up, a burst) do not all expire and reload at once.
            let ttl = self.ttl.mul_f64(rand::random_range(0.8..=1.0));
            entries.insert(key, (Instant::now() + ttl, generation, value));
        }
    }

    /// An expired value of the current generation (no write came since it
    /// was loaded): good enough while someone loads the fresh one.
    fn stale(&self, key: &str) -> Option<Arc<T>> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, g, _)| *g == generation)
            .map(|(_, _, value)| value.clone())
    }

    fn load_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        match self.loads.lock() {
            Ok(mut loads) => {
                if loads.len() >= MAX_ENTRIES {
                    loads.clear();
                }
                loads.entry(key.to_string()).or_default().clone()
            }
            Err(_) => Arc::default(),
        }
    }

    /// The cached value, or `load`'s, stored unless a write came meanwhile.
    /// One caller per key loads; the others get the expired value if there
    /// is one, or wait for that load.
    pub async fn get_or_load<E, F>(&self, key: &str, load: F) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        let lock = self.load_lock(key);
        let _turn = match lock.try_lock() {
            Ok(turn) => turn,
            Err(_) => {
                if let Some(stale) = self.stale(key) {
                    return Ok(stale);
                }
                let turn = lock.lock().await;
                // The load we waited for filled it (unless it failed or a
                // write came meanwhile: then this caller loads).
                if let Some(value) = self.get(key) {
                    return Ok(value);
                }
                turn
            }
        };
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

    #[tokio::test]
    async fn an_expiring_entry_is_loaded_once_while_the_others_get_the_old_value() {
        use std::sync::atomic::AtomicUsize;
        let cache = Arc::new(Cache::new(Duration::from_millis(30)));
        let loads = Arc::new(AtomicUsize::new(0));
        let load = |cache: Arc<Cache<usize>>, loads: Arc<AtomicUsize>| async move {
            cache
                .get_or_load("k", async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, ()>(loads.fetch_add(1, Ordering::SeqCst) + 1)
                })
                .await
                .unwrap()
        };
        // A cold key: 50 callers at once, one load, all get its value.
        let first = futures_join(50, || load(cache.clone(), loads.clone())).await;
        assert!(first.iter().all(|v| **v == 1));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // Expired: one caller loads again; the others get the old value at once.
        tokio::time::sleep(Duration::from_millis(40)).await;
        let second = futures_join(50, || load(cache.clone(), loads.clone())).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(second.iter().filter(|v| ***v == 2).count(), 1);
        assert_eq!(second.iter().filter(|v| ***v == 1).count(), 49);
        // A write: the old value is never served again.
        cache.invalidate();
        let third = load(cache.clone(), loads.clone()).await;
        assert_eq!(*third, 3);
    }

    async fn futures_join<F, Fut, R>(n: usize, f: F) -> Vec<R>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let handles: Vec<_> = (0..n).map(|_| tokio::spawn(f())).collect();
        let mut out = Vec::with_capacity(n);
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}
