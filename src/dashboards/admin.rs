//! The admin's dashboard at `/admin`: what is happening now (refreshed by
//! htmx every 10 s), the business over a date range, and how each course's
//! learners progress. Every figure links to the list behind it.

use std::{collections::HashMap, sync::Arc};

use askama::Template;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use crate::labels as filters;
use crate::{
    accounts::{self, Admin},
    assessments::{self, Grader, figures::MissionRate},
    catalog::{CatalogCache, model::Product, model::TopicKind},
    certificates,
    commerce::figures::DaySales,
    dashboards::{rollup, store},
    error::AppResult,
    ids::{CourseId, MissionId},
    jobs::{self, JobStatus},
    learning::figures::Funnel,
    state::AppState,
    web::{
        self, PageCtx, Query,
        chart::BarChart,
        csv::Csv,
        dates::{self, DaysQuery},
        flash::Flash,
    },
};

/// One area of the admin pages, as the admin home lists it.
pub struct Area {
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
    Area {
        href: "/studio/insights",
        title: "코스 분석",
        what: "코스별 진행 단계, 미션 통과율, 영상의 시청 유지 곡선을 봅니다.",
    },
];

// ---------- now ----------

/// What is happening now.
#[derive(Template)]
#[template(path = "dashboards/_admin_live.html")]
pub struct Live {
    online: i64,
    /// Today's peak and when it was reached (sampled each minute).
    peak: Option<(i64, OffsetDateTime)>,
    transcoding: i64,
    transcodes_waiting: i64,
    grading_waiting: i64,
    failed_jobs: i64,
    /// Why the sandbox cannot grade, when it cannot.
    grader_down: Option<String>,
    grading_elsewhere: bool,
    at: OffsetDateTime,
}

impl Live {
    fn jobs_href(kind: &str, status: JobStatus) -> String {
        format!("/admin/jobs?kind={kind}&status={}", status.as_str())
    }

    fn transcoding_href(&self) -> String {
        Self::jobs_href(crate::media::TRANSCODE_JOB, JobStatus::Running)
    }

    fn transcodes_waiting_href(&self) -> String {
        Self::jobs_href(crate::media::TRANSCODE_JOB, JobStatus::Pending)
    }

    fn grading_href(&self) -> String {
        Self::jobs_href(assessments::GRADE_JOB, JobStatus::Pending)
    }
}

async fn live(state: &AppState, grader: &Grader) -> AppResult<Live> {
    let mut conn = state.db.acquire().await?;
    let online = accounts::figures::online_learners(&mut conn).await?;
    // The day's peak as the sample job kept it, or now if now is higher
    // (the page reads; only the job writes).
    let now = OffsetDateTime::now_utc();
    let peak = match store::online_peak(&mut conn, dates::today()).await? {
        Some((peak, at)) if peak >= online => Some((peak, at)),
        _ if online > 0 => Some((online, now)),
        kept => kept,
    };
    let mut counts: HashMap<(String, JobStatus), i64> = HashMap::new();
    let mut failed_jobs = 0;
    for (kind, status, n) in jobs::waiting(&mut conn).await? {
        if status == JobStatus::Failed {
            failed_jobs += n;
        }
        counts.insert((kind, status), n);
    }
    let count = |kind: &str, status| counts.get(&(kind.to_owned(), status)).copied().unwrap_or(0);
    let grading_waiting = assessments::figures::submissions_waiting(&mut conn).await?;
    drop(conn);
    Ok(Live {
        online,
        peak,
        transcoding: count(crate::media::TRANSCODE_JOB, JobStatus::Running),
        transcodes_waiting: count(crate::media::TRANSCODE_JOB, JobStatus::Pending),
        grading_waiting,
        failed_jobs,
        grader_down: grader.unusable().await,
        grading_elsewhere: !grader.grades_here(),
        at: now,
    })
}

/// `GET /admin/live`: the "now" figures alone, for htmx to swap in.
pub async fn live_fragment(
    State(state): State<AppState>,
    State(grader): State<Arc<Grader>>,
    _admin: Admin,
) -> AppResult<Response> {
    let live = live(&state, &grader).await?;
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        web::render(&live)?,
    )
        .into_response())
}

// ---------- a date range ----------

/// `?range=today|7d|30d|month|custom&month=YYYY-MM&from=&to=&format=csv`.
#[derive(Deserialize, Default)]
pub struct RangeQuery {
    #[serde(default)]
    range: String,
    #[serde(default)]
    month: String,
    #[serde(flatten)]
    days: DaysQuery,
    #[serde(default)]
    format: String,
}

/// Seoul days `from..=to` and how they were asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    pub kind: &'static str,
    pub from: Date,
    pub to: Date,
}

/// The longest custom range, in days.
const MAX_DAYS: i64 = 366;

impl Range {
    /// The range asked for, or why it cannot be read (in Korean) with the
    /// last 7 days instead.
    pub fn of(query: &RangeQuery, today: Date) -> (Self, Option<&'static str>) {
        let days = |kind, n: i64| Self {
            kind,
            from: today - Duration::days(n - 1),
            to: today,
        };
        let week = days("7d", 7);
        match query.range.as_str() {
            "today" => (days("today", 1), None),
            "" | "7d" => (week, None),
            "30d" => (days("30d", 30), None),
            "month" => {
                let first = match query.month.trim() {
                    "" => Some(today.replace_day(1).unwrap_or(today)),
                    raw => dates::parse_day(&format!("{raw}-01")),
                };
                match first {
                    Some(first) => {
                        let next = month_after(first);
                        (
                            Self {
                                kind: "month",
                                from: first,
                                to: next.previous_day().unwrap_or(first),
                            },
                            None,
                        )
                    }
                    None => (week, Some("월은 2026-12처럼 입력하세요.")),
                }
            }
            "custom" => match (query.days.first(), query.days.last()) {
                (Some(from), Some(to)) if from > to => {
                    (week, Some("시작일이 종료일보다 늦습니다."))
                }
                (Some(from), Some(to)) if (to - from).whole_days() >= MAX_DAYS => {
                    (week, Some("기간은 366일까지 볼 수 있습니다."))
                }
                (Some(from), Some(to)) => (
                    Self {
                        kind: "custom",
                        from,
                        to,
                    },
                    None,
                ),
                _ => (week, Some("시작일과 종료일을 모두 입력하세요.")),
            },
            _ => (
                week,
                Some("알 수 없는 기간입니다. 최근 7일을 보여 드립니다."),
            ),
        }
    }

    /// `[start, end)` as instants.
    fn bounds(&self) -> (OffsetDateTime, OffsetDateTime) {
        (
            dates::day_start(self.from),
            dates::day_start(self.to.next_day().unwrap_or(self.to)),
        )
    }

    fn days(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut day = self.from;
        while day <= self.to {
            out.push(day);
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }

    /// The query naming this range on the lists behind the figures.
    fn list_query(&self, from: &str, to: &str) -> String {
        format!("{from}={}&{to}={}", self.from, self.to)
    }

    /// `YYYY-MM` of the month shown.
    fn month(&self) -> String {
        format!("{:04}-{:02}", self.from.year(), u8::from(self.from.month()))
    }
}

fn month_after(first: Date) -> Date {
    let (year, month) = match first.month() {
        time::Month::December => (first.year() + 1, time::Month::January),
        m => (first.year(), m.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(first)
}

/// One day of the range.
pub struct Day {
    day: Date,
    signups: i64,
    sales: DaySales,
    enrolments: i64,
    certificates: i64,
}

/// The range's days and their totals.
pub struct Period {
    range: Range,
    days: Vec<Day>,
    total: Day,
}

async fn period(state: &AppState, range: Range) -> AppResult<Period> {
    let (start, end) = range.bounds();
    let mut conn = state.db.acquire().await?;
    let signups: HashMap<Date, i64> = accounts::figures::signups_per_day(&mut conn, start, end)
        .await?
        .into_iter()
        .collect();
    let mut sales: HashMap<Date, DaySales> =
        crate::commerce::figures::sales_per_day(&mut conn, start, end)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.day?, s)))
            .collect();
    let enrolments: HashMap<Date, i64> =
        crate::learning::figures::enrolments_per_day(&mut conn, start, end)
            .await?
            .into_iter()
            .collect();
    let issued: HashMap<Date, i64> = certificates::figures::issued_per_day(&mut conn, start, end)
        .await?
        .into_iter()
        .collect();
    drop(conn);
    let days: Vec<Day> = range
        .days()
        .into_iter()
        .map(|day| Day {
            day,
            signups: signups.get(&day).copied().unwrap_or(0),
            sales: sales.remove(&day).unwrap_or_default(),
            enrolments: enrolments.get(&day).copied().unwrap_or(0),
            certificates: issued.get(&day).copied().unwrap_or(0),
        })
        .collect();
    let mut total = Day {
        day: range.to,
        signups: 0,
        sales: DaySales::default(),
        enrolments: 0,
        certificates: 0,
    };
    for d in &days {
        total.signups += d.signups;
        total.sales.payments += d.sales.payments;
        total.sales.paid_won += d.sales.paid_won;
        total.sales.refunds += d.sales.refunds;
        total.sales.refunded_won += d.sales.refunded_won;
        total.enrolments += d.enrolments;
        total.certificates += d.certificates;
    }
    Ok(Period { range, days, total })
}

impl Period {
    fn label(day: Date) -> String {
        format!("{}/{}", u8::from(day.month()), day.day())
    }

    fn chart(
        &self,
        key: &'static str,
        title: &str,
        y: &str,
        value: impl Fn(&Day) -> f64,
        format: impl Fn(f64) -> String,
    ) -> BarChart {
        let points: Vec<(String, f64)> = self
            .days
            .iter()
            .map(|d| (Self::label(d.day), value(d)))
            .collect();
        BarChart::new(key, title, ("날짜", y), &points, format)
    }

    fn csv(&self) -> Csv {
        let mut csv = Csv::new(
            &format!("weaverse-{}-{}", self.range.from, self.range.to),
            &[
                "날짜",
                "가입",
                "결제 건수",
                "결제액(원)",
                "환불 건수",
                "환불액(원)",
                "순매출(원)",
                "새 수강",
                "수료증 발급",
            ],
        );
        for d in self.days.iter().chain(std::iter::once(&self.total)) {
            let day = if std::ptr::eq(d, &self.total) {
                "합계".to_owned()
            } else {
                d.day.to_string()
            };
            csv.row([
                day,
                d.signups.to_string(),
                d.sales.payments.to_string(),
                d.sales.paid_won.to_string(),
                d.sales.refunds.to_string(),
                d.sales.refunded_won.to_string(),
                d.sales.net_won().to_string(),
                d.enrolments.to_string(),
                d.certificates.to_string(),
            ]);
        }
        csv
    }
}

// ---------- learning ----------

/// A course's funnel as last counted.
pub struct CourseFunnel {
    pub id: CourseId,
    pub title: String,
    pub funnel: Option<Funnel>,
    pub missions: Vec<MissionLine>,
}

pub struct MissionLine {
    pub id: MissionId,
    pub title: String,
    pub rate: MissionRate,
}

impl CourseFunnel {
    /// `n` as a share of the enrolled, 0-100.
    pub fn share(&self, n: impl std::borrow::Borrow<i64>) -> i64 {
        let n = *n.borrow();
        match self.funnel {
            Some(f) if f.enrolled > 0 => (n * 100 + f.enrolled / 2) / f.enrolled,
            _ => 0,
        }
    }
}

/// The courses of the roadmap then every other live course, with their
/// kept funnels and mission rates (only `courses` when given).
pub async fn course_funnels(
    state: &AppState,
    cache: &CatalogCache,
    only: Option<&[CourseId]>,
) -> AppResult<(Vec<CourseFunnel>, Option<OffsetDateTime>)> {
    let mut ids: Vec<(CourseId, String)> = Vec::new();
    {
        let mut conn = state.db.acquire().await?;
        for (p, title) in crate::catalog::all_products(&mut conn).await? {
            if let Product::Course(c) = p
                && only.is_none_or(|only| only.contains(&c))
            {
                ids.push((c, title));
            }
        }
    }
    let roadmap: Vec<CourseId> = cache
        .roadmap_courses(&state.db)
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    ids.sort_by_key(|(id, _)| roadmap.iter().position(|r| r == id).unwrap_or(usize::MAX));
    let mut views = Vec::with_capacity(ids.len());
    for (id, _) in &ids {
        views.push(cache.course(&state.db, *id).await?);
    }
    let missions: Vec<_> = views
        .iter()
        .flat_map(|v| v.lectures.iter().flat_map(|l| l.topics.iter()))
        .filter(|t| t.kind == TopicKind::Mission)
        .map(|t| t.id)
        .collect();
    let course_ids: Vec<CourseId> = ids.iter().map(|(id, _)| *id).collect();
    let mut conn = state.db.acquire().await?;
    let mut funnels: HashMap<CourseId, Funnel> = store::funnels(&mut conn, &course_ids)
        .await?
        .into_iter()
        .map(|(id, f, _)| (id, f))
        .collect();
    let mut rates: HashMap<_, MissionRate> = store::rates(&mut conn, &missions)
        .await?
        .into_iter()
        .map(|r| (r.topic, r))
        .collect();
    let fresh = store::rolled_up_at(&mut conn).await?;
    drop(conn);
    let rows = ids
        .into_iter()
        .zip(views)
        .map(|((id, title), view)| CourseFunnel {
            id,
            title,
            funnel: funnels.remove(&id),
            missions: view
                .lectures
                .iter()
                .flat_map(|l| l.topics.iter())
                .filter_map(|t| {
                    let rate = rates.remove(&t.id)?;
                    Some(MissionLine {
                        id: rate.mission,
                        title: t.title.clone(),
                        rate,
                    })
                })
                .collect(),
        })
        .collect();
    Ok((rows, fresh))
}

// ---------- the page ----------

#[derive(Template)]
#[template(path = "dashboards/admin.html")]
struct AdminHome {
    ctx: PageCtx,
    areas: &'static [Area],
    live: Live,
    period: Period,
    /// Why the range asked for could not be read.
    range_error: Option<&'static str>,
    signups_chart: BarChart,
    revenue_chart: BarChart,
    courses: Vec<CourseFunnel>,
    /// When the funnels and rates were counted.
    rolled_up_at: Option<OffsetDateTime>,
}

impl AdminHome {
    fn payments_href(&self) -> String {
        format!(
            "/admin/payments?dates=paid&{}",
            self.period.range.list_query("from", "to")
        )
    }

    fn refunds_href(&self) -> String {
        format!(
            "/admin/payments?dates=refunded&{}",
            self.period.range.list_query("from", "to")
        )
    }

    fn signups_href(&self) -> String {
        format!(
            "/admin/users?role=student&{}",
            self.period.range.list_query("joined_from", "joined_to")
        )
    }

    fn certificates_href(&self) -> String {
        format!(
            "/admin/certificates?{}",
            self.period.range.list_query("from", "to")
        )
    }

    fn csv_href(&self) -> String {
        format!(
            "/admin?range=custom&{}&format=csv",
            self.period.range.list_query("from", "to")
        )
    }

    fn ranges(&self) -> [(&'static str, &'static str); 5] {
        [
            ("today", "오늘"),
            ("7d", "최근 7일"),
            ("30d", "최근 30일"),
            ("month", "한 달"),
            ("custom", "직접 지정"),
        ]
    }

    fn is_range(&self, key: &str) -> bool {
        self.period.range.kind == key
    }

    fn won(&self, n: impl std::borrow::Borrow<i64>) -> String {
        crate::money::Won(*n.borrow()).to_string()
    }

    fn minutes_ago(&self, at: &OffsetDateTime) -> i64 {
        (OffsetDateTime::now_utc() - *at).whole_minutes().max(0)
    }
}

/// `GET /admin`: where an admin lands after signing in.
pub async fn admin_home(
    State(state): State<AppState>,
    State(grader): State<Arc<Grader>>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    _admin: Admin,
    Query(query): Query<RangeQuery>,
) -> AppResult<Response> {
    let (range, range_error) = Range::of(&query, dates::today());
    let period = period(&state, range).await?;
    if query.format == "csv" && range_error.is_none() {
        return Ok(period.csv().into_response());
    }
    let live = live(&state, &grader).await?;
    let (courses, rolled_up_at) = course_funnels(&state, &cache, None).await?;
    let signups_chart = period.chart(
        "signups",
        "날짜별 가입",
        "가입 (명)",
        |d| d.signups as f64,
        people,
    );
    let revenue_chart = period.chart(
        "revenue",
        "날짜별 순매출 (환불 제외)",
        "순매출 (원)",
        |d| d.sales.net_won() as f64,
        won_short,
    );
    let status = match range_error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    Ok((
        status,
        web::render(&AdminHome {
            ctx,
            areas: AREAS,
            live,
            period,
            range_error,
            signups_chart,
            revenue_chart,
            courses,
            rolled_up_at,
        })?,
    )
        .into_response())
}

/// A count of people as an axis reads it: whole, or to one place between.
fn people(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}명")
    } else {
        format!("{v:.1}명")
    }
}

/// KRW as an axis reads it: `5만원`, `12.5만원`, `3,000원`.
fn won_short(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        let man = v / 10_000.0;
        if (man - man.round()).abs() < 0.05 {
            format!("{:.0}만원", man)
        } else {
            format!("{:.1}만원", man)
        }
    } else {
        format!("{}원", crate::money::thousands(v.round() as i64))
    }
}

/// One rollup at a time when an admin asks for it.
static ROLLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `POST /admin/rollups`: counts the funnels, rates and curves again now.
pub async fn roll_up_now(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    _admin: Admin,
) -> AppResult<Response> {
    let flash = match ROLLING.try_lock() {
        Ok(_running) => {
            rollup::roll_up(&state.db, &cache).await?;
            Flash::success("코스 지표를 다시 집계했습니다.")
        }
        Err(_) => Flash::info("이미 집계 중입니다. 잠시 뒤 새로 고쳐 보세요."),
    };
    Ok(ctx.redirect("/admin#learning", flash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn query(range: &str, month: &str, from: &str, to: &str) -> RangeQuery {
        RangeQuery {
            range: range.into(),
            month: month.into(),
            days: DaysQuery {
                from: from.into(),
                to: to.into(),
            },
            format: String::new(),
        }
    }

    #[test]
    fn ranges_are_seoul_days_and_bad_ones_say_why() {
        let today = date!(2026 - 12 - 05);
        let (r, e) = Range::of(&query("", "", "", ""), today);
        assert_eq!((r.from, r.to, e), (date!(2026 - 11 - 29), today, None));
        let (r, _) = Range::of(&query("today", "", "", ""), today);
        assert_eq!((r.from, r.to), (today, today));
        let (r, _) = Range::of(&query("30d", "", "", ""), today);
        assert_eq!(r.days().len(), 30);
        let (r, e) = Range::of(&query("month", "2026-02", "", ""), today);
        assert_eq!(
            (r.from, r.to, e),
            (date!(2026 - 02 - 01), date!(2026 - 02 - 28), None)
        );
        let (r, _) = Range::of(&query("month", "2026-12", "", ""), today);
        assert_eq!(r.to, date!(2026 - 12 - 31));
        let (_, e) = Range::of(&query("custom", "", "2026-12-05", "2026-12-01"), today);
        assert_eq!(e, Some("시작일이 종료일보다 늦습니다."));
        let (_, e) = Range::of(&query("custom", "", "2025-01-01", "2026-12-01"), today);
        assert!(e.is_some());
        let (_, e) = Range::of(&query("month", "12월", "", ""), today);
        assert!(e.is_some());
        assert_eq!(
            dates::day_start(date!(2026 - 12 - 05)),
            time::macros::datetime!(2026-12-04 15:00 UTC)
        );
    }

    #[test]
    fn won_on_an_axis_is_short() {
        assert_eq!(won_short(50_000.0), "5만원");
        assert_eq!(won_short(125_000.0), "12.5만원");
        assert_eq!(won_short(3_000.0), "3,000원");
        assert_eq!(won_short(0.0), "0원");
        assert_eq!(people(0.5), "0.5명");
        assert_eq!(people(3.0), "3명");
    }
}
