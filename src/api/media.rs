//! A course's videos and cover images for its editors' programs (and a
//! person's own profile picture): the lists, and uploads through the same checks as the studio's forms (the
//! body is the file itself, streamed to disk as it arrives).

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    accounts::tokens::Caller,
    api::{
        PageQuery,
        auth::{Reader, Writer},
        catalog::staff,
        json, made, page_of, rfc3339,
    },
    catalog::{CatalogCache, service::can_edit},
    error::{AppError, AppResult},
    ids::{CourseId, TopicId},
    media::{
        CourseVideoRow, ImageRow, ImageState, Media, Refusal, VideoState,
        images::{MAX_BYTES, Purpose},
    },
    state::AppState,
    web::{Path, Query},
};

/// The course exists and the caller may edit it (its author or an admin).
async fn editor_of(
    state: &AppState,
    cache: &CatalogCache,
    caller: &Caller,
    course: CourseId,
) -> AppResult<()> {
    let view = cache.course(&state.db, course).await?;
    if view.deleted && !caller.person.is_admin() {
        return Err(AppError::NotFound);
    }
    match can_edit(Some(&caller.person), view.author_id) {
        true => Ok(()),
        false => Err(AppError::Forbidden(
            "그 강의를 만든 튜터와 관리자만 볼 수 있습니다.".into(),
        )),
    }
}

#[derive(Serialize, ToSchema)]
pub struct VideoList {
    /// The live video of each topic that has one, in the outline's order.
    pub items: Vec<Video>,
    /// Pass as `cursor` for the rest; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Video {
    pub id: Uuid,
    pub topic_id: Uuid,
    pub topic_title: String,
    pub state: VideoState,
    /// Why it failed (a code), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The uploaded file's name and size.
    pub original_name: String,
    pub bytes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// RFC 3339.
    pub uploaded_at: String,
}

impl From<CourseVideoRow> for Video {
    fn from(v: CourseVideoRow) -> Self {
        Self {
            id: v.id.0,
            topic_id: v.topic_id.0,
            topic_title: v.topic_title,
            state: v.state,
            failure: v.failure,
            original_name: v.original_name,
            bytes: v.source_bytes,
            duration_secs: v.duration_ms.map(|ms| f64::from(ms) / 1000.0),
            width: v.width,
            height: v.height,
            uploaded_at: rfc3339(v.created_at),
        }
    }
}

/// A course's videos (its author's or an admin's token).
#[utoipa::path(
    get,
    path = "/api/v1/courses/{id}/videos",
    tag = "media",
    summary = "강의의 영상 목록",
    description = "토픽마다 지금의 영상과 그 상태(uploaded, processing, ready, failed). 그 강의를 만든 튜터와 관리자의 토큰으로.",
    params(("id" = Uuid, Path, description = "강의 id"), PageQuery),
    responses((status = 200, description = "영상들", body = VideoList))
)]
pub async fn videos(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Path(course): Path<CourseId>,
    Query(page): Query<PageQuery>,
) -> AppResult<Response> {
    editor_of(&state, &cache, &caller, course).await?;
    let mut conn = state.db.acquire().await?;
    let rows = crate::media::course_videos(&mut conn, course).await?;
    let (rows, next) = page_of(rows, |v| v.id.to_string(), &page)?;
    let items = rows.into_iter().map(Video::from).collect();
    json(&headers, &VideoList { items, next })
}

#[derive(Serialize, ToSchema)]
pub struct ImageList {
    /// Newest first.
    pub items: Vec<Image>,
    /// Pass as `cursor` for the rest; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Image {
    pub id: Uuid,
    pub state: ImageState,
    /// `jpeg`, `png` or `webp`.
    pub format: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    /// The course's cover now.
    pub current: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// RFC 3339.
    pub uploaded_at: String,
    /// The 960 px wide size, once ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl From<ImageRow> for Image {
    fn from(i: ImageRow) -> Self {
        Self {
            url: (i.state == ImageState::Ready).then(|| crate::web::routes::image_url(i.id, 960)),
            id: i.id,
            state: i.state,
            format: i.format,
            bytes: i.bytes,
            width: i.width,
            height: i.height,
            current: i.current,
            failure: i.failure,
            uploaded_at: rfc3339(i.created_at),
        }
    }
}

/// A course's cover images (its author's or an admin's token).
#[utoipa::path(
    get,
    path = "/api/v1/courses/{id}/images",
    tag = "media",
    summary = "강의의 표지 이미지 목록",
    params(("id" = Uuid, Path, description = "강의 id"), PageQuery),
    responses((status = 200, description = "이미지들", body = ImageList))
)]
pub async fn images(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Path(course): Path<CourseId>,
    Query(page): Query<PageQuery>,
) -> AppResult<Response> {
    editor_of(&state, &cache, &caller, course).await?;
    let mut conn = state.db.acquire().await?;
    let rows = crate::media::course_images(&mut conn, course).await?;
    let (rows, next) = page_of(rows, |i| i.id.to_string(), &page)?;
    let items = rows.into_iter().map(Image::from).collect();
    json(&headers, &ImageList { items, next })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, kept for the studio (`video` when not given).
    name: Option<String>,
}

/// A video accepted: it is being transcoded.
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub id: Uuid,
    /// Read the list (`/api/v1/courses/{id}/videos` or `/images`) to see
    /// when it is ready.
    pub state: String,
}

/// Upload a topic's video (the body is the file).
#[utoipa::path(
    post,
    path = "/api/v1/topics/{id}/video",
    tag = "media",
    summary = "영상 올리기",
    description = "본문이 영상 파일 그 자체입니다(`Content-Type: application/octet-stream` 또는 `video/*`). 스튜디오와 같은 검사(형식, 코덱, 길이, 크기)를 거쳐 변환을 기다립니다. 이전 영상은 새 영상으로 바뀝니다.",
    params(("id" = Uuid, Path, description = "토픽 id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "영상 파일"),
    responses((status = 202, description = "받았습니다. 변환 중입니다", body = Accepted))
)]
pub async fn upload_video(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    Writer(caller): Writer,
    Path(topic): Path<TopicId>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> AppResult<Response> {
    staff(&caller)?;
    {
        let mut tx = state.db.begin().await?;
        crate::catalog::studio::video_topic_for_editing(&mut tx, &caller.person, topic).await?;
        tx.rollback().await?;
    }
    let upload = media.upload_path();
    let limit = media.config.max_video_bytes;
    let bytes =
        crate::media::receive(body.into_data_stream(), &upload.0, limit, over_limit).await?;
    if bytes == 0 {
        return Err(Refusal::NoFile.into());
    }
    let name = crate::media::upload_name(query.name.as_deref().unwrap_or_default());
    let id = media
        .ingest(&state.db, topic, Some(caller.user()), upload, &name)
        .await?;
    accepted(id.0)
}

/// Whether a body's error is the size limit's refusal.
fn over_limit(err: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

fn accepted(id: Uuid) -> AppResult<Response> {
    let answer = Accepted {
        id,
        state: "uploaded".into(),
    };
    made(StatusCode::ACCEPTED, &answer, None)
}

/// Upload a course's cover (the body is the image).
#[utoipa::path(
    post,
    path = "/api/v1/courses/{id}/cover",
    tag = "media",
    summary = "표지 이미지 올리기",
    description = "본문이 이미지 파일 그 자체입니다(JPEG, PNG, WebP, 10 MB까지). 스튜디오와 같은 검사를 거쳐 크기를 맞추는 대로 강의에 보입니다.",
    params(("id" = Uuid, Path, description = "강의 id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "이미지 파일"),
    responses((status = 202, description = "받았습니다. 크기를 맞추는 중입니다", body = Accepted))
)]
pub async fn upload_cover(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    Writer(caller): Writer,
    Path(course): Path<CourseId>,
    body: Body,
) -> AppResult<Response> {
    staff(&caller)?;
    {
        let mut tx = state.db.begin().await?;
        crate::catalog::studio::authorize_course(&mut tx, &caller.person, course).await?;
        tx.rollback().await?;
    }
    let bytes = image_body(body).await?;
    let id = media
        .ingest_image(
            &state.db,
            Purpose::CourseCover(course),
            Some(caller.user()),
            bytes,
        )
        .await?;
    accepted(id)
}

/// An image upload's body, whole (at most the image limit).
async fn image_body(body: Body) -> Result<Vec<u8>, Refusal> {
    let bytes = axum::body::to_bytes(body, MAX_BYTES as usize + 1)
        .await
        .map_err(|err| match over_limit(&err) {
            true => Refusal::TooLarge {
                max_bytes: MAX_BYTES,
            },
            false => Refusal::Interrupted,
        })?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Refusal::TooLarge {
            max_bytes: MAX_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(Refusal::NoFile);
    }
    Ok(bytes.to_vec())
}

/// Upload the token owner's profile picture (the body is the image).
#[utoipa::path(
    post,
    path = "/api/v1/me/avatar",
    tag = "media",
    summary = "프로필 사진 올리기",
    description = "본문이 이미지 파일 그 자체입니다(JPEG, PNG, WebP, 10 MB까지). 내 정보 페이지와 같은 검사를 거칩니다.",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "이미지 파일"),
    responses((status = 202, description = "받았습니다. 크기를 맞추는 중입니다", body = Accepted))
)]
pub async fn upload_avatar(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    Writer(caller): Writer,
    body: Body,
) -> AppResult<Response> {
    let bytes = image_body(body).await?;
    let id = media
        .ingest_image(
            &state.db,
            Purpose::Avatar(caller.user()),
            Some(caller.user()),
            bytes,
        )
        .await?;
    accepted(id)
}
