//! One editor for the outline: creating and saving a course or curriculum,
//! and moving, deleting, restoring and publishing any of its four kinds of
//! piece, each through one handler over the piece's id.

use axum::response::Response;
use serde::Deserialize;

use super::Studio;
use crate::{
    catalog::{
        error::{CatalogError, Work},
        model::{Listing, Piece},
        studio::{self, Edit, ListingForm},
        views::*,
    },
    error::{AppError, AppResult},
    ids::{CourseId, CurriculumId},
    infra::once::Once,
    web::{self, Form, Path, form::FormErrors},
};

/// Where a course's or curriculum's editor is.
fn editor_path(listing: Listing) -> String {
    match listing {
        Listing::Course(id) => format!("/studio/courses/{id}"),
        Listing::Curriculum(id) => format!("/studio/curricula/{id}"),
    }
}

/// "코스를", "커리큘럼을": the piece as the object of a sentence.
fn object(piece: Piece) -> &'static str {
    match piece {
        Piece::Curriculum(_) => "커리큘럼을",
        Piece::Course(_) => "코스를",
        Piece::Lecture(_) => "강의를",
        Piece::Topic(_) => "토픽을",
    }
}

/// What an edit did, in words.
fn said(piece: Piece, edit: Edit) -> String {
    let what = object(piece);
    match edit {
        Edit::Move { .. } => "순서를 바꿨습니다.".into(),
        Edit::Deleted(true) => {
            format!("{what} 삭제했습니다. 수강생에게는 보이지 않으며 언제든 복구할 수 있습니다.")
        }
        Edit::Deleted(false) => format!("{what} 복구했습니다."),
        Edit::Published(true) => format!("{what} 공개했습니다."),
        Edit::Published(false) => {
            format!("{what} 초안으로 돌렸습니다. 수강생에게는 보이지 않습니다.")
        }
    }
}

/// A page, refused (422) when its form had messages.
fn answer(page: &impl askama::Template, refused: bool) -> AppResult<Response> {
    if refused {
        web::invalid(page)
    } else {
        web::render(page)
    }
}

/// Which listing page: the empty form of a new course or curriculum, or
/// the editor of one that exists.
#[derive(Clone, Copy)]
enum Page {
    New(Work),
    Edit(Listing),
}

impl Studio {
    /// A listing's page, with the form's values and messages (refused, 422,
    /// when there are messages).
    async fn listing_page(
        self,
        page: Page,
        form: Option<&ListingForm>,
        errors: FormErrors,
    ) -> AppResult<Response> {
        let refused = !errors.is_empty();
        match page {
            Page::Edit(Listing::Course(id)) => {
                answer(&self.course_editor(id, form, errors, None).await?, refused)
            }
            Page::New(Work::Course) => answer(
                &StudioNewCourse {
                    ctx: self.ctx,
                    values: form.cloned().unwrap_or_default(),
                    errors,
                    options: Options,
                },
                refused,
            ),
            Page::Edit(Listing::Curriculum(id)) => answer(
                &self.curriculum_editor(Some(id), form, errors).await?,
                refused,
            ),
            Page::New(Work::Curriculum) => {
                answer(&self.curriculum_editor(None, form, errors).await?, refused)
            }
        }
    }
}

/// A course's or curriculum's id in a path: which kind of listing it is.
pub trait ListingId: Into<Listing> + serde::de::DeserializeOwned + Send + 'static {
    const WORK: Work;
}

impl ListingId for CourseId {
    const WORK: Work = Work::Course;
}

impl ListingId for CurriculumId {
    const WORK: Work = Work::Curriculum;
}

/// `GET /studio/courses/new` and `GET /studio/curricula/new`: the empty form.
pub async fn studio_new<I: ListingId>(s: Studio) -> AppResult<Response> {
    s.listing_page(Page::New(I::WORK), None, FormErrors::new())
        .await
}

/// `POST /studio/courses` and `POST /studio/curricula`: a new course or
/// curriculum, once per form however often it is sent.
pub async fn studio_create<I: ListingId>(
    s: Studio,
    Form(form): Form<ListingForm>,
) -> AppResult<Response> {
    let written = s
        .write_once(
            form.form_key,
            async |tx| studio::create_listing(tx, &s.user, I::WORK, &form).await,
            |listing| editor_path(*listing),
        )
        .await;
    match written {
        Ok(Once::Repeat(first)) => Ok(s.ctx.repeated(first.as_deref(), "/studio")),
        Ok(Once::Done(listing)) => Ok(s.done(
            &editor_path(listing),
            match I::WORK {
                Work::Course => "코스를 만들었습니다. 이제 강의를 추가해 보세요.",
                Work::Curriculum => "커리큘럼을 만들었습니다. 이제 코스를 넣어 보세요.",
            },
        )),
        Err(CatalogError::Invalid(errors)) => {
            s.listing_page(Page::New(I::WORK), Some(&form), errors.into())
                .await
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /studio/courses/{id}` and `GET /studio/curricula/{id}`: the editor.
pub async fn studio_editor<I: ListingId>(s: Studio, Path(id): Path<I>) -> AppResult<Response> {
    s.listing_page(Page::Edit(id.into()), None, FormErrors::new())
        .await
}

/// `POST /studio/courses/{id}` and `POST /studio/curricula/{id}`: saves a
/// course's or curriculum's own fields.
pub async fn studio_update<I: ListingId>(
    s: Studio,
    Path(id): Path<I>,
    Form(form): Form<ListingForm>,
) -> AppResult<Response> {
    let listing: Listing = id.into();
    let written = s
        .cache
        .write(&s.state.db, async |tx| {
            studio::update_listing(tx, &s.user, listing, &form).await
        })
        .await;
    match written {
        Ok(()) => Ok(s.done(
            &editor_path(listing),
            format!("{} 저장했습니다.", object(listing.into())),
        )),
        Err(CatalogError::Invalid(errors)) => {
            s.listing_page(Page::Edit(listing), Some(&form), errors.into())
                .await
        }
        Err(other) => Err(other.into()),
    }
}

/// The fields of the edit forms: `direction=up|down` to move,
/// `state=published|draft` to publish.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    direction: String,
    #[serde(default)]
    state: String,
}

/// `POST /studio/{kind}/{id}/{edit}`, the edit one of `move`, `delete`,
/// `restore` or `publish`, for any kind of piece. Shows its editor again:
/// the outline (an htmx fragment, or the course editor) for a course,
/// lecture or topic; the curriculum's editor for a curriculum. A publish
/// refused for what is missing shows the missing things above the publish
/// button.
pub async fn studio_edit<I>(
    s: Studio,
    Path((id, edit)): Path<(I, String)>,
    Form(form): Form<EditForm>,
) -> AppResult<Response>
where
    I: Into<Piece> + serde::de::DeserializeOwned + Send,
{
    let edit = match edit.as_str() {
        "move" => Edit::Move {
            up: form.direction == "up",
        },
        "delete" => Edit::Deleted(true),
        "restore" => Edit::Deleted(false),
        "publish" => Edit::Published(form.state == "published"),
        _ => return Err(AppError::NotFound),
    };
    let piece: Piece = id.into();
    // Publishing a video topic needs its video ready (media knows).
    let video_ready = match (piece, edit) {
        (Piece::Topic(topic), Edit::Published(true)) => {
            crate::media::ready_video_secs(&mut *s.state.db.acquire().await?, topic)
                .await?
                .is_some()
        }
        _ => true,
    };
    let written = s
        .cache
        .write(&s.state.db, async |tx| {
            studio::edit(tx, &s.user, piece, edit, video_ready).await
        })
        .await;
    // A tutor's course waits for an admin's review instead.
    let queued =
        matches!((piece, edit), (Piece::Course(_), Edit::Published(true))) && !s.user.is_admin();
    let message = match queued {
        true => "검토를 요청했습니다. 관리자가 확인한 뒤 공개됩니다.".to_string(),
        false => said(piece, edit),
    };
    match written {
        Ok(Listing::Course(course)) => s.outline_changed(course, &message).await,
        Ok(listing) => Ok(s.done(&editor_path(listing), message)),
        Err(CatalogError::Incomplete(missing)) => {
            let errors = super::errors::missing_fields(&missing);
            let listing = match piece {
                Piece::Curriculum(id) => Listing::Curriculum(id),
                Piece::Course(id) => Listing::Course(id),
                // A topic's refusal shows above its course's outline.
                Piece::Topic(topic) => {
                    let mut conn = s.state.db.acquire().await?;
                    let course = studio::topic_for_editing(&mut conn, &s.user, topic)
                        .await?
                        .course_id;
                    drop(conn);
                    let message = errors
                        .get("publish")
                        .map(|m| m.join(" "))
                        .unwrap_or_default();
                    return s.outline_refused(course, message).await;
                }
                Piece::Lecture(_) => return Err(CatalogError::Incomplete(missing).into()),
            };
            s.listing_page(Page::Edit(listing), None, errors.into())
                .await
        }
        Err(other) => Err(other.into()),
    }
}
