//! Catalogue pages and the studio: thin handlers over `service` and `studio`,
//! by area.

use axum::extract::FromRef;

mod curricula;
mod errors;
mod pages;
mod studio;

pub use curricula::*;
pub use pages::*;
pub use studio::*;

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    std::sync::Arc<crate::catalog::CatalogCache>: FromRef<S>,
    std::sync::Arc<crate::media::Media>: FromRef<S>,
{
    use crate::web::routes::prelude::*;
    Router::new()
        .at("/", get(home))
        .at("/courses", get(courses))
        .at("/courses/{id}", get(course))
        .at("/studio", get(studio_index))
        .at("/studio/courses/new", get(studio_new_course_page))
        // A failed create form is answered at its own address: reloading it
        // (a GET) shows the studio rather than a 405.
        .at(
            "/studio/courses",
            get(studio_index).post(studio_create_course),
        )
        .at(
            "/studio/courses/{id}",
            get(studio_course).post(studio_update_course),
        )
        .at("/studio/courses/{id}/delete", post(studio_delete_course))
        .at("/studio/courses/{id}/restore", post(studio_restore_course))
        .at("/studio/courses/{id}/publish", post(studio_publish_course))
        .at(
            "/studio/lectures/{id}/publish",
            post(studio_publish_lecture),
        )
        .at("/studio/topics/{id}/publish", post(studio_publish_topic))
        .at(
            "/studio/curricula/{id}/publish",
            post(studio_publish_curriculum),
        )
        .at("/studio/courses/{id}/lectures", post(studio_add_lecture))
        .at("/studio/lectures/{id}", post(studio_update_lecture))
        .at("/studio/lectures/{id}/move", post(studio_move_lecture))
        .at("/studio/lectures/{id}/delete", post(studio_delete_lecture))
        .at(
            "/studio/lectures/{id}/restore",
            post(studio_restore_lecture),
        )
        .at("/studio/lectures/{id}/topics", post(studio_add_topic))
        .at(
            "/studio/topics/{id}",
            get(studio_topic).post(studio_update_topic),
        )
        .at("/studio/topics/{id}/move", post(studio_move_topic))
        .at("/studio/topics/{id}/delete", post(studio_delete_topic))
        .at("/studio/topics/{id}/restore", post(studio_restore_topic))
        .at("/studio/curricula/new", get(studio_new_curriculum_page))
        .at(
            "/studio/curricula",
            get(studio_index).post(studio_create_curriculum),
        )
        .at(
            "/studio/curricula/{id}",
            get(studio_curriculum).post(studio_update_curriculum),
        )
        .at(
            "/studio/curricula/{id}/delete",
            post(studio_delete_curriculum),
        )
        .at(
            "/studio/curricula/{id}/restore",
            post(studio_restore_curriculum),
        )
        .at(
            "/studio/curricula/{id}/courses",
            post(studio_curriculum_course),
        )
}
