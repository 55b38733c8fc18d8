//! A small in-process TTL cache with generations: a value loaded before an
//! invalidation is never stored after it. Shared by the catalogue (pages),
//! accounts (who a session is) and learning (a learner's grants).
//!
//! No stampede: in the last fifth of an entry's life the first caller loads
//! it again while the others keep getting it, so an entry read all the time
//! never expires; an entry that did expire is loaded by one caller while the
//! others get the expired value (it is from the same generation, so no write
//! came since); with no value at all, they wait for that one load.

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

struct Entry<T> {
    /// From here a read reloads it ahead of expiry (one caller at a time).
    refresh_at: Instant,
    expires: Instant,
    generation: u64,
    value: Arc<T>,
}

/// What a key holds for a caller.
enum Found<T> {
    Fresh(Arc<T>),
    /// Fresh, but due to be loaded again.
    Due(Arc<T>),
    /// Expired, from the current generation.
    Stale(Arc<T>),
    Missing,
}

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

    fn lookup(&self, key: &str) -> Found<T> {
        let generation = self.generation();
        let Ok(entries) = self.entries.lock() else {
            return Found::Missing;
        };
        let now = Instant::now();
        match entries.get(key).filter(|e| e.generation == generation) {
            Some(e) if now >= e.expires => Found::Stale(e.value.clone()),
            Some(e) if now >= e.refresh_at => Found::Due(e.value.clone()),
            Some(e) => Found::Fresh(e.value.clone()),
            None => Found::Missing,
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        match self.lookup(key) {
            Found::Fresh(value) | Found::Due(value) => Some(value),
            Found::Stale(_) | Found::Missing => None,
        }
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
            let now = Instant::now();
            entries.insert(
                key,
                Entry {
                    refresh_at: now + ttl.mul_f64(0.8),
                    expires: now + ttl,
                    generation,
                    value,
                },
            );
        }
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
    /// One caller per key loads: ahead of expiry while the others keep the
    /// current value; after it, the others get the expired value if there
    /// is one, or wait for that load.
    pub async fn get_or_load<E, F>(&self, key: &str, load: F) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        let lock = match self.lookup(key) {
            Found::Fresh(value) => return Ok(value),
            // One caller loads; the others keep what is there.
            Found::Due(current) | Found::Stale(current) => {
                let lock = self.load_lock(key);
                let Ok(_turn) = lock.try_lock() else {
                    return Ok(current);
                };
                if let Found::Fresh(value) = self.lookup(key) {
                    return Ok(value);
                }
                return self.load(key, load).await;
            }
            Found::Missing => self.load_lock(key),
        };
        let _turn = lock.lock().await;
        // A load we waited for filled it (unless it failed or a write came
        // meanwhile: then this caller loads).
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        self.load(key, load).await
    }

    async fn load<E, F>(&self, key: &str, load: F) -> Result<Arc<T>, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
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
        let cache = Arc::new(Cache::new(Duration::from_millis(30)));
        let loads = Arc::new(AtomicUsize::new(0));
        let load = |cache, loads| counted_load(cache, loads, 50);
        // A cold key: 50 callers at once, one load, all get its value.
        let first = futures_join(50, || load(cache.clone(), loads.clone())).await;
        assert!(first.iter().all(|v| **v == 1));
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        // Expired: one caller loads again; the others get the old value at once.
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert!(cache.get("k").is_none(), "expired");
        let second = futures_join(50, || load(cache.clone(), loads.clone())).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(second.iter().filter(|v| ***v == 2).count(), 1);
        assert_eq!(second.iter().filter(|v| ***v == 1).count(), 49);
        // A write: the old value is never served again.
        cache.invalidate();
        let third = load(cache.clone(), loads.clone()).await;
        assert_eq!(*third, 3);
    }

    #[tokio::test]
    async fn an_entry_read_all_the_time_is_loaded_again_before_it_expires() {
        let cache = Arc::new(Cache::new(Duration::from_millis(200)));
        let loads = Arc::new(AtomicUsize::new(0));
        let load = |cache, loads| counted_load(cache, loads, 20);
        load(cache.clone(), loads.clone()).await;
        while !matches!(cache.lookup("k"), Found::Due(_)) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Due: 50 readers at once; one reloads, the others get the current
        // value without waiting, and nobody ever sees it expired.
        let read = futures_join(50, || load(cache.clone(), loads.clone())).await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        assert_eq!(read.iter().filter(|v| ***v == 1).count(), 49);
        assert!(matches!(cache.lookup("k"), Found::Fresh(_)));
    }

    use std::sync::atomic::AtomicUsize;

    /// Reads "k", loading it (slowly, counted) when the cache says so; the
    /// value is the number of the load that made it.
    async fn counted_load(
        cache: Arc<Cache<usize>>,
        loads: Arc<AtomicUsize>,
        ms: u64,
    ) -> Arc<usize> {
        cache
            .get_or_load("k", async {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, ()>(loads.fetch_add(1, Ordering::SeqCst) + 1)
            })
            .await
            .unwrap()
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
