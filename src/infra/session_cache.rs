//! A short-lived in-process cache in front of the PostgreSQL session store,
//! used as the front of tower-sessions' `CachingSessionStore` (writes go to
//! both; reads try the cache first). It saves the session-row read on every
//! signed-in request, so who the visitor is costs one round trip (the
//! `auth_sessions` + `users` read, which still decides every request, so a
//! session ended on another instance stops working at once).
//!
//! Entries live `ttl` at most: another instance sees a session changed here
//! within that time. moka's session store keeps entries until the session
//! itself expires (days), which is why this one is written here (ADR 0009).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

/// At most this many sessions are kept; past it the cache starts afresh.
const MAX_ENTRIES: usize = 50_000;

/// Clones share their entries.
#[derive(Clone, Debug)]
pub struct SessionCache {
    ttl: Duration,
    entries: Arc<Mutex<HashMap<Id, (Record, Instant)>>>,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn put(&self, record: &Record) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(record.id, (record.clone(), Instant::now()));
        }
    }
}

#[async_trait]
impl SessionStore for SessionCache {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.put(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.put(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Ok(mut entries) = self.entries.lock() else {
            return Ok(None);
        };
        let fresh = entries.get(id).is_some_and(|(record, at)| {
            at.elapsed() < self.ttl && record.expiry_date > OffsetDateTime::now_utc()
        });
        if fresh {
            return Ok(entries.get(id).map(|(record, _)| record.clone()));
        }
        entries.remove(id);
        Ok(None)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn entries_expire_with_the_ttl_or_the_session() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let live = record(time::Duration::hours(1));
        cache.save(&live).await.unwrap();
        assert_eq!(
            cache.load(&live.id).await.unwrap().map(|r| r.id),
            Some(live.id)
        );
        cache.delete(&live.id).await.unwrap();
        assert!(cache.load(&live.id).await.unwrap().is_none());

        let expired = record(time::Duration::seconds(-1));
        cache.save(&expired).await.unwrap();
        assert!(cache.load(&expired.id).await.unwrap().is_none());

        let short = SessionCache::new(Duration::ZERO);
        short.save(&live).await.unwrap();
        assert!(short.load(&live.id).await.unwrap().is_none());
    }
}
