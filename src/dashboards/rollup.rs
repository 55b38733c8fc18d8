//! The jobs that keep the dashboards' figures: a sample of who is online
//! each minute (the day's peak), and the rollup of each course's funnel,
//! mission rates and video retention, which are too costly to count on
//! every page view at scale.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;

use crate::{
    accounts, assessments,
    catalog::{CatalogCache, model::Product, model::TopicKind},
    dashboards::store,
    ids::CourseId,
    jobs, learning,
};

/// Samples the learners online.
pub const SAMPLE_JOB: &str = "dashboards.sample";
pub const SAMPLE_EVERY: Duration = Duration::from_secs(60);

/// Counts the funnels, mission rates and retention curves again.
pub const ROLLUP_JOB: &str = "dashboards.rollup";

/// Keeps today's peak of learners online.
pub async fn sample(db: &PgPool) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let online = accounts::figures::online_learners(&mut conn).await?;
    store::note_online(&mut conn, crate::web::dates::today(), online).await?;
    Ok(())
}

/// Every live course's figures, counted again and kept.
pub async fn roll_up(db: &PgPool, cache: &CatalogCache) -> anyhow::Result<()> {
    let courses: Vec<CourseId> = {
        let mut conn = db.acquire().await?;
        crate::catalog::all_products(&mut conn)
            .await?
            .into_iter()
            .filter_map(|(p, _)| match p {
                Product::Course(c) => Some(c),
                Product::Curriculum(_) => None,
            })
            .collect()
    };
    for course in courses {
        roll_up_course(db, cache, course).await?;
    }
    Ok(())
}

/// One course's figures, counted again and kept.
pub async fn roll_up_course(
    db: &PgPool,
    cache: &CatalogCache,
    course: CourseId,
) -> anyhow::Result<()> {
    let view = match cache.course(db, course).await {
        Ok(view) => view,
        Err(crate::catalog::error::CatalogError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let topics: Vec<_> = view
        .lectures
        .iter()
        .filter(|l| l.published)
        .flat_map(|l| l.topics.iter())
        .filter(|t| t.published)
        .collect();
    let ids: Vec<_> = topics.iter().map(|t| t.id).collect();
    let mut conn = db.acquire().await?;
    let funnel = learning::figures::funnel(&mut conn, &view.sellers, &ids).await?;
    store::put_funnel(&mut conn, course, &funnel).await?;
    let missions: Vec<_> = topics
        .iter()
        .filter(|t| t.kind == TopicKind::Mission)
        .map(|t| t.id)
        .collect();
    for rate in assessments::figures::mission_rates(&mut conn, &missions).await? {
        store::put_rate(&mut conn, &rate).await?;
    }
    for topic in topics
        .iter()
        .filter(|t| t.kind == TopicKind::Video && t.duration > 0)
    {
        let secs = topic.duration as f64;
        let retention = learning::figures::retention(&mut conn, topic.id, secs).await?;
        store::put_retention(&mut conn, topic.id, secs, &retention).await?;
    }
    Ok(())
}

/// Registers both jobs on `worker`: the sample each minute, the rollup
/// every `rollup_every`.
pub fn register(
    worker: &mut jobs::Worker,
    db: PgPool,
    cache: Arc<CatalogCache>,
    rollup_every: Duration,
) {
    let sample_db = db.clone();
    worker.register(SAMPLE_JOB, move |_| {
        let db = sample_db.clone();
        async move { sample(&db).await }
    });
    worker.every(SAMPLE_JOB, SAMPLE_EVERY);
    worker.register(ROLLUP_JOB, move |_| {
        let (db, cache) = (db.clone(), cache.clone());
        async move { roll_up(&db, &cache).await }
    });
    worker.every(ROLLUP_JOB, rollup_every);
}
