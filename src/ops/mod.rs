//! Operations: the health endpoint for machines and the admins' job page.
//! Reads across the capabilities below.

mod jobs;

use std::time::Duration;

use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    routing::get,
};

use crate::{state::AppState, web::routes::At};

/// Machine endpoints: no session, no CSRF cookie.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    Router::new().at("/healthz", get(healthz))
}

/// Pages for admins.
pub fn admin_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    std::sync::Arc<crate::assessments::Grader>: FromRef<S>,
{
    jobs::routes()
}

/// 200 only while the database answers.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let probe = sqlx::query("SELECT 1").execute(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok"),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: database error");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("health check: database timed out");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
