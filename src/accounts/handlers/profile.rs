//! The learner's own account: profile, email verification, password, sessions.

use crate::web::{Form, Query};
use axum::{extract::State, response::Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use crate::{
    accounts::{
        CurrentUser, Providers,
        error::AccountsError,
        identities,
        service::{self, ProfileUpdate},
        session,
        views::*,
    },
    error::{AppError, AppResult},
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash, form::FormErrors},
};

async fn profile_page(
    state: &AppState,
    providers: &Providers,
    ctx: PageCtx,
    user: &CurrentUser,
    errors: FormErrors,
) -> AppResult<ProfilePage> {
    let mut conn = state.db.acquire().await?;
    let profile = service::profile(&mut conn, &state.keys, user.id).await?;
    let sessions = service::sessions(&mut conn, user.id, user.auth_session).await?;
    let linked = identities::linked(&mut conn, user.id).await?;
    let enabled = providers.enabled();
    let mut sign_in_methods: Vec<SignInMethodRow> = enabled
        .iter()
        .map(|&provider| SignInMethodRow {
            provider,
            linked: linked.iter().find(|l| l.provider == provider).cloned(),
            enabled: true,
        })
        .collect();
    sign_in_methods.extend(
        linked
            .into_iter()
            .filter(|l| !enabled.contains(&l.provider))
            .map(|l| SignInMethodRow {
                provider: l.provider,
                linked: Some(l),
                enabled: false,
            }),
    );
    Ok(ProfilePage {
        ctx,
        profile,
        sessions,
        errors,
        sign_in_methods,
    })
}

pub async fn profile(
    State(state): State<AppState>,
    State(providers): State<Providers>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let page = profile_page(&state, &providers, ctx, &user, FormErrors::new()).await?;
    web::render(&page)
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
    State(providers): State<Providers>,
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
        Ok(()) => Ok(ctx.redirect("/me", Flash::success("프로필을 저장했습니다."))),
        Err(AccountsError::Invalid(errors)) => {
            let mut page = profile_page(&state, &providers, ctx, &user, errors.into()).await?;
            // Show what was typed, not what is stored.
            page.profile.nickname = form.nickname;
            page.profile.introduction = form.introduction;
            page.profile.phone_number = form.phone_number;
            web::invalid(&page)
        }
        Err(other) => Err(other.into()),
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
    State(providers): State<Providers>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let result = service::change_password(
        &mut conn,
        &state.config,
        user.id,
        user.auth_session,
        &form.current_password,
        &form.new_password,
    )
    .await;
    drop(conn);
    match result {
        Ok(()) => Ok(ctx.redirect(
            "/me",
            Flash::success("비밀번호를 바꿨습니다. 다른 기기에서는 모두 로그아웃되었습니다."),
        )),
        Err(AccountsError::Invalid(errors)) => {
            web::invalid(&profile_page(&state, &providers, ctx, &user, errors.into()).await?)
        }
        Err(other) => Err(other.into()),
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
        return Ok(ctx.redirect("/", Flash::info("이 기기에서 로그아웃했습니다.")));
    }
    Ok(ctx.redirect("/me", Flash::success("선택한 기기에서 로그아웃시켰습니다.")))
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let ended = service::end_other_sessions(&mut conn, user.id, user.auth_session).await?;
    Ok(ctx.redirect(
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
    State(providers): State<Providers>,
    ctx: PageCtx,
    user: CurrentUser,
    session: Session,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let deleted =
        service::delete_account(&mut conn, &state.config, user.id, &form.confirmation).await;
    drop(conn);
    match deleted {
        Ok(()) => {
            session
                .flush()
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            Ok(ctx.redirect(
                "/",
                Flash::info("탈퇴가 완료되었습니다. 그동안 이용해 주셔서 감사합니다."),
            ))
        }
        Err(AccountsError::Invalid(errors)) => {
            web::invalid(&profile_page(&state, &providers, ctx, &user, errors.into()).await?)
        }
        Err(other) => Err(other.into()),
    }
}

// ---------- the name on certificates ----------

#[derive(Deserialize)]
pub struct LegalNameQuery {
    next: Option<String>,
}

/// Where the legal-name form leads back to: a page of this site only.
fn back_to(next: Option<&str>) -> String {
    match next {
        Some(_) => super::safe_next(next),
        None => "/me/dashboard#certificates".to_string(),
    }
}

/// `GET /me/legal-name`: asks the name a certificate shows, once (the
/// nickname stays the site's name).
pub async fn legal_name_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<LegalNameQuery>,
) -> AppResult<Response> {
    let name = crate::accounts::legal_name_of(&mut *state.db.acquire().await?, user.id)
        .await?
        .unwrap_or_default();
    web::render(&LegalNamePage {
        ctx,
        next: back_to(query.next.as_deref()),
        name,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LegalNameForm {
    #[serde(default)]
    legal_name: String,
    next: Option<String>,
}

pub async fn set_legal_name(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<LegalNameForm>,
) -> AppResult<Response> {
    let next = back_to(form.next.as_deref());
    let mut tx = state.db.begin().await?;
    match crate::certificates::set_legal_name(&mut tx, user.id, &form.legal_name).await {
        Ok(_) => {
            tx.commit().await?;
            Ok(ctx.redirect(
                &next,
                Flash::success("수료증에 들어갈 이름을 저장했습니다."),
            ))
        }
        Err(crate::certificates::NameError::Invalid(problem)) => web::invalid(&LegalNamePage {
            ctx,
            next,
            name: form.legal_name,
            error: Some(super::problem_text(problem)),
        }),
        Err(crate::certificates::NameError::Db(err)) => Err(err.into()),
    }
}
