//! Dashboards. The learner's: what they can study and until when, their
//! orders, and (once learning records exist) study time and progress.

use askama::Template;
use axum::{Router, extract::State, response::Html, routing::get};

use crate::{
    accounts::CurrentUser,
    app::AppState,
    commerce::{self, Enrolment},
    error::AppResult,
    web::{self, PageCtx},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/me/dashboard", get(learner))
}

#[derive(Template)]
#[template(path = "dashboards/learner.html")]
struct LearnerDashboard {
    ctx: PageCtx,
    nickname: String,
    enrolments: Vec<Enrolment>,
}

impl LearnerDashboard {
    fn active(&self) -> Vec<&Enrolment> {
        self.enrolments.iter().filter(|e| e.active).collect()
    }
    fn lapsed(&self) -> Vec<&Enrolment> {
        self.enrolments.iter().filter(|e| !e.active).collect()
    }
}

async fn learner(
    State(state): State<AppState>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Html<String>> {
    let mut conn = state.db.acquire().await?;
    let enrolments = commerce::enrolments(&mut conn, user.id).await?;
    web::render(&LearnerDashboard {
        ctx,
        nickname: user.nickname,
        enrolments,
    })
}
