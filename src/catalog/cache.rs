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
    catalog::error::CatalogResult,
    catalog::service::{CatalogPage, CourseView, Roadmap},
    infra::cache::Cache,
    web::shared::SharedPage,
};

/// A product as lists of what a learner holds show it.
pub struct ProductView {
    pub title: String,
    /// The courses it gives access to.
    pub courses: Vec<crate::ids::CourseId>,
}

pub struct CatalogCache {
    pub pages: Cache<CatalogPage>,
    pub roadmap: Cache<Option<Roadmap>>,
    pub courses: Cache<CourseView>,
    /// Products' titles and courses.
    pub products: Cache<ProductView>,
    /// Lesson pages' topics (`None`: gone).
    pub topics: Cache<Option<crate::catalog::LessonTopic>>,
    /// Whole anonymous pages built from the above, compressed once.
    pub shared: Cache<SharedPage>,
}

impl CatalogCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            pages: Cache::new(ttl),
            roadmap: Cache::new(ttl),
            courses: Cache::new(ttl),
            topics: Cache::new(ttl),
            products: Cache::new(ttl),
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

    /// The nano-degree's roadmap (`None` before it is seeded).
    pub async fn roadmap(&self, db: &PgPool) -> sqlx::Result<Arc<Option<Roadmap>>> {
        self.roadmap
            .get_or_load("nanodegree", async {
                let mut conn = db.acquire().await?;
                crate::catalog::service::nanodegree_roadmap(&mut conn).await
            })
            .await
    }

    /// The roadmap's courses, in order (each from the cache).
    pub async fn roadmap_courses(&self, db: &PgPool) -> CatalogResult<Vec<Arc<CourseView>>> {
        let mut courses = Vec::new();
        if let Some(roadmap) = self.roadmap(db).await?.as_ref() {
            for step in &roadmap.steps {
                courses.push(self.course(db, step.course_id).await?);
            }
        }
        Ok(courses)
    }

    /// A topic's view, from the cache or the database (`None`: gone).
    pub async fn topic(
        &self,
        db: &PgPool,
        id: crate::ids::TopicId,
    ) -> sqlx::Result<Arc<Option<crate::catalog::LessonTopic>>> {
        self.topics
            .get_or_load(&id.to_string(), async {
                let mut conn = db.acquire().await?;
                crate::catalog::lesson_topic(&mut conn, id).await
            })
            .await
    }

    /// A product's title and courses, from the cache or the database.
    pub async fn product(
        &self,
        db: &PgPool,
        product: crate::catalog::model::Product,
    ) -> sqlx::Result<Arc<ProductView>> {
        self.products
            .get_or_load(&product.key(), async {
                let mut conn = db.acquire().await?;
                let title = crate::catalog::titles(&mut conn, &[product])
                    .await?
                    .remove(&product)
                    .unwrap_or_default();
                let courses = crate::catalog::courses_of(&mut conn, &[product]).await?;
                Ok::<_, sqlx::Error>(ProductView { title, courses })
            })
            .await
    }

    /// Called by [`CatalogWrite::commit`]; nothing else needs to.
    /// Drops every kept page (another instance changed the catalogue).
    pub fn forget(&self) {
        self.pages.invalidate();
        self.roadmap.invalidate();
        self.courses.invalidate();
        self.topics.invalidate();
        self.products.invalidate();
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

/// What other instances hear when the catalogue changed here.
pub const CHANGED: &str = "catalog";

/// A transaction that changes the catalogue; its commit drops the cached
/// pages, so a write never leaves stale pages behind.
pub struct CatalogWrite {
    tx: Transaction<'static, Postgres>,
    cache: Arc<CatalogCache>,
}

impl CatalogWrite {
    pub async fn commit(self) -> sqlx::Result<()> {
        self.tx.commit().await?;
        self.cache.forget();
        crate::infra::changes::announce(CHANGED);
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
