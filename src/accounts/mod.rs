//! People and their roles. Sign-up, login and profiles build on this.

mod model;
mod password;
mod repo;

use sqlx::PgConnection;

pub use model::{Email, Role};
pub use password::{hash_password, verify_password};

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
) -> anyhow::Result<AdminOutcome> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    password::check_policy(password).map_err(anyhow::Error::msg)?;
    let hash = hash_password(password.to_owned()).await?;
    let nickname = email.local_part().chars().take(30).collect::<String>();
    match repo::upsert_admin(conn, &email, &hash, &nickname).await? {
        (id, true) => Ok(AdminOutcome::Created(id)),
        (id, false) => Ok(AdminOutcome::Promoted(id)),
    }
}

/// The role of a live (not deleted) account.
pub async fn role_of(conn: &mut PgConnection, email: &Email) -> anyhow::Result<Option<Role>> {
    repo::role_by_email(conn, email).await
}
