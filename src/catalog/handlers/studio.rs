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
use serde::Deserialize;

use crate::{
    catalog::error::CatalogError,
    catalog::{
        studio::{self, CourseForm, LectureForm, TopicForm},
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

fn course_values(form: &CourseForm) -> CourseValues {
    CourseValues {
        title: form.title.clone(),
        summary: form.summary.clone(),
        description: form.description.clone(),
        category: form.category.clone(),
        skill_level: form.skill_level.clone(),
        price_won: form.price_won.clone(),
    }
}

pub async fn studio_new_course_page(ctx: PageCtx, _staff: Staff) -> AppResult<Response> {
    Ok(web::render(&StudioNewCourse {
        ctx,
        values: CourseValues::default(),
        errors: FormErrors::new(),
        options: Options,
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

pub async fn studio_create_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Form(form): Form<CourseForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            once::run(
                tx,
                form.form_key,
                async |tx| studio::create_course(tx, &user, &form).await,
                |id| format!("/studio/courses/{id}"),
            )
            .await
        })
        .await;
    match written {
        Ok(Once::Repeat(first)) => Ok(web::repeated(&state, &ctx, first.as_deref(), "/studio")),
        Ok(Once::Done(id)) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/courses/{id}"),
            Flash::success("코스를 만들었습니다. 이제 강의를 추가해 보세요."),
        )),
        Err(CatalogError::Invalid(errors)) => web::invalid(&StudioNewCourse {
            ctx,
            values: course_values(&form),
            errors: errors.into(),
            options: Options,
        }),
        Err(other) => Err(other.into()),
    }
}

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

async fn course_editor(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::accounts::CurrentUser,
    id: CourseId,
    form: Option<&CourseForm>,
    errors: FormErrors,
    failed: Option<OutlineErrors>,
) -> AppResult<StudioCourse> {
    let mut outline = outline(state, &ctx, user, id).await?;
    outline.failed = failed;
    let c = &outline.course;
    let values = match form {
        Some(form) => course_values(form),
        None => CourseValues {
            title: c.title.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            category: c.category.clone(),
            skill_level: c.skill_level.clone(),
            price_won: c.price_won.map(|p| p.to_string()).unwrap_or_default(),
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

pub async fn studio_course(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    Ok(
        web::render(&course_editor(&state, ctx, &user, id, None, FormErrors::new(), None).await?)?
            .into_response(),
    )
}

pub async fn studio_update_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
    Form(form): Form<CourseForm>,
) -> AppResult<Response> {
    let written = cache
        .write(&state.db, async |tx| {
            studio::update_course(tx, &user, id, &form).await
        })
        .await;
    match written {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/courses/{id}"),
            Flash::success("코스를 저장했습니다."),
        )),
        Err(CatalogError::Invalid(errors)) => web::invalid(
            &course_editor(&state, ctx, &user, id, Some(&form), errors.into(), None).await?,
        ),
        Err(other) => Err(other.into()),
    }
}

async fn set_course_deleted(
    state: AppState,
    cache: Arc<CatalogCache>,
    ctx: PageCtx,
    user: crate::accounts::CurrentUser,
    id: CourseId,
    deleted: bool,
) -> AppResult<Response> {
    cache
        .write(&state.db, async |tx| {
            studio::set_course_deleted(tx, &user, id, deleted).await
        })
        .await?;
    let message = if deleted {
        "코스를 삭제했습니다. 수강생에게는 보이지 않으며 언제든 복구할 수 있습니다."
    } else {
        "코스를 복구했습니다."
    };
    Ok(web::redirect_with(
        &state,
        &ctx,
        &format!("/studio/courses/{id}"),
        Flash::success(message),
    ))
}

pub async fn studio_delete_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    set_course_deleted(state, cache, ctx, user, id, true).await
}

pub async fn studio_restore_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    set_course_deleted(state, cache, ctx, user, id, false).await
}

/// After an outline change: htmx gets the new outline, a form post the editor.
async fn outline_changed(
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

#[derive(Deserialize)]
pub struct MoveForm {
    direction: String,
}

impl MoveForm {
    fn up(&self) -> bool {
        self.direction == "up"
    }
}

pub async fn studio_move_lecture(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<LectureId>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let course = cache
        .write(&state.db, async |tx| {
            studio::move_lecture(tx, &user, id, form.up()).await
        })
        .await?;
    outline_changed(&state, ctx, &user, course, "순서를 바꿨습니다.").await
}

async fn set_lecture_deleted(
    state: AppState,
    cache: Arc<CatalogCache>,
    ctx: PageCtx,
    user: crate::accounts::CurrentUser,
    id: LectureId,
    deleted: bool,
) -> AppResult<Response> {
    let course = cache
        .write(&state.db, async |tx| {
            studio::set_lecture_deleted(tx, &user, id, deleted).await
        })
        .await?;
    outline_changed(
        &state,
        ctx,
        &user,
        course,
        if deleted {
            "강의를 삭제했습니다."
        } else {
            "강의를 복구했습니다."
        },
    )
    .await
}

pub async fn studio_delete_lecture(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<LectureId>,
) -> AppResult<Response> {
    set_lecture_deleted(state, cache, ctx, user, id, true).await
}

pub async fn studio_restore_lecture(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<LectureId>,
) -> AppResult<Response> {
    set_lecture_deleted(state, cache, ctx, user, id, false).await
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
            topic.kind = form.kind;
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

pub async fn studio_move_topic(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<TopicId>,
    Form(form): Form<MoveForm>,
) -> AppResult<Response> {
    let course = cache
        .write(&state.db, async |tx| {
            studio::move_topic(tx, &user, id, form.up()).await
        })
        .await?;
    outline_changed(&state, ctx, &user, course, "순서를 바꿨습니다.").await
}

async fn set_topic_deleted(
    state: AppState,
    cache: Arc<CatalogCache>,
    ctx: PageCtx,
    user: crate::accounts::CurrentUser,
    id: TopicId,
    deleted: bool,
) -> AppResult<Response> {
    let course = cache
        .write(&state.db, async |tx| {
            studio::set_topic_deleted(tx, &user, id, deleted).await
        })
        .await?;
    outline_changed(
        &state,
        ctx,
        &user,
        course,
        if deleted {
            "토픽을 삭제했습니다."
        } else {
            "토픽을 복구했습니다."
        },
    )
    .await
}

pub async fn studio_delete_topic(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    set_topic_deleted(state, cache, ctx, user, id, true).await
}

pub async fn studio_restore_topic(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    set_topic_deleted(state, cache, ctx, user, id, false).await
}

// ---------- publishing ----------

/// `POST /studio/courses/{id}/publish` (`state=published|draft`): a course
/// goes public once complete; what is missing is said beside the editor.
pub async fn studio_publish_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    let on = form.publishes();
    let written = cache
        .write(&state.db, async |tx| {
            studio::set_course_published(tx, &user, id, on).await
        })
        .await;
    match written {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            &format!("/studio/courses/{id}"),
            Flash::success(if on {
                "코스를 공개했습니다. 이제 수강생에게 보입니다."
            } else {
                "코스를 초안으로 돌렸습니다. 수강생에게는 보이지 않습니다."
            }),
        )),
        Err(CatalogError::Incomplete(missing)) => web::invalid(
            &course_editor(
                &state,
                ctx,
                &user,
                id,
                None,
                super::errors::missing_fields(&missing).into(),
                None,
            )
            .await?,
        ),
        Err(other) => Err(other.into()),
    }
}

/// `POST /studio/lectures/{id}/publish`.
pub async fn studio_publish_lecture(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<LectureId>,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    let on = form.publishes();
    let course = cache
        .write(&state.db, async |tx| {
            studio::set_lecture_published(tx, &user, id, on).await
        })
        .await?;
    outline_published(&state, ctx, &user, course, "강의를", on).await
}

/// `POST /studio/topics/{id}/publish`.
pub async fn studio_publish_topic(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<TopicId>,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    let on = form.publishes();
    let course = cache
        .write(&state.db, async |tx| {
            studio::set_topic_published(tx, &user, id, on).await
        })
        .await?;
    outline_published(&state, ctx, &user, course, "토픽을", on).await
}

/// The outline after a lecture or topic was published or taken back.
async fn outline_published(
    state: &AppState,
    ctx: PageCtx,
    user: &crate::accounts::CurrentUser,
    course: CourseId,
    // The object with its particle: "강의를", "토픽을".
    what: &str,
    on: bool,
) -> AppResult<Response> {
    let message = if on {
        format!("{what} 공개했습니다.")
    } else {
        format!("{what} 초안으로 돌렸습니다.")
    };
    outline_changed(state, ctx, user, course, &message).await
}

/// The publish forms' one field: `state=published` or `state=draft`.
#[derive(serde::Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    state: String,
}

impl PublishForm {
    pub fn publishes(&self) -> bool {
        self.state == "published"
    }
}
