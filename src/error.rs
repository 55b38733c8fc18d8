//! One error type for every handler. It does not render HTML itself: it
//! leaves an [`ErrorPage`] in the response extensions, and
//! `web::error_pages::render` turns that into a full page or an htmx
//! fragment, with the request's layout context, on the way out.

use std::collections::BTreeMap;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Field name -> Korean messages, for forms.
pub type FieldErrors = BTreeMap<&'static str, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Not signed in: pages redirect to `/login?next=...`.
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The CSRF token or the Origin check failed.
    #[error("csrf check failed: {0}")]
    Csrf(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(FieldErrors),
    /// Input no form can take (control characters, not UTF-8): 422.
    #[error("unprocessable: {0}")]
    Unprocessable(&'static str),
    /// A form posted as something other than a form: 415.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// A refusal whose status no other variant names (413 too large, 507
    /// no room), with its words.
    #[error("refused ({status}): {message}")]
    Refused { status: StatusCode, message: String },
    /// Every database connection was busy for the pool's whole wait: the
    /// server is overloaded, not broken (503, come back in a moment).
    #[error("busy")]
    Busy,
    /// The database cannot be reached (restarting, failed over, the
    /// network): 503 until it is back, which the pool finds by itself.
    #[error("database unavailable: {0}")]
    DatabaseDown(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A page for tutors and admins, asked for by a learner.
    pub fn staff_only() -> Self {
        Self::Forbidden("튜터나 관리자만 이용할 수 있습니다.".into())
    }

    /// A page for admins, asked for by someone else.
    pub fn admin_only() -> Self {
        Self::Forbidden("관리자만 이용할 수 있습니다.".into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::PoolTimedOut => Self::Busy,
            err if database_down(&err) => Self::DatabaseDown(err.to_string()),
            other => Self::Internal(other.into()),
        }
    }
}

/// An error that says the server is away, not that the request is wrong:
/// the connection broke or was refused, or the server is shutting down or
/// starting (SQLSTATE classes 08 and 57P).
fn database_down(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        Self::Internal(err.into())
    }
}

/// What the error page shows. Travels in the response extensions.
#[derive(Clone, Debug)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
    pub fields: FieldErrors,
    /// For 401: send the browser to the login page instead of rendering.
    pub login_redirect: bool,
}

impl ErrorPage {
    /// The calm Korean wording for a bare status (404 from the router, 405,
    /// 408 from the timeout layer, 413 from the body limit, ...).
    pub fn for_status(status: StatusCode) -> Self {
        let (title, message) = match status.as_u16() {
            400 => (
                "잘못된 요청입니다",
                "요청을 처리할 수 없습니다. 입력한 내용을 확인해 주세요.",
            ),
            401 => (
                "로그인이 필요합니다",
                "이 페이지를 보려면 먼저 로그인해 주세요.",
            ),
            403 => (
                "접근 권한이 없습니다",
                "이 페이지에 접근할 권한이 없습니다.",
            ),
            404 => (
                "페이지를 찾을 수 없습니다",
                "주소가 바뀌었거나 삭제된 페이지입니다. 주소를 다시 확인해 주세요.",
            ),
            405 => (
                "허용되지 않는 요청입니다",
                "이 주소에서는 그 방식의 요청을 받지 않습니다.",
            ),
            408 => (
                "요청 시간이 초과되었습니다",
                "처리가 너무 오래 걸렸습니다. 잠시 후 다시 시도해 주세요.",
            ),
            409 => (
                "요청이 충돌했습니다",
                "이미 처리되었거나 다른 변경과 겹쳤습니다.",
            ),
            413 => (
                "보낸 내용이 너무 큽니다",
                "파일이나 입력의 크기를 줄여서 다시 보내 주세요.",
            ),
            415 => (
                "받을 수 없는 형식입니다",
                "이 주소는 HTML 폼으로 보낸 내용만 받습니다.",
            ),
            422 => (
                "입력한 내용을 확인해 주세요",
                "올바르지 않은 항목이 있습니다.",
            ),
            429 => ("요청이 너무 많습니다", "잠시 후 다시 시도해 주세요."),
            503 => (
                "잠시 서비스를 이용할 수 없습니다",
                "곧 다시 열립니다. 잠시 후 다시 시도해 주세요.",
            ),
            _ if status.is_server_error() => (
                "일시적인 오류가 발생했습니다",
                "불편을 드려 죄송합니다. 잠시 후 다시 시도해 주세요. 문제가 계속되면 고객센터로 알려 주세요.",
            ),
            _ => ("요청을 처리할 수 없습니다", "잠시 후 다시 시도해 주세요."),
        };
        Self {
            status,
            title: title.to_string(),
            message: message.to_string(),
            fields: FieldErrors::new(),
            login_redirect: false,
        }
    }

    fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Csrf(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) | Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy | Self::DatabaseDown(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Refused { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// One field's message, for handlers that validate by hand.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field, vec![message.into()]);
        Self::Validation(fields)
    }

    fn page(&self) -> ErrorPage {
        let page = ErrorPage::for_status(self.status());
        match self {
            Self::NotFound | Self::Internal(_) => page,
            Self::DatabaseDown(_) => ErrorPage {
                title: "잠시 연결이 끊겼습니다".into(),
                ..page
            }
            .with_message(
                "서버가 잠시 데이터베이스에 닿지 못했습니다. 곧 돌아오니 잠시 후 새로고침해 주세요. 입력한 내용은 그대로 두면 됩니다.",
            ),
            Self::Busy => ErrorPage {
                title: "지금 요청이 많습니다".into(),
                ..page
            }
            .with_message(
                "잠시 후 다시 시도해 주세요. 입력한 내용은 그대로 두고 새로고침하면 됩니다.",
            ),
            Self::Unauthorized => ErrorPage {
                login_redirect: true,
                ..page
            },
            Self::Forbidden(message) | Self::BadRequest(message) | Self::Conflict(message) => {
                if message.is_empty() {
                    page
                } else {
                    page.with_message(message.clone())
                }
            }
            Self::Unprocessable(message) => page.with_message(*message),
            Self::Refused { message, .. } => page.with_message(message.clone()),
            Self::UnsupportedMediaType => page,
            Self::Csrf(_) => ErrorPage {
                title: "보안 확인에 실패했습니다".into(),
                ..page
            }
            .with_message(
                "페이지가 오래되었거나 다른 사이트에서 보낸 요청입니다. \
                 페이지를 새로고침한 뒤 다시 시도해 주세요.",
            ),
            Self::Validation(fields) => ErrorPage {
                fields: fields.clone(),
                ..page
            },
            Self::TooManyRequests { retry_after_secs } => {
                let minutes = retry_after_secs.div_ceil(60).max(1);
                page.with_message(format!("{minutes}분 후에 다시 시도해 주세요."))
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(err) => tracing::error!(error = ?err, "internal error"),
            Self::Csrf(reason) => tracing::info!(reason, "csrf refusal"),
            Self::Busy => tracing::warn!("database pool exhausted: answered 503"),
            Self::DatabaseDown(err) => {
                tracing::warn!(error = %err, "database unavailable: answered 503")
            }
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let mut response = self.status().into_response();
        let retry_after = match self {
            Self::TooManyRequests { retry_after_secs } => Some(retry_after_secs),
            Self::Busy => Some(2),
            Self::DatabaseDown(_) => Some(5),
            // A heavy lane full (media checks): come back in a moment.
            Self::Refused { status, .. } if status == StatusCode::SERVICE_UNAVAILABLE => Some(5),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        response.extensions_mut().insert(self.page());
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_carries_a_korean_page_with_its_status() {
        let response = AppError::NotFound.into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let page = response.extensions().get::<ErrorPage>().expect("page");
        assert_eq!(page.title, "페이지를 찾을 수 없습니다");
    }

    #[test]
    fn a_refusal_keeps_its_status_and_words_and_a_full_lane_says_when_to_return() {
        let busy = AppError::Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "잠시 후 다시".into(),
        }
        .into_response();
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()[axum::http::header::RETRY_AFTER], "5");
        assert_eq!(
            busy.extensions().get::<ErrorPage>().unwrap().message,
            "잠시 후 다시"
        );
        let large = AppError::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: "너무 큽니다".into(),
        }
        .into_response();
        assert_eq!(large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            large
                .headers()
                .get(axum::http::header::RETRY_AFTER)
                .is_none()
        );
    }

    #[test]
    fn a_database_that_is_away_is_a_503_to_retry_not_a_500() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        for err in [sqlx::Error::Io(refused), sqlx::Error::PoolClosed] {
            let response = AppError::from(err).into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()["retry-after"], "5");
            let page = response.extensions().get::<ErrorPage>().expect("page");
            assert_eq!(page.title, "잠시 연결이 끊겼습니다");
        }
        // A query's own mistake stays an internal error.
        let response = AppError::from(sqlx::Error::ColumnNotFound("x".into())).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn too_many_requests_says_when_to_come_back() {
        let response = AppError::TooManyRequests {
            retry_after_secs: 601,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "601");
        let page = response.extensions().get::<ErrorPage>().expect("page");
        assert!(page.message.contains("11분"), "{}", page.message);
    }

    #[test]
    fn an_exhausted_database_pool_is_a_503_to_retry_not_a_500() {
        let response = AppError::from(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "2");
        let page = response.extensions().get::<ErrorPage>().expect("page");
        assert_eq!(page.title, "지금 요청이 많습니다");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let response = AppError::Internal(anyhow::anyhow!("db password wrong")).into_response();
        let page = response.extensions().get::<ErrorPage>().expect("page");
        assert!(!page.message.contains("password"));
    }
}
