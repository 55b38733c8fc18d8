//! Thin handlers: studio uploads (video, captions), the status fragment the
//! studio polls, and delivery of HLS files to viewers allowed to watch.

use crate::media::Media;
use std::sync::Arc;

use axum::extract::FromRef;

use askama::Template;

use crate::labels as filters;
use axum::{
    body::Body,
    extract::{Multipart, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use tower::ServiceExt;

use super::{
    IngestError, Refusal,
    error::human_size,
    repo,
    views::{StudioPanel, studio_panel},
    vtt::CaptionProblem,
};
use crate::accounts::{MaybeUser, Staff};
use crate::{
    catalog,
    error::{AppError, AppResult},
    ids::{TopicId, VideoId},
    infra::storage::{
        self, Delivery,
        cdn::{self, Cdn},
        valid_key,
    },
    learning::access,
    state::AppState,
    web::{self, Path, page::PageCtx},
};

#[derive(Template)]
#[template(path = "media/_video_panel.html")]
struct PanelFragment {
    ctx: PageCtx,
    media: StudioPanel,
}

#[derive(Template)]
#[template(path = "media/upload_refused.html")]
struct UploadRefused {
    ctx: PageCtx,
    media: StudioPanel,
}

/// The one mapping of a media refusal to an error (for the API; the
/// studio's pages answer with their panel and [`refusal_status`]).
impl From<Refusal> for AppError {
    fn from(why: Refusal) -> Self {
        match why {
            Refusal::Tool(detail) => {
                AppError::Internal(anyhow::anyhow!("media tool failed: {detail}"))
            }
            Refusal::TooManyUploads { wait_secs } => AppError::TooManyRequests {
                retry_after_secs: wait_secs,
            },
            why => {
                if why == Refusal::StorageFull {
                    tracing::error!("media upload refused: no space left on the disk");
                }
                AppError::Refused {
                    status: refusal_status(&why),
                    message: refusal_words(&why),
                }
            }
        }
    }
}

impl From<IngestError> for AppError {
    fn from(err: IngestError) -> Self {
        match err {
            IngestError::Refused(why) => why.into(),
            IngestError::Internal(err) => AppError::Internal(err),
        }
    }
}

/// What the tutor reads beside the form for a refusal.
fn refusal_words(why: &Refusal) -> String {
    match why {
        Refusal::NoFile => "올릴 파일을 골라 주세요.".into(),
        Refusal::NotVideo => {
            "동영상 파일이 아닙니다. MP4, MOV, WebM, MKV 파일만 올릴 수 있습니다.".into()
        }
        Refusal::TooLarge { max_bytes } => format!(
            "파일이 너무 큽니다. {}까지 올릴 수 있습니다.",
            human_size(*max_bytes)
        ),
        Refusal::Damaged => {
            "파일이 손상되었거나 끝까지 올라오지 않았습니다. 원본을 확인해 다시 올려 주세요.".into()
        }
        Refusal::NoVideoStream => "영상 트랙이 없는 파일입니다.".into(),
        Refusal::Codec(codec) => {
            format!("지원하지 않는 코덱({codec})입니다. H.264, HEVC, VP9, AV1 영상을 올려 주세요.")
        }
        Refusal::TooLong { max_secs } => format!(
            "영상이 너무 깁니다. {}분까지 올릴 수 있습니다.",
            max_secs / 60
        ),
        Refusal::Dimensions => "영상 크기가 너무 작거나 큽니다 (최대 7680×4320).".into(),
        Refusal::Interrupted => "업로드가 중간에 끊겼습니다. 다시 올려 주세요.".into(),
        Refusal::Captions(CaptionProblem::NoVideo) => "먼저 영상을 올려 주세요.".into(),
        Refusal::Captions(CaptionProblem::NoLanguage) => "자막 언어를 골라 주세요.".into(),
        Refusal::Captions(why) => format!(
            "자막 파일(WebVTT)이 올바르지 않습니다: {}",
            caption_words(why)
        ),
        Refusal::Tool(_) => "파일을 확인하지 못했습니다. 잠시 후 다시 시도해 주세요.".into(),
        Refusal::Busy => "지금은 확인 중인 업로드가 많습니다. 잠시 후 다시 시도해 주세요.".into(),
        Refusal::StorageFull => {
            "서버의 저장 공간이 가득 차서 파일을 받지 못했습니다. 받던 파일은 지웠습니다. 관리자에게 알려 주세요."
                .into()
        }
        Refusal::NotImage => {
            "이미지 파일이 아닙니다. JPEG, PNG, WebP 이미지만 올릴 수 있습니다.".into()
        }
        Refusal::ImageTooSmall => {
            "이미지가 너무 작습니다. 가로세로 16픽셀 이상이어야 합니다.".into()
        }
        Refusal::TooManyPixels { max_pixels } => format!(
            "이미지의 픽셀 수가 너무 많습니다. {}만 픽셀 이하로 줄여 주세요.",
            max_pixels / 10_000
        ),
        Refusal::TooManyUploads { wait_secs } => format!(
            "이미지를 너무 자주 올렸습니다. {}분 뒤에 다시 올려 주세요.",
            wait_secs.div_ceil(60).max(1)
        ),
    }
}

fn caption_words(why: &CaptionProblem) -> String {
    match why {
        CaptionProblem::TooLarge => "1 MB보다 큽니다".into(),
        CaptionProblem::NotUtf8 => "UTF-8 텍스트가 아닙니다".into(),
        CaptionProblem::Nul => "NUL 문자가 들어 있습니다".into(),
        CaptionProblem::NoHeader => "첫 줄이 WEBVTT가 아닙니다".into(),
        CaptionProblem::Backwards(line) => format!("{line}번째 줄: 끝 시각이 시작보다 빠릅니다"),
        CaptionProblem::BadTime(line) => format!("{line}번째 줄: 시각 형식이 잘못되었습니다"),
        CaptionProblem::NoCues => "자막 구간이 하나도 없습니다".into(),
        CaptionProblem::NoVideo => "영상이 없습니다".into(),
        CaptionProblem::NoLanguage => "언어가 없습니다".into(),
    }
}

/// The status code of the page that shows a refusal.
fn refusal_status(why: &Refusal) -> StatusCode {
    match why {
        Refusal::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::NotVideo | Refusal::NotImage => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Refusal::Tool(_) => StatusCode::INTERNAL_SERVER_ERROR,
        Refusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
        Refusal::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
        Refusal::TooManyUploads { .. } => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Interrupted | Refusal::NoFile => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn refused(
    state: &AppState,
    media: &Media,
    ctx: PageCtx,
    topic: TopicId,
    why: &Refusal,
) -> AppResult<Response> {
    match why {
        Refusal::Tool(detail) => tracing::error!(%detail, "media tool failed"),
        Refusal::StorageFull => tracing::error!("media upload refused: no space left on the disk"),
        _ => {}
    }
    let mut panel = studio_panel(&state.db, media, topic).await?;
    panel.error = Some(refusal_words(why));
    Ok((
        refusal_status(why),
        web::render(&UploadRefused { ctx, media: panel })?,
    )
        .into_response())
}

/// Checks the studio user may change `topic`, a video topic, before a byte
/// is read.
async fn authorize(
    state: &AppState,
    user: &crate::accounts::CurrentUser,
    topic: TopicId,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    catalog::studio::video_topic_for_editing(&mut tx, user, topic).await?;
    tx.rollback().await?;
    Ok(())
}

/// `POST /studio/topics/{id}/video`: a multipart form with one `video` file,
/// streamed to disk in chunks (never whole in memory), then checked.
pub async fn upload_video(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(topic): Path<TopicId>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    authorize(&state, &user, topic).await?;
    let Ok(mut multipart) = multipart else {
        return refused(&state, &media, ctx, topic, &Refusal::NoFile).await;
    };
    let limit = media.config.max_video_bytes;
    let upload = media.upload_path();
    let mut received: Option<(u64, String)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return refused(&state, &media, ctx, topic, &Refusal::Interrupted).await,
        };
        if field.name() != Some("video") || received.is_some() {
            continue;
        }
        let name = super::upload_name(field.file_name().unwrap_or_default());
        let too_large = |e: &axum::extract::multipart::MultipartError| {
            e.status() == StatusCode::PAYLOAD_TOO_LARGE
        };
        match super::receive(field, &upload.0, limit, too_large).await {
            Ok(bytes) => received = Some((bytes, name)),
            Err(why) => return refused(&state, &media, ctx, topic, &why).await,
        }
    }
    let Some((bytes, name)) = received.filter(|(bytes, _)| *bytes > 0) else {
        return refused(&state, &media, ctx, topic, &Refusal::NoFile).await;
    };
    tracing::info!(%topic, bytes, "video upload received");
    match media
        .ingest(&state.db, topic, Some(user.id), upload, &name)
        .await
    {
        Ok(_) => Ok(ctx.redirect(
            &format!("/studio/topics/{topic}"),
            crate::web::flash::Flash::success(
                "영상을 올렸습니다. 변환이 끝나면 재생할 수 있습니다.",
            ),
        )),
        Err(IngestError::Refused(why)) => refused(&state, &media, ctx, topic, &why).await,
        Err(IngestError::Internal(err)) => Err(err.into()),
    }
}

/// `POST /studio/topics/{id}/captions`: a WebVTT file for the topic's video.
pub async fn upload_captions(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(topic): Path<TopicId>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    authorize(&state, &user, topic).await?;
    let Some(video) = repo::topic_video(&mut *state.db.acquire().await?, topic).await? else {
        return refused(
            &state,
            &media,
            ctx,
            topic,
            &Refusal::Captions(CaptionProblem::NoVideo),
        )
        .await;
    };
    let Ok(mut multipart) = multipart else {
        return refused(&state, &media, ctx, topic, &Refusal::NoFile).await;
    };
    let mut file: Option<Vec<u8>> = None;
    let mut language = String::from("ko");
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("captions") => {
                let Ok(bytes) = field.bytes().await else {
                    return refused(&state, &media, ctx, topic, &Refusal::Interrupted).await;
                };
                file = Some(bytes.to_vec());
            }
            Some("language") => language = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return refused(&state, &media, ctx, topic, &Refusal::NoFile).await;
    };
    let label = match language.trim() {
        "ko" => "한국어",
        "en" => "English",
        _ => {
            return refused(
                &state,
                &media,
                ctx,
                topic,
                &Refusal::Captions(CaptionProblem::NoLanguage),
            )
            .await;
        }
    };
    match media
        .put_captions(&state.db, video.id, language.trim(), label, &bytes)
        .await
    {
        Ok(()) => Ok(ctx.redirect(
            &format!("/studio/topics/{topic}"),
            crate::web::flash::Flash::success("자막을 올렸습니다."),
        )),
        Err(IngestError::Refused(why)) => refused(&state, &media, ctx, topic, &why).await,
        Err(IngestError::Internal(err)) => Err(err.into()),
    }
}

/// `POST /studio/topics/{id}/captions/{language}/delete`: takes a caption
/// track off the topic's video.
pub async fn delete_captions(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path((topic, language)): Path<(TopicId, String)>,
) -> AppResult<Response> {
    authorize(&state, &user, topic).await?;
    let mut conn = state.db.acquire().await?;
    let video = repo::topic_video(&mut conn, topic)
        .await?
        .ok_or(AppError::NotFound)?;
    if !repo::delete_caption(&mut conn, video.id, &language).await? {
        return Err(AppError::NotFound);
    }
    crate::media::videos_changed();
    Ok(ctx.redirect(
        &format!("/studio/topics/{topic}"),
        crate::web::flash::Flash::info("자막을 지웠습니다."),
    ))
}

/// `GET /studio/videos/{id}/status`: the panel again, for htmx polling.
pub async fn video_status(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<VideoId>,
) -> AppResult<Response> {
    let topic = {
        let mut conn = state.db.acquire().await?;
        repo::video(&mut conn, id)
            .await?
            .ok_or(AppError::NotFound)?
            .topic_id
    };
    authorize(&state, &user, topic).await?;
    let panel = studio_panel(&state.db, &media, topic).await?;
    web::render(&PanelFragment { ctx, media: panel })
}

/// `GET /media/videos/{id}/{*file}`: a playlist, segment, poster or caption
/// track, only for viewers allowed to watch the video's topic: 401 for a
/// visitor who is not signed in, 403 for one who may not.
pub async fn deliver(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    MaybeUser(viewer): MaybeUser,
    Path((id, file)): Path<(VideoId, String)>,
    request: Request,
) -> AppResult<Response> {
    if !valid_key(&file) {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.acquire().await?;
    let video = repo::video(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some((_, allowed)) =
        access::viewer_access(&mut conn, viewer.as_ref(), video.topic_id).await?
    else {
        return Err(AppError::NotFound);
    };
    if !allowed.may_study() {
        return Ok(denied(viewer.is_none()));
    }
    let key = if let Some(language) = file
        .strip_prefix("captions/")
        .and_then(|f| f.strip_suffix(".vtt"))
    {
        repo::captions(&mut conn, id)
            .await?
            .into_iter()
            .find(|c| c.language == language)
            .map(|c| c.storage_key)
            .ok_or(AppError::NotFound)?
    } else {
        let prefix = video.hls_prefix.clone().ok_or(AppError::NotFound)?;
        format!("{prefix}{file}")
    };
    drop(conn);
    let content_type = storage::content_type_of(&key);
    let cache = if key.ends_with(".ts") || key.ends_with(".jpg") {
        // A run's segments never change (a new upload is a new folder).
        "private, max-age=86400, immutable"
    } else {
        "private, no-cache"
    };
    let media = &media;
    if let (Some(cdn), Some(prefix), "master.m3u8") =
        (&media.config.cdn, &video.hls_prefix, file.as_str())
    {
        return master_through_cdn(media, cdn, prefix, &key).await;
    }
    if let Some(prefix) = &media.config.accel_prefix {
        let target = format!("{prefix}/{key}");
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        headers.insert("x-accel-redirect", header_value(&target)?);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        return Ok(response);
    }
    let is_text = key.ends_with(".m3u8") || key.ends_with(".vtt");
    match media
        .storage
        .deliver(&key, media.config.presign_ttl)
        .await?
    {
        Delivery::File(path) => {
            let mime: mime::Mime = content_type
                .parse()
                .map_err(|e| AppError::Internal(anyhow::anyhow!("content type: {e}")))?;
            let served = tower_http::services::ServeFile::new_with_mime(path, &mime)
                .oneshot(request)
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("serving media: {e}")))?;
            if served.status() == StatusCode::NOT_FOUND {
                return Err(AppError::NotFound);
            }
            let mut response = served.map(Body::new);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            Ok(response)
        }
        // Playlists and captions go through the app so that the addresses in
        // them stay ours (each segment is then checked and signed on its own).
        Delivery::Redirect(_) if is_text => {
            let bytes = media
                .storage
                .get_bytes(&key)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok((
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response())
        }
        Delivery::Redirect(url) => {
            let mut response = Redirect::temporary(&url).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            Ok(response)
        }
    }
}

fn header_value(raw: &str) -> AppResult<HeaderValue> {
    HeaderValue::from_str(raw).map_err(|e| AppError::Internal(e.into()))
}

/// A bare 401/403: media requests come from the player, not from people.
fn denied(anonymous: bool) -> Response {
    let (status, text) = if anonymous {
        (StatusCode::UNAUTHORIZED, "로그인이 필요합니다.")
    } else {
        (
            StatusCode::FORBIDDEN,
            "이 영상을 볼 수 있는 수강권이 없습니다.",
        )
    };
    (status, [(header::CACHE_CONTROL, "no-store")], text).into_response()
}

#[derive(Template)]
#[template(path = "media/image_refused.html")]
struct ImageRefused {
    ctx: PageCtx,
    message: String,
    back: String,
}

fn image_refused(ctx: PageCtx, why: &Refusal, back: &str) -> AppResult<Response> {
    Ok((
        refusal_status(why),
        web::render(&ImageRefused {
            ctx,
            message: refusal_words(why),
            back: back.to_string(),
        })?,
    )
        .into_response())
}

/// The `image` file of a multipart form, at most the image limit.
async fn image_field(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Vec<u8>, Refusal> {
    let mut multipart = multipart.map_err(|_| Refusal::NoFile)?;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| Refusal::Interrupted)?
    {
        if field.name() == Some("image") {
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Refusal::TooLarge {
                        max_bytes: super::images::MAX_BYTES,
                    }
                } else {
                    Refusal::Interrupted
                }
            })?;
            return Ok(bytes.to_vec());
        }
    }
    Err(Refusal::NoFile)
}

#[allow(clippy::too_many_arguments)]
async fn ingest_image(
    state: &AppState,
    media: &Media,
    ctx: PageCtx,
    purpose: super::images::Purpose,
    user: crate::ids::UserId,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    back: &str,
    done: &str,
) -> AppResult<Response> {
    let bytes = match image_field(multipart).await {
        Ok(bytes) => bytes,
        Err(why) => return image_refused(ctx, &why, back),
    };
    match media
        .ingest_image(&state.db, purpose, Some(user), bytes)
        .await
    {
        Ok(_) => Ok(ctx.redirect(back, crate::web::flash::Flash::success(done))),
        Err(IngestError::Refused(why)) => image_refused(ctx, &why, back),
        Err(IngestError::Internal(err)) => Err(err.into()),
    }
}

/// `POST /studio/courses/{id}/cover`: a new cover for a course.
pub async fn upload_cover(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(course): Path<crate::ids::CourseId>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    {
        let mut tx = state.db.begin().await?;
        catalog::studio::authorize_course(&mut tx, &user, course).await?;
        tx.rollback().await?;
    }
    ingest_image(
        &state,
        &media,
        ctx,
        super::images::Purpose::CourseCover(course),
        user.id,
        multipart,
        &format!("/studio/courses/{course}"),
        "표지 이미지를 올렸습니다. 크기를 맞추는 대로 코스에 보입니다.",
    )
    .await
}

/// `POST /studio/courses/{id}/cover/delete`.
pub async fn delete_cover(
    State(state): State<AppState>,
    State(cache): State<Arc<crate::catalog::CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(course): Path<crate::ids::CourseId>,
) -> AppResult<Response> {
    cache
        .write(&state.db, async |tx| {
            catalog::studio::authorize_course(tx, &user, course).await?;
            Ok(super::images::remove(tx, super::images::Purpose::CourseCover(course)).await?)
        })
        .await?;
    Ok(ctx.redirect(
        &format!("/studio/courses/{course}"),
        crate::web::flash::Flash::success("표지 이미지를 지웠습니다."),
    ))
}

/// `POST /me/avatar`: a new profile picture.
pub async fn upload_avatar(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    user: crate::accounts::CurrentUser,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<Response> {
    ingest_image(
        &state,
        &media,
        ctx,
        super::images::Purpose::Avatar(user.id),
        user.id,
        multipart,
        "/me",
        "프로필 사진을 올렸습니다. 잠시 후 보입니다.",
    )
    .await
}

/// `POST /me/avatar/delete`.
pub async fn delete_avatar(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: crate::accounts::CurrentUser,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    super::images::remove(&mut tx, super::images::Purpose::Avatar(user.id)).await?;
    tx.commit().await?;
    Ok(ctx.redirect(
        "/me",
        crate::web::flash::Flash::success("프로필 사진을 지웠습니다."),
    ))
}

/// `GET /media/images/{id}/{width}.jpg`: covers and profile pictures are
/// public; a replaced or removed image is gone (404).
pub async fn deliver_image(
    State(state): State<AppState>,
    State(media): State<Arc<Media>>,
    Path((id, file)): Path<(uuid::Uuid, String)>,
    request: Request,
) -> AppResult<Response> {
    let width: u32 = file
        .strip_suffix(".jpg")
        .and_then(|w| w.parse().ok())
        .ok_or(AppError::NotFound)?;
    let known = super::images::COVER_SIZES
        .iter()
        .chain(super::images::AVATAR_SIZES)
        .any(|(w, _)| *w == width);
    if !known || !super::images::live(&mut *state.db.acquire().await?, id).await? {
        return Err(AppError::NotFound);
    }
    let key = format!("images/{id}/{width}.jpg");
    match media
        .storage
        .deliver(&key, media.config.presign_ttl)
        .await?
    {
        Delivery::File(path) => {
            let served = tower_http::services::ServeFile::new_with_mime(path, &mime::IMAGE_JPEG)
                .oneshot(request)
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("serving image: {e}")))?;
            if served.status() == StatusCode::NOT_FOUND {
                return Err(AppError::NotFound);
            }
            let mut response = served.map(Body::new);
            // A new upload is a new id: these bytes never change.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            Ok(response)
        }
        Delivery::Redirect(url) => Ok(Redirect::temporary(&url).into_response()),
    }
}

/// The master playlist when a CDN serves the rest: its renditions point at
/// the CDN, and the viewer gets cookies that open this run's folder there
/// (scoped to the folder, so each video open in another tab keeps its own).
async fn master_through_cdn(
    media: &Media,
    cdn: &Cdn,
    prefix: &str,
    key: &str,
) -> AppResult<Response> {
    let bytes = media
        .storage
        .get_bytes(key)
        .await?
        .ok_or(AppError::NotFound)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("playlist {key}: {e}")))?;
    let playlist =
        cdn::rewrite_playlist(&text, |address| cdn.url_of(&format!("{prefix}{address}")));
    let signed = cdn.sign(prefix, time::OffsetDateTime::now_utc())?;
    let mut response = (
        [
            (header::CONTENT_TYPE, storage::content_type_of(key)),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        playlist,
    )
        .into_response();
    for (name, value) in signed.pairs {
        let mut cookie = cookie::Cookie::build((name, value))
            .path(signed.path.clone())
            .http_only(true)
            .secure(cdn.secure())
            .same_site(cookie::SameSite::Lax);
        if let Some(domain) = &cdn.cookie_domain {
            cookie = cookie.domain(domain.clone());
        }
        response.headers_mut().append(
            header::SET_COOKIE,
            header_value(&cookie.build().to_string())?,
        );
    }
    Ok(response)
}

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    std::sync::Arc<crate::media::Media>: FromRef<S>,
    std::sync::Arc<crate::catalog::CatalogCache>: FromRef<S>,
{
    use crate::web::routes::prelude::*;
    Router::new()
        .at(
            "/studio/topics/{id}/video",
            post(upload_video).layer(DefaultBodyLimit::disable()),
        )
        .at("/studio/topics/{id}/captions", post(upload_captions))
        .at(
            "/studio/topics/{id}/captions/{language}/delete",
            post(delete_captions),
        )
        .at("/studio/videos/{id}/status", get(video_status))
        .at("/media/videos/{id}/{*file}", get(deliver))
        .at("/media/images/{id}/{file}", get(deliver_image))
        .at("/studio/courses/{id}/cover", post(upload_cover))
        .at("/studio/courses/{id}/cover/delete", post(delete_cover))
        .at("/me/avatar", post(upload_avatar))
        .at("/me/avatar/delete", post(delete_avatar))
}
