//! Curriculum -> course -> lecture -> topic: the home roadmap, the catalogue,
//! course pages, and the studio where tutors and admins author them.

pub mod cache;
mod handlers;
pub mod model;
mod repo;
pub mod seed;
pub mod service;
pub mod studio;
mod studio_repo;
mod views;

use axum::{
    Router,
    routing::{get, post},
};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    use handlers::*;
    Router::new()
        .route("/", get(home))
        .route("/courses", get(courses))
        .route("/courses/{id}", get(course))
        .route("/studio", get(studio_index))
        .route("/studio/courses/new", get(studio_new_course_page))
        .route("/studio/courses", post(studio_create_course))
        .route(
            "/studio/courses/{id}",
            get(studio_course).post(studio_update_course),
        )
        .route("/studio/courses/{id}/delete", post(studio_delete_course))
        .route("/studio/courses/{id}/restore", post(studio_restore_course))
        .route("/studio/courses/{id}/lectures", post(studio_add_lecture))
        .route("/studio/lectures/{id}", post(studio_update_lecture))
        .route("/studio/lectures/{id}/move", post(studio_move_lecture))
        .route("/studio/lectures/{id}/delete", post(studio_delete_lecture))
        .route(
            "/studio/lectures/{id}/restore",
            post(studio_restore_lecture),
        )
        .route("/studio/lectures/{id}/topics", post(studio_add_topic))
        .route(
            "/studio/topics/{id}",
            get(studio_topic).post(studio_update_topic),
        )
        .route("/studio/topics/{id}/move", post(studio_move_topic))
        .route("/studio/topics/{id}/delete", post(studio_delete_topic))
        .route("/studio/topics/{id}/restore", post(studio_restore_topic))
        .route("/studio/curricula/new", get(studio_new_curriculum_page))
        .route("/studio/curricula", post(studio_create_curriculum))
        .route(
            "/studio/curricula/{id}",
            get(studio_curriculum).post(studio_update_curriculum),
        )
        .route(
            "/studio/curricula/{id}/delete",
            post(studio_delete_curriculum),
        )
        .route(
            "/studio/curricula/{id}/restore",
            post(studio_restore_curriculum),
        )
        .route(
            "/studio/curricula/{id}/courses",
            post(studio_curriculum_course),
        )
}
