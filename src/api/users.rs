//! Learners, tutors and admins, for an admin's programs: the list (newest
//! first, with the admin page's search) and one person.

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    accounts::{
        Role,
        admin::{self, UserSearch},
    },
    api::{Checks, admin_only, auth::Reader, cursor, json, rfc3339},
    error::AppResult,
    ids::UserId,
    state::AppState,
    web::{Path, Query},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Part of an email or nickname.
    q: Option<String>,
    /// One of the `Role` codes.
    role: Option<String>,
    /// `true`: deleted accounts too.
    deleted: Option<bool>,
    /// The `next` of the previous answer.
    cursor: Option<String>,
    /// 1 to 100 (20 when not given).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    /// Pass as `cursor` for the next people; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub nickname: String,
    pub role: Role,
    pub email_verified: bool,
    /// RFC 3339.
    pub joined_at: String,
    pub deleted: bool,
}

/// People, newest first (an admin's token).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    summary = "사람 목록",
    description = "가입 최신순. 관리자의 토큰으로만.",
    params(UsersQuery),
    responses((status = 200, description = "사람들", body = UserList))
)]
pub async fn list(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Query(query): Query<UsersQuery>,
) -> AppResult<Response> {
    admin_only(&caller)?;
    let mut checks = Checks::default();
    let role = checks.code("role", query.role.as_deref(), Role::parse);
    let limit = checks.limit(query.limit);
    let after = checks.cursor(query.cursor.as_deref(), cursor::decode_at::<UserId>);
    checks.done()?;
    let q: String = query.q.unwrap_or_default().chars().take(100).collect();
    let mut conn = state.db.acquire().await?;
    let page = admin::search(
        &mut conn,
        UserSearch {
            q: Some(&q),
            role,
            include_deleted: query.deleted.unwrap_or(false),
            page: 1,
            size: limit + 1,
            after,
            ..Default::default()
        },
    )
    .await?;
    drop(conn);
    let more = page.rows.len() as i64 > limit;
    let rows: Vec<_> = page.rows.into_iter().take(limit as usize).collect();
    let next = more
        .then(|| rows.last().map(|r| cursor::at(r.created_at, r.id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| User {
            id: r.id.0,
            email: r.email,
            nickname: r.nickname,
            role: r.role,
            email_verified: r.verified,
            joined_at: rfc3339(r.created_at),
            deleted: r.deleted,
        })
        .collect();
    json(&headers, &UserList { items, next })
}

/// One person (an admin's token).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    summary = "사람 한 명",
    params(("id" = Uuid, Path, description = "사람 id")),
    responses((status = 200, description = "그 사람", body = User))
)]
pub async fn one(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    admin_only(&caller)?;
    let mut conn = state.db.acquire().await?;
    let (row, _) = admin::user(&mut conn, id).await?;
    json(
        &headers,
        &User {
            id: row.id.0,
            email: row.email,
            nickname: row.nickname,
            role: row.role,
            email_verified: row.email_verified_at.is_some(),
            joined_at: rfc3339(row.created_at),
            deleted: row.deleted_at.is_some(),
        },
    )
}
