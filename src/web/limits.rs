//! How big a request body may be and how long a request may take: small and
//! short for forms, large and long for the streamed video upload. One
//! middleware decides both by path, so the upload route does not need a
//! layer stack of its own.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::app::AppState;

pub async fn apply(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let post = req.method() == Method::POST;
    let upload = post && crate::media::is_upload_path(req.uri().path());
    let image = post && crate::media::is_image_path(req.uri().path());
    let (limit, timeout) = if image {
        (
            crate::media::images::MAX_BYTES + (1 << 20),
            state.config.request_timeout,
        )
    } else if upload {
        // The form around the file (field names, boundaries) needs a little room.
        (
            state.config.media.max_video_bytes.saturating_add(1 << 20),
            state.config.media.upload_timeout,
        )
    } else {
        (
            state.config.max_body_bytes as u64,
            state.config.request_timeout,
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
