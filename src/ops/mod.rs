//! Operations endpoints.

use crate::web::routes::At;
use std::time::Duration;

use axum::{Router, extract::State, http::StatusCode, routing::get};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().at("/healthz", get(healthz))
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
