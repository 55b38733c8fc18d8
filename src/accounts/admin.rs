//! Admin work on accounts. Every change is written to the audit log.

use serde_json::json;
use sqlx::PgConnection;

use crate::{
    accounts::error::{AccountsError, AccountsResult, Invalid, Problem},
    accounts::{
        model::{Nickname, Role, new_account},
        password::hash_password,
        repo::{self, AuditRow, NewUser, UserListRow, UserRow},
    },
    ids::UserId,
};

pub const PAGE_SIZE: i64 = 20;

#[derive(Default)]
pub struct UserSearch<'a> {
    pub q: Option<&'a str>,
    pub role: Option<Role>,
    pub include_deleted: bool,
    /// Signed up on these Seoul days (inclusive).
    pub joined_from: Option<time::Date>,
    pub joined_to: Option<time::Date>,
    /// With a session active in the last five minutes.
    pub online: bool,
    pub page: i64,
    /// Rows per page.
    pub size: i64,
    /// Only those after this one in the list's order (newest first): a
    /// cursor, with `page` 1.
    pub after: Option<(time::OffsetDateTime, UserId)>,
}

pub struct UserPage {
    pub rows: Vec<UserListRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

pub async fn search(conn: &mut PgConnection, search: UserSearch<'_>) -> AccountsResult<UserPage> {
    let page = search.page.max(1);
    let size = search.size.max(1);
    // `%` and `_` in a search are letters, not wildcards.
    let pattern = search
        .q
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", crate::infra::db::escape_like(q)));
    let filter = repo::UserFilter {
        pattern: pattern.as_deref(),
        role: search.role,
        include_deleted: search.include_deleted,
        joined_from: search.joined_from.map(crate::web::dates::day_start),
        joined_before: search
            .joined_to
            .and_then(|d| d.next_day())
            .map(crate::web::dates::day_start),
        online: search.online,
        after: search.after,
    };
    let rows = repo::search_users(conn, &filter, size, (page - 1) * size).await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok(UserPage {
        rows,
        total,
        page,
        pages: (total + size - 1) / size,
    })
}

pub struct NewStaff<'a> {
    pub email: &'a str,
    pub nickname: &'a str,
    pub password: &'a str,
    pub role: &'a str,
}

/// Creates a tutor or an admin account (verified: an admin vouches for it).
pub async fn create_staff(
    conn: &mut PgConnection,
    actor: UserId,
    input: NewStaff<'_>,
) -> AccountsResult<UserId> {
    let mut errors = Invalid::default();
    let (email, nickname) = new_account(&mut errors, input.email, input.nickname, input.password);
    let role = Role::parse(input.role).filter(Role::is_staff);
    if role.is_none() {
        errors.push("role", Problem::StaffRoleNotChosen);
    }
    let (Some(email), Some(nickname), Some(role), true) =
        (email, nickname, role, errors.is_empty())
    else {
        return Err(AccountsError::Invalid(errors));
    };
    let hash = hash_password(input.password.to_owned()).await?;
    let id = repo::insert_user_unless_registered(
        conn,
        NewUser {
            email: email.as_str(),
            password_hash: Some(&hash),
            nickname: nickname.as_str(),
            role,
            verified: true,
        },
    )
    .await?
    .ok_or_else(|| AccountsError::field("email", Problem::EmailInUse))?;
    repo::audit(
        conn,
        Some(actor),
        "user.create",
        "user",
        &id.to_string(),
        json!({ "role": role.as_str(), "email": email.as_str() }),
    )
    .await?;
    Ok(id)
}

pub async fn user(conn: &mut PgConnection, id: UserId) -> AccountsResult<(UserRow, Vec<AuditRow>)> {
    let row = repo::user_by_id(conn, id)
        .await?
        .ok_or(AccountsError::NotFound)?;
    let audit = repo::audit_for(conn, "user", &id.to_string()).await?;
    Ok((row, audit))
}

pub async fn update(
    conn: &mut PgConnection,
    actor: UserId,
    id: UserId,
    nickname: &str,
    role: &str,
) -> AccountsResult<()> {
    let nickname = Nickname::parse(nickname).map_err(|p| AccountsError::field("nickname", p))?;
    let role =
        Role::parse(role).ok_or_else(|| AccountsError::field("role", Problem::RoleNotChosen))?;
    let before = repo::user_by_id(conn, id)
        .await?
        .ok_or(AccountsError::NotFound)?;
    if id == actor && role != Role::Admin {
        return Err(AccountsError::field("role", Problem::CannotDemoteSelf));
    }
    repo::admin_update_user(conn, id, nickname.as_str(), role).await?;
    repo::audit(
        conn,
        Some(actor),
        "user.update",
        "user",
        &id.to_string(),
        json!({ "nickname": [before.nickname, nickname.as_str()], "role": [before.role.as_str(), role.as_str()] }),
    )
    .await?;
    Ok(())
}

/// Soft-deletes (login blocked, row kept) or restores an account.
pub async fn set_deleted(
    conn: &mut PgConnection,
    actor: UserId,
    id: UserId,
    deleted: bool,
) -> AccountsResult<()> {
    if id == actor && deleted {
        return Err(AccountsError::CannotDeleteSelf);
    }
    let row = repo::user_by_id(conn, id)
        .await?
        .ok_or(AccountsError::NotFound)?;
    if row.scrubbed_at.is_some() {
        return Err(AccountsError::CannotRestoreSelfDeleted);
    }
    repo::set_deleted(conn, id, deleted).await?;
    if deleted {
        repo::delete_auth_sessions_except(conn, id, None).await?;
    }
    let action = if deleted {
        "user.delete"
    } else {
        "user.restore"
    };
    repo::audit(
        conn,
        Some(actor),
        action,
        "user",
        &id.to_string(),
        json!({}),
    )
    .await?;
    Ok(())
}
