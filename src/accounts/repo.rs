use sqlx::PgConnection;

use crate::{
    accounts::model::{Email, Role},
    ids::UserId,
};

/// Inserts an admin or turns the account with that email into one.
/// Returns the id and whether a new row was made.
pub async fn upsert_admin(
    conn: &mut PgConnection,
    email: &Email,
    password_hash: &str,
    nickname: &str,
) -> anyhow::Result<(UserId, bool)> {
    let row = sqlx::query!(
        r#"
        INSERT INTO users (email, password_hash, nickname, role, email_verified_at)
        VALUES ($1, $2, $3, 'admin', now())
        ON CONFLICT (email) DO UPDATE
           SET role = 'admin',
               password_hash = EXCLUDED.password_hash,
               deleted_at = NULL,
               email_verified_at = coalesce(users.email_verified_at, now()),
               updated_at = now()
        RETURNING id, (xmax = 0) AS "inserted!"
        "#,
        email.as_str(),
        password_hash,
        nickname,
    )
    .fetch_one(conn)
    .await?;
    Ok((UserId(row.id), row.inserted))
}

pub async fn role_by_email(conn: &mut PgConnection, email: &Email) -> anyhow::Result<Option<Role>> {
    let role = sqlx::query_scalar!(
        "SELECT role FROM users WHERE email = $1 AND deleted_at IS NULL",
        email.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(role.as_deref().and_then(Role::parse))
}
