//! Security headers on every response.

use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// No inline scripts or styles, nothing framed, forms post only to us and
/// to the payment gateways' windows (`form_origins`).
/// `toss_origins` (Toss's SDK and window) may load scripts, frames and calls.
/// `media_origins` (an S3 bucket's address) may serve posters, video and
/// the segments hls.js fetches.
pub fn content_security_policy(
    form_origins: &[&str],
    toss_origins: &[&str],
    media_origins: &[&str],
) -> String {
    let with = |base: &str, extra: &[&str]| {
        let mut out = String::from(base);
        for origin in extra {
            out.push(' ');
            out.push_str(origin);
        }
        out
    };
    let form_action = with("'self'", form_origins);
    let script = with("'self'", toss_origins);
    let frame = if toss_origins.is_empty() {
        "'none'".to_string()
    } else {
        toss_origins.join(" ")
    };
    let connect = with(&with("'self'", toss_origins), media_origins);
    let img = with("'self' data: blob:", media_origins);
    let media = with("'self' blob:", media_origins);
    format!(
        "default-src 'self'; script-src {script}; style-src 'self'; img-src {img}; \
         font-src 'self' data:; media-src {media}; connect-src {connect}; worker-src 'self' blob:; \
         frame-src {frame}; object-src 'none'; base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
    )
}

/// The layers, outermost last. HSTS only where the site is served over https.
pub fn layers(
    hsts: bool,
    form_origins: &[&str],
    toss_origins: &[&str],
    media_origins: &[&str],
) -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    let csp = HeaderValue::from_str(&content_security_policy(
        form_origins,
        toss_origins,
        media_origins,
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let mut layers = vec![
        SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, csp),
        SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ];
    if hsts {
        layers.push(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    layers
}

/// Pages depend on who asks (the session, the CSRF token, flash messages):
/// none may come back from the browser's cache after a logout on a shared
/// computer. A page that is the same for everyone says so itself
/// (`web::shared`), and keeps its header.
pub async fn no_store(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(req).await;
    response
        .headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    response
}
