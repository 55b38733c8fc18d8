//! Extractors that guard handlers: `CurrentUser` (signed in, else a redirect
//! to the login page), `MaybeUser`, `Staff` (tutor or admin), `Admin`.

use axum::{extract::FromRequestParts, http::request::Parts};
use tower_sessions::Session;

use crate::{
    accounts::{self, CurrentUser},
    app::AppState,
    error::{AppError, AppResult},
};

/// The user resolved once per request, shared by every extractor.
#[derive(Clone)]
struct Resolved(Option<CurrentUser>);

pub async fn resolve(parts: &mut Parts, state: &AppState) -> AppResult<Option<CurrentUser>> {
    if let Some(resolved) = parts.extensions.get::<Resolved>() {
        return Ok(resolved.0.clone());
    }
    let user = match parts.extensions.get::<Session>().cloned() {
        Some(session) => accounts::current_user(&state.db, &session).await?,
        None => None,
    };
    parts.extensions.insert(Resolved(user.clone()));
    Ok(user)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        resolve(parts, state).await?.ok_or(AppError::Unauthorized)
    }
}

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(resolve(parts, state).await?))
    }
}

/// A tutor or an admin.
pub struct Staff(pub CurrentUser);

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.role.is_staff() {
            Ok(Self(user))
        } else {
            Err(AppError::Forbidden(
                "튜터나 관리자만 이용할 수 있습니다.".into(),
            ))
        }
    }
}

/// An admin.
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(Self(user))
        } else {
            Err(AppError::Forbidden("관리자만 이용할 수 있습니다.".into()))
        }
    }
}
