//! What learners and visitors see: the home roadmap, the catalogue, course pages.

use crate::catalog::CatalogCache;
use std::sync::Arc;

use crate::accounts::MaybeUser;
use crate::web::Query;
use axum::{
    extract::State,
    http::HeaderMap,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    catalog::{
        model::{Category, PriceLevel, Product, SkillLevel},
        service::{self, CatalogQuery, CourseView},
        views::*,
    },
    error::{AppError, AppResult},
    ids::{CourseId, TopicId},
    learning::{
        self,
        access::{self, Access},
    },
    state::AppState,
    web::{self, PageCtx, Path, shared::SharedPage},
};

/// Sends a page: the one every anonymous visitor gets alike from the shared
/// cache (compressed once, under `key`), or one rendered for this visitor.
async fn page<F>(
    cache: &CatalogCache,
    ctx: PageCtx,
    request: &HeaderMap,
    key: &str,
    render: F,
) -> AppResult<Response>
where
    F: AsyncFnOnce(PageCtx) -> AppResult<String>,
{
    if !ctx.is_shared() {
        return Ok(Html(render(ctx).await?).into_response());
    }
    let key = format!("{key}|htmx={}", ctx.htmx);
    let shared = cache
        .shared
        .get_or_load(&key, async {
            Ok::<_, AppError>(SharedPage::new(render(ctx.for_everyone()).await?))
        })
        .await?;
    Ok(shared.respond(request))
}

pub async fn home(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    request: HeaderMap,
) -> AppResult<Response> {
    let roadmap = cache.roadmap(&state.db).await?;
    // A learner's roadmap lays their progress (one statement) over the
    // cached courses; their access comes from their cached grants.
    let (mut purchased, mut progress, mut continue_at) = (false, Default::default(), None);
    if let (Some(user), Some(roadmap)) = (&user, roadmap.as_ref()) {
        let courses = cache.roadmap_courses(&state.db).await?;
        let mut conn = state.db.acquire().await?;
        purchased = access::product_access(
            &mut conn,
            user.id,
            Product::Curriculum(roadmap.curriculum_id),
        )
        .await?
        .is_active();
        let overview = learning::progress::overview(&mut conn, user.id, false).await?;
        drop(conn);
        let courses: Vec<&CourseView> = courses.iter().map(|c| c.as_ref()).collect();
        progress = overview.courses(courses.iter().copied());
        continue_at = overview.continue_at(&courses, &cache, &state.db).await?;
    }
    page(&cache, ctx, &request, "/", async |ctx| {
        web::html(&HomePage {
            ctx,
            roadmap,
            purchased,
            progress,
            continue_at,
        })
    })
    .await
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
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    request: HeaderMap,
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
    let catalog = cache
        .pages
        .get_or_load(&key, async {
            let mut conn = state.db.acquire().await?;
            service::catalogue(&mut conn, query).await
        })
        .await?;
    page(&cache, ctx, &request, &key, async |ctx| {
        let list = CourseList { catalog };
        if ctx.htmx {
            return web::html(&list);
        }
        web::html(&CoursesPage {
            ctx,
            list,
            options: Options,
        })
    })
    .await
}

pub async fn course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    MaybeUser(user): MaybeUser,
    request: HeaderMap,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    let course = cache.course(&state.db, id).await?;
    if !course.visible_to(user.as_ref()) {
        return Err(AppError::NotFound);
    }
    // A visitor's page needs no connection (it comes whole from the cache);
    // a learner's adds their access and, while they may study, their
    // progress topic by topic.
    let (access, progress) = match &user {
        Some(user) => {
            let mut conn = state.db.acquire().await?;
            let access = access::access_to_any(&mut conn, user.id, &course.sellers).await?;
            let progress = match access.is_active() {
                true => {
                    let topics: Vec<TopicId> = course
                        .lectures
                        .iter()
                        .flat_map(|l| l.topics.iter().map(|t| t.id))
                        .collect();
                    learning::progress::topics_shown(&mut conn, user.id, &topics).await?
                }
                false => Default::default(),
            };
            (access, progress)
        }
        None => (Access::None, Default::default()),
    };
    let can_edit = service::can_edit(user.as_ref(), course.author_id);
    page(
        &cache,
        ctx,
        &request,
        &format!("/courses/{id}"),
        async |ctx| {
            web::html(&CoursePage {
                ctx,
                course,
                can_edit,
                access,
                progress,
            })
        },
    )
    .await
}
