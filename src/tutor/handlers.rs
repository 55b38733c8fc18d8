//! The tutor's pages: the conversation panel the lesson page opens (and
//! the same panel as a page of its own, for a browser without scripts),
//! the question that streams its answer back as server-sent events, "새
//! 대화", the questions a course's learners asked (for its tutors) and the
//! tutor's days (for admins).

use std::{convert::Infallible, sync::Arc};

use askama::Template;
use axum::{
    extract::{FromRef, State},
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::{
    accounts::{Admin, CurrentUser, Staff},
    catalog::{CatalogCache, model::TopicKind},
    error::{AppError, AppResult},
    ids::{CourseId, TopicId},
    learning::access::{self, TopicAccess},
    media::Media,
    state::AppState,
    web::{self, Form, PageCtx, Path, htmx},
};

use super::{
    prompt::{Mode, clock},
    repo::{self, NewTurn, Over},
    service::{self, Asking, Progress, Tutor},
    views::{AdminDays, AskedQuestion, Panel, QuestionsPage, TopicQuestions, TurnView, TutorPage},
};

/// The topic the learner asks about, with its course (both from the
/// catalogue's cache), and how the learner may see it.
struct Lesson {
    topic: crate::catalog::LessonTopic,
    course: Arc<crate::catalog::service::CourseView>,
    access: TopicAccess,
}

/// The lesson, if `user` may study it.
async fn lesson(
    state: &AppState,
    cache: &CatalogCache,
    user: &CurrentUser,
    id: TopicId,
) -> AppResult<Lesson> {
    let cached = cache.topic(&state.db, id).await?;
    let Some(topic) = cached.as_ref().clone() else {
        return Err(AppError::NotFound);
    };
    let course = cache.course(&state.db, topic.place.course).await?;
    let mut conn = state.db.acquire().await?;
    let access = access::viewer_access_at(&mut conn, Some(user), &topic.place, &course.sellers)
        .await?
        .ok_or(AppError::NotFound)?;
    if !access.may_study() {
        return Err(AppError::Forbidden(
            "이 토픽을 수강할 수 있는 학습자만 AI 튜터에게 질문할 수 있습니다.".into(),
        ));
    }
    Ok(Lesson {
        topic,
        course,
        access,
    })
}

/// The learner's conversation on the topic, as the panel shows it.
async fn panel(
    state: &AppState,
    tutor: &Tutor,
    ctx: &PageCtx,
    user: &CurrentUser,
    id: TopicId,
) -> AppResult<Panel> {
    let mut conn = state.db.acquire().await?;
    let turns = repo::conversation(&mut conn, user.id, id).await?;
    Ok(Panel {
        id,
        turns: turns.iter().map(|t| TurnView::of(t, id)).collect(),
        retrieval: tutor.kind() == super::prompt::BackendKind::Retrieval,
        csrf_token: ctx.csrf_token.clone(),
        max_chars: tutor.config.max_question_chars,
        error: None,
        draft: String::new(),
    })
}

/// The panel alone for htmx, inside a page of its own otherwise.
fn reply(
    ctx: PageCtx,
    title: String,
    panel: Panel,
    status: StatusCode,
    fragment: bool,
) -> AppResult<Response> {
    if fragment {
        return Ok((status, web::render(&panel)?).into_response());
    }
    let page = TutorPage {
        id: panel.id,
        ctx,
        title,
        panel,
    };
    Ok((status, web::render(&page)?).into_response())
}

/// `GET /learn/topics/{id}/tutor`: the learner's conversation on the topic.
pub async fn show(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    State(tutor): State<Arc<Tutor>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let title = lesson(&state, &cache, &user, id).await?.topic.place.title;
    let panel = panel(&state, &tutor, &ctx, &user, id).await?;
    let fragment = ctx.htmx;
    reply(ctx, title, panel, StatusCode::OK, fragment)
}

#[derive(Deserialize)]
pub struct AskForm {
    #[serde(default)]
    question: String,
    /// The player's position, in seconds.
    #[serde(default)]
    position: String,
}

/// Seconds of the player's position as the form sends it (`73.4`).
fn position(raw: &str) -> u32 {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(0, |s| s.min(24.0 * 3600.0) as u32)
}

/// The tutor's script asks for the answer as it is written.
fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// `POST /learn/topics/{id}/tutor`: a question at the player's position.
/// The tutor's script gets the answer as server-sent events while it is
/// written (`delta` pieces of text, then `done` or `failed` with the
/// finished turn's markup); a plain form waits for it and goes back to
/// the conversation.
#[allow(clippy::too_many_arguments)]
pub async fn ask(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    State(tutor): State<Arc<Tutor>>,
    State(media): State<Arc<Media>>,
    ctx: PageCtx,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<TopicId>,
    Form(form): Form<AskForm>,
) -> AppResult<Response> {
    let streaming = wants_stream(&headers);
    let Lesson {
        topic,
        course,
        access,
    } = lesson(&state, &cache, &user, id).await?;
    let question = form.question.trim();
    let refused = if question.is_empty() {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            "질문을 입력해 주세요.".to_owned(),
        ))
    } else if question.chars().count() > tutor.config.max_question_chars {
        Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "질문은 {}자 이내로 줄여 주세요.",
                tutor.config.max_question_chars
            ),
        ))
    } else {
        None
    };
    let fragment = streaming || ctx.htmx;
    if let Some((status, message)) = refused {
        let panel = panel(&state, &tutor, &ctx, &user, id).await?;
        let panel = panel.refused(message, &form.question);
        return reply(ctx, topic.place.title.clone(), panel, status, fragment);
    }
    tutor
        .index(&state.db, &media, course.id)
        .await
        .map_err(AppError::Internal)?;
    let mut conn = state.db.acquire().await?;
    let topics: Vec<TopicId> = course
        .lectures
        .iter()
        .flat_map(|l| l.topics.iter().map(|t| t.id))
        .collect();
    let mode = if topic.kind == TopicKind::Mission
        || crate::assessments::attempt_in_progress(&mut conn, user.id, &topics).await?
    {
        Mode::Hint
    } else {
        Mode::Explain
    };
    let position = position(&form.position);
    let asking = Asking {
        user: user.id,
        course: &course,
        topic: id,
        topic_title: &topic.place.title,
        reading: &topic.body,
        position_secs: position,
        whole_course: !matches!(access, TopicAccess::Preview),
    };
    let request = service::request(&mut conn, &asking, mode, question).await?;
    let taken = repo::take_turn(
        &mut conn,
        &NewTurn {
            user: user.id,
            topic: id,
            question,
            position_secs: i32::try_from(position).unwrap_or(0),
            mode,
            backend: tutor.kind(),
        },
        tutor.config.per_minute,
        tutor.config.per_day,
        web::dates::day_start(web::dates::today()),
    )
    .await?;
    drop(conn);
    let turn = match taken {
        Ok(turn) => turn,
        Err(over) => {
            let message = match over {
                Over::Rate(secs) => {
                    format!("질문이 너무 잦습니다. {secs}초 뒤에 다시 물어봐 주세요.")
                }
                Over::Quota => format!(
                    "오늘 질문할 수 있는 {}번을 모두 썼습니다. 내일 다시 물어봐 주세요.",
                    tutor.config.per_day
                ),
            };
            let panel = panel(&state, &tutor, &ctx, &user, id).await?;
            let panel = panel.refused(message, &form.question);
            return reply(
                ctx,
                topic.place.title.clone(),
                panel,
                StatusCode::TOO_MANY_REQUESTS,
                fragment,
            );
        }
    };
    let progress = tutor.start(state.db.clone(), turn, request);
    if streaming {
        return Ok(stream(state, user, id, turn, progress));
    }
    let mut progress = progress;
    while progress.recv().await.is_some() {}
    Ok(htmx::redirect(
        ctx.htmx,
        &format!("/learn/topics/{id}/tutor#turn-{turn}"),
    ))
}

/// The answer as server-sent events: `delta` (a JSON string of text as
/// it is written), then `done` or `failed` with the turn's markup.
fn stream(
    state: AppState,
    user: CurrentUser,
    id: TopicId,
    turn: uuid::Uuid,
    mut progress: mpsc::Receiver<Progress>,
) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Event, Infallible>>(64);
    tokio::spawn(async move {
        let _ = tx
            .send(Ok(Event::default().event("turn").data(turn.to_string())))
            .await;
        while let Some(step) = progress.recv().await {
            let event = match step {
                Progress::Text(text) => Event::default()
                    .event("delta")
                    .data(serde_json::to_string(&text).unwrap_or_default()),
                Progress::Done | Progress::Failed(_) => {
                    let name = if matches!(step, Progress::Done) {
                        "done"
                    } else {
                        "failed"
                    };
                    let html = finished_turn(&state, &user, id, turn).await;
                    Event::default().event(name).data(html.replace('\r', ""))
                }
            };
            if tx.send(Ok(event)).await.is_err() {
                // The learner left; the answer is still kept.
                while progress.recv().await.is_some() {}
                return;
            }
        }
    });
    let mut response = Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response();
    // No proxy may hold the stream back to buffer it.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

/// The markup of a finished turn (empty when it cannot be read).
async fn finished_turn(
    state: &AppState,
    user: &CurrentUser,
    id: TopicId,
    turn: uuid::Uuid,
) -> String {
    let row = async {
        let mut conn = state.db.acquire().await?;
        repo::turn(&mut conn, user.id, turn).await
    };
    match row.await {
        Ok(Some(row)) => TurnView::of(&row, id).render().unwrap_or_default(),
        Ok(None) => String::new(),
        Err(e) => {
            tracing::error!(error = %e, "reading a finished tutor turn");
            String::new()
        }
    }
}

/// `POST /learn/topics/{id}/tutor/new`: "새 대화" (the old one is kept,
/// no longer shown).
pub async fn start_over(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    State(tutor): State<Arc<Tutor>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<TopicId>,
) -> AppResult<Response> {
    let title = lesson(&state, &cache, &user, id).await?.topic.place.title;
    repo::close(&mut *state.db.acquire().await?, user.id, id).await?;
    if ctx.htmx {
        let panel = panel(&state, &tutor, &ctx, &user, id).await?;
        return reply(ctx, title, panel, StatusCode::OK, true);
    }
    Ok(htmx::redirect(false, &format!("/learn/topics/{id}/tutor")))
}

/// `GET /studio/insights/{course}/questions`: what learners asked the
/// tutor on each topic (not who), newest first, for the course's tutor.
pub async fn questions(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(course): Path<CourseId>,
) -> AppResult<Response> {
    let view = cache.course(&state.db, course).await?;
    if !crate::catalog::service::can_edit(Some(&user), view.author_id) {
        return Err(AppError::Forbidden(
            "이 코스의 질문은 코스를 만든 튜터와 관리자만 볼 수 있습니다.".into(),
        ));
    }
    let topics: Vec<(TopicId, String)> = view
        .lectures
        .iter()
        .flat_map(|l| l.topics.iter().map(|t| (t.id, t.title.clone())))
        .collect();
    let ids: Vec<TopicId> = topics.iter().map(|(id, _)| *id).collect();
    let asked = repo::questions(&mut *state.db.acquire().await?, &ids, 500).await?;
    let topics = topics
        .into_iter()
        .map(|(id, title)| TopicQuestions {
            questions: asked
                .iter()
                .filter(|q| q.topic_id == id)
                .map(|q| AskedQuestion {
                    question: q.question.clone(),
                    at: clock(u64::try_from(q.position_secs).unwrap_or(0)),
                    secs: q.position_secs,
                    asked_at: q.asked_at,
                })
                .collect(),
            id,
            title,
        })
        .filter(|t| !t.questions.is_empty())
        .collect();
    let page = QuestionsPage {
        ctx,
        course,
        title: view.title.clone(),
        topics,
    };
    Ok(web::render(&page)?.into_response())
}

/// `GET /admin/tutor`: questions, answers, failures, tokens and refusals
/// per Seoul day, the last 30 days.
pub async fn admin_days(
    State(state): State<AppState>,
    State(tutor): State<Arc<Tutor>>,
    ctx: PageCtx,
    _admin: Admin,
) -> AppResult<Response> {
    let days = repo::days(&mut *state.db.acquire().await?, 30).await?;
    let page = AdminDays {
        ctx,
        retrieval: tutor.kind() == super::prompt::BackendKind::Retrieval,
        model: tutor.config.model.clone(),
        days,
    };
    Ok(web::render(&page)?.into_response())
}

/// Whether `path` is a question to the tutor (its request may take as long
/// as an answer).
pub fn is_ask_path(path: &str) -> bool {
    path.starts_with("/learn/topics/") && path.ends_with("/tutor")
}

/// The tutor's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<CatalogCache>: FromRef<S>,
    Arc<Media>: FromRef<S>,
    Arc<Tutor>: FromRef<S>,
{
    use crate::web::routes::prelude::*;
    Router::new()
        .at("/learn/topics/{id}/tutor", get(show).post(ask))
        .at("/learn/topics/{id}/tutor/new", post(start_over))
        .at("/studio/insights/{course}/questions", get(questions))
        .at("/admin/tutor", get(admin_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_players_position_is_read_leniently_and_bounded() {
        assert_eq!(position("73.9"), 73);
        assert_eq!(position(""), 0);
        assert_eq!(position("-5"), 0);
        assert_eq!(position("NaN"), 0);
        assert_eq!(position("1e12"), 86_400);
        assert!(is_ask_path("/learn/topics/abc/tutor"));
        assert!(!is_ask_path("/learn/topics/abc/tutor/new"));
    }
}
