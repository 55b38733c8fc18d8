//! The dashboards' own tables: the day's online peak and the rolled-up
//! figures (course funnels, mission rates, video retention).

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};

use crate::{
    assessments::figures::MissionRate,
    ids::{CourseId, MissionId, TopicId},
    learning::figures::{Funnel, Retention},
};

/// Keeps `online` as `day`'s peak when it is higher than the one kept.
pub async fn note_online(conn: &mut PgConnection, day: Date, online: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO online_peaks (day, peak, peak_at) VALUES ($1, $2, now())
         ON CONFLICT (day) DO UPDATE SET peak = EXCLUDED.peak, peak_at = EXCLUDED.peak_at
          WHERE online_peaks.peak < EXCLUDED.peak",
        day,
        i32::try_from(online).unwrap_or(i32::MAX)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The day's peak and when it was reached.
pub async fn online_peak(
    conn: &mut PgConnection,
    day: Date,
) -> sqlx::Result<Option<(i64, OffsetDateTime)>> {
    let row = sqlx::query!("SELECT peak, peak_at FROM online_peaks WHERE day = $1", day)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| (i64::from(r.peak), r.peak_at)))
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub async fn put_funnel(conn: &mut PgConnection, course: CourseId, f: &Funnel) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO course_funnels (course_id, enrolled, started, half_done, completed,
                                     avg_percent, computed_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (course_id) DO UPDATE SET enrolled = EXCLUDED.enrolled,
             started = EXCLUDED.started, half_done = EXCLUDED.half_done,
             completed = EXCLUDED.completed, avg_percent = EXCLUDED.avg_percent,
             computed_at = EXCLUDED.computed_at",
        course.0,
        int(f.enrolled),
        int(f.started),
        int(f.half_done),
        int(f.completed),
        f.avg_percent
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The kept funnels of `courses`, with when each was counted.
pub async fn funnels(
    conn: &mut PgConnection,
    courses: &[CourseId],
) -> sqlx::Result<Vec<(CourseId, Funnel, OffsetDateTime)>> {
    let ids: Vec<uuid::Uuid> = courses.iter().map(|c| c.0).collect();
    let rows = sqlx::query!(
        r#"SELECT course_id AS "course_id: CourseId", enrolled, started, half_done, completed,
                  avg_percent, computed_at
             FROM course_funnels WHERE course_id = ANY($1)"#,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let f = Funnel {
                enrolled: r.enrolled.into(),
                started: r.started.into(),
                half_done: r.half_done.into(),
                completed: r.completed.into(),
                avg_percent: r.avg_percent,
            };
            (r.course_id, f, r.computed_at)
        })
        .collect())
}

pub async fn put_rate(conn: &mut PgConnection, r: &MissionRate) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO mission_rates (mission_id, attempts, submissions, learners, passed, computed_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (mission_id) DO UPDATE SET attempts = EXCLUDED.attempts,
             submissions = EXCLUDED.submissions, learners = EXCLUDED.learners,
             passed = EXCLUDED.passed, computed_at = EXCLUDED.computed_at",
        r.mission.0,
        int(r.attempts),
        int(r.submissions),
        int(r.learners),
        int(r.passed)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The kept rates of the missions on `topics`.
pub async fn rates(conn: &mut PgConnection, topics: &[TopicId]) -> sqlx::Result<Vec<MissionRate>> {
    let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    let rows = sqlx::query!(
        r#"SELECT r.mission_id AS "mission: MissionId", m.topic_id AS "topic: TopicId",
                  r.attempts, r.submissions, r.learners, r.passed
             FROM mission_rates r JOIN missions m ON m.id = r.mission_id
            WHERE m.topic_id = ANY($1)"#,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MissionRate {
            mission: r.mission,
            topic: r.topic,
            attempts: r.attempts.into(),
            submissions: r.submissions.into(),
            learners: r.learners.into(),
            passed: r.passed.into(),
        })
        .collect())
}

pub async fn put_retention(
    conn: &mut PgConnection,
    topic: TopicId,
    video_secs: f64,
    r: &Retention,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO video_retention (topic_id, viewers, video_secs, watching, replays, computed_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (topic_id) DO UPDATE SET viewers = EXCLUDED.viewers,
             video_secs = EXCLUDED.video_secs, watching = EXCLUDED.watching,
             replays = EXCLUDED.replays, computed_at = EXCLUDED.computed_at",
        topic.0,
        int(r.viewers),
        video_secs,
        &r.watching,
        &r.replays
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The kept retention of the videos on `topics`.
pub async fn retentions(
    conn: &mut PgConnection,
    topics: &[TopicId],
) -> sqlx::Result<Vec<(TopicId, Retention)>> {
    let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    let rows = sqlx::query!(
        r#"SELECT topic_id AS "topic_id: TopicId", viewers, watching, replays
             FROM video_retention WHERE topic_id = ANY($1)"#,
        &ids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.topic_id,
                Retention {
                    viewers: r.viewers.into(),
                    watching: r.watching,
                    replays: r.replays,
                },
            )
        })
        .collect())
}

/// When the oldest of the kept figures was counted (`None`: never).
pub async fn rolled_up_at(conn: &mut PgConnection) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        r#"SELECT min(at) AS "at" FROM (SELECT min(computed_at) AS at FROM course_funnels
                                        UNION ALL SELECT min(computed_at) FROM mission_rates
                                        UNION ALL SELECT min(computed_at) FROM video_retention) x"#
    )
    .fetch_one(conn)
    .await
}
