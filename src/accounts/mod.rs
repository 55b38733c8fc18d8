//! People and their roles: sign-up, login/logout, sessions, profile, password
//! reset, Google sign-in, admin management of accounts.

pub mod admin;
pub mod error;
pub mod google;
mod handlers;
pub mod model;
mod password;
mod repo;
pub mod service;
mod session;
mod views;

use crate::web::routes::At;
use axum::{
    Router,
    routing::{get, post},
};
use sqlx::PgConnection;

pub use model::{Email, Role};
use password::hash_password;
pub use session::{CurrentUser, current_user, sign_in, sign_out};

use crate::{app::AppState, ids::UserId};

/// Password forms in flight at once (sign-up, login); past this a request
/// is answered 429 at once instead of waiting with its state in memory.
const PASSWORD_FORMS_IN_FLIGHT: usize = 64;

pub fn routes() -> Router<AppState> {
    use axum::handler::Handler;
    use handlers::*;
    // One budget shared by the forms that hash a password.
    let guard = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            |_: tower::BoxError| async {
                crate::error::AppError::TooManyRequests {
                    retry_after_secs: 5,
                }
            },
        ))
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            PASSWORD_FORMS_IN_FLIGHT,
        ));
    Router::new()
        .at(
            "/signup",
            get(signup_page).post(signup.layer(guard.clone())),
        )
        .at("/login", get(login_page).post(login.layer(guard)))
        .at("/logout", post(logout))
        .at("/verify-email/{token}", get(verify_email))
        .at(
            "/password-reset",
            get(reset_request_page).post(reset_request),
        )
        .at("/password-reset/{token}", get(reset_form_page).post(reset))
        .at("/auth/google", get(google_start))
        .at("/auth/google/callback", get(google_callback))
        .at("/me", get(profile).post(update_profile))
        .at("/me/verify-email", post(resend_verification))
        .at("/me/password", get(profile).post(change_password))
        .at("/me/sessions/end-others", post(end_other_sessions))
        .at("/me/sessions/{id}/end", post(end_session))
        .at("/me/delete", get(profile).post(delete_account))
        .at("/admin/users", get(admin_users).post(admin_create_user))
        .at("/admin/users/{id}", get(admin_user).post(admin_update_user))
        .at("/admin/users/{id}/delete", post(admin_delete_user))
        .at("/admin/users/{id}/restore", post(admin_restore_user))
}

/// Outcome of `weaverse create-admin`.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    Created(UserId),
    Promoted(UserId),
}

/// Creates an admin with this email and password, or promotes and re-keys the
/// existing account with that email. Restores a soft-deleted account.
pub async fn create_or_promote_admin(
    conn: &mut PgConnection,
    email: &str,
    password: &str,
) -> anyhow::Result<AdminOutcome> {
    // The command line is a front end too: it says what is wrong in Korean.
    let say = |p| anyhow::anyhow!(handlers::problem_text(p));
    let email = Email::parse(email).map_err(say)?;
    model::check_password(password, Some(&email)).map_err(say)?;
    let hash = hash_password(password.to_owned()).await?;
    let nickname = model::Nickname::parse(&email.local_part().chars().take(20).collect::<String>())
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|_| "관리자".to_string());
    let (id, created) = repo::upsert_admin(conn, &email, &hash, &nickname).await?;
    repo::audit(
        conn,
        None,
        "user.create_admin_cli",
        "user",
        &id.to_string(),
        serde_json::json!({ "created": created }),
    )
    .await?;
    Ok(if created {
        AdminOutcome::Created(id)
    } else {
        AdminOutcome::Promoted(id)
    })
}

/// Email addresses of these users, for lists in other capabilities.
pub async fn emails_of(
    conn: &mut PgConnection,
    users: &[UserId],
) -> sqlx::Result<std::collections::HashMap<UserId, String>> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    Ok(repo::emails_of(conn, &ids).await?.into_iter().collect())
}

/// Users whose email contains `part` (for admin filters in other
/// capabilities).
pub async fn users_matching(conn: &mut PgConnection, part: &str) -> sqlx::Result<Vec<UserId>> {
    repo::users_matching(conn, part, 500).await
}

/// Points `user`'s profile picture at image `image` (or none); returns the
/// one before. The header shows it from the next request.
pub async fn set_avatar(
    conn: &mut PgConnection,
    user: UserId,
    image: Option<uuid::Uuid>,
) -> sqlx::Result<Option<uuid::Uuid>> {
    repo::set_avatar(conn, user, image).await
}

/// The periodic job that deletes idle sign-in sessions and spent tokens.
pub const PRUNE_JOB: &str = "accounts.prune";

/// Deletes sign-in sessions idle longer than `idle_days` (their cookies
/// stopped working then) and mailed tokens a day past their expiry.
pub async fn prune(conn: &mut PgConnection, idle_days: i64) -> sqlx::Result<(u64, u64)> {
    repo::prune(conn, idle_days).await
}

/// The name a person goes by on their profile (their nickname).
pub async fn name_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    repo::name_of(conn, user).await
}

/// The live account with this email, for admin forms in other capabilities.
pub async fn user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserId>> {
    repo::user_by_email(conn, email).await
}
