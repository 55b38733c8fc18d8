//! The lesson page (`/learn/topics/{id}`): the topic's video with its
//! captions, or its text, for viewers `access` lets study it.

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::{
    app::AppState,
    catalog::{self, TopicPlace, model::TopicKind},
    error::{AppError, AppResult},
    ids::TopicId,
    learning::access::{self, TopicAccess},
    media::{self, PlayerVideo},
    web::{self, Path, auth::MaybeUser, page::PageCtx},
};

#[derive(Template)]
#[template(path = "learning/topic.html")]
struct TopicPage {
    ctx: PageCtx,
    id: TopicId,
    place: TopicPlace,
    kind: TopicKind,
    body: String,
    access: TopicAccess,
    video: Option<PlayerVideo>,
}

impl TopicPage {
    fn may_study(&self) -> bool {
        self.access.may_study()
    }

    fn lapsed(&self) -> bool {
        self.access == TopicAccess::Lapsed
    }

    fn is_video(&self) -> bool {
        self.kind == TopicKind::Video
    }
}

#[derive(Template)]
#[template(path = "learning/_video_state.html")]
struct VideoBox {
    id: TopicId,
    video: Option<PlayerVideo>,
}

pub async fn topic_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (place, access) = access::viewer_access(&mut conn, viewer.as_ref(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access.may_study() && viewer.is_none() {
        return Err(AppError::Unauthorized);
    }
    let (kind, body) = catalog::topic_text(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let video = if access.may_study() {
        media::player_video(&mut conn, id).await?
    } else {
        None
    };
    drop(conn);
    let status = if access.may_study() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let page = TopicPage {
        ctx,
        id,
        place,
        kind,
        body,
        access,
        video,
    };
    Ok((status, web::render(&page)?).into_response())
}

/// `GET /learn/topics/{id}/video`: the video box again, polled while the
/// video is being prepared.
pub async fn video_state(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (_, access) = access::viewer_access(&mut conn, viewer.as_ref(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access.may_study() {
        return Err(if viewer.is_none() {
            AppError::Unauthorized
        } else {
            AppError::Forbidden("이 토픽은 수강권이 있어야 볼 수 있습니다.".into())
        });
    }
    let video = media::player_video(&mut conn, id).await?;
    Ok(web::render(&VideoBox { id, video })?.into_response())
}
