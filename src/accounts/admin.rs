//! Admin work on accounts. Every change is written to the audit log.

use serde_json::json;
use sqlx::PgConnection;

use crate::{
    accounts::{
        model::{Email, Nickname, Role, check_password},
        password::hash_password,
        repo::{self, AuditRow, NewUser, UserListRow, UserRow},
    },
    error::{AppError, AppResult, FieldErrors},
    ids::UserId,
};

pub const PAGE_SIZE: i64 = 20;

pub struct UserSearch<'a> {
    pub q: Option<&'a str>,
    pub role: Option<Role>,
    pub include_deleted: bool,
    pub page: i64,
}

pub struct UserPage {
    pub rows: Vec<UserListRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

pub async fn search(conn: &mut PgConnection, search: UserSearch<'_>) -> AppResult<UserPage> {
    let page = search.page.max(1);
    let q = search.q.map(str::trim).filter(|q| !q.is_empty());
    let rows = repo::search_users(
        conn,
        q,
        search.role,
        search.include_deleted,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok(UserPage {
        rows,
        total,
        page,
        pages: (total + PAGE_SIZE - 1) / PAGE_SIZE,
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
) -> AppResult<UserId> {
    let mut errors = FieldErrors::new();
    let email = Email::parse(input.email)
        .map_err(|m| errors.entry("email").or_default().push(m.into()))
        .ok();
    let nickname = Nickname::parse(input.nickname)
        .map_err(|m| errors.entry("nickname").or_default().push(m.into()))
        .ok();
    if let Err(m) = check_password(input.password, email.as_ref()) {
        errors.entry("password").or_default().push(m.into());
    }
    let role = Role::parse(input.role).filter(Role::is_staff);
    if role.is_none() {
        errors
            .entry("role")
            .or_default()
            .push("튜터 또는 관리자를 선택해 주세요.".into());
    }
    let (Some(email), Some(nickname), Some(role), true) =
        (email, nickname, role, errors.is_empty())
    else {
        return Err(AppError::Validation(errors));
    };
    let hash = hash_password(input.password.to_owned()).await?;
    let id = repo::insert_user(
        conn,
        NewUser {
            email: email.as_str(),
            password_hash: Some(&hash),
            nickname: nickname.as_str(),
            role,
            verified: true,
            google_sub: None,
        },
    )
    .await
    .map_err(|e| {
        if e.as_database_error()
            .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
        {
            AppError::field("email", "이미 사용 중인 이메일입니다.")
        } else {
            e.into()
        }
    })?;
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

pub async fn user(conn: &mut PgConnection, id: UserId) -> AppResult<(UserRow, Vec<AuditRow>)> {
    let row = repo::user_by_id(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let audit = repo::audit_for(conn, "user", &id.to_string()).await?;
    Ok((row, audit))
}

pub async fn update(
    conn: &mut PgConnection,
    actor: UserId,
    id: UserId,
    nickname: &str,
    role: &str,
) -> AppResult<()> {
    let nickname = Nickname::parse(nickname).map_err(|m| AppError::field("nickname", m))?;
    let role = Role::parse(role).ok_or_else(|| AppError::field("role", "역할을 선택해 주세요."))?;
    let before = repo::user_by_id(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if id == actor && role != Role::Admin {
        return Err(AppError::field(
            "role",
            "자기 자신의 관리자 권한은 내려놓을 수 없습니다.",
        ));
    }
    repo::admin_update_user(conn, id, nickname.as_str(), role).await?;
    repo::audit(
        conn,
        Some(actor),
        "user.update",
        "user",
        &id.to_string(),
        json!({ "nickname": [before.nickname, nickname.as_str()], "role": [before.role, role.as_str()] }),
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
) -> AppResult<()> {
    if id == actor && deleted {
        return Err(AppError::Conflict(
            "자기 자신의 계정은 여기서 삭제할 수 없습니다.".into(),
        ));
    }
    let row = repo::user_by_id(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.scrubbed_at.is_some() {
        return Err(AppError::Conflict(
            "회원이 직접 탈퇴한 계정은 복구할 수 없습니다.".into(),
        ));
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
