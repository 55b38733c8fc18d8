//! Curriculum -> course -> lecture -> topic; the home page and its roadmap.

mod handlers;
pub mod model;
mod repo;
pub mod seed;
pub mod service;
mod views;

use axum::{Router, routing::get};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(handlers::home))
}
