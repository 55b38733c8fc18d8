//! The lesson page (`/learn/topics/{id}`): the topic's video in the player
//! (resuming where the learner left off), its text, the course outline with
//! what is done, and the learner's notes; the watch-event endpoint the
//! player reports to; notes and bookmarks.

use crate::catalog::CatalogCache;
use std::sync::Arc;

mod admin;

use axum::extract::FromRef;

use askama::Template;
use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::accounts::MaybeUser;
use crate::labels as filters;
use crate::{
    accounts::CurrentUser,
    catalog::{self, TopicPlace, model::TopicKind, service::CourseView},
    error::{AppError, AppResult},
    ids::TopicId,
    learning::Completion,
    learning::{
        access::{self, TopicAccess},
        notes::{self, Note},
        progress::{self, TopicProgress, WatchError},
        session,
        watch::RawBatch,
    },
    media::{self, PlayerVideo},
    state::AppState,
    web::{self, Form, Path, flash::Flash, page::PageCtx},
};

/// One topic in the lesson page's outline.
pub struct OutlineTopic {
    pub id: TopicId,
    pub title: String,
    pub kind: crate::catalog::model::TopicKind,
    pub done: bool,
    pub percent: i64,
    pub current: bool,
}

pub struct OutlineLecture {
    pub title: String,
    pub topics: Vec<OutlineTopic>,
}

/// The course around a topic, with the learner's progress through it.
pub struct Outline {
    pub lectures: Vec<OutlineLecture>,
    pub percent: i64,
    pub previous: Option<(TopicId, String)>,
    pub next: Option<(TopicId, String)>,
}

impl Outline {
    fn of(
        course: &CourseView,
        current: TopicId,
        drafts: bool,
        done: &std::collections::HashMap<TopicId, (bool, f64)>,
    ) -> Self {
        let lectures: Vec<OutlineLecture> = course
            .lectures
            .iter()
            .filter(|l| drafts || l.published)
            .map(|l| OutlineLecture {
                title: l.title.clone(),
                topics: l
                    .topics
                    .iter()
                    .filter(|t| drafts || t.published)
                    .map(|t| {
                        let (is_done, share) = done.get(&t.id).copied().unwrap_or_default();
                        OutlineTopic {
                            id: t.id,
                            title: t.title.clone(),
                            kind: t.kind,
                            done: is_done,
                            percent: (share * 100.0).floor() as i64,
                            current: t.id == current,
                        }
                    })
                    .collect(),
            })
            .collect();
        let flat: Vec<&OutlineTopic> = lectures.iter().flat_map(|l| &l.topics).collect();
        let at = flat.iter().position(|t| t.current);
        let pick = |i: Option<usize>| i.and_then(|i| flat.get(i)).map(|t| (t.id, t.title.clone()));
        let total = flat.len().max(1) as f64;
        let share: f64 = flat
            .iter()
            .map(|t| {
                if t.done {
                    1.0
                } else {
                    t.percent as f64 / 100.0
                }
            })
            .sum();
        Self {
            previous: pick(at.and_then(|i| i.checked_sub(1))),
            next: pick(at.map(|i| i + 1)),
            percent: (share * 100.0 / total).floor() as i64,
            lectures,
        }
    }

    fn done(&self, topic: TopicId) -> bool {
        self.lectures
            .iter()
            .flat_map(|l| &l.topics)
            .any(|t| t.id == topic && t.done)
    }
}

/// The video box: the player when the video is ready, its state otherwise
/// (polled by htmx while it is being made).
#[derive(Template)]
#[template(path = "learning/_video_state.html")]
pub struct VideoBox {
    id: TopicId,
    video: Option<PlayerVideo>,
    /// Where the player starts.
    resume_at: u32,
    /// The learner's playback speed.
    rate: f32,
    /// Seconds already watched, `start-end` pairs (the seek bar shows them).
    watched: String,
    /// Signed in: the player reports watch events, in this watch session.
    records: bool,
    watch_session: String,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "learning/topic.html")]
struct TopicPage {
    ctx: PageCtx,
    id: TopicId,
    place: TopicPlace,
    kind: TopicKind,
    body: String,
    access: TopicAccess,
    player: VideoBox,
    outline: Outline,
    notes: NoteList,
    signed_in: bool,
    /// A mission topic's mission.
    mission: Option<uuid::Uuid>,
}

impl TopicPage {
    fn may_study(&self) -> bool {
        self.access.may_study()
    }

    fn lapsed(&self) -> bool {
        self.access == TopicAccess::Lapsed
    }

    fn is_video(&self) -> bool {
        self.kind == TopicKind::Video
    }

    fn is_mission(&self) -> bool {
        self.kind == TopicKind::Mission
    }

    fn is_reading(&self) -> bool {
        self.kind == TopicKind::Reading
    }

    fn done(&self) -> bool {
        self.outline.done(self.id)
    }
}

/// The learner's notes on a topic (swapped by htmx after a change).
#[derive(Template)]
#[template(path = "learning/_notes.html")]
pub struct NoteList {
    id: TopicId,
    notes: Vec<Note>,
    csrf_token: String,
    error: Option<&'static str>,
}

/// The video box for a viewer who may study the topic; `learner` is a
/// signed-in one with their playback speed.
fn video_box(
    signer: &crate::web::signing::Signer,
    video: Option<PlayerVideo>,
    learner: Option<(&CurrentUser, f32)>,
    id: TopicId,
    progress: &TopicProgress,
    csrf_token: &str,
) -> VideoBox {
    let secs = video.as_ref().map_or(0.0, |v| v.secs);
    VideoBox {
        id,
        resume_at: progress.resume_at(secs),
        rate: learner.map_or(1.0, |(_, rate)| rate),
        watched: progress
            .watched
            .spans()
            .iter()
            .map(|(s, e)| format!("{s:.1}-{e:.1}"))
            .collect::<Vec<_>>()
            .join(" "),
        records: learner.is_some(),
        watch_session: learner
            .map_or_else(String::new, |(user, _)| session::issue(signer, user.id, id)),
        csrf_token: csrf_token.to_owned(),
        video,
    }
}

/// The lesson page. What every viewer of the topic shares (its place and
/// text, the course outline, the video) comes from caches; a signed-in
/// learner's own state is one statement ([`progress::lesson_state`]), and a
/// mission topic adds the lookup of its mission.
pub async fn topic_page(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let topic = cache.topic(&state.db, id).await?;
    let Some(topic) = topic.as_ref() else {
        return Err(AppError::NotFound);
    };
    let course = cache.course(&state.db, topic.place.course).await?;
    let mut conn = state.db.acquire().await?;
    let access =
        access::viewer_access_at(&mut conn, viewer.as_ref(), &topic.place, &course.sellers)
            .await?
            .ok_or(AppError::NotFound)?;
    if !access.may_study() && viewer.is_none() {
        return Err(AppError::Unauthorized);
    }
    let learner = viewer.as_ref().filter(|_| access.may_study());
    let mine = match learner {
        Some(user) => {
            let ids: Vec<TopicId> = course
                .lectures
                .iter()
                .flat_map(|l| l.topics.iter().map(|t| t.id))
                .collect();
            progress::lesson_state(&mut conn, user.id, id, &ids).await?
        }
        None => progress::LessonState::default(),
    };
    let mission = if topic.kind == TopicKind::Mission {
        crate::assessments::mission_of_topic(&mut conn, id).await?
    } else {
        None
    };
    let player = if access.may_study() && topic.kind == TopicKind::Video {
        let video = media::lesson_video(&mut conn, id).await?;
        video_box(
            &state.signer,
            (*video).clone(),
            learner.map(|user| (user, mine.rate)),
            id,
            &mine.topic,
            &ctx.csrf_token,
        )
    } else {
        VideoBox {
            id,
            video: None,
            resume_at: 0,
            rate: 1.0,
            watched: String::new(),
            records: false,
            watch_session: String::new(),
            csrf_token: String::new(),
        }
    };
    drop(conn);
    let status = if access.may_study() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    let page = TopicPage {
        outline: Outline::of(
            &course,
            id,
            topic.place.authored_by(viewer.as_ref()),
            &mine.outline,
        ),
        notes: NoteList {
            id,
            notes: mine.notes,
            csrf_token: ctx.csrf_token.clone(),
            error: None,
        },
        signed_in: viewer.is_some(),
        mission,
        ctx,
        id,
        place: topic.place.clone(),
        kind: topic.kind,
        body: topic.body.clone(),
        access,
        player,
    };
    Ok((status, web::render(&page)?).into_response())
}

/// Studying this topic is allowed for `viewer`, or the reason it is not.
async fn may_study(
    conn: &mut sqlx::PgConnection,
    viewer: Option<&CurrentUser>,
    id: TopicId,
) -> AppResult<()> {
    let (_, access) = access::viewer_access(conn, viewer, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match (access.may_study(), viewer) {
        (true, _) => Ok(()),
        (false, None) => Err(AppError::Unauthorized),
        (false, Some(_)) => Err(AppError::Forbidden(
            "이 토픽은 수강권이 있어야 볼 수 있습니다.".into(),
        )),
    }
}

/// `GET /learn/topics/{id}/video`: the video box again, polled while the
/// video is being prepared.
pub async fn video_state(
    State(state): State<AppState>,
    ctx: PageCtx,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    may_study(&mut conn, viewer.as_ref(), id).await?;
    let progress = match &viewer {
        Some(user) => progress::topic_progress(&mut conn, user.id, id).await?,
        None => TopicProgress::default(),
    };
    // Read fresh: this is what shows a video that is being made.
    let video = media::player_video(&mut conn, id).await?;
    let rate = match &viewer {
        Some(user) => progress::playback_rate(&mut conn, user.id).await?,
        None => 1.0,
    };
    let video = video_box(
        &state.signer,
        video,
        viewer.as_ref().map(|user| (user, rate)),
        id,
        &progress,
        &ctx.csrf_token,
    );
    web::render(&video)
}

/// A refusal of the event endpoint: its status and a Korean message, as JSON.
fn refusal(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// `POST /learn/topics/{id}/events`: a batch of watch events as JSON (with
/// `X-CSRF-Token`, or `?csrf_token=` from `sendBeacon`, which cannot set
/// headers and sends `text/plain`). Answers what the learner's progress on
/// the topic is now.
pub async fn events(
    State(state): State<AppState>,
    State(completion): State<Completion>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<TopicId>,
    body: Bytes,
) -> AppResult<Response> {
    let Some(user) = viewer else {
        return Ok(refusal(StatusCode::UNAUTHORIZED, "로그인이 필요합니다."));
    };
    let mut conn = state.db.acquire().await?;
    if let Err(err) = may_study(&mut conn, Some(&user), id).await {
        return match err {
            AppError::Forbidden(message) => Ok(refusal(StatusCode::FORBIDDEN, &message)),
            other => Err(other),
        };
    }
    let Some(video_secs) = media::ready_video_secs(&mut conn, id).await? else {
        return Ok(refusal(
            StatusCode::CONFLICT,
            "이 토픽에는 재생할 수 있는 영상이 없습니다.",
        ));
    };
    let Ok(batch) = serde_json::from_slice::<RawBatch>(&body) else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "시청 기록 형식이 올바르지 않습니다.",
        ));
    };
    let taken = progress::take_batch(
        &mut conn,
        &state.signer,
        &state.config,
        &completion,
        user.id,
        id,
        video_secs,
        batch,
    )
    .await;
    match taken {
        Ok(done) => Ok(Json(serde_json::json!({
            "stored": done.stored,
            "watched_secs": done.watched_secs,
            "percent": done.percent,
            "completed": done.completed,
        }))
        .into_response()),
        Err(WatchError::TooMany(wait)) => {
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "시청 기록이 너무 자주 전송되었습니다. 잠시 뒤 다시 보내 주세요.",
            );
            if let Ok(value) = wait.to_string().parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(WatchError::Refused(refused)) => {
            tracing::debug!(%refused, "watch batch refused");
            Ok(refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "시청 기록을 받을 수 없습니다: {}",
                    crate::labels::watch_refusal_text(refused)
                ),
            ))
        }
        Err(WatchError::NoSession) => Ok(refusal(StatusCode::CONFLICT, NO_SESSION)),
        Err(WatchError::Db(err)) => Err(err.into()),
        Err(WatchError::Heard(err)) => Err(err.into()),
    }
}

/// `POST /learn/topics/{id}/read`: the learner finished a reading. Opening
/// one completes nothing (a GET changes nothing that matters); this does,
/// through learning's one completion path.
pub async fn read_topic(
    State(state): State<AppState>,
    State(completion): State<Completion>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (_, access) = access::viewer_access(&mut conn, Some(&user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access.may_study() {
        return Err(AppError::Forbidden(
            "수강 중인 강의의 읽기 자료만 완료할 수 있습니다.".into(),
        ));
    }
    let (kind, _) = catalog::topic_text(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if kind != TopicKind::Reading {
        return Err(AppError::NotFound);
    }
    let newly = completion.complete(&mut conn, user.id, id).await?;
    let flash = if newly {
        Flash::success("읽기 자료를 완료했습니다.")
    } else {
        Flash::info("이미 완료한 읽기 자료입니다.")
    };
    Ok(ctx.redirect(&format!("/learn/topics/{id}"), flash))
}

/// The player's batch came without the page's watch session (an old page).
const NO_SESSION: &str = "시청 기록을 이어 가려면 페이지를 새로 고쳐 주세요.";

fn note_refusal_text(refused: notes::NoteRefused) -> &'static str {
    match refused {
        notes::NoteRefused::Position => "메모를 남길 재생 위치가 올바르지 않습니다.",
        notes::NoteRefused::TooLong => "메모는 1,000자까지 쓸 수 있습니다.",
        notes::NoteRefused::TooMany => "한 토픽에 남길 수 있는 메모는 200개까지입니다.",
    }
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    position: String,
    #[serde(default)]
    body: String,
}

/// `POST /learn/topics/{id}/notes`: a note (or, without text, a bookmark)
/// at the player's position.
pub async fn add_note(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<TopicId>,
    Form(form): Form<NoteForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    may_study(&mut conn, Some(&user), id).await?;
    let error = match notes::add(&mut conn, user.id, id, &form.position, &form.body).await? {
        Ok(()) => None,
        Err(refused) => Some(note_refusal_text(refused)),
    };
    notes_reply(&ctx, &mut conn, &user, id, error).await
}

/// `POST /learn/notes/{id}/delete`: deletes one of the learner's notes.
pub async fn delete_note(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(note): Path<uuid::Uuid>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let topic = notes::delete(&mut conn, user.id, note)
        .await?
        .ok_or(AppError::NotFound)?;
    notes_reply(&ctx, &mut conn, &user, topic, None).await
}

/// htmx gets the list again; a plain form goes back to the lesson.
async fn notes_reply(
    ctx: &PageCtx,
    conn: &mut sqlx::PgConnection,
    user: &CurrentUser,
    id: TopicId,
    error: Option<&'static str>,
) -> AppResult<Response> {
    if ctx.htmx {
        let list = NoteList {
            id,
            notes: notes::list(conn, user.id, id).await?,
            csrf_token: ctx.csrf_token.clone(),
            error,
        };
        let status = if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        return Ok((status, web::render(&list)?).into_response());
    }
    let flash = match error {
        Some(message) => Flash::warning(message),
        None => Flash::success("메모를 저장했습니다."),
    };
    Ok(ctx.redirect(&format!("/learn/topics/{id}#notes"), flash))
}

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    std::sync::Arc<crate::catalog::CatalogCache>: FromRef<S>,
    std::sync::Arc<crate::media::Media>: FromRef<S>,
    crate::learning::Completion: FromRef<S>,
{
    use crate::web::routes::prelude::*;
    Router::new()
        .at("/learn/topics/{id}", get(topic_page))
        .at("/learn/topics/{id}/video", get(video_state))
        .at("/learn/topics/{id}/events", post(events))
        .at("/learn/topics/{id}/read", post(read_topic))
        .at("/learn/topics/{id}/notes", post(add_note))
        .at("/learn/notes/{id}/delete", post(delete_note))
        .merge(admin::routes())
}
