//! A short-lived in-process cache for what anonymous and signed-in visitors
//! see alike: catalogue pages, course pages and the roadmap. Every catalogue
//! write goes through [`CatalogCache::write`] (one transaction; its commit
//! drops the cache in this process, for a handler, a job or an API alike);
//! other instances see a change within the TTL. Hand-written rather than moka: the generation check that
//! keeps a load started before a write from being stored is the one thing it
//! must do, and it is a few lines here (ADR 0009).

use std::{sync::Arc, time::Duration};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::{
    catalog::service::{CatalogPage, CourseView, Roadmap},
    infra::cache::Cache,
    web::shared::SharedPage,
};

pub struct CatalogCache {
    pub pages: Cache<CatalogPage>,
    pub roadmap: Cache<Option<Roadmap>>,
    pub courses: Cache<CourseView>,
    /// Whole anonymous pages built from the above, compressed once.
    pub shared: Cache<SharedPage>,
}

impl CatalogCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: Cache::new(ttl),
            roadmap: Cache::new(ttl),
            courses: Cache::new(ttl),
            // Whole pages are tens of kilobytes: a bounded number of them.
            shared: Cache::bounded(ttl, 1_000),
        }
    }

    /// A course page's view, from the cache or the database.
    pub async fn course(
        &self,
        db: &PgPool,
        id: crate::ids::CourseId,
    ) -> crate::catalog::error::CatalogResult<Arc<CourseView>> {
        self.courses
            .get_or_load(&id.to_string(), async {
                let mut conn = db.acquire().await?;
                crate::catalog::service::course_page(&mut conn, id).await
            })
            .await
    }

    /// Called by [`CatalogWrite::commit`]; nothing else needs to.
    fn invalidate(&self) {
        self.pages.invalidate();
        self.roadmap.invalidate();
        self.courses.invalidate();
        self.shared.invalidate();
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
