//! What learners and visitors see: the home roadmap, the catalogue, course pages.

use crate::web::Query;
use axum::{
    extract::State,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    catalog::{
        model::{Category, PriceLevel, Product, SkillLevel},
        service::{self, CatalogQuery},
        views::*,
    },
    error::{AppError, AppResult},
    ids::CourseId,
    learning::access::{self, Access},
    web::{self, PageCtx, Path, auth::MaybeUser},
};

pub async fn home(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
) -> AppResult<Html<String>> {
    let roadmap = state
        .catalog_cache
        .roadmap
        .get_or_load("nanodegree", async {
            let mut conn = state.db.acquire().await?;
            service::nanodegree_roadmap(&mut conn).await
        })
        .await?;
    let purchased = match (&user, roadmap.as_ref()) {
        (Some(user), Some(roadmap)) => {
            let mut conn = state.db.acquire().await?;
            access::product_access(
                &mut conn,
                user.id,
                Product::Curriculum(roadmap.curriculum_id),
            )
            .await?
            .is_active()
        }
        _ => false,
    };
    web::render(&HomePage {
        ctx,
        roadmap,
        purchased,
    })
}

#[derive(Deserialize, Default)]
pub struct CoursesQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    skill_level: String,
    #[serde(default)]
    price_level: String,
    page: Option<String>,
}

pub async fn courses(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(query): Query<CoursesQuery>,
) -> AppResult<Response> {
    let query = CatalogQuery {
        q: query.q.chars().take(100).collect(),
        category: Category::parse(&query.category),
        skill_level: SkillLevel::parse(&query.skill_level),
        price_level: PriceLevel::parse(&query.price_level),
        page: web::page_number(query.page.as_deref()),
    };
    let key = query.href(query.page.max(1));
    let catalog = state
        .catalog_cache
        .pages
        .get_or_load(&key, async {
            let mut conn = state.db.acquire().await?;
            service::catalogue(&mut conn, query).await
        })
        .await?;
    let list = CourseList { catalog };
    if ctx.htmx {
        return Ok(web::render(&list)?.into_response());
    }
    Ok(web::render(&CoursesPage {
        ctx,
        list,
        options: Options,
    })?
    .into_response())
}

pub async fn course(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    let course = state
        .catalog_cache
        .courses
        .get_or_load(&id.to_string(), async {
            let mut conn = state.db.acquire().await?;
            service::course_page(&mut conn, id).await
        })
        .await?;
    if !course.visible_to(user.as_ref()) {
        return Err(AppError::NotFound);
    }
    let access = match &user {
        Some(user) => {
            let mut conn = state.db.acquire().await?;
            access::access_to_any(&mut conn, user.id, &course.sellers).await?
        }
        None => Access::None,
    };
    let can_edit = service::can_edit(user.as_ref(), course.author_id);
    Ok(web::render(&CoursePage {
        ctx,
        course,
        can_edit,
        access,
    })?
    .into_response())
}
