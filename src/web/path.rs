//! The project's `Path` extractor: a path segment that does not parse (a
//! malformed id) names a page that does not exist, so it is the 404 page,
//! never axum's plain-text 400. `axum::extract::Path` is banned in
//! `clippy.toml` so every route goes through this one.

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        #[allow(clippy::disallowed_types)]
        let parsed = axum::extract::Path::<T>::from_request_parts(parts, state).await;
        match parsed {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => {
                tracing::debug!(%rejection, "unparsable path");
                Err(AppError::NotFound)
            }
        }
    }
}
