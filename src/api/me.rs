//! The token's owner: their account (read, and change with a read-write
//! token) and their learning in the nano-degree.

use std::sync::Arc;

use axum::{extract::State, http::HeaderMap, response::Response};
use serde::{Deserialize, Serialize};
use sqlx::Acquire;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    accounts::{
        Role,
        service::{self, ProfileUpdate},
    },
    api::{
        PageQuery,
        auth::{Reader, Writer},
        json, page_of, rfc3339,
    },
    assessments::StandingState,
    catalog::{
        CatalogCache,
        model::{Product, TopicKind},
        service::CourseView,
    },
    error::AppResult,
    ids::UserId,
    learning::{access, progress},
    state::AppState,
    web::{Json, Query},
};

/// The token's owner as they are on their `/me` page.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub email_verified: bool,
    pub nickname: String,
    pub introduction: String,
    /// `010-1234-5678`, or empty.
    pub phone_number: String,
    pub role: Role,
    /// RFC 3339.
    pub joined_at: String,
}

async fn me_of(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    user: UserId,
    role: Role,
) -> AppResult<Me> {
    let profile = service::profile(conn, &state.keys, user).await?;
    Ok(Me {
        id: user.0,
        email: profile.email,
        email_verified: profile.verified,
        nickname: profile.nickname,
        introduction: profile.introduction,
        phone_number: profile.phone_number,
        role,
        joined_at: rfc3339(profile.created_at),
    })
}

/// The token's owner.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    summary = "토큰 주인의 계정",
    responses((status = 200, description = "토큰 주인의 계정", body = Me))
)]
pub async fn me(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let me = me_of(&state, &mut conn, caller.user(), caller.person.role).await?;
    json(&headers, &me)
}

/// What may change; a field left out keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// 2 to 20 characters.
    nickname: Option<String>,
    /// At most 500 characters.
    introduction: Option<String>,
    /// A Korean number; empty removes it.
    phone_number: Option<String>,
}

/// Change the token owner's profile (a read-write token).
#[utoipa::path(
    patch,
    path = "/api/v1/me",
    tag = "me",
    summary = "프로필 바꾸기",
    description = "읽기와 쓰기 권한의 토큰으로만. 보내지 않은 항목은 그대로 둡니다.",
    request_body = MeUpdate,
    responses((status = 200, description = "바뀐 계정", body = Me))
)]
pub async fn update_me(
    State(state): State<AppState>,
    Writer(caller): Writer,
    headers: HeaderMap,
    Json(update): Json<MeUpdate>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    // Read, merge and write under the person's lock: two programs changing
    // different fields at once both keep their change.
    let mut tx = conn.begin().await?;
    crate::infra::db::lock(&mut tx, "profile", &caller.user().to_string()).await?;
    let now = service::profile(&mut tx, &state.keys, caller.user()).await?;
    service::update_profile(
        &mut tx,
        &state.keys,
        caller.user(),
        ProfileUpdate {
            nickname: update.nickname.as_deref().unwrap_or(&now.nickname),
            introduction: update.introduction.as_deref().unwrap_or(&now.introduction),
            phone_number: update.phone_number.as_deref().unwrap_or(&now.phone_number),
        },
    )
    .await?;
    let me = me_of(&state, &mut tx, caller.user(), caller.person.role).await?;
    tx.commit().await?;
    json(&headers, &me)
}

/// The owner's learning: what they hold until when, and each course of
/// the nano-degree's roadmap with their progress.
#[derive(Serialize, ToSchema)]
pub struct Progress {
    pub holdings: Vec<Holding>,
    pub courses: Vec<CourseProgress>,
}

#[derive(Serialize, ToSchema)]
pub struct Holding {
    /// The course or curriculum held.
    pub product_id: Uuid,
    /// `course` or `curriculum`.
    pub product_kind: String,
    pub active: bool,
    /// RFC 3339.
    pub since: String,
    /// RFC 3339: until when it runs, or when it ran out.
    pub until: String,
}

#[derive(Serialize, ToSchema)]
pub struct CourseProgress {
    pub course_id: Uuid,
    pub title: String,
    pub topics: i64,
    pub topics_done: i64,
    /// 0 to 100.
    pub percent: i64,
}

/// The token owner's access and progress.
#[utoipa::path(
    get,
    path = "/api/v1/me/progress",
    tag = "me",
    summary = "이용 기간과 진도",
    description = "가진 상품과 그 이용 기간, 나노 디그리의 코스별 진도.",
    responses((status = 200, description = "이용 기간과 코스별 진도", body = Progress))
)]
pub async fn progress(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Reader(caller): Reader,
    headers: HeaderMap,
) -> AppResult<Response> {
    let roadmap = cache.roadmap_courses(&state.db).await?;
    let mut conn = state.db.acquire().await?;
    let holdings = access::holdings(&mut conn, caller.user()).await?;
    let overview = progress::overview(&mut conn, caller.user(), false).await?;
    drop(conn);
    let courses: Vec<&CourseView> = roadmap.iter().map(|c| c.as_ref()).collect();
    let mut per_course = overview.courses(courses.iter().copied());
    let progress = Progress {
        holdings: holdings
            .into_iter()
            .map(|h| {
                let (product_id, product_kind) = match h.product {
                    Product::Course(id) => (id.0, "course"),
                    Product::Curriculum(id) => (id.0, "curriculum"),
                };
                Holding {
                    product_id,
                    product_kind: product_kind.into(),
                    active: h.active,
                    since: rfc3339(h.since),
                    until: rfc3339(h.until),
                }
            })
            .collect(),
        courses: courses
            .iter()
            .map(|c| {
                let p = per_course.remove(&c.id).unwrap_or_default();
                CourseProgress {
                    course_id: c.id.0,
                    title: c.title.clone(),
                    topics: p.topics,
                    topics_done: p.done,
                    percent: p.percent,
                }
            })
            .collect(),
    };
    json(&headers, &progress)
}

/// The owner's standing on each mission of the nano-degree, in roadmap
/// order.
#[derive(Serialize, ToSchema)]
pub struct Missions {
    /// In the nano-degree's order.
    pub items: Vec<MissionStanding>,
    /// Pass as `cursor` for the rest; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MissionStanding {
    pub mission_id: Uuid,
    /// The mission's topic (its page is `/learn/topics/{topic_id}`).
    pub topic_id: Uuid,
    pub course_id: Uuid,
    pub title: String,
    pub state: MissionState,
    /// Attempts opened so far.
    pub attempts_used: i64,
    /// How many attempts the mission allows; absent: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_allowed: Option<i32>,
    /// The best score so far, 0 to 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_score: Option<i32>,
}

/// Where the owner stands on a mission.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissionState {
    NotStarted,
    /// Tried and not passed, with attempts left (or one open).
    Trying,
    /// Every attempt used without a pass.
    UsedUp,
    Passed,
}

/// The token owner's missions.
#[utoipa::path(
    get,
    path = "/api/v1/me/missions",
    tag = "me",
    summary = "미션 현황",
    description = "나노 디그리의 미션마다 상태, 쓴 기회, 최고 점수.",
    params(PageQuery),
    responses((status = 200, description = "미션별 현황", body = Missions))
)]
pub async fn missions(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Query(page): Query<PageQuery>,
) -> AppResult<Response> {
    let roadmap = cache.roadmap_courses(&state.db).await?;
    let topics: Vec<_> = roadmap
        .iter()
        .flat_map(|c| {
            c.lectures
                .iter()
                .flat_map(|l| l.topics.iter())
                .filter(|t| t.kind == TopicKind::Mission)
                .map(move |t| (c.id, t))
        })
        .collect();
    let ids: Vec<_> = topics.iter().map(|(_, t)| t.id).collect();
    let mut conn = state.db.acquire().await?;
    let standings = crate::assessments::standings(&mut conn, caller.user(), &ids).await?;
    drop(conn);
    let items = topics
        .iter()
        .filter_map(|(course, topic)| {
            let s = standings.iter().find(|s| s.topic == topic.id)?;
            Some(MissionStanding {
                mission_id: s.mission.0,
                topic_id: topic.id.0,
                course_id: course.0,
                title: topic.title.clone(),
                state: match s.state() {
                    StandingState::NotStarted => MissionState::NotStarted,
                    StandingState::Trying => MissionState::Trying,
                    StandingState::UsedUp => MissionState::UsedUp,
                    StandingState::Passed => MissionState::Passed,
                },
                attempts_used: s.used,
                attempts_allowed: s.max_attempts,
                best_score: s.best_score,
            })
        })
        .collect();
    let (items, next) = page_of(items, |m: &MissionStanding| m.mission_id.to_string(), &page)?;
    json(&headers, &Missions { items, next })
}

/// A billing address of the owner's (the street part is kept encrypted).
#[derive(Serialize, ToSchema)]
pub struct Address {
    pub id: Uuid,
    /// ISO 3166-1 alpha-2, e.g. `KR`.
    pub country: String,
    pub postal_code: String,
    pub main: String,
    pub detail: String,
    /// Offered first at checkout.
    pub is_default: bool,
}

impl From<crate::commerce::model::Address> for Address {
    fn from(a: crate::commerce::model::Address) -> Self {
        Self {
            id: a.id.0,
            country: a.country,
            postal_code: a.fields.postal_code,
            main: a.fields.main,
            detail: a.fields.detail,
            is_default: a.is_default,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Addresses {
    /// The default first, then the newest.
    pub items: Vec<Address>,
    /// Pass as `cursor` for the rest; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The owner's billing addresses.
#[utoipa::path(
    get,
    path = "/api/v1/me/addresses",
    tag = "me",
    summary = "청구지 주소",
    params(PageQuery),
    responses((status = 200, description = "청구지 주소들", body = Addresses))
)]
pub async fn addresses(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Query(page): Query<PageQuery>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let all = crate::commerce::service::addresses(&mut conn, &state.keys, caller.user()).await?;
    drop(conn);
    let (rows, next) = page_of(all, |a| a.id.to_string(), &page)?;
    let items = rows.into_iter().map(Address::from).collect();
    json(&headers, &Addresses { items, next })
}

/// A new billing address as a program sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAddress {
    /// ISO 3166-1 alpha-2, e.g. `KR`.
    country: String,
    postal_code: String,
    main: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    is_default: bool,
}

/// Save a billing address.
#[utoipa::path(
    post,
    path = "/api/v1/me/addresses",
    tag = "me",
    summary = "청구지 주소 저장",
    request_body = NewAddress,
    responses((status = 201, description = "저장한 주소", body = Address))
)]
pub async fn add_address(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(new): Json<NewAddress>,
) -> AppResult<Response> {
    use crate::commerce::service::{self as commerce, AddressForm};
    let form = AddressForm {
        country: new.country,
        main: new.main,
        detail: new.detail,
        postal_code: new.postal_code,
        is_default: new.is_default.then(|| "yes".into()),
    };
    let mut tx = state.db.begin().await?;
    let id = commerce::save_address(&mut tx, &state.keys, caller.user(), None, &form).await?;
    let saved = commerce::address(&mut tx, &state.keys, caller.user(), id).await?;
    tx.commit().await?;
    crate::api::made(axum::http::StatusCode::CREATED, &Address::from(saved), None)
}

/// Delete a billing address (orders keep the copy they were placed with).
#[utoipa::path(
    delete,
    path = "/api/v1/me/addresses/{id}",
    tag = "me",
    summary = "청구지 주소 지우기",
    params(("id" = Uuid, Path, description = "주소 id")),
    responses((status = 204, description = "지웠습니다"))
)]
pub async fn delete_address(
    State(state): State<AppState>,
    Writer(caller): Writer,
    crate::web::Path(id): crate::web::Path<crate::ids::AddressId>,
) -> AppResult<axum::http::StatusCode> {
    let mut conn = state.db.acquire().await?;
    crate::commerce::service::delete_address(&mut conn, caller.user(), id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// What closing the account needs: the password, or without one the email.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Closing {
    confirmation: String,
}

/// Close the owner's account (a read-write token): as on `/me`, with the
/// password (or the email, for an account without one). Its tokens stop.
#[utoipa::path(
    delete,
    path = "/api/v1/me",
    tag = "me",
    summary = "탈퇴하기",
    description = "내 정보 페이지와 같이 비밀번호(없으면 이메일)로 확인합니다. 그 뒤로 이 계정의 토큰은 모두 거절됩니다.",
    request_body = Closing,
    responses((status = 204, description = "탈퇴했습니다"))
)]
pub async fn close(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Json(closing): Json<Closing>,
) -> AppResult<axum::http::StatusCode> {
    let mut conn = state.db.acquire().await?;
    service::delete_account(
        &mut conn,
        &state.config,
        caller.user(),
        &closing.confirmation,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
