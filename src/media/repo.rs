//! The media tables' SQL.

use sqlx::PgConnection;

use crate::ids::{TopicId, UserId, VideoId};

crate::text_enum!(
    /// Where a video is on its way to learners.
    VideoState {
        Uploaded => "uploaded",
        Processing => "processing",
        Ready => "ready",
        Failed => "failed",
    }
);

crate::text_enum!(
    /// Where an uploaded image is: checked and stored, its sizes made, or
    /// failed.
    ImageState {
        Uploaded => "uploaded",
        Ready => "ready",
        Failed => "failed",
    }
);

impl VideoState {
    pub fn is_ready(self) -> bool {
        self == Self::Ready
    }

    /// Uploaded or being transcoded: worth asking again soon.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Uploaded | Self::Processing)
    }
}

#[derive(Clone, Debug)]
pub struct VideoRow {
    pub id: VideoId,
    pub topic_id: TopicId,
    pub state: VideoState,
    pub failure: Option<String>,
    pub source_key: String,
    pub source_bytes: i64,
    pub original_name: String,
    pub duration_ms: Option<i32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub hls_prefix: Option<String>,
    pub renditions: Vec<String>,
    pub job_id: Option<i64>,
}

pub struct NewVideo<'a> {
    pub id: VideoId,
    pub topic: TopicId,
    pub source_key: &'a str,
    pub source_bytes: i64,
    pub original_name: &'a str,
    pub duration_ms: i64,
    pub width: i32,
    pub height: i32,
    pub uploaded_by: Option<UserId>,
}

/// Retires the topic's live video (if any) and records the new upload.
pub async fn replace_topic_video(conn: &mut PgConnection, new: &NewVideo<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE videos SET deleted_at = now(), updated_at = now() WHERE topic_id = $1 AND deleted_at IS NULL",
        new.topic.0
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"
        INSERT INTO videos (id, topic_id, source_key, source_bytes, original_name,
                            duration_ms, width, height, uploaded_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        "#,
        new.id.0,
        new.topic.0,
        new.source_key,
        new.source_bytes,
        new.original_name,
        i32::try_from(new.duration_ms).unwrap_or(i32::MAX),
        new.width,
        new.height,
        new.uploaded_by.map(|u| u.0),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_job(conn: &mut PgConnection, video: VideoId, job: i64) -> sqlx::Result<()> {
    sqlx::query!("UPDATE videos SET job_id = $2 WHERE id = $1", video.0, job)
        .execute(conn)
        .await?;
    Ok(())
}

/// A live video.
pub async fn video(conn: &mut PgConnection, id: VideoId) -> sqlx::Result<Option<VideoRow>> {
    live_video(conn, Some(id.0), None).await
}

/// The live video of a topic.
pub async fn topic_video(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<VideoRow>> {
    live_video(conn, None, Some(topic.0)).await
}

pub async fn ready_video_secs(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<f64>> {
    Ok(sqlx::query_scalar!(
        "SELECT duration_ms FROM videos
          WHERE topic_id = $1 AND state = 'ready' AND deleted_at IS NULL",
        topic.0
    )
    .fetch_optional(conn)
    .await?
    .flatten()
    .map(|ms| f64::from(ms) / 1000.0))
}

/// The live video with this id or of this topic (one of them is given; a
/// topic has at most one live video).
async fn live_video(
    conn: &mut PgConnection,
    id: Option<uuid::Uuid>,
    topic: Option<uuid::Uuid>,
) -> sqlx::Result<Option<VideoRow>> {
    if id.is_none() && topic.is_none() {
        return Ok(None);
    }
    sqlx::query_as!(
        VideoRow,
        r#"SELECT id AS "id: VideoId", topic_id AS "topic_id: TopicId", state AS "state: VideoState",
                  failure, source_key, source_bytes, original_name, duration_ms,
                  width, height, hls_prefix, renditions, job_id
             FROM videos
            WHERE deleted_at IS NULL
              AND ($1::uuid IS NULL OR id = $1)
              AND ($2::uuid IS NULL OR topic_id = $2)
            LIMIT 1"#,
        id,
        topic
    )
    .fetch_optional(conn)
    .await
}

/// Marks a live, not yet ready video as being transcoded; `None` when there
/// is nothing to do (deleted, or already ready).
pub async fn start_processing(
    conn: &mut PgConnection,
    id: VideoId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"UPDATE videos SET state = 'processing', failure = NULL, updated_at = now()
            WHERE id = $1 AND deleted_at IS NULL AND state <> 'ready'
        RETURNING source_key"#,
        id.0
    )
    .fetch_optional(conn)
    .await
}

/// The one statement that makes a video playable: everything under
/// `prefix` was written before it runs. Returns the video's topic, or
/// `None` when the video is gone.
pub async fn mark_ready(
    conn: &mut PgConnection,
    id: VideoId,
    prefix: &str,
    renditions: &[String],
    duration_ms: i64,
    width: i32,
    height: i32,
) -> sqlx::Result<Option<TopicId>> {
    sqlx::query_scalar!(
        r#"UPDATE videos
              SET state = 'ready', hls_prefix = $2, renditions = $3,
                  duration_ms = $4, width = $5, height = $6, failure = NULL, updated_at = now()
            WHERE id = $1 AND deleted_at IS NULL
        RETURNING topic_id AS "topic: TopicId""#,
        id.0,
        prefix,
        renditions,
        i32::try_from(duration_ms).unwrap_or(i32::MAX),
        width,
        height,
    )
    .fetch_optional(conn)
    .await
}

pub async fn mark_failed(conn: &mut PgConnection, id: VideoId, reason: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE videos SET state = 'failed', failure = left($2, 500), updated_at = now() WHERE id = $1 AND state <> 'ready'",
        id.0,
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a caption track's place, retiring an earlier one in the language.
pub async fn put_caption(
    conn: &mut PgConnection,
    video: VideoId,
    language: &str,
    label: &str,
    key: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE captions SET deleted_at = now() WHERE video_id = $1 AND language = $2 AND deleted_at IS NULL",
        video.0,
        language
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO captions (video_id, language, label, storage_key) VALUES ($1, $2, $3, $4)",
        video.0,
        language,
        label,
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a video's captions in `language` off it (the file stays until the
/// video goes); whether there were any.
pub async fn delete_caption(
    conn: &mut PgConnection,
    video: VideoId,
    language: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE captions SET deleted_at = now() WHERE video_id = $1 AND language = $2 AND deleted_at IS NULL",
        video.0,
        language
    )
    .execute(conn)
    .await?
    .rows_affected()
        > 0)
}

#[derive(Clone, Debug)]
pub struct CaptionRow {
    pub language: String,
    pub label: String,
    pub storage_key: String,
}

pub async fn captions(conn: &mut PgConnection, video: VideoId) -> sqlx::Result<Vec<CaptionRow>> {
    sqlx::query_as!(
        CaptionRow,
        "SELECT language, label, storage_key FROM captions WHERE video_id = $1 AND deleted_at IS NULL ORDER BY language",
        video.0
    )
    .fetch_all(conn)
    .await
}

/// Notes that `key` is about to be stored for a row not yet recorded.
pub async fn intend(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO storage_intents (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The file under `key` is recorded (or removed): its intent is done.
pub async fn intent_done(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM storage_intents WHERE key = $1", key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keys of intents older than `secs`: files a killed process stored and
/// never recorded.
pub async fn abandoned_intents(conn: &mut PgConnection, secs: i64) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT key FROM storage_intents WHERE created_at < now() - make_interval(secs => $1) ORDER BY key",
        secs as f64
    )
    .fetch_all(conn)
    .await
}

/// A topic's live video, as a list of a course's videos shows it.
pub struct CourseVideoRow {
    pub topic_id: TopicId,
    pub topic_title: String,
    pub id: VideoId,
    pub state: VideoState,
    pub failure: Option<String>,
    pub source_bytes: i64,
    pub original_name: String,
    pub duration_ms: Option<i32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_at: time::OffsetDateTime,
}

/// The live videos of a course's live topics, in the outline's order.
pub async fn course_videos(
    conn: &mut PgConnection,
    course: crate::ids::CourseId,
) -> sqlx::Result<Vec<CourseVideoRow>> {
    sqlx::query_as!(
        CourseVideoRow,
        r#"SELECT t.id AS "topic_id: TopicId", t.title AS topic_title, v.id AS "id: VideoId",
                  v.state AS "state: VideoState", v.failure, v.source_bytes, v.original_name,
                  v.duration_ms, v.width, v.height, v.created_at
             FROM videos v
             JOIN topics t ON t.id = v.topic_id AND t.deleted_at IS NULL
             JOIN lectures l ON l.id = t.lecture_id AND l.deleted_at IS NULL
            WHERE l.course_id = $1 AND v.deleted_at IS NULL
            ORDER BY l.position, t.position"#,
        course.0
    )
    .fetch_all(conn)
    .await
}

/// An image as a list shows it.
pub struct ImageRow {
    pub id: uuid::Uuid,
    pub state: ImageState,
    pub format: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub failure: Option<String>,
    pub created_at: time::OffsetDateTime,
    /// The course's cover now.
    pub current: bool,
}

/// A course's cover images, newest first, live ones only.
pub async fn course_images(
    conn: &mut PgConnection,
    course: crate::ids::CourseId,
) -> sqlx::Result<Vec<ImageRow>> {
    sqlx::query_as!(
        ImageRow,
        r#"SELECT i.id, i.state AS "state: ImageState", i.format, i.bytes, i.width, i.height, i.failure, i.created_at,
                  (c.cover_image_id IS NOT DISTINCT FROM i.id) AS "current!"
             FROM images i JOIN courses c ON c.id = i.course_id
            WHERE i.course_id = $1 AND i.deleted_at IS NULL
            ORDER BY i.created_at DESC"#,
        course.0
    )
    .fetch_all(conn)
    .await
}
