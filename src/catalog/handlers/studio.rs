//! The studio: courses, lectures and topics, written by tutors and admins.

use std::sync::Arc;

use axum::{extract::State, response::Response};

use super::Studio;
use crate::{
    catalog::{
        error::{CatalogError, Invalid},
        model::TopicKind,
        studio::{self, LectureForm, ListingForm, TopicForm},
        views::*,
    },
    error::{AppError, AppResult},
    ids::{CourseId, LectureId, TopicId},
    infra::once::Once,
    media::Media,
    web::{self, Form, Path, form::FormErrors},
};

pub async fn studio_index(s: Studio) -> AppResult<Response> {
    let mut conn = s.state.db.acquire().await?;
    let courses = studio::my_courses(&mut conn, &s.user).await?;
    let curricula = studio::my_curricula(&mut conn, &s.user).await?;
    web::render(&StudioIndex {
        ctx: s.ctx,
        courses,
        curricula,
    })
}

/// What the outline says to a repeated add (a double click).
const REPEATED: &str = "이미 처리된 요청입니다. 같은 내용을 두 번 추가하지 않았습니다.";

impl Studio {
    /// The course a lecture belongs to (to show its outline again).
    async fn course_of_lecture(&self, lecture: LectureId) -> AppResult<CourseId> {
        crate::catalog::studio_repo::lecture_course(&mut *self.state.db.acquire().await?, lecture)
            .await?
            .ok_or(AppError::NotFound)
    }

    async fn outline(&self, id: CourseId) -> AppResult<Outline> {
        let mut conn = self.state.db.acquire().await?;
        let course = studio::course_for_editing(&mut conn, &self.user, id).await?;
        Ok(Outline {
            course,
            csrf_token: self.ctx.csrf_token.clone(),
            options: Options,
            failed: None,
            notice: None,
            refusal: None,
        })
    }

    /// The course's editor: its fields (as sent when `form` was refused)
    /// and its outline (with a refused inline form's messages).
    pub(super) async fn course_editor(
        self,
        id: CourseId,
        form: Option<&ListingForm>,
        errors: FormErrors,
        failed: Option<OutlineErrors>,
    ) -> AppResult<StudioCourse> {
        let mut outline = self.outline(id).await?;
        outline.failed = failed;
        let c = &outline.course;
        let values = match form {
            Some(form) => form.clone(),
            None => ListingForm::of_course(c),
        };
        let deleted = c.deleted;
        let (review_requested_at, review_note) =
            crate::catalog::studio_repo::review_state(&mut *self.state.db.acquire().await?, id)
                .await?;
        Ok(StudioCourse {
            publishes: self.user.is_admin(),
            ctx: self.ctx,
            values,
            errors,
            options: Options,
            outline,
            deleted,
            review_requested_at,
            review_note,
        })
    }

    /// After an outline change: htmx gets the new outline, a form post the
    /// editor.
    pub(super) async fn outline_changed(
        self,
        course: CourseId,
        message: &str,
    ) -> AppResult<Response> {
        if self.ctx.htmx {
            let mut outline = self.outline(course).await?;
            outline.notice = Some(message.to_string());
            return web::render(&outline);
        }
        Ok(self.done(&format!("/studio/courses/{course}"), message))
    }

    /// A change refused with `message`, shown above the outline (422).
    pub(super) async fn outline_refused(
        self,
        course: CourseId,
        message: String,
    ) -> AppResult<Response> {
        let mut outline = self.outline(course).await?;
        outline.refusal = Some(message);
        if self.ctx.htmx {
            return web::invalid(&outline);
        }
        let mut editor = self
            .course_editor(course, None, FormErrors::new(), None)
            .await?;
        editor.outline.refusal = outline.refusal;
        web::invalid(&editor)
    }

    /// A refused inline form (`form`: `new-lecture`, `lecture-{id}`,
    /// `topic-{lecture}`): its messages beside its fields, in the outline
    /// fragment for htmx or in the whole editor.
    async fn outline_invalid(
        self,
        course: CourseId,
        form: String,
        errors: Invalid,
    ) -> AppResult<Response> {
        let failed = Some(OutlineErrors {
            form,
            errors: errors.into(),
        });
        if self.ctx.htmx {
            let mut outline = self.outline(course).await?;
            outline.failed = failed;
            return web::invalid(&outline);
        }
        web::invalid(
            &self
                .course_editor(course, None, FormErrors::new(), failed)
                .await?,
        )
    }

    /// What an added lecture or topic shows: the outline again, or the
    /// refused form's messages.
    async fn added(
        self,
        written: Result<Once<CourseId>, CatalogError>,
        course: CourseId,
        message: &str,
        form: String,
    ) -> AppResult<Response> {
        match written {
            Ok(Once::Done(course)) => self.outline_changed(course, message).await,
            Ok(Once::Repeat(_)) => self.outline_changed(course, REPEATED).await,
            Err(CatalogError::Invalid(errors)) => self.outline_invalid(course, form, errors).await,
            Err(other) => Err(other.into()),
        }
    }
}

pub async fn studio_add_lecture(
    s: Studio,
    Path(course): Path<CourseId>,
    Form(form): Form<LectureForm>,
) -> AppResult<Response> {
    let written = s
        .write_once(
            form.form_key,
            async |tx| {
                studio::add_lecture(tx, &s.user, course, &form).await?;
                Ok(course)
            },
            |_| format!("/studio/courses/{course}"),
        )
        .await;
    s.added(
        written,
        course,
        "강의를 추가했습니다.",
        "new-lecture".into(),
    )
    .await
}

pub async fn studio_update_lecture(
    s: Studio,
    Path(id): Path<LectureId>,
    Form(form): Form<LectureForm>,
) -> AppResult<Response> {
    let written = s
        .cache
        .write(&s.state.db, async |tx| {
            studio::update_lecture(tx, &s.user, id, &form).await
        })
        .await;
    match written {
        Ok(course) => s.outline_changed(course, "강의를 저장했습니다.").await,
        Err(CatalogError::Invalid(errors)) => {
            let course = s.course_of_lecture(id).await?;
            s.outline_invalid(course, format!("lecture-{id}"), errors)
                .await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn studio_add_topic(
    s: Studio,
    Path(lecture): Path<LectureId>,
    Form(form): Form<TopicForm>,
) -> AppResult<Response> {
    let written = s
        .write_once(
            form.form_key,
            async |tx| studio::add_topic(tx, &s.user, lecture, &form).await,
            |_| "/studio".to_string(),
        )
        .await;
    // The outline to show again: the new topic's course, or (a repeat, a
    // refusal) the lecture's.
    let course = match &written {
        Ok(Once::Done(course)) => *course,
        _ => s.course_of_lecture(lecture).await?,
    };
    s.added(
        written,
        course,
        "토픽을 추가했습니다.",
        format!("topic-{lecture}"),
    )
    .await
}

/// The topic's editor, with the form as sent (`form`) when it was refused.
async fn topic_page(
    s: Studio,
    media: &Media,
    id: TopicId,
    form: Option<TopicForm>,
    errors: FormErrors,
) -> AppResult<Response> {
    let mut topic =
        studio::topic_for_editing(&mut *s.state.db.acquire().await?, &s.user, id).await?;
    if let Some(form) = form {
        topic.title = form.title;
        topic.body = form.body;
        topic.kind = TopicKind::parse(&form.kind).unwrap_or(topic.kind);
        topic.is_preview = form.is_preview.is_some();
    }
    let refused = !errors.is_empty();
    let page = StudioTopic {
        ctx: s.ctx,
        topic,
        errors,
        options: Options,
        media: crate::media::views::studio_panel(&s.state.db, media, id).await?,
    };
    if refused {
        web::invalid(&page)
    } else {
        web::render(&page)
    }
}

pub async fn studio_topic(
    s: Studio,
    State(media): State<Arc<Media>>,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    topic_page(s, &media, id, None, FormErrors::new()).await
}

pub async fn studio_update_topic(
    s: Studio,
    State(media): State<Arc<Media>>,
    Path(id): Path<TopicId>,
    Form(form): Form<TopicForm>,
) -> AppResult<Response> {
    let video_secs = crate::media::ready_video_secs(&mut *s.state.db.acquire().await?, id).await?;
    let written = s
        .cache
        .write(&s.state.db, async |tx| {
            studio::update_topic(tx, &s.user, id, &form, video_secs).await
        })
        .await;
    match written {
        Ok(course) => Ok(s.done(&format!("/studio/courses/{course}"), "토픽을 저장했습니다.")),
        Err(CatalogError::Invalid(errors)) => {
            topic_page(s, &media, id, Some(form), errors.into()).await
        }
        Err(other) => Err(other.into()),
    }
}
