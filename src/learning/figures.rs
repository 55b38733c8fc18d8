//! Learning figures for the dashboards: new grants per day, each course's
//! funnel (enrolled -> started -> half done -> completed), and each video's
//! audience retention from the learners' watched intervals.

use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    catalog::model::Product,
    ids::{TopicId, UserId},
};

/// Grants of access made by orders in `[from, to)`, per day in Asia/Seoul.
pub async fn enrolments_per_day(
    conn: &mut PgConnection,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> sqlx::Result<Vec<(Date, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT (created_at AT TIME ZONE 'Asia/Seoul')::date AS "day!", count(*) AS "n!"
             FROM enrolments
            WHERE created_at >= $1 AND created_at < $2 AND order_id IS NOT NULL
            GROUP BY 1 ORDER BY 1"#,
        from,
        to
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.n)).collect())
}

/// How far the learners of one course got.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Funnel {
    /// Learners granted the course or a curriculum holding it (grants a
    /// refund ended do not count; lapsed ones do).
    pub enrolled: i64,
    /// Of them, those who opened any of its topics.
    pub started: i64,
    /// Those with at least half of its topics done.
    pub half_done: i64,
    /// Those with every topic done.
    pub completed: i64,
    /// Topics done over topics held, across the enrolled (0-100).
    pub avg_percent: f64,
}

/// The funnel of the course sold as `sellers` (the course and the curricula
/// holding it) with the published `topics`.
pub async fn funnel(
    conn: &mut PgConnection,
    sellers: &[Product],
    topics: &[TopicId],
) -> sqlx::Result<Funnel> {
    let (curricula, courses) = Product::split(sellers);
    let ids: Vec<Uuid> = topics.iter().map(|t| t.0).collect();
    let held = i64::try_from(ids.len()).unwrap_or(i64::MAX).max(1);
    let row = sqlx::query!(
        r#"WITH enrolled AS (
               SELECT DISTINCT user_id FROM enrolments
                WHERE ended_at IS NULL
                  AND (course_id = ANY($1) OR curriculum_id = ANY($2))
           ), done AS (
               SELECT p.user_id, count(*) FILTER (WHERE p.completed_at IS NOT NULL) AS done
                 FROM topic_progress p JOIN enrolled e ON e.user_id = p.user_id
                WHERE p.topic_id = ANY($3)
                GROUP BY p.user_id
           )
           SELECT (SELECT count(*) FROM enrolled) AS "enrolled!",
                  count(*) AS "started!",
                  count(*) FILTER (WHERE done * 2 >= $4) AS "half_done!",
                  count(*) FILTER (WHERE done >= $4) AS "completed!",
                  coalesce(sum(done), 0)::bigint AS "done!"
             FROM done"#,
        &courses,
        &curricula,
        &ids,
        held
    )
    .fetch_one(conn)
    .await?;
    let possible = row.enrolled.saturating_mul(held);
    Ok(Funnel {
        enrolled: row.enrolled,
        started: row.started,
        half_done: row.half_done,
        completed: row.completed,
        avg_percent: if possible == 0 {
            0.0
        } else {
            row.done as f64 * 100.0 / possible as f64
        },
    })
}

crate::text_enum!(
    /// A step of a course's funnel.
    Stage {
        Enrolled => "enrolled",
        Started => "started",
        HalfDone => "half",
        Completed => "completed",
    }
);

/// A learner of a course and how far they got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnerStep {
    pub user: UserId,
    /// Topics done, of those `learners_at` was given.
    pub done: i64,
    /// When they last opened or watched one of them.
    pub last: Option<OffsetDateTime>,
}

/// The learners behind one step of [`funnel`] (each who reached it, so
/// "started" includes those who completed), the least recently active
/// first (a stalled learner comes up top), at most `limit`.
pub async fn learners_at(
    conn: &mut PgConnection,
    sellers: &[Product],
    topics: &[TopicId],
    stage: Stage,
    limit: i64,
) -> sqlx::Result<Vec<LearnerStep>> {
    let (curricula, courses) = Product::split(sellers);
    let ids: Vec<Uuid> = topics.iter().map(|t| t.0).collect();
    let held = i64::try_from(ids.len()).unwrap_or(i64::MAX).max(1);
    sqlx::query_as!(
        LearnerStep,
        r#"WITH enrolled AS (
               SELECT DISTINCT user_id FROM enrolments
                WHERE ended_at IS NULL
                  AND (course_id = ANY($1) OR curriculum_id = ANY($2))
           ), steps AS (
               SELECT e.user_id, count(p.topic_id) AS opened,
                      count(p.completed_at) AS done, max(p.updated_at) AS last
                 FROM enrolled e
                 LEFT JOIN topic_progress p ON p.user_id = e.user_id AND p.topic_id = ANY($3)
                GROUP BY e.user_id
           )
           SELECT user_id AS "user: UserId", done AS "done!", last
             FROM steps
            WHERE CASE $5
                  WHEN 'started' THEN opened > 0
                  WHEN 'half' THEN done * 2 >= $4
                  WHEN 'completed' THEN done >= $4
                  ELSE true END
            ORDER BY last ASC NULLS FIRST, user_id
            LIMIT $6"#,
        &courses,
        &curricula,
        &ids,
        held,
        stage.as_str(),
        limit
    )
    .fetch_all(conn)
    .await
}

/// A video's audience: the learners who played any of it, per second from
/// the start how many of them have watched that second, and how many times
/// a second was watched again after a seek back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    pub viewers: i64,
    pub watching: Vec<i32>,
    pub replays: Vec<i32>,
}

/// The retention of the video topic `topic`, `secs` long, from the stored
/// watched intervals (each learner's are disjoint: one learner counts once
/// per second). A second counts as watched when its middle was.
pub async fn retention(
    conn: &mut PgConnection,
    topic: TopicId,
    secs: f64,
) -> sqlx::Result<Retention> {
    // One sweep over both kinds of stretch: each learner's watched
    // intervals (`w`), and each seek back from `seek_from` to `position`,
    // which plays that stretch again (`r`).
    let steps = sqlx::query!(
        r#"WITH iv AS (
               SELECT 'w' AS kind, round((e ->> 0)::float8)::int AS s, round((e ->> 1)::float8)::int AS e
                 FROM topic_progress p, jsonb_array_elements(p.watched) AS e
                WHERE p.topic_id = $1 AND p.watched_secs > 0
               UNION ALL
               SELECT 'r', round(position)::int, round(seek_from)::int
                 FROM watch_events
                WHERE topic_id = $1 AND kind = 'seek' AND seek_from > position
           )
           SELECT kind AS "kind!", at AS "at!", sum(delta)::bigint AS "delta!"
             FROM (SELECT kind, s AS at, 1 AS delta FROM iv WHERE e > s
                   UNION ALL SELECT kind, e, -1 FROM iv WHERE e > s) AS d
            GROUP BY kind, at ORDER BY kind, at"#,
        topic.0
    )
    .fetch_all(&mut *conn)
    .await?;
    let viewers = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM topic_progress WHERE topic_id = $1 AND watched_secs > 0"#,
        topic.0
    )
    .fetch_one(&mut *conn)
    .await?;
    let of = |kind: &str| -> Vec<(i32, i64)> {
        steps
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| (s.at, s.delta))
            .collect()
    };
    let (watched, replayed) = (of("w"), of("r"));
    Ok(Retention {
        viewers,
        watching: curve(&watched, secs),
        replays: curve(&replayed, secs),
    })
}

/// Per second of a `secs`-long video, the running sum of the `(second,
/// change)` steps.
fn curve(steps: &[(i32, i64)], secs: f64) -> Vec<i32> {
    let len = usize::try_from(secs.ceil() as i64)
        .unwrap_or(0)
        .min(24 * 3600);
    let mut out = vec![0; len];
    let mut steps = steps.iter().peekable();
    let mut now: i64 = 0;
    for (second, slot) in out.iter_mut().enumerate() {
        while let Some((_, delta)) = steps.next_if(|(at, _)| i64::from(*at) <= second as i64) {
            now += delta;
        }
        *slot = i32::try_from(now.max(0)).unwrap_or(i32::MAX);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_sums_where_each_interval_starts_and_ends() {
        // Two learners: 0-4 and 2-6 (one replays nothing: intervals are
        // unions), in a 6-second video.
        let steps = [(0, 1), (2, 1), (4, -1), (6, -1)];
        assert_eq!(curve(&steps, 6.0), [1, 1, 2, 2, 1, 1]);
        assert_eq!(curve(&[], 2.5), [0, 0, 0]);
    }
}
