//! Curricula (a nano-degree is one) for programs: search with the
//! catalogue's filters and a cursor, one curriculum with its courses in
//! learning order, and for tutors and admins their writing.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{
        Checks,
        auth::{Anyone, Writer},
        catalog::{create_listing, delete_listing, staff},
        cursor, json, made, rfc3339,
    },
    catalog::{
        CatalogCache,
        error::Work,
        model::{Category, Listing, Piece, PriceLevel, SkillLevel},
        service::{self, CatalogQuery, CurriculumCard, CurriculumCourse},
        studio::{self, ListingForm},
    },
    error::{AppError, AppResult},
    ids::CurriculumId,
    state::AppState,
    web::{Json, Path, Query},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CurriculaQuery {
    /// Words to find in a curriculum's title and summary.
    q: Option<String>,
    /// One of the `Category` codes.
    category: Option<String>,
    /// One of the `SkillLevel` codes.
    skill_level: Option<String>,
    /// One of the `PriceLevel` codes.
    price_level: Option<String>,
    /// The `next` of the previous answer.
    cursor: Option<String>,
    /// 1 to 100 (20 when not given).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CurriculumList {
    pub items: Vec<CurriculumSummary>,
    /// Pass as `cursor` for the next curricula; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CurriculumSummary {
    pub id: Uuid,
    /// `false`: a draft, seen only by its author and admins.
    pub published: bool,
    pub title: String,
    pub summary: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    /// KRW, for every course in it.
    pub price_won: i64,
    /// How long a purchase opens its courses.
    pub access_months: i32,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&CurriculumCard> for CurriculumSummary {
    fn from(r: &CurriculumCard) -> Self {
        Self {
            id: r.id.0,
            published: r.published,
            title: r.title.clone(),
            summary: r.summary.clone(),
            category: r.category,
            skill_level: r.skill_level,
            price_won: r.price_won,
            access_months: r.access_months,
            created_at: rfc3339(r.created_at),
        }
    }
}

/// Search the published curricula, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/curricula",
    tag = "catalog",
    summary = "커리큘럼 찾기",
    description = "공개된 커리큘럼(나노 디그리)을 최신순으로, 강의 찾기와 같은 필터로 찾습니다.",
    params(CurriculaQuery),
    responses((status = 200, description = "찾은 커리큘럼", body = CurriculumList)),
    security((), ("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: Anyone,
    headers: HeaderMap,
    Query(query): Query<CurriculaQuery>,
) -> AppResult<Response> {
    let mut checks = Checks::default();
    let category = checks.code("category", query.category.as_deref(), Category::parse);
    let skill_level = checks.code(
        "skill_level",
        query.skill_level.as_deref(),
        SkillLevel::parse,
    );
    let price_level = checks.code(
        "price_level",
        query.price_level.as_deref(),
        PriceLevel::parse,
    );
    let limit = checks.limit(query.limit);
    let after = checks.cursor(query.cursor.as_deref(), cursor::decode_at::<CurriculumId>);
    checks.done()?;
    let search = CatalogQuery {
        q: query.q.unwrap_or_default().chars().take(100).collect(),
        category,
        skill_level,
        price_level,
        page: 1,
    };
    let mut conn = state.db.acquire().await?;
    let (rows, more) = service::curricula_after(&mut conn, &search, after, limit).await?;
    drop(conn);
    let next = more
        .then(|| {
            rows.last().map(|r| {
                cursor::encode(&[
                    r.created_at.unix_timestamp_nanos().to_string(),
                    r.id.to_string(),
                ])
            })
        })
        .flatten();
    let items = rows.iter().map(CurriculumSummary::from).collect();
    json(&headers, &CurriculumList { items, next })
}

/// A curriculum with its courses in learning order.
#[derive(Serialize, ToSchema)]
pub struct CurriculumDetail {
    #[serde(flatten)]
    pub summary: CurriculumSummary,
    /// Markdown.
    pub description: String,
    /// Its published courses, in the order they are learned.
    pub courses: Vec<CurriculumCourseItem>,
}

#[derive(Serialize, ToSchema)]
pub struct CurriculumCourseItem {
    pub id: Uuid,
    /// 1, 2, …: its place in the learning order.
    pub position: i32,
    pub title: String,
    pub summary: String,
    pub skill_level: SkillLevel,
    pub lecture_count: i64,
    pub duration_secs: i64,
    /// The course's page for people.
    pub url: String,
}

fn detail(row: &CurriculumCard, courses: Vec<CurriculumCourse>) -> CurriculumDetail {
    CurriculumDetail {
        summary: row.into(),
        description: row.description.clone(),
        courses: courses
            .into_iter()
            .map(|c| CurriculumCourseItem {
                id: c.id.0,
                url: format!("/courses/{}", c.id),
                position: c.position,
                title: c.title,
                summary: c.summary,
                skill_level: c.skill_level,
                lecture_count: c.lecture_count,
                duration_secs: c.total_secs,
            })
            .collect(),
    }
}

/// One curriculum; its author and admins (with a token) also read a draft.
#[utoipa::path(
    get,
    path = "/api/v1/curricula/{id}",
    tag = "catalog",
    summary = "커리큘럼 하나와 그 강의들",
    params(("id" = Uuid, Path, description = "커리큘럼 id")),
    responses((status = 200, description = "커리큘럼과 배우는 순서의 강의", body = CurriculumDetail)),
    security((), ("token" = []))
)]
pub async fn one(
    State(state): State<AppState>,
    Anyone(caller): Anyone,
    headers: HeaderMap,
    Path(id): Path<CurriculumId>,
) -> AppResult<Response> {
    let viewer = caller.as_ref().map(|c| &c.person);
    let mut conn = state.db.acquire().await?;
    let (row, courses) = service::curriculum(&mut conn, viewer, id).await?;
    json(&headers, &detail(&row, courses))
}

/// A curriculum's own fields as a program sends them. Making one,
/// `title`, `category`, `skill_level` and `price_won` are needed; changing
/// one, a field left out keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CurriculumFields {
    title: Option<String>,
    summary: Option<String>,
    /// Markdown.
    description: Option<String>,
    /// One of the `Category` codes.
    category: Option<String>,
    /// One of the `SkillLevel` codes.
    skill_level: Option<String>,
    /// KRW, for every course in it.
    price_won: Option<i64>,
    /// 1 to 120 (24 when not given).
    access_months: Option<i32>,
}

impl CurriculumFields {
    /// The studio's form, each field sent or else `now`'s.
    fn over(self, now: ListingForm) -> ListingForm {
        ListingForm {
            form_key: None,
            title: self.title.unwrap_or(now.title),
            summary: self.summary.unwrap_or(now.summary),
            description: self.description.unwrap_or(now.description),
            category: self.category.unwrap_or(now.category),
            skill_level: self.skill_level.unwrap_or(now.skill_level),
            price_won: self.price_won.map_or(now.price_won, |p| p.to_string()),
            access_months: self
                .access_months
                .map_or(now.access_months, |m| m.to_string()),
            keywords: String::new(),
        }
    }
}

/// Make a curriculum (a draft) as its author.
#[utoipa::path(
    post,
    path = "/api/v1/curricula",
    tag = "catalog",
    summary = "커리큘럼 만들기",
    description = "튜터와 관리자의 읽기와 쓰기 토큰으로. 초안으로 만들어지고, 강의를 넣고 공개하는 일은 스튜디오에서 합니다.",
    request_body = CurriculumFields,
    responses((status = 201, description = "만든 커리큘럼 (초안)", body = CurriculumDetail,
               headers(("Location" = String, description = "이 커리큘럼의 주소"))))
)]
pub async fn create(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Writer(caller): Writer,
    Json(fields): Json<CurriculumFields>,
) -> AppResult<Response> {
    let form = fields.over(ListingForm::new_curriculum());
    let Listing::Curriculum(id) =
        create_listing(&state, &cache, &caller, Work::Curriculum, &form).await?
    else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a curriculum was asked for"
        )));
    };
    let person = &caller.person;
    let mut conn = state.db.acquire().await?;
    let (row, courses) = service::curriculum(&mut conn, Some(person), id).await?;
    made(
        StatusCode::CREATED,
        &detail(&row, courses),
        Some(format!("/api/v1/curricula/{id}")),
    )
}

/// Change a curriculum's own fields as its author or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/curricula/{id}",
    tag = "catalog",
    summary = "커리큘럼 고치기",
    description = "그 커리큘럼을 만든 튜터나 관리자의 읽기와 쓰기 토큰으로. 보내지 않은 항목은 그대로 둡니다.",
    params(("id" = Uuid, Path, description = "커리큘럼 id")),
    request_body = CurriculumFields,
    responses((status = 200, description = "고친 커리큘럼", body = CurriculumDetail))
)]
pub async fn update(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Writer(caller): Writer,
    headers: HeaderMap,
    Path(id): Path<CurriculumId>,
    Json(fields): Json<CurriculumFields>,
) -> AppResult<Response> {
    staff(&caller)?;
    let person = &caller.person;
    cache
        .write(&state.db, async |tx| {
            // Locked: two programs changing different fields both keep
            // their change.
            let now = studio::authorize_curriculum(tx, person, id).await?;
            if now.deleted {
                return Err(crate::catalog::error::CatalogError::NotFound);
            }
            let form = fields.over(ListingForm::of_curriculum(&now));
            studio::update_listing(tx, person, Listing::Curriculum(id), &form).await
        })
        .await?;
    let mut conn = state.db.acquire().await?;
    let (row, courses) = service::curriculum(&mut conn, Some(person), id).await?;
    json(&headers, &detail(&row, courses))
}

/// Delete a curriculum (it can be restored in the studio).
#[utoipa::path(
    delete,
    path = "/api/v1/curricula/{id}",
    tag = "catalog",
    summary = "커리큘럼 지우기",
    description = "그 커리큘럼을 만든 튜터나 관리자의 읽기와 쓰기 토큰으로. 스튜디오에서 되살릴 수 있습니다.",
    params(("id" = Uuid, Path, description = "커리큘럼 id")),
    responses((status = 204, description = "지웠습니다"))
)]
pub async fn delete(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Writer(caller): Writer,
    Path(id): Path<CurriculumId>,
) -> AppResult<StatusCode> {
    delete_listing(&state, &cache, &caller, Piece::Curriculum(id)).await
}
