//! The studio's mission editor (`/studio/topics/{id}/mission`): thin
//! handlers over `assessments::studio`. A refused form re-renders the editor
//! with the reason (422).

use askama::Template;

use crate::labels as filters;
use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};

use crate::accounts::Staff;
use crate::{
    accounts::CurrentUser,
    assessments::{
        model::{MissionKind, QuestionKind},
        repo::{MissionRow, QuestionRow},
        sandbox::Language,
        service::{MissionError, MissionResult},
        studio::{
            self, ChoiceForm, EditorQuestion, MissionForm, Part, QuestionForm, Refusal, TestForm,
        },
    },
    error::AppResult,
    ids::{ChoiceId, MissionId, QuestionId, TestId, TopicId},
    state::AppState,
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
        .at("/studio/choices/{id}/delete", post(delete_part::<ChoiceId>))
        .at("/studio/questions/{id}/tests", post(add_test))
        .at("/studio/tests/{id}/delete", post(delete_part::<TestId>))
}

/// The reason a mission editor form was refused, in words.
pub(super) fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::NotMissionTopic => "미션 토픽에만 미션을 만들 수 있습니다.",
        Refusal::MissionKind => "미션 종류를 고르세요.",
        Refusal::PassPercent => "통과 기준은 1~100점 사이로 입력하세요.",
        Refusal::MaxAttempts => "응시 횟수는 비워 두거나 1~100 사이로 입력하세요.",
        Refusal::TimeLimit => "제한 시간은 비워 두거나 1~600분 사이로 입력하세요.",
        Refusal::Cooldown => "다음 응시까지 기다릴 시간은 0~10080분 사이로 입력하세요.",
        Refusal::QuestionKind => "문제 종류를 고르세요.",
        Refusal::Prompt => "문제 설명을 1~20,000자로 입력하세요.",
        Refusal::Points => "배점은 1~100 사이로 입력하세요.",
        Refusal::Language => "코드 언어를 고르세요.",
        Refusal::Mode => "채점 방식을 고르세요.",
        Refusal::StarterTooLong => "시작 코드는 64KB까지 쓸 수 있습니다.",
        Refusal::ExplanationTooLong => "해설은 5,000자까지 쓸 수 있습니다.",
        Refusal::CpuSecs => "CPU 시간은 1~30초로 입력하세요.",
        Refusal::MemoryMb => "메모리는 64~2048MB로 입력하세요.",
        Refusal::ChoiceOnCode => "객관식 문제에만 보기를 더할 수 있습니다.",
        Refusal::ChoiceBody => "보기는 한 줄로 1~2,000자까지 쓸 수 있습니다.",
        Refusal::TestOnChoice => "코드 문제에만 테스트를 더할 수 있습니다.",
        Refusal::ExpectedMissing => "기대 출력을 입력하세요.",
        Refusal::TestTooLong => "입력, 검사 코드, 기대 출력은 각각 64KB까지 쓸 수 있습니다.",
    }
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
    fn prompt_html(&self, q: &QuestionRow) -> String {
        markdown::render(&q.prompt)
    }
}

/// The editor, with the reason a form was refused (422) if one was.
async fn page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    topic: TopicId,
    refused: Option<Refusal>,
) -> AppResult<Response> {
    let editor = studio::editor(&mut *state.db.acquire().await?, user, topic).await?;
    let status = match refused {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let page = EditorPage {
        ctx,
        topic,
        title: editor.title,
        course: editor.course,
        mission: editor.mission,
        questions: editor.questions,
        error: refused.map(|why| refusal(why).to_owned()),
    };
    Ok((status, web::render(&page)?).into_response())
}

async fn editor(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(topic): Path<TopicId>,
) -> AppResult<Response> {
    page(&state, ctx, &user, topic, None).await
}

/// Back to the editor after a change (saying `message`), or the editor
/// again with the reason it was refused.
async fn done(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    outcome: MissionResult<TopicId>,
    message: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(topic) => Ok(ctx.redirect(
            &format!("/studio/topics/{topic}/mission"),
            Flash::success(message),
        )),
        Err(MissionError::Refused { topic, why }) => page(state, ctx, user, topic, Some(why)).await,
        Err(other) => Err(other.into()),
    }
}

/// Runs one change of the editor and answers it.
macro_rules! change {
    ($name:ident, $id:ty, $form:ty, $service:path, $message:literal) => {
        async fn $name(
            State(state): State<AppState>,
            ctx: PageCtx,
            Staff(user): Staff,
            Path(id): Path<$id>,
            Form(form): Form<$form>,
        ) -> AppResult<Response> {
            let outcome = $service(&mut *state.db.acquire().await?, &user, id, &form).await;
            done(&state, ctx, &user, outcome, $message).await
        }
    };
}

change!(
    save_mission,
    TopicId,
    MissionForm,
    studio::save_mission,
    "미션 설정을 저장했습니다."
);
change!(
    add_question,
    MissionId,
    QuestionForm,
    studio::add_question,
    "문제를 추가했습니다."
);
change!(
    update_question,
    QuestionId,
    QuestionForm,
    studio::update_question,
    "문제를 고쳤습니다."
);
change!(
    add_choice,
    QuestionId,
    ChoiceForm,
    studio::add_choice,
    "보기를 추가했습니다."
);
change!(
    add_test,
    QuestionId,
    TestForm,
    studio::add_test,
    "테스트를 추가했습니다."
);

async fn delete_question(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<QuestionId>,
) -> AppResult<Response> {
    let outcome = studio::delete_question(&mut *state.db.acquire().await?, &user, id).await;
    done(&state, ctx, &user, outcome, "문제를 지웠습니다.").await
}

/// `POST /studio/choices/{id}/delete` and `POST /studio/tests/{id}/delete`.
async fn delete_part<I: Into<Part> + serde::de::DeserializeOwned + Send>(
    State(state): State<AppState>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<I>,
) -> AppResult<Response> {
    let part = id.into();
    let outcome = studio::delete_part(&mut *state.db.acquire().await?, &user, part).await;
    let message = match part {
        Part::Choice(_) => "보기를 지웠습니다.",
        Part::Test(_) => "테스트를 지웠습니다.",
    };
    done(&state, ctx, &user, outcome, message).await
}
