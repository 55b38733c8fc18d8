//! Request figures for `/metrics`: a count by route and status and a
//! latency histogram by route. The route is the pattern that matched
//! (`/learn/topics/{id}`), never the raw path, so the series stay few.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};

/// The histogram's name; its buckets are set where the recorder is made.
pub const REQUEST_SECONDS: &str = "weaverse_http_request_duration_seconds";
pub const REQUESTS: &str = "weaverse_http_requests_total";

/// Counts and times every request.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
