//! Shared web plumbing: layout context, CSRF, flash messages, htmx helpers,
//! assets, security headers and late error rendering.

pub mod assets;
pub mod auth;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod error_pages;
pub mod flash;
pub mod form;
pub mod htmx;
pub mod page;
pub mod security;
pub mod signing;

use askama::Template;
use axum::response::Html;

pub use page::PageCtx;

use crate::error::AppResult;

/// Renders a template into an HTML response.
pub fn render(template: &impl Template) -> AppResult<Html<String>> {
    Ok(Html(template.render()?))
}
