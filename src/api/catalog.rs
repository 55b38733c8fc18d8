//! The catalogue for programs: search with the page's filters, a cursor
//! instead of page numbers, and one course with its outline.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    accounts::tokens::Caller,
    api::{
        Checks,
        auth::{Anyone, Writer},
        cursor, json, made,
    },
    catalog::{
        CatalogCache, CourseKey,
        error::Work,
        model::{Category, Listing, Piece, PriceLevel, SkillLevel, TopicKind},
        service::{self, CatalogQuery, CourseCard, CourseView},
        studio::{self, Edit, ListingForm},
    },
    error::{AppError, AppResult},
    ids::CourseId,
    state::AppState,
    web::{Json, Path, Query, shared::SharedPage},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoursesQuery {
    /// Words to find in a course's title, summary and keywords (초성 too).
    q: Option<String>,
    /// One of the `Category` codes.
    category: Option<String>,
    /// One of the `SkillLevel` codes.
    skill_level: Option<String>,
    /// One of the `PriceLevel` codes.
    price_level: Option<String>,
    /// The `next` of the previous answer, for the courses after it.
    cursor: Option<String>,
    /// How many courses, 1 to 100 (20 when not given).
    limit: Option<i64>,
}

/// Courses in the catalogue's order (the nano-degree's courses in their
/// order, then the others, newest first), and the cursor for the rest.
#[derive(Serialize, ToSchema)]
pub struct CourseList {
    pub items: Vec<CourseSummary>,
    /// Pass as `cursor` for the next courses; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CourseSummary {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    /// Its own price in KRW; absent when it is sold only inside its
    /// curriculum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_won: Option<i64>,
    /// The curriculum it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curriculum: Option<String>,
    pub lecture_count: i64,
    pub duration_secs: i64,
    /// The course's page for people.
    pub url: String,
}

impl From<CourseCard> for CourseSummary {
    fn from(card: CourseCard) -> Self {
        Self {
            id: card.id.0,
            url: format!("/courses/{}", card.id),
            title: card.title,
            summary: card.summary,
            category: card.category,
            skill_level: card.skill,
            price_won: card.price.map(|w| w.0),
            curriculum: card.curriculum_title,
            lecture_count: card.lecture_count,
            duration_secs: card.duration,
        }
    }
}

/// Search the catalogue.
#[utoipa::path(
    get,
    path = "/api/v1/courses",
    tag = "catalog",
    summary = "강의 찾기",
    description = "카탈로그의 순서(나노 디그리 코스 순서, 그 밖의 강의는 최신순)로, 강의 목록 페이지와 같은 필터로 찾습니다. `next`를 `cursor`로 보내면 다음 강의가 옵니다.",
    params(CoursesQuery),
    responses(
        (status = 200, description = "찾은 강의", body = CourseList,
         headers(("ETag" = String, description = "이 응답의 태그: `If-None-Match`로 보내면 바뀌지 않았을 때 304"))),
        (status = 304, description = "`If-None-Match`의 태그 그대로: 바뀌지 않았습니다"),
    ),
    security((), ("token" = []))
)]
pub async fn courses(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    _caller: Anyone,
    headers: HeaderMap,
    Query(query): Query<CoursesQuery>,
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
    let after = checks.cursor(query.cursor.as_deref(), decode_cursor);
    checks.done()?;
    let search = CatalogQuery {
        q: query.q.unwrap_or_default().chars().take(100).collect(),
        category,
        skill_level,
        price_level,
        page: 1,
    };
    // The same for every caller: made once per catalogue change, kept with
    // the catalogue's pages (a write drops it), compressed once.
    let key = format!(
        "api{}|{}|{limit}",
        search.href(1),
        query.cursor.as_deref().unwrap_or_default()
    );
    let answer = cache
        .shared
        .get_or_load(&key, async {
            let mut conn = state.db.acquire().await?;
            let (cards, more) = service::catalogue_after(&mut conn, &search, after, limit).await?;
            drop(conn);
            let next = more
                .then(|| cards.last().map(|c| encode_cursor(&c.key)))
                .flatten();
            let list = CourseList {
                items: cards.into_iter().map(CourseSummary::from).collect(),
                next,
            };
            let body = serde_json::to_vec(&list).map_err(|e| AppError::Internal(e.into()))?;
            Ok::<_, AppError>(SharedPage::json(body))
        })
        .await?;
    Ok(answer.respond(&headers))
}

/// A cursor: the last course's place in the order, opaque to programs.
fn encode_cursor(key: &CourseKey) -> String {
    cursor::encode(&[
        u8::from(key.unlisted).to_string(),
        key.position.to_string(),
        key.created_at.unix_timestamp_nanos().to_string(),
        key.id.to_string(),
    ])
}

fn decode_cursor(raw: &str) -> Option<CourseKey> {
    let [unlisted, position, nanos, id] = cursor::decode::<4>(raw)?;
    Some(CourseKey {
        unlisted: match unlisted.as_str() {
            "0" => false,
            "1" => true,
            _ => return None,
        },
        position: position.parse().ok()?,
        created_at: OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?,
        id: CourseId(id.parse().ok()?),
    })
}

/// A course with its outline.
#[derive(Serialize, ToSchema)]
pub struct CourseDetail {
    pub id: Uuid,
    /// `false`: a draft, seen only by its author and admins.
    pub published: bool,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub description: String,
    pub category: Category,
    pub skill_level: SkillLevel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_won: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curriculum: Option<CurriculumRef>,
    pub duration_secs: i64,
    pub lectures: Vec<Lecture>,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct CurriculumRef {
    pub id: Uuid,
    pub title: String,
    pub price_won: i64,
    pub access_months: i32,
}

#[derive(Serialize, ToSchema)]
pub struct Lecture {
    pub title: String,
    pub published: bool,
    pub topics: Vec<Topic>,
}

#[derive(Serialize, ToSchema)]
pub struct Topic {
    pub id: Uuid,
    pub title: String,
    pub kind: TopicKind,
    pub duration_secs: i64,
    /// Open to everyone, without buying.
    pub preview: bool,
    pub published: bool,
}

/// One course, as its page shows it to everyone: published lectures and
/// topics only; its author and admins (with a token) see drafts too.
#[utoipa::path(
    get,
    path = "/api/v1/courses/{id}",
    tag = "catalog",
    summary = "강의 하나와 목차",
    description = "강의 페이지가 모두에게 보여 주는 그대로: 공개된 강의와 토픽만. 만든 튜터와 관리자는 토큰으로 초안까지 봅니다.",
    params(("id" = Uuid, Path, description = "강의 id")),
    responses((status = 200, description = "강의와 목차", body = CourseDetail)),
    security((), ("token" = []))
)]
pub async fn course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Anyone(caller): Anyone,
    headers: HeaderMap,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    let viewer = caller.as_ref().map(|c| &c.person);
    let course = cache.course(&state.db, id).await?;
    if !course.visible_to(viewer) || course.deleted {
        return Err(AppError::NotFound);
    }
    json(
        &headers,
        &detail(&course, service::can_edit(viewer, course.author_id)),
    )
}

/// The answer for `course`: drafts inside it only for its editors.
fn detail(course: &CourseView, editor: bool) -> CourseDetail {
    CourseDetail {
        id: course.id.0,
        published: course.published,
        url: format!("/courses/{}", course.id),
        title: course.title.clone(),
        summary: course.summary.clone(),
        description: course.description.clone(),
        category: course.category,
        skill_level: course.skill,
        price_won: course.own_price.map(|w| w.0),
        curriculum: course.curriculum.as_ref().map(|c| CurriculumRef {
            id: c.id.0,
            title: c.title.clone(),
            price_won: c.price.0,
            access_months: c.access_months,
        }),
        duration_secs: course.duration,
        lectures: course
            .lectures
            .iter()
            .filter(|l| editor || l.published)
            .map(|l| Lecture {
                title: l.title.clone(),
                published: l.published,
                topics: l
                    .topics
                    .iter()
                    .filter(|t| editor || t.published)
                    .map(|t| Topic {
                        id: t.id.0,
                        title: t.title.clone(),
                        kind: t.kind,
                        duration_secs: t.duration,
                        preview: t.is_preview,
                        published: t.published,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A course's own fields as a program sends them. Making one, `title`,
/// `category` and `skill_level` are needed; changing one, a field left out
/// keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourseFields {
    title: Option<String>,
    summary: Option<String>,
    /// Markdown.
    description: Option<String>,
    /// One of the `Category` codes.
    category: Option<String>,
    /// One of the `SkillLevel` codes.
    skill_level: Option<String>,
    /// Its own price in KRW; `null` or absent: sold only inside a
    /// curriculum.
    price_won: Option<i64>,
    /// Other names search finds it by, comma-separated.
    keywords: Option<String>,
}

impl CourseFields {
    /// The studio's form, each field sent or else `now`'s.
    fn over(self, now: &ListingForm) -> ListingForm {
        ListingForm {
            form_key: None,
            title: self.title.unwrap_or_else(|| now.title.clone()),
            summary: self.summary.unwrap_or_else(|| now.summary.clone()),
            description: self.description.unwrap_or_else(|| now.description.clone()),
            category: self.category.unwrap_or_else(|| now.category.clone()),
            skill_level: self.skill_level.unwrap_or_else(|| now.skill_level.clone()),
            price_won: self
                .price_won
                .map(|p| p.to_string())
                .unwrap_or_else(|| now.price_won.clone()),
            access_months: String::new(),
            keywords: self.keywords.unwrap_or_else(|| now.keywords.clone()),
        }
    }
}

/// Tutors and admins write courses.
pub(super) fn staff(caller: &Caller) -> AppResult<()> {
    match caller.person.role.is_staff() {
        true => Ok(()),
        false => Err(AppError::staff_only()),
    }
}

/// Make a course (a draft) as its author.
#[utoipa::path(
    post,
    path = "/api/v1/courses",
    tag = "catalog",
    summary = "강의 만들기",
    description = "튜터와 관리자의 읽기와 쓰기 토큰으로. 초안으로 만들어지고, 공개는 스튜디오에서 검토를 거칩니다.",
    request_body = CourseFields,
    responses((status = 201, description = "만든 강의 (초안)", body = CourseDetail,
               headers(("Location" = String, description = "이 강의의 주소"))))
)]
pub async fn create_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Writer(caller): Writer,
    Json(fields): Json<CourseFields>,
) -> AppResult<Response> {
    let form = fields.over(&ListingForm::default());
    let Listing::Course(id) = create_listing(&state, &cache, &caller, Work::Course, &form).await?
    else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "a course was asked for"
        )));
    };
    let course = cache.course(&state.db, id).await?;
    made(
        StatusCode::CREATED,
        &detail(&course, true),
        Some(format!("/api/v1/courses/{id}")),
    )
}

/// Change a course's own fields as its author or an admin.
#[utoipa::path(
    patch,
    path = "/api/v1/courses/{id}",
    tag = "catalog",
    summary = "강의 고치기",
    description = "그 강의를 만든 튜터나 관리자의 읽기와 쓰기 토큰으로. 보내지 않은 항목은 그대로 둡니다.",
    params(("id" = Uuid, Path, description = "강의 id")),
    request_body = CourseFields,
    responses((status = 200, description = "고친 강의", body = CourseDetail))
)]
pub async fn update_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Writer(caller): Writer,
    headers: HeaderMap,
    Path(id): Path<CourseId>,
    Json(fields): Json<CourseFields>,
) -> AppResult<Response> {
    staff(&caller)?;
    let person = &caller.person;
    cache
        .write(&state.db, async |tx| {
            // Under the course's lock: two programs changing different
            // fields both keep their change.
            studio::authorize_course(tx, person, id).await?;
            let now = studio::course_for_editing(tx, person, id).await?;
            let form = fields.over(&ListingForm::of_course(&now));
            studio::update_listing(tx, person, Listing::Course(id), &form).await
        })
        .await?;
    let course = cache.course(&state.db, id).await?;
    json(&headers, &detail(&course, true))
}

/// Delete a course (it can be restored in the studio).
#[utoipa::path(
    delete,
    path = "/api/v1/courses/{id}",
    tag = "catalog",
    summary = "강의 지우기",
    description = "그 강의를 만든 튜터나 관리자의 읽기와 쓰기 토큰으로. 스튜디오에서 되살릴 수 있습니다.",
    params(("id" = Uuid, Path, description = "강의 id")),
    responses((status = 204, description = "지웠습니다"))
)]
pub async fn delete_course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Writer(caller): Writer,
    Path(id): Path<CourseId>,
) -> AppResult<StatusCode> {
    delete_listing(&state, &cache, &caller, Piece::Course(id)).await
}

/// Makes a course or a curriculum (a draft) as the caller, through the
/// studio's service.
pub(super) async fn create_listing(
    state: &AppState,
    cache: &Arc<CatalogCache>,
    caller: &Caller,
    work: Work,
    form: &ListingForm,
) -> AppResult<Listing> {
    staff(caller)?;
    let person = &caller.person;
    Ok(cache
        .write(&state.db, async |tx| {
            studio::create_listing(tx, person, work, form).await
        })
        .await?)
}

/// Deletes a course or a curriculum (restorable in the studio) as its
/// author or an admin.
pub(super) async fn delete_listing(
    state: &AppState,
    cache: &Arc<CatalogCache>,
    caller: &Caller,
    piece: Piece,
) -> AppResult<StatusCode> {
    staff(caller)?;
    let person = &caller.person;
    cache
        .write(&state.db, async |tx| {
            studio::edit(tx, person, piece, Edit::Deleted(true), false).await
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_refused() {
        let key = CourseKey {
            unlisted: true,
            position: 0,
            created_at: OffsetDateTime::now_utc(),
            id: CourseId(Uuid::new_v4()),
        };
        assert_eq!(decode_cursor(&encode_cursor(&key)), Some(key));
        for bad in [
            "",
            "x",
            "MS4yLjM",
            &cursor::encode(&["2".into(), "1".into(), "0".into(), "x".into()]),
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
