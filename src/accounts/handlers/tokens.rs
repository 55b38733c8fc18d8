//! The person's access tokens for the JSON API, on `/me/tokens`: made
//! (the secret shown once, on the answer to the form), listed, revoked.

use askama::Template;
use axum::{extract::State, response::Response};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::labels as filters;
use crate::{
    accounts::{
        CurrentUser,
        error::AccountsError,
        tokens::{self, LIFETIME_DAYS, NewToken, Token, TokenScope},
    },
    error::AppResult,
    ids::ApiTokenId,
    state::AppState,
    web::{self, Form, PageCtx, Path, flash::Flash, form::FormErrors},
};

#[derive(Template)]
#[template(path = "accounts/tokens.html")]
pub struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<Token>,
    now: OffsetDateTime,
    /// The secret of the token just made: on this answer only.
    created: Option<(String, String)>,
    form: TokenForm,
    errors: FormErrors,
}

impl TokensPage {
    fn lifetimes(&self) -> &'static [i32] {
        &LIFETIME_DAYS
    }
    fn scopes(&self) -> &'static [TokenScope] {
        TokenScope::ALL
    }
    fn chosen_days(&self) -> i32 {
        self.form.days.unwrap_or(90)
    }
    fn chosen_scope(&self) -> TokenScope {
        self.form
            .scope
            .as_deref()
            .and_then(TokenScope::parse)
            .unwrap_or(TokenScope::Read)
    }
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    scope: Option<String>,
    days: Option<i32>,
}

async fn page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    form: TokenForm,
    created: Option<(String, String)>,
    errors: FormErrors,
) -> AppResult<TokensPage> {
    let mut conn = state.db.acquire().await?;
    let tokens = tokens::list(&mut conn, user.id).await?;
    Ok(TokensPage {
        ctx,
        tokens,
        now: OffsetDateTime::now_utc(),
        created,
        form,
        errors,
    })
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let page = page(
        &state,
        ctx,
        &user,
        TokenForm::default(),
        None,
        FormErrors::new(),
    )
    .await?;
    web::render(&page)
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let made = tokens::create(
        &mut conn,
        user.id,
        NewToken {
            name: &form.name,
            scope: form.scope.as_deref().and_then(TokenScope::parse),
            days: form.days,
        },
    )
    .await;
    drop(conn);
    match made {
        Ok((token, secret)) => {
            let shown = Some((token.name, secret));
            let page = page(
                &state,
                ctx,
                &user,
                TokenForm::default(),
                shown,
                FormErrors::new(),
            );
            web::render(&page.await?)
        }
        Err(AccountsError::Invalid(invalid)) => {
            web::invalid(&page(&state, ctx, &user, form, None, invalid.into()).await?)
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<ApiTokenId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    tokens::revoke(&mut conn, user.id, id).await?;
    Ok(ctx.redirect(
        "/me/tokens",
        Flash::success("토큰을 폐기했습니다. 이 토큰으로 보낸 요청은 이제 거절됩니다."),
    ))
}
