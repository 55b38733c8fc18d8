//! The catalogue for programs: search with the page's filters, a cursor
//! instead of page numbers, and one course with its outline.

use std::sync::Arc;

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    api::{auth::Anyone, cursor, json},
    catalog::{
        CatalogCache, CourseKey,
        model::{Category, PriceLevel, SkillLevel, TopicKind},
        service::{self, CatalogQuery, CourseCard},
    },
    error::{AppError, AppResult, FieldErrors},
    ids::CourseId,
    state::AppState,
    web::{Path, Query},
};

/// Courses per answer unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

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
    _caller: Anyone,
    headers: HeaderMap,
    Query(query): Query<CoursesQuery>,
) -> AppResult<Response> {
    let mut fields = FieldErrors::new();
    let mut code = |field: &'static str, raw: &Option<String>, known: bool| {
        if raw.as_deref().is_some_and(|r| !r.is_empty()) && !known {
            fields
                .entry(field)
                .or_default()
                .push("목록에 있는 값이 아닙니다.".into());
        }
    };
    let category = query.category.as_deref().and_then(Category::parse);
    code("category", &query.category, category.is_some());
    let skill_level = query.skill_level.as_deref().and_then(SkillLevel::parse);
    code("skill_level", &query.skill_level, skill_level.is_some());
    let price_level = query.price_level.as_deref().and_then(PriceLevel::parse);
    code("price_level", &query.price_level, price_level.is_some());
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        fields
            .entry("limit")
            .or_default()
            .push(format!("1에서 {MAX_LIMIT} 사이로 주세요."));
    }
    let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => match decode_cursor(cursor) {
            Some(key) => Some(key),
            None => {
                fields
                    .entry("cursor")
                    .or_default()
                    .push("앞선 응답의 next 값을 그대로 보내 주세요.".into());
                None
            }
        },
        None => None,
    };
    if !fields.is_empty() {
        return Err(AppError::Validation(fields));
    }
    let search = CatalogQuery {
        q: query.q.unwrap_or_default().chars().take(100).collect(),
        category,
        skill_level,
        price_level,
        page: 1,
    };
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
    json(&headers, &list)
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
}

/// One course, as its page shows it to everyone: published lectures and
/// topics only.
#[utoipa::path(
    get,
    path = "/api/v1/courses/{id}",
    tag = "catalog",
    summary = "강의 하나와 목차",
    description = "강의 페이지가 모두에게 보여 주는 그대로: 공개된 강의와 토픽만.",
    params(("id" = Uuid, Path, description = "강의 id")),
    responses(
        (status = 200, description = "강의와 목차", body = CourseDetail,
         headers(("ETag" = String, description = "이 응답의 태그"))),
        (status = 304, description = "바뀌지 않았습니다"),
    ),
    security((), ("token" = []))
)]
pub async fn course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    _caller: Anyone,
    headers: HeaderMap,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    let course = cache.course(&state.db, id).await?;
    if course.deleted || !course.published {
        return Err(AppError::NotFound);
    }
    let detail = CourseDetail {
        id: course.id.0,
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
            .filter(|l| l.published)
            .map(|l| Lecture {
                title: l.title.clone(),
                topics: l
                    .topics
                    .iter()
                    .filter(|t| t.published)
                    .map(|t| Topic {
                        id: t.id.0,
                        title: t.title.clone(),
                        kind: t.kind,
                        duration_secs: t.duration,
                        preview: t.is_preview,
                    })
                    .collect(),
            })
            .collect(),
    };
    json(&headers, &detail)
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
