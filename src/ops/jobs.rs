//! `/admin/jobs`: what the queue holds that is not done (queued, running,
//! failed, cancelled) with errors and progress; retry and cancel buttons.

use askama::Template;
use axum::{
    Router,
    extract::{FromRef, State},
    response::{IntoResponse, Response},
    routing::{get, post},
};

use std::sync::Arc;

use crate::labels as filters;
use crate::{
    accounts::Admin,
    assessments::Grader,
    error::AppResult,
    jobs::{self as queue, JobId, JobRow},
    state::AppState,
    web::{self, PageCtx, Path, flash::Flash, routes::At},
};

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    ctx: PageCtx,
    jobs: Vec<JobRow>,
    /// Why code cannot be graded, when it cannot.
    grader_down: Option<String>,
    /// Workers elsewhere grade (their failures show as failed jobs).
    grading_elsewhere: bool,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<Grader>: FromRef<S>,
{
    Router::new()
        .at("/admin/jobs", get(list))
        .at("/admin/jobs/{id}/retry", post(retry))
        .at("/admin/jobs/{id}/cancel", post(cancel))
}

async fn list(
    State(state): State<AppState>,
    State(grader): State<Arc<Grader>>,
    ctx: PageCtx,
    _admin: Admin,
) -> AppResult<Response> {
    let jobs = queue::unfinished(&mut *state.db.acquire().await?, 200).await?;
    let grader_down = grader.unusable().await;
    Ok(web::render(&JobsPage {
        ctx,
        jobs,
        grader_down,
        grading_elsewhere: !grader.grades_here(),
    })?
    .into_response())
}

async fn retry(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<JobId>,
) -> AppResult<Response> {
    let done = queue::retry(&mut *state.db.acquire().await?, id).await?;
    let flash = if done {
        Flash::success("작업을 다시 대기열에 넣었습니다.")
    } else {
        Flash::warning("실패하거나 취소된 작업만 다시 실행할 수 있습니다.")
    };
    Ok(web::redirect_with(&state, &ctx, "/admin/jobs", flash))
}

async fn cancel(
    State(state): State<AppState>,
    ctx: PageCtx,
    _admin: Admin,
    Path(id): Path<JobId>,
) -> AppResult<Response> {
    let done = queue::request_cancel(&mut *state.db.acquire().await?, id).await?;
    let flash = if done {
        Flash::success("작업 취소를 요청했습니다. 실행 중이면 곧 멈춥니다.")
    } else {
        Flash::warning("대기 중이거나 실행 중인 작업만 취소할 수 있습니다.")
    };
    Ok(web::redirect_with(&state, &ctx, "/admin/jobs", flash))
}
