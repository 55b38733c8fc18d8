//! Assessments SQL: missions, questions, choices, tests, attempts, code
//! submissions and results.

use std::collections::HashMap;

use sqlx::{PgConnection, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    assessments::{
        grading::{TestResult, Verdict},
        model::{MissionKind, QuestionKind},
        sandbox::Language,
    },
    ids::{TopicId, UserId},
};

pub struct MissionRow {
    pub id: Uuid,
    pub topic_id: TopicId,
    pub kind: MissionKind,
    pub pass_percent: i32,
    pub max_attempts: Option<i32>,
    pub cooldown_secs: i32,
    pub time_limit_secs: Option<i32>,
}

/// How a mission's attempts are rationed, as a tutor sets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttemptRules {
    /// `None`: as many as the learner likes.
    pub max_attempts: Option<i32>,
    /// The least time between the end of one attempt and the next.
    pub cooldown_secs: i32,
    pub time_limit_secs: Option<i32>,
}

pub async fn mission(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MissionRow>> {
    sqlx::query_as!(
        MissionRow,
        r#"SELECT id, topic_id AS "topic_id: TopicId", kind AS "kind: MissionKind", pass_percent,
                  max_attempts, cooldown_secs, time_limit_secs
             FROM missions WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn mission_of_topic(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<MissionRow>> {
    sqlx::query_as!(
        MissionRow,
        r#"SELECT id, topic_id AS "topic_id: TopicId", kind AS "kind: MissionKind", pass_percent,
                  max_attempts, cooldown_secs, time_limit_secs
             FROM missions WHERE topic_id = $1"#,
        topic.0
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_mission(
    conn: &mut PgConnection,
    topic: TopicId,
    kind: MissionKind,
    pass_percent: i32,
    rules: AttemptRules,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "INSERT INTO missions (topic_id, kind, pass_percent, max_attempts, cooldown_secs,
                               time_limit_secs)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        topic.0,
        kind.as_str(),
        pass_percent,
        rules.max_attempts,
        rules.cooldown_secs,
        rules.time_limit_secs
    )
    .fetch_one(conn)
    .await
}

pub async fn update_mission(
    conn: &mut PgConnection,
    id: Uuid,
    kind: MissionKind,
    pass_percent: i32,
    rules: AttemptRules,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE missions SET kind = $2, pass_percent = $3, max_attempts = $4, cooldown_secs = $5,
                time_limit_secs = $6, updated_at = now() WHERE id = $1",
        id,
        kind.as_str(),
        pass_percent,
        rules.max_attempts,
        rules.cooldown_secs,
        rules.time_limit_secs
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct QuestionRow {
    pub id: Uuid,
    pub kind: QuestionKind,
    pub prompt: String,
    pub points: i32,
    pub multiple: bool,
    pub language: Option<Language>,
    pub mode: Option<String>,
    pub starter_code: String,
    pub cpu_secs: i32,
    pub memory_mb: i32,
    /// Markdown, shown in the review.
    pub explanation: String,
}

pub async fn questions(conn: &mut PgConnection, mission: Uuid) -> sqlx::Result<Vec<QuestionRow>> {
    sqlx::query_as!(
        QuestionRow,
        r#"SELECT id, kind AS "kind: QuestionKind", prompt, points, multiple,
                  language AS "language: Language", mode, starter_code, cpu_secs, memory_mb, explanation
             FROM questions WHERE mission_id = $1 AND deleted_at IS NULL
            ORDER BY position, created_at"#,
        mission
    )
    .fetch_all(conn)
    .await
}

/// A live question with its mission.
pub async fn question(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(Uuid, QuestionRow)>> {
    Ok(sqlx::query!(
        r#"SELECT mission_id, id, kind AS "kind: QuestionKind", prompt, points, multiple,
                  language AS "language: Language", mode, starter_code, cpu_secs, memory_mb, explanation
             FROM questions WHERE id = $1 AND deleted_at IS NULL"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .map(|r| {
        (
            r.mission_id,
            QuestionRow {
                id: r.id,
                kind: r.kind,
                prompt: r.prompt,
                points: r.points,
                multiple: r.multiple,
                language: r.language,
                mode: r.mode,
                starter_code: r.starter_code,
                cpu_secs: r.cpu_secs,
                memory_mb: r.memory_mb,
                explanation: r.explanation,
            },
        )
    }))
}

pub struct NewQuestion<'a> {
    pub kind: QuestionKind,
    pub prompt: &'a str,
    pub points: i32,
    pub multiple: bool,
    pub language: Option<Language>,
    pub mode: Option<&'a str>,
    pub starter_code: &'a str,
    pub cpu_secs: i32,
    pub memory_mb: i32,
    pub explanation: &'a str,
}

/// Appends a question at the end of the mission (the mission row is locked
/// so parallel additions take turns for positions).
pub async fn insert_question(
    conn: &mut PgConnection,
    mission: Uuid,
    q: &NewQuestion<'_>,
) -> sqlx::Result<Uuid> {
    sqlx::query!("SELECT id FROM missions WHERE id = $1 FOR UPDATE", mission)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query_scalar!(
        "INSERT INTO questions (mission_id, position, kind, prompt, points, multiple, language, mode,
                                starter_code, cpu_secs, memory_mb, explanation)
         VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM questions WHERE mission_id = $1),
                 $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id",
        mission,
        q.kind.as_str(),
        q.prompt,
        q.points,
        q.multiple,
        q.language.map(|l| l.as_str()),
        q.mode,
        q.starter_code,
        q.cpu_secs,
        q.memory_mb,
        q.explanation
    )
    .fetch_one(conn)
    .await
}

pub async fn update_question(
    conn: &mut PgConnection,
    id: Uuid,
    q: &NewQuestion<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE questions SET prompt = $2, points = $3, multiple = $4, language = $5, mode = $6,
                starter_code = $7, cpu_secs = $8, memory_mb = $9, explanation = $11
          WHERE id = $1 AND kind = $10",
        id,
        q.prompt,
        q.points,
        q.multiple,
        q.language.map(|l| l.as_str()),
        q.mode,
        q.starter_code,
        q.cpu_secs,
        q.memory_mb,
        q.kind.as_str(),
        q.explanation
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_question(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("UPDATE questions SET deleted_at = now() WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks a question until the transaction ends, so parallel additions to it
/// take turns for positions.
async fn lock_question(conn: &mut PgConnection, question: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "SELECT id FROM questions WHERE id = $1 FOR UPDATE",
        question
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

pub struct ChoiceRow {
    pub id: Uuid,
    pub question_id: Uuid,
    pub body: String,
    pub correct: bool,
}

pub async fn choices(conn: &mut PgConnection, questions: &[Uuid]) -> sqlx::Result<Vec<ChoiceRow>> {
    sqlx::query_as!(
        ChoiceRow,
        "SELECT id, question_id, body, correct FROM choices WHERE question_id = ANY($1)
          ORDER BY question_id, position",
        questions
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_choice(
    conn: &mut PgConnection,
    question: Uuid,
    body: &str,
    correct: bool,
) -> sqlx::Result<Uuid> {
    lock_question(conn, question).await?;
    sqlx::query_scalar!(
        "INSERT INTO choices (question_id, position, body, correct)
         VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM choices WHERE question_id = $1), $2, $3)
         RETURNING id",
        question,
        body,
        correct
    )
    .fetch_one(conn)
    .await
}

pub async fn delete_choice(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM choices WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn choice_question(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT question_id FROM choices WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

pub struct TestRow {
    pub id: Uuid,
    pub question_id: Uuid,
    pub visible: bool,
    pub input: String,
    pub harness: String,
    pub expected: String,
}

pub async fn tests(conn: &mut PgConnection, questions: &[Uuid]) -> sqlx::Result<Vec<TestRow>> {
    sqlx::query_as!(
        TestRow,
        "SELECT id, question_id, visible, input, harness, expected FROM code_tests
          WHERE question_id = ANY($1) ORDER BY question_id, position",
        questions
    )
    .fetch_all(conn)
    .await
}

pub async fn insert_test(
    conn: &mut PgConnection,
    question: Uuid,
    visible: bool,
    input: &str,
    harness: &str,
    expected: &str,
) -> sqlx::Result<Uuid> {
    lock_question(conn, question).await?;
    sqlx::query_scalar!(
        "INSERT INTO code_tests (question_id, position, visible, input, harness, expected)
         VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM code_tests WHERE question_id = $1),
                 $2, $3, $4, $5)
         RETURNING id",
        question,
        visible,
        input,
        harness,
        expected
    )
    .fetch_one(conn)
    .await
}

pub async fn delete_test(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM code_tests WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn test_question(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("SELECT question_id FROM code_tests WHERE id = $1", id)
        .fetch_optional(conn)
        .await
}

// ---------- attempts ----------

pub struct AttemptRow {
    pub id: Uuid,
    pub number: i32,
    pub shuffle_seed: i64,
    pub started_at: OffsetDateTime,
    pub submitted_at: Option<OffsetDateTime>,
    pub feedback: Option<Json<Vec<(Uuid, i32)>>>,
    /// The choices picked, per question.
    pub answers: Option<Json<HashMap<Uuid, Vec<Uuid>>>>,
    pub score: Option<i32>,
}

/// One of a learner's attempts with their result on the mission (the same
/// on every row); a row of nothing but the result when they made none.
struct LearnerAttemptRow {
    id: Option<Uuid>,
    number: Option<i32>,
    shuffle_seed: Option<i64>,
    started_at: Option<OffsetDateTime>,
    submitted_at: Option<OffsetDateTime>,
    feedback: Option<Json<Vec<(Uuid, i32)>>>,
    answers: Option<Json<HashMap<Uuid, Vec<Uuid>>>>,
    score: Option<i32>,
    best_score: Option<i32>,
    passed: Option<bool>,
}

/// The learner's attempts at `mission`, latest first, and their result on
/// it (best score, passed), in one statement.
pub async fn learner_attempts(
    conn: &mut PgConnection,
    mission: Uuid,
    user: UserId,
) -> sqlx::Result<(Vec<AttemptRow>, Option<(i32, bool)>)> {
    let rows = sqlx::query_as!(
        LearnerAttemptRow,
        r#"SELECT a.id AS "id?", a.number AS "number?", a.shuffle_seed AS "shuffle_seed?",
                  a.started_at AS "started_at?", a.submitted_at AS "submitted_at?",
                  a.feedback AS "feedback?: Json<Vec<(Uuid, i32)>>",
                  a.answers AS "answers?: Json<HashMap<Uuid, Vec<Uuid>>>", a.score AS "score?",
                  r.best_score AS "best_score?", r.passed AS "passed?"
             FROM (VALUES (1)) AS one (x)
             LEFT JOIN (SELECT best_score, passed_at IS NOT NULL AS passed FROM mission_results
                         WHERE mission_id = $1 AND user_id = $2) r ON true
             LEFT JOIN attempts a ON a.mission_id = $1 AND a.user_id = $2
            ORDER BY a.number DESC"#,
        mission,
        user.0
    )
    .fetch_all(conn)
    .await?;
    let result = rows.first().and_then(|r| Some((r.best_score?, r.passed?)));
    let attempts = rows
        .into_iter()
        .filter_map(|r| {
            Some(AttemptRow {
                id: r.id?,
                number: r.number?,
                shuffle_seed: r.shuffle_seed?,
                started_at: r.started_at?,
                submitted_at: r.submitted_at,
                feedback: r.feedback,
                answers: r.answers,
                score: r.score,
            })
        })
        .collect();
    Ok((attempts, result))
}

/// The learner's attempts, latest first.
pub async fn attempts(
    conn: &mut PgConnection,
    mission: Uuid,
    user: UserId,
) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as!(
        AttemptRow,
        r#"SELECT id, number, shuffle_seed, started_at, submitted_at,
                  feedback AS "feedback: Json<Vec<(Uuid, i32)>>",
                  answers AS "answers: Json<HashMap<Uuid, Vec<Uuid>>>", score
             FROM attempts WHERE mission_id = $1 AND user_id = $2 ORDER BY number DESC"#,
        mission,
        user.0
    )
    .fetch_all(conn)
    .await
}

impl MissionRow {
    pub fn rules(&self) -> AttemptRules {
        AttemptRules {
            max_attempts: self.max_attempts,
            cooldown_secs: self.cooldown_secs,
            time_limit_secs: self.time_limit_secs,
        }
    }
}

/// Opens the learner's next attempt unless one is open, all are used or
/// the last ended within the cooldown (one statement: parallel opens make
/// at most one).
pub async fn open_attempt(
    conn: &mut PgConnection,
    mission: Uuid,
    user: UserId,
    seed: i64,
    rules: AttemptRules,
) -> sqlx::Result<()> {
    // One statement decides: attempts left, none open, and the last one
    // ended at least the cooldown ago (by the database's clock).
    sqlx::query!(
        "INSERT INTO attempts (mission_id, user_id, number, shuffle_seed)
         SELECT $1, $2, coalesce(max(number), 0) + 1, $3 FROM attempts
          WHERE mission_id = $1 AND user_id = $2
         HAVING ($4::int IS NULL OR count(*) < $4)
            AND count(*) FILTER (WHERE submitted_at IS NULL) = 0
            AND (max(submitted_at) IS NULL
                 OR max(submitted_at) + make_interval(secs => $5) <= now())
         ON CONFLICT DO NOTHING",
        mission,
        user.0,
        seed,
        rules.max_attempts,
        f64::from(rules.cooldown_secs)
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The open attempt, locked until the transaction ends.
pub async fn lock_open_attempt(
    conn: &mut PgConnection,
    mission: Uuid,
    user: UserId,
) -> sqlx::Result<Option<AttemptRow>> {
    sqlx::query_as!(
        AttemptRow,
        r#"SELECT id, number, shuffle_seed, started_at, submitted_at,
                  feedback AS "feedback: Json<Vec<(Uuid, i32)>>",
                  answers AS "answers: Json<HashMap<Uuid, Vec<Uuid>>>", score
             FROM attempts WHERE mission_id = $1 AND user_id = $2 AND submitted_at IS NULL
              FOR UPDATE"#,
        mission,
        user.0
    )
    .fetch_optional(conn)
    .await
}

pub async fn submit_attempt(
    conn: &mut PgConnection,
    id: Uuid,
    answers: &serde_json::Value,
    feedback: &[(Uuid, i32)],
    choice_points: i32,
    score: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE attempts SET submitted_at = now(), answers = $2, feedback = $3, choice_points = $4,
                score = $5
          WHERE id = $1",
        id,
        answers,
        Json(feedback) as _,
        choice_points,
        score
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------- code submissions ----------

pub struct SubmissionRow {
    pub id: Uuid,
    pub question_id: Uuid,
    pub user_id: UserId,
    pub code: String,
    pub verdict: Verdict,
    pub score: Option<i32>,
    pub results: Option<Json<Vec<TestResult>>>,
    pub message: Option<String>,
    /// A run of the visible tests only ("실행해 보기"), never scored.
    pub trial: bool,
}

pub async fn submission(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<SubmissionRow>> {
    sqlx::query_as!(
        SubmissionRow,
        r#"SELECT id, question_id, user_id AS "user_id: UserId", code, verdict AS "verdict: Verdict",
                  score, results AS "results: Json<Vec<TestResult>>", message, trial
             FROM code_submissions WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// A learner's latest submission and draft for one code question, as the
/// mission page reads them together.
struct LearnerCodeRow {
    question_id: Uuid,
    id: Option<Uuid>,
    code: Option<String>,
    verdict: Option<Verdict>,
    score: Option<i32>,
    results: Option<Json<Vec<TestResult>>>,
    message: Option<String>,
    trial: Option<bool>,
    draft: Option<String>,
}

/// The learner's latest submission and their draft for each of `questions`
/// (code questions), in one statement.
pub async fn learner_code(
    conn: &mut PgConnection,
    user: UserId,
    questions: &[Uuid],
) -> sqlx::Result<(Vec<SubmissionRow>, Vec<(Uuid, String)>)> {
    let rows = sqlx::query_as!(
        LearnerCodeRow,
        r#"SELECT q.id AS "question_id!", s.id AS "id?", s.code AS "code?",
                  s.verdict AS "verdict?: Verdict", s.score AS "score?",
                  s.results AS "results?: Json<Vec<TestResult>>", s.message AS "message?",
                  s.trial AS "trial?", d.code AS "draft?"
             FROM unnest($2::uuid[]) AS q (id)
             LEFT JOIN LATERAL (
                    SELECT id, code, verdict, score, results, message, trial FROM code_submissions
                     WHERE user_id = $1 AND question_id = q.id ORDER BY created_at DESC LIMIT 1) s ON true
             LEFT JOIN code_drafts d ON d.user_id = $1 AND d.question_id = q.id"#,
        user.0,
        questions
    )
    .fetch_all(conn)
    .await?;
    let mut latest = Vec::new();
    let mut drafts = Vec::new();
    for r in rows {
        if let Some(draft) = r.draft {
            drafts.push((r.question_id, draft));
        }
        let (Some(id), Some(code), Some(verdict), Some(trial)) = (r.id, r.code, r.verdict, r.trial)
        else {
            continue;
        };
        latest.push(SubmissionRow {
            id,
            question_id: r.question_id,
            user_id: user,
            code,
            verdict,
            score: r.score,
            results: r.results,
            message: r.message,
            trial,
        });
    }
    Ok((latest, drafts))
}

/// Records a pending submission; `None` when the learner already has one
/// pending (one at a time, decided by a unique index).
pub async fn insert_submission(
    conn: &mut PgConnection,
    question: Uuid,
    user: UserId,
    code: &str,
    trial: bool,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "INSERT INTO code_submissions (question_id, user_id, code, trial) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) WHERE verdict = 'pending' DO NOTHING RETURNING id",
        question,
        user.0,
        code,
        trial
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_submission_job(conn: &mut PgConnection, id: Uuid, job: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE code_submissions SET job_id = $2 WHERE id = $1",
        id,
        job
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a grade once: only a pending submission takes it (its learner
/// is returned).
pub async fn grade_submission(
    conn: &mut PgConnection,
    id: Uuid,
    verdict: Verdict,
    score: i32,
    results: &[TestResult],
    message: Option<&str>,
) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"UPDATE code_submissions SET verdict = $2, score = $3, results = $4, message = $5,
                graded_at = now()
          WHERE id = $1 AND verdict = 'pending'
          RETURNING user_id AS "user_id: UserId""#,
        id,
        verdict.as_str(),
        score,
        Json(results) as _,
        message
    )
    .fetch_optional(conn)
    .await
}

// ---------- results ----------

/// Best code score per question of the mission for the learner.
pub async fn best_code_scores(
    conn: &mut PgConnection,
    user: UserId,
    mission: Uuid,
) -> sqlx::Result<Vec<(Uuid, i32)>> {
    Ok(sqlx::query!(
        r#"SELECT q.id, coalesce(max(s.score), 0) AS "best!"
             FROM questions q LEFT JOIN code_submissions s
               ON s.question_id = q.id AND s.user_id = $1 AND s.verdict <> 'pending' AND NOT s.trial
            WHERE q.mission_id = $2 AND q.kind = 'code' AND q.deleted_at IS NULL
            GROUP BY q.id"#,
        user.0,
        mission
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.best))
    .collect())
}

pub async fn best_choice_points(
    conn: &mut PgConnection,
    user: UserId,
    mission: Uuid,
) -> sqlx::Result<i32> {
    Ok(sqlx::query_scalar!(
        r#"SELECT max(choice_points) FROM attempts
            WHERE mission_id = $1 AND user_id = $2 AND submitted_at IS NOT NULL"#,
        mission,
        user.0
    )
    .fetch_one(conn)
    .await?
    .unwrap_or(0))
}

/// Keeps the best score; returns `(best, passed_at was set just now)`.
pub async fn record_result(
    conn: &mut PgConnection,
    mission: Uuid,
    user: UserId,
    score: i32,
    pass_percent: i32,
) -> sqlx::Result<(i32, bool, bool)> {
    let row = sqlx::query!(
        r#"WITH before AS (
             SELECT passed_at FROM mission_results WHERE mission_id = $1 AND user_id = $2)
           INSERT INTO mission_results AS r (mission_id, user_id, best_score, passed_at)
           VALUES ($1, $2, $3::int, CASE WHEN $3::int >= $4::int THEN now() END)
           ON CONFLICT (mission_id, user_id) DO UPDATE
             SET best_score = greatest(r.best_score, EXCLUDED.best_score),
                 passed_at = coalesce(r.passed_at, EXCLUDED.passed_at), updated_at = now()
           RETURNING best_score, passed_at IS NOT NULL AS "passed!",
                     (passed_at IS NOT NULL AND (SELECT passed_at FROM before) IS NULL) AS "newly!""#,
        mission,
        user.0,
        score,
        pass_percent
    )
    .fetch_one(conn)
    .await?;
    Ok((row.best_score, row.passed, row.newly))
}

/// The learner's best scores on the missions of `topics`.
pub async fn best_scores_on(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[Uuid],
) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar!(
        "SELECT r.best_score FROM mission_results r JOIN missions m ON m.id = r.mission_id
          WHERE r.user_id = $1 AND m.topic_id = ANY($2)",
        user.0,
        topics
    )
    .fetch_all(conn)
    .await
}

/// Keeps `code` as the learner's draft of a code question.
pub async fn save_draft(
    conn: &mut PgConnection,
    user: UserId,
    question: Uuid,
    code: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO code_drafts (user_id, question_id, code) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, question_id) DO UPDATE SET code = EXCLUDED.code, updated_at = now()",
        user.0,
        question,
        code
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A learner's result on each mission they tried: the mission's topic,
/// best score, when passed, and attempts and code submissions made.
pub struct LearnerResultRow {
    pub topic_id: TopicId,
    pub best_score: i32,
    pub passed_at: Option<OffsetDateTime>,
    pub attempts: i64,
    pub submissions: i64,
}

pub async fn learner_results(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<LearnerResultRow>> {
    sqlx::query_as!(
        LearnerResultRow,
        r#"SELECT m.topic_id AS "topic_id: TopicId", r.best_score, r.passed_at,
                  (SELECT count(*) FROM attempts a WHERE a.mission_id = m.id AND a.user_id = $1
                      AND a.submitted_at IS NOT NULL) AS "attempts!",
                  (SELECT count(*) FROM code_submissions s JOIN questions q ON q.id = s.question_id
                    WHERE q.mission_id = m.id AND s.user_id = $1 AND NOT s.trial) AS "submissions!"
             FROM mission_results r JOIN missions m ON m.id = r.mission_id
            WHERE r.user_id = $1
            ORDER BY r.updated_at DESC"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

/// The missions on `topics` with a learner's standing on each: the rules
/// that ration attempts, attempts opened, best score and when passed.
pub struct StandingRow {
    pub mission_id: Uuid,
    pub topic_id: TopicId,
    pub max_attempts: Option<i32>,
    pub used: i64,
    /// An attempt is open (it may have run out of time unseen).
    pub open: bool,
    pub best_score: Option<i32>,
    pub passed_at: Option<OffsetDateTime>,
}

pub async fn standings(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[Uuid],
) -> sqlx::Result<Vec<StandingRow>> {
    sqlx::query_as!(
        StandingRow,
        r#"SELECT m.id AS mission_id, m.topic_id AS "topic_id: TopicId", m.max_attempts,
                  (SELECT count(*) FROM attempts a
                    WHERE a.user_id = $1 AND a.mission_id = m.id) AS "used!",
                  EXISTS (SELECT 1 FROM attempts a WHERE a.user_id = $1 AND a.mission_id = m.id
                             AND a.submitted_at IS NULL) AS "open!",
                  r.best_score AS "best_score?", r.passed_at
             FROM missions m
             LEFT JOIN mission_results r ON r.mission_id = m.id AND r.user_id = $1
            WHERE m.topic_id = ANY($2)"#,
        user.0,
        topics
    )
    .fetch_all(conn)
    .await
}
