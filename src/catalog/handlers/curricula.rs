//! The studio: curricula and the courses they hold.

use serde::Deserialize;

use super::Studio;
use crate::{
    catalog::{
        studio::{self, Arrange, ListingForm},
        views::*,
    },
    error::{AppError, AppResult},
    ids::{CourseId, CurriculumId},
    web::{Form, Path, form::FormErrors},
};
use axum::response::Response;

impl Studio {
    /// A curriculum's editor (or the empty form of a new one), with the
    /// form as sent when it was refused, and the courses it may add.
    pub(super) async fn curriculum_editor(
        self,
        id: Option<CurriculumId>,
        form: Option<&ListingForm>,
        errors: FormErrors,
    ) -> AppResult<StudioCurriculum> {
        let mut conn = self.state.db.acquire().await?;
        let user = &self.user;
        let addable = studio::my_courses(&mut conn, user).await?;
        let (values, courses, deleted, published) = match id {
            Some(id) => {
                let row = studio::authorize_curriculum(&mut conn, user, id).await?;
                let courses =
                    crate::catalog::studio_repo::curriculum_courses(&mut conn, id).await?;
                let values = ListingForm::of_curriculum(&row);
                (values, courses, row.deleted, row.published)
            }
            None => (ListingForm::new_curriculum(), Vec::new(), false, false),
        };
        Ok(StudioCurriculum {
            ctx: self.ctx,
            id,
            deleted,
            published,
            values: form.cloned().unwrap_or(values),
            errors,
            options: Options,
            addable: addable
                .into_iter()
                .filter(|c| !c.deleted && !courses.iter().any(|cc| cc.course_id == c.id))
                .collect(),
            courses,
        })
    }
}

#[derive(Deserialize)]
pub struct CurriculumCourseForm {
    course_id: String,
    #[serde(default)]
    action: String,
}

/// Adds, removes or moves a course in a curriculum's order.
pub async fn studio_curriculum_course(
    s: Studio,
    Path(id): Path<CurriculumId>,
    Form(form): Form<CurriculumCourseForm>,
) -> AppResult<Response> {
    let course: CourseId = form
        .course_id
        .parse()
        .map_err(|_| AppError::field("course_id", "코스를 선택해 주세요."))?;
    let (message, arrange) = match form.action.as_str() {
        "add" => ("코스를 추가했습니다.", Arrange::Add),
        "remove" => ("코스를 제외했습니다.", Arrange::Remove),
        "up" => ("순서를 바꿨습니다.", Arrange::Move { up: true }),
        "down" => ("순서를 바꿨습니다.", Arrange::Move { up: false }),
        _ => return Err(AppError::BadRequest("알 수 없는 요청입니다.".into())),
    };
    s.cache
        .write(&s.state.db, async |tx| {
            studio::arrange_curriculum(tx, &s.user, id, course, arrange).await
        })
        .await?;
    Ok(s.done(&format!("/studio/curricula/{id}"), message))
}
