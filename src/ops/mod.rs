//! Operations: health and readiness for machines, `/metrics`, backups and
//! restores, and the admins' job page. Reads across the capabilities below.

pub mod backup;
mod jobs;
pub mod metrics;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    routing::get,
};

use crate::{infra::db, media::Media, state::AppState, web::routes::At};

/// Machine endpoints: no session, no CSRF cookie.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<Media>: FromRef<S>,
    Arc<crate::jobs::Lanes>: FromRef<S>,
{
    Router::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics::serve))
}

/// Pages for admins.
pub fn admin_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<crate::assessments::Grader>: FromRef<S>,
    Arc<crate::jobs::Lanes>: FromRef<S>,
{
    jobs::routes()
}

/// Alive: the process answers (a supervisor restarts it when not).
async fn healthz() -> &'static str {
    "ok"
}

/// Ready for traffic: the database answers, its migrations are this
/// build's, and the media storage is reachable. 503 with what is wrong
/// otherwise, so a balancer sends requests elsewhere meanwhile.
async fn readyz(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
) -> (StatusCode, String) {
    let limit = Duration::from_secs(2);
    let mut wrong = Vec::new();
    match tokio::time::timeout(limit, db::applied_migration(&state.db)).await {
        Ok(Ok(applied)) if applied == db::latest_migration() => {}
        Ok(Ok(applied)) => wrong.push(format!(
            "database migrations at {applied:?}, this build needs {:?}",
            db::latest_migration()
        )),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: database error");
            wrong.push("database unavailable".to_owned());
        }
        Err(_) => wrong.push("database timed out".to_owned()),
    }
    match tokio::time::timeout(limit, media.storage.ready()).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) => {
            tracing::warn!(error = %format!("{err:#}"), "readiness: storage error");
            wrong.push("media storage unavailable".to_owned());
        }
        Err(_) => wrong.push("media storage timed out".to_owned()),
    }
    if wrong.is_empty() {
        (StatusCode::OK, "ready".to_owned())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, wrong.join("\n"))
    }
}
