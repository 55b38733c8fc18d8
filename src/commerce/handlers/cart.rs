//! The cart.

use crate::accounts::MaybeUser;
use crate::web::{Form, Query};
use axum::{extract::State, response::Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{
    accounts::CurrentUser,
    catalog::model::Product,
    commerce::{
        handlers::errors::outcome,
        service,
        views::{CartPage, WantPage},
    },
    error::{AppError, AppResult},
    ids::{CartItemId, CourseId, CurriculumId},
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash, intent},
};

#[derive(Deserialize, serde::Serialize)]
pub struct AddForm {
    curriculum_id: Option<String>,
    course_id: Option<String>,
}

impl AddForm {
    /// Exactly one of the two ids; a malformed one names nothing (404).
    fn product(&self) -> AppResult<Product> {
        let parse = |raw: &str| {
            raw.trim()
                .parse::<uuid::Uuid>()
                .map_err(|_| AppError::NotFound)
        };
        match (
            self.curriculum_id.as_deref().filter(|s| !s.is_empty()),
            self.course_id.as_deref().filter(|s| !s.is_empty()),
        ) {
            (Some(c), None) => Ok(Product::Curriculum(CurriculumId(parse(c)?))),
            (None, Some(c)) => Ok(Product::Course(CourseId(parse(c)?))),
            _ => Err(AppError::BadRequest(
                "구매할 상품을 하나 골라 주세요.".into(),
            )),
        }
    }
}

pub async fn add(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    Form(form): Form<AddForm>,
) -> AppResult<Response> {
    let Some(user) = user else {
        return Ok(ctx.redirect(
            "/login?next=%2Fcart",
            Flash::info("로그인하거나 가입하면 장바구니에 담을 수 있습니다."),
        ));
    };
    let product = form.product()?;
    let mut conn = state.db.acquire().await?;
    let added = service::add_to_cart(&mut conn, &user, product).await;
    outcome(&ctx, added, "/cart", |()| {
        ("/cart".into(), Flash::success("장바구니에 담았습니다."))
    })
}

async fn ask(state: &AppState, ctx: PageCtx, product: Product) -> AppResult<Response> {
    let offer = service::offer(&mut *state.db.acquire().await?, product).await?;
    let (curriculum_id, course_id) = match product {
        Product::Curriculum(id) => (Some(id), None),
        Product::Course(id) => (None, Some(id)),
    };
    web::render(&WantPage {
        ctx,
        offer,
        curriculum_id,
        course_id,
    })
}

/// `GET /cart/want?curriculum_id=...`: the "buy" link. A signed-in learner
/// is asked (the product goes in on POST); a visitor is sent to sign up (a
/// link there leads to login), their wish waiting in the session until the
/// cart asks them.
pub async fn want(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    session: Session,
    Query(form): Query<AddForm>,
) -> AppResult<Response> {
    let product = form.product()?;
    if user.is_some() {
        return ask(&state, ctx, product).await;
    }
    intent::remember(&session, &form).await?;
    Ok(ctx.redirect(
        "/signup?next=%2Fcart",
        Flash::info(
            "가입하면 고른 상품을 장바구니에 담아 둡니다. 이미 계정이 있다면 로그인해 주세요.",
        ),
    ))
}

pub async fn cart(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    session: Session,
) -> AppResult<Response> {
    // A product chosen before signing in: asked once, added on POST.
    if let Some(wanted) = intent::take::<AddForm>(&session).await?
        && let Ok(product) = wanted.product()
    {
        return ask(&state, ctx, product).await;
    }
    let mut conn = state.db.acquire().await?;
    let cart = service::cart(&mut conn, user.id).await?;
    web::render(&CartPage { ctx, cart })
}

pub async fn remove(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<CartItemId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    service::remove_from_cart(&mut conn, user.id, id).await?;
    Ok(ctx.redirect("/cart", Flash::info("장바구니에서 삭제했습니다.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_come_from_exactly_one_id() {
        let id = uuid::Uuid::new_v4().to_string();
        let form = |cu: Option<&str>, co: Option<&str>| AddForm {
            curriculum_id: cu.map(str::to_string),
            course_id: co.map(str::to_string),
        };
        assert!(matches!(
            form(Some(&id), None).product(),
            Ok(Product::Curriculum(_))
        ));
        assert!(matches!(
            form(None, Some(&id)).product(),
            Ok(Product::Course(_))
        ));
        assert!(form(Some(&id), Some(&id)).product().is_err());
        assert!(form(None, None).product().is_err());
        assert!(matches!(
            form(Some("nope"), None).product(),
            Err(AppError::NotFound)
        ));
    }
}
