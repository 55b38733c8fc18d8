//! The studio: curricula and the courses they hold.

use crate::catalog::CatalogCache;
use std::sync::Arc;

use crate::accounts::Staff;
use crate::web::Form;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    catalog::error::CatalogError,
    catalog::{
        studio::{self, CurriculumForm},
        views::*,
    },
    error::{AppError, AppResult},
    ids::{CourseId, CurriculumId},
    infra::once::{self, Once},
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash, form::FormErrors},
};

fn curriculum_values(form: &CurriculumForm) -> CurriculumValues {
    CurriculumValues {
        title: form.title.clone(),
        summary: form.summary.clone(),
        description: form.description.clone(),
        category: form.category.clone(),
        skill_level: form.skill_level.clone(),
        price_won: form.price_won.clone(),
        access_months: form.access_months.clone(),
    }
}

async fn curriculum_editor(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::accounts::CurrentUser,
    id: Option<CurriculumId>,
    form: Option<&CurriculumForm>,
    errors: FormErrors,
) -> AppResult<StudioCurriculum> {
    let mut conn = state.db.acquire().await?;
    let addable = studio::my_courses(&mut conn, user).await?;
    let (values, courses, deleted, published) = match id {
        Some(id) => {
            let row = studio::authorize_curriculum(&mut conn, user, id).await?;
            let courses = crate::catalog::studio_repo::curriculum_courses(&mut conn, id).await?;
            let values = CurriculumValues {
                title: row.title,
                summary: row.summary,
                description: row.description,
                category: row.category,
                skill_level: row.skill_level,
                price_won: row.price_won.to_string(),
                access_months: row.access_months.to_string(),
            };
            (values, courses, row.deleted, row.published)
        }
        None => (
            CurriculumValues {
                access_months: "24".into(),
                ..CurriculumValues::default()
            },
            Vec::new(),
            false,
            false,
        ),
    };
    Ok(StudioCurriculum {
        ctx,
        id,
        deleted,
        published,
        values: form.map(curriculum_values).unwrap_or(values),
        errors,
        options: Options,
        addable: addable
            .into_iter()
            .filter(|c| !c.deleted && !courses.iter().any(|cc| cc.course_id == c.id))
            .collect(),
        courses,
    })
}

pub async fn studio_new_curriculum_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
) -> AppResult<Response> {
    Ok(
        web::render(&curriculum_editor(&state, ctx, &user, None, None, FormErrors::new()).await?)?
            .into_response(),
    )
}

pub async fn studio_create_curriculum(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Form(form): Form<CurriculumForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            once::run(
                tx,
                form.form_key,
                async |tx| studio::create_curriculum(tx, &user, &form).await,
                |id| format!("/studio/curricula/{id}"),
            )
            .await
        })
        .await;
    match written {
        Ok(Once::Repeat(first)) => Ok(web::repeated(&state, &ctx, first.as_deref(), "/studio")),
        Ok(Once::Done(id)) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/curricula/{id}"),
            Flash::success("커리큘럼을 만들었습니다."),
        )),
        Err(CatalogError::Invalid(errors)) => web::invalid(
            &curriculum_editor(&state, ctx, &user, None, Some(&form), errors.into()).await?,
        ),
        Err(other) => Err(other.into()),
    }
}

pub async fn studio_curriculum(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CurriculumId>,
) -> AppResult<Response> {
    Ok(web::render(
        &curriculum_editor(&state, ctx, &user, Some(id), None, FormErrors::new()).await?,
    )?
    .into_response())
}

pub async fn studio_update_curriculum(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CurriculumId>,
    Form(form): Form<CurriculumForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            studio::update_curriculum(tx, &user, id, &form).await
        })
        .await;
    match written {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/curricula/{id}"),
            Flash::success("커리큘럼을 저장했습니다."),
        )),
        Err(CatalogError::Invalid(errors)) => web::invalid(
            &curriculum_editor(&state, ctx, &user, Some(id), Some(&form), errors.into()).await?,
        ),
        Err(other) => Err(other.into()),
    }
}

async fn set_curriculum_deleted(
    state: AppState,
    cache: Arc<CatalogCache>,
    ctx: PageCtx,
    user: crate::accounts::CurrentUser,
    id: CurriculumId,
    deleted: bool,
) -> AppResult<Response> {
    cache
        .write(&state.db, async |tx| {
            studio::set_curriculum_deleted(tx, &user, id, deleted).await
        })
        .await?;
    let message = if deleted {
        "커리큘럼을 삭제했습니다."
    } else {
        "커리큘럼을 복구했습니다."
    };
    Ok(web::redirect_with(
        &state,
        &ctx,
        &format!("/studio/curricula/{id}"),
        Flash::success(message),
    ))
}

pub async fn studio_delete_curriculum(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CurriculumId>,
) -> AppResult<Response> {
    set_curriculum_deleted(state, cache, ctx, user, id, true).await
}

pub async fn studio_restore_curriculum(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CurriculumId>,
) -> AppResult<Response> {
    set_curriculum_deleted(state, cache, ctx, user, id, false).await
}

#[derive(Deserialize)]
pub struct CurriculumCourseForm {
    course_id: String,
    #[serde(default)]
    action: String,
}

/// Adds, removes or moves a course in a curriculum's order.
pub async fn studio_curriculum_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CurriculumId>,
    Form(form): Form<CurriculumCourseForm>,
) -> AppResult<Response> {
    let course: CourseId = form
        .course_id
        .parse()
        .map_err(|_| AppError::field("course_id", "코스를 선택해 주세요."))?;
    let (message, up) = match form.action.as_str() {
        "add" => ("코스를 추가했습니다.", None),
        "remove" => ("코스를 제외했습니다.", None),
        "up" => ("순서를 바꿨습니다.", Some(true)),
        "down" => ("순서를 바꿨습니다.", Some(false)),
        _ => return Err(AppError::BadRequest("알 수 없는 요청입니다.".into())),
    };
    let action = form.action.as_str();
    cache
        .write(&state.db, async |tx| match (action, up) {
            ("add", _) => studio::add_curriculum_course(tx, &user, id, course).await,
            (_, Some(up)) => studio::move_curriculum_course(tx, &user, id, course, up).await,
            _ => studio::remove_curriculum_course(tx, &user, id, course).await,
        })
        .await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        &format!("/studio/curricula/{id}"),
        Flash::success(message),
    ))
}

/// `POST /studio/curricula/{id}/publish` (`state=published|draft`).
pub async fn studio_publish_curriculum(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CurriculumId>,
    Form(form): Form<super::studio::PublishForm>,
) -> AppResult<Response> {
    let on = form.publishes();
    let written = cache
        .write(&state.db, async |tx| {
            studio::set_curriculum_published(tx, &user, id, on).await
        })
        .await;
    match written {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/curricula/{id}"),
            Flash::success(if on {
                "커리큘럼을 공개했습니다."
            } else {
                "커리큘럼을 초안으로 돌렸습니다."
            }),
        )),
        Err(CatalogError::Incomplete(missing)) => web::invalid(
            &curriculum_editor(
                &state,
                ctx,
                &user,
                Some(id),
                None,
                super::errors::missing_fields(&missing).into(),
            )
            .await?,
        ),
        Err(other) => Err(other.into()),
    }
}
