//! Watching, for programs: a player (a mobile app) opens a watch session
//! on a video topic and sends its events, through the same checks and the
//! same progress rules as the lesson page's player; admins read a
//! learner's events on a topic, correct one and delete one, and the
//! learner's progress is folded again from the log.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    accounts::tokens::Caller,
    api::{
        Checks, admin_only,
        auth::{Reader, Writer},
        cursor, json, made, rfc3339,
    },
    error::{AppError, AppResult},
    ids::{TopicId, UserId, WatchEventId},
    labels::watch_refusal_text,
    learning::{
        Completion, access,
        progress::{self, EventRow, WatchError},
        session,
        watch::{EventKind, RawBatch, RawEvent, Refusal},
    },
    state::AppState,
    web::{Json, Path, Query},
};

/// The one mapping of a refused or failed batch to a problem.
fn watch_problem(err: WatchError) -> AppError {
    match err {
        WatchError::Refused(refused) => {
            let message = watch_refusal_text(refused);
            AppError::field(
                "events",
                match refused {
                    Refusal::Empty | Refusal::TooMany => message.to_owned(),
                    Refusal::Kind(i)
                    | Refusal::Position(i)
                    | Refusal::Duration(i)
                    | Refusal::Rate(i)
                    | Refusal::Sequence(i) => format!("{}번째 기록: {message}", i + 1),
                },
            )
        }
        WatchError::NoSession => {
            AppError::Conflict("시청 세션이 없거나 오래되었습니다. 세션을 새로 열어 주세요.".into())
        }
        WatchError::TooMany(retry_after_secs) => AppError::TooManyRequests { retry_after_secs },
        WatchError::Db(err) => err.into(),
        WatchError::Heard(err) => AppError::Internal(err),
    }
}

/// The caller may study the topic (bought it, a preview, or its author),
/// and it has a video ready; its length in seconds.
async fn video_to_watch(
    conn: &mut sqlx::PgConnection,
    caller: &Caller,
    topic: TopicId,
) -> AppResult<f64> {
    let (_, access) = access::viewer_access(conn, Some(&caller.person), topic)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access.may_study() {
        return Err(AppError::Forbidden(
            "이 토픽은 수강권이 있어야 볼 수 있습니다.".into(),
        ));
    }
    crate::media::ready_video_secs(conn, topic)
        .await?
        .ok_or_else(|| AppError::Conflict("이 토픽에는 재생할 수 있는 영상이 없습니다.".into()))
}

/// Where a player starts: its session, and the learner's place.
#[derive(Serialize, ToSchema)]
pub struct WatchSession {
    /// Send with every batch of this player's events (valid 24 hours).
    pub session: String,
    /// The video's length, from the server.
    pub video_secs: f64,
    /// Where to start playing (where the learner left off).
    pub resume_at_secs: u32,
    /// Seconds of the video the learner has watched, each once.
    pub watched_secs: f64,
    pub completed: bool,
}

/// Open a watch session on a video topic, as the lesson page does.
#[utoipa::path(
    post,
    path = "/api/v1/topics/{id}/watch-sessions",
    tag = "learning",
    summary = "시청 세션 열기",
    description = "영상을 재생하기 전에 엽니다. 받은 session을 시청 기록과 함께 보냅니다. 세션이 열린 뒤 흐른 시간만큼만 시청이 인정됩니다.",
    params(("id" = Uuid, Path, description = "토픽 id")),
    responses((status = 201, description = "세션과 이어 볼 위치", body = WatchSession))
)]
pub async fn open_session(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(topic): Path<TopicId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let video_secs = video_to_watch(&mut conn, &caller, topic).await?;
    let progress = progress::topic_progress(&mut conn, caller.user(), topic).await?;
    let answer = WatchSession {
        session: session::issue(&state.signer, caller.user(), topic),
        video_secs,
        resume_at_secs: progress.resume_at(video_secs),
        watched_secs: progress.watched_secs,
        completed: progress.completed,
    };
    made(StatusCode::CREATED, &answer, None)
}

/// A batch of a player's events.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchBatch {
    /// From `watch-sessions`.
    pub session: String,
    /// 1 to 60 events, in the order they happened.
    pub events: Vec<WatchEventIn>,
}

/// One thing that happened in the player.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchEventIn {
    /// One of the `EventKind` codes.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds into the video.
    pub position: f64,
    /// The video's length as the player knows it.
    pub duration: f64,
    /// Playback rate, 0.5 to 2 (needed for `ratechange`).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Where a seek started.
    #[serde(default)]
    pub from: Option<f64>,
    /// The event's number in its session, from 0: a repeat is stored once.
    #[serde(default)]
    pub seq: Option<i32>,
    /// Where the stretch played up to this event began.
    #[serde(default)]
    pub since: Option<f64>,
}

impl From<WatchEventIn> for RawEvent {
    fn from(e: WatchEventIn) -> Self {
        RawEvent {
            kind: e.kind,
            position: e.position,
            duration: e.duration,
            rate: e.rate,
            from: e.from,
            seq: e.seq,
            since: e.since,
        }
    }
}

/// What a batch left: the learner's progress on the topic now.
#[derive(Serialize, ToSchema)]
pub struct Recorded {
    /// Events kept (a repeat is not).
    pub stored: u64,
    pub watched_secs: f64,
    /// 0 to 100.
    pub percent: f64,
    pub completed: bool,
}

/// Send a batch of watch events.
#[utoipa::path(
    post,
    path = "/api/v1/topics/{id}/watch-events",
    tag = "learning",
    summary = "시청 기록 보내기",
    description = "강의 페이지의 플레이어와 같은 규칙: 영상 안의 위치만, 실제로 흐른 시간만큼만 인정하고, 같은 번호의 기록은 한 번만 저장합니다.",
    params(("id" = Uuid, Path, description = "토픽 id")),
    request_body = WatchBatch,
    responses((status = 200, description = "이 토픽의 진도", body = Recorded))
)]
pub async fn record(
    State(state): State<AppState>,
    State(completion): State<Completion>,
    Writer(caller): Writer,
    Path(topic): Path<TopicId>,
    Json(batch): Json<WatchBatch>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let video_secs = video_to_watch(&mut conn, &caller, topic).await?;
    let batch = RawBatch {
        session: Some(batch.session),
        events: batch.events.into_iter().map(RawEvent::from).collect(),
    };
    let done = progress::take_batch(
        &mut conn,
        &state.signer,
        &state.config,
        &completion,
        caller.user(),
        topic,
        video_secs,
        batch,
    )
    .await
    .map_err(watch_problem)?;
    json(
        &HeaderMap::new(),
        &Recorded {
            stored: done.stored,
            watched_secs: done.watched_secs,
            percent: done.percent,
            completed: done.completed,
        },
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The learner's id.
    user: Uuid,
    /// The topic's id.
    topic: Uuid,
    /// One of the `EventKind` codes: that kind only.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The `next` of the previous answer.
    cursor: Option<String>,
    /// 1 to 100 (20 when not given).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct WatchHistory {
    /// In the order they were folded into the learner's progress.
    pub items: Vec<WatchEvent>,
    /// Pass as `cursor` for the later events; absent on the last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// An event as it was stored, with what it credited.
#[derive(Serialize, ToSchema)]
pub struct WatchEvent {
    pub id: i64,
    pub user_id: Uuid,
    pub topic_id: Uuid,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub position: f64,
    pub duration: f64,
    pub rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seek_from: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub played_from: Option<f64>,
    /// RFC 3339.
    pub received_at: String,
    /// Seconds of the video it proved watched, new ones only.
    pub credited_secs: f64,
    /// Seconds of study time it counted.
    pub study_secs: f64,
    /// RFC 3339, when an admin corrected it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
}

impl From<EventRow> for WatchEvent {
    fn from(e: EventRow) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id.0,
            topic_id: e.topic_id.0,
            kind: e.kind,
            position: e.position,
            duration: e.duration,
            rate: f64::from(e.rate),
            seek_from: e.seek_from,
            played_from: e.played_from,
            received_at: rfc3339(e.received_at),
            credited_secs: e.credited,
            study_secs: e.study_secs,
            edited_at: e.edited_at.map(rfc3339),
        }
    }
}

/// A learner's events on one topic (an admin's token).
#[utoipa::path(
    get,
    path = "/api/v1/watch-events",
    tag = "learning",
    summary = "시청 기록 (관리자)",
    description = "한 수강생의 한 토픽 시청 기록을 진도에 반영된 순서로. 관리자의 토큰으로만.",
    params(HistoryQuery),
    responses((status = 200, description = "시청 기록", body = WatchHistory))
)]
pub async fn history(
    State(state): State<AppState>,
    Reader(caller): Reader,
    headers: HeaderMap,
    Query(query): Query<HistoryQuery>,
) -> AppResult<Response> {
    admin_only(&caller)?;
    let mut checks = Checks::default();
    let kind = checks.code("type", query.kind.as_deref(), EventKind::parse);
    let limit = checks.limit(query.limit);
    let after = checks.cursor(query.cursor.as_deref(), cursor::decode_at::<i64>);
    checks.done()?;
    let mut conn = state.db.acquire().await?;
    let (events, more) = progress::events_after(
        &mut conn,
        UserId(query.user),
        TopicId(query.topic),
        kind,
        after.map(|(at, id)| (at, WatchEventId(id))),
        limit,
    )
    .await?;
    drop(conn);
    let next = more
        .then(|| {
            events.last().map(|e| {
                cursor::encode(&[
                    e.received_at.unix_timestamp_nanos().to_string(),
                    e.id.to_string(),
                ])
            })
        })
        .flatten();
    let items = events.into_iter().map(WatchEvent::from).collect();
    json(&headers, &WatchHistory { items, next })
}

/// An admin's correction; a field left out keeps its value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventCorrection {
    /// One of the `EventKind` codes.
    #[serde(rename = "type")]
    kind: Option<String>,
    position: Option<f64>,
    duration: Option<f64>,
    rate: Option<f64>,
}

/// Correct one event; the learner's progress is folded again.
#[utoipa::path(
    patch,
    path = "/api/v1/watch-events/{id}",
    tag = "learning",
    summary = "시청 기록 고치기 (관리자)",
    description = "플레이어의 기록과 같은 검사를 거칩니다. 고친 뒤 그 수강생의 진도를 기록에서 다시 계산합니다.",
    params(("id" = i64, Path, description = "시청 기록 id")),
    request_body = EventCorrection,
    responses((status = 200, description = "고친 기록", body = WatchEvent))
)]
pub async fn correct(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<WatchEventId>,
    Json(fix): Json<EventCorrection>,
) -> AppResult<Response> {
    admin_only(&caller)?;
    let mut conn = state.db.acquire().await?;
    let before = progress::event(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let edited = RawEvent {
        kind: fix.kind.unwrap_or_else(|| before.kind.as_str().to_owned()),
        position: fix.position.unwrap_or(before.position),
        duration: fix.duration.unwrap_or(before.duration),
        rate: Some(fix.rate.unwrap_or(f64::from(before.rate))),
        from: before.seek_from,
        seq: None,
        since: before.played_from,
    };
    let found = progress::edit_event(&mut conn, id, edited, state.config.complete_at_percent)
        .await
        .map_err(|err| match err {
            // One event: its fields are the body's, not the batch's.
            WatchError::Refused(refused) => AppError::field(
                match refused {
                    Refusal::Position(_) => "position",
                    Refusal::Duration(_) => "duration",
                    Refusal::Rate(_) => "rate",
                    _ => "type",
                },
                watch_refusal_text(refused),
            ),
            other => watch_problem(other),
        })?;
    if !found {
        return Err(AppError::NotFound);
    }
    let after = progress::event(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    json(&HeaderMap::new(), &WatchEvent::from(after))
}

/// Delete one event; the learner's progress is folded again.
#[utoipa::path(
    delete,
    path = "/api/v1/watch-events/{id}",
    tag = "learning",
    summary = "시청 기록 지우기 (관리자)",
    params(("id" = i64, Path, description = "시청 기록 id")),
    responses((status = 204, description = "지우고 진도를 다시 계산했습니다"))
)]
pub async fn delete(
    State(state): State<AppState>,
    Writer(caller): Writer,
    Path(id): Path<WatchEventId>,
) -> AppResult<StatusCode> {
    admin_only(&caller)?;
    progress::delete_event(
        &mut *state.db.acquire().await?,
        id,
        state.config.complete_at_percent,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(StatusCode::NO_CONTENT)
}
