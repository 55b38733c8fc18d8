//! Every refusal on `/api` as RFC 9457 `application/problem+json`. Handlers
//! return the same `AppError` the pages do (each capability's error enum
//! maps into it once, beside its handlers); this layer turns the error
//! page it carries, or a bare error status from a layer (404 from the
//! router, 405, 413, 408), into a problem document: one mapping for all.

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{error::ErrorPage, web::error_pages::is_bare_error};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An RFC 9457 problem: what went wrong, for programs (`type`, `status`,
/// `errors[].pointer`) and for people (`title`, `detail`, in Korean).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// What kind of problem, as a reference to its description in the API
    /// documentation, e.g. `/api/docs#problem-validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    pub detail: String,
    /// The path the problem happened at.
    pub instance: String,
    /// The fields of the request body that were refused, each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One refused field of a request body.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// A JSON Pointer to the field in the request body, as a URI fragment
    /// (`#/nickname`).
    pub pointer: String,
    pub detail: String,
}

/// The kinds of problem, by status: the `type` a program matches on.
pub fn kind(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad-request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not-found",
        405 => "method-not-allowed",
        408 => "timeout",
        409 => "conflict",
        412 => "precondition-failed",
        413 => "too-large",
        415 => "unsupported-media-type",
        422 => "validation",
        429 => "rate-limited",
        503 => "unavailable",
        _ if status.is_server_error() => "server-error",
        _ => "client-error",
    }
}

impl Problem {
    pub fn new(status: StatusCode, page: &ErrorPage, instance: &str) -> Self {
        Self {
            kind: format!("/api/docs#problem-{}", kind(status)),
            title: page.title.clone(),
            status: status.as_u16(),
            detail: page.message.clone(),
            instance: instance.to_owned(),
            errors: page
                .fields
                .iter()
                .flat_map(|(field, messages)| {
                    messages.iter().map(move |m| FieldProblem {
                        pointer: format!("#/{field}"),
                        detail: m.clone(),
                    })
                })
                .collect(),
        }
    }
}

/// The layer over `/api`: error responses leave as problem documents.
pub async fn render(req: Request, next: Next) -> Response {
    let instance = req.uri().path().to_owned();
    let response = next.run(req).await;
    let page = match response.extensions().get::<ErrorPage>() {
        Some(page) => page.clone(),
        None if is_bare_error(&response) => ErrorPage::for_status(response.status()),
        None => return response,
    };
    let status = response.status();
    let (mut parts, _) = response.into_parts();
    let problem = Problem::new(status, &page, &instance);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if status == StatusCode::UNAUTHORIZED {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"weaverse\""),
        );
    }
    Response::from_parts(parts, Body::from(body))
}
