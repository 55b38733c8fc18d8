//! The studio's video box: what a topic's video, captions and transcoding
//! look like to its author. The catalogue's topic editor shows it too.

use sqlx::PgPool;

use super::{Media, VideoRow, repo};
use crate::{error::AppResult, ids::TopicId};

/// The studio's video box for one topic (upload form, state, captions).
#[derive(Clone, Debug)]
pub struct StudioPanel {
    pub topic: TopicId,
    pub video: Option<VideoRow>,
    pub captions: Vec<repo::CaptionRow>,
    /// How far transcoding is (0-100).
    pub progress: i16,
    pub max_size: String,
    pub error: Option<String>,
}

impl StudioPanel {
    /// Whether the page should keep asking how far transcoding is.
    pub fn busy(&self) -> bool {
        self.video.as_ref().is_some_and(|v| {
            matches!(
                v.state,
                super::VideoState::Uploaded | super::VideoState::Processing
            )
        })
    }

    pub fn duration(&self) -> String {
        let secs = self.video.as_ref().and_then(|v| v.duration_ms).unwrap_or(0) / 1000;
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}

/// The panel as it is now.
pub async fn studio_panel(db: &PgPool, media: &Media, topic: TopicId) -> AppResult<StudioPanel> {
    let mut conn = db.acquire().await?;
    let video = repo::topic_video(&mut conn, topic).await?;
    let (captions, progress) = match &video {
        Some(v) => (
            repo::captions(&mut conn, v.id).await?,
            super::progress(&mut conn, v).await?,
        ),
        None => (Vec::new(), 0),
    };
    Ok(StudioPanel {
        topic,
        video,
        captions,
        progress,
        max_size: super::error::human_size(media.config.max_video_bytes),
        error: None,
    })
}
