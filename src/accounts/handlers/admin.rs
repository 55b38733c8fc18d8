//! Admin management of accounts.

use crate::accounts::Admin;
use crate::web::{Form, Query};
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    accounts::{admin, error::AccountsError, model::Role, views::*},
    error::AppResult,
    ids::UserId,
    infra::once::{self, Once},
    labels::Label,
    state::AppState,
    web::{self, PageCtx, Path, csv::Csv, flash::Flash, form::FormErrors},
};

#[derive(Deserialize, Default)]
pub struct UserListQuery {
    q: Option<String>,
    role: Option<String>,
    include_deleted: Option<String>,
    /// Signed up on these days (`YYYY-MM-DD`, inclusive).
    joined_from: Option<String>,
    joined_to: Option<String>,
    /// Only those online now (the dashboard's figure links here).
    online: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

async fn user_list(state: &AppState, query: UserListQuery, size: i64) -> AppResult<AdminUserList> {
    let role = query.role.as_deref().and_then(Role::parse);
    let include_deleted = query.include_deleted.is_some();
    let joined_from = query.joined_from.as_deref().and_then(web::dates::parse_day);
    let joined_to = query.joined_to.as_deref().and_then(web::dates::parse_day);
    let online = query.online.is_some();
    let mut conn = state.db.acquire().await?;
    let page = admin::search(
        &mut conn,
        admin::UserSearch {
            q: query.q.as_deref(),
            role,
            include_deleted,
            joined_from,
            joined_to,
            online,
            page: web::page_number(query.page.as_deref()),
            size,
            after: None,
        },
    )
    .await?;
    Ok(AdminUserList {
        page,
        q: query.q.unwrap_or_default(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        include_deleted,
        joined_from: joined_from.map(|d| d.to_string()).unwrap_or_default(),
        joined_to: joined_to.map(|d| d.to_string()).unwrap_or_default(),
        online,
    })
}

/// `/admin/users?q=&role=&include_deleted=&joined_from=&joined_to=&online=`
/// (`&format=csv`: every match as a download).
pub async fn admin_users(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<UserListQuery>,
) -> AppResult<Response> {
    if query.format.as_deref() == Some("csv") {
        let list = user_list(&state, query, 100_000).await?;
        let mut csv = Csv::new("users", &["이메일", "닉네임", "역할", "가입 시각", "상태"]);
        for u in &list.page.rows {
            csv.row([
                u.email.clone(),
                u.nickname.clone(),
                u.role.label().to_owned(),
                web::dates::sheet(&u.created_at),
                match (u.deleted, u.verified) {
                    (true, _) => "삭제됨",
                    (false, true) => "인증됨",
                    (false, false) => "미인증",
                }
                .to_owned(),
            ]);
        }
        return Ok(csv.into_response());
    }
    let list = user_list(&state, query, admin::PAGE_SIZE).await?;
    if ctx.htmx {
        return web::render(&list);
    }
    web::render(&AdminUsersPage {
        ctx,
        list,
        new_user: NewStaffValues::default(),
        errors: FormErrors::new(),
    })
}

#[derive(Deserialize)]
pub struct NewStaffForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    form_key: Option<uuid::Uuid>,
}

pub async fn admin_create_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin_user): Admin,
    Form(form): Form<NewStaffForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let created = once::run(
        &mut tx,
        form.form_key,
        async |tx| {
            admin::create_staff(
                tx,
                admin_user.id,
                admin::NewStaff {
                    email: &form.email,
                    nickname: &form.nickname,
                    password: &form.password,
                    role: &form.role,
                },
            )
            .await
        },
        |id| format!("/admin/users/{id}"),
    )
    .await;
    match created {
        Ok(Once::Repeat(first)) => Ok(ctx.repeated(first.as_deref(), "/admin/users")),
        Ok(Once::Done(id)) => {
            tx.commit().await?;
            Ok(ctx.redirect(
                &format!("/admin/users/{id}"),
                Flash::success("계정을 만들었습니다."),
            ))
        }
        Err(AccountsError::Invalid(errors)) => {
            drop(tx);
            let list = user_list(&state, UserListQuery::default(), admin::PAGE_SIZE).await?;
            web::invalid(&AdminUsersPage {
                ctx,
                list,
                new_user: NewStaffValues {
                    email: form.email,
                    nickname: form.nickname,
                    role: form.role,
                },
                errors: errors.into(),
            })
        }
        Err(other) => Err(other.into()),
    }
}

async fn admin_user_page(
    state: &AppState,
    ctx: PageCtx,
    id: UserId,
    errors: FormErrors,
) -> AppResult<AdminUserPage> {
    let mut conn = state.db.acquire().await?;
    let (user, audit) = admin::user(&mut conn, id).await?;
    let record = learner_record(&mut conn, id).await?;
    Ok(AdminUserPage {
        ctx,
        user,
        audit,
        errors,
        record,
    })
}

/// A person's learning, read from each capability for the admin page.
async fn learner_record(conn: &mut sqlx::PgConnection, id: UserId) -> AppResult<LearnerRecord> {
    use crate::{
        catalog::{self, model::Product},
        learning::{access, progress},
    };
    let orders = crate::commerce::service::orders(conn, id).await?;
    let held = access::holdings(conn, id).await?;
    let products: Vec<Product> = held.iter().map(|h| h.product).collect();
    let mut titles = catalog::titles(conn, &products).await?;
    let courses = catalog::courses_of(conn, &products).await?;
    let course_products: Vec<Product> = courses.iter().map(|c| Product::Course(*c)).collect();
    let course_titles = catalog::titles(conn, &course_products).await?;
    let per_course = progress::courses(conn, id, &courses).await?;
    let progress = courses
        .iter()
        .map(|c| {
            (
                course_titles
                    .get(&Product::Course(*c))
                    .cloned()
                    .unwrap_or_default(),
                per_course.get(c).copied().unwrap_or_default(),
            )
        })
        .collect();
    let holdings = held
        .into_iter()
        .map(|h| (titles.remove(&h.product).unwrap_or_default(), h))
        .collect();
    Ok(LearnerRecord {
        orders,
        holdings,
        progress,
        missions: crate::assessments::results_of(conn, id).await?,
        certificates: crate::certificates::of_learner(conn, id).await?,
        sessions: crate::accounts::service::sessions(conn, id, uuid::Uuid::nil()).await?,
        last_sign_in: crate::accounts::service::last_sign_in(conn, id).await?,
        linked: crate::accounts::identities::linked(conn, id).await?,
    })
}

pub async fn admin_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    web::render(&admin_user_page(&state, ctx, id, FormErrors::new()).await?)
}

#[derive(Deserialize)]
pub struct AdminUserForm {
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    role: String,
}

pub async fn admin_update_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin_user): Admin,
    Path(id): Path<UserId>,
    Form(form): Form<AdminUserForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match admin::update(&mut tx, admin_user.id, id, &form.nickname, &form.role).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(ctx.redirect(
                &format!("/admin/users/{id}"),
                Flash::success("저장했습니다."),
            ))
        }
        Err(AccountsError::Invalid(errors)) => {
            drop(tx);
            web::invalid(&admin_user_page(&state, ctx, id, errors.into()).await?)
        }
        Err(other) => Err(other.into()),
    }
}

async fn admin_set_deleted(
    state: AppState,
    ctx: PageCtx,
    actor: UserId,
    id: UserId,
    deleted: bool,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    admin::set_deleted(&mut tx, actor, id, deleted).await?;
    tx.commit().await?;
    let message = if deleted {
        "계정을 삭제했습니다. 로그인이 막혔습니다."
    } else {
        "계정을 복구했습니다."
    };
    Ok(ctx.redirect(&format!("/admin/users/{id}"), Flash::success(message)))
}

pub async fn admin_delete_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin_user): Admin,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    admin_set_deleted(state, ctx, admin_user.id, id, true).await
}

pub async fn admin_restore_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin_user): Admin,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    admin_set_deleted(state, ctx, admin_user.id, id, false).await
}
