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
    catalog::CatalogCache,
    error::{AppError, AppResult},
    ids::{CourseId, TopicId},
    learning::access::{self, TopicAccess},
    media::Media,
    state::AppState,
    web::{self, Form, PageCtx, Path, htmx},
};

use super::{
    prompt::clock,
    repo,
    service::{AskRefused, Progress, Question, Tutor},
    views::{
        AdminDays, AskedQuestion, HandoffView, HandoffsPage, Panel, QuestionsPage, TopicQuestions,
        TurnView, TutorPage,
    },
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
    course: CourseId,
    id: TopicId,
) -> AppResult<Panel> {
    let faq = tutor.faq(&state.db, course, id).await?;
    let turns = super::service::conversation(&state.db, user.id, id).await?;
    Ok(Panel {
        id,
        faq,
        turns: turns
            .iter()
            .map(|t| TurnView::of(t, id, &ctx.csrf_token))
            .collect(),
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
    let place = lesson(&state, &cache, &user, id).await?.topic.place;
    let panel = panel(&state, &tutor, &ctx, &user, place.course, id).await?;
    let fragment = ctx.htmx;
    reply(ctx, place.title, panel, StatusCode::OK, fragment)
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

/// A refused question's status and words.
fn refusal(refused: AskRefused) -> (StatusCode, String) {
    match refused {
        AskRefused::Empty => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "질문을 입력해 주세요.".to_owned(),
        ),
        AskRefused::TooLong { max } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("질문은 {max}자 이내로 줄여 주세요."),
        ),
        AskRefused::TooOften { wait_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("질문이 너무 잦습니다. {wait_secs}초 뒤에 다시 물어봐 주세요."),
        ),
        AskRefused::DailyQuota { per_day } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("오늘 질문할 수 있는 {per_day}번을 모두 썼습니다. 내일 다시 물어봐 주세요."),
        ),
    }
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
    let fragment = streaming || ctx.htmx;
    let asked = tutor
        .ask(
            &state.db,
            &media,
            &Question {
                user: user.id,
                course: &course,
                id,
                topic: &topic,
                whole_course: !matches!(access, TopicAccess::Preview),
                text: &form.question,
                position_secs: position(&form.position),
            },
        )
        .await
        .map_err(AppError::Internal)?;
    let (turn, progress) = match asked {
        Ok(started) => started,
        Err(refused) => {
            let (status, message) = refusal(refused);
            let panel = panel(&state, &tutor, &ctx, &user, course.id, id).await?;
            let panel = panel.refused(message, &form.question);
            return reply(ctx, topic.place.title.clone(), panel, status, fragment);
        }
    };
    if streaming {
        return Ok(stream(
            state,
            user,
            id,
            turn,
            ctx.csrf_token.clone(),
            progress,
        ));
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
    csrf_token: String,
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
                    let html = finished_turn(&state, &user, id, turn, &csrf_token).await;
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
    csrf_token: &str,
) -> String {
    let row = async {
        let mut conn = state.db.acquire().await?;
        repo::turn(&mut conn, user.id, turn).await
    };
    match row.await {
        Ok(Some(row)) => TurnView::of(&row, id, csrf_token)
            .render()
            .unwrap_or_default(),
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
    let place = lesson(&state, &cache, &user, id).await?.topic.place;
    repo::close(&mut *state.db.acquire().await?, user.id, id).await?;
    crate::learning::mine::changed(user.id);
    if ctx.htmx {
        let title = place.title;
        let panel = panel(&state, &tutor, &ctx, &user, place.course, id).await?;
        return reply(ctx, title, panel, StatusCode::OK, true);
    }
    Ok(htmx::redirect(false, &format!("/learn/topics/{id}/tutor")))
}

/// The course, if `user` teaches it (its author, or an admin).
async fn taught(
    state: &AppState,
    cache: &CatalogCache,
    user: &CurrentUser,
    course: CourseId,
) -> AppResult<Arc<crate::catalog::service::CourseView>> {
    let view = cache.course(&state.db, course).await?;
    if !crate::catalog::service::can_edit(Some(user), view.author_id) {
        return Err(AppError::Forbidden(
            "코스를 만든 튜터와 관리자만 이 코스의 학습자 질문을 보고 답할 수 있습니다.".into(),
        ));
    }
    Ok(view)
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
    let view = taught(&state, &cache, &user, course).await?;
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
    web::render(&page)
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
    web::render(&page)
}

/// `POST /learn/tutor/turns/{turn}/handoff`: "강사에게 질문하기": the
/// question, its lesson moment and the AI's answer go to the course's
/// tutors (once).
pub async fn hand_off(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(turn): Path<uuid::Uuid>,
) -> AppResult<Response> {
    let topic = repo::turn_topic(&mut *state.db.acquire().await?, user.id, turn)
        .await?
        .ok_or(AppError::NotFound)?;
    let lesson = lesson(&state, &cache, &user, topic).await?;
    let mut conn = state.db.acquire().await?;
    repo::hand_off(&mut conn, user.id, turn, lesson.course.id).await?;
    crate::learning::mine::changed(user.id);
    if ctx.htmx {
        let row = repo::turn(&mut conn, user.id, turn)
            .await?
            .ok_or(AppError::NotFound)?;
        return web::render(&TurnView::of(&row, topic, &ctx.csrf_token));
    }
    Ok(htmx::redirect(
        false,
        &format!("/learn/topics/{topic}/tutor#turn-{turn}"),
    ))
}

/// The title of `topic` in `course` (empty when it is gone).
fn topic_title(course: &crate::catalog::service::CourseView, topic: TopicId) -> String {
    course
        .lectures
        .iter()
        .flat_map(|l| l.topics.iter())
        .find(|t| t.id == topic)
        .map(|t| t.title.clone())
        .unwrap_or_default()
}

/// The handed-on questions of the staff member's courses, with `error`.
async fn handoffs_page(
    state: &AppState,
    cache: &CatalogCache,
    ctx: PageCtx,
    user: &CurrentUser,
    error: Option<(uuid::Uuid, String, String)>,
) -> AppResult<HandoffsPage> {
    let mut conn = state.db.acquire().await?;
    let mine: Vec<CourseId> = crate::catalog::studio::my_courses(&mut conn, user)
        .await?
        .into_iter()
        .filter(|c| !c.deleted)
        .map(|c| c.id)
        .collect();
    let rows = repo::handoffs(&mut conn, &mine).await?;
    drop(conn);
    let mut handoffs = Vec::with_capacity(rows.len());
    for row in rows {
        let course = cache.course(&state.db, row.course_id).await?;
        let topic = topic_title(&course, row.topic_id);
        handoffs.push(HandoffView {
            course: course.title.clone(),
            topic,
            at: clock(u64::try_from(row.position_secs).unwrap_or(0)),
            ai_answer_html: crate::web::markdown::render(&row.ai_answer),
            row,
        });
    }
    Ok(HandoffsPage {
        ctx,
        handoffs,
        error,
    })
}

/// `GET /studio/questions`: what learners asked the course's tutors.
pub async fn handoffs(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
) -> AppResult<Response> {
    let page = handoffs_page(&state, &cache, ctx, &user, None).await?;
    web::render(&page)
}

/// The handed-on question `id`, if `user` teaches its course.
async fn may_answer(
    state: &AppState,
    cache: &CatalogCache,
    user: &CurrentUser,
    id: uuid::Uuid,
) -> AppResult<CourseId> {
    let course = repo::handoff_course(&mut *state.db.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)?;
    taught(state, cache, user, course).await?;
    Ok(course)
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    /// "질문과 답을 FAQ로 공개".
    #[serde(default)]
    publish: Option<String>,
}

/// The longest answer a tutor may write.
const MAX_ANSWER_CHARS: usize = 5000;

/// The mail a learner gets when a tutor answers.
#[derive(Template)]
#[template(path = "mail/tutor_answer.txt")]
struct AnswerMail<'a> {
    nickname: &'a str,
    topic: &'a str,
    at: &'a str,
    question: &'a str,
    answer: &'a str,
    link: &'a str,
}

/// `POST /studio/questions/{id}/answer`: a tutor's answer, shown in the
/// learner's conversation and mailed to them (in the transaction that
/// keeps it); published under the lesson when asked.
pub async fn answer(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    State(tutor): State<Arc<Tutor>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<uuid::Uuid>,
    Form(form): Form<AnswerForm>,
) -> AppResult<Response> {
    let course = may_answer(&state, &cache, &user, id).await?;
    let text = form.answer.trim();
    let refused = if text.is_empty() {
        Some("답변을 입력해 주세요.".to_owned())
    } else if text.chars().count() > MAX_ANSWER_CHARS {
        Some(format!("답변은 {MAX_ANSWER_CHARS}자 이내로 써 주세요."))
    } else {
        None
    };
    if let Some(message) = refused {
        let page = handoffs_page(
            &state,
            &cache,
            ctx,
            &user,
            Some((id, message, form.answer.clone())),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, web::render(&page)?).into_response());
    }
    let publish = form.publish.is_some();
    let mut tx = state.db.begin().await?;
    let Some(answered) = repo::answer_handoff(&mut tx, id, user.id, text, publish).await? else {
        return Ok(ctx.redirect(
            "/studio/questions",
            crate::web::flash::Flash::warning("이미 답한 질문입니다."),
        ));
    };
    let learner = [answered.user_id];
    let email = crate::accounts::emails_of(&mut tx, &learner).await?;
    let nickname = crate::accounts::nicknames_of(&mut tx, &learner).await?;
    if let Some(email) = email.get(&answered.user_id) {
        let view = cache.course(&state.db, course).await?;
        let topic = topic_title(&view, answered.topic_id);
        let link = format!(
            "{}/learn/topics/{}/tutor#turn-{}",
            state.config.public_url.as_str().trim_end_matches('/'),
            answered.topic_id,
            answered.turn_id
        );
        let text = AnswerMail {
            nickname: nickname.get(&answered.user_id).map_or("", String::as_str),
            topic: &topic,
            at: &clock(u64::try_from(answered.position_secs).unwrap_or(0)),
            question: &answered.question,
            answer: text,
            link: &link,
        }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?;
        crate::infra::mail::enqueue(
            &mut tx,
            &crate::infra::mail::Mail::compose(email.clone(), &text),
        )
        .await
        .map_err(AppError::Internal)?;
    }
    tx.commit().await?;
    // The learner's conversation shows the answer.
    crate::learning::mine::changed(answered.user_id);
    if publish {
        tutor.faq_changed();
    }
    Ok(ctx.redirect(
        "/studio/questions",
        crate::web::flash::Flash::success("답변을 보냈습니다. 학습자에게 메일로도 알렸습니다."),
    ))
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    publish: String,
}

/// `POST /studio/questions/{id}/publish`: shows an answered question under
/// its lesson (`publish=yes`) or takes it back.
pub async fn publish(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    State(tutor): State<Arc<Tutor>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<uuid::Uuid>,
    Form(form): Form<PublishForm>,
) -> AppResult<Response> {
    may_answer(&state, &cache, &user, id).await?;
    let shown = form.publish == "yes";
    if !repo::publish_handoff(&mut *state.db.acquire().await?, id, shown).await? {
        return Err(AppError::Conflict(
            "아직 답하지 않은 질문은 공개할 수 없습니다.".into(),
        ));
    }
    tutor.faq_changed();
    let flash = if shown {
        "질문과 답을 강의 아래 FAQ로 공개했습니다."
    } else {
        "FAQ에서 내렸습니다."
    };
    Ok(ctx.redirect(
        "/studio/questions",
        crate::web::flash::Flash::success(flash),
    ))
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
        .at("/learn/tutor/turns/{turn}/handoff", post(hand_off))
        .at("/studio/questions", get(handoffs))
        .at("/studio/questions/{id}/answer", post(answer))
        .at("/studio/questions/{id}/publish", post(publish))
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
