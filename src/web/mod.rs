//! Shared web plumbing: layout context, CSRF, flash messages, htmx helpers,
//! assets, security headers and late error rendering.

pub mod assets;
pub mod chart;
pub mod client;
pub mod compress;
pub mod cookies;
pub mod csrf;
pub mod csv;
pub mod dates;
pub mod error_pages;
pub mod filters;
pub mod flash;
pub mod form;
pub mod htmx;
pub mod input;
pub mod intent;
pub mod limits;
pub mod markdown;
pub mod observe;
pub mod page;
pub mod path;
pub mod routes;
pub mod security;
pub mod shared;
pub mod signing;

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

pub use input::{Form, Json, Query};
pub use page::PageCtx;
pub use path::Path;

use crate::error::AppResult;

/// Renders a template into an HTML response.
pub fn render(template: &impl Template) -> AppResult<Response> {
    Ok(Html(template.render()?).into_response())
}

/// Renders a template into its HTML text (for a page kept once rendered).
pub fn html(template: &impl Template) -> AppResult<String> {
    Ok(template.render()?)
}

/// A form page re-rendered with its field errors: 422.
pub fn invalid(page: &impl Template) -> AppResult<Response> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
}

/// Paths whose last segment is a secret (a mailed single-use token).
const SECRET_PATHS: [&str; 2] = ["/verify-email/", "/password-reset/"];

/// A request path fit for the logs: a mailed token in it becomes `***`, so
/// whoever reads the logs cannot reset a password or verify an email.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in SECRET_PATHS {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return format!("{prefix}***").into();
        }
    }
    path.into()
}

/// The highest page number any list answers; past it a list is empty, and
/// `(page - 1) * size` can never overflow.
pub const MAX_PAGE: i64 = 10_000;

/// A `?page=` value as a page number: anything missing, malformed or out of
/// range is page 1 or the last allowed page.
pub fn page_number(raw: Option<&str>) -> i64 {
    raw.and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailed_tokens_never_reach_the_logs() {
        assert_eq!(
            loggable_path("/password-reset/abcDEF123"),
            "/password-reset/***"
        );
        assert_eq!(
            loggable_path("/verify-email/abcDEF123"),
            "/verify-email/***"
        );
        assert_eq!(loggable_path("/password-reset"), "/password-reset");
        assert_eq!(loggable_path("/courses/1"), "/courses/1");
    }

    #[test]
    fn page_numbers_stay_in_range() {
        assert_eq!(page_number(Some("9223372036854775807")), MAX_PAGE);
        assert_eq!(page_number(Some("-5")), 1);
        assert_eq!(page_number(Some("x")), 1);
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("3")), 3);
    }
}
