//! Taking a mission: `GET /missions/{id}`, `POST /missions/{id}/submissions`
//! (choice answers, or a code submission with `code`), and the submission
//! box htmx polls while it is graded.

use crate::assessments::Grader;
use std::sync::Arc;

mod studio;

use axum::extract::FromRef;

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::labels as filters;
use crate::{
    accounts::CurrentUser,
    assessments::{
        model::QuestionKind,
        service::{self, MissionError, MissionView, SubmissionView},
    },
    error::{AppError, AppResult},
    ids::{MissionId, QuestionId, SubmissionId},
    learning::Completion,
    state::AppState,
    web::{self, Form, PageCtx, Path, flash::Flash, htmx},
};

impl From<MissionError> for AppError {
    fn from(err: MissionError) -> Self {
        match err {
            MissionError::NotFound => AppError::NotFound,
            MissionError::SignedOut => AppError::Unauthorized,
            MissionError::Locked { lapsed: true, .. } => AppError::Forbidden(
                "수강 기간이 끝났습니다. 수강권을 연장하면 미션을 다시 풀 수 있습니다.".into(),
            ),
            MissionError::Locked { .. } => {
                AppError::Forbidden("이 미션은 수강권을 구매하면 풀 수 있습니다.".into())
            }
            MissionError::NoOpenAttempt => AppError::Conflict(
                "이미 제출한 답안입니다. 새 응시가 남아 있으면 미션 페이지에서 다시 풀 수 있습니다."
                    .into(),
            ),
            MissionError::AttemptsUsed => AppError::Conflict(
                "응시 횟수를 모두 썼습니다. 문제별 정답 여부는 미션 페이지에서 볼 수 있습니다.".into(),
            ),
            MissionError::CoolingDown { until } => AppError::TooManyRequests {
                retry_after_secs: u64::try_from(
                    (until - time::OffsetDateTime::now_utc()).whole_seconds().max(1),
                )
                .unwrap_or(1),
            },
            MissionError::TimeUp => AppError::Conflict(
                "제한 시간이 지나 답안을 받을 수 없습니다. 응시는 제출된 것으로 처리했습니다.".into(),
            ),
            MissionError::OnePending => AppError::Conflict(
                "채점 중인 제출이 있습니다. 결과가 나온 뒤 다시 제출해 주세요.".into(),
            ),
            MissionError::TooMany(wait) => AppError::TooManyRequests {
                retry_after_secs: wait,
            },
            MissionError::CodeEmpty => AppError::field("code", "코드를 입력해 주세요."),
            MissionError::CodeTooLong => {
                AppError::field("code", "코드는 64KB까지 제출할 수 있습니다.")
            }
            MissionError::NotCode => AppError::BadRequest("코드 문제가 아닙니다.".into()),
            MissionError::GraderDown(why) => {
                tracing::error!(%why, "a code submission was refused: the sandbox is unusable");
                AppError::Conflict(
                    "지금은 코드를 채점할 수 없습니다. 관리자에게 알렸으니 잠시 뒤 다시 제출해 주세요."
                        .into(),
                )
            }
            MissionError::NotAuthor => AppError::Forbidden(
                "이 코스를 만든 튜터나 관리자만 수정할 수 있습니다.".into(),
            ),
            MissionError::Refused { why, .. } => AppError::BadRequest(studio::refusal(why).into()),
            MissionError::Db(err) => err.into(),
            MissionError::Other(err) => AppError::Internal(err),
        }
    }
}

#[derive(Template)]
#[template(path = "assessments/mission.html")]
struct MissionPage {
    ctx: PageCtx,
    mission: MissionView,
}

impl MissionPage {
    fn earned(&self, question: &uuid::Uuid) -> Option<i32> {
        self.mission
            .last
            .as_ref()
            .and_then(|l| l.earned.as_ref()?.get(question).copied())
    }

    /// Right/wrong per question is held back (attempts left, not passed).
    fn feedback_held(&self) -> bool {
        self.mission.has_choices()
            && self
                .mission
                .last
                .as_ref()
                .is_some_and(|l| l.earned.is_none())
    }

    /// Whether the learner picked `choice` of `question` in the last attempt.
    fn picked(&self, question: &uuid::Uuid, choice: &uuid::Uuid) -> bool {
        self.mission
            .last
            .as_ref()
            .and_then(|l| l.picked.as_ref()?.get(question))
            .is_some_and(|p| p.contains(choice))
    }

    /// The last attempt's marks may be shown (passed, or none left).
    fn reviewable(&self) -> bool {
        self.mission.has_choices()
            && self
                .mission
                .last
                .as_ref()
                .is_some_and(|l| l.earned.is_some())
    }

    fn is_choice(&self, kind: &QuestionKind) -> bool {
        *kind == QuestionKind::Choice
    }
}

/// The box showing a code submission's verdict (polled while pending).
#[derive(Template)]
#[template(path = "assessments/_submission.html")]
struct SubmissionBox {
    s: SubmissionView,
}

pub async fn mission_page(
    State(state): State<AppState>,
    State(catalog): State<Arc<crate::catalog::CatalogCache>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<MissionId>,
) -> AppResult<Response> {
    let mission = service::mission_page(&state.db, &catalog, &user, id).await?;
    web::render(&MissionPage { ctx, mission })
}

/// `POST /missions/{id}/attempts`: starts an attempt (the time limit runs
/// from now); one past its time is closed and graded first.
pub async fn start_attempt(
    State(state): State<AppState>,
    State(completion): State<Completion>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<MissionId>,
) -> AppResult<Response> {
    let started =
        service::start_attempt(&mut *state.db.acquire().await?, &completion, &user, id).await;
    let (to, flash) = match started {
        Ok(()) => (format!("/missions/{id}#answers"), None),
        Err(MissionError::AttemptsUsed) => (
            format!("/missions/{id}"),
            Some(Flash::warning("응시 횟수를 모두 썼습니다.")),
        ),
        Err(MissionError::CoolingDown { .. }) => (
            format!("/missions/{id}"),
            Some(Flash::warning(
                "아직 다음 응시를 시작할 수 없습니다. 페이지에 적힌 시각 뒤에 다시 시작해 주세요.",
            )),
        ),
        Err(other) => return Err(other.into()),
    };
    Ok(match flash {
        Some(flash) => ctx.redirect(&to, flash),
        None => htmx::redirect(ctx.htmx, &to),
    })
}

/// Choice answers (`q-{question}` fields), or a code submission (`code`
/// and `question_id`).
pub async fn submit(
    State(state): State<AppState>,
    State(completion): State<Completion>,
    State(grader): State<Arc<Grader>>,
    ctx: PageCtx,
    user: CurrentUser,
    Path(id): Path<MissionId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(code) = field("code") {
        let trial = field("trial").is_some();
        let question = field("question_id")
            .and_then(|q| q.parse::<QuestionId>().ok())
            .ok_or_else(|| AppError::BadRequest("문제를 알 수 없습니다.".into()))?;
        let submission = service::submit_code(
            &mut conn,
            &grader,
            state.config.limits.code_submissions_per_learner,
            &user,
            id,
            service::SentCode {
                question,
                code,
                trial,
            },
        )
        .await?;
        if ctx.htmx {
            let s = service::submission(&mut conn, &user, submission).await?;
            return Ok((StatusCode::ACCEPTED, web::render(&SubmissionBox { s })?).into_response());
        }
        return Ok(ctx.redirect(
            &format!("/missions/{id}#q-{question}"),
            Flash::success(match trial {
                true => "공개 테스트로 실행합니다. 결과가 곧 나옵니다. 점수에는 들어가지 않습니다.",
                false => "코드를 제출했습니다. 채점 결과가 곧 나옵니다.",
            }),
        ));
    }
    let (score, passed) =
        service::submit_choices(&mut conn, &completion, &user, id, &fields).await?;
    let flash = if passed {
        Flash::success(format!("{score}점입니다. 미션을 통과했습니다!"))
    } else {
        Flash::warning(format!("{score}점입니다. 통과 기준에 닿지 못했습니다."))
    };
    Ok(ctx.redirect(&format!("/missions/{id}#result"), flash))
}

#[derive(serde::Deserialize)]
pub struct DraftForm {
    question_id: QuestionId,
    #[serde(default)]
    code: String,
}

/// `POST /missions/{id}/drafts`: the editor keeps what the learner is
/// writing (sent as they pause typing); nothing to show back.
pub async fn save_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<MissionId>,
    Form(form): Form<DraftForm>,
) -> AppResult<StatusCode> {
    service::save_draft(
        &mut *state.db.acquire().await?,
        &user,
        id,
        form.question_id,
        &form.code,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn submission_state(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<SubmissionId>,
) -> AppResult<Response> {
    let s = service::submission(&mut *state.db.acquire().await?, &user, id).await?;
    web::render(&SubmissionBox { s })
}

/// The capability's pages, for any router state that holds its parts.
pub fn routes<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::state::AppState: FromRef<S>,
    std::sync::Arc<crate::assessments::Grader>: FromRef<S>,
    crate::learning::Completion: FromRef<S>,
    std::sync::Arc<crate::catalog::CatalogCache>: FromRef<S>,
{
    use crate::web::routes::prelude::*;
    Router::new()
        .at("/missions/{id}", get(mission_page))
        .at("/missions/{id}/drafts", post(save_draft))
        .at("/missions/{id}/attempts", post(start_attempt))
        .at("/missions/{id}/submissions", post(submit))
        .at("/missions/submissions/{id}", get(submission_state))
        .merge(studio::routes())
}
