//! Account pages: thin handlers over `service` and `admin`.

use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    accounts::{
        CurrentUser, admin, google,
        model::Role,
        service::{self, ProfileUpdate, SignUp},
        session,
        views::*,
    },
    app::AppState,
    error::{AppError, AppResult},
    ids::UserId,
    web::{
        self, PageCtx, Path,
        auth::{Admin, MaybeUser},
        client::ClientInfo,
        flash::Flash,
        form::FormErrors,
        htmx,
    },
};

/// Redirect targets must stay on this site.
fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') => {
            next.to_string()
        }
        _ => "/".to_string(),
    }
}

// ---------- sign-up ----------

pub async fn signup_page(ctx: PageCtx, MaybeUser(user): MaybeUser) -> AppResult<Response> {
    if user.is_some() {
        return Ok(htmx::redirect(ctx.htmx, "/me"));
    }
    Ok(web::render(&SignupPage {
        ctx,
        values: SignupValues::default(),
        errors: FormErrors::new(),
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    nickname: String,
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<SignupForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let created = service::sign_up(
        &mut tx,
        &state.config,
        &client,
        SignUp {
            email: &form.email,
            password: &form.password,
            nickname: &form.nickname,
        },
    )
    .await;
    let user = match created {
        Ok(user) => user,
        Err(AppError::Validation(errors)) => {
            return web::invalid(&SignupPage {
                ctx,
                values: SignupValues {
                    email: form.email,
                    nickname: form.nickname,
                },
                errors: errors.into(),
            });
        }
        Err(other) => return Err(other),
    };
    tx.commit().await?;
    session::sign_in(&state.db, &session, user, "password", &client).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/",
        Flash::success(
            "가입을 환영합니다! 인증 메일을 보냈습니다. 메일의 링크를 눌러 이메일 주소를 인증해 주세요.",
        ),
    ))
}

pub async fn verify_email(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    match service::verify_email(&mut conn, &token).await? {
        Some(_) => Ok(web::redirect_with(&state, &ctx, "/me", Flash::success("이메일 주소가 인증되었습니다."))),
        None => Ok((
            StatusCode::BAD_REQUEST,
            web::render(&MessagePage {
                ctx,
                title: "인증 링크를 사용할 수 없습니다".into(),
                message: "링크가 만료되었거나 이미 사용되었습니다. 내 정보에서 인증 메일을 다시 받을 수 있습니다.".into(),
                link_href: "/me".into(),
                link_label: "내 정보로 가기".into(),
            })?,
        )
            .into_response()),
    }
}

pub async fn resend_verification(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::resend_verification(&mut conn, &state.config, user.id).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/me",
        Flash::info("인증 메일을 다시 보냈습니다."),
    ))
}

// ---------- login / logout ----------

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(query.next.as_deref());
    if user.is_some() {
        return Ok(htmx::redirect(ctx.htmx, &next));
    }
    Ok(web::render(&LoginPage {
        ctx,
        email: String::new(),
        next,
        errors: FormErrors::new(),
        google_enabled: state.google.is_some(),
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let mut conn = state.db.acquire().await?;
    match service::authenticate(&mut conn, &client, &form.email, &form.password).await {
        Ok(user) => {
            drop(conn);
            session::sign_in(&state.db, &session, user, "password", &client).await?;
            Ok(htmx::redirect(ctx.htmx, &next))
        }
        Err(AppError::Validation(errors)) => Ok((
            StatusCode::UNAUTHORIZED,
            web::render(&LoginPage {
                ctx,
                email: form.email,
                next,
                errors: errors.into(),
                google_enabled: state.google.is_some(),
            })?,
        )
            .into_response()),
        Err(other) => Err(other),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
) -> AppResult<Response> {
    session::sign_out(&state.db, &session).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/",
        Flash::info("로그아웃했습니다."),
    ))
}

// ---------- password reset ----------

pub async fn reset_request_page(ctx: PageCtx) -> AppResult<Response> {
    Ok(web::render(&ResetRequestPage {
        ctx,
        email: String::new(),
        errors: FormErrors::new(),
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

pub async fn reset_request(
    State(state): State<AppState>,
    ctx: PageCtx,
    client: ClientInfo,
    Form(form): Form<ResetRequestForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    match service::request_password_reset(&mut conn, &state.config, &client, &form.email).await {
        Ok(()) => Ok(web::render(&MessagePage {
            ctx,
            title: "메일을 확인해 주세요".into(),
            message: "가입된 이메일 주소라면 비밀번호 재설정 링크를 보냈습니다. 링크는 1시간 동안 유효합니다.".into(),
            link_href: "/login".into(),
            link_label: "로그인으로 돌아가기".into(),
        })?
        .into_response()),
        Err(AppError::Validation(errors)) => web::invalid(&ResetRequestPage {
            ctx,
            email: form.email,
            errors: errors.into(),
        }),
        Err(other) => Err(other),
    }
}

fn expired_reset_page(ctx: PageCtx) -> AppResult<Response> {
    Ok((
        StatusCode::GONE,
        web::render(&MessagePage {
            ctx,
            title: "재설정 링크를 사용할 수 없습니다".into(),
            message:
                "링크가 만료되었거나 이미 사용되었습니다. 비밀번호 재설정을 다시 요청해 주세요."
                    .into(),
            link_href: "/password-reset".into(),
            link_label: "다시 요청하기".into(),
        })?,
    )
        .into_response())
}

pub async fn reset_form_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    if !service::reset_token_is_valid(&mut conn, &token).await? {
        return expired_reset_page(ctx);
    }
    Ok(web::render(&ResetFormPage {
        ctx,
        token,
        errors: FormErrors::new(),
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match service::reset_password(&mut tx, &token, &form.password).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                "/login",
                Flash::success("비밀번호를 바꿨습니다. 새 비밀번호로 로그인해 주세요."),
            ))
        }
        Err(AppError::Validation(errors)) => web::invalid(&ResetFormPage {
            ctx,
            token,
            errors: errors.into(),
        }),
        Err(AppError::Conflict(_)) => expired_reset_page(ctx),
        Err(other) => Err(other),
    }
}

// ---------- profile ----------

async fn profile_page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    errors: FormErrors,
) -> AppResult<ProfilePage> {
    let mut conn = state.db.acquire().await?;
    let profile = service::profile(&mut conn, &state.keys, user.id).await?;
    let sessions = service::sessions(&mut conn, user.id, user.auth_session).await?;
    Ok(ProfilePage {
        ctx,
        profile,
        sessions,
        errors,
    })
}

pub async fn profile(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    Ok(web::render(&profile_page(&state, ctx, &user, FormErrors::new()).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    nickname: String,
    #[serde(default)]
    introduction: String,
    #[serde(default)]
    phone_number: String,
}

pub async fn update_profile(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<ProfileForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let result = service::update_profile(
        &mut conn,
        &state.keys,
        user.id,
        ProfileUpdate {
            nickname: &form.nickname,
            introduction: &form.introduction,
            phone_number: &form.phone_number,
        },
    )
    .await;
    drop(conn);
    match result {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/me",
            Flash::success("프로필을 저장했습니다."),
        )),
        Err(AppError::Validation(errors)) => {
            let mut page = profile_page(&state, ctx, &user, errors.into()).await?;
            // Show what was typed, not what is stored.
            page.profile.nickname = form.nickname;
            page.profile.introduction = form.introduction;
            page.profile.phone_number = form.phone_number;
            web::invalid(&page)
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let result = service::change_password(
        &mut conn,
        user.id,
        user.auth_session,
        &form.current_password,
        &form.new_password,
    )
    .await;
    drop(conn);
    match result {
        Ok(()) => Ok(web::redirect_with(
            &state,
            &ctx,
            "/me",
            Flash::success("비밀번호를 바꿨습니다. 다른 기기에서는 모두 로그아웃되었습니다."),
        )),
        Err(AppError::Validation(errors)) => {
            web::invalid(&profile_page(&state, ctx, &user, errors.into()).await?)
        }
        Err(other) => Err(other),
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    session: Session,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::end_session(&mut conn, user.id, id).await?;
    drop(conn);
    if id == user.auth_session {
        session::sign_out(&state.db, &session).await?;
        return Ok(web::redirect_with(
            &state,
            &ctx,
            "/",
            Flash::info("이 기기에서 로그아웃했습니다."),
        ));
    }
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/me",
        Flash::success("선택한 기기에서 로그아웃시켰습니다."),
    ))
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let ended = service::end_other_sessions(&mut conn, user.id, user.auth_session).await?;
    Ok(web::redirect_with(
        &state,
        &ctx,
        "/me",
        Flash::success(format!("다른 기기 {ended}곳에서 로그아웃시켰습니다.")),
    ))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirmation: String,
}

pub async fn delete_account(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    session: Session,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    match service::delete_account(&mut tx, user.id, &form.confirmation).await {
        Ok(()) => {
            tx.commit().await?;
            session
                .flush()
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                "/",
                Flash::info("탈퇴가 완료되었습니다. 그동안 이용해 주셔서 감사합니다."),
            ))
        }
        Err(AppError::Validation(errors)) => {
            drop(tx);
            web::invalid(&profile_page(&state, ctx, &user, errors.into()).await?)
        }
        Err(other) => Err(other),
    }
}

// ---------- admin ----------

#[derive(Deserialize, Default)]
pub struct UserListQuery {
    q: Option<String>,
    role: Option<String>,
    include_deleted: Option<String>,
    page: Option<i64>,
}

async fn user_list(state: &AppState, query: UserListQuery) -> AppResult<AdminUserList> {
    let role = query.role.as_deref().and_then(Role::parse);
    let include_deleted = query.include_deleted.is_some();
    let mut conn = state.db.acquire().await?;
    let page = admin::search(
        &mut conn,
        admin::UserSearch {
            q: query.q.as_deref(),
            role,
            include_deleted,
            page: query.page.unwrap_or(1),
        },
    )
    .await?;
    Ok(AdminUserList {
        page,
        q: query.q.unwrap_or_default(),
        role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        include_deleted,
    })
}

pub async fn admin_users(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<UserListQuery>,
) -> AppResult<Response> {
    let list = user_list(&state, query).await?;
    if ctx.htmx {
        return Ok(web::render(&list)?.into_response());
    }
    Ok(web::render(&AdminUsersPage {
        ctx,
        list,
        new_user: NewStaffValues::default(),
        errors: FormErrors::new(),
    })?
    .into_response())
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
}

pub async fn admin_create_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    Admin(admin_user): Admin,
    Form(form): Form<NewStaffForm>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let created = admin::create_staff(
        &mut tx,
        admin_user.id,
        admin::NewStaff {
            email: &form.email,
            nickname: &form.nickname,
            password: &form.password,
            role: &form.role,
        },
    )
    .await;
    match created {
        Ok(id) => {
            tx.commit().await?;
            Ok(web::redirect_with(
                &state,
                &ctx,
                &format!("/admin/users/{id}"),
                Flash::success("계정을 만들었습니다."),
            ))
        }
        Err(AppError::Validation(errors)) => {
            drop(tx);
            let list = user_list(&state, UserListQuery::default()).await?;
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
        Err(other) => Err(other),
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
    Ok(AdminUserPage {
        ctx,
        user,
        audit,
        errors,
    })
}

pub async fn admin_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    Ok(web::render(&admin_user_page(&state, ctx, id, FormErrors::new()).await?)?.into_response())
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
            Ok(web::redirect_with(
                &state,
                &ctx,
                &format!("/admin/users/{id}"),
                Flash::success("저장했습니다."),
            ))
        }
        Err(AppError::Validation(errors)) => {
            drop(tx);
            web::invalid(&admin_user_page(&state, ctx, id, errors.into()).await?)
        }
        Err(other) => Err(other),
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
    Ok(web::redirect_with(
        &state,
        &ctx,
        &format!("/admin/users/{id}"),
        Flash::success(message),
    ))
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

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/me")), "/me");
        assert_eq!(safe_next(Some("/courses?q=a")), "/courses?q=a");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}

// ---------- Google sign-in ----------

pub async fn google_start(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let google = state.google.as_ref().ok_or(AppError::NotFound)?;
    let (url, flow) = google.start(safe_next(query.next.as_deref())).await?;
    let cookie = crate::web::cookies::set(
        google::COOKIE,
        google::encode_flow(&state.signer, &flow),
        Some(time::Duration::minutes(10)),
        state.config.secure_cookies(),
    );
    Ok((
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, url)],
        [(axum::http::header::SET_COOKIE, cookie)],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn google_callback(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    headers: axum::http::HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> AppResult<Response> {
    let google_client = state.google.as_ref().ok_or(AppError::NotFound)?;
    let flow = crate::web::cookies::get(&headers, google::COOKIE)
        .and_then(|raw| google::decode_flow(&state.signer, raw))
        .ok_or_else(|| {
            AppError::BadRequest(
                "로그인 요청을 찾을 수 없습니다. 처음부터 다시 시도해 주세요.".into(),
            )
        })?;
    if query.error.is_some() {
        return Ok(web::redirect_with(
            &state,
            &ctx,
            "/login",
            Flash::warning("Google 로그인이 취소되었습니다."),
        ));
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(AppError::BadRequest(
            "Google의 응답에 필요한 값이 없습니다.".into(),
        ));
    };
    let claims = google_client.finish(&flow, &returned_state, &code).await?;
    let mut tx = state.db.begin().await?;
    let user = google::account_for(&mut tx, &claims).await?;
    tx.commit().await?;
    session::sign_in(&state.db, &session, user, "google", &client).await?;
    let remove = crate::web::cookies::remove(google::COOKIE, state.config.secure_cookies());
    Ok((
        [(axum::http::header::SET_COOKIE, remove)],
        htmx::redirect(false, &flow.next),
    )
        .into_response())
}
