//! Dashboards. The learner's: where to continue, what they can study and
//! until when with their progress, and their study time.

use crate::labels as filters;
use crate::web::routes::At;
use askama::Template;
use axum::{
    Router,
    extract::{FromRef, State},
    response::Html,
    routing::get,
};

use time::OffsetDateTime;

use std::sync::Arc;

use crate::{
    accounts::CurrentUser,
    catalog::{CatalogCache, model::Product, service::CourseView},
    error::AppResult,
    learning::{
        access,
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

/// A course of the nano-degree with the learner's progress in it.
struct CourseRow {
    id: crate::ids::CourseId,
    title: String,
    progress: progress::CourseProgress,
}

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
    Arc<CatalogCache>: FromRef<S>,
{
    Router::new()
        .at("/me/dashboard", get(learner))
        .at("/admin", get(admin_home))
}

/// One area of the admin pages, as the admin home lists it.
struct Area {
    href: &'static str,
    title: &'static str,
    what: &'static str,
}

const AREAS: &[Area] = &[
    Area {
        href: "/admin/reviews",
        title: "코스 검토",
        what: "튜터가 공개를 요청한 코스를 확인하고 공개하거나 의견과 함께 돌려보냅니다.",
    },
    Area {
        href: "/admin/users",
        title: "회원 관리",
        what: "학습자와 튜터를 찾고, 역할을 바꾸고, 계정을 정지하거나 복구합니다.",
    },
    Area {
        href: "/admin/payments",
        title: "결제 관리",
        what: "주문과 결제를 기간과 상태로 찾고, 환불합니다.",
    },
    Area {
        href: "/admin/watch",
        title: "시청 기록",
        what: "학습자별 영상 진도와 시청 기록을 보고 고칩니다.",
    },
    Area {
        href: "/admin/certificates",
        title: "수료증",
        what: "발급된 수료증을 찾고, 직접 발급하거나 취소합니다.",
    },
    Area {
        href: "/admin/jobs",
        title: "작업 관리",
        what: "영상 변환, 메일, 채점 같은 작업의 대기와 실패를 봅니다.",
    },
];

#[derive(Template)]
#[template(path = "dashboards/admin.html")]
struct AdminHome {
    ctx: PageCtx,
    areas: &'static [Area],
}

/// `GET /admin`: where an admin lands after signing in.
async fn admin_home(ctx: PageCtx, _admin: crate::accounts::Admin) -> AppResult<Html<String>> {
    web::render(&AdminHome { ctx, areas: AREAS })
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
    study_chart: BarChart,
    certificates: Vec<crate::certificates::CertificateRow>,
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
/// the nano-degree with their progress, their study time over eight weeks
/// as a chart (one statement, over the catalogue's cached courses), and
/// their certificates (one more).
async fn learner(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    user: CurrentUser,
) -> AppResult<Html<String>> {
    let roadmap = cache.roadmap_courses(&state.db).await?;
    let mut conn = state.db.acquire().await?;
    let holdings = access::holdings(&mut conn, user.id).await?;
    let overview = progress::overview(&mut conn, user.id, true).await?;
    let certificates = crate::certificates::of_learner(&mut conn, user.id).await?;
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
        })
        .collect();
    let points: Vec<(String, f64)> = overview
        .study
        .weeks
        .iter()
        .map(|(monday, secs)| {
            (
                format!("{}/{}", u8::from(monday.month()), monday.day()),
                *secs,
            )
        })
        .collect();
    let study_chart = BarChart::new(
        "study-weeks",
        format!("최근 {}주 학습 시간", progress::STUDY_WEEKS),
        ("주 (월요일부터)", "학습 시간"),
        &points,
        minutes,
    );
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

/// Seconds as a chart reads them: minutes, or hours past two.
fn minutes(secs: f64) -> String {
    let minutes = secs / 60.0;
    if minutes < 120.0 {
        format!("{}분", minutes.round())
    } else {
        format!("{:.1}시간", minutes / 60.0)
    }
}
