//! Watch history for admins: `/admin/watch` lists learners' progress on
//! videos (filter by email and topic); `/admin/watch/{user}/{topic}` lists
//! one learner's events on one video (filter by type); an event can be
//! viewed, corrected and deleted, and the learner's progress is folded again
//! from the log.

use askama::Template;

use crate::labels as filters;
use axum::{
    Router,
    extract::{FromRef, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::accounts::Admin;
use crate::{
    error::{AppError, AppResult},
    ids::{TopicId, UserId},
    labels::Label,
    learning::{
        progress::{self, EventRow, WatchError, WatchSummary},
        watch::{EventKind, RawEvent},
    },
    state::AppState,
    web::{self, Form, PageCtx, Path, Query, csv::Csv, flash::Flash, form::FormErrors, routes::At},
};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    Router::new()
        .at("/admin/watch", get(list))
        .at("/admin/watch/{user}/{topic}", get(events))
        .at("/admin/watch/events/{id}", get(event).post(update))
        .at("/admin/watch/events/{id}/delete", post(delete))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin/watch.html")]
struct WatchPage {
    ctx: PageCtx,
    email: String,
    topic: String,
    rows: Vec<WatchSummary>,
}

async fn list(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let email: String = query.email.trim().chars().take(100).collect();
    let topic: String = query.topic.trim().chars().take(100).collect();
    let rows = progress::watch_summaries(&mut *state.db.acquire().await?, &email, &topic).await?;
    if query.format == "csv" {
        let mut csv = Csv::new(
            "watch",
            &[
                "수강생",
                "코스",
                "토픽",
                "본 부분(%)",
                "완료",
                "기록 수",
                "마지막 시청",
            ],
        );
        for r in &rows {
            csv.row([
                r.email.clone(),
                r.course_title.clone(),
                r.topic_title.clone(),
                r.percent.to_string(),
                if r.completed { "완료" } else { "" }.to_owned(),
                r.events.to_string(),
                web::dates::sheet(&r.updated_at),
            ]);
        }
        return Ok(csv.into_response());
    }
    web::render(&WatchPage {
        ctx,
        email,
        topic,
        rows,
    })
}

/// Whose record and of what, in words (the pages show names, not ids).
struct Who {
    email: String,
    topic: String,
    course: String,
}

async fn who(conn: &mut sqlx::PgConnection, user: UserId, topic: TopicId) -> AppResult<Who> {
    let email = crate::accounts::emails_of(conn, &[user])
        .await?
        .remove(&user)
        .unwrap_or_default();
    let (topic, course) = crate::catalog::topic_titles(conn, &[topic])
        .await?
        .remove(&topic)
        .unwrap_or_default();
    Ok(Who {
        email,
        topic,
        course,
    })
}

#[derive(Deserialize, Default)]
struct EventsQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    format: String,
}

#[derive(Template)]
#[template(path = "admin/watch_events.html")]
struct EventsPage {
    ctx: PageCtx,
    user: UserId,
    topic: TopicId,
    who: Who,
    kind: Option<EventKind>,
    events: Vec<EventRow>,
}

impl WatchPage {
    /// This list as a CSV download.
    fn csv_href(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("email", &self.email);
        q.append_pair("topic", &self.topic);
        q.append_pair("format", "csv");
        format!("/admin/watch?{}", q.finish())
    }
}

impl EventsPage {
    /// These events as a CSV download.
    fn csv_href(&self) -> String {
        let kind = self.kind.as_ref().map_or("", EventKind::as_str);
        format!(
            "/admin/watch/{}/{}?kind={kind}&format=csv",
            self.user, self.topic
        )
    }

    fn kinds(&self) -> &'static [EventKind] {
        EventKind::ALL
    }

    fn selected(&self, kind: &EventKind) -> bool {
        self.kind == Some(*kind)
    }
}

async fn events(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path((user, topic)): Path<(UserId, TopicId)>,
    Query(query): Query<EventsQuery>,
) -> AppResult<Response> {
    let kind = EventKind::parse(&query.kind);
    let mut conn = state.db.acquire().await?;
    let events = progress::events_of(&mut conn, user, topic, kind).await?;
    let who = who(&mut conn, user, topic).await?;
    if query.format == "csv" {
        let mut csv = Csv::new(
            "watch-events",
            &[
                "수강생",
                "토픽",
                "번호",
                "받은 시각",
                "종류",
                "위치(초)",
                "속도",
                "인정된 시청(초)",
                "학습 시간(초)",
                "고친 시각",
            ],
        );
        for e in &events {
            csv.row([
                who.email.clone(),
                who.topic.clone(),
                e.id.to_string(),
                web::dates::sheet(&e.received_at),
                e.kind.label().to_owned(),
                format!("{:.1}", e.position),
                format!("{:.2}", e.rate),
                format!("{:.1}", e.credited),
                format!("{:.1}", e.study_secs),
                e.edited_at
                    .as_ref()
                    .map(web::dates::sheet)
                    .unwrap_or_default(),
            ]);
        }
        return Ok(csv.into_response());
    }
    web::render(&EventsPage {
        ctx,
        user,
        topic,
        who,
        kind,
        events,
    })
}

#[derive(Template)]
#[template(path = "admin/watch_event.html")]
struct EventPage {
    ctx: PageCtx,
    event: EventRow,
    who: Who,
    errors: FormErrors,
}

impl EventPage {
    fn kinds(&self) -> &'static [EventKind] {
        EventKind::ALL
    }
}

async fn event(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<crate::ids::WatchEventId>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let event = progress::event(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let who = who(&mut conn, event.user_id, event.topic_id).await?;
    web::render(&EventPage {
        ctx,
        event,
        who,
        errors: FormErrors::new(),
    })
}

#[derive(Deserialize)]
struct EventForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    rate: String,
}

async fn update(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<crate::ids::WatchEventId>,
    Form(form): Form<EventForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let before = progress::event(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FormErrors::new();
    let number = |raw: &str| raw.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    let position = number(&form.position);
    let duration = number(&form.duration);
    let rate = number(&form.rate);
    if EventKind::parse(&form.kind).is_none() {
        errors.add("kind", "기록 종류를 고르세요.");
    }
    if position.is_none() {
        errors.add("position", "재생 위치를 초 단위 숫자로 입력하세요.");
    }
    if duration.is_none() {
        errors.add("duration", "영상 길이를 초 단위 숫자로 입력하세요.");
    }
    if rate.is_none() {
        errors.add("rate", "재생 속도를 숫자로 입력하세요.");
    }
    if errors.is_empty() {
        let edited = RawEvent {
            kind: form.kind.clone(),
            position: position.unwrap_or_default(),
            duration: duration.unwrap_or_default(),
            rate,
            from: before.seek_from,
            seq: None,
            since: before.played_from,
        };
        match progress::edit_event(&mut conn, id, edited, state.config.complete_at_percent).await {
            Ok(true) => {
                return Ok(ctx.redirect(
                    &format!("/admin/watch/{}/{}", before.user_id, before.topic_id),
                    Flash::success("시청 기록을 고치고 진도를 다시 계산했습니다."),
                ));
            }
            Ok(false) => return Err(AppError::NotFound),
            Err(WatchError::Refused(refused)) => {
                use crate::learning::watch::Refusal::*;
                let field = match refused {
                    Position(_) => "position",
                    Duration(_) => "duration",
                    Rate(_) => "rate",
                    _ => "kind",
                };
                errors.add(field, crate::labels::watch_refusal_text(refused));
            }
            Err(WatchError::TooMany(_) | WatchError::NoSession) => {
                errors.add("kind", "잠시 뒤 다시 시도해 주세요.")
            }
            Err(WatchError::Db(err)) => return Err(err.into()),
            Err(WatchError::Heard(err)) => return Err(err.into()),
        }
    }
    let who = who(&mut conn, before.user_id, before.topic_id).await?;
    web::invalid(&EventPage {
        ctx,
        event: before,
        who,
        errors,
    })
}

async fn delete(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<crate::ids::WatchEventId>,
) -> AppResult<Response> {
    let (user, topic) = progress::delete_event(
        &mut *state.db.acquire().await?,
        id,
        state.config.complete_at_percent,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(ctx.redirect(
        &format!("/admin/watch/{user}/{topic}"),
        Flash::success("시청 기록을 지우고 진도를 다시 계산했습니다."),
    ))
}
