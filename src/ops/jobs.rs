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
    jobs::{self as queue, JobId, JobRow, JobStatus, LaneQueue, Lanes},
    state::AppState,
    web::{self, PageCtx, Path, Query, csv::Csv, flash::Flash, routes::At},
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
    /// The filter: a kind (empty: all) and a state.
    kind: String,
    status: Option<JobStatus>,
    /// Each lane's queue now.
    lanes: Vec<LaneQueue>,
}

impl JobsPage {
    /// The states the filter offers.
    fn statuses(&self) -> [JobStatus; 4] {
        [
            JobStatus::Pending,
            JobStatus::Running,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
    }

    /// This list's query string for the CSV download.
    fn csv_href(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !self.kind.is_empty() {
            q.append_pair("kind", &self.kind);
        }
        if let Some(s) = self.status {
            q.append_pair("status", s.as_str());
        }
        q.append_pair("format", "csv");
        format!("/admin/jobs?{}", q.finish())
    }
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<Grader>: FromRef<S>,
    Arc<Lanes>: FromRef<S>,
{
    Router::new()
        .at("/admin/jobs", get(list))
        .at("/admin/jobs/{id}/retry", post(retry))
        .at("/admin/jobs/{id}/cancel", post(cancel))
}

/// `/admin/jobs?kind=&status=&format=csv`: the unfinished jobs, of one kind
/// and in one state when asked (the dashboard's figures link here).
#[derive(serde::Deserialize, Default)]
struct JobsQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    format: String,
}

async fn list(
    State(state): State<AppState>,
    State(grader): State<Arc<Grader>>,
    State(lanes): State<Arc<Lanes>>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<JobsQuery>,
) -> AppResult<Response> {
    let kind = Some(query.kind.trim()).filter(|k| !k.is_empty() && k.len() <= 64);
    let status = JobStatus::parse(query.status.trim());
    let mut conn = state.db.acquire().await?;
    let jobs = queue::unfinished_of(&mut conn, kind, status, 1000).await?;
    if query.format == "csv" {
        let mut csv = Csv::new(
            "jobs",
            &[
                "번호",
                "종류",
                "상태",
                "시도",
                "최대 시도",
                "진행률",
                "오류",
                "만든 시각",
            ],
        );
        for j in &jobs {
            csv.row([
                j.id.0.to_string(),
                j.kind.clone(),
                j.status.as_str().to_owned(),
                j.attempts.to_string(),
                j.max_attempts.to_string(),
                j.progress.map(|p| p.to_string()).unwrap_or_default(),
                j.last_error.clone().unwrap_or_default(),
                web::dates::sheet(&j.created_at),
            ]);
        }
        return Ok(csv.into_response());
    }
    let lanes = lanes.queues(&queue::queues(&mut conn).await?);
    drop(conn);
    let grader_down = grader.unusable().await;
    web::render(&JobsPage {
        lanes,
        ctx,
        jobs: jobs.into_iter().take(200).collect(),
        grader_down,
        grading_elsewhere: !grader.grades_here(),
        kind: kind.unwrap_or_default().to_owned(),
        status,
    })
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
    Ok(ctx.redirect("/admin/jobs", flash))
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
    Ok(ctx.redirect("/admin/jobs", flash))
}
