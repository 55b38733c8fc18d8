//! Who the visitor is, once per request, and the extractors that guard
//! handlers: `CurrentUser` (signed in, else a redirect to the login page),
//! `MaybeUser`, `Staff` (tutor or admin), `Admin`.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::request::Parts,
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use crate::{
    accounts::{CurrentUser, Role, current_user},
    error::AppError,
    state::AppState,
    web::page::{Standing, Viewer},
};

/// The user resolved by [`identify`], shared by every extractor.
#[derive(Clone)]
struct Resolved(Option<CurrentUser>);

/// Resolves the signed-in user of a page request and leaves them for the
/// extractors, and as a [`Viewer`] for the layout, in the request and in
/// the response (the late error pages show who is signed in too).
pub async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let user = match req.extensions().get::<Session>().cloned() {
        Some(session) => match current_user(&state.db, &session).await {
            Ok(user) => user,
            Err(err) => return err.into_response(),
        },
        None => None,
    };
    let viewer = user.as_ref().map(CurrentUser::viewer);
    if let Some(viewer) = &viewer {
        req.extensions_mut().insert(viewer.clone());
    }
    req.extensions_mut().insert(Resolved(user));
    let mut response = next.run(req).await;
    if let Some(viewer) = viewer {
        response.extensions_mut().insert(viewer);
    }
    response
}

impl CurrentUser {
    /// What the layout shows of this person.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            nickname: self.nickname.clone(),
            standing: match self.role {
                Role::Student => Standing::Learner,
                Role::Tutor => Standing::Tutor,
                Role::Admin => Standing::Admin,
            },
            verified: self.verified,
            avatar: self.avatar,
        }
    }
}

fn resolved(parts: &Parts) -> Result<Option<CurrentUser>, AppError> {
    match parts.extensions.get::<Resolved>() {
        Some(resolved) => Ok(resolved.0.clone()),
        None => Err(AppError::Internal(anyhow::anyhow!(
            "a guarded route outside the `identify` layer"
        ))),
    }
}

/// The signed-in user, when `may` lets them in; else `refused()`.
fn admitted(
    parts: &Parts,
    may: fn(&CurrentUser) -> bool,
    refused: fn() -> AppError,
) -> Result<CurrentUser, AppError> {
    let user = resolved(parts)?.ok_or(AppError::Unauthorized)?;
    if may(&user) { Ok(user) } else { Err(refused()) }
}

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<CurrentUser>);

/// A tutor or an admin.
pub struct Staff(pub CurrentUser);

/// An admin.
pub struct Admin(pub CurrentUser);

/// Each guard reads who `identify` found (no state needed) and lets in or
/// refuses.
macro_rules! guards {
    ($($guard:ty => $read:expr;)+) => {$(
        impl<S: Send + Sync> FromRequestParts<S> for $guard {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
                let read: fn(&Parts) -> Result<Self, AppError> = $read;
                read(parts)
            }
        }
    )+};
}

guards! {
    CurrentUser => |parts| resolved(parts)?.ok_or(AppError::Unauthorized);
    MaybeUser => |parts| Ok(MaybeUser(resolved(parts)?));
    Staff => |parts| admitted(parts, |u| u.role.is_staff(), AppError::staff_only).map(Staff);
    Admin => |parts| admitted(parts, CurrentUser::is_admin, AppError::admin_only).map(Admin);
}
