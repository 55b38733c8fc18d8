//! The tutor's view in the studio: for each of their own courses (every
//! course for an admin) the funnel, each mission's pass rate, and each
//! video's audience retention curve, from the rolled-up figures.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;

use crate::labels as filters;
use serde::Deserialize;

use crate::{
    accounts::{CurrentUser, Staff},
    catalog::{CatalogCache, error::CatalogError, model::TopicKind},
    dashboards::{
        admin::{CourseFunnel, course_funnels},
        store,
    },
    error::{AppError, AppResult},
    ids::{CourseId, MissionId, TopicId, UserId},
    learning::figures::{Retention, Stage},
    state::AppState,
    web::{self, PageCtx, Path, Query, chart::LineChart, csv::Csv, filters::clock_text},
};

#[derive(Template)]
#[template(path = "dashboards/insights.html")]
struct InsightsIndex {
    ctx: PageCtx,
    courses: Vec<CourseFunnel>,
    rolled_up_at: Option<OffsetDateTime>,
}

/// `GET /studio/insights`: the staff member's courses with their funnels.
pub async fn index(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
) -> AppResult<Response> {
    let mine: Vec<CourseId> = {
        let mut conn = state.db.acquire().await?;
        crate::catalog::studio::my_courses(&mut conn, &user)
            .await?
            .into_iter()
            .filter(|c| !c.deleted)
            .map(|c| c.id)
            .collect()
    };
    let (courses, rolled_up_at) = course_funnels(&state, &cache, Some(&mine)).await?;
    web::render(&InsightsIndex {
        ctx,
        courses,
        rolled_up_at,
    })
}

/// A video of the course with its retention.
struct VideoLine {
    topic: TopicId,
    title: String,
    duration: i64,
    viewers: i64,
    chart: Option<LineChart>,
    /// Where the share watching fell most over a twentieth of the video:
    /// `(from, to, points lost)`.
    steepest: Option<(f64, f64, f64)>,
    /// The share still watching at the end (0-100).
    at_end: Option<f64>,
    /// The stretch watched again most after seeks back: `(from, to, most
    /// times a second of it was)`.
    most_replayed: Option<(f64, f64, i32)>,
}

#[derive(Template)]
#[template(path = "dashboards/course_insights.html")]
struct CourseInsights {
    ctx: PageCtx,
    course: CourseFunnel,
    videos: Vec<VideoLine>,
    rolled_up_at: Option<OffsetDateTime>,
}

impl CourseInsights {
    fn clock(&self, secs: &f64) -> String {
        clock_text(*secs)
    }
}

/// How many points a curve is drawn with (and listed in its table).
const CURVE_POINTS: usize = 41;

/// `(second, share watching 0-100)` at `CURVE_POINTS` even steps.
fn curve_points(r: &Retention, duration: f64) -> Vec<(f64, f64)> {
    if r.viewers == 0 || r.watching.is_empty() {
        return Vec::new();
    }
    let last = r.watching.len() - 1;
    (0..CURVE_POINTS)
        .map(|i| {
            let x = duration * i as f64 / (CURVE_POINTS - 1) as f64;
            let second = (x.floor() as usize).min(last);
            let share = f64::from(r.watching[second]) * 100.0 / r.viewers as f64;
            (x, share.clamp(0.0, 100.0))
        })
        .collect()
}

/// Around the second replayed most, the seconds replayed at least half as
/// often: `(from, to, most)`.
fn most_replayed(replays: &[i32]) -> Option<(f64, f64, i32)> {
    let (peak, &most) = replays
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, usize::MAX - i))?;
    if most == 0 {
        return None;
    }
    let half = |i: &usize| replays[*i] * 2 >= most;
    let from = (0..peak).rev().take_while(half).last().unwrap_or(peak);
    let to = (peak..replays.len())
        .take_while(half)
        .last()
        .unwrap_or(peak)
        + 1;
    Some((from as f64, to as f64, most))
}

/// The stretch of a twentieth of the video where the share fell most.
fn steepest(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let step = (points.len() / 20).max(1);
    points
        .windows(step + 1)
        .map(|w| (w[0].0, w[step].0, w[0].1 - w[step].1))
        .filter(|(_, _, lost)| *lost > 0.5)
        .max_by(|a, b| a.2.total_cmp(&b.2))
}

/// A course's figures are for its tutor and admins.
async fn may_see(state: &AppState, user: &CurrentUser, id: CourseId) -> AppResult<()> {
    let mut conn = state.db.acquire().await?;
    match crate::catalog::studio::course_for_editing(&mut conn, user, id).await {
        Ok(_) => Ok(()),
        Err(CatalogError::NotAuthor(_)) => Err(AppError::Forbidden(
            "이 코스의 분석은 코스를 만든 튜터와 관리자만 볼 수 있습니다.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET /studio/insights/{course}`: one course, for its tutor or an admin.
pub async fn course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    may_see(&state, &user, id).await?;
    let (mut courses, rolled_up_at) = course_funnels(&state, &cache, Some(&[id])).await?;
    let course = courses.pop().ok_or(AppError::NotFound)?;
    let view = cache.course(&state.db, id).await?;
    let videos: Vec<_> = view
        .lectures
        .iter()
        .flat_map(|l| l.topics.iter())
        .filter(|t| t.kind == TopicKind::Video)
        .collect();
    let ids: Vec<TopicId> = videos.iter().map(|t| t.id).collect();
    let mut kept: std::collections::HashMap<TopicId, Retention> =
        store::retentions(&mut *state.db.acquire().await?, &ids)
            .await?
            .into_iter()
            .collect();
    let videos = videos
        .into_iter()
        .map(|t| {
            let retention = kept.remove(&t.id).unwrap_or_default();
            let duration = t.duration as f64;
            let points = curve_points(&retention, duration);
            VideoLine {
                topic: t.id,
                title: t.title.clone(),
                duration: t.duration,
                viewers: retention.viewers,
                steepest: steepest(&points),
                most_replayed: most_replayed(&retention.replays),
                at_end: points.last().map(|p| p.1),
                chart: (!points.is_empty()).then(|| {
                    LineChart::new(
                        format!("retention-{}", t.id),
                        format!("{}: 시청 유지율", t.title),
                        ("영상 위치", "아직 보는 학습자"),
                        &points,
                        duration,
                        clock_text,
                    )
                }),
            }
        })
        .collect();
    web::render(&CourseInsights {
        ctx,
        course,
        videos,
        rolled_up_at,
    })
}

/// A learner in a staff member's list: the nickname, and for an admin the
/// email too (with the way to the learner's admin page).
struct Person {
    user: UserId,
    nickname: String,
    email: Option<String>,
}

/// `users` as [`Person`]s, in the same order.
async fn people(
    conn: &mut sqlx::PgConnection,
    users: &[UserId],
    admin: bool,
) -> sqlx::Result<Vec<Person>> {
    let mut nicknames = crate::accounts::nicknames_of(conn, users).await?;
    let mut emails = match admin {
        true => crate::accounts::emails_of(conn, users).await?,
        false => Default::default(),
    };
    Ok(users
        .iter()
        .map(|u| Person {
            user: *u,
            nickname: nicknames.remove(u).unwrap_or_default(),
            email: emails.remove(u),
        })
        .collect())
}

/// A list of people as CSV: the nickname, the email for an admin, then
/// `header`'s columns with each row's `cells`.
fn people_csv<'a>(
    name: &str,
    admin: bool,
    header: &[&str],
    rows: impl Iterator<Item = (&'a Person, Vec<String>)>,
) -> Csv {
    let mut columns = vec!["닉네임"];
    if admin {
        columns.push("이메일");
    }
    columns.extend_from_slice(header);
    let mut out = Csv::new(name, &columns);
    for (who, cells) in rows {
        let mut line = vec![who.nickname.clone()];
        if admin {
            line.push(who.email.clone().unwrap_or_default());
        }
        line.extend(cells);
        out.row(line);
    }
    out
}

/// `?stage=enrolled|started|half|completed&format=csv`.
#[derive(Deserialize, Default)]
pub struct StageQuery {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    format: String,
}

/// A learner behind a step, as the list shows them: a tutor sees the
/// nickname, an admin the email too (and the way to the learner's page).
struct LearnerLine {
    who: Person,
    done: i64,
    percent: i64,
    last: Option<OffsetDateTime>,
}

#[derive(Template)]
#[template(path = "dashboards/course_learners.html")]
struct CourseLearners {
    ctx: PageCtx,
    course: CourseId,
    title: String,
    stage: Stage,
    topics: usize,
    rows: Vec<LearnerLine>,
    admin: bool,
}

impl CourseLearners {
    fn stages(&self) -> [(Stage, &'static str); 4] {
        [
            (Stage::Enrolled, "수강"),
            (Stage::Started, "시작"),
            (Stage::HalfDone, "절반 완료"),
            (Stage::Completed, "완료"),
        ]
    }

    fn is_stage(&self, s: &Stage) -> bool {
        self.stage == *s
    }

    fn csv_href(&self) -> String {
        format!(
            "/studio/insights/{}/learners?stage={}&format=csv",
            self.course,
            self.stage.as_str()
        )
    }
}

/// `GET /studio/insights/{course}/learners?stage=`: who is behind a step of
/// the funnel (live, not rolled up), the least recently active first.
pub async fn learners(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
    Query(query): Query<StageQuery>,
) -> AppResult<Response> {
    may_see(&state, &user, id).await?;
    let stage = Stage::parse(&query.stage).unwrap_or(Stage::Enrolled);
    let csv = query.format == "csv";
    let view = cache.course(&state.db, id).await?;
    let topics: Vec<TopicId> = view
        .lectures
        .iter()
        .filter(|l| l.published)
        .flat_map(|l| l.topics.iter())
        .filter(|t| t.published)
        .map(|t| t.id)
        .collect();
    let mut conn = state.db.acquire().await?;
    let steps = crate::learning::figures::learners_at(
        &mut conn,
        &view.sellers,
        &topics,
        stage,
        if csv { 100_000 } else { 500 },
    )
    .await?;
    let admin = user.is_admin();
    let ids: Vec<UserId> = steps.iter().map(|s| s.user).collect();
    let people = people(&mut conn, &ids, admin).await?;
    drop(conn);
    let held = i64::try_from(topics.len()).unwrap_or(i64::MAX).max(1);
    let rows: Vec<LearnerLine> = steps
        .into_iter()
        .zip(people)
        .map(|(s, who)| LearnerLine {
            who,
            percent: (s.done * 100 / held).min(100),
            done: s.done,
            last: s.last,
        })
        .collect();
    if csv {
        let lines = rows.iter().map(|r| {
            let cells = vec![
                r.done.to_string(),
                r.percent.to_string(),
                r.last.as_ref().map(web::dates::sheet).unwrap_or_default(),
            ];
            (&r.who, cells)
        });
        let name = format!("learners-{}", stage.as_str());
        return Ok(people_csv(
            &name,
            admin,
            &["마친 토픽", "진도(%)", "마지막 학습"],
            lines,
        )
        .into_response());
    }
    web::render(&CourseLearners {
        ctx,
        course: id,
        title: view.title.clone(),
        stage,
        topics: topics.len(),
        rows,
        admin,
    })
}

/// `?passed=on&format=csv`.
#[derive(Deserialize, Default)]
pub struct MissionQuery {
    #[serde(default)]
    passed: String,
    #[serde(default)]
    format: String,
}

struct ResultLine {
    who: Person,
    best_score: i32,
    attempts: i64,
    passed_at: Option<OffsetDateTime>,
}

#[derive(Template)]
#[template(path = "dashboards/mission_learners.html")]
struct MissionLearners {
    ctx: PageCtx,
    course: CourseId,
    course_title: String,
    mission: MissionId,
    title: String,
    passed_only: bool,
    rows: Vec<ResultLine>,
    admin: bool,
}

impl MissionLearners {
    fn csv_href(&self) -> String {
        let passed = if self.passed_only { "on" } else { "" };
        format!(
            "/studio/insights/{}/missions/{}?passed={passed}&format=csv",
            self.course, self.mission
        )
    }
}

/// `GET /studio/insights/{course}/missions/{mission}`: the learners behind
/// a mission's rate (everyone with a score, or those who passed), the
/// lowest scores first.
pub async fn mission_learners(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path((id, mission)): Path<(CourseId, MissionId)>,
    Query(query): Query<MissionQuery>,
) -> AppResult<Response> {
    may_see(&state, &user, id).await?;
    let view = cache.course(&state.db, id).await?;
    let topics: Vec<_> = view
        .lectures
        .iter()
        .flat_map(|l| l.topics.iter())
        .filter(|t| t.kind == TopicKind::Mission)
        .collect();
    let mut conn = state.db.acquire().await?;
    // The mission must be one of this course's.
    let mut title = None;
    for topic in &topics {
        if crate::assessments::mission_of_topic(&mut conn, topic.id).await? == Some(mission.0) {
            title = Some(topic.title.clone());
        }
    }
    let title = title.ok_or(AppError::NotFound)?;
    let passed_only = query.passed == "on";
    let csv = query.format == "csv";
    let found = crate::assessments::figures::mission_learners(
        &mut conn,
        mission,
        passed_only,
        if csv { 100_000 } else { 500 },
    )
    .await?;
    let admin = user.is_admin();
    let users: Vec<UserId> = found.iter().map(|r| r.user).collect();
    let people = people(&mut conn, &users, admin).await?;
    drop(conn);
    let rows: Vec<ResultLine> = found
        .into_iter()
        .zip(people)
        .map(|(r, who)| ResultLine {
            who,
            best_score: r.best_score,
            attempts: r.attempts,
            passed_at: r.passed_at,
        })
        .collect();
    if csv {
        let lines = rows.iter().map(|r| {
            let cells = vec![
                r.best_score.to_string(),
                r.attempts.to_string(),
                r.passed_at
                    .as_ref()
                    .map(web::dates::sheet)
                    .unwrap_or_default(),
            ];
            (&r.who, cells)
        });
        return Ok(people_csv(
            "mission-learners",
            admin,
            &["최고 점수", "응시", "통과 시각"],
            lines,
        )
        .into_response());
    }
    web::render(&MissionLearners {
        ctx,
        course: id,
        course_title: view.title.clone(),
        mission,
        title,
        passed_only,
        rows,
        admin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curve_is_the_share_still_watching_and_its_steepest_fall_is_found() {
        // Four viewers of a 40-second video: all watch to 20 s, one to the end.
        let mut watching = vec![4; 20];
        watching.extend(vec![1; 20]);
        let r = Retention {
            viewers: 4,
            watching,
            replays: Vec::new(),
        };
        let points = curve_points(&r, 40.0);
        assert_eq!(points.len(), CURVE_POINTS);
        assert_eq!(points[0], (0.0, 100.0));
        assert_eq!(points[20], (20.0, 25.0));
        assert_eq!(points[40], (40.0, 25.0));
        let (from, to, lost) = steepest(&points).unwrap();
        assert!(
            from < 20.0 && to >= 20.0 && lost > 70.0,
            "{from} {to} {lost}"
        );
        assert!(curve_points(&Retention::default(), 40.0).is_empty());
        // Seconds 10-14 watched again three times, 15 once: 10 to 15.
        let mut replays = vec![0; 40];
        replays[10..15].fill(3);
        replays[15] = 1;
        assert_eq!(most_replayed(&replays), Some((10.0, 15.0, 3)));
        assert_eq!(most_replayed(&[0, 0]), None);
    }
}
