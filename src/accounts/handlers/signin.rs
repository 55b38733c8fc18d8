//! Sign-up, login and logout, password reset, the consents a sign-up asks.

use crate::accounts::MaybeUser;
use crate::accounts::consent::{self, ConsentKind};
use crate::accounts::model::SignInMethod;
use crate::web::{Form, Query};
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{
    accounts::handlers::safe_next,
    accounts::{
        CurrentUser, Providers,
        error::AccountsError,
        service::{self, SignUp},
        session,
        views::*,
    },
    error::AppResult,
    state::AppState,
    web::{self, PageCtx, Path, client::ClientInfo, flash::Flash, form::FormErrors, htmx},
};

// ---------- sign-up ----------

pub async fn signup_page(
    State(providers): State<Providers>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    if user.is_some() {
        return Ok(htmx::redirect(ctx.htmx, "/me"));
    }
    let next = safe_next(query.next.as_deref());
    web::render(&SignupPage {
        ctx,
        values: SignupValues::default(),
        errors: FormErrors::new(),
        next,
        providers: providers.enabled(),
    })
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    nickname: String,
    agree_terms: Option<String>,
    agree_privacy: Option<String>,
    next: Option<String>,
}

impl SignupForm {
    /// The texts whose "agree" box was ticked.
    fn agreed(&self) -> Vec<ConsentKind> {
        [
            (ConsentKind::Terms, &self.agree_terms),
            (ConsentKind::Privacy, &self.agree_privacy),
        ]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(kind, _)| kind)
        .collect()
    }
}

pub async fn signup(
    State(state): State<AppState>,
    State(providers): State<Providers>,
    ctx: PageCtx,
    client: ClientInfo,
    Form(form): Form<SignupForm>,
) -> AppResult<Response> {
    let taken = service::sign_up(
        &state.db,
        &state.config,
        &client,
        SignUp {
            email: &form.email,
            password: &form.password,
            nickname: &form.nickname,
            agreed: &form.agreed(),
        },
    )
    .await;
    match taken {
        Ok(_) => {}
        Err(AccountsError::Invalid(errors)) => {
            return web::invalid(&SignupPage {
                ctx,
                values: SignupValues {
                    agree_terms: form.agree_terms.is_some(),
                    agree_privacy: form.agree_privacy.is_some(),
                    email: form.email,
                    nickname: form.nickname,
                },
                errors: errors.into(),
                next: safe_next(form.next.as_deref()),
                providers: providers.enabled(),
            });
        }
        Err(other) => return Err(other.into()),
    }
    // The same answer whether the address was new or registered already: the
    // mailbox's owner learns which, nobody else does.
    web::render(&MessagePage {
        ctx,
        title: "메일을 확인해 주세요".into(),
        message: "입력하신 주소로 메일을 보냈습니다. 메일의 링크를 누르면 이메일 인증과 함께 가입이 끝나고 바로 로그인됩니다. 링크는 24시간 동안 유효합니다.".into(),
        link_href: "/login".into(),
        link_label: "로그인하기".into(),
    })
}

/// The mailed link proves the mailbox: it verifies the address and, in a
/// browser nobody is signed in to, signs its owner in (sign-up ends here).
pub async fn verify_email(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    MaybeUser(current): MaybeUser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let verified = {
        let mut conn = state.db.acquire().await?;
        service::verify_email(&mut conn, &token).await?
    };
    match verified {
        Some(user) => {
            if current.is_none() {
                session::sign_in(&state.db, &session, user, SignInMethod::EmailLink, &client).await?;
            }
            // A product chosen before signing up waits for the cart.
            let to = match web::intent::waiting(&session).await? {
                true => "/cart",
                false => "/me",
            };
            Ok(ctx.redirect(to, Flash::success("이메일 주소가 인증되었습니다.")))
        }
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
    Ok(ctx.redirect("/me", Flash::info("인증 메일을 다시 보냈습니다.")))
}

// ---------- login / logout ----------

#[derive(Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

pub async fn login_page(
    State(providers): State<Providers>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(query.next.as_deref());
    if user.is_some() {
        return Ok(htmx::redirect(ctx.htmx, &next));
    }
    web::render(&LoginPage {
        ctx,
        email: String::new(),
        next,
        errors: FormErrors::new(),
        providers: providers.enabled(),
    })
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
    State(providers): State<Providers>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    match service::authenticate(
        &state.db,
        &state.config,
        &client,
        &form.email,
        &form.password,
    )
    .await
    {
        Ok(user) => {
            session::sign_in(&state.db, &session, user, SignInMethod::Password, &client).await?;
            // No page to return to: each role has its own home.
            let to = match next.as_str() {
                "/" => service::landing(&mut *state.db.acquire().await?, user)
                    .await?
                    .to_string(),
                _ => next,
            };
            Ok(htmx::redirect(ctx.htmx, &to))
        }
        Err(AccountsError::Invalid(errors)) => Ok((
            StatusCode::UNAUTHORIZED,
            web::render(&LoginPage {
                ctx,
                email: form.email,
                next,
                errors: errors.into(),
                providers: providers.enabled(),
            })?,
        )
            .into_response()),
        Err(other) => Err(other.into()),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
) -> AppResult<Response> {
    session::sign_out(&state.db, &session).await?;
    Ok(ctx.redirect("/", Flash::info("로그아웃했습니다.")))
}

// ---------- password reset ----------

pub async fn reset_request_page(ctx: PageCtx) -> AppResult<Response> {
    web::render(&ResetRequestPage {
        ctx,
        email: String::new(),
        errors: FormErrors::new(),
    })
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
        Ok(()) => web::render(&MessagePage {
            ctx,
            title: "메일을 확인해 주세요".into(),
            message: "가입된 이메일 주소라면 비밀번호 재설정 링크를 보냈습니다. 링크는 1시간 동안 유효합니다.".into(),
            link_href: "/login".into(),
            link_label: "로그인으로 돌아가기".into(),
        }),
        Err(AccountsError::Invalid(errors)) => web::invalid(&ResetRequestPage {
            ctx,
            email: form.email,
            errors: errors.into(),
        }),
        Err(other) => Err(other.into()),
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
    web::render(&ResetFormPage {
        ctx,
        token,
        errors: FormErrors::new(),
    })
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
            Ok(ctx.redirect(
                "/login",
                Flash::success("비밀번호를 바꿨습니다. 새 비밀번호로 로그인해 주세요."),
            ))
        }
        Err(AccountsError::Invalid(errors)) => web::invalid(&ResetFormPage {
            ctx,
            token,
            errors: errors.into(),
        }),
        Err(AccountsError::ResetLinkInvalid) => expired_reset_page(ctx),
        Err(other) => Err(other.into()),
    }
}

// ---------- consents a provider sign-up (or a new text) asks ----------

pub async fn consents_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(query.next.as_deref());
    let missing = consent::missing(&mut *state.db.acquire().await?, user.id).await?;
    if missing.is_empty() {
        return Ok(htmx::redirect(ctx.htmx, &next));
    }
    web::render(&ConsentsPage {
        ctx,
        next,
        values: SignupValues::default(),
        errors: FormErrors::new(),
    })
}

pub async fn agree(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<SignupForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let mut tx = state.db.begin().await?;
    match service::agree(&mut tx, user.id, &form.agreed()).await {
        Ok(()) => {}
        Err(AccountsError::Invalid(errors)) => {
            return web::invalid(&ConsentsPage {
                ctx,
                next,
                values: SignupValues {
                    agree_terms: form.agree_terms.is_some(),
                    agree_privacy: form.agree_privacy.is_some(),
                    ..SignupValues::default()
                },
                errors: errors.into(),
            });
        }
        Err(other) => return Err(other.into()),
    }
    tx.commit().await?;
    Ok(htmx::redirect(ctx.htmx, &next))
}
