//! Media: video uploads checked with ffprobe, HLS transcoding on the job
//! queue, WebVTT captions, and delivery only to viewers `learning::access`
//! lets watch. Files live in `infra::storage` (local folder or S3).

pub mod error;
pub mod handlers;
pub mod images;
pub mod probe;
pub mod repo;
pub mod seed;
pub mod transcode;
pub mod views;
pub mod vtt;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, LazyLock},
    time::Duration,
};

use anyhow::Context;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use tokio::sync::Semaphore;

use crate::{
    config::MediaConfig,
    ids::{TopicId, UserId, VideoId},
    infra::{
        cache::Cache,
        storage::{self, Storage},
    },
    jobs::{self, EnqueueOptions, JobCtx},
};

pub use error::Refusal;
pub use repo::{CourseVideoRow, ImageRow, ImageState, VideoRow, VideoState};

/// The job that turns an upload into HLS.
pub const TRANSCODE_JOB: &str = "media.transcode";

/// Storage and the bounds on the work media costs.
pub struct Media {
    pub storage: Arc<dyn Storage>,
    pub config: MediaConfig,
    /// Uploads being received and transcoding work folders.
    work_dir: PathBuf,
    /// ffmpeg runs in this process at once.
    ffmpeg: Semaphore,
    /// ffprobe checks of uploads at once.
    probes: Semaphore,
    /// Image decodes and resizes at once.
    images: Semaphore,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("storage", &self.storage.name())
            .finish_non_exhaustive()
    }
}

impl Media {
    pub fn new(config: &MediaConfig, var_dir: &Path) -> anyhow::Result<Self> {
        let storage = storage::from_settings(&config.dir, config.s3.as_ref())?;
        let work_dir = var_dir.join("tmp").join("media");
        std::fs::create_dir_all(&work_dir)
            .with_context(|| format!("creating {}", work_dir.display()))?;
        let swept = sweep_stale_work(&work_dir, STALE_WORK);
        if swept > 0 {
            tracing::warn!(swept, dir = %work_dir.display(), "removed uploads and transcoding folders a stopped process left");
        }
        Ok(Self {
            storage,
            config: config.clone(),
            work_dir,
            ffmpeg: Semaphore::new(config.ffmpeg_slots.max(1)),
            probes: Semaphore::new(config.ffmpeg_slots.max(1) * 2),
            images: Semaphore::new(2),
        })
    }

    /// A fresh path for an upload being received (removed by its guard).
    pub fn upload_path(&self) -> TempPath {
        TempPath(
            self.work_dir
                .join(format!("upload-{}.part", uuid::Uuid::new_v4().simple())),
        )
    }

    /// Checks a received file and, when it is a video we take, stores it and
    /// queues its transcoding, in one transaction with the record. The file
    /// at `upload` is consumed either way.
    pub async fn ingest(
        &self,
        db: &PgPool,
        topic: TopicId,
        uploaded_by: Option<UserId>,
        upload: TempPath,
        original_name: &str,
    ) -> Result<VideoId, IngestError> {
        let bytes = tokio::fs::metadata(&upload.0)
            .await
            .map_err(|e| IngestError::Internal(e.into()))?
            .len();
        if bytes == 0 {
            return Err(Refusal::NoFile.into());
        }
        let info = {
            let _slot = self.probes.try_acquire().map_err(|_| Refusal::Busy)?;
            probe::probe(&upload.0, self.config.max_video_secs).await?
        };
        let id = VideoId(uuid::Uuid::new_v4());
        let ext = match info.container {
            probe::Container::Mov => "mp4",
            probe::Container::Matroska => "mkv",
        };
        let source_key = format!("videos/{id}/source.{ext}");
        let store = self.storage.adopt_file(
            &source_key,
            &upload.0,
            storage::content_type_of(&source_key),
        );
        self.store_and_record(db, &source_key, store, async |tx| {
            repo::replace_topic_video(
                tx,
                &repo::NewVideo {
                    id,
                    topic,
                    source_key: &source_key,
                    source_bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                    original_name,
                    duration_ms: info.duration_ms,
                    width: info.width,
                    height: info.height,
                    uploaded_by,
                },
            )
            .await?;
            queue_transcode(tx, id).await
        })
        .await?;
        videos_changed();
        Ok(id)
    }

    /// Stores a file under `key` with `store` and records it with `record`
    /// so that storage never keeps what no row points at: an intent naming
    /// the key is committed first and deleted in the recording transaction;
    /// when storing or recording fails the file is removed, and when the
    /// process dies in between, housekeeping removes it
    /// ([`forget_abandoned`]).
    async fn store_and_record(
        &self,
        db: &PgPool,
        key: &str,
        store: impl Future<Output = anyhow::Result<()>>,
        record: impl AsyncFnOnce(&mut PgConnection) -> anyhow::Result<()>,
    ) -> Result<(), IngestError> {
        repo::intend(&mut *db.acquire().await.map_err(anyhow::Error::from)?, key)
            .await
            .map_err(anyhow::Error::from)?;
        let stored = store.await;
        if stored.is_ok() {
            crate::infra::crash_point("media-stored");
        }
        let recorded = match stored {
            Err(err) => Err(err),
            Ok(()) => {
                async {
                    let mut tx = db.begin().await?;
                    record(&mut tx).await?;
                    repo::intent_done(&mut tx, key).await?;
                    tx.commit().await?;
                    anyhow::Ok(())
                }
                .await
            }
        };
        if let Err(err) = recorded {
            let _ = self.storage.delete(key).await;
            if let Ok(mut conn) = db.acquire().await {
                let _ = repo::intent_done(&mut conn, key).await;
            }
            return Err(err.into());
        }
        Ok(())
    }

    /// The transcoding job: HLS renditions and a poster into a folder of
    /// their own, then one statement makes them the video's. A run that dies
    /// half way leaves a folder nothing points at; the next run removes it.
    pub async fn transcode(
        &self,
        db: &PgPool,
        catalog: &Arc<crate::catalog::CatalogCache>,
        id: VideoId,
        ctx: &JobCtx,
    ) -> anyhow::Result<()> {
        let Some(source_key) = repo::start_processing(&mut *db.acquire().await?, id).await? else {
            return Ok(());
        };
        videos_changed();
        let _slot = self.ffmpeg.acquire().await?;
        let work = TempDir::new(self.work_dir.join(format!("transcode-{id}-{}", short_id())))?;
        let source = match self.storage.local_path(&source_key) {
            Some(path) => path,
            None => {
                let path = work.0.join("source");
                self.storage.get_to_file(&source_key, &path).await?;
                path
            }
        };
        let out = work.0.join("hls");
        // ffmpeg reports often; the job's percentage is saved at most twice
        // a second (pages read it through `progress`).
        let (tx, mut rx) = tokio::sync::watch::channel(0u8);
        let reporter = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let percent = *rx.borrow_and_update();
                    let _ = ctx.progress(percent).await;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            })
        };
        let made = transcode_file(
            &source,
            &out,
            &self.config.preset,
            self.config.max_video_secs,
            |p| {
                tx.send_if_modified(|old| std::mem::replace(old, p) != p);
            },
        )
        .await;
        drop(tx);
        let _ = reporter.await;
        let (info, renditions) = made?;
        drop(_slot);

        let prefix = format!("videos/{id}/hls/{}/", short_id());
        for file in walk(&out).await? {
            let rel = file
                .strip_prefix(&out)?
                .to_string_lossy()
                .replace('\\', "/");
            let key = format!("{prefix}{rel}");
            self.storage
                .put_file(&key, &file, storage::content_type_of(&key))
                .await?;
        }
        let names: Vec<String> = renditions.iter().map(|r| r.name.clone()).collect();
        let topic = repo::mark_ready(
            &mut *db.acquire().await?,
            id,
            &prefix,
            &names,
            info.duration_ms,
            info.width,
            info.height,
        )
        .await?;
        let ready = topic.is_some();
        videos_changed();
        // The outline lists the topic as long as its video.
        if let Some(topic) = topic {
            let secs = info.duration_ms as f64 / 1000.0;
            catalog
                .write(db, async |tx| {
                    Ok(crate::catalog::set_topic_length(tx, topic, secs).await?)
                })
                .await?;
        }
        // Earlier runs' folders (a crash, a retry) are no one's now.
        for key in self.storage.list(&format!("videos/{id}/hls/")).await? {
            if !ready || !key.starts_with(&prefix) {
                self.storage.delete(&key).await?;
            }
        }
        tracing::info!(video = %id, renditions = ?names, "video ready");
        Ok(())
    }

    /// Stores checked WebVTT captions for a video.
    pub async fn put_captions(
        &self,
        db: &PgPool,
        video: VideoId,
        language: &str,
        label: &str,
        raw: &[u8],
    ) -> Result<(), IngestError> {
        let text = vtt::validate(raw).map_err(Refusal::Captions)?;
        let key = format!("videos/{video}/captions/{language}-{}.vtt", short_id());
        self.storage
            .put_bytes(&key, text.into_bytes(), storage::content_type_of(&key))
            .await?;
        let mut conn = db.acquire().await.map_err(anyhow::Error::from)?;
        repo::put_caption(&mut conn, video, language, label, &key)
            .await
            .map_err(anyhow::Error::from)?;
        videos_changed();
        Ok(())
    }
}

/// One caption track of a topic's live video, for readers of what lessons
/// say (the tutor's index): its row id changes with every new upload.
#[derive(Clone, Debug)]
pub struct CaptionTrack {
    pub topic: TopicId,
    pub id: uuid::Uuid,
    pub storage_key: String,
}

/// The captions of each of `topics`' live videos, one track per topic
/// (Korean when there is one, else the first language).
pub async fn caption_tracks(
    conn: &mut PgConnection,
    topics: &[TopicId],
) -> sqlx::Result<Vec<CaptionTrack>> {
    let ids: Vec<uuid::Uuid> = topics.iter().map(|t| t.0).collect();
    Ok(sqlx::query!(
        r#"SELECT DISTINCT ON (v.topic_id) v.topic_id AS "topic: TopicId", c.id, c.storage_key
             FROM captions c JOIN videos v ON v.id = c.video_id
            WHERE v.topic_id = ANY($1) AND v.deleted_at IS NULL AND c.deleted_at IS NULL
            ORDER BY v.topic_id, c.language <> 'ko', c.language"#,
        &ids
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| CaptionTrack {
        topic: r.topic,
        id: r.id,
        storage_key: r.storage_key,
    })
    .collect())
}

impl Media {
    /// The cues of a caption track (`None` when its file is gone).
    pub async fn caption_cues(
        &self,
        track: &CaptionTrack,
    ) -> anyhow::Result<Option<Vec<vtt::Cue>>> {
        Ok(self
            .storage
            .get_bytes(&track.storage_key)
            .await?
            .map(|bytes| vtt::cues(&String::from_utf8_lossy(&bytes))))
    }
}

/// What the lesson page needs to show a topic's video.
#[derive(Clone, Debug)]
pub struct PlayerVideo {
    pub id: VideoId,
    pub state: VideoState,
    pub progress: i16,
    pub width: i32,
    pub height: i32,
    /// Its length, as probed on upload.
    pub secs: f64,
    /// `(language, label)` of each caption track.
    pub captions: Vec<(String, String)>,
    /// Its renditions, smallest first ("360p", "720p", ...): the quality menu.
    pub renditions: Vec<String>,
}

impl PlayerVideo {
    pub fn master(&self) -> String {
        format!("/media/videos/{}/master.m3u8", self.id)
    }

    pub fn poster(&self) -> String {
        format!("/media/videos/{}/poster.jpg", self.id)
    }
}

/// How far a video is on its way, 0-100: its transcoding job's percentage
/// while it is being made.
pub async fn progress(conn: &mut PgConnection, video: &VideoRow) -> sqlx::Result<i16> {
    Ok(match (video.state, video.job_id) {
        (VideoState::Ready, _) => 100,
        (state, Some(job)) if state.in_progress() => jobs::progress_of(conn, jobs::JobId(job))
            .await?
            .and_then(|(_, percent)| percent)
            .unwrap_or(0),
        _ => 0,
    })
}

/// The topic's video as a player shows it, if it has one.
pub async fn player_video(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<PlayerVideo>> {
    let Some(video) = repo::topic_video(conn, topic).await? else {
        return Ok(None);
    };
    let captions = repo::captions(conn, video.id)
        .await?
        .into_iter()
        .map(|c| (c.language, c.label))
        .collect();
    Ok(Some(PlayerVideo {
        id: video.id,
        state: video.state,
        progress: progress(conn, &video).await?,
        width: video.width.unwrap_or(1280),
        height: video.height.unwrap_or(720),
        secs: f64::from(video.duration_ms.unwrap_or(0)) / 1000.0,
        captions,
        renditions: video.renditions,
    }))
}

/// Each topic's video as the lesson page shows it, kept a few seconds: every
/// learner on a lesson shares one load. Each change of a video in this
/// process ([`videos_changed`], called after it is committed) drops them all;
/// other instances see a change within the TTL. The studio reads
/// [`player_video`] fresh.
static PLAYERS: LazyLock<Cache<Option<PlayerVideo>>> =
    LazyLock::new(|| Cache::new(Duration::from_secs(5)));

/// Forgets the kept player videos: a video was uploaded, began or finished
/// transcoding, failed, or its captions changed. Call it after the commit.
pub fn videos_changed() {
    PLAYERS.invalidate();
    crate::infra::changes::announce(VIDEOS_CHANGED);
}

/// What other instances hear when a video changed here.
pub const VIDEOS_CHANGED: &str = "media.videos";

/// Drops this instance's kept player videos (another instance changed one).
pub fn forget_videos() {
    PLAYERS.invalidate();
}

/// [`player_video`] for the lesson page, from the kept ones (one load per
/// topic at a time).
pub async fn lesson_video(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Arc<Option<PlayerVideo>>> {
    PLAYERS
        .get_or_load(&topic.to_string(), player_video(conn, topic))
        .await
}

/// The length in seconds of the topic's video, when it can be watched
/// (what watch events are checked against).
pub async fn ready_video_secs(
    conn: &mut PgConnection,
    topic: TopicId,
) -> sqlx::Result<Option<f64>> {
    repo::ready_video_secs(conn, topic).await
}

/// Probes `source` and writes its HLS renditions and `poster.jpg` into
/// `out`: the whole of a transcoding run on local files (the job and
/// `weaverse transcode` both use it).
pub async fn transcode_file(
    source: &Path,
    out: &Path,
    preset: &str,
    max_secs: u64,
    progress: impl FnMut(u8),
) -> anyhow::Result<(probe::VideoInfo, Vec<transcode::Rendition>)> {
    let info = probe::probe(source, max_secs)
        .await
        .map_err(|r| anyhow::anyhow!(r.to_string()))?;
    let renditions = transcode::ladder(info.height);
    transcode::to_hls(source, &info, &renditions, out, preset, progress).await?;
    transcode::poster(source, &info, &out.join("poster.jpg")).await?;
    Ok((info, renditions))
}

/// Why an upload did not become a video.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for IngestError {
    /// A full disk while storing is a refusal the uploader is told about;
    /// anything else is ours.
    fn from(err: anyhow::Error) -> Self {
        match Refusal::storage_full_in(&err) {
            Some(full) => Self::Refused(full),
            None => Self::Internal(err),
        }
    }
}

/// Queues a video's transcoding (at most one live job per video).
pub async fn queue_transcode(conn: &mut PgConnection, id: VideoId) -> anyhow::Result<()> {
    let job = jobs::enqueue(
        conn,
        TRANSCODE_JOB,
        json!({ "video": id }),
        EnqueueOptions {
            dedupe_key: Some(format!("transcode:{id}")),
            max_attempts: Some(3),
            ..EnqueueOptions::default()
        },
    )
    .await?;
    if let Some(job) = job {
        repo::set_job(conn, id, job.0).await?;
    }
    Ok(())
}

/// Registers the media jobs with a worker.
pub fn register(
    worker: &mut jobs::Worker,
    db: PgPool,
    media: Arc<Media>,
    catalog: Arc<crate::catalog::CatalogCache>,
) {
    let limit = media.config.transcode_limit;
    let (run_db, run_media) = (db.clone(), media.clone());
    let run_catalog = catalog.clone();
    worker.register_with(TRANSCODE_JOB, limit, move |payload, ctx| {
        let (db, media, catalog) = (run_db.clone(), run_media.clone(), run_catalog.clone());
        async move {
            let id: VideoId = serde_json::from_value(payload["video"].clone())?;
            media.transcode(&db, &catalog, id, &ctx).await
        }
    });
    let (image_db, image_media) = (db.clone(), media.clone());
    worker.register(images::IMAGE_JOB, move |payload| {
        let (db, media, catalog) = (image_db.clone(), image_media.clone(), catalog.clone());
        async move {
            let id: uuid::Uuid = serde_json::from_value(payload["image"].clone())?;
            media.make_image_sizes(&db, &catalog, id).await
        }
    });
    let failed_db = db.clone();
    worker.on_give_up(images::IMAGE_JOB, move |payload, reason| {
        let db = failed_db.clone();
        async move {
            let id: uuid::Uuid = serde_json::from_value(payload["image"].clone())?;
            images::mark_failed(&db, id, &reason).await?;
            Ok(())
        }
    });
    worker.on_give_up(TRANSCODE_JOB, move |payload, reason| {
        let db = db.clone();
        async move {
            let id: VideoId = serde_json::from_value(payload["video"].clone())?;
            let mut conn = db.acquire().await?;
            repo::mark_failed(&mut conn, id, &reason).await?;
            videos_changed();
            Ok(())
        }
    });
}

/// The live videos of a course's topics, in the outline's order.
pub async fn course_videos(
    conn: &mut PgConnection,
    course: crate::ids::CourseId,
) -> sqlx::Result<Vec<CourseVideoRow>> {
    repo::course_videos(conn, course).await
}

/// A course's cover images, newest first (the one shown is `current`).
pub async fn course_images(
    conn: &mut PgConnection,
    course: crate::ids::CourseId,
) -> sqlx::Result<Vec<ImageRow>> {
    repo::course_images(conn, course).await
}

/// Whether `path` takes a streamed upload (larger body, longer time): the
/// studio's form and the API's.
pub fn is_upload_path(path: &str) -> bool {
    (path.starts_with("/studio/topics/") || path.starts_with("/api/v1/topics/"))
        && path.ends_with("/video")
}

/// Whether `path` takes an image upload (up to `images::MAX_BYTES`).
pub fn is_image_path(path: &str) -> bool {
    path == "/me/avatar"
        || path == "/api/v1/me/avatar"
        || ((path.starts_with("/studio/courses/") || path.starts_with("/api/v1/courses/"))
            && path.ends_with("/cover"))
}

/// The uploader's file name, kept for the studio: normalised, one line, at
/// most 200 characters (`video` when it is not printable).
pub fn upload_name(raw: &str) -> String {
    match crate::text::clean(raw) {
        Ok(name) if crate::text::single_line(&name) && !name.trim().is_empty() => {
            name.trim().chars().take(200).collect()
        }
        _ => "video".into(),
    }
}

/// Writes an upload's bytes (a multipart field, or a request's body) to
/// `path` as they arrive, never whole in memory, at most `limit` bytes;
/// `too_large` tells the stream's own size refusal from a broken one.
pub async fn receive<S, E>(
    stream: S,
    path: &std::path::Path,
    limit: u64,
    too_large: impl Fn(&E) -> bool,
) -> Result<u64, Refusal>
where
    S: tokio_stream::Stream<Item = Result<axum::body::Bytes, E>>,
{
    use tokio::io::AsyncWriteExt;
    use tokio_stream::StreamExt;
    let mut stream = std::pin::pin!(stream);
    let file = tokio::fs::File::create(path)
        .await
        .map_err(|e| Refusal::of_io(&e))?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut total: u64 = 0;
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                total += chunk.len() as u64;
                if total > limit {
                    return Err(Refusal::TooLarge { max_bytes: limit });
                }
                if let Err(err) = out.write_all(&chunk).await {
                    let why = Refusal::of_io(&err);
                    if why == Refusal::StorageFull {
                        // Free the room at once, then read the rest of the
                        // body so that the client gets the answer saying
                        // why (a reply before the body ends reaches it as a
                        // broken connection).
                        drop(out);
                        let _ = tokio::fs::remove_file(path).await;
                        while let Some(Ok(_)) = stream.next().await {}
                    }
                    return Err(why);
                }
            }
            None => break,
            Some(Err(err)) if too_large(&err) => {
                return Err(Refusal::TooLarge { max_bytes: limit });
            }
            Some(Err(_)) => return Err(Refusal::Interrupted),
        }
    }
    if let Err(err) = out.flush().await {
        let _ = tokio::fs::remove_file(path).await;
        return Err(Refusal::of_io(&err));
    }
    out.into_inner()
        .sync_all()
        .await
        .map_err(|e| Refusal::of_io(&e))?;
    Ok(total)
}

/// A file removed when dropped (unless consumed first).
pub struct TempPath(pub PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// How old an intent must be before its file is taken for abandoned: longer
/// than any upload and copy into storage runs (`UPLOAD_TIMEOUT_SECS` is 3 h).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Removes the files that processes killed between storing and recording
/// left (intents older than `older_than`), and their intents; how many.
pub async fn forget_abandoned(
    db: &PgPool,
    storage: &dyn Storage,
    older_than: Duration,
) -> anyhow::Result<usize> {
    let secs = i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX);
    let keys = repo::abandoned_intents(&mut *db.acquire().await?, secs).await?;
    for key in &keys {
        storage.delete(key).await?;
        repo::intent_done(&mut *db.acquire().await?, key).await?;
        tracing::warn!(%key, "removed a stored file a stopped process never recorded");
    }
    Ok(keys.len())
}

/// How long an upload or transcoding folder may go untouched before it is
/// taken for one a killed process left (an upload writes every moment, ffmpeg
/// a segment every few seconds).
const STALE_WORK: Duration = Duration::from_secs(3600);

/// Removes what a killed process left in `work_dir` (half-received uploads,
/// transcoding folders): entries in which nothing changed for `idle`. Another
/// process's upload or transcode sharing the folder is still being written
/// and stays.
fn sweep_stale_work(work_dir: &Path, idle: Duration) -> usize {
    fn newest(path: &Path) -> Option<std::time::SystemTime> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        let mut at = meta.modified().ok()?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).ok()?.flatten() {
                if let Some(inner) = newest(&entry.path()) {
                    at = at.max(inner);
                }
            }
        }
        Some(at)
    }
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return 0;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = newest(&path)
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > idle);
        if !stale {
            continue;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if removed.is_ok() {
            swept += 1;
        }
    }
    swept
}

/// A folder removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(path: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// Every file under `dir`.
async fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let mut entries = tokio::fs::read_dir(&next).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_type().await?.is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn age(path: &Path, by: Duration) {
        let at = SystemTime::now() - by;
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(at))
            .or_else(|_| std::fs::File::open(path).and_then(|f| f.set_modified(at)))
            .unwrap();
    }

    #[test]
    fn only_work_a_killed_process_left_is_swept() {
        let dir = std::env::temp_dir().join(format!("weaverse-sweep-{}", short_id()));
        std::fs::create_dir_all(dir.join("transcode-live/hls/360p")).unwrap();
        std::fs::create_dir_all(dir.join("transcode-dead/hls")).unwrap();
        for file in [
            "upload-old.part",
            "upload-new.part",
            "transcode-live/hls/360p/seg_001.ts",
            "transcode-dead/hls/seg_000.ts",
        ] {
            std::fs::write(dir.join(file), b"x").unwrap();
        }
        let hours = Duration::from_secs(2 * 3600);
        age(&dir.join("upload-old.part"), hours);
        // A folder made long ago in which ffmpeg is still writing stays.
        age(&dir.join("transcode-live"), hours);
        for path in [
            "transcode-dead/hls/seg_000.ts",
            "transcode-dead/hls",
            "transcode-dead",
        ] {
            age(&dir.join(path), hours);
        }
        assert_eq!(sweep_stale_work(&dir, STALE_WORK), 2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["transcode-live", "upload-new.part"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn an_upload_streams_to_disk_within_its_limit_and_says_why_it_stopped() {
        use axum::body::Bytes;
        let dir = std::env::temp_dir().join(format!("receive-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("upload.part");
        let never = |_: &&str| false;
        let chunks = |n: usize| {
            tokio_stream::iter((0..n).map(|_| Ok::<_, &str>(Bytes::from_static(b"0123456789"))))
        };
        assert_eq!(receive(chunks(3), &path, 30, never).await, Ok(30));
        assert_eq!(std::fs::read(&path).unwrap().len(), 30);
        assert_eq!(
            receive(chunks(4), &path, 30, never).await,
            Err(Refusal::TooLarge { max_bytes: 30 })
        );
        let broken = tokio_stream::iter([Ok(Bytes::from_static(b"abc")), Err("reset")]);
        assert_eq!(
            receive(broken, &path, 30, never).await,
            Err(Refusal::Interrupted)
        );
        // The body's own limit (a layer's) is the same refusal as ours.
        let limited = tokio_stream::iter([Err::<Bytes, _>("length limit exceeded")]);
        assert_eq!(
            receive(limited, &path, 30, |e: &&str| e.starts_with("length")).await,
            Err(Refusal::TooLarge { max_bytes: 30 })
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
