//! Curriculum -> course -> lecture -> topic; the home page and its roadmap.

mod handlers;
mod views;

use axum::{Router, routing::get};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(handlers::home))
}
