//! The few htmx conventions the server needs.

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Whether htmx sent this request (`HX-Request: true`), and the request is
/// not a history restore (which wants the whole page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
        && headers.get("hx-history-restore-request").is_none()
}

/// Redirect after a POST: `303 See Other` for forms, `HX-Redirect` for htmx.
pub fn redirect(is_htmx: bool, to: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(to) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if is_htmx {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.headers_mut().insert("hx-redirect", location);
        response
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
    }
}
