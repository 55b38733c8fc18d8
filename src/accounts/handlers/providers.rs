//! Signing in with Google, Kakao and Naver, and linking or unlinking them on
//! the account page: one set of handlers over the provider in the path.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{
    accounts::{
        CurrentUser, MaybeUser, Provider, Providers, consent,
        error::{AccountsError, SignInProblem},
        handlers::{NextQuery, safe_next},
        identities,
        model::SignInMethod,
        providers::{self, Flow},
        session,
    },
    error::{AppError, AppResult},
    labels::Label,
    state::AppState,
    web::{self, PageCtx, Path, Query, client::ClientInfo, flash::Flash, htmx},
};

/// Sends the browser to the provider with the flow in a cookie.
fn to_provider(state: &AppState, url: String, flow: &Flow) -> Response {
    let cookie = web::cookies::set(
        providers::COOKIE,
        flow.encode(&state.signer),
        Some(time::Duration::seconds(providers::FLOW_TTL_SECS)),
        state.config.secure_cookies(),
    );
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, url)],
        [(header::SET_COOKIE, cookie)],
    )
        .into_response()
}

/// `GET /auth/{provider}`: sign in (or sign up) with that provider.
pub async fn sign_in_start(
    State(state): State<AppState>,
    State(providers): State<Providers>,
    Path(provider): Path<Provider>,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    let next = safe_next(query.next.as_deref());
    let (url, flow) = providers.start(provider, next, None).await?;
    Ok(to_provider(&state, url, &flow))
}

/// `POST /me/sign-in-methods/{provider}/link`: the signed-in person links
/// that provider (a POST, so another site cannot start it).
pub async fn link_start(
    State(state): State<AppState>,
    State(providers): State<Providers>,
    user: CurrentUser,
    Path(provider): Path<Provider>,
) -> AppResult<Response> {
    let (url, flow) = providers
        .start(provider, "/me#sign-in-methods".into(), Some(user.id))
        .await?;
    Ok(to_provider(&state, url, &flow))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/{provider}/callback`: the provider sends the person back.
#[allow(clippy::too_many_arguments)]
pub async fn callback(
    State(state): State<AppState>,
    State(providers): State<Providers>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    MaybeUser(current): MaybeUser,
    headers: HeaderMap,
    Path(provider): Path<Provider>,
    Query(query): Query<CallbackQuery>,
) -> AppResult<Response> {
    let name = provider.label();
    let flow = web::cookies::get(&headers, providers::COOKIE)
        .and_then(|raw| Flow::decode(&state.signer, raw))
        .ok_or_else(|| {
            AppError::BadRequest(
                "로그인 요청을 찾을 수 없습니다. 처음부터 다시 시도해 주세요.".into(),
            )
        })?;
    let remove = web::cookies::remove(providers::COOKIE, state.config.secure_cookies());
    let done = |to: &str, flash: Option<Flash>| -> Response {
        let to_page = match flash {
            Some(flash) => ctx.redirect(to, flash),
            None => htmx::redirect(false, to),
        };
        // Appended: the page's own cookies (a flash) stay.
        (
            AppendHeaders([(header::SET_COOKIE, remove.clone())]),
            to_page,
        )
            .into_response()
    };
    if query.error.is_some() {
        // The person said no at the provider (or it failed there).
        return Ok(match flow.link {
            Some(_) => done(
                "/me#sign-in-methods",
                Some(Flash::warning(format!("{name} 계정 연결을 취소했습니다."))),
            ),
            None => done(
                "/login",
                Some(Flash::warning(format!("{name} 로그인이 취소되었습니다."))),
            ),
        });
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(AppError::BadRequest(format!(
            "{name}의 응답에 필요한 값이 없습니다."
        )));
    };
    // A link is for the account that started it: refused before the
    // provider is asked anything.
    if flow.link.is_some() && flow.link != current.as_ref().map(|u| u.id) {
        return Err(AccountsError::SignIn(provider, SignInProblem::LinkForAnotherAccount).into());
    }
    let identity = providers
        .finish(&state.db, provider, &flow, &returned_state, &code)
        .await?;
    if let Some(owner) = flow.link {
        let mut tx = state.db.begin().await?;
        identities::link(&mut tx, owner, &identity).await?;
        tx.commit().await?;
        return Ok(done(
            "/me#sign-in-methods",
            Some(Flash::success(format!("{name} 계정을 연결했습니다."))),
        ));
    }
    let mut tx = state.db.begin().await?;
    let user = identities::account_for(&mut tx, &identity, "학습자").await?;
    tx.commit().await?;
    session::sign_in(
        &state.db,
        &session,
        user,
        SignInMethod::from(provider),
        &client,
    )
    .await?;
    // A provider sign-up agrees to the terms here, before anything else.
    let missing = consent::missing(&mut *state.db.acquire().await?, user).await?;
    let to = match missing.is_empty() {
        true => flow.next,
        false => format!(
            "/me/consents?next={}",
            url::form_urlencoded::byte_serialize(flow.next.as_bytes()).collect::<String>()
        ),
    };
    Ok(done(&to, None))
}

/// `POST /me/sign-in-methods/{provider}/unlink`.
pub async fn unlink(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(provider): Path<Provider>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    identities::unlink(&mut tx, user.id, provider).await?;
    tx.commit().await?;
    Ok(ctx.redirect(
        "/me#sign-in-methods",
        Flash::success(format!("{} 계정 연결을 해제했습니다.", provider.label())),
    ))
}
