//! The tutor's SQL: conversations, turns, refusals and passages.

use sqlx::{Acquire, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ids::{CourseId, TopicId, UserId};

use super::index::Passage;
use super::model::{BackendKind, Failure, Mode, TurnState};

pub async fn index_stamp(
    conn: &mut PgConnection,
    course: CourseId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT stamp FROM tutor_indexes WHERE course_id = $1",
        course.0
    )
    .fetch_optional(conn)
    .await
}

/// Puts `passages` in place of the course's, with their stamp.
pub async fn replace_passages(
    conn: &mut PgConnection,
    course: CourseId,
    passages: &[Passage],
    documents: &[String],
    stamp: &str,
) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM tutor_passages WHERE course_id = $1", course.0)
        .execute(&mut *conn)
        .await?;
    let topics: Vec<Uuid> = passages.iter().map(|p| p.topic.0).collect();
    let sources: Vec<String> = passages
        .iter()
        .map(|p| p.source.as_str().to_owned())
        .collect();
    let starts: Vec<Option<i32>> = passages.iter().map(|p| p.start_ms).collect();
    let bodies: Vec<String> = passages.iter().map(|p| p.body.clone()).collect();
    sqlx::query!(
        r#"INSERT INTO tutor_passages (course_id, topic_id, source, start_ms, body, terms)
           SELECT $1, t, s, m, b, to_tsvector('simple', d)
             FROM UNNEST($2::uuid[], $3::text[], $4::int4[], $5::text[], $6::text[]) AS x(t, s, m, b, d)"#,
        course.0,
        &topics,
        &sources,
        &starts as &[Option<i32>],
        &bodies,
        documents,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO tutor_indexes (course_id, stamp) VALUES ($1, $2)
         ON CONFLICT (course_id) DO UPDATE SET stamp = EXCLUDED.stamp, built_at = now()",
        course.0,
        stamp
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A passage that matched a question.
pub struct FoundRow {
    pub topic_id: TopicId,
    pub start_ms: Option<i32>,
    pub body: String,
}

/// The course's passages best matching `query` (a `to_tsquery` text),
/// those of the lesson asked from (`here`) first among equals; only that
/// lesson's when `only_here`.
pub async fn search(
    conn: &mut PgConnection,
    course: CourseId,
    here: TopicId,
    only_here: bool,
    query: &str,
    limit: i64,
) -> sqlx::Result<Vec<FoundRow>> {
    sqlx::query_as!(
        FoundRow,
        r#"SELECT p.topic_id AS "topic_id: TopicId", p.start_ms, p.body
             FROM tutor_passages p, to_tsquery('simple', $2) q
            WHERE p.course_id = $1 AND p.terms @@ q AND (NOT $5 OR p.topic_id = $4)
            ORDER BY ts_rank(p.terms, q) * CASE WHEN p.topic_id = $4 THEN 1.5 ELSE 1 END DESC, p.id
            LIMIT $3"#,
        course.0,
        query,
        limit,
        here.0,
        only_here,
    )
    .fetch_all(conn)
    .await
}

/// The topic's caption passages around `position_ms` (a minute each way).
pub async fn captions_near(
    conn: &mut PgConnection,
    topic: TopicId,
    position_ms: i32,
) -> sqlx::Result<Vec<(i32, String)>> {
    Ok(sqlx::query!(
        r#"SELECT start_ms AS "start_ms!", body FROM tutor_passages
            WHERE topic_id = $1 AND source = 'caption'
              AND start_ms BETWEEN $2 - 80000 AND $2 + 60000
            ORDER BY start_ms"#,
        topic.0,
        position_ms
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.start_ms, r.body))
    .collect())
}

/// Why a question was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    /// Too many in the last minute: seconds until one frees.
    Rate(u64),
    /// The day's questions are used up.
    Quota,
}

/// One question being asked.
pub struct NewTurn<'a> {
    pub user: UserId,
    pub topic: TopicId,
    pub question: &'a str,
    pub position_secs: i32,
    pub mode: Mode,
    pub backend: BackendKind,
}

/// Takes the question, or says which limit it is over: decided under the
/// learner's lock, so questions sent at once cannot all pass the count.
/// Returns the new turn's id and the conversation's earlier turns.
pub async fn take_turn(
    conn: &mut PgConnection,
    turn: &NewTurn<'_>,
    per_minute: i64,
    per_day: i64,
    day_began: OffsetDateTime,
) -> sqlx::Result<Result<Uuid, Over>> {
    let mut tx = conn.begin().await?;
    crate::infra::db::lock(&mut tx, "tutor", &turn.user.to_string()).await?;
    let counts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE asked_at > now() - interval '1 minute') AS "minute!",
                  count(*) FILTER (WHERE state <> 'failed') AS "day!",
                  extract(epoch FROM min(asked_at) FILTER (WHERE asked_at > now() - interval '1 minute')
                          + interval '1 minute' - now())::float8 AS wait
             FROM tutor_turns WHERE user_id = $1 AND asked_at >= $2"#,
        turn.user.0,
        day_began
    )
    .fetch_one(&mut *tx)
    .await?;
    let over = if counts.day >= per_day {
        Some(Over::Quota)
    } else if counts.minute >= per_minute {
        Some(Over::Rate(
            counts.wait.unwrap_or(60.0).clamp(1.0, 60.0).ceil() as u64,
        ))
    } else {
        None
    };
    if let Some(over) = over {
        let reason = match over {
            Over::Rate(_) => "rate",
            Over::Quota => "quota",
        };
        sqlx::query!(
            "INSERT INTO tutor_refusals (user_id, reason) VALUES ($1, $2)",
            turn.user.0,
            reason
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Err(over));
    }
    let conversation = open_conversation(&mut tx, turn.user, turn.topic).await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO tutor_turns (conversation_id, user_id, topic_id, question, position_secs, mode, backend)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        conversation,
        turn.user.0,
        turn.topic.0,
        turn.question,
        turn.position_secs,
        turn.mode.as_str(),
        turn.backend.as_str(),
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// The learner's open conversation on the topic, started when there is none.
async fn open_conversation(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Uuid> {
    sqlx::query!(
        "INSERT INTO tutor_conversations (user_id, topic_id) VALUES ($1, $2)
         ON CONFLICT (user_id, topic_id) WHERE closed_at IS NULL DO NOTHING",
        user.0,
        topic.0
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        "SELECT id FROM tutor_conversations WHERE user_id = $1 AND topic_id = $2 AND closed_at IS NULL",
        user.0,
        topic.0
    )
    .fetch_one(conn)
    .await
}

/// Keeps how a turn ended.
pub async fn finish(
    conn: &mut PgConnection,
    turn: Uuid,
    answer: &str,
    failure: Option<Failure>,
    prompt_tokens: Option<i32>,
    completion_tokens: Option<i32>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE tutor_turns
            SET answer = $2, failure = $3, prompt_tokens = $4, completion_tokens = $5,
                state = CASE WHEN $3::text IS NULL THEN 'answered' ELSE 'failed' END,
                answered_at = now()
          WHERE id = $1",
        turn,
        answer,
        failure.map(|f| f.as_str()),
        prompt_tokens,
        completion_tokens
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One question and its answer, as the conversation shows it.
#[derive(Clone, Debug)]
pub struct TurnRow {
    pub id: Uuid,
    pub question: String,
    pub position_secs: i32,
    pub mode: Mode,
    pub backend: BackendKind,
    pub state: TurnState,
    pub answer: String,
    pub failure: Option<Failure>,
    /// Handed on to the course's tutors, and their answer once given.
    pub handed_off: bool,
    pub tutor_answer: Option<String>,
}

/// The learner's turns: one (`Only`), or those of their open conversation
/// on a topic (`OpenOn`), oldest first. An answer still being written ten
/// minutes on was cut off (the process writing it stopped; the longest
/// allowed is `TUTOR_TIMEOUT_SECS`): it shows as failed.
async fn turns(conn: &mut PgConnection, user: UserId, which: Which) -> sqlx::Result<Vec<TurnRow>> {
    let (topic, turn) = match which {
        Which::OpenOn(topic) => (Some(topic.0), None),
        Which::Only(turn) => (None, Some(turn)),
    };
    sqlx::query_as!(
        TurnRow,
        r#"SELECT t.id, t.question, t.position_secs, t.mode AS "mode: Mode", t.backend AS "backend: BackendKind",
                  CASE WHEN t.state = 'answering' AND t.asked_at < now() - interval '10 minutes' THEN 'failed' ELSE t.state END AS "state!: TurnState",
                  t.answer,
                  CASE WHEN t.state = 'answering' AND t.asked_at < now() - interval '10 minutes' THEN 'interrupted' ELSE t.failure END AS "failure: Failure",
                  h.id IS NOT NULL AS "handed_off!", h.answer AS tutor_answer
             FROM tutor_turns t JOIN tutor_conversations c ON c.id = t.conversation_id
             LEFT JOIN tutor_handoffs h ON h.turn_id = t.id
            WHERE t.user_id = $1
              AND CASE WHEN $3::uuid IS NULL THEN c.topic_id = $2 AND c.closed_at IS NULL ELSE t.id = $3 END
            ORDER BY t.asked_at, t.id"#,
        user.0,
        topic,
        turn
    )
    .fetch_all(conn)
    .await
}

enum Which {
    OpenOn(TopicId),
    Only(Uuid),
}

/// The turns of the learner's open conversation on the topic, oldest first.
pub async fn conversation(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Vec<TurnRow>> {
    turns(conn, user, Which::OpenOn(topic)).await
}

/// One turn of the learner's (any state, any conversation).
pub async fn turn(
    conn: &mut PgConnection,
    user: UserId,
    id: Uuid,
) -> sqlx::Result<Option<TurnRow>> {
    Ok(turns(conn, user, Which::Only(id)).await?.pop())
}

/// Closes the learner's open conversation on the topic ("새 대화").
pub async fn close(conn: &mut PgConnection, user: UserId, topic: TopicId) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE tutor_conversations SET closed_at = now()
          WHERE user_id = $1 AND topic_id = $2 AND closed_at IS NULL",
        user.0,
        topic.0
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// A question learners asked on a topic, without who asked.
pub struct AskedRow {
    pub topic_id: TopicId,
    pub question: String,
    pub position_secs: i32,
    pub asked_at: OffsetDateTime,
}

/// The latest questions asked on `topics`, newest first.
pub async fn questions(
    conn: &mut PgConnection,
    topics: &[TopicId],
    limit: i64,
) -> sqlx::Result<Vec<AskedRow>> {
    let ids: Vec<Uuid> = topics.iter().map(|t| t.0).collect();
    sqlx::query_as!(
        AskedRow,
        r#"SELECT topic_id AS "topic_id: TopicId", question, position_secs, asked_at
             FROM tutor_turns WHERE topic_id = ANY($1)
            ORDER BY asked_at DESC LIMIT $2"#,
        &ids,
        limit
    )
    .fetch_all(conn)
    .await
}

/// One Seoul day of the tutor, for admins.
pub struct DayRow {
    pub day: time::Date,
    pub questions: i64,
    pub answered: i64,
    pub failed: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub refusals: i64,
}

/// The last `days` Seoul days, newest first (days without questions too).
pub async fn days(conn: &mut PgConnection, days: i32) -> sqlx::Result<Vec<DayRow>> {
    sqlx::query_as!(
        DayRow,
        r#"WITH d AS (
             SELECT generate_series((now() AT TIME ZONE 'Asia/Seoul')::date - ($1 - 1),
                                    (now() AT TIME ZONE 'Asia/Seoul')::date, interval '1 day')::date AS day
           ), t AS (
             SELECT (asked_at AT TIME ZONE 'Asia/Seoul')::date AS day,
                    count(*) AS questions,
                    count(*) FILTER (WHERE state = 'answered') AS answered,
                    count(*) FILTER (WHERE state = 'failed') AS failed,
                    coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
                    coalesce(sum(completion_tokens), 0) AS completion_tokens
               FROM tutor_turns
              WHERE asked_at >= now() - make_interval(days => $1 + 1)
              GROUP BY 1
           ), r AS (
             SELECT (at AT TIME ZONE 'Asia/Seoul')::date AS day, count(*) AS refusals
               FROM tutor_refusals WHERE at >= now() - make_interval(days => $1 + 1)
              GROUP BY 1
           )
           SELECT d.day AS "day!", coalesce(t.questions, 0) AS "questions!",
                  coalesce(t.answered, 0) AS "answered!", coalesce(t.failed, 0) AS "failed!",
                  coalesce(t.prompt_tokens, 0)::int8 AS "prompt_tokens!",
                  coalesce(t.completion_tokens, 0)::int8 AS "completion_tokens!",
                  coalesce(r.refusals, 0) AS "refusals!"
             FROM d LEFT JOIN t USING (day) LEFT JOIN r USING (day)
            ORDER BY d.day DESC"#,
        days
    )
    .fetch_all(conn)
    .await
}

/// The topic of one of the learner's turns.
pub async fn turn_topic(
    conn: &mut PgConnection,
    user: UserId,
    turn: Uuid,
) -> sqlx::Result<Option<TopicId>> {
    sqlx::query_scalar!(
        r#"SELECT topic_id AS "topic: TopicId" FROM tutor_turns WHERE id = $1 AND user_id = $2"#,
        turn,
        user.0
    )
    .fetch_optional(conn)
    .await
}

/// Hands a finished turn on to the course's tutors (once: again is nothing).
pub async fn hand_off(
    conn: &mut PgConnection,
    user: UserId,
    turn: Uuid,
    course: CourseId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO tutor_handoffs (turn_id, course_id, topic_id, user_id)
         SELECT id, $3, topic_id, user_id FROM tutor_turns
          WHERE id = $1 AND user_id = $2
            AND (state <> 'answering' OR asked_at < now() - interval '10 minutes')
         ON CONFLICT (turn_id) DO NOTHING",
        turn,
        user.0,
        course.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A question handed on, as its tutors see it.
pub struct HandoffRow {
    pub id: Uuid,
    pub course_id: CourseId,
    pub topic_id: TopicId,
    pub question: String,
    pub position_secs: i32,
    /// What the AI tutor answered.
    pub ai_answer: String,
    pub asked_at: OffsetDateTime,
    pub answer: Option<String>,
    pub answered_at: Option<OffsetDateTime>,
    pub published_at: Option<OffsetDateTime>,
}

/// The questions handed on in `courses`: unanswered first (oldest first),
/// then the latest answered.
pub async fn handoffs(
    conn: &mut PgConnection,
    courses: &[CourseId],
) -> sqlx::Result<Vec<HandoffRow>> {
    let ids: Vec<Uuid> = courses.iter().map(|c| c.0).collect();
    sqlx::query_as!(
        HandoffRow,
        r#"SELECT h.id, h.course_id AS "course_id: CourseId", h.topic_id AS "topic_id: TopicId",
                  t.question, t.position_secs, t.answer AS ai_answer, h.asked_at,
                  h.answer, h.answered_at, h.published_at
             FROM tutor_handoffs h JOIN tutor_turns t ON t.id = h.turn_id
            WHERE h.course_id = ANY($1)
            ORDER BY h.answered_at IS NOT NULL, CASE WHEN h.answered_at IS NULL THEN h.asked_at END,
                     h.answered_at DESC
            LIMIT 300"#,
        &ids
    )
    .fetch_all(conn)
    .await
}

/// The course a handed-on question belongs to.
pub async fn handoff_course(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<CourseId>> {
    sqlx::query_scalar!(
        r#"SELECT course_id AS "course: CourseId" FROM tutor_handoffs WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// Who to tell about an answer, and about what.
pub struct Answered {
    pub user_id: UserId,
    pub topic_id: TopicId,
    pub turn_id: Uuid,
    pub question: String,
    pub position_secs: i32,
}

/// Keeps a tutor's answer: the first one only (`None` when it was already
/// answered, or is not there).
pub async fn answer_handoff(
    conn: &mut PgConnection,
    id: Uuid,
    by: UserId,
    answer: &str,
    publish: bool,
) -> sqlx::Result<Option<Answered>> {
    sqlx::query_as!(
        Answered,
        r#"UPDATE tutor_handoffs h
              SET answer = $3, answered_by = $2, answered_at = now(),
                  published_at = CASE WHEN $4 THEN now() END
             FROM tutor_turns t
            WHERE h.id = $1 AND h.answered_at IS NULL AND t.id = h.turn_id
        RETURNING h.user_id AS "user_id: UserId", h.topic_id AS "topic_id: TopicId", h.turn_id,
                  t.question, t.position_secs"#,
        id,
        by.0,
        answer,
        publish
    )
    .fetch_optional(conn)
    .await
}

/// Shows an answered question under its lesson, or takes it back.
pub async fn publish_handoff(
    conn: &mut PgConnection,
    id: Uuid,
    publish: bool,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE tutor_handoffs SET published_at = CASE WHEN $2 THEN coalesce(published_at, now()) END
          WHERE id = $1 AND answered_at IS NOT NULL",
        id,
        publish
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

/// A published question and its tutor's answer.
#[derive(Clone, Debug)]
pub struct FaqRow {
    pub id: Uuid,
    pub topic_id: TopicId,
    pub question: String,
    pub answer: String,
    pub published_at: OffsetDateTime,
}

/// The published questions of a course (`topic`: of one lesson), oldest first.
pub async fn faq(
    conn: &mut PgConnection,
    course: CourseId,
    topic: Option<TopicId>,
) -> sqlx::Result<Vec<FaqRow>> {
    sqlx::query_as!(
        FaqRow,
        r#"SELECT h.id, h.topic_id AS "topic_id: TopicId", t.question, h.answer AS "answer!",
                  h.published_at AS "published_at!"
             FROM tutor_handoffs h JOIN tutor_turns t ON t.id = h.turn_id
            WHERE h.course_id = $1 AND h.published_at IS NOT NULL
              AND ($2::uuid IS NULL OR h.topic_id = $2)
            ORDER BY h.published_at, h.id"#,
        course.0,
        topic.map(|t| t.0)
    )
    .fetch_all(conn)
    .await
}
