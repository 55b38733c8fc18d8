//! Learning SQL: the `enrolments` table (one access grant per order and
//! product), watch events, progress and notes.

use sqlx::{PgConnection, types::Json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    catalog::model::Product,
    ids::{EnrolmentId, OrderId, TopicId, UserId},
    learning::{
        access::Grant,
        watch::{Credit, Event, EventKind, Intervals},
    },
};

struct GrantRow {
    id: EnrolmentId,
    curriculum_id: Option<Uuid>,
    course_id: Option<Uuid>,
    order_id: Option<OrderId>,
    starts_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    ended_at: Option<OffsetDateTime>,
}

fn into_grants(rows: Vec<GrantRow>) -> Vec<Grant> {
    rows.into_iter()
        .filter_map(|r| {
            Some(Grant {
                id: r.id,
                product: Product::from_columns(r.curriculum_id, r.course_id)?,
                order: r.order_id,
                starts_at: r.starts_at,
                expires_at: r.expires_at,
                ended_at: r.ended_at,
            })
        })
        .collect()
}

/// Serialises grants to one learner until the transaction ends.
pub async fn lock_learner(conn: &mut PgConnection, user: UserId) -> sqlx::Result<()> {
    crate::infra::db::lock(conn, "enrolments", &user.to_string()).await
}

/// A user's grants for any of `products`.
pub async fn grants(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> sqlx::Result<Vec<Grant>> {
    let (curricula, courses) = Product::split(products);
    let rows = sqlx::query_as!(
        GrantRow,
        r#"SELECT id AS "id: EnrolmentId", curriculum_id, course_id, order_id AS "order_id: OrderId",
                  starts_at, expires_at, ended_at
             FROM enrolments
            WHERE user_id = $1 AND (curriculum_id = ANY($2) OR course_id = ANY($3))"#,
        user.0,
        &curricula,
        &courses
    )
    .fetch_all(conn)
    .await?;
    Ok(into_grants(rows))
}

/// Every grant a user has had.
pub async fn grants_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Grant>> {
    let rows = sqlx::query_as!(
        GrantRow,
        r#"SELECT id AS "id: EnrolmentId", curriculum_id, course_id, order_id AS "order_id: OrderId",
                  starts_at, expires_at, ended_at
             FROM enrolments WHERE user_id = $1 ORDER BY starts_at"#,
        user.0
    )
    .fetch_all(conn)
    .await?;
    Ok(into_grants(rows))
}

pub async fn insert_grant(
    conn: &mut PgConnection,
    user: UserId,
    order: OrderId,
    product: Product,
    starts_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> sqlx::Result<()> {
    let (curriculum, course) = product.columns();
    sqlx::query!(
        "INSERT INTO enrolments (user_id, curriculum_id, course_id, starts_at, expires_at, order_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (order_id, coalesce(curriculum_id, course_id)) WHERE order_id IS NOT NULL DO NOTHING",
        user.0,
        curriculum,
        course,
        starts_at,
        expires_at,
        order.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends an order's live grants; returns whose and of what.
pub async fn end_order(
    conn: &mut PgConnection,
    order: OrderId,
) -> sqlx::Result<Vec<(UserId, Product)>> {
    let rows = sqlx::query!(
        r#"UPDATE enrolments SET ended_at = now(), updated_at = now()
            WHERE order_id = $1 AND ended_at IS NULL
        RETURNING user_id AS "user_id: UserId", curriculum_id, course_id"#,
        order.0
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                r.user_id,
                Product::from_columns(r.curriculum_id, r.course_id)?,
            ))
        })
        .collect())
}

/// Moves a not-yet-started grant to a new period.
pub async fn move_grant(
    conn: &mut PgConnection,
    id: EnrolmentId,
    starts_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE enrolments SET starts_at = $2, expires_at = $3, updated_at = now() WHERE id = $1",
        id.0,
        starts_at,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------- watch events and progress ----------

/// Takes one of the learner's batch slots for this minute and locks their
/// `learner_watch` row until the transaction ends: `(batches this window,
/// seconds until the window turns)`.
pub async fn take_batch_slot(conn: &mut PgConnection, user: UserId) -> sqlx::Result<(i32, f64)> {
    let row = sqlx::query!(
        r#"INSERT INTO learner_watch AS w (user_id, window_batches) VALUES ($1, 1)
           ON CONFLICT (user_id) DO UPDATE SET
             window_start = CASE WHEN w.window_start > now() - interval '1 minute'
                                 THEN w.window_start ELSE now() END,
             window_batches = CASE WHEN w.window_start > now() - interval '1 minute'
                                   THEN w.window_batches + 1 ELSE 1 END
           RETURNING window_batches,
                     extract(epoch FROM window_start + interval '1 minute' - now())::float8 AS "wait!""#,
        user.0
    )
    .fetch_one(conn)
    .await?;
    Ok((row.window_batches, row.wait))
}

pub async fn set_playback_rate(
    conn: &mut PgConnection,
    user: UserId,
    rate: f32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO learner_watch (user_id, playback_rate) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET playback_rate = EXCLUDED.playback_rate",
        user.0,
        rate
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn playback_rate(conn: &mut PgConnection, user: UserId) -> sqlx::Result<f32> {
    Ok(sqlx::query_scalar!(
        "SELECT playback_rate FROM learner_watch WHERE user_id = $1",
        user.0
    )
    .fetch_optional(conn)
    .await?
    .unwrap_or(1.0))
}

/// A learner's progress on a topic, as folded so far.
pub struct ProgressRow {
    pub watched: Json<Intervals>,
    pub watched_secs: f64,
    pub video_secs: Option<f64>,
    pub position: f64,
    /// The event the resume point was taken from: its page and number.
    pub position_page: Option<Uuid>,
    pub position_seq: Option<i32>,
    pub completed_at: Option<OffsetDateTime>,
}

impl ProgressRow {
    pub fn placed_by(&self) -> Option<PlacedBy> {
        Some(PlacedBy {
            page: self.position_page?,
            seq: self.position_seq?,
        })
    }
}

/// Which event a resume point was taken from: its page and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacedBy {
    pub page: Uuid,
    pub seq: i32,
}

/// The learner's row for `topic`, made if missing and locked until the
/// transaction ends (the upsert takes the row lock), so one batch folds at
/// a time.
pub async fn lock_progress(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<ProgressRow> {
    sqlx::query_as!(
        ProgressRow,
        r#"INSERT INTO topic_progress AS p (user_id, topic_id) VALUES ($1, $2)
           ON CONFLICT (user_id, topic_id) DO UPDATE SET updated_at = now()
           RETURNING watched AS "watched!: Json<Intervals>", watched_secs, video_secs, position,
                     position_page, position_seq, completed_at"#,
        user.0,
        topic.0
    )
    .fetch_one(conn)
    .await
}

pub async fn progress(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Option<ProgressRow>> {
    sqlx::query_as!(
        ProgressRow,
        r#"SELECT watched AS "watched!: Json<Intervals>", watched_secs, video_secs, position,
                  position_page, position_seq, completed_at
             FROM topic_progress WHERE user_id = $1 AND topic_id = $2"#,
        user.0,
        topic.0
    )
    .fetch_optional(conn)
    .await
}

/// Events to store, column by column.
#[derive(Default)]
pub struct EventColumns {
    pub kinds: Vec<String>,
    pub positions: Vec<f64>,
    pub durations: Vec<f64>,
    pub rates: Vec<f32>,
    pub froms: Vec<Option<f64>>,
    pub seqs: Vec<Option<i32>>,
    pub sinces: Vec<Option<f64>>,
    pub credit_froms: Vec<Option<f64>>,
    pub credited: Vec<f64>,
    pub study: Vec<f64>,
}

impl EventColumns {
    pub fn push(&mut self, event: &Event, credit: Credit) {
        self.kinds.push(event.kind.as_str().to_owned());
        self.positions.push(event.position);
        self.durations.push(event.duration);
        self.rates.push(event.rate.unwrap_or(1.0) as f32);
        self.froms.push(event.from);
        self.seqs.push(event.seq);
        self.sinces.push(event.since);
        self.credit_froms
            .push((credit.watched > 0.0).then_some(credit.from));
        self.credited.push(credit.watched);
        self.study.push(credit.study);
    }
}

/// Stores a batch of a page's events in one statement; returns how many
/// rows were written.
pub async fn insert_events(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    page: Uuid,
    c: &EventColumns,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "INSERT INTO watch_events (user_id, topic_id, page_id, kind, position, duration, rate,
                                   seek_from, seq, played_from, credit_from, credited, study_secs)
         SELECT $1, $2, $3, * FROM unnest($4::text[], $5::float8[], $6::float8[], $7::real[],
                                          $8::float8[], $9::int[], $10::float8[], $11::float8[],
                                          $12::float8[], $13::float8[])",
        user.0,
        topic.0,
        page,
        &c.kinds,
        &c.positions,
        &c.durations,
        &c.rates,
        &c.froms as &[Option<f64>],
        &c.seqs as &[Option<i32>],
        &c.sinces as &[Option<f64>],
        &c.credit_froms as &[Option<f64>],
        &c.credited,
        &c.study,
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Which of `seqs` the learner's page already sent (a repeated batch).
pub async fn stored_seqs(
    conn: &mut PgConnection,
    user: UserId,
    page: Uuid,
    seqs: &[i32],
) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar!(
        r#"SELECT seq AS "seq!" FROM watch_events
            WHERE user_id = $1 AND page_id = $2 AND seq = ANY($3)"#,
        user.0,
        page,
        seqs
    )
    .fetch_all(conn)
    .await
}

/// Study seconds credited to the learner, on any topic, by batches that
/// arrived at or after `since`; and the database's clock now.
pub async fn study_since(
    conn: &mut PgConnection,
    user: UserId,
    since: OffsetDateTime,
) -> sqlx::Result<(f64, OffsetDateTime)> {
    let row = sqlx::query!(
        r#"SELECT coalesce(sum(study_secs), 0)::float8 AS "spent!", now() AS "now!"
             FROM watch_events
            WHERE user_id = $1 AND received_at >= $2 AND study_secs > 0"#,
        user.0,
        since
    )
    .fetch_one(conn)
    .await?;
    Ok((row.spent, row.now))
}

/// Where the player was at an event, and which event that was.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub position: f64,
    pub page: Uuid,
    pub seq: i32,
}

impl Place {
    /// Whether this place replaces `stored` as the resume point: within a
    /// page the higher number wins (a beacon may land after a later
    /// fetch), across pages the latest to report.
    pub fn is_after(&self, stored: Option<&PlacedBy>) -> bool {
        stored.is_none_or(|s| s.page != self.page || self.seq > s.seq)
    }
}

/// What a fold leaves of a learner's progress on a topic.
pub struct Folded<'a> {
    pub watched: &'a Intervals,
    pub video_secs: f64,
    /// The new resume point, if this fold moves it.
    pub place: Option<Place>,
    pub complete: bool,
    /// Replaying the whole log may also take completion back.
    pub replayed: bool,
}

/// Saves a fold; returns whether the topic is complete.
pub async fn save_progress(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    f: Folded<'_>,
) -> sqlx::Result<bool> {
    let place = f.place;
    sqlx::query_scalar!(
        r#"UPDATE topic_progress
              SET watched = $3, watched_secs = $4, video_secs = $5,
                  position = coalesce($6, position),
                  position_page = coalesce($7, position_page),
                  position_seq = coalesce($8, position_seq),
                  last_batch_at = CASE WHEN $10 THEN last_batch_at ELSE now() END,
                  updated_at = CASE WHEN $10 THEN updated_at ELSE now() END,
                  completed_at = CASE WHEN $9 THEN coalesce(completed_at, now())
                                      WHEN $10 THEN NULL ELSE completed_at END
            WHERE user_id = $1 AND topic_id = $2
        RETURNING completed_at IS NOT NULL AS "completed!""#,
        user.0,
        topic.0,
        Json(f.watched) as _,
        f.watched.total(),
        f.video_secs,
        place.map(|p| p.position),
        place.map(|p| p.page),
        place.map(|p| p.seq),
        f.complete,
        f.replayed,
    )
    .fetch_one(conn)
    .await
}

/// Records that a learner opened a topic ("continue learning" goes to the
/// latest); `complete` marks it done too (a reading, on opening).
pub async fn open_topic(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    complete: bool,
) -> sqlx::Result<bool> {
    // Returns whether this made the topic complete (it was not before).
    sqlx::query_scalar!(
        r#"WITH before AS (
             SELECT completed_at FROM topic_progress WHERE user_id = $1 AND topic_id = $2)
           INSERT INTO topic_progress (user_id, topic_id, completed_at)
           VALUES ($1, $2, CASE WHEN $3 THEN now() END)
           ON CONFLICT (user_id, topic_id) DO UPDATE
             SET updated_at = now(),
                 completed_at = coalesce(topic_progress.completed_at, EXCLUDED.completed_at)
           RETURNING completed_at IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM before WHERE completed_at IS NOT NULL) AS "newly!""#,
        user.0,
        topic.0,
        complete
    )
    .fetch_one(conn)
    .await
}

/// What the lesson page reads of one learner, as one row.
pub struct LessonRow {
    pub watched: Option<Json<Intervals>>,
    pub watched_secs: Option<f64>,
    pub position: Option<f64>,
    pub completed: bool,
    /// Done and share done (0-1) of each topic of the outline touched.
    pub outline: Vec<(TopicId, bool, f64)>,
    pub notes: Vec<NoteRow>,
    pub rate: Option<f32>,
    /// The topic the learner opened last.
    pub latest: Option<TopicId>,
}

/// The lesson page's read of a learner: their progress on `topic` and on
/// each of `outline`, their notes on it, their playback speed, and the topic
/// they opened last (the page marks this one when it is another). Lists
/// come back as parallel arrays: building them as JSON cost PostgreSQL
/// more than the rest of the statement.
pub async fn lesson(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    outline: &[Uuid],
) -> sqlx::Result<LessonRow> {
    let row = sqlx::query!(
        r#"SELECT p.watched AS "watched?: Json<Intervals>", p.watched_secs AS "watched_secs?",
                  p.position AS "position?", p.completed_at IS NOT NULL AS "completed!",
                  o.ids AS "outline_ids!", o.done AS "outline_done!", o.share AS "outline_share!",
                  n.ids AS "note_ids!", n.positions AS "note_positions!", n.bodies AS "note_bodies!",
                  (SELECT w.playback_rate FROM learner_watch w WHERE w.user_id = $1) AS "rate?",
                  (SELECT l.topic_id FROM topic_progress l WHERE l.user_id = $1
                    ORDER BY l.updated_at DESC LIMIT 1) AS "latest?: TopicId"
             FROM (VALUES (1)) AS one (x)
             LEFT JOIN topic_progress p ON p.user_id = $1 AND p.topic_id = $2
             CROSS JOIN (
               SELECT coalesce(array_agg(o.topic_id), '{}') AS ids,
                      coalesce(array_agg(o.completed_at IS NOT NULL), '{}') AS done,
                      coalesce(array_agg(CASE WHEN o.completed_at IS NOT NULL THEN 1
                                              ELSE least(1, coalesce(o.watched_secs / o.video_secs, 0))
                                         END), '{}') AS share
                 FROM topic_progress o WHERE o.user_id = $1 AND o.topic_id = ANY($3)) o
             CROSS JOIN (
               SELECT coalesce(array_agg(n.id ORDER BY n.position, n.created_at), '{}') AS ids,
                      coalesce(array_agg(n.position ORDER BY n.position, n.created_at), '{}') AS positions,
                      coalesce(array_agg(n.body ORDER BY n.position, n.created_at), '{}') AS bodies
                 FROM notes n WHERE n.user_id = $1 AND n.topic_id = $2) n"#,
        user.0,
        topic.0,
        outline
    )
    .fetch_one(conn)
    .await?;
    Ok(LessonRow {
        watched: row.watched,
        watched_secs: row.watched_secs,
        position: row.position,
        completed: row.completed,
        outline: zip3(row.outline_ids, row.outline_done, row.outline_share),
        notes: zip3(row.note_ids, row.note_positions, row.note_bodies)
            .into_iter()
            .map(|(id, position, body)| NoteRow { id, position, body })
            .collect(),
        rate: row.rate,
        latest: row.latest,
    })
}

/// Parallel arrays from one statement, as tuples; `T` is how the first is
/// read (an id type made from a `Uuid`, say).
fn zip3<A, T: From<A>, B, C>(a: Vec<A>, b: Vec<B>, c: Vec<C>) -> Vec<(T, B, C)> {
    a.into_iter()
        .zip(b)
        .zip(c)
        .map(|((a, b), c)| (T::from(a), b, c))
        .collect()
}

/// The learner's progress on each of `topics` they have touched: done, and
/// how much of it (0-1).
pub async fn topics_progress(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[uuid::Uuid],
) -> sqlx::Result<Vec<(TopicId, bool, f64)>> {
    Ok(sqlx::query!(
        r#"SELECT topic_id AS "topic: TopicId", completed_at IS NOT NULL AS "done!",
                  CASE WHEN completed_at IS NOT NULL THEN 1
                       ELSE least(1, coalesce(watched_secs / video_secs, 0)) END AS "share!"
             FROM topic_progress WHERE user_id = $1 AND topic_id = ANY($2)"#,
        user.0,
        topics
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.topic, r.done, r.share))
    .collect())
}

/// Every topic the learner touched, latest first: done, and share done
/// (0-1).
pub async fn touched(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(TopicId, bool, f64)>> {
    Ok(sqlx::query!(
        r#"SELECT topic_id AS "topic: TopicId", completed_at IS NOT NULL AS "done!",
                  CASE WHEN completed_at IS NOT NULL THEN 1
                       ELSE least(1, coalesce(watched_secs / video_secs, 0)) END AS "share!"
             FROM topic_progress WHERE user_id = $1 ORDER BY updated_at DESC"#,
        user.0
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.topic, r.done, r.share))
    .collect())
}

/// A learner's progress over everything, as one row.
pub struct OverviewRow {
    /// Each topic touched, latest first: done, and share done (0-1).
    pub touched: Vec<(TopicId, bool, f64)>,
    /// Study seconds per Seoul day since the given one: (days since
    /// 1970-01-01, seconds).
    pub days: Vec<(i32, f64)>,
    pub total_secs: f64,
}

/// What the dashboard reads of a learner, in one statement: every topic
/// they touched, latest first, and their study time, per Seoul day since
/// `from` and in all (from `study_days`, which a trigger keeps as watch
/// events change: summing the events themselves grew with every heartbeat).
/// Lists come back as parallel arrays, as in [`lesson`].
pub async fn overview(
    conn: &mut PgConnection,
    user: UserId,
    from: time::Date,
) -> sqlx::Result<OverviewRow> {
    let row = sqlx::query!(
        r#"SELECT t.ids AS "touched_ids!", t.done AS "touched_done!", t.share AS "touched_share!",
                  d.days AS "days!", d.secs AS "day_secs!",
                  (SELECT coalesce(sum(secs), 0) FROM study_days WHERE user_id = $1)
                    AS "total_secs!"
             FROM (SELECT coalesce(array_agg(topic_id ORDER BY updated_at DESC), '{}') AS ids,
                          coalesce(array_agg(completed_at IS NOT NULL ORDER BY updated_at DESC), '{}') AS done,
                          coalesce(array_agg(CASE WHEN completed_at IS NOT NULL THEN 1
                                                  ELSE least(1, coalesce(watched_secs / video_secs, 0))
                                             END ORDER BY updated_at DESC), '{}') AS share
                     FROM topic_progress WHERE user_id = $1) t,
                  (SELECT coalesce(array_agg(day - DATE '1970-01-01'), '{}') AS days,
                          coalesce(array_agg(secs), '{}') AS secs
                     FROM study_days WHERE user_id = $1 AND day >= $2 AND secs > 0) d"#,
        user.0,
        from
    )
    .fetch_one(conn)
    .await?;
    Ok(OverviewRow {
        touched: zip3(row.touched_ids, row.touched_done, row.touched_share),
        days: row.days.into_iter().zip(row.day_secs).collect(),
        total_secs: row.total_secs,
    })
}

// ---------- notes ----------

#[derive(Clone, serde::Deserialize)]
pub struct NoteRow {
    pub id: uuid::Uuid,
    pub position: f64,
    pub body: String,
}

pub async fn notes(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Vec<NoteRow>> {
    sqlx::query_as!(
        NoteRow,
        "SELECT id, position, body FROM notes
          WHERE user_id = $1 AND topic_id = $2 ORDER BY position, created_at",
        user.0,
        topic.0
    )
    .fetch_all(conn)
    .await
}

pub async fn count_notes(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM notes WHERE user_id = $1 AND topic_id = $2"#,
        user.0,
        topic.0
    )
    .fetch_one(conn)
    .await
}

pub async fn insert_note(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    position: f64,
    body: &str,
) -> sqlx::Result<uuid::Uuid> {
    sqlx::query_scalar!(
        "INSERT INTO notes (user_id, topic_id, position, body) VALUES ($1, $2, $3, $4) RETURNING id",
        user.0,
        topic.0,
        position,
        body
    )
    .fetch_one(conn)
    .await
}

/// Deletes the learner's own note; returns its topic when there was one.
pub async fn delete_note(
    conn: &mut PgConnection,
    user: UserId,
    note: uuid::Uuid,
) -> sqlx::Result<Option<TopicId>> {
    sqlx::query_scalar!(
        r#"DELETE FROM notes WHERE id = $1 AND user_id = $2 RETURNING topic_id AS "t: TopicId""#,
        note,
        user.0
    )
    .fetch_optional(conn)
    .await
}

// ---------- watch history (admins) ----------

/// One learner's progress on one video, for the admins' list.
pub struct WatchRow {
    pub user_id: UserId,
    pub topic_id: TopicId,
    pub watched_secs: f64,
    pub video_secs: Option<f64>,
    pub completed_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
    pub events: i64,
}

/// Learners' progress on videos, latest first; `users` and `topics`, when
/// given, keep only those.
pub async fn watch_rows(
    conn: &mut PgConnection,
    users: Option<&[uuid::Uuid]>,
    topics: Option<&[uuid::Uuid]>,
    limit: i64,
) -> sqlx::Result<Vec<WatchRow>> {
    sqlx::query_as!(
        WatchRow,
        r#"SELECT p.user_id AS "user_id: UserId", p.topic_id AS "topic_id: TopicId",
                  p.watched_secs, p.video_secs, p.completed_at, p.updated_at,
                  (SELECT count(*) FROM watch_events e
                    WHERE e.user_id = p.user_id AND e.topic_id = p.topic_id) AS "events!"
             FROM topic_progress p
            WHERE p.video_secs IS NOT NULL
              AND ($1::uuid[] IS NULL OR p.user_id = ANY($1))
              AND ($2::uuid[] IS NULL OR p.topic_id = ANY($2))
            ORDER BY p.updated_at DESC LIMIT $3"#,
        users,
        topics,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A stored watch event.
pub struct EventRow {
    pub id: i64,
    pub user_id: UserId,
    pub topic_id: TopicId,
    pub kind: EventKind,
    pub position: f64,
    pub duration: f64,
    pub rate: f32,
    pub seek_from: Option<f64>,
    pub played_from: Option<f64>,
    pub credit_from: Option<f64>,
    pub received_at: OffsetDateTime,
    pub credited: f64,
    pub study_secs: f64,
    pub edited_at: Option<OffsetDateTime>,
}

/// A learner's events on a topic in the order they were folded; `kind`
/// filters by type.
pub async fn events_of(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    kind: Option<EventKind>,
) -> sqlx::Result<Vec<EventRow>> {
    events_after(conn, user, topic, kind, None, i64::MAX).await
}

/// Up to `limit` of a learner's events on a topic after `after` (its
/// receipt time and id) in the order they were folded; `kind` filters.
pub async fn events_after(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
    kind: Option<EventKind>,
    after: Option<(OffsetDateTime, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<EventRow>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as!(
        EventRow,
        r#"SELECT id, user_id AS "user_id: UserId", topic_id AS "topic_id: TopicId",
                  kind AS "kind: EventKind", position, duration, rate, seek_from, played_from,
                  credit_from, received_at, credited, study_secs, edited_at
             FROM watch_events
            WHERE user_id = $1 AND topic_id = $2 AND ($3::text IS NULL OR kind = $3)
              AND ($4::timestamptz IS NULL OR (received_at, id) > ($4, $5::bigint))
            ORDER BY received_at, id
            LIMIT $6"#,
        user.0,
        topic.0,
        kind.map(|k| k.as_str()),
        after_at,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn event(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<EventRow>> {
    sqlx::query_as!(
        EventRow,
        r#"SELECT id, user_id AS "user_id: UserId", topic_id AS "topic_id: TopicId",
                  kind AS "kind: EventKind", position, duration, rate, seek_from, played_from,
                  credit_from, received_at, credited, study_secs, edited_at
             FROM watch_events WHERE id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn update_event(
    conn: &mut PgConnection,
    id: i64,
    event: &Event,
    rate: f32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE watch_events SET kind = $2, position = $3, duration = $4, rate = $5,
                seek_from = $6, edited_at = now()
          WHERE id = $1",
        id,
        event.kind.as_str(),
        event.position,
        event.duration,
        rate,
        event.from
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_event(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM watch_events WHERE id = $1", id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes what a replay credited each event.
pub async fn set_credit(conn: &mut PgConnection, id: i64, credit: Credit) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE watch_events SET credit_from = $2, credited = $3, study_secs = $4 WHERE id = $1",
        id,
        (credit.watched > 0.0).then_some(credit.from),
        credit.watched,
        credit.study
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Study seconds a learner spent on `topics`.
pub async fn study_secs_in(
    conn: &mut PgConnection,
    user: UserId,
    topics: &[uuid::Uuid],
) -> sqlx::Result<f64> {
    sqlx::query_scalar!(
        r#"SELECT coalesce(sum(study_secs), 0) AS "secs!" FROM watch_events
            WHERE user_id = $1 AND topic_id = ANY($2) AND study_secs > 0"#,
        user.0,
        topics
    )
    .fetch_one(conn)
    .await
}
