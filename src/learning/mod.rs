//! Learning: who may study what and until when (`access`), the lesson page,
//! and, as the player lands, watch events, progress, resume and study time.

pub mod access;
mod handlers;
mod repo;

use axum::{Router, routing::get};

use crate::{app::AppState, web::routes::At};

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .at("/learn/topics/{id}", get(topic_page))
        .at("/learn/topics/{id}/video", get(video_state))
}
