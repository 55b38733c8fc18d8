//! The JSON API for other programs (`/api/v1`): the same services and
//! error enums as the pages, answered as JSON. Programs authenticate with
//! personal access tokens (`accounts::tokens`, made on `/me/tokens`);
//! refusals are RFC 9457 problems (`problem`); the OpenAPI 3.1 document is
//! generated from the handlers and types below (`/api/openapi.json`) and
//! read on `/api/docs`.

pub mod auth;
mod catalog;
mod certificates;
mod commerce;
mod curricula;
pub mod idempotency;
mod learning;
mod me;
mod media;
pub mod problem;
mod users;

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    body::Body,
    extract::FromRef,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{any, delete, get, patch, post},
};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, Object, RefOr, ResponseBuilder, Type,
        content::ContentBuilder,
        header::HeaderBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

pub use auth::Api;

use crate::{
    catalog::CatalogCache,
    error::AppError,
    state::AppState,
    web::{PageCtx, routes::At, shared},
};

/// The API's routes for programs, all under `/api` (its documentation page
/// is in [`pages`]). An address under `/api` that is none of these is a
/// 404 problem, not the site's 404 page.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<Api>: FromRef<S>,
    Arc<CatalogCache>: FromRef<S>,
    Arc<crate::commerce::gateway::Gateways>: FromRef<S>,
    crate::learning::Completion: FromRef<S>,
    Arc<crate::media::Media>: FromRef<S>,
{
    Router::new()
        .at("/api/openapi.json", get(openapi_json))
        .at("/api/{*rest}", any(unknown))
        .at(
            "/api/v1/courses",
            get(catalog::courses).post(catalog::create_course),
        )
        .at(
            "/api/v1/courses/{id}",
            get(catalog::course)
                .patch(catalog::update_course)
                .delete(catalog::delete_course),
        )
        .at(
            "/api/v1/curricula",
            get(curricula::list).post(curricula::create),
        )
        .at(
            "/api/v1/curricula/{id}",
            get(curricula::one)
                .patch(curricula::update)
                .delete(curricula::delete),
        )
        .at(
            "/api/v1/topics/{id}/watch-sessions",
            post(learning::open_session),
        )
        .at("/api/v1/topics/{id}/watch-events", post(learning::record))
        .at("/api/v1/courses/{id}/videos", get(media::videos))
        .at("/api/v1/courses/{id}/images", get(media::images))
        .at(
            "/api/v1/courses/{id}/cover",
            post(media::upload_cover).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .at(
            "/api/v1/me/avatar",
            post(media::upload_avatar).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .at(
            "/api/v1/topics/{id}/video",
            post(media::upload_video).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .at("/api/v1/watch-events", get(learning::history))
        .at(
            "/api/v1/watch-events/{id}",
            patch(learning::correct).delete(learning::delete),
        )
        .at(
            "/api/v1/me",
            get(me::me).patch(me::update_me).delete(me::close),
        )
        .at(
            "/api/v1/me/addresses",
            get(me::addresses).post(me::add_address),
        )
        .at("/api/v1/me/addresses/{id}", delete(me::delete_address))
        .at("/api/v1/me/progress", get(me::progress))
        .at("/api/v1/me/missions", get(me::missions))
        .at("/api/v1/certificates/{code}", get(certificates::verify))
        .at("/api/v1/cart", get(commerce::cart))
        .at("/api/v1/cart/items", post(commerce::add))
        .at("/api/v1/cart/items/{id}", delete(commerce::remove))
        .at(
            "/api/v1/orders",
            get(commerce::orders).post(commerce::place),
        )
        .at("/api/v1/orders/{id}", get(commerce::order))
        .at("/api/v1/payments/{id}", get(commerce::payment))
        .at("/api/v1/payments/{id}/refunds", post(commerce::refund))
        .at("/api/v1/users", get(users::list))
        .at("/api/v1/users/{id}", get(users::one))
}

/// The API's documentation, a page for people (with the site's layout).
pub fn pages<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    Router::new().at("/api/docs", get(docs))
}

async fn unknown() -> AppError {
    AppError::NotFound
}

/// CORS for the configured origins only: they may call with a token (never
/// with cookies) and read the `ETag` and `Retry-After` of an answer.
pub fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, Method};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::ETAG, header::RETRY_AFTER, header::LOCATION])
        .max_age(std::time::Duration::from_secs(600))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weaverse API",
        version = "1",
        description = "Weaverse의 JSON API: 다른 프로그램(앱, 회사의 인사 시스템, 관리 스크립트)을 위한 것입니다. \
                       `/me/tokens`에서 만든 토큰을 `Authorization: Bearer` 헤더로 보냅니다."
    ),
    paths(
        catalog::courses,
        catalog::course,
        catalog::create_course,
        catalog::update_course,
        catalog::delete_course,
        curricula::list,
        curricula::one,
        curricula::create,
        curricula::update,
        curricula::delete,
        learning::open_session,
        learning::record,
        learning::history,
        learning::correct,
        learning::delete,
        media::videos,
        media::images,
        media::upload_video,
        media::upload_cover,
        media::upload_avatar,
        me::me,
        me::update_me,
        me::progress,
        me::missions,
        me::close,
        me::addresses,
        me::add_address,
        me::delete_address,
        certificates::verify,
        users::list,
        users::one,
        commerce::cart,
        commerce::add,
        commerce::remove,
        commerce::orders,
        commerce::order,
        commerce::place,
        commerce::payment,
        commerce::refund,
    ),
    components(schemas(problem::Problem, problem::FieldProblem)),
    modifiers(&Conventions),
    tags(
        (name = "catalog", description = "강의 카탈로그"),
        (name = "me", description = "토큰 주인의 계정과 학습"),
        (name = "certificates", description = "수료증 확인"),
        (name = "users", description = "학습자와 튜터 (관리자)"),
        (name = "commerce", description = "장바구니, 주문, 결제와 환불"),
        (name = "learning", description = "시청 기록"),
        (name = "media", description = "영상과 표지 이미지"),
    )
)]
pub struct ApiDoc;

/// What every operation shares: the bearer token scheme, and a problem
/// document for any status an operation does not list.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        // The crate's own licence ("UNLICENSED") says nothing to a caller.
        doc.info.license = None;
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "개인 액세스 토큰 (`/me/tokens`에서 만듭니다, `wvs_`로 시작)",
                    ))
                    .build(),
            ),
        );
        let problem = ResponseBuilder::new()
            .description("거절: RFC 9457 problem 문서")
            .content(
                problem::CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(openapi::Ref::from_schema_name("Problem"))))
                    .build(),
            )
            .build();
        // Every read answers through `json`: an `ETag` on its answer, and
        // 304 with no body when `If-None-Match` names it.
        let etag = HeaderBuilder::new()
            .schema(Object::with_type(Type::String))
            .description(Some("이 응답의 태그"))
            .build();
        let not_modified = ResponseBuilder::new()
            .description("바뀌지 않았습니다")
            .build();
        for item in doc.paths.paths.values_mut() {
            if let Some(read) = &mut item.get {
                if let Some(RefOr::T(ok)) = read.responses.responses.get_mut("200") {
                    ok.headers.entry("ETag".into()).or_insert(etag.clone());
                }
                read.responses
                    .responses
                    .entry("304".into())
                    .or_insert_with(|| not_modified.clone().into());
            }
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                op.responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| problem.clone().into());
                // A token is needed unless the operation says otherwise
                // (the public reads take one optionally).
                op.security
                    .get_or_insert_with(|| vec![SecurityRequirement::new("token", [""; 0])]);
            }
        }
    }
}

/// The OpenAPI 3.1 document, made once.
pub fn document() -> &'static str {
    static DOC: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_default());
    &DOC
}

async fn openapi_json(headers: HeaderMap) -> Response {
    json_with_etag(&headers, document().as_bytes().to_vec())
}

#[derive(Template)]
#[template(path = "api/docs.html")]
struct DocsPage {
    ctx: PageCtx,
    /// Each kind of problem: its `type` anchor, status and title.
    problems: Vec<(&'static str, u16, String)>,
}

/// The API's documentation: Swagger UI (from npm, served from
/// `/static/vendor`) over `/api/openapi.json`, and the kinds of problem.
async fn docs(ctx: PageCtx) -> Result<Response, AppError> {
    let problems = [
        400u16, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429, 500, 503,
    ]
    .into_iter()
    .filter_map(|code| StatusCode::from_u16(code).ok())
    .map(|status| {
        let title = crate::error::ErrorPage::for_status(status).title;
        (problem::kind(status), status.as_u16(), title)
    })
    .collect();
    crate::web::render(&DocsPage { ctx, problems })
}

/// A JSON answer with an `ETag` of its bytes; `304 Not Modified` when the
/// request's `If-None-Match` names it. Weak (`W/`), as the same JSON may
/// leave gzipped or not.
pub fn json_with_etag(request: &HeaderMap, body: Vec<u8>) -> Response {
    let tag = shared::weak_etag(&body);
    let matches = shared::names(request, &tag);
    let etag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\""));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(body))
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    if !matches {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// `value` as a JSON answer with its `ETag` (see [`json_with_etag`]).
pub fn json<T: Serialize>(request: &HeaderMap, value: &T) -> Result<Response, AppError> {
    let body = serde_json::to_vec(value).map_err(|e| AppError::Internal(e.into()))?;
    Ok(json_with_etag(request, body))
}

/// `value` as the answer of a write: `status` (201, 202), no `ETag`, and
/// where the new thing is read when `location` names it.
pub fn made<T: Serialize>(
    status: StatusCode,
    value: &T,
    location: Option<String>,
) -> Result<Response, AppError> {
    let mut response = json(&HeaderMap::new(), value)?;
    *response.status_mut() = status;
    response.headers_mut().remove(header::ETAG);
    if let Some(location) = location {
        let location =
            HeaderValue::from_str(&location).map_err(|e| AppError::Internal(e.into()))?;
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Only an admin's token reads people, their watching and the like.
pub fn admin_only(caller: &crate::accounts::tokens::Caller) -> Result<(), AppError> {
    match caller.person.role {
        crate::accounts::Role::Admin => Ok(()),
        _ => Err(AppError::admin_only()),
    }
}

/// Items per list answer unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// A list's query parameters checked together: every refused one is
/// named in the one 422.
#[derive(Default)]
pub struct Checks(crate::error::FieldErrors);

impl Checks {
    fn refuse(&mut self, field: &'static str, message: String) {
        self.0.entry(field).or_default().push(message);
    }

    /// A code of a list (an enum's), when one is given.
    pub fn code<T>(
        &mut self,
        field: &'static str,
        raw: Option<&str>,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let raw = raw.filter(|r| !r.is_empty())?;
        let parsed = parse(raw);
        if parsed.is_none() {
            self.refuse(field, "목록에 있는 값이 아닙니다.".into());
        }
        parsed
    }

    /// How many items, 1 to 100 (20 when not given).
    pub fn limit(&mut self, raw: Option<i64>) -> i64 {
        let limit = raw.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            self.refuse("limit", format!("1에서 {MAX_LIMIT} 사이로 주세요."));
        }
        limit
    }

    /// Where the list continues, from the previous answer's `next`.
    pub fn cursor<T>(&mut self, raw: Option<&str>, decode: fn(&str) -> Option<T>) -> Option<T> {
        let raw = raw.filter(|r| !r.is_empty())?;
        let decoded = decode(raw);
        if decoded.is_none() {
            self.refuse("cursor", "앞선 응답의 next 값을 그대로 보내 주세요.".into());
        }
        decoded
    }

    pub fn done(self) -> Result<(), AppError> {
        match self.0.is_empty() {
            true => Ok(()),
            false => Err(AppError::Validation(self.0)),
        }
    }
}

/// `cursor` and `limit` of a list that is read whole.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` of the previous answer.
    cursor: Option<String>,
    /// 1 to 100 (20 when not given).
    limit: Option<i64>,
}

/// One page of a list that is read whole because it is short by nature (a
/// person's addresses, a course's videos): the items after the one the
/// cursor names, in the list's order, and the cursor for the rest. A cursor
/// whose item has left the list is refused (start again without one).
pub fn page_of<T>(
    items: Vec<T>,
    id: impl Fn(&T) -> String,
    query: &PageQuery,
) -> Result<(Vec<T>, Option<String>), AppError> {
    let mut checks = Checks::default();
    let limit = checks.limit(query.limit) as usize;
    let after = checks.cursor(query.cursor.as_deref(), |raw| {
        cursor::decode::<1>(raw).map(|[id]| id)
    });
    let start = match &after {
        Some(after) => match items.iter().position(|item| id(item) == *after) {
            Some(at) => at + 1,
            None => {
                checks.refuse(
                    "cursor",
                    "목록이 바뀌었습니다. cursor 없이 처음부터 다시 읽어 주세요.".into(),
                );
                0
            }
        },
        None => 0,
    };
    checks.done()?;
    let more = items.len() > start + limit;
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = more
        .then(|| page.last().map(|last| cursor::encode(&[id(last)])))
        .flatten();
    Ok((page, next))
}

/// Cursors: a list item's place in its list's order, opaque to programs
/// (base64url of its fields).
pub mod cursor {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    pub fn encode(fields: &[String]) -> String {
        URL_SAFE_NO_PAD.encode(fields.join("."))
    }

    /// The cursor of a list ordered by a time and an id.
    pub fn at(time: time::OffsetDateTime, id: impl std::fmt::Display) -> String {
        encode(&[time.unix_timestamp_nanos().to_string(), id.to_string()])
    }

    /// The time and id of a cursor [`at`] made.
    pub fn decode_at<T: std::str::FromStr>(raw: &str) -> Option<(time::OffsetDateTime, T)> {
        let [nanos, id] = decode::<2>(raw)?;
        Some((
            time::OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?,
            id.parse().ok()?,
        ))
    }

    /// The `N` fields of a cursor [`encode`] made, or `None` for anything
    /// else.
    pub fn decode<const N: usize>(cursor: &str) -> Option<[String; N]> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let fields: Vec<String> = raw.splitn(N, '.').map(str::to_owned).collect();
        fields.try_into().ok()
    }
}

/// A time as RFC 3339 (`2026-12-05T09:30:00Z`), as every time in the API.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A state enum of the domain (`text_enum!`) as a string schema listing
/// its codes.
macro_rules! code_schema {
    ($($ty:ty),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(<$ty>::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    )+};
}

code_schema!(
    crate::catalog::model::Category,
    crate::catalog::model::SkillLevel,
    crate::catalog::model::PriceLevel,
    crate::catalog::model::TopicKind,
    crate::accounts::Role,
    crate::certificates::Status,
    crate::commerce::model::OrderStatus,
    crate::commerce::model::GatewayKind,
    crate::learning::watch::EventKind,
    crate::media::VideoState,
    crate::media::ImageState,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_operation_and_a_problem_for_the_rest() {
        let doc: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/api/v1/courses",
            "/api/v1/courses/{id}",
            "/api/v1/me",
            "/api/v1/me/progress",
            "/api/v1/me/missions",
            "/api/v1/certificates/{code}",
            "/api/v1/users",
            "/api/v1/users/{id}",
            "/api/v1/cart",
            "/api/v1/orders",
            "/api/v1/curricula",
            "/api/v1/curricula/{id}",
            "/api/v1/payments/{id}/refunds",
            "/api/v1/topics/{id}/watch-events",
            "/api/v1/watch-events/{id}",
        ] {
            let item = &paths[path];
            for (_, op) in item.as_object().unwrap() {
                assert!(op["responses"]["default"].is_object(), "{path}");
            }
        }
        assert!(doc["components"]["schemas"]["Problem"].is_object());
        assert_eq!(
            doc["components"]["securitySchemes"]["token"]["scheme"],
            "bearer"
        );
        // The conventions stated once: every read has its ETag and 304,
        // every operation its token, optional only where it says so.
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                assert!(op["security"].is_array(), "{method} {path}");
                if method == "get" {
                    let ok = &op["responses"]["200"];
                    assert!(ok["headers"]["ETag"].is_object(), "{path}");
                    assert!(op["responses"]["304"].is_object(), "{path}");
                }
            }
        }
        let token = serde_json::json!([{ "token": [] }]);
        assert_eq!(paths["/api/v1/orders"]["get"]["security"], token);
        assert_eq!(paths["/api/v1/cart/items"]["post"]["security"], token);
        assert_eq!(
            paths["/api/v1/courses"]["get"]["security"],
            serde_json::json!([{}, { "token": [] }])
        );
        assert!(paths["/api/v1/courses"]["post"]["responses"]["304"].is_null());
    }

    #[test]
    fn a_short_list_is_cut_after_its_cursor_and_a_cursor_of_a_gone_item_is_refused() {
        let query = |cursor: Option<String>, limit| PageQuery { cursor, limit };
        let items: Vec<u32> = (1..=5).collect();
        let id = |n: &u32| n.to_string();
        let (first, next) = page_of(items.clone(), id, &query(None, Some(2))).unwrap();
        assert_eq!(first, [1, 2]);
        let (second, next) = page_of(items.clone(), id, &query(next, Some(2))).unwrap();
        assert_eq!(second, [3, 4]);
        let (last, next) = page_of(items.clone(), id, &query(next, Some(2))).unwrap();
        assert_eq!((last, next), (vec![5], None));
        let (all, none) = page_of(items.clone(), id, &query(None, None)).unwrap();
        assert_eq!((all.len(), none), (5, None));
        let gone = Some(cursor::encode(&["9".into()]));
        for refused in [
            query(gone, None),
            query(Some("!".into()), None),
            query(None, Some(0)),
        ] {
            assert!(matches!(
                page_of(items.clone(), id, &refused),
                Err(AppError::Validation(_))
            ));
        }
    }

    #[test]
    fn an_etag_names_the_bytes_and_if_none_match_answers_304() {
        let first = json_with_etag(&HeaderMap::new(), b"{\"a\":1}".to_vec());
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag.clone());
        let second = json_with_etag(&again, b"{\"a\":1}".to_vec());
        assert_eq!(second.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(second.headers()[header::ETAG], tag);
        let changed = json_with_etag(&again, b"{\"a\":2}".to_vec());
        assert_eq!(changed.status(), StatusCode::OK);
    }
}
