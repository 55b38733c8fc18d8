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

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use crate::infra::cache::Cache;

/// What other instances hear when a session record changed here.
pub const CHANGED: &str = "sessions";

/// Clones share their entries.
#[derive(Clone)]
pub struct SessionCache {
    records: Arc<Cache<Record>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCache")
    }
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            records: Arc::new(Cache::new(ttl)),
        }
    }

    /// Drops a record changed on another instance (`None`: every record).
    pub fn forget(&self, id: Option<&str>) {
        match id {
            Some(id) => self.records.forget(id),
            None => self.records.invalidate(),
        }
    }

    fn put(&self, record: &Record) {
        let generation = self.records.generation();
        self.records
            .put(record.id.to_string(), generation, Arc::new(record.clone()));
    }
}

#[async_trait]
impl SessionStore for SessionCache {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.put(record);
        Ok(())
    }

    /// Also how `CachingSessionStore` fills the cache after a read from
    /// the table, so it announces nothing: the table's writes announce
    /// ([`Announced`]). Announcing here made every instance, this one
    /// included, drop the session it had just read, and the next request
    /// read it again: a table read and a notification on about every other
    /// signed-in request.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.put(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .records
            .get(&id.to_string())
            .filter(|record| record.expiry_date > OffsetDateTime::now_utc())
            .map(|record| record.as_ref().clone()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records.forget(&id.to_string());
        Ok(())
    }
}

/// The session table behind the cache: each write, once made, is announced
/// to every instance (ADR 0028), which drops its copy.
#[derive(Clone, Debug)]
pub struct Announced<S>(pub S);

#[async_trait]
impl<S: SessionStore> SessionStore for Announced<S> {
    /// A new id: no instance holds it yet.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await?;
        crate::infra::changes::announce_about(CHANGED, &record.id.to_string());
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await?;
        crate::infra::changes::announce_about(CHANGED, &id.to_string());
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
