//! People and their roles: sign-up, login/logout, sessions, profile, password
//! reset, sign-in with Google, Kakao and Naver, admin management of accounts.

pub mod admin;
pub mod consent;
pub mod error;
pub mod figures;
mod guard;
pub mod handlers;
pub mod identities;
pub mod model;
mod password;
pub mod providers;
mod repo;
pub mod service;
mod session;
pub mod tokens;
mod views;

use sqlx::PgConnection;

pub use guard::{Admin, MaybeUser, Staff, identify};
pub use model::{Email, Role};
use password::hash_password;
pub use providers::{Provider, Providers};
pub use session::{
    CurrentUser, IDENTITIES_CHANGED, current_user, forget_identities, sign_in, sign_out,
};

use crate::ids::UserId;

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
    // The nickname when the email's local part is not one (the front end's
    // word for an admin).
    fallback_nickname: &str,
) -> anyhow::Result<AdminOutcome> {
    // The command line is a front end too: it says what is wrong in Korean.
    let say = |p| anyhow::anyhow!(handlers::problem_text(p));
    let email = Email::parse(email).map_err(say)?;
    model::check_password(password, Some(&email)).map_err(say)?;
    let hash = hash_password(password.to_owned()).await?;
    let nickname = model::Nickname::parse(&email.local_part().chars().take(20).collect::<String>())
        .map(|n| n.as_str().to_string())
        .unwrap_or_else(|_| fallback_nickname.to_string());
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

/// Nicknames of these users, for lists in other capabilities (a deleted
/// account's is already scrubbed).
pub async fn nicknames_of(
    conn: &mut PgConnection,
    users: &[UserId],
) -> sqlx::Result<std::collections::HashMap<UserId, String>> {
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    Ok(repo::nicknames_of(conn, &ids).await?.into_iter().collect())
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

/// What anyone may see of a person who teaches.
pub struct PublicProfile {
    pub nickname: String,
    pub introduction: String,
    pub avatar: Option<uuid::Uuid>,
}

/// The public profile of a live account (a course page's "who teaches").
pub async fn public_profile(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Option<PublicProfile>> {
    repo::public_profile(conn, user).await
}

/// The legal name a person gave for their certificates, if they did.
pub async fn legal_name_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    repo::legal_name_of(conn, user).await
}

/// Records a person's legal name (checked by [`model::LegalName`]).
pub async fn set_legal_name(conn: &mut PgConnection, user: UserId, name: &str) -> sqlx::Result<()> {
    repo::set_legal_name(conn, user, name).await
}

/// The name a person goes by on their profile (their nickname).
pub async fn name_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Option<String>> {
    repo::name_of(conn, user).await
}

/// The live account with this email, for admin forms in other capabilities.
pub async fn user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<UserId>> {
    repo::user_by_email(conn, email).await
}
