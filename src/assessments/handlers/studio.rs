//! The studio's mission editor (`/studio/topics/{id}/mission`): the
//! mission's settings, its questions, their choices (the correct ones
//! marked) and, for code questions, the visible and hidden tests. Only the
//! course's author and admins reach it (`catalog::studio::topic_for_editing`).
//! A refused form re-renders the editor with the reason (422).

use std::collections::HashMap;

use askama::Template;
use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use sqlx::{Acquire, PgConnection};
use uuid::Uuid;

use crate::accounts::Staff;
use crate::{
    accounts::CurrentUser,
    assessments::{
        model::{MissionKind, Mode, QuestionKind},
        repo::{self, ChoiceRow, MissionRow, NewQuestion, QuestionRow, TestRow},
        sandbox::Language,
    },
    catalog,
    error::{AppError, AppResult},
    ids::TopicId,
    state::AppState,
    text,
    web::{self, Form, PageCtx, Path, flash::Flash, markdown, routes::At},
};

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    Router::new()
        .at(
            "/studio/topics/{id}/mission",
            get(editor).post(save_mission),
        )
        .at("/studio/missions/{id}/questions", post(add_question))
        .at("/studio/questions/{id}", post(update_question))
        .at("/studio/questions/{id}/delete", post(delete_question))
        .at("/studio/questions/{id}/choices", post(add_choice))
        .at("/studio/choices/{id}/delete", post(delete_choice))
        .at("/studio/questions/{id}/tests", post(add_test))
        .at("/studio/tests/{id}/delete", post(delete_test))
}

pub struct EditorQuestion {
    pub q: QuestionRow,
    pub prompt_html: String,
    pub choices: Vec<ChoiceRow>,
    pub tests: Vec<TestRow>,
}

#[derive(Template)]
#[template(path = "assessments/studio.html")]
struct EditorPage {
    ctx: PageCtx,
    topic: TopicId,
    title: String,
    course: crate::ids::CourseId,
    mission: Option<MissionRow>,
    questions: Vec<EditorQuestion>,
    error: Option<String>,
}

impl EditorPage {
    fn kinds(&self) -> &'static [MissionKind] {
        MissionKind::ALL
    }
    fn languages(&self) -> &'static [Language] {
        Language::ALL
    }
    fn is_code(&self, q: &QuestionRow) -> bool {
        q.kind == QuestionKind::Code
    }
    fn has_language(&self, q: &QuestionRow, language: &Language) -> bool {
        q.language == Some(*language)
    }
    fn selected_kind(&self, kind: &MissionKind) -> bool {
        self.mission.as_ref().is_some_and(|m| m.kind == *kind)
    }
}

/// Why a studio form was refused (shown above the editor).
struct Refused(&'static str);

/// Why a studio change stopped: refused (shown above the editor), or
/// failed (a database error: an internal error, logged with the request).
enum Stop {
    Refused(&'static str),
    Failed(AppError),
}

impl From<Refused> for Stop {
    fn from(Refused(why): Refused) -> Self {
        Self::Refused(why)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(err: sqlx::Error) -> Self {
        Self::Failed(err.into())
    }
}

async fn page(
    conn: &mut PgConnection,
    ctx: PageCtx,
    user: &CurrentUser,
    topic: TopicId,
    error: Option<String>,
) -> AppResult<Response> {
    let row = catalog::studio::topic_for_editing(conn, user, topic).await?;
    let mission = repo::mission_of_topic(conn, topic).await?;
    let mut questions = Vec::new();
    if let Some(m) = &mission {
        let rows = repo::questions(conn, m.id).await?;
        let ids: Vec<Uuid> = rows.iter().map(|q| q.id).collect();
        let mut choices: HashMap<Uuid, Vec<ChoiceRow>> = HashMap::new();
        for c in repo::choices(conn, &ids).await? {
            choices.entry(c.question_id).or_default().push(c);
        }
        let mut tests: HashMap<Uuid, Vec<TestRow>> = HashMap::new();
        for t in repo::tests(conn, &ids).await? {
            tests.entry(t.question_id).or_default().push(t);
        }
        for q in rows {
            questions.push(EditorQuestion {
                prompt_html: markdown::render(&q.prompt),
                choices: choices.remove(&q.id).unwrap_or_default(),
                tests: tests.remove(&q.id).unwrap_or_default(),
                q,
            });
        }
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let editor = EditorPage {
        ctx,
        topic,
        title: row.title,
        course: row.course_id,
        mission,
        questions,
        error,
    };
    Ok((status, web::render(&editor)?).into_response())
}

async fn editor(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(topic): Path<TopicId>,
) -> AppResult<Response> {
    page(&mut *state.db.acquire().await?, ctx, &user, topic, None).await
}

/// Back to the editor after a change, or the editor again with the reason.
async fn done(
    state: &AppState,
    conn: &mut PgConnection,
    ctx: PageCtx,
    user: &CurrentUser,
    topic: TopicId,
    outcome: Result<&'static str, impl Into<Stop>>,
) -> AppResult<Response> {
    match outcome.map_err(Into::into) {
        Ok(message) => Ok(web::redirect_with(
            state,
            &ctx,
            &format!("/studio/topics/{topic}/mission"),
            Flash::success(message),
        )),
        Err(Stop::Refused(why)) => page(conn, ctx, user, topic, Some(why.to_owned())).await,
        Err(Stop::Failed(err)) => Err(err),
    }
}

fn number(raw: &str, range: std::ops::RangeInclusive<i32>) -> Option<i32> {
    raw.trim().parse::<i32>().ok().filter(|n| range.contains(n))
}

/// An optional number: empty is `None`.
fn optional(raw: &str, range: std::ops::RangeInclusive<i32>) -> Result<Option<i32>, ()> {
    match raw.trim() {
        "" => Ok(None),
        _ => number(raw, range).map(Some).ok_or(()),
    }
}

#[derive(Deserialize)]
struct MissionForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    pass_percent: String,
    #[serde(default)]
    max_attempts: String,
    #[serde(default)]
    cooldown_minutes: String,
    #[serde(default)]
    time_limit_minutes: String,
}

async fn save_mission(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(topic): Path<TopicId>,
    Form(form): Form<MissionForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let row = catalog::studio::topic_for_editing(&mut conn, &user, topic).await?;
    let outcome = async {
        if row.kind != "mission" {
            return Err(Refused("미션 토픽에만 미션을 만들 수 있습니다.").into());
        }
        let kind = MissionKind::parse(&form.kind).ok_or(Refused("미션 종류를 고르세요."))?;
        let pass = number(&form.pass_percent, 1..=100)
            .ok_or(Refused("통과 기준은 1~100점 사이로 입력하세요."))?;
        let max = optional(&form.max_attempts, 1..=100)
            .map_err(|_| Refused("응시 횟수는 비워 두거나 1~100 사이로 입력하세요."))?;
        let minutes = optional(&form.time_limit_minutes, 1..=600)
            .map_err(|_| Refused("제한 시간은 비워 두거나 1~600분 사이로 입력하세요."))?;
        let cooldown = optional(&form.cooldown_minutes, 0..=10_080)
            .map_err(|_| Refused("다음 응시까지 기다릴 시간은 0~10080분 사이로 입력하세요."))?
            .unwrap_or(10);
        let rules = repo::AttemptRules {
            max_attempts: max,
            cooldown_secs: cooldown * 60,
            time_limit_secs: minutes.map(|m| m * 60),
        };
        let mut tx = conn.begin().await?;
        crate::infra::db::lock(&mut tx, "mission", &topic.to_string()).await?;
        match repo::mission_of_topic(&mut tx, topic).await? {
            Some(m) => repo::update_mission(&mut tx, m.id, kind, pass, rules).await?,
            None => {
                repo::insert_mission(&mut tx, topic, kind, pass, rules).await?;
            }
        }
        tx.commit().await?;
        Ok::<_, Stop>("미션 설정을 저장했습니다.")
    }
    .await;
    done(&state, &mut conn, ctx, &user, topic, outcome).await
}

/// The mission's topic, when `user` may edit it.
async fn mission_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    mission: Uuid,
) -> AppResult<TopicId> {
    let m = repo::mission(conn, mission)
        .await?
        .ok_or(AppError::NotFound)?;
    catalog::studio::topic_for_editing(conn, user, m.topic_id).await?;
    Ok(m.topic_id)
}

/// The question's topic, when `user` may edit it.
async fn question_topic(
    conn: &mut PgConnection,
    user: &CurrentUser,
    question: Uuid,
) -> AppResult<(TopicId, QuestionRow)> {
    let (mission, q) = repo::question(conn, question)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((mission_topic(conn, user, mission).await?, q))
}

#[derive(Deserialize)]
struct QuestionForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    prompt: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    multiple: Option<String>,
    #[serde(default)]
    language: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    starter_code: String,
    #[serde(default)]
    cpu_secs: String,
    #[serde(default)]
    memory_mb: String,
}

fn parse_question(form: &QuestionForm, kind: QuestionKind) -> Result<NewQuestion<'_>, Refused> {
    let prompt = form.prompt.trim();
    if prompt.is_empty() || prompt.chars().count() > 20_000 {
        return Err(Refused("문제 설명을 1~20,000자로 입력하세요."));
    }
    let points = number(&form.points, 1..=100).ok_or(Refused("배점은 1~100 사이로 입력하세요."))?;
    let (language, mode) = match kind {
        QuestionKind::Choice => (None, None),
        QuestionKind::Code => (
            Some(Language::parse(&form.language).ok_or(Refused("코드 언어를 고르세요."))?),
            Some(
                Mode::parse(&form.mode)
                    .ok_or(Refused("채점 방식을 고르세요."))?
                    .as_str(),
            ),
        ),
    };
    if form.starter_code.len() > 65_536 {
        return Err(Refused("시작 코드는 64KB까지 쓸 수 있습니다."));
    }
    Ok(NewQuestion {
        kind,
        prompt,
        points,
        multiple: form.multiple.is_some(),
        language,
        mode,
        starter_code: &form.starter_code,
        cpu_secs: optional(&form.cpu_secs, 1..=30)
            .map_err(|_| Refused("CPU 시간은 1~30초로 입력하세요."))?
            .unwrap_or(5),
        memory_mb: optional(&form.memory_mb, 64..=2048)
            .map_err(|_| Refused("메모리는 64~2048MB로 입력하세요."))?
            .unwrap_or(512),
    })
}

async fn add_question(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(mission): Path<Uuid>,
    Form(form): Form<QuestionForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let topic = mission_topic(&mut conn, &user, mission).await?;
    let outcome = match QuestionKind::parse(&form.kind) {
        None => Err(Refused("문제 종류를 고르세요.")),
        Some(kind) => match parse_question(&form, kind) {
            Ok(q) => {
                let mut tx = conn.begin().await?;
                repo::insert_question(&mut tx, mission, &q).await?;
                tx.commit().await?;
                Ok("문제를 추가했습니다.")
            }
            Err(refused) => Err(refused),
        },
    };
    done(&state, &mut conn, ctx, &user, topic, outcome).await
}

async fn update_question(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
    Form(form): Form<QuestionForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (topic, existing) = question_topic(&mut conn, &user, id).await?;
    let outcome = match parse_question(&form, existing.kind) {
        Ok(q) => {
            repo::update_question(&mut conn, id, &q).await?;
            Ok("문제를 고쳤습니다.")
        }
        Err(refused) => Err(refused),
    };
    done(&state, &mut conn, ctx, &user, topic, outcome).await
}

async fn delete_question(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (topic, _) = question_topic(&mut conn, &user, id).await?;
    repo::delete_question(&mut conn, id).await?;
    done(
        &state,
        &mut conn,
        ctx,
        &user,
        topic,
        Ok::<_, Refused>("문제를 지웠습니다."),
    )
    .await
}

#[derive(Deserialize)]
struct ChoiceForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    correct: Option<String>,
}

async fn add_choice(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
    Form(form): Form<ChoiceForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (topic, q) = question_topic(&mut conn, &user, id).await?;
    let body = form.body.trim();
    let outcome = if q.kind != QuestionKind::Choice {
        Err(Refused("객관식 문제에만 보기를 더할 수 있습니다."))
    } else if body.is_empty() || body.chars().count() > 2000 || !text::single_line(body) {
        Err(Refused("보기는 한 줄로 1~2,000자까지 쓸 수 있습니다."))
    } else {
        let mut tx = conn.begin().await?;
        repo::insert_choice(&mut tx, id, body, form.correct.is_some()).await?;
        tx.commit().await?;
        Ok("보기를 추가했습니다.")
    };
    done(&state, &mut conn, ctx, &user, topic, outcome).await
}

/// What a delete button in the editor removes from a question.
#[derive(Clone, Copy)]
enum Part {
    Choice,
    Test,
}

/// Deletes a choice or a test, once its question's course is the user's to
/// edit.
async fn delete_part(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    id: Uuid,
    part: Part,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let question = match part {
        Part::Choice => repo::choice_question(&mut conn, id).await?,
        Part::Test => repo::test_question(&mut conn, id).await?,
    }
    .ok_or(AppError::NotFound)?;
    let (topic, _) = question_topic(&mut conn, user, question).await?;
    let message = match part {
        Part::Choice => {
            repo::delete_choice(&mut conn, id).await?;
            "보기를 지웠습니다."
        }
        Part::Test => {
            repo::delete_test(&mut conn, id).await?;
            "테스트를 지웠습니다."
        }
    };
    done(
        state,
        &mut conn,
        ctx,
        user,
        topic,
        Ok::<_, Refused>(message),
    )
    .await
}

async fn delete_choice(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    delete_part(&state, ctx, &user, id, Part::Choice).await
}

#[derive(Deserialize)]
struct TestForm {
    #[serde(default)]
    visible: Option<String>,
    #[serde(default)]
    input: String,
    #[serde(default)]
    harness: String,
    #[serde(default)]
    expected: String,
}

async fn add_test(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
    Form(form): Form<TestForm>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let (topic, q) = question_topic(&mut conn, &user, id).await?;
    let too_long = [&form.input, &form.harness, &form.expected]
        .iter()
        .any(|s| s.len() > 65_536);
    let outcome = if q.kind != QuestionKind::Code {
        Err(Refused("코드 문제에만 테스트를 더할 수 있습니다."))
    } else if form.expected.trim().is_empty() {
        Err(Refused("기대 출력을 입력하세요."))
    } else if too_long {
        Err(Refused(
            "입력, 검사 코드, 기대 출력은 각각 64KB까지 쓸 수 있습니다.",
        ))
    } else {
        let mut tx = conn.begin().await?;
        repo::insert_test(
            &mut tx,
            id,
            form.visible.is_some(),
            &form.input,
            &form.harness,
            &form.expected,
        )
        .await?;
        tx.commit().await?;
        Ok("테스트를 추가했습니다.")
    };
    done(&state, &mut conn, ctx, &user, topic, outcome).await
}

async fn delete_test(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    delete_part(&state, ctx, &user, id, Part::Test).await
}
