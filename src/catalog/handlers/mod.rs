//! Catalogue pages and the studio: thin handlers over `service` and `studio`,
//! by area.

use axum::extract::{FromRef, FromRequestParts};

use crate::ids::{CourseId, CurriculumId, LectureId, TopicId};

mod curricula;
mod errors;
mod outline;
mod pages;
mod reviews;
mod studio;

pub use curricula::*;
pub use outline::{studio_create, studio_edit, studio_editor, studio_new, studio_update};
pub use pages::*;
pub use reviews::*;
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
        .at("/studio/courses/new", get(studio_new::<CourseId>))
        // A failed create form is answered at its own address: reloading it
        // (a GET) shows the studio rather than a 405.
        .at(
            "/studio/courses",
            get(studio_index).post(studio_create::<CourseId>),
        )
        .at(
            "/studio/courses/{id}",
            get(studio_editor::<CourseId>).post(studio_update::<CourseId>),
        )
        .at("/studio/courses/{id}/lectures", post(studio_add_lecture))
        .at("/studio/lectures/{id}", post(studio_update_lecture))
        .at("/studio/lectures/{id}/topics", post(studio_add_topic))
        .at(
            "/studio/topics/{id}",
            get(studio_topic).post(studio_update_topic),
        )
        .at("/studio/curricula/new", get(studio_new::<CurriculumId>))
        .at(
            "/studio/curricula",
            get(studio_index).post(studio_create::<CurriculumId>),
        )
        .at(
            "/studio/curricula/{id}",
            get(studio_editor::<CurriculumId>).post(studio_update::<CurriculumId>),
        )
        .at(
            "/studio/curricula/{id}/courses",
            post(studio_curriculum_course),
        )
        // The outline's edits (move, delete, restore, publish): one handler
        // over the piece's id.
        .at(
            "/studio/curricula/{id}/{edit}",
            post(studio_edit::<CurriculumId>),
        )
        .at("/studio/courses/{id}/{edit}", post(studio_edit::<CourseId>))
        .at(
            "/studio/lectures/{id}/{edit}",
            post(studio_edit::<LectureId>),
        )
        .at("/studio/topics/{id}/{edit}", post(studio_edit::<TopicId>))
        .at("/admin/reviews", get(admin_reviews))
        .at("/admin/reviews/{id}/approve", post(admin_approve))
        .at("/admin/reviews/{id}/return", post(admin_send_back))
}

/// What every studio handler starts from: the platform's state, the
/// catalogue cache (every studio write goes through it), the page and the
/// staff member at work. A visitor is sent to log in; a learner is refused.
pub struct Studio {
    pub state: crate::state::AppState,
    pub cache: std::sync::Arc<crate::catalog::CatalogCache>,
    pub ctx: crate::web::PageCtx,
    pub user: crate::accounts::CurrentUser,
}

impl<S> FromRequestParts<S> for Studio
where
    S: Send + Sync,
    crate::state::AppState: FromRef<S>,
    std::sync::Arc<crate::catalog::CatalogCache>: FromRef<S>,
{
    type Rejection = crate::error::AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let ctx = crate::web::PageCtx::from_request_parts(parts, state).await?;
        let crate::accounts::Staff(user) =
            crate::accounts::Staff::from_request_parts(parts, state).await?;
        Ok(Self {
            state: FromRef::from_ref(state),
            cache: FromRef::from_ref(state),
            ctx,
            user,
        })
    }
}

impl Studio {
    /// Runs `write` in one catalogue transaction, once per create form
    /// (`key`, `infra::once`): a repeat answers where the first led.
    async fn write_once<T>(
        &self,
        key: Option<uuid::Uuid>,
        write: impl AsyncFnOnce(&mut sqlx::PgConnection) -> crate::catalog::error::CatalogResult<T>,
        location: impl FnOnce(&T) -> String,
    ) -> crate::catalog::error::CatalogResult<crate::infra::once::Once<T>> {
        self.cache
            .write(&self.state.db, async |tx| {
                crate::infra::once::run(tx, key, write, location).await
            })
            .await
    }

    /// Back to `to` after a change, saying `message`.
    fn done(self, to: &str, message: impl Into<String>) -> axum::response::Response {
        self.ctx
            .redirect(to, crate::web::flash::Flash::success(message))
    }
}
