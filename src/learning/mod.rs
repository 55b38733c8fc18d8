//! Learning: who may study what and until when (`access`), the lesson page,
//! watch events and what they add up to (`watch`, `progress`: completion,
//! resume, course progress, study time), notes and bookmarks, and the
//! admins' watch history.

pub mod access;
mod admin;
mod handlers;
pub mod notes;
pub mod progress;
mod repo;
pub mod session;
pub mod watch;

use axum::{
    Router,
    routing::{get, post},
};

use crate::{app::AppState, web::routes::At};

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .at("/learn/topics/{id}", get(topic_page))
        .at("/learn/topics/{id}/video", get(video_state))
        .at("/learn/topics/{id}/events", post(events))
        .at("/learn/topics/{id}/notes", post(add_note))
        .at("/learn/notes/{id}/delete", post(delete_note))
        .merge(admin::routes())
}
