//! The studio: courses, lectures and topics, written by tutors and admins.

use crate::catalog::CatalogCache;
use crate::media::Media;
use std::sync::Arc;

use crate::accounts::Staff;
use crate::web::Form;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};

use crate::{
    catalog::error::CatalogError,
    catalog::{
        studio::{self, LectureForm, ListingForm, TopicForm},
        views::*,
    },
    error::{AppError, AppResult},
    ids::{CourseId, LectureId, TopicId},
    infra::once::{self, Once},
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash, form::FormErrors},
};

pub async fn studio_index(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let courses = studio::my_courses(&mut conn, &user).await?;
    let curricula = studio::my_curricula(&mut conn, &user).await?;
    Ok(web::render(&StudioIndex {
        ctx,
        courses,
        curricula,
    })?
    .into_response())
}

/// The course a lecture belongs to (to show its outline again).
async fn course_of_lecture(state: &AppState, lecture: LectureId) -> AppResult<CourseId> {
    crate::catalog::studio_repo::lecture_course(&mut *state.db.acquire().await?, lecture)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the outline says to a repeated add (a double click).
const REPEATED: &str = "이미 처리된 요청입니다. 같은 내용을 두 번 추가하지 않았습니다.";

async fn outline(
    state: &AppState,
    ctx: &PageCtx,
    user: &crate::accounts::CurrentUser,
    id: CourseId,
) -> AppResult<Outline> {
    let mut conn = state.db.acquire().await?;
    let course = studio::course_for_editing(&mut conn, user, id).await?;
    Ok(Outline {
        course,
        csrf_token: ctx.csrf_token.clone(),
        options: Options,
        failed: None,
        notice: None,
    })
}

pub(super) async fn course_editor(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::accounts::CurrentUser,
    id: CourseId,
    form: Option<&ListingForm>,
    errors: FormErrors,
    failed: Option<OutlineErrors>,
) -> AppResult<StudioCourse> {
    let mut outline = outline(state, &ctx, user, id).await?;
    outline.failed = failed;
    let c = &outline.course;
    let values = match form {
        Some(form) => form.clone(),
        None => ListingForm {
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            category: c.category.to_string(),
            skill_level: c.skill_level.to_string(),
            price_won: c.price_won.map(|p| p.to_string()).unwrap_or_default(),
            ..ListingForm::default()
        },
    };
    let deleted = c.deleted;
    Ok(StudioCourse {
        ctx,
        values,
        errors,
        options: Options,
        outline,
        deleted,
    })
}

/// After an outline change: htmx gets the new outline, a form post the editor.
pub(super) async fn outline_changed(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::accounts::CurrentUser,
    course: CourseId,
    message: &str,
) -> AppResult<Response> {
    if ctx.htmx {
        let mut outline = outline(state, &ctx, user, course).await?;
        outline.notice = Some(message.to_string());
        return Ok(web::render(&outline)?.into_response());
    }
    Ok(web::redirect_with(
        state,
        &ctx,
        &format!("/studio/courses/{course}"),
        Flash::success(message),
    ))
}

/// A refused inline form: its messages beside its fields, in the outline
/// fragment for htmx or in the whole editor.
async fn outline_invalid(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::accounts::CurrentUser,
    course: CourseId,
    form: String,
    errors: crate::catalog::error::Invalid,
) -> AppResult<Response> {
    let failed = Some(OutlineErrors {
        form,
        errors: errors.into(),
    });
    if ctx.htmx {
        let mut outline = outline(state, &ctx, user, course).await?;
        outline.failed = failed;
        return web::invalid(&outline);
    }
    web::invalid(&course_editor(state, ctx, user, course, None, FormErrors::new(), failed).await?)
}

pub async fn studio_add_lecture(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(course): Path<CourseId>,
    Form(form): Form<LectureForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            once::run(
                tx,
                form.form_key,
                async |tx| studio::add_lecture(tx, &user, course, &form).await,
                |_| format!("/studio/courses/{course}"),
            )
            .await
        })
        .await;
    match written {
        Ok(Once::Done(_)) => {
            outline_changed(&state, ctx, &user, course, "강의를 추가했습니다.").await
        }
        Ok(Once::Repeat(_)) => outline_changed(&state, ctx, &user, course, REPEATED).await,
        Err(CatalogError::Invalid(errors)) => {
            outline_invalid(&state, ctx, &user, course, "new-lecture".into(), errors).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn studio_update_lecture(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<LectureId>,
    Form(form): Form<LectureForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            studio::update_lecture(tx, &user, id, &form).await
        })
        .await;
    match written {
        Ok(course) => outline_changed(&state, ctx, &user, course, "강의를 저장했습니다.").await,
        Err(CatalogError::Invalid(errors)) => {
            let course = course_of_lecture(&state, id).await?;
            outline_invalid(&state, ctx, &user, course, format!("lecture-{id}"), errors).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn studio_add_topic(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(lecture): Path<LectureId>,
    Form(form): Form<TopicForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            once::run(
                tx,
                form.form_key,
                async |tx| studio::add_topic(tx, &user, lecture, &form).await,
                |_| "/studio".to_string(),
            )
            .await
        })
        .await;
    match written {
        Ok(Once::Done(course)) => {
            outline_changed(&state, ctx, &user, course, "토픽을 추가했습니다.").await
        }
        Ok(Once::Repeat(_)) => {
            let course = course_of_lecture(&state, lecture).await?;
            outline_changed(&state, ctx, &user, course, REPEATED).await
        }
        Err(CatalogError::Invalid(errors)) => {
            let course = course_of_lecture(&state, lecture).await?;
            outline_invalid(
                &state,
                ctx,
                &user,
                course,
                format!("topic-{lecture}"),
                errors,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn studio_topic(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let topic = studio::topic_for_editing(&mut conn, &user, id).await?;
    drop(conn);
    Ok(web::render(&StudioTopic {
        ctx,
        topic,
        errors: FormErrors::new(),
        options: Options,
        media: crate::media::views::studio_panel(&state.db, &media, id).await?,
    })?
    .into_response())
}

pub async fn studio_update_topic(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<TopicId>,
    Form(form): Form<TopicForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            studio::update_topic(tx, &user, id, &form).await
        })
        .await;
    match written {
        Ok(course) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/courses/{course}"),
            Flash::success("토픽을 저장했습니다."),
        )),
        Err(CatalogError::Invalid(errors)) => {
            let mut topic =
                studio::topic_for_editing(&mut *state.db.acquire().await?, &user, id).await?;
            topic.title = form.title;
            topic.body = form.body;
            if let Some(kind) = crate::catalog::model::TopicKind::parse(&form.kind) {
                topic.kind = kind;
            }
            topic.is_preview = form.is_preview.is_some();
            web::invalid(&StudioTopic {
                ctx,
                topic,
                errors: errors.into(),
                options: Options,
                media: crate::media::views::studio_panel(&state.db, &media, id).await?,
            })
        }
        Err(other) => Err(other.into()),
    }
}
