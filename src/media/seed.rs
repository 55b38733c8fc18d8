//! Demo lesson videos for `make run`: for each video topic of the demo
//! nano-degree, a short clip made with ffmpeg (a title card with the topic's
//! Korean title, a moving marker, a soft tone) and Korean WebVTT captions
//! that teach the topic (`demo_captions.json`, six seconds a line; the clip
//! is as long as its script), uploaded through the same path a tutor's
//! upload takes (checked, stored, transcoded by the job queue).
//!
//! Clips are cached in `var/seed-media` by their content, so a second start
//! (or a fresh database on the same machine) does not make them again.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::process::Command;

use super::{Media, repo, vtt};
use crate::catalog::seed::{DemoVideoTopic, demo_video_topics};

/// Bump to make every cached clip again.
const CLIP_VERSION: &str = "2";
const FONT: &str = "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf";
const FALLBACK_FONT: &str = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf";

/// Colours of the demo covers, one per course in order.
const COVER_COLOURS: &[&str] = &[
    "0x2563eb", "0x7c3aed", "0xdb2777", "0xea580c", "0x16a34a", "0x0891b2", "0x4f46e5",
];

/// A cover for each demo course without one (a coloured card with the
/// course's title), cached like the clips. Returns how many were queued.
pub async fn seed_covers(db: &PgPool, media: &Media, cache_dir: &Path) -> anyhow::Result<usize> {
    let courses =
        crate::catalog::seed::demo_courses_without_cover(&mut *db.acquire().await?).await?;
    tokio::fs::create_dir_all(cache_dir).await?;
    let mut queued = 0;
    for (i, (course, title)) in courses.into_iter().enumerate() {
        // A cover queued by an earlier run (no worker has made it yet) counts.
        if super::images::cover_pending(&mut *db.acquire().await?, course).await? {
            continue;
        }
        let colour = COVER_COLOURS[i % COVER_COLOURS.len()];
        let path = cover(cache_dir, &title, colour).await?;
        let bytes = tokio::fs::read(&path).await?;
        media
            .ingest_image(db, super::images::Purpose::CourseCover(course), None, bytes)
            .await
            .map_err(|e| anyhow::anyhow!("cover for {title}: {e}"))?;
        queued += 1;
    }
    Ok(queued)
}

/// A cache file name from what went into making it.
fn cache_name(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in std::iter::once(&CLIP_VERSION).chain(parts) {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..12])
}

async fn cover(cache_dir: &Path, title: &str, colour: &str) -> anyhow::Result<PathBuf> {
    let name = cache_name(&["cover", title, colour]);
    let path = cache_dir.join(format!("cover-{name}.jpg"));
    if tokio::fs::metadata(&path).await.is_ok() {
        return Ok(path);
    }
    let work = cache_dir.join(format!(".{name}-{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::create_dir_all(&work).await?;
    let text = work.join("title.txt");
    tokio::fs::write(&text, title).await?;
    let partial = work.join("cover.jpg");
    let font = if Path::new(FONT).exists() {
        FONT
    } else {
        FALLBACK_FONT
    };
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"])
        .args(["-f", "lavfi", "-i", &format!("color=c={colour}:s=1280x720:d=1")])
        .args([
            "-vf",
            &format!(
                "drawbox=x=0:y=ih*0.62:w=iw:h=ih*0.38:color=black@0.18:t=fill,drawtext=fontfile={font}:textfile={}:fontcolor=white:fontsize=72:x=(w-text_w)/2:y=(h-text_h)/2-40",
                text.display()
            ),
        ])
        .args(["-frames:v", "1", "-q:v", "3"])
        .arg(&partial)
        .kill_on_drop(true)
        .output()
        .await
        .context("starting ffmpeg")?;
    let made = if output.status.success() {
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(anyhow::Error::from)
    } else {
        Err(anyhow::anyhow!(
            "ffmpeg could not make a demo cover: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    };
    let _ = tokio::fs::remove_dir_all(&work).await;
    made?;
    Ok(path)
}

/// Makes and attaches clips for demo video topics without a video, at most
/// `limit` of them (`None`: all). Returns how many were attached.
pub async fn seed_videos(
    db: &PgPool,
    media: &Media,
    cache_dir: &Path,
    limit: Option<usize>,
) -> anyhow::Result<usize> {
    let topics = demo_video_topics(&mut *db.acquire().await?).await?;
    tokio::fs::create_dir_all(cache_dir).await?;
    let mut attached = 0;
    let script = script()?;
    for topic in topics.into_iter().take(limit.unwrap_or(usize::MAX)) {
        if repo::topic_video(&mut *db.acquire().await?, topic.topic)
            .await?
            .is_some()
        {
            continue;
        }
        let clip = clip(cache_dir, &topic, clip_secs(&script, &topic)).await?;
        let upload = media.upload_path();
        tokio::fs::copy(&clip, &upload.0).await?;
        let video = media
            .ingest(db, topic.topic, None, upload, "demo.mp4")
            .await
            .map_err(|e| anyhow::anyhow!("seeding {}: {e}", topic.title))?;
        media
            .put_captions(
                db,
                video,
                &script.language,
                &script.label,
                captions(&script, &topic).as_bytes(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("captions for {}: {e}", topic.title))?;
        attached += 1;
        tracing::info!(topic = %topic.title, "demo video queued for transcoding");
    }
    Ok(attached)
}

/// What the demo clips say (`demo_captions.json`: demo content, like the
/// nano-degree and its missions): the track's language and label, each
/// demo topic's lines (one every `cue_secs`), and lines for a topic
/// without its own, `{topic}` and `{course}` filled in.
#[derive(serde::Deserialize)]
struct Script {
    language: String,
    label: String,
    cue_secs: u64,
    fallback: Vec<String>,
    topics: std::collections::HashMap<String, Vec<String>>,
}

fn script() -> anyhow::Result<Script> {
    Ok(serde_json::from_str(include_str!("demo_captions.json"))?)
}

/// What the clip says, one line per `cue_secs`.
fn lines(script: &Script, topic: &DemoVideoTopic) -> Vec<String> {
    script
        .topics
        .get(&topic.title)
        .unwrap_or(&script.fallback)
        .iter()
        .map(|line| {
            line.replace("{topic}", &topic.title)
                .replace("{course}", &topic.course_title)
        })
        .collect()
}

fn captions(script: &Script, topic: &DemoVideoTopic) -> String {
    vtt::from_lines(&lines(script, topic), script.cue_secs)
}

/// How long the clip of `topic` is: as long as its captions.
fn clip_secs(script: &Script, topic: &DemoVideoTopic) -> u64 {
    (lines(script, topic).len() as u64 * script.cue_secs).max(5)
}

/// The cached clip for `topic`, made when missing.
async fn clip(cache_dir: &Path, topic: &DemoVideoTopic, secs: u64) -> anyhow::Result<PathBuf> {
    let length = secs.to_string();
    let name = cache_name(&[&topic.title, &topic.course_title, &length]);
    let path = cache_dir.join(format!("{name}.mp4"));
    if tokio::fs::metadata(&path).await.is_ok() {
        return Ok(path);
    }
    let work = cache_dir.join(format!(".{name}-{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::create_dir_all(&work).await?;
    let made = make_clip(&work, topic, secs, &path).await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    made?;
    Ok(path)
}

async fn make_clip(
    work: &Path,
    topic: &DemoVideoTopic,
    secs: u64,
    out: &Path,
) -> anyhow::Result<()> {
    let font = if Path::new(FONT).exists() {
        FONT
    } else {
        FALLBACK_FONT
    };
    // Text goes through files: no escaping of Korean or quotes in filters.
    let title = work.join("title.txt");
    let course = work.join("course.txt");
    tokio::fs::write(&title, &topic.title).await?;
    tokio::fs::write(&course, &topic.course_title).await?;
    let text = |file: &Path, size: u32, y: &str, colour: &str| {
        format!(
            "drawtext=fontfile={font}:textfile={}:fontcolor={colour}:fontsize={size}:x=(w-text_w)/2:y={y}",
            file.display()
        )
    };
    let filter = format!(
        "[0:v][1:v]overlay=x='(W-w)*(0.5+0.45*sin(t*1.3))':y=H-150[bg];[bg]{},{},drawtext=fontfile={font}:text='%{{pts\\:hms}}':fontcolor=white:fontsize=28:x=48:y=40,format=yuv420p[v];[2:a]volume=0.15[a]",
        text(&title, 64, "h/2-100", "white"),
        text(&course, 36, "h/2+10", "0xdbeafe"),
    );
    let partial = work.join("clip.mp4");
    let secs = secs.to_string();
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-y", "-loglevel", "error"])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("color=c=0x1d4ed8:s=1280x720:r=30:d={secs}"),
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("color=c=0xfbbf24:s=72x72:r=30:d={secs}"),
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=330:sample_rate=48000:duration={secs}"),
        ])
        .args(["-filter_complex", &filter, "-map", "[v]", "-map", "[a]"])
        .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "26"])
        .args([
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-t",
            &secs,
            "-movflags",
            "+faststart",
        ])
        .arg(&partial)
        .kill_on_drop(true)
        .output()
        .await
        .context("starting ffmpeg")?;
    anyhow::ensure!(
        output.status.success(),
        "ffmpeg could not make a demo clip: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    tokio::fs::rename(&partial, out).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_demo_topic_has_a_teaching_script_and_its_clip_is_as_long() {
        let script = script().unwrap();
        assert_eq!(script.language, "ko");
        assert!(script.fallback.iter().any(|l| l.contains("{topic}")));
        let nanodegree: serde_json::Value =
            serde_json::from_str(include_str!("../catalog/nanodegree.json")).unwrap();
        let mut videos = 0;
        for course in nanodegree["courses"].as_array().unwrap() {
            for lecture in course["lectures"].as_array().unwrap() {
                for topic in lecture["topics"].as_array().unwrap() {
                    if topic["kind"] != "video" {
                        continue;
                    }
                    videos += 1;
                    let title = topic["title"].as_str().unwrap();
                    let lines = &script.topics[title];
                    assert!(lines.len() >= 5, "{title}");
                    let demo = DemoVideoTopic {
                        topic: crate::ids::TopicId(uuid::Uuid::nil()),
                        title: title.into(),
                        course_title: String::new(),
                    };
                    let vtt = captions(&script, &demo);
                    assert!(vtt::validate(vtt.as_bytes()).is_ok());
                    let cues = vtt::cues(&vtt);
                    assert_eq!(cues.len(), lines.len());
                    assert_eq!(
                        cues.last().unwrap().end_ms,
                        clip_secs(&script, &demo) * 1000
                    );
                }
            }
        }
        assert_eq!(videos, script.topics.len());
    }
}
