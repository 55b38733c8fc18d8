//! Dashboards. The learner's: what they can study and until when, their
//! orders, and (once learning records exist) study time and progress.

use crate::web::routes::At;
use askama::Template;
use axum::{Router, extract::State, response::Html, routing::get};

use time::OffsetDateTime;

use crate::{
    accounts::CurrentUser,
    app::AppState,
    catalog::{self, model::Product},
    error::AppResult,
    learning::access,
    web::{self, PageCtx, filters},
};

/// What a learner holds, with the product's title and page.
struct Enrolment {
    title: String,
    /// The home roadmap for a curriculum, the course page for a course.
    href: String,
    since: OffsetDateTime,
    until: OffsetDateTime,
    active: bool,
}

pub fn routes() -> Router<AppState> {
    Router::new().at("/me/dashboard", get(learner))
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
    let holdings = access::holdings(&mut conn, user.id).await?;
    let products: Vec<Product> = holdings.iter().map(|h| h.product).collect();
    let titles = catalog::titles(&mut conn, &products).await?;
    let enrolments = holdings
        .into_iter()
        .map(|h| Enrolment {
            title: titles.get(&h.product).cloned().unwrap_or_default(),
            href: match h.product {
                Product::Course(course) => format!("/courses/{course}"),
                Product::Curriculum(_) => "/".into(),
            },
            since: h.since,
            until: h.until,
            active: h.active,
        })
        .collect();
    web::render(&LearnerDashboard {
        ctx,
        nickname: user.nickname,
        enrolments,
    })
}
