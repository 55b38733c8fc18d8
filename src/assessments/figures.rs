//! Assessment figures for the dashboards: code waiting for the grader, and
//! each mission's attempts and passes.

use sqlx::PgConnection;

use crate::ids::{MissionId, TopicId};

/// Code submissions waiting for their verdict.
pub async fn submissions_waiting(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM code_submissions WHERE verdict = 'pending'"#
    )
    .fetch_one(conn)
    .await
}

/// How one mission is going: attempts opened, code submitted (not trial
/// runs), learners with a score and those who passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissionRate {
    pub mission: MissionId,
    pub topic: TopicId,
    pub attempts: i64,
    pub submissions: i64,
    pub learners: i64,
    pub passed: i64,
}

impl MissionRate {
    /// Passed over learners with a score, 0-100 (`None`: nobody tried).
    pub fn pass_percent(&self) -> Option<f64> {
        (self.learners > 0).then(|| self.passed as f64 * 100.0 / self.learners as f64)
    }
}

/// The rates of the missions on `topics`.
pub async fn mission_rates(
    conn: &mut PgConnection,
    topics: &[TopicId],
) -> sqlx::Result<Vec<MissionRate>> {
    let topics: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    sqlx::query_as!(
        MissionRate,
        r#"SELECT m.id AS "mission: MissionId", m.topic_id AS "topic: TopicId",
                  (SELECT count(*) FROM attempts a WHERE a.mission_id = m.id) AS "attempts!",
                  (SELECT count(*) FROM code_submissions s JOIN questions q ON q.id = s.question_id
                    WHERE q.mission_id = m.id AND NOT s.trial) AS "submissions!",
                  (SELECT count(*) FROM mission_results r WHERE r.mission_id = m.id) AS "learners!",
                  (SELECT count(*) FROM mission_results r
                    WHERE r.mission_id = m.id AND r.passed_at IS NOT NULL) AS "passed!"
             FROM missions m WHERE m.topic_id = ANY($1)"#,
        &topics
    )
    .fetch_all(conn)
    .await
}

/// A learner's result on one mission, for the list behind its rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissionLearner {
    pub user: crate::ids::UserId,
    pub best_score: i32,
    pub passed_at: Option<time::OffsetDateTime>,
    pub attempts: i64,
}

/// The learners with a score on `mission` (only those who passed when
/// `passed`), the lowest scores first, at most `limit`.
pub async fn mission_learners(
    conn: &mut PgConnection,
    mission: MissionId,
    passed: bool,
    limit: i64,
) -> sqlx::Result<Vec<MissionLearner>> {
    sqlx::query_as!(
        MissionLearner,
        r#"SELECT r.user_id AS "user: crate::ids::UserId", r.best_score, r.passed_at,
                  (SELECT count(*) FROM attempts a
                    WHERE a.mission_id = r.mission_id AND a.user_id = r.user_id) AS "attempts!"
             FROM mission_results r
            WHERE r.mission_id = $1 AND (NOT $2 OR r.passed_at IS NOT NULL)
            ORDER BY r.best_score, r.user_id
            LIMIT $3"#,
        mission.0,
        passed,
        limit
    )
    .fetch_all(conn)
    .await
}
