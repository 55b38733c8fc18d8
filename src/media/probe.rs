//! What an uploaded file really is: its first bytes name the container
//! (MP4/QuickTime or Matroska/WebM; everything else is refused before any
//! decoder sees it), then ffprobe, with that demuxer forced and only local
//! files allowed, reads its streams. A crafted file (say, an HLS playlist
//! hidden in an AVI) can make neither tool open another file or the network.

use std::{path::Path, time::Duration};

use serde::Deserialize;
use tokio::{io::AsyncReadExt, process::Command};

use super::error::Refusal;

/// The demuxers we accept, by what the file starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// MP4, M4V, MOV (ISO base media).
    Mov,
    /// MKV, WebM.
    Matroska,
}

impl Container {
    /// The ffmpeg demuxer name, forced with `-f`.
    pub fn demuxer(self) -> &'static str {
        match self {
            Self::Mov => "mov",
            Self::Matroska => "matroska",
        }
    }

    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.len() >= 12 {
            let boxed = &head[4..8];
            if matches!(
                boxed,
                b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip"
            ) {
                return Some(Self::Mov);
            }
        }
        if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            return Some(Self::Matroska);
        }
        None
    }
}

/// What ffprobe found in an accepted file.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoInfo {
    pub container: Container,
    pub duration_ms: i64,
    pub width: i32,
    pub height: i32,
    pub video_codec: String,
    pub has_audio: bool,
}

const VIDEO_CODECS: &[&str] = &["h264", "hevc", "vp8", "vp9", "av1", "mpeg4"];
const AUDIO_CODECS: &[&str] = &[
    "aac",
    "mp3",
    "opus",
    "vorbis",
    "ac3",
    "eac3",
    "flac",
    "alac",
    "pcm_s16le",
];

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
}

/// Checks `path` is a video we can take, within `max_secs`.
pub async fn probe(path: &Path, max_secs: u64) -> Result<VideoInfo, Refusal> {
    let mut head = [0u8; 16];
    let read = {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|_| Refusal::Damaged)?;
        file.read(&mut head).await.map_err(|_| Refusal::Damaged)?
    };
    let container = Container::sniff(&head[..read]).ok_or(Refusal::NotVideo)?;
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-hide_banner", "-protocol_whitelist", "file"])
        .args(["-f", container.demuxer()])
        .args(["-print_format", "json", "-show_format", "-show_streams"])
        .arg(file_url(path))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .map_err(|_| Refusal::Damaged)?
        .map_err(|e| Refusal::Tool(format!("ffprobe: {e}")))?;
    if !output.status.success() {
        return Err(Refusal::Damaged);
    }
    let probe: Probe = serde_json::from_slice(&output.stdout).map_err(|_| Refusal::Damaged)?;
    judge(container, &probe, max_secs)
}

fn judge(container: Container, probe: &Probe, max_secs: u64) -> Result<VideoInfo, Refusal> {
    let video = probe
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .ok_or(Refusal::NoVideoStream)?;
    let codec = video.codec_name.clone().unwrap_or_default();
    if !VIDEO_CODECS.contains(&codec.as_str()) {
        return Err(Refusal::Codec(codec));
    }
    let audio: Vec<&Stream> = probe
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("audio"))
        .collect();
    if let Some(bad) = audio
        .iter()
        .filter_map(|s| s.codec_name.as_deref())
        .find(|c| !AUDIO_CODECS.contains(c))
    {
        return Err(Refusal::Codec(bad.to_string()));
    }
    let (width, height) = (video.width.unwrap_or(0), video.height.unwrap_or(0));
    if !(16..=7680).contains(&width) || !(16..=4320).contains(&height) {
        return Err(Refusal::Dimensions);
    }
    let seconds: f64 = probe
        .format
        .as_ref()
        .and_then(|f| f.duration.as_deref())
        .and_then(|d| d.parse().ok())
        .filter(|d: &f64| d.is_finite() && *d > 0.0)
        .ok_or(Refusal::Damaged)?;
    if seconds > max_secs as f64 {
        return Err(Refusal::TooLong { max_secs });
    }
    Ok(VideoInfo {
        container,
        duration_ms: (seconds * 1000.0).round() as i64,
        width,
        height,
        video_codec: codec,
        has_audio: !audio.is_empty(),
    })
}

/// `file:` plus the absolute path, so a name can never read as a protocol.
pub fn file_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}", absolute.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_judged_by_their_first_bytes() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\0\0");
        assert_eq!(Container::sniff(&mp4), Some(Container::Mov));
        assert_eq!(
            Container::sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0, 0, 0, 0, 0]),
            Some(Container::Matroska)
        );
        assert_eq!(Container::sniff(b"RIFF\0\0\0\0AVI LIST"), None);
        assert_eq!(Container::sniff(b"#EXTM3U\n#EXT-X-"), None);
        assert_eq!(Container::sniff(b"\xFF\xD8\xFF\xE0\0\0JFIF\0\0\0\0"), None);
    }

    fn probe_of(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn streams_codecs_sizes_and_length_are_checked() {
        let good = probe_of(
            r#"{"streams":[{"codec_type":"video","codec_name":"h264","width":1280,"height":720},
                          {"codec_type":"audio","codec_name":"aac"}],
                "format":{"duration":"20.5"}}"#,
        );
        let info = judge(Container::Mov, &good, 60).unwrap();
        assert_eq!(
            (info.width, info.height, info.duration_ms),
            (1280, 720, 20500)
        );
        assert!(info.has_audio);
        assert_eq!(
            judge(Container::Mov, &good, 10),
            Err(Refusal::TooLong { max_secs: 10 })
        );
        let audio_only = probe_of(
            r#"{"streams":[{"codec_type":"audio","codec_name":"aac"}],"format":{"duration":"3"}}"#,
        );
        assert_eq!(
            judge(Container::Mov, &audio_only, 60),
            Err(Refusal::NoVideoStream)
        );
        let odd = probe_of(
            r#"{"streams":[{"codec_type":"video","codec_name":"gif","width":10,"height":10}],"format":{"duration":"3"}}"#,
        );
        assert_eq!(
            judge(Container::Mov, &odd, 60),
            Err(Refusal::Codec("gif".into()))
        );
        let huge = probe_of(
            r#"{"streams":[{"codec_type":"video","codec_name":"h264","width":20000,"height":720}],"format":{"duration":"3"}}"#,
        );
        assert_eq!(judge(Container::Mov, &huge, 60), Err(Refusal::Dimensions));
        let no_length = probe_of(
            r#"{"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":360}],"format":{}}"#,
        );
        assert_eq!(judge(Container::Mov, &no_length, 60), Err(Refusal::Damaged));
    }
}
