//! Dashboards. The learner's: where to continue, what they can study and
//! until when with their progress, each mission's state, and their study
//! time. The admin's (`admin`): now, a date range, each course's learning.
//! The figures too costly per view are rolled up by jobs (`rollup`) into
//! tables of this module (`store`).

pub mod admin;
pub mod rollup;
mod store;
pub mod tutor;

use crate::labels as filters;
use crate::web::routes::At;
use askama::Template;
use axum::{
    Router,
    extract::{FromRef, State},
    response::Response,
    routing::{get, post},
};

use time::OffsetDateTime;

use std::{collections::HashMap, sync::Arc};

use crate::{
    accounts::CurrentUser,
    assessments::{Standing, StandingState},
    catalog::{
        CatalogCache,
        model::{Product, TopicKind},
        service::CourseView,
    },
    error::AppResult,
    learning::{
        access,
        mine::Mine,
        progress::{self, LastTopic, StudyTime},
    },
    state::AppState,
    web::{self, PageCtx, chart::BarChart},
};

/// What a learner holds, with the product's title and page.
struct Enrolment {
    title: String,
    /// The home roadmap for a curriculum, the course page for a course.
    href: String,
    since: OffsetDateTime,
    until: OffsetDateTime,
    active: bool,
    /// Progress over the courses it holds, 0-100.
    percent: i64,
    /// Days left while access ends within [`REMIND_DAYS`].
    ends_in_days: Option<i64>,
}

/// Access ending within this many days is pointed out.
const REMIND_DAYS: i64 = 30;

/// A course of the nano-degree with the learner's progress in it and
/// their standing on each of its missions, in outline order.
struct CourseRow {
    id: crate::ids::CourseId,
    title: String,
    progress: progress::CourseProgress,
    missions: Vec<MissionLine>,
}

/// A mission as the dashboard lists it: its topic's title and the
/// learner's standing.
struct MissionLine {
    title: String,
    standing: Standing,
}

impl MissionLine {
    /// The state's code, for the page's markup and its tests.
    fn state(&self) -> &'static str {
        match self.standing.state() {
            StandingState::NotStarted => "not_started",
            StandingState::Trying => "trying",
            StandingState::UsedUp => "used_up",
            StandingState::Passed => "passed",
        }
    }
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<CatalogCache>: FromRef<S>,
    Arc<crate::assessments::Grader>: FromRef<S>,
{
    Router::new()
        .at("/me/dashboard", get(learner))
        .at("/admin", get(admin::admin_home))
        .at("/admin/live", get(admin::live_fragment))
        .at("/admin/rollups", post(admin::roll_up_now))
        .at("/studio/insights", get(tutor::index))
        .at("/studio/insights/{course}", get(tutor::course))
        .at("/studio/insights/{course}/learners", get(tutor::learners))
        .at(
            "/studio/insights/{course}/missions/{mission}",
            get(tutor::mission_learners),
        )
}

#[derive(Template)]
#[template(path = "dashboards/learner.html")]
struct LearnerDashboard {
    ctx: PageCtx,
    nickname: String,
    enrolments: Vec<Enrolment>,
    continue_at: Option<LastTopic>,
    /// Each course of the nano-degree, in roadmap order.
    courses: Vec<CourseRow>,
    study: StudyTime,
    /// The study chart's SVG and table, drawn.
    study_chart: Arc<String>,
    certificates: Arc<Vec<crate::certificates::CertificateRow>>,
}

impl LearnerDashboard {
    fn active(&self) -> Vec<&Enrolment> {
        self.enrolments.iter().filter(|e| e.active).collect()
    }
    fn lapsed(&self) -> Vec<&Enrolment> {
        self.enrolments.iter().filter(|e| !e.active).collect()
    }

    /// A certificate waits for the learner's legal name.
    fn name_needed(&self) -> bool {
        self.certificates.iter().any(|c| !c.name_confirmed)
    }

    /// Credits (학점) earned: those of each course certificate still valid.
    fn credits(&self) -> i32 {
        self.certificates
            .iter()
            .filter(|c| c.is_valid() && c.course_id.is_some())
            .map(|c| c.credits)
            .sum()
    }
}

/// The learner's dashboard: their holdings (cached grants), each course of
/// the nano-degree with their progress and their standing on each mission,
/// their study time over eight weeks as a chart, and their certificates
/// (kept a few seconds), over the catalogue's cached courses. Their
/// progress and study time (one statement) and their standings (one more)
/// are kept in their entry (`learning::mine`) until they change something,
/// and so is the chart drawn from their weeks.
async fn learner(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Response> {
    let roadmap = cache.roadmap_courses(&state.db).await?;
    let mission_topics: Vec<crate::ids::TopicId> = roadmap
        .iter()
        .flat_map(|c| c.lectures.iter().flat_map(|l| l.topics.iter()))
        .filter(|t| t.kind == TopicKind::Mission)
        .map(|t| t.id)
        .collect();
    let certificates = crate::certificates::of_learner_kept(&state.db, user.id).await?;
    let mut conn = state.db.acquire().await?;
    let holdings = access::holdings(&mut conn, user.id).await?;
    let overview = progress::overview(&mut conn, user.id, true).await?;
    let mut standings: HashMap<crate::ids::TopicId, Standing> =
        crate::assessments::standings(&mut conn, user.id, &mission_topics)
            .await?
            .into_iter()
            .map(|s| (s.topic, s))
            .collect();
    drop(conn);
    let now = OffsetDateTime::now_utc();
    let mut enrolments = Vec::with_capacity(holdings.len());
    for h in holdings {
        let product = cache.product(&state.db, h.product).await?;
        let mut courses = Vec::with_capacity(product.courses.len());
        for course in &product.courses {
            courses.push(cache.course(&state.db, *course).await?);
        }
        let days_left = (h.until - now).whole_days();
        enrolments.push(Enrolment {
            title: product.title.clone(),
            href: match h.product {
                Product::Course(course) => format!("/courses/{course}"),
                Product::Curriculum(_) => "/".into(),
            },
            since: h.since,
            until: h.until,
            active: h.active,
            percent: overview.used_percent(courses.iter().map(|c| c.as_ref())),
            ends_in_days: (h.active && days_left < REMIND_DAYS).then_some(days_left.max(0)),
        });
    }
    let roadmap: Vec<&CourseView> = roadmap.iter().map(|c| c.as_ref()).collect();
    let mut per_course = overview.courses(roadmap.iter().copied());
    let courses = roadmap
        .iter()
        .map(|c| CourseRow {
            id: c.id,
            title: c.title.clone(),
            progress: per_course.remove(&c.id).unwrap_or_default(),
            missions: c
                .lectures
                .iter()
                .flat_map(|l| l.topics.iter())
                .filter_map(|t| {
                    Some(MissionLine {
                        title: t.title.clone(),
                        standing: standings.remove(&t.id)?,
                    })
                })
                .collect(),
        })
        .collect();
    let study_chart = study_chart(user.id, &overview.study.weeks).await;
    web::render(&LearnerDashboard {
        ctx,
        nickname: user.nickname,
        enrolments,
        continue_at: overview.continue_at(&roadmap, &cache, &state.db).await?,
        courses,
        study: overview.study,
        study_chart,
        certificates,
    })
}

/// The study chart, drawn once for the weeks it shows and kept in the
/// learner's entry (`learning::mine`) while those weeks read the same.
async fn study_chart(user: crate::ids::UserId, weeks: &[(time::Date, f64)]) -> Arc<String> {
    /// A drawn chart with the weeks it was drawn from.
    struct Drawn {
        weeks: Vec<(time::Date, f64)>,
        html: Arc<String>,
    }
    let mine = Mine::of(user).await;
    if let Some(drawn) = mine
        .part::<Drawn>(uuid::Uuid::nil())
        .filter(|drawn| drawn.weeks == weeks)
    {
        return drawn.html.clone();
    }
    let points: Vec<(String, f64)> = weeks
        .iter()
        .map(|(monday, secs)| {
            (
                format!("{}/{}", u8::from(monday.month()), monday.day()),
                *secs,
            )
        })
        .collect();
    let chart = BarChart::new(
        "study-weeks",
        format!("최근 {}주 학습 시간", progress::STUDY_WEEKS),
        ("주 (월요일부터)", "학습 시간"),
        &points,
        minutes,
    );
    let html = Arc::new(chart.to_string());
    mine.keep(
        uuid::Uuid::nil(),
        Arc::new(Drawn {
            weeks: weeks.to_vec(),
            html: html.clone(),
        }),
    );
    html
}

/// Seconds as a chart reads them: minutes, or hours past two.
fn minutes(secs: f64) -> String {
    let minutes = secs / 60.0;
    if minutes < 120.0 {
        format!("{}분", minutes.round())
    } else {
        format!("{:.1}시간", minutes / 60.0)
    }
}
