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
use crate::{
    accounts::Staff,
    catalog::{CatalogCache, error::CatalogError, model::TopicKind},
    dashboards::{
        admin::{CourseFunnel, course_funnels},
        store,
    },
    error::{AppError, AppResult},
    ids::{CourseId, TopicId},
    learning::figures::Retention,
    state::AppState,
    web::{self, PageCtx, Path, chart::LineChart, filters::clock_text},
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
    Ok(web::render(&InsightsIndex {
        ctx,
        courses,
        rolled_up_at,
    })?
    .into_response())
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

/// The stretch of a twentieth of the video where the share fell most.
fn steepest(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let step = (points.len() / 20).max(1);
    points
        .windows(step + 1)
        .map(|w| (w[0].0, w[step].0, w[0].1 - w[step].1))
        .filter(|(_, _, lost)| *lost > 0.5)
        .max_by(|a, b| a.2.total_cmp(&b.2))
}

/// `GET /studio/insights/{course}`: one course, for its tutor or an admin.
pub async fn course(
    State(state): State<AppState>,
    State(cache): State<Arc<CatalogCache>>,
    ctx: PageCtx,
    Staff(user): Staff,
    Path(id): Path<CourseId>,
) -> AppResult<Response> {
    {
        let mut conn = state.db.acquire().await?;
        match crate::catalog::studio::course_for_editing(&mut conn, &user, id).await {
            Ok(_) => {}
            Err(CatalogError::NotAuthor(_)) => {
                return Err(AppError::Forbidden(
                    "이 코스의 분석은 코스를 만든 튜터와 관리자만 볼 수 있습니다.".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
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
    Ok(web::render(&CourseInsights {
        ctx,
        course,
        videos,
        rolled_up_at,
    })?
    .into_response())
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
    }
}
