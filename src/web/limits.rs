//! How big a request body may be and how long a request may take: small and
//! short for forms, larger or longer for the few paths `app.rs` names (the
//! streamed video upload, pictures). One middleware decides both by path,
//! so an upload route does not need a layer stack of its own.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The bounds of one kind of request.
#[derive(Clone, Copy, Debug)]
struct Bound {
    bytes: u64,
    timeout: Duration,
}

/// Whether a path is one of a kind (`media::is_upload_path`, ...).
type PathTest = fn(&str) -> bool;

/// The default bound, and the paths that take posts of another size.
pub struct Limits {
    forms: Bound,
    posts: Vec<(PathTest, Bound)>,
}

impl Limits {
    pub fn new(bytes: u64, timeout: Duration) -> Self {
        Self {
            forms: Bound { bytes, timeout },
            posts: Vec::new(),
        }
    }

    /// A POST to a path `takes` accepts is bounded by `bytes` and `timeout`.
    pub fn posts_to(mut self, takes: PathTest, bytes: u64, timeout: Duration) -> Self {
        self.posts.push((takes, Bound { bytes, timeout }));
        self
    }

    fn of(&self, method: &Method, path: &str) -> Bound {
        if method == Method::POST
            && let Some((_, bound)) = self.posts.iter().find(|(takes, _)| takes(path))
        {
            return *bound;
        }
        self.forms
    }
}

pub async fn apply(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let Bound { bytes, timeout } = limits.of(req.method(), req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > bytes) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let limit = usize::try_from(bytes).unwrap_or(usize::MAX);
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(path: &str) -> bool {
        path.ends_with("/video")
    }

    #[test]
    fn a_named_path_takes_its_own_bound_for_posts_only() {
        let limits =
            Limits::new(10, Duration::from_secs(1)).posts_to(video, 1000, Duration::from_secs(60));
        assert_eq!(
            limits.of(&Method::POST, "/studio/topics/x/video").bytes,
            1000
        );
        assert_eq!(limits.of(&Method::GET, "/studio/topics/x/video").bytes, 10);
        assert_eq!(limits.of(&Method::POST, "/me").bytes, 10);
    }
}
